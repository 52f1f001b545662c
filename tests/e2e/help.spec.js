// The help path, end to end: one resident asks for help, a neighbour in another browser sees it
// live and responds, the first accepts, and both see the request matched.
import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { Server } from "../support/server.js";
import { docsScreenshotPath, signedInContext } from "../support/resident.js";

let server;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

async function openVillage(browser, name, path = "/dorp/ulft/hulp") {
  const context = await signedInContext(browser, server, {}, { name });
  const page = await context.newPage();
  await page.goto(`${server.url}${path}`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Ulft");
  // The form appears once the village document is on the device.
  await expect(page.getByRole("button", { name: "Plaatsen" })).toBeVisible();
  await expect(page.getByTestId("online")).toHaveText("Online");
  return page;
}

function card(page, title) {
  return page.getByTestId("help-post").filter({ has: page.getByRole("heading", { name: title }) });
}

test("a request is answered, accepted and matched across two residents", async ({ browser }) => {
  const anna = await openVillage(browser, "Anna");
  const bert = await openVillage(browser, "Bert");

  // Validation shows next to the field, and nothing is posted.
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(anna.locator("#help-title-error")).toHaveText("Vul dit in.");
  await expect(anna.getByLabel("Waarmee?")).toHaveAttribute("aria-invalid", "true");
  await expect(anna.getByTestId("help-post")).toHaveCount(0);

  const title = "Boodschappen doen op dinsdag";
  await anna.getByLabel("Waarmee?").fill(title);
  await anna.getByLabel("Soort hulp").selectOption({ label: "Boodschappen" });
  await anna.getByLabel("Toelichting (niet verplicht)").fill("Ik kan zelf niet meer fietsen.");
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(anna.getByTestId("notice")).toHaveText("Je bericht staat nu bij Hulp in Ulft.");
  await expect(anna.getByLabel("Waarmee?")).toHaveValue("");
  await expect(card(anna, title).getByTestId("help-status")).toHaveText("Open");
  await expect(card(anna, title)).toContainText("Van jou");

  // Bert sees it without reloading, and responds.
  // Under the name of Anna's account.
  await expect(card(bert, title)).toContainText("Van Anna");
  await expect(card(bert, title)).toContainText("Ik kan zelf niet meer fietsen.");
  await card(bert, title).getByRole("button", { name: "Ik help" }).click();
  await expect(card(bert, title)).toContainText("Je hebt gereageerd.");

  // Anna sees the response (under Bert's account name) and can write to Bert about it.
  const response = card(anna, title).getByTestId("response");
  await expect(response).toHaveCount(1);
  await expect(response).toContainText("Bert reageerde");
  const bertId = await bert.evaluate(() => localStorage.getItem("dorpskracht.user"));
  await expect(response.getByRole("link", { name: "Stuur een bericht" })).toHaveAttribute(
    "href",
    `/berichten/nieuw?met=${bertId}&over=Boodschappen%20doen%20op%20dinsdag`,
  );
  // Only the author sees responses, so only the author can write to a responder.
  await expect(card(bert, title).getByRole("link", { name: "Stuur een bericht" })).toHaveCount(0);
  await response.getByRole("button", { name: "Accepteren" }).click();
  await expect(anna.getByTestId("notice")).toHaveText("Je hebt een reactie geaccepteerd.");

  for (const page of [anna, bert]) {
    await expect(card(page, title).getByTestId("help-status")).toHaveText("Gekoppeld");
    await expect(page.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  }
  await expect(card(bert, title).getByRole("button", { name: "Ik help" })).toHaveCount(0);

  // The help happened: Anna marks it done, and both see it.
  await card(anna, title).getByRole("button", { name: "Markeer als klaar" }).click();
  await expect(anna.getByTestId("notice")).toHaveText("Fijn! Je hulpvraag is afgerond.");
  for (const page of [anna, bert]) {
    await expect(card(page, title).getByTestId("help-status")).toHaveText("Klaar");
  }
  await expect(card(anna, title).getByRole("button", { name: "Intrekken" })).toHaveCount(0);

  // What both saw is what the server stored: a third resident opening Ulft later sees it too.
  const carla = await openVillage(browser);
  await expect(card(carla, title).getByTestId("help-status")).toHaveText("Klaar");
});

test("the village page is reached from the first page and has no accessibility violations", async ({ browser }) => {
  const context = await signedInContext(browser, server);
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole("radio", { name: "Ulft", exact: true }).check();
  await page.getByRole("link", { name: "Naar Ulft" }).click();
  await expect(page).toHaveURL(/\/dorp\/ulft$/);
  await page.getByRole("link", { name: "Hulp", exact: true }).click();
  await expect(page).toHaveURL(/\/dorp\/ulft\/hulp$/);
  await expect(page.getByRole("button", { name: "Plaatsen" })).toBeVisible();
  await page.getByLabel("Waarmee?").fill("Hulp bij de computer");
  await page.getByRole("button", { name: "Plaatsen" }).click();
  await expect(page.getByTestId("help-post")).toHaveCount(1);

  const axe = () =>
    new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect((await axe()).violations).toEqual([]);
  await page.getByRole("button", { name: "Switch to English" }).click();
  await expect(page.getByRole("button", { name: "Post" })).toBeVisible();
  expect((await axe()).violations).toEqual([]);

  await page.setViewportSize({ width: 320, height: 640 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
});

test("offline: the board starts from the device, edits wait and sync when the server is back", async ({ browser }) => {
  const anna = await openVillage(browser);
  await anna.getByLabel("Waarmee?").fill("Hond uitlaten");
  await anna.getByLabel("Soort hulp").selectOption({ label: "Huisdieren" });
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(anna.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  await anna.evaluate(() => navigator.serviceWorker.ready);
  await anna.waitForFunction(() => navigator.serviceWorker.controller !== null);

  // The connection is gone for real: the server stops, its WebSocket closes.
  await server.stop();
  await expect(anna.getByTestId("online")).toHaveText("Offline");
  await anna.getByLabel("Waarmee?").fill("Vervoer naar de huisarts");
  await anna.getByLabel("Soort hulp").selectOption({ label: "Vervoer" });
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(card(anna, "Vervoer naar de huisarts")).toContainText("Van jou");
  await expect(anna.getByTestId("saved")).toHaveText("Opgeslagen op dit apparaat");
  await expect(anna.getByTestId("synced")).toContainText("wachten op verbinding");

  // Closed and reopened while still offline: the app starts from its cache, the board from
  // IndexedDB, with everything typed so far.
  await anna.reload();
  await expect(anna.getByRole("heading", { level: 1 })).toHaveText("Ulft");
  await expect(card(anna, "Hond uitlaten")).toBeVisible();
  await expect(card(anna, "Vervoer naar de huisarts")).toBeVisible();
  await expect(anna.getByTestId("online")).toHaveText("Offline");

  // The server is back: the waiting post goes out, and a neighbour sees both.
  await server.start();
  await expect(anna.getByTestId("online")).toHaveText("Online", { timeout: 40_000 });
  await expect(anna.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  const bert = await openVillage(browser);
  await expect(card(bert, "Hond uitlaten")).toBeVisible();
  await expect(card(bert, "Vervoer naar de huisarts")).toBeVisible();
});

test("after posting a request, the offers that fit it are suggested, with why", async ({ browser }) => {
  const bert = await openVillage(browser);
  await bert.getByLabel("Ik bied hulp aan").check();
  await bert.getByLabel("Waarmee?").fill("Ik doe graag boodschappen voor je");
  await bert.getByLabel("Soort hulp").selectOption({ label: "Boodschappen" });
  await bert.getByRole("button", { name: "Plaatsen" }).click();
  await bert.getByLabel("Ik bied hulp aan").check();
  await bert.getByLabel("Waarmee?").fill("Tuinklussen");
  await bert.getByLabel("Soort hulp").selectOption({ label: "Tuin" });
  await bert.getByRole("button", { name: "Plaatsen" }).click();
  await expect(bert.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");

  const anna = await openVillage(browser);
  await anna.getByLabel("Waarmee?").fill("Wie haalt mijn boodschappen?");
  await anna.getByLabel("Soort hulp").selectOption({ label: "Boodschappen" });
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  const suggestions = card(anna, "Wie haalt mijn boodschappen?").getByTestId("suggestion");
  // Only offers of the same kind of help fit; the garden offer does not.
  await expect(suggestions).toHaveCount(1);
  await expect(suggestions.nth(0)).toHaveText("Ik doe graag boodschappen voor je — zelfde dorp, zelfde soort hulp, altijd");
  // Nobody is suggested to themselves: Bert's own offers are not matched to Bert.
  await expect(card(bert, "Wie haalt mijn boodschappen?")).toBeVisible();
  await expect(bert.getByTestId("suggestion")).toHaveCount(0);

  // The board shows one kind of help when asked, and all again.
  const filter = anna.getByLabel("Welke hulp tonen?");
  await expect(anna.getByTestId("help-count")).toHaveText("Berichten: 3");
  await filter.selectOption({ label: "Tuin" });
  await expect(anna.getByTestId("help-post")).toHaveCount(1);
  await expect(card(anna, "Tuinklussen")).toBeVisible();
  await expect(anna.getByTestId("help-count")).toHaveText("Berichten: 1");
  await filter.selectOption({ label: "Huisdieren" });
  await expect(anna.getByTestId("help-post")).toHaveCount(0);
  await expect(anna.getByTestId("no-help-posts")).toHaveText("Geen berichten van deze soort.");
  await filter.selectOption({ label: "Alle soorten" });
  await expect(anna.getByTestId("help-post")).toHaveCount(3);
  await expect(anna.getByTestId("no-help-posts")).toHaveCount(0);

  // The help tab as a resident sees it on a phone (docs/screenshots/help.png).
  await anna.setViewportSize({ width: 390, height: 844 });
  await filter.evaluate((e) => e.parentElement.scrollIntoView({ block: "start" }));
  await anna.screenshot({ path: docsScreenshotPath("screenshots/help.png") });

  // Bert withdraws his garden offer: it stays visible as withdrawn, nobody can respond.
  await card(bert, "Tuinklussen").getByRole("button", { name: "Intrekken" }).click();
  await expect(card(bert, "Tuinklussen").getByTestId("help-status")).toHaveText("Ingetrokken");
  await expect(card(anna, "Tuinklussen").getByTestId("help-status")).toHaveText("Ingetrokken");
  await expect(card(anna, "Tuinklussen").getByRole("button", { name: "Graag!" })).toHaveCount(0);
  await anna.getByRole("button", { name: "Switch to English" }).click();
  await expect(suggestions.nth(0)).toHaveText("Ik doe graag boodschappen voor je — same village, same category, any time");
});

test("installed: after one online visit, a reload with the network off shows the board last seen", async ({ browser }) => {
  const bert = await openVillage(browser, "Bert");
  await bert.getByLabel("Waarmee?").fill("Wie wil mijn gras maaien?");
  await bert.getByLabel("Soort hulp").selectOption({ label: "Tuin" });
  await bert.getByRole("button", { name: "Plaatsen" }).click();
  await expect(bert.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");

  // Anna visits once, online: the service worker takes over, Bert's post arrives on the device.
  const anna = await openVillage(browser, "Anna");
  await expect(card(anna, "Wie wil mijn gras maaien?")).toContainText("Van Bert");
  await anna.evaluate(() => navigator.serviceWorker.ready);
  await anna.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await expect(anna.getByTestId("saved")).toHaveText("Opgeslagen op dit apparaat");

  // The network is off (and the server gone): the reload comes from the service worker's
  // cache, the board from IndexedDB.
  await anna.context().setOffline(true);
  await server.stop();
  await anna.reload();
  await expect(anna.getByRole("heading", { level: 1 })).toHaveText("Ulft");
  await expect(anna.getByTestId("online")).toHaveText("Offline");
  await expect(card(anna, "Wie wil mijn gras maaien?")).toContainText("Van Bert");
  await expect(card(anna, "Wie wil mijn gras maaien?").getByTestId("help-status")).toHaveText("Open");
  // The board works as before: choosing a kind of help needs no network either.
  await anna.getByLabel("Welke hulp tonen?").selectOption({ label: "Vervoer" });
  await expect(anna.getByTestId("help-post")).toHaveCount(0);
  await anna.getByLabel("Welke hulp tonen?").selectOption({ label: "Tuin" });
  await expect(card(anna, "Wie wil mijn gras maaien?")).toBeVisible();
});
