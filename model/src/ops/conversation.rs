//! Conversation operations: a participant sends a message or adds another resident.

use automerge::ObjType;
use automerge::transaction::Transactable;

use crate::doc::ConversationDoc;
use crate::error::{OpError, check_text};
use crate::ids::{MessageId, UserId};
use crate::permission::{Action, Path};
use crate::schema::limits;
use crate::user::User;

impl ConversationDoc {
    /// A participant sends a message.
    pub fn send_message(
        &mut self,
        user: &User,
        id: &MessageId,
        body: &str,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("body", body, limits::SHORT_BODY, true)?;
        let coll = self.root_map("messages")?;
        self.absent(&coll, id.as_str(), "message")?;
        let path = Path::new(["messages", id.as_str()]);
        self.create_child(user, &coll, &path, now, |tx, m| {
            tx.put(m, "body", body.trim())?;
            Ok(())
        })
    }

    /// A participant adds another resident to the conversation.
    pub fn add_participant(
        &mut self,
        user: &User,
        participant: &UserId,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        let coll = self.root_map("participants")?;
        self.absent(&coll, participant.as_str(), "participant")?;
        self.may(
            user,
            Action::Create,
            &Path::new(["participants", participant.as_str()]),
            None,
        )?;
        self.write(now, |tx| {
            let p = tx.put_object(&coll, participant.as_str(), ObjType::Map)?;
            tx.put(&p, "added_by", user.id.as_str())?;
            tx.put(&p, "created_at", now)?;
            Ok(())
        })
    }
}
