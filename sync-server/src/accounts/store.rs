//! The accounts store itself: the database connection, the roles and actors kept in memory
//! in step with it, and the ways its methods (in the sibling files, by concern) reach them off
//! the async workers.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex, PoisonError, RwLock},
};

use automerge::ActorId;
use model::{Roles, UserId};
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::{clock::Clock, error::AccountError, grant::stored_grants, limit};

/// Password hashes computed at once (each takes 19 MiB and a core for tens of ms).
const CONCURRENT_HASHES: usize = 2;

/// The accounts store. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) db: Mutex<Connection>,
    pub(super) cache: RwLock<Cache>,
    pub(super) limiter: Mutex<limit::Limiter>,
    pub(super) hashing: Semaphore,
    pub(super) clock: Clock,
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

    /// Runs a password hash or check, off the async workers and at most a few at once.
    pub(super) async fn hashing<T: Send + 'static>(
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

    pub(super) fn limiter(&self) -> std::sync::MutexGuard<'_, limit::Limiter> {
        self.inner
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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

pub(super) fn random_bytes<const N: usize>() -> Result<[u8; N], AccountError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AccountError::Internal(format!("randomness: {e}")))?;
    Ok(bytes)
}

pub(super) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}
