// A resident in their own browser context: a local profile (user id) and a chosen village,
// as the app keeps them in localStorage, set before the app starts.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

let made = 0;

/**
 * A browser context whose resident has an account and is signed in: signed up through the
 * server's API (the session cookie lands in the context's cookie jar), with the app's own note
 * of who is signed in set before it starts, as after signing in on the device. `user` is the
 * user id proposed at sign-up (like the app's local profile id); a fresh one by default. A
 * seeded broker's id (`broker-ulft`) signs up with the invite the server printed for it.
 */
export async function signedInContext(browser, server, options = {}, { user, name } = {}) {
  const context = await browser.newContext(options);
  const id = user ?? `r${process.pid.toString(36)}${(made++).toString(36)}${Date.now().toString(36)}`;
  const response = await context.request.post(`${server.url}/api/accounts`, {
    data: {
      email: `${id}@example.nl`,
      password: "Oude-IJssel-e2e-2026",
      display_name: name ?? id,
      user_id: id,
      // A seeded broker's id is taken only with the invite the server printed for it.
      invite: server.invites?.[id],
    },
  });
  if (!response.ok()) throw new Error(`sign-up of ${id}: ${response.status()} ${await response.text()}`);
  const { user: account } = await response.json();
  await context.addInitScript(
    ([id, cache]) => {
      if (sessionStorage.getItem("signed-in")) return;
      sessionStorage.setItem("signed-in", "1");
      localStorage.setItem("dorpskracht.user", id);
      localStorage.setItem("dorpskracht.account", cache);
    },
    [account.id, `${account.id}\n${account.display_name}\n${account.email}`],
  );
  return context;
}

/** The split wasm modules of the build under test, as URL paths (`/wasm-<hash>/split_me.wasm`):
 *  what a first visit does not download (xtask/src/wasm.rs). */
export function splitModules() {
  const dist = process.env.DORPSKRACHT_DIST;
  const folder = readdirSync(dist).find((name) => /^wasm-[0-9a-f]{16}$/.test(name));
  expect(folder, "dist/ has no wasm-<hash>/ folder").toBeTruthy();
  return readdirSync(join(dist, folder))
    .filter((name) => name.endsWith(".wasm") && name !== "app_bg.wasm")
    .map((name) => `/${folder}/${name}`);
}

/** The URL path of the English texts (`en.txt`, fetched when a resident chooses English). */
export function englishTexts() {
  const dist = process.env.DORPSKRACHT_DIST;
  const folder = readdirSync(dist).find((name) => /^wasm-[0-9a-f]{16}$/.test(name));
  expect(readdirSync(join(dist, folder))).toContain("en.txt");
  return `/${folder}/en.txt`;
}

/** Which of `urls` the service worker's cache holds now. */
export async function cachedByServiceWorker(page, urls) {
  return page.evaluate(async (urls) => {
    const held = [];
    for (const url of urls) if (await caches.match(url)) held.push(url);
    return held;
  }, urls);
}

/** The app's second start, online: the service worker then fetches every screen's module in
 *  the background (public/sw.js); this waits until it has them all, so every screen opens
 *  offline from here on. */
export async function startAgainOnline(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.reload();
  const modules = splitModules();
  await expect
    .poll(async () => (await cachedByServiceWorker(page, modules)).length, { timeout: 30_000 })
    .toBe(modules.length);
}

export async function resident(browser, server, { user, village = "ulft", path = "/", signedIn = true } = {}) {
  const context = signedIn ? await signedInContext(browser, server, {}, { user }) : await browser.newContext();
  await context.addInitScript(
    ([user, village]) => {
      if (sessionStorage.getItem("seeded")) return;
      sessionStorage.setItem("seeded", "1");
      if (user) localStorage.setItem("dorpskracht.user", user);
      if (village) localStorage.setItem("dorpskracht.village", village);
    },
    [user ?? null, village],
  );
  const page = await context.newPage();
  await page.goto(`${server.url}${path}`);
  return page;
}

/** No WCAG 2.1 A/AA violations on the page as it is now, in Dutch and in English. */
export async function expectAccessibleInBothLanguages(page, englishMarker) {
  const axe = () =>
    new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect((await axe()).violations).toEqual([]);
  await page.getByRole("button", { name: "Switch to English" }).click();
  await expect(englishMarker(page)).toBeVisible();
  expect((await axe()).violations).toEqual([]);
  await page.getByRole("button", { name: "Schakel over naar het Nederlands" }).click();
}

/** Nothing scrolls sideways at 320 px. */
export async function expectFitsNarrowScreen(page) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 640 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
  await page.setViewportSize(size);
}

/**
 * Where a screenshot for the docs goes (`docs/<file>`), or `undefined` (taken, not written)
 * unless `cargo xtask screenshots` asked for them (DORPSKRACHT_SCREENSHOTS=1): a test run
 * leaves the work tree as it found it.
 */
export function docsScreenshotPath(file) {
  if (!process.env.DORPSKRACHT_SCREENSHOTS) return undefined;
  return new URL(`../../docs/${file}`, import.meta.url).pathname;
}

/** A 390×844 screenshot for docs/screenshots/<name>.png (see docsScreenshotPath). */
export async function screenshot(page, name) {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: docsScreenshotPath(`screenshots/${name}.png`) });
}
