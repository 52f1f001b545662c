//! Invite links: a broker, association admin or municipality admin hands out a one-time token
//! that grants a role to whoever accepts it within [`INVITE_TTL_MS`]. Stored, like sessions,
//! only as the token's SHA-256.

use model::UserId;
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    error::AccountError,
    grant::{Grant, insert_role},
    store::{Accounts, random_token, sha256, write_tx},
};

/// How long an invite link stays valid: 7 days.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;

impl Accounts {
    /// Creates a one-time invite link granting `kind` (`association_member`,
    /// `association_admin` or `broker`) for `target`, if `user` may: a broker for their
    /// villages, an association admin for their association, a municipality admin for
    /// anything. `villages` are the municipality's (a broker invite must name one). Returns
    /// the token for `/uitnodiging/<token>`.
    pub async fn create_invite(
        &self,
        user: &UserId,
        kind: &str,
        target: &str,
        villages: &[String],
    ) -> Result<String, AccountError> {
        let grant = match Grant::parse(kind, target) {
            Some(
                g @ (Grant::Broker(_) | Grant::AssociationAdmin(_) | Grant::AssociationMember(_)),
            ) => g,
            _ => return Err(AccountError::InvalidInvite),
        };
        let roles = self.roles(user);
        let allowed = roles.municipality_admin
            || match &grant {
                Grant::Broker(v) => roles.broker_of.contains(v),
                Grant::AssociationAdmin(a) | Grant::AssociationMember(a) => {
                    roles.admin_of.contains(a)
                }
                Grant::MunicipalityAdmin => false,
            };
        if !allowed {
            return Err(AccountError::Forbidden);
        }
        if let Grant::Broker(v) = &grant
            && !villages.iter().any(|known| known == v.as_str())
        {
            return Err(AccountError::UnknownTarget);
        }
        let token = random_token()?;
        let hash = sha256(token.as_bytes());
        let by = user.clone();
        self.with_db(move |conn, now| {
            conn.execute(
                "INSERT INTO invite (token_hash, kind, target, created_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    &hash[..],
                    grant.kind(),
                    grant.target(),
                    by.as_str(),
                    now,
                    now + INVITE_TTL_MS
                ],
            )?;
            Ok(())
        })
        .await?;
        Ok(token)
    }

    /// What an invite grants, if it can still be accepted.
    pub async fn invite(&self, token: &str) -> Result<Grant, AccountError> {
        let hash = sha256(token.as_bytes());
        self.with_db(move |conn, now| invite_state(conn, &hash, now))
            .await
    }

    /// Accepts an invite for `user`: marks it used (once; a second accept fails) and grants
    /// its role, in the database and in memory. Writing the role into the municipality
    /// document is the caller's next step (`roles::write`).
    pub async fn accept_invite(&self, user: &UserId, token: &str) -> Result<Grant, AccountError> {
        let hash = sha256(token.as_bytes());
        let id = user.clone();
        let grant = self
            .with_db(move |conn, now| {
                let tx = write_tx(conn)?;
                let grant = invite_state(&tx, &hash, now)?;
                // A seed's invite is its broker's only (`seeded.rs`).
                if bound_to(&tx, &hash)?.is_some_and(|bound| bound != id.as_str()) {
                    return Err(AccountError::Forbidden);
                }
                tx.execute(
                    "UPDATE invite SET accepted_by = ?1, accepted_at = ?2 WHERE token_hash = ?3",
                    params![id.as_str(), now, &hash[..]],
                )?;
                insert_role(&tx, &id, &grant, now)?;
                tx.commit()?;
                Ok(grant)
            })
            .await?;
        grant.add_to(self.cache_mut().roles.entry(user.clone()).or_default());
        tracing::info!(user = %user, role = grant.kind(), target = grant.target(), "invite accepted");
        Ok(grant)
    }
}

pub(super) fn invite_state(
    conn: &Connection,
    hash: &[u8; 32],
    now: i64,
) -> Result<Grant, AccountError> {
    let row: Option<(String, String, i64, Option<String>)> = conn
        .query_row(
            "SELECT kind, target, expires_at, accepted_by FROM invite WHERE token_hash = ?1",
            [&hash[..]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((kind, target, expires, accepted)) = row else {
        return Err(AccountError::InviteNotFound);
    };
    if accepted.is_some() {
        return Err(AccountError::InviteUsed);
    }
    if expires <= now {
        return Err(AccountError::InviteExpired);
    }
    Grant::parse(&kind, &target).ok_or(AccountError::InviteNotFound)
}

/// The user an invite is bound to, if it is bound (`None`: anyone may accept it).
pub(super) fn bound_to(
    conn: &Connection,
    token_hash: &[u8; 32],
) -> Result<Option<String>, AccountError> {
    Ok(conn
        .query_row(
            "SELECT for_user FROM invite WHERE token_hash = ?1",
            [&token_hash[..]],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}
