// Who wrote what: a resident signs up in the app, signs out and in again, and asks for help;
// the post carries her account's name, also once she has signed out. Another resident sees the
// name and none of the author's controls, and a change crafted outside the app with his session
// (a JS automerge-repo client with his registered actor) that rewrites her title is refused by
// the server: the app, and a fresh reader, keep the original.
import { test, expect } from "@playwright/test";
import { ImmutableString, Repo, cbor } from "@automerge/automerge-repo";
import { getActorId } from "@automerge/automerge";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { Server } from "../support/server.js";
import { signedInContext } from "../support/resident.js";

let server;
test.beforeEach(async () => {
  server = new Server();
  await server.start();
});
test.afterEach(async () => {
  await server.dispose();
});

const PASSWORD = "Ulft-aan-de-Oude-IJssel-2026";
const TITLE = "Wie helpt mij de heg te knippen?";

function card(page, title) {
  return page.getByTestId("help-post").filter({ has: page.getByRole("heading", { name: title }) });
}

async function openHelp(page) {
  await page.goto(`${server.url}/dorp/ulft/hulp`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Ulft");
  await expect(page.getByTestId("online")).toHaveText("Online");
}

/** A JS automerge-repo client of the server, signed in with session `token` if given; the
 *  `error` messages the server sends it and whether it was disconnected are recorded. */
function jsClient(token) {
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  const adapter = new WebSocketClientAdapter(server.url.replace(/^http/, "ws") + "/sync" + query);
  const seen = { errors: [], disconnects: 0 };
  adapter.on("peer-disconnected", () => seen.disconnects++);
  // The adapter only logs the server's `error` messages: listen on its socket too (it opens
  // a new one on every reconnect).
  let watched = null;
  const watch = setInterval(() => {
    const socket = adapter.socket;
    if (!socket || socket === watched) return;
    watched = socket;
    socket.addEventListener("message", (event) => {
      try {
        const message = cbor.decode(new Uint8Array(event.data));
        if (message.type === "error") seen.errors.push(message.message);
      } catch {
        // Not ours to judge: the adapter handles what it can decode.
      }
    });
  }, 5);
  const repo = new Repo({ network: [adapter] });
  return { repo, seen, stop: () => (clearInterval(watch), repo.shutdown()) };
}

/** Resolves with the handle's document once `ready(doc)` holds. */
function until(handle, ready) {
  return new Promise((resolve) => {
    const check = () => {
      const doc = handle.doc();
      if (doc && ready(doc)) {
        handle.off("change", check);
        resolve(doc);
      }
    };
    handle.on("change", check);
    check();
  });
}

const str = (value) => (typeof value === "string" ? value : value?.val);

test("a post carries its author's account name; another resident can neither change it in the app nor with a crafted change", async ({ browser }) => {
  // Anna signs up in the app, signs out, and signs in again.
  const annaContext = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const anna = await annaContext.newPage();
  await anna.goto(`${server.url}/aanmelden`);
  await anna.getByLabel("Je naam, zoals buren die zien").fill("Anna de Vries");
  await anna.getByLabel("E-mailadres").fill("anna@example.nl");
  await anna.getByLabel("Wachtwoord").fill(PASSWORD);
  await anna.getByRole("button", { name: "Account aanmaken" }).click();
  await expect(anna.getByTestId("signed-in-as")).toContainText("Anna de Vries");
  await anna.getByRole("button", { name: "Uitloggen" }).click();
  await expect(anna.getByTestId("signed-in-as")).toBeHidden();
  await anna.getByTestId("account-section").getByRole("link", { name: "Inloggen" }).click();
  await anna.getByLabel("E-mailadres").fill("anna@example.nl");
  await anna.getByLabel("Wachtwoord").fill(PASSWORD);
  await anna.getByRole("button", { name: "Inloggen" }).click();
  await expect(anna.getByTestId("signed-in-as")).toContainText("Anna de Vries");

  // She asks for help; her own post says it is hers.
  await openHelp(anna);
  await anna.getByLabel("Waarmee?").fill(TITLE);
  await anna.getByLabel("Soort hulp").selectOption({ label: "Tuin" });
  await anna.getByRole("button", { name: "Plaatsen" }).click();
  await expect(card(anna, TITLE)).toContainText("Van jou");
  await expect(card(anna, TITLE).getByRole("button", { name: "Intrekken" })).toBeVisible();
  await expect(anna.getByTestId("synced")).toHaveText("Alles gesynchroniseerd");

  // Signed out, the device is nobody's: the post shows its author by her account's name.
  await anna.getByTestId("nav-me").click();
  await anna.getByRole("button", { name: "Uitloggen" }).click();
  await expect(anna.getByTestId("signin-link")).toBeVisible();
  await openHelp(anna);
  await expect(card(anna, TITLE)).toContainText("Van Anna de Vries");
  await expect(card(anna, TITLE).getByRole("button", { name: "Intrekken" })).toHaveCount(0);

  // Bert sees her name and can respond, but has none of her controls.
  const bertContext = await signedInContext(browser, server, { viewport: { width: 390, height: 844 } }, { name: "Bert" });
  const bert = await bertContext.newPage();
  await openHelp(bert);
  await expect(card(bert, TITLE)).toContainText("Van Anna de Vries");
  await expect(card(bert, TITLE).getByRole("button", { name: "Ik help" })).toBeVisible();
  await expect(card(bert, TITLE).getByRole("button", { name: "Intrekken" })).toHaveCount(0);

  // Outside the app, with Bert's session and an actor registered to him, a JS client first
  // makes a change Bert may make (his own volunteer profile): the server takes it.
  const bertId = await bert.evaluate(() => localStorage.getItem("dorpskracht.user"));
  const token = (await bertContext.cookies()).find((c) => c.name === "dk_session").value;
  const bootstrap = await (await fetch(`${server.url}/api/bootstrap`)).json();
  const village = bootstrap.villages.find((v) => v.id === "ulft").doc;
  const crafted = jsClient(token);
  const reader = jsClient();
  try {
    const handle = await crafted.repo.find(village);
    const doc = await until(handle, (d) => Object.values(d.help_posts ?? {}).some((p) => str(p.title) === TITLE));
    const postId = Object.keys(doc.help_posts).find((id) => str(doc.help_posts[id].title) === TITLE);
    const registered = await fetch(`${server.url}/api/actors`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: `dk_session=${token}` },
      body: JSON.stringify({ actor: getActorId(handle.doc()) }),
    });
    expect(registered.status).toBe(201);
    const watched = await reader.repo.find(village);
    handle.change((d) => {
      d.volunteers[bertId] = { author: new ImmutableString(bertId), created_at: Date.now() };
    });
    await until(watched, (d) => d.volunteers?.[bertId] !== undefined);
    expect(crafted.seen.errors).toEqual([]);

    // Then it rewrites Anna's title: refused with an error, and the connection is closed.
    handle.change((d) => {
      d.help_posts[postId].title = new ImmutableString("Gekaapt door Bert");
    });
    await expect.poll(() => crafted.seen.errors.length, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(crafted.seen.errors[0]).toMatch(/change( [0-9a-f]{64})? refused/);
    await expect.poll(() => crafted.seen.disconnects, { timeout: 15_000 }).toBeGreaterThan(0);
    // The reader that is subscribed to the village never got the change.
    expect(str(watched.doc().help_posts[postId].title)).toBe(TITLE);
  } finally {
    await crafted.stop();
    await reader.stop();
  }

  // The app keeps the original on Anna's and Bert's devices, and a fresh reader gets it too.
  for (const page of [anna, bert]) {
    await expect(card(page, TITLE)).toBeVisible();
    await expect(card(page, "Gekaapt door Bert")).toHaveCount(0);
  }
  const fresh = await (await browser.newContext()).newPage();
  await openHelp(fresh);
  await expect(card(fresh, TITLE)).toContainText("Van Anna de Vries");
  await expect(card(fresh, "Gekaapt door Bert")).toHaveCount(0);
});
