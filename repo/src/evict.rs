//! Making room on a full device: when a write fails because the site's storage is full
//! ([`StorageError::QuotaExceeded`]), the stored copies of documents the app marked as
//! evictable (the cached villages the resident does not follow, see [`Repo::set_evictable`])
//! are dropped, in the order given, and the write is tried once more.
//!
//! *Only a copy the server has all of is dropped*: a document that is open, holds changes the
//! server is not known to have, or keeps a refused change (a resident's words waiting for
//! [`crate::DocHandle::recover`]) is never touched. A dropped document is fetched again from
//! the server when it is next opened.

use automerge::ChangeHash;
use sync::DocumentId;

use crate::{Repo, Storage, StorageError, StorageKey, chunks};

impl<S: Storage + 'static> Repo<S> {
    /// The documents this device may drop when its storage is full, first dropped first. The
    /// app passes the village documents the resident does not follow; it may call this again
    /// whenever that changes.
    pub fn set_evictable(&self, documents: Vec<DocumentId>) {
        self.state_mut().evictable = documents;
    }

    /// Drops the stored copy of evictable documents until one was dropped (each drop is one
    /// storage transaction), skipping `except` and those in `kept`, to which it adds each
    /// document it judged must stay (so a later call does not read it again). Returns whether
    /// one was dropped.
    pub(crate) async fn free_space(&self, except: DocumentId, kept: &mut Vec<DocumentId>) -> bool {
        let candidates: Vec<DocumentId> = {
            let state = self.state();
            state
                .evictable
                .iter()
                .copied()
                .filter(|id| *id != except && !kept.contains(id) && !state.docs.contains_key(id))
                .collect()
        };
        for id in candidates {
            // A copy that could not be read or deleted is skipped like one that must stay.
            if let Ok(true) = self.drop_stored_copy(id).await {
                return true;
            }
            kept.push(id);
        }
        false
    }

    /// Deletes every key of document `id` if the server has all of its stored changes;
    /// returns whether it did.
    async fn drop_stored_copy(&self, id: DocumentId) -> Result<bool, StorageError> {
        let entries = self.storage().load_range(&StorageKey::document(id)).await?;
        if entries.is_empty() || entries.iter().any(|(key, _)| key.is_refused()) {
            return Ok(false);
        }
        let keys: Vec<StorageKey> = entries.iter().map(|(key, _)| key.clone()).collect();
        let loaded = chunks::load(id, entries);
        let heads = loaded.doc.get_heads();
        let server_has_all = loaded
            .shared_heads
            .is_some_and(|shared| covers(&loaded.doc, &shared, &heads));
        // Opened meanwhile (the app may open it while storage answered): keep it.
        if !server_has_all || self.state().docs.contains_key(&id) {
            return Ok(false);
        }
        self.storage().write(&[], &keys).await?;
        Ok(true)
    }
}

/// Whether the server, which has `shared` (and everything before it), has every change of
/// `doc`, whose heads are `heads`.
fn covers(doc: &automerge::Automerge, shared: &[ChangeHash], heads: &[ChangeHash]) -> bool {
    let known: Vec<ChangeHash> = shared
        .iter()
        .filter(|h| doc.get_change_meta_by_hash(h).is_some())
        .copied()
        .collect();
    heads.iter().all(|h| known.contains(h)) || doc.get_changes_meta(&known).is_empty()
}
