//! automerge's `receive_sync_message`, with the same effect on the document and the sync
//! state, without its walk over the document's whole history on every message.
//!
//! automerge 0.12 trims a peer's `sent_hashes` (the changes sent it this session, which it has
//! not yet acknowledged) to those that are not ancestors of the heads the peer now advertises
//! (`filter_changes`). It does so by visiting every ancestor of those heads, that is the whole
//! history, even when there is nothing to trim. A server that receives one acknowledgement per
//! fan-out from each of 1,000 peers on a document gaining 1,000 changes a second then spends
//! nearly all its time in that walk. Here the trim is decided from the heads first: nothing
//! to trim; or every change sent was an ancestor of the heads last sent, and those are among
//! (or are dependencies of) the heads the peer advertises, so all of them go; and only
//! otherwise are the ancestors walked, stopping as soon as nothing is left to trim.
//!
//! Everything else is automerge's own code path step by step; the tests check the sync state
//! against automerge's after each message of randomised syncs.

use std::collections::HashSet;

use automerge::{
    Automerge, AutomergeError, ChangeHash,
    sync::{Capability, Message, MessageFlags, State},
};

use crate::change_log::ChangeLog;

/// What `doc.receive_sync_message(state, message)` does (automerge 0.12), cheaper.
/// `before_heads` are `doc.get_heads()`; returns the heads after, if the message had changes.
/// With the document's [`ChangeLog`] (a server's, shared by all its peers of the document),
/// the trim asks it rather than automerge about the changes it walks. With `changes_applied`
/// the message's changes are in the document already (its caller applied them): only the
/// sync state takes the message in.
pub(crate) fn receive_sync_message(
    doc: &mut Automerge,
    state: &mut State,
    message: Message,
    before_heads: &[ChangeHash],
    log: Option<&mut ChangeLog>,
    changes_applied: bool,
) -> Result<Option<Vec<ChangeHash>>, AutomergeError> {
    state.in_flight = false;
    let mut after = None;

    let Message {
        heads: message_heads,
        changes: message_changes,
        need: message_need,
        have: message_have,
        flags: message_flags,
        ..
    } = message;

    if let Some(flags) = message_flags {
        // Any peer that sends the flags section supports V2 messages.
        let mut caps = vec![Capability::MessageV2];
        if flags.contains(MessageFlags::SUPPORTS_SYNC_RESET) {
            caps.push(Capability::SyncReset);
        }
        state.their_capabilities = Some(caps);
        if flags.contains(MessageFlags::SYNC_RESET) {
            state.sent_hashes.clear();
        }
        state.peer_read_only = flags.contains(MessageFlags::READ_ONLY);
    }

    let changes_is_empty = message_changes.is_empty();
    if !changes_is_empty && !state.read_only && !changes_applied {
        let mut joined = Vec::with_capacity(message_changes.iter().map(<[u8]>::len).sum());
        for chunk in message_changes.iter() {
            joined.extend_from_slice(chunk);
        }
        doc.load_incremental(&joined)?;
        let after_heads = doc.get_heads();
        state.shared_heads = advance_heads(before_heads, &after_heads, &state.shared_heads);
        after = Some(after_heads);
    }

    let known_heads = crate::heads::known(doc, &message_heads);
    let log = log.map(|log| {
        log.refresh(doc, after.as_deref().unwrap_or(before_heads));
        &*log
    });
    trim_sent_hashes(doc, state, &known_heads, log);

    if changes_is_empty && message_heads == before_heads {
        state.last_sent_heads.clone_from(&message_heads);
    }

    if known_heads.len() == message_heads.len() {
        state.shared_heads.clone_from(&message_heads);
        // The peer lost all its data: resync from scratch.
        if message_heads.is_empty() {
            state.last_sent_heads = Vec::new();
            state.sent_hashes = Default::default();
        }
    } else {
        let mut shared = state.shared_heads.clone();
        for head in known_heads {
            if !shared.contains(&head) {
                shared.push(head);
            }
        }
        shared.sort_unstable();
        state.shared_heads = shared;
    }

    state.their_have = Some(message_have);
    state.their_heads = Some(message_heads);
    state.their_need = Some(message_need);
    Ok(after)
}

/// Removes from `state.sent_hashes` every change that is `heads` or an ancestor of them
/// (automerge's `filter_changes`); `heads` are all in `doc`, and `log`, if given, is
/// refreshed with it.
fn trim_sent_hashes(
    doc: &Automerge,
    state: &mut State,
    heads: &[ChangeHash],
    log: Option<&ChangeLog>,
) {
    if state.sent_hashes.is_empty() {
        return;
    }
    // Every change in `sent_hashes` was in the document when it was sent, and so is an
    // ancestor of (or one of) the heads sent with the latest message, `last_sent_heads`.
    // When each of those is one of `heads` or a dependency of one, all sent changes are
    // ancestors of `heads`.
    let last = &state.last_sent_heads;
    if !last.is_empty() {
        // Usually they acknowledge exactly what we sent last.
        let covered = last == heads || {
            let mut covering: HashSet<ChangeHash> = heads.iter().copied().collect();
            if !last.iter().all(|h| covering.contains(h)) {
                for head in heads {
                    match log.and_then(|log| log.get(head)) {
                        Some((_, entry)) => covering.extend(&entry.deps),
                        None => covering.extend(
                            doc.get_change_meta_by_hash(head)
                                .into_iter()
                                .flat_map(|meta| meta.deps),
                        ),
                    }
                }
            }
            last.iter().all(|h| covering.contains(h))
        };
        if covered {
            state.sent_hashes.clear();
            return;
        }
    }
    if let Some(log) = log {
        // Everything sent was in the document when the last message was, so among its heads
        // and their ancestors. When those heads were the document's at a refresh, and the
        // peer's heads reach at least as far in the log, all of it is acknowledged.
        let mut sorted = heads.to_vec();
        sorted.sort_unstable();
        let covered = log.covered(&sorted);
        if let (Some(sent_up_to), Some(covered)) = (log.snapshot(last), covered)
            && covered >= sent_up_to
        {
            state.sent_hashes.clear();
            return;
        }
        let positions: Option<Vec<(ChangeHash, u64)>> = state
            .sent_hashes
            .iter()
            .map(|h| log.get(h).map(|(position, _)| (*h, position)))
            .collect();
        if let Some(positions) = positions {
            // The peer answered an earlier message. What was sent before the position its
            // heads cover is acknowledged; for the rest, walk the log from its heads, down to
            // that position or the earliest of the rest (an ancestor comes before its
            // descendants there), which is usually a step or two. A change the log lacks
            // (refreshed, it lacks only those older than all it holds) leads to none either.
            let covered = covered.unwrap_or(0);
            let mut floor = u64::MAX;
            for (hash, position) in positions {
                if position < covered {
                    state.sent_hashes.remove(&hash);
                } else {
                    floor = floor.min(position);
                }
            }
            log.walk(heads, floor, |hash| {
                state.sent_hashes.remove(hash);
                !state.sent_hashes.is_empty()
            });
            return;
        }
    }
    // Walk the ancestors, until nothing is left to trim. A change's operations come after
    // those of its dependencies, so an ancestor's `max_op` is at most its descendant's (equal
    // only through empty changes such as merges): below the smallest `max_op` of the sent
    // changes, no change leads to one of them, and the walk stops there. Without that floor a
    // sent change that is not an ancestor of `heads` (the peer is a fan-out behind) sent the
    // walk through the document's whole history, on every message.
    let floor = state
        .sent_hashes
        .iter()
        .filter_map(|h| doc.get_change_meta_by_hash(h))
        .map(|meta| meta.max_op)
        .min()
        .unwrap_or(0);
    let mut stack: Vec<ChangeHash> = heads.to_vec();
    let mut visited = HashSet::new();
    while let Some(hash) = stack.pop() {
        if !visited.insert(hash) {
            continue;
        }
        state.sent_hashes.remove(&hash);
        if state.sent_hashes.is_empty() {
            return;
        }
        if let Some(meta) = doc.get_change_meta_by_hash(&hash)
            && meta.max_op >= floor
        {
            stack.extend(meta.deps);
        }
    }
}

/// automerge's `advance_heads`: our new heads that the peer sent us, plus the shared heads
/// that are still heads.
fn advance_heads(
    old_heads: &[ChangeHash],
    new_heads: &[ChangeHash],
    old_shared: &[ChangeHash],
) -> Vec<ChangeHash> {
    let old_heads: HashSet<&ChangeHash> = old_heads.iter().collect();
    let new_set: HashSet<&ChangeHash> = new_heads.iter().collect();
    let mut advanced: Vec<ChangeHash> = new_heads
        .iter()
        .filter(|h| !old_heads.contains(h))
        .chain(old_shared.iter().filter(|h| new_set.contains(h)))
        .copied()
        .collect();
    advanced.sort_unstable();
    advanced.dedup();
    advanced
}

#[cfg(test)]
mod tests {
    use automerge::sync::SyncDoc;
    use proptest::prelude::*;

    use super::*;
    use crate::test_support::put;

    /// One step of a randomised sync between a server document and several peers.
    #[derive(Clone, Debug)]
    enum Step {
        /// The server edits.
        ServerEdit,
        /// Peer `i` edits.
        PeerEdit(usize),
        /// The server generates a message for peer `i`, which may be delivered now or later.
        ServerSends(usize),
        /// Peer `i` generates a message for the server.
        PeerSends(usize),
        /// Deliver the oldest message in flight to peer `i` (or to the server from it).
        DeliverToPeer(usize),
        DeliverToServer(usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::ServerEdit),
            (0..3usize).prop_map(Step::PeerEdit),
            (0..3usize).prop_map(Step::ServerSends),
            (0..3usize).prop_map(Step::PeerSends),
            (0..3usize).prop_map(Step::DeliverToPeer),
            (0..3usize).prop_map(Step::DeliverToServer),
        ]
    }

    struct Peer {
        doc: Automerge,
        state: State,
        /// The server's sync state for this peer, advanced by our receive.
        ours: State,
        to_peer: Vec<Message>,
        to_server: Vec<Message>,
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Our receive and our fan-out leave the document and sync state exactly as
        /// automerge's receive and generate do, and send the same bytes. Peer 2 is an older
        /// automerge (no flags: V1 messages, no SyncReset).
        #[test]
        fn receive_and_fan_out_match_automerge(steps in proptest::collection::vec(step(), 1..80)) {
            let mut server = Automerge::new();
            // Some history, so that what a fan-out sends is rarely a third of the document
            // (automerge would send the whole document instead).
            for i in 0..20 {
                put(&mut server, &format!("k{i}"), i);
            }
            let mut fan_out = crate::FanOut::exact();
            let mut peers: Vec<Peer> = (0..3)
                .map(|_| Peer {
                    doc: Automerge::new(),
                    state: State::new(),
                    ours: State::new(),
                    to_peer: Vec::new(),
                    to_server: Vec::new(),
                })
                .collect();
            for (n, step) in steps.into_iter().enumerate() {
                let n = n as u64;
                match step {
                    Step::ServerEdit => put(&mut server, "s", n),
                    Step::PeerEdit(i) => put(&mut peers[i].doc, &format!("p{i}"), n),
                    Step::ServerSends(i) => {
                        let peer = &mut peers[i];
                        let mut their_state = peer.ours.clone();
                        let expected = server
                            .generate_sync_message(&mut their_state)
                            .map(|m| m.encode());
                        fan_out.prepare(&server);
                        let got = match fan_out.generate(&server, &mut peer.ours) {
                            Some(message) => message.map(|g| g.data.to_vec()),
                            None => server.generate_sync_message(&mut peer.ours).map(|m| m.encode()),
                        };
                        prop_assert_eq!(&got, &expected);
                        prop_assert_eq!(&peer.ours, &their_state);
                        if let Some(data) = got {
                            peer.to_peer.push(Message::decode(&data).unwrap());
                        }
                    }
                    Step::PeerSends(i) => {
                        let peer = &mut peers[i];
                        if let Some(mut m) = peer.doc.generate_sync_message(&mut peer.state) {
                            if i == 2 {
                                m.flags = None;
                            }
                            peer.to_server.push(m);
                        }
                    }
                    Step::DeliverToPeer(i) => {
                        let peer = &mut peers[i];
                        if !peer.to_peer.is_empty() {
                            let m = peer.to_peer.remove(0);
                            peer.doc.receive_sync_message(&mut peer.state, m).unwrap();
                        }
                    }
                    Step::DeliverToServer(i) => {
                        let peer = &mut peers[i];
                        if !peer.to_server.is_empty() {
                            let m = peer.to_server.remove(0);
                            let mut their_doc = server.clone();
                            let mut their_state = peer.ours.clone();
                            their_doc
                                .receive_sync_message(&mut their_state, m.clone())
                                .unwrap();
                            let before = server.get_heads();
                            receive_sync_message(&mut server, &mut peer.ours, m, &before, Some(&mut fan_out.log), false).unwrap();
                            prop_assert_eq!(&peer.ours, &their_state);
                            prop_assert_eq!(server.get_heads(), their_doc.get_heads());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_trim_walks_when_the_last_heads_are_not_covered() {
        // A peer that acknowledges an older message than the last one sent.
        let mut server = Automerge::new();
        put(&mut server, "a", 1);
        let (mut peer, mut peer_state, mut ours) = (Automerge::new(), State::new(), State::new());
        let hello = peer.generate_sync_message(&mut peer_state).unwrap();
        let before = server.get_heads();
        receive_sync_message(&mut server, &mut ours, hello, &before, None, false).unwrap();
        let first = server.generate_sync_message(&mut ours).unwrap();
        peer.receive_sync_message(&mut peer_state, first).unwrap();
        let ack = peer.generate_sync_message(&mut peer_state).unwrap();
        put(&mut server, "b", 2);
        ours.in_flight = false;
        let second = server.generate_sync_message(&mut ours).unwrap();
        assert_eq!(second.changes.len(), 1);
        assert_eq!(ours.sent_hashes.len(), 2);
        let (mut their_doc, mut their_state) = (server.clone(), ours.clone());
        their_doc
            .receive_sync_message(&mut their_state, ack.clone())
            .unwrap();
        let before = server.get_heads();
        receive_sync_message(&mut server, &mut ours, ack, &before, None, false).unwrap();
        assert_eq!(ours, their_state);
        assert_eq!(
            ours.sent_hashes.len(),
            1,
            "only the first change is acknowledged"
        );
    }
}
