// End-to-end tests in Debian's headless Chromium (never a downloaded browser).
// `cargo xtask test` builds the app and the server first and passes their paths in
// DORPSKRACHT_DIST and DORPSKRACHT_SERVER_BIN; each test starts its own server on a free port.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // Two cores: one test at a time, and each may run several browser contexts.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
    serviceWorkers: "allow",
    locale: "nl-NL",
  },
});
