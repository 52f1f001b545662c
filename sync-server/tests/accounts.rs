//! Accounts through the real HTTP surface (`Server::router`, in process) on a real SQLite
//! database: sign-up, sign-in, sign-out, password changes, cookies, session expiry, rate
//! limits, actors, invites, granting and revoking roles (and what the sync endpoint then
//! refuses), user ids that sign-up will not hand out, and the `admin create` command of the
//! binary.

mod support;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use automerge::ActorId;
use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use model::{AssociationId, MunicipalityDoc, UserId, VillageId};
use serde_json::{Value, json};
use sync::DocumentId;
use sync_server::{
    Clock, Config, DEFAULT_SEED, Server, SyncLimits,
    accounts::{ACCOUNT_LIMIT, IP_LIMIT, Password, SESSION_TTL_MS},
    trust::Identities,
};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);
const GOOD: &str = "fiets-langs-de-oude-ijssel";

struct Api {
    server: Server,
    router: Router,
    clock: Clock,
    dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Reply {
    fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    fn set_cookie(&self) -> String {
        self.headers
            .get(header::SET_COOKIE)
            .expect("a Set-Cookie header")
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// The session cookie to send back (`dk_session=<token>`).
    fn session(&self) -> String {
        self.set_cookie().split(';').next().unwrap().to_owned()
    }
}

/// The API's server on a loopback port, for WebSocket clients.
struct Serving {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    running: tokio::task::JoinHandle<Result<(), sync_server::Error>>,
}

impl Serving {
    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.running.await.unwrap().unwrap();
    }
}

impl Api {
    /// Serves the API's server on a free loopback port until [`Serving::stop`].
    async fn serve(&self) -> Serving {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/sync", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(self.server.clone().run(listener, async move {
            let _ = stopped.await;
        }));
        Serving { url, stop, running }
    }

    async fn start(origins: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, origins).await
    }

    async fn start_in(dir: tempfile::TempDir, origins: &[&str]) -> Self {
        Self::start_seeded(dir, origins, DEFAULT_SEED).await
    }

    async fn start_seeded(dir: tempfile::TempDir, origins: &[&str], seed: &str) -> Self {
        let clock = Clock::manual(1_800_000_000_000);
        let server = Server::open(Config {
            data: dir.path().join("data"),
            dist: dir.path().join("dist"),
            seed: seed.into(),
            limits: SyncLimits::default(),
            origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            clock: clock.clone(),
        })
        .await
        .unwrap();
        let router = server.router();
        Self {
            server,
            router,
            clock,
            dir,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        ip: Option<[u8; 4]>,
        body: Option<Value>,
    ) -> Reply {
        call(&self.router, method, path, cookie, ip, body).await
    }

    async fn sign_up(&self, email: &str, name: &str, user_id: Option<&str>) -> Reply {
        self.call(
            "POST",
            "/api/accounts",
            None,
            None,
            Some(json!({ "email": email, "password": GOOD, "display_name": name, "user_id": user_id })),
        )
        .await
    }

    async fn sign_in(&self, email: &str, password: &str, ip: [u8; 4]) -> Reply {
        self.call(
            "POST",
            "/api/session",
            None,
            Some(ip),
            Some(json!({ "email": email, "password": password })),
        )
        .await
    }

    async fn me(&self, cookie: &str) -> Reply {
        self.call("GET", "/api/session", Some(cookie), None, None)
            .await
    }

    fn municipality_doc(&self) -> DocumentId {
        DocumentId::from_url(&self.server.bootstrap().municipality).unwrap()
    }

    fn db_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for name in ["dorpskracht.sqlite3", "dorpskracht.sqlite3-wal"] {
            if let Ok(b) = std::fs::read(self.dir.path().join("data").join(name)) {
                all.extend(b);
            }
        }
        all
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("data/dorpskracht.sqlite3")).unwrap()
    }
}

/// One request through `router`, in process.
async fn call(
    router: &Router,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    ip: Option<[u8; 4]>,
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let body = match body {
        Some(b) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let mut req = req.body(body).unwrap();
    if let Some(ip) = ip {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    }
    let response = tower::ServiceExt::oneshot(router.clone(), req)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn sign_up_session_sign_out_and_sign_in() {
    let api = Api::start(&["http://localhost:8080"]).await;
    let up = api
        .sign_up(" Anna@Example.NL ", "Anna Jansen", Some("anna-local-1"))
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{:?}", up.body);
    // The app's local profile id is kept, so what she made before signing up stays hers.
    assert_eq!(up.body["user"]["id"], "anna-local-1");
    assert_eq!(up.body["user"]["email"], "anna@example.nl");
    assert_eq!(up.body["user"]["roles"]["municipality_admin"], false);
    let cookie = up.set_cookie();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=2592000"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(!cookie.contains("Secure"), "plain http origin: {cookie}");
    let token = up.session();
    assert_eq!(token.len(), "dk_session=".len() + 43);

    let me = api.me(&token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["display_name"], "Anna Jansen");
    assert_eq!(
        api.server
            .accounts()
            .session_user(token.trim_start_matches("dk_session="))
            .await,
        Some(UserId::new("anna-local-1").unwrap())
    );

    // The same address again, and someone else proposing Anna's id (gets a random one).
    let again = api.sign_up("anna@example.nl", "Anna", None).await;
    assert_eq!(
        (again.status, again.error()),
        (StatusCode::CONFLICT, "email_taken")
    );
    let bert = api
        .sign_up("bert@example.nl", "Bert", Some("anna-local-1"))
        .await;
    assert_eq!(bert.status, StatusCode::CREATED);
    let bert_id = bert.body["user"]["id"].as_str().unwrap().to_owned();
    assert_ne!(bert_id, "anna-local-1");
    assert!(UserId::new(bert_id).is_ok());
    let bad = api.sign_up("bert@", "Bert", None).await;
    assert_eq!(bad.error(), "invalid_email");
    let bad = api.sign_up("c@example.nl", "  ", None).await;
    assert_eq!(bad.error(), "invalid_display_name");

    let out = api
        .call("DELETE", "/api/session", Some(&token), None, None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.set_cookie().contains("Max-Age=0"));
    let gone = api.me(&token).await;
    assert_eq!(
        (gone.status, gone.error()),
        (StatusCode::UNAUTHORIZED, "not_signed_in")
    );
    assert_eq!(
        api.me("dk_session=forged").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.call("GET", "/api/session", None, None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let wrong = api
        .sign_in("anna@example.nl", "fiets-langs-de-berkel", [10, 0, 0, 1])
        .await;
    assert_eq!(
        (wrong.status, wrong.error()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    let nobody = api.sign_in("nobody@example.nl", GOOD, [10, 0, 0, 1]).await;
    assert_eq!(nobody.error(), "invalid_credentials");
    let back = api.sign_in("ANNA@example.nl", GOOD, [10, 0, 0, 1]).await;
    assert_eq!(back.status, StatusCode::OK);
    assert_eq!(back.body["user"]["id"], "anna-local-1");
    assert_eq!(api.me(&back.session()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn weak_passwords_are_refused_with_a_code() {
    let api = Api::start(&[]).await;
    for (password, code) in [
        ("kort", "password_too_short"),
        ("Wachtwoord123", "password_too_common"),
        ("anna.jansen-uit-ulft", "password_contains_email"),
    ] {
        let r = api
            .call(
                "POST",
                "/api/accounts",
                None,
                None,
                Some(json!({ "email": "anna.jansen@example.nl", "password": password, "display_name": "Anna" })),
            )
            .await;
        assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, code));
    }
    assert_eq!(
        api.db()
            .query_row("SELECT count(*) FROM account", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn only_argon2id_hashes_and_token_hashes_are_stored() {
    let api = Api::start(&[]).await;
    let up = api.sign_up("anna@example.nl", "Anna", None).await;
    let token = up.session();
    let token = token.trim_start_matches("dk_session=");
    let hash: String = api
        .db()
        .query_row("SELECT password_hash FROM account", [], |r| r.get(0))
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let bytes = api.db_bytes();
    assert!(contains(&bytes, b"$argon2id$"), "the hash is in the file");
    assert!(!contains(&bytes, GOOD.as_bytes()), "the password is not");
    assert!(
        !contains(&bytes, token.as_bytes()),
        "the session token is not"
    );
    // And the password's type never shows it.
    assert_eq!(format!("{:?}", Password::new(GOOD)), "Password(<redacted>)");
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_origin_is_https() {
    let api = Api::start(&["https://dorpskracht.example", "http://localhost:8080"]).await;
    let up = api.sign_up("anna@example.nl", "Anna", None).await;
    let cookie = up.set_cookie();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
}

#[tokio::test]
async fn sessions_expire_after_thirty_days_and_are_pruned() {
    let api = Api::start(&[]).await;
    let token = api.sign_up("anna@example.nl", "Anna", None).await.session();
    api.clock
        .advance(Duration::from_millis(SESSION_TTL_MS as u64) - Duration::from_secs(1));
    assert_eq!(api.me(&token).await.status, StatusCode::OK);
    api.clock.advance(Duration::from_secs(1));
    assert_eq!(api.me(&token).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.server
            .accounts()
            .session_user(token.trim_start_matches("dk_session="))
            .await,
        None
    );
    let sessions = |api: &Api| {
        api.db()
            .query_row("SELECT count(*) FROM session", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    assert_eq!(sessions(&api), 0, "the expired session was deleted");
    // Expired sessions nobody asks about are pruned at the next sign-in.
    let other = api.sign_in("anna@example.nl", GOOD, [10, 0, 0, 2]).await;
    assert_eq!(other.status, StatusCode::OK);
    api.clock.advance(DAY * 31);
    api.sign_in("anna@example.nl", GOOD, [10, 0, 0, 2]).await;
    assert_eq!(sessions(&api), 1);
}

#[tokio::test]
async fn changing_the_password_needs_the_old_one_and_ends_other_sessions() {
    let api = Api::start(&[]).await;
    let phone = api.sign_up("anna@example.nl", "Anna", None).await.session();
    let laptop = api
        .sign_in("anna@example.nl", GOOD, [10, 0, 0, 3])
        .await
        .session();
    let change = |old: &str, new: &str| json!({ "old_password": old, "new_password": new });
    let wrong = api
        .call(
            "POST",
            "/api/account/password",
            Some(&phone),
            None,
            Some(change("geraden-wachtwoord", "nieuw-en-sterk-42")),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.error()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    let weak = api
        .call(
            "POST",
            "/api/account/password",
            Some(&phone),
            None,
            Some(change(GOOD, "kort")),
        )
        .await;
    assert_eq!(weak.error(), "password_too_short");
    let anonymous = api
        .call(
            "POST",
            "/api/account/password",
            None,
            None,
            Some(change(GOOD, "nieuw-en-sterk-42")),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let ok = api
        .call(
            "POST",
            "/api/account/password",
            Some(&phone),
            None,
            Some(change(GOOD, "nieuw-en-sterk-42")),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{:?}", ok.body);
    assert_eq!(
        api.me(&phone).await.status,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        api.me(&laptop).await.status,
        StatusCode::UNAUTHORIZED,
        "others end"
    );
    assert_eq!(
        api.sign_in("anna@example.nl", GOOD, [10, 0, 0, 3])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.sign_in("anna@example.nl", "nieuw-en-sterk-42", [10, 0, 0, 3])
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_account() {
    let api = Api::start(&[]).await;
    api.sign_up("anna@example.nl", "Anna", None).await;
    api.sign_up("bert@example.nl", "Bert", None).await;
    for n in 0..ACCOUNT_LIMIT {
        // From different addresses: the account's own limit applies.
        let r = api
            .sign_in("anna@example.nl", "raden-raden-raden", [10, 1, 0, n as u8])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = api.sign_in("anna@example.nl", GOOD, [10, 1, 1, 1]).await;
    assert_eq!(
        (blocked.status, blocked.error()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
    );
    let retry: u64 = blocked.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        retry,
        15 * 60,
        "the oldest failure leaves the window in 15 minutes"
    );
    // Another account is not affected.
    assert_eq!(
        api.sign_in("bert@example.nl", GOOD, [10, 1, 1, 1])
            .await
            .status,
        StatusCode::OK
    );
    api.clock.advance(Duration::from_secs(retry));
    assert_eq!(
        api.sign_in("anna@example.nl", GOOD, [10, 1, 1, 1])
            .await
            .status,
        StatusCode::OK
    );
    // The success reset the account's count: a few failures later it still works.
    for _ in 0..ACCOUNT_LIMIT - 1 {
        api.sign_in("anna@example.nl", "raden-raden-raden", [10, 1, 2, 1])
            .await;
    }
    assert_eq!(
        api.sign_in("anna@example.nl", GOOD, [10, 1, 2, 1])
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_address() {
    let api = Api::start(&[]).await;
    api.sign_up("anna@example.nl", "Anna", None).await;
    let attacker = [192, 0, 2, 7];
    for n in 0..IP_LIMIT {
        // Different (unknown) accounts: only the address's limit grows.
        let r = api
            .sign_in(&format!("gok{n}@example.nl"), "raden-raden-raden", attacker)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = api.sign_in("anna@example.nl", GOOD, attacker).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(
        api.sign_in("anna@example.nl", GOOD, [198, 51, 100, 1])
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn actors_are_registered_to_their_user() {
    let api = Api::start(&[]).await;
    let anna = api
        .sign_up("anna@example.nl", "Anna", Some("anna"))
        .await
        .session();
    let bert = api
        .sign_up("bert@example.nl", "Bert", Some("bert"))
        .await
        .session();
    let proposed = "00112233445566778899aabbccddeeff";
    let r = api
        .call(
            "POST",
            "/api/actors",
            Some(&anna),
            None,
            Some(json!({ "actor": proposed })),
        )
        .await;
    assert_eq!(
        (r.status, r.body["actor"].as_str()),
        (StatusCode::CREATED, Some(proposed))
    );
    // Again by its owner: the same; by someone else: refused.
    let r = api
        .call(
            "POST",
            "/api/actors",
            Some(&anna),
            None,
            Some(json!({ "actor": proposed })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = api
        .call(
            "POST",
            "/api/actors",
            Some(&bert),
            None,
            Some(json!({ "actor": proposed })),
        )
        .await;
    assert_eq!((r.status, r.error()), (StatusCode::CONFLICT, "actor_taken"));
    let r = api
        .call(
            "POST",
            "/api/actors",
            Some(&bert),
            None,
            Some(json!({ "actor": "not hex" })),
        )
        .await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::BAD_REQUEST, "invalid_actor")
    );
    let r = api
        .call("POST", "/api/actors", None, None, Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The server draws one.
    let r = api
        .call("POST", "/api/actors", Some(&bert), None, None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let drawn = r.body["actor"].as_str().unwrap().to_owned();
    assert_eq!(drawn.len(), 32);

    let ids = api.server.accounts();
    let actor = |hex: &str| ActorId::from(hex::decode(hex));
    assert_eq!(
        ids.actor_owner(&actor(proposed)),
        Some(UserId::new("anna").unwrap())
    );
    assert_eq!(
        ids.actor_owner(&actor(&drawn)),
        Some(UserId::new("bert").unwrap())
    );
    assert_eq!(ids.actor_owner(&actor("abcd")), None);

    // The registry survives a restart.
    let Api { server, dir, .. } = api;
    drop(server);
    let api = Api::start_in(dir, &[]).await;
    assert_eq!(
        api.server.accounts().actor_owner(&actor(proposed)),
        Some(UserId::new("anna").unwrap())
    );
}

mod hex {
    pub fn decode(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}

/// A municipality admin made the way `sync-server admin create` does, signed in.
async fn admin(api: &Api) -> String {
    api.server
        .accounts()
        .create_admin_blocking(
            "wethouder@gemeente.example",
            "Wethouder",
            &Password::new(GOOD),
        )
        .unwrap();
    api.sign_in("wethouder@gemeente.example", GOOD, [10, 9, 9, 9])
        .await
        .session()
}

async fn invite(api: &Api, cookie: &str, kind: &str, target: &str) -> Reply {
    api.call(
        "POST",
        "/api/invites",
        Some(cookie),
        None,
        Some(json!({ "kind": kind, "target": target })),
    )
    .await
}

fn token_of(url: &Value) -> String {
    url.as_str()
        .unwrap()
        .strip_prefix("/uitnodiging/")
        .unwrap()
        .to_owned()
}

async fn stored_roles(api: &Api, user: &str) -> model::Roles {
    let am = support::stored_document(&api.dir.path().join("data"), api.municipality_doc())
        .await
        .unwrap();
    MunicipalityDoc::from_automerge(am)
        .unwrap()
        .roles_of(&UserId::new(user).unwrap(), false)
}

#[tokio::test]
async fn a_broker_invite_grants_the_role_once_in_accounts_and_document() {
    let api = Api::start(&[]).await;
    let wethouder = admin(&api).await;
    let bea = api
        .sign_up("bea@example.nl", "Bea", Some("bea"))
        .await
        .session();
    let anna = api
        .sign_up("anna@example.nl", "Anna", Some("anna"))
        .await
        .session();

    // A resident cannot invite; nonsense is refused.
    assert_eq!(
        invite(&api, &anna, "broker", "ulft").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        invite(&api, &wethouder, "king", "ulft").await.error(),
        "invalid_invite"
    );
    assert_eq!(
        invite(&api, &wethouder, "broker", "atlantis").await.error(),
        "unknown_target"
    );
    assert_eq!(
        invite(&api, &wethouder, "municipality_admin", "")
            .await
            .error(),
        "invalid_invite"
    );

    let made = invite(&api, &wethouder, "broker", "ulft").await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let token = token_of(&made.body["url"]);
    assert_eq!(token.len(), 43);
    let accept = format!("/api/invites/{token}/accept");
    assert_eq!(
        api.call("POST", &accept, None, None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let ok = api.call("POST", &accept, Some(&bea), None, None).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(ok.body["user"]["roles"]["broker_of"], json!(["ulft"]));
    let twice = api.call("POST", &accept, Some(&anna), None, None).await;
    assert_eq!(
        (twice.status, twice.error()),
        (StatusCode::GONE, "invite_used")
    );
    let unknown = api
        .call("POST", "/api/invites/nope/accept", Some(&anna), None, None)
        .await;
    assert_eq!(
        (unknown.status, unknown.error()),
        (StatusCode::NOT_FOUND, "invite_not_found")
    );
    assert!(
        !contains(&api.db_bytes(), token.as_bytes()),
        "only the invite's hash is stored"
    );

    // The accounts (what the sync endpoint enforces) and the municipality document agree.
    let bea_id = UserId::new("bea").unwrap();
    let ulft = VillageId::new("ulft").unwrap();
    assert!(api.server.accounts().user(&bea_id).is_broker_of(&ulft));
    assert!(
        !api.server
            .accounts()
            .user(&UserId::new("anna").unwrap())
            .is_broker_of(&ulft)
    );
    assert!(stored_roles(&api, "bea").await.broker_of.contains(&ulft));
    assert_eq!(
        api.me(&bea).await.body["user"]["roles"]["broker_of"],
        json!(["ulft"])
    );

    // Now a broker, Bea invites for her village only.
    assert_eq!(
        invite(&api, &bea, "broker", "ulft").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        invite(&api, &bea, "broker", "silvolde").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn invites_expire_after_seven_days() {
    let api = Api::start(&[]).await;
    let wethouder = admin(&api).await;
    let bea = api.sign_up("bea@example.nl", "Bea", None).await.session();
    let token = token_of(&invite(&api, &wethouder, "broker", "ulft").await.body["url"]);
    api.clock.advance(DAY * 7);
    let late = api
        .call(
            "POST",
            &format!("/api/invites/{token}/accept"),
            Some(&bea),
            None,
            None,
        )
        .await;
    assert_eq!(
        (late.status, late.error()),
        (StatusCode::GONE, "invite_expired")
    );
    assert_eq!(
        api.me(&bea).await.body["user"]["roles"]["broker_of"],
        json!([])
    );
}

#[tokio::test]
async fn an_invite_link_says_what_it_grants_until_it_is_used_or_expired() {
    let api = Api::start(&[]).await;
    let wethouder = admin(&api).await;
    let bea = api.sign_up("bea@example.nl", "Bea", None).await.session();
    let token = token_of(&invite(&api, &wethouder, "broker", "ulft").await.body["url"]);
    let show = format!("/api/invites/{token}");
    // Anyone holding the link may see what it grants, signed in or not.
    let shown = api.call("GET", &show, None, None, None).await;
    assert_eq!(shown.status, StatusCode::OK, "{:?}", shown.body);
    assert_eq!(shown.body, json!({ "kind": "broker", "target": "ulft" }));
    let unknown = api.call("GET", "/api/invites/nope", None, None, None).await;
    assert_eq!(
        (unknown.status, unknown.error()),
        (StatusCode::NOT_FOUND, "invite_not_found")
    );
    let accept = format!("/api/invites/{token}/accept");
    assert_eq!(
        api.call("POST", &accept, Some(&bea), None, None)
            .await
            .status,
        StatusCode::OK
    );
    let used = api.call("GET", &show, None, None, None).await;
    assert_eq!(
        (used.status, used.error()),
        (StatusCode::GONE, "invite_used")
    );

    let late = token_of(&invite(&api, &wethouder, "broker", "ulft").await.body["url"]);
    api.clock.advance(DAY * 7);
    let expired = api
        .call("GET", &format!("/api/invites/{late}"), None, None, None)
        .await;
    assert_eq!(
        (expired.status, expired.error()),
        (StatusCode::GONE, "invite_expired")
    );
}

#[tokio::test]
async fn association_admins_invite_members_and_admins_of_their_association() {
    let api = Api::start(&[]).await;
    let wethouder = admin(&api).await;
    let anna = api
        .sign_up("anna@example.nl", "Anna", Some("anna"))
        .await
        .session();
    let cor = api
        .sign_up("cor@example.nl", "Cor", Some("cor"))
        .await
        .session();
    let fanfare = AssociationId::new("fanfare").unwrap();
    // An invite for an association the document does not have cannot be accepted.
    let ghost = token_of(
        &invite(&api, &wethouder, "association_member", "fanfare")
            .await
            .body["url"],
    );
    let r = api
        .call(
            "POST",
            &format!("/api/invites/{ghost}/accept"),
            Some(&cor),
            None,
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::NOT_FOUND, "unknown_target")
    );

    // Anna registers the fanfare from her device (the creating change names her its first
    // admin; the validator reports that to the accounts), over a real WebSocket.
    let serving = api.serve().await;
    let url = serving.url.clone();
    let doc = api.municipality_doc();
    let mut device = support::Client::new("anna");
    device.connect(&url).await.unwrap();
    device.find(doc).await.unwrap();
    device
        .pump_until(|c| c.in_sync(doc) && !c.heads(doc).is_empty())
        .await
        .unwrap();
    device
        .edit(doc, |tx| {
            use automerge::{ObjType, ROOT, ReadDoc, transaction::Transactable};
            let coll = tx.get(ROOT, "associations").unwrap().unwrap().1;
            let a = tx.put_object(&coll, "fanfare", ObjType::Map).unwrap();
            tx.put(&a, "id", "fanfare").unwrap();
            tx.put(&a, "author", "anna").unwrap();
            tx.put(&a, "name", "Fanfare Ulft").unwrap();
            let admins = tx.put_object(&a, "admins", ObjType::Map).unwrap();
            tx.put(&admins, "anna", true).unwrap();
        })
        .await
        .unwrap();
    device.pump_until(|c| c.in_sync(doc)).await.unwrap();
    assert_eq!(
        invite(&api, &anna, "association_member", "fanfare")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    api.server
        .accounts()
        .association_registered(&fanfare, &UserId::new("anna").unwrap());
    // Recorded durably at once (before the change would be stored), not later.
    let rows: i64 = api
        .db()
        .query_row(
            "SELECT COUNT(*) FROM role WHERE user_id = 'anna' AND target = 'fanfare'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 1);
    let made = invite(&api, &anna, "association_member", "fanfare").await;
    assert_eq!(made.status, StatusCode::CREATED);
    let r = api
        .call(
            "POST",
            &format!("/api/invites/{}/accept", token_of(&made.body["url"])),
            Some(&cor),
            None,
            None,
        )
        .await;
    assert_eq!(r.body["user"]["roles"]["member_of"], json!(["fanfare"]));
    assert_eq!(
        invite(&api, &cor, "association_member", "fanfare")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let made = invite(&api, &anna, "association_admin", "fanfare").await;
    api.call(
        "POST",
        &format!("/api/invites/{}/accept", token_of(&made.body["url"])),
        Some(&cor),
        None,
        None,
    )
    .await;
    let roles = stored_roles(&api, "cor").await;
    assert!(roles.admin_of.contains(&fanfare) && roles.member_of.contains(&fanfare));
    // Anna's device received the server's role writes like any change.
    device
        .pump_until(|c| {
            MunicipalityDoc::from_automerge(c.doc(doc).clone()).is_ok_and(|m| {
                m.roles_of(&UserId::new("cor").unwrap(), false)
                    .admin_of
                    .contains(&fanfare)
            })
        })
        .await
        .unwrap();
    assert!(
        api.server
            .accounts()
            .user(&UserId::new("cor").unwrap())
            .is_admin_of(&fanfare)
    );
    // Another association's admin cannot invite to the fanfare.
    assert_eq!(
        invite(&api, &cor, "association_admin", "schutterij")
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // After a restart, the roles come back from the database, and only from there: the
    // document names Anna as the fanfare's admin, but a document's contents are not authority
    // (a non-admin could have written them), so with her rows gone she is no admin.
    device.disconnect();
    serving.stop().await;
    api.db()
        .execute("DELETE FROM role WHERE user_id = 'anna'", [])
        .unwrap();
    let Api { server, dir, .. } = api;
    drop(server);
    let api = Api::start_in(dir, &[]).await;
    let accounts = api.server.accounts();
    assert!(
        !accounts
            .user(&UserId::new("anna").unwrap())
            .is_admin_of(&fanfare)
    );
    assert!(
        accounts
            .user(&UserId::new("cor").unwrap())
            .is_admin_of(&fanfare)
    );
    assert!(
        accounts
            .user(&UserId::new("cor").unwrap())
            .roles
            .member_of
            .contains(&fanfare)
    );
}

/// Signs up the seed's broker `user` with the invite the start made for them.
async fn seeded_broker_signs_up(api: &Api, user: &str) -> Reply {
    let invite = api
        .server
        .seed_invites()
        .iter()
        .find(|i| i.user.as_str() == user)
        .expect("an invite for the seeded broker")
        .token
        .clone();
    api.call(
        "POST",
        "/api/accounts",
        None,
        None,
        Some(json!({
            "email": format!("{user}@example.org"), "password": GOOD, "display_name": user,
            "user_id": user, "invite": invite,
        })),
    )
    .await
}

#[tokio::test]
async fn seed_brokers_take_the_role_only_with_the_invite_made_for_them() {
    // The e2e tests' municipality names its Ulft broker's user id.
    let seed = include_str!("../../tests/seed/e2e.toml");
    let api = Api::start_seeded(tempfile::tempdir().unwrap(), &[], seed).await;
    let ulft = VillageId::new("ulft").unwrap();
    let broker = UserId::new("broker-ulft").unwrap();
    assert!(!api.server.accounts().user(&broker).is_broker_of(&ulft));
    let invites = api.server.seed_invites();
    assert_eq!(invites.len(), 1);
    assert_eq!(invites[0].user, broker);
    assert_eq!(
        invites[0].grant,
        sync_server::accounts::Grant::Broker(ulft.clone())
    );
    let up = seeded_broker_signs_up(&api, "broker-ulft").await;
    assert_eq!(up.status, StatusCode::CREATED, "{:?}", up.body);
    assert_eq!(up.body["user"]["roles"]["broker_of"], json!(["ulft"]));
    assert!(api.server.accounts().user(&broker).is_broker_of(&ulft));
    assert!(
        stored_roles(&api, "broker-ulft")
            .await
            .broker_of
            .contains(&ulft)
    );
}

#[test]
fn admin_create_reads_the_password_from_stdin() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |password: &str, email: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sync-server"))
            .args([
                "--data",
                data.to_str().unwrap(),
                "admin",
                "create",
                "--email",
                email,
                "--display-name",
                "Wethouder",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let weak = run("kort", "wethouder@gemeente.example");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password_too_short"));
    let ok = run(GOOD, "wethouder@gemeente.example");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let out = String::from_utf8_lossy(&ok.stdout).into_owned();
    assert!(out.starts_with("created municipality admin "), "{out}");
    let all = format!("{out}{}", String::from_utf8_lossy(&ok.stderr));
    assert!(!all.contains(GOOD), "the password is never echoed");
    let again = run(GOOD, "wethouder@gemeente.example");
    assert!(String::from_utf8_lossy(&again.stderr).contains("email_taken"));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = Arc::new(dir);
        let api = Api::start_in(Arc::try_unwrap(dir).unwrap(), &[]).await;
        let r = api
            .sign_in("wethouder@gemeente.example", GOOD, [10, 0, 0, 9])
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["user"]["roles"]["municipality_admin"], true);
    });
}

#[tokio::test]
async fn residents_report_items_and_the_villages_broker_resolves_them() {
    let api = Api::start(&[]).await;
    let report = json!({ "village": "ulft", "target": "board/b1", "reason": "Reclame" });
    let file = |cookie: Option<String>| {
        let (api, report) = (&api, report.clone());
        async move {
            api.call(
                "POST",
                "/api/reports",
                cookie.as_deref(),
                None,
                Some(report),
            )
            .await
        }
    };
    assert_eq!(file(None).await.status, StatusCode::UNAUTHORIZED);
    let anna = api
        .sign_up("anna@example.nl", "Anna", Some("anna"))
        .await
        .session();
    assert_eq!(file(Some(anna.clone())).await.status, StatusCode::CREATED);
    assert_eq!(file(Some(anna.clone())).await.error(), "already_reported");
    let bad = api
        .call(
            "POST",
            "/api/reports",
            Some(&anna),
            None,
            Some(json!({ "village": "ulft", "target": "volunteers/bea", "reason": "x" })),
        )
        .await;
    assert_eq!(bad.error(), "bad_target");

    // Only the village's broker reads the reports.
    let list = |cookie: String| {
        let api = &api;
        async move {
            api.call(
                "GET",
                "/api/reports?village=ulft",
                Some(&cookie),
                None,
                None,
            )
            .await
        }
    };
    assert_eq!(list(anna.clone()).await.status, StatusCode::FORBIDDEN);
    let wethouder = admin(&api).await;
    let made = invite(&api, &wethouder, "broker", "ulft").await;
    let bea = api
        .sign_up("bea@example.nl", "Bea", Some("bea"))
        .await
        .session();
    let accept = format!("/api/invites/{}/accept", token_of(&made.body["url"]));
    assert_eq!(
        api.call("POST", &accept, Some(&bea), None, None)
            .await
            .status,
        StatusCode::OK
    );
    let open = list(bea.clone()).await;
    assert_eq!(open.status, StatusCode::OK, "{:?}", open.body);
    let reports = open.body["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["reason"], "Reclame");
    assert_eq!(reports[0]["reporter"], "anna");

    let resolve = format!("/api/reports/{}/resolve", reports[0]["id"]);
    let hidden = json!({ "resolution": "hidden" });
    assert_eq!(
        api.call("POST", &resolve, Some(&anna), None, Some(hidden.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.call("POST", &resolve, Some(&bea), None, Some(hidden.clone()))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        list(bea.clone()).await.body["reports"],
        json!([]),
        "a resolved report is no longer open"
    );
}

#[tokio::test]
async fn roles_in_the_accounts_reach_the_document_at_start() {
    // As after a crash between the accounts' write and the document's.
    let api = Api::start(&[]).await;
    assert!(stored_roles(&api, "dirk").await.broker_of.is_empty());
    let Api { server, dir, .. } = api;
    drop(server);
    let api = Api::start_in(dir, &[]).await;
    api.db()
        .execute(
            "INSERT INTO role (user_id, kind, target, granted_at) VALUES ('dirk', 'broker', 'ulft', 0)",
            [],
        )
        .unwrap();
    let Api { server, dir, .. } = api;
    drop(server);
    let api = Api::start_in(dir, &[]).await;
    let ulft = VillageId::new("ulft").unwrap();
    assert!(stored_roles(&api, "dirk").await.broker_of.contains(&ulft));
    assert!(
        api.server
            .accounts()
            .user(&UserId::new("dirk").unwrap())
            .is_broker_of(&ulft)
    );
}

// ---- taking roles away ----------------------------------------------------------------------

const FANFARE: &str = "fanfare";

fn fanfare_draft(description: &str) -> model::AssociationDraft {
    model::AssociationDraft {
        name: "Fanfare Ulft".into(),
        category: model::AssociationCategory::Music,
        villages: vec![VillageId::new("ulft").unwrap()],
        description: description.into(),
        contacts: vec![],
        website: String::new(),
    }
}

fn now_ms() -> i64 {
    support::now().as_millis() as i64
}

fn in_municipality(am: &mut automerge::Automerge, op: impl FnOnce(&mut MunicipalityDoc)) {
    let mut doc = MunicipalityDoc::from_automerge(std::mem::take(am)).unwrap();
    op(&mut doc);
    *am = doc.into_automerge();
}

async fn revoke(
    router: &Router,
    cookie: Option<&str>,
    user: &str,
    kind: &str,
    target: &str,
) -> Reply {
    call(
        router,
        "DELETE",
        "/api/roles",
        cookie,
        None,
        Some(json!({ "user_id": user, "kind": kind, "target": target })),
    )
    .await
}

fn grant(api: &Api, user: &str, kind: &str, target: &str) {
    api.server
        .accounts()
        .grant_blocking(
            &UserId::new(user).unwrap(),
            &sync_server::accounts::Grant::parse(kind, target).unwrap(),
        )
        .unwrap();
}

#[tokio::test]
async fn who_may_take_which_role_away() {
    let api = Api::start(&[]).await;
    let r = &api.router;
    let wethouder = admin(&api).await;
    let mut s = std::collections::HashMap::new();
    for name in ["anna", "bert", "cor", "dirk", "sanne", "bea"] {
        let up = api
            .sign_up(&format!("{name}@example.nl"), name, Some(name))
            .await;
        assert_eq!(up.status, StatusCode::CREATED, "{:?}", up.body);
        s.insert(name, up.session());
    }
    let s = |name: &str| Some(s[name].clone());
    grant(&api, "anna", "association_admin", FANFARE);
    grant(&api, "bert", "association_admin", FANFARE);
    grant(&api, "cor", "association_member", FANFARE);
    grant(&api, "dirk", "association_member", FANFARE);
    grant(&api, "sanne", "association_admin", "schutterij");
    grant(&api, "bea", "broker", "ulft");
    let member = ("association_member", FANFARE);
    let admin_role = ("association_admin", FANFARE);

    let r1 = revoke(r, None, "cor", member.0, member.1).await;
    assert_eq!(
        (r1.status, r1.error()),
        (StatusCode::UNAUTHORIZED, "not_signed_in")
    );
    for (user, kind, target) in [
        ("cor", "king", FANFARE),
        ("cor", "association_member", "Not An Id!"),
        ("", "association_member", FANFARE),
        ("anna", "municipality_admin", ""),
    ] {
        let bad = revoke(r, Some(&wethouder), user, kind, target).await;
        assert_eq!(
            (bad.status, bad.error()),
            (StatusCode::BAD_REQUEST, "invalid_role"),
            "{user} {kind} {target}"
        );
    }
    // A member cannot remove another member; another association's admin cannot either.
    for asker in ["cor", "sanne"] {
        let no = revoke(r, s(asker).as_deref(), "dirk", member.0, member.1).await;
        assert_eq!(
            (no.status, no.error()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{asker}"
        );
    }
    // Nobody learns whether a role they may not touch exists.
    let no = revoke(r, s("cor").as_deref(), "dirk", admin_role.0, admin_role.1).await;
    assert_eq!(no.status, StatusCode::FORBIDDEN);

    // Leaving: Cor ends his own membership; twice is 404.
    let left = revoke(r, s("cor").as_deref(), "cor", member.0, member.1).await;
    assert_eq!(left.status, StatusCode::NO_CONTENT, "{:?}", left.body);
    let again = revoke(r, s("cor").as_deref(), "cor", member.0, member.1).await;
    assert_eq!(
        (again.status, again.error()),
        (StatusCode::NOT_FOUND, "role_not_found")
    );
    assert_eq!(
        api.me(&s("cor").unwrap()).await.body["user"]["roles"]["member_of"],
        json!([])
    );
    // An admin removes a member and another admin of their own association.
    let removed = revoke(r, s("anna").as_deref(), "dirk", member.0, member.1).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let removed = revoke(r, s("anna").as_deref(), "bert", admin_role.0, admin_role.1).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert!(
        !api.server
            .accounts()
            .user(&UserId::new("bert").unwrap())
            .is_admin_of(&AssociationId::new(FANFARE).unwrap())
    );
    // Bert is no admin any more: he may not remove Anna.
    let no = revoke(r, s("bert").as_deref(), "anna", admin_role.0, admin_role.1).await;
    assert_eq!(no.status, StatusCode::FORBIDDEN);
    // Anna is the last admin: neither she nor the municipality can remove her.
    for asker in [s("anna").unwrap(), wethouder.clone()] {
        let last = revoke(r, Some(&asker), "anna", admin_role.0, admin_role.1).await;
        assert_eq!(
            (last.status, last.error()),
            (StatusCode::CONFLICT, "last_admin")
        );
    }
    assert!(
        api.server
            .accounts()
            .user(&UserId::new("anna").unwrap())
            .is_admin_of(&AssociationId::new(FANFARE).unwrap()),
        "a refused revocation leaves the role"
    );

    // The broker role: only the municipality admin takes it (not an association admin, not
    // the broker herself).
    for asker in ["anna", "bea"] {
        let no = revoke(r, s(asker).as_deref(), "bea", "broker", "ulft").await;
        assert_eq!(no.status, StatusCode::FORBIDDEN, "{asker}");
    }
    assert!(
        stored_roles(&api, "bea").await.broker_of.is_empty(),
        "granted in the accounts only"
    );
    // (Written into the document first, so its removal shows.)
    let doc_grant = invite(&api, &wethouder, "broker", "ulft").await;
    let accepted = api
        .call(
            "POST",
            &format!("/api/invites/{}/accept", token_of(&doc_grant.body["url"])),
            s("bea").as_deref(),
            None,
            None,
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK);
    let ulft = VillageId::new("ulft").unwrap();
    assert!(stored_roles(&api, "bea").await.broker_of.contains(&ulft));
    let gone = revoke(r, Some(&wethouder), "bea", "broker", "ulft").await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert!(stored_roles(&api, "bea").await.broker_of.is_empty());
    assert_eq!(
        api.me(&s("bea").unwrap()).await.body["user"]["roles"]["broker_of"],
        json!([])
    );
    let none = revoke(r, Some(&wethouder), "bea", "broker", "ulft").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    // The database: the rows are gone, each revocation is remembered.
    let db = api.db();
    let held: i64 = db
        .query_row(
            "SELECT count(*) FROM role WHERE user_id IN ('bert', 'cor', 'dirk', 'bea')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(held, 0);
    let revoked: i64 = db
        .query_row("SELECT count(*) FROM role_revocation", [], |r| r.get(0))
        .unwrap();
    assert_eq!(revoked, 4);
}

#[tokio::test]
async fn revocations_hold_across_restarts_and_reach_the_document_at_start() {
    // The e2e municipality names `broker-ulft` as Ulft's broker, who takes it by invite.
    let seed = include_str!("../../tests/seed/e2e.toml");
    let api = Api::start_seeded(tempfile::tempdir().unwrap(), &[], seed).await;
    let wethouder = admin(&api).await;
    let broker_session = seeded_broker_signs_up(&api, "broker-ulft").await.session();
    let ulft = VillageId::new("ulft").unwrap();
    assert!(
        stored_roles(&api, "broker-ulft")
            .await
            .broker_of
            .contains(&ulft)
    );
    let r = revoke(
        &api.router,
        Some(&wethouder),
        "broker-ulft",
        "broker",
        "ulft",
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert!(stored_roles(&api, "broker-ulft").await.broker_of.is_empty());

    // The seed does not offer it again at the next start.
    let Api { server, dir, .. } = api;
    drop(server);
    let api = Api::start_seeded(dir, &[], seed).await;
    assert!(api.server.seed_invites().is_empty());
    let broker = UserId::new("broker-ulft").unwrap();
    assert!(!api.server.accounts().user(&broker).is_broker_of(&ulft));
    assert!(stored_roles(&api, "broker-ulft").await.broker_of.is_empty());

    // As after a crash between the accounts' revocation and the document's: Dirk's role is
    // revoked in the database but still in the document. The start removes it.
    grant(&api, "dirk", "broker", "ulft");
    let Api { server, dir, .. } = api;
    drop(server);
    let api = Api::start_seeded(dir, &[], seed).await;
    assert!(stored_roles(&api, "dirk").await.broker_of.contains(&ulft));
    let Api { server, dir, .. } = api;
    drop(server);
    {
        let db = rusqlite::Connection::open(dir.path().join("data/dorpskracht.sqlite3")).unwrap();
        db.execute("DELETE FROM role WHERE user_id = 'dirk'", [])
            .unwrap();
        db.execute(
            "INSERT INTO role_revocation (user_id, kind, target, revoked_by, revoked_at)
             VALUES ('dirk', 'broker', 'ulft', 'wethouder', 0)",
            [],
        )
        .unwrap();
    }
    let api = Api::start_seeded(dir, &[], seed).await;
    assert!(stored_roles(&api, "dirk").await.broker_of.is_empty());
    assert!(
        !api.server
            .accounts()
            .user(&UserId::new("dirk").unwrap())
            .is_broker_of(&ulft)
    );

    // Granted again (the broker is invited by the municipality): the revocation is forgotten
    // and the role holds across a restart.
    let wethouder = api
        .sign_in("wethouder@gemeente.example", GOOD, [10, 9, 9, 9])
        .await
        .session();
    let made = invite(&api, &wethouder, "broker", "ulft").await;
    let accepted = api
        .call(
            "POST",
            &format!("/api/invites/{}/accept", token_of(&made.body["url"])),
            Some(&broker_session),
            None,
            None,
        )
        .await;
    assert_eq!(accepted.body["user"]["roles"]["broker_of"], json!(["ulft"]));
    let Api { server, dir, .. } = api;
    drop(server);
    let api = Api::start_seeded(dir, &[], seed).await;
    assert!(api.server.accounts().user(&broker).is_broker_of(&ulft));
    assert!(
        stored_roles(&api, "broker-ulft")
            .await
            .broker_of
            .contains(&ulft)
    );
    let left: i64 = api
        .db()
        .query_row(
            "SELECT count(*) FROM role_revocation WHERE user_id = 'broker-ulft'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}

/// A device of `account` on the trusting `server`, in sync with `doc`.
async fn device(
    server: &support::TestServer,
    account: &support::identities::Account,
    doc: DocumentId,
) -> support::Client {
    let mut client = support::Client::with_actor(account.id().as_str(), account.actor.clone());
    client.connect(&account.url(server)).await.unwrap();
    client.find(doc).await.unwrap();
    client.pump_until(|c| c.in_sync(doc)).await.unwrap();
    client
}

fn shows_admin(client: &support::Client, doc: DocumentId, user: &str) -> bool {
    MunicipalityDoc::from_automerge(client.doc(doc).clone()).is_ok_and(|m| {
        m.roles_of(&UserId::new(user).unwrap(), false)
            .admin_of
            .contains(&AssociationId::new(FANFARE).unwrap())
    })
}

#[tokio::test]
async fn a_revoked_admin_is_refused_by_the_sync_endpoint_and_devices_hear_of_it_live() {
    use support::identities::{Account, sign_up};
    let server = support::TestServer::start_trusting(Vec::new()).await;
    let router = server.server.router();
    let doc = DocumentId::from_url(&server.server.bootstrap().municipality).unwrap();
    let fanfare = AssociationId::new(FANFARE).unwrap();
    let anna = sign_up(&server, "anna", model::Roles::default()).await;
    let bert = sign_up(&server, "bert", model::Roles::default()).await;
    let cookie = |a: &Account| format!("{}={}", sync_server::SESSION_COOKIE, a.token);

    // Anna registers the fanfare from her device (its creating change makes her first admin)
    // and invites Bert as a second admin.
    let mut anna_device = device(&server, &anna, doc).await;
    let user = anna.user.clone();
    let draft = fanfare_draft("Muziek sinds 1901");
    anna_device
        .apply(doc, |am| {
            in_municipality(am, |m| {
                m.register_association(&user, &fanfare, &draft, now_ms())
                    .unwrap()
            })
        })
        .await
        .unwrap();
    anna_device.pump_until(|c| c.in_sync(doc)).await.unwrap();
    assert!(
        server
            .server
            .accounts()
            .user(anna.id())
            .is_admin_of(&fanfare)
    );
    let made = call(
        &router,
        "POST",
        "/api/invites",
        Some(&cookie(&anna)),
        None,
        Some(json!({ "kind": "association_admin", "target": FANFARE })),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let accept = format!("/api/invites/{}/accept", token_of(&made.body["url"]));
    let accepted = call(&router, "POST", &accept, Some(&cookie(&bert)), None, None).await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);

    // Bert, admin, edits the profile: accepted.
    let mut bert_device = device(&server, &bert, doc).await;
    bert_device
        .pump_until(|c| shows_admin(c, doc, "bert"))
        .await
        .unwrap();
    let bert_as_admin = model::User {
        id: bert.id().clone(),
        roles: model::Roles {
            admin_of: [fanfare.clone()].into(),
            ..model::Roles::default()
        },
    };
    let (admin, edit) = (bert_as_admin.clone(), fanfare_draft("Nu ook met slagwerk"));
    bert_device
        .apply(doc, |am| {
            in_municipality(am, |m| {
                m.edit_association(&admin, &fanfare, &edit, now_ms())
                    .unwrap()
            })
        })
        .await
        .unwrap();
    bert_device.pump_until(|c| c.in_sync(doc)).await.unwrap();
    let description = |c: &support::Client| {
        MunicipalityDoc::from_automerge(c.doc(doc).clone())
            .unwrap()
            .association(FANFARE)
            .unwrap()
            .description
    };
    anna_device
        .pump_until(|c| description(c) == "Nu ook met slagwerk")
        .await
        .unwrap();

    // Anna takes Bert's admin role away. Both devices receive the server's change live.
    let r = revoke(
        &router,
        Some(&cookie(&anna)),
        "bert",
        "association_admin",
        FANFARE,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    for device in [&mut anna_device, &mut bert_device] {
        device
            .pump_until(|c| !shows_admin(c, doc, "bert") && shows_admin(c, doc, "anna"))
            .await
            .unwrap();
    }

    // The same kind of edit from Bert's device (whose app still thinks him admin) is refused,
    // with an error naming the document, and reaches nobody.
    let edit = fanfare_draft("Alleen nog slagwerk");
    let sent = bert_device
        .apply(doc, |am| {
            in_municipality(am, |m| {
                m.edit_association(&bert_as_admin, &fanfare, &edit, now_ms())
                    .unwrap()
            })
        })
        .await;
    let error = match sent {
        Ok(()) => bert_device.pump_until(|_| false).await.unwrap_err(),
        Err(error) => error,
    };
    let support::ClientError::ServerError(message) = error else {
        panic!("expected an error message, got {error:?}");
    };
    assert!(
        message.contains(&doc.to_string()) && message.contains("associations/fanfare"),
        "{message}"
    );
    // Anna's edit afterwards goes through; Bert's never arrived.
    let user = model::User {
        id: anna.id().clone(),
        roles: model::Roles {
            admin_of: [fanfare.clone()].into(),
            ..model::Roles::default()
        },
    };
    let edit = fanfare_draft("Muziek voor heel Ulft");
    anna_device
        .apply(doc, |am| {
            in_municipality(am, |m| {
                m.edit_association(&user, &fanfare, &edit, now_ms())
                    .unwrap()
            })
        })
        .await
        .unwrap();
    anna_device.pump_until(|c| c.in_sync(doc)).await.unwrap();
    assert_eq!(description(&anna_device), "Muziek voor heel Ulft");
    anna_device.disconnect();
    let dir = server.stop().await;
    let stored = support::stored_document(&dir.path().join("data"), doc)
        .await
        .unwrap();
    let stored = MunicipalityDoc::from_automerge(stored).unwrap();
    assert_eq!(
        stored.association(FANFARE).unwrap().description,
        "Muziek voor heel Ulft"
    );
    assert!(
        !stored
            .roles_of(&UserId::new("bert").unwrap(), false)
            .admin_of
            .contains(&fanfare)
    );
}

// ---- user ids sign-up will not hand out ------------------------------------------------------

#[tokio::test]
async fn sign_up_refuses_a_user_id_the_public_documents_name() {
    // The e2e municipality's knowledge page is authored by the municipality's id.
    let seed = include_str!("../../tests/seed/e2e.toml");
    let api = Api::start_seeded(tempfile::tempdir().unwrap(), &[], seed).await;
    let taken = api
        .sign_up("mallory@example.nl", "Mallory", Some("testgemeente"))
        .await;
    assert_eq!(
        (taken.status, taken.error()),
        (StatusCode::CONFLICT, "user_id_in_use")
    );

    // With trust off, a device writes as anyone: Zoe's help request and Yara's volunteer
    // profile are stored with no account behind them.
    let serving = api.serve().await;
    let url = serving.url.clone();
    let village = DocumentId::from_url(&api.server.bootstrap().villages[0].doc).unwrap();
    let mut device = support::Client::new("old-device");
    device.connect(&url).await.unwrap();
    device.find(village).await.unwrap();
    device.pump_until(|c| c.in_sync(village)).await.unwrap();
    device
        .apply(village, |am| {
            let mut v = model::VillageDoc::from_automerge(std::mem::take(am)).unwrap();
            let draft = model::HelpDraft {
                category: model::HelpCategory::Garden,
                title: "Heg snoeien".into(),
                description: String::new(),
                when: None,
            };
            let zoe = model::User::resident(UserId::new("zoe").unwrap());
            v.post_help_request(
                &zoe,
                &model::HelpPostId::new("p1").unwrap(),
                &draft,
                now_ms(),
            )
            .unwrap();
            let yara = model::User::resident(UserId::new("yara").unwrap());
            v.set_volunteer_profile(&yara, &Default::default(), now_ms())
                .unwrap();
            *am = v.into_automerge();
        })
        .await
        .unwrap();
    device.pump_until(|c| c.in_sync(village)).await.unwrap();

    for (n, id) in ["zoe", "yara"].into_iter().enumerate() {
        let r = api
            .sign_up(&format!("claim{n}@example.nl"), "Claimer", Some(id))
            .await;
        assert_eq!(
            (r.status, r.error()),
            (StatusCode::CONFLICT, "user_id_in_use"),
            "{id}"
        );
    }
    let accounts: i64 = api
        .db()
        .query_row("SELECT count(*) FROM account", [], |r| r.get(0))
        .unwrap();
    assert_eq!(accounts, 0, "no account was made for a refused id");

    // A fresh id that appears nowhere is kept, as the app relies on; so is one that only a
    // title or a role list mentions.
    let fresh = api
        .sign_up("nieuw@example.nl", "Nieuw", Some("r1x9k2m0q7"))
        .await;
    assert_eq!(fresh.status, StatusCode::CREATED, "{:?}", fresh.body);
    assert_eq!(fresh.body["user"]["id"], "r1x9k2m0q7");
    // A seeded broker's id is reserved: only its invite takes it (`seeded_broker_...`).
    let broker = api
        .sign_up("sanne@example.org", "Sanne", Some("broker-ulft"))
        .await;
    assert_eq!(
        (broker.status, broker.error()),
        (StatusCode::CONFLICT, "user_id_in_use")
    );
    // Without a proposal, or with an account's id, a random one as before.
    let plain = api.sign_up("zoe@example.nl", "Zoe", None).await;
    assert_eq!(plain.status, StatusCode::CREATED);
    let other = api
        .sign_up("z2@example.nl", "Zoe", Some("r1x9k2m0q7"))
        .await;
    assert_eq!(other.status, StatusCode::CREATED);
    assert_ne!(other.body["user"]["id"], "r1x9k2m0q7");

    device.disconnect();
    serving.stop().await;
}
