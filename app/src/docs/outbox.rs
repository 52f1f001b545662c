//! The outbox: documents this device wrote to that the server may not have yet.

use crate::docs::sync_state::SyncState;
use crate::platform::storage;
use crate::repo::Repo;
use crate::repo::Subscription;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Documents this device wrote to that the server may not have yet (a conversation, other
/// residents' inboxes), kept in localStorage until synced: a page that wrote to them may be
/// gone, yet they must reach the server, so the app opens them at start.
const OUTBOX_KEY: &str = "dorpskracht.outbox";

pub fn outbox() -> Vec<String> {
    storage::get(OUTBOX_KEY)
        .map(|s| {
            s.split(' ')
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Remembers `url` until the server has all of it (see [`sync_outbox`]).
pub fn remember(repo: &Repo, url: String) {
    let mut urls = outbox();
    if !urls.contains(&url) {
        urls.push(url.clone());
        storage::set(OUTBOX_KEY, &urls.join(" "));
    }
    watch(repo, url);
}

/// Keeps `url` open until the server has every change of it, then forgets it.
pub fn watch(repo: &Repo, url: String) {
    let repo = repo.clone();
    spawn_local(async move {
        let Ok(handle) = repo.find(&url).await else {
            return;
        };
        let done = move || {
            if handle.status().waiting == 0 {
                let rest: Vec<String> = outbox().into_iter().filter(|u| *u != url).collect();
                storage::set(OUTBOX_KEY, &rest.join(" "));
                true
            } else {
                false
            }
        };
        if done() {
            return;
        }
        let subscription = std::rc::Rc::new(std::cell::RefCell::new(None::<Subscription>));
        let keep = subscription.clone();
        *subscription.borrow_mut() = Some(repo.on_status(move |s| {
            if s.online && done() {
                // Unregisters this callback once the status call is over.
                let keep = keep.clone();
                spawn_local(async move {
                    keep.borrow_mut().take();
                });
            }
        }));
    });
}

/// Opens every document of the outbox once the repo is ready, so what was written offline
/// reaches the server whichever page is open. Called once, at the app's start.
pub fn sync_outbox() {
    let sync = expect_context::<SyncState>();
    Effect::new(move || {
        if let Some(repo) = sync.repo.get() {
            for url in outbox() {
                watch(&repo, url);
            }
        }
    });
}
