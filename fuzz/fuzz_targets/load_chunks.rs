//! Loading a document's stored chunks the way the server does when it opens a document:
//! `sync_server::storage::DocumentStore::load_document` and `load_document_skipping_corrupt`
//! over an in-memory `Storage` holding arbitrary chunks in automerge-repo's key layout.
//!
//! Input: two flag bytes, then the chunks, cut before every chunk magic. Bit i of the first
//! flag byte stores chunk i (mod 8) as a snapshot instead of an incremental chunk; bit i of the
//! second stores an incremental chunk under a key that is not its hash.
//!
//! Checks: no panic, bounded memory (xtask's libFuzzer limits); a strict load that succeeds is
//! matched by the salvaging load with the same heads and nothing skipped; a loaded document
//! saves and loads again with the same heads.

#![no_main]

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, OnceLock},
};

use automerge::{Automerge, ChangeHash};
use libfuzzer_sys::fuzz_target;
use sync::DocumentId;
use sync_server::storage::{DocumentStore, MemoryStorage, Storage, StorageKey, WriteOp};
use tokio::runtime::Runtime;

/// The bytes every automerge storage chunk starts with.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime")
    })
}

fn chunks(bytes: &[u8]) -> Vec<&[u8]> {
    let mut chunks = Vec::new();
    let mut start = 0;
    for i in 1..bytes.len() {
        if bytes[i..].starts_with(&MAGIC) {
            chunks.push(&bytes[start..i]);
            start = i;
        }
    }
    if start < bytes.len() {
        chunks.push(&bytes[start..]);
    }
    chunks
}

fuzz_target!(init: dorpskracht_fuzz::tolerate_known_panics(), |data: &[u8]| {
    // automerge's one known panic on malformed bytes unwinds to here and is let go (see
    // `tolerate_known_panics`); any other panic aborts in the hook, a crash for libFuzzer.
    let _ = catch_unwind(AssertUnwindSafe(|| run(data)));
});

fn run(data: &[u8]) {
    let [snapshots, bad_keys, rest @ ..] = data else {
        return;
    };
    let doc = DocumentId::from_bytes([7; 16]);
    let mut writes = Vec::new();
    for (i, chunk) in chunks(rest).into_iter().enumerate() {
        let bit = 1u8 << (i % 8);
        let key = if snapshots & bit != 0 {
            // A snapshot's name is its heads; any name will do, as long as they differ.
            let heads = [ChangeHash([i as u8; 32])];
            StorageKey::snapshot(doc, &heads)
        } else if bad_keys & bit != 0 {
            StorageKey::incremental(doc, &[i as u8])
        } else {
            StorageKey::incremental(doc, chunk)
        };
        writes.push(WriteOp::Put {
            key,
            data: chunk.to_vec(),
        });
    }
    let storage = Arc::new(MemoryStorage::new());
    let rt = runtime();
    rt.block_on(storage.write(writes))
        .expect("an in-memory write");
    let store = DocumentStore::new(storage);
    let strict = rt.block_on(store.load_document(doc));
    let salvaged = rt.block_on(store.load_document_skipping_corrupt(doc));
    if let Ok(Some(loaded)) = &strict {
        let salvaged = salvaged
            .as_ref()
            .unwrap_or_else(|e| panic!("a strict load worked, the salvaging one failed: {e}"))
            .as_ref()
            .expect("a strict load found the document, the salvaging one did not");
        assert!(
            salvaged.skipped.is_empty(),
            "skipped chunks of a good document"
        );
        assert_eq!(salvaged.doc.get_heads(), loaded.get_heads());
    }
    for doc in [
        strict.ok().flatten(),
        salvaged.ok().flatten().map(|s| s.doc),
    ]
    .into_iter()
    .flatten()
    {
        let heads = doc.get_heads();
        let again = Automerge::load(&doc.save())
            .unwrap_or_else(|e| panic!("a loaded document's save does not load: {e}"));
        assert_eq!(again.get_heads(), heads, "save and load changed the heads");
    }
}
