//! [`PeerRegistry`]: which connection each peer id is on.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use sync::PeerId;
use tokio::sync::Notify;

use crate::peer::ConnId;

/// Which connection each peer id is on. automerge-repo's server does the same: a peer that
/// joins again (a phone back from a dead network, before its old socket timed out) replaces its
/// old connection, which is closed.
#[derive(Default)]
pub(crate) struct PeerRegistry(Mutex<HashMap<PeerId, (ConnId, Arc<Notify>)>>);

impl PeerRegistry {
    /// Records `conn` as `peer`'s connection and tells the one it replaces, if any, to close.
    pub(super) fn join(&self, peer: &PeerId, conn: ConnId, replaced: Arc<Notify>) {
        let old = self.lock().insert(peer.clone(), (conn, replaced));
        if let Some((old_conn, old_replaced)) = old {
            tracing::debug!(conn = old_conn, peer = %peer, "replaced by a new connection");
            old_replaced.notify_one();
        }
    }

    pub(super) fn leave(&self, peer: &PeerId, conn: ConnId) {
        let mut peers = self.lock();
        if peers.get(peer).is_some_and(|(c, _)| *c == conn) {
            peers.remove(peer);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PeerId, (ConnId, Arc<Notify>)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
