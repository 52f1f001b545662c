//! The device's document store of the Dorpskracht app: its documents, stored on the device
//! (IndexedDB, automerge-repo's chunk layout) and synced with the server over automerge-repo's
//! WebSocket protocol whenever a connection exists. The app re-exports this crate as
//! `app::repo`.
//!
//! - [`Repo`]: the handle the UI holds (cheap to clone). [`Repo::open`] opens device storage;
//!   [`Repo::connect`] keeps a WebSocket to `/sync` open, reconnecting with backoff;
//!   [`Repo::find`] opens a document by `automerge:` URL, from storage first, then syncs it;
//!   [`Repo::create`] makes a new one (or adds known first changes to one).
//! - [`DocHandle`]: one open document. [`DocHandle::change`] applies a local edit, stores it,
//!   then sends it; [`DocHandle::on_change`] reports every change (local or from the server).
//! - [`Repo::on_refused`] hears that the server refused changes to a document;
//!   [`DocHandle::recover`] rebuilds it from the server's copy with the device's other edits on
//!   top (`rebase`), keeping the refused change aside in storage.
//! - [`RepoStatus`]: what the UI always shows: online or not, saved on this device, synced or
//!   how many changes wait for the server. [`Repo::on_status`] reports each new status.
//!
//! Inside, [`Storage`] is the key-value store (`IdbStorage`, or `MemoryStorage` in tests and
//! where IndexedDB is unavailable), `chunks` decides what to write, `client` runs the protocol
//! sans-IO (`sync::Connection` plus a `sync::DocSync` per open document), and `ws` moves its
//! frames over a `web_sys::WebSocket`. Time and randomness come in at the edge only:
//! [`Repo::open`] and `ws` read `Date.now()` and `Math.random()`. This crate knows nothing of
//! the app: the app hands in what it wants to hear, such as `performance.mark` for the steps of
//! opening a document ([`Repo::set_marks`]).
//!
//! *Invariant: a local change counts as saved only once storage finished writing it, and
//! nothing is deleted from storage unless what replaces it is written in the same transaction.*
//!
//! Using it from Leptos (the root owns the repo and provides it as context):
//!
//! ```text
//! let repo = Repo::open().await;
//! let connection = repo.connect(); // keep it: dropping it disconnects
//! let status = RwSignal::new(repo.status());
//! repo.on_status(move |s| { status.try_set(s.clone()); }).detach();
//! let village = repo.find(&bootstrap.villages[0].doc).await?;
//! let version = RwSignal::new(0u64);
//! village.on_change(move || { version.try_update(|v| *v += 1); }).detach();
//! // A view reads `version.get()` and then `village.with_doc(|doc| …)`.
//! spawn_local(async move {
//!     if let Err(e) = village.change(|doc| { /* model operations */ }).await { /* show e */ }
//! });
//! ```
//!
//! # Files
//!
//! - `lib.rs` (this file): the shared state behind a [`Repo`] (open documents, the protocol
//!   client, the current link, listeners) and what is kept per open document.
//! - `repo.rs`: making a repo ([`Repo::open`], [`Repo::new`]), opening and creating documents,
//!   the status, and the timing-mark hook ([`Repo::set_marks`]).
//! - `save.rs`: writing a document's changes, compactions and sync states to storage.
//! - `handle.rs`: [`DocHandle`], one open document: read, change, views, recovery.
//! - `transport.rs`: the repo's side of a connection ([`Link`], `transport_*`) and
//!   [`Repo::connect`].
//! - `listeners.rs`: callbacks ([`Subscription`]) and telling them what happened.
//! - `status.rs`: [`RepoStatus`], [`DocStatus`], [`RepoError`].
//! - `storage.rs`: the [`Storage`] trait, [`StorageKey`] (automerge-repo's layout, from
//!   `sync::chunk_key`), [`MemoryStorage`]; `idb.rs`: [`IdbStorage`] over IndexedDB.
//! - `chunks.rs`: which chunks to load, write and delete; `rebase.rs`: rebuilding a document
//!   without a refused change.
//! - `client.rs`: the sans-IO protocol client; `ws.rs`: the `WebSocket` driver;
//!   `backoff.rs`: the reconnect schedule.

mod backoff;
mod chunks;
mod client;
mod evict;
mod handle;
mod idb;
mod listeners;
mod rebase;
mod repo;
mod save;
mod status;
mod storage;
mod transport;
mod ws;

use std::{cell::RefCell, collections::BTreeMap, rc::Rc};

use automerge::{Automerge, ChangeHash};
use sync::DocumentId;

pub use backoff::Backoff;
pub use chunks::StoredView;
pub use handle::{DocHandle, Recovery};
pub use idb::{BrowserStorage, DATABASE, IdbStorage, STORE};
pub use listeners::Subscription;
pub use status::{DocStatus, RepoError, RepoStatus};
pub use storage::{ChunkKind, MemoryStorage, Storage, StorageError, StorageKey, storage_id};
pub use transport::Link;
pub use ws::SyncConnection;

use chunks::Chunks;
use client::Client;
use listeners::Listeners;

/// Open documents, device storage and the connection to the server. Clones share all of it.
pub struct Repo<S = BrowserStorage> {
    shared: Rc<Shared<S>>,
}

impl<S> Clone for Repo<S> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

struct Shared<S> {
    storage: S,
    clock: Box<dyn Fn() -> u64>,
    /// Called with the name of each step of opening a document (see [`Repo::set_marks`]).
    marks: RefCell<Option<Mark>>,
    state: RefCell<State>,
    listeners: Rc<RefCell<Listeners>>,
}

/// A timing-mark hook (see [`Repo::set_marks`]).
type Mark = Rc<dyn Fn(&str)>;

struct State {
    docs: BTreeMap<DocumentId, OpenDoc>,
    /// The actor this repo's local changes are made as (see [`Repo::set_actor`]).
    actor: Option<automerge::ActorId>,
    client: Client,
    link: Option<Rc<Link>>,
    storage_error: Option<StorageError>,
    last_status: Option<RepoStatus>,
    /// Documents opened by [`Repo::find_with_view`] whose bookkeeping (first sync message,
    /// status) waits for [`DocHandle::settle`] or the next tick.
    unsettled: Vec<DocumentId>,
    /// Documents whose stored copy may be dropped when the device is full (`evict.rs`).
    evictable: Vec<DocumentId>,
}

/// One open document.
#[derive(Debug)]
pub(crate) struct OpenDoc {
    doc: Automerge,
    chunks: Chunks,
    /// The heads the server is known to have (from this connection or a stored sync state).
    server_heads: Option<Vec<ChangeHash>>,
    /// The server heads last stored as sync state.
    stored_server_heads: Option<Vec<ChangeHash>>,
    /// Neither we nor the server have it.
    unavailable: bool,
    /// The server refused changes to it: it does not sync until [`DocHandle::recover`] rebuilt
    /// it (sending the same changes again would only be refused again).
    paused: bool,
    /// The views stored next to it, by name, as last read or written.
    views: BTreeMap<String, Vec<u8>>,
}

impl OpenDoc {
    /// Changes the server is not known to have.
    fn waiting(&self) -> usize {
        let known = self.known_server_heads();
        if known == self.doc.get_heads() {
            // The usual case, and free: counting walks the change graph.
            return 0;
        }
        self.doc.get_changes_meta(&known).len()
    }

    /// The server's heads that we have too, sorted like `get_heads`.
    fn known_server_heads(&self) -> Vec<ChangeHash> {
        let mut known: Vec<ChangeHash> = self
            .server_heads
            .iter()
            .flatten()
            .filter(|h| self.doc.get_change_meta_by_hash(h).is_some())
            .copied()
            .collect();
        known.sort_unstable();
        known
    }
}
