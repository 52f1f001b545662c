//! Against the real sync server (in-process, on a free loopback port): an edit made on one
//! device reaches the server, and from there another device; an edit made while the server is
//! unreachable gets there after the reconnect.
//!
//! The repo runs natively here, its frames carried by tokio-tungstenite instead of the
//! browser's WebSocket (`ws.rs` moves the same frames through the same `transport_*` calls).

#![cfg(not(target_arch = "wasm32"))]

use std::{net::SocketAddr, sync::Arc, time::Duration};

use app::repo::{DocHandle, Link, MemoryStorage, Repo, Storage, StorageKey};
use automerge::{ROOT, ReadDoc, transaction::Transactable};
use futures_util::{SinkExt, StreamExt};
use sync::PeerId;
use sync_server::{
    AcceptAll, ChangeValidator, Config, DEFAULT_SEED, Incoming, Rejection, Server, SyncLimits,
};
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_tungstenite::tungstenite::Message;

const PATIENCE: Duration = Duration::from_secs(20);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

struct Running {
    server: Server,
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: JoinHandle<Result<(), sync_server::Error>>,
}

async fn start_server(data: &std::path::Path) -> Running {
    start_server_with(data, Arc::new(AcceptAll)).await
}

async fn start_server_with(data: &std::path::Path, validator: Arc<dyn ChangeValidator>) -> Running {
    let dist = data.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let server = Server::open_with_validator(
        Config {
            data: data.join("data"),
            dist,
            seed: DEFAULT_SEED.into(),
            limits: SyncLimits::default(),
            origins: Vec::new(),
            clock: sync_server::Clock::system(),
        },
        validator,
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.clone().run(listener, async move {
        let _ = stopped.await;
    }));
    Running {
        server,
        addr,
        stop,
        task,
    }
}

impl Running {
    async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

/// Opens a WebSocket to `addr` and carries frames between it and `repo` until it closes.
async fn connect(repo: &Repo<MemoryStorage>, addr: SocketAddr) {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/sync"))
        .await
        .unwrap();
    let (mut sink, mut stream) = ws.split();
    let (to_socket, mut outgoing) = mpsc::unbounded_channel::<Option<Vec<u8>>>();
    let closer = to_socket.clone();
    tokio::task::spawn_local(async move {
        while let Some(Some(frame)) = outgoing.recv().await {
            if sink.send(Message::binary(frame)).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    repo.transport_opened(Link::new(
        move |frame| {
            let _ = to_socket.send(Some(frame.to_vec()));
        },
        move || {
            let _ = closer.send(None);
        },
    ));
    let repo = repo.clone();
    tokio::task::spawn_local(async move {
        while let Some(Ok(message)) = stream.next().await {
            if let Message::Binary(bytes) = message {
                repo.transport_received(bytes.to_vec()).await;
            }
        }
        repo.transport_closed();
    });
}

async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn value(doc: &DocHandle<MemoryStorage>, key: &str) -> Option<String> {
    doc.with_doc(|d| {
        d.get(ROOT, key)
            .unwrap()
            .and_then(|(v, _)| v.into_string().ok())
    })
}

async fn put(doc: &DocHandle<MemoryStorage>, key: &str, text: &str) {
    doc.change(|d| {
        let mut tx = d.transaction();
        tx.put(ROOT, key, text).unwrap();
        tx.commit();
    })
    .await
    .unwrap();
}

/// Runs `test` on a single-threaded runtime (the repo is `!Send`, like the browser's).
fn on_one_thread(test: impl std::future::Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, test);
}

#[test]
fn an_edit_reaches_the_server_and_another_device_even_when_made_offline() {
    on_one_thread(async {
        let dir = tempfile::tempdir().unwrap();
        let running = start_server(dir.path()).await;
        let url = running.server.bootstrap().villages[0].doc.clone();

        // A phone opens its village document; the server has it from the seed.
        let phone = Repo::new(MemoryStorage::new(), PeerId::new("phone"), now_ms);
        connect(&phone, running.addr).await;
        until("the phone is online", || phone.status().online).await;
        let village = phone.find(&url).await.unwrap();
        until("the village arrives", || {
            village.with_doc(|d| !d.get_heads().is_empty())
        })
        .await;

        put(&village, "test-note", "Dorpshuis open").await;
        until("the server has the edit", || phone.status().synced()).await;

        // Another device finds the document on the server, with the edit.
        let tablet = Repo::new(MemoryStorage::new(), PeerId::new("tablet"), now_ms);
        connect(&tablet, running.addr).await;
        let on_tablet = tablet.find(&url).await.unwrap();
        until("the tablet sees the edit", || {
            value(&on_tablet, "test-note").as_deref() == Some("Dorpshuis open")
        })
        .await;

        // The server goes away; the phone edits offline; the server comes back on its data.
        running.stop().await;
        until("the phone notices", || !phone.status().online).await;
        put(&village, "test-note", "Dorpshuis dicht").await;
        assert_eq!(phone.status().waiting, 1);
        let running = start_server(dir.path()).await;
        connect(&phone, running.addr).await;
        until("the offline edit reaches the server", || {
            phone.status().online && phone.status().synced()
        })
        .await;

        let laptop = Repo::new(MemoryStorage::new(), PeerId::new("laptop"), now_ms);
        connect(&laptop, running.addr).await;
        let on_laptop = laptop.find(&url).await.unwrap();
        until("a third device sees the offline edit", || {
            value(&on_laptop, "test-note").as_deref() == Some("Dorpshuis dicht")
        })
        .await;
        running.stop().await;
    });
}

/// Refuses every change that writes the root key `forbidden`, naming it.
struct NoForbidden;

impl ChangeValidator for NoForbidden {
    fn validate(&self, incoming: &Incoming<'_>) -> Result<(), Rejection> {
        for change in incoming.changes() {
            let writes_it = change.decode().operations.iter().any(|op| {
                op.obj == automerge::legacy::ObjectId::Root
                    && op.key == automerge::legacy::Key::Map("forbidden".into())
            });
            if writes_it {
                return Err(
                    Rejection::new("`forbidden` may not be written").of_change(change.hash())
                );
            }
        }
        Ok(())
    }
}

#[test]
fn after_a_refusal_the_device_rebuilds_the_document_and_its_later_edits_still_arrive() {
    on_one_thread(async {
        let dir = tempfile::tempdir().unwrap();
        let running = start_server_with(dir.path(), Arc::new(NoForbidden)).await;
        let url = running.server.bootstrap().villages[0].doc.clone();

        let storage = MemoryStorage::new();
        let phone = Repo::new(storage.clone(), PeerId::new("phone"), now_ms);
        let refusals = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let seen = refusals.clone();
        phone
            .on_refused(move |refusal| seen.borrow_mut().push(refusal.clone()))
            .detach();
        connect(&phone, running.addr).await;
        let village = phone.find(&url).await.unwrap();
        until("the village arrives", || {
            phone.status().online && village.with_doc(|d| !d.get_heads().is_empty())
        })
        .await;
        put(&village, "test-note", "before").await;
        until("the server has the first edit", || phone.status().synced()).await;

        // Offline: a forbidden edit, then, built on it, an honest one.
        running.stop().await;
        until("the phone notices", || !phone.status().online).await;
        put(&village, "forbidden", "sneaky").await;
        put(&village, "test-note", "after").await;
        assert_eq!(phone.status().waiting, 2);

        let running = start_server_with(dir.path(), Arc::new(NoForbidden)).await;
        connect(&phone, running.addr).await;
        until("the server refuses", || !refusals.borrow().is_empty()).await;
        let refusal = refusals.borrow()[0].clone();
        assert_eq!(refusal.document_id, village.id());
        let named = refusal.change.expect("the server names the change");
        assert!(village.with_doc(|d| d.get_change_by_hash(&named).is_some()));
        until("the connection is closed", || !phone.status().online).await;

        // Connected again before the app recovered: the document waits, nothing is sent again.
        connect(&phone, running.addr).await;
        until("the phone is back online", || phone.status().online).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            refusals.borrow().len(),
            1,
            "the refused changes were not sent again"
        );
        assert_eq!(phone.status().waiting, 2);

        let recovery = village.recover(&refusal, |_, _| true).await.unwrap();
        assert_eq!(recovery.dropped, vec![named]);
        assert_eq!((recovery.kept, recovery.replayed), (0, 1));
        assert_eq!(value(&village, "forbidden"), None);
        assert_eq!(value(&village, "test-note").as_deref(), Some("after"));

        // Storage holds the rebuilt document, and the refused change aside.
        let stored = storage
            .load_range(&StorageKey::document(village.id()))
            .await
            .unwrap();
        assert!(stored.iter().any(|(k, bytes)| k.parts()[1] == "refused"
            && automerge::Change::from_bytes(bytes.clone()).unwrap().hash() == named));
        let reloaded = Repo::new(storage.clone(), PeerId::new("phone-again"), now_ms);
        let again = reloaded.find(&url).await.unwrap();
        assert_eq!(value(&again, "forbidden"), None);
        assert_eq!(value(&again, "test-note").as_deref(), Some("after"));

        // The rebuilt document syncs on the open connection: the honest edit goes through, and
        // another device gets it and not the refused one.
        until("the honest edit reaches the server", || {
            phone.status().online && phone.status().synced()
        })
        .await;
        assert_eq!(refusals.borrow().len(), 1, "refused once only");
        let tablet = Repo::new(MemoryStorage::new(), PeerId::new("tablet"), now_ms);
        connect(&tablet, running.addr).await;
        let on_tablet = tablet.find(&url).await.unwrap();
        until("the tablet sees the honest edit", || {
            value(&on_tablet, "test-note").as_deref() == Some("after")
        })
        .await;
        assert_eq!(value(&on_tablet, "forbidden"), None);
        running.stop().await;
    });
}
