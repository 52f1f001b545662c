//! Callbacks: who hears of a new status, a changed or saved document, or a refusal, and
//! [`Subscription`], whose drop unregisters them. Callbacks run outside any borrow of the
//! repo's state, so they may call back into it.

use std::{
    cell::RefCell,
    rc::{Rc, Weak},
};

use sync::{DocumentId, Refusal};

use crate::{Repo, RepoStatus, Storage};

impl<S: Storage + 'static> Repo<S> {
    /// Calls `f` with each new status (not with the current one; read [`Repo::status`]).
    pub fn on_status(&self, f: impl Fn(&RepoStatus) + 'static) -> Subscription {
        let mut listeners = self.shared.listeners.borrow_mut();
        let id = listeners.next_id();
        listeners.status.push((id, Rc::new(f)));
        Subscription {
            listeners: Rc::downgrade(&self.shared.listeners),
            id,
        }
    }

    pub(crate) fn notify_doc(&self, id: DocumentId) {
        self.notify(id, |l| &l.docs);
    }

    pub(crate) fn notify_saved(&self, id: DocumentId) {
        self.notify(id, |l| &l.saved);
    }

    pub(crate) fn notify(
        &self,
        id: DocumentId,
        which: impl Fn(&Listeners) -> &Vec<DocListenerEntry>,
    ) {
        let callbacks: Vec<_> = which(&self.shared.listeners.borrow())
            .iter()
            .filter(|(_, doc, _)| *doc == id)
            .map(|(_, _, f)| f.clone())
            .collect();
        for f in callbacks {
            f();
        }
    }

    pub(crate) fn notify_refused(&self, refusal: &Refusal) {
        let callbacks: Vec<_> = self
            .shared
            .listeners
            .borrow()
            .refused
            .iter()
            .map(|(_, f)| f.clone())
            .collect();
        for f in callbacks {
            f(refusal);
        }
    }

    /// Calls `f` when the server refused changes to an open document (and closed the
    /// connection). The document stops syncing (the other documents go on, on the next
    /// connection) until [`DocHandle::recover`](crate::DocHandle::recover) rebuilt it.
    pub fn on_refused(&self, f: impl Fn(&Refusal) + 'static) -> Subscription {
        let mut listeners = self.shared.listeners.borrow_mut();
        let id = listeners.next_id();
        listeners.refused.push((id, Rc::new(f)));
        Subscription {
            listeners: Rc::downgrade(&self.shared.listeners),
            id,
        }
    }

    pub(crate) fn notify_status(&self) {
        let status = self.status();
        {
            let mut state = self.state_mut();
            if state.last_status.as_ref() == Some(&status) {
                return;
            }
            state.last_status = Some(status.clone());
        }
        let callbacks: Vec<_> = self
            .shared
            .listeners
            .borrow()
            .status
            .iter()
            .map(|(_, f)| f.clone())
            .collect();
        for f in callbacks {
            f(&status);
        }
    }
}

type StatusListener = Rc<dyn Fn(&RepoStatus)>;
type RefusedListener = Rc<dyn Fn(&Refusal)>;
type DocListener = Rc<dyn Fn()>;
pub(crate) type DocListenerEntry = (u64, DocumentId, DocListener);

#[derive(Default)]
pub(crate) struct Listeners {
    pub(crate) next: u64,
    pub(crate) status: Vec<(u64, StatusListener)>,
    pub(crate) docs: Vec<DocListenerEntry>,
    pub(crate) saved: Vec<DocListenerEntry>,
    pub(crate) refused: Vec<(u64, RefusedListener)>,
}

impl Listeners {
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }
}

/// A registered callback; dropping it unregisters the callback.
#[must_use = "dropping a subscription unregisters its callback"]
pub struct Subscription {
    pub(crate) listeners: Weak<RefCell<Listeners>>,
    pub(crate) id: u64,
}

impl Subscription {
    /// Keeps the callback for as long as the repo lives.
    pub fn detach(self) {
        std::mem::forget(self);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(listeners) = self.listeners.upgrade() {
            let mut listeners = listeners.borrow_mut();
            listeners.status.retain(|(id, _)| *id != self.id);
            listeners.docs.retain(|(id, _, _)| *id != self.id);
            listeners.saved.retain(|(id, _, _)| *id != self.id);
            listeners.refused.retain(|(id, _)| *id != self.id);
        }
    }
}
