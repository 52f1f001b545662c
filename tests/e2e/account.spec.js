// Accounts: a resident signs up (keeping what they made as a local profile), signs out and in
// again; wrong and weak passwords get a clear message next to the form; both forms are
// accessible in Dutch and English and fit 320 px.
import { test, expect } from "@playwright/test";
import { Server } from "../support/server.js";
import { expectAccessibleInBothLanguages, expectFitsNarrowScreen } from "../support/resident.js";

let server;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

const PASSWORD = "Gendringen-kermis-2026";

async function newPage(browser, path) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${server.url}${path}`);
  return page;
}

test("sign up keeps the local profile's id, sign out and sign in again", async ({ browser }) => {
  const page = await newPage(browser, "/ik");
  await expect(page.getByTestId("account-section")).toContainText("Je bent niet ingelogd");
  const localId = await page.evaluate(() => localStorage.getItem("dorpskracht.user"));
  expect(localId).toBeTruthy();

  await page.getByTestId("account-section").getByRole("link", { name: "Account aanmaken" }).click();
  await expect(page).toHaveURL(/\/aanmelden$/);
  await page.getByLabel("Je naam, zoals buren die zien").fill("Anna de Vries");
  await page.getByLabel("E-mailadres").fill("anna@example.nl");
  await page.getByLabel("Wachtwoord").fill("wachtwoord");
  await page.getByRole("button", { name: "Account aanmaken" }).click();
  await expect(page.getByTestId("account-error")).toContainText("sterker wachtwoord");

  await page.getByLabel("Wachtwoord").fill(PASSWORD);
  await page.getByRole("button", { name: "Account aanmaken" }).click();
  await expect(page).toHaveURL(/\/ik$/);
  await expect(page.getByTestId("signed-in-as")).toContainText("Anna de Vries");
  // The account is the local profile: same id, so what Anna made before stays hers.
  expect(await page.evaluate(() => localStorage.getItem("dorpskracht.user"))).toBe(localId);
  // The session cookie is the server's: HttpOnly, SameSite=Strict, invisible to scripts.
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "dk_session");
  expect(session.httpOnly).toBe(true);
  expect(session.sameSite).toBe("Strict");
  expect(await page.evaluate(() => document.cookie)).not.toContain("dk_session");

  // A reload asks the server and stays signed in.
  await page.reload();
  await expect(page.getByTestId("signed-in-as")).toContainText("Anna de Vries");

  await page.getByRole("button", { name: "Uitloggen" }).click();
  // The section's text is all in the DOM (the other half hidden): wait for the switch itself.
  await expect(page.getByTestId("signed-in-as")).toBeHidden();
  await expect(page.getByTestId("account-section")).toContainText("Je bent niet ingelogd");
  await expect
    .poll(() => page.evaluate(() => localStorage.getItem("dorpskracht.user")))
    .not.toBe(localId);

  // Signing in on this device makes Anna's account id the resident again.
  await page.getByTestId("account-section").getByRole("link", { name: "Inloggen" }).click();
  await page.getByLabel("E-mailadres").fill("anna@example.nl");
  await page.getByLabel("Wachtwoord").fill("niet-het-goede-wachtwoord");
  await page.getByRole("button", { name: "Inloggen" }).click();
  await expect(page.getByTestId("account-error")).toHaveText("E-mailadres of wachtwoord klopt niet.");
  await page.getByLabel("Wachtwoord").fill(PASSWORD);
  await page.getByRole("button", { name: "Inloggen" }).click();
  await expect(page.getByTestId("signed-in-as")).toContainText("Anna de Vries");
  expect(await page.evaluate(() => localStorage.getItem("dorpskracht.user"))).toBe(localId);
});

test("a device whose id already names content on the server signs up under a fresh id", async ({ browser }) => {
  // The seed's knowledge pages are authored by the municipality's id, which has no account:
  // nobody may claim it, so the app signs up without it and takes the server's.
  const context = await browser.newContext();
  await context.addInitScript(() => {
    if (!sessionStorage.getItem("seeded")) {
      sessionStorage.setItem("seeded", "1");
      localStorage.setItem("dorpskracht.user", "oude-ijsselstreek");
    }
  });
  const page = await context.newPage();
  await page.goto(`${server.url}/aanmelden`);
  await page.getByLabel("Je naam, zoals buren die zien").fill("Mallory");
  await page.getByLabel("E-mailadres").fill("mallory@example.nl");
  await page.getByLabel("Wachtwoord").fill(PASSWORD);
  await page.getByRole("button", { name: "Account aanmaken" }).click();
  await expect(page).toHaveURL(/\/ik$/);
  await expect(page.getByTestId("signed-in-as")).toContainText("Mallory");
  const id = await page.evaluate(() => localStorage.getItem("dorpskracht.user"));
  expect(id).toBeTruthy();
  expect(id).not.toBe("oude-ijsselstreek");
  const session = await (await context.request.get(`${server.url}/api/session`)).json();
  expect(session.user.id).toBe(id);
});

test("the account forms are accessible in Dutch and English and fit 320 px", async ({ browser }) => {
  for (const path of ["/inloggen", "/aanmelden"]) {
    const page = await newPage(browser, path);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expectAccessibleInBothLanguages(page, (p) => p.getByLabel("Email address"));
    await expectFitsNarrowScreen(page);
  }
});
