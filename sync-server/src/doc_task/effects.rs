//! What goes into the document's state machine ([`Input`], at a time [`Now`]) and what comes
//! out of it ([`Effect`]); the driver (`mod.rs`) turns effects into I/O and its results back
//! into inputs.

use std::time::Instant;

use sync::Timestamp;
use tokio::sync::oneshot;

use crate::peer::{ConnId, DocCommand, Outbound};

/// A peer's sync state as loaded from storage: none stored, or why loading failed.
pub(crate) type StoredSyncState = Result<Option<Vec<u8>>, String>;

/// Where the answer to the server's own change ([`DocCommand::Local`]) goes.
pub(crate) type LocalDone = oneshot::Sender<Result<bool, String>>;

/// The time an input happens at: a monotonic instant for the fan-out's pacing, and the wall
/// clock the sync states keep.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Now {
    pub(crate) instant: Instant,
    pub(crate) wall: Timestamp,
}

/// What happened to the document.
pub(crate) enum Input {
    /// Commands taken from the queue, handled as one batch.
    Commands(Vec<DocCommand>),
    /// The answer to [`Effect::LoadSyncStates`]: each peer's stored sync state, if any.
    SyncStates(Vec<(ConnId, StoredSyncState)>),
    /// The answer to [`Effect::Save`]: whether compaction is due, or why storing failed.
    Stored(Result<bool, String>),
    /// A timer: the fan-out may be due (`DocState::next_fan_out`).
    Tick,
    /// A connection could not take a message (gone, or too slow and kicked): forget it.
    Unreachable(ConnId),
}

/// What the driver must do, in order.
pub(crate) enum Effect {
    /// Load the sync states stored for these peers (by storage id), then hand them back as
    /// [`Input::SyncStates`].
    LoadSyncStates(Vec<(ConnId, String)>),
    /// Store the document's changes since what is durable (`DocState::saved_heads`), then
    /// hand the outcome back as [`Input::Stored`].
    Save,
    /// Queue `message` on the connection (`DocState::link`); if it cannot take it, hand
    /// back [`Input::Unreachable`].
    Send { conn: ConnId, message: Outbound },
    /// Answer the server's own change ([`DocCommand::Local`]).
    AnswerLocal {
        done: LocalDone,
        result: Result<bool, String>,
    },
    /// Compact the document's chunks in storage (failure is only logged).
    Compact,
    /// Keep a departed peer's sync state for when it returns (failure is only logged).
    SaveSyncState { storage_id: String, state: Vec<u8> },
}
