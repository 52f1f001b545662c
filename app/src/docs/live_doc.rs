//! A document a screen shows: opened from the device's repo, read reactively, edited through
//! `model` operations. Village screens share one (see `crate::screens::village::page`); the municipality's
//! is opened once for the whole app (see [`crate::docs::municipality_doc::Municipality`]).

use crate::docs::sync_state::SyncState;
use crate::platform::browser::{next_paint, performance_mark};
use crate::repo::DocHandle;
use crate::repo::StoredView;
use crate::repo::Subscription;

use automerge::Automerge;
use leptos::{prelude::*, task::spawn_local};

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
        Self::open_with_view(url, None::<(fn() -> String, _)>)
    }

    /// [`LiveDoc::open`], handing the view stored next to the document under the name `view`
    /// returns to `preview` as soon as storage answered, and letting the browser paint it
    /// before the document loads (see [`crate::repo::Repo::find_with_view`]).
    pub fn open_with_view(
        url: impl Fn() -> Option<String> + 'static,
        view: Option<(impl Fn() -> String + 'static, RwSignal<Option<StoredView>>)>,
    ) -> Self {
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
            let view = view.as_ref().map(|(name, preview)| (name(), *preview));
            spawn_local(async move {
                let found = match view {
                    Some((name, preview)) => {
                        repo.find_with_view(&url, &name, |stored| {
                            performance_mark("dorpskracht:doc-read");
                            let shown = stored.is_some();
                            preview.try_set(stored);
                            async move {
                                if shown {
                                    next_paint().await;
                                }
                            }
                        })
                        .await
                    }
                    None => repo.find(&url).await,
                };
                if let Ok(handle) = found {
                    performance_mark("dorpskracht:doc-open");
                    let version = doc.version;
                    let sub = handle.on_change(move || {
                        version.try_update(|n| *n += 1);
                    });
                    doc.subscription.try_set_value(Some(sub));
                    doc.handle.try_set(Some(handle.clone()));
                    doc.version.try_update(|n| *n += 1);
                    // The repo's own work on the new document (first sync message, status)
                    // waits until the screen showing it was painted.
                    next_paint().await;
                    handle.settle();
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
