//! Our peers syncing over a simulated network: every test runs under many seeds, each a
//! different interleaving of deliveries.

mod harness;

use harness::Network;
use sync::{DocumentId, Message};

const SEEDS: std::ops::Range<u64> = 0..25;

#[test]
fn the_handshake_precedes_all_document_traffic() {
    for seed in SEEDS {
        let mut net = Network::new(seed);
        let server = net.add_server("server");
        let alice = net.add_client("alice");
        let doc = net.create(alice, "title", "Dorpshuis");
        let link = net.connect(alice, server);
        net.run();
        assert!(net.is_connected(alice, link) && net.is_connected(server, link));
        let types: Vec<_> = net.delivered.iter().map(Message::type_name).collect();
        assert_eq!(types[..2], ["join", "peer"], "seed {seed}");
        assert_eq!(
            types[2], "sync",
            "seed {seed}: alice announces her document"
        );
        assert_eq!(net.heads(server, doc), net.heads(alice, doc));
    }
}

#[test]
fn two_peers_with_different_edits_converge() {
    for seed in SEEDS {
        let mut net = Network::new(seed);
        let alice = net.add_client("alice");
        let bob = net.add_server("bob");
        let doc = net.create(alice, "title", "Dorpshuis");
        let link = net.connect(alice, bob);
        net.run();
        assert_eq!(net.value(bob, doc, "title").as_deref(), Some("Dorpshuis"));

        // Concurrent edits, to different keys and to the same one, while messages interleave.
        net.edit(alice, doc, "alice", "stoelen");
        net.edit(bob, doc, "bob", "koffie");
        net.edit(alice, doc, "title", "Dorpshuis Ulft");
        net.edit(bob, doc, "title", "Dorpshuis Gendringen");
        net.run();

        let heads = net.heads(alice, doc);
        // The edits were concurrent: alice's last change and bob's last change are the heads.
        assert_eq!(heads.len(), 2, "seed {seed}");
        assert_eq!(net.heads(bob, doc), heads, "seed {seed}");
        for peer in [alice, bob] {
            assert_eq!(net.value(peer, doc, "alice").as_deref(), Some("stoelen"));
            assert_eq!(net.value(peer, doc, "bob").as_deref(), Some("koffie"));
        }
        assert_eq!(net.value(alice, doc, "title"), net.value(bob, doc, "title"));
        assert!(net.is_connected(alice, link));
    }
}

#[test]
fn edits_fan_out_through_a_server_to_every_client() {
    for seed in SEEDS {
        let mut net = Network::new(seed);
        let server = net.add_server("server");
        let alice = net.add_client("alice");
        let bob = net.add_client("bob");
        net.connect(alice, server);
        net.connect(bob, server);
        net.run();
        let doc = net.create(alice, "title", "Dorpshuis");
        net.run();
        net.find(bob, doc);
        net.run();
        assert_eq!(
            net.value(bob, doc, "title").as_deref(),
            Some("Dorpshuis"),
            "seed {seed}"
        );

        net.edit(alice, doc, "alice", "stoelen");
        net.edit(bob, doc, "bob", "koffie");
        net.run();
        let heads = net.heads(server, doc);
        assert_eq!(net.heads(alice, doc), heads, "seed {seed}");
        assert_eq!(net.heads(bob, doc), heads, "seed {seed}");
        assert_eq!(net.value(alice, doc, "bob").as_deref(), Some("koffie"));
        assert_eq!(net.value(bob, doc, "alice").as_deref(), Some("stoelen"));
    }
}

#[test]
fn requesting_an_unknown_document_gets_doc_unavailable() {
    for seed in SEEDS {
        let mut net = Network::new(seed);
        let server = net.add_server("server");
        let bob = net.add_client("bob");
        net.connect(bob, server);
        net.run();
        let unknown = DocumentId::from_bytes([seed as u8; 16]);
        net.find(bob, unknown);
        net.run();
        assert!(net.was_unavailable(bob, unknown), "seed {seed}");
        assert!(net.heads(bob, unknown).is_empty());
        assert!(
            net.heads(server, unknown).is_empty(),
            "the server made up nothing"
        );
        let answers: Vec<_> = net
            .delivered
            .iter()
            .filter(|m| matches!(m, Message::DocUnavailable { document_id, .. } if *document_id == unknown))
            .collect();
        assert_eq!(
            answers.len(),
            1,
            "seed {seed}: one doc-unavailable, no ping-pong"
        );
        assert!(
            net.delivered.iter().any(
                |m| matches!(m, Message::Request { document_id, .. } if *document_id == unknown)
            )
        );
    }
}

#[test]
fn a_peer_that_reconnects_after_offline_edits_converges() {
    for seed in SEEDS {
        let mut net = Network::new(seed);
        let server = net.add_server("server");
        let alice = net.add_client("alice");
        let bob = net.add_client("bob");
        net.connect(alice, server);
        let bob_link = net.connect(bob, server);
        net.run();
        let doc = net.create(alice, "title", "Dorpshuis");
        net.run();
        net.find(bob, doc);
        net.run();
        assert_eq!(net.heads(bob, doc), net.heads(alice, doc));

        // Bob goes offline (mid-flight frames would be lost); both keep editing.
        net.disconnect(bob_link);
        net.edit(bob, doc, "bob", "koffie");
        net.edit(bob, doc, "title", "Dorpshuis (offline)");
        net.edit(alice, doc, "alice", "stoelen");
        net.run();
        assert_eq!(net.value(server, doc, "alice").as_deref(), Some("stoelen"));
        assert_eq!(net.value(server, doc, "bob"), None);

        net.connect(bob, server);
        net.run();
        let heads = net.heads(server, doc);
        assert_eq!(net.heads(bob, doc), heads, "seed {seed}");
        assert_eq!(net.heads(alice, doc), heads, "seed {seed}");
        for peer in [server, alice, bob] {
            assert_eq!(net.value(peer, doc, "bob").as_deref(), Some("koffie"));
            assert_eq!(net.value(peer, doc, "alice").as_deref(), Some("stoelen"));
        }
    }
}

#[test]
fn a_document_requested_before_it_exists_arrives_when_it_does() {
    for seed in SEEDS {
        let mut net = Network::new(seed);
        let server = net.add_server("server");
        let alice = net.add_client("alice");
        let bob = net.add_client("bob");
        net.connect(bob, server);
        net.run();
        // Bob has a link to a document alice has not uploaded yet.
        let doc = net.create(alice, "title", "Dorpshuis");
        net.find(bob, doc);
        net.run();
        assert!(net.was_unavailable(bob, doc));
        net.connect(alice, server);
        net.run();
        assert_eq!(
            net.value(bob, doc, "title").as_deref(),
            Some("Dorpshuis"),
            "seed {seed}"
        );
    }
}
