//! Typed operations, one module per domain. Each operation checks its preconditions and the
//! permission table ([`crate::may`]) before writing, and writes one minimal change, so an honest
//! app never produces a change the server's validator refuses. Nothing is written when one
//! fails.
//!
//! They are built from the write primitives of [`crate::doc`]: `create_child` (ask the
//! permission table, then write a new object with `author` and `created_at`), `stamp` (write a
//! status timestamp), `find`, `absent` and `child_map`. Preconditions several domains share are
//! in `checks`. This module only gathers the domains.

mod agenda;
mod board;
mod checks;
mod conversation;
mod help;
mod initiatives;
mod moderation;
mod municipality;
mod profiles;

pub use agenda::EventDraft;
pub use help::HelpDraft;
pub use initiatives::InitiativeDraft;
pub use moderation::{ModerationEntry, ModerationTarget};
pub use municipality::{ArticleDraft, AssociationDraft, ConsultationDraft};
pub use profiles::VolunteerProfile;
