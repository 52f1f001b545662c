//! Durable storage of Automerge documents, in automerge-repo's layout.
//!
//! Two layers:
//! - [`Storage`] is a key/value store with prefix ranges, like automerge-repo's
//!   `StorageAdapter`: keys are lists of strings ([`StorageKey`]), values are bytes. The
//!   embedded backend is [`SqliteStorage`]; [`MemoryStorage`] keeps nothing on disk (tests);
//!   a PostgreSQL backend can implement the same trait.
//! - [`DocumentStore`] keeps documents in it as snapshots plus incremental chunks, and compacts
//!   them the way automerge-repo does, deleting only the chunks it knows a snapshot contains,
//!   so several servers (or tasks) may share one store without locks.
//!
//! # Why the trait is async, and SQLite writes run on one dedicated thread
//!
//! The server runs on tokio, and SQLite calls block, for an fsync each commit. A blocking trait
//! called through `spawn_blocking` would work, but each save would then be its own transaction
//! with its own fsync, serialised behind one connection's lock: a few hundred saves per second
//! on an ordinary disk, with a blocked pool thread per waiting save. Instead [`SqliteStorage`]
//! owns one writer connection on its own thread and **commits in groups**: it takes every write
//! that is waiting, applies them in one transaction, commits (one fsync), and only then answers
//! each caller. Under load the fsync cost is shared by all writes that queued behind it; a lone
//! write costs one fsync as before. Reads do not queue behind fsyncs: they run on
//! `spawn_blocking` with their own connections, which WAL lets read beside the writer.
//!
//! The trait returns boxed futures rather than using `async fn` so that it stays object safe:
//! the server picks its backend at start-up and holds an `Arc<dyn Storage>`. One allocation
//! per call is nothing next to an fsync.
//!
//! # Invariants
//!
//! - A write's future resolves `Ok` only after the write is durable (committed and fsynced).
//! - Nothing here deletes a chunk unless a durable snapshot already holds its changes.
//! - Bad data (a truncated or corrupt chunk) is reported as a typed error naming its key; it is
//!   never deleted or "repaired" away, and it does not affect other documents.

pub mod backup;
mod document;
mod key;
mod memory;
mod sqlite;

use std::{future::Future, pin::Pin};

pub use document::{ChunkProblem, Compacted, DocumentError, DocumentStore, Salvaged, Saved};
pub use key::{ChunkKind, InvalidStorageKey, StorageKey};
pub use memory::MemoryStorage;
pub use sqlite::SqliteStorage;

/// A future a [`Storage`] returns: boxed, so the trait is object safe, and `Send`, so it can be
/// awaited on any tokio worker.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Keys with their values, as [`Storage::load_range`] returns them.
pub type Entries = Vec<(StorageKey, Vec<u8>)>;

/// One change to a store, for [`Storage::write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Store `data` at `key`, replacing what was there.
    Put { key: StorageKey, data: Vec<u8> },
    /// Remove `key`; nothing happens if it is absent.
    Delete { key: StorageKey },
    /// Remove every key that starts with `prefix` (whole parts; see [`StorageKey`]).
    RemoveRange { prefix: StorageKey },
}

/// A key/value store in automerge-repo's layout, with the verbs of automerge-repo's
/// `StorageAdapter`.
pub trait Storage: Send + Sync + 'static {
    /// The value at `key`, if any.
    fn load(&self, key: StorageKey) -> BoxFuture<'_, Result<Option<Vec<u8>>, StorageError>>;

    /// Every key starting with `prefix`, with its value, in key order. A prefix matches whole
    /// parts: `["ab"]` does not match `["abc", …]`.
    fn load_range(&self, prefix: StorageKey) -> BoxFuture<'_, Result<Entries, StorageError>>;

    /// Applies `ops` in order and resolves once they are durable. A backend applies them
    /// atomically if it can (SQLite does); callers must only rely on the order, so that a crash
    /// part way leaves some prefix of `ops` applied, never a later op without an earlier one.
    fn write(&self, ops: Vec<WriteOp>) -> BoxFuture<'_, Result<(), StorageError>>;

    /// Stores `data` at `key`; resolves once it is durable.
    fn put(&self, key: StorageKey, data: Vec<u8>) -> BoxFuture<'_, Result<(), StorageError>> {
        self.write(vec![WriteOp::Put { key, data }])
    }

    /// Removes `key`; resolves once that is durable.
    fn delete(&self, key: StorageKey) -> BoxFuture<'_, Result<(), StorageError>> {
        self.write(vec![WriteOp::Delete { key }])
    }

    /// Removes every key starting with `prefix`; resolves once that is durable.
    fn remove_range(&self, prefix: StorageKey) -> BoxFuture<'_, Result<(), StorageError>> {
        self.write(vec![WriteOp::RemoveRange { prefix }])
    }
}

/// Why a [`Storage`] call failed. Whatever failed, what was stored before is still there.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The disk (or the database's size limit) is full; the write was not applied.
    #[error("storage is full")]
    Full,
    /// The database itself is damaged (as opposed to one chunk in it; see
    /// [`DocumentError::CorruptChunk`]).
    #[error("the storage database is corrupt: {0}")]
    Corrupt(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored key could not be read back as a [`StorageKey`].
    #[error("a stored key is malformed: {0:?}")]
    MalformedKey(Vec<u8>),
    /// The backend stopped (its writer thread is gone); the write may not have been applied.
    #[error("storage has stopped")]
    Stopped,
    /// Any other backend failure (I/O error, lock timeout, …).
    #[error("storage backend: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}
