//! One fan-out's new changes, encoded once and shared by the peers that are caught up.

use automerge::{
    Automerge, ChangeHash,
    sync::{BloomFilter, ChunkList, Have, Message, MessageFlags, MessageVersion, State},
};

/// The changes a document gained since `base` (heads a peer acknowledged), with what every
/// sync message that sends exactly them carries: encoded once, for all the peers at `base`.
///
/// automerge's `generate_sync_message` works out, for each peer separately, which changes it
/// lacks, and encodes and hashes each of them again; at one edit per second from each of
/// 1,000 peers that is a million change encodings a second on one document. A server builds
/// one `FanOut` per distinct acknowledged base instead (usually one) and calls
/// [`crate::DocSync::fan_out`] on each peer's sync, which sends what automerge would send
/// whenever the peer's state is the plain "caught up with `base`, nothing of its own since"
/// and otherwise says it cannot (the caller then uses `DocInput::doc_changed`).
#[derive(Debug)]
pub struct FanOut {
    base: Vec<ChangeHash>,
    heads: Vec<ChangeHash>,
    /// The new changes in causal order, with their hashes.
    changes: Vec<(ChangeHash, Vec<u8>)>,
    /// Our `have` for a peer whose shared heads are `base`: the changes since then.
    bloom: BloomFilter,
}

impl FanOut {
    /// The changes of `doc` after `base` (heads `doc` has).
    pub fn new(doc: &Automerge, base: &[ChangeHash]) -> Self {
        let changes: Vec<(ChangeHash, Vec<u8>)> = doc
            .get_changes(base)
            .into_iter()
            .map(|c| (c.hash(), c.raw_bytes().to_vec()))
            .collect();
        let bloom = BloomFilter::from_hashes(changes.iter().map(|(h, _)| h));
        Self {
            base: sorted(base),
            heads: sorted(&doc.get_heads()),
            changes,
            bloom,
        }
    }

    /// The heads the changes build on.
    pub fn base(&self) -> &[ChangeHash] {
        &self.base
    }

    /// What automerge's `generate_sync_message` would return for `state`, if `state` is caught
    /// up with [`Self::base`] (they told us they have exactly it, have nothing of their own
    /// since, need nothing, and we already answered them) and our heads moved since we last
    /// wrote to them; `None` (and `state` untouched) otherwise.
    pub(crate) fn message_for(&self, state: &mut State) -> Option<Message> {
        if state.read_only
            || state.peer_read_only
            || state.needs_reset
            || !state.have_responded
            || sorted(&state.last_sent_heads) == self.heads
            || sorted(&state.shared_heads) != self.base
            || sorted(state.their_heads.as_deref()?) != self.base
            || state.their_need.as_ref().is_some_and(|n| !n.is_empty())
        {
            return None;
        }
        let [have] = state.their_have.as_deref()? else {
            return None;
        };
        if sorted(&have.last_sync) != self.base || !have.bloom.to_bytes().is_empty() {
            return None;
        }
        // Everything since `base` that this session has not sent them yet, in causal order.
        let (hashes, chunks): (Vec<ChangeHash>, Vec<Vec<u8>>) = self
            .changes
            .iter()
            .filter(|(hash, _)| !state.sent_hashes.contains(hash))
            .cloned()
            .unzip();
        state.have_responded = true;
        state.last_sent_heads.clone_from(&self.heads);
        state.sent_hashes.extend(hashes);
        state.in_flight = true;
        let mut flags = MessageFlags::new();
        flags.set(MessageFlags::SUPPORTS_SYNC_RESET);
        Some(Message {
            heads: self.heads.clone(),
            need: Vec::new(),
            have: vec![Have {
                last_sync: state.shared_heads.clone(),
                bloom: self.bloom.clone(),
            }],
            changes: ChunkList::from(chunks),
            flags: Some(flags),
            version: MessageVersion::V1,
        })
    }
}

/// The heads a peer is caught up with, if its state is one [`FanOut::message_for`] can serve.
pub(crate) fn caught_up_base(state: &State) -> Option<Vec<ChangeHash>> {
    let theirs = sorted(state.their_heads.as_deref()?);
    (sorted(&state.shared_heads) == theirs).then_some(theirs)
}

fn sorted(heads: &[ChangeHash]) -> Vec<ChangeHash> {
    let mut heads = heads.to_vec();
    heads.sort_unstable();
    heads
}

#[cfg(test)]
mod tests {
    use automerge::{ROOT, sync::SyncDoc, transaction::Transactable};

    use super::*;
    use crate::{DocInput, DocMessage, DocSync, Timestamp};

    fn put(doc: &mut Automerge, key: &str) {
        let mut tx = doc.transaction();
        tx.put(ROOT, key, key).unwrap();
        tx.commit();
    }

    /// Syncs a peer (plain automerge) with our document through `ours` until both are quiet.
    fn settle(doc: &mut Automerge, ours: &mut DocSync, peer: &mut Automerge, state: &mut State) {
        let now = Timestamp::from_millis(0);
        let mut to_us = peer.generate_sync_message(state).map(|m| m.encode());
        while let Some(data) = to_us.take() {
            let out = ours
                .handle(now, doc, DocInput::receive(DocMessage::Sync(data)))
                .unwrap();
            for message in out.outgoing {
                let DocMessage::Sync(bytes) = message else {
                    panic!("{message:?}")
                };
                peer.receive_sync_message(state, Message::decode(&bytes).unwrap())
                    .unwrap();
            }
            to_us = peer.generate_sync_message(state).map(|m| m.encode());
        }
    }

    #[test]
    fn a_caught_up_peer_gets_the_shared_changes_once() {
        let (mut doc, mut peer) = (Automerge::new(), Automerge::new());
        put(&mut doc, "title");
        let (mut ours, mut state) = (DocSync::new(), State::new());
        settle(&mut doc, &mut ours, &mut peer, &mut state);
        assert_eq!(peer.get_heads(), doc.get_heads());

        let base = doc.get_heads();
        put(&mut doc, "one");
        put(&mut doc, "two");
        assert_eq!(ours.fan_out_base(), Some(base.clone()));
        let fan_out = FanOut::new(&doc, &base);
        let now = Timestamp::from_millis(0);
        let Some(DocMessage::Sync(bytes)) = ours.fan_out(now, &fan_out) else {
            panic!("a caught-up peer is served from the shared changes");
        };
        let message = Message::decode(&bytes).unwrap();
        assert_eq!(message.changes.len(), 2);
        peer.receive_sync_message(&mut state, message).unwrap();
        assert_eq!(peer.get_heads(), doc.get_heads());
        // Sent once: the same fan-out again is automerge's business (nothing new to send).
        assert_eq!(ours.fan_out(now, &fan_out), None);
        settle(&mut doc, &mut ours, &mut peer, &mut state);
        assert_eq!(peer.get_heads(), doc.get_heads());
    }

    #[test]
    fn a_peer_with_changes_of_its_own_is_left_to_automerge() {
        let (mut doc, mut peer) = (Automerge::new(), Automerge::new());
        put(&mut doc, "title");
        let (mut ours, mut state) = (DocSync::new(), State::new());
        settle(&mut doc, &mut ours, &mut peer, &mut state);
        let base = doc.get_heads();
        put(&mut doc, "ours");
        put(&mut peer, "theirs");
        // The peer announces its change without sending it yet: its heads are not the base.
        let mut announce = peer.generate_sync_message(&mut state).unwrap();
        announce.changes = ChunkList::empty();
        let now = Timestamp::from_millis(0);
        ours.handle(
            now,
            &mut doc,
            DocInput::receive_deferring_reply(DocMessage::Sync(announce.encode())),
        )
        .unwrap();
        let fan_out = FanOut::new(&doc, &base);
        assert_eq!(ours.fan_out(now, &fan_out), None);
    }
}
