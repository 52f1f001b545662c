//! Help operations on a village document: posting a request or offer, editing it, responding,
//! accepting a response, marking it done, withdrawing it.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ReadDoc};

use super::checks::check_window;
use crate::doc::VillageDoc;
use crate::error::{OpError, check_text};
use crate::ids::{HelpPostId, ResponseId};
use crate::permission::{Action, Path};
use crate::read::{get_bool, get_i64, get_obj, get_str};
use crate::schema::{HelpCategory, HelpKind, HelpStatus, limits};
use crate::user::User;
use crate::views::{TimeWindow, help_status};

/// What a resident fills in to post a help request or offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpDraft {
    /// Category.
    pub category: HelpCategory,
    /// Short title (required, at most [`limits::TITLE`] characters).
    pub title: String,
    /// Description (optional, at most [`limits::BODY`]).
    pub description: String,
    /// When; `None` is any time.
    pub when: Option<TimeWindow>,
}

impl HelpDraft {
    fn check(&self) -> Result<(), OpError> {
        check_text("title", &self.title, limits::TITLE, true)?;
        check_text("description", &self.description, limits::BODY, false)?;
        if let Some(w) = &self.when {
            check_window(w)?;
        }
        Ok(())
    }
}

/// `WrongStatus` unless the help post is in one of `allowed`.
fn check_status(status: HelpStatus, allowed: &[HelpStatus]) -> Result<(), OpError> {
    if allowed.contains(&status) {
        Ok(())
    } else {
        Err(OpError::WrongStatus {
            what: "help post",
            status: status.as_str(),
        })
    }
}

impl VillageDoc {
    /// Posts a help request (hulpvraag).
    pub fn post_help_request(
        &mut self,
        user: &User,
        id: &HelpPostId,
        draft: &HelpDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.post_help(user, id, HelpKind::Request, draft, now)
    }

    /// Posts a help offer (hulpaanbod).
    pub fn post_help_offer(
        &mut self,
        user: &User,
        id: &HelpPostId,
        draft: &HelpDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.post_help(user, id, HelpKind::Offer, draft, now)
    }

    fn post_help(
        &mut self,
        user: &User,
        id: &HelpPostId,
        kind: HelpKind,
        draft: &HelpDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        draft.check()?;
        let posts = self.root_map("help_posts")?;
        self.absent(&posts, id.as_str(), "help post")?;
        let path = Path::new(["help_posts", id.as_str()]);
        self.create_child(user, &posts, &path, now, |tx, o| {
            tx.put(o, "kind", kind.as_str())?;
            tx.put(o, "category", draft.category.as_str())?;
            tx.put(o, "title", draft.title.trim())?;
            tx.put(o, "description", draft.description.trim())?;
            if let Some(w) = &draft.when {
                tx.put(o, "when_start", w.start)?;
                tx.put(o, "when_end", w.end)?;
            }
            tx.put_object(o, "responses", ObjType::Map)?;
            Ok(())
        })
    }

    /// Edits an open help post's title, description, category and time (its author only).
    pub fn edit_help_post(
        &mut self,
        user: &User,
        id: &HelpPostId,
        draft: &HelpDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        draft.check()?;
        let o = self.find("help_posts", id.as_str(), "help post")?;
        self.may(
            user,
            Action::Change,
            &Path::new(["help_posts", id.as_str(), "title"]),
            None,
        )?;
        check_status(help_status(&self.am, &o), &[HelpStatus::Open])?;
        let d = &self.am;
        let same_when = draft.when.map(|w| (w.start, w.end))
            == get_i64(d, &o, "when_start").zip(get_i64(d, &o, "when_end"));
        let old = (
            get_str(d, &o, "title"),
            get_str(d, &o, "description"),
            get_str(d, &o, "category"),
        );
        self.write(now, |tx| {
            // Only what changed is written, so concurrent edits of other fields survive.
            if old.0.as_deref() != Some(draft.title.trim()) {
                tx.put(&o, "title", draft.title.trim())?;
            }
            if old.1.as_deref() != Some(draft.description.trim()) {
                tx.put(&o, "description", draft.description.trim())?;
            }
            if old.2.as_deref() != Some(draft.category.as_str()) {
                tx.put(&o, "category", draft.category.as_str())?;
            }
            if !same_when {
                match &draft.when {
                    Some(w) => {
                        tx.put(&o, "when_start", w.start)?;
                        tx.put(&o, "when_end", w.end)?;
                    }
                    None => {
                        tx.delete(&o, "when_start")?;
                        tx.delete(&o, "when_end")?;
                    }
                }
            }
            tx.put(&o, "updated_at", now)?;
            Ok(())
        })
    }

    /// Responds to an open help post ("I can help" / "I'd like that").
    pub fn respond(
        &mut self,
        user: &User,
        post: &HelpPostId,
        id: &ResponseId,
        message: &str,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("message", message, limits::SHORT_BODY, true)?;
        let o = self.find("help_posts", post.as_str(), "help post")?;
        self.visible(&o, "help post")?;
        check_status(help_status(&self.am, &o), &[HelpStatus::Open])?;
        if get_str(&self.am, &o, "author").as_deref() == Some(user.id.as_str()) {
            return Err(OpError::OwnPost);
        }
        let responses = self.child_map(&o, "responses", "responses of help post", post.as_str())?;
        self.absent(&responses, id.as_str(), "response")?;
        let mine = self
            .am
            .map_range(&responses, ..)
            .any(|it| get_str(&self.am, &it.id(), "author").as_deref() == Some(user.id.as_str()));
        if mine {
            return Err(OpError::AlreadyResponded);
        }
        let path = Path::new(["help_posts", post.as_str(), "responses", id.as_str()]);
        self.create_child(user, &responses, &path, now, |tx, r| {
            tx.put(r, "message", message.trim())?;
            Ok(())
        })
    }

    /// The post's author accepts one response: the post becomes matched.
    pub fn accept_response(
        &mut self,
        user: &User,
        post: &HelpPostId,
        response: &ResponseId,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        let o = self.find("help_posts", post.as_str(), "help post")?;
        self.may(
            user,
            Action::Create,
            &Path::new(["help_posts", post.as_str(), "accepted_response"]),
            None,
        )?;
        check_status(help_status(&self.am, &o), &[HelpStatus::Open])?;
        let exists = get_obj(&self.am, &o, "responses")
            .and_then(|r| get_obj(&self.am, &r, response.as_str()))
            .is_some_and(|r| !get_bool(&self.am, &r, "hidden"));
        if !exists {
            return Err(OpError::NotFound {
                what: "response",
                id: response.to_string(),
            });
        }
        self.write(now, |tx| {
            tx.put(&o, "accepted_response", response.as_str())?;
            tx.put(&o, "matched_at", now)?;
            Ok(())
        })
    }

    /// The post's author marks a matched post as done.
    pub fn mark_done(&mut self, user: &User, post: &HelpPostId, now: i64) -> Result<(), OpError> {
        self.help_stamp(user, post, "done_at", &[HelpStatus::Matched], now)
    }

    /// Withdraws an open or matched post (its author, or the village's broker).
    pub fn withdraw(&mut self, user: &User, post: &HelpPostId, now: i64) -> Result<(), OpError> {
        let from = [HelpStatus::Open, HelpStatus::Matched];
        self.help_stamp(user, post, "withdrawn_at", &from, now)
    }

    /// Writes the status stamp `key` (a timestamp, written once) on a post in one of `from`.
    fn help_stamp(
        &mut self,
        user: &User,
        post: &HelpPostId,
        key: &'static str,
        from: &[HelpStatus],
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        let o: ObjId = self.find("help_posts", post.as_str(), "help post")?;
        let path = Path::new(["help_posts", post.as_str(), key]);
        self.stamp(user, &o, &path, now, |d| {
            check_status(help_status(d, &o), from)
        })
    }
}
