//! The end of a session, as the connections opened with it hear of it: sign-out, a password
//! change (which ends every other session of the user) and expiry each resolve the
//! [`SessionEnd`] a WebSocket holds, and the WebSocket closes. Without this a socket opened
//! with a session kept its rights for as long as it stayed open.
//!
//! One `watch` channel per session that has an open socket, keyed by the token's SHA-256 (the
//! token itself is never kept); channels nobody listens to any more are dropped whenever a new
//! one is made, so the map stays as large as the number of signed-in sockets.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use model::UserId;
use tokio::sync::watch;

/// A session's token hash → its user and the channel its sockets watch.
type Watches = HashMap<[u8; 32], (UserId, watch::Sender<bool>)>;

/// The sessions that have open sockets.
#[derive(Default)]
pub(super) struct SessionWatches(Mutex<Watches>);

impl SessionWatches {
    fn lock(&self) -> std::sync::MutexGuard<'_, Watches> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn watch(&self, hash: [u8; 32], user: UserId) -> watch::Receiver<bool> {
        let mut map = self.lock();
        map.retain(|_, (_, tx)| tx.receiver_count() > 0);
        map.entry(hash)
            .or_insert_with(|| (user, watch::channel(false).0))
            .1
            .subscribe()
    }

    /// Tells the sockets of every session `which` picks that it ended.
    pub(super) fn end(&self, which: impl Fn(&[u8; 32], &UserId) -> bool) {
        self.lock().retain(|hash, (user, tx)| {
            if which(hash, user) {
                tx.send_replace(true);
                false
            } else {
                true
            }
        });
    }
}

/// Resolves when its session ends: signed out, ended by a password change, or expired.
pub struct SessionEnd {
    pub(super) ended: watch::Receiver<bool>,
    /// Time left until the session expires, measured when the socket opened.
    pub(super) expires_in: Duration,
}

impl SessionEnd {
    /// Waits until the session ends.
    pub async fn wait(mut self) {
        tokio::select! {
            _ = self.ended.wait_for(|ended| *ended) => {}
            () = tokio::time::sleep(self.expires_in) => {}
        }
    }
}
