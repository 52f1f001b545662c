//! Our own clients (the `sync` crate over tokio-tungstenite) through the server: fan-out,
//! offline edits that converge after reconnecting, the bootstrap documents, unloading, and a
//! graceful stop that keeps everything.

mod support;

use std::time::Duration;

use automerge::{ROOT, ReadDoc, transaction::Transactable};
use support::{Client, TestServer, stored_document};
use sync_server::SyncLimits;

fn text(client: &Client, id: sync::DocumentId, key: &str) -> Option<String> {
    match client.docs[&id].get(ROOT, key).unwrap() {
        Some((value, _)) => value.into_string().ok(),
        None => None,
    }
}

#[tokio::test]
async fn a_change_reaches_the_other_client_and_storage() {
    let server = TestServer::start().await;
    let mut anna = Client::new("anna");
    let mut bert = Client::new("bert");
    anna.connect(&server.url()).await.unwrap();
    bert.connect(&server.url()).await.unwrap();

    let id = anna
        .create(|tx| {
            tx.put(ROOT, "title", "Dorpshuis schilderen").unwrap();
        })
        .await
        .unwrap();
    anna.pump_until(|c| c.in_sync(id)).await.unwrap();

    bert.find(id).await.unwrap();
    bert.pump_until(|c| text(c, id, "title").is_some())
        .await
        .unwrap();
    assert_eq!(text(&bert, id, "title").unwrap(), "Dorpshuis schilderen");

    // Fan-out: bert edits, anna (who has the document open) receives it unasked.
    bert.edit(id, |tx| {
        tx.put(ROOT, "when", "zaterdag").unwrap();
    })
    .await
    .unwrap();
    anna.pump_until(|c| text(c, id, "when").is_some())
        .await
        .unwrap();

    let dir = server.stop().await;
    let stored = stored_document(&dir.path().join("data"), id).await.unwrap();
    let mut heads = stored.get_heads();
    heads.sort();
    let mut expected = bert.heads(id);
    expected.sort();
    assert_eq!(heads, expected);
}

#[tokio::test]
async fn offline_edits_on_two_clients_converge_after_reconnecting() {
    let server = TestServer::start().await;
    let mut anna = Client::new("anna");
    let mut bert = Client::new("bert");
    anna.connect(&server.url()).await.unwrap();
    let id = anna
        .create(|tx| {
            tx.put(ROOT, "title", "Snoeidag").unwrap();
        })
        .await
        .unwrap();
    anna.pump_until(|c| c.in_sync(id)).await.unwrap();
    bert.connect(&server.url()).await.unwrap();
    bert.find(id).await.unwrap();
    bert.pump_until(|c| text(c, id, "title").is_some())
        .await
        .unwrap();

    // Both go offline and edit: one field each, and both the same field.
    anna.disconnect();
    bert.disconnect();
    anna.edit(id, |tx| {
        tx.put(ROOT, "place", "Ulft").unwrap();
        tx.put(ROOT, "title", "Snoeidag (anna)").unwrap();
    })
    .await
    .unwrap();
    bert.edit(id, |tx| {
        tx.put(ROOT, "time", "10:00").unwrap();
        tx.put(ROOT, "title", "Snoeidag (bert)").unwrap();
    })
    .await
    .unwrap();
    assert_ne!(anna.heads(id), bert.heads(id));

    anna.connect(&server.url()).await.unwrap();
    anna.pump_until(|c| c.in_sync(id)).await.unwrap();
    bert.connect(&server.url()).await.unwrap();
    bert.pump_until(|c| c.in_sync(id) && text(c, id, "place").is_some())
        .await
        .unwrap();
    // Bert's changes reach anna through the fan-out.
    anna.pump_until(|c| text(c, id, "time").is_some())
        .await
        .unwrap();

    let (mut a, mut b) = (anna.heads(id), bert.heads(id));
    a.sort();
    b.sort();
    assert_eq!(a, b);
    for client in [&anna, &bert] {
        assert_eq!(text(client, id, "place").unwrap(), "Ulft");
        assert_eq!(text(client, id, "time").unwrap(), "10:00");
    }
    // The concurrent title resolves the same way on both.
    assert_eq!(text(&anna, id, "title"), text(&bert, id, "title"));
    server.stop().await;
}

#[tokio::test]
async fn the_bootstrap_documents_are_servable() {
    let server = TestServer::start().await;
    let bootstrap = server.server.bootstrap();
    let mut client = Client::new("newcomer");
    client.connect(&server.url()).await.unwrap();
    let municipality: sync::DocumentId = bootstrap
        .municipality
        .strip_prefix("automerge:")
        .unwrap()
        .parse()
        .unwrap();
    let village: sync::DocumentId = bootstrap.villages[0]
        .doc
        .strip_prefix("automerge:")
        .unwrap()
        .parse()
        .unwrap();
    for id in [municipality, village] {
        client.find(id).await.unwrap();
        client
            .pump_until(|c| !c.heads(id).is_empty() || c.unavailable(id))
            .await
            .unwrap();
        assert!(!client.unavailable(id), "{id} is unavailable");
    }
    assert_eq!(
        text(&client, municipality, "name").unwrap(),
        "Oude IJsselstreek"
    );
    // They survive a restart unchanged (created once, not again).
    let heads = client.heads(municipality);
    let dir = server.stop().await;
    let again = TestServer::start_in(dir, SyncLimits::default(), None).await;
    let mut client = Client::new("newcomer");
    client.connect(&again.url()).await.unwrap();
    client.find(municipality).await.unwrap();
    client
        .pump_until(|c| c.in_sync(municipality))
        .await
        .unwrap();
    assert_eq!(client.heads(municipality), heads);
    again.stop().await;
}

#[tokio::test]
async fn a_document_nobody_has_open_is_unloaded_and_loads_again() {
    let limits = SyncLimits {
        unload_after: Duration::from_millis(50),
        ..SyncLimits::default()
    };
    let server = TestServer::start_with(limits, None).await;
    let mut anna = Client::new("anna");
    anna.connect(&server.url()).await.unwrap();
    let id = anna
        .create(|tx| {
            tx.put(ROOT, "title", "Oud papier").unwrap();
        })
        .await
        .unwrap();
    anna.pump_until(|c| c.in_sync(id)).await.unwrap();
    assert_eq!(server.server.documents_in_memory(), 1);
    anna.disconnect();
    // Bounded wait for the unload (the server has no event to await from outside).
    let mut waited = 0;
    while server.server.documents_in_memory() > 0 {
        assert!(waited < 400, "the document stays loaded");
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    let mut bert = Client::new("bert");
    bert.connect(&server.url()).await.unwrap();
    bert.find(id).await.unwrap();
    bert.pump_until(|c| text(c, id, "title").is_some())
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn stopping_closes_connections_and_keeps_every_acknowledged_change() {
    let server = TestServer::start().await;
    let mut anna = Client::new("anna");
    anna.connect(&server.url()).await.unwrap();
    let id = anna
        .create(|tx| {
            tx.put(ROOT, "n", 0).unwrap();
        })
        .await
        .unwrap();
    for n in 1..=20 {
        anna.edit(id, |tx| {
            tx.put(ROOT, "n", n).unwrap();
        })
        .await
        .unwrap();
    }
    anna.pump_until(|c| c.in_sync(id)).await.unwrap();
    let url = server.url();
    let dir = server.stop().await;
    // The socket was closed by the server.
    assert_eq!(
        anna.pump_until(|_| false).await,
        Err(support::ClientError::Disconnected)
    );
    assert!(Client::new("late").connect(&url).await.is_err());
    let stored = stored_document(&dir.path().join("data"), id).await.unwrap();
    assert_eq!(stored.get_heads(), anna.heads(id));
}

#[tokio::test]
async fn a_document_with_a_corrupt_chunk_is_served_from_its_good_chunks_and_others_still_work() {
    use sync_server::storage::{SqliteStorage, Storage, StorageKey};

    let server = TestServer::start().await;
    let mut anna = Client::new("anna");
    anna.connect(&server.url()).await.unwrap();
    let damaged = anna
        .create(|tx| {
            tx.put(ROOT, "title", "beschadigd").unwrap();
        })
        .await
        .unwrap();
    let fine = anna
        .create(|tx| {
            tx.put(ROOT, "title", "heel").unwrap();
        })
        .await
        .unwrap();
    anna.pump_until(|c| c.in_sync(damaged) && c.in_sync(fine))
        .await
        .unwrap();
    let dir = server.stop().await;

    // A chunk whose bytes do not match its key, as a torn or tampered write would leave.
    let data = dir.path().join("data");
    let storage = tokio::task::spawn_blocking(move || SqliteStorage::open(&data).unwrap())
        .await
        .unwrap();
    let key =
        StorageKey::new([damaged.to_string(), "incremental".into(), "00".repeat(32)]).unwrap();
    storage.put(key, b"not a chunk".to_vec()).await.unwrap();
    drop(storage);

    let server = TestServer::start_in(dir, SyncLimits::default(), None).await;
    let mut bert = Client::new("bert");
    bert.connect(&server.url()).await.unwrap();
    bert.find(damaged).await.unwrap();
    bert.pump_until(|c| text(c, damaged, "title").is_some())
        .await
        .unwrap();
    assert_eq!(bert.heads(damaged), anna.heads(damaged));
    bert.find(fine).await.unwrap();
    bert.pump_until(|c| text(c, fine, "title").is_some())
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_lasting_peers_sync_state_is_stored_when_it_leaves_and_it_resyncs_on_return() {
    let server = TestServer::start().await;
    let mut anna = Client::new("anna");
    anna.storage_id = Some("anna-phone-storage".into());
    anna.connect(&server.url()).await.unwrap();
    let id = anna
        .create(|tx| {
            tx.put(ROOT, "title", "Zwerfvuil").unwrap();
        })
        .await
        .unwrap();
    anna.pump_until(|c| c.in_sync(id)).await.unwrap();
    anna.disconnect();
    let dir = server.stop().await;
    let keys = support::all_stored_keys(&dir.path().join("data")).await;
    let state_key = format!(
        "[{:?}, \"sync-state\", \"anna-phone-storage\"]",
        id.to_string()
    );
    assert!(keys.contains(&state_key), "{state_key} not in {keys:?}");

    // Back, with an edit made offline: the server starts from what anna had, and they converge.
    anna.edit(id, |tx| {
        tx.put(ROOT, "when", "zaterdag").unwrap();
    })
    .await
    .unwrap();
    let server = TestServer::start_in(dir, SyncLimits::default(), None).await;
    anna.connect(&server.url()).await.unwrap();
    anna.pump_until(|c| c.in_sync(id)).await.unwrap();
    let dir = server.stop().await;
    let stored = stored_document(&dir.path().join("data"), id).await.unwrap();
    assert_eq!(stored.get_heads(), anna.heads(id));
}

#[tokio::test]
async fn many_concurrent_edits_are_tied_by_one_merge_change_that_the_next_edit_builds_on() {
    let server = TestServer::start().await;
    let mut anna = Client::new("anna");
    anna.connect(&server.url()).await.unwrap();
    let id = anna
        .create(|tx| {
            tx.put(ROOT, "title", "Kermis").unwrap();
        })
        .await
        .unwrap();
    anna.pump_until(|c| c.in_sync(id)).await.unwrap();
    let mut others = Vec::new();
    for name in ["bert", "carla", "daan"] {
        let mut client = Client::new(name);
        client.connect(&server.url()).await.unwrap();
        client.find(id).await.unwrap();
        client
            .pump_until(|c| text(c, id, "title").is_some())
            .await
            .unwrap();
        others.push(client);
    }

    // Four residents edit at once, offline: four concurrent changes on the same heads.
    let mut clients: Vec<Client> = std::iter::once(anna).chain(others).collect();
    let mut edits = Vec::new();
    for client in &mut clients {
        client.disconnect();
        let key = client.name.clone();
        client
            .edit(id, |tx| {
                tx.put(ROOT, key.as_str(), "doet mee").unwrap();
            })
            .await
            .unwrap();
        edits.extend(client.heads(id));
    }
    // Back online one after the other: each sends its edit (and gets what the server has).
    for client in &mut clients {
        client.connect(&server.url()).await.unwrap();
        client.pump_until(|c| c.in_sync(id)).await.unwrap();
    }
    for client in &mut clients {
        client
            .pump_until(|c| {
                ["anna", "bert", "carla", "daan"]
                    .iter()
                    .all(|key| text(c, id, key).is_some())
                    && c.in_sync(id)
            })
            .await
            .unwrap();
    }

    // Everyone has one head: the server's merge, an empty change on the four edits.
    let heads = clients[0].heads(id);
    assert_eq!(heads.len(), 1, "the merge ties the four heads together");
    for client in &clients {
        assert_eq!(client.heads(id), heads);
    }
    let merge = clients[0]
        .doc(id)
        .get_change_by_hash(&heads[0])
        .unwrap()
        .clone();
    assert_eq!(merge.len(), 0, "a merge has no operations");
    let mut deps = merge.deps().to_vec();
    deps.sort();
    edits.sort();
    assert_eq!(deps, edits);
    let residents: Vec<_> = clients
        .iter()
        .map(|c| c.doc(id).get_actor().clone())
        .collect();
    assert!(!residents.contains(merge.actor_id()), "the server made it");

    // The next edit builds on the merge (and, as automerge always does, on its author's own
    // previous change): two dependencies, not five.
    let own = clients[1].heads(id);
    let own_previous = edits
        .iter()
        .copied()
        .find(|edit| {
            clients[1]
                .doc(id)
                .get_change_by_hash(edit)
                .unwrap()
                .actor_id()
                == clients[1].doc(id).get_actor()
        })
        .unwrap();
    assert_eq!(own, heads);
    clients[1]
        .edit(id, |tx| {
            tx.put(ROOT, "when", "zondag").unwrap();
        })
        .await
        .unwrap();
    let next = clients[1].heads(id)[0];
    let next = clients[1]
        .doc(id)
        .get_change_by_hash(&next)
        .unwrap()
        .clone();
    let mut deps = next.deps().to_vec();
    deps.sort();
    let mut expected = vec![heads[0], own_previous];
    expected.sort();
    assert_eq!(deps, expected);
    clients[0]
        .pump_until(|c| text(c, id, "when").is_some())
        .await
        .unwrap();

    // The merge is durable like any change.
    let dir = server.stop().await;
    let stored = stored_document(&dir.path().join("data"), id).await.unwrap();
    assert!(stored.get_change_by_hash(&heads[0]).is_some());
}
