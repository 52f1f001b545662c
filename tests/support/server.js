// Starts the real sync server (the binary `cargo xtask test` built) on a free loopback port,
// with its own data folder, and stops or restarts it on demand.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const BIN = process.env.DORPSKRACHT_SERVER_BIN ?? resolve(here, "../../target/debug/sync-server");
const DIST = process.env.DORPSKRACHT_DIST ?? resolve(here, "../../dist");

export class Server {
  /**
   * `seed`: a municipality seed file (TOML) instead of the server's default. `trust`: "on"
   * (the binary's default, and what the e2e tests run against: anonymous peers only read,
   * changes need an account and its registered actor; residents sign up first, see
   * `signedInContext`) or "off" (everyone writes, as automerge-repo's own server).
   */
  constructor({ seed, trust = "on" } = {}) {
    this.seed = seed ? resolve(seed) : null;
    this.trust = trust;
    this.data = mkdtempSync(join(tmpdir(), "dorpskracht-e2e-"));
    this.addr = "127.0.0.1:0";
    this.child = null;
    this.url = null;
    /** The invites the server printed for the seed's brokers: user id → token. */
    this.invites = {};
  }

  /** Starts the server; on a restart it takes the same port again. */
  async start() {
    const args = ["--addr", this.addr, "--data", this.data, "--dist", DIST];
    if (this.seed) args.push("--seed", this.seed);
    args.push("--trust", this.trust);
    const child = spawn(BIN, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" },
    });
    this.child = child;
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    this.url = await new Promise((resolveUrl, reject) => {
      let stdout = "";
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 20_000);
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        // `Invite for <name> (<user id>) as broker of <village>: /uitnodiging/<token> ...`
        for (const [, user, token] of stdout.matchAll(/^Invite for .* \(([^)\s]+)\) as \S+ of \S+: \/uitnodiging\/(\S+)/gm)) {
          this.invites[user] = token;
        }
        const match = stdout.match(/Dorpskracht: (http:\/\/[^\s]+)/);
        if (match) {
          clearTimeout(timer);
          resolveUrl(match[1].replace(/\/$/, ""));
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${stderr}`));
      });
    });
    this.addr = new URL(this.url).host;
    return this.url;
  }

  /** Stops the server the way an operator would (SIGTERM) and waits until it is gone. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    this.child = null;
  }

  /**
   * Makes a municipality admin the way an operator does (`sync-server admin create`, password
   * on stdin). The server learns of it when it starts, so this stops and restarts it.
   */
  async createAdmin({ email, name, password }) {
    await this.stop();
    const made = spawnSync(
      BIN,
      ["--data", this.data, "admin", "create", "--email", email, "--display-name", name],
      { input: `${password}\n`, encoding: "utf8" },
    );
    if (made.status !== 0) throw new Error(`admin create: ${made.stderr}`);
    await this.start();
  }

  async dispose() {
    await this.stop();
    rmSync(this.data, { recursive: true, force: true });
  }
}
