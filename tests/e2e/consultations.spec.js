// Meedenken: a resident responds to an open question once and reads a closed one's outcome; the
// village's broker (and only they) opens a question and publishes an outcome.
import { test, expect } from "@playwright/test";
import { Server } from "../support/server.js";
import {
  resident,
  expectAccessibleInBothLanguages,
  expectFitsNarrowScreen,
  screenshot,
} from "../support/resident.js";

const SEED = new URL("../seed/e2e.toml", import.meta.url).pathname;

let server;
test.beforeEach(async () => {
  server = new Server({ seed: SEED });
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

const card = (page, question) =>
  page.getByTestId("consultation").filter({ has: page.getByRole("heading", { name: question }) });
const OPEN = "Wat moet er komen op het lege veld aan de Dr. Huber Noodtstraat?";
const CLOSED = "Waar zijn extra bankjes langs de Oude IJssel nodig?";

test("a resident responds to an open question once and reads a closed one's outcome", async ({ browser }) => {
  const anna = await resident(browser, server, { user: "anna", path: "/meedenken" });
  await expect(anna.getByTestId("consultations-heading")).toHaveText("Vragen aan Ulft");
  await expect(anna.getByTestId("consultation")).toHaveCount(2);
  // Open first, with its last day; the closed one with its outcome.
  await expect(anna.getByTestId("consultation").first().getByRole("heading")).toHaveText(OPEN);
  await expect(card(anna, OPEN).getByTestId("consultation-status")).toHaveText("Open");
  await expect(card(anna, OPEN)).toContainText("Reageren kan tot en met 31 december 2099.");
  await expect(card(anna, CLOSED).getByTestId("consultation-status")).toHaveText("Uitkomst bekend");
  await expect(card(anna, CLOSED).getByTestId("outcome")).toContainText("Er komen vier bankjes bij");
  await expect(card(anna, CLOSED).getByTestId("response-form")).toHaveCount(0);
  // No broker forms for a resident.
  await expect(anna.getByTestId("new-consultation")).toHaveCount(0);

  // Empty is refused next to the field.
  const form = card(anna, OPEN).getByTestId("response-form");
  await form.getByRole("button", { name: "Reactie versturen" }).click();
  await expect(form.getByText("Vul dit in.")).toBeVisible();
  await form.getByLabel("Jouw reactie").fill("Een speeltuin met bankjes voor de ouders.");
  await form.getByRole("button", { name: "Reactie versturen" }).click();
  await expect(anna.getByTestId("notice")).toHaveText("Dank je wel! Je reactie is verstuurd.");
  await expect(card(anna, OPEN).getByTestId("your-response")).toContainText("Een speeltuin met bankjes voor de ouders.");
  await expect(card(anna, OPEN).getByTestId("response-form")).toHaveCount(0);
  await expect(card(anna, OPEN)).toContainText("1 reactie(s)");

  // Other villages: Etten's question; all villages together.
  await anna.getByLabel("Dorp").selectOption({ label: "Etten" });
  await expect(anna.getByTestId("consultation").getByRole("heading")).toHaveText(["Zou een weekmarkt in Etten iets voor jullie zijn?"]);
  await anna.getByLabel("Dorp").selectOption({ label: "Alle dorpen" });
  await expect(anna.getByTestId("consultation")).toHaveCount(3);
  await anna.getByLabel("Dorp").selectOption({ label: "Ulft" });

  await expectAccessibleInBothLanguages(anna, (p) => p.getByRole("heading", { name: "Questions to Ulft" }));
  await expectFitsNarrowScreen(anna);
  await screenshot(anna, "consultations");

  // The response reached the server: the broker sees it counted.
  const broker = await resident(browser, server, { user: "broker-ulft", path: "/meedenken" });
  await expect(card(broker, OPEN)).toContainText("1 reactie(s)");
});

test("the village's broker opens a question; residents see it live", async ({ browser }) => {
  const broker = await resident(browser, server, { user: "broker-ulft", path: "/meedenken" });
  const anna = await resident(browser, server, { user: "anna", path: "/meedenken" });
  await expect(anna.getByTestId("consultation")).toHaveCount(2);

  const form = broker.getByTestId("new-consultation");
  await form.getByText("Nieuwe vraag aan Ulft").click();
  await expect(form).toContainText("Je bent gebiedsmakelaar van Ulft.");
  await form.getByRole("button", { name: "Vraag uitzetten" }).click();
  await expect(form.locator("#consultation-date-error")).toHaveText("Kies een datum vanaf vandaag.");
  await form.getByLabel("Reageren kan tot en met").fill("2098-06-30");
  await form.getByRole("button", { name: "Vraag uitzetten" }).click();
  await expect(form.locator("#consultation-question-error")).toHaveText("Vul dit in.");
  await form.getByLabel("Vraag", { exact: true }).fill("Moet de kermis terug naar het marktplein?");
  await form.getByRole("button", { name: "Vraag uitzetten" }).click();
  await expect(broker.getByTestId("notice")).toHaveText("De vraag staat nu open voor Ulft.");
  await expect(form.getByLabel("Vraag", { exact: true })).toHaveValue("");

  const question = "Moet de kermis terug naar het marktplein?";
  await expect(card(anna, question)).toContainText("Reageren kan tot en met 30 juni 2098.");
  await expect(card(anna, question).getByTestId("response-form")).toBeVisible();

  // A broker of Ulft is not the broker of Etten.
  await broker.getByLabel("Dorp").selectOption({ label: "Etten" });
  await expect(broker.getByTestId("consultation")).toHaveCount(1);
  await expect(broker.getByTestId("new-consultation")).toHaveCount(0);
});
