//! The CBOR messages of automerge-repo's wire protocol, version "1".
//!
//! Every message is a CBOR map with a text `type`. Field names are exactly those automerge-repo
//! 2.x sends (`senderId`, `peerMetadata`, `supportedProtocolVersions`, …; its README's CDDL still
//! says `metadata`, which no implementation sends). The encoder writes fields in the order the JS
//! repo does, so a message we encode differs from theirs only in cbor-x's habit of writing every
//! map length in two bytes and in JS's `undefined` for absent fields, which we leave out. The
//! decoder takes fields in any order, ignores fields it does not know
//! and reads JS's `undefined` (and `null`) as "absent".

use std::{collections::BTreeMap, convert::Infallible};

use minicbor::{Decoder, Encoder, data::Type};

use crate::{BadDocumentId, DocumentId, PeerId, StorageId};

/// The only protocol version there is.
pub const PROTOCOL_VERSION: &str = "1";

/// The largest message [`Message::decode`] accepts: 16 MiB, room for the first sync of a large
/// village document. A connection can set its own limit (see `ConnectionConfig`).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// The longest peer id, storage id, session id or document id a message may carry, in bytes.
/// automerge-repo's ids are 20 to 60 bytes (a peer name with a random suffix, a UUID); a
/// server keeps peer and storage ids per connection and stores sync states under storage ids,
/// so an unbounded id is memory and disk an anonymous peer could fill.
pub const MAX_ID_LENGTH: usize = 128;

/// One message of the wire protocol.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// The first message of the side that opened the connection.
    Join {
        sender_id: PeerId,
        supported_protocol_versions: Vec<String>,
        peer_metadata: Option<PeerMetadata>,
    },
    /// The answer to `join`: the other side's id and the version it picked.
    Peer {
        sender_id: PeerId,
        target_id: PeerId,
        selected_protocol_version: String,
        peer_metadata: Option<PeerMetadata>,
    },
    /// The sender is going away (in the protocol's CDDL; automerge-repo 2.x never sends it).
    Leave { sender_id: PeerId },
    /// The first sync message of a peer that does not have the document and asks for it.
    Request {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        /// An automerge sync message.
        data: Vec<u8>,
    },
    /// An automerge sync message for one document.
    Sync {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        /// An automerge sync message.
        data: Vec<u8>,
    },
    /// The sender does not have the document (and none of its other peers do).
    DocUnavailable {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
    },
    /// Application data (presence, cursors) about a document; never stored.
    Ephemeral {
        sender_id: PeerId,
        target_id: PeerId,
        /// Increases with every ephemeral message of one session.
        count: u64,
        session_id: String,
        document_id: DocumentId,
        /// In practice CBOR, opaque to the protocol.
        data: Vec<u8>,
    },
    /// Subscribe to (or unsubscribe from) heads gossip about other peers' storage.
    RemoteSubscriptionChange {
        sender_id: PeerId,
        target_id: PeerId,
        add: Option<Vec<StorageId>>,
        remove: Option<Vec<StorageId>>,
    },
    /// The heads of a document in some peers' storage changed.
    RemoteHeadsChanged {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        new_heads: BTreeMap<StorageId, RemoteHeads>,
    },
    /// Something went wrong; the sender closes the connection after this.
    Error {
        sender_id: Option<PeerId>,
        target_id: Option<PeerId>,
        message: String,
    },
}

/// What a peer says about itself in `join` and `peer`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PeerMetadata {
    pub storage_id: Option<StorageId>,
    /// True if the peer keeps nothing after it disconnects, so its sync state is not worth storing.
    pub is_ephemeral: bool,
}

/// One storage's heads of a document, in `remote-heads-changed`.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteHeads {
    /// Change hashes, each base58check-encoded (see [`crate::encode_heads`]).
    pub heads: Vec<String>,
    /// When the sender learned these heads, in milliseconds since the Unix epoch.
    pub timestamp: u64,
}

/// Why bytes are not a message we understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("a message of {size} bytes is over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed CBOR: {0}")]
    Malformed(String),
    #[error("a message is a CBOR map with text keys")]
    NotAMap,
    #[error("bytes follow the message")]
    TrailingBytes,
    #[error("field `{field}` has the wrong type")]
    WrongType { field: &'static str },
    #[error("a `{message_type}` message needs the field `{field}`")]
    MissingField {
        message_type: &'static str,
        field: &'static str,
    },
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("bad document id: {0}")]
    BadDocumentId(#[from] BadDocumentId),
    #[error("field `{field}` is longer than {limit} bytes")]
    TooLong { field: &'static str, limit: usize },
}

impl Message {
    /// The `type` field: `"join"`, `"sync"`, ….
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
            Message::Error { .. } => "error",
        }
    }

    /// The sender, if the message names one (every message but some `error`s does).
    pub fn sender_id(&self) -> Option<&PeerId> {
        match self {
            Message::Join { sender_id, .. }
            | Message::Peer { sender_id, .. }
            | Message::Leave { sender_id }
            | Message::Request { sender_id, .. }
            | Message::Sync { sender_id, .. }
            | Message::DocUnavailable { sender_id, .. }
            | Message::Ephemeral { sender_id, .. }
            | Message::RemoteSubscriptionChange { sender_id, .. }
            | Message::RemoteHeadsChanged { sender_id, .. } => Some(sender_id),
            Message::Error { sender_id, .. } => sender_id.as_ref(),
        }
    }

    /// The recipient, if the message names one (`join` and `leave` do not).
    pub fn target_id(&self) -> Option<&PeerId> {
        match self {
            Message::Join { .. } | Message::Leave { .. } => None,
            Message::Peer { target_id, .. }
            | Message::Request { target_id, .. }
            | Message::Sync { target_id, .. }
            | Message::DocUnavailable { target_id, .. }
            | Message::Ephemeral { target_id, .. }
            | Message::RemoteSubscriptionChange { target_id, .. }
            | Message::RemoteHeadsChanged { target_id, .. } => Some(target_id),
            Message::Error { target_id, .. } => target_id.as_ref(),
        }
    }

    /// Decodes one message of at most [`DEFAULT_MAX_MESSAGE_SIZE`] bytes.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        Self::decode_with_limit(bytes, DEFAULT_MAX_MESSAGE_SIZE)
    }

    /// Decodes one message, refusing it unread if it is longer than `max_size` bytes.
    pub fn decode_with_limit(bytes: &[u8], max_size: usize) -> Result<Message, DecodeError> {
        if bytes.len() > max_size {
            return Err(DecodeError::TooLarge {
                size: bytes.len(),
                limit: max_size,
            });
        }
        let mut d = Decoder::new(bytes);
        let fields = Fields::decode(&mut d)?;
        if d.position() != bytes.len() {
            return Err(DecodeError::TrailingBytes);
        }
        fields.into_message()
    }

    /// Encodes the message as CBOR, fields in the order automerge-repo 2.x writes them.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        // The writer is a Vec, whose writes cannot fail, and we never raise an error of our own.
        self.encode_into(&mut e)
            .expect("encoding into a Vec cannot fail");
        e.into_writer()
    }

    fn encode_into(&self, e: &mut Encoder<Vec<u8>>) -> EncodeResult {
        let w = |r: Result<&mut Encoder<Vec<u8>>, EncodeError>| r.map(|_| ());
        let ty = self.type_name();
        match self {
            Message::Join {
                sender_id,
                supported_protocol_versions,
                peer_metadata,
            } => {
                w(e.map(3 + u64::from(peer_metadata.is_some())))?;
                w(e.str("type")?.str(ty))?;
                w(e.str("senderId")?.str(sender_id.as_str()))?;
                if let Some(meta) = peer_metadata {
                    w(e.str("peerMetadata"))?;
                    encode_metadata(e, meta)?;
                }
                w(e.str("supportedProtocolVersions"))?;
                encode_strings(e, supported_protocol_versions.iter().map(String::as_str))?;
            }
            Message::Peer {
                sender_id,
                target_id,
                selected_protocol_version,
                peer_metadata,
            } => {
                w(e.map(4 + u64::from(peer_metadata.is_some())))?;
                w(e.str("type")?.str(ty))?;
                w(e.str("senderId")?.str(sender_id.as_str()))?;
                if let Some(meta) = peer_metadata {
                    w(e.str("peerMetadata"))?;
                    encode_metadata(e, meta)?;
                }
                w(e.str("selectedProtocolVersion")?
                    .str(selected_protocol_version))?;
                w(e.str("targetId")?.str(target_id.as_str()))?;
            }
            Message::Leave { sender_id } => {
                w(e.map(2))?;
                w(e.str("type")?.str(ty))?;
                w(e.str("senderId")?.str(sender_id.as_str()))?;
            }
            Message::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
            | Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            } => {
                w(e.map(5))?;
                w(e.str("type")?.str(ty))?;
                w(e.str("targetId")?.str(target_id.as_str()))?;
                if matches!(self, Message::Sync { .. }) {
                    w(e.str("data")?.bytes(data))?;
                    w(e.str("documentId")?.str(&document_id.to_string()))?;
                } else {
                    w(e.str("documentId")?.str(&document_id.to_string()))?;
                    w(e.str("data")?.bytes(data))?;
                }
                w(e.str("senderId")?.str(sender_id.as_str()))?;
            }
            Message::DocUnavailable {
                sender_id,
                target_id,
                document_id,
            } => {
                w(e.map(4))?;
                w(e.str("type")?.str(ty))?;
                w(e.str("documentId")?.str(&document_id.to_string()))?;
                w(e.str("targetId")?.str(target_id.as_str()))?;
                w(e.str("senderId")?.str(sender_id.as_str()))?;
            }
            Message::Ephemeral {
                sender_id,
                target_id,
                count,
                session_id,
                document_id,
                data,
            } => {
                w(e.map(7))?;
                w(e.str("type")?.str(ty))?;
                w(e.str("targetId")?.str(target_id.as_str()))?;
                w(e.str("documentId")?.str(&document_id.to_string()))?;
                w(e.str("data")?.bytes(data))?;
                w(e.str("count")?.u64(*count))?;
                w(e.str("sessionId")?.str(session_id))?;
                w(e.str("senderId")?.str(sender_id.as_str()))?;
            }
            Message::RemoteSubscriptionChange {
                sender_id,
                target_id,
                add,
                remove,
            } => {
                let len = 3 + u64::from(add.is_some()) + u64::from(remove.is_some());
                w(e.map(len))?;
                w(e.str("type")?.str(ty))?;
                w(e.str("targetId")?.str(target_id.as_str()))?;
                if let Some(add) = add {
                    w(e.str("add"))?;
                    encode_strings(e, add.iter().map(StorageId::as_str))?;
                }
                if let Some(remove) = remove {
                    w(e.str("remove"))?;
                    encode_strings(e, remove.iter().map(StorageId::as_str))?;
                }
                w(e.str("senderId")?.str(sender_id.as_str()))?;
            }
            Message::RemoteHeadsChanged {
                sender_id,
                target_id,
                document_id,
                new_heads,
            } => {
                w(e.map(5))?;
                w(e.str("type")?.str(ty))?;
                w(e.str("targetId")?.str(target_id.as_str()))?;
                w(e.str("documentId")?.str(&document_id.to_string()))?;
                w(e.str("newHeads")?.map(new_heads.len() as u64))?;
                for (storage_id, heads) in new_heads {
                    w(e.str(storage_id.as_str())?.map(2))?;
                    w(e.str("heads"))?;
                    encode_strings(e, heads.heads.iter().map(String::as_str))?;
                    // JS numbers: cbor-x writes a timestamp this large as a float64.
                    w(e.str("timestamp")?.f64(heads.timestamp as f64))?;
                }
                w(e.str("senderId")?.str(sender_id.as_str()))?;
            }
            Message::Error {
                sender_id,
                target_id,
                message,
            } => {
                let len = 2 + u64::from(sender_id.is_some()) + u64::from(target_id.is_some());
                w(e.map(len))?;
                w(e.str("type")?.str(ty))?;
                if let Some(sender_id) = sender_id {
                    w(e.str("senderId")?.str(sender_id.as_str()))?;
                }
                w(e.str("message")?.str(message))?;
                if let Some(target_id) = target_id {
                    w(e.str("targetId")?.str(target_id.as_str()))?;
                }
            }
        }
        Ok(())
    }
}

type EncodeError = minicbor::encode::Error<Infallible>;
type EncodeResult = Result<(), EncodeError>;

fn encode_metadata(e: &mut Encoder<Vec<u8>>, meta: &PeerMetadata) -> EncodeResult {
    e.map(1 + u64::from(meta.storage_id.is_some()))?;
    if let Some(storage_id) = &meta.storage_id {
        e.str("storageId")?.str(storage_id.as_str())?;
    }
    e.str("isEphemeral")?.bool(meta.is_ephemeral)?;
    Ok(())
}

fn encode_strings<'a>(
    e: &mut Encoder<Vec<u8>>,
    items: impl ExactSizeIterator<Item = &'a str>,
) -> EncodeResult {
    e.array(items.len() as u64)?;
    for item in items {
        e.str(item)?;
    }
    Ok(())
}

/// Every field any message may carry, as read from the wire, before we know which are required.
#[derive(Default)]
struct Fields {
    message_type: Option<String>,
    sender_id: Option<String>,
    target_id: Option<String>,
    document_id: Option<String>,
    data: Option<Vec<u8>>,
    peer_metadata: Option<PeerMetadata>,
    supported_protocol_versions: Option<Vec<String>>,
    selected_protocol_version: Option<String>,
    count: Option<u64>,
    session_id: Option<String>,
    add: Option<Vec<String>>,
    remove: Option<Vec<String>>,
    new_heads: Option<BTreeMap<StorageId, RemoteHeads>>,
    message: Option<String>,
}

fn malformed(e: minicbor::decode::Error) -> DecodeError {
    DecodeError::Malformed(e.to_string())
}

/// Maps a decoding error inside a known field to `WrongType` when the value had another type.
fn in_field(field: &'static str) -> impl Fn(minicbor::decode::Error) -> DecodeError {
    move |e| {
        if e.is_type_mismatch() {
            DecodeError::WrongType { field }
        } else {
            malformed(e)
        }
    }
}

/// Consumes JS's `undefined` or a `null` and says so; both mean "field absent".
fn absent(d: &mut Decoder<'_>) -> Result<bool, DecodeError> {
    match d.datatype().map_err(malformed)? {
        Type::Undefined | Type::Null => {
            d.skip().map_err(malformed)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Calls `entry` once per element of the array or map `d` is at (a map's entries count once),
/// for definite and indefinite lengths alike.
fn for_each_entry<'b>(
    d: &mut Decoder<'b>,
    len: Option<u64>,
    mut entry: impl FnMut(&mut Decoder<'b>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    match len {
        Some(n) => {
            for _ in 0..n {
                entry(d)?;
            }
        }
        None => loop {
            if d.datatype().map_err(malformed)? == Type::Break {
                d.set_position(d.position() + 1);
                break;
            }
            entry(d)?;
        },
    }
    Ok(())
}

fn optional<'b, T>(
    d: &mut Decoder<'b>,
    read: impl FnOnce(&mut Decoder<'b>) -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    if absent(d)? {
        Ok(None)
    } else {
        read(d).map(Some)
    }
}

fn text(d: &mut Decoder<'_>, field: &'static str) -> Result<String, DecodeError> {
    d.str().map(str::to_owned).map_err(in_field(field))
}

/// An id (peer, storage, session, document): text of at most [`MAX_ID_LENGTH`] bytes, refused
/// before it is copied.
fn id(d: &mut Decoder<'_>, field: &'static str) -> Result<String, DecodeError> {
    let text = d.str().map_err(in_field(field))?;
    if text.len() > MAX_ID_LENGTH {
        return Err(DecodeError::TooLong {
            field,
            limit: MAX_ID_LENGTH,
        });
    }
    Ok(text.to_owned())
}

fn texts(d: &mut Decoder<'_>, field: &'static str) -> Result<Vec<String>, DecodeError> {
    items(d, field, text)
}

fn ids(d: &mut Decoder<'_>, field: &'static str) -> Result<Vec<String>, DecodeError> {
    items(d, field, id)
}

fn items(
    d: &mut Decoder<'_>,
    field: &'static str,
    item: fn(&mut Decoder<'_>, &'static str) -> Result<String, DecodeError>,
) -> Result<Vec<String>, DecodeError> {
    let len = d.array().map_err(in_field(field))?;
    let mut items = Vec::new();
    for_each_entry(d, len, |d| {
        items.push(item(d, field)?);
        Ok(())
    })?;
    Ok(items)
}

/// A text map key; the messages have no other kind.
fn key<'b>(d: &mut Decoder<'b>) -> Result<&'b str, DecodeError> {
    d.str().map_err(|e| {
        if e.is_type_mismatch() {
            DecodeError::NotAMap
        } else {
            malformed(e)
        }
    })
}

fn map_len(d: &mut Decoder<'_>) -> Result<Option<u64>, DecodeError> {
    d.map().map_err(|e| {
        if e.is_type_mismatch() {
            DecodeError::NotAMap
        } else {
            malformed(e)
        }
    })
}

fn decode_metadata(d: &mut Decoder<'_>) -> Result<PeerMetadata, DecodeError> {
    const FIELD: &str = "peerMetadata";
    let len = d.map().map_err(in_field(FIELD))?;
    let mut meta = PeerMetadata::default();
    for_each_entry(d, len, |d| {
        match d.str().map_err(in_field(FIELD))? {
            "storageId" => {
                meta.storage_id = optional(d, |d| id(d, "storageId").map(StorageId::new))?;
            }
            "isEphemeral" => {
                meta.is_ephemeral =
                    optional(d, |d| d.bool().map_err(in_field("isEphemeral")))?.unwrap_or(false);
            }
            _ => d.skip().map_err(malformed)?,
        }
        Ok(())
    })?;
    Ok(meta)
}

/// A millisecond timestamp: an integer, or a float64 as cbor-x writes JS numbers above 2^32.
fn timestamp(d: &mut Decoder<'_>) -> Result<u64, DecodeError> {
    const FIELD: &str = "timestamp";
    match d.datatype().map_err(malformed)? {
        Type::F32 | Type::F64 => {
            let t = d.f64().map_err(in_field(FIELD))?;
            if t.is_finite() && t >= 0.0 && t.fract() == 0.0 && t < u64::MAX as f64 {
                Ok(t as u64)
            } else {
                Err(DecodeError::WrongType { field: FIELD })
            }
        }
        _ => d.u64().map_err(in_field(FIELD)),
    }
}

fn decode_new_heads(d: &mut Decoder<'_>) -> Result<BTreeMap<StorageId, RemoteHeads>, DecodeError> {
    const FIELD: &str = "newHeads";
    let len = d.map().map_err(in_field(FIELD))?;
    let mut all = BTreeMap::new();
    for_each_entry(d, len, |d| {
        let storage_id = StorageId::new(id(d, FIELD)?);
        let inner = d.map().map_err(in_field(FIELD))?;
        let (mut heads, mut time) = (None, None);
        for_each_entry(d, inner, |d| {
            match d.str().map_err(in_field(FIELD))? {
                "heads" => heads = optional(d, |d| texts(d, "heads"))?,
                "timestamp" => time = optional(d, timestamp)?,
                _ => d.skip().map_err(malformed)?,
            }
            Ok(())
        })?;
        let missing = |field| DecodeError::MissingField {
            message_type: "remote-heads-changed",
            field,
        };
        all.insert(
            storage_id,
            RemoteHeads {
                heads: heads.ok_or_else(|| missing("heads"))?,
                timestamp: time.ok_or_else(|| missing("timestamp"))?,
            },
        );
        Ok(())
    })?;
    Ok(all)
}

impl Fields {
    fn decode(d: &mut Decoder<'_>) -> Result<Fields, DecodeError> {
        let len = map_len(d)?;
        let mut f = Fields::default();
        for_each_entry(d, len, |d| {
            match key(d)? {
                "type" => f.message_type = optional(d, |d| text(d, "type"))?,
                "senderId" => f.sender_id = optional(d, |d| id(d, "senderId"))?,
                "targetId" => f.target_id = optional(d, |d| id(d, "targetId"))?,
                "documentId" => f.document_id = optional(d, |d| id(d, "documentId"))?,
                "data" => {
                    f.data = optional(d, |d| {
                        d.bytes().map(<[u8]>::to_vec).map_err(in_field("data"))
                    })?
                }
                // `metadata` is the name in the protocol's CDDL; no implementation sends it, but
                // samod reads it too.
                "peerMetadata" | "metadata" => f.peer_metadata = optional(d, decode_metadata)?,
                "supportedProtocolVersions" => {
                    f.supported_protocol_versions =
                        optional(d, |d| texts(d, "supportedProtocolVersions"))?
                }
                "selectedProtocolVersion" => {
                    f.selected_protocol_version =
                        optional(d, |d| text(d, "selectedProtocolVersion"))?
                }
                "count" => f.count = optional(d, |d| d.u64().map_err(in_field("count")))?,
                "sessionId" => f.session_id = optional(d, |d| id(d, "sessionId"))?,
                "add" => f.add = optional(d, |d| ids(d, "add"))?,
                "remove" => f.remove = optional(d, |d| ids(d, "remove"))?,
                "newHeads" => f.new_heads = optional(d, decode_new_heads)?,
                "message" => f.message = optional(d, |d| text(d, "message"))?,
                _ => d.skip().map_err(malformed)?,
            }
            Ok(())
        })?;
        Ok(f)
    }

    fn into_message(self) -> Result<Message, DecodeError> {
        let Some(message_type) = self.message_type else {
            return Err(DecodeError::MissingField {
                message_type: "any",
                field: "type",
            });
        };
        let ty: &'static str = match message_type.as_str() {
            "join" => "join",
            "peer" => "peer",
            "leave" => "leave",
            "request" => "request",
            "sync" => "sync",
            "doc-unavailable" => "doc-unavailable",
            "ephemeral" => "ephemeral",
            "remote-subscription-change" => "remote-subscription-change",
            "remote-heads-changed" => "remote-heads-changed",
            "error" => "error",
            _ => return Err(DecodeError::UnknownType(message_type)),
        };
        let need = |value: Option<String>, field| {
            value.ok_or(DecodeError::MissingField {
                message_type: ty,
                field,
            })
        };
        let peer = |value: Option<String>, field| need(value, field).map(PeerId::new);
        let document_id = |value: Option<String>| -> Result<DocumentId, DecodeError> {
            Ok(need(value, "documentId")?.parse()?)
        };
        let data = |value: Option<Vec<u8>>| {
            value.ok_or(DecodeError::MissingField {
                message_type: ty,
                field: "data",
            })
        };
        let storage_ids =
            |ids: Option<Vec<String>>| ids.map(|ids| ids.into_iter().map(StorageId::new).collect());
        Ok(match ty {
            "join" => Message::Join {
                sender_id: peer(self.sender_id, "senderId")?,
                // automerge-repo's server reads a join without versions as version "1".
                supported_protocol_versions: self
                    .supported_protocol_versions
                    .unwrap_or_else(|| vec![PROTOCOL_VERSION.to_owned()]),
                peer_metadata: self.peer_metadata,
            },
            "peer" => Message::Peer {
                sender_id: peer(self.sender_id, "senderId")?,
                target_id: peer(self.target_id, "targetId")?,
                selected_protocol_version: need(
                    self.selected_protocol_version,
                    "selectedProtocolVersion",
                )?,
                peer_metadata: self.peer_metadata,
            },
            "leave" => Message::Leave {
                sender_id: peer(self.sender_id, "senderId")?,
            },
            "request" => Message::Request {
                sender_id: peer(self.sender_id, "senderId")?,
                target_id: peer(self.target_id, "targetId")?,
                document_id: document_id(self.document_id)?,
                data: data(self.data)?,
            },
            "sync" => Message::Sync {
                sender_id: peer(self.sender_id, "senderId")?,
                target_id: peer(self.target_id, "targetId")?,
                document_id: document_id(self.document_id)?,
                data: data(self.data)?,
            },
            "doc-unavailable" => Message::DocUnavailable {
                sender_id: peer(self.sender_id, "senderId")?,
                target_id: peer(self.target_id, "targetId")?,
                document_id: document_id(self.document_id)?,
            },
            "ephemeral" => Message::Ephemeral {
                sender_id: peer(self.sender_id, "senderId")?,
                target_id: peer(self.target_id, "targetId")?,
                count: self.count.ok_or(DecodeError::MissingField {
                    message_type: ty,
                    field: "count",
                })?,
                session_id: need(self.session_id, "sessionId")?,
                document_id: document_id(self.document_id)?,
                data: data(self.data)?,
            },
            "remote-subscription-change" => Message::RemoteSubscriptionChange {
                sender_id: peer(self.sender_id, "senderId")?,
                target_id: peer(self.target_id, "targetId")?,
                add: storage_ids(self.add),
                remove: storage_ids(self.remove),
            },
            "remote-heads-changed" => Message::RemoteHeadsChanged {
                sender_id: peer(self.sender_id, "senderId")?,
                target_id: peer(self.target_id, "targetId")?,
                document_id: document_id(self.document_id)?,
                new_heads: self.new_heads.ok_or(DecodeError::MissingField {
                    message_type: ty,
                    field: "newHeads",
                })?,
            },
            _ => Message::Error {
                sender_id: self.sender_id.map(PeerId::new),
                target_id: self.target_id.map(PeerId::new),
                message: need(self.message, "message")?,
            },
        })
    }
}
