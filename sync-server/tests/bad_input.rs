//! Bad input on `/sync`: garbage, truncated CBOR, a 64 MiB frame, a sync message for a document
//! the peer never asked for, an unknown message type, text frames. Each time the connection
//! gets an `error` message or is closed, other connections keep working, and nothing is stored.

mod support;

use std::{sync::Arc, time::Duration};

use automerge::{ROOT, ReadDoc, transaction::Transactable};
use futures_util::{SinkExt, StreamExt};
use support::{
    Client, ClientError, PATIENCE, TestServer, all_stored_keys, random_document_id, raw_connect,
    raw_handshake, raw_until_closed, stored_entries,
};
use sync::{DocumentId, Message};
use sync_server::{ChangeValidator, Incoming, Rejection, SyncLimits};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A client that keeps working while others misbehave: it has a document on the server and
/// sees an edit made through a second connection.
struct Bystander {
    writer: Client,
    reader: Client,
    id: DocumentId,
    edits: i64,
}

impl Bystander {
    async fn new(url: &str) -> Self {
        let mut writer = Client::new("writer");
        let mut reader = Client::new("reader");
        writer.connect(url).await.unwrap();
        reader.connect(url).await.unwrap();
        let id = writer
            .create(|tx| {
                tx.put(ROOT, "n", 0).unwrap();
            })
            .await
            .unwrap();
        writer.pump_until(|c| c.in_sync(id)).await.unwrap();
        reader.find(id).await.unwrap();
        reader.pump_until(|c| c.in_sync(id)).await.unwrap();
        Self {
            writer,
            reader,
            id,
            edits: 0,
        }
    }

    /// An edit travels from writer to reader through the server.
    async fn still_works(&mut self) {
        self.edits += 1;
        let n = self.edits;
        self.writer
            .edit(self.id, |tx| {
                tx.put(ROOT, "n", n).unwrap();
            })
            .await
            .unwrap();
        let id = self.id;
        self.reader
            .pump_until(|c| {
                c.docs[&id]
                    .get(ROOT, "n")
                    .unwrap()
                    .and_then(|(v, _)| v.as_i64())
                    == Some(n)
            })
            .await
            .unwrap();
    }
}

/// Sends `frames` after a handshake and checks the server ends the connection.
async fn rejected_after_handshake(url: &str, frames: Vec<Vec<u8>>) -> Option<String> {
    let mut ws = raw_connect(url).await;
    raw_handshake(&mut ws, "mallory").await;
    for frame in frames {
        if ws.send(WsMessage::Binary(frame.into())).await.is_err() {
            break;
        }
    }
    raw_until_closed(&mut ws).await
}

fn sync_message(doc: DocumentId, data: Vec<u8>, server: &sync::PeerId) -> Vec<u8> {
    Message::Sync {
        sender_id: "mallory".into(),
        target_id: server.clone(),
        document_id: doc,
        data,
    }
    .encode()
}

#[tokio::test]
async fn bad_frames_close_only_their_connection_and_store_nothing() {
    let server = TestServer::start().await;
    let url = server.url();
    let mut bystander = Bystander::new(&url).await;
    let keys_before = all_stored_keys_of_running(&server).await;

    // Garbage before the handshake.
    let mut ws = raw_connect(&url).await;
    ws.send(WsMessage::Binary(b"\xff\x00garbage".to_vec().into()))
        .await
        .unwrap();
    let error = raw_until_closed(&mut ws).await;
    assert!(error.is_some(), "garbage gets an error message");
    bystander.still_works().await;

    // Garbage and truncated CBOR after it.
    let mut ws = raw_connect(&url).await;
    let (_, server_peer) = raw_handshake(&mut ws, "mallory").await;
    drop(ws);
    assert!(
        rejected_after_handshake(&url, vec![vec![0xde, 0xad, 0xbe, 0xef]])
            .await
            .is_some()
    );
    let victim = random_document_id();
    let whole = Message::Request {
        sender_id: "mallory".into(),
        target_id: server_peer.clone(),
        document_id: victim,
        data: vec![0x42, 0x01, 0x00],
    }
    .encode();
    let truncated = whole[..whole.len() / 2].to_vec();
    assert!(
        rejected_after_handshake(&url, vec![truncated])
            .await
            .is_some()
    );
    bystander.still_works().await;

    // An unknown message type.
    let unknown = cbor_map(&[
        ("type", "frobnicate"),
        ("senderId", "mallory"),
        ("targetId", server_peer.as_str()),
    ]);
    let error = rejected_after_handshake(&url, vec![unknown]).await;
    assert!(error.is_some(), "an unknown type gets an error message");

    // A sync message for a document it never requested, whose data is not a sync message.
    let never_requested = random_document_id();
    let error = rejected_after_handshake(
        &url,
        vec![sync_message(
            never_requested,
            b"not automerge".to_vec(),
            &server_peer,
        )],
    )
    .await;
    assert!(error.is_some(), "a bad sync message gets an error message");
    bystander.still_works().await;

    // A text frame.
    let mut ws = raw_connect(&url).await;
    raw_handshake(&mut ws, "mallory").await;
    ws.send(WsMessage::Text("{\"type\":\"sync\"}".into()))
        .await
        .unwrap();
    assert!(raw_until_closed(&mut ws).await.is_some());

    // A 64 MiB frame: closed unread (the writer may see the connection break part way).
    let mut ws = raw_connect(&url).await;
    raw_handshake(&mut ws, "mallory").await;
    let huge = vec![0u8; 64 << 20];
    let _ = ws.send(WsMessage::Binary(huge.into())).await;
    raw_until_closed(&mut ws).await;
    bystander.still_works().await;

    let keys_after = all_stored_keys_of_running(&server).await;
    let dir = server.stop().await;
    let data = dir.path().join("data");
    for doc in [victim, never_requested] {
        assert_eq!(stored_entries(&data, doc).await, 0, "{doc} was stored");
    }
    // Only the bystander's document changed.
    let mut new_keys: Vec<_> = keys_after
        .iter()
        .filter(|k| !keys_before.contains(k))
        .collect();
    new_keys.retain(|k| !k.contains(&bystander.id.to_string()));
    assert!(
        new_keys.is_empty(),
        "unexpected entries stored: {new_keys:?}"
    );
}

/// The stored keys while the server runs (SQLite's WAL lets a reader look beside it).
async fn all_stored_keys_of_running(server: &TestServer) -> Vec<String> {
    all_stored_keys(&server.data()).await
}

/// A CBOR map of text to text (enough for a message the server cannot know).
fn cbor_map(entries: &[(&str, &str)]) -> Vec<u8> {
    fn text(out: &mut Vec<u8>, s: &str) {
        assert!(s.len() < 256);
        if s.len() < 24 {
            out.push(0x60 | s.len() as u8);
        } else {
            out.extend([0x78, s.len() as u8]);
        }
        out.extend(s.as_bytes());
    }
    let mut out = vec![0xa0 | entries.len() as u8];
    for (k, v) in entries {
        text(&mut out, k);
        text(&mut out, v);
    }
    out
}

#[tokio::test]
async fn a_well_formed_sync_for_an_unknown_document_without_changes_stores_nothing() {
    // Announcing a document is how clients create one on the server, so this is not an error;
    // but with no changes in it there is nothing to store.
    let server = TestServer::start().await;
    let mut ws = raw_connect(&server.url()).await;
    let (_, server_peer) = raw_handshake(&mut ws, "mallory").await;
    let doc = random_document_id();
    let empty = automerge::Automerge::new();
    let mut state = automerge::sync::State::new();
    let message = automerge::sync::SyncDoc::generate_sync_message(&empty, &mut state).unwrap();
    ws.send(WsMessage::Binary(
        sync_message(doc, message.encode(), &server_peer).into(),
    ))
    .await
    .unwrap();
    // The server answers (doc-unavailable or a sync message) and keeps the connection.
    let reply = tokio::time::timeout(PATIENCE, ws.next())
        .await
        .expect("an answer")
        .unwrap()
        .unwrap();
    assert!(matches!(reply, WsMessage::Binary(_)));
    drop(ws);
    let dir = server.stop().await;
    assert_eq!(stored_entries(&dir.path().join("data"), doc).await, 0);
}

#[tokio::test]
async fn a_peer_that_goes_silent_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let limits = SyncLimits {
        ping_interval: Duration::from_millis(100),
        peer_timeout: Duration::from_millis(300),
        ..SyncLimits::default()
    };
    let server = TestServer::start_with(limits, None).await;
    // A bare TCP socket that upgrades and then never answers a ping (a WebSocket library would
    // answer them as it reads).
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "GET /sync HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let started = tokio::time::Instant::now();
    let mut received = Vec::new();
    let read_all = tokio::time::timeout(PATIENCE, tcp.read_to_end(&mut received)).await;
    assert!(read_all.is_ok(), "the server never hung up");
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 101"));
    assert!(started.elapsed() >= Duration::from_millis(300));
    server.stop().await;
}

#[tokio::test]
async fn a_handshake_that_never_comes_times_out() {
    let limits = SyncLimits {
        handshake_timeout: Duration::from_millis(200),
        ..SyncLimits::default()
    };
    let server = TestServer::start_with(limits, None).await;
    let mut ws = raw_connect(&server.url()).await;
    let error = raw_until_closed(&mut ws).await;
    assert!(error.unwrap().contains("handshake"));
    server.stop().await;
}

/// Refuses any change that writes the key `forbidden`.
struct NoForbidden;

impl ChangeValidator for NoForbidden {
    fn validate(&self, incoming: &Incoming<'_>) -> Result<(), Rejection> {
        match incoming.doc.get(ROOT, "forbidden") {
            Ok(Some(_)) => Err(Rejection::new("`forbidden` may not be written")),
            _ => Ok(()),
        }
    }
}

#[tokio::test]
async fn refused_changes_are_neither_stored_nor_passed_on() {
    let server = TestServer::start_with(SyncLimits::default(), Some(Arc::new(NoForbidden))).await;
    let url = server.url();
    let mut bystander = Bystander::new(&url).await;
    let id = bystander.id;

    let mut mallory = Client::new("mallory");
    mallory.connect(&url).await.unwrap();
    mallory.find(id).await.unwrap();
    mallory.pump_until(|c| c.in_sync(id)).await.unwrap();
    let good_heads = mallory.heads(id);
    mallory
        .edit(id, |tx| {
            tx.put(ROOT, "forbidden", true).unwrap();
        })
        .await
        .unwrap();
    let refused = mallory.pump_until(|_| false).await;
    assert!(
        matches!(&refused, Err(ClientError::ServerError(m)) if m.contains("forbidden")),
        "{refused:?}"
    );

    // The others never see it, and the document goes on from the heads before it.
    bystander.still_works().await;
    assert!(
        bystander.reader.docs[&id]
            .get(ROOT, "forbidden")
            .unwrap()
            .is_none()
    );
    let dir = server.stop().await;
    let stored = support::stored_document(&dir.path().join("data"), id)
        .await
        .unwrap();
    assert!(stored.get(ROOT, "forbidden").unwrap().is_none());
    for head in good_heads {
        assert!(stored.get_change_by_hash(&head).is_some());
    }
}

#[tokio::test]
async fn a_peer_that_reads_too_slowly_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let limits = SyncLimits {
        outbound_queue: 4,
        send_timeout: Duration::from_millis(500),
        ..SyncLimits::default()
    };
    let server = TestServer::start_with_small_send_buffers(limits).await;
    let url = server.url();
    let mut bystander = Bystander::new(&url).await;
    // A document only the writer and the sloth follow (the reader would be too slow as well).
    let id = bystander
        .writer
        .create(|tx| {
            tx.put(ROOT, "title", "big").unwrap();
        })
        .await
        .unwrap();
    bystander
        .writer
        .pump_until(|c| c.in_sync(id))
        .await
        .unwrap();

    // The sloth asks for the document over a bare socket, then stops reading.
    // A small receive buffer, so that little data fills the way to it.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut sloth = socket.connect(server.addr).await.unwrap();
    let request = format!(
        "GET /sync HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    );
    sloth.write_all(request.as_bytes()).await.unwrap();
    let join = Message::Join {
        sender_id: "sloth".into(),
        supported_protocol_versions: vec![sync::PROTOCOL_VERSION.into()],
        peer_metadata: None,
    };
    sloth
        .write_all(&masked_frame(&join.encode()))
        .await
        .unwrap();
    let server_peer = server_peer_id(&server).await;
    let empty = automerge::Automerge::new();
    let mut state = automerge::sync::State::new();
    let hello = automerge::sync::SyncDoc::generate_sync_message(&empty, &mut state).unwrap();
    let request = Message::Request {
        sender_id: "sloth".into(),
        target_id: server_peer,
        document_id: id,
        data: hello.encode(),
    };
    sloth
        .write_all(&masked_frame(&request.encode()))
        .await
        .unwrap();

    // Big edits, all fanned out to the sloth: more than its queue and the socket buffers hold.
    let mut rng = support::Rng::new(7);
    let noise: String = (0..64 * 1024)
        .map(|_| char::from(b'a' + rng.below(26) as u8))
        .collect();
    let mut sent = 0;
    for n in 0..16 {
        let text = format!("{n}{noise}");
        sent += text.len();
        bystander
            .writer
            .edit(id, |tx| {
                tx.put(ROOT, "big", text).unwrap();
            })
            .await
            .unwrap();
        bystander
            .writer
            .pump_until(|c| c.in_sync(id))
            .await
            .unwrap();
    }
    let mut received = Vec::new();
    let read_all = tokio::time::timeout(PATIENCE, sloth.read_to_end(&mut received)).await;
    assert!(read_all.is_ok(), "the server never hung up on the sloth");
    assert!(
        received.len() < sent,
        "the sloth got everything ({} bytes), so nothing was bounded",
        received.len()
    );
    bystander.still_works().await;
    server.stop().await;
}

/// One masked binary WebSocket frame (clients must mask), for a bare-socket peer.
fn masked_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x82];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n < 65536 => {
            frame.push(0x80 | 126);
            frame.extend((n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend((n as u64).to_be_bytes());
        }
    }
    let mask = [0x12, 0x34, 0x56, 0x78];
    frame.extend(mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// The server's peer id, learnt from a handshake of its own.
async fn server_peer_id(server: &TestServer) -> sync::PeerId {
    let mut ws = raw_connect(&server.url()).await;
    raw_handshake(&mut ws, "prober").await.1
}

#[tokio::test]
async fn a_peer_that_joins_again_replaces_its_old_connection() {
    let server = TestServer::start().await;
    let mut old = raw_connect(&server.url()).await;
    raw_handshake(&mut old, "phone").await;
    let mut new = raw_connect(&server.url()).await;
    raw_handshake(&mut new, "phone").await;
    // The old socket is closed by the server; the new one works.
    raw_until_closed(&mut old).await;
    let mut other = Client::new("other");
    other.connect(&server.url()).await.unwrap();
    let id = other
        .create(|tx| {
            tx.put(ROOT, "x", 1).unwrap();
        })
        .await
        .unwrap();
    other.pump_until(|c| c.in_sync(id)).await.unwrap();
    let request = Message::Request {
        sender_id: "phone".into(),
        target_id: server_peer_id(&server).await,
        document_id: id,
        data: automerge::sync::SyncDoc::generate_sync_message(
            &automerge::Automerge::new(),
            &mut automerge::sync::State::new(),
        )
        .unwrap()
        .encode(),
    };
    new.send(WsMessage::Binary(request.encode().into()))
        .await
        .unwrap();
    let reply = tokio::time::timeout(PATIENCE, new.next())
        .await
        .expect("an answer")
        .unwrap()
        .unwrap();
    let WsMessage::Binary(bytes) = reply else {
        panic!("expected a binary frame, got {reply:?}");
    };
    assert!(matches!(
        Message::decode(&bytes).unwrap(),
        Message::Sync { document_id, .. } if document_id == id
    ));
    server.stop().await;
}

#[tokio::test]
async fn upgrades_beyond_the_connection_limit_are_refused() {
    let limits = SyncLimits {
        max_connections: 1,
        ..SyncLimits::default()
    };
    let server = TestServer::start_with(limits, None).await;
    let mut first = raw_connect(&server.url()).await;
    raw_handshake(&mut first, "first").await;
    let refused = tokio_tungstenite::connect_async(server.url()).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
        }
        other => panic!("expected 503, got {other:?}"),
    }
    // Once the first is gone, there is room again.
    drop(first);
    let mut waited = 0;
    let mut second = loop {
        match tokio_tungstenite::connect_async(server.url()).await {
            Ok((ws, _)) => break ws,
            Err(_) => {
                // The server notices the closed socket asynchronously; bounded retries.
                assert!(waited < 200, "the slot is never freed");
                waited += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    raw_handshake(&mut second, "second").await;
    server.stop().await;
}
