// The village workshop (dorpswerkplaats), end to end: a resident starts an initiative, adds a
// need and an update and gets it going; a neighbour joins in on the need; an association joins
// as partner and two residents write the plan at the same time, both keeping their text.
import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { Server } from "../support/server.js";
import { signedInContext } from "../support/resident.js";
import { registerAssociation } from "../support/associations.js";
import { docsScreenshotPath } from "../support/resident.js";

let server;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

const shot = (name) => docsScreenshotPath(`screenshots/${name}.png`);

async function openInitiatives(browser, name) {
  const context = await signedInContext(browser, server, {}, { name });
  const page = await context.newPage();
  await page.goto(`${server.url}/dorp/ulft/initiatieven`);
  await expect(page.getByRole("heading", { level: 2 })).toHaveText("Initiatieven in Ulft");
  await expect(page.getByTestId("online")).toHaveText("Online");
  return page;
}

function card(page, title) {
  return page.getByTestId("initiative").filter({ has: page.getByRole("heading", { name: title }) });
}

async function startInitiative(page, title, plan) {
  const form = page.getByTestId("initiative-form");
  if (!(await form.evaluate((d) => d.open))) await form.getByText("Een initiatief starten").click();
  await page.getByLabel("Naam van het initiatief").fill(title);
  await page.getByLabel("Plan", { exact: true }).fill(plan);
  await page.getByRole("button", { name: "Initiatief starten" }).click();
  await expect(page.getByTestId("notice")).toHaveText("Je initiatief staat nu in de dorpswerkplaats.");
}

const axe = (page) =>
  new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();

test("an initiative is started, gets a need and news, and a neighbour joins in", async ({ browser }) => {
  const anna = await openInitiatives(browser, "Anna");
  await expect(anna.getByTestId("no-initiatives")).toBeVisible();

  // Validation shows next to the field, and nothing is created.
  await anna.getByText("Een initiatief starten").click();
  await anna.getByRole("button", { name: "Initiatief starten" }).click();
  await expect(anna.locator("#initiative-title-error")).toHaveText("Vul dit in.");
  await expect(anna.getByLabel("Naam van het initiatief")).toHaveAttribute("aria-invalid", "true");
  await expect(anna.getByTestId("initiative")).toHaveCount(0);

  const title = "Speeltuin Dorpsstraat opknappen";
  await startInitiative(anna, title, "Nieuwe schommels en een bankje.");
  await expect(anna.getByLabel("Naam van het initiatief")).toHaveValue("");
  await expect(card(anna, title).getByTestId("initiative-status")).toHaveText("Idee");
  await expect(card(anna, title).getByTestId("lead")).toHaveText("Gestart door jou");

  // The initiative's page: the plan is Anna's to edit; she adds a need and news.
  await card(anna, title).getByRole("link", { name: title }).click();
  await expect(anna).toHaveURL(/\/dorp\/ulft\/initiatieven\/[^/]+$/);
  await expect(anna.getByRole("heading", { level: 2 })).toHaveText(title);
  await expect(anna.getByTestId("plan-editor")).toHaveValue("Nieuwe schommels en een bankje.");
  await expect(anna.getByTestId("plan-editors")).toHaveText(
    "Alleen wie het initiatief startte, kan het plan bewerken.",
  );
  await anna.getByRole("button", { name: "Toevoegen" }).click();
  await expect(anna.locator("#need-title-error")).toHaveText("Vul dit in.");
  await anna.getByLabel("Nieuwe vraag").fill("Twee mensen met een aanhanger op zaterdag");
  await anna.getByRole("button", { name: "Toevoegen" }).click();
  await expect(anna.getByTestId("notice")).toHaveText("De vraag is toegevoegd.");
  await expect(anna.getByLabel("Nieuwe vraag")).toHaveValue("");
  await expect(anna.getByTestId("need")).toHaveCount(1);
  await anna.getByLabel("Nieuws delen").fill("De gemeente betaalt de schommels!");
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(anna.getByTestId("update")).toHaveCount(1);
  await expect(anna.getByTestId("update")).toContainText("De gemeente betaalt de schommels!");
  await expect(anna.getByTestId("update")).toContainText("jou, ");
  await anna.getByRole("button", { name: "Het initiatief gaat van start" }).click();
  await expect(anna.getByTestId("notice")).toHaveText("Het initiatief loopt nu.");
  await expect(anna.getByTestId("initiative-status")).toHaveText("Loopt");

  // Bert, in another browser, sees it running with one open need and joins in.
  const bert = await openInitiatives(browser, "Bert");
  const bertCard = card(bert, title);
  await expect(bertCard.getByTestId("initiative-status")).toHaveText("Loopt");
  await expect(bertCard).toContainText("1 open");
  await bertCard.getByRole("button", { name: "Ik doe mee" }).click();
  await expect(bert.getByTestId("notice")).toHaveText("Je doet mee. Dank je wel!");
  await expect(bertCard.getByRole("button", { name: "Ik doe mee" })).toHaveCount(0);
  // Anna sees it live on the initiative's page.
  await expect(anna.getByTestId("need-filled")).toHaveText("Bert doet mee");

  // Bert reads the plan but cannot edit it, and is told who can.
  await bertCard.getByRole("link", { name: title }).click();
  await expect(bert.getByTestId("plan-text")).toHaveText("Nieuwe schommels en een bankje.");
  await expect(bert.getByTestId("plan-editor")).toHaveCount(0);
  await expect(bert.getByLabel("Nieuws delen")).toHaveCount(0);
  await expect(bert.getByTestId("need-filled")).toHaveText("Jij doet mee");
  await expect(bert.getByTestId("update")).toContainText("Anna, ");

  // Anna completes it; both see it done.
  await anna.getByRole("button", { name: "Markeer als afgerond" }).click();
  for (const page of [anna, bert]) {
    await expect(page.getByTestId("initiative-status")).toHaveText("Afgerond");
  }
  await expect(anna.getByTestId("plan-editor")).toHaveCount(0);
});

test("the workshop screens are accessible in Dutch and English, at 320 px, with screenshots", async ({ browser }) => {
  const anna = await openInitiatives(browser);
  await startInitiative(anna, "Kerstmarkt Ulft", "Kraampjes op het Kerkplein, met muziek.");
  await startInitiative(anna, "Bloembakken in de Hoofdstraat", "Elke lente nieuwe planten.");
  await card(anna, "Kerstmarkt Ulft").getByRole("link").click();
  await anna.getByLabel("Nieuwe vraag").fill("Iemand met een aggregaat");
  await anna.getByRole("button", { name: "Toevoegen" }).click();
  await anna.getByLabel("Nieuws delen").fill("De vergunning is binnen.");
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(anna.getByTestId("update")).toHaveCount(1);
  await anna.getByRole("button", { name: "Het initiatief gaat van start" }).click();
  await expect(anna.getByTestId("initiative-status")).toHaveText("Loopt");

  const page = await openInitiatives(browser);
  await expect(page.getByTestId("initiative")).toHaveCount(2);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: shot("initiatives") });
  await anna.setViewportSize({ width: 390, height: 844 });
  await anna.evaluate(() => window.scrollTo(0, 0));
  await anna.screenshot({ path: shot("initiative") });

  for (const p of [page, anna]) {
    expect((await axe(p)).violations).toEqual([]);
    await p.setViewportSize({ width: 320, height: 640 });
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    await p.getByRole("button", { name: "Switch to English" }).click();
    await expect(p.getByRole("link", { name: "Initiatives", exact: true })).toBeVisible();
    expect((await axe(p)).violations).toEqual([]);
  }
  await expect(anna.getByTestId("initiative-status")).toHaveText("Under way");
  await expect(page.getByText("Start an initiative")).toBeVisible();
});

test("two residents write the plan at the same time and both keep their text", async ({ browser }) => {
  const anna = await openInitiatives(browser);
  const title = "Dorpsfeest Ulft";
  await startInitiative(anna, title, "Het dorpsfeest in juni.\n");
  await card(anna, title).getByRole("link", { name: title }).click();
  await expect(anna.getByTestId("plan-editor")).toBeVisible();

  // Bert administers the brass band; it joins as a partner, so he may edit the plan too.
  const bert = await openInitiatives(browser);
  await registerAssociation(bert, "Fanfare Ulft");
  await bert.goto(anna.url());
  await expect(bert.getByTestId("plan-text")).toBeVisible();
  await bert.getByRole("button", { name: "Meedoen als partner met Fanfare Ulft" }).click();
  await expect(bert.getByTestId("notice")).toHaveText("Fanfare Ulft is nu partner.");
  await expect(bert.getByTestId("plan-editor")).toHaveValue("Het dorpsfeest in juni.\n");
  await expect(anna.getByTestId("partners")).toHaveText("Partners: Fanfare Ulft");
  await expect(anna.getByTestId("plan-editors")).toContainText("Fanfare Ulft");

  // Both put the caret at the end, then type a paragraph there, keystroke by keystroke, at the
  // same time. (The carets go first: Control+End pressed while the other's first letters are
  // arriving would, rightly, put the caret after them, in the middle of their paragraph.)
  const annaText = "Anna regelt de springkussens en de kramen.";
  const bertText = "De fanfare speelt om drie uur op het plein.";
  const toEnd = async (page) => {
    const editor = page.getByTestId("plan-editor");
    await editor.click();
    await editor.press("Control+End");
  };
  await Promise.all([toEnd(anna), toEnd(bert)]);
  const type = (page, text) => page.getByTestId("plan-editor").pressSequentially(text, { delay: 40 });
  await Promise.all([type(anna, annaText), type(bert, bertText)]);

  // Both end with the same plan, holding both paragraphs whole.
  const value = (page) => page.getByTestId("plan-editor").inputValue();
  await expect.poll(async () => (await value(anna)) === (await value(bert)) && (await value(anna))).toContain(annaText);
  const plan = await value(anna);
  expect(plan).toContain(bertText);
  expect(plan.startsWith("Het dorpsfeest in juni.\n")).toBe(true);
  expect(plan.length).toBe("Het dorpsfeest in juni.\n".length + annaText.length + bertText.length);

  // Anna keeps typing where she was: right after her own sentence.
  await anna.getByTestId("plan-editor").pressSequentially(" Ook een draaimolen.", { delay: 20 });
  await expect.poll(() => value(bert)).toContain(`${annaText} Ook een draaimolen.`);
  expect(await value(bert)).toContain(bertText);
});
