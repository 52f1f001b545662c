//! Who is on the other end: the seam between accounts (sessions, roles, registered actors) and
//! the sync endpoint that enforces them.
//!
//! The accounts store (`accounts/`) implements [`Identities`]; `/sync` asks it who a connection
//! belongs to when the WebSocket is upgraded, and the change validator asks it, on a document's
//! task, which user an actor id is registered to and which roles that user holds. Those two
//! questions are answered from memory (no I/O): the validator runs inside the document's task.
//!
//! # Conversations and inboxes
//! Private conversations and inboxes (the contract for the accounts issue). A conversation is one
//! `ConversationDoc` under a random document id, created on the sender's device; its participants
//! and subject are written in its first change, and only participants may read it or write
//! messages. How a recipient learns of it: every resident has one `InboxDoc`, whose document id
//! is the first 16 bytes of SHA-256(`"dorpskracht:inbox:" + user id`)
//! (`model::inbox_document_id`) and whose first changes are `InboxDoc::new(owner)` (actor
//! `INBOX_ACTOR`, time 0): every device makes them byte for byte alike, so a sender and the owner
//! can both create the inbox offline and it stays one document. The sender adds the conversation
//! (`entries/<conversation id>`, authored by the sender, never changed) to each participant's
//! inbox and their own; anyone may add an entry, only the owner keeps read marks (`read/*`) or
//! removes entries. Only the owner may read an inbox, only participants a conversation: the
//! server (trust on) syncs an inbox to its `owner` only (others may add an entry without reading
//! it) and a conversation to its participants only, and accepts exactly those first changes (the
//! inbox's recomputed from the owner under the owner's inbox id; the conversation's recomputed
//! with `ConversationDoc::with_subject`, its creator the sender and first participant) where the
//! rules otherwise refuse root keys. A device writes with actor ids registered to its user (`POST
//! /api/actors`), also in conversations it creates.

use model::inbox_document_id;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use automerge::{ActorId, Automerge, ChangeHash, ObjId, ROOT, ReadDoc, ScalarValue, Value};
use model::{AssociationId, DocKind, InboxDoc, User, UserId};
use sync::DocumentId;

use crate::validate::{Access, ChangeValidator, Incoming, Principal, Rejection};

mod first;
mod quota;

use first::{FirstChanges, first_changes};
use quota::{ConversationQuota, WriteQuota};

/// A boxed future, so [`Identities`] can be used as `Arc<dyn Identities>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Accounts as the sync endpoint and the validator see them.
pub trait Identities: Send + Sync + 'static {
    /// The user a session token belongs to (from the `dk_session` cookie or a `token` query
    /// parameter); `None` when the token is unknown, expired or signed out. May do I/O.
    fn session_user<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<UserId>>;

    /// The user with the roles they hold now (a plain resident when they hold none). No I/O.
    fn user(&self, id: &UserId) -> User;

    /// The user an actor id is registered to, if any. No I/O.
    fn actor_owner(&self, actor: &ActorId) -> Option<UserId>;

    /// The validator accepted a change by `creator` that registers `association` (whose
    /// creation names its creator as first admin): record that role, durably, before
    /// returning (the one write on the caller's thread: rare and small). It is the role's only
    /// source; nothing recovers it from the document later. Does nothing by default.
    fn association_registered(&self, _association: &AssociationId, _creator: &UserId) {}
}

/// The trust rules: who may read which document, and which new changes are accepted.
///
/// * Reading: the public documents (the municipality's and the villages', named by
///   `/api/bootstrap`) are read by anyone, signed in or not. A conversation is read by its
///   participants only, an inbox by its owner only; others may add to an inbox without reading
///   it ([`Access::WriteOnly`]). Any other document is served to nobody.
/// * Writing: anonymous peers write nothing. A change new to the server must be made with an
///   actor registered to the sender ([`Identities::actor_owner`]) and keep `model`'s rules
///   ([`model::validate_incoming`]) for the sender's current roles, in the document's kind.
/// * A new document must be a conversation whose first two changes are exactly what
///   [`model::ConversationDoc::with_subject`] makes for its sender (who is its first participant), or
///   an inbox whose first changes are exactly [`InboxDoc::new`] of its owner under the owner's
///   inbox document id ([`inbox_document_id`]); those are the root keys the rules otherwise
///   refuse. The inbox's first changes carry [`model::INBOX_ACTOR`], registered to nobody.
/// * Against inbox floods: a new conversation has at most [`model::schema::limits::MAX_PARTICIPANTS`]
///   participants, and one resident starts at most [`model::schema::limits::MAX_NEW_CONVERSATIONS_PER_DAY`]
///   conversations in 24 hours (counted here, in memory, by the server's clock); `model` caps the
///   entries one sender has in another's inbox and the entries of an inbox, below the
///   documents-per-connection cap, so flooding an inbox never closes its owner's connection.
pub struct TrustValidator {
    identities: Arc<dyn Identities>,
    public: HashMap<DocumentId, DocKind>,
    /// The conversations each resident started in the last 24 hours.
    started: ConversationQuota,
    /// The changes and bytes each resident wrote in the last 24 hours.
    written: WriteQuota,
}

impl TrustValidator {
    /// `public`: the documents everyone reads, with their kind.
    pub fn new(identities: Arc<dyn Identities>, public: HashMap<DocumentId, DocKind>) -> Self {
        Self {
            identities,
            public,
            started: ConversationQuota::default(),
            written: WriteQuota::default(),
        }
    }
}

/// The municipality's and its villages' documents.
pub(crate) fn public_documents(
    municipality: &crate::db::Municipality,
) -> HashMap<DocumentId, DocKind> {
    std::iter::once((municipality.doc, DocKind::Municipality))
        .chain(
            municipality
                .villages
                .iter()
                .map(|v| (v.doc, DocKind::Village)),
        )
        .collect()
}

fn refuse(reason: impl Into<String>) -> Rejection {
    Rejection::new(reason)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn parse_kind(value: Option<(Value<'_>, ObjId)>) -> Option<DocKind> {
    let (Value::Scalar(s), _) = value? else {
        return None;
    };
    let ScalarValue::Str(s) = s.as_ref() else {
        return None;
    };
    DocKind::from_name(s)
}

fn root_str(doc: &Automerge, key: &str) -> Option<String> {
    match doc.get(ROOT, key).ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

fn is_participant(doc: &Automerge, user: &UserId) -> bool {
    match doc.get(ROOT, "participants") {
        Ok(Some((Value::Object(_), participants))) => {
            matches!(doc.get(&participants, user.as_str()), Ok(Some(_)))
        }
        _ => false,
    }
}

/// Associations in the municipality document `doc` that were not there at `before`.
fn new_associations(
    doc: &Automerge,
    before: &[ChangeHash],
    after: &[ChangeHash],
) -> Vec<AssociationId> {
    let Ok(Some((Value::Object(_), associations))) = doc.get_at(ROOT, "associations", after) else {
        return Vec::new();
    };
    let old: HashSet<String> = doc.keys_at(&associations, before).collect();
    doc.keys_at(&associations, after)
        .filter(|key| !old.contains(key))
        .filter_map(|key| AssociationId::new(key).ok())
        .collect()
}

impl ChangeValidator for TrustValidator {
    fn validate(&self, incoming: &Incoming<'_>) -> Result<(), Rejection> {
        let Some(sender) = incoming.principal.user() else {
            return Err(refuse("anonymous peers may not write: sign in first"));
        };
        let doc = incoming.doc;
        let changes = incoming.changes();
        let now = now_ms();
        let settled = match self.public.get(&incoming.document_id) {
            Some(kind) => FirstChanges {
                kind: *kind,
                heads: incoming.before.to_vec(),
                exempt: HashSet::new(),
            },
            None if incoming.before.is_empty() => {
                let first = first_changes(incoming.document_id, doc, &changes, sender)?;
                if first.kind == DocKind::Conversation {
                    self.started.check(sender, now, false)?;
                }
                first
            }
            None => {
                let kind = parse_kind(
                    doc.get_at(ROOT, model::schema::KEY_KIND, incoming.before)
                        .ok()
                        .flatten(),
                );
                match kind {
                    Some(kind @ (DocKind::Conversation | DocKind::Inbox)) => FirstChanges {
                        kind,
                        heads: incoming.before.to_vec(),
                        exempt: HashSet::new(),
                    },
                    _ => return Err(refuse("the server keeps no such document")),
                }
            }
        };
        for change in &changes {
            if settled.exempt.contains(&change.hash()) {
                continue;
            }
            if self.identities.actor_owner(change.actor_id()).as_ref() != Some(sender) {
                return Err(refuse(format!(
                    "its actor {} is not registered to {sender}",
                    change.actor_id()
                ))
                .of_change(change.hash()));
            }
        }
        let user = self.identities.user(sender);
        let verdict = match incoming.sent {
            // A message among others applied together (never a new document's first).
            Some(sent) => model::validate_incoming_changes(
                doc,
                incoming.before,
                sent,
                settled.kind,
                &user,
                now,
            ),
            None => model::validate_incoming(doc, &settled.heads, settled.kind, &user, now),
        };
        verdict.map_err(|violation| refuse(violation.to_string()).of_change(violation.change))?;
        let counted = changes
            .iter()
            .filter(|c| !settled.exempt.contains(&c.hash()));
        let (count, bytes) =
            counted.fold((0, 0), |(n, b), c| (n + 1, b + c.raw_bytes().len() as u64));
        self.written.spend(sender, now, count, bytes)?;
        if incoming.before.is_empty() && settled.kind == DocKind::Conversation {
            self.started.check(sender, now, true)?;
        }
        if settled.kind == DocKind::Municipality {
            for association in new_associations(doc, incoming.before, incoming.after) {
                self.identities.association_registered(&association, sender);
            }
        }
        Ok(())
    }

    fn access(&self, document_id: DocumentId, doc: &Automerge, principal: &Principal) -> Access {
        if self.public.contains_key(&document_id) {
            return Access::Read;
        }
        let Some(user) = principal.user() else {
            return Access::None;
        };
        match parse_kind(doc.get(ROOT, model::schema::KEY_KIND).ok().flatten()) {
            Some(DocKind::Conversation) if is_participant(doc, user) => Access::Read,
            Some(DocKind::Inbox) => match root_str(doc, "owner") {
                Some(owner) if owner == user.as_str() => Access::Read,
                Some(owner) if document_id == inbox_document_id(&owner) => Access::WriteOnly,
                _ => Access::None,
            },
            _ => Access::None,
        }
    }

    fn writer_view(&self, _document_id: DocumentId, doc: &Automerge) -> Automerge {
        root_str(doc, "owner")
            .and_then(|owner| UserId::new(owner).ok())
            .map(|owner| InboxDoc::new(&owner).into_automerge())
            .unwrap_or_default()
    }
}
