//! Read-only views for the UI, hydrated by hand from the documents, one module per document
//! kind (a village's help board apart from the rest of the village). This module only gathers
//! them; what they share is in `shared`.
//!
//! Not with autosurgeon (which supports automerge 0.12): its derived `Hydrate` reads each field
//! with its own lookup, and a lookup costs about as much as scanning a whole small object. Here
//! each object is scanned once (`read::Fields`) and only what a screen needs is kept, which is
//! what brings the open-requests view of a 5,000-post village to ~30 ms (see
//! `docs/performance.md`).

mod conversation;
mod help;
mod municipality;
mod shared;
mod village;

pub use conversation::MessageView;
pub use help::{HelpPage, HelpPostView, ResponseView};
pub use municipality::{
    ArticleView, AssociationView, ConsultationResponseView, ConsultationView, VillageView,
};
pub use shared::TimeWindow;
pub(crate) use shared::{consultation_status, help_status, initiative_status};
pub use village::{
    BoardPostView, CommentView, EventView, InitiativeView, NeedView, UpdateView,
    VolunteerProfileView,
};
