//! Typed operations on the municipality document and on conversations.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ReadDoc};

use crate::doc::{get_i64, get_obj, get_str, has_key};
use crate::error::OpError;
use crate::ids::{
    AssociationId, ConsultationId, ConsultationResponseId, KnowledgeId, MessageId, NewsId, UserId,
    VillageId,
};
use crate::ops_village::new_object;
use crate::permission::{Action, Path, may};
use crate::schema::{AssociationCategory, ConsultationStatus, ContactChannel, check_text, limits};
use crate::user::{Roles, User};
use crate::views::consultation_status;
use crate::{ConversationDoc, MunicipalityDoc};

/// An association's profile, as its admins edit it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationDraft {
    /// Name (required).
    pub name: String,
    /// Category.
    pub category: AssociationCategory,
    /// Villages it is active in (at least one, all known to the municipality).
    pub villages: Vec<VillageId>,
    /// Description.
    pub description: String,
    /// Public contact channels.
    pub contacts: Vec<(ContactChannel, String)>,
    /// Website.
    pub website: String,
}

/// A consultation as a broker opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationDraft {
    /// The village asked.
    pub village: VillageId,
    /// The question (required).
    pub question: String,
    /// Background.
    pub explanation: String,
    /// When it closes (after `now`).
    pub closes_at: i64,
}

/// A news item or knowledge page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleDraft {
    /// Title (required).
    pub title: String,
    /// Text (required).
    pub body: String,
    /// The village it is about, if one.
    pub village: Option<VillageId>,
}

impl MunicipalityDoc {
    fn may(&self, user: &User, action: Action, path: &Path) -> Result<(), OpError> {
        may(user, Self::KIND, action, path, None, &self.am)?;
        Ok(())
    }

    fn find(&self, root: &str, id: &str, what: &'static str) -> Result<ObjId, OpError> {
        get_obj(&self.am, &self.root_map(root)?, id).ok_or_else(|| OpError::NotFound {
            what,
            id: id.to_owned(),
        })
    }

    fn absent(&self, root: &str, id: &str, what: &'static str) -> Result<ObjId, OpError> {
        let coll = self.root_map(root)?;
        if has_key(&self.am, &coll, id) {
            return Err(OpError::AlreadyExists {
                what,
                id: id.to_owned(),
            });
        }
        Ok(coll)
    }

    fn known_village(&self, v: &VillageId) -> Result<(), OpError> {
        self.find("villages", v.as_str(), "village")
            .map(|_| ())
            .map_err(|_| OpError::UnknownVillage(v.to_string()))
    }

    /// The roles `user` holds according to this document: broker of the villages that list
    /// them, admin and member of the associations that list them. `municipality_admin` comes from the
    /// server's accounts.
    pub fn roles_of(&self, user: &UserId, municipality_admin: bool) -> Roles {
        let d = &self.am;
        let mut roles = Roles {
            municipality_admin,
            ..Roles::default()
        };
        for v in self.villages() {
            if v.brokers.iter().any(|b| b == user.as_str())
                && let Ok(id) = VillageId::new(v.id)
            {
                roles.broker_of.insert(id);
            }
        }
        if let Some(coll) = get_obj(d, &ObjId::Root, "associations") {
            for item in d.map_range(&coll, ..) {
                let admins = get_obj(d, &item.id(), "admins");
                let members = get_obj(d, &item.id(), "members");
                let Ok(id) = AssociationId::new(item.key.to_string()) else {
                    continue;
                };
                if admins.is_some_and(|a| has_key(d, &a, user.as_str())) {
                    roles.admin_of.insert(id.clone());
                }
                if members.is_some_and(|m| has_key(d, &m, user.as_str())) {
                    roles.member_of.insert(id);
                }
            }
        }
        roles
    }

    /// The neighbours of every village, for matching.
    pub fn geography(&self) -> crate::Geography {
        crate::Geography::new(self.villages().into_iter().map(|v| (v.id, v.neighbours)))
    }

    /// The server grants `broker` the area broker role of `village` (role data is written by
    /// the server only: no client's change may touch it, see [`crate::RULES`]). Returns whether
    /// anything was written (false: they already were).
    pub fn grant_broker(
        &mut self,
        village: &VillageId,
        broker: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.writable()?;
        let v = self.find("villages", village.as_str(), "village")?;
        let brokers = get_obj(&self.am, &v, "brokers").ok_or_else(|| OpError::NotFound {
            what: "brokers",
            id: village.to_string(),
        })?;
        if has_key(&self.am, &brokers, broker.as_str()) {
            return Ok(false);
        }
        self.write(now, |tx| tx.put(&brokers, broker.as_str(), true))?;
        Ok(true)
    }

    /// The server makes `user` an admin of `association` (see [`Self::grant_broker`]).
    pub fn grant_association_admin(
        &mut self,
        association: &AssociationId,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.grant_in_association(association, "admins", user, now)
    }

    /// The server makes `user` a member of `association` (see [`Self::grant_broker`]).
    pub fn grant_association_member(
        &mut self,
        association: &AssociationId,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.grant_in_association(association, "members", user, now)
    }

    fn grant_in_association(
        &mut self,
        association: &AssociationId,
        list: &'static str,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.writable()?;
        let o = self.find("associations", association.as_str(), "association")?;
        let existing = get_obj(&self.am, &o, list);
        if existing
            .as_ref()
            .is_some_and(|m| has_key(&self.am, m, user.as_str()))
        {
            return Ok(false);
        }
        self.write(now, |tx| {
            let map = match existing {
                Some(m) => m,
                None => tx.put_object(&o, list, ObjType::Map)?,
            };
            tx.put(&map, user.as_str(), true)
        })?;
        Ok(true)
    }

    /// The server takes the area broker role of `village` from `broker` (role data is written
    /// by the server only, like [`Self::grant_broker`]). Returns whether anything was removed
    /// (false: the document did not list them).
    pub fn revoke_broker(
        &mut self,
        village: &VillageId,
        broker: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.writable()?;
        let v = self.find("villages", village.as_str(), "village")?;
        self.remove_role(get_obj(&self.am, &v, "brokers"), broker, now)
    }

    /// The server takes the admin role of `association` from `user` (see
    /// [`Self::revoke_broker`]).
    pub fn revoke_association_admin(
        &mut self,
        association: &AssociationId,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.revoke_in_association(association, "admins", user, now)
    }

    /// The server ends `user`'s membership of `association` (see [`Self::revoke_broker`]).
    pub fn revoke_association_member(
        &mut self,
        association: &AssociationId,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.revoke_in_association(association, "members", user, now)
    }

    fn revoke_in_association(
        &mut self,
        association: &AssociationId,
        list: &'static str,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        self.writable()?;
        let o = self.find("associations", association.as_str(), "association")?;
        self.remove_role(get_obj(&self.am, &o, list), user, now)
    }

    /// Deletes `user`'s key from the role list `list`, if it has one.
    fn remove_role(
        &mut self,
        list: Option<ObjId>,
        user: &UserId,
        now: i64,
    ) -> Result<bool, OpError> {
        let Some(list) = list.filter(|l| has_key(&self.am, l, user.as_str())) else {
            return Ok(false);
        };
        self.write(now, |tx| tx.delete(&list, user.as_str()))?;
        Ok(true)
    }

    fn check_association(&self, draft: &AssociationDraft) -> Result<(), OpError> {
        check_text("name", &draft.name, limits::TITLE, true)?;
        check_text("description", &draft.description, limits::BODY, false)?;
        check_text("website", &draft.website, limits::LINE, false)?;
        for (_, value) in &draft.contacts {
            check_text("contact", value, limits::LINE, true)?;
        }
        if draft.villages.is_empty() {
            return Err(OpError::OutOfRange {
                field: "villages",
                min: 1,
                max: i64::MAX,
            });
        }
        for v in &draft.villages {
            self.known_village(v)?;
        }
        Ok(())
    }

    /// Registers an association; its creator becomes its first admin.
    pub fn register_association(
        &mut self,
        user: &User,
        id: &AssociationId,
        draft: &AssociationDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        self.check_association(draft)?;
        let coll = self.absent("associations", id.as_str(), "association")?;
        self.may(
            user,
            Action::Create,
            &Path::new(["associations", id.as_str()]),
        )?;
        self.write(now, |tx| {
            let o = new_object(tx, &coll, id.as_str(), user.id.as_str(), now)?;
            write_association_fields(tx, &o, draft)?;
            let admins = tx.put_object(&o, "admins", ObjType::Map)?;
            tx.put(&admins, user.id.as_str(), true)?;
            Ok(())
        })
    }

    /// An admin of the association (or a municipality admin) edits its profile.
    pub fn edit_association(
        &mut self,
        user: &User,
        id: &AssociationId,
        draft: &AssociationDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        self.check_association(draft)?;
        let o = self.find("associations", id.as_str(), "association")?;
        self.may(
            user,
            Action::Change,
            &Path::new(["associations", id.as_str(), "name"]),
        )?;
        self.write(now, |tx| {
            tx.put(&o, "updated_at", now)?;
            write_association_fields(tx, &o, draft)
        })
    }

    /// A municipality admin or broker publishes news.
    pub fn publish_news(
        &mut self,
        user: &User,
        id: &NewsId,
        draft: &ArticleDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.article("news", user, id.as_str(), draft, now)
    }

    /// A municipality admin or broker writes a knowledge page.
    pub fn write_knowledge_page(
        &mut self,
        user: &User,
        id: &KnowledgeId,
        draft: &ArticleDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.article("knowledge", user, id.as_str(), draft, now)
    }

    fn article(
        &mut self,
        root: &'static str,
        user: &User,
        id: &str,
        draft: &ArticleDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("title", &draft.title, limits::TITLE, true)?;
        check_text("body", &draft.body, limits::BODY, true)?;
        if let Some(v) = &draft.village {
            self.known_village(v)?;
        }
        let coll = self.absent(root, id, "article")?;
        self.may(user, Action::Create, &Path::new([root, id]))?;
        self.write(now, |tx| {
            let o = new_object(tx, &coll, id, user.id.as_str(), now)?;
            tx.put(&o, "title", draft.title.trim())?;
            tx.put(&o, "body", draft.body.trim())?;
            tx.put(
                &o,
                "village",
                draft.village.as_ref().map_or("", |v| v.as_str()),
            )?;
            Ok(())
        })
    }

    /// The village's broker (or a municipality admin) asks the village's view.
    pub fn open_consultation(
        &mut self,
        user: &User,
        id: &ConsultationId,
        draft: &ConsultationDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("question", &draft.question, limits::TITLE * 2, true)?;
        check_text("explanation", &draft.explanation, limits::BODY, false)?;
        self.known_village(&draft.village)?;
        if draft.closes_at <= now {
            return Err(OpError::OutOfRange {
                field: "closes_at",
                min: now + 1,
                max: i64::MAX,
            });
        }
        let coll = self.absent("consultations", id.as_str(), "consultation")?;
        let path = Path::new(["consultations", id.as_str()]);
        self.may(user, Action::Create, &path)?;
        if !user.roles.municipality_admin && !user.is_broker_of(&draft.village) {
            return Err(OpError::Denied(crate::Denied {
                user: user.id.to_string(),
                action: Action::Create,
                path,
                reason: crate::DenyReason::NotAllowed {
                    rule: "only the village's broker opens a consultation there",
                },
            }));
        }
        self.write(now, |tx| {
            let o = new_object(tx, &coll, id.as_str(), user.id.as_str(), now)?;
            tx.put(&o, "village", draft.village.as_str())?;
            tx.put(&o, "question", draft.question.trim())?;
            tx.put(&o, "explanation", draft.explanation.trim())?;
            tx.put(&o, "closes_at", draft.closes_at)?;
            tx.put_object(&o, "responses", ObjType::Map)?;
            Ok(())
        })
    }

    /// A resident, or an admin on behalf of an association, responds to an open consultation.
    pub fn respond_to_consultation(
        &mut self,
        user: &User,
        consultation: &ConsultationId,
        id: &ConsultationResponseId,
        body: &str,
        on_behalf_of: Option<&AssociationId>,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("body", body, limits::BODY, true)?;
        let o = self.find("consultations", consultation.as_str(), "consultation")?;
        if consultation_status(&self.am, &o, now) != ConsultationStatus::Open {
            return Err(OpError::ConsultationClosed);
        }
        let path = Path::new([
            "consultations",
            consultation.as_str(),
            "responses",
            id.as_str(),
        ]);
        self.may(user, Action::Create, &path)?;
        if let Some(a) = on_behalf_of
            && !user.is_admin_of(a)
        {
            return Err(OpError::Denied(crate::Denied {
                user: user.id.to_string(),
                action: Action::Create,
                path,
                reason: crate::DenyReason::NotAllowed {
                    rule: "only an admin of an association may act on its behalf",
                },
            }));
        }
        let responses = get_obj(&self.am, &o, "responses").ok_or_else(|| OpError::NotFound {
            what: "responses",
            id: consultation.to_string(),
        })?;
        if has_key(&self.am, &responses, id.as_str()) {
            return Err(OpError::AlreadyExists {
                what: "response",
                id: id.to_string(),
            });
        }
        let behalf = on_behalf_of.map_or("", |a| a.as_str());
        let twice = self.am.map_range(&responses, ..).any(|it| {
            let r = it.id();
            get_str(&self.am, &r, "author").as_deref() == Some(user.id.as_str())
                && get_str(&self.am, &r, "on_behalf_of").as_deref() == Some(behalf)
        });
        if twice {
            return Err(OpError::AlreadyResponded);
        }
        self.write(now, |tx| {
            let r = new_object(tx, &responses, id.as_str(), user.id.as_str(), now)?;
            tx.put(&r, "body", body.trim())?;
            tx.put(&r, "on_behalf_of", behalf)?;
            Ok(())
        })
    }

    /// After it closed, the municipality reports back what it did with the responses.
    pub fn publish_outcome(
        &mut self,
        user: &User,
        consultation: &ConsultationId,
        body: &str,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("outcome", body, limits::BODY, true)?;
        let o = self.find("consultations", consultation.as_str(), "consultation")?;
        self.may(
            user,
            Action::Create,
            &Path::new(["consultations", consultation.as_str(), "outcome"]),
        )?;
        match consultation_status(&self.am, &o, now) {
            ConsultationStatus::Open => return Err(OpError::ConsultationStillOpen),
            ConsultationStatus::Reported => {
                return Err(OpError::AlreadyExists {
                    what: "outcome",
                    id: consultation.to_string(),
                });
            }
            ConsultationStatus::Closed => {}
        }
        debug_assert!(get_i64(&self.am, &o, "closes_at").is_some());
        self.write(now, |tx| {
            let out = tx.put_object(&o, "outcome", ObjType::Map)?;
            tx.put(&out, "author", user.id.as_str())?;
            tx.put(&out, "created_at", now)?;
            tx.put(&out, "body", body.trim())?;
            Ok(())
        })
    }
}

fn write_association_fields(
    tx: &mut automerge::transaction::Transaction<'_>,
    o: &ObjId,
    draft: &AssociationDraft,
) -> Result<(), automerge::AutomergeError> {
    tx.put(o, "name", draft.name.trim())?;
    tx.put(o, "category", draft.category.as_str())?;
    tx.put(o, "description", draft.description.trim())?;
    tx.put(o, "website", draft.website.trim())?;
    let villages = tx.put_object(o, "villages", ObjType::Map)?;
    for v in &draft.villages {
        tx.put(&villages, v.as_str(), true)?;
    }
    let contacts = tx.put_object(o, "contacts", ObjType::Map)?;
    for (channel, value) in &draft.contacts {
        tx.put(&contacts, channel.as_str(), value.trim())?;
    }
    Ok(())
}

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
        if has_key(&self.am, &coll, id.as_str()) {
            return Err(OpError::AlreadyExists {
                what: "message",
                id: id.to_string(),
            });
        }
        may(
            user,
            Self::KIND,
            Action::Create,
            &Path::new(["messages", id.as_str()]),
            None,
            &self.am,
        )?;
        self.write(now, |tx| {
            let m = new_object(tx, &coll, id.as_str(), user.id.as_str(), now)?;
            tx.put(&m, "body", body.trim())?;
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
        if has_key(&self.am, &coll, participant.as_str()) {
            return Err(OpError::AlreadyExists {
                what: "participant",
                id: participant.to_string(),
            });
        }
        may(
            user,
            Self::KIND,
            Action::Create,
            &Path::new(["participants", participant.as_str()]),
            None,
            &self.am,
        )?;
        self.write(now, |tx| {
            let p = tx.put_object(&coll, participant.as_str(), ObjType::Map)?;
            tx.put(&p, "added_by", user.id.as_str())?;
            tx.put(&p, "created_at", now)?;
            Ok(())
        })
    }
}
