// The split wasm (xtask/src/wasm.rs, app/src/lazy.rs): a first visit downloads only the core;
// a screen's module comes when the screen is first opened, and from the app's second start on
// every screen opens offline (public/sw.js fetches the rest in the background then).
import { test, expect } from "@playwright/test";
import { Server } from "../support/server.js";
import {
  resident,
  expectAccessibleInBothLanguages,
  splitModules,
  englishTexts,
  cachedByServiceWorker as cached,
  startAgainOnline,
} from "../support/resident.js";

const SEED = new URL("../seed/e2e.toml", import.meta.url).pathname;

let server;
test.afterEach(async () => {
  await server.dispose();
});

test("a lazy screen's module is fetched only when the screen is first opened", async ({ browser }) => {
  server = new Server({ seed: SEED });
  await server.start();
  const modules = splitModules();
  expect(modules.length).toBeGreaterThan(5);
  const anna = await resident(browser, server, { user: "anna", path: "/dorp/ulft" });
  const fetched = [];
  anna.on("request", (request) => fetched.push(new URL(request.url()).pathname));

  await expect(anna.getByTestId("tab-board")).toBeVisible();
  await expect(anna.getByTestId("board-posts")).toHaveCount(1);
  expect(fetched.filter((path) => modules.includes(path))).toEqual([]);

  await anna.getByTestId("nav-knowledge").click();
  await expect(anna.getByRole("heading", { level: 1 })).toHaveText("Kennisbank");
  await expect(anna.getByTestId("knowledge-page").first()).toBeVisible();
  expect(fetched.some((path) => /\/split_knowledge\.wasm$/.test(path))).toBe(true);
  expect(fetched.some((path) => /\/split_me\.wasm$/.test(path))).toBe(false);
  await expectAccessibleInBothLanguages(anna, (p) => p.getByRole("heading", { level: 1, name: "Knowledge base" }));
});

test("offline, a screen never opened says so and opens once it can be fetched", async ({ browser }) => {
  server = new Server({ seed: SEED });
  await server.start();
  const anna = await resident(browser, server, { user: "anna", path: "/dorp/ulft" });
  await expect(anna.getByTestId("board-posts")).toHaveCount(1);
  await anna.evaluate(() => navigator.serviceWorker.ready);
  await anna.waitForFunction(() => navigator.serviceWorker.controller !== null);

  // She read the app in English once while online, so its English texts are on the device
  // (the test below covers English never fetched).
  await anna.getByRole("button", { name: "Switch to English" }).click();
  await expect(anna.getByRole("button", { name: "Schakel over naar het Nederlands" })).toBeVisible();
  await anna.getByRole("button", { name: "Schakel over naar het Nederlands" }).click();

  await server.stop();
  await anna.getByTestId("nav-me").click();
  const unavailable = anna.getByTestId("screen-unavailable");
  await expect(unavailable).toHaveAttribute("role", "alert");
  await expect(unavailable).toContainText("Dit scherm kon niet geladen worden");
  await expectAccessibleInBothLanguages(anna, (p) => p.getByText("This screen could not be loaded"));

  await server.start();
  await unavailable.getByRole("button", { name: "Opnieuw proberen" }).click();
  await expect(anna.getByRole("heading", { level: 1, name: "Ik" })).toBeVisible();
  await expect(anna.getByTestId("screen-unavailable")).toHaveCount(0);
});

test("after a second start, every lazy screen opens with the server stopped", async ({ browser }) => {
  server = new Server({ seed: SEED });
  await server.start();
  const modules = splitModules();
  const anna = await resident(browser, server, { user: "anna", path: "/dorp/ulft" });
  await expect(anna.getByTestId("board-posts")).toHaveCount(1);
  await anna.evaluate(() => navigator.serviceWorker.ready);
  await anna.waitForFunction(() => navigator.serviceWorker.controller !== null);
  // The first visit did not download the split modules.
  expect(await cached(anna, modules)).toEqual([]);

  // The second start: the service worker fetches them in the background.
  await startAgainOnline(anna);
  await expect(anna.getByTestId("board-posts")).toHaveCount(1);
  await expect(anna.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");

  await server.stop();
  await anna.reload();
  await expect(anna.getByTestId("online")).toHaveText("Offline");
  const screens = [
    ["nav-associations", "Verenigingen"],
    ["nav-consultations", "Meedenken"],
    ["nav-knowledge", "Kennisbank"],
    ["nav-messages", "Berichten"],
    ["nav-me", "Ik"],
  ];
  for (const [link, heading] of screens) {
    await anna.getByTestId(link).click();
    await expect(anna.getByRole("heading", { level: 1 })).toHaveText(heading);
    await expect(anna.getByTestId("screen-unavailable")).toHaveCount(0);
  }
  await anna.getByTestId("nav-village").click();
  const tabs = [
    ["tab-help", "#help-heading", "Hulp in Ulft"],
    ["tab-agenda", "#agenda-heading", "Agenda van Ulft"],
    ["tab-initiatives", "#initiatives-heading", "Initiatieven in Ulft"],
  ];
  for (const [tab, heading, text] of tabs) {
    await anna.getByTestId(tab).click();
    await expect(anna.locator(heading)).toHaveText(text);
    await expect(anna.getByTestId("screen-unavailable")).toHaveCount(0);
  }
  // The report form under a post (a split module too) opens as well.
  await anna.getByTestId("tab-board").click();
  await anna.getByLabel("Wat wil je delen?").fill("Offline geschreven.");
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  const moderate = anna.getByTestId("board-post").filter({ hasText: "Offline geschreven." }).getByTestId("moderate");
  await moderate.locator("summary").click();
  await expect(moderate.getByRole("button", { name: "Melding versturen" })).toBeVisible();
  await expect(anna.getByTestId("screen-unavailable")).toHaveCount(0);
});

test("English texts are fetched when chosen; offline before that the app says so and stays Dutch", async ({ browser }) => {
  server = new Server({ seed: SEED });
  await server.start();
  const english = englishTexts();
  const anna = await resident(browser, server, { user: "anna", path: "/dorp/ulft" });
  const fetched = [];
  anna.on("request", (request) => fetched.push(new URL(request.url()).pathname));
  const received = [];
  anna.on("response", (response) => response.ok() && received.push(new URL(response.url()).pathname));
  await expect(anna.getByTestId("board-posts")).toHaveCount(1);
  await anna.evaluate(() => navigator.serviceWorker.ready);
  await anna.waitForFunction(() => navigator.serviceWorker.controller !== null);
  // A Dutch first visit does not download the English texts.
  expect(fetched).not.toContain(english);
  expect(await cached(anna, [english])).toEqual([]);

  // Cut off before English was ever fetched: the app says so, in Dutch, and stays Dutch.
  await server.stop();
  await anna.getByRole("button", { name: "Switch to English" }).click();
  const unavailable = anna.getByTestId("english-unavailable");
  await expect(unavailable).toHaveAttribute("role", "alert");
  await expect(unavailable).toContainText("De Engelse teksten konden niet geladen worden");
  await expect(anna.locator("html")).toHaveAttribute("lang", "nl");
  await expect(anna.getByTestId("tab-board")).toHaveText("Prikbord");

  // Back online, the same button switches, and the message goes.
  await server.start();
  await anna.getByRole("button", { name: "Switch to English" }).click();
  await expect(anna.locator("html")).toHaveAttribute("lang", "en");
  await expect(anna.getByTestId("tab-board")).toHaveText("Board");
  await expect(unavailable).toHaveText("");
  expect(received.filter((path) => path === english)).toHaveLength(1);
  expect(await cached(anna, [english])).toEqual([english]);

  // The service worker keeps them: she starts in English with the server gone.
  await server.stop();
  await anna.reload();
  await expect(anna.getByTestId("tab-board")).toHaveText("Board");
  await expect(anna.locator("html")).toHaveAttribute("lang", "en");
  await expect(unavailable).toHaveText("");
  await server.start();
});
