// A stock JS automerge-repo sync server, set up as automerge-repo-sync-server does (a Repo with
// the WebSocket server adapter, sharePolicy false), for `cargo bench -p sync-server --bench
// sync` to compare ours against. It keeps documents in memory: the NodeFS storage adapter is not
// among tests/'s packages. Listens on a free loopback port and prints `ws://127.0.0.1:<port>`.
import { once } from "node:events";
import { WebSocketServer } from "ws";
import { Repo } from "@automerge/automerge-repo";
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket";

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
await once(wss, "listening");
new Repo({
  network: [new NodeWSServerAdapter(wss)],
  peerId: "js-sync-server",
  sharePolicy: async () => false,
});
console.log(`ws://127.0.0.1:${wss.address().port}`);
process.on("SIGTERM", () => process.exit(0));
