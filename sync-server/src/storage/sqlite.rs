//! [`SqliteStorage`]: the embedded [`Storage`] backend, in the server's SQLite database.
//!
//! Values live in the `storage_entry` table (migration 2 in `db.rs`). A key is stored as one
//! BLOB: its parts, each followed by a NUL byte. Parts hold no NUL, so byte order is the order
//! of the parts, and a prefix of whole parts is a byte range: `[p, p')` where `p'` is `p` with
//! its final NUL raised to 0x01. That range holds exactly the keys whose first parts are the
//! prefix's, so `["ab"]` never matches `["abc", …]`.
//!
//! Writes go to one thread that owns the writer connection and commits in groups; reads run on
//! `spawn_blocking` with pooled connections. Why: see the module docs of [`crate::storage`].

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError, mpsc},
    thread,
    time::Duration,
};

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use tokio::sync::oneshot;

use super::{BoxFuture, Entries, Storage, StorageError, StorageKey, WriteOp};

/// At most this many queued writes go into one transaction.
const MAX_BATCH_WRITES: usize = 512;
/// A batch stops growing once it holds this many bytes of values.
const MAX_BATCH_BYTES: usize = 32 << 20;
/// Idle read connections kept for reuse.
const MAX_IDLE_READERS: usize = 4;
/// How long a connection waits for another one's lock (e.g. the server's own `Db`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The schema version that created `storage_entry`.
const SCHEMA_VERSION: u32 = 2;

/// A [`Storage`] in the server's SQLite database file (WAL, `synchronous=FULL`).
///
/// Writes are sent to the writer thread when [`Storage::write`] is *called* (not when its
/// future is first polled), so writes are applied in the order they were called. Dropping the
/// storage waits for the writes already queued to be committed.
pub struct SqliteStorage {
    writer: Option<mpsc::Sender<WriteRequest>>,
    writer_thread: Option<thread::JoinHandle<()>>,
    readers: Arc<Readers>,
}

struct WriteRequest {
    ops: Vec<WriteOp>,
    reply: oneshot::Sender<Result<(), StorageError>>,
}

impl SqliteStorage {
    /// Opens the database in the data folder `data` (creating and migrating it as the server's
    /// `Db` does) and starts the writer thread. Blocks: call it at start-up or from
    /// `spawn_blocking`.
    pub fn open(data: &Path) -> Result<Self, StorageError> {
        Self::open_with(data, |_| Ok(()))
    }

    /// [`Self::open`], with `configure` run on the writer connection before use (tests use it
    /// to cap the database size).
    fn open_with(
        data: &Path,
        configure: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> Result<Self, StorageError> {
        // Creates the folder and file, sets WAL and runs the migrations, including ours.
        crate::db::Db::open(data).map_err(|e| StorageError::Backend(Box::new(e)))?;
        let path = data.join(crate::db::FILE_NAME);
        let writer = open_connection(&path).map_err(from_sqlite)?;
        let version: u32 = writer
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(from_sqlite)?;
        if version < SCHEMA_VERSION {
            return Err(StorageError::Backend(
                format!("database schema is at version {version}, storage needs {SCHEMA_VERSION}")
                    .into(),
            ));
        }
        // Durability rests on these two; refuse to run without them.
        let journal: String = writer
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .map_err(from_sqlite)?;
        let synchronous: u32 = writer
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .map_err(from_sqlite)?;
        if !journal.eq_ignore_ascii_case("wal") || synchronous != 2 {
            return Err(StorageError::Backend(
                format!("expected WAL with synchronous=FULL, got {journal} with {synchronous}")
                    .into(),
            ));
        }
        configure(&writer).map_err(from_sqlite)?;
        let (sender, receiver) = mpsc::channel();
        let writer_thread = thread::Builder::new()
            .name("sqlite-storage-writer".into())
            .spawn(move || run_writer(writer, receiver))
            .map_err(|e| StorageError::Backend(Box::new(e)))?;
        Ok(Self {
            writer: Some(sender),
            writer_thread: Some(writer_thread),
            readers: Arc::new(Readers {
                path,
                idle: Mutex::new(Vec::new()),
            }),
        })
    }

    async fn read<T: Send + 'static>(
        readers: Arc<Readers>,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StorageError> {
        tokio::task::spawn_blocking(move || readers.run(f))
            .await
            .map_err(|e| {
                if e.is_cancelled() {
                    StorageError::Stopped
                } else {
                    StorageError::Backend(format!("storage reader failed: {e}").into())
                }
            })?
    }
}

impl Storage for SqliteStorage {
    fn load(&self, key: StorageKey) -> BoxFuture<'_, Result<Option<Vec<u8>>, StorageError>> {
        let readers = self.readers.clone();
        Box::pin(Self::read(readers, move |conn| {
            conn.prepare_cached("SELECT data FROM storage_entry WHERE key = ?1")?
                .query_row([encode_key(&key)], |row| row.get(0))
                .optional()
        }))
    }

    fn load_range(&self, prefix: StorageKey) -> BoxFuture<'_, Result<Entries, StorageError>> {
        let readers = self.readers.clone();
        Box::pin(async move {
            let rows = Self::read(readers, move |conn| {
                let collect = |rows: rusqlite::Rows<'_>| {
                    rows.mapped(|row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?)))
                        .collect::<rusqlite::Result<Vec<_>>>()
                };
                match prefix_range(&prefix) {
                    Some((low, high)) => collect(
                        conn.prepare_cached(
                            "SELECT key, data FROM storage_entry
                             WHERE key >= ?1 AND key < ?2 ORDER BY key",
                        )?
                        .query(params![low, high])?,
                    ),
                    None => collect(
                        conn.prepare_cached("SELECT key, data FROM storage_entry ORDER BY key")?
                            .query([])?,
                    ),
                }
            })
            .await?;
            rows.into_iter()
                .map(|(key, data)| Ok((decode_key(key)?, data)))
                .collect()
        })
    }

    fn write(&self, ops: Vec<WriteOp>) -> BoxFuture<'_, Result<(), StorageError>> {
        let (reply, answer) = oneshot::channel();
        let sent = self
            .writer
            .as_ref()
            .is_some_and(|writer| writer.send(WriteRequest { ops, reply }).is_ok());
        Box::pin(async move {
            if !sent {
                return Err(StorageError::Stopped);
            }
            answer.await.unwrap_or(Err(StorageError::Stopped))
        })
    }
}

impl Drop for SqliteStorage {
    fn drop(&mut self) {
        // Closing the channel ends the writer loop once the queued writes are committed.
        self.writer.take();
        if let Some(thread) = self.writer_thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread: takes every write that is waiting, commits them in one transaction (one
/// fsync), then answers each. If that transaction fails, each write is retried alone, so one
/// write that cannot be applied (say, too big for the disk) fails alone.
fn run_writer(mut conn: Connection, requests: mpsc::Receiver<WriteRequest>) {
    while let Ok(first) = requests.recv() {
        let mut bytes = ops_bytes(&first.ops);
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH_WRITES && bytes < MAX_BATCH_BYTES {
            let Ok(next) = requests.try_recv() else { break };
            bytes += ops_bytes(&next.ops);
            batch.push(next);
        }
        match apply(&mut conn, batch.iter().map(|r| r.ops.as_slice())) {
            Ok(()) => {
                for request in batch {
                    let _ = request.reply.send(Ok(()));
                }
            }
            Err(error) if batch.len() == 1 => {
                tracing::warn!(%error, "storage write failed");
                if let Some(request) = batch.pop() {
                    let _ = request.reply.send(Err(error));
                }
            }
            Err(error) => {
                tracing::warn!(%error, writes = batch.len(), "storage batch failed; retrying alone");
                for request in batch {
                    let result = apply(&mut conn, std::iter::once(request.ops.as_slice()));
                    let _ = request.reply.send(result);
                }
            }
        }
    }
}

fn ops_bytes(ops: &[WriteOp]) -> usize {
    ops.iter()
        .map(|op| match op {
            WriteOp::Put { data, .. } => data.len(),
            WriteOp::Delete { .. } | WriteOp::RemoveRange { .. } => 0,
        })
        .sum()
}

/// Applies each group of ops, in order, in one transaction and commits it; with
/// `synchronous=FULL` the commit returns after the WAL is fsynced.
fn apply<'a>(
    conn: &mut Connection,
    groups: impl Iterator<Item = &'a [WriteOp]>,
) -> Result<(), StorageError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(from_sqlite)?;
    for op in groups.flatten() {
        let result = match op {
            WriteOp::Put { key, data } => tx
                .prepare_cached(
                    "INSERT INTO storage_entry (key, data) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET data = excluded.data",
                )
                .and_then(|mut s| s.execute(params![encode_key(key), data])),
            WriteOp::Delete { key } => tx
                .prepare_cached("DELETE FROM storage_entry WHERE key = ?1")
                .and_then(|mut s| s.execute([encode_key(key)])),
            WriteOp::RemoveRange { prefix } => match prefix_range(prefix) {
                Some((low, high)) => tx
                    .prepare_cached("DELETE FROM storage_entry WHERE key >= ?1 AND key < ?2")
                    .and_then(|mut s| s.execute(params![low, high])),
                None => tx.execute("DELETE FROM storage_entry", []),
            },
        };
        result.map_err(from_sqlite)?;
    }
    // On any error above, dropping `tx` rolls everything back.
    tx.commit().map_err(from_sqlite)
}

/// Read connections, opened on demand and kept for reuse.
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn run<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StorageError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_connection(&self.path).map_err(from_sqlite)?,
        };
        let result = f(&conn).map_err(from_sqlite);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL is a property of the file (set by `Db::open`); synchronous is per connection.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

fn from_sqlite(error: rusqlite::Error) -> StorageError {
    match error.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => StorageError::Full,
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StorageError::Corrupt(Box::new(error))
        }
        _ => StorageError::Backend(Box::new(error)),
    }
}

fn encode_key(key: &StorageKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.parts().iter().map(|p| p.len() + 1).sum());
    for part in key.parts() {
        out.extend_from_slice(part.as_bytes());
        out.push(0);
    }
    out
}

fn decode_key(bytes: Vec<u8>) -> Result<StorageKey, StorageError> {
    let malformed = |bytes: &[u8]| StorageError::MalformedKey(bytes.to_vec());
    if bytes.is_empty() {
        return StorageKey::new(Vec::<String>::new()).map_err(|_| malformed(&bytes));
    }
    let Some(body) = bytes.strip_suffix(&[0]) else {
        return Err(malformed(&bytes));
    };
    let parts = body
        .split(|b| *b == 0)
        .map(|part| String::from_utf8(part.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| malformed(&bytes))?;
    StorageKey::new(parts).map_err(|_| malformed(&bytes))
}

/// The byte range `[low, high)` of the keys under `prefix`, or `None` for the empty prefix
/// (every key).
fn prefix_range(prefix: &StorageKey) -> Option<(Vec<u8>, Vec<u8>)> {
    let low = encode_key(prefix);
    let mut high = low.clone();
    // The final byte is the last part's NUL terminator.
    *high.last_mut()? = 1;
    Some((low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(parts: &[&str]) -> StorageKey {
        StorageKey::new(parts.iter().copied()).unwrap()
    }

    #[test]
    fn keys_encode_and_decode() {
        for parts in [
            &[][..],
            &[""],
            &["a", "", "b"],
            &["doc", "incremental", "ff"],
        ] {
            let k = key(parts);
            assert_eq!(decode_key(encode_key(&k)).unwrap(), k);
        }
        assert!(matches!(
            decode_key(b"no-terminator".to_vec()),
            Err(StorageError::MalformedKey(_))
        ));
        assert!(matches!(
            decode_key(vec![0xff, 0]),
            Err(StorageError::MalformedKey(_))
        ));
    }

    #[test]
    fn encoded_order_is_parts_order() {
        let mut keys = vec![
            key(&["ab", "x"]),
            key(&["a"]),
            key(&["abc"]),
            key(&["ab"]),
            key(&["a", "z"]),
            key(&["a\u{1}"]),
        ];
        let mut by_bytes = keys.clone();
        keys.sort();
        by_bytes.sort_by_key(encode_key);
        assert_eq!(keys, by_bytes);
    }

    #[tokio::test]
    async fn a_full_database_gives_a_typed_error_and_keeps_what_it_had() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open_with(dir.path(), |conn| {
            let pages: u64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
            // Room for roughly 200 KiB more.
            conn.pragma_update(None, "max_page_count", pages + 50)?;
            Ok(())
        })
        .unwrap();
        let mut stored = Vec::new();
        let mut full = false;
        for i in 0..100 {
            let k = key(&["doc", "incremental", &i.to_string()]);
            match storage.put(k.clone(), vec![i as u8; 16 << 10]).await {
                Ok(()) => stored.push(k),
                Err(StorageError::Full) => {
                    full = true;
                    break;
                }
                Err(other) => panic!("expected Full, got {other:?}"),
            }
        }
        assert!(full, "the size cap was never reached");
        assert!(!stored.is_empty());
        // Queued writes that fit still succeed beside one that does not.
        let (small, big) = tokio::join!(
            storage.put(key(&["small"]), vec![1; 10]),
            storage.put(key(&["big"]), vec![2; 1 << 20]),
        );
        assert!(small.is_ok(), "{small:?}");
        assert!(matches!(big, Err(StorageError::Full)), "{big:?}");
        for (i, k) in stored.iter().enumerate() {
            assert_eq!(
                storage.load(k.clone()).await.unwrap(),
                Some(vec![i as u8; 16 << 10])
            );
        }
        assert_eq!(storage.load(key(&["big"])).await.unwrap(), None);
        // Deleting makes room again.
        storage.remove_range(key(&["doc"])).await.unwrap();
        storage
            .put(key(&["after"]), vec![3; 16 << 10])
            .await
            .unwrap();
    }
}
