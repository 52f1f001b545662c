//! Test helpers: the server in-process on a free port (or its binary as a child process), and
//! a native automerge-repo client built on the `sync` crate over tokio-tungstenite.

#![allow(dead_code)] // each test file uses a different part

pub mod forging;
pub mod http;
pub mod identities;

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use automerge::{ActorId, Automerge, ChangeHash, transaction::Transaction};
use futures_util::{SinkExt, StreamExt};
use sync::{
    Connection, ConnectionConfig, ConnectionEvent, ConnectionInput, DocEvent, DocInput, DocSync,
    DocumentId, PeerId, PeerInfo, PeerMetadata, Timestamp,
};
use sync_server::{
    ChangeValidator, Config, DEFAULT_SEED, Server, SyncLimits,
    storage::{DocumentStore, SqliteStorage, Storage, StorageKey},
};
use tokio::{net::TcpStream, sync::oneshot, task::JoinHandle};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message as WsMessage};

/// Long enough for a debug build on a busy 2-core machine; only reached when a test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The server in this process, on a free loopback port, with its own data folder.
pub struct TestServer {
    pub server: Server,
    pub addr: SocketAddr,
    pub dir: Arc<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), sync_server::Error>>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(SyncLimits::default(), None).await
    }

    pub async fn start_with(
        limits: SyncLimits,
        validator: Option<Arc<dyn ChangeValidator>>,
    ) -> Self {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        Self::start_in(dir, limits, validator).await
    }

    /// A server with trust on: its accounts decide who is on each connection (see
    /// [`identities::sign_up`]).
    pub async fn start_trusting(origins: Vec<String>) -> Self {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        Self::start_on(dir, SyncLimits::default(), Mode::Trust(origins), None).await
    }

    /// [`Self::start_trusting`] (again) on the data in `dir`.
    pub async fn start_trusting_in(dir: Arc<tempfile::TempDir>) -> Self {
        Self::start_on(dir, SyncLimits::default(), Mode::Trust(Vec::new()), None).await
    }

    /// [`Self::start_trusting`] with `limits`, and optionally small kernel send buffers (see
    /// [`Self::start_with_small_send_buffers`]).
    pub async fn start_trusting_with(limits: SyncLimits, small_send_buffers: bool) -> Self {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let send_buffer = small_send_buffers.then_some(8 * 1024);
        Self::start_on(dir, limits, Mode::Trust(Vec::new()), send_buffer).await
    }

    /// A server whose sockets have a small kernel send buffer, so that a peer that does not
    /// read backs up into the server's own queue quickly.
    pub async fn start_with_small_send_buffers(limits: SyncLimits) -> Self {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        Self::start_on(dir, limits, Mode::Validator(None), Some(8 * 1024)).await
    }

    /// Starts (again) on the data in `dir`.
    pub async fn start_in(
        dir: Arc<tempfile::TempDir>,
        limits: SyncLimits,
        validator: Option<Arc<dyn ChangeValidator>>,
    ) -> Self {
        Self::start_on(dir, limits, Mode::Validator(validator), None).await
    }

    async fn start_on(
        dir: Arc<tempfile::TempDir>,
        limits: SyncLimits,
        mode: Mode,
        send_buffer: Option<u32>,
    ) -> Self {
        let dist = dir.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        let config = Config {
            data: dir.path().join("data"),
            dist,
            seed: DEFAULT_SEED.into(),
            limits,
            origins: match &mode {
                Mode::Trust(origins) => origins.clone(),
                Mode::Validator(_) => Vec::new(),
            },
            clock: sync_server::Clock::system(),
        };
        let server = match mode {
            Mode::Validator(Some(v)) => Server::open_with_validator(config, v).await.unwrap(),
            Mode::Validator(None) => Server::open(config).await.unwrap(),
            Mode::Trust(_) => Server::open_trusting(config).await.unwrap(),
        };
        let listener = listen(send_buffer);
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.clone().run(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            server,
            addr,
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Stops gracefully and waits until the server has finished; returns its data folder.
    pub async fn stop(mut self) -> Arc<tempfile::TempDir> {
        self.stop.take().unwrap().send(()).unwrap();
        let task = self.task.take().unwrap();
        tokio::time::timeout(PATIENCE, task)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
        self.dir.clone()
    }
}

enum Mode {
    Validator(Option<Arc<dyn ChangeValidator>>),
    Trust(Vec<String>),
}

/// A listener on a free loopback port; accepted sockets inherit its send buffer size.
fn listen(send_buffer: Option<u32>) -> tokio::net::TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(size) = send_buffer {
        socket.set_send_buffer_size(size).unwrap();
    }
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    socket.listen(1024).unwrap()
}

/// Everything stored under one document's key prefix (chunks and sync states), read directly
/// from the database in `data` while no server runs on it.
pub async fn stored_entries(data: &Path, doc: DocumentId) -> usize {
    let storage = open_storage(data).await;
    storage
        .load_range(StorageKey::document(doc))
        .await
        .unwrap()
        .len()
}

/// The document as stored in `data` (read while no server runs on it).
pub async fn stored_document(data: &Path, doc: DocumentId) -> Option<Automerge> {
    let storage = open_storage(data).await;
    DocumentStore::new(Arc::new(storage))
        .load_document(doc)
        .await
        .unwrap()
}

/// The document as stored in `data`, leaving out corrupt chunks (read while no server runs on
/// it).
pub async fn stored_document_skipping_corrupt(data: &Path, doc: DocumentId) -> Automerge {
    let storage = open_storage(data).await;
    DocumentStore::new(Arc::new(storage))
        .load_document_skipping_corrupt(doc)
        .await
        .unwrap()
        .expect("the document is stored")
        .doc
}

/// Keys of every stored entry, as text.
pub async fn all_stored_keys(data: &Path) -> Vec<String> {
    let storage = open_storage(data).await;
    storage
        .load_range(StorageKey::new(Vec::<String>::new()).unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k.to_string())
        .collect()
}

async fn open_storage(data: &Path) -> SqliteStorage {
    let data = data.to_owned();
    tokio::task::spawn_blocking(move || SqliteStorage::open(&data).unwrap())
        .await
        .unwrap()
}

pub fn random_document_id() -> DocumentId {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).unwrap();
    DocumentId::from_bytes(bytes)
}

/// A small deterministic generator (splitmix64) for seeded tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `range`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    Timestamp::from_millis(millis)
}

/// Why a client call stopped.
#[derive(Debug, PartialEq)]
pub enum ClientError {
    /// The connection is gone (closed, reset, or never opened).
    Disconnected,
    /// The server sent `error`.
    ServerError(String),
    /// What was awaited did not happen within [`PATIENCE`].
    Timeout,
}

/// A native automerge-repo peer: documents that live across connections, and at most one
/// connection to a server at a time.
pub struct Client {
    pub name: String,
    pub docs: HashMap<DocumentId, Automerge>,
    /// Every head the server ever advertised: the server has (acknowledged) these changes.
    pub acknowledged: HashSet<ChangeHash>,
    /// For the benchmark: when set, each change that arrives whose message is a number of
    /// microseconds since this instant adds its age, in microseconds, to `latencies`.
    pub latency_epoch: Option<std::time::Instant>,
    pub latencies: Vec<u32>,
    /// Announced as `peerMetadata.storageId` (with `isEphemeral: false`) if set.
    pub storage_id: Option<String>,
    /// The actor every document it makes or finds writes with (random if unset).
    pub actor: Option<ActorId>,
    session: Option<Session>,
}

struct Session {
    ws: Ws,
    connection: Connection,
    syncs: HashMap<DocumentId, DocSync>,
    /// The server's latest heads per document.
    server_heads: HashMap<DocumentId, Vec<ChangeHash>>,
    unavailable: HashSet<DocumentId>,
}

impl Client {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            docs: HashMap::new(),
            acknowledged: HashSet::new(),
            latency_epoch: None,
            latencies: Vec::new(),
            storage_id: None,
            actor: None,
            session: None,
        }
    }

    /// A client whose documents write with `actor`.
    pub fn with_actor(name: &str, actor: ActorId) -> Self {
        let mut client = Self::new(name);
        client.actor = Some(actor);
        client
    }

    fn new_doc(&self) -> Automerge {
        match &self.actor {
            Some(actor) => Automerge::new().with_actor(actor.clone()),
            None => Automerge::new(),
        }
    }

    /// Changes a document in any way `change` likes (several changes, a model operation);
    /// what it made is sent at once if connected.
    pub async fn apply(
        &mut self,
        id: DocumentId,
        change: impl FnOnce(&mut Automerge),
    ) -> Result<(), ClientError> {
        change(self.docs.get_mut(&id).expect("a document this client has"));
        if self.session.is_some() {
            self.drive(id, DocInput::doc_changed()).await?;
        }
        Ok(())
    }

    /// Adds an existing document (e.g. one made with `model`) and announces it if connected.
    pub async fn add(&mut self, id: DocumentId, doc: Automerge) -> Result<(), ClientError> {
        self.docs.insert(id, doc);
        if self.session.is_some() {
            self.drive(id, DocInput::begin()).await?;
        }
        Ok(())
    }

    pub fn is_connected(&self) -> bool {
        self.session.is_some()
    }

    /// Connects, finishes the handshake and begins every document it has.
    pub async fn connect(&mut self, url: &str) -> Result<(), ClientError> {
        self.connect_with_cookie(url, None).await
    }

    /// [`Client::connect`], sending a `Cookie` header as a browser would.
    pub async fn connect_with_cookie(
        &mut self,
        url: &str,
        cookie: Option<&str>,
    ) -> Result<(), ClientError> {
        use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};
        let mut request = url
            .into_client_request()
            .map_err(|_| ClientError::Disconnected)?;
        if let Some(cookie) = cookie {
            let value = HeaderValue::from_str(cookie).map_err(|_| ClientError::Disconnected)?;
            request.headers_mut().insert("cookie", value);
        }
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|_| ClientError::Disconnected)?;
        let info = PeerInfo {
            peer_id: PeerId::new(format!("{}-{}", self.name, random_document_id())),
            metadata: PeerMetadata {
                storage_id: self.storage_id.as_deref().map(sync::StorageId::new),
                is_ephemeral: self.storage_id.is_none(),
            },
        };
        let mut connection = Connection::outgoing(info, ConnectionConfig::default());
        let start = connection.handle(now(), ConnectionInput::start());
        self.session = Some(Session {
            ws,
            connection,
            syncs: HashMap::new(),
            server_heads: HashMap::new(),
            unavailable: HashSet::new(),
        });
        for frame in start.outgoing {
            self.send(frame).await?;
        }
        self.pump_until(|c| {
            c.session
                .as_ref()
                .is_some_and(|s| s.connection.peer().is_some())
        })
        .await?;
        let ids: Vec<DocumentId> = self.docs.keys().copied().collect();
        for id in ids {
            self.drive(id, DocInput::begin()).await?;
        }
        Ok(())
    }

    /// Drops the connection (as a phone losing its network would).
    pub fn disconnect(&mut self) {
        self.session = None;
    }

    /// A new document with a first change made by `edit`; announced if connected.
    pub async fn create(
        &mut self,
        edit: impl FnOnce(&mut Transaction<'_>),
    ) -> Result<DocumentId, ClientError> {
        let id = random_document_id();
        let doc = self.new_doc();
        self.docs.insert(id, doc);
        self.edit(id, edit).await?;
        Ok(id)
    }

    /// Starts following a document it does not have (sends `request` if connected).
    pub async fn find(&mut self, id: DocumentId) -> Result<(), ClientError> {
        if !self.docs.contains_key(&id) {
            let doc = self.new_doc();
            self.docs.insert(id, doc);
        }
        if self.session.is_some() {
            self.drive(id, DocInput::begin()).await?;
        }
        Ok(())
    }

    /// One local change; sent at once if connected. A send that fails leaves the change
    /// local (it is synced after the next connect) and reports `Disconnected`.
    pub async fn edit(
        &mut self,
        id: DocumentId,
        edit: impl FnOnce(&mut Transaction<'_>),
    ) -> Result<(), ClientError> {
        let doc = self.docs.get_mut(&id).expect("a document this client has");
        let mut tx = doc.transaction();
        edit(&mut tx);
        tx.commit();
        if self.session.is_some() {
            self.drive(id, DocInput::doc_changed()).await?;
        }
        Ok(())
    }

    /// An edit whose commit message is its send time (for the benchmark's latency).
    pub async fn timed_edit(
        &mut self,
        id: DocumentId,
        epoch: std::time::Instant,
        edit: impl FnOnce(&mut Transaction<'_>),
    ) -> Result<(), ClientError> {
        let doc = self.docs.get_mut(&id).expect("a document this client has");
        let mut tx = doc.transaction();
        edit(&mut tx);
        let sent = epoch.elapsed().as_micros().to_string();
        tx.commit_with(automerge::transaction::CommitOptions::default().with_message(sent));
        if self.session.is_some() {
            self.drive(id, DocInput::doc_changed()).await?;
        }
        Ok(())
    }

    /// Handles frames until `deadline`; returns early with an error if the connection ends.
    pub async fn pump_until_time(
        &mut self,
        deadline: tokio::time::Instant,
    ) -> Result<(), ClientError> {
        loop {
            let session = self.session.as_mut().ok_or(ClientError::Disconnected)?;
            match tokio::time::timeout_at(deadline, session.ws.next()).await {
                Ok(frame) => self.handle_frame(frame).await?,
                Err(_) => return Ok(()),
            }
        }
    }

    /// This client's copy of `id`.
    pub fn doc(&self, id: DocumentId) -> &Automerge {
        &self.docs[&id]
    }

    pub fn heads(&self, id: DocumentId) -> Vec<ChangeHash> {
        self.docs[&id].get_heads()
    }

    /// The heads the server last advertised for `id` on this connection.
    pub fn server_heads(&self, id: DocumentId) -> Option<Vec<ChangeHash>> {
        self.session.as_ref()?.server_heads.get(&id).cloned()
    }

    /// The server has every change of `id` this client has.
    pub fn in_sync(&self, id: DocumentId) -> bool {
        let mut ours = self.heads(id);
        ours.sort();
        self.server_heads(id).is_some_and(|mut theirs| {
            theirs.sort();
            theirs == ours
        })
    }

    pub fn unavailable(&self, id: DocumentId) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.unavailable.contains(&id))
    }

    /// Reads and handles frames until `done` holds.
    pub async fn pump_until(&mut self, done: impl Fn(&Client) -> bool) -> Result<(), ClientError> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(self) {
            let session = self.session.as_mut().ok_or(ClientError::Disconnected)?;
            let frame = tokio::time::timeout_at(deadline, session.ws.next())
                .await
                .map_err(|_| ClientError::Timeout)?;
            self.handle_frame(frame).await?;
        }
        Ok(())
    }

    /// Handles the frames that have already arrived, without waiting for more.
    pub async fn poll_now(&mut self) -> Result<(), ClientError> {
        loop {
            let session = self.session.as_mut().ok_or(ClientError::Disconnected)?;
            let Some(frame) = futures_util::FutureExt::now_or_never(session.ws.next()) else {
                return Ok(());
            };
            self.handle_frame(frame).await?;
        }
    }

    async fn handle_frame(
        &mut self,
        frame: Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>,
    ) -> Result<(), ClientError> {
        let bytes = match frame {
            Some(Ok(WsMessage::Binary(bytes))) => bytes.to_vec(),
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => {
                return Ok(());
            }
            _ => {
                self.session = None;
                return Err(ClientError::Disconnected);
            }
        };
        let session = self.session.as_mut().expect("connected");
        let results = session
            .connection
            .handle(now(), ConnectionInput::receive(bytes));
        for frame in results.outgoing {
            self.send(frame).await?;
        }
        for event in results.events {
            match event {
                ConnectionEvent::Document {
                    document_id,
                    message,
                } if self.docs.contains_key(&document_id) => {
                    self.drive(document_id, DocInput::receive(message)).await?;
                }
                ConnectionEvent::RemoteError(message) => {
                    self.session = None;
                    return Err(ClientError::ServerError(message));
                }
                _ => {}
            }
        }
        if results.close {
            self.session = None;
            return Err(ClientError::Disconnected);
        }
        Ok(())
    }

    /// Feeds one input to a document's sync and sends what it returns.
    async fn drive(&mut self, id: DocumentId, input: DocInput) -> Result<(), ClientError> {
        let session = self.session.as_mut().ok_or(ClientError::Disconnected)?;
        let doc = self.docs.get_mut(&id).expect("a document this client has");
        let before = self.latency_epoch.map(|_| doc.get_heads());
        let results = session
            .syncs
            .entry(id)
            .or_default()
            .handle(now(), doc, input)
            .expect("the server sends valid sync messages");
        for event in results.events {
            match event {
                DocEvent::TheirHeads(heads) => {
                    self.acknowledged.extend(heads.iter().copied());
                    session.server_heads.insert(id, heads);
                }
                DocEvent::Unavailable => {
                    session.unavailable.insert(id);
                }
                DocEvent::DocumentChanged { .. } => {
                    if let (Some(epoch), Some(before)) = (self.latency_epoch, &before) {
                        let now = epoch.elapsed().as_micros() as u64;
                        for change in doc.get_changes(before) {
                            if let Some(sent) = change.message().and_then(|m| m.parse::<u64>().ok())
                            {
                                self.latencies.push(now.saturating_sub(sent) as u32);
                            }
                        }
                    }
                }
            }
        }
        let mut frames = Vec::new();
        for message in results.outgoing {
            frames.push(
                session
                    .connection
                    .encode_document_message(id, message)
                    .unwrap(),
            );
        }
        for frame in frames {
            self.send(frame).await?;
        }
        Ok(())
    }

    async fn send(&mut self, frame: Vec<u8>) -> Result<(), ClientError> {
        let session = self.session.as_mut().ok_or(ClientError::Disconnected)?;
        if session
            .ws
            .send(WsMessage::Binary(frame.into()))
            .await
            .is_err()
        {
            self.session = None;
            return Err(ClientError::Disconnected);
        }
        Ok(())
    }
}

/// A raw WebSocket to the server, for sending what no well-behaved client would.
pub async fn raw_connect(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// A raw WebSocket whose kernel receive buffer is small (4 KiB asked), so that a peer that
/// stops reading backs up into the server quickly.
pub async fn raw_connect_small_receive_buffer(url: &str) -> Ws {
    let addr: SocketAddr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4 * 1024).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap()
        .0
}

/// Sends `join` on a raw socket and reads the server's `peer`; returns both peer ids.
pub async fn raw_handshake(ws: &mut Ws, name: &str) -> (PeerId, PeerId) {
    let us = PeerId::new(name);
    let join = sync::Message::Join {
        sender_id: us.clone(),
        supported_protocol_versions: vec![sync::PROTOCOL_VERSION.into()],
        peer_metadata: Some(PeerMetadata::default()),
    };
    ws.send(WsMessage::Binary(join.encode().into()))
        .await
        .unwrap();
    loop {
        let frame = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("the server answers join")
            .expect("the socket stays open")
            .unwrap();
        if let WsMessage::Binary(bytes) = frame {
            match sync::Message::decode(&bytes).unwrap() {
                sync::Message::Peer { sender_id, .. } => return (us, sender_id),
                other => panic!("expected peer, got {other:?}"),
            }
        }
    }
}

/// Reads a raw socket until the server ends the conversation: returns the `error` message it
/// sent, if any, once the socket is closed.
pub async fn raw_until_closed(ws: &mut Ws) -> Option<String> {
    let mut error = None;
    loop {
        let frame = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("the server closes the connection");
        match frame {
            Some(Ok(WsMessage::Binary(bytes))) => {
                if let Ok(sync::Message::Error { message, .. }) = sync::Message::decode(&bytes) {
                    error = Some(message);
                }
            }
            Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return error,
            Some(Ok(_)) => {}
        }
    }
}

/// The server binary as a child process (for killing it), on a free port.
pub struct ChildServer {
    child: std::process::Child,
    pub url: String,
    /// The lines it printed on standard output before the one with its address.
    pub printed: Vec<String>,
}

impl ChildServer {
    /// Starts `sync-server` on `data`; returns once it listens.
    pub async fn start(data: &Path) -> Self {
        // Native test clients write without accounts.
        Self::start_with(data, &["--trust", "off"], &[]).await
    }

    /// Starts `sync-server` on `data` with `args` (at least `--trust`) and `envs`.
    pub async fn start_with(data: &Path, args: &[&str], envs: &[(&str, &str)]) -> Self {
        use std::{
            io::{BufRead, BufReader},
            process::{Command, Stdio},
        };
        let dist = data.join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sync-server"))
            .args(args)
            .args(["--addr", "127.0.0.1:0", "--data"])
            .arg(data)
            .arg("--dist")
            .arg(&dist)
            // `SERVER_LOG=sync_server=debug` shows what the server does.
            .env(
                "RUST_LOG",
                std::env::var("SERVER_LOG").unwrap_or("error".into()),
            )
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = tokio::task::spawn_blocking(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap();
                let last = line.starts_with("Dorpskracht: ");
                lines.push(line);
                if last {
                    break;
                }
            }
            lines
        });
        let mut printed = tokio::time::timeout(PATIENCE, lines)
            .await
            .expect("the server starts")
            .unwrap();
        let line = printed.pop().unwrap_or_default();
        let http = line
            .trim()
            .strip_prefix("Dorpskracht: ")
            .unwrap_or_else(|| panic!("unexpected last line {line:?}"));
        let url = format!("{}sync", http.replacen("http://", "ws://", 1));
        Self {
            child,
            url,
            printed,
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        let rest = self.url.strip_prefix("ws://").unwrap();
        rest.strip_suffix("/sync").unwrap().parse().unwrap()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process dies wherever it is.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, as an operator stops it; returns whether it exited successfully.
    pub async fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        tokio::task::spawn_blocking(move || self.child.wait().unwrap().success())
            .await
            .unwrap()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        // A test that panics must not leave a server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
