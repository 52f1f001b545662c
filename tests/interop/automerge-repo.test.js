// Interop: JS automerge-repo clients (the reference implementation, with its WebSocket adapter)
// sync through our real server binary. Run with `node --test interop/` in tests/; it starts the
// binary named by DORPSKRACHT_SERVER_BIN (see ../support/server.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ImmutableString, Repo } from "@automerge/automerge-repo";
import { getActorId } from "@automerge/automerge";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { Server } from "../support/server.js";

const TIMEOUT = 30_000;

/**
 * A repo with no storage that talks to the server at `url` (http://host:port), signed in with
 * the session `token` if given (as `?token=`, how a client without the cookie signs in).
 */
function client(url, token) {
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  const ws = url.replace(/^http/, "ws") + "/sync" + query;
  return new Repo({ network: [new WebSocketClientAdapter(ws)] });
}

/** Signs up over the accounts API; returns the user id and the session token. */
async function signUp(url, name) {
  const response = await fetch(`${url}/api/accounts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: `${name}@example.nl`,
      password: "een lang wachtwoord voor het dorp 1923",
      display_name: name,
    }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  const token = response.headers.get("set-cookie").match(/dk_session=([^;]+)/)[1];
  const { user } = await response.json();
  return { id: user.id, token };
}

/** Registers `actor` (hex) to the signed-in user of `token`, as a device does. */
async function registerActor(url, token, actor) {
  const response = await fetch(`${url}/api/actors`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: `dk_session=${token}` },
    body: JSON.stringify({ actor }),
  });
  assert.equal(response.status, 201, await response.clone().text());
}

const sorted = (heads) => [...heads].sort();

/** A string as JS sees it: the model writes scalar strings, which JS reads as ImmutableString. */
const str = (value) => (typeof value === "string" ? value : value?.val);

/**
 * Resolves once the server has told this handle's repo that it has every change the handle
 * has: the server announces a storage id, so its heads arrive as `remote-heads` events.
 */
function storedOnServer(handle) {
  return new Promise((resolve) => {
    const check = ({ heads }) => {
      if (JSON.stringify(sorted(heads)) === JSON.stringify(sorted(handle.heads()))) {
        handle.off("remote-heads", check);
        resolve();
      }
    };
    handle.on("remote-heads", check);
  });
}

/** Resolves once `predicate(doc)` holds for the handle's document. */
function until(handle, predicate) {
  return new Promise((resolve) => {
    const check = () => {
      if (predicate(handle.doc())) {
        handle.off("change", check);
        resolve(handle.doc());
      }
    };
    handle.on("change", check);
    check();
  });
}

test("with trust off, two JS clients share a document through the server, which keeps it across a restart", { timeout: TIMEOUT }, async () => {
  const server = new Server({ trust: "off" });
  const repos = [];
  try {
    const url = await server.start();
    const alice = client(url);
    const bob = client(url);
    repos.push(alice, bob);

    const handle = alice.create({ title: "Repair café", helpers: [] });
    const stored = storedOnServer(handle);
    handle.change((d) => {
      d.helpers.push("Alice");
      d.where = "Dorpshuis Ulft";
    });
    await stored;

    const found = await bob.find(handle.url);
    assert.deepEqual(found.doc(), {
      title: "Repair café",
      helpers: ["Alice"],
      where: "Dorpshuis Ulft",
    });

    // And back: Bob's edit reaches Alice through the server's fan-out.
    const bobsEditStored = storedOnServer(found);
    found.change((d) => {
      d.helpers.push("Bob");
    });
    const seen = await until(handle, (d) => d.helpers.length === 2);
    assert.deepEqual(seen.helpers, ["Alice", "Bob"]);
    await bobsEditStored;

    await Promise.all(repos.splice(0).map((r) => r.shutdown()));
    await server.stop();
    const url2 = await server.start();
    const carol = client(url2);
    repos.push(carol);
    const again = await carol.find(handle.url);
    assert.deepEqual(again.doc(), {
      title: "Repair café",
      helpers: ["Alice", "Bob"],
      where: "Dorpshuis Ulft",
    });
  } finally {
    await Promise.all(repos.map((r) => r.shutdown()));
    await server.dispose();
  }
});

test("an anonymous JS client finds the documents /api/bootstrap names", { timeout: TIMEOUT }, async () => {
  const server = new Server({ trust: "on" });
  let repo;
  try {
    const url = await server.start();
    const bootstrap = await (await fetch(`${url}/api/bootstrap`)).json();
    repo = client(url);
    const municipality = await repo.find(bootstrap.municipality);
    assert.equal(str(municipality.doc().name), bootstrap.name);
    const village = await repo.find(bootstrap.villages[0].doc);
    assert.equal(str(village.doc().village_id), bootstrap.villages[0].id);
  } finally {
    await repo?.shutdown();
    await server.dispose();
  }
});

test("a JS client asking for a document nobody has is told it is unavailable", { timeout: TIMEOUT }, async () => {
  const server = new Server({ trust: "on" });
  let repo;
  try {
    const url = await server.start();
    repo = client(url);
    const nobodys = new Repo({ network: [] }).create({ secret: true }).url;
    await assert.rejects(repo.find(nobodys), /unavailable/i);
  } finally {
    await repo?.shutdown();
    await server.dispose();
  }
});

test("with trust on, a JS client with a session token and its registered actor writes; an anonymous one reads it live", { timeout: TIMEOUT }, async () => {
  const server = new Server({ trust: "on" });
  const repos = [];
  try {
    const url = await server.start();
    const bootstrap = await (await fetch(`${url}/api/bootstrap`)).json();
    const village = bootstrap.villages[0].doc;
    const reader = client(url);
    repos.push(reader);
    const watched = await reader.find(village);

    const anna = await signUp(url, "anna");
    const writer = client(url, anna.token);
    repos.push(writer);
    const handle = await writer.find(village);
    // The device's actor is the one its document writes with; the server binds it to Anna.
    await registerActor(url, anna.token, getActorId(handle.doc()));
    const stored = storedOnServer(handle);
    handle.change((d) => {
      d.volunteers[anna.id] = {
        author: new ImmutableString(anna.id),
        created_at: Date.now(),
      };
    });
    await stored;
    const seen = await until(watched, (d) => d.volunteers?.[anna.id] !== undefined);
    assert.equal(str(seen.volunteers[anna.id].author), anna.id);
  } finally {
    await Promise.all(repos.map((r) => r.shutdown()));
    await server.dispose();
  }
});

test("with trust on, an anonymous JS client's change is refused and reaches nobody", { timeout: TIMEOUT }, async () => {
  const server = new Server({ trust: "on" });
  const repos = [];
  try {
    const url = await server.start();
    const bootstrap = await (await fetch(`${url}/api/bootstrap`)).json();
    const village = bootstrap.villages[0].doc;
    const intruder = client(url);
    repos.push(intruder);
    const handle = await intruder.find(village);
    handle.change((d) => {
      d.volunteers.intruder = { author: new ImmutableString("intruder") };
    });
    // A fresh anonymous reader, after the server has had time to refuse it, finds none of it.
    await new Promise((r) => setTimeout(r, 1000));
    const reader = client(url);
    repos.push(reader);
    const fresh = await reader.find(village);
    assert.equal(fresh.doc().volunteers.intruder, undefined);
  } finally {
    await Promise.all(repos.map((r) => r.shutdown()));
    await server.dispose();
  }
});
