// The village board (prikbord), end to end: one resident posts, a neighbour in another browser
// sees it live, comments and reacts, and the author sees both; reactions toggle and count on
// both sides; a half-typed post survives a reload.
import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { Server } from "../support/server.js";
import { signedInContext } from "../support/resident.js";
import { docsScreenshotPath } from "../support/resident.js";

let server;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

async function openBoard(browser, name) {
  const context = await signedInContext(browser, server, { viewport: { width: 390, height: 844 } }, { name });
  const page = await context.newPage();
  await page.goto(`${server.url}/dorp/ulft`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Ulft");
  // The form appears once the village document is on the device.
  await expect(page.getByRole("button", { name: "Plaatsen" })).toBeVisible();
  await expect(page.getByTestId("online")).toHaveText("Online");
  return page;
}

function post(page, text) {
  return page.getByTestId("board-post").filter({ hasText: text });
}

test("a post is seen live by a neighbour, who comments and reacts; the author sees both", async ({ browser }) => {
  const anna = await openBoard(browser, "Anna");
  const bert = await openBoard(browser, "Bert");
  await expect(anna.getByTestId("no-board-posts")).toBeVisible();

  // Validation shows next to the field, and nothing is posted.
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(anna.locator("#board-body-error")).toHaveText("Vul dit in.");
  await expect(anna.getByLabel("Wat wil je delen?")).toHaveAttribute("aria-invalid", "true");
  await expect(anna.getByLabel("Wat wil je delen?")).toBeFocused();
  await expect(anna.getByTestId("board-post")).toHaveCount(0);

  const text = "Zwarte kat gevonden bij de kerk. Wie mist haar?";
  await anna.getByLabel("Wat wil je delen?").fill(text);
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(anna.getByTestId("notice")).toHaveText("Je bericht staat op het prikbord.");
  await expect(anna.getByLabel("Wat wil je delen?")).toHaveValue("");
  await expect(anna.locator("#board-body-error")).toHaveText("");
  await expect(post(anna, text).getByRole("heading", { level: 3 })).toHaveText("Jij");

  // Bert sees it without reloading, under the name of Anna's account.
  await expect(post(bert, text).getByRole("heading", { level: 3 })).toHaveText("Anna");
  await expect(post(bert, text).getByRole("heading", { level: 4 })).toHaveText("Reacties (0)");

  // An empty comment is refused next to its field.
  await post(bert, text).getByRole("button", { name: "Reageren" }).click();
  await expect(post(bert, text).locator(".comment-form .field-error")).toHaveText("Vul dit in.");
  await post(bert, text).getByLabel("Schrijf een reactie").fill("Ik denk dat het de kat van de bakker is.");
  await post(bert, text).getByRole("button", { name: "Reageren" }).click();
  await expect(bert.getByTestId("notice")).toHaveText("Je reactie staat bij het bericht.");
  await expect(post(bert, text).getByLabel("Schrijf een reactie")).toHaveValue("");
  await expect(post(bert, text).getByTestId("comment")).toContainText("Jij");

  // Bert reacts: the count and his own reaction show, and the outcome is announced.
  await post(bert, text).getByRole("button", { name: "Duim omhoog, 0" }).click();
  await expect(bert.getByTestId("notice")).toHaveText("Duim omhoog gegeven. Nu 1.");
  await expect(post(bert, text).getByRole("button", { name: "Duim omhoog, 1" })).toHaveAttribute("aria-pressed", "true");

  // Anna sees both without reloading.
  await expect(post(anna, text).getByTestId("comment")).toHaveCount(1);
  await expect(post(anna, text).getByTestId("comment")).toContainText("Bert");
  await expect(post(anna, text).getByTestId("comment")).toContainText("Ik denk dat het de kat van de bakker is.");
  await expect(post(anna, text).getByRole("heading", { level: 4 })).toHaveText("Reacties (1)");
  const annaLike = post(anna, text).getByTestId("like");
  await expect(annaLike).toHaveAccessibleName("Duim omhoog, 1");
  await expect(annaLike).toHaveAttribute("aria-pressed", "false");

  // Anna gives a thumbs up too: two on both sides.
  await annaLike.click();
  await expect(annaLike).toHaveAccessibleName("Duim omhoog, 2");
  await expect(annaLike).toHaveAttribute("aria-pressed", "true");
  await expect(post(bert, text).getByTestId("like")).toHaveAccessibleName("Duim omhoog, 2");

  // Bert changes his to a heart (one reaction per resident), then takes it back.
  await post(bert, text).getByTestId("heart").click();
  await expect(post(bert, text).getByTestId("heart")).toHaveAttribute("aria-pressed", "true");
  await expect(post(bert, text).getByTestId("like")).toHaveAttribute("aria-pressed", "false");
  await expect(annaLike).toHaveAccessibleName("Duim omhoog, 1");
  await expect(post(anna, text).getByTestId("heart")).toHaveAccessibleName("Hartje, 1");
  await post(bert, text).getByTestId("heart").click();
  await expect(bert.getByTestId("notice")).toHaveText("Hartje weggehaald. Nu 0.");
  await expect(post(anna, text).getByTestId("heart")).toHaveAccessibleName("Hartje, 0");

  // Newest first: Bert's later post comes above Anna's on both sides.
  await bert.getByLabel("Wat wil je delen?").fill("Zaterdag rommelmarkt op het Deurningerplein.");
  await bert.getByRole("button", { name: "Plaatsen" }).click();
  for (const page of [anna, bert]) {
    await expect(page.getByTestId("post-body").first()).toHaveText("Zaterdag rommelmarkt op het Deurningerplein.");
    await expect(page.getByTestId("board-post")).toHaveCount(2);
    await expect(page.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  }

  // What both saw is what the server stored: a third resident sees it all.
  const carla = await openBoard(browser);
  await expect(post(carla, text).getByTestId("comment")).toHaveCount(1);
  await expect(post(carla, text).getByTestId("like")).toHaveAccessibleName("Duim omhoog, 1");
});

test("a half-typed post survives a reload, and a comment being typed survives a neighbour's reaction", async ({ browser }) => {
  const anna = await openBoard(browser);
  const bert = await openBoard(browser);
  await anna.getByLabel("Wat wil je delen?").fill("Wie heeft er een ladder te leen?");
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(post(bert, "ladder")).toBeVisible();

  await anna.getByLabel("Wat wil je delen?").fill("Nog een vraag: wie");
  await anna.reload();
  await expect(anna.getByLabel("Wat wil je delen?")).toHaveValue("Nog een vraag: wie");

  // Anna types a comment; Bert reacts meanwhile; her text and focus stay.
  const field = post(anna, "ladder").getByLabel("Schrijf een reactie");
  await field.fill("Ik heb er een");
  await expect(field).toBeFocused();
  await post(bert, "ladder").getByTestId("thanks").click();
  await expect(post(anna, "ladder").getByTestId("thanks")).toHaveAccessibleName("Bedankt, 1");
  await expect(field).toHaveValue("Ik heb er een");
  await expect(field).toBeFocused();
});

test("the board has no accessibility violations in Dutch and English, works at 320 px, and is pictured", async ({ browser }) => {
  const anna = await openBoard(browser);
  const bert = await openBoard(browser);
  await anna.getByLabel("Wat wil je delen?").fill("Zwarte kat gevonden bij de kerk. Wie mist haar?");
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await bert.getByLabel("Wat wil je delen?").fill("Zaterdag van 9 tot 12 rommelmarkt bij de Gildehof. Kom gezellig langs!");
  await bert.getByRole("button", { name: "Plaatsen" }).click();
  const cat = post(bert, "Zwarte kat");
  await cat.getByLabel("Schrijf een reactie").fill("Volgens mij is het Minoes van de bakker.");
  await cat.getByRole("button", { name: "Reageren" }).click();
  await cat.getByTestId("heart").click();
  await expect(post(anna, "Zwarte kat").getByTestId("comment")).toHaveCount(1);
  await post(anna, "rommelmarkt").getByTestId("like").click();
  await expect(post(anna, "Zwarte kat").getByTestId("heart")).toHaveAccessibleName("Hartje, 1");
  await expect(anna.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");

  // The screen as a resident sees it once they scroll past the menus.
  await anna.evaluate(() => document.getElementById("board-heading").scrollIntoView());
  await anna.screenshot({ path: docsScreenshotPath("screenshots/board.png") });

  const axe = () =>
    new AxeBuilder({ page: anna }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect((await axe()).violations).toEqual([]);
  await anna.getByRole("button", { name: "Switch to English" }).click();
  await expect(anna.getByRole("button", { name: "Post", exact: true })).toBeVisible();
  await expect(post(anna, "Zwarte kat").getByTestId("heart")).toHaveAccessibleName("Heart, 1");
  await expect(post(anna, "Zwarte kat").getByRole("heading", { level: 3 })).toHaveText("You");
  expect((await axe()).violations).toEqual([]);

  // 320 px: nothing sideways, and the form still works.
  await anna.setViewportSize({ width: 320, height: 640 });
  expect(await anna.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
  await anna.getByLabel("What would you like to share?").fill("Small screens work too.");
  await anna.getByRole("button", { name: "Post", exact: true }).click();
  await expect(anna.getByTestId("notice")).toHaveText("Your post is on the board.");
  await expect(post(anna, "Small screens work too.")).toBeVisible();
});

test("a neighbour reports a post: the form is a split module, fetched when first opened", async ({ browser }) => {
  const anna = await openBoard(browser);
  const text = "Fietsen te koop, spotgoedkoop, alleen contant.";
  await anna.getByLabel("Wat wil je delen?").fill(text);
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(post(anna, text)).toBeVisible();

  // Bert is signed in, so the control shows under the post; its form's module is fetched only
  // when he first opens it.
  const context = await signedInContext(browser, server);
  const bert = await context.newPage();
  const fetched = [];
  bert.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  await bert.goto(`${server.url}/dorp/ulft`);
  const report = post(bert, text).getByTestId("moderate");
  await expect(report.locator("summary")).toHaveText("Melden");
  await expect(bert.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  expect(fetched.filter((p) => p.endsWith("/split_moderation.wasm"))).toEqual([]);

  await report.locator("summary").click();
  const send = report.getByRole("button", { name: "Melding versturen" });
  await expect(send).toBeVisible();
  expect(fetched.filter((p) => p.endsWith("/split_moderation.wasm"))).toHaveLength(1);
  await send.click();
  await expect(report.locator(".field-error")).toHaveText("Geef een reden op.");
  // A reason typed survives closing and opening the control.
  await report.getByLabel("Wat is er mis mee?").fill("Dit lijkt op oplichting.");
  await report.locator("summary").click();
  await report.locator("summary").click();
  await expect(report.getByLabel("Wat is er mis mee?")).toHaveValue("Dit lijkt op oplichting.");
  await send.click();
  await expect(bert.getByTestId("notice")).toHaveText("Bedankt. De gebiedsmakelaar bekijkt je melding.");
  await expect(send).toBeHidden();

  // Twice is refused, in the form.
  await report.locator("summary").click();
  await report.getByLabel("Wat is er mis mee?").fill("Nog steeds.");
  await send.click();
  await expect(report.locator(".field-error")).toHaveText("Je hebt dit al gemeld.");

  // A reader who is not signed in sees no control, and does not fetch its module.
  const reader = await (await browser.newContext()).newPage();
  const modules = [];
  reader.on("request", (r) => modules.push(new URL(r.url()).pathname));
  await reader.goto(`${server.url}/dorp/ulft`);
  await expect(post(reader, text)).toBeVisible();
  await expect(post(reader, text).getByTestId("moderate")).toBeHidden();
  await expect(reader.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  expect(modules.filter((p) => p.endsWith("split_moderation.wasm"))).toEqual([]);
});
