//! [`AppState`]: the municipality's villages (from `GET /api/bootstrap`, cached on the device)
//! and the village the resident chose. In context for the screens that need them; the
//! language is a context of its own ([`crate::i18n::Language`]).

use leptos::prelude::*;

use crate::platform::{
    bootstrap::{self, Bootstrap},
    storage,
};

/// Where the village list comes from right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    Loading,
    Done,
    Failed,
}

/// The villages and the resident's choice among them.
#[derive(Clone, Copy)]
pub struct AppState {
    pub bootstrap: RwSignal<Option<Bootstrap>>,
    pub fetch: RwSignal<Fetch>,
    pub village: RwSignal<Option<String>>,
}

impl AppState {
    /// The device's copies: the last village list and the chosen village.
    pub fn restore() -> Self {
        Self {
            bootstrap: RwSignal::new(bootstrap::cached()),
            fetch: RwSignal::new(Fetch::Loading),
            village: RwSignal::new(storage::get(storage::keys::VILLAGE)),
        }
    }

    /// The municipality's display name, once known (reactive).
    pub fn municipality_name(&self) -> String {
        self.bootstrap
            .with(|b| b.as_ref().map(|b| b.name.clone()).unwrap_or_default())
    }

    /// The name of village `id` (tracked), or its id.
    pub fn village_name(&self, id: &str) -> String {
        self.bootstrap
            .with(|b| {
                b.as_ref()
                    .and_then(|b| b.village(id))
                    .map(|v| v.name.clone())
            })
            .unwrap_or_else(|| id.to_owned())
    }

    /// Fetches a fresh village list; the cached one stays on screen meanwhile.
    pub fn refresh(self) {
        self.fetch.set(Fetch::Loading);
        leptos::task::spawn_local(async move {
            match bootstrap::fetch().await {
                Ok(fresh) => {
                    self.bootstrap.set(Some(fresh));
                    self.fetch.set(Fetch::Done);
                }
                Err(_) => self.fetch.set(Fetch::Failed),
            }
        });
    }
}
