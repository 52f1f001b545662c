//! One document's task: it owns the document in memory and every peer's sync with it.
//!
//! It takes the messages waiting in its queue as one batch, applies them, asks the validator
//! about new changes, makes the batch's changes durable with one storage write, and only then
//! sends anything. Nothing that reflects a change leaves the server before the change is on
//! disk.
//!
//! The fan-out is the round that sends each peer what it lacks; it also answers the peers'
//! acknowledgements and edits that arrive while it is due (other messages, and requests, are
//! answered at the end of their batch, after its merge change if it made one, once the batch
//! is stored). A batch that leaves the document with many heads ends with an empty merge
//! change, so that concurrent editors build on it rather than on each other's heads. The
//! fan-out is paced: a document fans out
//! at most once per [`fan_out_interval`] (which grows with its number of peers, up to
//! [`MAX_FAN_OUT_INTERVAL`]), so a burst of edits reaches each peer as one message and a
//! document's fan-out work per second stays bounded however often it is edited; an edit after
//! a quiet spell goes out at once. A round's messages are built from work shared by all
//! peers ([`sync::FanOut`]: changes encoded once, peers in the same state share one encoded
//! message); peers in unusual states get automerge's own. A peer whose connection has not yet
//! written what it was last queued is skipped and caught up by a later round with one message
//! (latest state, not a queue of fan-outs), so a slow reader costs at most one message.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use automerge::{Automerge, Change, ChangeHash, ReadDoc, transaction::CommitOptions};
use sync::{
    DocEvent, DocInput, DocMessage, DocSync, DocumentId, FanOut, FannedOut, StorageId, Timestamp,
};
use tokio::{
    sync::mpsc::{self, error::TrySendError},
    time::Instant,
};

use crate::{
    hub::{ConnId, DocCommand, Hub, Outbound, PeerLink},
    shutdown::{Shutdown, TaskGuard},
    storage::DocumentStore,
    validate::{Access, ChangeValidator, Incoming},
};

/// At most this many queued messages are handled (and stored) as one batch.
const MAX_BATCH: usize = 256;
/// The pause between two fan-outs of one document, per peer it has: about what generating
/// and queueing one peer's sync message costs, so fan-outs take at most about half the
/// document's time.
const FAN_OUT_INTERVAL_PER_PEER: Duration = Duration::from_micros(100);
/// The longest pause between two fan-outs (what an edit may wait for before it is sent on).
const MAX_FAN_OUT_INTERVAL: Duration = Duration::from_millis(100);

/// How long after a fan-out the next may start, for a document with `peers` peers.
fn fan_out_interval(peers: usize) -> Duration {
    FAN_OUT_INTERVAL_PER_PEER
        .saturating_mul(u32::try_from(peers).unwrap_or(u32::MAX))
        .min(MAX_FAN_OUT_INTERVAL)
}
/// A batch that leaves the document with this many heads or more ends with a merge change
/// ([`DocTask::merge_heads`]). Fewer are left alone: two residents editing at once is ordinary
/// and costs their next changes a dependency or two.
const MERGE_AT_HEADS: usize = 4;
/// While the server stops, how often a document without peers checks whether it may unload.
const SHUTDOWN_POLL: Duration = Duration::from_millis(20);

pub(crate) struct DocTask {
    id: DocumentId,
    generation: u64,
    hub: Hub,
    store: DocumentStore,
    validator: Arc<dyn ChangeValidator>,
    /// The server's storage id, under which it gossips its heads of the document.
    storage_id: StorageId,
    doc: Automerge,
    /// `doc`'s heads (automerge sorts them anew on every `get_heads`: with many concurrent
    /// heads that is not cheap).
    heads: Vec<ChangeHash>,
    /// The heads of what is durable.
    saved_heads: Vec<ChangeHash>,
    /// The heads last gossiped to the peers subscribed to the server's storage id.
    gossiped_heads: Vec<ChangeHash>,
    /// The document could not be loaded from storage: answer `doc-unavailable`, store nothing.
    broken: bool,
    /// The peers that read the document.
    peers: HashMap<ConnId, Peer>,
    /// The peers that may add to it without reading it ([`Access::WriteOnly`]).
    writers: HashMap<ConnId, Writer>,
    /// The work the peers' sync messages share.
    fan_out: FanOut,
}

/// A peer that adds to the document without reading it: it syncs with `view`, which holds
/// only the document's first changes and what it sent, never what others wrote.
struct Writer {
    link: PeerLink,
    sync: DocSync,
    view: Automerge,
}

struct Peer {
    link: PeerLink,
    sync: DocSync,
    /// The heads the peer last said it has, and when (for heads gossip about its storage).
    heads: Option<(Vec<ChangeHash>, Timestamp)>,
    /// Its message was applied without an answer: the next fan-out answers it.
    owed_reply: bool,
    /// ... and that message brought changes: answered before its next message is applied.
    owed_change_answer: bool,
}

impl Peer {
    fn new(link: PeerLink, sync: DocSync) -> Self {
        Self {
            link,
            sync,
            heads: None,
            owed_reply: false,
            owed_change_answer: false,
        }
    }
}

/// The storage id under which a peer's sync state is kept between its connections: it must
/// announce one and not be ephemeral (it keeps the document after disconnecting).
fn lasting_storage_id(link: &PeerLink) -> Option<&str> {
    let metadata = &link.peer.metadata;
    match &metadata.storage_id {
        Some(id) if !metadata.is_ephemeral => Some(id.as_str()),
        _ => None,
    }
}

/// What one batch produced, sent once its changes are durable.
#[derive(Default)]
struct Batch {
    outgoing: Vec<(ConnId, Outbound)>,
    changed: bool,
    /// A peer's message awaits its answer from the fan-out.
    owed: bool,
    /// Peers owed an answer at the end of the batch (after its merge change, if any).
    reply_due: Vec<ConnId>,
}

pub(crate) fn spawn(
    task: DocTask,
    commands: mpsc::Receiver<DocCommand>,
    guard: TaskGuard,
    shutdown: Shutdown,
    unload_after: Duration,
) {
    tokio::spawn(async move {
        let id = task.id;
        task.run(commands, shutdown, unload_after).await;
        tracing::debug!(doc = %id, "document unloaded");
        drop(guard);
    });
}

impl DocTask {
    pub(crate) fn new(
        id: DocumentId,
        generation: u64,
        hub: Hub,
        store: DocumentStore,
        validator: Arc<dyn ChangeValidator>,
        storage_id: StorageId,
    ) -> Self {
        Self {
            id,
            generation,
            hub,
            store,
            validator,
            storage_id,
            doc: Automerge::new(),
            heads: Vec::new(),
            saved_heads: Vec::new(),
            gossiped_heads: Vec::new(),
            broken: false,
            peers: HashMap::new(),
            writers: HashMap::new(),
            fan_out: FanOut::new(),
        }
    }

    async fn run(
        mut self,
        mut commands: mpsc::Receiver<DocCommand>,
        mut shutdown: Shutdown,
        unload_after: Duration,
    ) {
        // A corrupt chunk is left out (and left in storage: it is never deleted, so it stays
        // for inspection); the document is served from its other chunks, and peers that have
        // the lost changes send them again.
        match self.store.load_document_skipping_corrupt(self.id).await {
            Ok(Some(salvaged)) => self.doc = salvaged.doc,
            Ok(None) => {}
            Err(error) => {
                tracing::error!(doc = %self.id, "cannot load document: {error}");
                self.broken = true;
            }
        }
        self.heads = self.doc.get_heads();
        self.saved_heads = self.heads.clone();
        self.gossiped_heads = self.saved_heads.clone();
        let mut idle_since = Instant::now();
        // Changes are stored but not yet sent to the peers that did not send them.
        let mut fan_out_due = false;
        let mut last_fan_out = Instant::now();
        loop {
            let next_fan_out = last_fan_out + fan_out_interval(self.peers.len());
            let deadline = if shutdown.is_shutdown() {
                idle_since + SHUTDOWN_POLL
            } else {
                idle_since + unload_after
            };
            tokio::select! {
                command = commands.recv() => {
                    // The hub keeps a sender while the task is registered.
                    let Some(command) = command else { break };
                    let mut batch = vec![command];
                    while batch.len() < MAX_BATCH {
                        match commands.try_recv() {
                            Ok(command) => batch.push(command),
                            Err(_) => break,
                        }
                    }
                    fan_out_due |= self.handle_batch(batch, fan_out_due).await;
                    // Checked here too: a queue that is never empty must not starve the timer.
                    if fan_out_due && Instant::now() >= next_fan_out {
                        fan_out_due = self.fan_out();
                        last_fan_out = Instant::now();
                    }
                    idle_since = Instant::now();
                }
                () = tokio::time::sleep_until(next_fan_out), if fan_out_due => {
                    fan_out_due = self.fan_out();
                    last_fan_out = Instant::now();
                }
                () = tokio::time::sleep_until(deadline), if self.peers.is_empty() => {
                    if self.hub.try_unload(self.id, self.generation, || commands.is_empty()) {
                        break;
                    }
                    idle_since = Instant::now();
                }
                () = shutdown.recv(), if !shutdown.is_shutdown() => {
                    // Re-evaluate the deadline: unload as soon as the peers are gone.
                }
            }
        }
        self.store.forget(self.id);
    }

    /// Applies a batch, stores its changes and answers the senders; returns whether the
    /// document changed (and so a fan-out is due). With `fan_out_due` (or once the batch
    /// changed the document), replies that would only pass on changes are left to the fan-out.
    async fn handle_batch(&mut self, commands: Vec<DocCommand>, fan_out_due: bool) -> bool {
        self.resume_new_peers(&commands).await;
        let now = now();
        let mut batch = Batch::default();
        let applied = self.apply_together(&commands);
        batch.changed = applied.contains(&true);
        let mut leaving = Vec::new();
        let mut local_done = Vec::new();
        for (command, applied) in commands.into_iter().zip(applied) {
            match command {
                DocCommand::Message { from, message } => {
                    // With a fan-out due (or coming: the batch changed the document), an
                    // acknowledgement is answered by it.
                    let defer_reply = fan_out_due || batch.changed;
                    self.receive(now, from, message, defer_reply, applied, &mut batch);
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
                    self.known_heads(now, conn, &add, &mut batch);
                }
                DocCommand::Local { change, done } => {
                    let result = if self.broken {
                        Err("the document could not be loaded".to_owned())
                    } else {
                        change(&mut self.doc)
                    };
                    if matches!(result, Ok(true)) {
                        batch.changed = true;
                        // The task keeps the heads rather than asking automerge per message.
                        self.heads = self.doc.get_heads();
                    }
                    local_done.push((done, result));
                }
                DocCommand::Leave { conn } => {
                    self.writers.remove(&conn);
                    if let Some(peer) = self.peers.remove(&conn)
                        && let Some(storage_id) = lasting_storage_id(&peer.link)
                    {
                        leaving.push((storage_id.to_owned(), peer.sync.encode_state()));
                    }
                }
            }
        }

        if batch.changed {
            self.merge_heads(now);
        }
        self.answer(&mut batch, now);

        let mut compaction_due = false;
        if batch.changed {
            // Durable first: every message below advertises the new heads.
            let save = self
                .store
                .save_incremental(self.id, &self.doc, &self.saved_heads);
            match save.await {
                Ok(saved) => {
                    self.saved_heads = self.heads.clone();
                    compaction_due = saved.compaction_due;
                }
                Err(error) => {
                    self.storage_failed(&error.to_string());
                    for (done, _) in local_done {
                        let _ = done.send(Err(format!("storing failed: {error}")));
                    }
                    return false;
                }
            }
        }
        for (done, result) in local_done {
            let _ = done.send(result);
        }
        self.deliver(batch.outgoing);
        if batch.changed {
            self.drop_non_readers();
        }

        if compaction_due && let Err(error) = self.store.compact(self.id, &self.doc).await {
            // The incremental chunks are still there; compaction is retried next save.
            tracing::warn!(doc = %self.id, "compaction failed: {error}");
        }
        // Remember what peers that come back already have, so they are not sent it again.
        for (storage_id, state) in leaving {
            let saved = self
                .store
                .save_sync_state(self.id, &storage_id, state)
                .await;
            if let Err(error) = saved {
                tracing::warn!(doc = %self.id, "storing a peer's sync state failed: {error}");
            }
        }
        batch.changed || batch.owed
    }

    /// Applies the changes that the batch's sync messages bring in one automerge call, and has
    /// the validator judge each message's on their own; returns, for each command, whether
    /// its changes were applied here (the rest take the one-message-at-a-time path of
    /// [`DocTask::receive`]). automerge's cost per call grows with the document and its number
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
    fn apply_together(&mut self, commands: &[DocCommand]) -> Vec<bool> {
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
    /// in [`DocTask::apply_together`].
    fn new_changes(
        &self,
        message: &automerge::sync::Message,
        principal: &crate::validate::Principal,
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

    /// Ties the document's heads together with an empty change of the server's (automerge's
    /// "merge commit") when a batch leaves many of them. A change depends on every head its
    /// author's copy has: N residents editing one document at once give each of their next
    /// changes about N dependencies of 32 bytes, which every one of the N peers is sent, so
    /// without merges the sync traffic of a busy document grows with N³ (docs/performance.md).
    /// After a merge, a peer that has it builds its next change on the merge alone. The merge
    /// is stored with the batch, so it is durable before anything advertises it, and the
    /// batch's answers are given after it ([`DocTask::answer`]), so they carry it.
    ///
    /// The server's actor is the document task's own (random per load): it never makes any
    /// other change, so its sequence numbers cannot collide with another load's.
    fn merge_heads(&mut self, now: Timestamp) {
        if self.broken || self.heads.len() < MERGE_AT_HEADS {
            return;
        }
        let time = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
        self.doc
            .empty_commit(CommitOptions::default().with_time(time));
        self.heads = self.doc.get_heads();
    }

    /// The answers the batch's messages are owed (in the order the peers sent them), now that
    /// everything in the batch is applied.
    fn answer(&mut self, batch: &mut Batch, now: Timestamp) {
        for conn in std::mem::take(&mut batch.reply_due) {
            self.answer_peer(conn, batch, now);
        }
    }

    /// Gives `conn` the answer its messages are owed, from the work the document's peers share
    /// ([`FanOut`]) where its state allows: automerge's own answer encodes again every change
    /// the peer lacks, once per edit.
    fn answer_peer(&mut self, conn: ConnId, batch: &mut Batch, now: Timestamp) {
        let Some(peer) = self.peers.get_mut(&conn) else {
            return;
        };
        peer.owed_reply = false;
        peer.owed_change_answer = false;
        self.fan_out.prepare(&self.doc);
        let messages = peer.sync.fan_out(now, &mut self.doc, &mut self.fan_out);
        let document_id = self.id;
        batch.outgoing.extend(
            messages
                .into_iter()
                .map(|message| (conn, outbound(document_id, message))),
        );
    }

    /// After a change: peers that may no longer (or never could) read the document stop
    /// hearing of it (a requester of a document that was missing when it asked, a participant
    /// who left a conversation, the creator of someone else's inbox).
    fn drop_non_readers(&mut self) {
        let (validator, id, doc) = (&self.validator, self.id, &self.doc);
        self.peers
            .retain(|_, peer| validator.access(id, doc, &peer.link.principal) == Access::Read);
    }

    /// Starts the sync of each peer that appears in `commands` for the first time, from the
    /// sync state stored for its storage id if it was here before.
    async fn resume_new_peers(&mut self, commands: &[DocCommand]) {
        if self.broken {
            return;
        }
        for command in commands {
            let DocCommand::Message { from, .. } = command else {
                continue;
            };
            if self.peers.contains_key(&from.conn) {
                continue;
            }
            let mut sync = DocSync::new();
            if let Some(storage_id) = lasting_storage_id(from) {
                match self.store.load_sync_state(self.id, storage_id).await {
                    Ok(Some(state)) => match DocSync::with_state(&state) {
                        Ok(resumed) => sync = resumed,
                        Err(error) => {
                            tracing::warn!(doc = %self.id, "ignoring a stored sync state: {error}");
                        }
                    },
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(doc = %self.id, "loading a peer's sync state failed: {error}");
                    }
                }
            }
            self.peers.insert(from.conn, Peer::new(from.clone(), sync));
        }
    }

    /// Sends every peer what it lacks, but those whose connection is still writing what it was
    /// sent before: they are caught up by a later fan-out, with one message. Returns whether
    /// such a peer is left (another fan-out is due). Only called between batches, when
    /// everything in the document is stored.
    fn fan_out(&mut self) -> bool {
        let now = now();
        let heads = self.heads.clone();
        self.fan_out.prepare(&self.doc);
        let mut outgoing = Vec::new();
        let mut left_behind = false;
        let mut served = 0;
        let await_reply_ms =
            u64::try_from(fan_out_interval(self.peers.len()).as_millis() / 2).unwrap_or(u64::MAX);
        for (&conn, peer) in &mut self.peers {
            if !peer.owed_reply && peer.sync.last_sent_heads() == heads.as_slice() {
                // It was sent our heads and asked nothing since.
                continue;
            }
            if !peer.link.drained() {
                left_behind = true;
                continue;
            }
            // A message sent less than half an interval ago waits for its answer (which makes
            // a fan-out due): the next then builds on what the peer acknowledged, and the trim
            // of what was sent it takes its fast path. A peer slower than that is sent the
            // next all the same: holding it back would add a whole interval to its latency.
            if !peer.owed_reply
                && peer
                    .sync
                    .awaiting_reply()
                    .is_some_and(|sent| now.millis_since(sent) < await_reply_ms)
            {
                left_behind = true;
                continue;
            }
            peer.owed_reply = false;
            peer.owed_change_answer = false;
            served += 1;
            let messages = peer.sync.fan_out(now, &mut self.doc, &mut self.fan_out);
            let document_id = self.id;
            outgoing.extend(
                messages
                    .into_iter()
                    .map(|message| (conn, outbound(document_id, message))),
            );
        }
        tracing::debug!(
            doc = %self.id,
            served,
            messages = outgoing.len(),
            encoded = self.fan_out.messages_encoded(),
            left_behind,
            "fan-out"
        );
        if heads != self.gossiped_heads {
            let storage_id = self.storage_id.clone();
            self.gossip(None, &storage_id, &heads, now, &mut outgoing);
            self.gossiped_heads = heads;
        }
        self.deliver(outgoing);
        left_behind
    }

    /// Heads gossip (automerge-repo's remote heads): tells every peer of this document (but
    /// `except`) that subscribed to `storage_id` that it has `heads`.
    fn gossip(
        &self,
        except: Option<ConnId>,
        storage_id: &StorageId,
        heads: &[ChangeHash],
        now: Timestamp,
        outgoing: &mut Vec<(ConnId, Outbound)>,
    ) {
        for (&conn, peer) in &self.peers {
            if Some(conn) != except && peer.link.subscribed_to(storage_id) {
                outgoing.push((conn, self.remote_heads(storage_id, heads, now)));
            }
        }
    }

    /// A peer just subscribed to heads gossip about `storages`: send it what this document
    /// knows of them (its own heads, and those of the connected peers with those storages).
    fn known_heads(&self, now: Timestamp, conn: ConnId, storages: &[StorageId], batch: &mut Batch) {
        if !self.peers.contains_key(&conn) {
            return;
        }
        for storage_id in storages {
            if *storage_id == self.storage_id {
                let heads = self.remote_heads(storage_id, &self.saved_heads, now);
                batch.outgoing.push((conn, heads));
                continue;
            }
            let known = self.peers.values().filter_map(|peer| {
                let (heads, when) = peer.heads.as_ref()?;
                (lasting_storage_id(&peer.link) == Some(storage_id.as_str()))
                    .then(|| self.remote_heads(storage_id, heads, *when))
            });
            batch.outgoing.extend(known.map(|heads| (conn, heads)));
        }
    }

    fn remote_heads(
        &self,
        storage_id: &StorageId,
        heads: &[ChangeHash],
        when: Timestamp,
    ) -> Outbound {
        Outbound::RemoteHeads {
            document_id: self.id,
            storage_id: storage_id.clone(),
            heads: heads.to_vec(),
            timestamp: when,
        }
    }

    /// Applies one peer's message, checking any new changes with the validator.
    fn receive(
        &mut self,
        now: Timestamp,
        from: PeerLink,
        message: DocMessage,
        defer_reply: bool,
        applied: bool,
        batch: &mut Batch,
    ) {
        let conn = from.conn;
        if self.broken {
            // Not a peer of this document: answer directly (there is nothing to store first).
            let unavailable = Outbound::Doc {
                document_id: self.id,
                message: DocMessage::Unavailable,
            };
            send(&from, unavailable);
            return;
        }
        // Who may read it is known once the document has changes (a new one is judged by the
        // validator as it arrives, then `drop_non_readers`).
        if !self.doc.get_heads().is_empty() {
            match self.validator.access(self.id, &self.doc, &from.principal) {
                Access::Read => {
                    self.writers.remove(&conn);
                }
                Access::WriteOnly => {
                    self.peers.remove(&conn);
                    self.receive_write_only(now, from, message, batch);
                    return;
                }
                Access::None => {
                    // Exactly what a document nobody has gets.
                    self.peers.remove(&conn);
                    self.writers.remove(&conn);
                    let unavailable = Outbound::Doc {
                        document_id: self.id,
                        message: DocMessage::Unavailable,
                    };
                    batch.outgoing.retain(|(c, _)| *c != conn);
                    send(&from, unavailable);
                    return;
                }
            }
        }
        // A peer owed the answer to changes it sent (at the end of the batch, or by the
        // fan-out) gets it before its next message is applied: automerge takes a message whose
        // heads equal ours for a sign that the peer has what we advertised, so an answer given
        // after it could advertise nothing, and the peer would never hear its changes arrived.
        // Only then, so that most answers still come from the fan-out's shared work.
        let owed = batch.reply_due.contains(&conn)
            || self.peers.get(&conn).is_some_and(|p| p.owed_change_answer);
        if owed && says_it_has(&message, &self.heads) {
            batch.reply_due.retain(|&c| c != conn);
            self.answer_peer(conn, batch, now);
            if !self.peers.contains_key(&conn) {
                return;
            }
        }
        let peer = self
            .peers
            .entry(conn)
            .or_insert_with(|| Peer::new(from, DocSync::new()));
        let is_sync = matches!(message, DocMessage::Sync(_));
        // Answered once the whole batch is applied (`answer`).
        let mut input = DocInput::receive_replying_later(message, defer_reply);
        if applied {
            input = input.with_changes_applied();
        }
        let results = match peer
            .sync
            .handle_shared(now, &mut self.doc, &mut self.fan_out, input)
        {
            Ok(results) => results,
            Err(error) => {
                self.fail_peer(conn, error.to_string(), batch);
                return;
            }
        };
        // The heads before the message, if it changed the document.
        let before = results.events.iter().find_map(|e| match e {
            DocEvent::DocumentChanged { new_heads } => {
                Some(std::mem::replace(&mut self.heads, new_heads.clone()))
            }
            _ => None,
        });
        let their_heads = results.events.iter().find_map(|e| match e {
            DocEvent::TheirHeads(heads) => Some(heads.clone()),
            _ => None,
        });
        if let Some(heads) = their_heads {
            peer.heads = Some((heads.clone(), now));
            if let Some(storage_id) = lasting_storage_id(&peer.link) {
                let storage_id = StorageId::new(storage_id);
                self.gossip(Some(conn), &storage_id, &heads, now, &mut batch.outgoing);
            }
        }
        let Some(peer) = self.peers.get_mut(&conn) else {
            return;
        };
        let changed = before.is_some() || applied;
        if let Some(before) = before {
            let verdict = self.validator.validate(&Incoming {
                document_id: self.id,
                peer: &peer.link.peer,
                principal: &peer.link.principal,
                before: &before,
                after: &self.heads,
                doc: &self.doc,
                sent: None,
            });
            if let Err(rejection) = verdict {
                tracing::info!(doc = %self.id, peer = %peer.link.peer.peer_id, "{rejection}");
                self.roll_back(&before);
                self.fail_peer(conn, rejection.to_refusal(self.id).to_string(), batch);
                return;
            }
            batch.changed = true;
        }
        // With a fan-out due, it gives the answer, from work the peers share (an
        // acknowledgement's, and an edit's); else the answer comes at the end of the batch.
        if results.reply_due && !(defer_reply && is_sync && changed) {
            batch.reply_due.push(conn);
        } else if defer_reply && is_sync {
            peer.owed_reply = true;
            peer.owed_change_answer |= changed;
            batch.owed = true;
        }
        batch
            .outgoing
            .extend(results.outgoing.into_iter().map(|message| {
                (
                    conn,
                    Outbound::Doc {
                        document_id: self.id,
                        message,
                    },
                )
            }));
    }

    /// One message from a peer that may add to the document without reading it: it syncs with
    /// its own view, and what it adds there is validated and taken into the document.
    fn receive_write_only(
        &mut self,
        now: Timestamp,
        from: PeerLink,
        message: DocMessage,
        batch: &mut Batch,
    ) {
        let conn = from.conn;
        if matches!(message, DocMessage::Unavailable) {
            self.writers.remove(&conn);
            return;
        }
        if matches!(message, DocMessage::Request(_)) {
            // It has nothing to add and may read nothing: as for a document nobody has.
            self.writers.remove(&conn);
            let unavailable = Outbound::Doc {
                document_id: self.id,
                message: DocMessage::Unavailable,
            };
            batch.outgoing.retain(|(c, _)| *c != conn);
            send(&from, unavailable);
            return;
        }
        let writer = match self.writers.entry(conn) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(Writer {
                view: self.validator.writer_view(self.id, &self.doc),
                sync: DocSync::new(),
                link: from,
            }),
        };
        let view_before = writer.view.get_heads();
        let results = match writer
            .sync
            .handle(now, &mut writer.view, DocInput::receive(message))
        {
            Ok(results) => results,
            Err(error) => {
                self.fail_writer(conn, error.to_string(), batch);
                return;
            }
        };
        let new: Vec<Change> = writer
            .view
            .get_changes(&view_before)
            .into_iter()
            .filter(|c| self.doc.get_change_by_hash(&c.hash()).is_none())
            .collect();
        let before = self.doc.get_heads();
        if !new.is_empty() {
            if let Err(error) = self.doc.apply_changes(new) {
                self.roll_back(&before);
                self.fail_writer(conn, error.to_string(), batch);
                return;
            }
            let link = &self.writers[&conn].link;
            let after = self.doc.get_heads();
            let verdict = self.validator.validate(&Incoming {
                document_id: self.id,
                peer: &link.peer,
                principal: &link.principal,
                before: &before,
                after: &after,
                doc: &self.doc,
                sent: None,
            });
            if let Err(rejection) = verdict {
                tracing::info!(doc = %self.id, peer = %link.peer.peer_id, "{rejection}");
                self.roll_back(&before);
                self.fail_writer(conn, rejection.to_refusal(self.id).to_string(), batch);
                return;
            }
            self.heads = self.doc.get_heads();
            batch.changed |= self.heads != before;
        }
        batch
            .outgoing
            .extend(results.outgoing.into_iter().map(|message| {
                (
                    conn,
                    Outbound::Doc {
                        document_id: self.id,
                        message,
                    },
                )
            }));
    }

    fn fail_writer(&mut self, conn: ConnId, reason: String, batch: &mut Batch) {
        batch.outgoing.retain(|(c, _)| *c != conn);
        if let Some(writer) = self.writers.remove(&conn) {
            send(&writer.link, Outbound::Fail { reason });
        }
    }

    /// Puts the document back to `heads` (changes after them were never stored or sent).
    fn roll_back(&mut self, heads: &[ChangeHash]) {
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

    /// Drops the peer's sync and tells its connection to fail.
    fn fail_peer(&mut self, conn: ConnId, reason: String, batch: &mut Batch) {
        // Replies already queued for it in this batch are moot.
        batch.outgoing.retain(|(c, _)| *c != conn);
        if let Some(peer) = self.peers.remove(&conn) {
            send(&peer.link, Outbound::Fail { reason });
        }
    }

    /// The batch's changes could not be stored: nothing acknowledges them. Roll the document
    /// back to what is durable and disconnect every peer, which resync (and resend their
    /// changes) when they return.
    fn storage_failed(&mut self, error: &str) {
        tracing::error!(doc = %self.id, "storing changes failed: {error}");
        let saved = self.saved_heads.clone();
        self.roll_back(&saved);
        let links: Vec<PeerLink> = self
            .peers
            .drain()
            .map(|(_, p)| p.link)
            .chain(self.writers.drain().map(|(_, w)| w.link))
            .collect();
        for link in links {
            send(
                &link,
                Outbound::Fail {
                    reason: "the server could not store the document".into(),
                },
            );
        }
    }

    /// Queues each message on its connection; a connection whose queue is full is kicked.
    fn deliver(&mut self, outgoing: Vec<(ConnId, Outbound)>) {
        for (conn, message) in outgoing {
            let link = match self.peers.get(&conn) {
                Some(peer) => &peer.link,
                None => match self.writers.get(&conn) {
                    Some(writer) => &writer.link,
                    None => continue,
                },
            };
            if !send(link, message) {
                self.peers.remove(&conn);
                self.writers.remove(&conn);
            }
        }
    }
}

/// Queues `message` for a connection without waiting. Returns false (and kicks the connection
/// if it is still there) when it cannot take it: the peer is gone or too slow.
fn send(link: &PeerLink, message: Outbound) -> bool {
    // Counted before it is queued: the connection may write it (and count it off) at once.
    link.backlog.fetch_add(1, Ordering::AcqRel);
    let sent = link.outbound.try_send(message);
    if sent.is_err() {
        link.backlog.fetch_sub(1, Ordering::AcqRel);
    }
    match sent {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            tracing::info!(peer = %link.peer.peer_id, "closing a connection that reads too slowly");
            link.kick.notify_one();
            false
        }
        Err(TrySendError::Closed(_)) => false,
    }
}

/// Whether `message` is a sync message without changes whose heads are `heads`.
fn says_it_has(message: &DocMessage, heads: &[ChangeHash]) -> bool {
    let DocMessage::Sync(data) = message else {
        return false;
    };
    match automerge::sync::Message::decode(data) {
        Ok(message) => {
            let mut theirs = message.heads;
            theirs.sort_unstable();
            message.changes.is_empty() && theirs == heads
        }
        Err(_) => false,
    }
}

/// A message for one peer from [`DocSync::fan_out`], addressed to `document_id`.
fn outbound(document_id: DocumentId, message: FannedOut) -> Outbound {
    match message {
        FannedOut::SharedSync(data) => Outbound::SharedSync { document_id, data },
        FannedOut::Own(message) => Outbound::Doc {
            document_id,
            message,
        },
    }
}

/// The wall clock, for the sync state machines.
pub(crate) fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Timestamp::from_millis(millis)
}
