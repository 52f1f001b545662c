//! A resident's inbox: how a recipient learns that a conversation exists.
//!
//! Every resident has one [`InboxDoc`]. Its document id is derived from the owner's user id
//! ([`inbox_document_id`], the one copy the app and the server both call), and its first changes are derived from the owner alone
//! ([`InboxDoc::new`]: the fixed actor [`INBOX_ACTOR`], time 0), so a sender and the recipient
//! can both create the same inbox offline and their copies still merge into one document.
//!
//! Layout: root `owner` (written once, in those first changes), `entries/<conversation>` (a map
//! with `author` and `created_at`: anyone may add one, nobody changes it, the owner may remove
//! it) and `read/<conversation>` (the time the owner last read it; only the owner writes).
//! Only the owner may read an inbox; enforcing that is the server's job (see ARCHITECTURE).

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjId, ReadDoc};
use sha2::{Digest, Sha256};
use sync::DocumentId;

use crate::doc::InboxDoc;
use crate::error::OpError;
use crate::ids::{ConversationId, UserId};
use crate::migration::migrate;
use crate::permission::{Action, Path};
use crate::read::{Fields, get_i64, get_obj, get_str, has_key};
use crate::schema::DocKind;
use crate::user::User;

/// The actor of every inbox's first changes. Nobody writes with it afterwards: a device that
/// opens an inbox merges these changes into a document with its own actor.
pub const INBOX_ACTOR: &[u8; 16] = b"dorpskracht-inbx";

/// The id of `user`'s inbox document: the first 16 bytes of SHA-256 of
/// `"dorpskracht:inbox:" + user`. Every device derives the same one.
pub fn inbox_document_id(user: &str) -> DocumentId {
    let digest = Sha256::digest(format!("dorpskracht:inbox:{user}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    DocumentId::from_bytes(bytes)
}

/// A conversation in an inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEntryView {
    /// The conversation's document id.
    pub conversation: String,
    /// Who added it.
    pub added_by: String,
    /// When.
    pub added_at: i64,
    /// When the owner last read it, if ever.
    pub read_at: Option<i64>,
}

impl InboxDoc {
    /// The inbox of `owner`, exactly as every device makes it: the same bytes, the same change
    /// hashes. Merge its changes into a document with another actor before writing to it.
    pub fn new(owner: &UserId) -> InboxDoc {
        let mut am = Automerge::new().with_actor(ActorId::from(INBOX_ACTOR.as_slice()));
        migrate(&mut am, DocKind::Inbox, 0).expect("a new document migrates");
        let mut doc = InboxDoc { am };
        doc.write(0, |tx| tx.put(ObjId::Root, "owner", owner.as_str()))
            .expect("writing the root of a new document");
        doc
    }

    /// Whose inbox this is.
    pub fn owner(&self) -> Option<String> {
        get_str(&self.am, &ObjId::Root, "owner")
    }

    /// Adds `conversation` to the inbox on behalf of `user` (anyone may: the sender adds it
    /// to the recipients' inboxes and to their own). Returns whether it was new; adding one
    /// that is already there writes nothing.
    pub fn add_conversation(
        &mut self,
        user: &User,
        conversation: &ConversationId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.writable()?;
        let coll = self.root_map("entries")?;
        if has_key(&self.am, &coll, conversation.as_str()) {
            return Ok(false);
        }
        let path = Path::new(["entries", conversation.as_str()]);
        self.create_child(user, &coll, &path, now, |_, _| Ok(()))?;
        Ok(true)
    }

    /// The owner removes `conversation` from their inbox (its entry and read mark), making
    /// room under the inbox's limits ([`crate::schema::limits::MAX_INBOX_ENTRIES`], and the
    /// per-sender one for whoever added it). Returns whether there was one.
    pub fn remove_conversation(
        &mut self,
        user: &User,
        conversation: &ConversationId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.writable()?;
        let coll = self.root_map("entries")?;
        if !has_key(&self.am, &coll, conversation.as_str()) {
            return Ok(false);
        }
        self.may(
            user,
            Action::Delete,
            &Path::new(["entries", conversation.as_str()]),
            None,
        )?;
        let read = self.root_map("read")?;
        let marked = has_key(&self.am, &read, conversation.as_str());
        self.write(now, |tx| {
            tx.delete(&coll, conversation.as_str())?;
            if marked {
                tx.delete(&read, conversation.as_str())?;
            }
            Ok(())
        })?;
        Ok(true)
    }

    /// The owner read `conversation` up to `at`. Only moves forward: an earlier `at` than the
    /// one stored writes nothing.
    pub fn mark_read(
        &mut self,
        user: &User,
        conversation: &ConversationId,
        at: i64,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        let coll = self.root_map("read")?;
        let stored = get_i64(&self.am, &coll, conversation.as_str());
        let action = if stored.is_some() {
            Action::Change
        } else {
            Action::Create
        };
        self.may(
            user,
            action,
            &Path::new(["read", conversation.as_str()]),
            None,
        )?;
        if stored.is_some_and(|s| s >= at) {
            return Ok(());
        }
        self.write(now, |tx| tx.put(&coll, conversation.as_str(), at))
    }

    /// The conversations, most recently added first (ties by id).
    pub fn conversations(&self) -> Vec<InboxEntryView> {
        let d = &self.am;
        let Some(entries) = get_obj(d, &ObjId::Root, "entries") else {
            return Vec::new();
        };
        let read = get_obj(d, &ObjId::Root, "read");
        let mut v: Vec<InboxEntryView> = d
            .map_range(&entries, ..)
            .filter(|it| matches!(it.value, automerge::ValueRef::Object(_)))
            .map(|it| {
                let f = Fields::read(d, &it.id());
                InboxEntryView {
                    conversation: it.key.to_string(),
                    added_by: f.string("author"),
                    added_at: f.i64("created_at").unwrap_or_default(),
                    read_at: read.as_ref().and_then(|r| get_i64(d, r, &it.key)),
                }
            })
            .collect();
        v.sort_by(|a, b| {
            b.added_at
                .cmp(&a.added_at)
                .then_with(|| a.conversation.cmp(&b.conversation))
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_ids_are_pinned_and_differ_per_user() {
        // Pinned: changing the derivation would orphan every inbox already stored.
        let id = inbox_document_id("u-1");
        assert_eq!(id.to_string(), "4YwtTVr58KPDxtdHqCF7G7g67Enc");
        assert_eq!(
            id.as_bytes(),
            &[
                0xfe, 0xdf, 0x4b, 0xaf, 0xda, 0x6d, 0xd9, 0x41, 0x07, 0xd1, 0x9a, 0x0a, 0x8e, 0x1b,
                0x13, 0xa3
            ]
        );
        assert_eq!(inbox_document_id("u-1"), id);
        assert_ne!(inbox_document_id("u-2"), id);
    }
}
