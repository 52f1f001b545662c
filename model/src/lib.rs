//! The shared heart of Dorpskracht: what the documents hold and the rules for changing them.
//!
//! Architecture invariant: no I/O, no clock, no global randomness. Compiles for wasm32 and
//! native, so the app and the server enforce the same rules. Time comes in as `now`
//! (milliseconds since the Unix epoch) and ids come in from the caller.
//!
//! # Documents
//!
//! Four kinds of Automerge document, each behind a wrapper type:
//!
//! * [`MunicipalityDoc`] — one per deployment, made from the [`MunicipalitySeed`]: villages
//!   (name, neighbours, brokers), associations (name, category, villages, description, public
//!   contact channels, website, admins), news, consultations (village, question, explanation,
//!   closes-at, responses, outcome) and knowledge pages.
//! * [`VillageDoc`] — one per village: help posts (request or offer, category, when, status,
//!   responses, accepted response), initiatives (lead association, partners, plan as Automerge
//!   text, needs and who fills them, updates), events (organiser, start/end, place, volunteers
//!   needed and signed up), board posts with comments and reactions, and volunteer profiles.
//! * [`ConversationDoc`] — participants and messages, readable only by its participants.
//! * [`InboxDoc`] — one per resident: the conversations they take part in, so a recipient
//!   learns of a conversation; its id ([`inbox_document_id`]) and first change are derived
//!   from the owner alone.
//!
//! The layout is described in [`schema`]: collections are maps keyed by the object's stable id,
//! every object has `author` and `created_at` (and `updated_at` once edited), and statuses are
//! derived from write-once timestamps so a merge can only move them forward (or to withdrawn).
//! Co-edited descriptions (an initiative's plan) are Automerge text; short fields are scalars.
//!
//! # Schema version and migrations
//!
//! The root holds `schema_version` ([`SCHEMA_VERSION`]) and `kind`. [`MIGRATIONS`] is the
//! migration path, step `i` bringing a document from version `i` to `i + 1` as ordinary
//! Automerge operations. Only the server migrates (once, when it opens a stored document;
//! the change then syncs out). Opening a document of an older version works for reading, but
//! writing returns [`OpError::OutdatedSchema`] until it is migrated; a document of a newer
//! version is refused ([`SchemaError::NewerVersion`]) so an outdated app never damages it. A
//! future schema change adds a step to [`MIGRATIONS`] and bumps [`SCHEMA_VERSION`]; steps must
//! only add (new keys, new collections) or copy, never remove what older apps still read.
//!
//! # Writing: typed operations
//!
//! App code writes only through methods such as [`VillageDoc::post_help_request`],
//! [`VillageDoc::respond`], [`VillageDoc::accept_response`], [`VillageDoc::sign_up`] or
//! [`MunicipalityDoc::open_consultation`]. Each takes the acting [`User`], the new object's id,
//! the input and `now`; it checks its preconditions and returns a typed [`OpError`] (an empty
//! or too long title, responding to a withdrawn request, signing up twice, ...), asks the
//! permission table, and writes one small change. Nothing is written when it fails.
//!
//! # Permissions and validation
//!
//! [`RULES`] is the permission table (path pattern → who may create / change / delete), and
//! [`may`] the one function that reads it. [`validate_changes`] (or `validate_changes` on a
//! document type) takes the document, the new changes and their author: every op of every
//! change is decoded and judged at its path in the document before the change, so an edit
//! hidden by a later delete, a set-and-revert, or a write that loses a conflict is still caught.
//! It returns the first [`Violation`] with its path. [`validate_incoming`] gives the same
//! verdict for a server that has already applied a peer's message: it takes the document after
//! the changes and the heads before them, and reads each earlier state at its heads instead of
//! rebuilding it (`fork_at` of a large village costs ~0.5 s; this costs microseconds).
//!
//! # Reading: views, matching, search
//!
//! Views ([`HelpPostView`], [`EventView`], [`InitiativeView`], [`AssociationView`], ...) are
//! plain structs hydrated from a document, e.g. [`VillageDoc::open_requests`],
//! [`VillageDoc::upcoming_events`], [`VillageDoc::initiatives_needing_help`],
//! [`MunicipalityDoc::association`]. [`match_request`] and [`match_volunteer`] rank help
//! candidates (same village, then covered and neighbouring villages, category, time) with an
//! explanation. [`SearchIndex`] searches posts, events, initiatives and associations with
//! Dutch-aware normalisation.
//!
//! # Where things live
//!
//! Modules depend on each other in one direction only, leaves first:
//!
//! * `ids`, `read` (the read helpers: `get_str`, `get_obj`, `Fields`, `Reader`), [`schema`]
//!   (keys, enums, limits), `user`;
//! * `permission` ([`RULES`], [`may`]), `error` ([`OpError`]), `validate`, `migration`
//!   ([`MIGRATIONS`]);
//! * `doc`: the four document types, their life cycle, and the write primitives every operation
//!   is built from (`create_child` asks the permission table and writes a new object with
//!   `author` and `created_at`; `stamp` writes a status timestamp);
//! * `views`, one module per document kind, and `ops`, the typed operations, one module per
//!   domain (help, moderation, initiatives, agenda, board, profiles, conversations, and the
//!   municipality's roles, associations, publishing and consultations); `inbox` holds the
//!   inbox's life cycle, operations, view and [`inbox_document_id`]; `municipality` the seed;
//! * `matching` and `search`, which read views.
//!
//! # Example
//!
//! ```
//! use model::*;
//! use automerge::ActorId;
//!
//! let now = 1_700_000_000_000;
//! let ulft = VillageId::new("ulft").unwrap();
//! let mut doc = VillageDoc::new(&ulft, ActorId::random(), now);
//! let anna = User::resident(UserId::new("anna").unwrap());
//! let draft = HelpDraft {
//!     category: HelpCategory::Shopping,
//!     title: "Boodschappen op dinsdag".into(),
//!     description: String::new(),
//!     when: None,
//! };
//! let server_copy = doc.clone();
//! let before = doc.heads();
//! doc.post_help_request(&anna, &HelpPostId::new("p1").unwrap(), &draft, now).unwrap();
//! assert_eq!(doc.open_requests()[0].title, "Boodschappen op dinsdag");
//!
//! // What the server does when the change arrives from Anna's device: judge every op.
//! let changes = doc.changes_since(&before);
//! assert!(server_copy.validate_changes(&anna, &changes, now).is_ok());
//! let bert = User::resident(UserId::new("bert").unwrap());
//! assert!(server_copy.validate_changes(&bert, &changes, now).is_err());
//! ```

#![warn(missing_docs)]

mod doc;
mod ephemeral;
mod error;
mod ids;
mod inbox;
mod matching;
mod migration;
mod municipality;
mod ops;
mod permission;
mod read;
pub mod schema;
mod search;
pub mod shape;
mod user;
mod validate;
mod views;

pub use doc::{ConversationDoc, InboxDoc, MunicipalityDoc, VillageDoc};
pub use ephemeral::{EphemeralError, Presence, check_presence};
pub use error::{OpError, SchemaError};
pub use ids::*;
pub use inbox::{INBOX_ACTOR, InboxEntryView, inbox_document_id};
pub use matching::{
    Geography, Match, MatchKind, MatchPool, Reason, match_request, match_volunteer,
};
pub use migration::{MIGRATIONS, Migration, migrate, schema_version_of};
pub use municipality::{
    BrokerContactView, BrokerSeed, ConsultationSeed, KnowledgeSeed, MunicipalitySeed, SeedError,
    VillageSeed, end_of_day,
};
pub use ops::{
    ArticleDraft, AssociationDraft, ConsultationDraft, EventDraft, HelpDraft, InitiativeDraft,
    ModerationEntry, ModerationTarget, VolunteerProfile,
};
pub use permission::{
    Action, Denied, DenyReason, IMMUTABLE_FIELDS, Path, RULES, Rule, Who, find_rule, may,
};
pub use schema::{
    AssociationCategory, ConsultationStatus, ContactChannel, DocKind, HelpCategory, HelpKind,
    HelpStatus, InitiativeStatus, Reaction, SCHEMA_VERSION, UnknownValue,
};
pub use search::{STOP_WORDS, SearchHit, SearchIndex, SearchKind, fold, tokens};
pub use user::{Roles, User};
pub use validate::{
    Violation, ViolationReason, validate_changes, validate_incoming, validate_incoming_changes,
};
pub use views::*;

/// Re-exported so callers use the same Automerge version as this crate.
pub use automerge;
