//! Fan-out benchmark: N WebSocket clients on one document, each making one edit per second;
//! how long until each other client has each edit (p50/p99), and the server's memory per
//! connection. Runs our server (the release binary) and a stock JS automerge-repo sync server
//! (`tests/interop/js-sync-server.mjs`, NodeFS storage) with the same workload, printing both
//! side by side.
//!
//! `cargo xtask bench sync` (or `cargo bench -p sync-server --bench sync`); `BENCH_CLIENTS=100,1000`
//! (client counts), `BENCH_SECONDS=10` (length of each load phase), `BENCH_TARGETS=ours,js` (the
//! servers) and `BENCH_OBSERVERS=100` (how many clients time every arrival) change the run.
//!
//! # The clients
//!
//! They run in this process, on the same cores as the server under test, so they must cost
//! as little as possible. A [`LeanClient`] speaks the real protocol (CBOR messages, automerge
//! sync messages, real automerge changes that the server applies and validates) but keeps no
//! document: it tracks the heads the server advertised, builds each edit as a change on those
//! heads directly, and answers each sync message with its heads, as an automerge peer would.
//! Every client receives every edit; the observers (`BENCH_OBSERVERS`, spread evenly over the
//! clients; all of them when there are fewer) also decode each arriving change and time the
//! first arrival of each other client's: latency is from an edit's send on its client to the
//! arrival of the WebSocket frame carrying it at an observer. (The server may send a client its
//! own change back among the others'; that does not count.)

#[path = "../tests/support/mod.rs"]
mod support;

use std::{
    collections::HashSet,
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use automerge::{
    ActorId, Change, ChangeHash, ExpandedChange, ROOT, ScalarValue,
    legacy::{Key, ObjectId, Op, OpId, OpType},
    sync::{BloomFilter, ChunkList, Have, Message as SyncMessage, MessageVersion},
    transaction::Transactable,
};
use futures_util::{SinkExt, StreamExt};
use support::{ChildServer, Client, Ws};
use sync::{
    Connection, ConnectionConfig, ConnectionEvent, ConnectionInput, DocMessage, DocumentId, PeerId,
    PeerInfo, PeerMetadata,
};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Ours,
    Js,
}

/// A server under test, kept until the run ends (and killed if the run panics).
enum Proc {
    Ours(ChildServer),
    Js(JsServer),
}

struct JsServer(Child);

impl Drop for JsServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Report {
    target: Target,
    clients: usize,
    observers: usize,
    edits: usize,
    /// Clients whose connection ended during the run.
    dropped: usize,
    delivered: usize,
    expected: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    idle_kib_per_conn: f64,
    rss_idle_mib: f64,
    rss_load_mib: f64,
    /// What one observer received per second (load and drain), in MiB.
    observer_mib_s: f64,
    /// The mean number of dependencies of the changes the observers received.
    deps_per_change: f64,
    /// CPU time the server and the clients (this process) used during the load phase, per
    /// second: cores busy.
    server_cores: f64,
    clients_cores: f64,
}

fn main() {
    let clients: Vec<usize> = env_list("BENCH_CLIENTS", "100,1000")
        .iter()
        .map(|s| s.parse().expect("BENCH_CLIENTS: numbers"))
        .collect();
    let seconds: u64 = env_number("BENCH_SECONDS", 10);
    let observers: usize = env_number("BENCH_OBSERVERS", 100);
    let targets: Vec<Target> = env_list("BENCH_TARGETS", "ours,js")
        .iter()
        .map(|s| match s.as_str() {
            "ours" => Target::Ours,
            "js" => Target::Js,
            other => panic!("BENCH_TARGETS: unknown {other}"),
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut reports = Vec::new();
    for &n in &clients {
        for &target in &targets {
            eprintln!("{target:?}: {n} clients, {seconds} s …");
            let report = runtime.block_on(run(target, n, observers.min(n), seconds));
            print_header();
            print_row(&report);
            reports.push(report);
        }
    }
    println!();
    print_header();
    for r in &reports {
        print_row(r);
    }
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn print_header() {
    println!(
        "| server | clients (observers) | edits | dropped | delivered | p50 | p99 | max | idle RSS / connection | RSS idle | RSS under load | CPU server | CPU clients | to one client | deps / change |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
}

fn print_row(r: &Report) {
    println!(
        "| {} | {} ({}) | {} | {} | {:.1} % of {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} KiB | {:.1} MiB | {:.1} MiB | {:.2} cores | {:.2} cores | {:.2} MiB/s | {:.1} |",
        match r.target {
            Target::Ours => "ours (Rust)",
            Target::Js => "JS automerge-repo 2.5",
        },
        r.clients,
        r.observers,
        r.edits,
        r.dropped,
        100.0 * r.delivered as f64 / r.expected.max(1) as f64,
        r.expected,
        r.p50_ms,
        r.p99_ms,
        r.max_ms,
        r.idle_kib_per_conn,
        r.rss_idle_mib,
        r.rss_load_mib,
        r.server_cores,
        r.clients_cores,
        r.observer_mib_s,
        r.deps_per_change,
    );
}

async fn run(target: Target, n: usize, observers: usize, seconds: u64) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let (proc, url, pid) = start(target, dir.path()).await;
    let epoch = Instant::now();

    // A full client creates the document.
    let mut creator = Client::new("creator");
    creator.connect(&url).await.unwrap();
    let id = creator
        .create(|tx| {
            tx.put(ROOT, "title", "bench").unwrap();
        })
        .await
        .unwrap();
    creator.pump_until(|c| c.in_sync(id)).await.unwrap();
    let baseline = rss_kib(pid);

    // Connect everyone (a few at a time) and let each get the document.
    let ops = Arc::new(AtomicU64::new(1_000));
    let gate = Arc::new(Semaphore::new(32));
    let mut joins = Vec::new();
    for i in 0..n {
        let (gate, url, ops) = (gate.clone(), url.clone(), ops.clone());
        // Observers spread evenly over the clients (and so over the second's edit slots).
        let observer = i * observers / n != (i + 1) * observers / n;
        joins.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            LeanClient::connect(&url, i, id, observer, epoch, ops).await
        }));
    }
    let mut clients = Vec::new();
    for join in joins {
        clients.push(join.await.unwrap());
    }
    creator.disconnect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = rss_kib(pid);

    // Load: each client edits once a second, spread evenly over the second, and keeps reading.
    let start = tokio::time::Instant::now() + Duration::from_millis(500);
    let end = start + Duration::from_secs(seconds);
    let drain = end + Duration::from_secs(3);
    let mut tasks = Vec::new();
    for (i, mut client) in clients.into_iter().enumerate() {
        let offset = Duration::from_micros(1_000_000 * i as u64 / n as u64);
        tasks.push(tokio::spawn(async move {
            let mut next = start + offset;
            let mut edits = 0;
            let mut dropped = false;
            while next < end {
                if client.pump_until(next).await.is_err() || client.edit().await.is_err() {
                    dropped = true;
                    break;
                }
                edits += 1;
                next += Duration::from_secs(1);
            }
            if !dropped && client.pump_until(drain).await.is_err() {
                dropped = true;
            }
            let traffic = (client.received_bytes, client.changes_seen, client.deps_seen);
            (edits, client.observer, client.latencies, dropped, traffic)
        }));
    }
    tokio::time::sleep_until(start).await;
    let cpu_start = (cpu_seconds(pid), cpu_seconds(std::process::id()));
    tokio::time::sleep_until(start + (end - start) / 2).await;
    let rss_load = rss_kib(pid);
    tokio::time::sleep_until(end).await;
    let cpu_end = (cpu_seconds(pid), cpu_seconds(std::process::id()));
    let mut per_client = Vec::new();
    for task in tasks {
        per_client.push(task.await.unwrap());
    }
    stop(proc).await;

    // What the observers received: bytes, and the dependencies per change (each change names
    // every head its author knew, so they grow with how many edits are concurrent).
    let (bytes, changes, deps) = per_client
        .iter()
        .filter(|(_, observer, ..)| *observer)
        .fold((0, 0, 0), |(b, c, d), (.., (rb, rc, rd))| {
            (b + rb, c + rc, d + rd)
        });
    let edits: usize = per_client.iter().map(|(e, ..)| e).sum();
    let dropped = per_client.iter().filter(|(_, _, _, d, _)| *d).count();
    // Each observer should have seen every edit but its own.
    let expected: usize = per_client
        .iter()
        .filter(|(_, observer, ..)| *observer)
        .map(|(own, ..)| edits - own)
        .sum();
    let mut latencies: Vec<u32> = per_client.into_iter().flat_map(|(_, _, l, ..)| l).collect();
    latencies.sort_unstable();
    let pct = |p: f64| {
        if latencies.is_empty() {
            f64::NAN
        } else {
            let i = ((latencies.len() as f64 * p) as usize).min(latencies.len() - 1);
            latencies[i] as f64 / 1000.0
        }
    };
    Report {
        target,
        clients: n,
        observers,
        edits,
        dropped,
        delivered: latencies.len(),
        expected,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
        idle_kib_per_conn: rss_idle.saturating_sub(baseline) as f64 / n as f64,
        rss_idle_mib: rss_idle as f64 / 1024.0,
        rss_load_mib: rss_load as f64 / 1024.0,
        observer_mib_s: bytes as f64 / observers.max(1) as f64 / (seconds + 3) as f64 / 1048576.0,
        deps_per_change: deps as f64 / changes.max(1) as f64,
        server_cores: (cpu_end.0 - cpu_start.0) / seconds as f64,
        clients_cores: (cpu_end.1 - cpu_start.1) / seconds as f64,
    }
}

/// The connection ended.
#[derive(Debug)]
struct Dropped;

/// A protocol-true client without a document (see the module docs).
struct LeanClient {
    ws: Ws,
    connection: Connection,
    id: DocumentId,
    /// Its key in the document's root map.
    key: String,
    actor: ActorId,
    seq: u64,
    /// The op id of its last edit (the next one overwrites it).
    last_op: Option<u64>,
    /// A Lamport clock for op counters, shared by all clients: always above every op they saw.
    ops: Arc<AtomicU64>,
    /// The heads the server last advertised: it has them, and so does this client.
    server_heads: Vec<ChangeHash>,
    /// Its last edit, until the server's heads show it.
    unacked: Option<ChangeHash>,
    /// The heads it last advertised.
    sent_heads: Vec<ChangeHash>,
    observer: bool,
    epoch: Instant,
    /// Microseconds from an edit's send to its first arrival here (observers only).
    latencies: Vec<u32>,
    /// Bytes of the frames received, changes decoded and their dependencies (observers only).
    received_bytes: u64,
    changes_seen: u64,
    deps_seen: u64,
    /// The changes that arrived here (observers only): the server may send one twice.
    seen: HashSet<ChangeHash>,
}

impl LeanClient {
    /// Connects, finishes the handshake and fetches the document.
    async fn connect(
        url: &str,
        i: usize,
        id: DocumentId,
        observer: bool,
        epoch: Instant,
        ops: Arc<AtomicU64>,
    ) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let info = PeerInfo {
            peer_id: PeerId::new(format!("bench-{i}-{}", support::random_document_id())),
            metadata: PeerMetadata {
                storage_id: None,
                is_ephemeral: true,
            },
        };
        let connection = Connection::outgoing(info, ConnectionConfig::default());
        let mut actor = [0u8; 16];
        getrandom::fill(&mut actor).unwrap();
        let mut client = Self {
            ws,
            connection,
            id,
            key: format!("c{i}"),
            actor: ActorId::from(actor),
            seq: 0,
            last_op: None,
            ops,
            server_heads: Vec::new(),
            unacked: None,
            sent_heads: Vec::new(),
            observer,
            epoch,
            latencies: Vec::new(),
            received_bytes: 0,
            changes_seen: 0,
            deps_seen: 0,
            seen: HashSet::new(),
        };
        let start = client
            .connection
            .handle(support::now(), ConnectionInput::start());
        for frame in start.outgoing {
            client.send(frame).await.unwrap();
        }
        let deadline = tokio::time::Instant::now() + support::PATIENCE;
        while client.connection.peer().is_none() {
            client.next_frame(deadline).await.unwrap();
        }
        let request = SyncMessage {
            heads: Vec::new(),
            need: Vec::new(),
            have: vec![Have {
                last_sync: Vec::new(),
                bloom: BloomFilter::default(),
            }],
            changes: ChunkList::empty(),
            flags: None,
            version: MessageVersion::V1,
        };
        client
            .send_doc(DocMessage::Request(request.encode()))
            .await
            .unwrap();
        while client.server_heads.is_empty() {
            client.next_frame(deadline).await.unwrap();
        }
        // Arrivals before the load are the document's history, not edits.
        client.latencies.clear();
        (client.received_bytes, client.changes_seen, client.deps_seen) = (0, 0, 0);
        client
    }

    /// Handles frames until `deadline`.
    async fn pump_until(&mut self, deadline: tokio::time::Instant) -> Result<(), Dropped> {
        while tokio::time::Instant::now() < deadline {
            self.next_frame(deadline).await?;
        }
        Ok(())
    }

    /// Waits for one frame (at most until `deadline`) and handles it.
    async fn next_frame(&mut self, deadline: tokio::time::Instant) -> Result<(), Dropped> {
        let frame = match tokio::time::timeout_at(deadline, self.ws.next()).await {
            Ok(frame) => frame,
            Err(_) => return Ok(()),
        };
        let arrived = self.epoch.elapsed().as_micros() as u64;
        let bytes = match frame {
            Some(Ok(WsMessage::Binary(bytes))) => bytes,
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => {
                return Ok(());
            }
            _ => return Err(Dropped),
        };
        if self.observer {
            self.received_bytes += bytes.len() as u64;
        }
        let results = self
            .connection
            .handle(support::now(), ConnectionInput::receive(bytes.to_vec()));
        for frame in results.outgoing {
            self.send(frame).await?;
        }
        if results.close {
            return Err(Dropped);
        }
        for event in results.events {
            if let ConnectionEvent::Document {
                message: DocMessage::Sync(data),
                ..
            } = event
            {
                self.receive_sync(&data, arrived).await?;
            }
        }
        Ok(())
    }

    /// Takes in a sync message from the server and answers it when this client's heads moved.
    async fn receive_sync(&mut self, data: &[u8], arrived: u64) -> Result<(), Dropped> {
        let message = SyncMessage::decode(data).expect("the server sends valid sync messages");
        if self.observer {
            for chunk in message.changes.iter() {
                let change = Change::try_from(chunk).expect("valid changes");
                // The server may send a client's own change back to it (with the others'),
                // or a change twice: only others' first arrivals count.
                if !self.seen.insert(change.hash()) || change.actor_id() == &self.actor {
                    continue;
                }
                self.changes_seen += 1;
                self.deps_seen += change.deps().len() as u64;
                if let Some(sent) = change.message().and_then(|m| m.parse::<u64>().ok()) {
                    self.latencies.push(arrived.saturating_sub(sent) as u32);
                }
            }
        }
        self.server_heads = message.heads;
        if self
            .unacked
            .is_some_and(|own| self.server_heads.contains(&own))
        {
            self.unacked = None;
        }
        let heads = self.heads();
        if heads == self.sent_heads {
            return Ok(());
        }
        let reply = SyncMessage {
            heads: heads.clone(),
            need: Vec::new(),
            have: vec![self.have()],
            changes: ChunkList::empty(),
            flags: None,
            version: MessageVersion::V1,
        };
        self.sent_heads = heads;
        self.send_doc(DocMessage::Sync(reply.encode())).await
    }

    /// What it has beyond what it shares with the server: at most its unacknowledged edit.
    fn have(&self) -> Have {
        Have {
            last_sync: self.server_heads.clone(),
            bloom: BloomFilter::from_hashes(self.unacked.iter()),
        }
    }

    /// What this client has: everything the server advertised, plus its own unacknowledged edit.
    fn heads(&self) -> Vec<ChangeHash> {
        let mut heads = self.server_heads.clone();
        heads.extend(self.unacked);
        heads.sort_unstable();
        heads
    }

    /// One edit: sets its key to its edit count, as a change on everything it has, whose
    /// message is its send time.
    async fn edit(&mut self) -> Result<(), Dropped> {
        self.seq += 1;
        let counter = self.ops.fetch_add(1, Ordering::Relaxed);
        let deps = self.heads();
        let sent = self.epoch.elapsed().as_micros() as u64;
        let change = Change::from(ExpandedChange {
            operations: vec![Op {
                action: OpType::Put(ScalarValue::Uint(self.seq)),
                obj: ObjectId::Root,
                key: Key::Map(self.key.as_str().into()),
                pred: self
                    .last_op
                    .map(|c| OpId::new(c, &self.actor))
                    .into_iter()
                    .collect(),
                insert: false,
            }],
            actor_id: self.actor.clone(),
            hash: None,
            seq: self.seq,
            start_op: counter.try_into().unwrap(),
            time: 0,
            message: Some(sent.to_string()),
            deps,
            extra_bytes: Vec::new(),
            author: None,
        });
        self.last_op = Some(counter);
        self.unacked = Some(change.hash());
        let message = SyncMessage {
            heads: vec![change.hash()],
            need: Vec::new(),
            have: vec![self.have()],
            changes: ChunkList::from(change.raw_bytes().to_vec()),
            flags: None,
            version: MessageVersion::V1,
        };
        self.sent_heads = vec![change.hash()];
        self.send_doc(DocMessage::Sync(message.encode())).await
    }

    async fn send_doc(&mut self, message: DocMessage) -> Result<(), Dropped> {
        let frame = self
            .connection
            .encode_document_message(self.id, message)
            .map_err(|_| Dropped)?;
        self.send(frame).await
    }

    async fn send(&mut self, frame: Vec<u8>) -> Result<(), Dropped> {
        self.ws
            .send(WsMessage::Binary(frame.into()))
            .await
            .map_err(|_| Dropped)
    }
}

async fn start(target: Target, data: &Path) -> (Proc, String, u32) {
    match target {
        Target::Ours => {
            let server = ChildServer::start(data).await;
            let (url, pid) = (server.url.clone(), server.pid());
            (Proc::Ours(server), url, pid)
        }
        Target::Js => {
            let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests");
            let mut child = Command::new("node")
                .arg("interop/js-sync-server.mjs")
                .arg(data)
                .current_dir(&tests)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("node runs");
            let stdout = child.stdout.take().unwrap();
            let line = tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                BufReader::new(stdout).read_line(&mut line).unwrap();
                line
            })
            .await
            .unwrap();
            let pid = child.id();
            (Proc::Js(JsServer(child)), line.trim().to_owned(), pid)
        }
    }
}

async fn stop(proc: Proc) {
    match proc {
        Proc::Ours(server) => server.kill(),
        Proc::Js(server) => drop(server),
    }
}

/// CPU time (user + system) a process has used, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    // Linux reports them in clock ticks of 1/100 s (USER_HZ).
    ticks as f64 / 100.0
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
