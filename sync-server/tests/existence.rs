//! Whether a document exists is as private as what is in it. Raw protocol clients, anonymous
//! and signed in, ask for documents they may not read — someone's inbox (whose id anyone can
//! derive from a user id), a conversation — and for ids nobody has used: every answer is the
//! same. A peer that asked for an inbox before it existed never hears who writes to it.

mod support;

use std::time::Duration;

use automerge::{Automerge, sync::SyncDoc};
use futures_util::{SinkExt, StreamExt};
use model::{ConversationDoc, ConversationId, InboxDoc, MessageId, Roles, inbox_document_id};
use support::{
    Client, PATIENCE, TestServer,
    identities::{Account, sign_up},
    raw_connect, raw_handshake, stored_document,
};
use sync::{DocumentId, Message, PeerId};
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn now() -> i64 {
    support::now().as_millis() as i64
}

/// What a raw peer is told about `doc` when it sends `message`: the kind of each reply and,
/// for sync replies, the heads and changes in them. Waits for the first reply, then for
/// anything more that follows within a short while (what the server says at once).
async fn replies(
    server: &TestServer,
    account: Option<&Account>,
    doc: DocumentId,
    request: bool,
) -> Vec<String> {
    let url = account.map_or_else(|| server.url(), |a| a.url(server));
    let mut ws = raw_connect(&url).await;
    let (us, them) = raw_handshake(&mut ws, "prober").await;
    let empty = Automerge::new();
    let mut state = automerge::sync::State::new();
    let data = empty.generate_sync_message(&mut state).unwrap().encode();
    let message = if request {
        Message::Request {
            sender_id: us,
            target_id: them,
            document_id: doc,
            data,
        }
    } else {
        Message::Sync {
            sender_id: us,
            target_id: them,
            document_id: doc,
            data,
        }
    };
    ws.send(WsMessage::Binary(message.encode().into()))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut wait = PATIENCE;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(wait, ws.next()).await {
        let WsMessage::Binary(bytes) = frame else {
            continue;
        };
        seen.push(describe(&Message::decode(&bytes).unwrap()));
        // After the first answer, only what comes right behind it.
        wait = Duration::from_millis(300);
    }
    assert!(!seen.is_empty(), "the server answers");
    seen
}

fn describe(message: &Message) -> String {
    match message {
        Message::Sync { data, .. } | Message::Request { data, .. } => {
            let sync = automerge::sync::Message::decode(data).unwrap();
            format!(
                "{} heads={:?} changes={}",
                message.type_name(),
                sync.heads,
                sync.changes.len()
            )
        }
        other => other.type_name().to_owned(),
    }
}

#[tokio::test]
async fn a_document_one_may_not_read_looks_exactly_like_one_that_does_not_exist() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bea = sign_up(&server, "bea", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;

    // Anna starts a conversation with Bea and tells Bea's inbox.
    let conversation = support::random_document_id();
    let mut anna_c = Client::new("anna");
    anna_c.actor = Some(anna.actor.clone());
    anna_c.connect(&anna.url(&server)).await.unwrap();
    let mut doc = ConversationDoc::with_subject(
        &anna.user,
        &[bea.id().clone()],
        "Bushalte",
        anna.actor.clone(),
        now(),
    )
    .unwrap();
    doc.send_message(&anna.user, &MessageId::new("m1").unwrap(), "Hoi Bea", now())
        .unwrap();
    anna_c
        .add(conversation, doc.into_automerge())
        .await
        .unwrap();
    anna_c
        .pump_until(|c| c.in_sync(conversation))
        .await
        .unwrap();
    let bea_inbox = inbox_document_id("bea");
    let mut inbox = InboxDoc::new(bea.id()).fork(anna.actor.clone());
    let entry = ConversationId::new(conversation.to_string()).unwrap();
    inbox.add_conversation(&anna.user, &entry, now()).unwrap();
    anna_c.add(bea_inbox, inbox.into_automerge()).await.unwrap();
    anna_c.pump_until(|c| c.in_sync(bea_inbox)).await.unwrap();

    let missing = support::random_document_id();
    for account in [None, Some(&bert)] {
        for request in [true, false] {
            let expected = replies(&server, account, missing, request).await;
            for private in [conversation, bea_inbox] {
                if private == bea_inbox && account.is_some() {
                    // Anyone signed in may add to an inbox (its first changes are known to
                    // every device): that it exists is no secret to them.
                    continue;
                }
                let got = replies(&server, account, private, request).await;
                assert_eq!(
                    got,
                    expected,
                    "{} asking with {}: a private document answers unlike a missing one",
                    account.map_or("anonymous", |a| a.id().as_str()),
                    if request { "request" } else { "sync" },
                );
            }
        }
    }
    let dir = server.stop().await;
    assert!(
        stored_document(&dir.path().join("data"), missing)
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_peer_waiting_for_an_inbox_never_hears_who_writes_to_it() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bea = sign_up(&server, "bea", Roles::default()).await;
    let bea_inbox = inbox_document_id("bea");

    // An anonymous peer asks for Bea's inbox before anyone made it, and stays.
    let mut ws = raw_connect(&server.url()).await;
    let (us, them): (PeerId, PeerId) = raw_handshake(&mut ws, "watcher").await;
    let empty = Automerge::new();
    let mut state = automerge::sync::State::new();
    let data = empty.generate_sync_message(&mut state).unwrap().encode();
    let request = Message::Request {
        sender_id: us.clone(),
        target_id: them.clone(),
        document_id: bea_inbox,
        data,
    };
    ws.send(WsMessage::Binary(request.encode().into()))
        .await
        .unwrap();

    // Anna writes to Bea: a conversation, and an entry in Bea's inbox, which makes it.
    let mut anna_c = Client::new("anna");
    anna_c.actor = Some(anna.actor.clone());
    anna_c.connect(&anna.url(&server)).await.unwrap();
    let conversation = support::random_document_id();
    let doc = ConversationDoc::new(&anna.user, &[bea.id().clone()], anna.actor.clone(), now());
    anna_c
        .add(conversation, doc.into_automerge())
        .await
        .unwrap();
    let mut inbox = InboxDoc::new(bea.id()).fork(anna.actor.clone());
    let entry = ConversationId::new(conversation.to_string()).unwrap();
    inbox.add_conversation(&anna.user, &entry, now()).unwrap();
    anna_c.add(bea_inbox, inbox.into_automerge()).await.unwrap();
    anna_c.pump_until(|c| c.in_sync(bea_inbox)).await.unwrap();
    // Bea reads it, so its fan-out has run.
    let mut bea_c = Client::new("bea");
    bea_c.connect(&bea.url(&server)).await.unwrap();
    bea_c.find(bea_inbox).await.unwrap();
    bea_c.pump_until(|c| c.in_sync(bea_inbox)).await.unwrap();
    assert!(!bea_c.doc(bea_inbox).get_heads().is_empty());

    // The watcher, asking once more, is answered on the same socket after everything before:
    // all it was ever told of the inbox is that it is unavailable.
    let again = Message::Request {
        sender_id: us,
        target_id: them,
        document_id: bea_inbox,
        data: empty
            .generate_sync_message(&mut automerge::sync::State::new())
            .unwrap()
            .encode(),
    };
    ws.send(WsMessage::Binary(again.encode().into()))
        .await
        .unwrap();
    let mut told = Vec::new();
    while told.len() < 2 {
        let frame = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("answers")
            .unwrap()
            .unwrap();
        if let WsMessage::Binary(bytes) = frame {
            told.push(describe(&Message::decode(&bytes).unwrap()));
        }
    }
    assert_eq!(told, ["doc-unavailable", "doc-unavailable"], "{told:?}");
}
