//! What a connection checks in a peer's messages before they reach a document's task: the
//! changes and Bloom filters in sync messages (no decompression bombs, no filter that makes
//! automerge panic or allocate gigabytes), and which ephemeral messages are relayed (size,
//! sender, rate).
//!
//! The checks run in the connection's own task, so a peer's bad input costs its connection,
//! never the document's task that all its peers share.

use std::time::{Duration, Instant};

use sync::{ChunkPolicy, DocMessage};

use crate::{limits::SyncLimits, validate::Principal};

/// Refuses a `request` or `sync` whose changes automerge would inflate beyond the limit, or
/// that hold chunks a peer has no reason to send (see [`sync::check_peer_chunks`]), or whose
/// Bloom filters would make automerge divide by zero or allocate without bound
/// ([`sync::check_peer_have`]). With trust
/// on, a peer that is not signed in writes nothing, so it may not send a whole document
/// either: its changes are only parsed (they are never inflated) and refused by the validator.
/// `Err` is the text of the `error` the peer gets.
pub(crate) fn check_document_message(
    message: &DocMessage,
    principal: &Principal,
    trust_on: bool,
    limits: &SyncLimits,
) -> Result<(), String> {
    let (DocMessage::Request(data) | DocMessage::Sync(data)) = message else {
        return Ok(());
    };
    // Decoding copies the changes' bytes and inflates nothing; what does not decode is refused
    // by the document's task as before.
    let Ok(decoded) = automerge::sync::Message::decode(data) else {
        return Ok(());
    };
    let policy = ChunkPolicy {
        allow_documents: !trust_on || principal.user().is_some(),
        max_inflated: limits.max_inflated_size,
    };
    sync::check_peer_have(&decoded.have)
        .and_then(|()| sync::check_peer_chunks(&decoded.changes, policy))
        .map_err(|error| error.to_string())
}

/// Why an ephemeral message is not relayed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EphemeralVerdict {
    Relay,
    /// Dropped quietly: the sender is not signed in, or sends too often.
    Drop,
    /// The connection breaks the limits: `error` and close.
    Refuse(String),
}

/// Decides which of one connection's ephemeral messages are relayed: only a signed-in peer's,
/// of at most [`SyncLimits::max_ephemeral_size`] bytes, at most
/// [`SyncLimits::ephemeral_per_second`] a second (a token bucket of one second's worth).
pub(crate) struct EphemeralGate {
    tokens: f64,
    per_second: f64,
    last: Instant,
}

impl EphemeralGate {
    pub(crate) fn new(limits: &SyncLimits, now: Instant) -> Self {
        let per_second = f64::from(limits.ephemeral_per_second);
        Self {
            tokens: per_second,
            per_second,
            last: now,
        }
    }

    pub(crate) fn admit(
        &mut self,
        principal: &Principal,
        size: usize,
        limits: &SyncLimits,
        now: Instant,
    ) -> EphemeralVerdict {
        if size > limits.max_ephemeral_size {
            return EphemeralVerdict::Refuse(format!(
                "an ephemeral message of {size} bytes is over the limit of {}",
                limits.max_ephemeral_size
            ));
        }
        if principal.user().is_none() {
            return EphemeralVerdict::Drop;
        }
        let elapsed = now
            .saturating_duration_since(self.last)
            .min(Duration::from_secs(1));
        self.last = now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.per_second).min(self.per_second);
        if self.tokens < 1.0 {
            return EphemeralVerdict::Drop;
        }
        self.tokens -= 1.0;
        EphemeralVerdict::Relay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ephemeral_messages_are_rate_limited_per_connection() {
        let limits = SyncLimits::default();
        let user = Principal::User(model::UserId::new("anna").unwrap());
        let start = Instant::now();
        let mut gate = EphemeralGate::new(&limits, start);
        let relayed = (0..100)
            .filter(|_| gate.admit(&user, 10, &limits, start) == EphemeralVerdict::Relay)
            .count();
        assert_eq!(relayed, limits.ephemeral_per_second as usize);
        let later = start + Duration::from_millis(100);
        assert_eq!(
            gate.admit(&user, 10, &limits, later),
            EphemeralVerdict::Relay
        );
        assert_eq!(
            gate.admit(&user, 10, &limits, later),
            EphemeralVerdict::Relay
        );
        assert_eq!(
            gate.admit(&user, 10, &limits, later),
            EphemeralVerdict::Drop
        );
        assert_eq!(
            gate.admit(
                &Principal::Anonymous,
                10,
                &limits,
                later + Duration::from_secs(5)
            ),
            EphemeralVerdict::Drop
        );
        assert!(matches!(
            gate.admit(&user, limits.max_ephemeral_size + 1, &limits, later),
            EphemeralVerdict::Refuse(_)
        ));
    }
}
