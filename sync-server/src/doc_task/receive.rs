//! A peer's message: taken into the document (unless [`DocState::apply_together`] took its
//! changes already), its new changes judged by the validator and rolled back if refused, its
//! answer given now, at the end of the batch or by the fan-out.

use automerge::{Change, ChangeHash, ReadDoc};
use sync::{DocEvent, DocInput, DocMessage, DocSync, StorageId, Timestamp};

use super::{
    peers::{Peer, Writer, lasting_storage_id},
    state::{Batch, DocState},
};
use crate::{
    peer::{Outbound, PeerLink},
    validate::{Access, Incoming},
};

impl DocState {
    /// Applies one peer's message, checking any new changes with the validator.
    pub(super) fn receive(
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
            batch.send_now(conn, unavailable);
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
                    self.peers.remove(&conn);
                    self.writers.remove(&conn);
                    batch.outgoing.retain(|(c, _)| *c != conn);
                    self.answer_as_if_missing(now, from, message, batch);
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

    /// Answers a peer that may not read the document exactly as if the server had none of it:
    /// its message is taken by a sync with an empty document made for this message alone, so
    /// a `request` gets `doc-unavailable` and a `sync` the answer of a server without the
    /// document; changes it sends are judged as the creation of a new document would be
    /// (refused for an anonymous peer, with the same error), and never taken in. Whether a
    /// document exists is then no more visible than its contents. (A signed-in peer whose
    /// creation would be accepted learns the id is taken: ids are random, so it had to know
    /// the id already.)
    fn answer_as_if_missing(
        &mut self,
        now: Timestamp,
        from: PeerLink,
        message: DocMessage,
        batch: &mut Batch,
    ) {
        let conn = from.conn;
        if matches!(message, DocMessage::Unavailable) {
            return;
        }
        let mut scratch = automerge::Automerge::new();
        let results = match DocSync::new().handle(now, &mut scratch, DocInput::receive(message)) {
            Ok(results) => results,
            Err(error) => {
                batch.send_now(
                    conn,
                    Outbound::Fail {
                        reason: error.to_string(),
                    },
                );
                return;
            }
        };
        let sent = scratch.get_heads();
        if !sent.is_empty() {
            let verdict = self.validator.validate(&Incoming {
                document_id: self.id,
                peer: &from.peer,
                principal: &from.principal,
                before: &[],
                after: &sent,
                doc: &scratch,
                sent: None,
            });
            let reason = match verdict {
                Err(rejection) => rejection.to_refusal(self.id).to_string(),
                Ok(()) => format!("document {} already exists", self.id),
            };
            tracing::info!(doc = %self.id, peer = %from.peer.peer_id, "{reason}");
            batch.send_now(conn, Outbound::Fail { reason });
            return;
        }
        for message in results.outgoing {
            let answer = Outbound::Doc {
                document_id: self.id,
                message,
            };
            batch.send_now(conn, answer);
        }
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
            batch.send_now(conn, unavailable);
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
