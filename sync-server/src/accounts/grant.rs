//! A role beyond resident as the accounts store it: one row `(user_id, kind, target)` of the
//! `role` table (or of `role_revocation`, for one taken away).

use model::{AssociationId, Roles, UserId, VillageId};
use rusqlite::{Connection, params};

/// A role beyond resident, as granted and stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Grant {
    MunicipalityAdmin,
    Broker(VillageId),
    AssociationAdmin(AssociationId),
    AssociationMember(AssociationId),
}

impl Grant {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Grant::MunicipalityAdmin => "municipality_admin",
            Grant::Broker(_) => "broker",
            Grant::AssociationAdmin(_) => "association_admin",
            Grant::AssociationMember(_) => "association_member",
        }
    }

    pub(super) fn target(&self) -> &str {
        match self {
            Grant::MunicipalityAdmin => "",
            Grant::Broker(v) => v.as_str(),
            Grant::AssociationAdmin(a) | Grant::AssociationMember(a) => a.as_str(),
        }
    }

    /// From a stored or requested kind and target; `None` if they do not form a role.
    pub fn parse(kind: &str, target: &str) -> Option<Grant> {
        Some(match kind {
            "municipality_admin" if target.is_empty() => Grant::MunicipalityAdmin,
            "broker" => Grant::Broker(VillageId::new(target).ok()?),
            "association_admin" => Grant::AssociationAdmin(AssociationId::new(target).ok()?),
            "association_member" => Grant::AssociationMember(AssociationId::new(target).ok()?),
            _ => return None,
        })
    }

    pub(super) fn remove_from(&self, roles: &mut Roles) {
        match self {
            Grant::MunicipalityAdmin => roles.municipality_admin = false,
            Grant::Broker(v) => {
                roles.broker_of.remove(v);
            }
            Grant::AssociationAdmin(a) => {
                roles.admin_of.remove(a);
            }
            Grant::AssociationMember(a) => {
                roles.member_of.remove(a);
            }
        }
    }

    pub(super) fn add_to(&self, roles: &mut Roles) {
        match self {
            Grant::MunicipalityAdmin => roles.municipality_admin = true,
            Grant::Broker(v) => {
                roles.broker_of.insert(v.clone());
            }
            Grant::AssociationAdmin(a) => {
                roles.admin_of.insert(a.clone());
            }
            Grant::AssociationMember(a) => {
                roles.member_of.insert(a.clone());
            }
        }
    }
}

pub(super) fn insert_role(
    conn: &Connection,
    user: &UserId,
    grant: &Grant,
    now: i64,
) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT OR IGNORE INTO role (user_id, kind, target, granted_at) VALUES (?1, ?2, ?3, ?4)",
        params![user.as_str(), grant.kind(), grant.target(), now],
    )?;
    // Granted again: no longer a revocation the start's reconciliation repeats.
    conn.execute(
        "DELETE FROM role_revocation WHERE user_id = ?1 AND kind = ?2 AND target = ?3",
        params![user.as_str(), grant.kind(), grant.target()],
    )?;
    Ok(())
}

/// The `(user_id, kind, target)` rows of `table` (`role` or `role_revocation`); a row that does
/// not parse is logged and skipped.
pub(super) fn stored_grants(
    conn: &Connection,
    table: &str,
) -> Result<Vec<(UserId, Grant)>, rusqlite::Error> {
    let mut stmt = conn.prepare(&format!("SELECT user_id, kind, target FROM {table}"))?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut grants = Vec::new();
    for row in rows {
        let (user, kind, target) = row?;
        match (UserId::new(user), Grant::parse(&kind, &target)) {
            (Ok(user), Some(grant)) => grants.push((user, grant)),
            _ => tracing::warn!(
                table,
                kind,
                target,
                "ignoring a stored role that does not parse"
            ),
        }
    }
    Ok(grants)
}
