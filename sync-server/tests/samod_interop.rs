//! samod, the Rust automerge-repo, as a peer of our server: a document samod creates reaches
//! our client and our client's edit reaches samod; a document our client creates is found by
//! samod.

mod support;

use std::time::Duration;

use automerge::{Automerge, ROOT, ReadDoc, transaction::Transactable};
use futures_util::StreamExt;
use samod::{BackoffConfig, Repo};
use support::{Client, PATIENCE, TestServer};

fn get_str(doc: &Automerge, key: &str) -> Option<String> {
    doc.get(ROOT, key)
        .unwrap()
        .and_then(|(value, _)| value.into_string().ok())
}

async fn samod_peer(server: &TestServer) -> (Repo, samod::ConnectionId) {
    let repo = Repo::build_tokio().load().await;
    let backoff = BackoffConfig {
        initial_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(500),
        max_retries: Some(3),
    };
    let dialer = repo
        .dial_websocket(server.url().parse().unwrap(), backoff)
        .unwrap();
    tokio::time::timeout(PATIENCE, dialer.established())
        .await
        .expect("samod connects")
        .unwrap();
    let conn = dialer.connection_id().expect("connected");
    (repo, conn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samod_and_our_client_sync_both_ways_through_the_server() {
    let server = TestServer::start().await;
    let (repo, conn) = samod_peer(&server).await;

    // samod creates; our client finds it.
    let mut initial = Automerge::new();
    let mut tx = initial.transaction();
    tx.put(ROOT, "title", "Kermis opbouwen").unwrap();
    tx.commit();
    let handle = repo.create(initial).await.unwrap();
    tokio::time::timeout(PATIENCE, handle.they_have_our_changes(conn))
        .await
        .expect("the server takes samod's document");
    let id: sync::DocumentId = handle.document_id().to_string().parse().unwrap();

    let mut ours = Client::new("ours");
    ours.connect(&server.url()).await.unwrap();
    ours.find(id).await.unwrap();
    ours.pump_until(|c| get_str(&c.docs[&id], "title").is_some())
        .await
        .unwrap();
    assert_eq!(
        get_str(&ours.docs[&id], "title").unwrap(),
        "Kermis opbouwen"
    );

    // Our client edits; samod (which has the document open) receives it.
    let mut changes = handle.changes();
    ours.edit(id, |tx| {
        tx.put(ROOT, "helpers", 3).unwrap();
    })
    .await
    .unwrap();
    ours.pump_until(|c| c.in_sync(id)).await.unwrap();
    let has_helpers =
        |h: &samod::DocHandle| h.with_document(|d| d.get(ROOT, "helpers").unwrap().is_some());
    tokio::time::timeout(PATIENCE, async {
        while !has_helpers(&handle) {
            changes.next().await.expect("the change stream stays open");
        }
    })
    .await
    .expect("our edit reaches samod");
    let (mut a, mut b) = (handle.with_document(|d| d.get_heads()), ours.heads(id));
    a.sort();
    b.sort();
    assert_eq!(a, b);

    // Our client creates; samod finds it.
    let mine = ours
        .create(|tx| {
            tx.put(ROOT, "title", "Buurtpreventie").unwrap();
        })
        .await
        .unwrap();
    ours.pump_until(|c| c.in_sync(mine)).await.unwrap();
    let found = tokio::time::timeout(PATIENCE, repo.find(mine.to_string().parse().unwrap()))
        .await
        .expect("samod's find finishes")
        .unwrap()
        .expect("samod finds our document");
    assert_eq!(
        found.with_document(|d| get_str(d, "title")).unwrap(),
        "Buurtpreventie"
    );

    // A document nobody has: samod is told it is unavailable.
    let nobody = support::random_document_id();
    let missing = tokio::time::timeout(PATIENCE, repo.find(nobody.to_string().parse().unwrap()))
        .await
        .expect("samod's find finishes")
        .unwrap();
    assert!(missing.is_none());

    repo.stop().await;
    server.stop().await;
}
