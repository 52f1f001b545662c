//! Views of a conversation: its participants, subject and messages.

use automerge::ObjId;

use super::shared::each;
use crate::doc::ConversationDoc;
use crate::read::{get_i64, get_obj, get_str, keys};

/// A message in a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    /// Its id.
    pub id: String,
    /// Who sent it.
    pub author: String,
    /// When.
    pub created_at: i64,
    /// Text.
    pub body: String,
}

impl ConversationDoc {
    /// The participants, sorted.
    pub fn participants(&self) -> Vec<String> {
        get_obj(&self.am, &ObjId::Root, "participants")
            .map(|p| keys(&self.am, &p))
            .unwrap_or_default()
    }

    /// What the conversation is about; empty when it has no subject.
    pub fn subject(&self) -> String {
        get_str(&self.am, &ObjId::Root, "subject").unwrap_or_default()
    }

    /// Whether `user` may read this conversation (only its participants may).
    pub fn can_read(&self, user: &str) -> bool {
        self.participants().iter().any(|p| p == user)
    }

    /// The messages, oldest first.
    pub fn messages(&self) -> Vec<MessageView> {
        let d = &self.am;
        let mut v = each(d, "messages", |key, o| {
            Some(MessageView {
                id: key.to_owned(),
                author: get_str(d, o, "author").unwrap_or_default(),
                created_at: get_i64(d, o, "created_at").unwrap_or_default(),
                body: get_str(d, o, "body").unwrap_or_default(),
            })
        });
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        v
    }
}
