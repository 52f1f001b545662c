//! Accounts for the trust tests, until the accounts store lands: an in-memory table of
//! session tokens, users with their roles, and registered actors, behind the real
//! `Identities` trait. Tests make accounts only through [`sign_up`], so switching the suite to
//! real accounts (sign-up over HTTP, roles by invite) means changing that one function.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use automerge::ActorId;
use model::{Roles, User, UserId};
use sync_server::{Identities, trust::BoxFuture};

use super::TestServer;

/// A signed-up user as a test sees them.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: User,
    /// The session token (`dk_session` cookie or `?token=`).
    pub token: String,
    /// The actor id registered to the user for this device.
    pub actor: ActorId,
}

impl Account {
    pub fn id(&self) -> &UserId {
        &self.user.id
    }

    /// `ws://.../sync?token=...` of `server`.
    pub fn url(&self, server: &TestServer) -> String {
        format!("{}?token={}", server.url(), self.token)
    }
}

#[derive(Default)]
pub struct MemoryIdentities {
    inner: Mutex<Tables>,
}

#[derive(Default)]
struct Tables {
    sessions: HashMap<String, UserId>,
    roles: HashMap<UserId, Roles>,
    actors: HashMap<ActorId, UserId>,
}

impl MemoryIdentities {
    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Identities for MemoryIdentities {
    fn session_user<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<UserId>> {
        let user = self.tables().sessions.get(token).cloned();
        Box::pin(async move { user })
    }

    fn user(&self, id: &UserId) -> User {
        User {
            id: id.clone(),
            roles: self.tables().roles.get(id).cloned().unwrap_or_default(),
        }
    }

    fn actor_owner(&self, actor: &ActorId) -> Option<UserId> {
        self.tables().actors.get(actor).cloned()
    }
}

/// Signs `name` up on `server` (started with [`TestServer::start_trusting`]) with `roles`: a
/// session token and one registered actor.
pub async fn sign_up(server: &TestServer, name: &str, roles: Roles) -> Account {
    let identities = server
        .identities
        .as_ref()
        .expect("a server started with trust on");
    let id = UserId::new(name).unwrap();
    let token: String = (0..4).map(|_| format!("{:016x}", rand())).collect();
    let actor = ActorId::random();
    let mut tables = identities.tables();
    tables.sessions.insert(token.clone(), id.clone());
    tables.roles.insert(id.clone(), roles.clone());
    tables.actors.insert(actor.clone(), id.clone());
    Account {
        user: User { id, roles },
        token,
        actor,
    }
}

fn rand() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes)
}
