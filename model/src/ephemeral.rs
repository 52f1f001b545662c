//! Ephemeral messages: what a device may tell the other readers of a document without writing
//! it (presence: who is looking at what, where their caret is). The protocol carries them as
//! opaque bytes, so the server relays only what [`check_presence`] accepts.
//!
//! The one shape: a CBOR map of at most three entries, text keys, no others:
//! `user` (the sender's user id, required), `path` (where in the document they are, ids joined
//! by `/`, at most [`limits::LINE`] bytes) and `cursor` (a caret position, at most
//! [`limits::BODY`]). The whole message is at most [`limits::MAX_EPHEMERAL_BYTES`].

use minicbor::Decoder;
use minicbor::data::Type;

use crate::ids::{UserId, check_id};
use crate::schema::limits;

/// A presence message that passed [`check_presence`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// Who.
    pub user: UserId,
    /// Where in the document (`help_posts/<id>`), if said.
    pub path: Option<String>,
    /// The caret position in the text at `path`, if said.
    pub cursor: Option<u64>,
}

/// Why an ephemeral message is not relayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EphemeralError {
    /// Over [`limits::MAX_EPHEMERAL_BYTES`].
    #[error("an ephemeral message has {len} bytes, at most {max} are relayed")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not the presence shape.
    #[error("an ephemeral message is a presence map: {0}")]
    BadShape(&'static str),
    /// `user` is not the sender.
    #[error("an ephemeral message speaks for its sender only")]
    NotTheSender,
}

fn bad(why: &'static str) -> impl Fn(minicbor::decode::Error) -> EphemeralError {
    move |_| EphemeralError::BadShape(why)
}

/// Checks an ephemeral message's bytes from `sender` (when the connection is signed in) and
/// returns what it says.
pub fn check_presence(data: &[u8], sender: Option<&UserId>) -> Result<Presence, EphemeralError> {
    if data.len() > limits::MAX_EPHEMERAL_BYTES {
        return Err(EphemeralError::TooLarge {
            len: data.len(),
            max: limits::MAX_EPHEMERAL_BYTES,
        });
    }
    let mut d = Decoder::new(data);
    let n = d
        .map()
        .map_err(bad("not a map"))?
        .ok_or(EphemeralError::BadShape("a map of known length"))?;
    if n > 3 {
        return Err(EphemeralError::BadShape("at most three entries"));
    }
    let (mut user, mut path, mut cursor) = (None, None, None);
    for _ in 0..n {
        if d.datatype().map_err(bad("truncated"))? != Type::String {
            return Err(EphemeralError::BadShape("keys are texts"));
        }
        let key = d.str().map_err(bad("keys are texts"))?;
        match key {
            "user" if user.is_none() => {
                let s = d.str().map_err(bad("`user` is a text"))?;
                user =
                    Some(UserId::new(s).map_err(|_| EphemeralError::BadShape("`user` is an id"))?);
            }
            "path" if path.is_none() => {
                let s = d.str().map_err(bad("`path` is a text"))?;
                if s.len() > limits::LINE || s.split('/').any(|seg| check_id(seg).is_err()) {
                    return Err(EphemeralError::BadShape("`path` is ids joined by `/`"));
                }
                path = Some(s.to_owned());
            }
            "cursor" if cursor.is_none() => {
                let c = d.u64().map_err(bad("`cursor` is a number"))?;
                if c > limits::BODY as u64 {
                    return Err(EphemeralError::BadShape("`cursor` lies beyond any text"));
                }
                cursor = Some(c);
            }
            "user" | "path" | "cursor" => return Err(EphemeralError::BadShape("a key twice")),
            _ => return Err(EphemeralError::BadShape("only `user`, `path` and `cursor`")),
        }
    }
    if d.position() != data.len() {
        return Err(EphemeralError::BadShape("nothing after the map"));
    }
    let user = user.ok_or(EphemeralError::BadShape("`user` is required"))?;
    if sender.is_some_and(|s| *s != user) {
        return Err(EphemeralError::NotTheSender);
    }
    Ok(Presence { user, path, cursor })
}
