// The knowledge base: the resident's broker and how to reach them, starting an initiative, and
// the municipality's pages, also offline.
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
test.afterEach(async () => {
  await server.dispose();
});

test("shows the resident's broker, how to start an initiative and the pages, also offline", async ({ browser }) => {
  server = new Server({ seed: SEED });
  await server.start();
  const anna = await resident(browser, server, { user: "anna", path: "/kennisbank" });
  const broker = anna.getByTestId("broker");
  await expect(broker.getByRole("heading", { name: "Gebiedsmakelaar van Ulft" })).toBeVisible();
  await expect(broker.getByTestId("broker-contact")).toContainText("Sanne Jansen");
  await expect(broker.getByRole("link", { name: "s.jansen@example.org" })).toHaveAttribute("href", "mailto:s.jansen@example.org");
  await expect(broker).toContainText("Dinsdagochtend in het dorpshuis");
  await expect(anna.getByTestId("message-broker")).toHaveAttribute("href", "/berichten/nieuw?met=broker-ulft&over=Gebiedsmakelaar%20van%20Ulft");
  await expect(anna.getByTestId("to-initiatives")).toHaveAttribute("href", "/dorp/ulft/initiatieven");

  const page = anna.getByTestId("knowledge-page");
  await expect(page).toHaveCount(1);
  await page.getByText("Zelf een initiatief starten").click();
  await expect(page).toContainText("Zoek medestanders en neem contact op met de gebiedsmakelaar.");

  await expectAccessibleInBothLanguages(anna, (p) => p.getByRole("heading", { name: "Your area broker" }));
  await expectFitsNarrowScreen(anna);
  await screenshot(anna, "knowledge");

  // Offline: the page starts from the device with the server gone.
  await anna.evaluate(() => navigator.serviceWorker.ready);
  await anna.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await expect(anna.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  await server.stop();
  await anna.reload();
  await expect(anna.getByTestId("online")).toHaveText("Offline");
  await expect(anna.getByTestId("broker-contact")).toContainText("Sanne Jansen");
  await expect(anna.getByTestId("knowledge-page")).toHaveCount(1);
});

test("a village without a broker says whom to ask; the shipped pages are there", async ({ browser }) => {
  server = new Server();
  await server.start();
  const bert = await resident(browser, server, { user: "bert", village: "etten", path: "/kennisbank" });
  await expect(bert.getByTestId("no-broker")).toHaveText(
    "Voor Etten staat nog geen gebiedsmakelaar in de app. Neem contact op met de gemeente.",
  );
  await expect(bert.getByTestId("knowledge-page").getByText("Wat doet de gebiedsmakelaar?")).toBeVisible();
  await expect(bert.getByTestId("knowledge-page")).toHaveCount(4);

  // Without a chosen village, the page asks for one first.
  const carla = await resident(browser, server, { village: null, path: "/kennisbank" });
  await expect(carla.getByText("Kies eerst je dorp, dan zie je wie je gebiedsmakelaar is.")).toBeVisible();
});
