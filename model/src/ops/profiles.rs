//! Volunteer profile operations on a village document: the name a resident shows, the
//! categories they help with, the villages they cover and when they are available.

use automerge::ObjType;
use automerge::transaction::Transactable;

use super::checks::check_window;
use crate::doc::{VillageDoc, new_object};
use crate::error::{OpError, check_text};
use crate::ids::VillageId;
use crate::permission::{Action, Path};
use crate::read::get_obj;
use crate::schema::{HelpCategory, limits};
use crate::user::User;
use crate::views::TimeWindow;

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

impl VillageDoc {
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
        self.create_child(user, &coll, &path, now, |tx, o| {
            tx.put(o, "display_name", name.trim())?;
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
