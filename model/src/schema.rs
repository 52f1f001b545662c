//! The shape of the four document kinds, as data: root keys, field names, enums stored as
//! strings (kinds, categories, statuses, reactions), text limits, the key of the moderation log,
//! and the schema version (the migration path is in `migration`).
//!
//! Every collection is an Automerge map keyed by the object's id (never a list), so concurrent
//! inserts never collide and every object has a stable path such as
//! `help_posts/<id>/responses/<id>`; the key *is* the id and is not repeated inside (one op less
//! per object, and ops are what loading a large village costs). Every object carries `author`
//! (a user id) and `created_at` (ms since the Unix epoch) and, once edited, `updated_at`. Status
//! is not one register but a set of write-once timestamps (`matched_at`, `done_at`,
//! `withdrawn_at`, ...) from which the status is derived: merging forks can therefore only move a
//! status forward (or to withdrawn), never back.

use std::fmt;
use std::str::FromStr;

/// The schema version this build writes. Stored at the root as `schema_version`.
pub const SCHEMA_VERSION: u64 = 1;

/// Root key holding the schema version.
pub const KEY_SCHEMA_VERSION: &str = "schema_version";
/// Root key holding the document kind (`municipality`, `village`, `conversation`).
pub const KEY_KIND: &str = "kind";

/// The document kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    /// One per deployment: villages, associations, news, consultations, knowledge.
    Municipality,
    /// One per village: help posts, initiatives, events, board, volunteer profiles.
    Village,
    /// One per private conversation: participants and messages.
    Conversation,
    /// One per resident: the conversations they take part in (see [`crate::InboxDoc`]).
    Inbox,
}

impl DocKind {
    /// The kind whose [`DocKind::as_str`] is `name`.
    pub fn from_name(name: &str) -> Option<DocKind> {
        [
            DocKind::Municipality,
            DocKind::Village,
            DocKind::Conversation,
            DocKind::Inbox,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }

    /// The string stored under `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Municipality => "municipality",
            DocKind::Village => "village",
            DocKind::Conversation => "conversation",
            DocKind::Inbox => "inbox",
        }
    }

    /// The root maps a document of this kind holds.
    pub fn root_maps(self) -> &'static [&'static str] {
        match self {
            DocKind::Municipality => &[
                "villages",
                "associations",
                "news",
                "consultations",
                "knowledge",
            ],
            DocKind::Village => &["help_posts", "initiatives", "events", "board", "volunteers"],
            DocKind::Conversation => &["participants", "messages"],
            DocKind::Inbox => &["entries", "read"],
        }
    }

    pub(crate) fn parse(s: &str) -> Option<DocKind> {
        [
            DocKind::Municipality,
            DocKind::Village,
            DocKind::Conversation,
            DocKind::Inbox,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Limits of what a document holds. Text limits are in bytes (UTF-8), counted alike by the
/// typed operations ([`crate::OpError::TextTooLong`]) and by the validator, which also keeps the
/// collection limits ([`crate::shape::SHAPES`]) on every change, whoever wrote it.
pub mod limits {
    /// Titles and names.
    pub const TITLE: usize = 120;
    /// A consultation's question.
    pub const QUESTION: usize = 2 * TITLE;
    /// Descriptions, bodies, plans, explanations.
    pub const BODY: usize = 5_000;
    /// Comments, responses, messages, moderation reasons.
    pub const SHORT_BODY: usize = 2_000;
    /// Places, contact values, websites.
    pub const LINE: usize = 300;
    /// Most volunteers an event may ask for (and sign-ups it may hold).
    pub const MAX_VOLUNTEERS: u64 = 1_000;
    /// Responses one help post may hold.
    pub const MAX_RESPONSES: usize = 500;
    /// Partner associations of one initiative.
    pub const MAX_PARTNERS: usize = 100;
    /// Needs of one initiative.
    pub const MAX_NEEDS: usize = 200;
    /// Updates of one initiative.
    pub const MAX_UPDATES: usize = 1_000;
    /// Comments on one board post.
    pub const MAX_COMMENTS: usize = 1_000;
    /// Reactions on one board post (one per resident).
    pub const MAX_REACTIONS: usize = 10_000;
    /// Villages one volunteer profile covers.
    pub const MAX_PROFILE_VILLAGES: usize = 50;
    /// Availability windows of one volunteer profile.
    pub const MAX_AVAILABILITY: usize = 50;
    /// Villages one association is active in.
    pub const MAX_ASSOCIATION_VILLAGES: usize = 50;
    /// Admins or members of one association a client may list.
    pub const MAX_ROLE_ENTRIES: usize = 10_000;
    /// Responses to one consultation.
    pub const MAX_CONSULTATION_RESPONSES: usize = 20_000;
    /// Entries of one object's moderation log.
    pub const MAX_MODERATION_ENTRIES: usize = 200;
    /// Participants of one conversation.
    pub const MAX_PARTICIPANTS: usize = 50;
    /// Conversations one inbox may list. Below the server's documents-per-connection cap
    /// (1,000), so an owner's connection can always open every conversation of their inbox.
    pub const MAX_INBOX_ENTRIES: usize = 500;
    /// Entries one resident may have in another resident's inbox at once (the owner removing
    /// one makes room for another).
    pub const MAX_INBOX_ENTRIES_PER_SENDER: usize = 20;
    /// New conversations one resident may start per day (the server counts them).
    pub const MAX_NEW_CONVERSATIONS_PER_DAY: usize = 50;
    /// The largest ephemeral message (presence) the server relays, in bytes.
    pub const MAX_EPHEMERAL_BYTES: usize = 512;
    /// How far in the future a `created_at` may lie (clock skew between devices).
    pub const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The string stored in the document.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(UnknownValue { what: stringify!($name), value: s.to_owned() }),
                }
            }
        }
    };
}

/// A stored string that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what}")]
pub struct UnknownValue {
    /// Which enum.
    pub what: &'static str,
    /// The value found.
    pub value: String,
}

string_enum!(
    /// Whether a help post asks for help or offers it.
    HelpKind {
        /// Someone asks for help (hulpvraag).
        Request = "request",
        /// Someone offers help (hulpaanbod).
        Offer = "offer",
    }
);

string_enum!(
    /// What kind of help. Volunteers list the categories they help with.
    HelpCategory {
        /// Rides to the doctor, the station, the shop.
        Transport = "transport",
        /// Groceries and errands.
        Shopping = "shopping",
        /// Garden and yard work.
        Garden = "garden",
        /// Small repairs and odd jobs.
        OddJobs = "odd_jobs",
        /// A visit, a walk, company.
        Company = "company",
        /// Computer, phone and forms.
        Digital = "digital",
        /// Looking after pets.
        Pets = "pets",
        /// Anything else; matches every category at a lower rank.
        Other = "other",
    }
);

string_enum!(
    /// Status of a help post, derived from its write-once timestamps.
    HelpStatus {
        /// Waiting for responses.
        Open = "open",
        /// The author accepted a response.
        Matched = "matched",
        /// The help was given.
        Done = "done",
        /// Withdrawn by its author or the broker (from open or matched).
        Withdrawn = "withdrawn",
    }
);

string_enum!(
    /// Status of an initiative, derived from `started_at` / `done_at`.
    InitiativeStatus {
        /// Proposed, gathering partners and needs.
        Idea = "idea",
        /// Under way.
        Running = "running",
        /// Finished.
        Done = "done",
    }
);

string_enum!(
    /// Status of a consultation, derived from `closes_at` and `outcome`.
    ConsultationStatus {
        /// Taking responses until `closes_at`.
        Open = "open",
        /// Closed; the outcome is not yet published.
        Closed = "closed",
        /// The municipality published what it did with the responses.
        Reported = "reported",
    }
);

string_enum!(
    /// What an association is about.
    AssociationCategory {
        /// Sports club.
        Sports = "sports",
        /// Band, choir, fanfare.
        Music = "music",
        /// Theatre, history, carnival.
        Culture = "culture",
        /// Village interest association (belangenvereniging / dorpsraad).
        VillageCouncil = "village_council",
        /// Care and welfare.
        Care = "care",
        /// Youth work, scouting.
        Youth = "youth",
        /// Nature and environment.
        Nature = "nature",
        /// Anything else.
        Other = "other",
    }
);

string_enum!(
    /// A public contact channel of an association.
    ContactChannel {
        /// An e-mail address.
        Email = "email",
        /// A phone number.
        Phone = "phone",
        /// A web address.
        Website = "website",
        /// A social media handle or page.
        Social = "social",
    }
);

/// The key of the moderation log inside a moderated object
/// (`<object>/moderation/<time>-<broker>`: who hid or showed it, when, and why).
pub(crate) const MODERATION_LOG: &str = "moderation";

/// Reactions on board posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// 👍
    Like,
    /// ❤️
    Heart,
    /// 🙏
    Thanks,
}

impl Reaction {
    /// Every reaction, in the order the board shows them.
    pub const ALL: [Reaction; 3] = [Reaction::Like, Reaction::Heart, Reaction::Thanks];

    /// The reaction stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Reaction> {
        Reaction::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The string stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Reaction::Like => "like",
            Reaction::Heart => "heart",
            Reaction::Thanks => "thanks",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_their_strings() {
        for c in HelpCategory::ALL {
            assert_eq!(c.as_str().parse::<HelpCategory>().unwrap(), *c);
        }
        assert_eq!("nope".parse::<HelpStatus>().unwrap_err().what, "HelpStatus");
        assert_eq!(DocKind::parse("village"), Some(DocKind::Village));
        assert_eq!(DocKind::parse("x"), None);
    }
}
