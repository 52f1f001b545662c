//! The fan-out: the round that sends each peer what it lacks, from work the peers share, and
//! the answers given from the same work; and heads gossip.

use automerge::ChangeHash;
use sync::{DocumentId, FannedOut, StorageId, Timestamp};

use super::{
    effects::Effect,
    pacing::awaits_reply,
    peers::lasting_storage_id,
    state::{Batch, DocState},
};
use crate::peer::{ConnId, Outbound};

impl DocState {
    /// The answers the batch's messages are owed (in the order the peers sent them), now that
    /// everything in the batch is applied.
    pub(super) fn answer(&mut self, batch: &mut Batch, now: Timestamp) {
        for conn in std::mem::take(&mut batch.reply_due) {
            self.answer_peer(conn, batch, now);
        }
    }

    /// Gives `conn` the answer its messages are owed, from the work the document's peers share
    /// ([`FanOut`]) where its state allows: automerge's own answer encodes again every change
    /// the peer lacks, once per edit.
    pub(super) fn answer_peer(&mut self, conn: ConnId, batch: &mut Batch, now: Timestamp) {
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

    /// Sends every peer what it lacks, but those whose connection is still writing what it was
    /// sent before: they are caught up by a later fan-out, with one message. Returns whether
    /// such a peer is left (another fan-out is due). Only called between batches, when
    /// everything in the document is stored.
    pub(super) fn fan_out(&mut self, now: Timestamp, effects: &mut Vec<Effect>) -> bool {
        let heads = self.heads.clone();
        self.fan_out.prepare(&self.doc);
        let mut outgoing = Vec::new();
        let mut left_behind = false;
        let mut served = 0;
        let peers = self.peers.len();
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
            // a fan-out due): see `awaits_reply`.
            let since_sent = peer
                .sync
                .awaiting_reply()
                .map(|sent| now.millis_since(sent));
            if !peer.owed_reply && awaits_reply(since_sent, peers) {
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
        self.deliver(outgoing, effects);
        left_behind
    }

    /// Heads gossip (automerge-repo's remote heads): tells every peer of this document (but
    /// `except`) that subscribed to `storage_id` that it has `heads`.
    pub(super) fn gossip(
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
    pub(super) fn known_heads(
        &self,
        now: Timestamp,
        conn: ConnId,
        storages: &[StorageId],
        batch: &mut Batch,
    ) {
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
