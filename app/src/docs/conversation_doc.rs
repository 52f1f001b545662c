//! The bridge between conversation and inbox documents and `model`'s typed
//! [`ConversationDoc`] and [`InboxDoc`]: reads hydrate views, writes run model operations in
//! place; the twin of [`crate::docs::village_doc`].

use crate::docs::village_doc::EditError;
use crate::repo::DocHandle;
use crate::repo::Repo;
use automerge::Automerge;
use automerge::ROOT;
use automerge::ReadDoc;
use automerge::Value;
use model::ConversationDoc;
use model::DocKind;
use model::InboxDoc;
use model::OpError;
use model::SCHEMA_VERSION;
use model::SchemaError;
use model::UserId;
use model::inbox_document_id;
use model::schema_version_of;
use sync::DocumentId;

/// `automerge:<id>` of a conversation id from an inbox, if it is a document id.
pub fn conversation_url(id: &str) -> Option<String> {
    id.parse::<DocumentId>().ok().map(|d| d.to_url())
}

/// Whether the document holds a `kind` document this app version can read.
pub fn is_loaded(am: &Automerge, kind: DocKind) -> bool {
    let version = schema_version_of(am);
    let found = match am.get(ROOT, model::schema::KEY_KIND) {
        Ok(Some((Value::Scalar(s), _))) => s.as_str().map(str::to_owned),
        _ => None,
    };
    version > 0 && version <= SCHEMA_VERSION && found.as_deref() == Some(kind.as_str())
}

/// Reads a typed document (a copy: conversations and inboxes are small); `None` until it has
/// arrived.
pub fn read_as<D, R>(
    am: &Automerge,
    kind: DocKind,
    wrap: fn(Automerge) -> Result<D, SchemaError>,
    f: impl FnOnce(&D) -> R,
) -> Option<R> {
    if !is_loaded(am, kind) {
        return None;
    }
    wrap(am.clone()).ok().map(|d| f(&d))
}

/// Runs a model operation on a typed document in place; nothing is written when it fails.
pub fn edit_as<D, R>(
    am: &mut Automerge,
    kind: DocKind,
    wrap: fn(Automerge) -> Result<D, SchemaError>,
    unwrap: fn(D) -> Automerge,
    op: impl FnOnce(&mut D) -> Result<R, OpError>,
) -> Result<R, EditError> {
    if schema_version_of(am) == 0 {
        return Err(EditError::NotLoaded);
    }
    if !is_loaded(am, kind) {
        return Err(EditError::Unsupported);
    }
    // Checked above, so wrapping cannot fail and lose the document.
    let mut doc = wrap(std::mem::take(am)).map_err(|_| EditError::Unsupported)?;
    let result = op(&mut doc);
    *am = unwrap(doc);
    Ok(result?)
}

pub fn read_conversation<R>(am: &Automerge, f: impl FnOnce(&ConversationDoc) -> R) -> Option<R> {
    read_as(
        am,
        DocKind::Conversation,
        ConversationDoc::from_automerge,
        f,
    )
}

pub fn edit_conversation(
    am: &mut Automerge,
    op: impl FnOnce(&mut ConversationDoc) -> Result<(), OpError>,
) -> Result<(), EditError> {
    edit_as(
        am,
        DocKind::Conversation,
        ConversationDoc::from_automerge,
        ConversationDoc::into_automerge,
        op,
    )
}

pub fn edit_inbox<R>(
    am: &mut Automerge,
    op: impl FnOnce(&mut InboxDoc) -> Result<R, OpError>,
) -> Result<R, EditError> {
    edit_as(
        am,
        DocKind::Inbox,
        InboxDoc::from_automerge,
        InboxDoc::into_automerge,
        op,
    )
}

/// Opens `owner`'s inbox on this device, making its first changes if it has not got them.
pub async fn open_inbox(repo: &Repo, owner: &UserId) -> Option<DocHandle> {
    let initial = InboxDoc::new(owner).into_automerge();
    // A storage failure leaves the inbox open in memory (and shows in the status bar).
    let _ = repo
        .create(inbox_document_id(owner.as_str()), initial)
        .await;
    repo.find(&inbox_document_id(owner.as_str()).to_url())
        .await
        .ok()
}

#[cfg(test)]
mod tests {
    use automerge::Automerge;
    use model::{MessageId, OpError, User};
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn inbox_ids_are_derived_from_the_user_alone() {
        assert_eq!(inbox_document_id("anna"), inbox_document_id("anna"));
        assert_ne!(inbox_document_id("anna"), inbox_document_id("bert"));
        // The derivation is a contract (the server finds inboxes the same way): pin it.
        let digest = Sha256::digest(b"dorpskracht:inbox:anna");
        assert_eq!(inbox_document_id("anna").as_bytes()[..], digest[..16]);
    }

    #[test]
    fn conversations_and_inboxes_are_edited_in_place_and_refuse_other_kinds() {
        let anna = User::resident(UserId::new("anna").unwrap());
        let mut am = ConversationDoc::new(
            &anna,
            &[UserId::new("bert").unwrap()],
            automerge::ActorId::random(),
            1,
        )
        .into_automerge();
        let id = MessageId::new("m1").unwrap();
        edit_conversation(&mut am, |c| c.send_message(&anna, &id, "Hoi", 2)).unwrap();
        assert_eq!(read_conversation(&am, |c| c.messages().len()), Some(1));
        let heads = am.get_heads();
        let err = edit_conversation(&mut am, |c| c.send_message(&anna, &id, "  ", 3));
        assert!(matches!(err, Err(EditError::Op(OpError::EmptyText { .. }))));
        assert_eq!(am.get_heads(), heads);
        // An inbox is not a conversation, and nothing has arrived in an empty document.
        let mut inbox = InboxDoc::new(&anna.id).into_automerge();
        assert_eq!(
            edit_conversation(&mut inbox, |c| c.send_message(&anna, &id, "x", 3)),
            Err(EditError::Unsupported)
        );
        let mut empty = Automerge::new();
        assert_eq!(
            edit_inbox(&mut empty, |d| d.owner().ok_or(OpError::OwnPost)),
            Err(EditError::NotLoaded)
        );
    }
}
