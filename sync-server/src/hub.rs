//! The document hub: which documents are in memory, and the way connections reach them.
//!
//! Each document in memory has one task ([`crate::doc_task`]) that owns the `Automerge` and
//! every peer's `DocSync` for it, and handles that document's messages one batch at a time.
//! Connections send it [`DocCommand`]s through a bounded queue; it answers through each
//! connection's bounded [`Outbound`](crate::peer::Outbound) queue. A document is loaded when a connection first sends
//! something about it and unloaded when no connection has it open for a while.
//!
//! # Why unloading is race free
//!
//! A connection reaches a document through a [`DocHandle`], which it gets from [`Hub::open`]
//! under the hub's lock; the lock also counts the handles of each document. A document's task
//! unloads only while holding that lock, and only if no handle exists and its queue is empty.
//! So no message can be queued to a task that has decided to stop: a sender needs a handle,
//! and a new handle comes from the hub, which by then hands out a new task.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
};

use sync::{DocumentId, StorageId};
use tokio::sync::mpsc;

use crate::{
    doc_task::{self, DocTask, Registry},
    limits::SyncLimits,
    peer::{ConnId, DocCommand, LocalChange},
    shutdown::Lifecycle,
    storage::DocumentStore,
    validate::ChangeValidator,
};

/// The registry of documents in memory. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    docs: Mutex<HashMap<DocumentId, Slot>>,
    store: DocumentStore,
    validator: Arc<dyn ChangeValidator>,
    limits: SyncLimits,
    lifecycle: Lifecycle,
    next_id: AtomicU64,
    /// The server's own storage id, whose heads it gossips.
    storage_id: StorageId,
}

struct Slot {
    inbox: mpsc::Sender<DocCommand>,
    /// Which task this is, so a task that unloads never removes its successor.
    generation: u64,
    handles: usize,
}

impl Hub {
    pub(crate) fn new(
        store: DocumentStore,
        validator: Arc<dyn ChangeValidator>,
        limits: SyncLimits,
        lifecycle: Lifecycle,
        storage_id: StorageId,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                docs: Mutex::new(HashMap::new()),
                store,
                validator,
                limits,
                lifecycle,
                next_id: AtomicU64::new(1),
                storage_id,
            }),
        }
    }

    /// A new connection id.
    pub(crate) fn next_conn_id(&self) -> ConnId {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A handle to a document, loading it (starting its task) if it is not in memory.
    pub(crate) fn open(&self, document_id: DocumentId, conn: ConnId) -> DocHandle {
        let mut docs = self.docs();
        // A task that ended without unloading (it panicked) must not swallow messages.
        if docs
            .get(&document_id)
            .is_some_and(|slot| slot.inbox.is_closed())
        {
            docs.remove(&document_id);
        }
        let slot = docs.entry(document_id).or_insert_with(|| {
            let generation = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
            let (inbox, commands) = mpsc::channel(self.inner.limits.document_queue);
            doc_task::spawn(
                DocTask::new(
                    document_id,
                    generation,
                    Arc::new(self.clone()),
                    self.inner.store.clone(),
                    self.inner.validator.clone(),
                    self.inner.storage_id.clone(),
                ),
                commands,
                self.inner.lifecycle.track(),
                self.inner.lifecycle.shutdown(),
                self.inner.limits.unload_after,
            );
            Slot {
                inbox,
                generation,
                handles: 0,
            }
        });
        slot.handles += 1;
        DocHandle {
            hub: self.clone(),
            document_id,
            conn,
            inbox: slot.inbox.clone(),
        }
    }

    /// Removes the document's task from the registry if nothing can reach it any more: no
    /// handle exists and `queue_empty` (checked under the lock) holds. Returns whether it did.
    pub(crate) fn try_unload(
        &self,
        document_id: DocumentId,
        generation: u64,
        queue_empty: impl FnOnce() -> bool,
    ) -> bool {
        let mut docs = self.docs();
        match docs.get(&document_id) {
            Some(slot) if slot.generation == generation => {
                if slot.handles == 0 && queue_empty() {
                    docs.remove(&document_id);
                    true
                } else {
                    false
                }
            }
            // Not registered (cannot happen while it runs): nothing reaches it.
            _ => true,
        }
    }

    /// Runs `change` on the document (loading it if needed) as the server's own change, and
    /// waits until what it wrote is durable. `Ok(false)`: nothing to write.
    pub(crate) async fn change(
        &self,
        document_id: DocumentId,
        change: LocalChange,
    ) -> Result<bool, String> {
        let handle = self.open(document_id, self.next_conn_id());
        let (done, answer) = tokio::sync::oneshot::channel();
        if !handle.send(DocCommand::Local { change, done }).await {
            return Err("the document's task stopped".into());
        }
        drop(handle);
        answer
            .await
            .unwrap_or_else(|_| Err("the document's task stopped".into()))
    }

    /// How many documents are in memory.
    pub(crate) fn loaded(&self) -> usize {
        self.docs().len()
    }

    fn release(&self, document_id: DocumentId, inbox: &mpsc::Sender<DocCommand>) {
        let mut docs = self.docs();
        if let Some(slot) = docs.get_mut(&document_id)
            && slot.inbox.same_channel(inbox)
        {
            slot.handles -= 1;
        }
    }

    fn docs(&self) -> MutexGuard<'_, HashMap<DocumentId, Slot>> {
        // A std Mutex: it is held for a map lookup only, never across an `.await`.
        self.inner
            .docs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Registry for Hub {
    fn try_unload(
        &self,
        document_id: DocumentId,
        generation: u64,
        queue_empty: &mut dyn FnMut() -> bool,
    ) -> bool {
        Hub::try_unload(self, document_id, generation, queue_empty)
    }
}

/// One connection's way to one document. Call [`DocHandle::close`] when done; dropping it
/// without closing also releases the document, and its task forgets the peer once the
/// connection's queue is gone.
pub(crate) struct DocHandle {
    hub: Hub,
    document_id: DocumentId,
    conn: ConnId,
    inbox: mpsc::Sender<DocCommand>,
}

impl DocHandle {
    /// Queues a command, waiting while the document's queue is full. Returns false if the
    /// document's task is gone, which only happens if it panicked (it outlives every handle
    /// otherwise; see the module docs).
    pub(crate) async fn send(&self, command: DocCommand) -> bool {
        self.inbox.send(command).await.is_ok()
    }

    /// Tells the document this connection is gone, then releases it.
    pub(crate) async fn close(self) {
        self.send(DocCommand::Leave { conn: self.conn }).await;
    }
}

impl Drop for DocHandle {
    fn drop(&mut self) {
        self.hub.release(self.document_id, &self.inbox);
    }
}
