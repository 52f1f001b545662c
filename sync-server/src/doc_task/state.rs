//! The document's state machine: everything a document's task decides, with no I/O.
//!
//! [`DocState::handle`] takes the time and one [`Input`] and returns the [`Effect`]s the driver
//! carries out in order. Storage is asked for through effects ([`Effect::LoadSyncStates`],
//! [`Effect::Save`]) whose results come back as inputs ([`Input::SyncStates`],
//! [`Input::Stored`]); until a batch's [`Input::Stored`] arrives, nothing the batch produced
//! for its peers is released (the rule "durable before ack" is kept here, not by the driver).
//! Messages to peers leave as [`Effect::Send`].

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Instant,
};

use automerge::{Automerge, ChangeHash, transaction::CommitOptions};
use sync::{DocSync, DocumentId, FanOut, StorageId, Timestamp};

use super::{
    effects::{Effect, Input, LocalDone, Now, StoredSyncState},
    pacing::{MERGE_AT_HEADS, fan_out_interval},
    peers::{Peer, Writer, lasting_storage_id},
};
use crate::{
    peer::{ConnId, DocCommand, Outbound, PeerLink},
    validate::{Access, ChangeValidator},
};

/// What one batch produced, released once its changes are durable.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) outgoing: Vec<(ConnId, Outbound)>,
    pub(super) changed: bool,
    /// A peer's message awaits its answer from the fan-out.
    pub(super) owed: bool,
    /// Peers owed an answer at the end of the batch (after its merge change, if any).
    pub(super) reply_due: Vec<ConnId>,
    /// The answers to the server's own changes.
    local_done: Vec<(LocalDone, Result<bool, String>)>,
    /// Departed peers' sync states, kept by storage id.
    leaving: Vec<(String, Vec<u8>)>,
    /// Messages sent at once, not held back until the batch is stored: they reflect no
    /// change (`doc-unavailable`, and the `error` that ends a peer).
    pub(super) direct: Vec<Effect>,
}

impl Batch {
    /// Sends `message` to `conn` at once (see [`Batch::direct`]).
    pub(super) fn send_now(&mut self, conn: ConnId, message: Outbound) {
        self.direct.push(Effect::Send { conn, message });
    }
}

/// Where the batch being handled is.
enum Pending {
    Idle,
    /// Waiting for the sync states of its new peers.
    Resuming(Vec<DocCommand>),
    /// Waiting for its changes to be stored.
    Storing(Batch),
}

/// One document in memory and every peer's sync with it.
pub(crate) struct DocState {
    pub(super) id: DocumentId,
    pub(super) validator: Arc<dyn ChangeValidator>,
    /// The server's storage id, under which it gossips its heads of the document.
    pub(super) storage_id: StorageId,
    pub(super) doc: Automerge,
    /// `doc`'s heads (automerge sorts them anew on every `get_heads`: with many concurrent
    /// heads that is not cheap).
    pub(super) heads: Vec<ChangeHash>,
    /// The heads of what is durable.
    pub(super) saved_heads: Vec<ChangeHash>,
    /// The heads last gossiped to the peers subscribed to the server's storage id.
    pub(super) gossiped_heads: Vec<ChangeHash>,
    /// The document could not be loaded from storage: answer `doc-unavailable`, store nothing.
    pub(super) broken: bool,
    /// The peers that read the document.
    pub(super) peers: HashMap<ConnId, Peer>,
    /// The peers that may add to it without reading it ([`Access::WriteOnly`]).
    pub(super) writers: HashMap<ConnId, Writer>,
    /// Every connection that sent the document a message and has not left: where
    /// [`Effect::Send`] goes (kept apart from `peers`, which a batch may leave before its
    /// messages are delivered).
    links: HashMap<ConnId, PeerLink>,
    /// Connections that left during the last batch: forgotten once the effects of that batch
    /// are carried out (a message the batch sent them before they left still goes out).
    departed: Vec<ConnId>,
    /// The work the peers' sync messages share.
    pub(super) fan_out: FanOut,
    /// Changes are stored but not yet sent to the peers that did not send them (or a peer
    /// was left behind by the last fan-out).
    pub(super) fan_out_due: bool,
    pub(super) last_fan_out: Instant,
    pending: Pending,
}

impl DocState {
    /// A document as loaded from storage: `Ok(None)` if storage has none, `Err` if it could
    /// not be loaded (then it is served to nobody and nothing is stored).
    pub(crate) fn new(
        id: DocumentId,
        validator: Arc<dyn ChangeValidator>,
        storage_id: StorageId,
        loaded: Result<Option<Automerge>, String>,
        now: Now,
    ) -> Self {
        let (doc, broken) = match loaded {
            Ok(doc) => (doc.unwrap_or_default(), false),
            Err(_) => (Automerge::new(), true),
        };
        let heads = doc.get_heads();
        Self {
            id,
            validator,
            storage_id,
            doc,
            saved_heads: heads.clone(),
            gossiped_heads: heads.clone(),
            heads,
            broken,
            peers: HashMap::new(),
            writers: HashMap::new(),
            links: HashMap::new(),
            departed: Vec::new(),
            fan_out: FanOut::new(),
            fan_out_due: false,
            last_fan_out: now.instant,
            pending: Pending::Idle,
        }
    }

    /// The document in memory (what [`Effect::Save`] and [`Effect::Compact`] store).
    pub(crate) fn doc(&self) -> &Automerge {
        &self.doc
    }

    /// The heads of what is durable.
    pub(crate) fn saved_heads(&self) -> &[ChangeHash] {
        &self.saved_heads
    }

    /// The connection `conn`, while it has not left.
    pub(crate) fn link(&self, conn: ConnId) -> Option<&PeerLink> {
        self.links.get(&conn)
    }

    /// Whether no peer reads or writes the document (it may unload).
    pub(crate) fn has_no_peers(&self) -> bool {
        self.peers.is_empty()
    }

    /// When the next fan-out is due, if one is: [`Input::Tick`] then.
    pub(crate) fn next_fan_out(&self) -> Option<Instant> {
        self.fan_out_due
            .then(|| self.last_fan_out + fan_out_interval(self.peers.len()))
    }

    /// The one entry point.
    pub(crate) fn handle(&mut self, now: Now, input: Input) -> Vec<Effect> {
        let mut effects = Vec::new();
        if matches!(input, Input::Commands(_) | Input::Tick) {
            // The previous batch's effects are carried out.
            for conn in self.departed.drain(..) {
                self.links.remove(&conn);
            }
        }
        match input {
            Input::Commands(commands) => self.begin_batch(now, commands, &mut effects),
            Input::SyncStates(states) => {
                let Pending::Resuming(commands) =
                    std::mem::replace(&mut self.pending, Pending::Idle)
                else {
                    debug_assert!(false, "sync states without a batch waiting for them");
                    return effects;
                };
                self.resume(states);
                self.apply_batch(now, commands, &mut effects);
            }
            Input::Stored(outcome) => {
                let Pending::Storing(batch) = std::mem::replace(&mut self.pending, Pending::Idle)
                else {
                    debug_assert!(false, "a storage outcome without a batch waiting for it");
                    return effects;
                };
                self.finish_batch(now, batch, outcome, &mut effects);
            }
            Input::Tick => {
                // Only between batches, when everything in the document is stored.
                if matches!(self.pending, Pending::Idle) {
                    self.fan_out_if_due(now, &mut effects);
                }
            }
            Input::Unreachable(conn) => {
                self.links.remove(&conn);
                self.peers.remove(&conn);
                self.writers.remove(&conn);
            }
        }
        effects
    }

    /// Takes a batch in: first the sync states stored for its new peers, if any must be loaded.
    fn begin_batch(&mut self, now: Now, commands: Vec<DocCommand>, effects: &mut Vec<Effect>) {
        let mut load = Vec::new();
        let mut seen = HashSet::new();
        for command in &commands {
            let DocCommand::Message { from, .. } = command else {
                continue;
            };
            // A connection's link never changes: clone it once, not per message.
            self.links.entry(from.conn).or_insert_with(|| from.clone());
            if self.broken || self.peers.contains_key(&from.conn) || !seen.insert(from.conn) {
                continue;
            }
            match lasting_storage_id(from) {
                Some(storage_id) => load.push((from.conn, storage_id.to_owned())),
                None => {
                    self.peers
                        .insert(from.conn, Peer::new(from.clone(), DocSync::new()));
                }
            }
        }
        if load.is_empty() {
            self.apply_batch(now, commands, effects);
        } else {
            self.pending = Pending::Resuming(commands);
            effects.push(Effect::LoadSyncStates(load));
        }
    }

    /// Starts the sync of each new peer from the sync state stored for its storage id.
    fn resume(&mut self, states: Vec<(ConnId, StoredSyncState)>) {
        for (conn, state) in states {
            let Some(link) = self.links.get(&conn) else {
                continue;
            };
            let sync = match state {
                Ok(Some(state)) => DocSync::with_state(&state).unwrap_or_else(|error| {
                    tracing::warn!(doc = %self.id, "ignoring a stored sync state: {error}");
                    DocSync::new()
                }),
                Ok(None) => DocSync::new(),
                Err(error) => {
                    tracing::warn!(doc = %self.id, "loading a peer's sync state failed: {error}");
                    DocSync::new()
                }
            };
            self.peers.insert(conn, Peer::new(link.clone(), sync));
        }
    }

    /// Applies a batch and answers it; asks for it to be stored first if it changed the
    /// document. With a fan-out due (or once the batch changed the document), replies that
    /// would only pass on changes are left to the fan-out.
    fn apply_batch(&mut self, now: Now, commands: Vec<DocCommand>, effects: &mut Vec<Effect>) {
        let fan_out_due = self.fan_out_due;
        let now_wall = now.wall;
        let mut batch = Batch::default();
        let applied = self.apply_together(&commands);
        batch.changed = applied.contains(&true);
        for (command, applied) in commands.into_iter().zip(applied) {
            match command {
                DocCommand::Message { from, message } => {
                    // With a fan-out due (or coming: the batch changed the document), an
                    // acknowledgement is answered by it.
                    let defer_reply = fan_out_due || batch.changed;
                    self.receive(now_wall, from, message, defer_reply, applied, &mut batch);
                }
                DocCommand::Ephemeral {
                    from,
                    session_id,
                    count,
                    data,
                } => {
                    // Only readers take part in a document's ephemeral messages.
                    let from_reader = self.peers.contains_key(&from);
                    for &conn in self.peers.keys().filter(|&&c| c != from && from_reader) {
                        batch.outgoing.push((
                            conn,
                            Outbound::Ephemeral {
                                document_id: self.id,
                                session_id: session_id.clone(),
                                count,
                                data: data.clone(),
                            },
                        ));
                    }
                }
                DocCommand::Subscribed { conn, add } => {
                    self.known_heads(now_wall, conn, &add, &mut batch);
                }
                DocCommand::Local { change, done } => {
                    let result = if self.broken {
                        Err("the document could not be loaded".to_owned())
                    } else {
                        change(&mut self.doc)
                    };
                    if matches!(result, Ok(true)) {
                        batch.changed = true;
                        // The state keeps the heads rather than asking automerge per message.
                        self.heads = self.doc.get_heads();
                    }
                    batch.local_done.push((done, result));
                }
                DocCommand::Leave { conn } => {
                    self.departed.push(conn);
                    self.writers.remove(&conn);
                    // Kept only for a reader of a document that exists: a peer that asks for
                    // documents nobody has must not leave a row behind for each.
                    if let Some(peer) = self.peers.remove(&conn)
                        && let Some(storage_id) = lasting_storage_id(&peer.link)
                        && !self.heads.is_empty()
                        && self
                            .validator
                            .access(self.id, &self.doc, &peer.link.principal)
                            == Access::Read
                    {
                        batch
                            .leaving
                            .push((storage_id.to_owned(), peer.sync.encode_state()));
                    }
                }
            }
        }

        if batch.changed {
            self.merge_heads(now_wall);
        }
        self.answer(&mut batch, now_wall);
        effects.append(&mut batch.direct);

        if batch.changed {
            // Durable first: every message of the batch advertises the new heads.
            self.pending = Pending::Storing(batch);
            effects.push(Effect::Save);
        } else {
            self.finish_batch(now, batch, Ok(false), effects);
        }
    }

    /// Releases what the batch produced, now that its changes are durable (or refuses it all
    /// if storing failed); then fans out if one is due and its time has come.
    fn finish_batch(
        &mut self,
        now: Now,
        batch: Batch,
        stored: Result<bool, String>,
        effects: &mut Vec<Effect>,
    ) {
        let compaction_due = match stored {
            Ok(compaction_due) => compaction_due,
            Err(error) => {
                effects.extend(self.storage_failed(&error));
                for (done, _) in batch.local_done {
                    effects.push(Effect::AnswerLocal {
                        done,
                        result: Err(format!("storing failed: {error}")),
                    });
                }
                self.fan_out_if_due(now, effects);
                return;
            }
        };
        if batch.changed {
            self.saved_heads = self.heads.clone();
        }
        for (done, result) in batch.local_done {
            effects.push(Effect::AnswerLocal { done, result });
        }
        self.deliver(batch.outgoing, effects);
        if batch.changed {
            self.drop_non_readers();
        }
        if compaction_due {
            effects.push(Effect::Compact);
        }
        // Remember what peers that come back already have, so they are not sent it again.
        for (storage_id, state) in batch.leaving {
            effects.push(Effect::SaveSyncState { storage_id, state });
        }
        self.fan_out_due |= batch.changed || batch.owed;
        // Checked after every batch too: a queue that is never empty must not starve the timer.
        self.fan_out_if_due(now, effects);
    }

    fn fan_out_if_due(&mut self, now: Now, effects: &mut Vec<Effect>) {
        if self
            .next_fan_out()
            .is_some_and(|next_fan_out| now.instant >= next_fan_out)
        {
            self.fan_out_due = self.fan_out(now.wall, effects);
            self.last_fan_out = now.instant;
        }
    }

    /// Ties the document's heads together with an empty change of the server's (automerge's
    /// "merge commit") when a batch leaves many of them. A change depends on every head its
    /// author's copy has: N residents editing one document at once give each of their next
    /// changes about N dependencies of 32 bytes, which every one of the N peers is sent, so
    /// without merges the sync traffic of a busy document grows with N³ (docs/performance.md).
    /// After a merge, a peer that has it builds its next change on the merge alone. The merge
    /// is stored with the batch, so it is durable before anything advertises it, and the
    /// batch's answers are given after it ([`DocState::answer`]), so they carry it.
    ///
    /// The server's actor is the document's own (random per load): it never makes any other
    /// change, so its sequence numbers cannot collide with another load's.
    pub(super) fn merge_heads(&mut self, now: Timestamp) {
        if self.broken || self.heads.len() < MERGE_AT_HEADS {
            return;
        }
        let time = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
        self.doc
            .empty_commit(CommitOptions::default().with_time(time));
        self.heads = self.doc.get_heads();
    }

    /// After a change: peers that may no longer (or never could) read the document stop
    /// hearing of it (a requester of a document that was missing when it asked, a participant
    /// who left a conversation, the creator of someone else's inbox).
    fn drop_non_readers(&mut self) {
        let (validator, id, doc) = (&self.validator, self.id, &self.doc);
        self.peers
            .retain(|_, peer| validator.access(id, doc, &peer.link.principal) == Access::Read);
    }

    /// Puts the document back to `heads` (changes after them were never stored or sent).
    pub(super) fn roll_back(&mut self, heads: &[ChangeHash]) {
        match self.doc.fork_at(heads) {
            Ok(doc) => {
                self.doc = doc;
                self.heads = self.doc.get_heads();
            }
            Err(error) => {
                // Cannot happen for heads the document had; refuse to serve a copy we cannot
                // vouch for rather than pass the refused changes on.
                tracing::error!(doc = %self.id, "cannot roll back: {error}");
                self.broken = true;
            }
        }
    }

    /// Drops the peer's sync and tells its connection to fail (at once: it reflects no
    /// change).
    pub(super) fn fail_peer(&mut self, conn: ConnId, reason: String, batch: &mut Batch) {
        // Replies already queued for it in this batch are moot.
        batch.outgoing.retain(|(c, _)| *c != conn);
        if self.peers.remove(&conn).is_some() {
            batch.send_now(conn, Outbound::Fail { reason });
        }
    }

    /// [`DocState::fail_peer`] for a peer that writes without reading.
    pub(super) fn fail_writer(&mut self, conn: ConnId, reason: String, batch: &mut Batch) {
        batch.outgoing.retain(|(c, _)| *c != conn);
        if self.writers.remove(&conn).is_some() {
            batch.send_now(conn, Outbound::Fail { reason });
        }
    }

    /// The batch's changes could not be stored: nothing acknowledges them. Roll the document
    /// back to what is durable and disconnect every peer, which resync (and resend their
    /// changes) when they return.
    fn storage_failed(&mut self, error: &str) -> Vec<Effect> {
        tracing::error!(doc = %self.id, "storing changes failed: {error}");
        let saved = self.saved_heads.clone();
        self.roll_back(&saved);
        let conns: Vec<ConnId> = self
            .peers
            .drain()
            .map(|(conn, _)| conn)
            .chain(self.writers.drain().map(|(conn, _)| conn))
            .collect();
        conns
            .into_iter()
            .map(|conn| Effect::Send {
                conn,
                message: Outbound::Fail {
                    reason: "the server could not store the document".into(),
                },
            })
            .collect()
    }

    /// Sends each message, if its connection still reads or writes the document.
    pub(super) fn deliver(&self, outgoing: Vec<(ConnId, Outbound)>, effects: &mut Vec<Effect>) {
        effects.extend(
            outgoing
                .into_iter()
                .filter(|(conn, _)| {
                    self.peers.contains_key(conn) || self.writers.contains_key(conn)
                })
                .map(|(conn, message)| Effect::Send { conn, message }),
        );
    }
}
