//! Making a [`Repo`] and opening documents in it: [`Repo::open`] (the browser's: IndexedDB,
//! a random peer id and storage id, `Date.now()`), [`Repo::new`] / [`Repo::with_metadata`]
//! (any storage and clock: tests, native clients), [`Repo::find`] and friends, [`Repo::create`],
//! the actor, the status, and the timing-mark hook [`Repo::set_marks`].

use std::{
    cell::{Ref, RefCell, RefMut},
    collections::BTreeMap,
    future::Future,
    rc::Rc,
};

use automerge::Automerge;
use sync::{DocumentId, PeerId, PeerInfo, PeerMetadata, Timestamp};

use crate::{
    BrowserStorage, DocHandle, IdbStorage, MemoryStorage, OpenDoc, Repo, RepoError, RepoStatus,
    Shared, State, Storage, StorageKey, StoredView, chunks,
    client::{Client, Output},
    storage_id,
};

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

/// What a repo that keeps nothing across sessions announces.
const EPHEMERAL: PeerMetadata = PeerMetadata {
    storage_id: None,
    is_ephemeral: true,
};

/// A random (version 4) UUID from 128 random bits, as automerge-repo makes storage ids.
fn uuid_v4(words: [u32; 4]) -> String {
    let mut bytes = [0u8; 16];
    for (chunk, word) in bytes.chunks_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    sync::uuid_v4(bytes)
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
                marks: RefCell::new(None),
                state: RefCell::new(State {
                    docs: BTreeMap::new(),
                    actor: None,
                    client: Client::new(local),
                    link: None,
                    storage_error: None,
                    last_status: None,
                    unsettled: Vec::new(),
                    evictable: Vec::new(),
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

    pub(crate) fn handle(&self, id: DocumentId) -> DocHandle<S> {
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
        self.mark("dorpskracht:repo-loaded");
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
    pub(crate) fn settle(&self, id: DocumentId) {
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
        self.mark("dorpskracht:repo-synced");
        self.notify_status();
        self.mark("dorpskracht:repo-status");
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

    /// Calls `mark` with the name of each step of opening a document
    /// (`dorpskracht:repo-loaded`, `dorpskracht:repo-synced`, `dorpskracht:repo-status`): the
    /// app passes `performance.mark`, for tests/e2e/perf.spec.js's breakdown. Without it the
    /// steps are not marked. `mark` may call back into the repo.
    pub fn set_marks(&self, mark: impl Fn(&str) + 'static) {
        *self.shared.marks.borrow_mut() = Some(Rc::new(mark));
    }

    /// Marks a step (see [`Repo::set_marks`]).
    fn mark(&self, name: &str) {
        let mark = self.shared.marks.borrow().clone();
        if let Some(mark) = mark {
            mark(name);
        }
    }

    /// The handle of an open document, if it is open.
    pub fn open_handle(&self, id: DocumentId) -> Option<DocHandle<S>> {
        self.state().docs.contains_key(&id).then(|| self.handle(id))
    }

    pub(crate) fn now(&self) -> Timestamp {
        Timestamp::from_millis((self.shared.clock)())
    }

    pub(crate) fn state(&self) -> Ref<'_, State> {
        self.shared.state.borrow()
    }

    pub(crate) fn state_mut(&self) -> RefMut<'_, State> {
        self.shared.state.borrow_mut()
    }
}

#[cfg(test)]
mod tests {
    /// Four `Math.random` words make the storage id the repo made before `sync::uuid_v4`
    /// formatted it (big-endian words, version and variant bits set).
    #[test]
    fn storage_ids_are_the_words_as_a_v4_uuid() {
        assert_eq!(
            super::uuid_v4([0x0001_0203, 0x0405_0607, 0x0809_0a0b, 0x0c0d_0e0f]),
            "00010203-0405-4607-8809-0a0b0c0d0e0f"
        );
        assert_eq!(
            super::uuid_v4([u32::MAX; 4]),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
    }
}
