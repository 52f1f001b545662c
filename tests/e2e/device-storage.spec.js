// The device keeps what it holds: Ik says whether the browser keeps this device's copy.
// (Making room on a full device is tested in repo/tests/repo.rs over a storage with a quota:
// DevTools' Storage.overrideQuotaForOrigin changes nothing in this Chromium, for a page's, a
// context's or a persistent profile's session alike.)
import { test, expect } from "@playwright/test";
import { Server } from "../support/server.js";
import { resident, expectAccessibleInBothLanguages } from "../support/resident.js";

let server;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

test("Ik says whether this device keeps its copy, in both languages", async ({ browser }) => {
  const page = await resident(browser, server, { path: "/ik" });
  await expect(page.getByTestId("online")).toHaveText("Online");
  // What Ik shows follows the browser's answer (which may change once the app asked).
  const shown = page.getByTestId("me-storage");
  await expect
    .poll(async () => {
      const persisted = await page.evaluate(() => navigator.storage.persisted());
      const text = await shown.textContent();
      return persisted
        ? text === "Dit apparaat bewaart je gegevens blijvend."
        : text.startsWith("De browser mag de gegevens op dit apparaat wissen");
    })
    .toBe(true);
  await expectAccessibleInBothLanguages(page, (p) => p.getByRole("heading", { name: "Me", exact: true }));
});
