//! [`OpenDocs`]: several documents opened by URL, read through one version counter.

use crate::repo::DocHandle;
use crate::repo::Repo;
use crate::repo::Subscription;
use automerge::Automerge;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Several documents opened by URL, read through one version counter: the conversations of
/// the inbox, the villages a resident follows.
#[derive(Clone, Copy)]
pub(crate) struct OpenDocs {
    docs: StoredValue<Vec<(String, Option<DocHandle>)>, LocalStorage>,
    subscriptions: StoredValue<Vec<Subscription>, LocalStorage>,
    version: RwSignal<u64>,
}

impl OpenDocs {
    pub(crate) fn new() -> Self {
        Self {
            docs: StoredValue::new_local(Vec::new()),
            subscriptions: StoredValue::new_local(Vec::new()),
            version: RwSignal::new(0),
        }
    }

    /// Opens each of `urls` not opened yet.
    pub(crate) fn open(self, repo: &Repo, urls: impl IntoIterator<Item = String>) {
        for url in urls {
            if self.docs.with_value(|d| d.iter().any(|(u, _)| *u == url)) {
                continue;
            }
            self.docs.update_value(|d| d.push((url.clone(), None)));
            let repo = repo.clone();
            spawn_local(async move {
                let Ok(handle) = repo.find(&url).await else {
                    return;
                };
                let version = self.version;
                let sub = handle.on_change(move || {
                    version.try_update(|n| *n += 1);
                });
                self.subscriptions.try_update_value(|s| s.push(sub));
                self.docs.try_update_value(|d| {
                    if let Some(slot) = d.iter_mut().find(|(u, _)| *u == url) {
                        slot.1 = Some(handle);
                    }
                });
                version.try_update(|n| *n += 1);
            });
        }
    }

    /// [`OpenDocs::with`] for `model`'s typed documents, which own their `Automerge`: `f` gets
    /// the document by value and hands it back (see [`DocHandle::lend_doc`]).
    pub(crate) fn lend<R>(
        self,
        url: &str,
        f: impl FnOnce(Automerge) -> (Automerge, R),
    ) -> Option<R> {
        self.version.track();
        self.docs.with_value(|d| {
            d.iter()
                .find(|(u, _)| u == url)
                .and_then(|(_, h)| h.as_ref())
                .map(|h| h.lend_doc(f))
        })
    }

    /// Reads the document at `url` (tracked); `None` until it is open.
    pub(crate) fn with<R>(self, url: &str, f: impl FnOnce(&Automerge) -> R) -> Option<R> {
        self.version.track();
        self.docs.with_value(|d| {
            d.iter()
                .find(|(u, _)| u == url)
                .and_then(|(_, h)| h.as_ref())
                .map(|h| h.with_doc(f))
        })
    }
}
