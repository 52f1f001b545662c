//! Association operations on the municipality document: registering one and editing its
//! profile.

use automerge::transaction::{Transactable, Transaction};
use automerge::{AutomergeError, ObjId, ObjType};

use crate::doc::MunicipalityDoc;
use crate::error::{OpError, check_text};
use crate::ids::{AssociationId, VillageId};
use crate::permission::{Action, Path};
use crate::schema::{AssociationCategory, ContactChannel, limits};
use crate::user::User;

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

impl MunicipalityDoc {
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
        let coll = self.root_map("associations")?;
        self.absent(&coll, id.as_str(), "association")?;
        let path = Path::new(["associations", id.as_str()]);
        self.create_child(user, &coll, &path, now, |tx, o| {
            write_association_fields(tx, o, draft)?;
            let admins = tx.put_object(o, "admins", ObjType::Map)?;
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
            None,
        )?;
        self.write(now, |tx| {
            tx.put(&o, "updated_at", now)?;
            write_association_fields(tx, &o, draft)
        })
    }
}

fn write_association_fields(
    tx: &mut Transaction<'_>,
    o: &ObjId,
    draft: &AssociationDraft,
) -> Result<(), AutomergeError> {
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
