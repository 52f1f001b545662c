//! The types a connection and a document's task share: how the task reaches a connection
//! ([`PeerLink`]), what it asks the connection to send ([`Outbound`]) and what the connection
//! tells it ([`DocCommand`]).
//!
//! They live in a leaf module (it imports nothing of the crate but the validator's
//! [`Principal`]) so that the hub, which starts documents' tasks, the tasks themselves and the
//! connections can all use them without importing each other.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
};

use automerge::ChangeHash;
use sync::{DocMessage, DocumentId, PeerInfo, StorageId, Timestamp};
use tokio::sync::{Notify, mpsc};

use crate::validate::Principal;

/// Identifies one WebSocket connection for as long as the server runs.
pub(crate) type ConnId = u64;

/// How a document's task reaches one connection.
#[derive(Clone)]
pub(crate) struct PeerLink {
    pub(crate) conn: ConnId,
    pub(crate) peer: Arc<PeerInfo>,
    /// Whose connection it is.
    pub(crate) principal: Arc<Principal>,
    pub(crate) outbound: mpsc::Sender<Outbound>,
    /// Wakes the connection to close it (its queue is full: it reads too slowly).
    pub(crate) kick: Arc<Notify>,
    /// The storage ids whose heads the peer wants to hear about (`remote-subscription-change`).
    pub(crate) subscriptions: Arc<Mutex<HashSet<StorageId>>>,
    /// How many messages are queued on `outbound` and not yet written to the socket. A
    /// document does not fan out to a connection that is still writing: it catches it up
    /// with one message once the queue is empty, so a slow reader never piles up fan-outs.
    pub(crate) backlog: Arc<AtomicUsize>,
    /// The bytes of what is counted in `backlog` ([`Outbound::size`]).
    pub(crate) backlog_bytes: Arc<AtomicUsize>,
    /// How many bytes may wait for the connection ([`crate::SyncLimits::outbound_queue_bytes`]).
    pub(crate) byte_budget: usize,
    /// The bytes waiting for every connection of the server (`Server::queued_outbound_bytes`).
    pub(crate) server_queued: Arc<AtomicUsize>,
}

impl PeerLink {
    /// Whether everything queued for the connection has been written.
    pub(crate) fn drained(&self) -> bool {
        self.backlog.load(Ordering::Acquire) == 0
    }

    /// Whether the peer subscribed to heads gossip about `storage_id`.
    pub(crate) fn subscribed_to(&self, storage_id: &StorageId) -> bool {
        self.subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(storage_id)
    }
}

/// What a document's task asks a connection to send.
#[derive(Debug)]
pub(crate) enum Outbound {
    Doc {
        document_id: DocumentId,
        message: DocMessage,
    },
    /// A `sync` message whose data the document shares between several connections.
    SharedSync {
        document_id: DocumentId,
        data: Arc<[u8]>,
    },
    /// Relayed ephemeral data: one copy shared by every connection it goes to. Dropped, not
    /// queued, for a connection that is still writing.
    Ephemeral {
        document_id: DocumentId,
        session_id: Arc<str>,
        count: u64,
        data: Arc<[u8]>,
    },
    /// Heads gossip: `storage_id` has these heads of the document (`remote-heads-changed`).
    RemoteHeads {
        document_id: DocumentId,
        storage_id: StorageId,
        heads: Vec<ChangeHash>,
        timestamp: Timestamp,
    },
    /// The peer broke the protocol for this document (or its changes were refused): send an
    /// `error` and close.
    Fail { reason: String },
}

impl Outbound {
    /// About how many bytes the message holds while it waits (what its payload holds; shared
    /// payloads are counted for each connection, as each connection's frame copies them).
    pub(crate) fn size(&self) -> usize {
        /// Ids, the enum and the queue's slot.
        const OVERHEAD: usize = 128;
        OVERHEAD
            + match self {
                Outbound::Doc { message, .. } => match message {
                    DocMessage::Request(data) | DocMessage::Sync(data) => data.len(),
                    DocMessage::Unavailable => 0,
                },
                Outbound::SharedSync { data, .. } => data.len(),
                Outbound::Ephemeral {
                    session_id, data, ..
                } => session_id.len() + data.len(),
                Outbound::RemoteHeads {
                    storage_id, heads, ..
                } => storage_id.as_str().len() + heads.len() * 32,
                Outbound::Fail { reason } => reason.len(),
            }
    }
}

/// What a connection tells a document's task.
pub(crate) enum DocCommand {
    /// A `request`, `sync` or `doc-unavailable` from this peer.
    Message { from: PeerLink, message: DocMessage },
    /// Ephemeral data to relay to the document's other peers.
    Ephemeral {
        from: ConnId,
        session_id: Arc<str>,
        count: u64,
        data: Arc<[u8]>,
    },
    /// The peer subscribed to heads gossip about these storages: send it the heads of the
    /// document they are known to have.
    Subscribed { conn: ConnId, add: Vec<StorageId> },
    /// The connection is closing: forget its sync state.
    Leave { conn: ConnId },
    /// The server itself changes the document (role data from the accounts): `change` runs on
    /// the document in memory; what it wrote is stored, then `done` is answered and the change
    /// fanned out like a peer's. It does not pass the validator: it is the server's own.
    Local {
        change: LocalChange,
        done: tokio::sync::oneshot::Sender<Result<bool, String>>,
    },
}

/// A change the server makes itself: returns whether it wrote anything, or why it could not.
pub(crate) type LocalChange =
    Box<dyn FnOnce(&mut automerge::Automerge) -> Result<bool, String> + Send + Sync>;
