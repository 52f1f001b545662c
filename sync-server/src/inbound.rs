//! What a connection checks in a peer's messages before they reach a document's task: the
//! changes and Bloom filters in sync messages (no decompression bombs, no
//! filter that makes automerge panic or allocate gigabytes).
//!
//! The checks run in the connection's own task, so a peer's bad input costs its connection,
//! never the document's task that all its peers share.

use sync::{ChunkPolicy, DocMessage};

use crate::{limits::SyncLimits, validate::Principal};

/// Refuses a `request` or `sync` whose changes automerge would inflate beyond the limit, or
/// that hold chunks a peer has no reason to send (see [`sync::check_peer_chunks`]), or whose
/// Bloom filters would make automerge divide by zero or allocate without bound
/// ([`sync::check_peer_have`]). With trust
/// on, a peer that is not signed in writes nothing, so it may not send a whole document
/// either: its changes are only parsed (they are never inflated) and refused by the validator.
/// `Err` is the text of the `error` the peer gets.
pub(crate) fn check_document_message(
    message: &DocMessage,
    principal: &Principal,
    trust_on: bool,
    limits: &SyncLimits,
) -> Result<(), String> {
    let (DocMessage::Request(data) | DocMessage::Sync(data)) = message else {
        return Ok(());
    };
    // Decoding copies the changes' bytes and inflates nothing; what does not decode is refused
    // by the document's task as before.
    let Ok(decoded) = automerge::sync::Message::decode(data) else {
        return Ok(());
    };
    let policy = ChunkPolicy {
        allow_documents: !trust_on || principal.user().is_some(),
        max_inflated: limits.max_inflated_size,
    };
    sync::check_peer_have(&decoded.have)
        .and_then(|()| sync::check_peer_chunks(&decoded.changes, policy))
        .map_err(|error| error.to_string())
}
