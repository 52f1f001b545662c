//! The actor registry: which user each automerge actor id belongs to. A device registers its
//! actor before it writes; the validator refuses a change whose actor is not the sender's.

use automerge::ActorId;
use model::UserId;
use rusqlite::{OptionalExtension, params};

use super::{
    error::AccountError,
    store::{Accounts, random_bytes, write_tx},
};
use crate::trust::Identities;

/// At most this many actors per user (a device registers one or a few).
const MAX_ACTORS_PER_USER: i64 = 1000;

impl Accounts {
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
        // The server's own actor (role data) is nobody else's.
        if self.is_reserved_actor(&actor) {
            return Err(AccountError::ActorTaken);
        }
        if let Some(owner) = self.actor_owner(&actor) {
            return if &owner == user {
                Ok(actor.to_hex_string())
            } else {
                Err(AccountError::ActorTaken)
            };
        }
        let (id, bytes) = (user.clone(), actor.to_bytes().to_vec());
        self.with_db(move |conn, now| {
            let tx = write_tx(conn)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_ids() {
        assert_eq!(parse_actor("00ff").unwrap().to_hex_string(), "00ff");
        for bad in ["", "0", "zz", &"00".repeat(65)] {
            assert!(parse_actor(bad).is_none(), "{bad}");
        }
    }
}
