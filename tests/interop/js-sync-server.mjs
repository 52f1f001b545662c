// A stock JS automerge-repo sync server, set up as automerge-repo-sync-server does (a Repo with
// the WebSocket server adapter, NodeFS storage, sharePolicy false), for `cargo xtask bench sync`
// to compare ours against. Stores documents in the folder given as the first argument (or a
// fresh temporary one, removed on SIGTERM), listens on a free loopback port and prints
// `ws://127.0.0.1:<port>`.
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import { Repo } from "@automerge/automerge-repo";
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";

const ownDir = process.argv[2] === undefined;
const dataDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "js-sync-server-"));
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
await once(wss, "listening");
const repo = new Repo({
  network: [new NodeWSServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dataDir),
  peerId: "js-sync-server",
  sharePolicy: async () => false,
});
// With storage, the repo connects its network adapters only once it has read (or created) its
// storage id; a peer that joins before then gets no answer. Announce the URL once it has.
await repo.storageId();
console.log(`ws://127.0.0.1:${wss.address().port}`);
process.on("SIGTERM", () => {
  if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
});
