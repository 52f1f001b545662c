// Offline together: resident A reaches the server only through a loopback TCP proxy, which the
// test stops (every open connection closed, new ones refused) and later restarts on the same
// port; resident B is connected directly the whole time. While A is cut off, A posts a help
// request, comments on a board post and types a paragraph into an initiative's plan, while B types another paragraph into
// the same plan and posts news, and A comments on B's board post. A closes and reopens the app while still cut off and finds
// everything typed (from IndexedDB, the app from the service worker). When the connection is
// back, both converge on one plan with both paragraphs and both see every post.
import { test, expect } from "@playwright/test";
import { Server } from "../support/server.js";
import { signedInContext } from "../support/resident.js";
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

const editor = (page) => page.getByTestId("plan-editor");

async function typeAtEnd(page, text) {
  await editor(page).click();
  await editor(page).press("Control+End");
  await editor(page).pressSequentially(text, { delay: 30 });
}

function boardPost(page, text) {
  return page.getByTestId("board-post").filter({ hasText: text });
}

function helpCard(page, title) {
  return page.getByTestId("help-post").filter({ has: page.getByRole("heading", { name: title }) });
}

test("A works cut off while B works online; A's work survives a restart and both converge", async ({ browser }) => {
  test.setTimeout(180_000);
  const title = "Oranjefeest Ulft";
  const start = "Het Oranjefeest op 27 april.\n";

  // A, through the proxy: the app, the service worker and /sync all come through it.
  const annaContext = await signedInContext(browser, server);
  let anna = await annaContext.newPage();
  await anna.goto(`${proxy.url}/dorp/ulft/initiatieven`);
  await expect(anna.getByTestId("online")).toHaveText("Online");
  await anna.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => anna.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await anna.getByText("Een initiatief starten").click();
  await anna.getByLabel("Naam van het initiatief").fill(title);
  await anna.getByLabel("Plan", { exact: true }).fill(start);
  await anna.getByRole("button", { name: "Initiatief starten" }).click();
  await anna.getByRole("link", { name: title }).click();
  await expect(editor(anna)).toHaveValue(start);
  const path = new URL(anna.url()).pathname;

  // B, directly: administers the Oranjevereniging, which joins as partner, so B may edit too.
  const bert = await (await signedInContext(browser, server)).newPage();
  await bert.goto(`${server.url}/dorp/ulft/initiatieven`);
  await expect(bert.getByTestId("online")).toHaveText("Online");
  await registerAssociation(bert, "Oranjevereniging Ulft");
  await bert.goto(`${server.url}${path}`);
  await bert.getByRole("button", { name: "Meedoen als partner met Oranjevereniging Ulft" }).click();
  await expect(editor(bert)).toHaveValue(start);
  await expect(anna.getByTestId("partners")).toHaveText("Partners: Oranjevereniging Ulft");

  // B asks something on the board; A has it before the cut.
  const question = "Wie heeft er een partytent te leen voor de vrijmarkt?";
  await bert.getByRole("link", { name: "Prikbord", exact: true }).click();
  await bert.getByLabel("Wat wil je delen?").fill(question);
  await bert.getByRole("button", { name: "Plaatsen" }).click();
  await expect(boardPost(bert, question)).toBeVisible();
  await bert.goBack();
  await expect(editor(bert)).toHaveValue(start);
  await anna.getByRole("link", { name: "Prikbord", exact: true }).click();
  await expect(boardPost(anna, question)).toBeVisible();

  // The cut: A's connections close for real.
  await proxy.stop();
  await expect(anna.getByTestId("online")).toHaveText("Offline");

  // A posts a help request while cut off.
  await anna.getByRole("link", { name: "Hulp", exact: true }).click();
  const request = "Wie leent me een ladder voor de vlaggen?";
  await anna.getByLabel("Waarmee?").fill(request);
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(helpCard(anna, request)).toContainText("Van jou");

  // A answers B's board post while cut off.
  const answer = "Wij hebben er een, ik breng hem zaterdag.";
  await anna.getByRole("link", { name: "Prikbord", exact: true }).click();
  await boardPost(anna, question).getByLabel("Schrijf een reactie").fill(answer);
  await boardPost(anna, question).getByRole("button", { name: "Reageren" }).click();
  await expect(boardPost(anna, question).getByTestId("comment")).toContainText(answer);

  // At the same time, both type a paragraph into the plan; B also posts news.
  await anna.getByRole("link", { name: "Initiatieven", exact: true }).click();
  await anna.getByRole("link", { name: title }).click();
  const annaText = "Anna zorgt voor de vrijmarkt in de Hoofdstraat.\n";
  const bertText = "De Oranjevereniging regelt de aubade bij het gemeentehuis.\n";
  const news = "De vergunning voor de vrijmarkt is aangevraagd.";
  await Promise.all([
    typeAtEnd(anna, annaText),
    (async () => {
      await typeAtEnd(bert, bertText);
      await bert.getByLabel("Nieuws delen").fill(news);
      await bert.getByRole("button", { name: "Plaatsen" }).click();
      await expect(bert.getByTestId("update")).toContainText(news);
    })(),
  ]);
  await expect(editor(anna)).toHaveValue(start + annaText);
  await expect(anna.getByTestId("saved")).toHaveText("Opgeslagen op dit apparaat");
  await expect(anna.getByTestId("synced")).toContainText("wachten op verbinding");

  // A closes the app and opens it again, still cut off: everything typed is there.
  await anna.close();
  anna = await annaContext.newPage();
  await anna.goto(`${proxy.url}${path}`);
  await expect(editor(anna)).toHaveValue(start + annaText);
  await expect(anna.getByTestId("online")).toHaveText("Offline");
  await anna.getByRole("link", { name: "Hulp", exact: true }).click();
  await expect(helpCard(anna, request)).toContainText("Van jou");
  await anna.getByRole("link", { name: "Prikbord", exact: true }).click();
  await expect(boardPost(anna, question).getByTestId("comment")).toContainText(answer);
  await anna.goto(`${proxy.url}${path}`);
  await expect(editor(anna)).toHaveValue(start + annaText);

  // The connection is back: one plan with both paragraphs on both sides, every post seen.
  await proxy.start();
  await expect(anna.getByTestId("online")).toHaveText("Online", { timeout: 40_000 });
  await expect(anna.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");
  const value = (page) => editor(page).inputValue();
  await expect
    .poll(async () => {
      const [a, b] = [await value(anna), await value(bert)];
      return a === b && a.includes(annaText) && a.includes(bertText);
    })
    .toBe(true);
  const plan = await value(anna);
  expect(plan.startsWith(start)).toBe(true);
  expect(plan.length).toBe(start.length + annaText.length + bertText.length);
  await expect(anna.getByTestId("update")).toContainText(news);
  await bert.getByRole("link", { name: "Hulp", exact: true }).click();
  await expect(helpCard(bert, request)).toBeVisible();
  await bert.getByRole("link", { name: "Prikbord", exact: true }).click();
  await expect(boardPost(bert, question).getByTestId("comment")).toContainText(answer);
});
