//! Who a request comes from: the session token in its `dk_session` cookie, and the signed-in
//! user it names (for every HTTP handler that needs one).

use axum::http::{HeaderMap, header};
use model::UserId;

use super::{error::AccountError, sessions::SESSION_COOKIE};
use crate::State as AppState;

/// The session token from the request's `dk_session` cookie, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The signed-in user of the request, or 401.
pub(super) async fn current_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<UserId, AccountError> {
    let token = session_token(headers).ok_or(AccountError::NotSignedIn)?;
    state
        .accounts
        .session(&token)
        .await?
        .ok_or(AccountError::NotSignedIn)
}
