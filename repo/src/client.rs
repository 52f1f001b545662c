//! The client side of the protocol, sans-IO: one [`Connection`] to the server at a time and a
//! [`DocSync`] per open document. The [`super::Repo`] feeds it frames and local edits and does
//! what it returns; the WebSocket driver (`ws.rs`) only moves bytes.

use std::collections::BTreeMap;

use sync::{
    Connection, ConnectionConfig, ConnectionEvent, ConnectionInput, DocEvent, DocInput, DocResults,
    DocSync, DocumentId, PeerInfo, Refusal, Timestamp,
};

use super::OpenDoc;

/// What the driver must do after a call.
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// Frames to send, in order.
    pub frames: Vec<Vec<u8>>,
    /// Close the transport after sending `frames`.
    pub close: bool,
    /// Documents the server's changes reached: store them, tell their subscribers.
    pub changed: Vec<DocumentId>,
    /// Documents whose server heads we learned: store the sync state, update the status.
    pub their_heads: Vec<DocumentId>,
    /// Changes the server refused (it closed the connection): recover the document.
    pub refused: Vec<Refusal>,
}

#[derive(Debug)]
pub(crate) struct Client {
    local: PeerInfo,
    connection: Option<Connection>,
    syncs: BTreeMap<DocumentId, DocSync>,
}

impl Client {
    pub fn new(local: PeerInfo) -> Self {
        Self {
            local,
            connection: None,
            syncs: BTreeMap::new(),
        }
    }

    /// The handshake is done and documents sync.
    pub fn is_established(&self) -> bool {
        self.server().is_some()
    }

    /// The server, once the handshake is done.
    pub fn server(&self) -> Option<&PeerInfo> {
        self.connection.as_ref().and_then(Connection::peer)
    }

    /// A transport opened: start a new connection (it sends `join`).
    pub fn opened(&mut self, now: Timestamp) -> Output {
        let mut connection = Connection::outgoing(self.local.clone(), ConnectionConfig::default());
        let results = connection.handle(now, ConnectionInput::start());
        self.connection = Some(connection);
        self.syncs.clear();
        Output {
            frames: results.outgoing,
            close: results.close,
            ..Output::default()
        }
    }

    /// The transport closed: forget the connection and every document's sync state with it (a
    /// new connection syncs each open document from scratch).
    pub fn closed(&mut self) {
        self.connection = None;
        self.syncs.clear();
    }

    /// Time passed (every second or so): fails a handshake the server does not finish.
    pub fn tick(&mut self, now: Timestamp) -> Output {
        let Some(connection) = &mut self.connection else {
            return Output::default();
        };
        let results = connection.handle(now, ConnectionInput::tick());
        Output {
            frames: results.outgoing,
            close: results.close,
            ..Output::default()
        }
    }

    /// A frame arrived.
    pub fn receive(
        &mut self,
        now: Timestamp,
        bytes: Vec<u8>,
        docs: &mut BTreeMap<DocumentId, OpenDoc>,
    ) -> Output {
        let mut output = Output::default();
        let Some(connection) = &mut self.connection else {
            return output;
        };
        let results = connection.handle(now, ConnectionInput::receive(bytes));
        output.frames = results.outgoing;
        output.close = results.close;
        for event in results.events {
            match event {
                ConnectionEvent::Established(_) => {
                    for (id, open) in docs.iter_mut().filter(|(_, open)| !open.paused) {
                        self.handle_doc(now, *id, open, DocInput::begin(), &mut output);
                    }
                }
                ConnectionEvent::Document {
                    document_id,
                    message,
                } => {
                    // Only documents this device opened are synced; anything else is ignored,
                    // as is a paused one until it is rebuilt.
                    if let Some(open) = docs.get_mut(&document_id).filter(|open| !open.paused) {
                        let input = DocInput::receive(message);
                        self.handle_doc(now, document_id, open, input, &mut output);
                    }
                }
                ConnectionEvent::RemoteError(text) => {
                    output.refused.extend(Refusal::parse(&text));
                    output.close = true;
                }
                ConnectionEvent::Left | ConnectionEvent::Failed(_) => output.close = true,
                ConnectionEvent::Ephemeral { .. }
                | ConnectionEvent::RemoteSubscriptionChange { .. }
                | ConnectionEvent::RemoteHeadsChanged { .. } => {}
            }
        }
        if output.close {
            self.closed();
        }
        output
    }

    /// Whether document `id` syncs on the current connection already.
    pub fn is_syncing(&self, id: DocumentId) -> bool {
        self.syncs.contains_key(&id)
    }

    /// Drops the document's sync state on this connection (it was rebuilt; begin it again).
    pub fn forget_doc(&mut self, id: DocumentId) {
        self.syncs.remove(&id);
    }

    /// A document was opened: begin syncing it if connected.
    pub fn opened_doc(&mut self, now: Timestamp, id: DocumentId, open: &mut OpenDoc) -> Output {
        let mut output = Output::default();
        if self.is_established() && !open.paused {
            self.handle_doc(now, id, open, DocInput::begin(), &mut output);
        }
        output
    }

    /// A document changed here: send the server what is new, if connected.
    pub fn changed_doc(&mut self, now: Timestamp, id: DocumentId, open: &mut OpenDoc) -> Output {
        let mut output = Output::default();
        if self.is_established() && !open.paused {
            self.handle_doc(now, id, open, DocInput::doc_changed(), &mut output);
        }
        output
    }

    fn handle_doc(
        &mut self,
        now: Timestamp,
        id: DocumentId,
        open: &mut OpenDoc,
        input: DocInput,
        output: &mut Output,
    ) {
        let Some(connection) = &self.connection else {
            return;
        };
        let sync = self.syncs.entry(id).or_default();
        let DocResults {
            outgoing, events, ..
        } = match sync.handle(now, &mut open.doc, input) {
            Ok(results) => results,
            Err(_) => {
                // The server sent something that does not apply: start over on a new
                // connection rather than build on it.
                output.close = true;
                return;
            }
        };
        for message in outgoing {
            if let Ok(frame) = connection.encode_document_message(id, message) {
                output.frames.push(frame);
            }
        }
        for event in events {
            match event {
                DocEvent::DocumentChanged { .. } => {
                    open.unavailable = false;
                    output.changed.push(id);
                }
                DocEvent::TheirHeads(heads) => {
                    open.server_heads = Some(heads);
                    output.their_heads.push(id);
                }
                DocEvent::Unavailable => open.unavailable = true,
            }
        }
    }
}
