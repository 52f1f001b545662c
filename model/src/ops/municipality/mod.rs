//! Typed operations on the municipality document, one module per domain: roles (granted by the
//! server), associations, news and knowledge pages, consultations.

mod associations;
mod consultations;
mod publishing;
mod roles;

pub use associations::AssociationDraft;
pub use consultations::ConsultationDraft;
pub use publishing::ArticleDraft;
