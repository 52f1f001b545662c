//! Sync messages for many peers of one document, from work shared between them.
//!
//! automerge's `generate_sync_message` works out, for each peer separately, which changes it
//! lacks, and encodes and hashes each of them again from the op set; at one edit per second
//! from each of 1,000 peers that is a million change encodings a second on one document. A
//! [`FanOut`] belongs to one document and is handed to [`crate::DocSync::fan_out`] for each of
//! its peers. For the usual states (the peer's heads and `have` are known to us, it needs
//! nothing) it builds exactly the message automerge would, from what it computed once for the
//! document as it is now: the changes since each base the peers acknowledged (their hashes and
//! dependencies, from automerge's change graph), the changes' bytes (encoded once and kept),
//! and whole encoded messages, which peers in the same state share. Any other state is left to
//! automerge.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, OnceLock},
};

use automerge::{
    Automerge, ChangeHash, ReadDoc,
    sync::{
        BloomFilter, Capability, ChunkList, Have, Message, MessageFlags, MessageVersion, State,
    },
};

use crate::change_log::ChangeLog;

/// Up to this many changes missing from the kept bytes are encoded one by one; more, with
/// everything after the peer's base in one pass.
const MAX_ENCODED_ONE_BY_ONE: usize = 16;
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
}

/// What sets a shared message apart: V2 or not, the peer's shared heads (our `have`), and
/// the hashes of the changes it carries.
type MessageKey = (bool, Vec<ChangeHash>, Vec<ChangeHash>);

#[derive(Debug)]
struct Since {
    hashes: Vec<ChangeHash>,
    deps: Vec<Vec<ChangeHash>>,
    bloom: BloomFilter,
    /// The changes among `hashes` that depend on each change (built when first needed).
    dependents: OnceLock<HashMap<ChangeHash, Vec<ChangeHash>>>,
}

impl Since {
    fn dependents(&self) -> &HashMap<ChangeHash, Vec<ChangeHash>> {
        self.dependents.get_or_init(|| {
            let mut dependents: HashMap<ChangeHash, Vec<ChangeHash>> = HashMap::new();
            for (hash, deps) in self.hashes.iter().zip(&self.deps) {
                for dep in deps {
                    dependents.entry(*dep).or_default().push(*hash);
                }
            }
            dependents
        })
    }
}

impl FanOut {
    pub fn new() -> Self {
        Self::default()
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
        self.since
            .entry(key)
            .or_insert_with_key(|base| {
                let (hashes, deps): (Vec<_>, Vec<_>) = match self.log.since(base) {
                    Some(entries) => entries.iter().map(|e| (e.hash, e.deps.clone())).unzip(),
                    None => doc
                        .get_changes_meta(base)
                        .into_iter()
                        .map(|meta| (meta.hash, meta.deps))
                        .unzip(),
                };
                let bloom = BloomFilter::from_hashes(hashes.iter());
                Arc::new(Since {
                    hashes,
                    deps,
                    bloom,
                    dependents: OnceLock::new(),
                })
            })
            .clone()
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
        for change in changes {
            let hash = change.hash();
            if self.bytes.contains_key(&hash) {
                continue;
            }
            let bytes = change.raw_bytes().to_vec();
            self.bytes_total += bytes.len();
            self.bytes.insert(hash, Arc::new(bytes));
            self.bytes_order.push_back(hash);
        }
        let out = hashes
            .iter()
            .map(|h| self.bytes[h].clone())
            .collect::<Vec<_>>();
        while self.bytes_total > MAX_CACHED_BYTES {
            let Some(old) = self.bytes_order.pop_front() else {
                break;
            };
            if let Some(bytes) = self.bytes.remove(&old) {
                self.bytes_total -= bytes.len();
            }
        }
        out
    }

    /// What `doc.generate_sync_message(state)` returns (encoded), with `state` updated as it
    /// would; `None` (and `state` untouched) if `state` is not one this serves.
    pub(crate) fn generate(
        &mut self,
        doc: &Automerge,
        state: &mut State,
    ) -> Option<Option<Arc<[u8]>>> {
        // The states served: plain read-write sync with a peer whose heads, `have` and shared
        // heads we know and that needs nothing of us.
        let their_heads = state.their_heads.clone()?;
        let [have] = state.their_have.as_deref()? else {
            return None;
        };
        let have = have.clone();
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
                || crate::receive::known(doc, heads).len() == heads.len()
        };
        if !all_known(&their_heads) || !all_known(&have.last_sync) {
            return None;
        }

        // automerge's `get_hashes_to_send`: the changes since their last sync that their bloom
        // filter does not claim, and everything depending on those.
        let since = self.since(doc, &have.last_sync);
        let mut to_send: HashSet<ChangeHash> = since
            .hashes
            .iter()
            .filter(|h| !have.bloom.contains_hash(h))
            .copied()
            .collect();
        if to_send.len() < since.hashes.len() {
            let dependents = since.dependents();
            let mut stack: Vec<ChangeHash> = to_send.iter().copied().collect();
            while let Some(hash) = stack.pop() {
                for dependent in dependents.get(&hash).into_iter().flatten() {
                    if to_send.insert(*dependent) {
                        stack.push(*dependent);
                    }
                }
            }
        }
        let hashes: Vec<ChangeHash> = since
            .hashes
            .iter()
            .filter(|h| to_send.contains(h) && !state.sent_hashes.contains(h))
            .copied()
            .collect();
        let v2 = state
            .their_capabilities
            .as_ref()
            .is_some_and(|caps| caps.contains(&Capability::MessageV2));
        if v2 && hashes.len() > self.num_changes / 3 {
            // automerge sends the whole document instead.
            return None;
        }

        let heads_unchanged = state.last_sent_heads == self.heads;
        let heads_equal = their_heads == self.heads;
        if heads_unchanged
            && state.have_responded
            && ((heads_equal && hashes.is_empty()) || state.in_flight)
        {
            return Some(None);
        }

        let key = (v2, state.shared_heads.clone(), hashes);
        let encoded = match self.encoded.get(&key) {
            Some(encoded) => encoded.clone(),
            None => {
                let ours = self.since(doc, &state.shared_heads);
                let bytes = self.bytes(doc, &have.last_sync, &key.2);
                let encoded: Arc<[u8]> =
                    message(&self.heads, &state.shared_heads, &ours.bloom, &bytes, v2).into();
                self.encoded.insert(key.clone(), encoded.clone());
                encoded
            }
        };
        state.have_responded = true;
        state.last_sent_heads.clone_from(&self.heads);
        state.sent_hashes.extend(key.2);
        state.in_flight = true;
        Some(Some(encoded))
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
    use automerge::{ROOT, sync::SyncDoc, transaction::Transactable};

    use super::*;

    fn put(doc: &mut Automerge, key: &str) {
        let mut tx = doc.transaction();
        tx.put(ROOT, key, key).unwrap();
        tx.commit();
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

    #[test]
    fn caught_up_peers_share_one_encoded_message() {
        let mut doc = Automerge::new();
        // Big enough that two new changes are not worth sending the whole document for.
        for i in 0..10 {
            put(&mut doc, &format!("k{i}"));
        }
        let mut peers: Vec<(Automerge, State, State)> = (0..3)
            .map(|_| (Automerge::new(), State::new(), State::new()))
            .collect();
        for (peer, theirs, ours) in &mut peers {
            settle(&mut doc, ours, peer, theirs);
        }
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
                .expect("it lacks two changes");
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
}
