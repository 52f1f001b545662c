//! What one anonymous peer can make the server keep: ids are bounded in length, sync states
//! are stored only for readers of documents that exist, a connection's heads-gossip
//! subscriptions are capped, and so are simultaneous connections from one IP address.

mod support;

use automerge::{ROOT, transaction::Transactable};
use futures_util::{SinkExt, StreamExt};
use support::{
    Client, PATIENCE, TestServer, Ws, all_stored_keys, random_document_id, raw_connect,
    raw_handshake, raw_until_closed,
};
use sync::{DocumentId, MAX_ID_LENGTH, Message, PeerId, PeerMetadata, StorageId};
use sync_server::SyncLimits;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

async fn send(ws: &mut Ws, message: Message) {
    ws.send(WsMessage::Binary(message.encode().into()))
        .await
        .unwrap();
}

/// The next protocol message from the server.
async fn next_message(ws: &mut Ws) -> Message {
    loop {
        let frame = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("the server answers")
            .expect("the socket stays open")
            .unwrap();
        if let WsMessage::Binary(bytes) = frame {
            return Message::decode(&bytes).unwrap();
        }
    }
}

fn join(peer: &str, storage_id: Option<&str>) -> Message {
    Message::Join {
        sender_id: PeerId::new(peer),
        supported_protocol_versions: vec![sync::PROTOCOL_VERSION.into()],
        peer_metadata: Some(PeerMetadata {
            storage_id: storage_id.map(StorageId::new),
            is_ephemeral: false,
        }),
    }
}

/// A `request` for `doc` as a peer that has nothing of it.
fn request(us: &PeerId, server: &PeerId, doc: DocumentId) -> Message {
    use automerge::sync::SyncDoc;
    let hello = automerge::Automerge::new()
        .generate_sync_message(&mut automerge::sync::State::new())
        .unwrap();
    Message::Request {
        sender_id: us.clone(),
        target_id: server.clone(),
        document_id: doc,
        data: hello.encode(),
    }
}

#[tokio::test]
async fn ids_longer_than_the_limit_are_refused_at_join() {
    let server = TestServer::start().await;
    let long = "x".repeat(10 * 1024);
    for (peer, storage_id, field) in [
        (long.as_str(), None, "senderId"),
        ("honest-name", Some(long.as_str()), "storageId"),
    ] {
        let mut ws = raw_connect(&server.url()).await;
        send(&mut ws, join(peer, storage_id)).await;
        let error = raw_until_closed(&mut ws).await.expect("an error message");
        assert!(
            error.contains(field) && error.contains(&MAX_ID_LENGTH.to_string()),
            "{error}"
        );
    }
    // Ids within the limit still join.
    let mut ws = raw_connect(&server.url()).await;
    let name = "p".repeat(MAX_ID_LENGTH);
    send(&mut ws, join(&name, Some(&"s".repeat(MAX_ID_LENGTH)))).await;
    assert!(matches!(next_message(&mut ws).await, Message::Peer { .. }));
    server.stop().await;
}

#[tokio::test]
async fn sync_states_are_stored_only_for_readers_of_documents_that_exist() {
    let server = TestServer::start().await;
    let mut anna = Client::new("anna");
    anna.connect(&server.url()).await.unwrap();
    let existing = anna
        .create(|tx| {
            tx.put(ROOT, "title", "Snoeiploeg").unwrap();
        })
        .await
        .unwrap();
    anna.pump_until(|c| c.in_sync(existing)).await.unwrap();

    // A peer with a lasting storage id asks for 20 documents nobody has, and one that exists.
    let mut ws = raw_connect(&server.url()).await;
    send(&mut ws, join("roamer", Some("roamer-storage"))).await;
    let Message::Peer {
        sender_id: server_peer,
        ..
    } = next_message(&mut ws).await
    else {
        panic!("expected peer");
    };
    let us = PeerId::new("roamer");
    let missing: Vec<DocumentId> = (0..20).map(|_| random_document_id()).collect();
    for &doc in &missing {
        send(&mut ws, request(&us, &server_peer, doc)).await;
    }
    send(&mut ws, request(&us, &server_peer, existing)).await;
    let (mut unavailable, mut synced) = (0, false);
    while unavailable < missing.len() || !synced {
        match next_message(&mut ws).await {
            Message::DocUnavailable { document_id, .. } => {
                assert!(missing.contains(&document_id));
                unavailable += 1;
            }
            Message::Sync { document_id, .. } if document_id == existing => synced = true,
            _ => {}
        }
    }
    ws.close(None).await.unwrap();
    anna.disconnect();

    // Stopping waits until every document has handled its peers' departure.
    let dir = server.stop().await;
    let sync_states: Vec<String> = all_stored_keys(&dir.path().join("data"))
        .await
        .into_iter()
        .filter(|key| key.contains("sync-state") && key.contains("roamer-storage"))
        .collect();
    assert_eq!(sync_states.len(), 1, "{sync_states:?}");
    assert!(sync_states[0].contains(&existing.to_string()));
}

#[tokio::test]
async fn heads_gossip_subscriptions_per_connection_are_capped() {
    let limits = SyncLimits::default();
    let cap = limits.max_subscriptions_per_connection;
    let server = TestServer::start_with(limits, None).await;
    let mut ws = raw_connect(&server.url()).await;
    let (us, server_peer) = raw_handshake(&mut ws, "subscriber").await;
    let subscribe = |ids: std::ops::Range<usize>| Message::RemoteSubscriptionChange {
        sender_id: us.clone(),
        target_id: server_peer.clone(),
        add: Some(
            ids.map(|i| StorageId::new(format!("storage-{i}")))
                .collect(),
        ),
        remove: None,
    };
    send(&mut ws, subscribe(0..cap)).await;
    // Handled in order: an answer to a later message means the subscription was taken.
    send(&mut ws, request(&us, &server_peer, random_document_id())).await;
    assert!(matches!(
        next_message(&mut ws).await,
        Message::DocUnavailable { .. }
    ));
    send(&mut ws, subscribe(cap..cap + 1)).await;
    let error = raw_until_closed(&mut ws).await.expect("an error message");
    assert!(error.contains("storage ids subscribed"), "{error}");
    server.stop().await;
}

#[tokio::test]
async fn simultaneous_connections_per_ip_address_are_capped() {
    let limits = SyncLimits {
        max_connections_per_ip: 3,
        // The test connects from 127.0.0.1, by default a trusted proxy's address.
        trusted_proxies: Vec::new(),
        ..SyncLimits::default()
    };
    let server = TestServer::start_with(limits, None).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(raw_connect(&server.url()).await);
    }
    match tokio_tungstenite::connect_async(server.url()).await {
        Err(WsError::Http(response)) => assert_eq!(response.status().as_u16(), 429),
        other => panic!(
            "a fourth connection from 127.0.0.1 got {:?}",
            other.map(|_| ())
        ),
    }
    // A closed connection frees its place (once the server has ended it).
    let mut first = open.remove(0);
    first.close(None).await.unwrap();
    while let Some(Ok(_)) = tokio::time::timeout(PATIENCE, first.next())
        .await
        .expect("the server ends the connection")
    {}
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio_tungstenite::connect_async(server.url()).await {
            Ok((ws, _)) => {
                open.push(ws);
                break;
            }
            Err(WsError::Http(response)) if response.status().as_u16() == 429 => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the place stays taken"
                );
                tokio::task::yield_now().await;
            }
            Err(other) => panic!("{other}"),
        }
    }
    server.stop().await;

    // Connections through a trusted proxy (by default, one on 127.0.0.1) are not capped.
    let limits = SyncLimits {
        max_connections_per_ip: 3,
        ..SyncLimits::default()
    };
    let server = TestServer::start_with(limits, None).await;
    let mut open = Vec::new();
    for _ in 0..5 {
        open.push(raw_connect(&server.url()).await);
    }
    server.stop().await;
}

#[tokio::test]
async fn behind_the_trusted_proxy_each_forwarded_client_has_its_own_cap() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let limits = SyncLimits {
        max_connections_per_ip: 2,
        ..SyncLimits::default()
    };
    let server = TestServer::start_with(limits, None).await;
    // The proxy runs on this host: loopback, which the sync endpoint does not count as
    // itself, but whose forwarded clients it counts once the operator names it.
    server
        .server
        .accounts()
        .set_trusted_proxies(vec!["127.0.0.1".parse().unwrap()]);
    let via_proxy = |client: &str| {
        let mut request = server.url().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("x-forwarded-for", client.parse().unwrap());
        request
    };
    let mut open = Vec::new();
    for _ in 0..2 {
        open.push(
            tokio_tungstenite::connect_async(via_proxy("203.0.113.7"))
                .await
                .unwrap()
                .0,
        );
    }
    match tokio_tungstenite::connect_async(via_proxy("203.0.113.7")).await {
        Err(WsError::Http(response)) => assert_eq!(response.status().as_u16(), 429),
        other => panic!(
            "a third connection of one client got {:?}",
            other.map(|_| ())
        ),
    }
    // Another client behind the same proxy, and the proxy's own loopback, still connect.
    open.push(
        tokio_tungstenite::connect_async(via_proxy("203.0.113.8"))
            .await
            .unwrap()
            .0,
    );
    for _ in 0..3 {
        open.push(raw_connect(&server.url()).await);
    }
    server.stop().await;
}
