//! Board operations on a village document: posting, commenting, reacting.

use automerge::ObjType;
use automerge::transaction::Transactable;

use crate::doc::VillageDoc;
use crate::error::{OpError, check_text};
use crate::ids::{BoardPostId, CommentId};
use crate::permission::{Action, Path};
use crate::read::get_str;
use crate::schema::{Reaction, limits};
use crate::user::User;

impl VillageDoc {
    /// Posts on the village board.
    pub fn post(
        &mut self,
        user: &User,
        id: &BoardPostId,
        body: &str,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("body", body, limits::BODY, true)?;
        let coll = self.root_map("board")?;
        self.absent(&coll, id.as_str(), "board post")?;
        let path = Path::new(["board", id.as_str()]);
        self.create_child(user, &coll, &path, now, |tx, o| {
            tx.put(o, "body", body.trim())?;
            tx.put_object(o, "comments", ObjType::Map)?;
            tx.put_object(o, "reactions", ObjType::Map)?;
            Ok(())
        })
    }

    /// Comments on a board post.
    pub fn comment(
        &mut self,
        user: &User,
        post: &BoardPostId,
        id: &CommentId,
        body: &str,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("body", body, limits::SHORT_BODY, true)?;
        let o = self.find("board", post.as_str(), "board post")?;
        self.visible(&o, "board post")?;
        let comments = self.child_map(&o, "comments", "comments", post.as_str())?;
        self.absent(&comments, id.as_str(), "comment")?;
        let path = Path::new(["board", post.as_str(), "comments", id.as_str()]);
        self.create_child(user, &comments, &path, now, |tx, c| {
            tx.put(c, "body", body.trim())?;
            Ok(())
        })
    }

    /// Sets the user's reaction on a board post (one per user; `None` removes it).
    pub fn react(
        &mut self,
        user: &User,
        post: &BoardPostId,
        reaction: Option<Reaction>,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        let o = self.find("board", post.as_str(), "board post")?;
        self.visible(&o, "board post")?;
        let reactions = self.child_map(&o, "reactions", "reactions", post.as_str())?;
        let path = Path::new(["board", post.as_str(), "reactions", user.id.as_str()]);
        let current = get_str(&self.am, &reactions, user.id.as_str());
        match reaction {
            Some(r) => {
                if current.as_deref() == Some(r.as_str()) {
                    return Ok(());
                }
                let action = if current.is_some() {
                    Action::Change
                } else {
                    Action::Create
                };
                self.may(user, action, &path, Some(r.as_str()))?;
                self.write(now, |tx| tx.put(&reactions, user.id.as_str(), r.as_str()))
            }
            None => {
                if current.is_none() {
                    return Ok(());
                }
                self.may(user, Action::Delete, &path, None)?;
                self.write(now, |tx| tx.delete(&reactions, user.id.as_str()))
            }
        }
    }
}
