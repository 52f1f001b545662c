//! One document's chunks in storage, sans-IO: how to load them, what to write next, and what
//! compaction may delete.
//!
//! Like automerge-repo, a tab saves the changes since its last save as an incremental chunk and
//! now and then replaces the chunks it knows of by one snapshot. It deletes only chunks it loaded
//! or wrote itself, so a chunk another tab wrote meanwhile survives (and is read at the next
//! load). Compaction writes the snapshot and deletes the old chunks in one transaction.
//!
//! Next to the chunks the app may keep views (`[document, "view", name]`): something computed
//! from the document, recorded with the keys of the chunks it was computed from. Chunk keys name
//! their content (an incremental chunk by the hash of its bytes, a snapshot by the document's
//! heads), so when the chunks stored at the next load have the same keys, the view is exactly
//! the document's state and can be shown before the document is loaded.

use std::collections::{BTreeMap, BTreeSet};

use ::sync::DocumentId;
use automerge::{Automerge, ChangeHash, sync};

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
    /// Chunks found at the load that automerge rejected: left in storage, so a view lists them.
    skipped: BTreeSet<StorageKey>,
}

/// A view stored next to a document (see [`super::Repo::find_with_view`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredView {
    /// It was computed from exactly the chunks stored now, so it shows the document's state.
    /// Otherwise chunks were stored since (by another tab, or changes that arrived after the
    /// view was last written): it shows an older state.
    pub exact: bool,
    /// What the app stored.
    pub bytes: Vec<u8>,
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
    /// The views stored next to it, by name, as stored (chunk list and payload).
    pub views: BTreeMap<String, Vec<u8>>,
}

/// The view named `name` among a document's stored entries, and whether it was computed from
/// exactly the chunks among them.
pub(crate) fn find_view(entries: &[(StorageKey, Vec<u8>)], name: &str) -> Option<StoredView> {
    let (_, record) = entries.iter().find(|(k, _)| k.view_name() == Some(name))?;
    let (listed, payload) = split_view_record(record)?;
    let stored: BTreeSet<String> = entries
        .iter()
        .map(|(k, _)| k)
        .filter(|k| is_chunk(k))
        .map(chunk_label)
        .collect();
    Some(StoredView {
        exact: listed == stored,
        bytes: payload.to_vec(),
    })
}

fn is_chunk(key: &StorageKey) -> bool {
    matches!(
        key.kind(),
        Some(ChunkKind::Snapshot | ChunkKind::Incremental)
    )
}

/// A chunk's key without its document: `kind/name`.
fn chunk_label(key: &StorageKey) -> String {
    key.parts()[1..].join("/")
}

/// A view as stored: the labels of the chunks it was computed from, one a line, an empty line,
/// then the app's bytes.
fn view_record<'a>(chunks: impl Iterator<Item = &'a StorageKey>, payload: &[u8]) -> Vec<u8> {
    let mut labels: Vec<String> = chunks.map(chunk_label).collect();
    labels.sort_unstable();
    let mut record = Vec::with_capacity(labels.len() * 80 + payload.len() + 1);
    for label in labels {
        record.extend_from_slice(label.as_bytes());
        record.push(b'\n');
    }
    record.push(b'\n');
    record.extend_from_slice(payload);
    record
}

/// The chunk labels and the payload of a view record; `None` if it is not one.
fn split_view_record(record: &[u8]) -> Option<(BTreeSet<String>, &[u8])> {
    let mut labels = BTreeSet::new();
    let mut rest = record;
    loop {
        let end = rest.iter().position(|&b| b == b'\n')?;
        let (line, after) = (&rest[..end], &rest[end + 1..]);
        rest = after;
        if line.is_empty() {
            return Some((labels, rest));
        }
        labels.insert(std::str::from_utf8(line).ok()?.to_owned());
    }
}

/// Builds a document from all entries stored under its prefix: snapshots first, then the
/// incremental chunks. Like automerge-repo, what does not parse is skipped (automerge loads the
/// readable part of a damaged chunk); a chunk it rejects outright is left in storage.
pub(crate) fn load(document: DocumentId, entries: Vec<(StorageKey, Vec<u8>)>) -> Loaded {
    let mut doc = Automerge::new();
    let mut known = BTreeMap::new();
    let mut shared_heads = None;
    let mut views = BTreeMap::new();
    let mut skipped = BTreeSet::new();
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
            None => {
                if let Some(name) = key.view_name() {
                    views.insert(name.to_owned(), bytes);
                }
            }
        }
    }
    for (key, bytes) in snapshots.into_iter().chain(incrementals) {
        let kind = key.kind().expect("sorted by kind above");
        if doc.load_incremental(&bytes).is_ok() {
            known.insert(key, (kind, bytes.len()));
        } else {
            skipped.insert(key);
        }
    }
    let saved_heads = doc.get_heads();
    Loaded {
        doc,
        chunks: Chunks {
            document,
            known,
            saved_heads,
            skipped,
        },
        shared_heads,
        views,
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
            skipped: BTreeSet::new(),
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
        let key = StorageKey::incremental(self.document, &bytes);
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
        let key = StorageKey::snapshot(self.document, &heads);
        Write {
            deletes: self.known.keys().filter(|k| **k != key).cloned().collect(),
            puts: vec![(key, doc.save())],
            heads,
            kinds: vec![ChunkKind::Snapshot],
        }
    }

    /// `payload` as a view of `doc` to store, recording the chunks stored now; `None` while `doc`
    /// has changes not stored yet (the view would show a state no stored chunks hold).
    pub fn view_record(&self, doc: &Automerge, payload: &[u8]) -> Option<Vec<u8>> {
        self.is_saved(doc)
            .then(|| view_record(self.known.keys().chain(&self.skipped), payload))
    }

    /// Whether a stored view `record` was computed from the chunks stored now (as far as this
    /// tab knows) and `doc` has nothing more.
    pub fn is_current_view(&self, doc: &Automerge, record: &[u8]) -> bool {
        let stored: BTreeSet<String> = self
            .known
            .keys()
            .chain(&self.skipped)
            .map(chunk_label)
            .collect();
        self.is_saved(doc) && split_view_record(record).is_some_and(|(listed, _)| listed == stored)
    }

    /// The document was rebuilt from `base` (heads stored chunks hold) after the server
    /// refused changes: what is stored beyond `base` is no longer the document's, so the next
    /// write must not count on it (see [`Chunks::compaction`], which replaces it all).
    pub fn rebased(&mut self, base: &[ChangeHash]) {
        self.saved_heads = base.to_vec();
    }

    /// Books a write that storage finished.
    pub fn written(&mut self, write: &Write) {
        for key in &write.deletes {
            self.known.remove(key);
        }
        // Puts beyond `kinds` are not chunks (refused changes kept aside).
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

#[cfg(test)]
mod tests {
    use ::sync::chunk_key::{sha256_hex, snapshot_name as heads_hash};
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

    #[test]
    fn a_view_is_exact_only_for_the_chunks_it_was_computed_from() {
        let id = DocumentId::from_bytes([4; 16]);
        let mut doc = Automerge::new();
        edit(&mut doc, "a", "1");
        let mut chunks = Chunks::new(id);
        let write = chunks.next_write(&doc).unwrap();
        chunks.written(&write);
        let record = chunks
            .view_record(&doc, b"page\n\nwith blank lines")
            .unwrap();
        assert!(chunks.is_current_view(&doc, &record));
        let mut entries = write.puts.clone();
        entries.push((StorageKey::view(id, "board"), record.clone()));
        entries.push((
            StorageKey::chunk(id, ChunkKind::SyncState, "server"),
            vec![0],
        ));
        let view = find_view(&entries, "board").unwrap();
        assert!(view.exact);
        assert_eq!(view.bytes, b"page\n\nwith blank lines");
        assert_eq!(find_view(&entries, "other"), None);
        // Loading keeps the record, and the reloaded tab sees it as current.
        let loaded = load(id, entries.clone());
        assert!(
            loaded
                .chunks
                .is_current_view(&loaded.doc, &loaded.views["board"])
        );

        // An edit not yet stored: no view of it, and the old one is not current.
        edit(&mut doc, "b", "2");
        assert_eq!(chunks.view_record(&doc, b"x"), None);
        assert!(!chunks.is_current_view(&doc, &record));
        // Stored (by this tab or another): the old view is no longer exact.
        let write = chunks.next_write(&doc).unwrap();
        chunks.written(&write);
        entries.extend(write.puts.clone());
        assert!(!find_view(&entries, "board").unwrap().exact);
        // A damaged record is no view.
        entries.retain(|(k, _)| k.view_name().is_none());
        entries.push((StorageKey::view(id, "board"), b"no blank line".to_vec()));
        assert_eq!(find_view(&entries, "board"), None);
    }
}
