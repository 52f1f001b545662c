//! Typed operations on a village document. Each checks its preconditions and the permission
//! table ([`crate::may`]) before writing, and writes one minimal change, so an honest app never
//! produces a change the server's validator refuses.

use automerge::transaction::{Transactable, Transaction};
use automerge::{AutomergeError, ObjId, ObjType, ReadDoc};

use crate::VillageDoc;
use crate::doc::{get_bool, get_i64, get_obj, get_str, has_key, keys};
use crate::error::OpError;
use crate::ids::{
    AssociationId, BoardPostId, CommentId, EventId, HelpPostId, InitiativeId, NeedId, ResponseId,
    UpdateId, UserId, VillageId,
};
use crate::permission::{Action, Path, may};
use crate::schema::{HelpCategory, HelpKind, HelpStatus, InitiativeStatus, check_text, limits};
use crate::user::User;
use crate::views::{TimeWindow, help_status, initiative_status};

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

/// What an initiator fills in to start an initiative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiativeDraft {
    /// Title (required).
    pub title: String,
    /// The plan, co-edited later as Automerge text.
    pub plan: String,
    /// The lead association, which the initiator must administer; `None` for residents.
    pub lead_association: Option<AssociationId>,
}

/// What an organiser fills in to create an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    /// Title (required).
    pub title: String,
    /// Description.
    pub description: String,
    /// Start and end.
    pub when: TimeWindow,
    /// Where.
    pub place: String,
    /// Volunteers asked for (0 to [`limits::MAX_VOLUNTEERS`]).
    pub volunteers_needed: u64,
    /// The organising association, which the organiser must administer.
    pub organiser: Option<AssociationId>,
}

/// A resident's volunteer profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolunteerProfile {
    /// The name neighbours see on this person's posts and responses; empty shows none.
    pub display_name: String,
    /// Categories they help with.
    pub categories: Vec<HelpCategory>,
    /// Other villages they cover.
    pub villages: Vec<VillageId>,
    /// When they are available; empty is any time.
    pub availability: Vec<TimeWindow>,
}

/// Reactions on board posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// 👍
    Like,
    /// ❤️
    Heart,
    /// 🙏
    Thanks,
}

impl Reaction {
    /// Every reaction, in the order the board shows them.
    pub const ALL: [Reaction; 3] = [Reaction::Like, Reaction::Heart, Reaction::Thanks];

    /// The reaction stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Reaction> {
        Reaction::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The string stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Reaction::Like => "like",
            Reaction::Heart => "heart",
            Reaction::Thanks => "thanks",
        }
    }
}

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

/// The key of the moderation log inside a moderated object.
pub(crate) const MODERATION_LOG: &str = "moderation";

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

/// Creates the map `parent[id]` with the fields every object has: `author` and `created_at`.
pub(crate) fn new_object(
    tx: &mut Transaction<'_>,
    parent: &ObjId,
    id: &str,
    author: &str,
    now: i64,
) -> Result<ObjId, AutomergeError> {
    // The id is the object's key; it is not stored again inside (one op less per object,
    // which is most of what loading a large village costs).
    let obj = tx.put_object(parent, id, ObjType::Map)?;
    tx.put(&obj, "author", author)?;
    tx.put(&obj, "created_at", now)?;
    Ok(obj)
}

fn check_window(w: &TimeWindow) -> Result<(), OpError> {
    if w.end < w.start {
        Err(OpError::BadTimeWindow {
            start: w.start,
            end: w.end,
        })
    } else {
        Ok(())
    }
}

fn check_admin(user: &User, a: &Option<AssociationId>, path: &Path) -> Result<(), OpError> {
    match a {
        Some(a) if !user.is_admin_of(a) => Err(OpError::Denied(crate::Denied {
            user: user.id.to_string(),
            action: Action::Create,
            path: path.clone(),
            reason: crate::DenyReason::NotAllowed {
                rule: "only an admin of an association may act on its behalf",
            },
        })),
        _ => Ok(()),
    }
}

impl VillageDoc {
    fn may(
        &self,
        user: &User,
        action: Action,
        path: &Path,
        value: Option<&str>,
    ) -> Result<(), OpError> {
        may(user, Self::KIND, action, path, value, &self.am)?;
        Ok(())
    }

    /// The object `root/id`, or `NotFound`.
    fn find(&self, root: &str, id: &str, what: &'static str) -> Result<ObjId, OpError> {
        get_obj(&self.am, &self.root_map(root)?, id).ok_or_else(|| OpError::NotFound {
            what,
            id: id.to_owned(),
        })
    }

    fn absent(&self, parent: &ObjId, id: &str, what: &'static str) -> Result<(), OpError> {
        if has_key(&self.am, parent, id) {
            Err(OpError::AlreadyExists {
                what,
                id: id.to_owned(),
            })
        } else {
            Ok(())
        }
    }

    fn visible(&self, obj: &ObjId, what: &'static str) -> Result<(), OpError> {
        if get_bool(&self.am, obj, "hidden") {
            Err(OpError::Hidden { what })
        } else {
            Ok(())
        }
    }

    // ---- help -------------------------------------------------------------------------------

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
        check_text("title", &draft.title, limits::TITLE, true)?;
        check_text("description", &draft.description, limits::BODY, false)?;
        if let Some(w) = &draft.when {
            check_window(w)?;
        }
        let posts = self.root_map("help_posts")?;
        self.absent(&posts, id.as_str(), "help post")?;
        self.may(
            user,
            Action::Create,
            &Path::new(["help_posts", id.as_str()]),
            None,
        )?;
        self.write(now, |tx| {
            let o = new_object(tx, &posts, id.as_str(), user.id.as_str(), now)?;
            tx.put(&o, "kind", kind.as_str())?;
            tx.put(&o, "category", draft.category.as_str())?;
            tx.put(&o, "title", draft.title.trim())?;
            tx.put(&o, "description", draft.description.trim())?;
            if let Some(w) = &draft.when {
                tx.put(&o, "when_start", w.start)?;
                tx.put(&o, "when_end", w.end)?;
            }
            tx.put_object(&o, "responses", ObjType::Map)?;
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
        check_text("title", &draft.title, limits::TITLE, true)?;
        check_text("description", &draft.description, limits::BODY, false)?;
        if let Some(w) = &draft.when {
            check_window(w)?;
        }
        let o = self.find("help_posts", id.as_str(), "help post")?;
        self.may(
            user,
            Action::Change,
            &Path::new(["help_posts", id.as_str(), "title"]),
            None,
        )?;
        let status = help_status(&self.am, &o);
        if status != HelpStatus::Open {
            return Err(OpError::WrongStatus {
                what: "help post",
                status: status.as_str(),
            });
        }
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
        let status = help_status(&self.am, &o);
        if status != HelpStatus::Open {
            return Err(OpError::WrongStatus {
                what: "help post",
                status: status.as_str(),
            });
        }
        if get_str(&self.am, &o, "author").as_deref() == Some(user.id.as_str()) {
            return Err(OpError::OwnPost);
        }
        let responses = get_obj(&self.am, &o, "responses").ok_or_else(|| OpError::NotFound {
            what: "responses of help post",
            id: post.to_string(),
        })?;
        self.absent(&responses, id.as_str(), "response")?;
        let mine = self
            .am
            .map_range(&responses, ..)
            .any(|it| get_str(&self.am, &it.id(), "author").as_deref() == Some(user.id.as_str()));
        if mine {
            return Err(OpError::AlreadyResponded);
        }
        self.may(
            user,
            Action::Create,
            &Path::new(["help_posts", post.as_str(), "responses", id.as_str()]),
            None,
        )?;
        self.write(now, |tx| {
            let r = new_object(tx, &responses, id.as_str(), user.id.as_str(), now)?;
            tx.put(&r, "message", message.trim())?;
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
        let status = help_status(&self.am, &o);
        if status != HelpStatus::Open {
            return Err(OpError::WrongStatus {
                what: "help post",
                status: status.as_str(),
            });
        }
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
        self.writable()?;
        let o = self.find("help_posts", post.as_str(), "help post")?;
        self.may(
            user,
            Action::Create,
            &Path::new(["help_posts", post.as_str(), "done_at"]),
            None,
        )?;
        let status = help_status(&self.am, &o);
        if status != HelpStatus::Matched {
            return Err(OpError::WrongStatus {
                what: "help post",
                status: status.as_str(),
            });
        }
        self.write(now, |tx| tx.put(&o, "done_at", now))
    }

    /// Withdraws an open or matched post (its author, or the village's broker).
    pub fn withdraw(&mut self, user: &User, post: &HelpPostId, now: i64) -> Result<(), OpError> {
        self.writable()?;
        let o = self.find("help_posts", post.as_str(), "help post")?;
        self.may(
            user,
            Action::Create,
            &Path::new(["help_posts", post.as_str(), "withdrawn_at"]),
            None,
        )?;
        let status = help_status(&self.am, &o);
        if !matches!(status, HelpStatus::Open | HelpStatus::Matched) {
            return Err(OpError::WrongStatus {
                what: "help post",
                status: status.as_str(),
            });
        }
        self.write(now, |tx| tx.put(&o, "withdrawn_at", now))
    }

    // ---- moderation ---------------------------------------------------------------------------

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
            .obj_at(&crate::doc::Reader::now(&self.am), path.len())
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
        let reader = crate::doc::Reader::now(&self.am);
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

    // ---- initiatives --------------------------------------------------------------------------

    /// Starts an initiative (status idea). A lead association must be one the user administers.
    pub fn create_initiative(
        &mut self,
        user: &User,
        id: &InitiativeId,
        draft: &InitiativeDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("title", &draft.title, limits::TITLE, true)?;
        check_text("plan", &draft.plan, limits::BODY, false)?;
        let coll = self.root_map("initiatives")?;
        self.absent(&coll, id.as_str(), "initiative")?;
        let path = Path::new(["initiatives", id.as_str()]);
        self.may(user, Action::Create, &path, None)?;
        check_admin(user, &draft.lead_association, &path)?;
        self.write(now, |tx| {
            let o = new_object(tx, &coll, id.as_str(), user.id.as_str(), now)?;
            tx.put(&o, "title", draft.title.trim())?;
            let lead = draft.lead_association.as_ref().map_or("", |a| a.as_str());
            tx.put(&o, "lead_association", lead)?;
            let plan = tx.put_object(&o, "plan", ObjType::Text)?;
            tx.splice_text(&plan, 0, 0, &draft.plan)?;
            tx.put_object(&o, "partners", ObjType::Map)?;
            tx.put_object(&o, "needs", ObjType::Map)?;
            tx.put_object(&o, "updates", ObjType::Map)?;
            Ok(())
        })
    }

    fn open_initiative(&self, id: &InitiativeId) -> Result<ObjId, OpError> {
        let o = self.find("initiatives", id.as_str(), "initiative")?;
        self.visible(&o, "initiative")?;
        let status = initiative_status(&self.am, &o);
        if status == InitiativeStatus::Done {
            return Err(OpError::WrongStatus {
                what: "initiative",
                status: status.as_str(),
            });
        }
        Ok(o)
    }

    /// An admin of `association` joins it to the initiative as a partner.
    pub fn join_initiative_as_partner(
        &mut self,
        user: &User,
        initiative: &InitiativeId,
        association: &AssociationId,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        let o = self.open_initiative(initiative)?;
        let path = Path::new([
            "initiatives",
            initiative.as_str(),
            "partners",
            association.as_str(),
        ]);
        self.may(user, Action::Create, &path, None)?;
        let partners = get_obj(&self.am, &o, "partners").ok_or_else(|| OpError::NotFound {
            what: "partners",
            id: initiative.to_string(),
        })?;
        if has_key(&self.am, &partners, association.as_str())
            || get_str(&self.am, &o, "lead_association").as_deref() == Some(association.as_str())
        {
            return Err(OpError::AlreadyPartner);
        }
        self.write(now, |tx| {
            let p = tx.put_object(&partners, association.as_str(), ObjType::Map)?;
            tx.put(&p, "added_by", user.id.as_str())?;
            tx.put(&p, "created_at", now)?;
            Ok(())
        })
    }

    /// Replaces the plan text, as a minimal text diff so concurrent edits merge.
    pub fn edit_plan(
        &mut self,
        user: &User,
        initiative: &InitiativeId,
        plan: &str,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("plan", plan, limits::BODY, false)?;
        let o = self.open_initiative(initiative)?;
        self.may(
            user,
            Action::Change,
            &Path::new(["initiatives", initiative.as_str(), "plan"]),
            None,
        )?;
        let text = get_obj(&self.am, &o, "plan").ok_or_else(|| OpError::NotFound {
            what: "plan",
            id: initiative.to_string(),
        })?;
        self.write(now, |tx| tx.update_text(&text, plan))
    }

    /// Adds a need ("two people with a trailer on Saturday").
    pub fn add_need(
        &mut self,
        user: &User,
        initiative: &InitiativeId,
        id: &NeedId,
        title: &str,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("title", title, limits::TITLE, true)?;
        let o = self.open_initiative(initiative)?;
        self.may(
            user,
            Action::Create,
            &Path::new(["initiatives", initiative.as_str(), "needs", id.as_str()]),
            None,
        )?;
        let needs = get_obj(&self.am, &o, "needs").ok_or_else(|| OpError::NotFound {
            what: "needs",
            id: initiative.to_string(),
        })?;
        self.absent(&needs, id.as_str(), "need")?;
        self.write(now, |tx| {
            let n = new_object(tx, &needs, id.as_str(), user.id.as_str(), now)?;
            tx.put(&n, "title", title.trim())?;
            Ok(())
        })
    }

    /// The user fills a need themselves. A need has at most one filler.
    pub fn fill_need(
        &mut self,
        user: &User,
        initiative: &InitiativeId,
        need: &NeedId,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        let o = self.open_initiative(initiative)?;
        let n = get_obj(&self.am, &o, "needs")
            .and_then(|ns| get_obj(&self.am, &ns, need.as_str()))
            .ok_or_else(|| OpError::NotFound {
                what: "need",
                id: need.to_string(),
            })?;
        if get_str(&self.am, &n, "filled_by").is_some_and(|f| !f.is_empty()) {
            return Err(OpError::NeedAlreadyFilled);
        }
        let path = Path::new([
            "initiatives",
            initiative.as_str(),
            "needs",
            need.as_str(),
            "filled_by",
        ]);
        let action = if has_key(&self.am, &n, "filled_by") {
            Action::Change
        } else {
            Action::Create
        };
        self.may(user, action, &path, Some(user.id.as_str()))?;
        self.write(now, |tx| tx.put(&n, "filled_by", user.id.as_str()))
    }

    /// Posts an update on an initiative.
    pub fn post_update(
        &mut self,
        user: &User,
        initiative: &InitiativeId,
        id: &UpdateId,
        body: &str,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("body", body, limits::BODY, true)?;
        let o = self.find("initiatives", initiative.as_str(), "initiative")?;
        self.may(
            user,
            Action::Create,
            &Path::new(["initiatives", initiative.as_str(), "updates", id.as_str()]),
            None,
        )?;
        let updates = get_obj(&self.am, &o, "updates").ok_or_else(|| OpError::NotFound {
            what: "updates",
            id: initiative.to_string(),
        })?;
        self.absent(&updates, id.as_str(), "update")?;
        self.write(now, |tx| {
            let u = new_object(tx, &updates, id.as_str(), user.id.as_str(), now)?;
            tx.put(&u, "body", body.trim())?;
            Ok(())
        })
    }

    /// Moves an initiative from idea to running.
    pub fn start_initiative(
        &mut self,
        user: &User,
        initiative: &InitiativeId,
        now: i64,
    ) -> Result<(), OpError> {
        self.initiative_stamp(user, initiative, "started_at", InitiativeStatus::Idea, now)
    }

    /// Moves an initiative from running to done.
    pub fn complete_initiative(
        &mut self,
        user: &User,
        initiative: &InitiativeId,
        now: i64,
    ) -> Result<(), OpError> {
        self.initiative_stamp(user, initiative, "done_at", InitiativeStatus::Running, now)
    }

    fn initiative_stamp(
        &mut self,
        user: &User,
        initiative: &InitiativeId,
        key: &'static str,
        from: InitiativeStatus,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        let o = self.find("initiatives", initiative.as_str(), "initiative")?;
        self.may(
            user,
            Action::Create,
            &Path::new(["initiatives", initiative.as_str(), key]),
            None,
        )?;
        let status = initiative_status(&self.am, &o);
        if status != from {
            return Err(OpError::WrongStatus {
                what: "initiative",
                status: status.as_str(),
            });
        }
        self.write(now, |tx| tx.put(&o, key, now))
    }

    // ---- events ---------------------------------------------------------------------------

    /// Creates an event in the agenda.
    pub fn create_event(
        &mut self,
        user: &User,
        id: &EventId,
        draft: &EventDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("title", &draft.title, limits::TITLE, true)?;
        check_text("description", &draft.description, limits::BODY, false)?;
        check_text("place", &draft.place, limits::LINE, false)?;
        check_window(&draft.when)?;
        if draft.volunteers_needed > limits::MAX_VOLUNTEERS {
            return Err(OpError::OutOfRange {
                field: "volunteers_needed",
                min: 0,
                max: limits::MAX_VOLUNTEERS as i64,
            });
        }
        let coll = self.root_map("events")?;
        self.absent(&coll, id.as_str(), "event")?;
        let path = Path::new(["events", id.as_str()]);
        self.may(user, Action::Create, &path, None)?;
        check_admin(user, &draft.organiser, &path)?;
        self.write(now, |tx| {
            let o = new_object(tx, &coll, id.as_str(), user.id.as_str(), now)?;
            tx.put(&o, "title", draft.title.trim())?;
            tx.put(&o, "description", draft.description.trim())?;
            tx.put(&o, "start", draft.when.start)?;
            tx.put(&o, "end", draft.when.end)?;
            tx.put(&o, "place", draft.place.trim())?;
            tx.put(&o, "volunteers_needed", draft.volunteers_needed as i64)?;
            tx.put(
                &o,
                "organiser",
                draft.organiser.as_ref().map_or("", |a| a.as_str()),
            )?;
            tx.put_object(&o, "signups", ObjType::Map)?;
            Ok(())
        })
    }

    /// Cancels an event (its organiser, or the village's broker). Sign-ups stay for the record.
    pub fn cancel_event(&mut self, user: &User, event: &EventId, now: i64) -> Result<(), OpError> {
        self.writable()?;
        let o = self.find("events", event.as_str(), "event")?;
        self.may(
            user,
            Action::Create,
            &Path::new(["events", event.as_str(), "cancelled_at"]),
            None,
        )?;
        if get_i64(&self.am, &o, "cancelled_at").is_some() {
            return Err(OpError::WrongStatus {
                what: "event",
                status: "cancelled",
            });
        }
        self.write(now, |tx| tx.put(&o, "cancelled_at", now))
    }

    /// Signs the user up as a volunteer for an event.
    pub fn sign_up(&mut self, user: &User, event: &EventId, now: i64) -> Result<(), OpError> {
        self.writable()?;
        let o = self.find("events", event.as_str(), "event")?;
        self.visible(&o, "event")?;
        let d = &self.am;
        if get_i64(d, &o, "cancelled_at").is_some() {
            return Err(OpError::WrongStatus {
                what: "event",
                status: "cancelled",
            });
        }
        if get_i64(d, &o, "end").is_some_and(|end| end < now) {
            return Err(OpError::WrongStatus {
                what: "event",
                status: "over",
            });
        }
        let signups = get_obj(d, &o, "signups").ok_or_else(|| OpError::NotFound {
            what: "signups",
            id: event.to_string(),
        })?;
        if has_key(d, &signups, user.id.as_str()) {
            return Err(OpError::AlreadySignedUp);
        }
        let needed = get_i64(d, &o, "volunteers_needed").unwrap_or(0).max(0) as usize;
        if d.length(&signups) >= needed {
            return Err(OpError::EventFull);
        }
        self.may(
            user,
            Action::Create,
            &Path::new(["events", event.as_str(), "signups", user.id.as_str()]),
            None,
        )?;
        self.write(now, |tx| {
            let s = tx.put_object(&signups, user.id.as_str(), ObjType::Map)?;
            tx.put(&s, "created_at", now)?;
            Ok(())
        })
    }

    /// Withdraws the user's sign-up.
    pub fn cancel_sign_up(
        &mut self,
        user: &User,
        event: &EventId,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        let o = self.find("events", event.as_str(), "event")?;
        let signups = get_obj(&self.am, &o, "signups").ok_or_else(|| OpError::NotFound {
            what: "signups",
            id: event.to_string(),
        })?;
        if !has_key(&self.am, &signups, user.id.as_str()) {
            return Err(OpError::NotSignedUp);
        }
        self.may(
            user,
            Action::Delete,
            &Path::new(["events", event.as_str(), "signups", user.id.as_str()]),
            None,
        )?;
        self.write(now, |tx| tx.delete(&signups, user.id.as_str()))
    }

    // ---- board ----------------------------------------------------------------------------

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
        self.may(
            user,
            Action::Create,
            &Path::new(["board", id.as_str()]),
            None,
        )?;
        self.write(now, |tx| {
            let o = new_object(tx, &coll, id.as_str(), user.id.as_str(), now)?;
            tx.put(&o, "body", body.trim())?;
            tx.put_object(&o, "comments", ObjType::Map)?;
            tx.put_object(&o, "reactions", ObjType::Map)?;
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
        let comments = get_obj(&self.am, &o, "comments").ok_or_else(|| OpError::NotFound {
            what: "comments",
            id: post.to_string(),
        })?;
        self.absent(&comments, id.as_str(), "comment")?;
        self.may(
            user,
            Action::Create,
            &Path::new(["board", post.as_str(), "comments", id.as_str()]),
            None,
        )?;
        self.write(now, |tx| {
            let c = new_object(tx, &comments, id.as_str(), user.id.as_str(), now)?;
            tx.put(&c, "body", body.trim())?;
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
        let reactions = get_obj(&self.am, &o, "reactions").ok_or_else(|| OpError::NotFound {
            what: "reactions",
            id: post.to_string(),
        })?;
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

    // ---- volunteers -----------------------------------------------------------------------

    /// Gives `user` a profile in this village showing `name`, if they have none (the app
    /// names what a signed-in resident shares by their account). Returns whether it wrote one;
    /// a profile they made, even one without a name, is left alone.
    pub fn name_new_profile(&mut self, user: &User, name: &str, now: i64) -> Result<bool, OpError> {
        self.writable()?;
        check_text("display_name", name, limits::TITLE, true)?;
        let coll = self.root_map("volunteers")?;
        if get_obj(&self.am, &coll, user.id.as_str()).is_some() {
            return Ok(false);
        }
        let path = Path::new(["volunteers", user.id.as_str()]);
        self.may(user, Action::Create, &path, None)?;
        self.write(now, |tx| {
            let o = new_object(tx, &coll, user.id.as_str(), user.id.as_str(), now)?;
            tx.put(&o, "display_name", name.trim())?;
            Ok(())
        })?;
        Ok(true)
    }

    /// Creates or replaces the user's volunteer profile in this village.
    pub fn set_volunteer_profile(
        &mut self,
        user: &User,
        profile: &VolunteerProfile,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("display_name", &profile.display_name, limits::TITLE, false)?;
        for w in &profile.availability {
            check_window(w)?;
        }
        let coll = self.root_map("volunteers")?;
        let path = Path::new(["volunteers", user.id.as_str()]);
        let existing = get_obj(&self.am, &coll, user.id.as_str());
        let action = if existing.is_some() {
            Action::Change
        } else {
            Action::Create
        };
        self.may(user, action, &path, None)?;
        self.write(now, |tx| {
            let o = match &existing {
                Some(o) => {
                    for key in ["categories", "villages", "availability"] {
                        tx.delete(o, key)?;
                    }
                    tx.put(o, "updated_at", now)?;
                    o.clone()
                }
                None => new_object(tx, &coll, user.id.as_str(), user.id.as_str(), now)?,
            };
            tx.put(&o, "display_name", profile.display_name.trim())?;
            let c = tx.put_object(&o, "categories", ObjType::Map)?;
            for cat in &profile.categories {
                tx.put(&c, cat.as_str(), true)?;
            }
            let v = tx.put_object(&o, "villages", ObjType::Map)?;
            for village in &profile.villages {
                tx.put(&v, village.as_str(), true)?;
            }
            let a = tx.put_object(&o, "availability", ObjType::Map)?;
            for (i, w) in profile.availability.iter().enumerate() {
                let wo = tx.put_object(&a, format!("w{i}"), ObjType::Map)?;
                tx.put(&wo, "start", w.start)?;
                tx.put(&wo, "end", w.end)?;
            }
            Ok(())
        })
    }
}
