//! The authenticated upgrade of `/sync` with trust on: the session comes from the `dk_session`
//! cookie or a `token` query parameter (never logged), and a browser page from another origin
//! is refused before the upgrade.

mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use automerge::{ROOT, ReadDoc, Value};
use model::{HelpCategory, HelpDraft, HelpPostId, Roles, VillageDoc};
use support::{
    Client, ClientError, TestServer,
    identities::{Account, sign_up},
};
use sync::DocumentId;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};

/// Everything logged in this test binary, at every level.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        // Everything but the test's own client, which prints the request it sends.
        let filter = tracing_subscriber::EnvFilter::new("trace,tungstenite::handshake::client=off");
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .init();
        buffer
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn village(server: &TestServer) -> DocumentId {
    DocumentId::from_url(&server.server.bootstrap().villages[0].doc).unwrap()
}

/// Connects to `url` as `account`'s device, posts a help request in the first village and
/// returns whether the server accepted it.
async fn post(server: &TestServer, account: &Account, url: &str) -> Result<(), ClientError> {
    let id = village(server);
    let mut client = Client::with_actor("poster", account.actor.clone());
    client.connect(url).await?;
    client.find(id).await?;
    client.pump_until(|c| c.in_sync(id)).await?;
    let user = account.user.clone();
    client
        .apply(id, |am| {
            let mut doc = VillageDoc::from_automerge(std::mem::take(am)).unwrap();
            let draft = HelpDraft {
                category: HelpCategory::Garden,
                title: "Heg snoeien".into(),
                description: String::new(),
                when: None,
            };
            let post = HelpPostId::new(support::random_document_id().to_string()).unwrap();
            let now = support::now().as_millis() as i64;
            doc.post_help_request(&user, &post, &draft, now).unwrap();
            *am = doc.into_automerge();
        })
        .await?;
    client.pump_until(|c| c.in_sync(id)).await
}

#[tokio::test]
async fn the_token_query_and_the_cookie_sign_a_connection_in_and_the_token_is_never_logged() {
    let logs = logs();
    let server = TestServer::start_trusting(Vec::new()).await;
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;

    // `?token=`: Anna's edit is hers.
    post(&server, &anna, &anna.url(&server)).await.unwrap();
    // An unknown token is anonymous: it reads, but may not write.
    let url = format!("{}?token=0000", server.url());
    let refused = post(&server, &anna, &url).await.unwrap_err();
    assert!(
        matches!(&refused, ClientError::ServerError(m) if m.contains("anonymous")),
        "{refused:?}"
    );

    // The `dk_session` cookie, as a browser sends it.
    let cookie = format!("theme=dark; {}={}", sync_server::SESSION_COOKIE, bert.token);
    let id = village(&server);
    let mut client = Client::with_actor("bert", bert.actor.clone());
    client
        .connect_with_cookie(&server.url(), Some(&cookie))
        .await
        .unwrap();
    client.find(id).await.unwrap();
    client.pump_until(|c| c.in_sync(id)).await.unwrap();
    let user = bert.user.clone();
    client
        .apply(id, |am| {
            let mut doc = VillageDoc::from_automerge(std::mem::take(am)).unwrap();
            doc.set_volunteer_profile(
                &user,
                &Default::default(),
                support::now().as_millis() as i64,
            )
            .unwrap();
            *am = doc.into_automerge();
        })
        .await
        .unwrap();
    client.pump_until(|c| c.in_sync(id)).await.unwrap();
    let volunteers = match client.docs[&id].get(ROOT, "volunteers").unwrap() {
        Some((Value::Object(_), obj)) => obj,
        other => panic!("{other:?}"),
    };
    assert!(client.docs[&id].get(&volunteers, "bert").unwrap().is_some());

    server.stop().await;
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logged.contains("/sync?token=[redacted]"),
        "the upgrade is logged, without its token"
    );
    for secret in [&anna.token, &bert.token] {
        let leak = logged.lines().find(|l| l.contains(secret.as_str()));
        assert!(leak.is_none(), "a session token was logged: {leak:?}");
    }
}

#[tokio::test]
async fn a_page_from_another_origin_is_refused_before_the_upgrade() {
    let server = TestServer::start_trusting(vec!["https://dorpskracht.example".into()]).await;
    let connect = |origin: Option<String>| {
        let mut request = server.url().into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(&origin).unwrap());
        }
        async move { tokio_tungstenite::connect_async(request).await.map(|_| ()) }
    };
    let refused = connect(Some("https://evil.example".into()))
        .await
        .unwrap_err();
    match refused {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!("expected 403, got {other:?}"),
    }
    // A configured origin, the server's own, and native clients (no Origin) are fine.
    connect(Some("https://dorpskracht.example".into()))
        .await
        .unwrap();
    connect(Some(format!("http://{}", server.addr)))
        .await
        .unwrap();
    connect(None).await.unwrap();
}
