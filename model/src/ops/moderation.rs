//! Moderation of a village document: the broker hides an object (or shows it again), and every
//! such decision stays on record in the object's moderation log.

use automerge::ObjType;
use automerge::transaction::Transactable;

use crate::doc::{VillageDoc, new_object};
use crate::error::{OpError, check_text};
use crate::ids::{BoardPostId, CommentId, EventId, HelpPostId, InitiativeId, ResponseId, UserId};
use crate::permission::{Action, Path};
use crate::read::{Reader, get_i64, get_obj, get_str, has_key, keys};
use crate::schema::{MODERATION_LOG, limits};
use crate::user::User;

/// What a broker can hide (or show again) for moderation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModerationTarget {
    /// A help post.
    HelpPost(HelpPostId),
    /// A response to a help post.
    Response(HelpPostId, ResponseId),
    /// An initiative.
    Initiative(InitiativeId),
    /// An event.
    Event(EventId),
    /// A board post.
    BoardPost(BoardPostId),
    /// A comment on a board post.
    Comment(BoardPostId, CommentId),
}

impl ModerationTarget {
    fn path(&self) -> Path {
        match self {
            ModerationTarget::HelpPost(p) => Path::new(["help_posts", p.as_str()]),
            ModerationTarget::Response(p, r) => {
                Path::new(["help_posts", p.as_str(), "responses", r.as_str()])
            }
            ModerationTarget::Initiative(i) => Path::new(["initiatives", i.as_str()]),
            ModerationTarget::Event(e) => Path::new(["events", e.as_str()]),
            ModerationTarget::BoardPost(b) => Path::new(["board", b.as_str()]),
            ModerationTarget::Comment(b, c) => {
                Path::new(["board", b.as_str(), "comments", c.as_str()])
            }
        }
    }
}

/// A log entry's key: its time (zero-padded, so keys sort by time) and its author.
fn moderation_entry_key(now: i64, user: &UserId) -> String {
    format!("{:013}-{}", now.max(0), user.as_str())
}

/// One entry of an object's moderation log (the audit trail of hiding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationEntry {
    /// The broker who hid or showed the object.
    pub by: String,
    /// When.
    pub at: i64,
    /// `true`: hidden; `false`: shown again.
    pub hidden: bool,
    /// Why, in the broker's words.
    pub reason: String,
}

impl VillageDoc {
    /// The village's broker hides something (or shows it again with `hidden = false`), saying
    /// why. The same change appends an entry to the object's moderation log
    /// (`<object>/moderation/<entry>`: who, when, hide or show, the reason), so what was hidden,
    /// by whom and why stays on record; the validator refuses a change to `hidden` without one.
    pub fn hide_for_moderation(
        &mut self,
        user: &User,
        target: &ModerationTarget,
        hidden: bool,
        reason: &str,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("reason", reason, limits::SHORT_BODY, true)?;
        let path = target.path();
        let obj = path
            .obj_at(&Reader::now(&self.am), path.len())
            .ok_or_else(|| OpError::NotFound {
                what: "object to moderate",
                id: path.to_string(),
            })?;
        let action = if has_key(&self.am, &obj, "hidden") {
            Action::Change
        } else {
            Action::Create
        };
        self.may(user, action, &path.child("hidden"), None)?;
        let log = get_obj(&self.am, &obj, MODERATION_LOG);
        let entry = moderation_entry_key(now, &user.id);
        let entry_path = path.child(MODERATION_LOG).child(entry.as_str());
        self.may(user, Action::Create, &entry_path, None)?;
        self.write(now, |tx| {
            tx.put(&obj, "hidden", hidden)?;
            let log = match log {
                Some(log) => log,
                None => tx.put_object(&obj, MODERATION_LOG, ObjType::Map)?,
            };
            let e = new_object(tx, &log, &entry, user.id.as_str(), now)?;
            tx.put(&e, "action", if hidden { "hide" } else { "show" })?;
            tx.put(&e, "reason", reason)?;
            Ok(())
        })
    }

    /// The moderation log of one object, oldest first.
    pub fn moderation_log(&self, target: &ModerationTarget) -> Vec<ModerationEntry> {
        let path = target.path();
        let reader = Reader::now(&self.am);
        let Some(log) = path
            .obj_at(&reader, path.len())
            .and_then(|o| get_obj(&self.am, &o, MODERATION_LOG))
        else {
            return Vec::new();
        };
        let mut entries: Vec<ModerationEntry> = keys(&self.am, &log)
            .into_iter()
            .filter_map(|k| {
                let e = get_obj(&self.am, &log, &k)?;
                Some(ModerationEntry {
                    by: get_str(&self.am, &e, "author")?,
                    at: get_i64(&self.am, &e, "created_at")?,
                    hidden: get_str(&self.am, &e, "action")? == "hide",
                    reason: get_str(&self.am, &e, "reason").unwrap_or_default(),
                })
            })
            .collect();
        entries.sort_by(|a, b| (a.at, &a.by).cmp(&(b.at, &b.by)));
        entries
    }
}
