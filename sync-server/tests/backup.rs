//! `sync-server backup` while clients write to a running server (a child process): the
//! backup, restored with `sync-server restore` into a fresh data folder, serves every change
//! acknowledged before the backup started; its database files are mode 0600.

mod support;

use std::{
    collections::{HashMap, HashSet},
    os::unix::fs::PermissionsExt,
    path::Path,
    process::Command,
    sync::{Arc, Mutex},
};

use automerge::{ChangeHash, ROOT, ReadDoc, transaction::Transactable};
use support::{ChildServer, Client, PATIENCE};
use sync::DocumentId;
use tokio::sync::watch;

const WRITERS: usize = 4;
/// Each writer has this many edits acknowledged before the backup starts.
const WARM_UP_EDITS: u64 = 20;

type Acknowledged = Arc<Mutex<HashMap<DocumentId, HashSet<ChangeHash>>>>;

#[tokio::test]
async fn a_backup_taken_under_load_restores_everything_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = ChildServer::start(&data).await;
    let acknowledged: Acknowledged = Arc::default();
    let (stop, stopped) = watch::channel(false);
    let mut writers = Vec::new();
    let mut progress = Vec::new();
    for w in 0..WRITERS {
        let (count, counted) = watch::channel(0u64);
        progress.push(counted);
        writers.push(tokio::spawn(write_until_stopped(
            w,
            server.url.clone(),
            acknowledged.clone(),
            count,
            stopped.clone(),
        )));
    }
    for counted in &mut progress {
        tokio::time::timeout(PATIENCE, counted.wait_for(|n| *n >= WARM_UP_EDITS))
            .await
            .expect("the writers get going")
            .unwrap();
    }

    let before: HashMap<DocumentId, HashSet<ChangeHash>> = acknowledged.lock().unwrap().clone();
    let at_start: Vec<u64> = progress.iter().map(|p| *p.borrow()).collect();
    let file = dir.path().join("backup.sqlite3");
    let output = sync_server(&["backup", "--data"], &data, &["--to"], &file).await;
    assert!(output.status.success(), "backup failed: {output:?}");
    // The writers kept writing while it ran (or at least right after).
    for (counted, start) in progress.iter_mut().zip(at_start) {
        tokio::time::timeout(PATIENCE, counted.wait_for(|n| *n > start))
            .await
            .expect("the writers keep writing")
            .unwrap();
    }
    stop.send(true).unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    server.kill();
    assert_eq!(mode(&file), 0o600, "the backup file is private");

    let fresh = dir.path().join("fresh");
    let output = sync_server(&["restore", "--from"], &file, &["--data"], &fresh).await;
    assert!(output.status.success(), "restore failed: {output:?}");
    // Restoring over a database is refused.
    let output = sync_server(&["restore", "--from"], &file, &["--data"], &fresh).await;
    assert!(!output.status.success());

    let server = ChildServer::start(&fresh).await;
    let mut reader = Client::new("reader");
    reader.connect(&server.url).await.unwrap();
    for (id, heads) in &before {
        assert!(!heads.is_empty());
        reader.find(*id).await.unwrap();
        reader
            .pump_until(|c| {
                heads
                    .iter()
                    .all(|h| c.doc(*id).get_change_by_hash(h).is_some())
            })
            .await
            .unwrap_or_else(|e| panic!("{id}: an acknowledged change is missing ({e:?})"));
    }
    assert!(server.terminate().await);
    for entry in std::fs::read_dir(&fresh).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            assert_eq!(mode(&path), 0o600, "{} is private", path.display());
        }
    }
}

/// One client editing its own document until told to stop; each edit waits for the server's
/// acknowledgement, which is recorded (and counted) before the next.
async fn write_until_stopped(
    w: usize,
    url: String,
    acknowledged: Acknowledged,
    count: watch::Sender<u64>,
    stopped: watch::Receiver<bool>,
) {
    let mut client = Client::new(&format!("writer-{w}"));
    let id = client
        .create(|tx| {
            tx.put(ROOT, "writer", w as i64).unwrap();
        })
        .await
        .unwrap();
    client.connect(&url).await.unwrap();
    let mut n = 0u64;
    while !*stopped.borrow() {
        n += 1;
        client
            .edit(id, |tx| {
                tx.put(ROOT, format!("edit-{n}"), n).unwrap();
            })
            .await
            .unwrap();
        client.pump_until(|c| c.in_sync(id)).await.unwrap();
        acknowledged
            .lock()
            .unwrap()
            .entry(id)
            .or_default()
            .extend(client.acknowledged.iter().copied());
        count.send_replace(n);
    }
    assert!(client.doc(id).get(ROOT, "writer").unwrap().is_some());
}

/// Runs the server binary with `a PATH b PATH`.
async fn sync_server(a: &[&str], first: &Path, b: &[&str], second: &Path) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sync-server"));
    command.args(a).arg(first).args(b).arg(second);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
