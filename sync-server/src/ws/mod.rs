//! `GET /sync`: the automerge-repo protocol over a WebSocket, one task per connection.
//!
//! The task owns the socket and the connection's [`sync::Connection`]. It feeds received
//! frames to the state machine, passes document messages to the documents' tasks through the
//! [`Hub`], and writes what they queue for it. It ends when the peer leaves or breaks the
//! protocol, goes silent for [`crate::SyncLimits::peer_timeout`], reads too slowly to keep its queue
//! short (in messages or in bytes), or the server stops.
//!
//! What a peer sends is checked here before a document sees it (`crate::inbound`: changes and
//! Bloom filters of sync messages, ephemeral messages); the upgrade (`upgrade.rs`) limits open
//! connections, in all and per IP address (`ip_limit.rs`); `registry.rs` knows which
//! connection each peer id is on; `write.rs` writes to the socket.

mod ip_limit;
mod registry;
mod upgrade;
mod write;

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError},
    time::Duration,
};

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, close_code};
use sync::{Connection, ConnectionConfig, ConnectionEvent, ConnectionInput, DocumentId, PeerInfo};
use tokio::{
    sync::{Notify, mpsc},
    time::{Instant, MissedTickBehavior, timeout},
};

use crate::{
    doc_task::now,
    hub::DocHandle,
    inbound::{self, EphemeralGate, EphemeralVerdict},
    peer::{ConnId, DocCommand, Outbound, PeerLink},
    validate::Principal,
};

pub(crate) use self::{ip_limit::IpConnections, registry::PeerRegistry, upgrade::upgrade};

/// How often a connection that has not finished its handshake checks the handshake timeout.
const HANDSHAKE_TICK: Duration = Duration::from_millis(500);
/// Initial read and write buffers of a socket: small, so an idle connection costs little.
const SOCKET_BUFFER: usize = 8 * 1024;

/// Why a connection ends.
enum End {
    /// The peer closed, left or vanished; nothing more to say.
    Quietly,
    /// Send `error` with this text, then close.
    Error(String),
    /// Close with this code (after flushing nothing else).
    Close(u16, &'static str),
}

pub(super) struct ConnectionTask {
    state: Arc<crate::State>,
    socket: WebSocket,
    pub(super) conn: ConnId,
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
    pub(super) session_end: Option<crate::accounts::SessionEnd>,
    /// Which of the peer's ephemeral messages are relayed.
    ephemeral: EphemeralGate,
}

impl ConnectionTask {
    pub(super) fn new(state: Arc<crate::State>, socket: WebSocket, principal: Principal) -> Self {
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
            ephemeral: EphemeralGate::new(limits, std::time::Instant::now()),
            socket,
            state,
        }
    }

    pub(super) async fn run(mut self) {
        let end = self.serve().await;
        if let Some(link) = &self.link {
            self.state.peers.leave(&link.peer.peer_id, self.conn);
        }
        // Release the documents first, so they stop queueing for us.
        for (_, handle) in self.docs.drain() {
            handle.close().await;
        }
        // What is still queued is never written: count it off.
        self.outbound.close();
        while let Ok(out) = self.outbound.try_recv() {
            self.written(out.size());
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
                    let size = out.size();
                    let end = self.write(out).await;
                    self.written(size);
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
                    // Before anything in the server decodes the changes (decompression bombs).
                    let trust_on = self.state.identities.is_some();
                    let limits = &self.state.limits;
                    if let Err(reason) =
                        inbound::check_document_message(&message, &self.principal, trust_on, limits)
                    {
                        tracing::info!(conn = self.conn, doc = %document_id, "{reason}");
                        return Some(End::Error(reason));
                    }
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
                    let limits = &self.state.limits;
                    let size = data.len() + session_id.len();
                    match self.ephemeral.admit(
                        &self.principal,
                        size,
                        limits,
                        Instant::now().into_std(),
                    ) {
                        EphemeralVerdict::Relay => {}
                        EphemeralVerdict::Drop => continue,
                        EphemeralVerdict::Refuse(reason) => return Some(End::Error(reason)),
                    }
                    // Only a presence in the model's shape, naming its sender, reaches others.
                    if let Err(error) = model::check_presence(&data, self.principal.user()) {
                        return Some(End::Error(format!("ephemeral message refused: {error}")));
                    }
                    // Relayed only to peers of a document this peer has open, as one shared
                    // copy for all of them.
                    if let Some(handle) = self.docs.get(&document_id) {
                        let command = DocCommand::Ephemeral {
                            from: self.conn,
                            session_id: session_id.into(),
                            count,
                            data: data.into(),
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
                        let limit = self.state.limits.max_subscriptions_per_connection;
                        if subscriptions.len() > limit {
                            return Some(End::Error(format!(
                                "more than {limit} storage ids subscribed on one connection"
                            )));
                        }
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
            backlog_bytes: Arc::default(),
            byte_budget: self.state.limits.outbound_queue_bytes,
            server_queued: self.state.queued_bytes.clone(),
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
}
