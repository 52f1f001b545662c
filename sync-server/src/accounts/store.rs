//! The accounts store itself: the database connection, the roles and actors kept in memory
//! in step with it, and the ways its methods (in the sibling files, by concern) reach them off
//! the async workers.

use std::{
    collections::{HashMap, HashSet},
    net::IpAddr,
    path::Path,
    sync::{Arc, Mutex, PoisonError, RwLock},
};

use automerge::ActorId;
use model::{Roles, UserId};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::{
    clock::Clock,
    error::AccountError,
    grant::stored_grants,
    hashing::{self, HashPool, Scratch},
    limit::{self, Limit, Reservation},
    session_end::SessionWatches,
};

/// The accounts store. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) db: Mutex<Connection>,
    pub(super) cache: RwLock<Cache>,
    /// The reverse proxies whose `X-Forwarded-For` names the client (`client_ip.rs`).
    pub(super) trusted_proxies: RwLock<Vec<IpAddr>>,
    /// Password hashing: a few threads, each with its memory (`hashing.rs`).
    pub(super) hashing: HashPool,
    pub(super) clock: Clock,
    /// Ids sign-up and actor registration refuse (`seeded.rs`).
    pub(super) reserved: RwLock<Reserved>,
    /// The sessions with open sockets, told when they end.
    pub(super) session_watches: SessionWatches,
    /// Whether the session cookie gets `Secure` (the public origin is https).
    pub(super) secure_cookies: bool,
}

#[derive(Default)]
pub(super) struct Cache {
    pub(super) roles: HashMap<UserId, Roles>,
    pub(super) actors: HashMap<ActorId, UserId>,
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
                trusted_proxies: RwLock::new(Vec::new()),
                hashing: HashPool::new(hashing::threads()),
                clock,
                reserved: RwLock::new(Reserved::default()),
                session_watches: SessionWatches::default(),
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

    pub(super) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.inner.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` with the database, off the async workers.
    pub(super) async fn with_db<T: Send + 'static>(
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

    /// Runs a password hash or check on a hashing thread, with its reusable memory.
    pub(super) async fn hashing<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Scratch) -> T + Send + 'static,
    ) -> Result<T, AccountError> {
        self.inner.hashing.run(f).await
    }

    /// Reserves a slot of each of `limits` for an attempt now, or says how many seconds to
    /// wait ([`AccountError::TooManyAttempts`]).
    pub(super) async fn reserve(&self, limits: Vec<Limit>) -> Result<Reservation, AccountError> {
        self.with_db(move |conn, now| {
            limit::reserve(conn, &limits, now)?
                .map_err(|retry_after| AccountError::TooManyAttempts { retry_after })
        })
        .await
    }

    /// Gives `reservation` back and clears the events of `clear` (a success).
    pub(super) async fn release(
        &self,
        reservation: Reservation,
        clear: Vec<Limit>,
    ) -> Result<(), AccountError> {
        self.with_db(move |conn, _| Ok(limit::release(conn, &reservation, &clear)?))
            .await
    }

    /// Reserves a sign-up from client address `ip` ([`limit::SIGN_UP_IP_LIMIT`] an hour).
    pub(crate) async fn reserve_sign_up(&self, ip: &str) -> Result<(), AccountError> {
        self.reserve(vec![Limit::sign_up_ip(ip)]).await.map(drop)
    }

    /// Believes `X-Forwarded-For` from these addresses only (`--trusted-proxy`).
    pub fn set_trusted_proxies(&self, proxies: Vec<IpAddr>) {
        *self
            .inner
            .trusted_proxies
            .write()
            .unwrap_or_else(PoisonError::into_inner) = proxies;
    }

    /// The reverse proxies whose `X-Forwarded-For` is believed.
    pub(crate) fn trusted_proxies(&self) -> Vec<IpAddr> {
        self.inner
            .trusted_proxies
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn cache_mut(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.inner
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The clock the accounts use.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Whether session cookies are `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.inner.secure_cookies
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
}

/// A transaction that takes the database's write lock at once. A deferred one that reads
/// first and writes later fails at once with "database is locked" (no busy wait) when another
/// connection (the document storage, the reports) committed in between; an immediate one
/// waits for the lock (`busy_timeout`) and then reads what is current.
pub(super) fn write_tx(
    conn: &mut Connection,
) -> Result<rusqlite::Transaction<'_>, rusqlite::Error> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

pub(super) fn random_bytes<const N: usize>() -> Result<[u8; N], AccountError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AccountError::Internal(format!("randomness: {e}")))?;
    Ok(bytes)
}

pub(super) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// User ids sign-up refuses without their bound invite, and actor ids nobody may register.
#[derive(Default)]
pub(super) struct Reserved {
    pub users: HashSet<UserId>,
    pub actors: HashSet<ActorId>,
}

/// 256 random bits, base64url without padding (43 characters): session and invite tokens.
pub(super) fn random_token() -> Result<String, AccountError> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}
