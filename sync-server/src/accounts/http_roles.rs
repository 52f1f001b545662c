//! The invite and role routes of the accounts' HTTP API (`http.rs` has the table): making,
//! showing and accepting invites, and taking roles away, each then written into the
//! municipality document.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use model::{AssociationId, UserId};
use serde::Deserialize;
use serde_json::json;

use super::{error::AccountError, grant::Grant, request_session::current_user, roles};
use crate::State as AppState;

type St = State<Arc<AppState>>;

/// The invite and role routes, under `/api`.
pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/invites", post(create_invite))
        .route("/invites/{token}", get(show_invite))
        .route("/invites/{token}/accept", post(accept_invite))
        .route("/roles", delete(revoke_role))
}

#[derive(Deserialize)]
struct InviteRequest {
    kind: String,
    target: String,
}

async fn create_invite(
    State(state): St,
    headers: HeaderMap,
    Json(req): Json<InviteRequest>,
) -> Result<Response, AccountError> {
    let user = current_user(&state, &headers).await?;
    let villages: Vec<String> = state
        .bootstrap
        .villages
        .iter()
        .map(|v| v.id.clone())
        .collect();
    let token = state
        .accounts
        .create_invite(&user, &req.kind, &req.target, &villages)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "url": format!("/uitnodiging/{token}") })),
    )
        .into_response())
}

/// What an invite grants, for the page its link opens (no session needed: the token is the
/// secret): `{kind, target}`, or 404 `invite_not_found`, 410 `invite_used` / `invite_expired`.
async fn show_invite(
    State(state): St,
    Path(token): Path<String>,
) -> Result<Response, AccountError> {
    let grant = state.accounts.invite(&token).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "kind": grant.kind(), "target": grant.target() })),
    )
        .into_response())
}

async fn accept_invite(
    State(state): St,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, AccountError> {
    let user = current_user(&state, &headers).await?;
    // An association the document does not have cannot be joined (its id was only checked
    // for form when the invite was made by a municipality admin).
    if let Grant::AssociationAdmin(a) | Grant::AssociationMember(a) =
        state.accounts.invite(&token).await?
        && !association_exists(&state, &a).await?
    {
        return Err(AccountError::UnknownTarget);
    }
    let grant = state.accounts.accept_invite(&user, &token).await?;
    write_role(&state, user.clone(), grant).await;
    let account = state
        .accounts
        .account(user)
        .await?
        .ok_or(AccountError::NotSignedIn)?;
    Ok(Json(json!({ "user": account })).into_response())
}

/// Writes a role just granted into the municipality document, so connected apps see it.
pub(super) async fn write_role(state: &AppState, user: UserId, grant: Grant) {
    let now = state.accounts.clock().now_ms();
    let written = roles::write(
        &state.hub,
        state.municipality_doc,
        state.server_actor.clone(),
        vec![(user, grant)],
        now,
    )
    .await;
    if let Err(e) = written {
        // The role holds (the accounts are the truth); the next start writes it again.
        tracing::error!("writing a role into the municipality document: {e}");
    }
}

async fn association_exists(state: &AppState, a: &AssociationId) -> Result<bool, AccountError> {
    roles::association_exists(&state.hub, state.municipality_doc, a).await
}

#[derive(Deserialize)]
struct RoleRequest {
    user_id: String,
    kind: String,
    target: String,
}

/// `DELETE /api/roles`: takes a role away (who may: [`Accounts::revoke_role`]), then
/// writes the removal into the municipality document, from where connected apps receive it.
async fn revoke_role(
    State(state): St,
    headers: HeaderMap,
    Json(req): Json<RoleRequest>,
) -> Result<StatusCode, AccountError> {
    let by = current_user(&state, &headers).await?;
    let (Ok(user), Some(grant)) = (
        UserId::new(req.user_id),
        Grant::parse(&req.kind, &req.target),
    ) else {
        return Err(AccountError::InvalidRole);
    };
    state
        .accounts
        .revoke_role(&by, &user, grant.clone())
        .await?;
    let now = state.accounts.clock().now_ms();
    let written = roles::revoke(
        &state.hub,
        state.municipality_doc,
        state.server_actor.clone(),
        vec![(user, grant)],
        now,
    )
    .await;
    if let Err(e) = written {
        // The accounts no longer hold the role (what the validator enforces); the next start
        // removes it from the document.
        tracing::error!("removing a role from the municipality document: {e}");
    }
    Ok(StatusCode::NO_CONTENT)
}
