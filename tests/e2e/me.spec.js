// Ik, the resident's own page: the volunteer profile (name, categories, times) saved in the
// village document so neighbours see the name, the resident's posts and responses, the
// language setting and followed villages kept on the device for offline use.
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

async function resident(browser, path = "/dorp/ulft/hulp") {
  const context = await signedInContext(browser, server, { viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${server.url}${path}`);
  await expect(page.getByTestId("online")).toHaveText("Online");
  return page;
}

async function openMe(page) {
  await page.getByTestId("nav-me").click();
  await expect(page).toHaveURL(/\/ik$/);
  await expect(page.getByLabel("Naam die buren zien")).toBeVisible();
}

function helpCard(page, title) {
  return page.getByTestId("help-post").filter({ has: page.getByRole("heading", { name: title }) });
}

test("a profile set on Ik is what neighbours see, and Ik lists posts and responses", async ({ browser }) => {
  const anna = await resident(browser);
  await expect(anna.getByRole("button", { name: "Plaatsen" })).toBeVisible();
  await anna.getByLabel("Waarmee?").fill("Hulp met mijn nieuwe telefoon");
  await anna.getByLabel("Soort hulp", { exact: true }).selectOption({ label: "Computer en formulieren" });
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(helpCard(anna, "Hulp met mijn nieuwe telefoon")).toBeVisible();

  await openMe(anna);
  await expect(anna.getByLabel("Mijn dorp")).toHaveValue("ulft");
  // Availability is checked next to its fields before anything is saved.
  const windowError = anna.locator("#me-window-error");
  await anna.getByRole("button", { name: "Tijd toevoegen" }).click();
  await expect(windowError).toHaveText("Vul een datum en een begin- en eindtijd in.");
  await anna.getByLabel("Datum").fill("2026-12-01");
  await anna.getByLabel("Van", { exact: true }).fill("12:00");
  await anna.getByLabel("Tot", { exact: true }).fill("09:00");
  await anna.getByRole("button", { name: "Tijd toevoegen" }).click();
  await expect(windowError).toHaveText("De eindtijd moet na de begintijd liggen.");
  await anna.getByLabel("Van", { exact: true }).fill("09:00");
  await anna.getByLabel("Tot", { exact: true }).fill("12:00");
  await anna.getByRole("button", { name: "Tijd toevoegen" }).click();
  await expect(windowError).toHaveText("");
  await expect(anna.getByTestId("me-window")).toHaveCount(1);
  await expect(anna.getByTestId("me-window")).toContainText("09:00");

  await anna.getByLabel("Naam die buren zien").fill("Anna Jansen");
  await anna.getByLabel("Boodschappen").check();
  await anna.getByLabel("Gezelschap").check();
  await anna.getByRole("button", { name: "Profiel opslaan" }).click();
  await expect(anna.getByTestId("profile-notice")).toHaveText("Je profiel is opgeslagen.");
  await expect(anna.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");

  // My posts, with their status, linking to where they live.
  const post = anna.getByTestId("me-posts").getByTestId("activity");
  await expect(post).toHaveCount(1);
  await expect(post).toContainText("Hulp met mijn nieuwe telefoon");
  await expect(post).toContainText("Open");
  await expect(post.getByRole("link")).toHaveAttribute("href", "/dorp/ulft/hulp");

  // The profile comes back from the document on the device.
  await anna.reload();
  await expect(anna.getByLabel("Naam die buren zien")).toHaveValue("Anna Jansen");
  await expect(anna.getByLabel("Boodschappen")).toBeChecked();
  await expect(anna.getByLabel("Gezelschap")).toBeChecked();
  await expect(anna.getByLabel("Tuin")).not.toBeChecked();
  await expect(anna.getByTestId("me-window")).toHaveCount(1);

  // A neighbour sees Anna's name on her help post, responds, and finds it on his own Ik.
  const bert = await resident(browser);
  const card = helpCard(bert, "Hulp met mijn nieuwe telefoon");
  await expect(card).toContainText("Anna Jansen");
  await card.getByRole("button", { name: "Ik help" }).click();
  await expect(card).toContainText("Je hebt gereageerd.");
  await openMe(bert);
  const response = bert.getByTestId("me-responses").getByTestId("activity");
  await expect(response).toContainText("Hulp met mijn nieuwe telefoon");
  await expect(response).toContainText("Wacht op antwoord");
  await expect(bert.getByTestId("me-posts").getByTestId("activity")).toHaveCount(0);

  // Anna accepts; Bert's Ik says so without a reload.
  await anna.getByRole("link", { name: "Hulp met mijn nieuwe telefoon" }).click();
  await helpCard(anna, "Hulp met mijn nieuwe telefoon").getByRole("button", { name: "Accepteren" }).click();
  await expect(response).toContainText("Je hulp is aangenomen");
});

test("Ik has no accessibility violations in Dutch and English, fits 320 px, and its language setting is the header's", async ({ browser }) => {
  const page = await resident(browser);
  await openMe(page);
  await expect(page.getByTestId("account-section")).toContainText("Je bent niet ingelogd");
  await page.getByLabel("Naam die buren zien").fill("Gerrit");
  await page.getByLabel("Vervoer").check();
  await page.getByRole("button", { name: "Profiel opslaan" }).click();
  await expect(page.getByTestId("profile-notice")).toHaveText("Je profiel is opgeslagen.");
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: docsScreenshotPath("screenshots/me.png") });

  const axe = () =>
    new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect((await axe()).violations).toEqual([]);

  // The setting and the header toggle are one and the same.
  await page.getByRole("radio", { name: "English" }).check();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Me");
  await expect(page.getByTestId("language-toggle")).toHaveText("Nederlands");
  await expect(page.getByLabel("Name neighbours see")).toHaveValue("Gerrit");
  expect((await axe()).violations).toEqual([]);
  await page.getByTestId("language-toggle").click();
  await expect(page.getByRole("radio", { name: "Nederlands" })).toBeChecked();

  await page.setViewportSize({ width: 320, height: 640 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
});

test("a followed village is kept on the device and opens offline", async ({ browser }) => {
  const page = await resident(browser);
  await openMe(page);
  await page.getByTestId("me-follow").getByLabel("Gendringen").check();
  const doc = await page.evaluate(async () => {
    const b = await (await fetch("/api/bootstrap")).json();
    return b.villages.find((v) => v.id === "gendringen").doc.replace("automerge:", "");
  });
  // Gendringen's document arrives in IndexedDB without visiting it: a chunk of the document
  // itself, not only the sync state the repo may store first.
  await page.waitForFunction(
    (id) =>
      new Promise((resolve) => {
        const open = indexedDB.open("automerge");
        open.onsuccess = () => {
          const db = open.result;
          const get = db
            .transaction("documents")
            .objectStore("documents")
            .getAllKeys(IDBKeyRange.bound([id], [id, []]));
          get.onsuccess = () =>
            resolve(get.result.some((key) => key[1] === "incremental" || key[1] === "snapshot"));
          get.onerror = () => resolve(false);
        };
        open.onerror = () => resolve(false);
      }),
    doc,
  );
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  await server.stop();
  await expect(page.getByTestId("online")).toHaveText("Offline");
  await page.reload();
  await expect(page.getByTestId("me-follow").getByLabel("Gendringen")).toBeChecked();
  await page.goto(`${server.url}/dorp/gendringen/hulp`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Gendringen");
  await expect(page.getByRole("button", { name: "Plaatsen" })).toBeVisible();
  await expect(page.getByTestId("online")).toHaveText("Offline");
});
