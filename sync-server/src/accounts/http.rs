//! The accounts' HTTP API under `/api` (documented in ARCHITECTURE.md). JSON in and out;
//! errors are `{ "error": "<code>" }` with a fitting status. The session travels in the
//! `dk_session` cookie (HttpOnly, SameSite=Strict, Path=/, Secure when the public origin is
//! https).
//!
//! # The HTTP API
//!
//! JSON in and out; errors are `{ "error": "<code>" }` (codes the app translates). The session
//! is the `dk_session` cookie: 256 random bits (base64url), HttpOnly, SameSite=Strict, Path=/,
//! Max-Age 30 days, Secure when the first `--origin` (`Config::origins[0]`, the public origin) is
//! https. Sessions last 30 days from sign-in (not sliding); expired ones are refused and deleted.
//! Stored: argon2id PHC strings (19 MiB, t=2, p=1) and SHA-256 of session and invite tokens only.
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `POST /api/accounts` | `email, password, display_name, user_id?, invite?` | 201 `{user}` + cookie; 400 `invalid_email`, `invalid_display_name`, `password_too_short` (< 10 chars), `password_too_common`, `password_contains_email`, `password_too_long`; 409 `email_taken`, `user_id_in_use` |
//! | `POST /api/session` | `email, password` | 200 `{user}` + cookie; 401 `invalid_credentials`; 429 `too_many_attempts` + `Retry-After` |
//! | `GET /api/session` | | 200 `{user: {id, display_name, email, roles: {municipality_admin, broker_of, admin_of, member_of}}}`; 401 `not_signed_in` |
//! | `DELETE /api/session` | | 204, cookie cleared |
//! | `POST /api/account/password` | `old_password, new_password` | 204 (other sessions end); 401; 400 weak |
//! | `POST /api/actors` | `{actor?: hex}` | 201 `{actor}`; 409 `actor_taken`; 400 `invalid_actor` |
//! | `POST /api/invites` | `kind: association_member\|association_admin\|broker, target` | 201 `{url: "/uitnodiging/<token>"}` (valid 7 days); 403 `forbidden`; 400 `invalid_invite`; 404 `unknown_target` |
//! | `GET /api/invites/<token>` | | 200 `{kind, target}` (no session needed: the token is the secret); 404 `invite_not_found`; 410 `invite_used`, `invite_expired` |
//! | `POST /api/invites/<token>/accept` | | 200 `{user}`; 404 `invite_not_found`, `unknown_target`; 410 `invite_used`, `invite_expired` |
//! | `DELETE /api/roles` | `user_id, kind: association_member\|association_admin\|broker, target` | 204; 401 `not_signed_in`; 403 `forbidden`; 400 `invalid_role`; 404 `role_not_found`; 409 `last_admin` |
//!
//! - `user_id` at sign-up is the app's local profile id, kept if well-formed and no account has it
//!   (else a random id): what the resident made before signing up stays theirs. An id that no
//!   account has but the public documents already name (an `author` or `filled_by`, a key of
//!   `volunteers`, `signups` or `reactions`: seed content, or anything stored while trust was off)
//!   is refused with 409 `user_id_in_use`, since the rules would hand that content to whoever
//!   claims it. `claims.rs` walks the municipality's and villages' documents on their tasks at
//!   sign-up (rare; no index to keep). The app then signs up again without `user_id` and
//!   adopts the id the server gives (`account.rs`; `account.spec.js`). Role lists are not looked
//!   at. The municipality's id and a seed's `[[broker]] user` ids are reserved (`seeded.rs`):
//!   409 `user_id_in_use`, unless the body's `invite` is the one-time invite the server made
//!   for that id at start (printed on its standard output), which grants the broker role with
//!   the account; such an invite is accepted by no other account (403 `forbidden`).
//! - Failed sign-ins: 5 per account and 20 per client address in 15 minutes, then 429 until the
//!   oldest leaves the window; a success clears the account's count. Unknown e-mails cost a
//!   dummy hash. Sign-ups: 20 per client address an hour (429 `too_many_attempts`). Each attempt
//!   reserves its slot before the password is checked (`limit.rs`), in the database, so the
//!   limits hold under concurrency and across restarts. The client address is the socket's
//!   peer, or, when that peer is a `--trusted-proxy`, the last `X-Forwarded-For` entry that is
//!   not a trusted proxy (`client_ip.rs`).
//! - Roles: the `role` table is the truth (`Identities::user`). Brokers (per village) and
//!   association admins and members are also written into the municipality document by the server
//!   (its own actor, derived from its storage id), so the app shows them; municipality admin is not
//!   in the document (the app reads it from `GET /api/session`). No client may write role data
//!   (`model`'s rules), except a new association's creating change, which names its creator as
//!   first admin: the validator calls `Accounts::association_registered`, which records the role
//!   in the table before the change is stored. Every start reconciles (an invite bound to each
//!   `[[broker]] user` of the seed whose role is neither held, revoked nor offered yet; the
//!   table's roles into the document, revoked roles out of it); no role
//!   is ever read back from the document, whose contents a non-admin could have written.
//! - Revoking (`DELETE /api/roles`, `Accounts::revoke_role`): a municipality admin any broker or
//!   association role, an association admin the admin and member roles of their association,
//!   anyone their own association roles (leaving); never an association's last admin (409
//!   `last_admin`; municipality admin itself is not revocable here). 403 comes before 404, so
//!   nobody learns about roles they may not touch. The row leaves `role` and memory at once (the
//!   `TrustValidator` refuses what needed it from the next change on), a `role_revocation` row
//!   remembers it, and the server's actor deletes the key from the document (`revoke_broker`,
//!   `revoke_association_admin`, `revoke_association_member` in `model`), which connected devices
//!   receive like any change. At start a revocation is neither granted again (seed brokers) nor
//!   left in the document; granting the role again deletes the revocation.
//! - Invites: a broker for their villages, an association admin for their association, a
//!   municipality admin for anything. The first municipality admin: `sync-server --data D admin
//!   create --email E --display-name N`, password on stdin (a running server sees it after restart).

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Json, Router,
    extract::{ConnectInfo, FromRequestParts, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::post,
};
use model::UserId;
use serde::Deserialize;
use serde_json::json;

use super::http_roles::{self, write_role};
use super::request_session::{current_user, session_token};
use super::{
    account::{Account, SignUp},
    claims, client_ip,
    error::AccountError,
    password::Password,
    sessions::{SESSION_COOKIE, SESSION_TTL_MS},
    store::Accounts,
};
use crate::State as AppState;

type St = State<Arc<AppState>>;

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/accounts", post(sign_up))
        .route("/session", post(sign_in).get(session).delete(sign_out))
        .route("/account/password", post(change_password))
        .route("/actors", post(register_actor))
        .merge(http_roles::router())
}

impl IntoResponse for AccountError {
    fn into_response(self) -> Response {
        use AccountError as E;
        let status = match &self {
            E::InvalidEmail
            | E::InvalidDisplayName
            | E::WeakPassword(_)
            | E::InvalidActor
            | E::InvalidInvite
            | E::InvalidRole => StatusCode::BAD_REQUEST,
            E::InvalidCredentials | E::NotSignedIn => StatusCode::UNAUTHORIZED,
            E::Forbidden => StatusCode::FORBIDDEN,
            E::EmailTaken | E::ActorTaken | E::LastAdmin | E::UserIdInUse => StatusCode::CONFLICT,
            E::TooManyAttempts { .. } | E::TooManyActors => StatusCode::TOO_MANY_REQUESTS,
            E::InviteNotFound | E::UnknownTarget | E::RoleNotFound => StatusCode::NOT_FOUND,
            E::InviteUsed | E::InviteExpired => StatusCode::GONE,
            E::Internal(e) => {
                tracing::error!("accounts: {e}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut response = (status, Json(json!({ "error": self.code() }))).into_response();
        if let E::TooManyAttempts { retry_after } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
        }
        response
    }
}

/// The client's address for the rate limits (`client_ip.rs`): the connection's peer
/// (`into_make_service_with_connect_info`), or the client a trusted proxy names. `None` for
/// requests without a connection (in-process tests).
struct ClientIp(Option<String>);

impl ClientIp {
    /// The key sign-in limits count under: requests without an address share one.
    fn or_unknown(&self) -> &str {
        self.0.as_deref().unwrap_or("unknown")
    }
}

impl FromRequestParts<Arc<AppState>> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(ClientIp(None));
        };
        let forwarded = client_ip::forwarded_for(&parts.headers);
        let trusted = state.accounts.trusted_proxies();
        if forwarded.is_some() && trusted.is_empty() {
            client_ip::warn_untrusted_forwarding(peer.ip());
        }
        Ok(ClientIp(Some(client_ip::client_key(
            peer.ip(),
            forwarded.as_deref(),
            &trusted,
        ))))
    }
}

fn cookie(state: &AppState, value: &str, max_age_ms: i64) -> HeaderValue {
    let secure = if state.accounts.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        max_age_ms / 1000
    );
    // The token is base64url: always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn signed_in(state: &AppState, status: StatusCode, account: Account, token: &str) -> Response {
    let mut response = (status, Json(json!({ "user": account }))).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie(state, token, SESSION_TTL_MS));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn sign_up(
    State(state): St,
    ip: ClientIp,
    Json(req): Json<SignUp>,
) -> Result<Response, AccountError> {
    // A proposed id that no account has but the public documents name is someone else's
    // (checked after the cheap checks, as it reads every public document).
    Accounts::check_sign_up(&req)?;
    // Each address makes a few sign-ups an hour, counted before the costly part.
    if let Some(ip) = &ip.0 {
        state.accounts.reserve_sign_up(ip).await?;
    }
    if let Some(id) = req.user_id.as_deref().and_then(|id| UserId::new(id).ok())
        && !state.accounts.has_account(&id).await?
        && claims::named_in(&state.hub, &public_documents(&state), &id).await?
    {
        return Err(AccountError::UserIdInUse);
    }
    let (account, token, granted) = state.accounts.sign_up(req).await?;
    if let Some(grant) = granted {
        write_role(&state, account_id(&account)?, grant).await;
    }
    Ok(signed_in(&state, StatusCode::CREATED, account, &token.0))
}

#[derive(Deserialize)]
struct SignIn {
    email: String,
    password: Password,
}

async fn sign_in(
    State(state): St,
    ip: ClientIp,
    Json(req): Json<SignIn>,
) -> Result<Response, AccountError> {
    let (account, token) = state
        .accounts
        .sign_in(&req.email, req.password, ip.or_unknown())
        .await?;
    Ok(signed_in(&state, StatusCode::OK, account, &token.0))
}

async fn session(State(state): St, headers: HeaderMap) -> Result<Response, AccountError> {
    let user = current_user(&state, &headers).await?;
    let account = state
        .accounts
        .account(user)
        .await?
        .ok_or(AccountError::NotSignedIn)?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "user": account })),
    )
        .into_response())
}

async fn sign_out(State(state): St, headers: HeaderMap) -> Result<Response, AccountError> {
    if let Some(token) = session_token(&headers) {
        state.accounts.sign_out(&token).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookie(&state, "", 0))],
    )
        .into_response())
}

#[derive(Deserialize)]
struct ChangePassword {
    old_password: Password,
    new_password: Password,
}

async fn change_password(
    State(state): St,
    ip: ClientIp,
    headers: HeaderMap,
    Json(req): Json<ChangePassword>,
) -> Result<StatusCode, AccountError> {
    let token = session_token(&headers).ok_or(AccountError::NotSignedIn)?;
    state
        .accounts
        .change_password(&token, req.old_password, req.new_password, ip.or_unknown())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
struct ActorRequest {
    #[serde(default)]
    actor: Option<String>,
}

async fn register_actor(
    State(state): St,
    headers: HeaderMap,
    body: Option<Json<ActorRequest>>,
) -> Result<Response, AccountError> {
    let user = current_user(&state, &headers).await?;
    let req = body.map(|Json(b)| b).unwrap_or_default();
    let actor = state
        .accounts
        .register_actor(&user, req.actor.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "actor": actor }))).into_response())
}

fn account_id(account: &Account) -> Result<UserId, AccountError> {
    UserId::new(account.id.clone()).map_err(|e| AccountError::Internal(format!("user id: {e}")))
}

/// The documents everyone reads: the municipality's and the villages'.
fn public_documents(state: &AppState) -> Vec<sync::DocumentId> {
    std::iter::once(state.municipality_doc)
        .chain(
            state
                .bootstrap
                .villages
                .iter()
                .filter_map(|v| sync::DocumentId::from_url(&v.doc).ok()),
        )
        .collect()
}
