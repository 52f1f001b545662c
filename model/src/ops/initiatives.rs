//! Initiative operations on a village document (the village workshop): starting one, partners,
//! the co-edited plan, needs and who fills them, updates, and moving it from idea to running to
//! done.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType};

use super::checks::check_admin;
use crate::doc::VillageDoc;
use crate::error::{OpError, check_text};
use crate::ids::{AssociationId, InitiativeId, NeedId, UpdateId};
use crate::permission::{Action, Path};
use crate::read::{get_obj, get_str, has_key};
use crate::schema::{InitiativeStatus, limits};
use crate::user::User;
use crate::views::initiative_status;

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

impl VillageDoc {
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
        check_admin(user, draft.lead_association.as_ref(), &path)?;
        self.write_child(user, &coll, &path, now, |tx, o| {
            tx.put(o, "title", draft.title.trim())?;
            let lead = draft.lead_association.as_ref().map_or("", |a| a.as_str());
            tx.put(o, "lead_association", lead)?;
            let plan = tx.put_object(o, "plan", ObjType::Text)?;
            tx.splice_text(&plan, 0, 0, &draft.plan)?;
            tx.put_object(o, "partners", ObjType::Map)?;
            tx.put_object(o, "needs", ObjType::Map)?;
            tx.put_object(o, "updates", ObjType::Map)?;
            Ok(())
        })
    }

    /// The initiative `id` if it is visible and not done.
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
        let partners = self.child_map(&o, "partners", "partners", initiative.as_str())?;
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
        let text = self.child_map(&o, "plan", "plan", initiative.as_str())?;
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
        let path = Path::new(["initiatives", initiative.as_str(), "needs", id.as_str()]);
        self.may(user, Action::Create, &path, None)?;
        let needs = self.child_map(&o, "needs", "needs", initiative.as_str())?;
        self.absent(&needs, id.as_str(), "need")?;
        self.write_child(user, &needs, &path, now, |tx, n| {
            tx.put(n, "title", title.trim())?;
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
        let path = Path::new(["initiatives", initiative.as_str(), "updates", id.as_str()]);
        self.may(user, Action::Create, &path, None)?;
        let updates = self.child_map(&o, "updates", "updates", initiative.as_str())?;
        self.absent(&updates, id.as_str(), "update")?;
        self.write_child(user, &updates, &path, now, |tx, u| {
            tx.put(u, "body", body.trim())?;
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
        let path = Path::new(["initiatives", initiative.as_str(), key]);
        self.stamp(user, &o, &path, now, |d| {
            let status = initiative_status(d, &o);
            if status != from {
                return Err(OpError::WrongStatus {
                    what: "initiative",
                    status: status.as_str(),
                });
            }
            Ok(())
        })
    }
}
