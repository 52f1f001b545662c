//! automerge-repo's wire protocol, sans-IO.
//!
//! Nothing in this crate touches a socket, a clock or a global random number generator: callers
//! pass bytes, time and randomness in and get bytes and effects out, so the same code runs in the
//! browser (wasm32) and on the server, and is tested without sockets.
//!
//! - [`Message`]: the CBOR messages of protocol version "1", with automerge-repo 2.x's field
//!   names; [`Message::decode`] returns a [`DecodeError`] for anything else, never panics.
//! - [`DocumentId`]: base58check ids and `automerge:` URLs; [`encode_heads`] for heads in URLs
//!   and `remote-heads-changed`.
//! - [`Connection`]: one connection's state machine: the `join`/`peer` handshake (protocol
//!   version, peer ids, metadata), then it turns frames into [`ConnectionEvent`]s.
//! - [`DocSync`]: one document with one peer: automerge's `sync::State` plus announce, request
//!   and `doc-unavailable`, and the workaround for automerge 0.12's empty-heads reset.
//! - [`chunk_key`]: automerge-repo's storage-key layout (`[doc, "incremental", sha256hex]`, …)
//!   and [`uuid_v4`] for storage ids: the facts the app's repo and the server's storage share.
//!
//! # Driving it (a server, or a client)
//!
//! The driver owns the sockets, the clock, the documents and storage. Per connection it keeps
//! one [`Connection`] and a map `DocumentId -> DocSync`; per document one `automerge::Automerge`
//! shared by all that document's `DocSync`s. Everything is a plain method call that returns what
//! to do; nothing here needs `Send`, so it can live inside one tokio task per connection (with
//! documents behind whatever the server uses to share them) or inside the browser's event loop.
//!
//! 1. Socket opened: `Connection::incoming(us, config)` on the server (`outgoing` on a client),
//!    then `handle(now, ConnectionInput::start())`. A client's results hold the `join` to send.
//! 2. Frame arrived: `handle(now, ConnectionInput::receive(bytes))`. Send every frame of
//!    `results.outgoing` in order; if `results.close`, close the socket after them. Then act on
//!    `results.events`:
//!    - `Established(peer)`: the handshake is done. Check `peer.peer_id` against the session if
//!      the server binds peers to accounts. A peer id that joins again on a new socket replaces
//!      its old connection (automerge-repo's server closes the old socket). A client now begins
//!      its documents (below).
//!    - `Document { document_id, message }`: load the document (from storage, before feeding
//!      it; an unknown document is an empty `Automerge`), get or create this connection's
//!      `DocSync` for it, and call `doc_sync.handle(now, &mut doc, DocInput::receive(message))`.
//!    - `Ephemeral`, `RemoteSubscriptionChange`, `RemoteHeadsChanged`: optional features; a
//!      server relays ephemeral data to the document's other peers with
//!      [`Connection::encode_ephemeral`].
//!    - `Left`, `RemoteError`, `Failed`: the connection is over; drop its `DocSync`s. A
//!      `RemoteError` whose text parses as a [`Refusal`] names a document whose changes a
//!      checking server refused.
//! 3. A `DocSync` returned [`DocResults`]: encode each of `outgoing` with
//!    [`Connection::encode_document_message`] and send it. For each event:
//!    - `DocumentChanged`: the peer's changes are in the document. Store them durably before
//!      sending this call's `outgoing` (our reply advertises the new heads, which acknowledges
//!      the changes), then call
//!      `handle(now, &mut doc, DocInput::doc_changed())` on the document's `DocSync` of every
//!      *other* connection and send what they return: that is the fan-out.
//!    - `TheirHeads(heads)`: the peer now has these heads (a client shows "synced" once they
//!      include its own changes; a server may record them for gossip).
//!    - `Unavailable`: we asked for the document and this peer does not have it.
//! 4. Local edit (client) or change from elsewhere (server): `DocInput::doc_changed()` on every
//!    `DocSync` of that document, as in 3.
//! 5. A client opening or creating a document calls `DocInput::begin()` on its `DocSync` for each
//!    connected peer (it announces a document it has and requests one it lacks). A server does
//!    not begin documents; it answers requests and announcements, which create the `DocSync`.
//! 6. Every second or so: `handle(now, ConnectionInput::tick())` (handshake timeout).
//! 7. When a connection ends, a peer whose metadata has a storage id and is not ephemeral may
//!    come back: store each `DocSync::encode_state()` under `[document, "sync-state",
//!    storage id]` and resume with `DocSync::with_state`, so it is not sent what it has.
//!
//! A `DocError` means the peer sent a sync message that is not one or whose changes do not
//! apply; the server should answer with an `error` and close, like any protocol failure.
//! `DocSync` applies whatever a peer sends to the document it is handed: checking changes
//! against the `model` rules before they reach the shared copy is the driver's job. A peer that
//! may only read gets `DocSync::set_read_only(true)`: its changes are ignored, it still receives
//! ours.
//!
//! ```
//! use sync::{
//!     Connection, ConnectionConfig, ConnectionEvent, ConnectionInput, DocInput, DocSync,
//!     PeerId, PeerInfo, PeerMetadata, Timestamp,
//! };
//! use automerge::{Automerge, ReadDoc, ROOT, transaction::Transactable};
//!
//! let info = |name: &str| PeerInfo { peer_id: PeerId::new(name), metadata: PeerMetadata::default() };
//! let now = Timestamp::from_millis(1_700_000_000_000);
//! let mut client = Connection::outgoing(info("phone"), ConnectionConfig::default());
//! let mut server = Connection::incoming(info("server"), ConnectionConfig::default());
//! server.handle(now, ConnectionInput::start());
//!
//! // The client has a document and announces it once the handshake is done.
//! let id = sync::DocumentId::from_bytes([7; 16]);
//! let mut phone_doc = Automerge::new();
//! let mut tx = phone_doc.transaction();
//! tx.put(ROOT, "title", "Dorpshuis").unwrap();
//! tx.commit();
//! let (mut phone_sync, mut server_sync) = (DocSync::new(), DocSync::new());
//! let mut server_doc = Automerge::new();
//!
//! let mut to_server = client.handle(now, ConnectionInput::start()).outgoing;
//! while !to_server.is_empty() {
//!     let mut to_client = Vec::new();
//!     for frame in to_server.drain(..) {
//!         let results = server.handle(now, ConnectionInput::receive(frame));
//!         to_client.extend(results.outgoing);
//!         for event in results.events {
//!             if let ConnectionEvent::Document { document_id, message } = event {
//!                 let out = server_sync.handle(now, &mut server_doc, DocInput::receive(message));
//!                 for m in out.unwrap().outgoing {
//!                     to_client.push(server.encode_document_message(document_id, m).unwrap());
//!                 }
//!             }
//!         }
//!     }
//!     for frame in to_client {
//!         let results = client.handle(now, ConnectionInput::receive(frame));
//!         to_server.extend(results.outgoing);
//!         for event in results.events {
//!             let input = match event {
//!                 ConnectionEvent::Established(_) => DocInput::begin(),
//!                 ConnectionEvent::Document { message, .. } => DocInput::receive(message),
//!                 _ => continue,
//!             };
//!             for m in phone_sync.handle(now, &mut phone_doc, input).unwrap().outgoing {
//!                 to_server.push(client.encode_document_message(id, m).unwrap());
//!             }
//!         }
//!     }
//! }
//! assert_eq!(server_doc.get_heads(), phone_doc.get_heads());
//! ```

mod base58check;
mod change_log;
mod changes;
pub mod chunk_key;
mod connection;
mod doc_sync;
mod document_id;
mod fan_out;
mod heads;
mod message;
mod peer_check;
mod peer_id;
mod receive;
mod refusal;
mod timestamp;
mod uuid;

pub use changes::split_changes;
pub use connection::{
    Connection, ConnectionConfig, ConnectionError, ConnectionEvent, ConnectionInput,
    ConnectionResults, PeerInfo,
};
pub use doc_sync::{
    DocError, DocEvent, DocInput, DocMessage, DocResults, DocSync, FannedOut, PeerDocStatus,
};
pub use document_id::{BadDocumentId, DocumentId};
pub use fan_out::FanOut;
pub use heads::{BadHead, decode_heads, encode_heads};
pub use message::{
    DEFAULT_MAX_MESSAGE_SIZE, DecodeError, MAX_ID_LENGTH, Message, PROTOCOL_VERSION, PeerMetadata,
    RemoteHeads,
};
pub use peer_check::{ChunkError, ChunkPolicy, check_peer_chunks, check_peer_have};
pub use peer_id::{PeerId, StorageId};
pub use refusal::Refusal;
pub use timestamp::Timestamp;
pub use uuid::uuid_v4;

/// Helpers the unit tests share.
#[cfg(test)]
mod test_support {
    use automerge::{Automerge, ROOT, transaction::Transactable};

    /// One change to `doc` that sets `key` to `value`.
    pub(crate) fn put(doc: &mut Automerge, key: &str, value: u64) {
        let mut tx = doc.transaction();
        tx.put(ROOT, key, value).unwrap();
        tx.commit();
    }
}
