// The device keeps what it holds: Ik says whether the browser keeps this device's copy, and a
// device that is full makes room by dropping a cached village the resident does not follow
// (it comes back from the server), never a change that waits for the server. The quota is
// the browser's own, set small through the DevTools protocol (Storage.overrideQuotaForOrigin).
import { test, expect } from "@playwright/test";
import { Server } from "../support/server.js";
import { resident, expectAccessibleInBothLanguages } from "../support/resident.js";

let server;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

/** The keys IndexedDB holds for the document `id` (automerge-repo's layout: `[id, kind, name]`). */
async function storedKeys(page, id) {
  return page.evaluate(async (id) => {
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open("automerge");
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const keys = await new Promise((resolve, reject) => {
      const request = db.transaction("documents").objectStore("documents").getAllKeys();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    db.close();
    return keys.filter((key) => key[0] === id).map((key) => key.join("/"));
  }, id);
}

async function villageDocument(page, village) {
  const response = await page.request.get(`${server.url}/api/bootstrap`);
  const { villages } = await response.json();
  return villages.find((v) => v.id === village).doc.replace("automerge:", "");
}

test("Ik says whether this device keeps its copy, in both languages", async ({ browser }) => {
  const page = await resident(browser, server, { path: "/ik" });
  await expect(page.getByTestId("online")).toHaveText("Online");
  // What Ik shows follows the browser's answer (which may change once the app asked).
  const shown = page.getByTestId("me-storage");
  await expect
    .poll(async () => {
      const persisted = await page.evaluate(() => navigator.storage.persisted());
      const text = await shown.textContent();
      return persisted
        ? text === "Dit apparaat bewaart je gegevens blijvend."
        : text.startsWith("De browser mag de gegevens op dit apparaat wissen");
    })
    .toBe(true);
  await expectAccessibleInBothLanguages(page, (p) => p.getByRole("heading", { name: "Me", exact: true }));
});

test("a full device drops a cached village it does not follow to keep a new post", async ({ browser }) => {
  const page = await resident(browser, server, { path: "/dorp/etten" });
  await expect(page.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  const etten = await villageDocument(page, "etten");
  await expect.poll(() => storedKeys(page, etten)).not.toEqual([]);

  // The next start, in the resident's own village: Etten is on the device but not open.
  await page.goto(`${server.url}/dorp/ulft/hulp`);
  await expect(page.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  const cdp = await page.context().newCDPSession(page);
  const { usage } = await page.evaluate(() => navigator.storage.estimate());
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.url, quotaSize: usage });

  await page.getByLabel("Waarmee?").fill("Wie rijdt mee naar het ziekenhuis?");
  await page.getByRole("button", { name: "Plaatsen" }).click();
  const card = page.getByTestId("help-post").filter({
    has: page.getByRole("heading", { name: "Wie rijdt mee naar het ziekenhuis?" }),
  });
  await expect(card).toBeVisible();
  await expect(page.getByTestId("saved")).toHaveText("Opgeslagen op dit apparaat");
  await expect(page.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  await expect(page.locator(".error-line")).toHaveText("");
  expect(await storedKeys(page, etten)).toEqual([]);

  // Stored, not only in memory: it is there after a restart, and Etten comes back from the
  // server when opened again.
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.url });
  await page.reload();
  await expect(card).toBeVisible();
  await page.goto(`${server.url}/dorp/etten`);
  await expect(page.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  await expect.poll(() => storedKeys(page, etten)).not.toEqual([]);
});
