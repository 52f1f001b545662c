//! Document storage: keys and ranges, reopening, compaction, corrupt chunks, and a writer killed
//! with SIGKILL at random moments.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use automerge::{Automerge, ChangeHash, ObjType, ROOT, ReadDoc, transaction::Transactable};
use sync::DocumentId;
use sync_server::storage::{
    ChunkKind, ChunkProblem, DocumentError, DocumentStore, MemoryStorage, SqliteStorage, Storage,
    StorageKey,
};

fn key(parts: &[&str]) -> StorageKey {
    StorageKey::new(parts.iter().copied()).unwrap()
}

fn open(dir: &Path) -> Arc<SqliteStorage> {
    Arc::new(SqliteStorage::open(dir).unwrap())
}

fn doc_id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

/// Sets `key` to `value` in the document's root map, as one change.
fn edit(doc: &mut Automerge, key: &str, value: i64) {
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, key, value)?;
        Ok(())
    })
    .unwrap();
}

/// Appends `text` to the document's `text` object (created on first use), as one change.
fn type_text(doc: &mut Automerge, text: &str) {
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        let obj = match tx.get(ROOT, "text")? {
            Some((_, id)) => id,
            None => tx.put_object(ROOT, "text", ObjType::Text)?,
        };
        let len = tx.length(&obj);
        tx.splice_text(&obj, len, 0, text)?;
        Ok(())
    })
    .unwrap();
}

fn text_of(doc: &Automerge) -> String {
    let (_, obj) = doc.get(ROOT, "text").unwrap().unwrap();
    doc.text(&obj).unwrap()
}

async fn stored_keys(storage: &dyn Storage, prefix: StorageKey) -> Vec<StorageKey> {
    storage
        .load_range(prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

#[tokio::test]
async fn keys_round_trip_and_prefixes_match_whole_parts() {
    let dir = tempfile::tempdir().unwrap();
    check_round_trip(&*open(dir.path())).await;
    check_round_trip(&MemoryStorage::new()).await;
}

async fn check_round_trip(storage: &dyn Storage) {
    let entries = [
        (key(&["ab", "incremental", "1"]), b"ab-1".to_vec()),
        (key(&["ab", "snapshot", "2"]), b"ab-2".to_vec()),
        (key(&["abc", "incremental", "1"]), b"abc-1".to_vec()),
        (key(&["a"]), b"a".to_vec()),
        (key(&["storage-adapter-id"]), b"id".to_vec()),
    ];
    for (k, v) in &entries {
        storage.put(k.clone(), v.clone()).await.unwrap();
    }
    for (k, v) in &entries {
        assert_eq!(storage.load(k.clone()).await.unwrap().as_ref(), Some(v));
    }
    assert_eq!(storage.load(key(&["ab"])).await.unwrap(), None);
    assert_eq!(
        storage.load(key(&["ab", "incremental"])).await.unwrap(),
        None
    );

    let ab = storage.load_range(key(&["ab"])).await.unwrap();
    assert_eq!(ab, entries[..2].to_vec());
    assert_eq!(
        storage
            .load_range(key(&["ab", "incremental"]))
            .await
            .unwrap(),
        entries[..1].to_vec()
    );
    assert_eq!(stored_keys(storage, key(&["a"])).await, [key(&["a"])]);
    assert_eq!(stored_keys(storage, key(&["abc", "incr"])).await, []);
    let mut all = entries.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    all.sort();
    assert_eq!(stored_keys(storage, key(&[])).await, all);

    // Overwrite, delete (also of a missing key), remove a range.
    storage.put(key(&["a"]), b"new".to_vec()).await.unwrap();
    assert_eq!(
        storage.load(key(&["a"])).await.unwrap(),
        Some(b"new".to_vec())
    );
    storage.delete(key(&["a"])).await.unwrap();
    storage.delete(key(&["never", "stored"])).await.unwrap();
    assert_eq!(storage.load(key(&["a"])).await.unwrap(), None);
    storage.remove_range(key(&["ab"])).await.unwrap();
    assert_eq!(
        stored_keys(storage, key(&[])).await,
        [
            key(&["abc", "incremental", "1"]),
            key(&["storage-adapter-id"])
        ]
    );
}

#[tokio::test]
async fn documents_survive_reopening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = Automerge::new();
    let id = doc_id(1);
    let storage_id = {
        let store = DocumentStore::new(open(dir.path()));
        let mut heads = vec![];
        for i in 0..20 {
            edit(&mut doc, &format!("k{i}"), i);
            type_text(&mut doc, "hallo ");
            let saved = store.save_incremental(id, &doc, &heads).await.unwrap();
            assert!(saved.key.is_some());
            heads = doc.get_heads();
            if i == 10 {
                store.compact(id, &doc).await.unwrap();
            }
        }
        // Nothing new: nothing written.
        let again = store.save_incremental(id, &doc, &heads).await.unwrap();
        assert_eq!(again.key, None);
        store
            .save_sync_state(id, "peer-storage", b"state".to_vec())
            .await
            .unwrap();
        store.storage_id().await.unwrap()
    };

    let store = DocumentStore::new(open(dir.path()));
    let loaded = store.load_document(id).await.unwrap().unwrap();
    assert_eq!(loaded.get_heads(), doc.get_heads());
    assert_eq!(text_of(&loaded), "hallo ".repeat(20));
    assert_eq!(
        loaded.get(ROOT, "k19").unwrap().unwrap().0.as_i64(),
        Some(19)
    );
    assert_eq!(store.storage_id().await.unwrap(), storage_id);
    assert_eq!(
        store.load_sync_state(id, "peer-storage").await.unwrap(),
        Some(b"state".to_vec())
    );
    assert!(store.load_document(doc_id(2)).await.unwrap().is_none());

    store.remove_document(id).await.unwrap();
    assert!(store.load_document(id).await.unwrap().is_none());
    assert_eq!(
        store.load_sync_state(id, "peer-storage").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn compaction_keeps_a_chunk_written_after_the_load() {
    let dir = tempfile::tempdir().unwrap();
    let id = doc_id(3);
    let mut original = Automerge::new();
    edit(&mut original, "start", 0);
    {
        let store = DocumentStore::new(open(dir.path()));
        store.save_incremental(id, &original, &[]).await.unwrap();
    }
    // Two servers on one database, each with its own connection and writer.
    let storage_a = open(dir.path());
    let a = DocumentStore::new(storage_a.clone());
    let b = DocumentStore::new(open(dir.path()));
    let mut doc_a = a.load_document(id).await.unwrap().unwrap();
    let mut doc_b = b.load_document(id).await.unwrap().unwrap();

    // B writes a chunk that A never loads.
    let heads_b = doc_b.get_heads();
    edit(&mut doc_b, "from-b", 2);
    let chunk_b = b
        .save_incremental(id, &doc_b, &heads_b)
        .await
        .unwrap()
        .key
        .unwrap();

    // A saves its own change and compacts.
    let heads_a = doc_a.get_heads();
    edit(&mut doc_a, "from-a", 1);
    let saved = a.save_incremental(id, &doc_a, &heads_a).await.unwrap();
    assert!(saved.compaction_due, "a tiny snapshot is always compacted");
    let compacted = a.compact(id, &doc_a).await.unwrap();
    assert!(!compacted.deleted.contains(&chunk_b));
    assert!(compacted.deleted.contains(&saved.key.unwrap()));
    assert_eq!(compacted.deleted.len(), 2, "{compacted:?}");

    let incrementals = stored_keys(&*storage_a, StorageKey::incrementals(id)).await;
    assert_eq!(incrementals, [chunk_b]);
    let fresh = DocumentStore::new(storage_a.clone());
    let merged = fresh.load_document(id).await.unwrap().unwrap();
    for k in ["start", "from-a", "from-b"] {
        assert!(merged.get(ROOT, k).unwrap().is_some(), "{k} is missing");
    }
    // Compacting what was loaded now folds B's chunk in too.
    let compacted = fresh.compact(id, &merged).await.unwrap();
    assert_eq!(compacted.deleted.len(), 2, "{compacted:?}");
    assert_eq!(
        stored_keys(&*storage_a, StorageKey::document(id)).await,
        [compacted.snapshot]
    );
}

#[tokio::test]
async fn compaction_keeps_chunks_the_document_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let store = DocumentStore::new(open(dir.path()));
    let id = doc_id(4);
    let mut doc = Automerge::new();
    edit(&mut doc, "a", 1);
    let stale = doc.clone();
    edit(&mut doc, "b", 2);
    let first = store.save_incremental(id, &doc, &[]).await.unwrap();
    // Compacting with a document that lacks the saved changes must not delete their chunk.
    let compacted = store.compact(id, &stale).await.unwrap();
    assert_eq!(compacted.deleted, []);
    assert!(
        store
            .storage()
            .load(first.key.unwrap())
            .await
            .unwrap()
            .is_some()
    );
    let loaded = store.load_document(id).await.unwrap().unwrap();
    assert_eq!(loaded.get_heads(), doc.get_heads());
}

#[tokio::test]
async fn many_saves_then_compaction_keep_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    let storage = open(dir.path());
    let store = DocumentStore::new(storage.clone());
    let id = doc_id(5);
    let mut doc = Automerge::new();
    let mut heads = vec![];
    let mut compactions = 0;
    let mut most_chunks = 0;
    for i in 0..300 {
        edit(&mut doc, &format!("k{}", i % 37), i);
        type_text(&mut doc, &format!("regel {i}\n"));
        let saved = store.save_incremental(id, &doc, &heads).await.unwrap();
        heads = doc.get_heads();
        if saved.compaction_due {
            store.compact(id, &doc).await.unwrap();
            compactions += 1;
        }
        most_chunks = most_chunks.max(stored_keys(&*storage, StorageKey::document(id)).await.len());
    }
    assert!(compactions >= 3, "only {compactions} compactions");
    // Chunks are bounded: each compaction folds them into one snapshot.
    assert!(most_chunks < 150, "{most_chunks} chunks at once");

    // Without compaction in between, then one at the end.
    let id2 = doc_id(6);
    let mut doc2 = Automerge::new();
    let mut heads2 = vec![];
    for i in 0..200 {
        type_text(&mut doc2, &format!("{i} "));
        store.save_incremental(id2, &doc2, &heads2).await.unwrap();
        heads2 = doc2.get_heads();
    }
    assert_eq!(
        stored_keys(&*storage, StorageKey::document(id2))
            .await
            .len(),
        200
    );
    let before = DocumentStore::new(storage.clone())
        .load_document(id2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.get_heads(), doc2.get_heads());
    let compacted = store.compact(id2, &doc2).await.unwrap();
    assert_eq!(compacted.deleted.len(), 200);
    assert_eq!(
        stored_keys(&*storage, StorageKey::document(id2)).await,
        std::slice::from_ref(&compacted.snapshot)
    );
    assert_eq!(compacted.snapshot.chunk_kind(), Some(ChunkKind::Snapshot));

    for (id, doc) in [(id, &doc), (id2, &doc2)] {
        let loaded = DocumentStore::new(storage.clone())
            .load_document(id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(loaded.get_heads(), doc.get_heads());
        assert_eq!(text_of(&loaded), text_of(doc));
        assert_eq!(loaded.get_changes(&[]).len(), doc.get_changes(&[]).len());
    }
}

#[tokio::test]
async fn concurrent_saves_are_all_durable() {
    let dir = tempfile::tempdir().unwrap();
    let storage = open(dir.path());
    let store = DocumentStore::new(storage.clone());
    let mut tasks = Vec::new();
    for n in 0..16u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut doc = Automerge::new();
            let mut heads = vec![];
            for i in 0..10 {
                edit(&mut doc, "n", i);
                store
                    .save_incremental(doc_id(100 + n), &doc, &heads)
                    .await
                    .unwrap();
                heads = doc.get_heads();
            }
            heads
        }));
    }
    let mut expected = Vec::new();
    for task in tasks {
        expected.push(task.await.unwrap());
    }
    let fresh = DocumentStore::new(storage);
    for (n, heads) in expected.into_iter().enumerate() {
        let doc = fresh
            .load_document(doc_id(100 + n as u8))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(doc.get_heads(), heads);
    }
}

#[tokio::test]
async fn a_corrupt_chunk_is_reported_and_other_documents_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let storage = open(dir.path());
    let store = DocumentStore::new(storage.clone());
    let (bad, good) = (doc_id(7), doc_id(8));
    let mut bad_doc = Automerge::new();
    let mut good_doc = Automerge::new();
    for i in 0..5 {
        type_text(&mut good_doc, "goed ");
        type_text(&mut bad_doc, &format!("kapot {i} "));
    }
    let snapshot = store.compact(bad, &bad_doc).await.unwrap().snapshot;
    let heads = bad_doc.get_heads();
    type_text(&mut bad_doc, "en meer");
    let chunk = store.save_incremental(bad, &bad_doc, &heads).await.unwrap();
    let chunk_key = chunk.key.unwrap();
    store.save_incremental(good, &good_doc, &[]).await.unwrap();
    let all_before = storage.load_range(StorageKey::document(bad)).await.unwrap();

    let expect_corrupt = |result: Result<Option<Automerge>, DocumentError>| match result {
        Err(DocumentError::CorruptChunk { key, problem }) => (key, problem),
        other => panic!("expected a corrupt chunk, got {other:?}"),
    };

    // Truncated incremental chunk: its bytes no longer match its key.
    let full = storage.load(chunk_key.clone()).await.unwrap().unwrap();
    storage
        .put(chunk_key.clone(), full[..full.len() / 2].to_vec())
        .await
        .unwrap();
    let (key, problem) = expect_corrupt(store.load_document(bad).await);
    assert_eq!(key, chunk_key);
    assert!(matches!(problem, ChunkProblem::HashMismatch), "{problem:?}");
    storage.put(chunk_key.clone(), full.clone()).await.unwrap();

    // A truncated chunk stored under its own hash: automerge cannot decode it.
    let truncated = full[..full.len() - 3].to_vec();
    let truncated_key = StorageKey::incremental(bad, &truncated);
    storage.put(truncated_key.clone(), truncated).await.unwrap();
    let (key, problem) = expect_corrupt(store.load_document(bad).await);
    assert_eq!(key, truncated_key);
    assert!(
        matches!(problem, ChunkProblem::Undecodable(_)),
        "{problem:?}"
    );
    storage.delete(truncated_key).await.unwrap();

    // A snapshot with a flipped byte.
    let snapshot_bytes = storage.load(snapshot.clone()).await.unwrap().unwrap();
    let mut flipped = snapshot_bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x55;
    storage.put(snapshot.clone(), flipped).await.unwrap();
    let (key, problem) = expect_corrupt(store.load_document(bad).await);
    assert_eq!(key, snapshot);
    assert!(
        matches!(problem, ChunkProblem::Undecodable(_)),
        "{problem:?}"
    );

    // Left out, the corrupt snapshot is reported and the rest loads (the changes only it held
    // are missing until a peer sends them again).
    let salvaged = store
        .load_document_skipping_corrupt(bad)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(salvaged.skipped.len(), 1);
    assert_eq!(salvaged.skipped[0].0, snapshot);
    assert!(matches!(
        salvaged.skipped[0].1,
        ChunkProblem::Undecodable(_)
    ));
    // The incremental chunk's change waits for the snapshot's changes it depends on.
    assert!(salvaged.doc.get_heads().is_empty());
    assert!(!salvaged.doc.get_missing_deps(&[]).is_empty());
    // Compacting the salvaged document never deletes the corrupt snapshot.
    let compacted = store.compact(bad, &salvaged.doc).await.unwrap();
    assert_eq!(compacted.deleted, std::slice::from_ref(&chunk_key));
    assert!(storage.load(snapshot.clone()).await.unwrap().is_some());
    // Put the compacted-away chunk back, to compare the key lists below.
    storage.put(chunk_key.clone(), full.clone()).await.unwrap();
    storage.delete(compacted.snapshot).await.unwrap();

    // The other document loads; the bad one's chunks are all still there.
    let loaded = store.load_document(good).await.unwrap().unwrap();
    assert_eq!(loaded.get_heads(), good_doc.get_heads());
    assert_eq!(
        stored_keys(&*storage, StorageKey::document(bad)).await,
        all_before
            .iter()
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
    );
    // Repaired, it loads again.
    storage.put(snapshot, snapshot_bytes).await.unwrap();
    let loaded = store.load_document(bad).await.unwrap().unwrap();
    assert_eq!(loaded.get_heads(), bad_doc.get_heads());
}

/// Set in the child process of the crash test: the data folder it writes to.
const CRASH_CHILD_ENV: &str = "DORPSKRACHT_STORAGE_CRASH_CHILD";
const CRASH_DOCS: u8 = 3;
const CRASH_ROUNDS: usize = 20;

/// A child process saves edits to three documents as fast as it can, appending each document's
/// heads to a file after every `save_incremental` returns (and compacting when due). The test
/// kills it with SIGKILL at random moments, 20 times, and checks after each kill that every
/// acknowledged head is in the stored document, which must load without error.
#[test]
fn killed_mid_write_loses_nothing_acknowledged() {
    if let Some(dir) = std::env::var_os(CRASH_CHILD_ENV) {
        crash_child(PathBuf::from(dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = SplitMix64(0x5eed_d0c5);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut acknowledged = 0;
    let started = Instant::now();
    for round in 0..CRASH_ROUNDS {
        let before = ack_bytes(dir.path());
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "killed_mid_write_loses_nothing_acknowledged",
                "--test-threads=1",
            ])
            .env(CRASH_CHILD_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until it is writing, then let it run a random while.
        let deadline = Instant::now() + Duration::from_secs(20);
        while ack_bytes(dir.path()) == before {
            assert!(
                Instant::now() < deadline,
                "round {round}: child never wrote"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "round {round}: child exited early"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_micros(rng.next() % 120_000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let storage = open(dir.path());
        let store = DocumentStore::new(storage.clone());
        acknowledged = 0;
        for n in 0..CRASH_DOCS {
            let doc = runtime
                .block_on(store.load_document(doc_id(200 + n)))
                .unwrap_or_else(|e| panic!("round {round}: doc {n} does not load: {e}"))
                .unwrap_or_default();
            for heads in acknowledged_heads(dir.path(), n) {
                for head in heads {
                    assert!(
                        doc.get_change_by_hash(&head).is_some(),
                        "round {round}: doc {n} lost acknowledged change {head}"
                    );
                }
                acknowledged += 1;
            }
        }
    }
    // The child compacted too (a small snapshot is always compacted), so kills also hit that.
    let storage = open(dir.path());
    for n in 0..CRASH_DOCS {
        let snapshots = runtime
            .block_on(storage.load_range(StorageKey::snapshots(doc_id(200 + n))))
            .unwrap();
        assert!(!snapshots.is_empty(), "doc {n} was never compacted");
    }
    assert!(
        acknowledged > CRASH_ROUNDS * CRASH_DOCS as usize,
        "too few acknowledged saves to mean anything: {acknowledged}"
    );
    eprintln!(
        "crash test: {CRASH_ROUNDS} kills, {acknowledged} acknowledged heads checked, {:?}",
        started.elapsed()
    );
}

fn crash_child(dir: PathBuf) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let store = DocumentStore::new(open(&dir));
        let mut tasks = Vec::new();
        for n in 0..CRASH_DOCS {
            let store = store.clone();
            let acks = dir.join(format!("acks-{n}.txt"));
            tasks.push(tokio::spawn(async move {
                let id = doc_id(200 + n);
                let mut doc = store.load_document(id).await.unwrap().unwrap_or_default();
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(acks)
                    .unwrap();
                let mut heads = doc.get_heads();
                // A bound, in case the parent dies without killing us.
                let stop = Instant::now() + Duration::from_secs(30);
                for i in 0.. {
                    if Instant::now() > stop {
                        break;
                    }
                    edit(&mut doc, &format!("k{}", i % 50), i);
                    type_text(&mut doc, "x");
                    let saved = store.save_incremental(id, &doc, &heads).await.unwrap();
                    heads = doc.get_heads();
                    let line: Vec<String> = heads.iter().map(ToString::to_string).collect();
                    // One write per line: a kill leaves at most an unfinished last line.
                    file.write_all(format!("{}\n", line.join(",")).as_bytes())
                        .unwrap();
                    if saved.compaction_due {
                        store.compact(id, &doc).await.unwrap();
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
}

fn ack_bytes(dir: &Path) -> u64 {
    (0..CRASH_DOCS)
        .filter_map(|n| std::fs::metadata(dir.join(format!("acks-{n}.txt"))).ok())
        .map(|m| m.len())
        .sum()
}

/// Every complete line of a document's acknowledgement file, as heads.
fn acknowledged_heads(dir: &Path, n: u8) -> Vec<Vec<ChangeHash>> {
    let text = std::fs::read_to_string(dir.join(format!("acks-{n}.txt"))).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .lines()
        .map(|line| line.split(',').map(|h| h.parse().unwrap()).collect())
        .collect()
}

/// A small seeded generator (SplitMix64), so the kill moments are the same on every run.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
