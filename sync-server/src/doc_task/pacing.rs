//! How often a document fans out, and when a peer waits for the answer to its last message:
//! pure functions of the number of peers and of time, so the rules can be read (and tested)
//! apart from the rest of the document's state.

use std::time::Duration;

/// The pause between two fan-outs of one document, per peer it has: about what generating
/// and queueing one peer's sync message costs, so fan-outs take at most about half the
/// document's time.
pub(crate) const FAN_OUT_INTERVAL_PER_PEER: Duration = Duration::from_micros(100);
/// The longest pause between two fan-outs (what an edit may wait for before it is sent on).
pub(crate) const MAX_FAN_OUT_INTERVAL: Duration = Duration::from_millis(100);

/// How long after a fan-out the next may start, for a document with `peers` peers.
pub(crate) fn fan_out_interval(peers: usize) -> Duration {
    FAN_OUT_INTERVAL_PER_PEER
        .saturating_mul(u32::try_from(peers).unwrap_or(u32::MAX))
        .min(MAX_FAN_OUT_INTERVAL)
}

/// How long a message that brought a peer news waits for the peer's answer before a fan-out
/// sends it the next all the same, in milliseconds (the unit of the sync state's clock): half
/// the fan-out interval of a document with `peers` peers.
///
/// While it waits, the next message builds on what the peer acknowledged, and the trim of
/// what was sent it takes its fast path. A peer slower than that is sent the next message
/// anyway: holding it back longer would add a whole interval to its latency.
pub(crate) fn await_reply_ms(peers: usize) -> u64 {
    u64::try_from(fan_out_interval(peers).as_millis() / 2).unwrap_or(u64::MAX)
}

/// Whether a peer sent a message `since_sent_ms` ago that still awaits its answer must be
/// left for a later fan-out (the one-message-in-flight rule). `None`: nothing awaits an
/// answer.
pub(crate) fn awaits_reply(since_sent_ms: Option<u64>, peers: usize) -> bool {
    since_sent_ms.is_some_and(|since| since < await_reply_ms(peers))
}

/// A batch that leaves the document with this many heads or more ends with a merge change.
/// Fewer are left alone: two residents editing at once is ordinary and costs their next
/// changes a dependency or two.
pub(crate) const MERGE_AT_HEADS: usize = 4;

/// At most this many queued messages are handled (and stored) as one batch.
pub(crate) const MAX_BATCH: usize = 256;
