//! Fan-out benchmark: N WebSocket clients on one document, each making one edit per second;
//! how long until each other client has each edit (p50/p99), and the server's memory per
//! connection. Runs our server (the release binary) and a stock JS automerge-repo sync server
//! (`tests/interop/js-sync-server.mjs`) with the same workload, printing both side by side.
//!
//! `cargo bench -p sync-server --bench sync`; `BENCH_CLIENTS=100,1000` (client counts) and
//! `BENCH_SECONDS=10` (length of each load phase) change the workload, `BENCH_TARGETS=ours,js`
//! the servers. The clients are our native client (`sync` over tokio-tungstenite) in this
//! process, which shares the machine with the server under test.

#[path = "../tests/support/mod.rs"]
mod support;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use automerge::{ROOT, transaction::Transactable};
use support::{ChildServer, Client};
use tokio::sync::Semaphore;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Ours,
    Js,
}

/// A server under test: its URL and process id (for its memory).
enum Proc {
    Ours(ChildServer),
    Js(Child),
}

struct Report {
    target: Target,
    clients: usize,
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
}

fn main() {
    let clients: Vec<usize> = env_list("BENCH_CLIENTS", "100,1000")
        .iter()
        .map(|s| s.parse().expect("BENCH_CLIENTS: numbers"))
        .collect();
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
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
            let report = runtime.block_on(run(target, n, seconds));
            print_row(&report);
            reports.push(report);
        }
    }
    println!();
    println!(
        "| server | clients | edits | dropped | delivered | p50 | p99 | max | idle RSS / connection | RSS idle | RSS under load |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
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

fn print_row(r: &Report) {
    println!(
        "| {} | {} | {} | {} | {:.1} % of {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} KiB | {:.1} MiB | {:.1} MiB |",
        match r.target {
            Target::Ours => "ours (Rust)",
            Target::Js => "JS automerge-repo 2.5",
        },
        r.clients,
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
    );
}

async fn run(target: Target, n: usize, seconds: u64) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let (proc, url, pid) = start(target, dir.path()).await;
    let epoch = Instant::now();

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
    let gate = Arc::new(Semaphore::new(32));
    let mut joins = Vec::new();
    for i in 0..n {
        let (gate, url) = (gate.clone(), url.clone());
        joins.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let mut client = Client::new(&format!("c{i}"));
            client.connect(&url).await.unwrap();
            client.find(id).await.unwrap();
            client.pump_until(|c| c.in_sync(id)).await.unwrap();
            client
        }));
    }
    let mut clients = Vec::new();
    for join in joins {
        clients.push(join.await.unwrap());
    }
    creator.disconnect();
    let rss_idle = rss_kib(pid);

    // Load: each client edits once a second, spread evenly over the second, and keeps reading.
    let start = tokio::time::Instant::now() + Duration::from_millis(500);
    let end = start + Duration::from_secs(seconds);
    let drain = end + Duration::from_secs(3);
    let mut tasks = Vec::new();
    for (i, mut client) in clients.into_iter().enumerate() {
        client.latency_epoch = Some(epoch);
        let offset = Duration::from_micros(1_000_000 * i as u64 / n as u64);
        tasks.push(tokio::spawn(async move {
            let mut next = start + offset;
            let mut edits = 0;
            let mut dropped = false;
            while next < end {
                if client.pump_until_time(next).await.is_err() {
                    dropped = true;
                    break;
                }
                edits += 1;
                let seq = edits as u64;
                let edited = client
                    .timed_edit(id, epoch, |tx| {
                        tx.put(ROOT, format!("c{i}"), seq).unwrap();
                    })
                    .await;
                if edited.is_err() {
                    dropped = true;
                    break;
                }
                next += Duration::from_secs(1);
            }
            if client.pump_until_time(drain).await.is_err() {
                dropped = true;
            }
            (edits, std::mem::take(&mut client.latencies), dropped)
        }));
    }
    tokio::time::sleep_until(start + (end - start) / 2).await;
    let rss_load = rss_kib(pid);
    let mut edits = 0;
    let mut dropped = 0;
    let mut latencies = Vec::new();
    for task in tasks {
        let (e, l, d) = task.await.unwrap();
        edits += e;
        dropped += usize::from(d);
        latencies.extend(l);
    }
    stop(proc).await;

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
        edits,
        dropped,
        delivered: latencies.len(),
        expected: edits * (n - 1),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
        idle_kib_per_conn: rss_idle.saturating_sub(baseline) as f64 / n as f64,
        rss_idle_mib: rss_idle as f64 / 1024.0,
        rss_load_mib: rss_load as f64 / 1024.0,
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
            (Proc::Js(child), line.trim().to_owned(), pid)
        }
    }
}

async fn stop(proc: Proc) {
    match proc {
        Proc::Ours(server) => server.kill(),
        Proc::Js(mut child) => {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
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
