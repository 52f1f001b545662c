//! Heads gossip (automerge-repo's remote heads): a peer that subscribes to the server's storage
//! id hears, for each document it has open, the heads the server has, when it subscribes and
//! whenever the document changes; after unsubscribing it hears nothing more.

mod support;

use automerge::{Automerge, ChangeHash, ROOT, sync::SyncDoc, transaction::Transactable};
use futures_util::{SinkExt, StreamExt};
use support::{Client, PATIENCE, TestServer, Ws, raw_connect};
use sync::{DocumentId, Message, PROTOCOL_VERSION, PeerId, PeerMetadata, StorageId, decode_heads};
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test]
async fn a_subscriber_hears_the_servers_heads_of_its_open_documents() {
    let server = TestServer::start().await;
    let mut writer = Client::new("writer");
    writer.connect(&server.url()).await.unwrap();
    let id = writer
        .create(|tx| {
            tx.put(ROOT, "title", "Dorpshuis").unwrap();
        })
        .await
        .unwrap();
    writer.pump_until(|c| c.in_sync(id)).await.unwrap();

    let mut ws = raw_connect(&server.url()).await;
    let (us, them, server_storage) = handshake(&mut ws).await;
    // Open the document, then subscribe: the server's current heads come at once.
    let (request, _) = sync_message(&Automerge::new());
    send(
        &mut ws,
        Message::Request {
            sender_id: us.clone(),
            target_id: them.clone(),
            document_id: id,
            data: request,
        },
    )
    .await;
    send(
        &mut ws,
        subscription(&us, &them, Some(&server_storage), None),
    )
    .await;
    let heads = next_gossip(&mut ws, id, &server_storage).await;
    assert_eq!(heads, sorted(writer.heads(id)));

    // An edit: the new heads follow.
    writer
        .edit(id, |tx| {
            tx.put(ROOT, "open", "za 10-16").unwrap();
        })
        .await
        .unwrap();
    writer.pump_until(|c| c.in_sync(id)).await.unwrap();
    let heads = next_gossip(&mut ws, id, &server_storage).await;
    assert_eq!(heads, sorted(writer.heads(id)));

    // Unsubscribed, two more edits arrive as sync messages and no gossip comes with them (the
    // gossip of a change would be queued with its fan-out, before the next change's).
    send(
        &mut ws,
        subscription(&us, &them, None, Some(&server_storage)),
    )
    .await;
    for n in 0..2 {
        writer
            .edit(id, |tx| {
                tx.put(ROOT, "n", n).unwrap();
            })
            .await
            .unwrap();
        writer.pump_until(|c| c.in_sync(id)).await.unwrap();
        let want = writer.heads(id);
        loop {
            match next_message(&mut ws).await {
                Message::Sync { data, .. } => {
                    let message = automerge::sync::Message::decode(&data).unwrap();
                    if sorted(message.heads) == sorted(want.clone()) {
                        break;
                    }
                }
                Message::RemoteHeadsChanged { .. } => panic!("gossip after unsubscribing"),
                _ => {}
            }
        }
    }
}

fn sorted(mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    heads.sort();
    heads
}

/// `join` with a storage id; returns our peer id, the server's and its storage id.
async fn handshake(ws: &mut Ws) -> (PeerId, PeerId, StorageId) {
    let us = PeerId::new("gossip-listener");
    send(
        ws,
        Message::Join {
            sender_id: us.clone(),
            supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: Some(StorageId::new("listener-storage")),
                is_ephemeral: false,
            }),
        },
    )
    .await;
    match next_message(ws).await {
        Message::Peer {
            sender_id,
            peer_metadata,
            ..
        } => {
            let storage = peer_metadata
                .and_then(|m| m.storage_id)
                .expect("the server announces its storage id");
            (us, sender_id, storage)
        }
        other => panic!("expected peer, got {other:?}"),
    }
}

fn subscription(
    us: &PeerId,
    them: &PeerId,
    add: Option<&StorageId>,
    remove: Option<&StorageId>,
) -> Message {
    Message::RemoteSubscriptionChange {
        sender_id: us.clone(),
        target_id: them.clone(),
        add: add.map(|s| vec![s.clone()]),
        remove: remove.map(|s| vec![s.clone()]),
    }
}

/// The first sync message of a peer with `doc`.
fn sync_message(doc: &Automerge) -> (Vec<u8>, automerge::sync::State) {
    let mut state = automerge::sync::State::new();
    let message = doc.generate_sync_message(&mut state).unwrap();
    (message.encode(), state)
}

/// Reads until gossip about `storage`'s heads of `id` arrives; returns those heads.
async fn next_gossip(ws: &mut Ws, id: DocumentId, storage: &StorageId) -> Vec<ChangeHash> {
    loop {
        if let Message::RemoteHeadsChanged {
            document_id,
            new_heads,
            ..
        } = next_message(ws).await
        {
            assert_eq!(document_id, id);
            let heads = &new_heads[storage];
            assert!(heads.timestamp > 1_700_000_000_000, "{heads:?}");
            return sorted(decode_heads(&heads.heads).unwrap());
        }
    }
}

async fn next_message(ws: &mut Ws) -> Message {
    loop {
        let frame = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("the server sends something")
            .expect("the socket stays open")
            .unwrap();
        if let WsMessage::Binary(bytes) = frame {
            return Message::decode(&bytes).unwrap();
        }
    }
}

async fn send(ws: &mut Ws, message: Message) {
    ws.send(WsMessage::Binary(message.encode().into()))
        .await
        .unwrap();
}
