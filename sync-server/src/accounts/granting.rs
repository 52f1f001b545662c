//! Granting and taking away roles in the accounts (the truth the sync endpoint enforces);
//! writing them into the municipality document is `roles.rs`'s.

use std::sync::PoisonError;

use model::{AssociationId, UserId};
use rusqlite::params;

use super::{
    error::AccountError,
    grant::{Grant, insert_role, stored_grants},
    store::{Accounts, write_tx},
};

impl Accounts {
    /// Grants `grant` to `user` (idempotent), in the database and in memory. Blocking.
    pub fn grant_blocking(&self, user: &UserId, grant: &Grant) -> Result<(), AccountError> {
        insert_role(&self.conn(), user, grant, self.inner.clock.now_ms())?;
        grant.add_to(self.cache_mut().roles.entry(user.clone()).or_default());
        Ok(())
    }

    /// The validator accepted a change that registers `association` with `creator` as its
    /// first admin (the one role write the rules let a client make): record that role, in
    /// memory and in the database before returning, so it is durable before the change is
    /// stored and acknowledged. This table is the only source of the role: the start's
    /// reconciliation never reads it back from the document, whose contents a non-admin may
    /// have written. A blocking write, but a small and rare one (a new association).
    pub fn association_registered(&self, association: &AssociationId, creator: &UserId) {
        let grant = Grant::AssociationAdmin(association.clone());
        if let Err(e) = insert_role(&self.conn(), creator, &grant, self.inner.clock.now_ms()) {
            tracing::error!("recording an association's creator as its admin: {e}");
        }
        grant.add_to(self.cache_mut().roles.entry(creator.clone()).or_default());
    }

    /// Takes `grant` away from `user`, as `by` asks: a municipality admin may take any role
    /// but municipality admin (made on the command line only), an association's admin the
    /// admin and member roles of that association, and anyone their own association roles
    /// (leaving). An association's last admin is never removed. The role leaves the database
    /// (a `role_revocation` row stays) and memory, so the validator refuses what needed it from
    /// now on; writing the removal into the municipality document is the caller's next step
    /// (`roles::revoke`).
    pub async fn revoke_role(
        &self,
        by: &UserId,
        user: &UserId,
        grant: Grant,
    ) -> Result<(), AccountError> {
        let roles = self.roles(by);
        let allowed = roles.municipality_admin
            || match &grant {
                Grant::AssociationAdmin(a) | Grant::AssociationMember(a) => {
                    by == user || roles.admin_of.contains(a)
                }
                Grant::Broker(_) | Grant::MunicipalityAdmin => false,
            };
        if grant == Grant::MunicipalityAdmin {
            return Err(AccountError::InvalidRole);
        }
        if !allowed {
            return Err(AccountError::Forbidden);
        }
        let (id, asker, taken) = (user.clone(), by.clone(), grant.clone());
        self.with_db(move |conn, now| {
            let tx = write_tx(conn)?;
            let removed = tx.execute(
                "DELETE FROM role WHERE user_id = ?1 AND kind = ?2 AND target = ?3",
                params![id.as_str(), taken.kind(), taken.target()],
            )?;
            if removed == 0 {
                return Err(AccountError::RoleNotFound);
            }
            if let Grant::AssociationAdmin(_) = &taken {
                let left: i64 = tx.query_row(
                    "SELECT count(*) FROM role WHERE kind = ?1 AND target = ?2",
                    params![taken.kind(), taken.target()],
                    |r| r.get(0),
                )?;
                if left == 0 {
                    // Dropping the transaction puts the row back.
                    return Err(AccountError::LastAdmin);
                }
            }
            tx.execute(
                "INSERT OR REPLACE INTO role_revocation
                     (user_id, kind, target, revoked_by, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id.as_str(),
                    taken.kind(),
                    taken.target(),
                    asker.as_str(),
                    now
                ],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await?;
        if let Some(roles) = self.cache_mut().roles.get_mut(user) {
            grant.remove_from(roles);
        }
        tracing::info!(user = %user, by = %by, role = grant.kind(), target = grant.target(), "role revoked");
        Ok(())
    }

    /// The roles taken away and not granted again since. Blocking.
    pub(crate) fn revocations_blocking(&self) -> Result<Vec<(UserId, Grant)>, AccountError> {
        Ok(stored_grants(&self.conn(), "role_revocation")?)
    }

    /// Every stored role that the municipality document shows (all but municipality admin).
    pub(crate) fn document_roles(&self) -> Vec<(UserId, Grant)> {
        let cache = self
            .inner
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        for (user, roles) in &cache.roles {
            for v in &roles.broker_of {
                out.push((user.clone(), Grant::Broker(v.clone())));
            }
            for a in &roles.admin_of {
                out.push((user.clone(), Grant::AssociationAdmin(a.clone())));
            }
            for a in &roles.member_of {
                out.push((user.clone(), Grant::AssociationMember(a.clone())));
            }
        }
        out
    }
}
