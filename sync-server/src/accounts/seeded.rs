//! Roles the seed names, and the ids the server itself writes as.
//!
//! A seed's `[[broker]] user = "broker-ulft"` used to make that user id broker at every start,
//! so whoever signed up first with the id took the role (and every message residents send to
//! "their broker"). Now the id is *reserved*: sign-up refuses it (409 `user_id_in_use`) unless
//! the request carries the one-time invite the server made for it ([`SeedInvite`], printed on
//! standard output when made: the operator hands it to the broker). That invite makes the
//! account with the reserved id and grants the role in one transaction; an invite bound to a
//! user id (`invite.for_user`, migration 7) is accepted by no other account. A start makes a
//! new invite only while the role is neither held, nor revoked, nor offered by a live invite,
//! so a lost or expired one is replaced by restarting the server.
//!
//! The municipality's id (the author of the seed's content) is reserved with no invite at all,
//! and the server's own actor id (role data in the municipality document) can be registered
//! by nobody.

use std::{collections::HashSet, sync::PoisonError};

use automerge::ActorId;
use model::UserId;
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    error::AccountError,
    grant::{Grant, insert_role},
    invites::{INVITE_TTL_MS, bound_to},
    store::{Accounts, Reserved, random_token, sha256},
};

/// A one-time invite the start made for a role the seed names.
#[derive(Clone)]
pub struct SeedInvite {
    /// The broker's name in the seed.
    pub name: String,
    /// The user id the seed names: only this invite's holder can sign up with it.
    pub user: UserId,
    /// The role it grants.
    pub grant: Grant,
    /// The token (`/uitnodiging/<token>`); stored only as its SHA-256.
    pub token: String,
}

impl std::fmt::Debug for SeedInvite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SeedInvite({}, {:?}, <redacted>)", self.user, self.grant)
    }
}

impl SeedInvite {
    /// The line the server prints for the operator.
    pub fn line(&self) -> String {
        format!(
            "Invite for {} ({}) as {} of {}: /uitnodiging/{} (sign up with user id {} and this invite)",
            self.name,
            self.user,
            self.grant.kind(),
            self.grant.target(),
            self.token,
            self.user
        )
    }
}

impl Accounts {
    /// Reserves `users` (the municipality's id, the seed's brokers) and `actors` (the server's).
    pub(crate) fn reserve_ids(
        &self,
        users: impl IntoIterator<Item = UserId>,
        actors: impl IntoIterator<Item = ActorId>,
    ) {
        let mut reserved = self
            .inner
            .reserved
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        reserved.users.extend(users);
        reserved.actors.extend(actors);
    }

    pub(super) fn is_reserved_user(&self, user: &UserId) -> bool {
        self.reserved().users.contains(user)
    }

    pub(super) fn is_reserved_actor(&self, actor: &ActorId) -> bool {
        self.reserved().actors.contains(actor)
    }

    fn reserved(&self) -> std::sync::RwLockReadGuard<'_, Reserved> {
        self.inner
            .reserved
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes an invite bound to its user for each of `wanted` (name, user, role) that is not
    /// held, not revoked (`revoked`) and not offered by a live invite yet. Blocking.
    pub(crate) fn seed_invites_blocking(
        &self,
        wanted: Vec<(String, UserId, Grant)>,
        revoked: &HashSet<(UserId, Grant)>,
    ) -> Result<Vec<SeedInvite>, AccountError> {
        let now = self.inner.clock.now_ms();
        let conn = self.conn();
        let mut made = Vec::new();
        for (name, user, grant) in wanted {
            if revoked.contains(&(user.clone(), grant.clone()))
                || offered(&conn, &user, &grant, now)?
            {
                continue;
            }
            let token = random_token()?;
            conn.execute(
                "INSERT INTO invite
                     (token_hash, kind, target, created_by, created_at, expires_at, for_user)
                 VALUES (?1, ?2, ?3, 'seed', ?4, ?5, ?6)",
                params![
                    &sha256(token.as_bytes())[..],
                    grant.kind(),
                    grant.target(),
                    now,
                    now + INVITE_TTL_MS,
                    user.as_str()
                ],
            )?;
            made.push(SeedInvite {
                name,
                user,
                grant,
                token,
            });
        }
        Ok(made)
    }
}

/// Whether `user` holds `grant` or a live invite bound to `user` offers it.
fn offered(
    conn: &Connection,
    user: &UserId,
    grant: &Grant,
    now: i64,
) -> Result<bool, AccountError> {
    let held = conn
        .query_row(
            "SELECT 1 FROM role WHERE user_id = ?1 AND kind = ?2 AND target = ?3",
            params![user.as_str(), grant.kind(), grant.target()],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    let invited = conn
        .query_row(
            "SELECT 1 FROM invite WHERE for_user = ?1 AND kind = ?2 AND target = ?3
                 AND accepted_by IS NULL AND expires_at > ?4",
            params![user.as_str(), grant.kind(), grant.target(), now],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    Ok(held || invited)
}

/// In a sign-up's transaction: accepts the invite `token_hash` for the new account `user`,
/// which must be the invite's bound user id; grants its role. `user_id_in_use` otherwise (the
/// reserved id stays reserved).
pub(super) fn accept_at_sign_up(
    tx: &Connection,
    token_hash: &[u8; 32],
    user: &UserId,
    now: i64,
) -> Result<Grant, AccountError> {
    if bound_to(tx, token_hash)?.as_deref() != Some(user.as_str()) {
        return Err(AccountError::UserIdInUse);
    }
    let grant =
        super::invites::invite_state(tx, token_hash, now).map_err(|_| AccountError::UserIdInUse)?;
    tx.execute(
        "UPDATE invite SET accepted_by = ?1, accepted_at = ?2 WHERE token_hash = ?3",
        params![user.as_str(), now, &token_hash[..]],
    )?;
    insert_role(tx, user, &grant, now)?;
    Ok(grant)
}
