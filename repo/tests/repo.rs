//! The repo: documents stored in automerge-repo's chunk layout and synced with a server.
//!
//! Each behaviour runs twice: natively over `MemoryStorage` (`cargo test -p repo`) and in
//! headless Chromium over IndexedDB (`cargo test -p repo --target wasm32-unknown-unknown`, with
//! `wasm-bindgen-test-runner` and chromedriver installed; `cargo xtask test` runs both). The
//! server is a fake built from the `sync` crate's server side, driven through the repo's
//! transport API (`transport_opened` / `transport_received` / `transport_closed`), so the tests
//! need no sockets; `ws.rs` only moves those frames over a WebSocket.

use std::{cell::RefCell, collections::BTreeMap, rc::Rc};

use automerge::{Automerge, ROOT, ReadDoc, transaction::Transactable};
use repo::{
    ChunkKind, DocHandle, Link, MemoryStorage, Repo, RepoStatus, Storage, StorageError, StorageKey,
    storage_id,
};
use sync::{
    Connection, ConnectionConfig, ConnectionEvent, ConnectionInput, DocInput, DocSync, DocumentId,
    PeerId, PeerInfo, PeerMetadata, Timestamp,
};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::*;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test_configure!(run_in_browser);

/// Defines test `$name` running `$body(storage)`: natively with a `MemoryStorage`, in the
/// browser with a fresh IndexedDB database.
macro_rules! on_each_storage {
    ($name:ident, $body:ident) => {
        #[cfg(not(target_arch = "wasm32"))]
        #[test]
        fn $name() {
            block_on($body(MemoryStorage::new()));
        }

        #[cfg(target_arch = "wasm32")]
        #[wasm_bindgen_test]
        async fn $name() {
            let name = format!("test-{}-{}", stringify!($name), js_sys::Math::random());
            let storage = repo::IdbStorage::open_database(&name).await.unwrap();
            $body(storage).await;
        }
    };
}

const NOW: u64 = 1_700_000_000_000;

fn repo<S: Storage + Clone + 'static>(storage: &S, name: &str) -> Repo<S> {
    Repo::new(storage.clone(), PeerId::new(name), || NOW)
}

fn url(n: u8) -> String {
    DocumentId::from_bytes([n; 16]).to_url()
}

fn title(handle: &DocHandle<impl Storage + 'static>, key: &str) -> Option<String> {
    handle.with_doc(|doc| {
        doc.get(ROOT, key)
            .unwrap()
            .and_then(|(v, _)| v.into_string().ok())
    })
}

async fn put<S: Storage + 'static>(handle: &DocHandle<S>, key: &str, value: &str) {
    handle
        .change(|doc| {
            let mut tx = doc.transaction();
            tx.put(ROOT, key, value).unwrap();
            tx.commit();
        })
        .await
        .unwrap();
}

fn key(parts: &[&str]) -> StorageKey {
    StorageKey::new(parts.iter().map(|p| (*p).to_owned()).collect())
}

async fn storage_round_trip_and_prefix_ranges(storage: impl Storage) {
    let entries = [
        (key(&["ab", "incremental", "1"]), vec![1]),
        (key(&["ab", "snapshot", "2"]), vec![2, 2]),
        (key(&["ab", "sync-state", "server"]), vec![3]),
        (key(&["abc", "incremental", "4"]), vec![4]),
        (key(&["a", "incremental", "5"]), vec![5]),
        (key(&["storage-adapter-id"]), vec![6]),
    ];
    storage.write(&entries, &[]).await.unwrap();
    let ab = storage.load_range(&key(&["ab"])).await.unwrap();
    assert_eq!(
        ab,
        entries[..3].to_vec(),
        "`ab` does not match `abc` or `a`"
    );
    let abc = storage.load_range(&key(&["abc"])).await.unwrap();
    assert_eq!(abc, vec![entries[3].clone()]);
    let narrower = storage.load_range(&key(&["ab", "snapshot"])).await.unwrap();
    assert_eq!(narrower, vec![entries[1].clone()]);
    let exact = storage
        .load_range(&key(&["storage-adapter-id"]))
        .await
        .unwrap();
    assert_eq!(exact, vec![entries[5].clone()]);

    // Overwrite one, delete two, in one batch.
    storage
        .write(
            &[(key(&["ab", "snapshot", "2"]), vec![9, 9, 9])],
            &[
                key(&["ab", "incremental", "1"]),
                key(&["abc", "incremental", "4"]),
            ],
        )
        .await
        .unwrap();
    let ab = storage.load_range(&key(&["ab"])).await.unwrap();
    assert_eq!(
        ab,
        vec![
            (key(&["ab", "snapshot", "2"]), vec![9, 9, 9]),
            entries[2].clone()
        ]
    );
    assert!(storage.load_range(&key(&["abc"])).await.unwrap().is_empty());
}
on_each_storage!(
    storage_round_trip_and_prefix_ranges_that_do_not_over_match,
    storage_round_trip_and_prefix_ranges
);

async fn chunk_kinds<S: Storage>(storage: &S, url: &str) -> Vec<ChunkKind> {
    let id = DocumentId::from_url(url).unwrap();
    storage
        .load_range(&StorageKey::document(id))
        .await
        .unwrap()
        .iter()
        .filter_map(|(k, _)| k.kind())
        .collect()
}

async fn saved_incrementally_then_compacted<S: Storage + Clone + 'static>(storage: S) {
    let phone = repo(&storage, "phone");
    let doc = phone.find(&url(1)).await.unwrap();
    assert!(doc.with_doc(|d| d.get_heads().is_empty()), "a new document");
    put(&doc, "title", "Dorpshuis").await;
    put(&doc, "place", "Ulft").await;
    put(&doc, "when", "zaterdag").await;
    assert!(doc.status().saved);
    assert_eq!(
        chunk_kinds(&storage, &url(1)).await,
        [ChunkKind::Incremental; 3],
        "each edit is its own incremental chunk"
    );
    let heads = doc.with_doc(Automerge::get_heads);

    // Reloaded (a new tab) from the incremental chunks.
    let reloaded = repo(&storage, "tab").find(&url(1)).await.unwrap();
    assert_eq!(reloaded.with_doc(Automerge::get_heads), heads);

    doc.compact().await.unwrap();
    assert_eq!(chunk_kinds(&storage, &url(1)).await, [ChunkKind::Snapshot]);
    let reloaded = repo(&storage, "tab2").find(&url(1)).await.unwrap();
    assert_eq!(reloaded.with_doc(Automerge::get_heads), heads);
    assert_eq!(title(&reloaded, "place").as_deref(), Some("Ulft"));

    // Edits after compaction land next to the snapshot, and keep loading.
    put(&doc, "title", "Het Dorpshuis").await;
    let reloaded = repo(&storage, "tab3").find(&url(1)).await.unwrap();
    assert_eq!(title(&reloaded, "title").as_deref(), Some("Het Dorpshuis"));
}
on_each_storage!(
    a_document_saved_incrementally_then_compacted_reloads_with_the_same_heads,
    saved_incrementally_then_compacted
);

async fn later_chunk_survives_compaction<S: Storage + Clone + 'static>(storage: S) {
    let first_tab = repo(&storage, "first");
    let doc = first_tab.find(&url(2)).await.unwrap();
    put(&doc, "title", "Dorpshuis").await;
    // Another tab opens the same document after the first one loaded it, and edits it.
    let second_tab = repo(&storage, "second");
    let other = second_tab.find(&url(2)).await.unwrap();
    put(&other, "place", "Ulft").await;
    // The first tab compacts what it knows of; it must not delete the second tab's chunk.
    put(&doc, "when", "zaterdag").await;
    doc.compact().await.unwrap();
    let kinds = chunk_kinds(&storage, &url(2)).await;
    assert_eq!(kinds, [ChunkKind::Incremental, ChunkKind::Snapshot]);

    let reloaded = repo(&storage, "third").find(&url(2)).await.unwrap();
    assert_eq!(title(&reloaded, "title").as_deref(), Some("Dorpshuis"));
    assert_eq!(title(&reloaded, "place").as_deref(), Some("Ulft"));
    assert_eq!(title(&reloaded, "when").as_deref(), Some("zaterdag"));
}
on_each_storage!(
    a_chunk_written_after_the_load_survives_compaction,
    later_chunk_survives_compaction
);

async fn many_edits_compact_on_their_own<S: Storage + Clone + 'static>(storage: S) {
    let doc = repo(&storage, "phone").find(&url(3)).await.unwrap();
    for i in 0..40 {
        put(&doc, "text", &format!("{i} {}", "x".repeat(100))).await;
    }
    let kinds = chunk_kinds(&storage, &url(3)).await;
    assert!(kinds.contains(&ChunkKind::Snapshot), "{kinds:?}");
    assert!(kinds.len() < 20, "old chunks were deleted: {kinds:?}");
    let reloaded = repo(&storage, "tab").find(&url(3)).await.unwrap();
    assert_eq!(
        reloaded.with_doc(Automerge::get_heads),
        doc.with_doc(Automerge::get_heads)
    );
}
on_each_storage!(
    saves_compact_once_incremental_chunks_pile_up,
    many_edits_compact_on_their_own
);

async fn views_next_to_the_document<S: Storage + Clone + 'static>(storage: S) {
    let phone = repo(&storage, "phone");
    let doc = phone.find(&url(5)).await.unwrap();
    let saves = Rc::new(RefCell::new(0));
    doc.on_saved({
        let saves = saves.clone();
        move || *saves.borrow_mut() += 1
    })
    .detach();
    put(&doc, "title", "Dorpshuis").await;
    assert_eq!(*saves.borrow(), 1, "each stored change is announced");
    let title_view = |am: Automerge| {
        let view = am
            .get(ROOT, "title")
            .unwrap()
            .and_then(|(v, _)| v.into_string().ok())
            .map(String::into_bytes);
        (am, view)
    };
    assert!(doc.store_view("title", title_view).await.unwrap());
    assert!(doc.has_current_view("title"));
    assert!(
        !doc.store_view("title", title_view).await.unwrap(),
        "unchanged"
    );
    assert_eq!(
        title(&doc, "title").as_deref(),
        Some("Dorpshuis"),
        "lent back"
    );

    // Another tab gets the view before the document loads, exact.
    let shown = Rc::new(RefCell::new(None));
    let opened = |name: &'static str| {
        let shown = shown.clone();
        let storage = storage.clone();
        async move {
            repo(&storage, name)
                .find_with_view(&url(5), "title", |view| {
                    *shown.borrow_mut() = Some(view);
                    async {}
                })
                .await
                .unwrap()
        }
    };
    let tab = opened("tab").await;
    let view = shown.borrow_mut().take().unwrap().unwrap();
    assert!(view.exact);
    assert_eq!(view.bytes, b"Dorpshuis");
    assert!(tab.has_current_view("title"));
    assert!(!tab.has_current_view("other"));

    // Stored changes make it older than the document, until it is written again.
    put(&doc, "title", "Het Dorpshuis").await;
    assert!(!doc.has_current_view("title"));
    opened("tab2").await;
    let view = shown.borrow_mut().take().unwrap().unwrap();
    assert!(!view.exact);
    assert_eq!(view.bytes, b"Dorpshuis");
    assert!(doc.store_view("title", title_view).await.unwrap());
    opened("tab3").await;
    let view = shown.borrow_mut().take().unwrap().unwrap();
    assert!(view.exact);
    assert_eq!(view.bytes, b"Het Dorpshuis");
    // The view is not a chunk: a reload reads the same document.
    let reloaded = opened("tab4").await;
    assert_eq!(
        reloaded.with_doc(Automerge::get_heads),
        doc.with_doc(Automerge::get_heads)
    );
    // Compaction stores the document anew; the view follows once written again.
    doc.compact().await.unwrap();
    assert_eq!(*saves.borrow(), 3);
    assert!(!doc.has_current_view("title"));
    assert!(doc.store_view("title", title_view).await.unwrap());
    opened("tab5").await;
    assert!(shown.borrow_mut().take().unwrap().unwrap().exact);
}
on_each_storage!(
    a_view_stored_next_to_a_document_is_exact_until_chunks_change,
    views_next_to_the_document
);

async fn one_storage_id_per_device<S: Storage + Clone + 'static>(storage: S) {
    // Made once, kept where automerge-repo keeps it, and the same ever after.
    let id = storage_id(&storage, || "device-1".into()).await.unwrap();
    assert_eq!(id.as_str(), "device-1");
    assert_eq!(
        storage_id(&storage, || "device-2".into()).await.unwrap(),
        id
    );
    let stored = storage.load_range(&StorageKey::storage_id()).await.unwrap();
    assert_eq!(stored, [(StorageKey::storage_id(), b"device-1".to_vec())]);

    // The repo announces it in `join`, as a peer that keeps its documents.
    let metadata = PeerMetadata {
        storage_id: Some(id.clone()),
        is_ephemeral: false,
    };
    let repo = Repo::with_metadata(storage.clone(), PeerId::new("phone"), metadata, || NOW);
    let mut server = FakeServer::new();
    server.accept(&repo).await;
    let phone = server.connection.peer().expect("the handshake is done");
    assert_eq!(phone.metadata.storage_id, Some(id));
    assert!(!phone.metadata.is_ephemeral);
}
on_each_storage!(
    a_device_keeps_one_storage_id_and_announces_it,
    one_storage_id_per_device
);

/// A sync server made of the `sync` crate's server side, with its own documents.
struct FakeServer {
    connection: Connection,
    syncs: BTreeMap<DocumentId, DocSync>,
    docs: BTreeMap<DocumentId, Automerge>,
    /// Frames the repo sent, not yet handled.
    inbox: Rc<RefCell<Vec<Vec<u8>>>>,
    closed_by_client: Rc<RefCell<bool>>,
}

impl FakeServer {
    fn new() -> Self {
        Self {
            connection: Self::connection(),
            syncs: BTreeMap::new(),
            docs: BTreeMap::new(),
            inbox: Rc::default(),
            closed_by_client: Rc::default(),
        }
    }

    fn connection() -> Connection {
        let info = PeerInfo {
            peer_id: PeerId::new("server"),
            metadata: PeerMetadata::default(),
        };
        let mut connection = Connection::incoming(info, ConnectionConfig::default());
        connection.handle(Timestamp::from_millis(NOW), ConnectionInput::start());
        connection
    }

    /// A new socket from `repo`, as far as the handshake.
    async fn accept<S: Storage + 'static>(&mut self, repo: &Repo<S>) {
        self.connection = Self::connection();
        self.syncs.clear();
        let (inbox, closed) = (self.inbox.clone(), self.closed_by_client.clone());
        repo.transport_opened(Link::new(
            move |frame| inbox.borrow_mut().push(frame.to_vec()),
            move || *closed.borrow_mut() = true,
        ));
        self.run(repo).await;
    }

    /// The socket broke.
    fn drop_connection<S: Storage + 'static>(&mut self, repo: &Repo<S>) {
        repo.transport_closed();
        self.inbox.borrow_mut().clear();
        self.connection = Self::connection();
        self.syncs.clear();
    }

    /// Exchanges frames until neither side has anything to say.
    async fn run<S: Storage + 'static>(&mut self, repo: &Repo<S>) {
        let now = Timestamp::from_millis(NOW);
        for _ in 0..100 {
            let frames: Vec<_> = self.inbox.borrow_mut().drain(..).collect();
            if frames.is_empty() {
                return;
            }
            for frame in frames {
                let results = self.connection.handle(now, ConnectionInput::receive(frame));
                let mut replies = results.outgoing;
                for event in results.events {
                    let ConnectionEvent::Document {
                        document_id,
                        message,
                    } = event
                    else {
                        continue;
                    };
                    let doc = self.docs.entry(document_id).or_default();
                    let sync = self.syncs.entry(document_id).or_default();
                    let out = sync.handle(now, doc, DocInput::receive(message)).unwrap();
                    for m in out.outgoing {
                        replies.push(
                            self.connection
                                .encode_document_message(document_id, m)
                                .unwrap(),
                        );
                    }
                }
                for reply in replies {
                    repo.transport_received(reply).await;
                }
            }
        }
        panic!("the exchange does not settle");
    }

    /// Someone else's edit reaches the server, which passes it on.
    async fn edit<S: Storage + 'static>(&mut self, repo: &Repo<S>, url: &str, key: &str) {
        let id = DocumentId::from_url(url).unwrap();
        let now = Timestamp::from_millis(NOW);
        let doc = self.docs.entry(id).or_default();
        let mut tx = doc.transaction();
        tx.put(ROOT, key, "from the server").unwrap();
        tx.commit();
        let out = self
            .syncs
            .entry(id)
            .or_default()
            .handle(now, doc, DocInput::doc_changed())
            .unwrap();
        for m in out.outgoing {
            let frame = self.connection.encode_document_message(id, m).unwrap();
            repo.transport_received(frame).await;
        }
        self.run(repo).await;
    }

    fn value(&self, url: &str, key: &str) -> Option<String> {
        let doc = self.docs.get(&DocumentId::from_url(url).unwrap())?;
        doc.get(ROOT, key)
            .unwrap()
            .and_then(|(v, _)| v.into_string().ok())
    }
}

fn recorded_statuses<S: Storage + 'static>(repo: &Repo<S>) -> Rc<RefCell<Vec<RepoStatus>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    repo.on_status(move |s| sink.borrow_mut().push(s.clone()))
        .detach();
    seen
}

async fn offline_edits_reach_the_server<S: Storage + Clone + 'static>(storage: S) {
    let mut server = FakeServer::new();
    let phone = repo(&storage, "phone");
    let statuses = recorded_statuses(&phone);
    let doc = phone.find(&url(4)).await.unwrap();
    put(&doc, "title", "Dorpshuis").await;
    put(&doc, "place", "Ulft").await;
    let status = phone.status();
    assert!(!status.online);
    assert_eq!((status.unsaved, status.waiting), (0, 2), "saved, 2 waiting");
    assert_eq!(doc.status().waiting, 2);

    server.accept(&phone).await;
    assert_eq!(server.value(&url(4), "title").as_deref(), Some("Dorpshuis"));
    assert_eq!(server.value(&url(4), "place").as_deref(), Some("Ulft"));
    let status = phone.status();
    assert!(status.online && status.synced(), "{status:?}");
    assert!(
        statuses.borrow().iter().any(|s| s.online && s.waiting == 2),
        "the status went online before the changes were through: {:?}",
        statuses.borrow()
    );

    // The connection drops; an edit made meanwhile goes out after the reconnect.
    server.drop_connection(&phone);
    assert!(!phone.status().online);
    put(&doc, "when", "zaterdag").await;
    assert_eq!(phone.status().waiting, 1);
    assert_eq!(server.value(&url(4), "when"), None);
    server.accept(&phone).await;
    assert_eq!(server.value(&url(4), "when").as_deref(), Some("zaterdag"));
    assert!(phone.status().synced());

    // Online, an edit goes out as soon as it is stored.
    put(&doc, "who", "Anna").await;
    server.run(&phone).await;
    assert_eq!(server.value(&url(4), "who").as_deref(), Some("Anna"));
    assert_eq!(phone.status().waiting, 0);

    // After a reload with no connection, the stored sync state still knows what the server has.
    server.drop_connection(&phone);
    let reloaded = repo(&storage, "phone-again");
    let doc = reloaded.find(&url(4)).await.unwrap();
    assert_eq!(doc.status().waiting, 0, "all of it is on the server");
}
on_each_storage!(
    edits_made_offline_reach_the_server_after_reconnect,
    offline_edits_reach_the_server
);

async fn created_documents_are_stored_synced_and_merge<S: Storage + Clone + 'static>(storage: S) {
    let mut server = FakeServer::new();
    // The same first change, made on two devices (fixed actor and time, like an inbox's).
    let first = || {
        let mut doc = Automerge::new().with_actor(automerge::ActorId::from(vec![7u8; 16]));
        let mut tx = doc.transaction();
        tx.put(ROOT, "owner", "anna").unwrap();
        tx.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
        doc
    };
    let id = DocumentId::from_bytes([6; 16]);

    // Offline, Anna's phone creates it and writes to it.
    let phone = repo(&storage, "phone");
    let doc = phone.create(id, first()).await.unwrap();
    assert_eq!(title(&doc, "owner").as_deref(), Some("anna"));
    put(&doc, "from_anna", "hoi").await;
    assert_eq!(doc.status().waiting, 2, "the first change and Anna's wait");
    // Creating it again adds nothing.
    let heads = doc.with_doc(|d| d.get_heads());
    let again = phone.create(id, first()).await.unwrap();
    assert_eq!(again.with_doc(|d| d.get_heads()), heads);

    // Bert's device, also offline, creates the same document and writes to it.
    let other = MemoryStorage::new();
    let laptop = repo(&other, "laptop");
    let berts = laptop.create(id, first()).await.unwrap();
    put(&berts, "from_bert", "hallo").await;

    // Both come online: one document with both edits, everywhere.
    server.accept(&phone).await;
    server.accept(&laptop).await;
    server.accept(&phone).await;
    assert_eq!(
        server.value(&id.to_url(), "from_anna").as_deref(),
        Some("hoi")
    );
    assert_eq!(
        server.value(&id.to_url(), "from_bert").as_deref(),
        Some("hallo")
    );
    assert_eq!(title(&doc, "from_bert").as_deref(), Some("hallo"));
    assert_eq!(title(&doc, "owner").as_deref(), Some("anna"));

    // It was stored on the device: a reload finds it with no server.
    server.drop_connection(&phone);
    let reloaded = repo(&storage, "phone-again");
    let doc = reloaded.find(&id.to_url()).await.unwrap();
    assert_eq!(title(&doc, "from_anna").as_deref(), Some("hoi"));
}
on_each_storage!(
    created_documents_are_stored_synced_and_merge_across_devices,
    created_documents_are_stored_synced_and_merge
);

async fn server_changes_arrive<S: Storage + Clone + 'static>(storage: S) {
    let mut server = FakeServer::new();
    let phone = repo(&storage, "phone");
    server.accept(&phone).await;
    let doc = phone.find(&url(5)).await.unwrap();
    server.run(&phone).await;
    assert!(doc.status().unavailable, "neither side has it yet");

    let changes = Rc::new(RefCell::new(0));
    let counter = changes.clone();
    // Callbacks may read the document and the status (the UI does): no borrow is held.
    let (reader, status_reader) = (doc.clone(), phone.clone());
    let subscription = doc.on_change(move || {
        reader.with_doc(|d| assert!(!d.get_heads().is_empty()));
        let _ = status_reader.status();
        *counter.borrow_mut() += 1;
    });
    let status_reader = phone.clone();
    phone
        .on_status(move |s| assert_eq!(&status_reader.status(), s))
        .detach();
    server.edit(&phone, &url(5), "title").await;
    assert_eq!(title(&doc, "title").as_deref(), Some("from the server"));
    assert_eq!(*changes.borrow(), 1);
    assert!(!doc.status().unavailable);
    assert!(doc.status().saved, "stored on arrival");
    let reloaded = repo(&storage, "offline-tab").find(&url(5)).await.unwrap();
    assert_eq!(
        title(&reloaded, "title").as_deref(),
        Some("from the server")
    );

    // Dropping the subscription ends the callbacks.
    drop(subscription);
    server.edit(&phone, &url(5), "place").await;
    assert_eq!(title(&doc, "place").as_deref(), Some("from the server"));
    assert_eq!(*changes.borrow(), 1);
}
on_each_storage!(
    changes_from_the_server_reach_the_document_and_storage,
    server_changes_arrive
);

async fn protocol_errors_close<S: Storage + Clone + 'static>(storage: S) {
    let mut server = FakeServer::new();
    let phone = repo(&storage, "phone");
    server.accept(&phone).await;
    assert!(phone.status().online);
    phone.transport_received(vec![0xff, 0x00, 0x13]).await;
    assert!(
        *server.closed_by_client.borrow(),
        "the repo closed the socket"
    );
    assert!(!phone.status().online);
}
on_each_storage!(a_garbage_frame_closes_the_connection, protocol_errors_close);

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn a_full_device_is_a_typed_error_and_keeps_what_was_stored() {
    block_on(async {
        let storage = MemoryStorage::new();
        let phone = repo(&storage, "phone");
        let doc = phone.find(&url(6)).await.unwrap();
        put(&doc, "title", "Dorpshuis").await;
        let stored = storage.keys();
        storage.set_quota(Some(storage.used()));

        let result = doc
            .change(|d| {
                let mut tx = d.transaction();
                tx.put(ROOT, "place", "Ulft").unwrap();
                tx.commit();
            })
            .await;
        assert_eq!(result, Err(StorageError::QuotaExceeded));
        assert_eq!(storage.keys(), stored, "nothing stored was lost");
        let status = phone.status();
        assert_eq!(status.storage_error, Some(StorageError::QuotaExceeded));
        assert_eq!(status.unsaved, 1);
        assert!(!doc.status().saved);
        assert_eq!(
            title(&doc, "place").as_deref(),
            Some("Ulft"),
            "still in memory"
        );
        // Compaction needs room too, and fails without deleting anything.
        assert_eq!(doc.compact().await, Err(StorageError::QuotaExceeded));
        assert_eq!(storage.keys(), stored);

        // Room again: the next write stores the edit that did not fit.
        storage.set_quota(None);
        put(&doc, "when", "zaterdag").await;
        assert_eq!(phone.status().storage_error, None);
        assert!(doc.status().saved);
        let reloaded = repo(&storage, "tab").find(&url(6)).await.unwrap();
        assert_eq!(title(&reloaded, "place").as_deref(), Some("Ulft"));
        assert_eq!(title(&reloaded, "when").as_deref(), Some("zaterdag"));
    });
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn a_full_device_drops_cached_villages_the_server_has_all_of_and_nothing_unsynced() {
    block_on(async {
        let storage = MemoryStorage::new();
        let mut server = FakeServer::new();
        let phone = repo(&storage, "phone");
        server.accept(&phone).await;
        // Two villages read from the server; the second then gets an edit made offline.
        for n in [7, 8] {
            phone.find(&url(n)).await.unwrap();
            server.run(&phone).await;
            for key in ["title", "place", "when", "who", "what"] {
                server.edit(&phone, &url(n), key).await;
            }
        }
        server.drop_connection(&phone);
        let eight = phone.find(&url(8)).await.unwrap();
        put(&eight, "mine", "nog niet verstuurd").await;
        assert_eq!(eight.status().waiting, 1);
        let keys_of = |n: u8| -> Vec<StorageKey> {
            let prefix = StorageKey::document(DocumentId::from_bytes([n; 16]));
            storage
                .keys()
                .into_iter()
                .filter(|k| k.starts_with(&prefix))
                .collect()
        };
        let (seven, kept) = (keys_of(7), keys_of(8));
        assert!(!seven.is_empty() && !kept.is_empty());

        // The next start, offline, with the device full: an edit to the resident's own
        // village makes room by dropping village 7, which the server has all of.
        let later = repo(&storage, "phone-later");
        let ids = [7, 8].map(|n| DocumentId::from_bytes([n; 16]));
        later.set_evictable(vec![ids[1], ids[0]]);
        let own = later.find(&url(9)).await.unwrap();
        storage.set_quota(Some(storage.used()));
        put(&own, "help", "Wie helpt met boodschappen?").await;
        assert!(own.status().saved, "stored after making room");
        assert_eq!(later.status().storage_error, None);
        assert!(keys_of(7).is_empty(), "the synced cached village went");
        assert_eq!(
            keys_of(8),
            kept,
            "the village with an unsynced edit stayed whole"
        );

        // Full again, and nothing left that may go: the edit is refused, nothing is lost.
        storage.set_quota(Some(storage.used()));
        let result = own
            .change(|d| {
                let mut tx = d.transaction();
                tx.put(ROOT, "more", "nog meer").unwrap();
                tx.commit();
            })
            .await;
        assert_eq!(result, Err(StorageError::QuotaExceeded));
        assert_eq!(keys_of(8), kept);
        storage.set_quota(None);

        let check = repo(&storage, "check");
        let eight = check.find(&url(8)).await.unwrap();
        assert_eq!(title(&eight, "mine").as_deref(), Some("nog niet verstuurd"));
        let own = check.find(&url(9)).await.unwrap();
        assert_eq!(
            title(&own, "help").as_deref(),
            Some("Wie helpt met boodschappen?")
        );
        // Village 7 comes back from the server when opened again.
        let seven = check.find(&url(7)).await.unwrap();
        assert_eq!(title(&seven, "title"), None);
        server.accept(&check).await;
        server.run(&check).await;
        assert_eq!(title(&seven, "title").as_deref(), Some("from the server"));
    });
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn a_bad_url_is_a_typed_error() {
    block_on(async {
        let phone = repo(&MemoryStorage::new(), "phone");
        assert!(matches!(
            phone.find("https://example.org").await,
            Err(repo::RepoError::BadUrl(_))
        ));
    });
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::*;
    use repo::IdbStorage;
    use wasm_bindgen::JsCast;

    #[wasm_bindgen_test]
    fn a_quota_exceeded_error_from_indexeddb_is_the_typed_error() {
        let full =
            web_sys::DomException::new_with_message_and_name("full", "QuotaExceededError").unwrap();
        assert_eq!(StorageError::from_js(&full), StorageError::QuotaExceeded);
        let other = web_sys::DomException::new_with_message_and_name("nope", "DataError").unwrap();
        assert!(matches!(
            StorageError::from_js(&other),
            StorageError::Failed(_)
        ));
    }

    /// What a JS automerge-repo reads: `{key, binary}` under the array key.
    #[wasm_bindgen_test]
    async fn values_are_stored_as_key_and_binary_under_array_keys() {
        let name = format!("test-layout-{}", js_sys::Math::random());
        let storage = IdbStorage::open_database(&name).await.unwrap();
        let doc = repo(&storage, "phone").find(&url(7)).await.unwrap();
        put(&doc, "title", "Dorpshuis").await;
        let id = DocumentId::from_url(&url(7)).unwrap();
        let (key, bytes) = storage
            .load_range(&StorageKey::document(id))
            .await
            .unwrap()
            .remove(0);

        // Read it back with plain IndexedDB calls, as JS would.
        let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
        let request = factory.open(&name).unwrap();
        let db: web_sys::IdbDatabase = wait(&request).await.unchecked_into();
        assert_eq!(db.version(), 1.0);
        let tx = db.transaction_with_str("documents").unwrap();
        let js_key: js_sys::Array = key
            .parts()
            .iter()
            .map(|p| wasm_bindgen::JsValue::from_str(p))
            .collect();
        let request = tx.object_store("documents").unwrap().get(&js_key).unwrap();
        let value = wait(&request).await;
        let stored_key: js_sys::Array = js_sys::Reflect::get(&value, &"key".into())
            .unwrap()
            .unchecked_into();
        assert_eq!(stored_key.get(0).as_string(), Some(id.to_string()));
        assert_eq!(
            stored_key.get(1).as_string().as_deref(),
            Some("incremental")
        );
        assert_eq!(stored_key.length(), 3);
        let binary: js_sys::Uint8Array = js_sys::Reflect::get(&value, &"binary".into())
            .unwrap()
            .unchecked_into();
        assert_eq!(binary.to_vec(), bytes);
        db.close();
    }

    /// The WebSocket driver against a port nobody listens on: it keeps retrying on the backoff
    /// schedule, stays offline, and stops when told.
    #[wasm_bindgen_test]
    async fn the_websocket_driver_retries_with_backoff_until_stopped() {
        use gloo_timers::future::TimeoutFuture;
        use repo::Backoff;
        let phone = repo(&MemoryStorage::new(), "phone");
        let backoff = Backoff {
            initial_ms: 20,
            max_ms: 40,
        };
        let connection = phone.connect_to("ws://127.0.0.1:1/sync", backoff);
        TimeoutFuture::new(600).await;
        let attempts = connection.failed_attempts();
        assert!(attempts >= 3, "retried only {attempts} times");
        assert!(attempts < 40, "retried {attempts} times: no backoff");
        assert!(!phone.status().online);
        connection.stop();
        let stopped_at = connection.failed_attempts();
        TimeoutFuture::new(200).await;
        assert_eq!(
            connection.failed_attempts(),
            stopped_at,
            "no retries after stop"
        );
    }

    async fn wait(request: &web_sys::IdbRequest) -> wasm_bindgen::JsValue {
        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            request.set_onsuccess(Some(&resolve));
            request.set_onerror(Some(&reject));
        });
        wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
        request.result().unwrap()
    }
}

/// Runs a future that never waits on anything outside it (memory storage is always ready).
#[cfg(not(target_arch = "wasm32"))]
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("memory storage never waits"),
    }
}
