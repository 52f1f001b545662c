//! The app's documents: stored on the device (IndexedDB, automerge-repo's chunk layout) and
//! synced with the server over automerge-repo's WebSocket protocol whenever a connection exists.
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
//! [`Repo::open`] and `ws` read `Date.now()` and `Math.random()`.
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

mod backoff;
mod chunks;
mod client;
mod idb;
mod rebase;
mod storage;
mod ws;

use std::{
    cell::{Ref, RefCell, RefMut},
    collections::BTreeMap,
    future::Future,
    rc::{Rc, Weak},
};

use automerge::{Automerge, ChangeHash};
use sync::{BadDocumentId, DocumentId, PeerId, PeerInfo, PeerMetadata, Refusal, Timestamp};

pub use backoff::Backoff;
pub use chunks::StoredView;
pub use idb::{BrowserStorage, DATABASE, IdbStorage, STORE};
pub use storage::{ChunkKind, MemoryStorage, Storage, StorageError, StorageKey, storage_id};
pub use ws::SyncConnection;

use chunks::Chunks;
use client::{Client, Output};

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
    state: RefCell<State>,
    listeners: Rc<RefCell<Listeners>>,
}

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

type SendFrame = Box<dyn Fn(&[u8])>;

/// How the repo talks to its current transport (a WebSocket, or a test's fake server).
pub struct Link {
    send: SendFrame,
    close: Box<dyn Fn()>,
}

impl Link {
    /// `send` sends one binary frame; `close` closes the transport (the driver then calls
    /// [`Repo::transport_closed`]).
    pub fn new(send: impl Fn(&[u8]) + 'static, close: impl Fn() + 'static) -> Self {
        Self {
            send: Box::new(send),
            close: Box::new(close),
        }
    }
}

/// What the UI shows about all open documents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoStatus {
    /// Connected to the server (handshake done).
    pub online: bool,
    /// Changes survive a reload: false where IndexedDB is unavailable and documents live in
    /// memory only.
    pub persistent: bool,
    /// Open documents with changes not yet stored on this device.
    pub unsaved: usize,
    /// Changes (over all open documents) the server is not known to have yet.
    pub waiting: usize,
    /// The last storage failure, until a write succeeds again.
    pub storage_error: Option<StorageError>,
}

impl RepoStatus {
    /// Every change is stored on this device.
    pub fn saved(&self) -> bool {
        self.persistent && self.unsaved == 0
    }

    /// The server has every change.
    pub fn synced(&self) -> bool {
        self.waiting == 0
    }
}

/// What the UI shows about one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocStatus {
    /// Every change is stored on this device.
    pub saved: bool,
    /// Changes the server is not known to have yet.
    pub waiting: usize,
    /// Neither this device nor the server has the document.
    pub unavailable: bool,
}

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

/// Why a document could not be opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    #[error(transparent)]
    BadUrl(#[from] BadDocumentId),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Repo<BrowserStorage> {
    /// The app's repo: IndexedDB (memory if IndexedDB cannot be opened; the status then says
    /// changes are not persistent), a random peer id and the browser's clock.
    ///
    /// Like automerge-repo's browser repo, it announces the storage id kept in IndexedDB with
    /// `isEphemeral: false`, so the server keeps its sync state with this device between
    /// visits; without IndexedDB it announces none and is ephemeral.
    pub async fn open() -> Self {
        let random = || (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
        let (storage, metadata) = match IdbStorage::open().await {
            Ok(idb) => {
                let new_id = || uuid_v4([random(), random(), random(), random()]);
                let metadata = match storage_id(&idb, new_id).await {
                    Ok(id) => PeerMetadata {
                        storage_id: Some(id),
                        is_ephemeral: false,
                    },
                    Err(_) => EPHEMERAL,
                };
                (BrowserStorage::IndexedDb(idb), metadata)
            }
            Err(_) => (BrowserStorage::Memory(MemoryStorage::new()), EPHEMERAL),
        };
        let peer_id = PeerId::new(format!("dorpskracht-{:08x}{:08x}", random(), random()));
        Self::with_metadata(storage, peer_id, metadata, || js_sys::Date::now() as u64)
    }
}

/// `performance.mark(name)` in the browser (steps for tests/e2e/perf.spec.js).
fn mark(_name: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::docs::live_doc::performance_mark(_name);
}

/// What a repo that keeps nothing across sessions announces.
const EPHEMERAL: PeerMetadata = PeerMetadata {
    storage_id: None,
    is_ephemeral: true,
};

/// A random (version 4) UUID from 128 random bits, as automerge-repo makes storage ids.
fn uuid_v4(words: [u32; 4]) -> String {
    let mut b = [0u8; 16];
    for (chunk, word) in b.chunks_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

impl<S: Storage + 'static> Repo<S> {
    /// A repo over `storage` that introduces itself to servers as `peer_id` and reads the time
    /// (milliseconds since the Unix epoch) from `clock`.
    pub fn new(storage: S, peer_id: PeerId, clock: impl Fn() -> u64 + 'static) -> Self {
        Self::with_metadata(storage, peer_id, PeerMetadata::default(), clock)
    }

    /// [`Repo::new`], announcing `metadata` (storage id, ephemeral or not) in `join`.
    pub fn with_metadata(
        storage: S,
        peer_id: PeerId,
        metadata: PeerMetadata,
        clock: impl Fn() -> u64 + 'static,
    ) -> Self {
        let local = PeerInfo { peer_id, metadata };
        Self {
            shared: Rc::new(Shared {
                storage,
                clock: Box::new(clock),
                state: RefCell::new(State {
                    docs: BTreeMap::new(),
                    actor: None,
                    client: Client::new(local),
                    link: None,
                    storage_error: None,
                    last_status: None,
                    unsettled: Vec::new(),
                }),
                listeners: Rc::default(),
            }),
        }
    }

    /// The storage under this repo.
    pub fn storage(&self) -> &S {
        &self.shared.storage
    }

    /// Opens the document at `url` (`automerge:…`): loads it from storage, then syncs it with
    /// the server when connected. A document this device has never seen starts empty and fills
    /// when the server sends it.
    pub async fn find(&self, url: &str) -> Result<DocHandle<S>, RepoError> {
        let id = DocumentId::from_url(url)?;
        self.open_document(id).await
    }

    /// [`Repo::find`] by id.
    pub async fn open_document(&self, id: DocumentId) -> Result<DocHandle<S>, RepoError> {
        if self.state().docs.contains_key(&id) {
            return Ok(self.handle(id));
        }
        let entries = self.load_entries(id).await?;
        Ok(self.open_loaded(id, entries, true))
    }

    /// [`Repo::find`], showing a view first: as soon as storage answered (one read for the
    /// chunks and the views), and before the document is loaded (for a village of 5,000 posts
    /// that takes longer than starting the app), `show` gets the view stored under `view` next
    /// to the document, if any (see [`DocHandle::store_view`]); the future it returns is awaited
    /// before the load (the app lets the browser paint the view). Not called when the document
    /// is open already.
    ///
    /// What the repo does with a newly opened document besides loading it (its first sync
    /// message, which for a document with no stored sync state covers every change, and the
    /// status, which counts the changes the server lacks) waits until [`DocHandle::settle`],
    /// so the app can first show the document; at the latest it happens at the next
    /// [`Repo::transport_tick`] or when a connection is established.
    pub async fn find_with_view<F: Future<Output = ()>>(
        &self,
        url: &str,
        view: &str,
        show: impl FnOnce(Option<StoredView>) -> F,
    ) -> Result<DocHandle<S>, RepoError> {
        let id = DocumentId::from_url(url)?;
        if self.state().docs.contains_key(&id) {
            return Ok(self.handle(id));
        }
        let entries = self.load_entries(id).await?;
        show(chunks::find_view(&entries, view)).await;
        let handle = self.open_loaded(id, entries, false);
        Ok(handle)
    }

    fn handle(&self, id: DocumentId) -> DocHandle<S> {
        DocHandle {
            repo: self.clone(),
            id,
        }
    }

    /// Everything stored under the document's prefix, in one read.
    async fn load_entries(&self, id: DocumentId) -> Result<Vec<(StorageKey, Vec<u8>)>, RepoError> {
        Ok(self
            .shared
            .storage
            .load_range(&StorageKey::document(id))
            .await?)
    }

    fn open_loaded(
        &self,
        id: DocumentId,
        entries: Vec<(StorageKey, Vec<u8>)>,
        settle: bool,
    ) -> DocHandle<S> {
        let handle = self.handle(id);
        if self.state().docs.contains_key(&id) {
            // Another `find` of the same document finished first.
            return handle;
        }
        let loaded = chunks::load(id, entries);
        mark("dorpskracht:repo-loaded");
        {
            let mut state = self.state_mut();
            let mut doc = loaded.doc;
            if let Some(actor) = &state.actor {
                doc.set_actor(actor.clone());
            }
            state.docs.insert(
                id,
                OpenDoc {
                    doc,
                    chunks: loaded.chunks,
                    server_heads: loaded.shared_heads.clone(),
                    stored_server_heads: loaded.shared_heads,
                    unavailable: false,
                    paused: false,
                    views: loaded.views,
                },
            );
            state.unsettled.push(id);
        }
        if settle {
            handle.settle();
        }
        handle
    }

    /// Begins syncing an opened document (unless a connection did already) and reports the
    /// status with it.
    fn settle(&self, id: DocumentId) {
        let now = self.now();
        let output = {
            let mut state = self.state_mut();
            let State { docs, client, .. } = &mut *state;
            match docs.get_mut(&id) {
                Some(open) if !client.is_syncing(id) => client.opened_doc(now, id, open),
                _ => Output::default(),
            }
        };
        self.dispatch(output);
        mark("dorpskracht:repo-synced");
        self.notify_status();
        mark("dorpskracht:repo-status");
    }

    /// Opens document `id` with `initial`'s changes merged in: creates it on this device when
    /// it is new (a conversation under a fresh random id), or adds what it lacks (an inbox,
    /// whose first changes every device makes alike, so copies made offline merge into one).
    /// Stored, then sent like any local change.
    pub async fn create(
        &self,
        id: DocumentId,
        mut initial: Automerge,
    ) -> Result<DocHandle<S>, RepoError> {
        let handle = self.open_document(id).await?;
        let lacks = |doc: &Automerge| {
            initial
                .get_heads()
                .iter()
                .any(|h| doc.get_change_meta_by_hash(h).is_none())
        };
        if handle.with_doc(lacks) {
            handle
                .change(|doc| {
                    // Both sides are whole documents; merging them cannot fail.
                    let _ = doc.merge(&mut initial);
                })
                .await?;
        }
        Ok(handle)
    }

    /// Makes every local change, in open documents and ones opened later, as `actor`. The
    /// server accepts a new change only from the user its actor is registered to, so the app
    /// registers this actor with the account before it syncs (see `crate::account`). Every
    /// page load takes a fresh one: two tabs never share an actor (which would corrupt the
    /// documents' history).
    pub fn set_actor(&self, actor: automerge::ActorId) {
        let mut state = self.state_mut();
        for open in state.docs.values_mut() {
            open.doc.set_actor(actor.clone());
        }
        state.actor = Some(actor);
    }

    /// The status of all open documents and the connection.
    pub fn status(&self) -> RepoStatus {
        let state = self.state();
        RepoStatus {
            online: state.client.is_established(),
            persistent: self.shared.storage.is_persistent(),
            unsaved: state
                .docs
                .values()
                .filter(|d| !d.chunks.is_saved(&d.doc))
                .count(),
            waiting: state.docs.values().map(OpenDoc::waiting).sum(),
            storage_error: state.storage_error.clone(),
        }
    }

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

    /// Keeps this repo connected to `ws(s)://<this page's host>/sync` until the returned
    /// handle is stopped: reconnects with [`Backoff::default`], re-syncs every open document
    /// after each reconnect.
    pub fn connect(&self) -> SyncConnection {
        let url = ws::sync_url().unwrap_or_else(|| "ws://localhost/sync".to_owned());
        self.connect_to(&url, Backoff::default())
    }

    /// [`Repo::connect`], finishing `prepare` before each attempt to connect.
    pub fn connect_prepared(&self, prepare: ws::Prepare) -> SyncConnection {
        let url = ws::sync_url().unwrap_or_else(|| "ws://localhost/sync".to_owned());
        ws::connect(
            Box::new(self.clone()),
            url,
            Backoff::default(),
            Some(prepare),
        )
    }

    /// [`Repo::connect`] to another URL or with another schedule.
    pub fn connect_to(&self, url: &str, backoff: Backoff) -> SyncConnection {
        ws::connect(Box::new(self.clone()), url.to_owned(), backoff, None)
    }

    /// The transport is open: starts the handshake, after which every open document syncs.
    pub fn transport_opened(&self, link: Link) {
        let now = self.now();
        let output = {
            let mut state = self.state_mut();
            state.link = Some(Rc::new(link));
            state.client.opened(now)
        };
        self.dispatch(output);
    }

    /// A binary frame arrived. Applies it at once; the returned future stores what the server
    /// sent (drive it to completion, e.g. with `spawn_local`).
    pub fn transport_received(&self, bytes: Vec<u8>) -> impl Future<Output = ()> + 'static {
        let now = self.now();
        let output = {
            let mut state = self.state_mut();
            let State { docs, client, .. } = &mut *state;
            client.receive(now, bytes, docs)
        };
        let mut output = output;
        let refused = std::mem::take(&mut output.refused);
        let mut changed = output.changed.clone();
        let mut their_heads = output.their_heads.clone();
        changed.sort();
        changed.dedup();
        their_heads.sort();
        their_heads.dedup();
        self.dispatch(output);
        for id in &changed {
            self.notify_doc(*id);
        }
        self.notify_status();
        for refusal in refused {
            let open = match self.state_mut().docs.get_mut(&refusal.document_id) {
                Some(open) => {
                    open.paused = true;
                    true
                }
                None => false,
            };
            if open {
                self.notify_refused(&refusal);
            }
        }
        let repo = self.clone();
        async move {
            for id in changed {
                // A failure is in the status; the changes stay in memory and are stored with
                // the next successful write.
                let _ = repo.save(id).await;
            }
            for id in their_heads {
                repo.save_sync_state(id).await;
            }
        }
    }

    /// Call every second or so while a transport is open: ends a handshake that stalls.
    pub fn transport_tick(&self) {
        let now = self.now();
        let output = self.state_mut().client.tick(now);
        self.dispatch(output);
        let unsettled = std::mem::take(&mut self.state_mut().unsettled);
        for id in unsettled {
            self.settle(id);
        }
    }

    /// The transport closed (or failed to open).
    pub fn transport_closed(&self) {
        {
            let mut state = self.state_mut();
            state.link = None;
            state.client.closed();
        }
        self.notify_status();
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_millis((self.shared.clock)())
    }

    fn state(&self) -> Ref<'_, State> {
        self.shared.state.borrow()
    }

    fn state_mut(&self) -> RefMut<'_, State> {
        self.shared.state.borrow_mut()
    }

    /// Sends what the client asked for (outside any borrow: a send never calls back).
    fn dispatch(&self, output: Output) {
        let link = self.state().link.clone();
        if let Some(link) = link {
            for frame in &output.frames {
                (link.send)(frame);
            }
            if output.close {
                (link.close)();
            }
        }
        if output.close {
            self.notify_status();
        }
    }

    /// Stores the document's unsaved changes.
    async fn save(&self, id: DocumentId) -> Result<(), StorageError> {
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
        let result = self.shared.storage.write(&write.puts, &write.deletes).await;
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
    async fn compact(&self, id: DocumentId) -> Result<(), StorageError> {
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
    async fn save_sync_state(&self, id: DocumentId) {
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

    async fn change<R>(
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

    fn notify_doc(&self, id: DocumentId) {
        self.notify(id, |l| &l.docs);
    }

    fn notify_saved(&self, id: DocumentId) {
        self.notify(id, |l| &l.saved);
    }

    fn notify(&self, id: DocumentId, which: impl Fn(&Listeners) -> &Vec<DocListenerEntry>) {
        let callbacks: Vec<_> = which(&self.shared.listeners.borrow())
            .iter()
            .filter(|(_, doc, _)| *doc == id)
            .map(|(_, _, f)| f.clone())
            .collect();
        for f in callbacks {
            f();
        }
    }

    fn notify_refused(&self, refusal: &Refusal) {
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
    /// connection) until [`DocHandle::recover`] rebuilt it.
    pub fn on_refused(&self, f: impl Fn(&Refusal) + 'static) -> Subscription {
        let mut listeners = self.shared.listeners.borrow_mut();
        let id = listeners.next_id();
        listeners.refused.push((id, Rc::new(f)));
        Subscription {
            listeners: Rc::downgrade(&self.shared.listeners),
            id,
        }
    }

    /// The handle of an open document, if it is open.
    pub fn open_handle(&self, id: DocumentId) -> Option<DocHandle<S>> {
        self.state().docs.contains_key(&id).then(|| self.handle(id))
    }

    fn notify_status(&self) {
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

/// One open document. Cheap to clone; the document stays open as long as the repo lives.
pub struct DocHandle<S = BrowserStorage> {
    repo: Repo<S>,
    id: DocumentId,
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

type StatusListener = Rc<dyn Fn(&RepoStatus)>;
type RefusedListener = Rc<dyn Fn(&Refusal)>;
type DocListener = Rc<dyn Fn()>;
type DocListenerEntry = (u64, DocumentId, DocListener);

#[derive(Default)]
struct Listeners {
    next: u64,
    status: Vec<(u64, StatusListener)>,
    docs: Vec<DocListenerEntry>,
    saved: Vec<DocListenerEntry>,
    refused: Vec<(u64, RefusedListener)>,
}

impl Listeners {
    fn next_id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }
}

/// A registered callback; dropping it unregisters the callback.
#[must_use = "dropping a subscription unregisters its callback"]
pub struct Subscription {
    listeners: Weak<RefCell<Listeners>>,
    id: u64,
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

/// What the WebSocket driver needs of a repo, whatever its storage.
trait Endpoint {
    fn opened(&self, link: Link);
    fn received(&self, bytes: Vec<u8>) -> std::pin::Pin<Box<dyn Future<Output = ()>>>;
    fn tick(&self);
    fn closed(&self);
    fn is_online(&self) -> bool;
}

impl<S: Storage + 'static> Endpoint for Repo<S> {
    fn opened(&self, link: Link) {
        self.transport_opened(link);
    }

    fn received(&self, bytes: Vec<u8>) -> std::pin::Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(self.transport_received(bytes))
    }

    fn tick(&self) {
        self.transport_tick();
    }

    fn closed(&self) {
        self.transport_closed();
    }

    fn is_online(&self) -> bool {
        self.state().client.is_established()
    }
}
