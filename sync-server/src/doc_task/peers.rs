//! The document's peers as its state keeps them: those that read it ([`Peer`]) and those
//! that only add to it ([`Writer`]).

use automerge::{Automerge, ChangeHash};
use sync::{DocSync, Timestamp};

use crate::peer::PeerLink;

/// A peer that adds to the document without reading it: it syncs with `view`, which holds
/// only the document's first changes and what it sent, never what others wrote.
pub(super) struct Writer {
    pub(super) link: PeerLink,
    pub(super) sync: DocSync,
    pub(super) view: Automerge,
}

pub(super) struct Peer {
    pub(super) link: PeerLink,
    pub(super) sync: DocSync,
    /// The heads the peer last said it has, and when (for heads gossip about its storage).
    pub(super) heads: Option<(Vec<ChangeHash>, Timestamp)>,
    /// Its message was applied without an answer: the next fan-out answers it.
    pub(super) owed_reply: bool,
    /// ... and that message brought changes: answered before its next message is applied.
    pub(super) owed_change_answer: bool,
}

impl Peer {
    pub(super) fn new(link: PeerLink, sync: DocSync) -> Self {
        Self {
            link,
            sync,
            heads: None,
            owed_reply: false,
            owed_change_answer: false,
        }
    }
}

/// The storage id under which a peer's sync state is kept between its connections: it must
/// announce one and not be ephemeral (it keeps the document after disconnecting).
pub(super) fn lasting_storage_id(link: &PeerLink) -> Option<&str> {
    let metadata = &link.peer.metadata;
    match &metadata.storage_id {
        Some(id) if !metadata.is_ephemeral => Some(id.as_str()),
        _ => None,
    }
}
