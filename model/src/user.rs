//! Who is acting: a user id and the roles that user holds.

use std::collections::BTreeSet;

use crate::ids::{AssociationId, UserId, VillageId};

/// A signed-in person and their roles. Every resident has the resident role implicitly; the
/// other roles are granted by the server's accounts, which also writes them into the
/// municipality document (brokers per village, admins and members per association, see
/// [`crate::MunicipalityDoc::roles_of`]); `municipality_admin` is known from the accounts only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The account id; the `author` of everything this user creates.
    pub id: UserId,
    /// What this user may do beyond being a resident.
    pub roles: Roles,
}

/// Roles beyond resident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    /// Works for the municipality and manages the municipality document.
    pub municipality_admin: bool,
    /// Villages whose area broker (gebiedsmakelaar) this user is.
    pub broker_of: BTreeSet<VillageId>,
    /// Associations this user administers.
    pub admin_of: BTreeSet<AssociationId>,
    /// Associations this user is a member of (granted by an invite; no rights of its own yet).
    pub member_of: BTreeSet<AssociationId>,
}

impl User {
    /// A resident without further roles.
    pub fn resident(id: UserId) -> User {
        User {
            id,
            roles: Roles::default(),
        }
    }

    /// Whether this user is the area broker of `village`.
    pub fn is_broker_of(&self, village: &VillageId) -> bool {
        self.roles.broker_of.contains(village)
    }

    /// Whether this user administers `association`.
    pub fn is_admin_of(&self, association: &AssociationId) -> bool {
        self.roles.admin_of.contains(association)
    }

    pub(crate) fn is_admin_of_str(&self, association: &str) -> bool {
        self.roles
            .admin_of
            .iter()
            .any(|a| a.as_str() == association)
    }

    pub(crate) fn is_broker_of_str(&self, village: &str) -> bool {
        self.roles.broker_of.iter().any(|v| v.as_str() == village)
    }
}
