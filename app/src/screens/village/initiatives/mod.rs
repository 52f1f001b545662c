//! The village workshop (dorpswerkplaats): initiatives, their lead and partner associations,
//! their needs, updates and a plan that several people write together.
//!
//! The plan is Automerge text. [`PlanEditor`] applies every input event as a model operation
//! (`VillageDoc::edit_plan`, a minimal text diff), so concurrent writers merge as splices; when
//! someone else's change arrives it rewrites the textarea and carries the writer's selection
//! along with Automerge cursors. See [`PlanEditor`] for why nothing typed is ever overwritten.

mod list;
mod page;
mod parts;
mod plan;
mod shared;

pub use list::InitiativesTab;
pub use page::InitiativePage;
