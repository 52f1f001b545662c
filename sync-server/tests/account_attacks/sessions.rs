//! Hole 9: sessions that outlive their end, files others can read, tokens in logs.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::{NEW_PASSWORD, PASSWORD, sign_in, sign_up};
use crate::support::{TestServer, Ws, http::request_as, raw_connect, raw_handshake};

/// A socket on `/sync` opened with session `token`, past the handshake.
async fn signed_in_socket(server: &TestServer, token: &str, device: &str) -> Ws {
    let mut ws = raw_connect(&format!("{}?token={token}", server.url())).await;
    raw_handshake(&mut ws, device).await;
    ws
}

/// Waits (at most 10 s, far below the server's 20 s ping) until the server closes `ws`;
/// returns the close frame's reason, or `None` if the socket stayed open.
async fn closed_by_server(ws: &mut Ws) -> Option<String> {
    let wait = async {
        while let Some(frame) = ws.next().await {
            match frame {
                Ok(WsMessage::Close(frame)) => {
                    return frame.map(|f| f.reason.to_string()).unwrap_or_default();
                }
                Err(_) => return String::new(),
                Ok(_) => {}
            }
        }
        String::new()
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .ok()
}

#[tokio::test]
async fn signing_out_closes_the_sockets_opened_with_the_session() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let up = sign_up(server.addr, "anna", &[]).await;
    assert_eq!(up.status, 201, "{}", up.body);
    let token = up.token();
    let mut ws = signed_in_socket(&server, &token, "phone").await;
    let out = request_as(server.addr, &token, "DELETE", "/api/session", None).await;
    assert_eq!(out.status, 204);
    assert_eq!(
        closed_by_server(&mut ws).await.as_deref(),
        Some("session ended")
    );
}

#[tokio::test]
async fn a_password_change_closes_the_sockets_of_the_other_sessions() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let up = sign_up(server.addr, "bert", &[]).await;
    assert_eq!(up.status, 201, "{}", up.body);
    let stolen = sign_in(server.addr, "bert@example.nl", PASSWORD, &[]).await;
    assert_eq!(stolen.status, 200, "{}", stolen.body);
    let mut thief = signed_in_socket(&server, &stolen.token(), "thief").await;
    let mut own = signed_in_socket(&server, &up.token(), "own").await;
    let body = json!({ "old_password": PASSWORD, "new_password": NEW_PASSWORD });
    let changed = request_as(
        server.addr,
        &up.token(),
        "POST",
        "/api/account/password",
        Some(&body),
    )
    .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    assert_eq!(
        closed_by_server(&mut thief).await.as_deref(),
        Some("session ended")
    );
    // The session that changed the password keeps its socket.
    let stays = tokio::time::timeout(Duration::from_millis(300), own.next()).await;
    assert!(stays.is_err(), "the own socket got {stays:?}");
}

#[tokio::test]
async fn a_session_that_expires_closes_its_sockets() {
    // A server whose accounts' clock the test moves (the sockets' timers run in real time).
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let clock = sync_server::Clock::manual(1_800_000_000_000);
    let server = sync_server::Server::open_trusting(sync_server::Config {
        data: dir.path().join("data"),
        dist,
        seed: sync_server::DEFAULT_SEED.into(),
        limits: sync_server::SyncLimits::default(),
        origins: Vec::new(),
        clock: clock.clone(),
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.clone().run(listener, async move {
        let _ = stopped.await;
    }));
    let up = sign_up(addr, "erik", &[]).await;
    assert_eq!(up.status, 201, "{}", up.body);
    // Thirty days less one second later, the session has one second left.
    let ttl = u64::try_from(sync_server::accounts::SESSION_TTL_MS).unwrap();
    clock.advance(Duration::from_millis(ttl - 1000));
    let mut ws = raw_connect(&format!("ws://{addr}/sync?token={}", up.token())).await;
    raw_handshake(&mut ws, "tablet").await;
    assert_eq!(
        closed_by_server(&mut ws).await.as_deref(),
        Some("session ended")
    );
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_folder_and_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start_trusting(Vec::new()).await;
    // A write, so the WAL and its shared memory exist.
    assert_eq!(sign_up(server.addr, "carla", &[]).await.status, 201);
    let mode = |p: std::path::PathBuf| std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
    let data = server.data();
    assert_eq!(mode(data.clone()), 0o700, "data folder");
    for file in ["", "-wal", "-shm"] {
        let path = data.join(format!("dorpskracht.sqlite3{file}"));
        assert_eq!(mode(path), 0o600, "dorpskracht.sqlite3{file}");
    }
}

/// Collects what the server logs, for one test on a current-thread runtime.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything this test binary logs, at every level, from the first call on. Global: tracing
/// caches per call site whether anyone listens, so a subscriber for one thread alone misses
/// what other tests' threads made it cache as unheard.
fn captured_logs() -> Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

#[tokio::test]
async fn invite_tokens_in_paths_never_reach_the_logs() {
    let logs = captured_logs();
    let server = TestServer::start_trusting(Vec::new()).await;
    let up = sign_up(server.addr, "dirk", &[]).await;
    let secret = "c2VjcmV0LWludml0ZS10b2tlbi1vZi00My1jaGFyYWN0ZXJz";
    let paths = [
        ("GET", format!("/api/invites/{secret}")),
        ("POST", format!("/api/invites/{secret}/accept")),
        ("GET", format!("/uitnodiging/{secret}")),
    ];
    for (method, path) in &paths {
        request_as(server.addr, &up.token(), method, path, None).await;
    }
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        text.contains("/api/invites/[redacted]/accept"),
        "the requests are logged: {text}"
    );
    assert!(!text.contains(secret), "a token in the logs: {text}");
}
