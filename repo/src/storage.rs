//! The key-value store under the repo, in automerge-repo's layout: keys are arrays of strings,
//! read back by prefix.

use std::{cell::RefCell, collections::BTreeMap, fmt, rc::Rc};

use sync::{DocumentId, StorageId, chunk_key};

pub use sync::chunk_key::ChunkKind;

/// A storage key: `[docId, "incremental", sha256hex(bytes)]`, `[docId, "snapshot",
/// sha256hex(heads)]` or `[docId, "sync-state", storageId]`, as automerge-repo writes them (the
/// parts and names come from [`sync::chunk_key`], which the server's storage builds on too),
/// plus this app's own views and refused changes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StorageKey(Vec<String>);

/// The kind part of a view's key.
const VIEW: &str = "view";

/// The kind part of a refused change's key.
const REFUSED: &str = "refused";

impl StorageKey {
    pub fn new(parts: Vec<String>) -> Self {
        Self(parts)
    }

    /// `[document, kind, name]`.
    pub fn chunk(document: DocumentId, kind: ChunkKind, name: &str) -> Self {
        Self(chunk_key::chunk_key(document, kind, name))
    }

    /// `[document, "incremental", sha256hex(chunk)]`: where the incremental chunk `chunk` is
    /// stored.
    pub fn incremental(document: DocumentId, chunk: &[u8]) -> Self {
        Self(chunk_key::incremental_key(document, chunk))
    }

    /// `[document, "snapshot", sha256hex(concat(hex(head)))]`: where a snapshot at `heads` is
    /// stored.
    pub fn snapshot(document: DocumentId, heads: &[automerge::ChangeHash]) -> Self {
        Self(chunk_key::snapshot_key(document, heads))
    }

    /// `[document, "view", name]`: something the app computed from the document's stored chunks
    /// (see [`super::Repo::find_with_view`]). automerge-repo's loaders skip keys of kinds they do
    /// not know, so a JS repo on the same origin still reads the document.
    pub fn view(document: DocumentId, name: &str) -> Self {
        Self(vec![document.to_string(), VIEW.to_owned(), name.to_owned()])
    }

    /// `[document, "refused", hash]`: a change of this device's that the server refused, kept
    /// (not loaded) so that what a resident typed is never silently lost. Like views, a kind
    /// automerge-repo's loaders skip.
    pub fn refused(document: DocumentId, change: &automerge::ChangeHash) -> Self {
        Self(vec![
            document.to_string(),
            REFUSED.to_owned(),
            change.to_string(),
        ])
    }

    /// Whether this is a `[document, "refused", hash]` key.
    pub fn is_refused(&self) -> bool {
        matches!(self.0.as_slice(), [_, kind, _] if kind == REFUSED)
    }

    /// The name of a `[document, "view", name]` key, if it is one.
    pub fn view_name(&self) -> Option<&str> {
        match self.0.as_slice() {
            [_, kind, name] if kind == VIEW => Some(name),
            _ => None,
        }
    }

    /// `["storage-adapter-id"]`: where automerge-repo keeps the storage's own id.
    pub fn storage_id() -> Self {
        Self(chunk_key::storage_adapter_id_key())
    }

    /// `[document]`: the prefix of all of a document's keys.
    pub fn document(document: DocumentId) -> Self {
        Self(vec![document.to_string()])
    }

    pub fn parts(&self) -> &[String] {
        &self.0
    }

    /// Whether `prefix`'s parts are this key's first parts (a key is its own prefix).
    pub fn starts_with(&self, prefix: &StorageKey) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// The kind of a `[document, kind, name]` key, if it is one.
    pub fn kind(&self) -> Option<ChunkKind> {
        ChunkKind::of_key(&self.0)
    }

    /// The last part (the hash of a chunk, the storage id of a sync state).
    pub fn name(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }
}

impl fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Why storage failed. Nothing stored before the failure is lost: writes are all-or-nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The device's storage for this site is full (IndexedDB's `QuotaExceededError`).
    #[error("the device's storage is full")]
    QuotaExceeded,
    /// Storage cannot be used at all (no IndexedDB, blocked, private mode).
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    /// A read or write failed for another reason.
    #[error("storage failed: {0}")]
    Failed(String),
}

/// A key-value store with prefix reads and atomic batches: IndexedDB in the browser
/// ([`super::IdbStorage`]), [`MemoryStorage`] in tests and when IndexedDB is unavailable.
///
/// The futures are not `Send`; the app runs on the browser's one thread.
#[allow(async_fn_in_trait)]
pub trait Storage {
    /// Every entry whose key starts with `prefix`, in key order.
    async fn load_range(
        &self,
        prefix: &StorageKey,
    ) -> Result<Vec<(StorageKey, Vec<u8>)>, StorageError>;

    /// Writes `puts` and deletes `deletes` in one transaction: after an error none of it
    /// happened. Returns once the data is durably stored.
    async fn write(
        &self,
        puts: &[(StorageKey, Vec<u8>)],
        deletes: &[StorageKey],
    ) -> Result<(), StorageError>;

    /// Whether what is written survives a reload.
    fn is_persistent(&self) -> bool {
        true
    }
}

/// The id of `storage` (the `storageId` a repo announces in `join`, under which servers keep
/// their sync state with this device): read from `["storage-adapter-id"]` as automerge-repo
/// stores it (UTF-8), or made with `new_id` and stored there on first use.
pub async fn storage_id(
    storage: &impl Storage,
    new_id: impl FnOnce() -> String,
) -> Result<StorageId, StorageError> {
    let key = StorageKey::storage_id();
    let stored = storage.load_range(&key).await?;
    if let Some(id) = stored
        .into_iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, bytes)| String::from_utf8(bytes).ok())
        .filter(|id| !id.is_empty())
    {
        return Ok(StorageId::new(id));
    }
    let id = new_id();
    storage
        .write(&[(key, id.clone().into_bytes())], &[])
        .await?;
    Ok(StorageId::new(id))
}

/// Storage in memory: for tests, and a fallback where IndexedDB cannot be opened (nothing
/// survives a reload then). A quota can be set to act like a full device.
#[derive(Clone, Default)]
pub struct MemoryStorage {
    inner: Rc<RefCell<MemoryInner>>,
}

#[derive(Default)]
struct MemoryInner {
    entries: BTreeMap<StorageKey, Vec<u8>>,
    quota: Option<usize>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes that would make the stored bytes exceed `quota` fail with
    /// [`StorageError::QuotaExceeded`] (`None`: no limit).
    pub fn set_quota(&self, quota: Option<usize>) {
        self.inner.borrow_mut().quota = quota;
    }

    /// All keys, in order.
    pub fn keys(&self) -> Vec<StorageKey> {
        self.inner.borrow().entries.keys().cloned().collect()
    }

    /// The bytes stored (values only).
    pub fn used(&self) -> usize {
        self.inner.borrow().entries.values().map(Vec::len).sum()
    }
}

impl fmt::Debug for MemoryStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStorage")
            .field("entries", &self.inner.borrow().entries.len())
            .finish_non_exhaustive()
    }
}

impl Storage for MemoryStorage {
    fn is_persistent(&self) -> bool {
        false
    }

    async fn load_range(
        &self,
        prefix: &StorageKey,
    ) -> Result<Vec<(StorageKey, Vec<u8>)>, StorageError> {
        Ok(self
            .inner
            .borrow()
            .entries
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect())
    }

    async fn write(
        &self,
        puts: &[(StorageKey, Vec<u8>)],
        deletes: &[StorageKey],
    ) -> Result<(), StorageError> {
        let mut inner = self.inner.borrow_mut();
        let mut entries = inner.entries.clone();
        for (key, value) in puts {
            entries.insert(key.clone(), value.clone());
        }
        for key in deletes {
            entries.remove(key);
        }
        if let Some(quota) = inner.quota
            && entries.values().map(Vec::len).sum::<usize>() > quota
        {
            return Err(StorageError::QuotaExceeded);
        }
        inner.entries = entries;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use automerge::ChangeHash;

    use super::*;

    /// The server's storage builds its keys on the same `sync::chunk_key` functions (its
    /// `storage/key.rs` has the twin of this test): the app's key for a document's chunk is the
    /// server's, part for part.
    #[test]
    fn keys_are_the_shared_layouts() {
        let doc = DocumentId::from_bytes([7; 16]);
        let chunk = b"some changes";
        assert_eq!(
            StorageKey::incremental(doc, chunk).parts(),
            chunk_key::incremental_key(doc, chunk)
        );
        assert_eq!(
            StorageKey::chunk(
                doc,
                ChunkKind::Incremental,
                &chunk_key::incremental_name(chunk)
            ),
            StorageKey::incremental(doc, chunk)
        );
        let heads = [ChangeHash([2; 32]), ChangeHash([1; 32])];
        assert_eq!(
            StorageKey::snapshot(doc, &heads).parts(),
            chunk_key::snapshot_key(doc, &heads)
        );
        assert_eq!(
            StorageKey::chunk(doc, ChunkKind::SyncState, "server").parts(),
            chunk_key::chunk_key(doc, ChunkKind::SyncState, "server")
        );
        assert_eq!(
            StorageKey::storage_id().parts(),
            chunk_key::storage_adapter_id_key()
        );
        for kind in ChunkKind::ALL {
            assert_eq!(StorageKey::chunk(doc, kind, "x").kind(), Some(kind));
        }
        assert_eq!(StorageKey::view(doc, "x").kind(), None);
    }
}
