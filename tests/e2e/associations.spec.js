// The associations directory: registering an association, searching and filtering, its page,
// its admin editing the profile while another resident sees the change live without the form.
import { test, expect } from "@playwright/test";
import { Server } from "../support/server.js";
import {
  resident,
  expectAccessibleInBothLanguages,
  expectFitsNarrowScreen,
  screenshot,
} from "../support/resident.js";

let server;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

async function register(page, { name, category, villages, description, email }) {
  await page.getByText("Vereniging aanmelden", { exact: true }).click();
  const form = page.getByTestId("new-association-form");
  await form.getByLabel("Naam van de vereniging").fill(name);
  await form.getByLabel("Soort vereniging").selectOption({ label: category });
  // Ulft is ticked already: the resident's village.
  for (const v of villages) await form.getByRole("checkbox", { name: v, exact: true }).check();
  if (description) await form.getByLabel("Wat doet de vereniging? (niet verplicht)").fill(description);
  if (email) await form.getByLabel("E-mail").fill(email);
  await form.getByRole("button", { name: "Aanmelden" }).click();
  await expect(page.getByTestId("association-name")).toHaveText(name);
}

test("register, search, filter and edit an association; a neighbour sees it live without the form", async ({ browser }) => {
  const anna = await resident(browser, server, { user: "anna", path: "/verenigingen" });
  await expect(anna.getByRole("heading", { level: 1 })).toHaveText("Verenigingen");
  await expect(anna.getByTestId("association-count")).toHaveText("0 vereniging(en) gevonden");

  // Validation shows next to the fields, nothing is registered.
  await anna.getByText("Vereniging aanmelden", { exact: true }).click();
  const form = anna.getByTestId("new-association-form");
  await form.getByRole("checkbox", { name: "Ulft", exact: true }).uncheck();
  await form.getByRole("button", { name: "Aanmelden" }).click();
  await expect(anna.locator("#new-name-error")).toHaveText("Vul dit in.");
  await expect(form.getByLabel("Naam van de vereniging")).toHaveAttribute("aria-invalid", "true");
  await form.getByLabel("Naam van de vereniging").fill("Fanfare Crescendo");
  await form.getByRole("button", { name: "Aanmelden" }).click();
  await expect(anna.locator("#new-villages-error")).toHaveText("Kies minstens één dorp.");
  await expect(anna.getByTestId("association")).toHaveCount(0);
  await form.getByRole("checkbox", { name: "Ulft", exact: true }).check();
  await form.getByLabel("Soort vereniging").selectOption({ label: "Muziek" });
  await form.getByLabel("Wat doet de vereniging? (niet verplicht)").fill("Muziek maken in Ulft sinds 1921. Nieuwe muzikanten zijn welkom.");
  await form.getByLabel("E-mail").fill("info@crescendo.example");
  await form.getByRole("button", { name: "Aanmelden" }).click();

  // The new association's page opens; Anna manages it.
  await expect(anna).toHaveURL(/\/verenigingen\/fanfare-crescendo\?aangemeld=1$/);
  await expect(anna.getByTestId("association-name")).toHaveText("Fanfare Crescendo");
  await expect(anna.getByTestId("notice")).toHaveText("Fanfare Crescendo staat nu bij de verenigingen.");
  await expect(anna.getByTestId("edit-association")).toBeVisible();
  await expect(anna.getByRole("link", { name: "info@crescendo.example" })).toHaveAttribute("href", "mailto:info@crescendo.example");
  const contact = anna.getByTestId("contact-association");
  await expect(contact).toHaveAttribute("href", "/berichten/nieuw?met=anna&over=Fanfare%20Crescendo");

  // Two more, in other villages and kinds.
  await anna.getByRole("link", { name: "Alle verenigingen" }).click();
  await register(anna, { name: "Voetbalclub Gendringen", category: "Sport", villages: ["Gendringen"] });
  await anna.getByRole("link", { name: "Alle verenigingen" }).click();
  await register(anna, { name: "Dorpsraad Silvolde", category: "Dorpsraad en belangen", villages: ["Silvolde"], description: "Wij komen op voor de belangen van Silvolde." });
  await anna.getByRole("link", { name: "Alle verenigingen" }).click();
  await expect(anna.getByTestId("association-count")).toHaveText("3 vereniging(en) gevonden");

  // Search ignores case and diacritics and matches words while typing.
  const search = anna.getByLabel("Zoeken");
  const names = anna.getByTestId("association").getByRole("heading");
  await search.fill("muzïek");
  await expect(names).toHaveText(["Fanfare Crescendo"]);
  await search.fill("belang");
  await expect(names).toHaveText(["Dorpsraad Silvolde"]);
  await search.fill("zwemmen");
  await expect(anna.getByTestId("no-associations")).toBeVisible();
  await search.fill("");
  // Filters: by village, by kind.
  await anna.getByLabel("Dorp", { exact: true }).selectOption({ label: "Gendringen" });
  await expect(names).toHaveText(["Voetbalclub Gendringen"]);
  await anna.getByLabel("Dorp", { exact: true }).selectOption({ label: "Alle dorpen" });
  await anna.getByLabel("Soort", { exact: true }).selectOption({ label: "Muziek" });
  await expect(names).toHaveText(["Fanfare Crescendo"]);
  await anna.getByLabel("Soort", { exact: true }).selectOption({ label: "Alle soorten" });
  await expect(names).toHaveCount(3);

  await expectAccessibleInBothLanguages(anna, (p) => p.getByRole("heading", { name: "Associations" }));
  await expectFitsNarrowScreen(anna);
  await screenshot(anna, "associations");

  // Bert opens the page: no form for him, and he sees Anna's edit arrive live.
  const bert = await resident(browser, server, { user: "bert", path: "/verenigingen/fanfare-crescendo" });
  await expect(bert.getByTestId("association-name")).toHaveText("Fanfare Crescendo");
  await expect(bert.getByTestId("edit-association")).toHaveCount(0);
  await expect(bert.getByLabel("Naam van de vereniging")).toHaveCount(0);

  await anna.getByRole("link", { name: "Fanfare Crescendo" }).click();
  const edit = anna.getByTestId("edit-association");
  await edit.getByLabel("Naam van de vereniging").fill(" ");
  await edit.getByRole("button", { name: "Profiel opslaan" }).click();
  await expect(anna.locator("#edit-name-error")).toHaveText("Vul dit in.");
  await edit.getByLabel("Naam van de vereniging").fill("Fanfare Crescendo Ulft");
  await edit.getByRole("checkbox", { name: "Etten", exact: true }).check();
  await edit.getByLabel("Website").fill("crescendo-ulft.example");
  await edit.getByRole("button", { name: "Profiel opslaan" }).click();
  await expect(anna.getByTestId("notice")).toHaveText("Het profiel is opgeslagen.");

  await expect(bert.getByTestId("association-name")).toHaveText("Fanfare Crescendo Ulft");
  await expect(bert.getByTestId("association-villages")).toHaveText("Actief in Etten, Ulft");
  await expect(bert.getByRole("link", { name: "crescendo-ulft.example" })).toHaveAttribute("href", "https://crescendo-ulft.example");
  await expect(bert.getByTestId("edit-association")).toHaveCount(0);
  await expect(bert.getByRole("heading", { name: "In Etten" })).toBeVisible();
  await expect(bert.getByText("Nog niets in Ulft.")).toBeVisible();

  await expectAccessibleInBothLanguages(bert, (p) => p.getByRole("link", { name: "Send a message" }));
  await expectAccessibleInBothLanguages(anna, (p) => p.getByRole("button", { name: "Save profile" }));
  await expectFitsNarrowScreen(anna);
  await screenshot(bert, "association");
});
