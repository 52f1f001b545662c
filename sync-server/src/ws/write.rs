//! Writing to the socket: what the documents queued for the connection, and the frames of the
//! connection itself.

use std::sync::atomic::Ordering;

use axum::extract::ws::Message as WsMessage;
use sync::Message;
use tokio::time::timeout;

use super::{ConnectionTask, End};
use crate::peer::Outbound;

impl ConnectionTask {
    /// Counts off a message of `size` bytes taken from the queue.
    pub(super) fn written(&self, size: usize) {
        if let Some(link) = &self.link {
            link.backlog.fetch_sub(1, Ordering::AcqRel);
            link.backlog_bytes.fetch_sub(size, Ordering::AcqRel);
            link.server_queued.fetch_sub(size, Ordering::AcqRel);
        }
    }

    /// Writes what a document's task queued; `Some` ends the connection.
    pub(super) async fn write(&mut self, out: Outbound) -> Option<End> {
        let encoded = match out {
            Outbound::Doc {
                document_id,
                message,
            } => self
                .connection
                .encode_document_message(document_id, message),
            Outbound::SharedSync { document_id, data } => self
                .connection
                .encode_document_message(document_id, sync::DocMessage::Sync(data.to_vec())),
            Outbound::Ephemeral {
                document_id,
                session_id,
                count,
                data,
            } => self.connection.encode_ephemeral(
                document_id,
                session_id.to_string(),
                count,
                data.to_vec(),
            ),
            Outbound::RemoteHeads {
                document_id,
                storage_id,
                heads,
                timestamp,
            } => {
                let heads = sync::RemoteHeads {
                    heads: sync::encode_heads(&heads),
                    timestamp: timestamp.as_millis(),
                };
                self.connection
                    .encode_remote_heads(document_id, [(storage_id, heads)].into())
            }
            Outbound::Fail { reason } => return Some(End::Error(reason)),
        };
        // Documents only queue messages for established connections.
        let frame = encoded.ok()?;
        if self
            .send_frame(WsMessage::Binary(frame.into()))
            .await
            .is_err()
        {
            return Some(End::Quietly);
        }
        None
    }

    pub(super) async fn send_frame(&mut self, frame: WsMessage) -> Result<(), ()> {
        match timeout(self.state.limits.send_timeout, self.socket.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    /// An `error` message from the server to this peer.
    pub(super) fn error_frame(&self, message: String) -> Vec<u8> {
        Message::Error {
            sender_id: Some(self.state.peer.peer_id.clone()),
            target_id: self.link.as_ref().map(|l| l.peer.peer_id.clone()),
            message,
        }
        .encode()
    }
}
