//! Ephemeral messages (presence, cursors) and the outbound queues they could flood: relayed
//! only from signed-in readers, at most `max_ephemeral_size` bytes, at most
//! `ephemeral_per_second` per connection, dropped rather than queued for a peer that is still
//! writing; and a peer whose queue passes `outbound_queue_bytes` is disconnected.

mod support;

use automerge::sync::SyncDoc;
use futures_util::{SinkExt, StreamExt};
use model::Roles;
use support::{
    PATIENCE, TestServer, Ws, identities::sign_up, raw_connect, raw_connect_small_receive_buffer,
    raw_until_closed,
};
use sync::{DocumentId, Message, PeerId, PeerMetadata, StorageId};
use sync_server::SyncLimits;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A raw peer that reads `doc`.
struct Peer {
    ws: Ws,
    us: PeerId,
    server: PeerId,
    doc: automerge::Automerge,
    state: automerge::sync::State,
}

impl Peer {
    /// Joins on `ws` (with a lasting `storage_id`, if given) and asks for `doc`; returns once
    /// the server answered, which means the document has this peer.
    async fn reading(mut ws: Ws, name: &str, storage_id: Option<&str>, doc: DocumentId) -> Self {
        let join = Message::Join {
            sender_id: PeerId::new(name),
            supported_protocol_versions: vec![sync::PROTOCOL_VERSION.into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: storage_id.map(StorageId::new),
                is_ephemeral: false,
            }),
        };
        send(&mut ws, &join).await;
        let Message::Peer { sender_id, .. } = next(&mut ws).await else {
            panic!("expected peer");
        };
        let mut peer = Self {
            ws,
            us: PeerId::new(name),
            server: sender_id,
            doc: automerge::Automerge::new(),
            state: automerge::sync::State::new(),
        };
        let hello = peer.doc.generate_sync_message(&mut peer.state).unwrap();
        let request = Message::Request {
            sender_id: peer.us.clone(),
            target_id: peer.server.clone(),
            document_id: doc,
            data: hello.encode(),
        };
        send(&mut peer.ws, &request).await;
        loop {
            if let Message::Sync { data, .. } = next(&mut peer.ws).await {
                let message = automerge::sync::Message::decode(&data).unwrap();
                peer.doc
                    .receive_sync_message(&mut peer.state, message)
                    .unwrap();
                return peer;
            }
        }
    }

    fn ephemeral(&self, doc: DocumentId, session: &str, count: u64, data: Vec<u8>) -> Message {
        Message::Ephemeral {
            sender_id: self.us.clone(),
            target_id: self.server.clone(),
            count,
            session_id: session.into(),
            document_id: doc,
            data,
        }
    }
}

async fn send(ws: &mut Ws, message: &Message) {
    ws.send(WsMessage::Binary(message.encode().into()))
        .await
        .unwrap();
}

async fn next(ws: &mut Ws) -> Message {
    loop {
        let frame = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a message from the server")
            .expect("the socket stays open")
            .unwrap();
        if let WsMessage::Binary(bytes) = frame {
            return Message::decode(&bytes).unwrap();
        }
    }
}

/// A presence as the model relays it (`model::check_presence`): `user`, and a path of ids of
/// about `pad` bytes.
fn presence(user: &str, pad: usize) -> Vec<u8> {
    let mut path = String::from("x");
    while path.len() + 9 <= pad {
        path.push_str("/abcdefgh");
    }
    let mut out = vec![0xa2];
    for part in ["user", user, "path", &path] {
        let n = part.len();
        match n {
            0..24 => out.push(0x60 + n as u8),
            24..256 => out.extend([0x78, n as u8]),
            _ => {
                out.push(0x79);
                out.extend((n as u16).to_be_bytes());
            }
        }
        out.extend(part.as_bytes());
    }
    out
}

fn village(server: &TestServer) -> DocumentId {
    DocumentId::from_url(&server.server.bootstrap().villages[0].doc).unwrap()
}

#[tokio::test]
async fn a_signed_in_readers_presence_is_relayed_and_an_anonymous_ones_is_not() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let doc = village(&server);
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;
    let mut stranger = Peer::reading(raw_connect(&server.url()).await, "stranger", None, doc).await;
    let mut anna = Peer::reading(raw_connect(&anna.url(&server)).await, "anna", None, doc).await;
    let mut bert = Peer::reading(raw_connect(&bert.url(&server)).await, "bert", None, doc).await;

    // The stranger's presence, then a message the document answers: once the answer is in,
    // the document has handled the presence (a connection's messages are handled in order).
    let message = stranger.ephemeral(doc, "stranger", 1, presence("stranger", 0));
    send(&mut stranger.ws, &message).await;
    round_trip(&mut stranger, doc).await;

    let said = presence("anna", 20);
    let message = anna.ephemeral(doc, "anna-session", 1, said.clone());
    send(&mut anna.ws, &message).await;
    let relayed = loop {
        if let Message::Ephemeral {
            session_id, data, ..
        } = next(&mut bert.ws).await
        {
            break (session_id, data);
        }
    };
    assert_eq!(
        relayed,
        ("anna-session".to_owned(), said),
        "only the signed-in reader's presence is relayed"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_ephemeral_message_over_the_size_limit_ends_the_connection() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let doc = village(&server);
    let limit = SyncLimits::default().max_ephemeral_size;
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let mut anna = Peer::reading(raw_connect(&anna.url(&server)).await, "anna", None, doc).await;
    let big = anna.ephemeral(doc, "s", 1, vec![7; 64 * 1024]);
    send(&mut anna.ws, &big).await;
    let error = raw_until_closed(&mut anna.ws).await.expect("an error");
    assert!(
        error.contains(&format!("over the limit of {limit}")),
        "{error}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_connections_ephemeral_messages_are_rate_limited() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let doc = village(&server);
    let per_second = SyncLimits::default().ephemeral_per_second as usize;
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;
    let mut anna = Peer::reading(raw_connect(&anna.url(&server)).await, "anna", None, doc).await;
    let mut bert = Peer::reading(raw_connect(&bert.url(&server)).await, "bert", None, doc).await;
    let start = std::time::Instant::now();
    let sent = 100;
    // One every 5 ms (the traffic under test: a cursor moving), so that bert, who reads, has
    // an empty queue for each and only the rate decides.
    let mut pace = tokio::time::interval(std::time::Duration::from_millis(5));
    for count in 1..=sent {
        pace.tick().await;
        let message = anna.ephemeral(doc, "anna", count, presence("anna", 80));
        send(&mut anna.ws, &message).await;
    }
    round_trip(&mut anna, doc).await;
    // Bert's own round trip comes after every relay the document queued for him.
    let elapsed = start.elapsed().as_secs_f64();
    let reset = reset_sync(&bert, doc);
    send(&mut bert.ws, &reset).await;
    let mut relayed = 0;
    loop {
        match next(&mut bert.ws).await {
            Message::Ephemeral { .. } => relayed += 1,
            Message::Sync { .. } => break,
            _ => {}
        }
    }
    let allowed = per_second + (elapsed * per_second as f64).ceil() as usize;
    println!("{relayed} of {sent} relayed in {elapsed:.2} s (allowed {allowed})");
    assert!(relayed <= allowed, "{relayed} relayed");
    assert!(relayed >= 1, "{relayed} relayed");
    server.stop().await;
}

/// A `sync` as from a peer that lost the document: the server answers it with the document.
fn reset_sync(peer: &Peer, doc: DocumentId) -> Message {
    let empty = automerge::Automerge::new()
        .generate_sync_message(&mut automerge::sync::State::new())
        .unwrap();
    Message::Sync {
        sender_id: peer.us.clone(),
        target_id: peer.server.clone(),
        document_id: doc,
        data: empty.encode(),
    }
}

/// Sends [`reset_sync`] and waits for the answer: everything `peer` sent before is handled.
async fn round_trip(peer: &mut Peer, doc: DocumentId) {
    let reset = reset_sync(peer, doc);
    send(&mut peer.ws, &reset).await;
    while !matches!(next(&mut peer.ws).await, Message::Sync { .. }) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_messages_are_not_queued_for_a_reader_that_does_not_read() {
    let limits = SyncLimits {
        // Only the busy reader's queue decides here.
        ephemeral_per_second: 100_000,
        ..SyncLimits::default()
    };
    // As large as a presence may be (`model::check_presence`).
    let size = 290;
    let server = TestServer::start_trusting_with(limits, true).await;
    let doc = village(&server);
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;
    let mut anna = Peer::reading(raw_connect(&anna.url(&server)).await, "anna", None, doc).await;
    let bert_ws = raw_connect_small_receive_buffer(&bert.url(&server)).await;
    // Bert reads until he has the document, then stops reading.
    let mut bert = Peer::reading(bert_ws, "bert", None, doc).await;

    let sent = 200;
    for count in 1..=sent {
        let message = anna.ephemeral(doc, "anna", count, presence("anna", size));
        send(&mut anna.ws, &message).await;
    }
    round_trip(&mut anna, doc).await;
    // Every relay is decided: queued for bert, or dropped.
    let queued = server.server.queued_outbound_bytes();

    let reset = reset_sync(&bert, doc);
    send(&mut bert.ws, &reset).await;
    let (mut relayed, mut relayed_bytes) = (0, 0);
    loop {
        match next(&mut bert.ws).await {
            Message::Ephemeral { data, .. } => {
                relayed += 1;
                relayed_bytes += data.len();
            }
            Message::Sync { .. } => break,
            _ => {}
        }
    }
    println!(
        "{sent} ephemeral messages of {size} bytes to a reader that does not read: \
         {queued} bytes queued on the server afterwards, {relayed} messages \
         ({relayed_bytes} bytes) reached him"
    );
    assert!(relayed <= 20, "{relayed} of {sent} relayed");
    assert!(queued <= 2 * (size + 1024), "{queued} bytes queued");
    server.stop().await;
}

#[tokio::test]
async fn only_a_presence_naming_its_sender_is_relayed() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let doc = village(&server);
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;
    let bert_url = bert.url(&server);
    let mut bert = Peer::reading(raw_connect(&bert_url).await, "bert", None, doc).await;
    let anna_url = anna.url(&server);
    // Arbitrary bytes, and a presence in Bert's name: each ends Anna's connection unrelayed.
    for data in [vec![7; 100], presence("bert", 0)] {
        let mut anna = Peer::reading(raw_connect(&anna_url).await, "anna", None, doc).await;
        let message = anna.ephemeral(doc, "anna", 1, data);
        send(&mut anna.ws, &message).await;
        let error = raw_until_closed(&mut anna.ws).await.expect("an error");
        assert!(error.contains("ephemeral message refused"), "{error}");
    }
    // Bert heard none of it: his next answer comes with nothing relayed before it.
    let reset = reset_sync(&bert, doc);
    send(&mut bert.ws, &reset).await;
    loop {
        match next(&mut bert.ws).await {
            Message::Ephemeral { data, .. } => panic!("relayed: {data:?}"),
            Message::Sync { .. } => break,
            _ => {}
        }
    }
    server.stop().await;
}
