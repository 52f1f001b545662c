//! Our messages against bytes the JS automerge-repo 2.x (with its WebSocket adapter) produced.
//! The fixtures come from `tests/sync-fixtures/generate.mjs`; `fixtures.json` holds the JS
//! decoder's view of each one.

use std::{fs, path::PathBuf};

use serde_json::{Map, Value, json};
use sync::{
    Connection, ConnectionConfig, ConnectionError, ConnectionEvent, ConnectionInput, DecodeError,
    DocumentId, Message, PeerId, PeerInfo, PeerMetadata, Timestamp, decode_heads,
};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn manifest() -> Value {
    let text = fs::read_to_string(fixtures_dir().join("fixtures.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    fs::read(fixtures_dir().join(format!("{name}.cbor"))).unwrap()
}

/// Our message in the shape of the JS view: camelCase keys, byte strings as `{"bytes": hex}`,
/// absent optional fields left out.
fn js_view(message: &Message) -> Value {
    fn hex(bytes: &[u8]) -> Value {
        json!({ "bytes": bytes.iter().map(|b| format!("{b:02x}")).collect::<String>() })
    }
    fn meta(m: &PeerMetadata) -> Value {
        let mut o = Map::new();
        if let Some(s) = &m.storage_id {
            o.insert("storageId".into(), json!(s.as_str()));
        }
        o.insert("isEphemeral".into(), json!(m.is_ephemeral));
        Value::Object(o)
    }
    let mut o = Map::new();
    o.insert("type".into(), json!(message.type_name()));
    if let Some(s) = message.sender_id() {
        o.insert("senderId".into(), json!(s.as_str()));
    }
    if let Some(t) = message.target_id() {
        o.insert("targetId".into(), json!(t.as_str()));
    }
    match message {
        Message::Join {
            supported_protocol_versions,
            peer_metadata,
            ..
        } => {
            o.insert(
                "supportedProtocolVersions".into(),
                json!(supported_protocol_versions),
            );
            if let Some(m) = peer_metadata {
                o.insert("peerMetadata".into(), meta(m));
            }
        }
        Message::Peer {
            selected_protocol_version,
            peer_metadata,
            ..
        } => {
            o.insert(
                "selectedProtocolVersion".into(),
                json!(selected_protocol_version),
            );
            if let Some(m) = peer_metadata {
                o.insert("peerMetadata".into(), meta(m));
            }
        }
        Message::Leave { .. } => {}
        Message::Request {
            document_id, data, ..
        }
        | Message::Sync {
            document_id, data, ..
        } => {
            o.insert("documentId".into(), json!(document_id.to_string()));
            o.insert("data".into(), hex(data));
        }
        Message::DocUnavailable { document_id, .. } => {
            o.insert("documentId".into(), json!(document_id.to_string()));
        }
        Message::Ephemeral {
            count,
            session_id,
            document_id,
            data,
            ..
        } => {
            o.insert("count".into(), json!(count));
            o.insert("sessionId".into(), json!(session_id));
            o.insert("documentId".into(), json!(document_id.to_string()));
            o.insert("data".into(), hex(data));
        }
        Message::RemoteSubscriptionChange { add, remove, .. } => {
            let ids = |ids: &Vec<sync::StorageId>| {
                json!(ids.iter().map(|s| s.as_str()).collect::<Vec<_>>())
            };
            if let Some(add) = add {
                o.insert("add".into(), ids(add));
            }
            if let Some(remove) = remove {
                o.insert("remove".into(), ids(remove));
            }
        }
        Message::RemoteHeadsChanged {
            document_id,
            new_heads,
            ..
        } => {
            o.insert("documentId".into(), json!(document_id.to_string()));
            let heads: Map<String, Value> = new_heads
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        json!({ "heads": v.heads, "timestamp": v.timestamp }),
                    )
                })
                .collect();
            o.insert("newHeads".into(), Value::Object(heads));
        }
        Message::Error { message, .. } => {
            o.insert("message".into(), json!(message));
        }
    }
    Value::Object(o)
}

/// The JS view with its `undefined` fields dropped (they mean "absent"), and numbers normalised
/// (JS writes a whole-number timestamp as a float).
fn without_undefined(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| v.as_str() != Some("<undefined>"))
                .map(|(k, v)| (k.clone(), without_undefined(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_undefined).collect()),
        Value::Number(n) if n.is_f64() => json!(n.as_f64().unwrap() as u64),
        other => other.clone(),
    }
}

fn has_undefined(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.values().any(has_undefined),
        Value::Array(a) => a.iter().any(has_undefined),
        Value::String(s) => s == "<undefined>",
        _ => false,
    }
}

/// Re-encodes CBOR with the shortest length headers. cbor-x writes every map length in two bytes
/// (`b9 00 04`); otherwise its output and ours must be identical.
fn shortest_headers(bytes: &[u8]) -> Vec<u8> {
    use minicbor::{Decoder, Encoder, data::Type};
    fn copy(d: &mut Decoder<'_>, e: &mut Encoder<Vec<u8>>) {
        match d.datatype().unwrap() {
            Type::Map => {
                let n = d.map().unwrap().unwrap();
                e.map(n).unwrap();
                for _ in 0..n * 2 {
                    copy(d, e);
                }
            }
            Type::Array => {
                let n = d.array().unwrap().unwrap();
                e.array(n).unwrap();
                for _ in 0..n {
                    copy(d, e);
                }
            }
            Type::String => {
                e.str(d.str().unwrap()).unwrap();
            }
            Type::Bytes => {
                e.bytes(d.bytes().unwrap()).unwrap();
            }
            Type::Bool => {
                e.bool(d.bool().unwrap()).unwrap();
            }
            Type::U8 | Type::U16 | Type::U32 | Type::U64 => {
                e.u64(d.u64().unwrap()).unwrap();
            }
            Type::F64 => {
                e.f64(d.f64().unwrap()).unwrap();
            }
            other => panic!("fixtures hold no {other:?}"),
        }
    }
    let mut d = Decoder::new(bytes);
    let mut e = Encoder::new(Vec::new());
    copy(&mut d, &mut e);
    e.into_writer()
}

const ALL_MESSAGES: &[&str] = &[
    "join",
    "join-ephemeral",
    "join-without-metadata",
    "join-unsupported-version",
    "peer",
    "leave",
    "request",
    "request-unknown",
    "sync",
    "doc-unavailable",
    "ephemeral",
    "remote-subscription-change",
    "remote-heads-changed",
    "error",
];

#[test]
fn every_js_message_decodes_to_what_js_sees_and_round_trips() {
    let manifest = manifest();
    let views = manifest["messages"].as_object().unwrap();
    let mut types = std::collections::BTreeSet::new();
    for name in ALL_MESSAGES {
        let bytes = fixture(name);
        let message = Message::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        types.insert(message.type_name());
        assert_eq!(
            js_view(&message),
            without_undefined(&views[*name]),
            "{name}: our reading differs from JS's"
        );

        let ours = message.encode();
        assert_eq!(
            Message::decode(&ours).unwrap(),
            message,
            "{name}: round trip"
        );
        if !has_undefined(&views[*name]) {
            assert_eq!(
                ours,
                shortest_headers(&bytes),
                "{name}: our bytes differ from JS's beyond map headers"
            );
        }
    }
    // Every message type of protocol version 1 is covered.
    assert_eq!(types.len(), 10, "{types:?}");
}

#[test]
fn every_fixture_is_covered() {
    let manifest = manifest();
    let mut names: Vec<_> = manifest["messages"].as_object().unwrap().keys().collect();
    names.retain(|n| *n != "unknown-type");
    names.sort();
    let mut expected: Vec<_> = ALL_MESSAGES.to_vec();
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn an_unknown_message_type_is_a_typed_error() {
    assert_eq!(
        Message::decode(&fixture("unknown-type")),
        Err(DecodeError::UnknownType("gossip".into()))
    );
}

#[test]
fn js_document_ids_and_urls_parse() {
    let manifest = manifest();
    let ids = manifest["documentIds"].as_array().unwrap();
    assert!(!ids.is_empty());
    for entry in ids {
        let url = entry["url"].as_str().unwrap();
        let text = entry["documentId"].as_str().unwrap();
        let id = DocumentId::from_url(url).unwrap();
        assert_eq!(text.parse::<DocumentId>().unwrap(), id);
        let hex: String = id.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, entry["bytes"].as_str().unwrap());
        assert_eq!(id.to_url(), url);
        assert_eq!(id.to_string(), text);
    }
}

#[test]
fn js_remote_heads_are_base58check_change_hashes() {
    let Message::RemoteHeadsChanged { new_heads, .. } =
        Message::decode(&fixture("remote-heads-changed")).unwrap()
    else {
        panic!("not remote-heads-changed");
    };
    let heads = &new_heads.values().next().unwrap().heads;
    assert_eq!(decode_heads(heads).unwrap().len(), heads.len());
}

fn server() -> Connection {
    Connection::incoming(
        PeerInfo {
            peer_id: PeerId::new("sync-server"),
            metadata: PeerMetadata::default(),
        },
        ConnectionConfig::default(),
    )
}

#[test]
fn our_server_accepts_a_js_join_and_answers_like_the_js_server() {
    let mut conn = server();
    let now = Timestamp::from_millis(1);
    conn.handle(now, ConnectionInput::start());
    let results = conn.handle(now, ConnectionInput::receive(fixture("join")));
    let Some(ConnectionEvent::Established(peer)) = results.events.first() else {
        panic!("not established: {results:?}");
    };
    assert_eq!(peer.peer_id, PeerId::new("alice"));
    assert!(peer.metadata.storage_id.is_some());
    let [reply] = results.outgoing.as_slice() else {
        panic!("expected one reply");
    };
    let Message::Peer {
        target_id,
        selected_protocol_version,
        ..
    } = Message::decode(reply).unwrap()
    else {
        panic!("expected peer");
    };
    assert_eq!(target_id, PeerId::new("alice"));
    assert_eq!(selected_protocol_version, "1");

    // The JS client's first request for a document reaches the document's state machine.
    let mut request = Message::decode(&fixture("request")).unwrap();
    if let Message::Request { sender_id, .. } = &mut request {
        *sender_id = PeerId::new("alice");
    }
    let results = conn.handle(now, ConnectionInput::receive(request.encode()));
    assert!(matches!(
        results.events.as_slice(),
        [ConnectionEvent::Document { .. }]
    ));
}

#[test]
fn our_server_rejects_an_unsupported_version_as_the_js_server_does() {
    let mut conn = server();
    let now = Timestamp::from_millis(1);
    let results = conn.handle(
        now,
        ConnectionInput::receive(fixture("join-unsupported-version")),
    );
    assert!(results.close);
    assert_eq!(
        results.events,
        vec![ConnectionEvent::Failed(
            ConnectionError::UnsupportedProtocolVersion(vec!["2".into()])
        )]
    );
    let [reply] = results.outgoing.as_slice() else {
        panic!("expected one reply");
    };
    let js = Message::decode(&fixture("error")).unwrap();
    match (Message::decode(reply).unwrap(), js) {
        (
            Message::Error {
                sender_id,
                target_id,
                ..
            },
            Message::Error {
                sender_id: js_sender,
                ..
            },
        ) => {
            assert_eq!(sender_id, js_sender);
            assert_eq!(target_id, Some(PeerId::new("carol")));
        }
        other => panic!("expected errors, got {other:?}"),
    }
}

#[test]
fn our_client_completes_the_handshake_with_a_js_server_reply() {
    let Message::Peer { target_id, .. } = Message::decode(&fixture("peer")).unwrap() else {
        panic!("not peer");
    };
    let mut conn = Connection::outgoing(
        PeerInfo {
            peer_id: target_id,
            metadata: PeerMetadata {
                storage_id: None,
                is_ephemeral: true,
            },
        },
        ConnectionConfig::default(),
    );
    let now = Timestamp::from_millis(1);
    let start = conn.handle(now, ConnectionInput::start());
    let [join] = start.outgoing.as_slice() else {
        panic!("expected a join");
    };
    // Our join is byte for byte what JS's ephemeral client sends, minus cbor-x's map headers and
    // its `storageId: undefined`.
    assert!(matches!(
        Message::decode(join).unwrap(),
        Message::Join { supported_protocol_versions, .. } if supported_protocol_versions == ["1"]
    ));
    let results = conn.handle(now, ConnectionInput::receive(fixture("peer")));
    let Some(ConnectionEvent::Established(peer)) = results.events.first() else {
        panic!("not established: {results:?}");
    };
    assert_eq!(peer.peer_id, PeerId::new("sync-server"));
}
