//! The seam where incoming changes are judged before they are stored or passed on.
//!
//! A document's task applies a peer's sync message to its in-memory copy, then asks the
//! server's [`ChangeValidator`] about the changes that message added. Only if it agrees are they
//! stored and fanned out. If it refuses, the document is put back to the heads it had before the
//! message (nothing was stored or sent yet), the peer gets an `error` and is disconnected, and
//! its app recovers from the server's copy.
//!
//! The validator also decides who may read a document ([`ChangeValidator::access`]): a peer
//! that may not is answered `doc-unavailable`, exactly as for a document nobody has, and is
//! left out of fan-out and heads gossip.
//!
//! The default, [`AcceptAll`], is automerge-repo's behaviour. The trust rules (actor binding,
//! `model` permissions, private documents) are the trust module's `TrustValidator`.

use automerge::{Automerge, Change, ChangeHash};
use model::UserId;
use sync::{DocumentId, PeerInfo};

/// Who is on the other end of a connection, as established when the WebSocket was upgraded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No (valid) session: may read public documents, writes nothing (with trust on).
    Anonymous,
    /// A signed-in user.
    User(UserId),
}

impl Principal {
    /// The user, if signed in.
    pub fn user(&self) -> Option<&UserId> {
        match self {
            Principal::Anonymous => None,
            Principal::User(id) => Some(id),
        }
    }
}

/// What a principal may do with a document it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read (and write, subject to [`ChangeValidator::validate`]).
    Read,
    /// Add to it without reading it: someone else's inbox, to which anyone may add a
    /// conversation. The peer syncs with a copy holding only the document's first changes
    /// (which every device derives alike) and what it sends.
    WriteOnly,
    /// Nothing: the document is not served or announced to this principal.
    None,
}

/// What a validator is shown: one peer's message worth of new changes to one document.
///
/// Judge the state at `before` and `after` (the `*_at` methods), not the document as it is:
/// a document task may have applied other peers' messages of the same batch together with
/// this one ([`Incoming::sent`]), and their changes are not this sender's.
pub struct Incoming<'a> {
    pub document_id: DocumentId,
    /// Who sent them (from the connection's handshake).
    pub peer: &'a PeerInfo,
    /// Whose connection it is (from the session the WebSocket was opened with).
    pub principal: &'a Principal,
    /// The document's heads before the changes (read the old state with the `*_at` methods).
    pub before: &'a [ChangeHash],
    /// The heads after them: `before` with the message's changes, and nothing else.
    pub after: &'a [ChangeHash],
    /// The document with the changes applied.
    pub doc: &'a Automerge,
    /// The message's changes, if the document holds others' too; else they are all the
    /// changes after `before`.
    pub sent: Option<&'a [Change]>,
}

impl Incoming<'_> {
    /// The changes the message added, in causal order.
    pub fn changes(&self) -> Vec<Change> {
        match self.sent {
            Some(sent) => sent.to_vec(),
            None => self.doc.get_changes(self.before),
        }
    }
}

/// Why changes were refused; it goes to the peer in an `error` message (a [`sync::Refusal`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change refused: {reason}")]
pub struct Rejection {
    /// The first change that broke a rule, if the validator knows it: the peer drops it and
    /// rebuilds what depends on it (see the app's recovery).
    pub change: Option<ChangeHash>,
    pub reason: String,
}

impl Rejection {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            change: None,
            reason: reason.into(),
        }
    }

    /// The same rejection, naming the change that broke the rule.
    pub fn of_change(self, change: ChangeHash) -> Self {
        Self {
            change: Some(change),
            ..self
        }
    }

    /// The `error` message's text for a peer whose changes to `document_id` this refused.
    pub fn to_refusal(&self, document_id: DocumentId) -> sync::Refusal {
        sync::Refusal {
            document_id,
            change: self.change,
            reason: self.reason.clone(),
        }
    }
}

/// Judges incoming changes. Called on the document's task, with the document in memory: keep
/// it quick and do no I/O.
pub trait ChangeValidator: Send + Sync + 'static {
    fn validate(&self, incoming: &Incoming<'_>) -> Result<(), Rejection>;

    /// Whether `principal` may read `doc` (never called for a document the server has no
    /// changes of). Everyone may, by default.
    fn access(&self, _document_id: DocumentId, _doc: &Automerge, _principal: &Principal) -> Access {
        Access::Read
    }

    /// For a peer with [`Access::WriteOnly`]: the copy of `doc` it syncs with (what anyone may
    /// know of it). Empty by default.
    fn writer_view(&self, _document_id: DocumentId, _doc: &Automerge) -> Automerge {
        Automerge::new()
    }
}

/// Accepts every change.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAll;

impl ChangeValidator for AcceptAll {
    fn validate(&self, _: &Incoming<'_>) -> Result<(), Rejection> {
        Ok(())
    }
}
