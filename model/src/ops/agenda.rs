//! Agenda operations on a village document: creating and cancelling events, and volunteers
//! signing up for them (or withdrawing).

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc};

use super::checks::{check_admin, check_window};
use crate::doc::VillageDoc;
use crate::error::{OpError, check_text};
use crate::ids::{AssociationId, EventId};
use crate::permission::{Action, Path};
use crate::read::{get_i64, has_key};
use crate::schema::limits;
use crate::user::User;
use crate::views::TimeWindow;

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

/// `WrongStatus` for a cancelled event.
fn not_cancelled(d: &impl ReadDoc, o: &automerge::ObjId) -> Result<(), OpError> {
    if get_i64(d, o, "cancelled_at").is_some() {
        return Err(OpError::WrongStatus {
            what: "event",
            status: "cancelled",
        });
    }
    Ok(())
}

impl VillageDoc {
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
        check_admin(user, draft.organiser.as_ref(), &path)?;
        self.write_child(user, &coll, &path, now, |tx, o| {
            tx.put(o, "title", draft.title.trim())?;
            tx.put(o, "description", draft.description.trim())?;
            tx.put(o, "start", draft.when.start)?;
            tx.put(o, "end", draft.when.end)?;
            tx.put(o, "place", draft.place.trim())?;
            tx.put(o, "volunteers_needed", draft.volunteers_needed as i64)?;
            let organiser = draft.organiser.as_ref().map_or("", |a| a.as_str());
            tx.put(o, "organiser", organiser)?;
            tx.put_object(o, "signups", ObjType::Map)?;
            Ok(())
        })
    }

    /// Cancels an event (its organiser, or the village's broker). Sign-ups stay for the record.
    pub fn cancel_event(&mut self, user: &User, event: &EventId, now: i64) -> Result<(), OpError> {
        self.writable()?;
        let o = self.find("events", event.as_str(), "event")?;
        let path = Path::new(["events", event.as_str(), "cancelled_at"]);
        self.stamp(user, &o, &path, now, |d| not_cancelled(d, &o))
    }

    /// Signs the user up as a volunteer for an event.
    pub fn sign_up(&mut self, user: &User, event: &EventId, now: i64) -> Result<(), OpError> {
        self.writable()?;
        let o = self.find("events", event.as_str(), "event")?;
        self.visible(&o, "event")?;
        let d = &self.am;
        not_cancelled(d, &o)?;
        if get_i64(d, &o, "end").is_some_and(|end| end < now) {
            return Err(OpError::WrongStatus {
                what: "event",
                status: "over",
            });
        }
        let signups = self.child_map(&o, "signups", "signups", event.as_str())?;
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
        let signups = self.child_map(&o, "signups", "signups", event.as_str())?;
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
}
