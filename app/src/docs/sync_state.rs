//! [`SyncState`]: the documents on this device (the repo) and their sync with the server, in
//! context for every screen that opens a document.

use crate::docs::refusal;
use crate::platform::identity;
use crate::platform::persist;
use crate::platform::session;
use crate::repo::Repo;
use crate::repo::RepoStatus;
use crate::repo::SyncConnection;

use leptos::prelude::*;

/// The documents on this device and their sync with the server.
#[derive(Clone, Copy)]
pub struct SyncState {
    /// `None` until device storage is open.
    pub repo: RwSignal<Option<Repo>, LocalStorage>,
    pub status: RwSignal<RepoStatus>,
    /// The connection to the server; it stops when this is dropped, so the root keeps it.
    pub connection: StoredValue<Option<SyncConnection>, LocalStorage>,
    /// The server's last refusal of a change of ours, until the resident closes the message.
    pub refused: RwSignal<Option<sync::Refusal>>,
    /// Who the resident is, with their roles (set once `docs::me::Me` exists): recovery judges
    /// by it.
    pub me: StoredValue<Option<Memo<model::User>>>,
    /// Whether the browser keeps this device's copy (`navigator.storage.persisted()`); `None`
    /// until known, or where the browser cannot say.
    pub persisted: RwSignal<Option<bool>>,
}

impl SyncState {
    /// Opens device storage and keeps a connection to the server for the app's lifetime.
    pub fn start() -> Self {
        let sync = Self {
            repo: RwSignal::new_local(None),
            status: RwSignal::new(RepoStatus::default()),
            connection: StoredValue::new_local(None),
            refused: RwSignal::new(None),
            me: StoredValue::new(None),
            persisted: RwSignal::new(None),
        };
        leptos::task::spawn_local(async move {
            sync.persisted.try_set(persist::is_persisted().await);
            if identity::signed_in() {
                sync.keep_storage();
            }
        });
        leptos::task::spawn_local(async move {
            let repo = Repo::open().await;
            repo.set_marks(crate::platform::browser::performance_mark);
            repo.set_actor(identity::session_actor());
            // The connection keeps going (and reconnecting) for as long as the page lives.
            // Before each attempt, a signed-in resident's actors are registered, so nothing is
            // sent as an actor the server does not know (offline this fails quietly and is
            // tried again before the next attempt).
            sync.connection
                .set_value(Some(repo.connect_prepared(std::rc::Rc::new(|| {
                    Box::pin(async {
                        if identity::signed_in() {
                            session::register_pending_actors().await;
                        }
                    })
                }))));
            sync.status.set(repo.status());
            refusal::watch(&repo, sync.refused, sync.me);
            repo.on_status(move |s| {
                if s.waiting > 0 {
                    identity::session_actor_used();
                    sync.keep_storage();
                }
                sync.status.try_set(s.clone());
            })
            .detach();
            sync.repo.set(Some(repo));
        });
        sync
    }

    /// Asks the browser to keep this device's copy, once the resident has something to lose
    /// (signed in, or a change waits for the server); at most once per start.
    pub fn keep_storage(self) {
        if self.persisted.get_untracked() == Some(true) || !persist::first_ask() {
            return;
        }
        leptos::task::spawn_local(async move {
            if let Some(granted) = persist::request().await {
                self.persisted.try_set(Some(granted));
            }
        });
    }

    /// Opens a new connection (after signing in or out: the session is the connection's).
    pub fn reconnect(&self) {
        if identity::signed_in() {
            self.keep_storage();
        }
        self.connection.with_value(|c| {
            if let Some(c) = c {
                c.reconnect();
            }
        });
    }
}
