//! The upgrade of `GET /sync` to a WebSocket: the session, the origin, and the limits on
//! open connections (all, and per IP address).

use std::sync::Arc;

use axum::{
    extract::{Query, State, ws::WebSocketUpgrade},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{ConnectionTask, SOCKET_BUFFER, ip_limit::PeerIp};
use crate::validate::Principal;

/// The query of `GET /sync`: `token` is a session token for clients that cannot send the
/// cookie (it is never logged: see [`crate::redacted_uri`]).
#[derive(Deserialize)]
pub(crate) struct SyncQuery {
    token: Option<String>,
}

pub(crate) async fn upgrade(
    State(state): State<Arc<crate::State>>,
    PeerIp(ip): PeerIp,
    headers: HeaderMap,
    Query(query): Query<SyncQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    if state.lifecycle.is_shutting_down() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if !origin_allowed(&headers, &state.origins) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let (principal, session_end) = match &state.identities {
        None => (Principal::Anonymous, None),
        Some(identities) => {
            let token = query
                .token
                .or_else(|| crate::accounts::session_token(&headers));
            match token {
                // An unknown or expired token reads as anonymous, as no token does: the app
                // learns it is signed out from the accounts API, not from here.
                Some(token) => match identities.session_user(&token).await {
                    // The socket closes when the session ends (sign-out, password change,
                    // expiry); one that ended meanwhile is anonymous.
                    Some(user) => match state.accounts.session_end(&token).await {
                        Ok(Some(end)) => (Principal::User(user), Some(end)),
                        _ => (Principal::Anonymous, None),
                    },
                    None => (Principal::Anonymous, None),
                },
                None => (Principal::Anonymous, None),
            }
        }
    };
    // Per address first: one host must not take every connection the server allows.
    // Behind the reverse proxy the operator named (`--trusted-proxy`), the client is the one
    // its `X-Forwarded-For` names, as for the accounts' rate limits; connections from the
    // addresses `SyncLimits::trusted_proxies` lists (loopback by default) are not counted.
    let forwarded = crate::accounts::forwarded_for(&headers);
    let trusted = state.accounts.trusted_proxies();
    let ip = ip
        .map(|peer| crate::accounts::client_addr(peer, forwarded.as_deref(), &trusted))
        .filter(|ip| !state.limits.trusted_proxies.contains(ip));
    let ip_permit = match ip {
        Some(ip) => match state.ip_connections.try_acquire(ip) {
            Some(permit) => Some(permit),
            None => {
                tracing::info!(%ip, "too many connections from one address");
                return (StatusCode::TOO_MANY_REQUESTS, "too many connections").into_response();
            }
        },
        None => None,
    };
    let Ok(permit) = state.connections.clone().try_acquire_owned() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let limits = &state.limits;
    ws.max_message_size(limits.max_message_size)
        .max_frame_size(limits.max_message_size)
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .on_upgrade(move |socket| async move {
            let guard = state.lifecycle.track();
            let mut task = ConnectionTask::new(state, socket, principal);
            task.session_end = session_end;
            let conn = task.conn;
            task.run().await;
            tracing::debug!(conn, "connection closed");
            drop(guard);
            drop(permit);
            drop(ip_permit);
        })
}

/// Browsers name the page that opens a WebSocket in `Origin`; only the server's own origin
/// (the `Host` it was asked as) and the configured ones may. Native clients send none.
fn origin_allowed(headers: &HeaderMap, origins: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if origins.iter().any(|o| o.trim_end_matches('/') == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    host.is_some() && origin_host == host
}
