// Invites: an association's admin makes a one-time link in the app and copies it; a visitor
// who opens it is told what it grants, signs up and comes back to it, accepts it, and can then
// edit the association's profile (the role reaches the app through the municipality document).
// A used or unknown link says so. A municipality admin sees that role on Ik and invites an
// area broker there.
import { test, expect } from "@playwright/test";
import { Server } from "../support/server.js";
import {
  expectAccessibleInBothLanguages,
  expectFitsNarrowScreen,
  resident,
  signedInContext,
} from "../support/resident.js";
import { registerAssociation } from "../support/associations.js";

let server;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

const CLUB = "Voetbalvereniging Ulftse Boys";
const LINK = /^http:\/\/127\.0\.0\.1:\d+\/uitnodiging\/[A-Za-z0-9_-]{43}$/;

test("an admin invites a second admin by link, who signs up, accepts and edits the profile", async ({ browser }) => {
  const anna = await resident(browser, server, { path: "/verenigingen" });
  await anna.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await registerAssociation(anna, CLUB, "Sport");
  const maker = anna.getByTestId("invite-maker");
  await expect(maker.getByRole("heading", { name: "Nodig iemand uit" })).toBeVisible();
  await maker.getByRole("radio", { name: /^Beheerder/ }).check();
  await maker.getByRole("button", { name: "Maak een uitnodigingslink" }).click();
  const link = maker.getByLabel("Uitnodigingslink");
  await expect(link).toHaveValue(LINK);
  const url = await link.inputValue();
  await maker.getByRole("button", { name: "Kopieer de link" }).click();
  await expect(maker.getByRole("status")).toHaveText("De link is gekopieerd.");
  expect(await anna.evaluate(() => navigator.clipboard.readText())).toBe(url);
  await expectAccessibleInBothLanguages(anna, (p) => p.getByRole("button", { name: "Make an invitation link" }));
  await expectFitsNarrowScreen(anna);

  // Cor, not signed in, opens the link: what it grants, and the way to an account.
  const cor = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await cor.goto(url);
  await expect(cor.getByRole("heading", { level: 1 })).toHaveText("Uitnodiging");
  await expect(cor.getByTestId("invite-grant")).toHaveText(`Je wordt beheerder van ${CLUB}.`);
  await expect(cor.getByTestId("invite-accept")).toHaveCount(0);
  await expectAccessibleInBothLanguages(cor, (p) => p.getByText(`You become an admin of ${CLUB}.`));
  await expectFitsNarrowScreen(cor);
  await cor.getByTestId("invite").getByRole("link", { name: "Account aanmaken" }).click();
  await expect(cor).toHaveURL(/\/aanmelden\?terug=\/uitnodiging\//);
  await cor.getByLabel("Je naam, zoals buren die zien").fill("Cor Klein Gunnewiek");
  await cor.getByLabel("E-mailadres").fill("cor@example.nl");
  await cor.getByLabel("Wachtwoord").fill("Keeper-van-de-Boys-1931");
  await cor.getByRole("button", { name: "Account aanmaken" }).click();

  // Back on the invite, signed in: he accepts.
  await expect(cor).toHaveURL(url);
  await cor.getByRole("button", { name: "Uitnodiging aannemen" }).click();
  await expect(cor.getByTestId("invite-accepted")).toHaveText(`Gelukt! Je nieuwe rol: Beheerder van ${CLUB}.`);
  await cor.getByRole("link", { name: `Naar ${CLUB}` }).click();
  const edit = cor.getByTestId("edit-association");
  await expect(edit).toBeVisible();
  await edit.getByLabel("Wat doet de vereniging? (niet verplicht)").fill("Voetbal voor jong en oud op sportpark De Hoenderbeek.");
  await edit.getByRole("button", { name: "Profiel opslaan" }).click();
  await expect(cor.getByTestId("notice")).toHaveText("Het profiel is opgeslagen.");
  await expect(anna.getByTestId("association-description")).toHaveText("Voetbal voor jong en oud op sportpark De Hoenderbeek.");
  // His roles are on Ik.
  await cor.getByTestId("nav-me").click();
  await expect(cor.getByTestId("my-roles")).toContainText(`Beheerder van ${CLUB}`);

  // The link worked once; an unknown one does not exist.
  const dirk = await (await signedInContext(browser, server, {}, { name: "Dirk" })).newPage();
  await dirk.goto(url);
  await expect(dirk.getByTestId("invite-error")).toHaveText("Deze uitnodiging is al gebruikt. Vraag om een nieuwe link.");
  await expect(dirk.getByTestId("invite-accept")).toHaveCount(0);
  await dirk.goto(`${server.url}/uitnodiging/bestaat-niet`);
  await expect(dirk.getByTestId("invite-error")).toHaveText("Deze uitnodiging bestaat niet. Klopt de link?");
  await expectAccessibleInBothLanguages(dirk, (p) => p.getByRole("heading", { name: "Invitation" }));
});

test("a member invite gives no edit rights; a resident gets no invite form", async ({ browser }) => {
  const anna = await resident(browser, server, { path: "/verenigingen" });
  await registerAssociation(anna, CLUB, "Sport");
  const maker = anna.getByTestId("invite-maker");
  // Member is the first choice.
  await expect(maker.getByRole("radio", { name: "Lid" })).toBeChecked();
  await maker.getByRole("button", { name: "Maak een uitnodigingslink" }).click();
  await expect(maker.getByLabel("Uitnodigingslink")).toHaveValue(LINK);
  const url = await maker.getByLabel("Uitnodigingslink").inputValue();

  const eva = await (await signedInContext(browser, server, {}, { name: "Eva" })).newPage();
  await eva.goto(url);
  await expect(eva.getByTestId("invite-grant")).toHaveText(`Je wordt lid van ${CLUB}.`);
  await eva.getByRole("button", { name: "Uitnodiging aannemen" }).click();
  await expect(eva.getByTestId("invite-accepted")).toHaveText(`Gelukt! Je nieuwe rol: Lid van ${CLUB}.`);
  await eva.getByTestId("nav-me").click();
  await expect(eva.getByTestId("my-roles")).toContainText(`Lid van ${CLUB}`);
  await eva.goto(`${server.url}/verenigingen/voetbalvereniging-ulftse-boys`);
  await expect(eva.getByTestId("association-name")).toHaveText(CLUB);
  await expect(eva.getByTestId("edit-association")).toHaveCount(0);
  await expect(eva.getByTestId("invite-maker")).toHaveCount(0);
});

test("a municipality admin sees the role on Ik and invites an area broker, whose role shows on her Ik", async ({ browser }) => {
  await server.createAdmin({ email: "wethouder@gemeente.example", name: "Wethouder", password: "Gemeente-Oude-IJsselstreek-1" });
  const admin = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await admin.goto(`${server.url}/inloggen`);
  await admin.getByLabel("E-mailadres").fill("wethouder@gemeente.example");
  await admin.getByLabel("Wachtwoord").fill("Gemeente-Oude-IJsselstreek-1");
  await admin.getByRole("button", { name: "Inloggen" }).click();
  await expect(admin.getByTestId("my-roles")).toContainText("Beheerder van de gemeente");
  const maker = admin.getByTestId("invite-maker");
  await expect(maker.getByRole("heading", { name: "Nodig een gebiedsmakelaar uit" })).toBeVisible();
  await maker.getByLabel("Dorp", { exact: true }).selectOption({ label: "Ulft" });
  await maker.getByRole("button", { name: "Maak een uitnodigingslink" }).click();
  await expect(maker.getByLabel("Uitnodigingslink")).toHaveValue(LINK);
  const url = await maker.getByLabel("Uitnodigingslink").inputValue();
  await expectAccessibleInBothLanguages(admin, (p) => p.getByRole("heading", { name: "Your roles" }));
  await expectFitsNarrowScreen(admin);

  const femke = await (await signedInContext(browser, server, {}, { name: "Femke" })).newPage();
  await femke.goto(url);
  await expect(femke.getByTestId("invite-grant")).toHaveText("Je wordt gebiedsmakelaar van Ulft.");
  await femke.getByRole("button", { name: "Uitnodiging aannemen" }).click();
  await expect(femke.getByTestId("invite-accepted")).toHaveText("Gelukt! Je nieuwe rol: Gebiedsmakelaar van Ulft.");
  await femke.getByTestId("nav-me").click();
  await expect(femke.getByTestId("my-roles")).toContainText("Gebiedsmakelaar van Ulft");
  // As Ulft's broker she may invite for Ulft only.
  await expect(femke.getByTestId("invite-maker").getByLabel("Dorp", { exact: true }).locator("option")).toHaveText(["Ulft"]);
});
