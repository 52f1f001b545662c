//! A document with a corrupt chunk in its SQLite file is still served from its good chunks, and
//! the corrupt chunk stays where it was.

mod support;

use std::sync::Arc;

use automerge::{Automerge, ROOT, ReadDoc, transaction::Transactable};
use support::{Client, TestServer, all_stored_keys};
use sync_server::{
    SyncLimits,
    storage::{SqliteStorage, Storage, StorageKey},
};

#[tokio::test]
async fn a_corrupt_chunk_is_skipped_and_kept_and_the_good_changes_are_served() {
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
    writer
        .edit(id, |tx| {
            tx.put(ROOT, "open", "za 10-16").unwrap();
        })
        .await
        .unwrap();
    writer.pump_until(|c| c.in_sync(id)).await.unwrap();
    let dir = server.stop().await;
    let data = dir.path().join("data");

    // Next to the good chunks, a chunk whose bytes are a change cut short, stored under its own
    // hash (as a disk error after the write could leave it): automerge cannot decode it.
    let mut other = writer.docs[&id].fork();
    let mut tx = other.transaction();
    tx.put(ROOT, "lost", "never readable").unwrap();
    tx.commit();
    let change = other.get_last_local_change().unwrap().raw_bytes().to_vec();
    let cut = change[..change.len() - 5].to_vec();
    let corrupt_key = StorageKey::incremental(id, &cut);
    let storage = {
        let data = data.clone();
        tokio::task::spawn_blocking(move || SqliteStorage::open(&data).unwrap())
            .await
            .unwrap()
    };
    storage.put(corrupt_key.clone(), cut.clone()).await.unwrap();
    drop(storage);

    let server = TestServer::start_in(dir, SyncLimits::default(), None).await;
    let mut reader = Client::new("reader");
    reader.connect(&server.url()).await.unwrap();
    reader.find(id).await.unwrap();
    reader.pump_until(|c| c.in_sync(id)).await.unwrap();
    assert!(!reader.unavailable(id));
    let doc: &Automerge = &reader.docs[&id];
    let text = |key: &str| doc.get(ROOT, key).unwrap().map(|(v, _)| v.to_string());
    assert_eq!(text("title").as_deref(), Some("\"Dorpshuis\""));
    assert_eq!(text("open").as_deref(), Some("\"za 10-16\""));
    assert_eq!(text("lost"), None);
    assert_eq!(reader.heads(id), writer.heads(id));

    // A new change is stored and served as usual, and the corrupt chunk is still there.
    reader
        .edit(id, |tx| {
            tx.put(ROOT, "after", true).unwrap();
        })
        .await
        .unwrap();
    reader.pump_until(|c| c.in_sync(id)).await.unwrap();
    let dir = server.stop().await;
    let keys = all_stored_keys(&dir.path().join("data")).await;
    assert!(keys.contains(&corrupt_key.to_string()), "{keys:?}");
    let stored = support::stored_document_skipping_corrupt(&dir.path().join("data"), id).await;
    assert!(stored.get(ROOT, "after").unwrap().is_some());
    let _ = Arc::clone(&dir);
}
