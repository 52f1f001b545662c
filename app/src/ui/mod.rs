//! Widgets and form helpers every screen uses: notices, form fields and their errors, the
//! labels of categories and statuses, author names, sign-in prompts, the invite form, and
//! screens that load when first opened.

pub mod author;
pub mod form;
pub mod invite_maker;
pub mod labels;
pub mod lazy;
pub mod notice;
pub mod sign_in;
pub mod text;
