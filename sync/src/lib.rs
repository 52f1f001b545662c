//! automerge-repo's wire protocol, sans-IO.
//!
//! Nothing in this crate touches a socket, a clock or a global random number generator: callers
//! pass bytes, time and randomness in and get bytes and effects out, so the same code runs in the
//! browser (wasm32) and on the server, and is tested without sockets.

mod document_id;

pub use document_id::{BadDocumentId, DocumentId};
