//! Sync messages for many peers of one document, from work shared between them.
//!
//! automerge's `generate_sync_message` works out, for each peer separately, which changes it
//! lacks, and encodes and hashes each of them again from the op set; at one edit per second
//! from each of 1,000 peers that is a million change encodings a second on one document. A
//! [`FanOut`] belongs to one document and is handed to [`crate::DocSync::fan_out`] for each of
//! its peers. For the usual states (the peer's heads and `have` are known to us, it needs
//! nothing) it builds the message from what it computed once for the document as it is now:
//! the changes since each base the peers acknowledged (from the document's [`ChangeLog`]),
//! the changes' bytes (as they arrived, or encoded once, and kept), and whole encoded
//! messages, which peers in the same state share. Any other state is left to automerge.
//!
//! The message is automerge's, with the same effect on the sync state, but for two things
//! that let the peers that acknowledged the same base share it (with 1,000 editing peers,
//! one message for each peer was most of the server's work): our `have` starts from the
//! peer's last sync instead of from the heads it last sent (which hold its own newest change),
//! and a few changes the peer's Bloom filter claims (its own newest) are sent back to it. Both
//! are within the protocol: `have` may name any heads both sides have, and automerge ignores a
//! change it has. `FanOut::exact` (for tests) sends exactly automerge's messages.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, OnceLock},
};

use automerge::{
    Automerge, Change, ChangeHash, ReadDoc,
    sync::{
        BloomFilter, Capability, ChunkList, Have, Message, MessageFlags, MessageVersion, State,
    },
};

use crate::change_log::ChangeLog;

/// Up to this many changes missing from the kept bytes are encoded one by one; more, with
/// everything after the peer's base in one pass.
const MAX_ENCODED_ONE_BY_ONE: usize = 16;
/// A message may carry up to this many changes that the peer's Bloom filter claims it has
/// (automerge would leave them out), so that peers in the same state share one message.
const MAX_ECHOED: usize = 4;
/// Change bytes kept between fan-outs, at most (the oldest go first).
const MAX_CACHED_BYTES: usize = 32 * 1024 * 1024;

/// One document's shared fan-out work; see the module docs. Keep one per document and pass it
/// to every [`crate::DocSync::fan_out`] of that document.
#[derive(Debug, Default)]
pub struct FanOut {
    /// The document's heads that `since` and `encoded` describe.
    heads: Vec<ChangeHash>,
    num_changes: usize,
    /// The changes after a base (sorted heads), in causal order.
    since: HashMap<Vec<ChangeHash>, Arc<Since>>,
    /// Encoded messages by (V2?, the peer's shared heads, the changes sent).
    encoded: HashMap<MessageKey, Arc<[u8]>>,
    /// Change bytes by hash, as automerge encodes them.
    bytes: HashMap<ChangeHash, Arc<Vec<u8>>>,
    bytes_order: VecDeque<ChangeHash>,
    bytes_total: usize,
    /// The document's recent changes: what `since` and the peers' acknowledgements ask about.
    pub(crate) log: ChangeLog,
    /// Send exactly what automerge would (no changes the peer's filter claims).
    exact: bool,
}

/// A message [`FanOut::generate`] built for a peer.
#[derive(Debug, PartialEq)]
pub(crate) struct Generated {
    /// The encoded `sync` message, which other peers may share.
    pub(crate) data: Arc<[u8]>,
    /// It brings the peer changes it lacked (not only ones its filter claims).
    pub(crate) news: bool,
}

/// What sets a shared message apart: V2 or not, the base of our `have`, the peer's last sync
/// (the base whose [`Since`] the last part indexes), and which changes it carries.
type MessageKey = (bool, Vec<ChangeHash>, Vec<ChangeHash>, Chosen);

/// The changes after one base, in causal order.
#[derive(Debug)]
struct Since {
    hashes: Vec<ChangeHash>,
    /// For each change, the positions in `hashes` of its dependencies among them.
    deps: Vec<Vec<u32>>,
    /// A Bloom filter of `hashes` (built when first needed: our `have` for peers whose
    /// shared heads are this base).
    bloom: OnceLock<BloomFilter>,
}

impl Since {
    fn new<'d>(changes: impl Iterator<Item = (ChangeHash, &'d [ChangeHash])>) -> Self {
        let mut hashes = Vec::new();
        let mut deps = Vec::new();
        let mut positions: HashMap<ChangeHash, u32> = HashMap::new();
        for (hash, change_deps) in changes {
            let position = u32::try_from(hashes.len()).unwrap_or(u32::MAX);
            deps.push(
                change_deps
                    .iter()
                    .filter_map(|d| positions.get(d).copied())
                    .collect(),
            );
            positions.insert(hash, position);
            hashes.push(hash);
        }
        Self {
            hashes,
            deps,
            bloom: OnceLock::new(),
        }
    }

    fn bloom(&self) -> &BloomFilter {
        self.bloom
            .get_or_init(|| BloomFilter::from_hashes(self.hashes.iter()))
    }
}

/// Which of a [`Since`]'s changes a message carries, one bit each.
type Chosen = Vec<u64>;

fn is_chosen(chosen: &Chosen, i: usize) -> bool {
    chosen[i / 64] & (1 << (i % 64)) != 0
}

impl FanOut {
    pub fn new() -> Self {
        Self::default()
    }

    /// One that sends exactly automerge's messages (for tests that compare them).
    #[cfg(test)]
    pub(crate) fn exact() -> Self {
        Self {
            exact: true,
            ..Self::default()
        }
    }

    /// Call before a round of [`crate::DocSync::fan_out`] calls whenever `doc` may have
    /// changed (or been replaced) since the last: forgets what described an older version.
    pub fn prepare(&mut self, doc: &Automerge) {
        let heads = doc.get_heads();
        self.log.refresh(doc, &heads);
        if heads != self.heads {
            self.heads = heads;
            self.num_changes = doc.stats().num_changes as usize;
            self.since.clear();
            self.encoded.clear();
        }
    }

    /// Whether a peer whose heads are `heads` may have the change `hash`: it is one of them or
    /// their ancestor, or the log cannot tell.
    fn may_have(&self, heads: &[ChangeHash], hash: &ChangeHash) -> bool {
        let Some((target, _)) = self.log.get(hash) else {
            return true;
        };
        // Only changes after it in the log can lead to it.
        let mut found = false;
        self.log.walk(heads, target + 1, |head| {
            found = head == hash;
            !found
        });
        found
    }

    /// How many distinct messages it encoded for the document as it is now.
    pub fn messages_encoded(&self) -> usize {
        self.encoded.len()
    }

    /// Whether `doc` has the change `hash` (after [`Self::prepare`] for `doc` as it is).
    pub fn has_change(&self, doc: &Automerge, hash: &ChangeHash) -> bool {
        self.log.contains(hash) || doc.get_change_meta_by_hash(hash).is_some()
    }

    /// The driver applied `changes` (in causal order, as automerge took them in) to `doc`,
    /// whose heads were `before` at the last [`Self::prepare`]: learn them and keep their
    /// bytes (see [`Self::keep`]) without asking automerge.
    pub fn applied(&mut self, doc: &Automerge, before: &[ChangeHash], changes: &[Change]) {
        if self.log.heads() == before {
            let heads = doc.get_heads();
            let count = doc.stats().num_changes;
            self.log
                .extend(changes.iter().map(|c| (c.hash(), c.deps())), &heads, count);
        }
        for change in changes {
            self.keep(change);
        }
    }

    /// Keeps `change`'s bytes for the messages that will carry it (a driver that has the
    /// change as it arrived spares automerge encoding it again from the document).
    pub fn keep(&mut self, change: &Change) {
        self.insert_bytes(change);
        self.evict();
    }

    fn insert_bytes(&mut self, change: &Change) {
        let hash = change.hash();
        if !self.bytes.contains_key(&hash) {
            let bytes = change.raw_bytes().to_vec();
            self.bytes_total += bytes.len();
            self.bytes.insert(hash, Arc::new(bytes));
            self.bytes_order.push_back(hash);
        }
    }

    fn evict(&mut self) {
        while self.bytes_total > MAX_CACHED_BYTES {
            let Some(old) = self.bytes_order.pop_front() else {
                break;
            };
            if let Some(bytes) = self.bytes.remove(&old) {
                self.bytes_total -= bytes.len();
            }
        }
    }

    /// A cheap check for a driver that forgot [`Self::prepare`] after adding changes.
    fn refresh(&mut self, doc: &Automerge) {
        if doc.stats().num_changes as usize != self.num_changes {
            self.prepare(doc);
        }
    }

    fn since(&mut self, doc: &Automerge, base: &[ChangeHash]) -> Arc<Since> {
        let mut key = base.to_vec();
        key.sort_unstable();
        key.dedup();
        if let Some(since) = self.since.get(&key) {
            return since.clone();
        }
        let since = match self.log.since(&key) {
            Some(entries) => Since::new(entries.iter().map(|e| (e.hash, e.deps.as_slice()))),
            None => {
                let metas = doc.get_changes_meta(&key);
                Since::new(metas.iter().map(|m| (m.hash, m.deps.as_slice())))
            }
        };
        let since = Arc::new(since);
        self.since.insert(key, since.clone());
        since
    }

    /// The bytes of `hashes` (changes after `base`), encoding those not kept yet.
    fn bytes(
        &mut self,
        doc: &Automerge,
        base: &[ChangeHash],
        hashes: &[ChangeHash],
    ) -> Vec<Arc<Vec<u8>>> {
        let missing: Vec<ChangeHash> = hashes
            .iter()
            .filter(|h| !self.bytes.contains_key(h))
            .copied()
            .collect();
        // A few new changes are encoded one by one; many at once (a peer far behind, a cold
        // cache) in one pass over what came after `base`.
        let changes = if missing.len() <= MAX_ENCODED_ONE_BY_ONE {
            missing
                .iter()
                .filter_map(|h| doc.get_change_by_hash(h))
                .collect()
        } else {
            doc.get_changes(base)
        };
        for change in &changes {
            self.insert_bytes(change);
        }
        let out = hashes
            .iter()
            .map(|h| self.bytes[h].clone())
            .collect::<Vec<_>>();
        self.evict();
        out
    }

    /// What `doc.generate_sync_message(state)` returns (encoded; with the departures of the
    /// module docs unless `exact`), with `state` updated to match what it sent; `None` (and
    /// `state` untouched) if `state` is not one this serves.
    pub(crate) fn generate(
        &mut self,
        doc: &Automerge,
        state: &mut State,
    ) -> Option<Option<Generated>> {
        // Read while the rest of `state` is updated; `generate_for` leaves them as they are.
        let (their_heads, their_have) = (state.their_heads.take(), state.their_have.take());
        let generated =
            self.generate_for(doc, state, their_heads.as_deref(), their_have.as_deref());
        (state.their_heads, state.their_have) = (their_heads, their_have);
        generated
    }

    fn generate_for(
        &mut self,
        doc: &Automerge,
        state: &mut State,
        their_heads: Option<&[ChangeHash]>,
        their_have: Option<&[Have]>,
    ) -> Option<Option<Generated>> {
        // The states served: plain read-write sync with a peer whose heads, `have` and shared
        // heads we know and that needs nothing of us.
        let their_heads = their_heads?;
        let [have] = their_have? else {
            return None;
        };
        if state.read_only
            || state.peer_read_only
            || state.needs_reset
            || their_heads.is_empty()
            || state.shared_heads.is_empty()
            || have.last_sync.is_empty()
            || !state.their_need.as_ref()?.is_empty()
        {
            return None;
        }
        self.refresh(doc);
        let all_known = |heads: &[ChangeHash]| {
            heads == self.heads.as_slice()
                || heads.iter().all(|h| self.log.contains(h))
                || crate::heads::known(doc, heads).len() == heads.len()
        };
        if !all_known(their_heads) || !all_known(&have.last_sync) {
            return None;
        }

        // automerge's `get_hashes_to_send`: the changes since their last sync that their bloom
        // filter does not claim, and everything depending on those; less what was sent them
        // already. One pass in causal order: a change is sent if it is not claimed or one of
        // its dependencies is sent.
        let since = self.since(doc, &have.last_sync);
        let n = since.hashes.len();
        let mut send = vec![false; n];
        let mut exact: Chosen = vec![0; n.div_ceil(64)];
        let mut unsent: Chosen = vec![0; n.div_ceil(64)];
        let (mut exact_count, mut unsent_count) = (0, 0);
        for (i, hash) in since.hashes.iter().enumerate() {
            // A Bloom filter claims about 1 % of what it lacks as well; automerge peers ask for
            // such a change once they miss it. Unless `exact`, one the peer cannot have (not
            // among its heads and their ancestors) is sent at once.
            let claimed =
                have.bloom.contains_hash(hash) && (self.exact || self.may_have(their_heads, hash));
            send[i] = !claimed || since.deps[i].iter().any(|&d| send[d as usize]);
            if state.sent_hashes.is_empty() || !state.sent_hashes.contains(hash) {
                unsent[i / 64] |= 1 << (i % 64);
                unsent_count += 1;
                if send[i] {
                    exact[i / 64] |= 1 << (i % 64);
                    exact_count += 1;
                }
            }
        }
        let v2 = state
            .their_capabilities
            .as_ref()
            .is_some_and(|caps| caps.contains(&Capability::MessageV2));
        if v2 && exact_count > self.num_changes / 3 {
            // automerge sends the whole document instead.
            return None;
        }

        let heads_unchanged = state.last_sent_heads == self.heads;
        let heads_equal = their_heads == self.heads;
        if heads_unchanged
            && state.have_responded
            && ((heads_equal && exact_count == 0) || state.in_flight)
        {
            return Some(None);
        }

        // Two departures from automerge, so that peers that acknowledged the same base share
        // one message (unless `exact`). Our `have` (what we have beyond heads both sides
        // have) starts from the peer's last sync rather than from what we last heard it has:
        // both are heads the peer has, but the latter holds the peer's own newest changes and
        // so differs for every editing peer. And the peer's own new changes, usually all its
        // filter claims, are sent back to it too.
        let (chosen, our_base) = if self.exact {
            (exact, state.shared_heads.clone())
        } else if unsent_count - exact_count <= MAX_ECHOED {
            (unsent, have.last_sync.clone())
        } else {
            (exact, have.last_sync.clone())
        };
        let key = (v2, our_base, have.last_sync.clone(), chosen);
        let encoded = match self.encoded.get(&key) {
            Some(encoded) => encoded.clone(),
            None => {
                let hashes: Vec<ChangeHash> = (0..n)
                    .filter(|&i| is_chosen(&key.3, i))
                    .map(|i| since.hashes[i])
                    .collect();
                let ours = self.since(doc, &key.1);
                let bytes = self.bytes(doc, &have.last_sync, &hashes);
                let encoded: Arc<[u8]> =
                    message(&self.heads, &key.1, ours.bloom(), &bytes, v2).into();
                self.encoded.insert(key.clone(), encoded.clone());
                encoded
            }
        };
        state.have_responded = true;
        state.last_sent_heads.clone_from(&self.heads);
        state.sent_hashes.extend(
            (0..n)
                .filter(|&i| is_chosen(&key.3, i))
                .map(|i| since.hashes[i]),
        );
        state.in_flight = true;
        Some(Some(Generated {
            data: encoded,
            news: exact_count > 0,
        }))
    }
}

/// The sync message automerge builds for a peer that needs nothing and lacks `changes`.
fn message(
    heads: &[ChangeHash],
    shared_heads: &[ChangeHash],
    bloom: &BloomFilter,
    changes: &[Arc<Vec<u8>>],
    v2: bool,
) -> Vec<u8> {
    let mut flags = MessageFlags::new();
    flags.set(MessageFlags::SUPPORTS_SYNC_RESET);
    let (changes, version) = if v2 {
        // V2 carries the changes as one chunk.
        let chunks = if changes.is_empty() {
            Vec::new()
        } else {
            let mut joined = Vec::with_capacity(changes.iter().map(|c| c.len()).sum());
            for change in changes {
                joined.extend_from_slice(change);
            }
            vec![joined]
        };
        (chunks, MessageVersion::V2)
    } else {
        let chunks = changes.iter().map(|c| c.as_ref().clone()).collect();
        (chunks, MessageVersion::V1)
    };
    Message {
        heads: heads.to_vec(),
        need: Vec::new(),
        have: vec![Have {
            last_sync: shared_heads.to_vec(),
            bloom: bloom.clone(),
        }],
        changes: ChunkList::from(changes),
        flags: Some(flags),
        version,
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use automerge::{
        ActorId, ROOT,
        sync::SyncDoc,
        transaction::{CommitOptions, Transactable},
    };

    use super::*;

    /// One change, at a fixed time: with the fixed actors below, every hash (and so every
    /// Bloom filter's false positive, which changes what automerge sends) is the same on
    /// every run. Random actors failed about 3 runs in 100 (a false positive in a filter).
    fn put(doc: &mut Automerge, key: &str) {
        let mut tx = doc.transaction();
        tx.put(ROOT, key, key).unwrap();
        tx.commit_with(CommitOptions::default().with_time(0));
    }

    fn actor(n: u8) -> ActorId {
        ActorId::from([n; 16])
    }

    /// The server (`doc`, with `fan_out`'s log) takes in a peer's message.
    fn server_receives(doc: &mut Automerge, ours: &mut State, fan_out: &mut FanOut, m: Message) {
        let before = doc.get_heads();
        crate::receive::receive_sync_message(doc, ours, m, &before, Some(&mut fan_out.log), false)
            .unwrap();
    }

    /// Syncs a peer with `doc` (both plain automerge) until both are quiet.
    fn settle(doc: &mut Automerge, ours: &mut State, peer: &mut Automerge, theirs: &mut State) {
        for _ in 0..10 {
            let a = peer.generate_sync_message(theirs);
            if let Some(m) = a.clone() {
                doc.receive_sync_message(ours, m).unwrap();
            }
            let b = doc.generate_sync_message(ours);
            if let Some(m) = b.clone() {
                peer.receive_sync_message(theirs, m).unwrap();
            }
            if a.is_none() && b.is_none() {
                return;
            }
        }
        panic!("sync did not settle");
    }

    /// A document of ten changes and three peers in sync with it: each peer's document, its
    /// sync state and the server's for it.
    fn three_settled_peers() -> (Automerge, Vec<(Automerge, State, State)>) {
        let mut doc = Automerge::new().with_actor(actor(0));
        // Big enough that two new changes are not worth sending the whole document for.
        for i in 0..10 {
            put(&mut doc, &format!("k{i}"));
        }
        let mut peers: Vec<(Automerge, State, State)> = (0..3)
            .map(|i| {
                (
                    Automerge::new().with_actor(actor(i + 1)),
                    State::new(),
                    State::new(),
                )
            })
            .collect();
        for (peer, theirs, ours) in &mut peers {
            settle(&mut doc, ours, peer, theirs);
        }
        (doc, peers)
    }

    #[test]
    fn caught_up_peers_share_one_encoded_message() {
        let (mut doc, mut peers) = three_settled_peers();
        put(&mut doc, "one");
        put(&mut doc, "two");
        let mut fan_out = FanOut::new();
        fan_out.prepare(&doc);
        let mut sent = Vec::new();
        for (peer, theirs, ours) in &mut peers {
            let mut expected_state = ours.clone();
            let expected = doc.generate_sync_message(&mut expected_state).unwrap();
            let data = fan_out
                .generate(&doc, ours)
                .expect("a caught-up peer is served")
                .expect("it lacks two changes")
                .data;
            assert_eq!(*ours, expected_state);
            assert_eq!(data.to_vec(), expected.encode());
            let message = Message::decode(&data).unwrap();
            assert_eq!(message.changes.len(), 1, "V2: the changes in one chunk");
            peer.receive_sync_message(theirs, message).unwrap();
            assert_eq!(peer.get_heads(), doc.get_heads());
            sent.push(data);
        }
        assert!(
            Arc::ptr_eq(&sent[0], &sent[1]) && Arc::ptr_eq(&sent[1], &sent[2]),
            "one copy of the message for all three"
        );
        // Nothing new: nothing more to say, as automerge would say nothing.
        for (_, _, ours) in &mut peers {
            assert_eq!(fan_out.generate(&doc, ours), Some(None));
        }
    }

    #[test]
    fn editing_peers_share_one_message_and_converge() {
        let (mut doc, mut peers) = three_settled_peers();
        let mut fan_out = FanOut::new();
        // Each peer edits and sends its change; the server takes them in.
        for (i, (peer, theirs, ours)) in peers.iter_mut().enumerate() {
            put(peer, &format!("peer{i}"));
            let message = peer.generate_sync_message(theirs).unwrap();
            server_receives(&mut doc, ours, &mut fan_out, message);
        }
        fan_out.prepare(&doc);
        let sent: Vec<Arc<[u8]>> = peers
            .iter_mut()
            .map(|(_, _, ours)| {
                fan_out
                    .generate(&doc, ours)
                    .expect("served")
                    .expect("each lacks the others' changes")
                    .data
            })
            .collect();
        assert!(
            Arc::ptr_eq(&sent[0], &sent[1]) && Arc::ptr_eq(&sent[1], &sent[2]),
            "one message for the three, though each sent a change of its own"
        );
        assert_eq!(Message::decode(&sent[0]).unwrap().heads, doc.get_heads());
        // Each takes it in (its own change comes back; automerge ignores it) and the sync
        // goes on to the end with the fan-out's messages.
        for ((peer, theirs, ours), data) in peers.iter_mut().zip(sent) {
            peer.receive_sync_message(theirs, Message::decode(&data).unwrap())
                .unwrap();
            for _ in 0..10 {
                let Some(message) = peer.generate_sync_message(theirs) else {
                    break;
                };
                server_receives(&mut doc, ours, &mut fan_out, message);
                fan_out.prepare(&doc);
                let reply = match fan_out.generate(&doc, ours) {
                    Some(reply) => reply.map(|g| Message::decode(&g.data).unwrap()),
                    None => doc.generate_sync_message(ours),
                };
                if let Some(reply) = reply {
                    peer.receive_sync_message(theirs, reply).unwrap();
                }
            }
            assert_eq!(peer.get_heads(), doc.get_heads());
        }
    }

    #[test]
    fn a_change_the_peer_falsely_claims_is_sent_unless_exact() {
        let (mut doc, mut peers) = three_settled_peers();
        // Big enough that the changes below are not worth sending the whole document for.
        for i in 0..20 {
            put(&mut doc, &format!("more{i}"));
        }
        let (peer, theirs, ours) = &mut peers[0];
        settle(&mut doc, ours, peer, theirs);
        let shared = doc.get_heads();
        // Both have seen the document before the new changes (a fresh one knows only what
        // comes after its first look).
        let (mut exact, mut ours) = (FanOut::exact(), FanOut::new());
        exact.prepare(&doc);
        ours.prepare(&doc);
        // More than a message echoes, so that only the check of the peer's heads sends them.
        let claimed: Vec<ChangeHash> = (0..=MAX_ECHOED)
            .map(|i| {
                put(&mut doc, &format!("x{i}"));
                doc.get_heads()[0]
            })
            .collect();
        put(&mut doc, "y");
        let sent_hashes = |fan_out: &mut FanOut, ours: &mut State| {
            // The peer's filter claims the `x`s, which it cannot have: its heads are older.
            ours.their_heads = Some(shared.clone());
            ours.their_have = Some(vec![Have {
                last_sync: shared.clone(),
                bloom: BloomFilter::from_hashes(claimed.iter()),
            }]);
            ours.their_need = Some(Vec::new());
            fan_out.prepare(&doc);
            let data = fan_out.generate(&doc, ours).unwrap().unwrap().data;
            let message = Message::decode(&data).unwrap();
            crate::split_changes(&message.changes)
                .unwrap()
                .iter()
                .map(automerge::Change::hash)
                .collect::<Vec<_>>()
        };
        let mut exact_state = peers[0].2.clone();
        let exact = sent_hashes(&mut exact, &mut exact_state);
        assert!(
            !claimed.iter().any(|x| exact.contains(x)),
            "automerge leaves them for the peer to ask for"
        );
        let ours = sent_hashes(&mut ours, &mut peers[0].2);
        assert!(claimed.iter().all(|x| ours.contains(x)), "sent at once");
        assert_eq!(ours.len(), claimed.len() + 1);
    }
}
