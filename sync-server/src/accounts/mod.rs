//! Accounts: sign-up, sign-in with rate limiting, sessions, registered actors, invites and
//! roles, in the server's SQLite database (tables in `db.rs`'s migration 3).
//!
//! Secrets never stored in the clear: passwords as argon2id PHC strings ([`password`]),
//! session and invite tokens (256 random bits, base64url) as their SHA-256. Sessions last
//! [`SESSION_TTL_MS`] (30 days) from sign-in, not sliding: signing in again starts a new one;
//! expired sessions are refused and pruned. Roles in the `role` table are the truth the sync
//! endpoint enforces ([`Identities::user`]); the server also writes them into the municipality
//! document (`roles.rs`) so the app can show them.
//!
//! Roles are taken away through [`Accounts::revoke_role`] (`DELETE /api/roles`): the row goes
//! from `role`, a row in `role_revocation` remembers it (so the start's reconciliation in
//! `roles.rs` neither grants it again from the seed or the document nor leaves it in the
//! document), and the server writes the removal into the municipality document.
//!
//! [`Accounts`] keeps the roles and the actor registry in memory, in step with the database
//! (written to the database first, then to memory), so [`Identities::user`] and
//! [`Identities::actor_owner`] do no I/O.

mod claims;
mod clock;
pub(crate) mod http;
mod limit;
mod password;
pub(crate) mod roles;

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex, PoisonError, RwLock},
};

use automerge::ActorId;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use model::{AssociationId, Roles, User, UserId, VillageId};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

pub use clock::Clock;
pub use http::session_token;
pub use limit::{ACCOUNT_LIMIT, IP_LIMIT, WINDOW_MS};
pub use password::{Password, WeakPassword};

use crate::trust::{BoxFuture, Identities};

/// How long a session lasts from sign-in: 30 days.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// How long an invite link stays valid: 7 days.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "dk_session";
/// At most this many actors per user (a device registers one or a few).
const MAX_ACTORS_PER_USER: i64 = 1000;
/// Password hashes computed at once (each takes 19 MiB and a core for tens of ms).
const CONCURRENT_HASHES: usize = 2;

/// Why an accounts request failed. [`AccountError::code`] is the `error` of the JSON answer.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the e-mail address is not valid")]
    InvalidEmail,
    #[error("the display name is empty or too long")]
    InvalidDisplayName,
    #[error("the password is too weak: {}", .0.code())]
    WeakPassword(WeakPassword),
    #[error("an account with this e-mail address exists")]
    EmailTaken,
    #[error("wrong e-mail address or password")]
    InvalidCredentials,
    #[error("too many failed sign-ins; retry after {retry_after} s")]
    TooManyAttempts { retry_after: u64 },
    #[error("not signed in")]
    NotSignedIn,
    #[error("not allowed")]
    Forbidden,
    #[error("the actor id is not hex of 1 to 64 bytes")]
    InvalidActor,
    #[error("the actor id belongs to another user")]
    ActorTaken,
    #[error("too many actors for this user")]
    TooManyActors,
    #[error("the invite's kind or target is not valid")]
    InvalidInvite,
    #[error("no such invite")]
    InviteNotFound,
    #[error("the invite was used already")]
    InviteUsed,
    #[error("the invite expired")]
    InviteExpired,
    #[error("the invite's village or association does not exist")]
    UnknownTarget,
    #[error("the role's kind or target is not valid")]
    InvalidRole,
    #[error("the user does not hold that role")]
    RoleNotFound,
    #[error("the association's last admin cannot be removed")]
    LastAdmin,
    #[error("the user id already names someone in the public documents")]
    UserIdInUse,
    #[error("internal error: {0}")]
    Internal(String),
}

impl AccountError {
    /// The machine-readable code the app translates.
    pub fn code(&self) -> &'static str {
        match self {
            AccountError::InvalidEmail => "invalid_email",
            AccountError::InvalidDisplayName => "invalid_display_name",
            AccountError::WeakPassword(w) => w.code(),
            AccountError::EmailTaken => "email_taken",
            AccountError::InvalidCredentials => "invalid_credentials",
            AccountError::TooManyAttempts { .. } => "too_many_attempts",
            AccountError::NotSignedIn => "not_signed_in",
            AccountError::Forbidden => "forbidden",
            AccountError::InvalidActor => "invalid_actor",
            AccountError::ActorTaken => "actor_taken",
            AccountError::TooManyActors => "too_many_actors",
            AccountError::InvalidInvite => "invalid_invite",
            AccountError::InviteNotFound => "invite_not_found",
            AccountError::InviteUsed => "invite_used",
            AccountError::InviteExpired => "invite_expired",
            AccountError::UnknownTarget => "unknown_target",
            AccountError::InvalidRole => "invalid_role",
            AccountError::RoleNotFound => "role_not_found",
            AccountError::LastAdmin => "last_admin",
            AccountError::UserIdInUse => "user_id_in_use",
            AccountError::Internal(_) => "internal",
        }
    }
}

impl From<rusqlite::Error> for AccountError {
    fn from(e: rusqlite::Error) -> Self {
        AccountError::Internal(format!("database: {e}"))
    }
}

/// A role beyond resident, as granted and stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Grant {
    MunicipalityAdmin,
    Broker(VillageId),
    AssociationAdmin(AssociationId),
    AssociationMember(AssociationId),
}

impl Grant {
    fn kind(&self) -> &'static str {
        match self {
            Grant::MunicipalityAdmin => "municipality_admin",
            Grant::Broker(_) => "broker",
            Grant::AssociationAdmin(_) => "association_admin",
            Grant::AssociationMember(_) => "association_member",
        }
    }

    fn target(&self) -> &str {
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

    fn remove_from(&self, roles: &mut Roles) {
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

    fn add_to(&self, roles: &mut Roles) {
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

/// A signed-in user as `GET /api/session` shows them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub display_name: String,
    pub email: String,
    pub roles: RolesView,
}

/// The roles in an [`Account`], as JSON.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct RolesView {
    pub municipality_admin: bool,
    pub broker_of: Vec<String>,
    pub admin_of: Vec<String>,
    pub member_of: Vec<String>,
}

impl From<&Roles> for RolesView {
    fn from(r: &Roles) -> Self {
        let strings = |s: &mut dyn Iterator<Item = &str>| s.map(str::to_owned).collect();
        Self {
            municipality_admin: r.municipality_admin,
            broker_of: strings(&mut r.broker_of.iter().map(VillageId::as_str)),
            admin_of: strings(&mut r.admin_of.iter().map(AssociationId::as_str)),
            member_of: strings(&mut r.member_of.iter().map(AssociationId::as_str)),
        }
    }
}

/// A new session's token (256 random bits, base64url): goes into the cookie, never stored.
#[derive(Clone)]
pub struct SessionToken(pub String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// What sign-up takes.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SignUp {
    pub email: String,
    pub password: Password,
    pub display_name: String,
    /// The app's local profile id, kept if it is well-formed and no account has it (another
    /// account's id gets a random one instead). One that already names someone in the public
    /// documents but has no account is refused (`user_id_in_use`, checked by the HTTP layer
    /// before this: see `claims.rs`).
    #[serde(default)]
    pub user_id: Option<String>,
}

/// The accounts store. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    inner: Arc<Inner>,
}

struct Inner {
    db: Mutex<Connection>,
    cache: RwLock<Cache>,
    limiter: Mutex<limit::Limiter>,
    hashing: Semaphore,
    clock: Clock,
    /// Whether the session cookie gets `Secure` (the public origin is https).
    secure_cookies: bool,
}

#[derive(Default)]
struct Cache {
    roles: HashMap<UserId, Roles>,
    actors: HashMap<ActorId, UserId>,
}

impl Accounts {
    /// Opens the accounts in the database in `data` (migrating it) and loads roles and actors
    /// into memory. Blocking.
    pub fn open(data: &Path, clock: Clock, secure_cookies: bool) -> Result<Self, crate::Error> {
        let conn = crate::db::Db::open(data)?.into_connection();
        // The document storage writes to the same file: wait for its lock rather than fail.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let accounts = Self {
            inner: Arc::new(Inner {
                db: Mutex::new(conn),
                cache: RwLock::new(Cache::default()),
                limiter: Mutex::new(limit::Limiter::default()),
                hashing: Semaphore::new(CONCURRENT_HASHES),
                clock,
                secure_cookies,
            }),
        };
        accounts.reload_cache()?;
        Ok(accounts)
    }

    fn reload_cache(&self) -> Result<(), rusqlite::Error> {
        let conn = self.conn();
        let mut cache = Cache::default();
        for (user, grant) in stored_grants(&conn, "role")? {
            grant.add_to(cache.roles.entry(user).or_default());
        }
        let mut stmt = conn.prepare("SELECT actor_id, user_id FROM actor")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (actor, user) = row?;
            if let Ok(user) = UserId::new(user) {
                cache.actors.insert(ActorId::from(actor), user);
            }
        }
        drop(stmt);
        *self
            .inner
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner) = cache;
        Ok(())
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.inner.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` with the database, off the async workers.
    async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection, i64) -> Result<T, AccountError> + Send + 'static,
    ) -> Result<T, AccountError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let now = this.inner.clock.now_ms();
            f(&mut this.conn(), now)
        })
        .await
        .map_err(|e| AccountError::Internal(format!("database task: {e}")))?
    }

    /// Runs a password hash or check, off the async workers and at most a few at once.
    async fn hashing<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AccountError> {
        let _permit = self
            .inner
            .hashing
            .acquire()
            .await
            .map_err(|_| AccountError::Internal("hashing closed".into()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| AccountError::Internal(format!("hashing task: {e}")))
    }

    /// The clock the accounts use.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Whether session cookies are `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.inner.secure_cookies
    }

    /// The checks of [`Self::sign_up`] that need no hashing and no database, so a request
    /// they refuse costs nothing more.
    pub(crate) fn check_sign_up(req: &SignUp) -> Result<(), AccountError> {
        let email = normalize_email(&req.email)?;
        check_display_name(&req.display_name)?;
        password::check_strength(&req.password, &email).map_err(AccountError::WeakPassword)
    }

    /// Creates an account and signs it in.
    pub async fn sign_up(&self, req: SignUp) -> Result<(Account, SessionToken), AccountError> {
        let email = normalize_email(&req.email)?;
        let display_name = check_display_name(&req.display_name)?;
        password::check_strength(&req.password, &email).map_err(AccountError::WeakPassword)?;
        let password = req.password;
        let hash = self
            .hashing(move || password::hash(&password))
            .await?
            .map_err(AccountError::Internal)?;
        let proposed = req.user_id.and_then(|id| UserId::new(id).ok());
        let token = new_token()?;
        let token_hash = sha256(token.0.as_bytes());
        let user = self
            .with_db(move |conn, now| {
                let tx = conn.transaction()?;
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
                insert_session(&tx, &token_hash, &id, now)?;
                tx.commit()?;
                Ok(id)
            })
            .await?;
        tracing::info!(user = %user, "account created");
        let account = self.account(user).await?.ok_or(AccountError::NotSignedIn)?;
        Ok((account, token))
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
        let now = self.inner.clock.now_ms();
        self.limiter()
            .check(&email, ip, now)
            .map_err(|retry_after| AccountError::TooManyAttempts { retry_after })?;
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
            .hashing(move || match stored {
                Some((user, hash)) => password::verify(&password, &hash).then_some(user),
                None => {
                    password::verify_dummy(&password);
                    None
                }
            })
            .await?;
        let Some(user) = user.and_then(|u| UserId::new(u).ok()) else {
            self.limiter().failed(&email, ip, self.inner.clock.now_ms());
            tracing::info!("failed sign-in");
            return Err(AccountError::InvalidCredentials);
        };
        self.limiter().succeeded(&email);
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

    fn limiter(&self) -> std::sync::MutexGuard<'_, limit::Limiter> {
        self.inner
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Ends the session of `token` (nothing happens if it has none).
    pub async fn sign_out(&self, token: &str) -> Result<(), AccountError> {
        let hash = sha256(token.as_bytes());
        self.with_db(move |conn, _| {
            conn.execute("DELETE FROM session WHERE token_hash = ?1", [&hash[..]])?;
            Ok(())
        })
        .await
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

    /// The account of `user` with its roles now.
    pub async fn account(&self, user: UserId) -> Result<Option<Account>, AccountError> {
        let roles = self.roles(&user);
        self.with_db(move |conn, _| {
            Ok(conn
                .query_row(
                    "SELECT email, display_name FROM account WHERE user_id = ?1",
                    [user.as_str()],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?
                .map(|(email, display_name)| Account {
                    id: user.to_string(),
                    display_name,
                    email,
                    roles: RolesView::from(&roles),
                }))
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
        let now = self.inner.clock.now_ms();
        self.limiter()
            .check(&email, ip, now)
            .map_err(|retry_after| AccountError::TooManyAttempts { retry_after })?;
        password::check_strength(&new, &email).map_err(AccountError::WeakPassword)?;
        let hash = self
            .hashing(move || {
                password::verify(&old, &stored)
                    .then(|| password::hash(&new))
                    .transpose()
            })
            .await?
            .map_err(AccountError::Internal)?;
        let Some(hash) = hash else {
            self.limiter().failed(&email, ip, now);
            return Err(AccountError::InvalidCredentials);
        };
        let keep = sha256(token.as_bytes());
        self.with_db(move |conn, _| {
            let tx = conn.transaction()?;
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
        tracing::info!("password changed; other sessions ended");
        Ok(())
    }

    /// Registers an actor id to `user`: the one the device proposes (hex) if no other user has
    /// it, else a new random one. Returns it as hex.
    pub async fn register_actor(
        &self,
        user: &UserId,
        proposed: Option<&str>,
    ) -> Result<String, AccountError> {
        let actor = match proposed {
            Some(hex) => parse_actor(hex).ok_or(AccountError::InvalidActor)?,
            None => ActorId::from(random_bytes::<16>()?.as_slice()),
        };
        if let Some(owner) = self.actor_owner(&actor) {
            return if &owner == user {
                Ok(actor.to_hex_string())
            } else {
                Err(AccountError::ActorTaken)
            };
        }
        let (id, bytes) = (user.clone(), actor.to_bytes().to_vec());
        self.with_db(move |conn, now| {
            let tx = conn.transaction()?;
            let count: i64 = tx.query_row(
                "SELECT count(*) FROM actor WHERE user_id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )?;
            if count >= MAX_ACTORS_PER_USER {
                return Err(AccountError::TooManyActors);
            }
            let owner: Option<String> = tx
                .query_row(
                    "SELECT user_id FROM actor WHERE actor_id = ?1",
                    [&bytes],
                    |r| r.get(0),
                )
                .optional()?;
            match owner {
                Some(o) if o == id.as_str() => {}
                Some(_) => return Err(AccountError::ActorTaken),
                None => {
                    tx.execute(
                        "INSERT INTO actor (actor_id, user_id, created_at) VALUES (?1, ?2, ?3)",
                        params![bytes, id.as_str(), now],
                    )?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
        self.cache_mut().actors.insert(actor.clone(), user.clone());
        Ok(actor.to_hex_string())
    }

    fn cache_mut(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.inner
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The roles `user` holds now (from memory).
    pub fn roles(&self, user: &UserId) -> Roles {
        self.inner
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .roles
            .get(user)
            .cloned()
            .unwrap_or_default()
    }

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
        let token = new_token()?;
        let hash = sha256(token.0.as_bytes());
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
        Ok(token.0)
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
                let tx = conn.transaction()?;
                let grant = invite_state(&tx, &hash, now)?;
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

    /// Grants `grant` to `user` (idempotent), in the database and in memory. Blocking.
    pub fn grant_blocking(&self, user: &UserId, grant: &Grant) -> Result<(), AccountError> {
        insert_role(&self.conn(), user, grant, self.inner.clock.now_ms())?;
        grant.add_to(self.cache_mut().roles.entry(user.clone()).or_default());
        Ok(())
    }

    /// The validator accepted a change that registers `association` with `creator` as its
    /// first admin (the one role write the rules let a client make): record that role. Takes
    /// effect in memory at once; the database write follows on a blocking thread (and the
    /// next start recovers it from the municipality document should it be lost).
    pub fn association_registered(&self, association: &AssociationId, creator: &UserId) {
        let grant = Grant::AssociationAdmin(association.clone());
        grant.add_to(self.cache_mut().roles.entry(creator.clone()).or_default());
        let (this, user) = (self.clone(), creator.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = insert_role(&this.conn(), &user, &grant, this.inner.clock.now_ms()) {
                tracing::error!("recording an association's creator as its admin: {e}");
            }
        });
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
            let tx = conn.transaction()?;
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

    /// Whether an account has user id `user`.
    pub async fn has_account(&self, user: &UserId) -> Result<bool, AccountError> {
        let id = user.clone();
        self.with_db(move |conn, _| {
            Ok(conn
                .query_row(
                    "SELECT 1 FROM account WHERE user_id = ?1",
                    [id.as_str()],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
        })
        .await
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

    /// Creates an account that is municipality admin (`sync-server admin create`). Blocking.
    pub fn create_admin_blocking(
        &self,
        email: &str,
        display_name: &str,
        password: &Password,
    ) -> Result<UserId, AccountError> {
        let email = normalize_email(email)?;
        let display_name = check_display_name(display_name)?;
        password::check_strength(password, &email).map_err(AccountError::WeakPassword)?;
        let hash = password::hash(password).map_err(AccountError::Internal)?;
        let now = self.inner.clock.now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if tx
            .query_row("SELECT 1 FROM account WHERE email = ?1", [&email], |_| {
                Ok(())
            })
            .optional()?
            .is_some()
        {
            return Err(AccountError::EmailTaken);
        }
        let id = UserId::from_random(random_bytes()?);
        tx.execute(
            "INSERT INTO account (user_id, email, display_name, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id.as_str(), email, display_name, hash, now],
        )?;
        insert_role(&tx, &id, &Grant::MunicipalityAdmin, now)?;
        tx.commit()?;
        drop(conn);
        Grant::MunicipalityAdmin.add_to(self.cache_mut().roles.entry(id.clone()).or_default());
        Ok(id)
    }
}

impl Identities for Accounts {
    fn session_user<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<UserId>> {
        Box::pin(async move {
            match self.session(token).await {
                Ok(user) => user,
                Err(e) => {
                    tracing::error!("looking up a session: {e}");
                    None
                }
            }
        })
    }

    fn user(&self, id: &UserId) -> User {
        User {
            id: id.clone(),
            roles: self.roles(id),
        }
    }

    fn actor_owner(&self, actor: &ActorId) -> Option<UserId> {
        self.inner
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .actors
            .get(actor)
            .cloned()
    }

    fn association_registered(&self, association: &AssociationId, creator: &UserId) {
        Accounts::association_registered(self, association, creator);
    }
}

fn invite_state(conn: &Connection, hash: &[u8; 32], now: i64) -> Result<Grant, AccountError> {
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

fn insert_role(
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

/// Trimmed and lowercased; one `@` with something on both sides, no spaces, at most 254 bytes.
fn normalize_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') && domain.contains('.'));
    if ok {
        Ok(email)
    } else {
        Err(AccountError::InvalidEmail)
    }
}

/// Trimmed, 1 to 80 characters, no control characters.
fn check_display_name(name: &str) -> Result<String, AccountError> {
    let name = name.trim();
    let n = name.chars().count();
    if (1..=80).contains(&n) && !name.chars().any(char::is_control) {
        Ok(name.to_owned())
    } else {
        Err(AccountError::InvalidDisplayName)
    }
}

fn parse_actor(hex: &str) -> Option<ActorId> {
    if hex.is_empty() || hex.len() > 128 || !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(ActorId::from(bytes))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], AccountError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AccountError::Internal(format!("randomness: {e}")))?;
    Ok(bytes)
}

/// 256 random bits, base64url without padding (43 characters).
fn new_token() -> Result<SessionToken, AccountError> {
    Ok(SessionToken(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The `(user_id, kind, target)` rows of `table` (`role` or `role_revocation`); a row that does
/// not parse is logged and skipped.
fn stored_grants(conn: &Connection, table: &str) -> Result<Vec<(UserId, Grant)>, rusqlite::Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_actor_ids() {
        assert_eq!(
            normalize_email(" Anna@Example.NL ").unwrap(),
            "anna@example.nl"
        );
        for bad in ["anna", "@x.nl", "a@", "a b@x.nl", "a@b@c.nl", "a@localhost"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_actor("00ff").unwrap().to_hex_string(), "00ff");
        for bad in ["", "0", "zz", &"00".repeat(65)] {
            assert!(parse_actor(bad).is_none(), "{bad}");
        }
        assert_eq!(new_token().unwrap().0.len(), 43);
    }
}
