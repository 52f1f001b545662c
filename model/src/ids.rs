//! Newtype identifiers. Every id is a short slug of ASCII letters, digits, `-` and `_`, so it
//! can be a map key in a document and a segment of a [`crate::Path`] without escaping.

use std::fmt;
use std::str::FromStr;

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid id: use 1 to 64 ASCII letters, digits, `-` or `_`")]
pub struct BadId(pub String);

/// Longest id accepted.
pub const MAX_ID_LEN: usize = 64;

pub(crate) fn check_id(s: &str) -> Result<(), BadId> {
    let ok = !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(BadId(s.to_owned())) }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Checks the slug rules and wraps the string.
            pub fn new(s: impl Into<String>) -> Result<Self, BadId> {
                let s = s.into();
                check_id(&s)?;
                Ok(Self(s))
            }

            /// A fresh id from 16 random bytes the caller supplies (this crate has no RNG):
            /// 32 lowercase hex digits.
            pub fn from_random(bytes: [u8; 16]) -> Self {
                Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
            }

            /// The id as it is stored in the document.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = BadId;
            fn from_str(s: &str) -> Result<Self, BadId> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A resident's account id, as the server issues it.
    UserId
);
id_type!(
    /// A village slug, e.g. `ulft` (the seed's `VillageSeed::id`).
    VillageId
);
id_type!(
    /// An association (vereniging).
    AssociationId
);
id_type!(
    /// A help request or help offer (hulpvraag / hulpaanbod).
    HelpPostId
);
id_type!(
    /// A response (reactie) to a help post.
    ResponseId
);
id_type!(
    /// An initiative of the village workshop.
    InitiativeId
);
id_type!(
    /// A need of an initiative.
    NeedId
);
id_type!(
    /// An update posted on an initiative.
    UpdateId
);
id_type!(
    /// An event (activiteit) in the village agenda.
    EventId
);
id_type!(
    /// A post on the village board (prikbord).
    BoardPostId
);
id_type!(
    /// A comment under a board post.
    CommentId
);
id_type!(
    /// A news item of the municipality.
    NewsId
);
id_type!(
    /// A consultation (raadpleging).
    ConsultationId
);
id_type!(
    /// A resident's or association's response to a consultation.
    ConsultationResponseId
);
id_type!(
    /// A knowledge page (kennisbank).
    KnowledgeId
);
id_type!(
    /// A message in a conversation.
    MessageId
);
id_type!(
    /// A conversation, named by its document's id (automerge-repo's base58 id, without the
    /// `automerge:` prefix): the key of its entry in an inbox.
    ConversationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_slug_rules() {
        assert!(UserId::new("alice-1_x").is_ok());
        assert_eq!(UserId::new(""), Err(BadId(String::new())));
        assert!(UserId::new("a/b").is_err());
        assert!(UserId::new("ë").is_err());
        assert!(UserId::new("a".repeat(65)).is_err());
        assert!(UserId::new("a".repeat(64)).is_ok());
        let r = HelpPostId::from_random([0xab; 16]);
        assert_eq!(r.as_str(), "ab".repeat(16));
        assert_eq!(HelpPostId::new(r.as_str()), Ok(r));
        let v: VillageId = "ulft".parse().unwrap();
        assert_eq!(v.to_string(), "ulft");
    }
}
