//! Writing to storage: a document's unsaved changes ([`Repo::save`], after every local change
//! and every change from the server), compactions into one snapshot, and the sync state shared
//! with the server (so "n changes waiting" is right after a reload while offline); and a local
//! change ([`crate::DocHandle::change`]): applied, stored, then sent.
//!
//! *A local change counts as saved only once storage finished writing it, and nothing is
//! deleted from storage unless what replaces it is written in the same transaction.*

use automerge::Automerge;
use sync::DocumentId;

use crate::{ChunkKind, Repo, State, Storage, StorageError, StorageKey, chunks};

impl<S: Storage + 'static> Repo<S> {
    /// Stores the document's unsaved changes.
    pub(crate) async fn save(&self, id: DocumentId) -> Result<(), StorageError> {
        let write = {
            let state = self.state();
            let Some(open) = state.docs.get(&id) else {
                return Ok(());
            };
            open.chunks.next_write(&open.doc)
        };
        let Some(write) = write else {
            return Ok(());
        };
        let mut result = self.shared.storage.write(&write.puts, &write.deletes).await;
        // A full device: drop cached copies the server has all of, one at a time, until the
        // write fits or nothing more may go (`evict.rs`).
        let mut kept = Vec::new();
        while result == Err(StorageError::QuotaExceeded) && self.free_space(id, &mut kept).await {
            result = self.shared.storage.write(&write.puts, &write.deletes).await;
        }
        {
            let mut state = self.state_mut();
            match &result {
                Ok(()) => {
                    if let Some(open) = state.docs.get_mut(&id) {
                        open.chunks.written(&write);
                    }
                    state.storage_error = None;
                }
                Err(e) => state.storage_error = Some(e.clone()),
            }
        }
        self.notify_status();
        if result.is_ok() {
            self.notify_saved(id);
        }
        result
    }

    /// Replaces the document's stored chunks by one snapshot.
    pub(crate) async fn compact(&self, id: DocumentId) -> Result<(), StorageError> {
        let write = {
            let state = self.state();
            let Some(open) = state.docs.get(&id) else {
                return Ok(());
            };
            open.chunks.compaction(&open.doc)
        };
        self.shared
            .storage
            .write(&write.puts, &write.deletes)
            .await?;
        if let Some(open) = self.state_mut().docs.get_mut(&id) {
            open.chunks.written(&write);
        }
        self.notify_status();
        self.notify_saved(id);
        Ok(())
    }

    /// Stores the heads the server has in common with us under `[doc, "sync-state", server]`,
    /// so "n changes waiting" is right after a reload while offline.
    pub(crate) async fn save_sync_state(&self, id: DocumentId) {
        let (key, heads) = {
            let state = self.state();
            let (Some(open), Some(server)) = (state.docs.get(&id), state.client.server()) else {
                return;
            };
            let heads = open.known_server_heads();
            if open.stored_server_heads.as_ref() == Some(&heads) {
                return;
            }
            let storage_id = server
                .metadata
                .storage_id
                .as_ref()
                .map_or(server.peer_id.as_str(), |s| s.as_str());
            let key = StorageKey::chunk(id, ChunkKind::SyncState, storage_id);
            (key, heads)
        };
        let bytes = chunks::sync_state_bytes(heads.clone());
        if self
            .shared
            .storage
            .write(&[(key, bytes)], &[])
            .await
            .is_ok()
            && let Some(open) = self.state_mut().docs.get_mut(&id)
        {
            open.stored_server_heads = Some(heads);
        }
    }

    pub(crate) async fn change<R>(
        &self,
        id: DocumentId,
        f: impl FnOnce(&mut Automerge) -> R,
    ) -> Result<R, StorageError> {
        let value = {
            let mut state = self.state_mut();
            let open = state
                .docs
                .get_mut(&id)
                .expect("a handle's document stays open");
            f(&mut open.doc)
        };
        self.notify_doc(id);
        self.notify_status();
        let saved = self.save(id).await;
        // Sent even if storing failed: then the server's copy is the only other one.
        let now = self.now();
        let output = {
            let mut state = self.state_mut();
            let State { docs, client, .. } = &mut *state;
            let open = docs.get_mut(&id).expect("a handle's document stays open");
            client.changed_doc(now, id, open)
        };
        self.dispatch(output);
        self.notify_status();
        saved.map(|()| value)
    }
}
