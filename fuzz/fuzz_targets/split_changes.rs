//! `sync::split_changes` on arbitrary bytes, and what it splits fed to
//! `Automerge::load_incremental` on a fresh document: no panic, bounded memory (xtask runs it
//! with `-rss_limit_mb=2048 -malloc_limit_mb=512`).
//!
//! Input: the first byte picks how the rest becomes a sync message's change list: even, one
//! byte string (automerge's V2 message: all changes end to end); odd, one byte string per
//! change chunk, cut before every chunk magic (V1: one change each).

#![no_main]

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{Automerge, sync::ChunkList};
use libfuzzer_sys::fuzz_target;

/// The bytes every automerge storage chunk starts with.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

fn chunk_list(mode: u8, bytes: &[u8]) -> ChunkList {
    if mode % 2 == 0 {
        return ChunkList::from(bytes.to_vec());
    }
    let mut chunks = Vec::new();
    let mut start = 0;
    for i in 1..bytes.len() {
        if bytes[i..].starts_with(&MAGIC) {
            chunks.push(bytes[start..i].to_vec());
            start = i;
        }
    }
    chunks.push(bytes[start..].to_vec());
    ChunkList::from(chunks)
}

fuzz_target!(init: dorpskracht_fuzz::tolerate_known_panics(), |data: &[u8]| {
    // automerge's one known panic on malformed bytes unwinds to here and is let go (see
    // `tolerate_known_panics`); any other panic aborts in the hook, a crash for libFuzzer.
    let _ = catch_unwind(AssertUnwindSafe(|| run(data)));
});

fn run(data: &[u8]) {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let chunks = chunk_list(mode, bytes);
    let Some(changes) = sync::split_changes(&chunks) else {
        return;
    };
    // What splits is whole changes: each one's bytes load on a fresh document (whether its
    // dependencies are there or not), and so do all of them together.
    let mut together = Automerge::new();
    for change in &changes {
        let mut alone = Automerge::new();
        let _ = alone.load_incremental(change.raw_bytes());
        let _ = together.load_incremental(change.raw_bytes());
    }
    // Every non-empty chunk held at least one change (raw bytes are decompressed, so their
    // lengths need not add up to the chunks').
    let non_empty = chunks.iter().filter(|c| !c.is_empty()).count();
    assert!(changes.len() >= non_empty, "split_changes dropped a chunk");
    let _ = together.get_heads();
}
