//! The accounts as the sync endpoint and the validator see them ([`Identities`]): sessions may
//! do I/O, roles and actors are answered from memory.

use automerge::ActorId;
use model::{AssociationId, User, UserId};
use std::sync::PoisonError;

use super::store::Accounts;
use crate::trust::{BoxFuture, Identities};

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
