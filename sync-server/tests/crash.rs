//! Killing the server (SIGKILL) at random moments while a client streams edits loses nothing
//! it acknowledged, and the client's unacknowledged edits arrive after it reconnects.
//!
//! The moments are drawn from a seeded generator; set `CRASH_SEED` to replay another run.

mod support;

use automerge::{ROOT, ReadDoc, transaction::Transactable};
use support::{ChildServer, Client, ClientError, Rng, stored_document};

const ROUNDS: usize = 20;

#[tokio::test]
async fn acknowledged_changes_survive_sigkill_and_the_rest_arrive_after_reconnecting() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_d0e5);
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let mut client = Client::new("streamer");
    let id = client
        .create(|tx| {
            tx.put(ROOT, "start", 0).unwrap();
        })
        .await
        .unwrap();
    let mut edits = 0u64;
    let mut acknowledged_before_kill = 0;

    for round in 0..ROUNDS {
        let server = ChildServer::start(&data).await;
        client.connect(&server.url).await.unwrap();
        // Stream a random number of edits, handling whatever the server sends in between;
        // sometimes wait until it has acknowledged all of them.
        let burst = 1 + rng.below(40);
        for _ in 0..burst {
            edits += 1;
            let n = edits;
            client
                .edit(id, |tx| {
                    tx.put(ROOT, format!("edit-{n}"), n).unwrap();
                })
                .await
                .unwrap();
            client.poll_now().await.unwrap();
        }
        // Then kill it: at once, right after the next acknowledgement arrives (the moment a
        // server that acknowledged before storing would lose it), or once all is acknowledged.
        match rng.below(3) {
            0 => {}
            1 => {
                let seen = client.acknowledged.len();
                client
                    .pump_until(|c| c.acknowledged.len() > seen || c.in_sync(id))
                    .await
                    .unwrap();
            }
            _ => client.pump_until(|c| c.in_sync(id)).await.unwrap(),
        }
        server.kill();
        // Whatever the server sent before it died still counts as acknowledged.
        assert_eq!(
            client.pump_until(|_| false).await,
            Err(ClientError::Disconnected)
        );
        acknowledged_before_kill += client.acknowledged.len();

        let stored = stored_document(&data, id).await;
        for head in &client.acknowledged {
            let present = stored
                .as_ref()
                .is_some_and(|doc| doc.get_change_by_hash(head).is_some());
            assert!(
                present,
                "round {round} (CRASH_SEED={seed}): acknowledged change {head} was lost"
            );
        }

        // Offline edits: nobody acknowledged these yet.
        for _ in 0..1 + rng.below(3) {
            edits += 1;
            let n = edits;
            client
                .edit(id, |tx| {
                    tx.put(ROOT, format!("edit-{n}"), n).unwrap();
                })
                .await
                .unwrap();
        }
    }
    assert!(
        acknowledged_before_kill > 0,
        "the server never acknowledged anything before a kill; the test proves nothing"
    );

    // Back once more: everything the client has arrives, and a stop by SIGTERM keeps it.
    let server = ChildServer::start(&data).await;
    client.connect(&server.url).await.unwrap();
    client.pump_until(|c| c.in_sync(id)).await.unwrap();
    assert!(server.terminate().await, "SIGTERM stops the server cleanly");
    let stored = stored_document(&data, id).await.unwrap();
    let (mut a, mut b) = (stored.get_heads(), client.heads(id));
    a.sort();
    b.sort();
    assert_eq!(a, b, "CRASH_SEED={seed}");
    assert_eq!(
        stored.get_changes(&[]).len() as u64,
        edits + 1,
        "every edit is stored"
    );
}
