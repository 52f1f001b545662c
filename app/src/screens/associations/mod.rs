//! The associations directory (verenigingen) across all villages, and an association's page.

mod directory;
mod form;
mod page;

pub use directory::AssociationsPage;
pub use page::AssociationPage;
