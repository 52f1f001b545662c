//! `GET /api/bootstrap`: the JSON the app (or any automerge-repo client) starts from. The
//! rest of `/api` is the accounts' (`accounts/http.rs`) and the reports' (`reports.rs`).

use std::sync::Arc;

use axum::{Json, Router, extract::State, http::header, response::IntoResponse, routing::get};
use serde::Serialize;

use crate::db;

/// `GET /api/bootstrap`: the documents a newcomer needs, as automerge URLs.
#[derive(Debug, Clone, Serialize)]
pub struct Bootstrap {
    /// The municipality's display name.
    pub name: String,
    /// `automerge:<id>` of the municipality document.
    pub municipality: String,
    pub villages: Vec<BootstrapVillage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BootstrapVillage {
    pub id: String,
    pub name: String,
    /// `automerge:<id>` of the village document.
    pub doc: String,
}

impl From<db::Municipality> for Bootstrap {
    fn from(m: db::Municipality) -> Self {
        Self {
            name: m.name,
            municipality: m.doc.to_url(),
            villages: m
                .villages
                .into_iter()
                .map(|v| BootstrapVillage {
                    id: v.id,
                    name: v.name,
                    doc: v.doc.to_url(),
                })
                .collect(),
        }
    }
}

/// The route, to be nested under `/api`.
pub fn router() -> Router<Arc<crate::State>> {
    Router::new().route("/bootstrap", get(bootstrap))
}

async fn bootstrap(State(state): State<Arc<crate::State>>) -> impl IntoResponse {
    // The app keeps its own copy for offline starts; HTTP caches must always ask again.
    (
        [(header::CACHE_CONTROL, "no-cache")],
        Json(state.bootstrap.clone()),
    )
}
