//! Hole 3: claiming a seeded role. The seed names a broker's user id; whoever signed up first
//! with that id used to become broker. Now the seed's role is bound to a one-time invite the
//! server prints at first start, and the ids the server itself writes as are nobody's.

use std::path::Path;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::{sign_up, sign_up_with};
use crate::support::{ChildServer, http::request_as, raw_connect, raw_handshake};

const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/seed/e2e.toml");

/// The server binary on `data` with the e2e municipality (Ulft's broker is `broker-ulft`).
async fn start(data: &Path) -> ChildServer {
    ChildServer::start_with(data, &["--trust", "on", "--seed", SEED], &[]).await
}

/// The invite token the server printed for `user`'s role, if any.
fn printed_invite(server: &ChildServer, user: &str) -> Option<String> {
    server
        .printed
        .iter()
        .find(|line| line.contains(&format!("({user})")))
        .and_then(|line| line.split("/uitnodiging/").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
}

#[tokio::test]
async fn the_first_to_sign_up_with_a_seeded_brokers_id_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let squatter = sign_up_with(
        server.addr(),
        "squatter",
        json!({ "user_id": "broker-ulft" }),
        &[],
    )
    .await;
    assert_ne!(
        squatter.body["user"]["roles"]["broker_of"],
        json!(["ulft"]),
        "the seeded role went to whoever signed up first"
    );
    assert_eq!(squatter.status, 409, "{}", squatter.body);
    assert_eq!(squatter.body["error"], "user_id_in_use");
    // Nor the id the municipality's own content is written as.
    let system = sign_up_with(
        server.addr(),
        "system",
        json!({ "user_id": "testgemeente" }),
        &[],
    )
    .await;
    assert_eq!(system.status, 409, "{}", system.body);
}

#[tokio::test]
async fn the_seeded_broker_signs_up_with_the_invite_printed_at_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = printed_invite(&server, "broker-ulft").expect("an invite for the seeded broker");
    // The invite is not anyone's to accept with an account of their own.
    let other = sign_up(server.addr(), "other", &[]).await;
    let taken = request_as(
        server.addr(),
        &other.token(),
        "POST",
        &format!("/api/invites/{token}/accept"),
        None,
    )
    .await;
    assert_eq!(taken.status, 403, "{}", taken.body);
    let broker = sign_up_with(
        server.addr(),
        "sanne",
        json!({ "user_id": "broker-ulft", "invite": token }),
        &[],
    )
    .await;
    assert_eq!(broker.status, 201, "{}", broker.body);
    assert_eq!(broker.body["user"]["id"], "broker-ulft");
    assert_eq!(broker.body["user"]["roles"]["broker_of"], json!(["ulft"]));
    let again = sign_up_with(
        server.addr(),
        "again",
        json!({ "user_id": "broker-ulft", "invite": token }),
        &[],
    )
    .await;
    assert_eq!(again.status, 409, "{}", again.body);
    // A restart prints no new invite: the role is held.
    assert!(server.terminate().await);
    let server = start(dir.path()).await;
    assert_eq!(printed_invite(&server, "broker-ulft"), None);
}

#[tokio::test]
async fn nobody_registers_the_actor_the_server_writes_as() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut ws = raw_connect(&server.url).await;
    let (_, server_peer) = raw_handshake(&mut ws, "curious").await;
    let storage_id = server_peer
        .to_string()
        .strip_prefix("dorpskracht-server-")
        .unwrap()
        .to_owned();
    let digest = Sha256::digest(format!("dorpskracht-server:{storage_id}").as_bytes());
    let actor: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let up = sign_up(server.addr(), "mallory", &[]).await;
    let r = request_as(
        server.addr(),
        &up.token(),
        "POST",
        "/api/actors",
        Some(&json!({ "actor": actor })),
    )
    .await;
    assert_eq!(r.status, 409, "registered the server's actor: {}", r.body);
}
