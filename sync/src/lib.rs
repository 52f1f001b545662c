//! automerge-repo's wire protocol, sans-IO.
//!
//! Nothing in this crate touches a socket, a clock or a global random number generator: callers
//! pass bytes, time and randomness in and get bytes and effects out, so the same code runs in the
//! browser (wasm32) and on the server, and is tested without sockets.
//!
//! - [`Message`]: the CBOR messages of protocol version "1", with automerge-repo 2.x's field names.
//! - [`DocumentId`]: base58check ids and `automerge:` URLs.
//! - [`Connection`]: one connection's state machine (the `join`/`peer` handshake, then routing).
//! - [`DocSync`]: one document with one peer (automerge's sync state, request / unavailable).

mod connection;
mod doc_sync;
mod document_id;
mod heads;
mod message;
mod peer_id;
mod timestamp;

pub use connection::{
    Connection, ConnectionConfig, ConnectionError, ConnectionEvent, ConnectionInput,
    ConnectionResults, PeerInfo,
};
pub use doc_sync::{DocError, DocEvent, DocInput, DocMessage, DocResults, DocSync, PeerDocStatus};
pub use document_id::{BadDocumentId, DocumentId};
pub use heads::{BadHead, decode_heads, encode_heads};
pub use message::{
    DEFAULT_MAX_MESSAGE_SIZE, DecodeError, Message, PROTOCOL_VERSION, PeerMetadata, RemoteHeads,
};
pub use peer_id::{PeerId, StorageId};
pub use timestamp::Timestamp;
