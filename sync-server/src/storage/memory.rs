//! [`MemoryStorage`]: a [`Storage`] in memory, for tests and for running without a disk.

use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
};

use super::{BoxFuture, Entries, Storage, StorageError, StorageKey, WriteOp};

/// A [`Storage`] in a sorted map; nothing survives the process. Writes are atomic.
#[derive(Default)]
pub struct MemoryStorage {
    entries: Mutex<BTreeMap<StorageKey, Vec<u8>>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<StorageKey, Vec<u8>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Storage for MemoryStorage {
    fn load(&self, key: StorageKey) -> BoxFuture<'_, Result<Option<Vec<u8>>, StorageError>> {
        let value = self.entries().get(&key).cloned();
        Box::pin(async move { Ok(value) })
    }

    fn load_range(&self, prefix: StorageKey) -> BoxFuture<'_, Result<Entries, StorageError>> {
        // Keys sort by parts, so the keys under a prefix are one run starting at the prefix.
        let found = self
            .entries()
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        Box::pin(async move { Ok(found) })
    }

    fn write(&self, ops: Vec<WriteOp>) -> BoxFuture<'_, Result<(), StorageError>> {
        let mut entries = self.entries();
        for op in ops {
            match op {
                WriteOp::Put { key, data } => {
                    entries.insert(key, data);
                }
                WriteOp::Delete { key } => {
                    entries.remove(&key);
                }
                WriteOp::RemoveRange { prefix } => {
                    entries.retain(|key, _| !key.starts_with(&prefix));
                }
            }
        }
        Box::pin(async { Ok(()) })
    }
}
