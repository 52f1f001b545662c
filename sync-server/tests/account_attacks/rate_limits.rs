//! Hole 7: rate limits that do not hold — raced by concurrent requests, forgotten by a
//! restart, dodged by a forged `X-Forwarded-For`, or failing with "database is locked" under
//! load; and password hashing that leaves its memory behind after a burst.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use futures_util::future::join_all;
use serde_json::json;
use sync_server::accounts::{ACCOUNT_LIMIT, SIGN_UP_IP_LIMIT};

use super::{PASSWORD, sign_in, sign_up, statuses};
use crate::support::{ChildServer, http::request_as};

/// The server binary on `data` with trust on; `envs` configure it further.
async fn start(data: &Path, envs: &[(&str, &str)]) -> ChildServer {
    ChildServer::start_with(data, &["--trust", "on"], envs).await
}

const TRUST_LOOPBACK: (&str, &str) = ("DORPSKRACHT_TRUSTED_PROXY", "127.0.0.1");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_wrong_passwords_at_once_get_only_the_accounts_few_tries() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]).await;
    assert_eq!(sign_up(server.addr(), "anna", &[]).await.status, 201);
    let tries =
        (0..100).map(|_| sign_in(server.addr(), "anna@example.nl", "fout-fout-fout-1", &[]));
    let replies = join_all(tries).await;
    let counts = statuses(&replies);
    eprintln!("100 wrong passwords at once: {counts:?}");
    let refused = replies.iter().filter(|r| r.status == 401).count();
    let limited = replies.iter().filter(|r| r.status == 429).count();
    assert!(refused <= ACCOUNT_LIMIT, "{counts:?}");
    assert_eq!(refused + limited, 100, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_sign_ups_from_one_address_stop_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]).await;
    let addr = server.addr();
    let ups = (0..60).map(|n| async move { sign_up(addr, &format!("bulk{n}"), &[]).await });
    let replies = join_all(ups).await;
    let counts = statuses(&replies);
    eprintln!("60 sign-ups from one address: {counts:?}");
    let created = replies.iter().filter(|r| r.status == 201).count();
    let limited = replies.iter().filter(|r| r.status == 429).count();
    assert_eq!(created, SIGN_UP_IP_LIMIT, "{counts:?}");
    assert_eq!(created + limited, 60, "{counts:?}");
    assert!(
        replies
            .iter()
            .all(|r| r.status != 429 || r.header("retry-after").is_some())
    );
}

#[tokio::test]
async fn failed_sign_ins_stay_counted_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]).await;
    assert_eq!(sign_up(server.addr(), "bert", &[]).await.status, 201);
    for _ in 0..ACCOUNT_LIMIT {
        let r = sign_in(server.addr(), "bert@example.nl", "fout-fout-fout-1", &[]).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    assert!(server.terminate().await);
    let server = start(dir.path(), &[]).await;
    let r = sign_in(server.addr(), "bert@example.nl", PASSWORD, &[]).await;
    assert_eq!(r.status, 429, "the restart forgot the failures: {}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_counts_only_when_the_trusted_proxy_sends_it() {
    let forged = |n: usize| format!("198.51.100.{n}");
    // Without a trusted proxy a forged header changes nothing: one address, one limit.
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]).await;
    let n = SIGN_UP_IP_LIMIT + 5;
    let mut created = 0;
    for i in 0..n {
        let ip = forged(i);
        let r = sign_up(
            server.addr(),
            &format!("spoof{i}"),
            &[("X-Forwarded-For", &ip)],
        )
        .await;
        created += usize::from(r.status == 201);
    }
    assert_eq!(
        created, SIGN_UP_IP_LIMIT,
        "a forged X-Forwarded-For dodged the limit"
    );
    drop(server);

    // Behind the trusted proxy (here: loopback) each client has its own address...
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[TRUST_LOOPBACK]).await;
    for i in 0..n {
        let ip = forged(i);
        let r = sign_up(
            server.addr(),
            &format!("hall{i}"),
            &[("X-Forwarded-For", &ip)],
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // ...and one client is limited however many addresses it puts in front of its own: the
    // proxy appends the address it saw, the last one counts.
    let mut created = 0;
    for i in 0..n {
        let chain = format!("{}, 203.0.113.7", forged(i));
        let r = sign_up(
            server.addr(),
            &format!("one{i}"),
            &[("X-Forwarded-For", &chain)],
        )
        .await;
        created += usize::from(r.status == 201);
    }
    assert_eq!(created, SIGN_UP_IP_LIMIT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_load_no_request_fails_with_database_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[TRUST_LOOPBACK]).await;
    // Another writer on the same file, as the document storage is under a busy village: it
    // holds the write lock 2 ms at a time, every 7 ms.
    let db = dir.path().join("dorpskracht.sqlite3");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut conn = rusqlite::Connection::open(db).unwrap();
            conn.busy_timeout(std::time::Duration::from_secs(10))
                .unwrap();
            conn.execute("CREATE TABLE IF NOT EXISTS noise (x INTEGER)", [])
                .unwrap();
            let mut writes = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .unwrap();
                tx.execute("INSERT INTO noise (x) VALUES (1)", []).unwrap();
                // Holding the lock is the point: this is the other writer's work.
                std::thread::sleep(std::time::Duration::from_millis(2));
                tx.commit().unwrap();
                writes += 1;
                // And a pause between its commits, as a group commit has.
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            writes
        })
    };
    let addr = server.addr();
    let clients = (0..60).map(|n| async move {
        let ip = format!("192.0.2.{n}");
        let up = sign_up(addr, &format!("busy{n}"), &[("X-Forwarded-For", &ip)]).await;
        let mut replies = vec![up.clone()];
        if up.status == 201 {
            for _ in 0..3 {
                replies.push(
                    request_as(addr, &up.token(), "POST", "/api/actors", Some(&json!({}))).await,
                );
            }
        }
        replies
    });
    let replies: Vec<_> = join_all(clients).await.into_iter().flatten().collect();
    stop.store(true, Ordering::Relaxed);
    let writes = writer.join().unwrap();
    let counts = statuses(&replies);
    eprintln!("60 sign-ups and their actors beside {writes} other writes: {counts:?}");
    assert!(writes > 0);
    assert_eq!(counts, vec![(201, 240)], "{counts:?}");
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sign_ins_leaves_little_memory_behind() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[TRUST_LOOPBACK]).await;
    let addr = server.addr();
    // One sign-in first, so what any hash needs once (threads, their memory) is counted.
    assert_eq!(sign_up(addr, "carla", &[]).await.status, 201);
    let before = rss_kib(server.pid());
    // 100 sign-ins at once, each from its own address (past the per-address limit).
    let burst = (0..100).map(|n| async move {
        let ip = format!("10.1.{}.{}", n / 250, n % 250 + 1);
        sign_in(
            addr,
            &format!("nobody{n}@example.nl"),
            PASSWORD,
            &[("X-Forwarded-For", &ip)],
        )
        .await
    });
    let replies = join_all(burst).await;
    let after = rss_kib(server.pid());
    let counts = statuses(&replies);
    eprintln!(
        "RSS before a burst of 100 sign-ins {} MiB, after {} MiB ({counts:?})",
        before / 1024,
        after / 1024
    );
    assert_eq!(counts, vec![(401, 100)]);
    // Each hash takes 19 MiB; the hashing threads (one per core, at most 4) keep theirs, and
    // nothing else may stay.
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(4) as u64;
    let kept_mib = after.saturating_sub(before) / 1024;
    assert!(
        kept_mib < 19 * threads + 20,
        "a burst left {kept_mib} MiB behind"
    );
}
