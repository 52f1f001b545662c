//! The documents on this device, for the screens: the repo's contexts ([`sync_state`],
//! [`me`]), live documents, the typed wrappers of the village, municipality, conversation and
//! inbox documents, the outcome of an edit, refused changes, and stored views.

pub mod conversation_doc;
pub mod help_board;
pub mod help_view;
pub mod live_doc;
pub mod me;
pub mod municipality_doc;
pub mod municipality_edit;
pub mod open_docs;
pub mod outbox;
pub mod outcome;
pub mod plan_text;
pub mod refusal;
pub mod sync_state;
pub mod village_doc;
pub mod villages;
