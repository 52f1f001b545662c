// A loopback TCP proxy in front of the test server, so a test can cut one browser off for real:
// `stop()` stops listening and destroys every open connection (the WebSocket sees its TCP
// connection close, new connections are refused), `start()` listens again on the same port.
// Everything the page loads (the app, /api, /sync) shares that origin, so all of it goes
// through here.
import net from "node:net";

export class Proxy {
  /** @param {string} target the server's `http://host:port` */
  constructor(target) {
    const { hostname, port } = new URL(target);
    this.host = hostname;
    this.targetPort = Number(port);
    this.port = 0;
    this.server = null;
    this.sockets = new Set();
    this.url = null;
  }

  /** Starts listening (on the same port as before after a `stop()`); resolves with the URL. */
  async start() {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.host);
      for (const [socket, other] of [
        [client, upstream],
        [upstream, client],
      ]) {
        this.sockets.add(socket);
        socket.on("close", () => {
          this.sockets.delete(socket);
          other.destroy();
        });
        socket.on("error", () => other.destroy());
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
    this.port = server.address().port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this.url;
  }

  /** Stops listening and closes every open connection; resolves once all are gone. */
  async stop() {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  /** How many connections are open right now (both sides counted once per side). */
  get connections() {
    return this.sockets.size;
  }
}
