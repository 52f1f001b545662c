//! Who may read a document is decided when it comes into being, not only when it is asked
//! for: a peer that asked for a document before it existed, and may not read it, never hears
//! of it, and its answers look the same whether the document exists or not.

use std::sync::Arc;

use automerge::Automerge;
use sync::{DocMessage, DocumentId};

use super::sim::{Seen, Sim, changes_in};
use crate::{
    peer::{ConnId, Outbound},
    validate::{Access, ChangeValidator, Incoming, Principal, Rejection},
};

/// Every change is fine; only the user `maker` may read the document once it exists.
struct ReadByMakerOnly;

impl ChangeValidator for ReadByMakerOnly {
    fn validate(&self, _: &Incoming<'_>) -> Result<(), Rejection> {
        Ok(())
    }

    fn access(&self, _: DocumentId, _: &Automerge, principal: &Principal) -> Access {
        match principal.user() {
            Some(user) if user.as_str() == "maker" => Access::Read,
            _ => Access::None,
        }
    }
}

/// What `conn` was sent in `seen`.
fn to(conn: ConnId, seen: &[Seen]) -> Vec<&Outbound> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Sent(c, message) if *c == conn => Some(message),
            _ => None,
        })
        .collect()
}

fn unavailable(message: &Outbound) -> bool {
    matches!(
        message,
        Outbound::Doc {
            message: DocMessage::Unavailable,
            ..
        }
    )
}

/// Nothing in `seen` tells `conn` anything of the document but that it is unavailable.
fn told_nothing(conn: ConnId, seen: &[Seen]) {
    for message in to(conn, seen) {
        assert!(
            unavailable(message),
            "sent to the waiting peer: {message:?}"
        );
        assert!(changes_in(message).is_empty());
    }
}

/// Runs the protocol to its end and checks every message on the way.
fn settle_checking(sim: &mut Sim, mut seen: Vec<Seen>, waiter: ConnId) {
    for _ in 0..100 {
        told_nothing(waiter, &seen);
        let answers = sim.deliver(seen);
        if answers.is_empty() {
            sim.advance(super::MAX_FAN_OUT_INTERVAL);
            seen = sim.tick();
            if seen.is_empty() {
                return;
            }
        } else {
            seen = sim.batch(answers);
        }
    }
    panic!("the peers never settled");
}

#[test]
fn a_peer_waiting_for_a_document_it_may_not_read_never_hears_of_it() {
    // Asked first, made later, in another batch.
    let mut sim = Sim::empty(2, Arc::new(ReadByMakerOnly));
    sim.sign_in(1, "maker");
    let request = sim.request(0);
    let seen = sim.batch(request);
    assert!(
        matches!(to(1, &seen).as_slice(), [m] if unavailable(m)),
        "{seen:?}"
    );
    let edit = sim.edit(1, "secret");
    let seen = sim.batch(edit);
    settle_checking(&mut sim, seen, 1);
    assert!(!sim.clients[1].doc.get_heads().is_empty());

    // Asked in the same batch that makes it, before the making message.
    let mut sim = Sim::empty(2, Arc::new(ReadByMakerOnly));
    sim.sign_in(1, "maker");
    let mut batch = sim.request(0);
    batch.extend(sim.edit(1, "secret"));
    let seen = sim.batch(batch);
    settle_checking(&mut sim, seen, 1);

    // And asking again once it exists gets the same answer as before it did.
    let request = sim.request(0);
    let seen = sim.batch(request);
    assert!(
        matches!(to(1, &seen).as_slice(), [m] if unavailable(m)),
        "{seen:?}"
    );
}

#[test]
fn the_maker_of_a_document_is_still_served_after_a_waiter_is_dropped() {
    let mut sim = Sim::empty(3, Arc::new(ReadByMakerOnly));
    sim.sign_in(1, "maker");
    sim.sign_in(2, "maker");
    let mut batch = sim.request(0);
    batch.extend(sim.request(2));
    batch.extend(sim.edit(1, "secret"));
    let seen = sim.batch(batch);
    settle_checking(&mut sim, seen, 1);
    // The maker's other device, which asked before the document existed, has it now.
    assert_eq!(
        sim.clients[2].doc.get_heads(),
        sim.clients[1].doc.get_heads()
    );
}
