// The first page: a resident opens Dorpskracht, picks their village, switches language, and
// the installed app still starts when the server is gone.
import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { Server } from "../support/server.js";
import { docsScreenshotPath } from "../support/resident.js";

const VILLAGES = [
  "Bontebrug", "Breedenbroek", "De Heurne", "Etten", "Gendringen", "Heelweg", "Megchelen",
  "Netterden", "Silvolde", "Sinderen", "Terborg", "Ulft", "Varsselder-Veldhunten", "Varsseveld",
  "Voorst", "Westendorp",
];

let server;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

async function openApp(page) {
  await page.goto(server.url);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Kies je dorp");
  await expect(page.getByRole("radio")).toHaveCount(VILLAGES.length);
}

test("a resident picks a village, switches language, and starts offline", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openApp(page);
  for (const name of VILLAGES) {
    await expect(page.getByRole("radio", { name, exact: true })).toBeVisible();
  }

  await page.getByRole("radio", { name: "Ulft", exact: true }).check();
  await expect(page.getByRole("status").filter({ hasText: "Ulft" })).toHaveText("Je dorp is nu Ulft.");
  await expect(page.getByRole("heading", { name: "Jouw dorp: Ulft" })).toBeVisible();
  await page.screenshot({ path: docsScreenshotPath("screenshot.png") });

  await page.getByRole("button", { name: "Switch to English" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Choose your village");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("heading", { name: "Your village: Ulft" })).toBeVisible();
  await page.getByRole("button", { name: "Schakel over naar het Nederlands" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Kies je dorp");
  await expect(page.locator("html")).toHaveAttribute("lang", "nl");

  // The installed-app path: once the service worker controls the page, the app starts
  // without the server, with the villages and the choice of the last visit.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await server.stop();
  await page.reload();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Kies je dorp");
  await expect(page.getByRole("radio")).toHaveCount(VILLAGES.length);
  await expect(page.getByRole("radio", { name: "Ulft", exact: true })).toBeChecked();
  await expect(page.getByTestId("offline-notice")).toContainText("vorige bezoek");

  // And when the server is back, the app picks it up again.
  await server.start();
  await page.reload();
  await expect(page.getByRole("radio", { name: "Ulft", exact: true })).toBeChecked();
  await expect(page.getByTestId("offline-notice")).toHaveCount(0);
});

test("the manifest makes the app installable", async ({ request }) => {
  const response = await request.get(`${server.url}/manifest.webmanifest`);
  expect(response.status()).toBe(200);
  const manifest = await response.json();
  expect(manifest).toMatchObject({
    id: "/",
    name: expect.stringContaining("Dorpskracht"),
    short_name: "Dorpskracht",
    start_url: "/",
    scope: "/",
    display: "standalone",
    lang: "nl",
    theme_color: expect.stringMatching(/^#[0-9a-f]{6}$/i),
  });
  const icons = manifest.icons;
  const want = [
    ["192x192", "any"],
    ["512x512", "any"],
    ["512x512", "maskable"],
  ];
  for (const [sizes, purpose] of want) {
    const icon = icons.find((i) => i.sizes === sizes && i.purpose.split(" ").includes(purpose));
    expect(icon, `${sizes} ${purpose} icon`).toBeTruthy();
    expect(icon.type).toBe("image/png");
    const png = await request.get(new URL(icon.src, server.url).href);
    expect(png.status(), icon.src).toBe(200);
    expect(png.headers()["content-type"]).toBe("image/png");
    const bytes = await png.body();
    // The PNG signature, then IHDR's width and height must be what the manifest says.
    expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
    const [w, h] = sizes.split("x").map(Number);
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([w, h]);
  }
});

test("the first page has no accessibility violations (WCAG 2.1 AA), in both languages", async ({ page }) => {
  await openApp(page);
  await page.getByRole("radio", { name: "Etten", exact: true }).check();
  const axe = () =>
    new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect((await axe()).violations).toEqual([]);
  await page.getByRole("button", { name: "Switch to English" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Choose your village");
  expect((await axe()).violations).toEqual([]);
});

test("works on a 320 px wide phone, by keyboard", async ({ page }) => {
  await page.setViewportSize({ width: 320, height: 640 });
  await openApp(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(overflow).toBeLessThanOrEqual(320);

  // Tab from the top: the skip link, the home link, signing in (nobody is signed in yet), the
  // language toggle, the main menu, then the villages.
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Naar de inhoud" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Dorpskracht" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Inloggen" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Switch to English" })).toBeFocused();
  const menu = page.getByRole("navigation", { name: "Hoofdmenu" });
  for (const name of ["Mijn dorp", "Verenigingen", "Meedenken", "Kennisbank", "Berichten", "Ik"]) {
    await page.keyboard.press("Tab");
    await expect(menu.getByRole("link", { name, exact: true })).toBeFocused();
  }
  await page.keyboard.press("Tab");
  await expect(page.getByRole("radio", { name: "Bontebrug", exact: true })).toBeFocused();
  await page.keyboard.press("ArrowDown");
  await expect(page.getByRole("radio", { name: "Breedenbroek", exact: true })).toBeChecked();
  await expect(page.getByRole("status").filter({ hasText: "Breedenbroek" })).toHaveText(
    "Je dorp is nu Breedenbroek.",
  );
});
