//! Preconditions several operations share: a time window's order, acting on behalf of an
//! association, an object not hidden by a moderator, a village the municipality knows.

use automerge::ObjId;

use crate::doc::{MunicipalityDoc, VillageDoc};
use crate::error::OpError;
use crate::ids::{AssociationId, VillageId};
use crate::permission::{Action, Denied, DenyReason, Path};
use crate::read::get_bool;
use crate::user::User;
use crate::views::TimeWindow;

/// `BadTimeWindow` when `w` ends before it starts.
pub(crate) fn check_window(w: &TimeWindow) -> Result<(), OpError> {
    if w.end < w.start {
        Err(OpError::BadTimeWindow {
            start: w.start,
            end: w.end,
        })
    } else {
        Ok(())
    }
}

/// Denied when `user` acts at `path` on behalf of an association they do not administer.
pub(crate) fn check_admin(
    user: &User,
    a: Option<&AssociationId>,
    path: &Path,
) -> Result<(), OpError> {
    match a {
        Some(a) if !user.is_admin_of(a) => Err(OpError::Denied(Denied {
            user: user.id.to_string(),
            action: Action::Create,
            path: path.clone(),
            reason: DenyReason::NotAllowed {
                rule: "only an admin of an association may act on its behalf",
            },
        })),
        _ => Ok(()),
    }
}

impl VillageDoc {
    /// `Hidden` when a moderator hid `obj`.
    pub(crate) fn visible(&self, obj: &ObjId, what: &'static str) -> Result<(), OpError> {
        if get_bool(&self.am, obj, "hidden") {
            Err(OpError::Hidden { what })
        } else {
            Ok(())
        }
    }
}

impl MunicipalityDoc {
    /// `UnknownVillage` unless the municipality lists `v`.
    pub(crate) fn known_village(&self, v: &VillageId) -> Result<(), OpError> {
        self.find("villages", v.as_str(), "village")
            .map(|_| ())
            .map_err(|_| OpError::UnknownVillage(v.to_string()))
    }
}
