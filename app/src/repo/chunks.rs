//! One document's chunks in storage, sans-IO: how to load them, what to write next, and what
//! compaction may delete.
//!
//! Like automerge-repo, a tab saves the changes since its last save as an incremental chunk and
//! now and then replaces the chunks it knows of by one snapshot. It deletes only chunks it loaded
//! or wrote itself, so a chunk another tab wrote meanwhile survives (and is read at the next
//! load). Compaction writes the snapshot and deletes the old chunks in one transaction.

use std::collections::BTreeMap;

use ::sync::DocumentId;
use automerge::{Automerge, ChangeHash, sync};
use sha2::{Digest, Sha256};

use super::storage::{ChunkKind, StorageKey};

/// Incremental chunks are merged into a snapshot once they add up to at least this many bytes
/// and at least the size of the snapshots. (automerge-repo compacts at every save while the
/// snapshot is under 1 KiB; we let small incremental chunks pile up to 1 KiB instead.)
const MIN_COMPACTION_BYTES: usize = 1024;
/// ... or once there are this many of them, whatever their size: a large document edited a
/// little at a time would otherwise pile up thousands of tiny chunks, each loaded separately.
const MAX_INCREMENTAL_CHUNKS: usize = 64;

/// One document's storage bookkeeping in this tab.
#[derive(Debug)]
pub(crate) struct Chunks {
    document: DocumentId,
    /// Chunks this tab loaded or wrote, with their kind and size.
    known: BTreeMap<StorageKey, (ChunkKind, usize)>,
    /// The heads stored on this device, as far as this tab knows.
    saved_heads: Vec<ChangeHash>,
}

/// A batch for [`super::Storage::write`], and the heads it stores.
#[derive(Debug)]
pub(crate) struct Write {
    pub puts: Vec<(StorageKey, Vec<u8>)>,
    pub deletes: Vec<StorageKey>,
    pub heads: Vec<ChangeHash>,
    kinds: Vec<ChunkKind>,
}

/// A document read from storage.
pub(crate) struct Loaded {
    pub doc: Automerge,
    pub chunks: Chunks,
    /// The heads a peer's storage had in common with us, from stored sync states.
    pub shared_heads: Option<Vec<ChangeHash>>,
}

/// Builds a document from all entries stored under its prefix: snapshots first, then the
/// incremental chunks. Like automerge-repo, what does not parse is skipped (automerge loads the
/// readable part of a damaged chunk); a chunk it rejects outright is left in storage.
pub(crate) fn load(document: DocumentId, entries: Vec<(StorageKey, Vec<u8>)>) -> Loaded {
    let mut doc = Automerge::new();
    let mut known = BTreeMap::new();
    let mut shared_heads = None;
    let (mut snapshots, mut incrementals) = (Vec::new(), Vec::new());
    for (key, bytes) in entries {
        match key.kind() {
            Some(ChunkKind::Snapshot) => snapshots.push((key, bytes)),
            Some(ChunkKind::Incremental) => incrementals.push((key, bytes)),
            Some(ChunkKind::SyncState) => {
                if let Ok(state) = sync::State::decode(&bytes) {
                    shared_heads = Some(state.shared_heads);
                }
            }
            None => {}
        }
    }
    for (key, bytes) in snapshots.into_iter().chain(incrementals) {
        let kind = key.kind().expect("sorted by kind above");
        if doc.load_incremental(&bytes).is_ok() {
            known.insert(key, (kind, bytes.len()));
        }
    }
    let saved_heads = doc.get_heads();
    Loaded {
        doc,
        chunks: Chunks {
            document,
            known,
            saved_heads,
        },
        shared_heads,
    }
}

impl Chunks {
    /// A document with nothing stored yet.
    #[cfg(test)]
    pub fn new(document: DocumentId) -> Self {
        Self {
            document,
            known: BTreeMap::new(),
            saved_heads: Vec::new(),
        }
    }

    /// Whether everything in `doc` is stored (as far as this tab knows).
    pub fn is_saved(&self, doc: &Automerge) -> bool {
        self.saved_heads == doc.get_heads()
    }

    /// What to write to store `doc`'s unsaved changes: an incremental chunk, or a snapshot
    /// replacing the known chunks once they have grown large. `None` if all is stored.
    pub fn next_write(&self, doc: &Automerge) -> Option<Write> {
        if self.is_saved(doc) {
            return None;
        }
        let bytes = doc.save_after(&self.saved_heads);
        let size = |kind| {
            self.known
                .values()
                .filter(|(k, _)| *k == kind)
                .map(|(_, size)| size)
                .sum::<usize>()
        };
        let incremental = size(ChunkKind::Incremental) + bytes.len();
        let chunks = self
            .known
            .values()
            .filter(|(k, _)| *k == ChunkKind::Incremental)
            .count()
            + 1;
        if incremental >= size(ChunkKind::Snapshot).max(MIN_COMPACTION_BYTES)
            || chunks >= MAX_INCREMENTAL_CHUNKS
        {
            return Some(self.compaction(doc));
        }
        let key = StorageKey::chunk(self.document, ChunkKind::Incremental, &sha256_hex(&bytes));
        Some(Write {
            puts: vec![(key, bytes)],
            deletes: Vec::new(),
            heads: doc.get_heads(),
            kinds: vec![ChunkKind::Incremental],
        })
    }

    /// A snapshot of `doc` that replaces every chunk this tab knows of.
    pub fn compaction(&self, doc: &Automerge) -> Write {
        let heads = doc.get_heads();
        let key = StorageKey::chunk(self.document, ChunkKind::Snapshot, &heads_hash(&heads));
        Write {
            deletes: self.known.keys().filter(|k| **k != key).cloned().collect(),
            puts: vec![(key, doc.save())],
            heads,
            kinds: vec![ChunkKind::Snapshot],
        }
    }

    /// Books a write that storage finished.
    pub fn written(&mut self, write: &Write) {
        for key in &write.deletes {
            self.known.remove(key);
        }
        for ((key, bytes), kind) in write.puts.iter().zip(&write.kinds) {
            self.known.insert(key.clone(), (*kind, bytes.len()));
        }
        // Writes finish in the order they started (IndexedDB runs overlapping read-write
        // transactions in order) and a document only grows, so the last write's heads cover
        // everything stored before.
        self.saved_heads = write.heads.clone();
    }

    /// How many chunks this tab knows of.
    #[cfg(test)]
    pub fn known_chunks(&self) -> usize {
        self.known.len()
    }
}

/// A sync state to store under `[document, "sync-state", storageId]`: the heads both sides have.
pub(crate) fn sync_state_bytes(shared_heads: Vec<ChangeHash>) -> Vec<u8> {
    let mut state = sync::State::new();
    state.shared_heads = shared_heads;
    state.encode()
}

/// Lower-case hex SHA-256, automerge-repo's chunk name.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// automerge-repo's snapshot name: SHA-256 of the hex heads, concatenated.
pub(crate) fn heads_hash(heads: &[ChangeHash]) -> String {
    let text: String = heads.iter().map(ChangeHash::to_string).collect();
    sha256_hex(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use automerge::{ROOT, transaction::Transactable};

    use super::*;

    fn edit(doc: &mut Automerge, key: &str, value: &str) {
        let mut tx = doc.transaction();
        tx.put(ROOT, key, value).unwrap();
        tx.commit();
    }

    #[test]
    fn sha256_matches_a_known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn small_edits_become_incremental_chunks_then_one_snapshot() {
        let id = DocumentId::from_bytes([1; 16]);
        let mut chunks = Chunks::new(id);
        let mut doc = Automerge::new();
        assert!(chunks.next_write(&doc).is_none(), "nothing to store");
        edit(&mut doc, "title", "Dorpshuis");
        let write = chunks.next_write(&doc).unwrap();
        assert_eq!(write.puts[0].0.kind(), Some(ChunkKind::Incremental));
        assert_eq!(write.puts[0].0.name(), Some(&*sha256_hex(&write.puts[0].1)));
        chunks.written(&write);
        assert!(chunks.is_saved(&doc));
        // Keep editing until the incremental chunks outgrow the threshold.
        let mut writes = 1;
        loop {
            edit(&mut doc, "text", &"x".repeat(100 + writes));
            let write = chunks.next_write(&doc).unwrap();
            chunks.written(&write);
            writes += 1;
            if write.puts[0].0.kind() == Some(ChunkKind::Snapshot) {
                assert_eq!(write.deletes.len(), writes - 1, "all earlier chunks go");
                assert_eq!(write.puts[0].0.name(), Some(&*heads_hash(&doc.get_heads())));
                break;
            }
            assert!(writes < 20, "compaction never came");
        }
        assert_eq!(chunks.known_chunks(), 1);
    }

    #[test]
    fn many_tiny_chunks_next_to_a_large_snapshot_are_compacted() {
        let id = DocumentId::from_bytes([3; 16]);
        let mut chunks = Chunks::new(id);
        let mut doc = Automerge::new();
        // Text that does not compress, so the snapshot stays large.
        let mut seed = 1u32;
        let big: String = (0..50_000)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                char::from(b'a' + (seed >> 16) as u8 % 26)
            })
            .collect();
        edit(&mut doc, "text", &big);
        let write = chunks.compaction(&doc);
        chunks.written(&write);
        let mut incremental = 0;
        loop {
            edit(&mut doc, "n", &incremental.to_string());
            let write = chunks.next_write(&doc).unwrap();
            chunks.written(&write);
            if write.puts[0].0.kind() == Some(ChunkKind::Snapshot) {
                break;
            }
            incremental += 1;
        }
        assert_eq!(incremental, MAX_INCREMENTAL_CHUNKS - 1);
        assert_eq!(chunks.known_chunks(), 1);
    }

    #[test]
    fn load_reads_snapshots_and_chunks_and_skips_garbage() {
        let id = DocumentId::from_bytes([2; 16]);
        let mut doc = Automerge::new();
        edit(&mut doc, "a", "1");
        let snapshot = doc.save();
        let heads = doc.get_heads();
        edit(&mut doc, "b", "2");
        let incremental = doc.save_after(&heads);
        let entries = vec![
            (
                StorageKey::chunk(id, ChunkKind::Incremental, &sha256_hex(&incremental)),
                incremental,
            ),
            (
                StorageKey::chunk(id, ChunkKind::Incremental, "bad"),
                vec![1, 2, 3],
            ),
            (
                StorageKey::chunk(id, ChunkKind::Snapshot, "s"),
                snapshot.clone(),
            ),
            (
                StorageKey::chunk(id, ChunkKind::SyncState, "server"),
                sync_state_bytes(heads.clone()),
            ),
        ];
        let loaded = load(id, entries);
        assert_eq!(loaded.doc.get_heads(), doc.get_heads());
        assert_eq!(loaded.shared_heads, Some(heads));
        assert!(loaded.chunks.is_saved(&loaded.doc));
        let compaction = loaded.chunks.compaction(&loaded.doc);
        assert_eq!(compaction.deletes.len(), 3, "all chunks it read");
    }
}
