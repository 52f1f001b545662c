//! A document a screen shows: opened from the device's repo, read reactively, edited through
//! `model` operations. Village screens share one (see [`crate::village`]); the municipality's
//! is opened once for the whole app (see [`crate::Municipality`]).

use automerge::Automerge;
use leptos::{prelude::*, task::spawn_local};

use crate::{
    SyncState,
    repo::{DocHandle, Subscription},
};

/// An open document: its handle once the repo has it, and a counter that moves on every
/// change, local or from the server. Views read through [`LiveDoc::with`], which tracks it.
#[derive(Clone, Copy)]
pub struct LiveDoc {
    pub handle: RwSignal<Option<DocHandle>, LocalStorage>,
    pub version: RwSignal<u64>,
    subscription: StoredValue<Option<Subscription>, LocalStorage>,
}

impl LiveDoc {
    /// Opens the document `url()` names (an `automerge:` URL) once the repo is ready, and again
    /// whenever the URL changes. Needs [`SyncState`] in context.
    pub fn open(url: impl Fn() -> Option<String> + 'static) -> Self {
        let sync = expect_context::<SyncState>();
        let doc = Self {
            handle: RwSignal::new_local(None),
            version: RwSignal::new(0),
            subscription: StoredValue::new_local(None),
        };
        Effect::new(move || {
            let (Some(repo), Some(url)) = (sync.repo.get(), url()) else {
                return;
            };
            spawn_local(async move {
                if let Ok(handle) = repo.find(&url).await {
                    let version = doc.version;
                    let sub = handle.on_change(move || {
                        version.try_update(|n| *n += 1);
                    });
                    doc.subscription.try_set_value(Some(sub));
                    doc.handle.try_set(Some(handle));
                    doc.version.try_update(|n| *n += 1);
                }
            });
        });
        doc
    }

    /// Reads the document, re-running the caller when it changes; `None` until it is open.
    pub fn with<R>(&self, f: impl FnOnce(&Automerge) -> R) -> Option<R> {
        self.version.track();
        self.handle.with(|h| h.as_ref().map(|h| h.with_doc(f)))
    }

    /// [`LiveDoc::with`] for `model`'s typed documents, which own their `Automerge`: `f` gets
    /// the document by value and hands it back (see [`DocHandle::lend_doc`]); nothing is copied.
    pub fn lend<R>(&self, f: impl FnOnce(Automerge) -> (Automerge, R)) -> Option<R> {
        self.version.track();
        self.handle.with(|h| h.as_ref().map(|h| h.lend_doc(f)))
    }
}
