//! A document's recent changes in the order they were added, with their dependencies: what a
//! server asks of the change graph many times per message, answered from memory.
//!
//! automerge answers "which changes came after these heads" (`get_changes_meta`) and "what does
//! this change depend on" (`get_change_meta_by_hash`) by decoding its compressed columns, a few
//! microseconds a change. A server with 1,000 peers on a busy document asks both for every
//! acknowledgement and every peer of every fan-out: at one edit per peer per second that was
//! most of its time. A [`ChangeLog`] learns each new change once (one `get_changes_meta` since
//! the heads it last saw) and then answers from its own list.
//!
//! The list is in the order automerge added the changes to the document (the order it lists
//! them in, too), which is causal: a change comes after its dependencies. Its positions never go back; the state of the document when
//! the list had `p` entries is the state at `p`. The heads the document had at each refresh are
//! remembered with their position (a snapshot): their ancestors are exactly the state there. Each
//! change also records `covers`, a position whose whole state is among its ancestors (from a
//! dependency's, or from its dependencies being a snapshot's heads), so the changes after any
//! heads a peer names are the entries after the best `covers` of those heads that are not their
//! ancestors, found by a walk over those entries alone. Whatever the log cannot answer (heads
//! older than its oldest entry, heads it never saw) is left to the caller, who asks automerge.

use std::collections::{HashMap, HashSet, VecDeque};

use automerge::{Automerge, ChangeHash, ReadDoc};

/// At most this many changes are kept (the oldest go first): enough for peers some ten seconds
/// behind a document that gains 1,000 changes a second, at about 200 bytes a change.
const MAX_ENTRIES: usize = 1 << 15;
/// At most this many snapshots are kept (the oldest go first).
const MAX_SNAPSHOTS: usize = 4096;

#[derive(Debug, Default)]
pub(crate) struct ChangeLog {
    /// The position of `entries[0]`.
    start: u64,
    entries: VecDeque<Entry>,
    /// Positions by hash.
    positions: HashMap<ChangeHash, u64>,
    /// The document's heads when the log last looked (sorted).
    heads: Vec<ChangeHash>,
    /// The log has looked at a document.
    looked: bool,
    /// How many changes the document had then.
    count: u64,
    /// The position of each remembered set of heads (sorted), and their order of arrival.
    snapshots: HashMap<Vec<ChangeHash>, u64>,
    snapshot_order: VecDeque<Vec<ChangeHash>>,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) hash: ChangeHash,
    pub(crate) deps: Vec<ChangeHash>,
    /// A position whose state is among this change's ancestors or is the change itself.
    covers: Option<u64>,
}

impl ChangeLog {
    /// The position after the last entry.
    fn end(&self) -> u64 {
        self.start + self.entries.len() as u64
    }

    pub(crate) fn get(&self, hash: &ChangeHash) -> Option<(u64, &Entry)> {
        let position = *self.positions.get(hash)?;
        Some((position, &self.entries[(position - self.start) as usize]))
    }

    /// The document's heads when the log last looked.
    pub(crate) fn heads(&self) -> &[ChangeHash] {
        &self.heads
    }

    /// Whether the log holds `hash` (and so, once refreshed, the document does).
    pub(crate) fn contains(&self, hash: &ChangeHash) -> bool {
        self.positions.contains_key(hash)
    }

    /// Takes in what `doc` gained since the last call; `heads` are `doc.get_heads()`. Changes
    /// the document lost (a roll-back) start the log over from its heads.
    pub(crate) fn refresh(&mut self, doc: &Automerge, heads: &[ChangeHash]) {
        if self.looked && heads == self.heads.as_slice() {
            return;
        }
        let count = doc.stats().num_changes;
        let lost = self.looked
            && (count < self.count
                || crate::heads::known(doc, &self.heads).len() != self.heads.len());
        if !self.looked || lost {
            // What the document has now is the state at the (new) start.
            self.start = self.end();
            self.entries.clear();
            self.positions.clear();
            self.snapshots.clear();
            self.snapshot_order.clear();
            self.looked = true;
        } else if count == self.count + 1
            && let [new] = heads
                .iter()
                .filter(|h| !self.heads.contains(h))
                .collect::<Vec<_>>()[..]
            && let Some(meta) = doc.get_change_meta_by_hash(new)
        {
            // One new change (the usual case: one peer's edit, or a merge): it is the one head
            // that is new, and its dependencies are all older.
            self.push(meta.hash, meta.deps);
        } else {
            // automerge finds them by their actors' sequence numbers, which needs a vector
            // clock of our heads: not cheap on a document with many actors and merges, but
            // seldom needed. It lists them in the order it added them.
            for meta in doc.get_changes_meta(&self.heads) {
                self.push(meta.hash, meta.deps);
            }
        }
        self.looked_at(heads, count);
    }

    /// Takes in `changes` (in causal order), which took the document from the heads the log
    /// last saw to `heads` (of `count` changes): what a driver that applied them itself knows,
    /// so the log need not ask automerge. Otherwise the next [`Self::refresh`] finds them.
    pub(crate) fn extend<'c>(
        &mut self,
        changes: impl IntoIterator<Item = (ChangeHash, &'c [ChangeHash])>,
        heads: &[ChangeHash],
        count: u64,
    ) {
        for (hash, deps) in changes {
            self.push(hash, deps.to_vec());
        }
        self.looked_at(heads, count);
    }

    /// The document has `heads` and `count` changes, all of them in the log or older.
    fn looked_at(&mut self, heads: &[ChangeHash], count: u64) {
        self.count = count;
        heads.clone_into(&mut self.heads);
        self.remember(heads.to_vec(), self.end());
        self.forget_old();
    }

    fn push(&mut self, hash: ChangeHash, deps: Vec<ChangeHash>) {
        let position = self.end();
        let mut sorted = deps.clone();
        sorted.sort_unstable();
        let mut covers = self.snapshots.get(&sorted).copied();
        for dep in &deps {
            if let Some((_, entry)) = self.get(dep) {
                covers = covers.max(entry.covers);
            }
        }
        if covers == Some(position) {
            covers = Some(position + 1);
        }
        self.positions.insert(hash, position);
        self.entries.push_back(Entry { hash, deps, covers });
    }

    fn remember(&mut self, heads: Vec<ChangeHash>, position: u64) {
        if self.snapshots.insert(heads.clone(), position).is_none() {
            self.snapshot_order.push_back(heads);
        }
    }

    fn forget_old(&mut self) {
        if self.entries.len() > MAX_ENTRIES {
            for _ in 0..MAX_ENTRIES / 2 {
                if let Some(entry) = self.entries.pop_front() {
                    self.positions.remove(&entry.hash);
                    self.start += 1;
                }
            }
        }
        while self.snapshot_order.len() > MAX_SNAPSHOTS
            || self
                .snapshot_order
                .front()
                .is_some_and(|s| self.snapshots.get(s).is_some_and(|&p| p < self.start))
        {
            if let Some(old) = self.snapshot_order.pop_front() {
                self.snapshots.remove(&old);
            }
        }
    }

    /// A position whose whole state is among `heads` and their ancestors, if the log knows one.
    /// `heads` must be sorted.
    pub(crate) fn covered(&self, heads: &[ChangeHash]) -> Option<u64> {
        let mut covered = self.snapshots.get(heads).copied();
        for hash in heads {
            if let Some((_, entry)) = self.get(hash) {
                covered = covered.max(entry.covers);
            }
        }
        covered
    }

    /// The position of `heads` (sorted) if the document had exactly these heads at a refresh:
    /// everything the document held then is they and their ancestors.
    pub(crate) fn snapshot(&self, heads: &[ChangeHash]) -> Option<u64> {
        self.snapshots.get(heads).copied()
    }

    /// Visits `heads` and their ancestors, each once, following dependencies only from the
    /// changes at `floor` or after it (so the walk stays among the log's newest), until
    /// `visit` returns false. Heads the log lacks are visited, not followed.
    pub(crate) fn walk(
        &self,
        heads: &[ChangeHash],
        floor: u64,
        mut visit: impl FnMut(&ChangeHash) -> bool,
    ) {
        let mut stack: Vec<&ChangeHash> = heads.iter().collect();
        let mut visited = HashSet::new();
        while let Some(hash) = stack.pop() {
            if !visited.insert(*hash) {
                continue;
            }
            if !visit(hash) {
                return;
            }
            if let Some((position, entry)) = self.get(hash)
                && position >= floor
            {
                stack.extend(&entry.deps);
            }
        }
    }

    /// The changes of the document (as of the last refresh) that are neither `base` nor their
    /// ancestors, in causal order, as automerge's `get_changes_meta(base)` finds them; `None`
    /// when the log cannot tell (`base` does not reach up to its oldest entry). `base` must be
    /// changes the document has, sorted, none twice.
    pub(crate) fn since(&self, base: &[ChangeHash]) -> Option<Vec<&Entry>> {
        // A hash older than the log has no ancestor in it: it adds nothing to the walk below.
        let from = self.covered(base).filter(|&p| p >= self.start)?;
        // `base` and its ancestors among the entries from `from` on.
        let mut ancestors = HashSet::new();
        self.walk(base, from, |hash| {
            ancestors.insert(*hash);
            true
        });
        Some(
            self.entries
                .range((from - self.start) as usize..)
                .filter(|e| !ancestors.contains(&e.hash))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::test_support::put;

    /// What automerge says came after `base`, in its order.
    fn expected(doc: &Automerge, base: &[ChangeHash]) -> Vec<ChangeHash> {
        doc.get_changes_meta(base)
            .into_iter()
            .map(|m| m.hash)
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Whatever three writers do and whenever the server's log looks, the log lists exactly
        /// what automerge lists (in automerge's order) after any heads the server or a writer
        /// ever had, whenever it answers at all.
        #[test]
        fn since_matches_automerge(steps in proptest::collection::vec((0..4usize, 0..4usize), 1..60)) {
            let mut server = Automerge::new();
            put(&mut server, "start", 0);
            let mut log = ChangeLog::default();
            log.refresh(&server, &server.get_heads());
            let mut writers: Vec<Automerge> = (0..3).map(|_| server.fork()).collect();
            let mut bases: Vec<Vec<ChangeHash>> = vec![server.get_heads()];
            for (n, (action, who)) in steps.into_iter().enumerate() {
                match (action, who) {
                    // A writer edits.
                    (0, w) if w < 3 => put(&mut writers[w], &format!("w{w}"), n as u64),
                    // A writer's changes reach the server.
                    (1, w) if w < 3 => {
                        server.merge(&mut writers[w].clone()).unwrap();
                        if n % 2 == 0 {
                            log.refresh(&server, &server.get_heads());
                        }
                    }
                    // A writer catches up with the server.
                    (2, w) if w < 3 => {
                        writers[w].merge(&mut server.clone()).unwrap();
                    }
                    // The server looks (the log refreshes) and edits.
                    _ => {
                        log.refresh(&server, &server.get_heads());
                        put(&mut server, "s", n as u64);
                    }
                }
                bases.push(server.get_heads());
                for writer in &writers {
                    let heads = writer.get_heads();
                    if heads.iter().all(|h| server.get_change_by_hash(h).is_some()) {
                        bases.push(heads);
                    }
                }
            }
            log.refresh(&server, &server.get_heads());
            let mut answered = 0;
            for base in &bases {
                let mut base = base.clone();
                base.sort_unstable();
                base.dedup();
                let Some(entries) = log.since(&base) else { continue };
                answered += 1;
                let got: Vec<ChangeHash> = entries.iter().map(|e| e.hash).collect();
                prop_assert_eq!(got, expected(&server, &base));
            }
            // The server's own heads are always answered.
            prop_assert!(answered >= 1);
            prop_assert!(log.since(&server.get_heads()).is_some_and(|e| e.is_empty()));
        }
    }

    #[test]
    fn a_roll_back_starts_the_log_over() {
        let mut doc = Automerge::new();
        put(&mut doc, "a", 1);
        let mut log = ChangeLog::default();
        log.refresh(&doc, &doc.get_heads());
        let kept = doc.get_heads();
        put(&mut doc, "b", 2);
        log.refresh(&doc, &doc.get_heads());
        let lost = doc.get_heads()[0];
        assert!(log.contains(&lost));
        let rolled_back = doc.fork_at(&kept).unwrap();
        log.refresh(&rolled_back, &rolled_back.get_heads());
        assert!(!log.contains(&lost), "the change it lost is forgotten");
        assert_eq!(log.since(&kept).map(|e| e.len()), Some(0));
    }
}
