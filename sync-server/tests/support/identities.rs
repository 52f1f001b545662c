//! Accounts for the trust tests, made the way the app makes them: sign-up over the HTTP API
//! (`POST /api/accounts`, the session arriving in the `dk_session` cookie) and one actor id
//! registered for the device (`POST /api/actors`). Roles beyond resident are granted in the
//! accounts store directly (in production they come by invite). Tests make accounts only
//! through [`sign_up`].

use automerge::ActorId;
use axum::{
    body::Body,
    http::{Request, header},
};
use http_body_util::BodyExt;
use model::{Roles, User, UserId};
use sync_server::accounts::Grant;

use super::TestServer;

/// A signed-up user as a test sees them.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: User,
    /// The session token (`dk_session` cookie or `?token=`).
    pub token: String,
    /// The actor id registered to the user for this device.
    pub actor: ActorId,
}

impl Account {
    pub fn id(&self) -> &UserId {
        &self.user.id
    }

    /// `ws://.../sync?token=...` of `server`.
    pub fn url(&self, server: &TestServer) -> String {
        format!("{}?token={}", server.url(), self.token)
    }
}

/// POSTs JSON to the server's router; returns the status, the `Set-Cookie` header and the body.
async fn post(
    server: &TestServer,
    path: &str,
    cookie: Option<&str>,
    body: serde_json::Value,
) -> (u16, Option<String>, serde_json::Value) {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let request = request.body(Body::from(body.to_string())).unwrap();
    let response = tower::ServiceExt::oneshot(server.server.router(), request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let set_cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, set_cookie, json)
}

/// POSTs JSON to `path` as `account` (its session cookie); returns the status and the body.
pub async fn post_as(
    server: &TestServer,
    account: &Account,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let cookie = format!("{}={}", sync_server::SESSION_COOKIE, account.token);
    let (status, _, body) = post(server, path, Some(&cookie), body).await;
    (status, body)
}

/// Signs `name` up on `server` (started with [`TestServer::start_trusting`]) as user id `name`
/// with `roles`, and registers one actor for its device.
pub async fn sign_up(server: &TestServer, name: &str, roles: Roles) -> Account {
    let (status, set_cookie, body) = post(
        server,
        "/api/accounts",
        None,
        serde_json::json!({
            "email": format!("{name}@example.nl"),
            "password": "een lang wachtwoord voor het dorp 1923",
            "display_name": name,
            "user_id": name,
        }),
    )
    .await;
    assert_eq!(status, 201, "sign-up of {name}: {body}");
    let cookie = set_cookie.expect("sign-up sets the session cookie");
    let token = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, value)| value.to_owned())
        .unwrap();
    let id = UserId::new(body["user"]["id"].as_str().unwrap()).unwrap();
    assert_eq!(id.as_str(), name);
    let session = format!("{}={token}", sync_server::SESSION_COOKIE);
    let (status, _, body) =
        post(server, "/api/actors", Some(&session), serde_json::json!({})).await;
    assert_eq!(status, 201, "registering an actor: {body}");
    let actor = hex_actor(body["actor"].as_str().unwrap());
    let mut grants: Vec<Grant> = roles.broker_of.iter().cloned().map(Grant::Broker).collect();
    grants.extend(roles.admin_of.iter().cloned().map(Grant::AssociationAdmin));
    grants.extend(
        roles
            .member_of
            .iter()
            .cloned()
            .map(Grant::AssociationMember),
    );
    if roles.municipality_admin {
        grants.push(Grant::MunicipalityAdmin);
    }
    let accounts = server.server.accounts().clone();
    let user = id.clone();
    tokio::task::spawn_blocking(move || {
        for grant in &grants {
            accounts.grant_blocking(&user, grant).unwrap();
        }
    })
    .await
    .unwrap();
    Account {
        user: User { id, roles },
        token,
        actor,
    }
}

fn hex_actor(hex: &str) -> ActorId {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    ActorId::from(bytes)
}
