// The village agenda, end to end: a resident adds an activity needing two volunteers,
// neighbours in other browsers sign up ("Ik help mee") and cancel, the counts follow on every
// side, a full activity says so, and its organiser cancels it.
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

async function openAgenda(browser, name) {
  const context = await signedInContext(browser, server, { viewport: { width: 390, height: 844 } }, { name });
  const page = await context.newPage();
  await page.goto(`${server.url}/dorp/ulft/agenda`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Ulft");
  // The form appears once the village document is on the device.
  await expect(page.getByRole("button", { name: "Toevoegen aan de agenda" })).toBeVisible();
  await expect(page.getByTestId("online")).toHaveText("Online");
  return page;
}

/** A date `days` from today in the browser's time zone, as a date input takes it. */
function day(page, days) {
  return page.evaluate((days) => {
    const d = new Date();
    d.setDate(d.getDate() + days);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }, days);
}

function event(page, title) {
  return page.getByTestId("event").filter({ has: page.getByRole("heading", { name: title }) });
}

async function addEvent(page, { title, days, start, end = "", place = "", needed = "0", description = "" }) {
  await page.getByLabel("Naam van de activiteit").fill(title);
  await page.getByLabel("Datum").fill(await day(page, days));
  await page.getByLabel("Begintijd").fill(start);
  await page.getByLabel("Eindtijd (niet verplicht)").fill(end);
  await page.getByLabel("Plaats").fill(place);
  await page.getByLabel("Toelichting (niet verplicht)").fill(description);
  await page.getByLabel("Hoeveel vrijwilligers zoek je?").fill(needed);
  await page.getByRole("button", { name: "Toevoegen aan de agenda" }).click();
}

test("an activity needing two volunteers fills up and empties across three residents", async ({ browser }) => {
  const anna = await openAgenda(browser, "Anna");
  const bert = await openAgenda(browser, "Bert");
  await expect(anna.getByTestId("no-events")).toBeVisible();

  // Validation shows next to the fields, the first one gets the focus, nothing is added.
  await anna.getByRole("button", { name: "Toevoegen aan de agenda" }).click();
  await expect(anna.locator("#event-title-error")).toHaveText("Vul dit in.");
  await expect(anna.locator("#event-date-error")).toHaveText("Kies een datum.");
  await expect(anna.getByLabel("Naam van de activiteit")).toBeFocused();
  await expect(anna.getByLabel("Naam van de activiteit")).toHaveAttribute("aria-invalid", "true");
  await addEvent(anna, { title: "Zwerfvuil prikken", days: -1, start: "10:00", needed: "1001" });
  await expect(anna.locator("#event-start-error")).toHaveText("Dit moment is al voorbij.");
  await expect(anna.locator("#event-volunteers-error")).toHaveText("Kies een aantal van 0 tot en met 1000.");
  await addEvent(anna, { title: "Zwerfvuil prikken", days: 2, start: "10:00", end: "09:00", needed: "2" });
  await expect(anna.locator("#event-end-error")).toHaveText("De eindtijd ligt voor de begintijd.");
  await expect(anna.locator("#event-start-error")).toHaveText("");
  await expect(anna.getByTestId("event")).toHaveCount(0);

  await addEvent(anna, {
    title: "Zwerfvuil prikken",
    days: 2,
    start: "10:00",
    end: "12:00",
    place: "Dorpshuis De Bongerd",
    needed: "2",
    description: "Grijpers en zakken liggen klaar.",
  });
  await expect(anna.getByTestId("notice")).toHaveText("Zwerfvuil prikken staat in de agenda.");
  await expect(anna.getByLabel("Naam van de activiteit")).toHaveValue("");
  const mine = event(anna, "Zwerfvuil prikken");
  await expect(mine).toContainText("10:00 tot 12:00");
  await expect(mine).toContainText("Waar: Dorpshuis De Bongerd");
  await expect(mine).toContainText("Organisatie: jij");
  await expect(mine.getByTestId("volunteers")).toHaveText("0 van 2 vrijwilligers aangemeld");

  // Bert sees it live and signs up; both see the count move.
  const his = event(bert, "Zwerfvuil prikken");
  // The organiser is named by her account's name.
  await expect(his).toContainText("Organisatie: Anna");
  await expect(his).toContainText("Grijpers en zakken liggen klaar.");
  await his.getByRole("button", { name: "Ik help mee" }).click();
  await expect(bert.getByTestId("notice")).toHaveText("Je helpt mee bij Zwerfvuil prikken. Bedankt!");
  await expect(his).toContainText("Je helpt mee.");
  for (const card of [mine, his]) {
    await expect(card.getByTestId("volunteers")).toHaveText("1 van 2 vrijwilligers aangemeld");
  }
  await expect(mine.getByTestId("volunteer-names")).toHaveText("Aangemeld: Bert");

  // Carla takes the last place: the activity is full for everyone.
  const carla = await openAgenda(browser);
  const hers = event(carla, "Zwerfvuil prikken");
  await hers.getByRole("button", { name: "Ik help mee" }).click();
  for (const card of [mine, his, hers]) {
    await expect(card.getByTestId("volunteers")).toHaveText("2 van 2 vrijwilligers aangemeld");
    await expect(card.getByTestId("event-full")).toHaveText("Vol");
  }
  await expect(mine).toContainText("Er zijn genoeg vrijwilligers. Bedankt!");
  await expect(mine.getByRole("button", { name: "Ik help mee" })).toHaveCount(0);

  // Bert cannot make it after all: a place opens up again.
  await his.getByRole("button", { name: "Afmelden" }).click();
  await expect(bert.getByTestId("notice")).toHaveText("Je bent afgemeld voor Zwerfvuil prikken.");
  for (const card of [mine, his, hers]) {
    await expect(card.getByTestId("volunteers")).toHaveText("1 van 2 vrijwilligers aangemeld");
    await expect(card.getByTestId("event-full")).toBeHidden();
  }
  await expect(mine.getByRole("button", { name: "Ik help mee" })).toBeVisible();
  await expect(his.getByRole("button", { name: "Ik help mee" })).toBeVisible();
  await expect(his.getByRole("button", { name: "Afgelasten", exact: true })).toHaveCount(0);

  // Upcoming activities come by start: a sooner one goes above.
  await addEvent(bert, { title: "Koffieochtend", days: 1, start: "09:30" });
  for (const page of [anna, bert]) {
    await expect(page.getByTestId("events").getByRole("heading", { level: 3 })).toHaveText([
      "Koffieochtend",
      "Zwerfvuil prikken",
    ]);
  }
  // No volunteers asked: no count, no sign-up.
  await expect(event(anna, "Koffieochtend").getByTestId("volunteers")).toBeHidden();
  await expect(event(anna, "Koffieochtend").getByRole("button", { name: "Ik help mee" })).toHaveCount(0);

  // Anna cancels it (after confirming): it moves to the collapsed past and cancelled list.
  await mine.getByRole("button", { name: "Afgelasten", exact: true }).click();
  await expect(mine.getByRole("button", { name: "Afgelasten", exact: true })).toHaveAttribute("aria-expanded", "true");
  await mine.getByRole("button", { name: "Ja, afgelasten" }).click();
  await expect(anna.getByTestId("notice")).toHaveText("Zwerfvuil prikken is afgelast.");
  for (const page of [anna, bert, carla]) {
    await expect(page.getByTestId("events").getByTestId("event")).toHaveCount(1);
    await expect(page.getByText("Afgelopen en afgelaste activiteiten (1)")).toBeVisible();
  }
  await carla.getByText("Afgelopen en afgelaste activiteiten (1)").click();
  const cancelled = carla.getByTestId("past-events").getByTestId("event");
  await expect(cancelled.getByTestId("event-cancelled")).toHaveText("Afgelast");
  await expect(cancelled.getByRole("button")).toHaveCount(0);
  await expect(carla.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
});

test("the agenda has no accessibility violations in Dutch and English, works at 320 px, and is pictured", async ({ browser }) => {
  const anna = await openAgenda(browser);
  const bert = await openAgenda(browser);
  await addEvent(anna, {
    title: "Dorpsfeest op het Pleintje",
    days: 3,
    start: "14:00",
    end: "22:00",
    place: "Het Pleintje, Ulft",
    needed: "4",
    description: "Muziek van de fanfare, springkussen en een barbecue.",
  });
  await addEvent(bert, { title: "Repair Café", days: 5, start: "10:00", end: "13:00", place: "Bibliotheek", needed: "2" });
  await event(anna, "Repair Café").getByRole("button", { name: "Ik help mee" }).click();
  await event(bert, "Dorpsfeest op het Pleintje").getByRole("button", { name: "Ik help mee" }).click();
  await expect(event(anna, "Dorpsfeest op het Pleintje").getByTestId("volunteers")).toHaveText(
    "1 van 4 vrijwilligers aangemeld",
  );
  await expect(anna.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");

  // The screen as a resident sees it once they scroll past the menus.
  await anna.evaluate(() => document.getElementById("agenda-heading").scrollIntoView());
  await anna.screenshot({ path: docsScreenshotPath("screenshots/agenda.png") });

  const axe = () =>
    new AxeBuilder({ page: anna }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect((await axe()).violations).toEqual([]);
  // With validation errors showing too.
  await anna.getByRole("button", { name: "Toevoegen aan de agenda" }).click();
  await expect(anna.locator("#event-title-error")).toHaveText("Vul dit in.");
  expect((await axe()).violations).toEqual([]);
  await anna.getByRole("button", { name: "Switch to English" }).click();
  await expect(anna.getByRole("button", { name: "Add to the agenda" })).toBeVisible();
  await expect(event(anna, "Dorpsfeest op het Pleintje").getByTestId("volunteers")).toHaveText(
    "1 of 4 volunteers signed up",
  );
  await expect(event(anna, "Dorpsfeest op het Pleintje")).toContainText("Organised by: you");
  expect((await axe()).violations).toEqual([]);

  // 320 px: nothing sideways, and signing up still works.
  await anna.setViewportSize({ width: 320, height: 640 });
  expect(await anna.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
  await event(anna, "Repair Café").getByRole("button", { name: "Cancel my sign-up" }).click();
  await expect(anna.getByTestId("notice")).toHaveText("You are no longer signed up for Repair Café.");
  await expect(event(bert, "Repair Café").getByTestId("volunteers")).toHaveText("0 van 2 vrijwilligers aangemeld");
});
