//! `GET /sync`: the automerge-repo protocol over a WebSocket, one task per connection.
//!
//! The task owns the socket and the connection's [`sync::Connection`]. It feeds received
//! frames to the state machine, passes document messages to the documents' tasks through the
//! [`Hub`], and writes what they queue for it. It ends when the peer leaves or breaks the
//! protocol, goes silent for [`crate::SyncLimits::peer_timeout`], reads too slowly to keep its queue
//! short, or the server stops.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError, atomic::Ordering},
    time::Duration,
};

use axum::{
    extract::{
        Query, State,
        ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade, close_code},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use sync::{
    Connection, ConnectionConfig, ConnectionEvent, ConnectionInput, DocumentId, Message, PeerId,
    PeerInfo,
};
use tokio::{
    sync::{Notify, mpsc},
    time::{Instant, MissedTickBehavior, timeout},
};

use crate::{
    doc_task::now,
    hub::DocHandle,
    peer::{ConnId, DocCommand, Outbound, PeerLink},
    validate::Principal,
};

/// How often a connection that has not finished its handshake checks the handshake timeout.
const HANDSHAKE_TICK: Duration = Duration::from_millis(500);
/// Initial read and write buffers of a socket: small, so an idle connection costs little.
const SOCKET_BUFFER: usize = 8 * 1024;

/// The query of `GET /sync`: `token` is a session token for clients that cannot send the
/// cookie (it is never logged: see [`crate::redacted_uri`]).
#[derive(Deserialize)]
pub(crate) struct SyncQuery {
    token: Option<String>,
}

pub(crate) async fn upgrade(
    State(state): State<Arc<crate::State>>,
    headers: HeaderMap,
    Query(query): Query<SyncQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    if state.lifecycle.is_shutting_down() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if !origin_allowed(&headers, &state.origins) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let (principal, session_end) = match &state.identities {
        None => (Principal::Anonymous, None),
        Some(identities) => {
            let token = query
                .token
                .or_else(|| crate::accounts::session_token(&headers));
            match token {
                // An unknown or expired token reads as anonymous, as no token does: the app
                // learns it is signed out from the accounts API, not from here.
                Some(token) => match identities.session_user(&token).await {
                    // The socket closes when the session ends (sign-out, password change,
                    // expiry); one that ended meanwhile is anonymous.
                    Some(user) => match state.accounts.session_end(&token).await {
                        Ok(Some(end)) => (Principal::User(user), Some(end)),
                        _ => (Principal::Anonymous, None),
                    },
                    None => (Principal::Anonymous, None),
                },
                None => (Principal::Anonymous, None),
            }
        }
    };
    let Ok(permit) = state.connections.clone().try_acquire_owned() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let limits = &state.limits;
    ws.max_message_size(limits.max_message_size)
        .max_frame_size(limits.max_message_size)
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .on_upgrade(move |socket| async move {
            let guard = state.lifecycle.track();
            let mut task = ConnectionTask::new(state, socket, principal);
            task.session_end = session_end;
            let conn = task.conn;
            task.run().await;
            tracing::debug!(conn, "connection closed");
            drop(guard);
            drop(permit);
        })
}

/// Browsers name the page that opens a WebSocket in `Origin`; only the server's own origin
/// (the `Host` it was asked as) and the configured ones may. Native clients send none.
fn origin_allowed(headers: &HeaderMap, origins: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if origins.iter().any(|o| o.trim_end_matches('/') == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    host.is_some() && origin_host == host
}

/// Which connection each peer id is on. automerge-repo's server does the same: a peer that
/// joins again (a phone back from a dead network, before its old socket timed out) replaces its
/// old connection, which is closed.
#[derive(Default)]
pub(crate) struct PeerRegistry(Mutex<HashMap<PeerId, (ConnId, Arc<Notify>)>>);

impl PeerRegistry {
    /// Records `conn` as `peer`'s connection and tells the one it replaces, if any, to close.
    fn join(&self, peer: &PeerId, conn: ConnId, replaced: Arc<Notify>) {
        let old = self.lock().insert(peer.clone(), (conn, replaced));
        if let Some((old_conn, old_replaced)) = old {
            tracing::debug!(conn = old_conn, peer = %peer, "replaced by a new connection");
            old_replaced.notify_one();
        }
    }

    fn leave(&self, peer: &PeerId, conn: ConnId) {
        let mut peers = self.lock();
        if peers.get(peer).is_some_and(|(c, _)| *c == conn) {
            peers.remove(peer);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PeerId, (ConnId, Arc<Notify>)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why a connection ends.
enum End {
    /// The peer closed, left or vanished; nothing more to say.
    Quietly,
    /// Send `error` with this text, then close.
    Error(String),
    /// Close with this code (after flushing nothing else).
    Close(u16, &'static str),
}

struct ConnectionTask {
    state: Arc<crate::State>,
    socket: WebSocket,
    conn: ConnId,
    connection: Connection,
    principal: Arc<Principal>,
    /// Set once the handshake is done.
    link: Option<PeerLink>,
    docs: HashMap<DocumentId, DocHandle>,
    outbound_tx: mpsc::Sender<Outbound>,
    outbound: mpsc::Receiver<Outbound>,
    kick: Arc<Notify>,
    /// The same peer joined on another connection.
    replaced: Arc<Notify>,
    /// Resolves when the session the socket was opened with ends (none: anonymous).
    session_end: Option<crate::accounts::SessionEnd>,
}

impl ConnectionTask {
    fn new(state: Arc<crate::State>, socket: WebSocket, principal: Principal) -> Self {
        let limits = &state.limits;
        let config = ConnectionConfig {
            max_message_size: limits.max_message_size,
            handshake_timeout_ms: limits.handshake_timeout.as_millis() as u64,
        };
        let connection = Connection::incoming(state.peer.clone(), config);
        let (outbound_tx, outbound) = mpsc::channel(limits.outbound_queue);
        Self {
            conn: state.hub.next_conn_id(),
            connection,
            principal: Arc::new(principal),
            link: None,
            docs: HashMap::new(),
            outbound_tx,
            outbound,
            kick: Arc::new(Notify::new()),
            replaced: Arc::new(Notify::new()),
            session_end: None,
            socket,
            state,
        }
    }

    async fn run(mut self) {
        let end = self.serve().await;
        if let Some(link) = &self.link {
            self.state.peers.leave(&link.peer.peer_id, self.conn);
        }
        // Release the documents first, so they stop queueing for us.
        for (_, handle) in self.docs.drain() {
            handle.close().await;
        }
        let send_timeout = self.state.limits.send_timeout;
        let last = match end {
            End::Quietly => None,
            End::Error(reason) => {
                let frame = self.error_frame(reason);
                let _ = timeout(
                    send_timeout,
                    self.socket.send(WsMessage::Binary(frame.into())),
                )
                .await;
                Some((close_code::POLICY, "protocol error"))
            }
            End::Close(code, reason) => Some((code, reason)),
        };
        if let Some((code, reason)) = last {
            let close = WsMessage::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            }));
            let _ = timeout(send_timeout, self.socket.send(close)).await;
        }
    }

    async fn serve(&mut self) -> End {
        let limits = self.state.limits.clone();
        let mut shutdown = self.state.lifecycle.shutdown();
        let mut ping =
            tokio::time::interval_at(Instant::now() + limits.ping_interval, limits.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut handshake = tokio::time::interval(HANDSHAKE_TICK);
        let mut last_heard = Instant::now();
        let kick = self.kick.clone();
        let replaced = self.replaced.clone();
        let session_end = self.session_end.take();
        let session_ended = async move {
            match session_end {
                Some(end) => end.wait().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(session_ended);
        let results = self.connection.handle(now(), ConnectionInput::start());
        if let Some(end) = self.act(results).await {
            return end;
        }
        loop {
            tokio::select! {
                frame = self.socket.recv() => {
                    let Some(Ok(frame)) = frame else {
                        // Closed, reset, or a frame over the size limit: nothing to answer.
                        return End::Quietly;
                    };
                    last_heard = Instant::now();
                    match frame {
                        WsMessage::Binary(bytes) => {
                            let input = ConnectionInput::receive(bytes.to_vec());
                            let results = self.connection.handle(now(), input);
                            if let Some(end) = self.act(results).await {
                                return end;
                            }
                        }
                        WsMessage::Text(_) => {
                            return End::Error("text frames are not part of the protocol".into());
                        }
                        WsMessage::Close(_) => return End::Quietly,
                        // tungstenite answers pings itself; hearing anything is enough.
                        WsMessage::Ping(_) | WsMessage::Pong(_) => {}
                    }
                }
                Some(out) = self.outbound.recv() => {
                    let end = self.write(out).await;
                    if let Some(link) = &self.link {
                        link.backlog.fetch_sub(1, Ordering::AcqRel);
                    }
                    if let Some(end) = end {
                        return end;
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() >= limits.peer_timeout {
                        tracing::debug!(conn = self.conn, "peer went silent");
                        return End::Quietly;
                    }
                    if self.send_frame(WsMessage::Ping(Vec::new().into())).await.is_err() {
                        return End::Quietly;
                    }
                }
                _ = handshake.tick(), if self.link.is_none() => {
                    let results = self.connection.handle(now(), ConnectionInput::tick());
                    if let Some(end) = self.act(results).await {
                        return end;
                    }
                }
                () = kick.notified() => {
                    return End::Close(close_code::AGAIN, "too slow");
                }
                () = replaced.notified() => {
                    return End::Close(close_code::POLICY, "replaced by a new connection");
                }
                () = &mut session_ended => {
                    return End::Close(close_code::POLICY, "session ended");
                }
                () = shutdown.recv() => {
                    return End::Close(close_code::AWAY, "server stopping");
                }
            }
        }
    }

    /// Does what the connection's state machine asked; `Some` ends the connection.
    async fn act(&mut self, results: sync::ConnectionResults) -> Option<End> {
        for frame in results.outgoing {
            if self
                .send_frame(WsMessage::Binary(frame.into()))
                .await
                .is_err()
            {
                return Some(End::Quietly);
            }
        }
        for event in results.events {
            match event {
                ConnectionEvent::Established(peer) => self.established(peer),
                ConnectionEvent::Document {
                    document_id,
                    message,
                } => {
                    let from = self
                        .link
                        .clone()
                        .expect("documents flow after the handshake");
                    let limit = self.state.limits.max_documents_per_connection;
                    let Some(handle) = self.document(document_id) else {
                        return Some(End::Error(format!(
                            "more than {limit} documents open on one connection"
                        )));
                    };
                    if !handle.send(DocCommand::Message { from, message }).await {
                        return Some(End::Error("the document failed on the server".into()));
                    }
                }
                ConnectionEvent::Ephemeral {
                    document_id,
                    session_id,
                    count,
                    data,
                } => {
                    // Relayed only to peers of a document this peer has open.
                    if let Some(handle) = self.docs.get(&document_id) {
                        let command = DocCommand::Ephemeral {
                            from: self.conn,
                            session_id,
                            count,
                            data,
                        };
                        handle.send(command).await;
                    }
                }
                ConnectionEvent::Failed(error) => {
                    tracing::debug!(conn = self.conn, "protocol error: {error}");
                }
                ConnectionEvent::RemoteError(message) => {
                    tracing::debug!(conn = self.conn, "peer reported an error: {message}");
                }
                ConnectionEvent::RemoteSubscriptionChange { add, remove } => {
                    let link = self
                        .link
                        .as_ref()
                        .expect("gossip flows after the handshake");
                    {
                        let mut subscriptions = link
                            .subscriptions
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner);
                        for storage_id in &remove {
                            subscriptions.remove(storage_id);
                        }
                        subscriptions.extend(add.iter().cloned());
                    }
                    // What the open documents know of the added storages goes out at once.
                    if !add.is_empty() {
                        for handle in self.docs.values() {
                            let command = DocCommand::Subscribed {
                                conn: self.conn,
                                add: add.clone(),
                            };
                            handle.send(command).await;
                        }
                    }
                }
                // This server is the only one: it has no use for other storages' heads (a
                // cluster of servers would forward them to subscribers, as automerge-repo does).
                ConnectionEvent::RemoteHeadsChanged { .. } | ConnectionEvent::Left => {}
            }
        }
        // The state machine already queued its `error` (if any) in `outgoing`.
        results.close.then_some(End::Close(close_code::NORMAL, ""))
    }

    fn established(&mut self, peer: PeerInfo) {
        let user = self.principal.user().map(|u| u.as_str().to_owned());
        tracing::debug!(conn = self.conn, peer = %peer.peer_id, user, "peer joined");
        self.state
            .peers
            .join(&peer.peer_id, self.conn, self.replaced.clone());
        self.link = Some(PeerLink {
            conn: self.conn,
            peer: Arc::new(peer),
            principal: self.principal.clone(),
            outbound: self.outbound_tx.clone(),
            kick: self.kick.clone(),
            subscriptions: Arc::default(),
            backlog: Arc::default(),
        });
    }

    /// This connection's handle to a document, opening it if needed; `None` if the connection
    /// has too many open.
    fn document(&mut self, document_id: DocumentId) -> Option<&DocHandle> {
        if !self.docs.contains_key(&document_id)
            && self.docs.len() >= self.state.limits.max_documents_per_connection
        {
            return None;
        }
        let hub = &self.state.hub;
        let conn = self.conn;
        Some(
            self.docs
                .entry(document_id)
                .or_insert_with(|| hub.open(document_id, conn)),
        )
    }

    /// Writes what a document's task queued; `Some` ends the connection.
    async fn write(&mut self, out: Outbound) -> Option<End> {
        let encoded = match out {
            Outbound::Doc {
                document_id,
                message,
            } => self
                .connection
                .encode_document_message(document_id, message),
            Outbound::SharedSync { document_id, data } => self
                .connection
                .encode_document_message(document_id, sync::DocMessage::Sync(data.to_vec())),
            Outbound::Ephemeral {
                document_id,
                session_id,
                count,
                data,
            } => self
                .connection
                .encode_ephemeral(document_id, session_id, count, data),
            Outbound::RemoteHeads {
                document_id,
                storage_id,
                heads,
                timestamp,
            } => {
                let heads = sync::RemoteHeads {
                    heads: sync::encode_heads(&heads),
                    timestamp: timestamp.as_millis(),
                };
                self.connection
                    .encode_remote_heads(document_id, [(storage_id, heads)].into())
            }
            Outbound::Fail { reason } => return Some(End::Error(reason)),
        };
        // Documents only queue messages for established connections.
        let frame = encoded.ok()?;
        if self
            .send_frame(WsMessage::Binary(frame.into()))
            .await
            .is_err()
        {
            return Some(End::Quietly);
        }
        None
    }

    async fn send_frame(&mut self, frame: WsMessage) -> Result<(), ()> {
        match timeout(self.state.limits.send_timeout, self.socket.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    /// An `error` message from the server to this peer.
    fn error_frame(&self, message: String) -> Vec<u8> {
        Message::Error {
            sender_id: Some(self.state.peer.peer_id.clone()),
            target_id: self.link.as_ref().map(|l| l.peer.peer_id.clone()),
            message,
        }
        .encode()
    }
}
