//! [`StorageKey`]: the path of one stored value, in automerge-repo's layout.

use std::fmt;

use automerge::ChangeHash;
use sync::{
    DocumentId,
    chunk_key::{self, INCREMENTAL, SNAPSHOT, SYNC_STATE},
};

pub use sync::chunk_key::ChunkKind;

/// The key of one stored value: a list of strings, as automerge-repo's `StorageKey`.
///
/// The layout is automerge-repo's (its parts and chunk names come from [`sync::chunk_key`],
/// which the app's repo builds its keys on too), so a store written by either can be read by
/// the other:
/// - `[doc_id, "incremental", sha256hex(chunk)]`: some changes of a document;
/// - `[doc_id, "snapshot", sha256hex(concat(hex(head) for head in heads))]`: a whole document;
/// - `[doc_id, "sync-state", storage_id]`: what a peer with that storage id has of a document;
/// - `["storage-adapter-id"]`: this store's own id, which peers learn in the handshake.
///
/// A part may be any string without a NUL character (backends use NUL as the part separator,
/// which keeps a prefix from over-matching: `["ab"]` is not a prefix of `["abc"]`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageKey(Vec<String>);

/// A key part contained a NUL character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a storage key part must not contain NUL: {part:?}")]
pub struct InvalidStorageKey {
    pub part: String,
}

impl StorageKey {
    /// A key from its parts; the empty key is the prefix of every key.
    pub fn new<I, S>(parts: I) -> Result<Self, InvalidStorageKey>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let parts: Vec<String> = parts.into_iter().map(Into::into).collect();
        if let Some(part) = parts.iter().find(|p| p.contains('\0')) {
            return Err(InvalidStorageKey { part: part.clone() });
        }
        Ok(Self(parts))
    }

    /// The parts, in order.
    pub fn parts(&self) -> &[String] {
        &self.0
    }

    /// Whether `prefix`'s parts are the first parts of this key (whole parts, never part of one).
    pub fn starts_with(&self, prefix: &StorageKey) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// `["storage-adapter-id"]`.
    pub fn storage_adapter_id() -> Self {
        Self(chunk_key::storage_adapter_id_key())
    }

    /// `[doc_id]`: the prefix of everything stored for a document.
    pub fn document(doc: DocumentId) -> Self {
        Self(vec![doc.to_string()])
    }

    /// `[doc_id, "incremental"]`: the prefix of a document's incremental chunks.
    pub fn incrementals(doc: DocumentId) -> Self {
        Self(vec![doc.to_string(), INCREMENTAL.into()])
    }

    /// `[doc_id, "snapshot"]`: the prefix of a document's snapshots.
    pub fn snapshots(doc: DocumentId) -> Self {
        Self(vec![doc.to_string(), SNAPSHOT.into()])
    }

    /// `[doc_id, "sync-state"]`: the prefix of a document's stored sync states.
    pub fn sync_states(doc: DocumentId) -> Self {
        Self(vec![doc.to_string(), SYNC_STATE.into()])
    }

    /// `[doc_id, "incremental", sha256hex(chunk)]`: where `chunk` is stored.
    pub fn incremental(doc: DocumentId, chunk: &[u8]) -> Self {
        Self(chunk_key::incremental_key(doc, chunk))
    }

    /// `[doc_id, "snapshot", snapshot_name(heads)]`: where a snapshot at `heads` is stored.
    pub fn snapshot(doc: DocumentId, heads: &[ChangeHash]) -> Self {
        Self(chunk_key::snapshot_key(doc, heads))
    }

    /// `[doc_id, "sync-state", storage_id]`: a peer's sync state; the storage id comes from the
    /// peer, so it is checked.
    pub fn sync_state(doc: DocumentId, storage_id: &str) -> Result<Self, InvalidStorageKey> {
        Self::new(chunk_key::chunk_key(doc, ChunkKind::SyncState, storage_id))
    }

    /// Whether this is a document chunk key (a snapshot or an incremental chunk, not a sync
    /// state), and of which kind.
    pub fn chunk_kind(&self) -> Option<ChunkKind> {
        ChunkKind::of_key(&self.0).filter(|kind| *kind != ChunkKind::SyncState)
    }
}

impl fmt::Display for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, part) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{part:?}")?;
        }
        f.write_str("]")
    }
}

impl fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorageKey{self}")
    }
}

#[cfg(test)]
mod tests {
    use sync::chunk_key::{sha256_hex, snapshot_name as heads_hash};

    use super::*;

    fn doc() -> DocumentId {
        DocumentId::from_bytes([7; 16])
    }

    #[test]
    fn chunk_keys_follow_automerge_repo_layout() {
        let key = StorageKey::incremental(doc(), b"abc");
        assert_eq!(key.parts()[0], doc().to_string());
        assert_eq!(key.parts()[1], "incremental");
        // sha256("abc"), a published test vector.
        assert_eq!(
            key.parts()[2],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(key.chunk_kind(), Some(ChunkKind::Incremental));
        assert!(key.starts_with(&StorageKey::incrementals(doc())));
        assert!(key.starts_with(&StorageKey::document(doc())));
        assert!(!key.starts_with(&StorageKey::snapshots(doc())));
        assert_eq!(
            StorageKey::storage_adapter_id().parts(),
            ["storage-adapter-id"]
        );
        assert_eq!(StorageKey::storage_adapter_id().chunk_kind(), None);
    }

    #[test]
    fn heads_hash_hashes_the_sorted_hex_heads() {
        let a = ChangeHash([1; 32]);
        let b = ChangeHash([2; 32]);
        let expected = sha256_hex(format!("{a}{b}").as_bytes());
        assert_eq!(heads_hash(&[a, b]), expected);
        assert_eq!(heads_hash(&[b, a]), expected);
        // What automerge-repo 2.x's `headsHash` gives for these heads (computed once with its
        // dist/storage/keyHash.js under node).
        assert_eq!(
            expected,
            "7619ddd5684b0b01ec5fdc457a89913cef8aa0b967f8dac2a030d77c70dfa9c7"
        );
        // No heads: the hash of nothing.
        assert_eq!(
            heads_hash(&[]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    /// The app's repo builds its keys on the same `sync::chunk_key` functions (its
    /// `repo/src/storage.rs` has the twin of this test): the server's key for a document's
    /// chunk is the app's, part for part.
    #[test]
    fn keys_are_the_shared_layouts() {
        let chunk = b"some changes";
        assert_eq!(
            StorageKey::incremental(doc(), chunk).parts(),
            chunk_key::incremental_key(doc(), chunk)
        );
        let heads = [ChangeHash([2; 32]), ChangeHash([1; 32])];
        assert_eq!(
            StorageKey::snapshot(doc(), &heads).parts(),
            chunk_key::snapshot_key(doc(), &heads)
        );
        assert_eq!(
            StorageKey::sync_state(doc(), "peer").unwrap().parts(),
            chunk_key::chunk_key(doc(), ChunkKind::SyncState, "peer")
        );
        assert_eq!(
            StorageKey::storage_adapter_id().parts(),
            chunk_key::storage_adapter_id_key()
        );
    }

    #[test]
    fn prefixes_match_whole_parts_only() {
        let ab = StorageKey::new(["ab", "x"]).unwrap();
        let abc = StorageKey::new(["abc", "x"]).unwrap();
        let prefix = StorageKey::new(["ab"]).unwrap();
        assert!(ab.starts_with(&prefix));
        assert!(!abc.starts_with(&prefix));
        assert!(abc.starts_with(&StorageKey::new(Vec::<String>::new()).unwrap()));
    }

    #[test]
    fn nul_in_a_part_is_rejected() {
        assert_eq!(
            StorageKey::sync_state(doc(), "peer\0evil"),
            Err(InvalidStorageKey {
                part: "peer\0evil".into()
            })
        );
    }
}
