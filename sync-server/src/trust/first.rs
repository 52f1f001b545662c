//! A new document's first changes: an inbox exactly as every device derives it, or a
//! conversation exactly as `ConversationDoc::with_subject` makes it for its sender, with at
//! most [`limits::MAX_PARTICIPANTS`] participants.

use std::collections::HashSet;

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{ActorId, Automerge, Change, ChangeHash, ObjType, ROOT, ReadDoc, ScalarValue};
use model::schema::limits;
use model::{ConversationDoc, DocKind, INBOX_ACTOR, InboxDoc, User, UserId, inbox_document_id};
use sync::DocumentId;

use super::{parse_kind, refuse, root_str};
use crate::validate::Rejection;

/// What a new document's first changes settle: its kind, the heads after them (from where
/// the rules judge), and the changes exempt from actor binding.
pub(super) struct FirstChanges {
    pub(super) kind: DocKind,
    pub(super) heads: Vec<ChangeHash>,
    pub(super) exempt: HashSet<ChangeHash>,
}

/// Checks the first changes of a document new to the server (see [`TrustValidator`]).
pub(super) fn first_changes(
    document_id: DocumentId,
    doc: &Automerge,
    changes: &[Change],
    sender: &UserId,
) -> Result<FirstChanges, Rejection> {
    match parse_kind(doc.get(ROOT, model::schema::KEY_KIND).ok().flatten()) {
        Some(DocKind::Conversation) => first_conversation_changes(doc, changes, sender),
        Some(DocKind::Inbox) => {
            let owner = root_str(doc, "owner")
                .and_then(|o| UserId::new(o).ok())
                .ok_or_else(|| refuse("a new inbox names its owner"))?;
            if document_id != inbox_document_id(owner.as_str()) {
                return Err(refuse("an inbox lives under its owner's inbox document id"));
            }
            let expected = InboxDoc::new(&owner);
            let genesis: HashSet<ChangeHash> = expected
                .changes_since(&[])
                .iter()
                .map(Change::hash)
                .collect();
            let incoming: HashSet<ChangeHash> = changes.iter().map(Change::hash).collect();
            let inbox_actor = ActorId::from(INBOX_ACTOR.as_slice());
            let forged = changes
                .iter()
                .any(|c| *c.actor_id() == inbox_actor && !genesis.contains(&c.hash()));
            if !genesis.is_subset(&incoming) || forged {
                return Err(refuse(
                    "a new inbox starts with exactly the first changes derived from its owner",
                ));
            }
            Ok(FirstChanges {
                kind: DocKind::Inbox,
                heads: expected.heads(),
                exempt: genesis,
            })
        }
        _ => Err(refuse(
            "a new document must be a conversation or an inbox (the public ones exist already)",
        )),
    }
}

/// A new conversation's first two changes must be exactly what
/// [`ConversationDoc::with_subject`] makes with the sender as creator: the schema, then the
/// participants (the creator first) and the subject.
fn first_conversation_changes(
    doc: &Automerge,
    changes: &[Change],
    sender: &UserId,
) -> Result<FirstChanges, Rejection> {
    let bad = || {
        refuse("a new conversation starts with exactly the changes the model makes for its creator")
    };
    let kind_op = match doc.get(ROOT, model::schema::KEY_KIND) {
        Ok(Some((_, id))) => id,
        _ => return Err(bad()),
    };
    let first_hash = doc.hash_for_opid(&kind_op).ok_or_else(bad)?;
    let first = changes
        .iter()
        .find(|c| c.hash() == first_hash)
        .ok_or_else(bad)?;
    let mut seconds = changes
        .iter()
        .filter(|c| c.actor_id() == first.actor_id() && c.seq() == 2 && c.deps() == [first_hash]);
    let (Some(second), None) = (seconds.next(), seconds.next()) else {
        return Err(bad());
    };
    // The participants in the order they were written, and the subject.
    let mut participants = Vec::new();
    let mut subject = String::new();
    for op in second.decode().operations {
        match (&op.obj, &op.key, &op.action) {
            (ObjectId::Root, Key::Map(k), OpType::Put(ScalarValue::Str(s))) if k == "subject" => {
                subject = s.to_string();
            }
            (ObjectId::Id(_), Key::Map(k), OpType::Make(ObjType::Map)) => {
                participants.push(UserId::new(k.to_string()).map_err(|_| bad())?);
            }
            _ => {}
        }
    }
    let Some((creator, others)) = participants.split_first() else {
        return Err(bad());
    };
    if participants.len() > limits::MAX_PARTICIPANTS {
        return Err(refuse(format!(
            "a conversation has at most {} participants",
            limits::MAX_PARTICIPANTS
        )));
    }
    if creator != sender {
        return Err(refuse(
            "a new conversation is created by its first participant",
        ));
    }
    let expected = ConversationDoc::with_subject(
        &User::resident(creator.clone()),
        others,
        &subject,
        first.actor_id().clone(),
        first.timestamp(),
    )
    .map_err(|_| bad())?;
    let expected: Vec<ChangeHash> = expected
        .changes_since(&[])
        .iter()
        .map(Change::hash)
        .collect();
    if expected != [first_hash, second.hash()] {
        return Err(bad());
    }
    Ok(FirstChanges {
        kind: DocKind::Conversation,
        heads: vec![second.hash()],
        exempt: HashSet::new(),
    })
}
