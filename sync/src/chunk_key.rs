//! Where automerge-repo stores a document's pieces: the storage-key layout that the app's repo
//! (IndexedDB) and the sync server (SQLite) both write, kept here once so they cannot drift.
//!
//! A storage key is a list of strings:
//! - `[doc_id, "incremental", sha256hex(chunk)]`: some changes of a document
//!   ([`incremental_name`]);
//! - `[doc_id, "snapshot", sha256hex(concat(hex(head) for head in sorted heads))]`: a whole
//!   document ([`snapshot_name`]);
//! - `[doc_id, "sync-state", storage_id]`: what a peer with that storage id has of a document;
//! - `["storage-adapter-id"]`: the store's own id, which peers learn in the handshake.
//!
//! Each side wraps these parts in its own key type with its own extras (the app's views and
//! refused changes, the server's check that no part contains NUL); the functions here only say
//! what the parts are.

use automerge::ChangeHash;
use sha2::{Digest, Sha256};

use crate::DocumentId;

/// The kind part of an incremental chunk's key.
pub const INCREMENTAL: &str = "incremental";
/// The kind part of a snapshot's key.
pub const SNAPSHOT: &str = "snapshot";
/// The kind part of a sync state's key.
pub const SYNC_STATE: &str = "sync-state";
/// The one part of the key under which a store keeps its own id.
pub const STORAGE_ADAPTER_ID: &str = "storage-adapter-id";

/// What a `[doc_id, kind, name]` key holds: its second part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChunkKind {
    /// Changes saved since an earlier chunk (`Automerge::save_after`).
    Incremental,
    /// The whole document (`Automerge::save`).
    Snapshot,
    /// The sync state shared with one peer's storage.
    SyncState,
}

impl ChunkKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::Incremental, Self::Snapshot, Self::SyncState];

    /// The key part: `"incremental"`, `"snapshot"` or `"sync-state"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Incremental => INCREMENTAL,
            Self::Snapshot => SNAPSHOT,
            Self::SyncState => SYNC_STATE,
        }
    }

    /// The kind whose key part is `part`, if any.
    pub fn parse(part: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == part)
    }

    /// The kind of a `[doc_id, kind, name]` key, if it is one of these.
    pub fn of_key(parts: &[String]) -> Option<Self> {
        match parts {
            [_, kind, _] => Self::parse(kind),
            _ => None,
        }
    }
}

/// `[doc_id, kind, name]`.
pub fn chunk_key(doc: DocumentId, kind: ChunkKind, name: &str) -> Vec<String> {
    vec![doc.to_string(), kind.as_str().to_owned(), name.to_owned()]
}

/// `[doc_id, "incremental", sha256hex(chunk)]`: where `chunk` is stored.
pub fn incremental_key(doc: DocumentId, chunk: &[u8]) -> Vec<String> {
    chunk_key(doc, ChunkKind::Incremental, &incremental_name(chunk))
}

/// `[doc_id, "snapshot", snapshot_name(heads)]`: where a snapshot at `heads` is stored.
pub fn snapshot_key(doc: DocumentId, heads: &[ChangeHash]) -> Vec<String> {
    chunk_key(doc, ChunkKind::Snapshot, &snapshot_name(heads))
}

/// `["storage-adapter-id"]`.
pub fn storage_adapter_id_key() -> Vec<String> {
    vec![STORAGE_ADAPTER_ID.to_owned()]
}

/// The name of an incremental chunk: lower-case hex of the SHA-256 of its bytes
/// (automerge-repo's `keyHash`).
pub fn incremental_name(chunk: &[u8]) -> String {
    sha256_hex(chunk)
}

/// The name of a snapshot at `heads` (automerge-repo's `headsHash`): the SHA-256 of the heads'
/// lower-case hex strings, concatenated in sorted order (the order `get_heads` returns them in).
pub fn snapshot_name(heads: &[ChangeHash]) -> String {
    let mut sorted = heads.to_vec();
    sorted.sort_unstable();
    let mut hasher = Sha256::new();
    for head in &sorted {
        hasher.update(hex(&head.0).as_bytes());
    }
    hex(&hasher.finalize())
}

/// Lower-case hex of the SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    //! The exact strings pinned here are what the app's repo and the server wrote before this
    //! module existed; both now build their keys from it, so a store written by either (or by
    //! JS automerge-repo) still reads.

    use super::*;

    fn doc() -> DocumentId {
        DocumentId::from_bytes([7; 16])
    }

    #[test]
    fn an_incremental_chunk_is_named_by_the_sha256_of_its_bytes() {
        // sha256("abc"), a published test vector.
        assert_eq!(
            incremental_name(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            incremental_key(doc(), b"abc"),
            [
                doc().to_string().as_str(),
                "incremental",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            ]
        );
    }

    #[test]
    fn a_snapshot_is_named_by_its_sorted_hex_heads() {
        let a = ChangeHash([1; 32]);
        let b = ChangeHash([2; 32]);
        // What automerge-repo 2.x's `headsHash` gives for these heads (computed once with its
        // dist/storage/keyHash.js under node), and what both sides wrote before.
        let expected = "7619ddd5684b0b01ec5fdc457a89913cef8aa0b967f8dac2a030d77c70dfa9c7";
        assert_eq!(snapshot_name(&[a, b]), expected);
        assert_eq!(snapshot_name(&[b, a]), expected);
        assert_eq!(sha256_hex(format!("{a}{b}").as_bytes()), expected);
        assert_eq!(
            snapshot_key(doc(), &[a, b]),
            [doc().to_string().as_str(), "snapshot", expected]
        );
        // No heads: the hash of nothing.
        assert_eq!(
            snapshot_name(&[]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn kinds_are_automerge_repos_part_names() {
        assert_eq!(ChunkKind::Incremental.as_str(), "incremental");
        assert_eq!(ChunkKind::Snapshot.as_str(), "snapshot");
        assert_eq!(ChunkKind::SyncState.as_str(), "sync-state");
        for kind in ChunkKind::ALL {
            assert_eq!(ChunkKind::parse(kind.as_str()), Some(kind));
            assert_eq!(ChunkKind::of_key(&chunk_key(doc(), kind, "x")), Some(kind));
        }
        assert_eq!(ChunkKind::parse("view"), None);
        assert_eq!(ChunkKind::of_key(&storage_adapter_id_key()), None);
        assert_eq!(storage_adapter_id_key(), ["storage-adapter-id"]);
        assert_eq!(
            chunk_key(doc(), ChunkKind::SyncState, "server"),
            [doc().to_string().as_str(), "sync-state", "server"]
        );
    }
}
