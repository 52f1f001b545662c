//! Who is on the other end: the seam between accounts (sessions, roles, registered actors) and
//! the sync endpoint that enforces them.
//!
//! The accounts store (`accounts/`) implements [`Identities`]; `/sync` asks it who a connection
//! belongs to when the WebSocket is upgraded, and the change validator asks it, on a document's
//! task, which user an actor id is registered to and which roles that user holds. Those two
//! questions are answered from memory (no I/O): the validator runs inside the document's task.

use std::future::Future;
use std::pin::Pin;

use automerge::ActorId;
use model::{User, UserId};

/// A boxed future, so [`Identities`] can be used as `Arc<dyn Identities>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Accounts as the sync endpoint and the validator see them.
pub trait Identities: Send + Sync + 'static {
    /// The user a session token belongs to (from the `dk_session` cookie or a `token` query
    /// parameter); `None` when the token is unknown, expired or signed out. May do I/O.
    fn session_user<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<UserId>>;

    /// The user with the roles they hold now (a plain resident when they hold none). No I/O.
    fn user(&self, id: &UserId) -> User;

    /// The user an actor id is registered to, if any. No I/O.
    fn actor_owner(&self, actor: &ActorId) -> Option<UserId>;
}
