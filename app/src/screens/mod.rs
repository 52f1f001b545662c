//! The screens, one module per area. A screen imports `ui`, `docs`, `platform`, `route`,
//! `i18n` and `model`, never another screen: a screen shows another through
//! [`crate::ui::lazy::Lazy`] or links to it through [`crate::route::Page::href`].

pub mod account;
pub mod associations;
pub mod consultations;
pub mod invite;
pub mod knowledge;
pub mod me;
pub mod messages;
pub mod village;
pub mod villages;
