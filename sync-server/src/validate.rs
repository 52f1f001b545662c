//! The seam where incoming changes are judged before they are stored or passed on.
//!
//! A document's task applies a peer's sync message to its in-memory copy, then asks the
//! server's [`ChangeValidator`] about the changes that message added. Only if it agrees are they
//! stored and fanned out. If it refuses, the document is put back to the heads it had before the
//! message (nothing was stored or sent yet), the peer gets an `error` and is disconnected, and
//! its app recovers from the server's copy.
//!
//! The default, [`AcceptAll`], is automerge-repo's behaviour. The trust rules (actor binding,
//! `model` permissions) plug in here.

use automerge::{Automerge, Change, ChangeHash};
use sync::{DocumentId, PeerInfo};

/// What a validator is shown: one peer's message worth of new changes to one document.
pub struct Incoming<'a> {
    pub document_id: DocumentId,
    /// Who sent them (from the connection's handshake).
    pub peer: &'a PeerInfo,
    /// The document's heads before the changes (read the old state with the `*_at` methods).
    pub before: &'a [ChangeHash],
    /// The document with the changes applied.
    pub doc: &'a Automerge,
}

impl Incoming<'_> {
    /// The changes the message added, in causal order.
    pub fn changes(&self) -> Vec<Change> {
        self.doc.get_changes(self.before)
    }
}

/// Why changes were refused; the text goes to the peer in an `error` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change refused: {0}")]
pub struct Rejection(pub String);

/// Judges incoming changes. Called on the document's task, with the document in memory: keep
/// it quick and do no I/O.
pub trait ChangeValidator: Send + Sync + 'static {
    fn validate(&self, incoming: &Incoming<'_>) -> Result<(), Rejection>;
}

/// Accepts every change.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAll;

impl ChangeValidator for AcceptAll {
    fn validate(&self, _: &Incoming<'_>) -> Result<(), Rejection> {
        Ok(())
    }
}
