//! One document's task: it owns the document in memory and every peer's sync with it.
//!
//! # How edits are answered, and why
//!
//! The task takes the messages waiting in its queue as one batch (at most [`MAX_BATCH`]),
//! applies them, asks the validator about new changes, makes the batch's changes durable with
//! one storage write, and only then sends anything. Nothing that reflects a change leaves the
//! server before the change is on disk: a peer that hears of a change may forget its own copy,
//! so the server must not lose what it acknowledged. The changes of a batch's messages are
//! applied in one automerge call (`together.rs`): automerge's cost per call grows with the
//! document, not with the changes applied. Each message's changes are still judged on their
//! own, in the state one-by-one application would give; anything unusual takes the
//! one-by-one path (`receive.rs`).
//!
//! A change the validator refuses is rolled back: the document is put back to the heads it had
//! before the message (nothing was stored or sent yet), the sender gets an `error` and is
//! disconnected, and its app recovers from the server's copy.
//!
//! A batch that leaves the document with many heads ([`MERGE_AT_HEADS`](pacing::MERGE_AT_HEADS) or more) ends with an
//! empty merge change of the server's, so that concurrent editors build on it rather than on
//! each other's heads: without it, N residents editing at once give each of their next changes
//! about N dependencies, which every one of the N peers is sent (docs/performance.md, "merge
//! changes"). The merge is stored with the batch, and the batch's answers are given after it.
//!
//! The fan-out is the round that sends each peer what it lacks; it also answers the peers'
//! acknowledgements and edits that arrive while it is due (other messages, and requests, are
//! answered at the end of their batch, after its merge change if it made one, once the batch
//! is stored; a peer owed the answer to its changes gets it before its next message is
//! applied when that one says it has our heads). The fan-out is paced (`pacing.rs`): a
//! document fans out at most once per [`fan_out_interval`](pacing::fan_out_interval) (100 µs per peer,
//! up to [`MAX_FAN_OUT_INTERVAL`](pacing::MAX_FAN_OUT_INTERVAL), 100 ms), so a burst of edits reaches each peer as one message and
//! a document's fan-out work per second stays bounded however often it is edited; an edit
//! after a quiet spell goes out at once. A round's messages are built from work shared by all
//! peers ([`sync::FanOut`]: changes encoded once, peers in the same state share one encoded
//! message); peers in unusual states get automerge's own. One message is in flight per peer:
//! a peer that has not answered a message that brought it news, sent less than half an
//! interval ago, waits for a later round, which then builds on what it acknowledged. A peer
//! whose connection has not yet written what it was last queued is skipped and caught up by
//! a later round with one message (latest state, not a queue of fan-outs), so a slow reader
//! costs at most one message.
//!
//! The task also relays ephemeral messages between the document's readers (one shared copy,
//! dropped for a connection that is still writing: `send`), gossips heads
//! (`remote-heads-changed` to peers subscribed to a storage id), keeps departing readers' sync
//! states by storage id (of documents that exist) so returning peers are not sent again what
//! they have, loads around a corrupt chunk (kept in storage, logged), and unloads when nobody
//! has had it open for a while.
//!
//! # Layout
//!
//! Every decision above is made by [`DocState`] (`state.rs` and the files that extend it:
//! `receive.rs`, `together.rs`, `fan_out.rs`; the peers it keeps in `peers.rs`, the pacing
//! rules in `pacing.rs`), which does no I/O: time comes in as a parameter, storage and
//! messages to peers go out as [`Effect`]s, storage's answers come back as [`Input`]s
//! (`effects.rs`), in the style of samod-core. It is tested on a simulated clock (`tests/`). This file is the driver: the tokio loop that takes commands from the queue,
//! sleeps until the fan-out is due, carries out the effects and unloads the document.

mod effects;
mod fan_out;
mod pacing;
mod peers;
mod receive;
mod state;
#[cfg(test)]
mod tests;
mod together;

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use sync::{DocumentId, StorageId, Timestamp};
use tokio::{
    sync::mpsc::{self, error::TrySendError},
    time::Instant,
};

use self::{
    effects::{Effect, Input, Now},
    pacing::MAX_BATCH,
    state::DocState,
};
use crate::{
    peer::{DocCommand, Outbound, PeerLink},
    shutdown::{Shutdown, TaskGuard},
    storage::DocumentStore,
    validate::ChangeValidator,
};

/// While the server stops, how often a document without peers checks whether it may unload.
const SHUTDOWN_POLL: Duration = Duration::from_millis(20);

/// What a document's task needs of the registry that started it (the hub); a trait, so that
/// this module does not import the hub, which imports it.
pub(crate) trait Registry: Send + Sync + 'static {
    /// Removes the task from the registry if nothing can reach it any more: no handle to the
    /// document exists and `queue_empty` (checked under the registry's lock) holds. Returns
    /// whether it did; the task then stops.
    fn try_unload(
        &self,
        document_id: DocumentId,
        generation: u64,
        queue_empty: &mut dyn FnMut() -> bool,
    ) -> bool;
}

/// A document's task before it runs: what it needs to load the document and serve it.
pub(crate) struct DocTask {
    id: DocumentId,
    generation: u64,
    registry: Arc<dyn Registry>,
    store: DocumentStore,
    validator: Arc<dyn ChangeValidator>,
    storage_id: StorageId,
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
        registry: Arc<dyn Registry>,
        store: DocumentStore,
        validator: Arc<dyn ChangeValidator>,
        storage_id: StorageId,
    ) -> Self {
        Self {
            id,
            generation,
            registry,
            store,
            validator,
            storage_id,
        }
    }

    async fn run(
        self,
        mut commands: mpsc::Receiver<DocCommand>,
        mut shutdown: Shutdown,
        unload_after: Duration,
    ) {
        // A corrupt chunk is left out (and left in storage: it is never deleted, so it stays
        // for inspection); the document is served from its other chunks, and peers that have
        // the lost changes send them again.
        let loaded = match self.store.load_document_skipping_corrupt(self.id).await {
            Ok(salvaged) => Ok(salvaged.map(|salvaged| salvaged.doc)),
            Err(error) => {
                tracing::error!(doc = %self.id, "cannot load document: {error}");
                Err(error.to_string())
            }
        };
        let mut state = DocState::new(
            self.id,
            self.validator.clone(),
            self.storage_id.clone(),
            loaded,
            clock(),
        );
        let mut idle_since = Instant::now();
        loop {
            let next_fan_out = state.next_fan_out().map(Instant::from_std);
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
                    self.carry_out(&mut state, Input::Commands(batch)).await;
                    idle_since = Instant::now();
                }
                () = sleep_until(next_fan_out), if next_fan_out.is_some() => {
                    self.carry_out(&mut state, Input::Tick).await;
                }
                () = tokio::time::sleep_until(deadline), if state.has_no_peers() => {
                    let unloaded = self.registry.try_unload(
                        self.id,
                        self.generation,
                        &mut || commands.is_empty(),
                    );
                    if unloaded {
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

    /// Hands `input` to the state and carries out its effects in order, handing storage's
    /// answers back as they come.
    async fn carry_out(&self, state: &mut DocState, input: Input) {
        let mut effects = state.handle(clock(), input).into_iter();
        loop {
            let Some(effect) = effects.next() else {
                break;
            };
            let answer = match effect {
                Effect::Send { conn, message } => {
                    let Some(link) = state.link(conn) else {
                        continue;
                    };
                    if send(link, message) {
                        continue;
                    }
                    Input::Unreachable(conn)
                }
                Effect::LoadSyncStates(peers) => {
                    let mut states = Vec::with_capacity(peers.len());
                    for (conn, storage_id) in peers {
                        let loaded = self.store.load_sync_state(self.id, &storage_id).await;
                        states.push((conn, loaded.map_err(|error| error.to_string())));
                    }
                    Input::SyncStates(states)
                }
                Effect::Save => {
                    let save =
                        self.store
                            .save_incremental(self.id, state.doc(), state.saved_heads());
                    Input::Stored(
                        save.await
                            .map(|saved| saved.compaction_due)
                            .map_err(|error| error.to_string()),
                    )
                }
                Effect::AnswerLocal { done, result } => {
                    let _ = done.send(result);
                    continue;
                }
                Effect::Compact => {
                    if let Err(error) = self.store.compact(self.id, state.doc()).await {
                        // The incremental chunks are still there; compaction is retried next
                        // save.
                        tracing::warn!(doc = %self.id, "compaction failed: {error}");
                    }
                    continue;
                }
                Effect::SaveSyncState {
                    storage_id,
                    state: sync_state,
                } => {
                    let saved = self
                        .store
                        .save_sync_state(self.id, &storage_id, sync_state)
                        .await;
                    if let Err(error) = saved {
                        tracing::warn!(doc = %self.id, "storing a peer's sync state failed: {error}");
                    }
                    continue;
                }
            };
            // What the state does with the answer comes before the rest of what it asked.
            let mut next = state.handle(clock(), answer);
            next.extend(effects);
            effects = next.into_iter();
        }
    }
}

/// Sleeps until `at`, or forever without it (the `select!` branch is disabled then).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Queues `message` for a connection without waiting. Returns false (and kicks the connection
/// if it is still there) when it cannot take it: the peer is gone or too slow (its queue holds
/// [`crate::SyncLimits::outbound_queue`] messages, or the message would take it past
/// [`crate::SyncLimits::outbound_queue_bytes`]; a message alone in the queue always fits).
/// Ephemeral data for a connection that is still writing is dropped, not queued: it is only
/// worth anything fresh, and a peer that does not read must not collect copies of it.
fn send(link: &PeerLink, message: Outbound) -> bool {
    if matches!(message, Outbound::Ephemeral { .. }) && !link.drained() {
        return true;
    }
    let size = message.size();
    // Counted before it is queued: the connection may write it (and count it off) at once.
    let queued_bytes = link.backlog_bytes.fetch_add(size, Ordering::AcqRel);
    link.server_queued.fetch_add(size, Ordering::AcqRel);
    link.backlog.fetch_add(1, Ordering::AcqRel);
    let over_budget = queued_bytes > 0 && queued_bytes + size > link.byte_budget;
    let sent = if over_budget {
        Err(TrySendError::Full(message))
    } else {
        link.outbound.try_send(message)
    };
    if sent.is_err() {
        link.backlog.fetch_sub(1, Ordering::AcqRel);
        link.backlog_bytes.fetch_sub(size, Ordering::AcqRel);
        link.server_queued.fetch_sub(size, Ordering::AcqRel);
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

/// The time now, for the state.
fn clock() -> Now {
    Now {
        instant: Instant::now().into_std(),
        wall: now(),
    }
}

/// The wall clock, for the sync state machines.
pub(crate) fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Timestamp::from_millis(millis)
}
