// Berichten: private conversations between residents. A starts one from the route other
// screens link to (/berichten/nieuw?met=…&over=…), B sees it appear live in Berichten through
// his inbox and replies, A sees the reply; sending offline keeps the message and syncs later.
import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { Server } from "../support/server.js";
import { signedInContext, startAgainOnline } from "../support/resident.js";
import { docsScreenshotPath } from "../support/resident.js";

let server;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

/** A resident of Ulft with a display name; returns their page and user id. */
async function resident(browser, name) {
  const context = await signedInContext(browser, server, { viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/dorp/ulft/hulp`);
  await expect(page.getByTestId("online")).toHaveText("Online");
  await page.getByTestId("nav-me").click();
  await page.getByLabel("Naam die buren zien").fill(name);
  await page.getByRole("button", { name: "Profiel opslaan" }).click();
  await expect(page.getByTestId("profile-notice")).toHaveText("Je profiel is opgeslagen.");
  await expect(page.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  const id = await page.evaluate(() => localStorage.getItem("dorpskracht.user"));
  expect(id).toBeTruthy();
  return { page, id };
}

async function openMessages(page) {
  await page.getByTestId("nav-messages").click();
  await expect(page).toHaveURL(/\/berichten$/);
  await expect(page.getByTestId("messages-loading")).toHaveCount(0);
}

const axe = (page) =>
  new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();

test("A writes to B, B sees it appear live and replies, A sees the reply", async ({ browser }) => {
  const anna = await resident(browser, "Anna Jansen");
  const bert = await resident(browser, "Bert Visser");
  await openMessages(bert.page);
  await expect(bert.page.getByTestId("no-conversations")).toBeVisible();

  await anna.page.goto(
    `${server.url}/berichten/nieuw?met=${bert.id}&over=${encodeURIComponent("Boodschappen op dinsdag")}`,
  );
  await expect(anna.page.getByTestId("recipients")).toHaveText("Aan: Bert Visser");
  await expect(anna.page.getByTestId("subject")).toHaveText("Over: Boodschappen op dinsdag");
  // An empty message is refused next to the field, and nothing is created.
  await anna.page.getByRole("button", { name: "Versturen" }).click();
  await expect(anna.page.locator("#message-body-error")).toHaveText("Vul dit in.");
  await expect(anna.page.getByLabel("Je bericht")).toHaveAttribute("aria-invalid", "true");
  await expect(anna.page).toHaveURL(/\/berichten\/nieuw/);

  await anna.page.getByLabel("Je bericht").fill("Hoi Bert, kun jij dinsdag boodschappen doen?");
  await anna.page.getByRole("button", { name: "Versturen" }).click();
  await expect(anna.page).toHaveURL(/\/berichten\/[1-9A-HJ-NP-Za-km-z]+$/);
  await expect(anna.page.getByTestId("conversation-heading")).toHaveText("Boodschappen op dinsdag");
  await expect(anna.page.getByTestId("conversation-with")).toHaveText("Met Bert Visser");
  await expect(anna.page.getByTestId("message")).toHaveCount(1);
  await expect(anna.page.getByTestId("message-author")).toHaveText("Jij");

  // Bert's list shows it without a reload: with whom, the last message, unread.
  const row = bert.page.getByTestId("conversation");
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("conversation-with")).toHaveText("Met Anna Jansen");
  await expect(row.getByTestId("conversation-last")).toHaveText(
    "Anna Jansen: Hoi Bert, kun jij dinsdag boodschappen doen?",
  );
  await expect(row).toContainText("Nieuw");
  await expect(bert.page.getByTestId("messages-status")).toHaveText("Nieuwe berichten in 1 gesprek(ken)");
  await bert.page.screenshot({ path: docsScreenshotPath("screenshots/messages.png") });
  expect((await axe(bert.page)).violations).toEqual([]);

  await row.getByRole("link").click();
  await expect(bert.page.getByTestId("message-author")).toHaveText("Anna Jansen");
  await bert.page.getByLabel("Je antwoord").fill("Ja hoor, ik kom om 10 uur.");
  await bert.page.getByRole("button", { name: "Versturen" }).click();
  await expect(bert.page.getByTestId("message")).toHaveCount(2);
  await expect(bert.page.getByLabel("Je antwoord")).toHaveValue("");

  // Anna sees the reply arrive in the log, oldest first, with Bert's name.
  const bodies = anna.page.getByTestId("message-body");
  await expect(bodies).toHaveText([
    "Hoi Bert, kun jij dinsdag boodschappen doen?",
    "Ja hoor, ik kom om 10 uur.",
  ]);
  await expect(anna.page.getByTestId("message-author").nth(1)).toHaveText("Bert Visser");
  await expect(anna.page.getByRole("log")).toBeVisible();
  await anna.page.screenshot({ path: docsScreenshotPath("screenshots/conversation.png") });
  expect((await axe(anna.page)).violations).toEqual([]);
  await anna.page.getByTestId("language-toggle").click();
  await expect(anna.page.getByTestId("message-author").first()).toHaveText("You");
  await expect(anna.page.getByLabel("Your reply")).toBeVisible();
  expect((await axe(anna.page)).violations).toEqual([]);
  await anna.page.setViewportSize({ width: 320, height: 640 });
  expect(await anna.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);

  // Back in his list, Bert has read it all; it reads in English too.
  await bert.page.getByRole("link", { name: "← Alle berichten" }).click();
  await expect(bert.page.getByTestId("conversation-last")).toHaveText("Jij: Ja hoor, ik kom om 10 uur.");
  await expect(bert.page.getByTestId("conversation")).not.toContainText("Nieuw");
  await bert.page.getByTestId("language-toggle").click();
  await expect(bert.page.getByTestId("conversation-with")).toHaveText("With Anna Jansen");
  expect((await axe(bert.page)).violations).toEqual([]);
  await bert.page.setViewportSize({ width: 320, height: 640 });
  expect(await bert.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
});

test("a conversation started offline stays on the device and reaches the recipient later", async ({ browser }) => {
  const anna = await resident(browser, "Anna Jansen");
  const bert = await resident(browser, "Bert Visser");
  await openMessages(bert.page);
  // Anna's app has started twice online, so every screen's module is on her device (a first
  // visit alone brings only the screens opened in it: docs/performance.md, "The split wasm").
  await startAgainOnline(anna.page);

  await server.stop();
  await expect(anna.page.getByTestId("online")).toHaveText("Offline");
  await anna.page.goto(`${server.url}/berichten/nieuw?met=${bert.id}&over=Fietsen`);
  await anna.page.getByLabel("Je bericht").fill("Zullen we zaterdag fietsen?");
  await anna.page.getByRole("button", { name: "Versturen" }).click();
  await expect(anna.page.getByTestId("message-body")).toHaveText("Zullen we zaterdag fietsen?");
  await expect(anna.page.getByTestId("saved")).toHaveText("Opgeslagen op dit apparaat");
  await expect(anna.page.getByTestId("synced")).toContainText("wachten op verbinding");

  // Reopened offline: the conversation is on the device.
  await anna.page.reload();
  await expect(anna.page.getByTestId("message-body")).toHaveText("Zullen we zaterdag fietsen?");

  await server.start();
  await expect(anna.page.getByTestId("online")).toHaveText("Online", { timeout: 40_000 });
  await expect(anna.page.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  const row = bert.page.getByTestId("conversation");
  await expect(row.getByTestId("conversation-last")).toHaveText("Anna Jansen: Zullen we zaterdag fietsen?", {
    timeout: 40_000,
  });
});

test("a new message without a recipient says so and offers no form", async ({ browser }) => {
  const context = await signedInContext(browser, server);
  const page = await context.newPage();
  await page.goto(`${server.url}/berichten/nieuw?over=Iets`);
  await expect(page.getByTestId("no-recipient")).toBeVisible();
  await expect(page.getByRole("button", { name: "Versturen" })).toHaveCount(0);
  await page.goto(`${server.url}/berichten/geen-gesprek`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Dit gesprek bestaat niet");
});
