// A change the server refuses, and how the app recovers. Anna administers an association; while
// she is cut off (her only way to the server is a loopback proxy the test stops), Bert, its
// other admin, takes her admin role away. Anna's device does not know yet: she edits the
// association's profile, then registers a new association (a change built on the first). When
// the connection is back the server refuses the profile edit. Her app says so, undoes that edit
// and keeps the new association, which reaches everyone; nothing is sent, or refused, again.
import { test, expect } from "@playwright/test";
import { Server } from "../support/server.js";
import { signedInContext, expectAccessibleInBothLanguages } from "../support/resident.js";
import { Proxy } from "../support/proxy.js";
import { registerAssociation } from "../support/associations.js";

let server;
let proxy;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
  proxy = new Proxy(server.url);
  await proxy.start();
});
test.afterEach(async () => {
  await proxy.stop();
  await server.dispose();
});

function associationNames(page) {
  return page.getByTestId("association").getByRole("heading");
}

test("a refused change is shown and undone; the edits made after it still arrive", async ({ browser }) => {
  test.setTimeout(120_000);
  const annaContext = await signedInContext(browser, server, {}, { name: "Anna" });
  const anna = await annaContext.newPage();
  await anna.goto(`${proxy.url}/verenigingen`);
  await expect(anna.getByTestId("online")).toHaveText("Online");
  await registerAssociation(anna, "Fanfare Crescendo");
  const association = new URL(anna.url()).pathname.split("/").pop();
  const annaId = await anna.evaluate(() => localStorage.getItem("dorpskracht.user"));

  // Anna makes Bert an admin too, through an invite link.
  const bertContext = await signedInContext(browser, server, {}, { name: "Bert" });
  const invite = await annaContext.request.post(`${server.url}/api/invites`, {
    data: { kind: "association_admin", target: association },
  });
  expect(invite.status()).toBe(201);
  const token = (await invite.json()).url.split("/").pop();
  expect((await bertContext.request.post(`${server.url}/api/invites/${token}/accept`)).ok()).toBe(true);
  await expect(anna.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");

  // Cut off, Anna does not hear that Bert takes her admin role away.
  await proxy.stop();
  await expect(anna.getByTestId("online")).toHaveText("Offline");
  const revoked = await bertContext.request.delete(`${server.url}/api/roles`, {
    data: { user_id: annaId, kind: "association_admin", target: association },
  });
  expect(revoked.status()).toBe(204);

  // Her device still lets her edit the profile; then she registers another association.
  const edit = anna.getByTestId("edit-association");
  await edit.getByLabel("Website").fill("crescendo-ulft.example");
  await edit.getByRole("button", { name: "Profiel opslaan" }).click();
  await expect(anna.getByTestId("notice")).toHaveText("Het profiel is opgeslagen.");
  await expect(anna.getByRole("link", { name: "crescendo-ulft.example" })).toBeVisible();
  await registerAssociation(anna, "Buurtmoestuin Ulft");
  await expect(anna.getByTestId("synced")).toHaveText("2 wijziging(en) wachten op verbinding");

  // Back online: the server refuses the profile edit; the app says so, in both languages.
  await proxy.start();
  const refused = anna.getByTestId("refused");
  await expect(refused).toContainText("De server heeft een wijziging van je niet aangenomen: je mag dit niet (meer) wijzigen.");
  await expect(refused.getByText("Wat de server zei")).toBeVisible();
  // The new association, rebuilt on the server's copy, goes through; nothing stays waiting.
  await expect(anna.getByTestId("online")).toHaveText("Online");
  await expect(anna.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  await expectAccessibleInBothLanguages(anna, (p) => p.getByText("The server did not accept one of your changes", { exact: false }));

  // On Anna's device the profile edit is undone and her admin tools are gone.
  await anna.getByRole("link", { name: "Verenigingen", exact: true }).click();
  await expect(associationNames(anna)).toHaveCount(2);
  await anna.getByRole("link", { name: "Fanfare Crescendo" }).click();
  await expect(anna.getByTestId("association-name")).toHaveText("Fanfare Crescendo");
  await expect(anna.getByRole("link", { name: "crescendo-ulft.example" })).toHaveCount(0);
  await expect(anna.getByTestId("edit-association")).toHaveCount(0);

  // Bert, and the server, have the new association and not the refused edit.
  const bert = await bertContext.newPage();
  await bert.goto(`${server.url}/verenigingen`);
  await expect(associationNames(bert)).toHaveCount(2);
  await expect(bert.getByRole("link", { name: "Buurtmoestuin Ulft" })).toBeVisible();
  await bert.getByRole("link", { name: "Fanfare Crescendo" }).click();
  await expect(bert.getByTestId("association-name")).toHaveText("Fanfare Crescendo");
  await expect(bert.getByRole("link", { name: "crescendo-ulft.example" })).toHaveCount(0);

  // The message stays until Anna closes it; the connection stays up (nothing refused again).
  await refused.getByRole("button", { name: "Sluiten" }).click();
  await expect(refused).toBeEmpty();
  await anna.waitForTimeout(1500);
  await expect(refused).toBeEmpty();
  await expect(anna.getByTestId("online")).toHaveText("Online");
});
