//! Attacks on the accounts, each against a real server on 127.0.0.1 with its SQLite file, over
//! real sockets: sessions that outlive their end, files others can read, tokens in logs
//! (`sessions.rs`), seeded roles taken by whoever signs up first (`seeded_roles.rs`), and
//! rate limits that do not hold (`rate_limits.rs`).

mod support;

#[path = "account_attacks/rate_limits.rs"]
mod rate_limits;
#[path = "account_attacks/seeded_roles.rs"]
mod seeded_roles;
#[path = "account_attacks/sessions.rs"]
mod sessions;

use std::net::SocketAddr;

use serde_json::json;
use support::http::{Reply, request};

const PASSWORD: &str = "een lang wachtwoord voor het dorp 1923";
const NEW_PASSWORD: &str = "nog een lang wachtwoord voor de brug 7";

/// Signs up `name` over HTTP; `extra` are extra header lines. Returns the answer.
async fn sign_up(addr: SocketAddr, name: &str, extra: &[(&str, &str)]) -> Reply {
    sign_up_with(addr, name, json!({}), extra).await
}

/// [`sign_up`] with more fields in the body (`user_id`, `invite`).
async fn sign_up_with(
    addr: SocketAddr,
    name: &str,
    more: serde_json::Value,
    extra: &[(&str, &str)],
) -> Reply {
    let mut body = json!({
        "email": format!("{name}@example.nl"),
        "password": PASSWORD,
        "display_name": name,
    });
    for (k, v) in more.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    request(addr, "POST", "/api/accounts", extra, Some(&body)).await
}

async fn sign_in(addr: SocketAddr, email: &str, password: &str, extra: &[(&str, &str)]) -> Reply {
    let body = json!({ "email": email, "password": password });
    request(addr, "POST", "/api/session", extra, Some(&body)).await
}

/// How many of `replies` have each status, as `(status, count)` sorted by status.
fn statuses(replies: &[Reply]) -> Vec<(u16, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for r in replies {
        *counts.entry(r.status).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}
