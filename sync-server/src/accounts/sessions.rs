//! Sessions: sign-up and sign-in start one, sign-out ends it, and a changed password ends all
//! others. A session's token is 256 random bits (base64url) handed out once and stored only as
//! its SHA-256; it lasts [`SESSION_TTL_MS`] from sign-in, not sliding.

use std::time::Duration;

use model::UserId;
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    account::{Account, SignUp},
    credentials::{check_display_name, normalize_email},
    error::AccountError,
    grant::Grant,
    limit::Limit,
    password::{self, Password},
    seeded::accept_at_sign_up,
    session_end::SessionEnd,
    store::{Accounts, random_bytes, random_token, sha256, write_tx},
};

/// How long a session lasts from sign-in: 30 days.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "dk_session";

/// A new session's token (256 random bits, base64url): goes into the cookie, never stored.
#[derive(Clone)]
pub struct SessionToken(pub String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

impl Accounts {
    /// Creates an account and signs it in. A reserved user id (`seeded.rs`) is taken only
    /// with the invite bound to it, whose role comes with the account (returned, for the
    /// caller to write into the municipality document).
    pub async fn sign_up(
        &self,
        req: SignUp,
    ) -> Result<(Account, SessionToken, Option<Grant>), AccountError> {
        let email = normalize_email(&req.email)?;
        let display_name = check_display_name(&req.display_name)?;
        password::check_strength(&req.password, &email).map_err(AccountError::WeakPassword)?;
        let proposed = req.user_id.and_then(|id| UserId::new(id).ok());
        let reserved = proposed
            .as_ref()
            .is_some_and(|id| self.is_reserved_user(id));
        let invite = match (reserved, &req.invite) {
            (false, _) => None,
            (true, Some(token)) => Some(sha256(token.as_bytes())),
            (true, None) => return Err(AccountError::UserIdInUse),
        };
        let password = req.password;
        let hash = self
            .hashing(move |scratch| password::hash_with(&password, scratch))
            .await?
            .map_err(AccountError::Internal)?;
        let token = new_token()?;
        let token_hash = sha256(token.0.as_bytes());
        let (user, granted) = self
            .with_db(move |conn, now| {
                let tx = write_tx(conn)?;
                let taken: bool = tx
                    .query_row("SELECT 1 FROM account WHERE email = ?1", [&email], |_| {
                        Ok(())
                    })
                    .optional()?
                    .is_some();
                if taken {
                    return Err(AccountError::EmailTaken);
                }
                let free = |id: &UserId| -> Result<bool, rusqlite::Error> {
                    Ok(tx
                        .query_row(
                            "SELECT 1 FROM account WHERE user_id = ?1",
                            [id.as_str()],
                            |_| Ok(()),
                        )
                        .optional()?
                        .is_none())
                };
                let id = match proposed {
                    // Reserved: its own account or nobody's.
                    Some(id) if invite.is_some() && !free(&id)? => {
                        return Err(AccountError::UserIdInUse);
                    }
                    Some(id) if free(&id)? => id,
                    _ => loop {
                        let id = UserId::from_random(random_bytes()?);
                        if free(&id)? {
                            break id;
                        }
                    },
                };
                tx.execute(
                    "INSERT INTO account (user_id, email, display_name, password_hash, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id.as_str(), email, display_name, hash, now],
                )?;
                let granted = invite
                    .map(|hash| accept_at_sign_up(&tx, &hash, &id, now))
                    .transpose()?;
                insert_session(&tx, &token_hash, &id, now)?;
                tx.commit()?;
                Ok((id, granted))
            })
            .await?;
        tracing::info!(user = %user, "account created");
        if let Some(grant) = &granted {
            grant.add_to(self.cache_mut().roles.entry(user.clone()).or_default());
            tracing::info!(user = %user, role = grant.kind(), target = grant.target(), "seeded role taken with its invite");
        }
        let account = self.account(user).await?.ok_or(AccountError::NotSignedIn)?;
        Ok((account, token, granted))
    }

    /// Signs in, unless the account or `ip` failed too often lately.
    pub async fn sign_in(
        &self,
        email: &str,
        password: Password,
        ip: &str,
    ) -> Result<(Account, SessionToken), AccountError> {
        // Any string may be tried; an invalid address simply has no account.
        let email = normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
        // The attempt takes its slot before the password is checked: concurrent guesses
        // cannot all pass the limit before the first failure is recorded.
        let reservation = self
            .reserve(vec![Limit::account(&email), Limit::sign_in_ip(ip)])
            .await?;
        let lookup = email.clone();
        let stored = self
            .with_db(move |conn, _| {
                Ok(conn
                    .query_row(
                        "SELECT user_id, password_hash FROM account WHERE email = ?1",
                        [&lookup],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                    )
                    .optional()?)
            })
            .await?;
        let user = self
            .hashing(move |scratch| match stored {
                Some((user, hash)) => {
                    password::verify_with(&password, &hash, scratch).then_some(user)
                }
                None => {
                    password::verify_dummy(&password, scratch);
                    None
                }
            })
            .await?;
        let Some(user) = user.and_then(|u| UserId::new(u).ok()) else {
            // The reservation stays: it is the failure's record.
            tracing::info!("failed sign-in");
            return Err(AccountError::InvalidCredentials);
        };
        self.release(reservation, vec![Limit::account(&email)])
            .await?;
        let token = new_token()?;
        let token_hash = sha256(token.0.as_bytes());
        let id = user.clone();
        self.with_db(move |conn, now| {
            prune_sessions(conn, now)?;
            insert_session(conn, &token_hash, &id, now)?;
            Ok(())
        })
        .await?;
        let account = self.account(user).await?.ok_or(AccountError::NotSignedIn)?;
        Ok((account, token))
    }

    /// Ends the session of `token` (nothing happens if it has none).
    pub async fn sign_out(&self, token: &str) -> Result<(), AccountError> {
        let hash = sha256(token.as_bytes());
        self.with_db(move |conn, _| {
            conn.execute("DELETE FROM session WHERE token_hash = ?1", [&hash[..]])?;
            Ok(())
        })
        .await?;
        self.inner.session_watches.end(|h, _| *h == hash);
        Ok(())
    }

    /// The user of a live session; expired sessions are refused (and deleted).
    pub async fn session(&self, token: &str) -> Result<Option<UserId>, AccountError> {
        let hash = sha256(token.as_bytes());
        self.with_db(move |conn, now| {
            let row: Option<(String, i64)> = conn
                .query_row(
                    "SELECT user_id, expires_at FROM session WHERE token_hash = ?1",
                    [&hash[..]],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            match row {
                Some((user, expires)) if expires > now => Ok(UserId::new(user).ok()),
                Some(_) => {
                    conn.execute("DELETE FROM session WHERE token_hash = ?1", [&hash[..]])?;
                    Ok(None)
                }
                None => Ok(None),
            }
        })
        .await
    }

    /// Changes the password of the user of session `token`, checking the old one (failures
    /// count towards the rate limit), and ends every other session of that user.
    pub async fn change_password(
        &self,
        token: &str,
        old: Password,
        new: Password,
        ip: &str,
    ) -> Result<(), AccountError> {
        let user = self
            .session(token)
            .await?
            .ok_or(AccountError::NotSignedIn)?;
        let lookup = user.clone();
        let (email, stored) = self
            .with_db(move |conn, _| {
                Ok(conn.query_row(
                    "SELECT email, password_hash FROM account WHERE user_id = ?1",
                    [lookup.as_str()],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                )?)
            })
            .await?;
        password::check_strength(&new, &email).map_err(AccountError::WeakPassword)?;
        let reservation = self
            .reserve(vec![Limit::account(&email), Limit::sign_in_ip(ip)])
            .await?;
        let hash = self
            .hashing(move |scratch| {
                password::verify_with(&old, &stored, scratch)
                    .then(|| password::hash_with(&new, scratch))
                    .transpose()
            })
            .await?
            .map_err(AccountError::Internal)?;
        let Some(hash) = hash else {
            return Err(AccountError::InvalidCredentials);
        };
        self.release(reservation, Vec::new()).await?;
        let keep = sha256(token.as_bytes());
        let ended = user.clone();
        self.with_db(move |conn, _| {
            let tx = write_tx(conn)?;
            tx.execute(
                "UPDATE account SET password_hash = ?1 WHERE user_id = ?2",
                params![hash, user.as_str()],
            )?;
            tx.execute(
                "DELETE FROM session WHERE user_id = ?1 AND token_hash != ?2",
                params![user.as_str(), &keep[..]],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await?;
        self.inner
            .session_watches
            .end(|h, u| *u == ended && *h != keep);
        tracing::info!("password changed; other sessions ended");
        Ok(())
    }
}

fn insert_session(
    conn: &Connection,
    hash: &[u8; 32],
    user: &UserId,
    now: i64,
) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO session (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![&hash[..], user.as_str(), now, now + SESSION_TTL_MS],
    )?;
    Ok(())
}

fn prune_sessions(conn: &Connection, now: i64) -> Result<(), rusqlite::Error> {
    conn.execute("DELETE FROM session WHERE expires_at <= ?1", [now])?;
    Ok(())
}

/// A new session token (see [`random_token`]).
pub(super) fn new_token() -> Result<SessionToken, AccountError> {
    Ok(SessionToken(random_token()?))
}

impl Accounts {
    // The session-end watch of a socket (`session_end.rs`).
    /// What a WebSocket opened with session `token` waits on to close when the session ends;
    /// `None` if the session is not live (it ended between the socket's check and now).
    pub async fn session_end(&self, token: &str) -> Result<Option<SessionEnd>, AccountError> {
        let hash = sha256(token.as_bytes());
        let row = self
            .with_db(move |conn, now| {
                Ok(conn
                    .query_row(
                        "SELECT user_id, expires_at FROM session WHERE token_hash = ?1",
                        [&hash[..]],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
                    )
                    .optional()?
                    .filter(|(_, expires)| *expires > now)
                    .map(|(user, expires)| (user, expires - now)))
            })
            .await?;
        let Some((user, left_ms)) = row else {
            return Ok(None);
        };
        let Ok(user) = UserId::new(user) else {
            return Ok(None);
        };
        let ended = self.inner.session_watches.watch(hash, user);
        // The session may have ended between the query and the watch: look once more.
        if self.session(token).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(SessionEnd {
            ended,
            expires_in: Duration::from_millis(u64::try_from(left_ms).unwrap_or(0)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(new_token().unwrap().0.len(), 43);
    }
}
