//! [`DocumentStore`]: Automerge documents as snapshots plus incremental chunks in a [`Storage`].

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    sync::{Arc, Mutex, PoisonError},
};

use automerge::{Automerge, AutomergeError, ChangeHash, LoadOptions, OnPartialLoad, ReadDoc};
use sync::DocumentId;

use super::{ChunkKind, InvalidStorageKey, Storage, StorageError, StorageKey, WriteOp};

/// Below this many bytes a document's snapshot is always worth rewriting (automerge-repo's rule).
const SMALL_SNAPSHOT: usize = 1024;

/// Documents in a [`Storage`], in automerge-repo's chunk layout, with its compaction.
///
/// The store remembers, per document, the chunks it loaded or wrote and which heads cover them.
/// [`Self::compact`] writes one snapshot and deletes only those remembered chunks whose changes
/// the snapshot holds; a chunk written by anyone else meanwhile (another server on the same
/// database, another task) is left alone, and is merged in by the next load.
///
/// The sync server's document task uses it like this:
///
/// ```no_run
/// # use sync_server::storage::{DocumentError, DocumentStore};
/// # async fn document_task(store: DocumentStore, id: sync::DocumentId) -> Result<(), DocumentError> {
/// let mut doc = store.load_document(id).await?.unwrap_or_default();
/// let mut saved_heads = doc.get_heads();
/// // … changes arrive and are applied to `doc` …
/// let saved = store.save_incremental(id, &doc, &saved_heads).await?; // durable now
/// saved_heads = doc.get_heads();
/// // Acknowledge to peers, then, off the hot path:
/// if saved.compaction_due {
///     store.compact(id, &doc).await?;
/// }
/// # Ok(())
/// # }
/// ```
///
/// `save_incremental` and `compact` read the document synchronously when called and return a
/// `'static` future that owns its data, so a caller may release the document (e.g. a lock
/// guard) before awaiting.
#[derive(Clone)]
pub struct DocumentStore {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Arc<dyn Storage>,
    chunks: Mutex<HashMap<DocumentId, Vec<ChunkInfo>>>,
}

/// A chunk this store loaded or wrote.
#[derive(Debug, Clone)]
struct ChunkInfo {
    key: StorageKey,
    kind: ChunkKind,
    size: usize,
    /// A document that has all these changes has every change in the chunk.
    covered_by: Vec<ChangeHash>,
}

/// What [`DocumentStore::save_incremental`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// The new chunk's key; `None` when there was nothing new to write.
    pub key: Option<StorageKey>,
    /// The new chunk's size in bytes.
    pub bytes: usize,
    /// The incremental chunks have outgrown the snapshot: call [`DocumentStore::compact`].
    pub compaction_due: bool,
}

/// What [`DocumentStore::compact`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compacted {
    /// The snapshot written.
    pub snapshot: StorageKey,
    /// Its size in bytes.
    pub bytes: usize,
    /// The chunks deleted because the snapshot holds their changes.
    pub deleted: Vec<StorageKey>,
}

/// A document loaded by [`DocumentStore::load_document_skipping_corrupt`].
#[derive(Debug)]
pub struct Salvaged {
    pub doc: Automerge,
    /// The corrupt chunks left out, each with what is wrong with it.
    pub skipped: Vec<(StorageKey, ChunkProblem)>,
}

/// Why a document could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// One stored chunk is damaged. It is left in place (nothing is deleted or repaired); the
    /// document's other chunks and all other documents are unaffected.
    #[error("stored chunk {key} is corrupt: {problem}")]
    CorruptChunk {
        key: StorageKey,
        #[source]
        problem: ChunkProblem,
    },
    /// Every chunk decodes on its own, but together they do not form a document.
    #[error("the chunks of document {doc} do not load together: {source}")]
    Inconsistent {
        doc: DocumentId,
        #[source]
        source: Box<AutomergeError>,
    },
    #[error(transparent)]
    InvalidKey(#[from] InvalidStorageKey),
    /// The task decoding the document failed or was cancelled.
    #[error("decoding the document failed: {0}")]
    TaskFailed(String),
}

/// What is wrong with a corrupt chunk.
#[derive(Debug, thiserror::Error)]
pub enum ChunkProblem {
    /// An incremental chunk's bytes do not hash to the key they are stored under.
    #[error("its bytes do not match the hash in its key")]
    HashMismatch,
    /// Automerge cannot decode it (truncated, bad checksum, bad columns, …).
    #[error("automerge cannot decode it: {0}")]
    Undecodable(#[source] Box<AutomergeError>),
}

impl DocumentStore {
    /// A store over `storage`; it knows of no chunks until it loads or writes some.
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        Self {
            inner: Arc::new(Inner {
                storage,
                chunks: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The storage underneath.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    /// Loads a document from all its chunks; `None` if nothing is stored for it.
    ///
    /// Chunks are checked: an incremental chunk must hash to its key, and every chunk must
    /// decode; a bad one gives [`DocumentError::CorruptChunk`] naming it. Decoding runs on
    /// `spawn_blocking`, as a large document takes a while.
    pub async fn load_document(&self, doc: DocumentId) -> Result<Option<Automerge>, DocumentError> {
        Ok(self
            .load(doc, OnCorrupt::Fail)
            .await?
            .map(|salvaged| salvaged.doc))
    }

    /// Like [`Self::load_document`], but a corrupt chunk is left out and reported instead of
    /// failing the load, so a document stays available from its good chunks (peers that have
    /// the lost changes send them again, and they are saved anew). The corrupt chunks stay in
    /// storage untouched: this store never deletes them, so they remain for inspection.
    pub async fn load_document_skipping_corrupt(
        &self,
        doc: DocumentId,
    ) -> Result<Option<Salvaged>, DocumentError> {
        self.load(doc, OnCorrupt::Skip).await
    }

    async fn load(
        &self,
        doc: DocumentId,
        on_corrupt: OnCorrupt,
    ) -> Result<Option<Salvaged>, DocumentError> {
        let storage = &self.inner.storage;
        // Incrementals first, then snapshots. A compaction elsewhere writes its snapshot before
        // (or with) deleting the chunks it covers, so every chunk that existed when we listed
        // the incrementals is either among them or inside a snapshot we list afterwards. The
        // other order could miss chunks compacted away between the two reads.
        let incrementals = storage.load_range(StorageKey::incrementals(doc)).await?;
        let snapshots = storage.load_range(StorageKey::snapshots(doc)).await?;
        let incrementals = only_kind(incrementals, ChunkKind::Incremental);
        let snapshots = only_kind(snapshots, ChunkKind::Snapshot);
        if incrementals.is_empty() && snapshots.is_empty() {
            self.chunks().remove(&doc);
            return Ok(None);
        }
        let (salvaged, infos) =
            tokio::task::spawn_blocking(move || decode(doc, snapshots, incrementals, on_corrupt))
                .await
                .map_err(|e| DocumentError::TaskFailed(e.to_string()))??;
        self.chunks().insert(doc, infos);
        Ok(Some(salvaged))
    }

    /// Writes the changes of `doc` that are not in `since_heads` as one incremental chunk; the
    /// future resolves once the chunk is durable. Pass the heads of the previous save (or
    /// load); passing `&[]` writes the whole history as one chunk.
    pub fn save_incremental(
        &self,
        doc_id: DocumentId,
        doc: &Automerge,
        since_heads: &[ChangeHash],
    ) -> impl Future<Output = Result<Saved, DocumentError>> + Send + 'static {
        let data = doc.save_after(since_heads);
        let heads = doc.get_heads();
        let this = self.clone();
        async move {
            if data.is_empty() {
                return Ok(Saved {
                    key: None,
                    bytes: 0,
                    compaction_due: this.compaction_due(doc_id),
                });
            }
            let key = StorageKey::incremental(doc_id, &data);
            let bytes = data.len();
            this.inner.storage.put(key.clone(), data).await?;
            let compaction_due = {
                let mut chunks = this.chunks();
                let tracked = chunks.entry(doc_id).or_default();
                if !tracked.iter().any(|c| c.key == key) {
                    tracked.push(ChunkInfo {
                        key: key.clone(),
                        kind: ChunkKind::Incremental,
                        size: bytes,
                        covered_by: heads,
                    });
                }
                should_compact(tracked)
            };
            Ok(Saved {
                key: Some(key),
                bytes,
                compaction_due,
            })
        }
    }

    /// Whether the incremental chunks known for `doc_id` have outgrown its snapshot
    /// (automerge-repo's rule: snapshot under 1 KiB, or incrementals at least as big), or it
    /// has several snapshots.
    pub fn compaction_due(&self, doc_id: DocumentId) -> bool {
        self.chunks()
            .get(&doc_id)
            .is_some_and(|c| should_compact(c))
    }

    /// Writes `doc` as one snapshot and deletes the chunks this store knows of whose changes
    /// `doc` has, in one durable write (snapshot first). Chunks it does not know of, or whose
    /// changes `doc` lacks, are kept.
    pub fn compact(
        &self,
        doc_id: DocumentId,
        doc: &Automerge,
    ) -> impl Future<Output = Result<Compacted, DocumentError>> + Send + 'static {
        let data = doc.save();
        let heads = doc.get_heads();
        let snapshot = StorageKey::snapshot(doc_id, &heads);
        let covered = {
            let chunks = self.chunks();
            let tracked = chunks.get(&doc_id).map(Vec::as_slice).unwrap_or_default();
            let wanted: HashSet<ChangeHash> = tracked
                .iter()
                .flat_map(|c| c.covered_by.iter().copied())
                .collect();
            let missing: HashSet<ChangeHash> = doc
                .get_missing_deps(&wanted.into_iter().collect::<Vec<_>>())
                .into_iter()
                .collect();
            tracked
                .iter()
                .filter(|c| c.key != snapshot && !c.covered_by.iter().any(|h| missing.contains(h)))
                .map(|c| c.key.clone())
                .collect::<Vec<_>>()
        };
        let this = self.clone();
        async move {
            let bytes = data.len();
            let mut ops = Vec::with_capacity(covered.len() + 1);
            ops.push(WriteOp::Put {
                key: snapshot.clone(),
                data,
            });
            ops.extend(
                covered
                    .iter()
                    .map(|key| WriteOp::Delete { key: key.clone() }),
            );
            this.inner.storage.write(ops).await?;
            {
                let mut chunks = this.chunks();
                let tracked = chunks.entry(doc_id).or_default();
                tracked.retain(|c| !covered.contains(&c.key) && c.key != snapshot);
                tracked.push(ChunkInfo {
                    key: snapshot.clone(),
                    kind: ChunkKind::Snapshot,
                    size: bytes,
                    covered_by: heads,
                });
            }
            Ok(Compacted {
                snapshot,
                bytes,
                deleted: covered,
            })
        }
    }

    /// Forgets what this store knows of `doc_id`'s chunks (call it when a document is unloaded
    /// from memory). Nothing is deleted; a later compaction just keeps those chunks until the
    /// document is loaded again.
    pub fn forget(&self, doc_id: DocumentId) {
        self.chunks().remove(&doc_id);
    }

    /// Deletes everything stored for a document: chunks and sync states.
    pub async fn remove_document(&self, doc_id: DocumentId) -> Result<(), DocumentError> {
        self.inner
            .storage
            .remove_range(StorageKey::document(doc_id))
            .await?;
        self.forget(doc_id);
        Ok(())
    }

    /// This store's id (a UUID, created and stored on first use), which the server announces as
    /// its `storageId` so peers can keep sync state for it. Call it once at start-up: two first
    /// calls at the same time could each create an id.
    pub async fn storage_id(&self) -> Result<String, DocumentError> {
        let key = StorageKey::storage_adapter_id();
        if let Some(bytes) = self.inner.storage.load(key.clone()).await?
            && let Ok(id) = String::from_utf8(bytes)
        {
            return Ok(id);
        }
        let id = new_uuid().map_err(|e| StorageError::Backend(e.to_string().into()))?;
        self.inner.storage.put(key, id.clone().into_bytes()).await?;
        Ok(id)
    }

    /// The encoded sync state stored for a peer's storage id, if any.
    pub async fn load_sync_state(
        &self,
        doc_id: DocumentId,
        storage_id: &str,
    ) -> Result<Option<Vec<u8>>, DocumentError> {
        let key = StorageKey::sync_state(doc_id, storage_id)?;
        Ok(self.inner.storage.load(key).await?)
    }

    /// Stores an encoded sync state for a peer's storage id; resolves once durable.
    pub async fn save_sync_state(
        &self,
        doc_id: DocumentId,
        storage_id: &str,
        state: Vec<u8>,
    ) -> Result<(), DocumentError> {
        let key = StorageKey::sync_state(doc_id, storage_id)?;
        Ok(self.inner.storage.put(key, state).await?)
    }

    fn chunks(&self) -> std::sync::MutexGuard<'_, HashMap<DocumentId, Vec<ChunkInfo>>> {
        self.inner
            .chunks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn should_compact(chunks: &[ChunkInfo]) -> bool {
    let (mut snapshots, mut snapshot_size, mut incrementals, mut incremental_size) = (0, 0, 0, 0);
    for chunk in chunks {
        match chunk.kind {
            ChunkKind::Snapshot => {
                snapshots += 1;
                snapshot_size += chunk.size;
            }
            ChunkKind::Incremental => {
                incrementals += 1;
                incremental_size += chunk.size;
            }
            // Never a chunk: `DocumentStore` records snapshots and incrementals only.
            ChunkKind::SyncState => {}
        }
    }
    // Several snapshots (two servers compacted at once) hold the same changes twice: merge.
    // Otherwise automerge-repo's rule, when there are incrementals to merge at all.
    snapshots > 1
        || (incrementals > 0
            && (snapshot_size < SMALL_SNAPSHOT || incremental_size >= snapshot_size))
}

fn only_kind(chunks: Vec<(StorageKey, Vec<u8>)>, kind: ChunkKind) -> Vec<(StorageKey, Vec<u8>)> {
    chunks
        .into_iter()
        .filter(|(key, _)| {
            let matches = key.chunk_kind() == Some(kind);
            if !matches {
                tracing::warn!(%key, "ignoring a stored key that is not a document chunk");
            }
            matches
        })
        .collect()
}

fn strict() -> LoadOptions<'static> {
    LoadOptions::new().on_partial_load(OnPartialLoad::Error)
}

/// What [`decode`] does with a corrupt chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnCorrupt {
    Fail,
    Skip,
}

type Chunk = (ChunkKind, StorageKey, Vec<u8>);

/// Builds the document from its snapshots and incremental chunks (all checked) and notes each
/// chunk used as covered by the resulting heads.
fn decode(
    doc_id: DocumentId,
    snapshots: Vec<(StorageKey, Vec<u8>)>,
    incrementals: Vec<(StorageKey, Vec<u8>)>,
    on_corrupt: OnCorrupt,
) -> Result<(Salvaged, Vec<ChunkInfo>), DocumentError> {
    let mut skipped = Vec::new();
    let mut corrupt = |key: StorageKey, problem: ChunkProblem| match on_corrupt {
        OnCorrupt::Fail => Err(DocumentError::CorruptChunk { key, problem }),
        OnCorrupt::Skip => {
            tracing::warn!(%key, %problem, "skipping a corrupt chunk (it stays in storage)");
            skipped.push((key, problem));
            Ok(())
        }
    };
    // Snapshots first: automerge loads a document chunk, then the changes after it.
    let mut chunks: Vec<Chunk> = snapshots
        .into_iter()
        .map(|(k, d)| (ChunkKind::Snapshot, k, d))
        .collect();
    for (key, data) in incrementals {
        if key.parts().get(2) == Some(&sync::chunk_key::incremental_name(&data)) {
            chunks.push((ChunkKind::Incremental, key, data));
        } else {
            corrupt(key, ChunkProblem::HashMismatch)?;
        }
    }
    let doc = match load_all(doc_id, &chunks) {
        Ok(doc) => doc,
        Err(error) => {
            // Find the chunks that do not decode even alone.
            let mut good = Vec::with_capacity(chunks.len());
            let mut any_bad = false;
            for (kind, key, data) in chunks {
                match Automerge::load_with_options(&data, strict()) {
                    // A chunk of changes alone may well depend on changes in other chunks.
                    Ok(_) | Err(AutomergeError::MissingDeps) => good.push((kind, key, data)),
                    Err(problem) => {
                        any_bad = true;
                        corrupt(key, ChunkProblem::Undecodable(Box::new(problem)))?;
                    }
                }
            }
            chunks = good;
            let inconsistent = |source| DocumentError::Inconsistent {
                doc: doc_id,
                source: Box::new(source),
            };
            if !any_bad {
                return Err(inconsistent(error));
            }
            load_all(doc_id, &chunks).map_err(inconsistent)?
        }
    };
    let heads = doc.get_heads();
    let infos = chunks
        .into_iter()
        .map(|(kind, key, data)| ChunkInfo {
            key,
            kind,
            size: data.len(),
            covered_by: heads.clone(),
        })
        .collect();
    Ok((Salvaged { doc, skipped }, infos))
}

/// Loads the chunks, concatenated, strictly: any undecodable byte is an error.
fn load_all(doc_id: DocumentId, chunks: &[Chunk]) -> Result<Automerge, AutomergeError> {
    let all: Vec<u8> = chunks
        .iter()
        .flat_map(|(_, _, d)| d.iter().copied())
        .collect();
    match Automerge::load_with_options(&all, strict()) {
        // Only incremental chunks, and some change's dependency is in none of them: keep what
        // we have (the orphans wait in the queue, and `save` keeps them) rather than refuse.
        Err(AutomergeError::MissingDeps) => {
            tracing::warn!(doc = %doc_id, "stored document lacks some change dependencies");
            Automerge::load_with_options(
                &all,
                LoadOptions::new().on_partial_load(OnPartialLoad::Ignore),
            )
        }
        other => other,
    }
}

/// A random (version 4) UUID, as automerge-repo uses for storage ids.
fn new_uuid() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    Ok(sync::uuid_v4(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(kind: ChunkKind, size: usize) -> ChunkInfo {
        ChunkInfo {
            key: StorageKey::storage_adapter_id(),
            kind,
            size,
            covered_by: vec![],
        }
    }

    #[test]
    fn compaction_rule_is_automerge_repos() {
        use ChunkKind::{Incremental, Snapshot};
        // Nothing to merge.
        assert!(!should_compact(&[]));
        assert!(!should_compact(&[info(Snapshot, 10)]));
        // Small snapshot: always.
        assert!(should_compact(&[info(Incremental, 10)]));
        assert!(should_compact(&[
            info(Snapshot, 1023),
            info(Incremental, 1)
        ]));
        // Big snapshot: once the incrementals are as big.
        assert!(!should_compact(&[
            info(Snapshot, 4000),
            info(Incremental, 3999)
        ]));
        assert!(should_compact(&[
            info(Snapshot, 4000),
            info(Incremental, 2000),
            info(Incremental, 2000)
        ]));
        // Two snapshots (two servers compacted at once) merge.
        assert!(should_compact(&[
            info(Snapshot, 4000),
            info(Snapshot, 4000)
        ]));
    }

    #[test]
    fn uuids_look_like_uuids() {
        let id = new_uuid().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, new_uuid().unwrap());
    }
}
