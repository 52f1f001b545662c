//! Taking the changes of a batch's messages in with one automerge call.

use std::collections::{HashMap, HashSet};

use automerge::{Change, ChangeHash, ReadDoc};
use sync::DocMessage;

use super::state::DocState;
use crate::{
    peer::{ConnId, DocCommand},
    validate::{Access, Incoming, Principal},
};

impl DocState {
    /// Applies the changes that the batch's sync messages bring in one automerge call, and has
    /// the validator judge each message's on their own; returns, for each command, whether
    /// its changes were applied here (the rest take the one-message-at-a-time path of
    /// [`DocState::receive`]). automerge's cost per call grows with the document and its number
    /// of actors, not with the changes applied: on a document with 1,000 writers, applying 50
    /// edits one by one took 1 ms each, together 0.12 ms each (docs/performance.md).
    ///
    /// The outcome is the one-by-one path's: each message is judged in the state after the
    /// messages before it (read at those heads, computed from the changes' dependencies), with
    /// only its own changes. Left to the one-by-one path are messages of peers that may not
    /// read the document, a new document's first changes, messages holding anything but whole
    /// changes or changes whose dependencies the document lacks, messages whose changes an
    /// earlier message of the same peer in the batch named as its heads, the later messages
    /// with changes of a peer once one of its is left, and every batch while automerge holds
    /// back changes whose dependencies it lacks. If automerge or the validator refuses anything,
    /// the document is put back and the whole batch takes that path, which refuses precisely.
    pub(super) fn apply_together(&mut self, commands: &[DocCommand]) -> Vec<bool> {
        let mut applied = vec![false; commands.len()];
        // automerge holds back changes whose dependencies it lacks, and applies them with the
        // next changes it takes: then more than the group would be applied, and putting the
        // document back (`fork_at`) would drop what it holds.
        let holding_back = !self.doc.get_missing_deps(&[]).is_empty();
        if self.broken || self.heads.is_empty() || holding_back {
            return applied;
        }
        self.fan_out.prepare(&self.doc);
        let mut group: Vec<(usize, Vec<Change>)> = Vec::new();
        let mut in_group: HashSet<ChangeHash> = HashSet::new();
        // Per peer: the heads its earlier messages in the batch named, or `None` once one of
        // its messages with changes is left to the one-by-one path (its later ones are too,
        // so that its changes are taken in in order).
        let mut named: HashMap<ConnId, Option<HashSet<ChangeHash>>> = HashMap::new();
        for (i, command) in commands.iter().enumerate() {
            let DocCommand::Message {
                from,
                message: DocMessage::Sync(data),
            } = command
            else {
                continue;
            };
            let Ok(message) = automerge::sync::Message::decode(data) else {
                continue;
            };
            let earlier = named
                .entry(from.conn)
                .or_insert_with(|| Some(HashSet::new()));
            let Some(earlier_heads) = earlier else {
                continue;
            };
            if !message.changes.is_empty() {
                // A peer announces its new heads before it sends their changes. An earlier
                // message naming these changes, taken in after them, would read as "the peer
                // has all we have", and the peer would never hear that its changes arrived.
                let new = self
                    .new_changes(&message, &from.principal, &in_group)
                    .filter(|new| !new.iter().any(|c| earlier_heads.contains(&c.hash())));
                match new {
                    Some(new) if !new.is_empty() => {
                        in_group.extend(new.iter().map(Change::hash));
                        group.push((i, new));
                    }
                    Some(_) => {}
                    None => {
                        *earlier = None;
                        continue;
                    }
                }
            }
            earlier_heads.extend(message.heads);
        }
        if group.is_empty() {
            return applied;
        }

        let before = self.heads.clone();
        let all: Vec<Change> = group.iter().flat_map(|(_, c)| c.iter().cloned()).collect();
        if let Err(error) = self.doc.apply_changes(all) {
            tracing::debug!(doc = %self.id, "applying a batch together failed: {error}");
            self.roll_back(&before);
            return applied;
        }
        // Each message's heads, as if the messages were applied one by one.
        let mut heads = before.clone();
        for (i, changes) in &group {
            let DocCommand::Message { from, .. } = &commands[*i] else {
                unreachable!("only messages are grouped");
            };
            let message_before = heads.clone();
            for change in changes {
                heads.retain(|h| !change.deps().contains(h));
                heads.push(change.hash());
            }
            heads.sort_unstable();
            let verdict = self.validator.validate(&Incoming {
                document_id: self.id,
                peer: &from.peer,
                principal: &from.principal,
                before: &message_before,
                after: &heads,
                doc: &self.doc,
                sent: Some(changes),
            });
            if verdict.is_err() {
                self.roll_back(&before);
                return applied;
            }
        }
        let doc_heads = self.doc.get_heads();
        if heads != doc_heads {
            // automerge held some back after all: take the safe path.
            tracing::warn!(doc = %self.id, "a batch applied together left unexpected heads");
            self.roll_back(&before);
            return applied;
        }
        self.heads = doc_heads;
        let changes: Vec<Change> = group
            .into_iter()
            .flat_map(|(i, changes)| {
                applied[i] = true;
                changes
            })
            .collect();
        self.fan_out.applied(&self.doc, &before, &changes);
        applied
    }

    /// The changes in a peer's sync message that the document lacks (none in `in_group`, each
    /// with its dependencies in the document or in `in_group`), if the message may take part
    /// in [`DocState::apply_together`].
    fn new_changes(
        &self,
        message: &automerge::sync::Message,
        principal: &Principal,
        in_group: &HashSet<ChangeHash>,
    ) -> Option<Vec<Change>> {
        if self.validator.access(self.id, &self.doc, principal) != Access::Read {
            return None;
        }
        let mut new: Vec<Change> = Vec::new();
        for change in sync::split_changes(&message.changes)? {
            let hash = change.hash();
            let known = |h: &ChangeHash| {
                in_group.contains(h)
                    || new.iter().any(|c| c.hash() == *h)
                    || self.fan_out.has_change(&self.doc, h)
            };
            if known(&hash) {
                continue;
            }
            if !change.deps().iter().all(known) {
                return None;
            }
            new.push(change);
        }
        Some(new)
    }
}
