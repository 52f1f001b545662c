//! [`DocHandle`]: one open document. Read it ([`DocHandle::with_doc`],
//! [`DocHandle::lend_doc`]), change it ([`DocHandle::change`]), hear of changes, store and check
//! views next to it, and recover from the server refusing a change ([`DocHandle::recover`],
//! with `rebase.rs`).

use std::rc::Rc;

use automerge::{Automerge, ChangeHash};
use sync::{DocumentId, Refusal};

use crate::{
    BrowserStorage, DocStatus, OpenDoc, Repo, State, Storage, StorageError, StorageKey,
    Subscription,
    client::Output,
    listeners::{DocListenerEntry, Listeners},
    rebase,
};

/// What [`DocHandle::recover`] did with the changes the server did not have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Kept as they were.
    pub kept: usize,
    /// Made again as new changes (they were built on a left-out one).
    pub replayed: usize,
    /// Left out: the one the server named, what the rules refuse, what could not be made
    /// again.
    pub dropped: Vec<ChangeHash>,
}

/// One open document. Cheap to clone; the document stays open as long as the repo lives.
pub struct DocHandle<S = BrowserStorage> {
    pub(crate) repo: Repo<S>,
    pub(crate) id: DocumentId,
}

impl<S> Clone for DocHandle<S> {
    fn clone(&self) -> Self {
        Self {
            repo: self.repo.clone(),
            id: self.id,
        }
    }
}

impl<S: Storage + 'static> DocHandle<S> {
    pub fn id(&self) -> DocumentId {
        self.id
    }

    /// `automerge:<id>`.
    pub fn url(&self) -> String {
        self.id.to_url()
    }

    /// Reads the document. `f` must not call back into the repo.
    pub fn with_doc<R>(&self, f: impl FnOnce(&Automerge) -> R) -> R {
        let state = self.repo.state();
        f(&state.docs[&self.id].doc)
    }

    /// Lends the document by value to `f`, which hands it back: for reading it through
    /// `model`'s typed documents (which own their `Automerge`) without copying it. Meanwhile
    /// the repo holds an empty document, so `f` must not call back into the repo.
    pub fn lend_doc<R>(&self, f: impl FnOnce(Automerge) -> (Automerge, R)) -> R {
        let doc = std::mem::take(
            &mut self
                .repo
                .state_mut()
                .docs
                .get_mut(&self.id)
                .expect("open")
                .doc,
        );
        let (doc, result) = f(doc);
        if let Some(open) = self.repo.state_mut().docs.get_mut(&self.id) {
            open.doc = doc;
        }
        result
    }

    /// Applies a local edit at once (subscribers hear of it), stores it on the device, then
    /// sends it to the server if connected (or after the next reconnect). Resolves when it is
    /// stored; on [`StorageError`] the edit stays in memory, is still sent, and is stored with
    /// the next successful write. `f` must not call back into the repo.
    pub async fn change<R>(&self, f: impl FnOnce(&mut Automerge) -> R) -> Result<R, StorageError> {
        self.repo.change(self.id, f).await
    }

    /// Calls `f` after every change to the document, local or from the server.
    pub fn on_change(&self, f: impl Fn() + 'static) -> Subscription {
        self.listen(|l| &mut l.docs, f)
    }

    /// Calls `f` after each write of the document's changes to storage succeeded.
    pub fn on_saved(&self, f: impl Fn() + 'static) -> Subscription {
        self.listen(|l| &mut l.saved, f)
    }

    fn listen(
        &self,
        which: impl FnOnce(&mut Listeners) -> &mut Vec<DocListenerEntry>,
        f: impl Fn() + 'static,
    ) -> Subscription {
        let mut listeners = self.repo.shared.listeners.borrow_mut();
        let id = listeners.next_id();
        which(&mut listeners).push((id, self.id, Rc::new(f)));
        Subscription {
            listeners: Rc::downgrade(&self.repo.shared.listeners),
            id,
        }
    }

    /// Stores what `compute` makes of the document (lent as in [`DocHandle::lend_doc`]; `None`:
    /// nothing to store) as its view `name`, recording the chunks it was computed from, so a
    /// later [`Repo::find_with_view`] can tell whether it is still the document's exact state.
    /// Only while everything is stored (otherwise the next save calls for a new view anyway);
    /// a view equal to the stored one is not written again. Returns whether it wrote.
    pub async fn store_view(
        &self,
        name: &str,
        compute: impl FnOnce(Automerge) -> (Automerge, Option<Vec<u8>>),
    ) -> Result<bool, StorageError> {
        if !self.with_open(|open| open.chunks.is_saved(&open.doc)) {
            return Ok(false);
        }
        let Some(payload) = self.lend_doc(compute) else {
            return Ok(false);
        };
        let record = self.with_open(|open| {
            let record = open.chunks.view_record(&open.doc, &payload)?;
            (open.views.get(name) != Some(&record)).then_some(record)
        });
        let Some(record) = record else {
            return Ok(false);
        };
        let key = StorageKey::view(self.id, name);
        self.repo
            .shared
            .storage
            .write(&[(key, record.clone())], &[])
            .await?;
        if let Some(open) = self.repo.state_mut().docs.get_mut(&self.id) {
            open.views.insert(name.to_owned(), record);
        }
        Ok(true)
    }

    /// Does what waits after [`Repo::find_with_view`] opened the document: its first sync
    /// message and the status. Once only; a no-op for documents opened otherwise.
    pub fn settle(&self) {
        let unsettled = {
            let mut state = self.repo.state_mut();
            let before = state.unsettled.len();
            state.unsettled.retain(|id| *id != self.id);
            state.unsettled.len() != before
        };
        if unsettled {
            self.repo.settle(self.id);
        }
    }

    /// Whether the view `name` stored next to the document was computed from the chunks stored
    /// now (as far as this tab knows): then there is no need to compute it again.
    pub fn has_current_view(&self, name: &str) -> bool {
        self.with_open(|open| {
            open.views
                .get(name)
                .is_some_and(|record| open.chunks.is_current_view(&open.doc, record))
        })
    }

    fn with_open<R>(&self, f: impl FnOnce(&OpenDoc) -> R) -> R {
        f(&self.repo.state().docs[&self.id])
    }

    pub fn status(&self) -> DocStatus {
        let state = self.repo.state();
        let open = &state.docs[&self.id];
        DocStatus {
            saved: open.chunks.is_saved(&open.doc),
            waiting: open.waiting(),
            unavailable: open.unavailable,
        }
    }

    /// Recovers from the server refusing changes to this document (see [`Repo::on_refused`]):
    /// rebuilds it from the heads the server is known to have, leaves out the change the
    /// server named, and puts this device's later changes back on top — as they were where
    /// they do not depend on a left-out change, otherwise made again as new operations by this
    /// device's actor — each only if `keep(doc, before)` accepts the changes `doc` has beyond
    /// `before` (the app's own rules, the server's). Subscribers hear of the new state at once.
    ///
    /// Storage then holds the rebuilt document as one snapshot in place of every chunk, and
    /// each left-out change under `[doc, "refused", hash]` (written in the same transaction),
    /// so nothing typed is lost though it is no longer shown or sent.
    pub async fn recover(
        &self,
        refusal: &Refusal,
        keep: impl FnMut(&Automerge, &[ChangeHash]) -> bool,
    ) -> Result<Recovery, StorageError> {
        let (recovery, write) = {
            let mut state = self.repo.state_mut();
            let actor = state.actor.clone();
            let Some(open) = state.docs.get_mut(&self.id) else {
                return Ok(Recovery::default());
            };
            let base = open.known_server_heads();
            let actor = actor.unwrap_or_else(|| open.doc.get_actor().clone());
            let Ok(rebased) = rebase::rebase(&open.doc, &base, refusal.change, &actor, keep) else {
                // Only if the server's heads were not in the document: nothing to rebuild from.
                return Ok(Recovery::default());
            };
            open.doc = rebased.doc;
            open.chunks.rebased(&base);
            let mut write = open.chunks.compaction(&open.doc);
            for change in &rebased.dropped {
                write.puts.push((
                    StorageKey::refused(self.id, &change.hash()),
                    change.raw_bytes().to_vec(),
                ));
            }
            let recovery = Recovery {
                kept: rebased.kept,
                replayed: rebased.replayed,
                dropped: rebased.dropped.iter().map(|c| c.hash()).collect(),
            };
            (recovery, write)
        };
        self.repo.notify_doc(self.id);
        self.repo.notify_status();
        // Sync the rebuilt document afresh (at once if connected, else on the next connection).
        let now = self.repo.now();
        let output = {
            let mut state = self.repo.state_mut();
            let State { docs, client, .. } = &mut *state;
            client.forget_doc(self.id);
            match docs.get_mut(&self.id) {
                Some(open) => {
                    open.paused = false;
                    client.opened_doc(now, self.id, open)
                }
                None => Output::default(),
            }
        };
        self.repo.dispatch(output);
        self.repo
            .shared
            .storage
            .write(&write.puts, &write.deletes)
            .await?;
        if let Some(open) = self.repo.state_mut().docs.get_mut(&self.id) {
            open.chunks.written(&write);
        }
        self.repo.notify_status();
        self.repo.notify_saved(self.id);
        Ok(recovery)
    }

    /// Replaces the chunks this tab loaded or wrote by one snapshot, in one transaction
    /// (saves also compact on their own once incremental chunks outgrow the snapshot).
    pub async fn compact(&self) -> Result<(), StorageError> {
        self.repo.compact(self.id).await
    }
}
