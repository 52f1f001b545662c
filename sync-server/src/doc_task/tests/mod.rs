//! The document's state machine on a simulated clock (`sim.rs`): no tokio runtime, no
//! sockets, no storage. Each test pins one rule of the module docs; each fails when its rule
//! is broken in the code.

mod existence;
mod sim;

use std::{collections::HashSet, sync::Arc, time::Duration};

use automerge::{ROOT, ReadDoc};

use self::sim::{Seen, Sim, changes_in, has_key, saves, sent_to};
use super::pacing::{MAX_FAN_OUT_INTERVAL, fan_out_interval};
use crate::{
    peer::{ConnId, DocCommand, Outbound},
    validate::{AcceptAll, ChangeValidator, Incoming, Rejection},
};

#[test]
fn a_batch_is_stored_with_one_write_before_anything_is_sent() {
    let mut sim = Sim::synced(3, Arc::new(AcceptAll));
    let mut edits = sim.edit(0, "a");
    edits.extend(sim.edit(1, "b"));
    edits.extend(sim.edit(2, "c"));
    let seen = sim.batch(edits);

    assert_eq!(saves(&seen), 1, "one storage write for the batch: {seen:?}");
    assert!(
        matches!(seen.first(), Some(Seen::Saved(_))),
        "nothing is sent before the batch is stored: {seen:?}"
    );
    let Some(Seen::Saved(stored)) = seen.first() else {
        unreachable!()
    };
    for c in &sim.clients {
        assert!(stored.is_superset(&c.doc.get_heads().into_iter().collect()));
    }
    // Each sender learns the others' changes (a quiet document fans out at once).
    assert_eq!(sent_to(&seen), HashSet::from([1, 2, 3]));
    sim.settle_with(seen);
    for c in &sim.clients {
        assert!(["a", "b", "c"].iter().all(|k| has_key(&c.doc, k)));
    }
}

/// Refuses every change that sets the key `forbidden`.
struct RefuseForbidden;

impl ChangeValidator for RefuseForbidden {
    fn validate(&self, incoming: &Incoming<'_>) -> Result<(), Rejection> {
        let forbidden = incoming
            .doc
            .get_at(ROOT, "forbidden", incoming.after)
            .unwrap()
            .is_some();
        if forbidden {
            Err(Rejection::new("forbidden"))
        } else {
            Ok(())
        }
    }
}

#[test]
fn a_refused_change_is_rolled_back_never_stored_nor_sent() {
    let mut sim = Sim::synced(3, Arc::new(RefuseForbidden));
    let mut edits = sim.edit(0, "forbidden");
    let refused = sim.clients[0].doc.get_heads()[0];
    edits.extend(sim.edit(1, "fine"));
    let seen = sim.batch(edits);

    // The sender gets an error, and nothing else.
    let to_sender: Vec<&Outbound> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Sent(1, message) => Some(message),
            _ => None,
        })
        .collect();
    assert!(
        matches!(to_sender.as_slice(), [Outbound::Fail { .. }]),
        "{to_sender:?}"
    );
    // The other change of the batch is stored; the refused one is not.
    assert_eq!(saves(&seen), 1);
    for s in &seen {
        match s {
            Seen::Saved(stored) => {
                assert!(!stored.contains(&refused), "the refused change was stored")
            }
            Seen::Sent(conn, message) => {
                assert!(
                    !changes_in(message).contains(&refused),
                    "the refused change was sent to {conn}"
                );
            }
        }
    }
    assert!(!has_key(sim.state.doc(), "forbidden"));
    assert!(has_key(sim.state.doc(), "fine"));

    // Alone in its batch, a refused change stores nothing at all.
    let edits = sim.edit(2, "forbidden");
    let seen = sim.batch(edits);
    assert_eq!(saves(&seen), 0, "{seen:?}");
    assert!(!has_key(sim.state.doc(), "forbidden"));
}

#[test]
fn a_batch_that_cannot_be_stored_is_never_acknowledged() {
    let mut sim = Sim::synced(3, Arc::new(AcceptAll));
    let before = sim.state.doc().get_heads();
    let mut edits = sim.edit(0, "a");
    edits.extend(sim.edit(1, "b"));
    sim.fail_next_write = Some("disk full".into());
    let seen = sim.batch(edits);

    // Every peer is disconnected with an error, and sent nothing else; the document is back
    // to what is durable.
    assert_eq!(saves(&seen), 1);
    let sent: Vec<&Outbound> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Sent(_, message) => Some(message),
            Seen::Saved(_) => None,
        })
        .collect();
    assert_eq!(sent.len(), 3, "{seen:?}");
    assert!(
        sent.iter().all(|m| matches!(m, Outbound::Fail { .. })),
        "{seen:?}"
    );
    assert_eq!(sim.state.doc().get_heads(), before);
    assert!(sim.state.peers.is_empty());
}

#[test]
fn the_fan_out_interval_grows_with_the_peers_up_to_a_limit() {
    assert_eq!(fan_out_interval(1), Duration::from_micros(100));
    assert_eq!(fan_out_interval(10), Duration::from_millis(1));
    assert_eq!(fan_out_interval(1_000), MAX_FAN_OUT_INTERVAL);
    assert_eq!(fan_out_interval(100_000), MAX_FAN_OUT_INTERVAL);
}

#[test]
fn fan_outs_are_paced() {
    // 10 peers: at most one fan-out per millisecond.
    let mut sim = Sim::synced(10, Arc::new(AcceptAll));

    // After a quiet spell an edit goes out at once, to everyone else.
    let edit = sim.edit(0, "first");
    let seen = sim.batch(edit);
    let others: HashSet<ConnId> = (2..=10).collect();
    assert!(sent_to(&seen).is_superset(&others), "{seen:?}");
    let fanned_out_at = sim.now().instant;

    // The next edit, 0.2 ms later, waits for the next fan-out: only its sender is answered.
    sim.advance(Duration::from_micros(200));
    let edit = sim.edit(1, "second");
    let seen = sim.batch(edit);
    assert!(sent_to(&seen).is_subset(&HashSet::from([2])), "{seen:?}");
    assert_eq!(
        sim.state.next_fan_out(),
        Some(fanned_out_at + Duration::from_millis(1))
    );
    sim.advance(Duration::from_micros(700));
    let seen = sim.tick();
    assert!(sent_to(&seen).is_empty(), "fanned out early: {seen:?}");

    // A millisecond after the last one, the fan-out sends it on.
    sim.advance(Duration::from_micros(100));
    let seen = sim.tick();
    let others: HashSet<ConnId> = (1..=10).filter(|&c| c != 2).collect();
    assert!(sent_to(&seen).is_superset(&others), "{seen:?}");
    assert_eq!(sim.state.next_fan_out(), None);
}

#[test]
fn a_peer_has_one_message_in_flight() {
    // 60 peers (59 once F is gone): fan-outs 5.9 ms apart; a message that brought a peer news
    // waits 2 ms for its answer (half an interval, in whole milliseconds: the sync state's
    // unit; with fewer than 20 peers the rule never holds a message back).
    let mut sim = Sim::synced(60, Arc::new(RefuseForbidden));
    let (c, d, e, f) = (2, 3, 4, 5);
    let c_conn = c as ConnId + 1;

    // A fan-out, and every peer's answer to it.
    let edit = sim.edit(0, "x");
    let mut seen = sim.batch(edit);
    loop {
        let answers = sim.deliver(seen);
        if answers.is_empty() {
            break;
        }
        seen = sim.batch(answers);
    }
    assert_eq!(sim.state.next_fan_out(), None);

    // 4.9 ms later, C and D edit, and F's change is refused, all in one batch: it is applied one
    // message at a time, and C's answer at the end of the batch brings it D's change.
    sim.advance(Duration::from_micros(4_900));
    let mut edits = sim.edit(c, "c");
    let d_edit = sim.edit_unclaimed_by(d, "d", &edits);
    edits.extend(d_edit);
    edits.extend(sim.edit(f, "forbidden"));
    let seen = sim.batch(edits);
    assert!(sent_to(&seen).contains(&c_conn), "{seen:?}");
    assert!(
        sim.state.peers[&c_conn].sync.awaiting_reply().is_some(),
        "C's answer awaits its reply"
    );
    assert!(sim.state.next_fan_out().is_some());

    // E edits before the next fan-out (5.9 ms after the last), which then has news for C; but
    // C has not answered the message it was sent 1 ms before: it waits.
    sim.advance(Duration::from_micros(500));
    let edit = sim.edit(e, "e");
    sim.batch(edit);
    sim.advance(Duration::from_micros(550));
    let seen = sim.tick();
    let sent = sent_to(&seen);
    assert!(!sent.contains(&c_conn), "two messages in flight: {seen:?}");
    assert!(
        sent.contains(&1) && sent.contains(&(d as ConnId + 1)),
        "{seen:?}"
    );

    // Without its answer, the next fan-out (5.9 ms later) sends it on all the same.
    sim.advance(Duration::from_millis(6));
    let seen = sim.tick();
    assert!(sent_to(&seen).contains(&c_conn), "{seen:?}");
}

#[test]
fn a_batch_leaving_many_heads_ends_with_a_merge_change() {
    let mut sim = Sim::synced(5, Arc::new(AcceptAll));
    let clients_actors: HashSet<_> = sim
        .clients
        .iter()
        .map(|c| c.doc.get_actor().clone())
        .collect();

    // Three concurrent edits: three heads, left alone.
    let edits = (0..3)
        .flat_map(|i| sim.edit(i, &format!("three-{i}")))
        .collect();
    let seen = sim.batch(edits);
    assert_eq!(sim.state.doc().get_heads().len(), 3);
    sim.settle_with(seen);

    // Five concurrent edits: one head, an empty change of the server's on the five.
    let edits: Vec<DocCommand> = (0..5)
        .flat_map(|i| sim.edit(i, &format!("five-{i}")))
        .collect();
    let seen = sim.batch(edits);
    let heads = sim.state.doc().get_heads();
    assert_eq!(heads.len(), 1);
    let merge = sim.state.doc().get_change_by_hash(&heads[0]).unwrap();
    assert_eq!(merge.deps().len(), 5);
    assert_eq!(merge.len(), 0, "a merge change has no operations");
    assert!(!clients_actors.contains(merge.actor_id()));
    // It is stored with the batch, and reaches every peer.
    let Some(Seen::Saved(stored)) = seen.first() else {
        panic!("{seen:?}")
    };
    assert!(stored.contains(&heads[0]));
    sim.settle_with(seen);
    for c in &sim.clients {
        assert_eq!(c.doc.get_heads(), heads);
    }
}
