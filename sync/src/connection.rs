//! One connection to one peer: the `join`/`peer` handshake, then routing of the messages that
//! follow to the document they are about.

use std::collections::BTreeMap;

use crate::{
    DecodeError, DocMessage, DocumentId, Message, PROTOCOL_VERSION, PeerId, PeerMetadata,
    RemoteHeads, StorageId, Timestamp, message::DEFAULT_MAX_MESSAGE_SIZE,
};

/// Limits of one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Frames longer than this fail the connection unread.
    pub max_message_size: usize,
    /// How long the other side may take to finish the handshake, in milliseconds.
    pub handshake_timeout_ms: u64,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            handshake_timeout_ms: 10_000,
        }
    }
}

/// Who the other side of an established connection is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    pub peer_id: PeerId,
    pub metadata: PeerMetadata,
}

/// Something that happened to a connection; build one with the named constructors.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionInput(Input);

#[derive(Clone, Debug, PartialEq)]
enum Input {
    Start,
    Receive(Vec<u8>),
    Tick,
    Leave,
}

impl ConnectionInput {
    /// The transport is open: the side that dialled sends `join`, the other starts waiting.
    pub fn start() -> Self {
        Self(Input::Start)
    }

    /// A binary frame arrived.
    pub fn receive(bytes: Vec<u8>) -> Self {
        Self(Input::Receive(bytes))
    }

    /// Time passed; fails a handshake that takes too long. Call it every second or so.
    pub fn tick() -> Self {
        Self(Input::Tick)
    }

    /// We are going away: sends `leave` and closes.
    pub fn leave() -> Self {
        Self(Input::Leave)
    }
}

/// What the driver must do after [`Connection::handle`].
#[derive(Debug, Default, PartialEq)]
pub struct ConnectionResults {
    /// Frames to send, in order.
    pub outgoing: Vec<Vec<u8>>,
    /// What happened, in order.
    pub events: Vec<ConnectionEvent>,
    /// The connection is over: send `outgoing`, then close the transport.
    pub close: bool,
}

/// What a connection tells its driver.
#[derive(Clone, Debug, PartialEq)]
pub enum ConnectionEvent {
    /// The handshake finished; document messages can flow.
    Established(PeerInfo),
    /// A `request`, `sync` or `doc-unavailable` for one document: hand it to that document's
    /// [`crate::DocSync`] for this peer.
    Document {
        document_id: DocumentId,
        message: DocMessage,
    },
    /// Ephemeral application data about a document.
    Ephemeral {
        document_id: DocumentId,
        session_id: String,
        count: u64,
        data: Vec<u8>,
    },
    /// The peer (un)subscribes to heads gossip about these storages.
    RemoteSubscriptionChange {
        add: Vec<StorageId>,
        remove: Vec<StorageId>,
    },
    /// The peer reports other storages' heads of a document.
    RemoteHeadsChanged {
        document_id: DocumentId,
        new_heads: BTreeMap<StorageId, RemoteHeads>,
    },
    /// The peer said `leave`.
    Left,
    /// The peer sent `error` (and will close).
    RemoteError(String),
    /// The peer broke the protocol; we sent it an `error` and close.
    Failed(ConnectionError),
}

/// Why a connection failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("unsupported protocol version: {0:?}")]
    UnsupportedProtocolVersion(Vec<String>),
    #[error("expected a `{expected}` message, got `{got}`")]
    Unexpected {
        expected: &'static str,
        got: &'static str,
    },
    #[error("a message from {got} on the connection with {expected}")]
    WrongSender { expected: PeerId, got: PeerId },
    #[error("a message for {got:?}, but this is {expected}")]
    WrongTarget {
        expected: PeerId,
        got: Option<PeerId>,
    },
    #[error("the handshake took too long")]
    HandshakeTimeout,
    #[error("the connection is not established")]
    NotEstablished,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// We dialled: we send `join`.
    Outgoing,
    /// We accepted: we answer `join` with `peer`.
    Incoming,
}

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    New,
    AwaitingJoin { since: Timestamp },
    AwaitingPeer { since: Timestamp },
    Established(PeerInfo),
    Closed,
}

/// The state machine of one connection: feed it [`ConnectionInput`]s with the current time, do
/// what its [`ConnectionResults`] say.
#[derive(Debug)]
pub struct Connection {
    local: PeerInfo,
    config: ConnectionConfig,
    direction: Direction,
    phase: Phase,
}

impl Connection {
    /// A connection we dialled (a client to the server).
    pub fn outgoing(local: PeerInfo, config: ConnectionConfig) -> Self {
        Self::new(local, config, Direction::Outgoing)
    }

    /// A connection we accepted (the server's side).
    pub fn incoming(local: PeerInfo, config: ConnectionConfig) -> Self {
        Self::new(local, config, Direction::Incoming)
    }

    fn new(local: PeerInfo, config: ConnectionConfig, direction: Direction) -> Self {
        Self {
            local,
            config,
            direction,
            phase: Phase::New,
        }
    }

    /// The other side, once the handshake is done.
    pub fn peer(&self) -> Option<&PeerInfo> {
        match &self.phase {
            Phase::Established(peer) => Some(peer),
            _ => None,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The one entry point: applies `input` at time `now`.
    pub fn handle(&mut self, now: Timestamp, input: ConnectionInput) -> ConnectionResults {
        let mut results = ConnectionResults::default();
        if self.phase == Phase::Closed {
            results.close = true;
            return results;
        }
        match input.0 {
            Input::Start => self.start(now, &mut results),
            Input::Receive(bytes) => {
                // A frame before `start` means the transport is open; start now.
                self.start(now, &mut results);
                if let Err(error) = self.receive(&bytes, &mut results) {
                    self.fail(error, &mut results);
                }
            }
            Input::Tick => {
                if let Phase::AwaitingJoin { since } | Phase::AwaitingPeer { since } = self.phase
                    && now.millis_since(since) > self.config.handshake_timeout_ms
                {
                    self.fail(ConnectionError::HandshakeTimeout, &mut results);
                }
            }
            Input::Leave => {
                results.outgoing.push(
                    Message::Leave {
                        sender_id: self.local.peer_id.clone(),
                    }
                    .encode(),
                );
                self.phase = Phase::Closed;
                results.close = true;
            }
        }
        results
    }

    /// Addresses a document message to the peer and encodes it.
    pub fn encode_document_message(
        &self,
        document_id: DocumentId,
        message: DocMessage,
    ) -> Result<Vec<u8>, ConnectionError> {
        let (sender_id, target_id) = self.ids()?;
        Ok(match message {
            DocMessage::Request(data) => Message::Request {
                sender_id,
                target_id,
                document_id,
                data,
            },
            DocMessage::Sync(data) => Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            },
            DocMessage::Unavailable => Message::DocUnavailable {
                sender_id,
                target_id,
                document_id,
            },
        }
        .encode())
    }

    /// Addresses ephemeral data to the peer and encodes it. `session_id` and `count` are the
    /// original sender's (a relay passes them on unchanged).
    pub fn encode_ephemeral(
        &self,
        document_id: DocumentId,
        session_id: String,
        count: u64,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, ConnectionError> {
        let (sender_id, target_id) = self.ids()?;
        Ok(Message::Ephemeral {
            sender_id,
            target_id,
            count,
            session_id,
            document_id,
            data,
        }
        .encode())
    }

    /// Addresses heads gossip to the peer and encodes it: the heads of `document_id` that the
    /// storages in `new_heads` are known to have (`remote-heads-changed`).
    pub fn encode_remote_heads(
        &self,
        document_id: DocumentId,
        new_heads: BTreeMap<StorageId, RemoteHeads>,
    ) -> Result<Vec<u8>, ConnectionError> {
        let (sender_id, target_id) = self.ids()?;
        Ok(Message::RemoteHeadsChanged {
            sender_id,
            target_id,
            document_id,
            new_heads,
        }
        .encode())
    }

    fn ids(&self) -> Result<(PeerId, PeerId), ConnectionError> {
        let peer = self.peer().ok_or(ConnectionError::NotEstablished)?;
        Ok((self.local.peer_id.clone(), peer.peer_id.clone()))
    }

    fn start(&mut self, now: Timestamp, results: &mut ConnectionResults) {
        if self.phase != Phase::New {
            return;
        }
        match self.direction {
            Direction::Outgoing => {
                results.outgoing.push(
                    Message::Join {
                        sender_id: self.local.peer_id.clone(),
                        supported_protocol_versions: vec![PROTOCOL_VERSION.to_owned()],
                        peer_metadata: Some(self.local.metadata.clone()),
                    }
                    .encode(),
                );
                self.phase = Phase::AwaitingPeer { since: now };
            }
            Direction::Incoming => self.phase = Phase::AwaitingJoin { since: now },
        }
    }

    fn receive(
        &mut self,
        bytes: &[u8],
        results: &mut ConnectionResults,
    ) -> Result<(), ConnectionError> {
        let message = Message::decode_with_limit(bytes, self.config.max_message_size)?;
        match (&self.phase, message) {
            (_, Message::Error { message, .. }) => {
                results.events.push(ConnectionEvent::RemoteError(message));
                self.close(results);
            }
            (
                Phase::AwaitingJoin { .. },
                Message::Join {
                    sender_id,
                    supported_protocol_versions,
                    peer_metadata,
                },
            ) => {
                if !supported_protocol_versions
                    .iter()
                    .any(|v| v == PROTOCOL_VERSION)
                {
                    // Like automerge-repo's server, address the error to the peer that joined.
                    let error =
                        ConnectionError::UnsupportedProtocolVersion(supported_protocol_versions);
                    self.fail_to(Some(sender_id), error, results);
                    return Ok(());
                }
                results.outgoing.push(
                    Message::Peer {
                        sender_id: self.local.peer_id.clone(),
                        target_id: sender_id.clone(),
                        selected_protocol_version: PROTOCOL_VERSION.to_owned(),
                        peer_metadata: Some(self.local.metadata.clone()),
                    }
                    .encode(),
                );
                self.establish(sender_id, peer_metadata, results);
            }
            (
                Phase::AwaitingPeer { .. },
                Message::Peer {
                    sender_id,
                    target_id,
                    selected_protocol_version,
                    peer_metadata,
                },
            ) => {
                if selected_protocol_version != PROTOCOL_VERSION {
                    return Err(ConnectionError::UnsupportedProtocolVersion(vec![
                        selected_protocol_version,
                    ]));
                }
                self.check_target(Some(&target_id))?;
                self.establish(sender_id, peer_metadata, results);
            }
            (Phase::AwaitingJoin { .. }, other) => {
                return Err(ConnectionError::Unexpected {
                    expected: "join",
                    got: other.type_name(),
                });
            }
            (Phase::AwaitingPeer { .. }, other) => {
                return Err(ConnectionError::Unexpected {
                    expected: "peer",
                    got: other.type_name(),
                });
            }
            (Phase::Established(_), message) => self.receive_established(message, results)?,
            (Phase::New | Phase::Closed, _) => {}
        }
        Ok(())
    }

    fn receive_established(
        &mut self,
        message: Message,
        results: &mut ConnectionResults,
    ) -> Result<(), ConnectionError> {
        if let Some(sender) = message.sender_id() {
            self.check_sender(sender)?;
        }
        if !matches!(message, Message::Leave { .. }) {
            self.check_target(message.target_id())?;
        }
        let event = match message {
            Message::Request {
                document_id, data, ..
            } => ConnectionEvent::Document {
                document_id,
                message: DocMessage::Request(data),
            },
            Message::Sync {
                document_id, data, ..
            } => ConnectionEvent::Document {
                document_id,
                message: DocMessage::Sync(data),
            },
            Message::DocUnavailable { document_id, .. } => ConnectionEvent::Document {
                document_id,
                message: DocMessage::Unavailable,
            },
            Message::Ephemeral {
                document_id,
                session_id,
                count,
                data,
                ..
            } => ConnectionEvent::Ephemeral {
                document_id,
                session_id,
                count,
                data,
            },
            Message::RemoteSubscriptionChange { add, remove, .. } => {
                ConnectionEvent::RemoteSubscriptionChange {
                    add: add.unwrap_or_default(),
                    remove: remove.unwrap_or_default(),
                }
            }
            Message::RemoteHeadsChanged {
                document_id,
                new_heads,
                ..
            } => ConnectionEvent::RemoteHeadsChanged {
                document_id,
                new_heads,
            },
            Message::Leave { .. } => {
                results.events.push(ConnectionEvent::Left);
                self.close(results);
                return Ok(());
            }
            other @ (Message::Join { .. } | Message::Peer { .. } | Message::Error { .. }) => {
                return Err(ConnectionError::Unexpected {
                    expected: "document message",
                    got: other.type_name(),
                });
            }
        };
        results.events.push(event);
        Ok(())
    }

    fn check_sender(&self, sender: &PeerId) -> Result<(), ConnectionError> {
        match self.peer() {
            Some(peer) if &peer.peer_id != sender => Err(ConnectionError::WrongSender {
                expected: peer.peer_id.clone(),
                got: sender.clone(),
            }),
            _ => Ok(()),
        }
    }

    fn check_target(&self, target: Option<&PeerId>) -> Result<(), ConnectionError> {
        if target == Some(&self.local.peer_id) {
            Ok(())
        } else {
            Err(ConnectionError::WrongTarget {
                expected: self.local.peer_id.clone(),
                got: target.cloned(),
            })
        }
    }

    fn establish(
        &mut self,
        peer_id: PeerId,
        metadata: Option<PeerMetadata>,
        results: &mut ConnectionResults,
    ) {
        let peer = PeerInfo {
            peer_id,
            metadata: metadata.unwrap_or_default(),
        };
        self.phase = Phase::Established(peer.clone());
        results.events.push(ConnectionEvent::Established(peer));
    }

    fn close(&mut self, results: &mut ConnectionResults) {
        self.phase = Phase::Closed;
        results.close = true;
    }

    fn fail(&mut self, error: ConnectionError, results: &mut ConnectionResults) {
        let target_id = self.peer().map(|p| p.peer_id.clone());
        self.fail_to(target_id, error, results);
    }

    fn fail_to(
        &mut self,
        target_id: Option<PeerId>,
        error: ConnectionError,
        results: &mut ConnectionResults,
    ) {
        results.outgoing.push(
            Message::Error {
                sender_id: Some(self.local.peer_id.clone()),
                target_id,
                message: error.to_string(),
            }
            .encode(),
        );
        results.events.push(ConnectionEvent::Failed(error));
        self.close(results);
    }
}
