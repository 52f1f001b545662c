//! Consultation operations on the municipality document: a broker asks a village's view,
//! residents and associations respond, and the municipality reports back the outcome.

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc};

use crate::doc::MunicipalityDoc;
use crate::error::{OpError, check_text};
use crate::ids::{AssociationId, ConsultationId, ConsultationResponseId, VillageId};
use crate::ops::checks::check_admin;
use crate::permission::{Action, Denied, DenyReason, Path};
use crate::read::{get_i64, get_str};
use crate::schema::{ConsultationStatus, limits};
use crate::user::User;
use crate::views::consultation_status;

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

impl MunicipalityDoc {
    /// The village's broker (or a municipality admin) asks the village's view.
    pub fn open_consultation(
        &mut self,
        user: &User,
        id: &ConsultationId,
        draft: &ConsultationDraft,
        now: i64,
    ) -> Result<(), OpError> {
        self.writable()?;
        check_text("question", &draft.question, limits::QUESTION, true)?;
        check_text("explanation", &draft.explanation, limits::BODY, false)?;
        self.known_village(&draft.village)?;
        if draft.closes_at <= now {
            return Err(OpError::OutOfRange {
                field: "closes_at",
                min: now + 1,
                max: i64::MAX,
            });
        }
        let coll = self.root_map("consultations")?;
        self.absent(&coll, id.as_str(), "consultation")?;
        let path = Path::new(["consultations", id.as_str()]);
        self.may(user, Action::Create, &path, None)?;
        if !user.roles.municipality_admin && !user.is_broker_of(&draft.village) {
            return Err(OpError::Denied(Denied {
                user: user.id.to_string(),
                action: Action::Create,
                path,
                reason: DenyReason::NotAllowed {
                    rule: "only the village's broker opens a consultation there",
                },
            }));
        }
        self.write_child(user, &coll, &path, now, |tx, o| {
            tx.put(o, "village", draft.village.as_str())?;
            tx.put(o, "question", draft.question.trim())?;
            tx.put(o, "explanation", draft.explanation.trim())?;
            tx.put(o, "closes_at", draft.closes_at)?;
            tx.put_object(o, "responses", ObjType::Map)?;
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
        self.may(user, Action::Create, &path, None)?;
        check_admin(user, on_behalf_of, &path)?;
        let responses = self.child_map(&o, "responses", "responses", consultation.as_str())?;
        self.absent(&responses, id.as_str(), "response")?;
        let behalf = on_behalf_of.map_or("", |a| a.as_str());
        let twice = self.am.map_range(&responses, ..).any(|it| {
            let r = it.id();
            get_str(&self.am, &r, "author").as_deref() == Some(user.id.as_str())
                && get_str(&self.am, &r, "on_behalf_of").as_deref() == Some(behalf)
        });
        if twice {
            return Err(OpError::AlreadyResponded);
        }
        self.write_child(user, &responses, &path, now, |tx, r| {
            tx.put(r, "body", body.trim())?;
            tx.put(r, "on_behalf_of", behalf)?;
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
        let path = Path::new(["consultations", consultation.as_str(), "outcome"]);
        self.may(user, Action::Create, &path, None)?;
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
        // The outcome is one object with `author` and `created_at`, like any other.
        self.write_child(user, &o, &path, now, |tx, out| {
            tx.put(out, "body", body.trim())?;
            Ok(())
        })
    }
}
