//! Hostile or broken input gives a typed error, never a panic.

use proptest::prelude::*;
use sync::{
    Connection, ConnectionConfig, ConnectionError, ConnectionEvent, ConnectionInput, DecodeError,
    DocInput, DocMessage, DocSync, DocumentId, Message, PeerId, PeerInfo, PeerMetadata, Timestamp,
};

fn fixtures() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cbor"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    all.sort();
    all
}

fn info(name: &str) -> PeerInfo {
    PeerInfo {
        peer_id: PeerId::new(name),
        metadata: PeerMetadata::default(),
    }
}

const NOW: Timestamp = Timestamp::from_millis(1_000);

/// A server-side connection whose handshake with "alice" is done.
fn established() -> Connection {
    let mut conn = Connection::incoming(info("server"), ConnectionConfig::default());
    let join = Message::Join {
        sender_id: PeerId::new("alice"),
        supported_protocol_versions: vec!["1".into()],
        peer_metadata: None,
    };
    let results = conn.handle(NOW, ConnectionInput::receive(join.encode()));
    assert!(matches!(
        results.events.as_slice(),
        [ConnectionEvent::Established(_)]
    ));
    conn
}

fn assert_failed(results: &sync::ConnectionResults) -> &ConnectionError {
    assert!(results.close, "connection stays open: {results:?}");
    let [reply] = results.outgoing.as_slice() else {
        panic!("expected one error message, got {results:?}");
    };
    assert!(matches!(Message::decode(reply), Ok(Message::Error { .. })));
    match results.events.as_slice() {
        [ConnectionEvent::Failed(e)] => e,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn every_truncation_of_every_js_message_is_an_error() {
    for bytes in fixtures() {
        for end in 0..bytes.len() {
            assert!(Message::decode(&bytes[..end]).is_err(), "{end} bytes");
        }
    }
}

#[test]
fn malformed_cbor_fails_the_connection_with_an_error_message() {
    let mut conn = established();
    let results = conn.handle(NOW, ConnectionInput::receive(vec![0xb9, 0x00]));
    assert!(matches!(
        assert_failed(&results),
        ConnectionError::Decode(DecodeError::Malformed(_))
    ));
    assert!(conn.is_closed());
    // A closed connection stays closed and says nothing more.
    let after = conn.handle(NOW, ConnectionInput::receive(vec![0xa0]));
    assert!(after.close && after.outgoing.is_empty() && after.events.is_empty());
}

#[test]
fn the_cddl_name_metadata_is_read_as_peer_metadata() {
    let join = Message::Join {
        sender_id: PeerId::new("carol"),
        supported_protocol_versions: vec!["1".into()],
        peer_metadata: Some(PeerMetadata {
            storage_id: None,
            is_ephemeral: true,
        }),
    };
    let bytes = join.encode();
    let at = bytes
        .windows(12)
        .position(|w| w == b"peerMetadata")
        .unwrap();
    // Replace the 12-byte key (header 0x6c) with the 8-byte `metadata` (header 0x68).
    let mut cddl = bytes[..at - 1].to_vec();
    cddl.push(0x68);
    cddl.extend(b"metadata");
    cddl.extend(&bytes[at + 12..]);
    assert_eq!(Message::decode(&cddl), Ok(join));
}

#[test]
fn non_map_messages_and_trailing_bytes_are_errors() {
    assert_eq!(Message::decode(&[0x01]), Err(DecodeError::NotAMap));
    assert_eq!(Message::decode(&[0x80]), Err(DecodeError::NotAMap));
    let mut leave = Message::Leave {
        sender_id: PeerId::new("alice"),
    }
    .encode();
    leave.push(0x00);
    assert_eq!(Message::decode(&leave), Err(DecodeError::TrailingBytes));
}

#[test]
fn wrong_field_types_and_missing_fields_are_errors() {
    // {"type": "sync", "senderId": 7}
    let bytes = [
        0xa2, 0x64, b't', b'y', b'p', b'e', 0x64, b's', b'y', b'n', b'c', 0x68, b's', b'e', b'n',
        b'd', b'e', b'r', b'I', b'd', 0x07,
    ];
    assert_eq!(
        Message::decode(&bytes),
        Err(DecodeError::WrongType { field: "senderId" })
    );
    // {"type": "sync"}
    let mut only_type = vec![0xa1];
    only_type.extend_from_slice(&bytes[1..11]);
    assert_eq!(
        Message::decode(&only_type),
        Err(DecodeError::MissingField {
            message_type: "sync",
            field: "senderId"
        })
    );
    // A document id that is not base58check.
    let bad_id = Message::DocUnavailable {
        sender_id: PeerId::new("a"),
        target_id: PeerId::new("b"),
        document_id: DocumentId::from_bytes([1; 16]),
    }
    .encode();
    let good = DocumentId::from_bytes([1; 16]).to_string();
    let pos = bad_id
        .windows(good.len())
        .position(|w| w == good.as_bytes())
        .unwrap();
    let mut broken = bad_id.clone();
    broken[pos] = if broken[pos] == b'2' { b'3' } else { b'2' };
    assert!(matches!(
        Message::decode(&broken),
        Err(DecodeError::BadDocumentId(_))
    ));
}

#[test]
fn an_unknown_message_type_fails_the_connection() {
    let mut conn = established();
    // {"type": "gossip", "senderId": "alice"}
    let mut bytes = vec![0xa2, 0x64];
    bytes.extend(b"type");
    bytes.push(0x66);
    bytes.extend(b"gossip");
    bytes.push(0x68);
    bytes.extend(b"senderId");
    bytes.push(0x65);
    bytes.extend(b"alice");
    let results = conn.handle(NOW, ConnectionInput::receive(bytes));
    assert_eq!(
        assert_failed(&results),
        &ConnectionError::Decode(DecodeError::UnknownType("gossip".into()))
    );
}

#[test]
fn an_oversized_frame_is_refused_unread() {
    let config = ConnectionConfig {
        max_message_size: 1024,
        ..ConnectionConfig::default()
    };
    let mut conn = Connection::incoming(info("server"), config);
    let results = conn.handle(NOW, ConnectionInput::receive(vec![0xff; 1025]));
    assert_eq!(
        assert_failed(&results),
        &ConnectionError::Decode(DecodeError::TooLarge {
            size: 1025,
            limit: 1024
        })
    );
    // The default limit refuses a 64 MiB frame too.
    let huge = vec![0u8; 64 * 1024 * 1024];
    assert!(matches!(
        Message::decode(&huge),
        Err(DecodeError::TooLarge { .. })
    ));
}

#[test]
fn a_wrong_protocol_version_from_the_server_fails_the_client() {
    let mut conn = Connection::outgoing(info("alice"), ConnectionConfig::default());
    conn.handle(NOW, ConnectionInput::start());
    let peer = Message::Peer {
        sender_id: PeerId::new("server"),
        target_id: PeerId::new("alice"),
        selected_protocol_version: "2".into(),
        peer_metadata: None,
    };
    let results = conn.handle(NOW, ConnectionInput::receive(peer.encode()));
    assert_eq!(
        assert_failed(&results),
        &ConnectionError::UnsupportedProtocolVersion(vec!["2".into()])
    );
}

#[test]
fn document_messages_before_the_handshake_fail_the_connection() {
    let mut conn = Connection::incoming(info("server"), ConnectionConfig::default());
    let sync = Message::Sync {
        sender_id: PeerId::new("alice"),
        target_id: PeerId::new("server"),
        document_id: DocumentId::from_bytes([3; 16]),
        data: vec![0x42],
    };
    let results = conn.handle(NOW, ConnectionInput::receive(sync.encode()));
    assert_eq!(
        assert_failed(&results),
        &ConnectionError::Unexpected {
            expected: "join",
            got: "sync"
        }
    );
}

#[test]
fn messages_in_someone_elses_name_fail_the_connection() {
    let mut conn = established();
    let spoofed = Message::Sync {
        sender_id: PeerId::new("mallory"),
        target_id: PeerId::new("server"),
        document_id: DocumentId::from_bytes([3; 16]),
        data: vec![0x42],
    };
    let results = conn.handle(NOW, ConnectionInput::receive(spoofed.encode()));
    assert!(matches!(
        assert_failed(&results),
        ConnectionError::WrongSender { .. }
    ));

    let mut conn = established();
    let misaddressed = Message::DocUnavailable {
        sender_id: PeerId::new("alice"),
        target_id: PeerId::new("bob"),
        document_id: DocumentId::from_bytes([3; 16]),
    };
    let results = conn.handle(NOW, ConnectionInput::receive(misaddressed.encode()));
    assert!(matches!(
        assert_failed(&results),
        ConnectionError::WrongTarget { .. }
    ));
}

#[test]
fn a_handshake_that_never_finishes_times_out() {
    let config = ConnectionConfig::default();
    let timeout = config.handshake_timeout_ms;
    let mut conn = Connection::incoming(info("server"), config);
    conn.handle(NOW, ConnectionInput::start());
    let early = Timestamp::from_millis(NOW.as_millis() + timeout);
    assert_eq!(
        conn.handle(early, ConnectionInput::tick()),
        Default::default()
    );
    let late = Timestamp::from_millis(NOW.as_millis() + timeout + 1);
    let results = conn.handle(late, ConnectionInput::tick());
    assert_eq!(assert_failed(&results), &ConnectionError::HandshakeTimeout);
    // An established connection does not time out.
    let mut conn = established();
    let much_later = Timestamp::from_millis(NOW.as_millis() + 10 * timeout);
    assert_eq!(
        conn.handle(much_later, ConnectionInput::tick()),
        Default::default()
    );
}

#[test]
fn leave_and_remote_errors_close_quietly() {
    let mut conn = established();
    let leave = Message::Leave {
        sender_id: PeerId::new("alice"),
    };
    let results = conn.handle(NOW, ConnectionInput::receive(leave.encode()));
    assert_eq!(results.events, vec![ConnectionEvent::Left]);
    assert!(results.close && results.outgoing.is_empty());

    let mut conn = established();
    let error = Message::Error {
        sender_id: Some(PeerId::new("alice")),
        target_id: None,
        message: "bye".into(),
    };
    let results = conn.handle(NOW, ConnectionInput::receive(error.encode()));
    assert_eq!(
        results.events,
        vec![ConnectionEvent::RemoteError("bye".into())]
    );
    assert!(results.close && results.outgoing.is_empty());

    let mut conn = established();
    let results = conn.handle(NOW, ConnectionInput::leave());
    assert!(results.close);
    assert_eq!(
        results
            .outgoing
            .iter()
            .map(|b| Message::decode(b).unwrap())
            .collect::<Vec<_>>(),
        vec![Message::Leave {
            sender_id: PeerId::new("server")
        }]
    );
    assert!(
        conn.encode_document_message(DocumentId::from_bytes([1; 16]), DocMessage::Unavailable)
            .is_err()
    );
}

#[test]
fn deeply_nested_cbor_does_not_overflow_the_stack() {
    // {"type": "sync", "x": [[[[…]]]]} with a million levels, skipped as an unknown field.
    let mut bytes = vec![0xa2, 0x64];
    bytes.extend(b"type");
    bytes.push(0x64);
    bytes.extend(b"sync");
    bytes.push(0x61);
    bytes.push(b'x');
    bytes.extend(std::iter::repeat_n(0x81, 1_000_000));
    bytes.push(0x00);
    assert!(matches!(
        Message::decode(&bytes),
        Err(DecodeError::MissingField { .. })
    ));
}

/// Random bytes, and random mutations of real JS messages.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    let fixtures = fixtures();
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        (
            0..fixtures.len(),
            proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
        )
            .prop_map(move |(which, edits)| {
                let mut bytes = fixtures[which].clone();
                for (at, value) in edits {
                    let i = at.index(bytes.len());
                    bytes[i] = value;
                }
                bytes
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn decoding_random_bytes_never_panics(bytes in hostile_bytes()) {
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn connections_survive_random_bytes(frames in proptest::collection::vec(hostile_bytes(), 1..4)) {
        for mut conn in [
            Connection::incoming(info("server"), ConnectionConfig::default()),
            Connection::outgoing(info("sync-server"), ConnectionConfig::default()),
            established(),
        ] {
            conn.handle(NOW, ConnectionInput::start());
            for frame in &frames {
                let results = conn.handle(NOW, ConnectionInput::receive(frame.clone()));
                // Whatever we send back is a well-formed message.
                for out in &results.outgoing {
                    prop_assert!(Message::decode(out).is_ok());
                }
            }
        }
    }
}

/// Random automerge sync data: noise behind a sync message's type byte, or mutations of a
/// real sync message from JS.
fn hostile_sync_data() -> impl Strategy<Value = Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let Ok(Message::Sync { data: real, .. }) =
        Message::decode(&std::fs::read(dir.join("sync.cbor")).unwrap())
    else {
        panic!("sync.cbor is not a sync message");
    };
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256).prop_map(|mut v| {
            v.insert(0, 0x42);
            v
        }),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6).prop_map(
            move |edits| {
                let mut bytes = real.clone();
                for (at, value) in edits {
                    let i = at.index(bytes.len());
                    bytes[i] = value;
                }
                bytes
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn document_syncs_survive_random_sync_data(data in hostile_sync_data()) {
        let mut doc = automerge::Automerge::new();
        let mut sync = DocSync::new();
        for message in [DocMessage::Request(data.clone()), DocMessage::Sync(data)] {
            let _ = sync.handle(NOW, &mut doc, DocInput::receive(message));
        }
        // The document is still usable.
        let _ = doc.save();
    }
}

#[test]
fn ids_longer_than_the_limit_are_refused_before_they_are_copied() {
    use sync::{MAX_ID_LENGTH, StorageId};
    let long = "x".repeat(MAX_ID_LENGTH + 1);
    let join = |peer: &str, storage: Option<&str>| Message::Join {
        sender_id: PeerId::new(peer),
        supported_protocol_versions: vec![sync::PROTOCOL_VERSION.into()],
        peer_metadata: Some(PeerMetadata {
            storage_id: storage.map(StorageId::new),
            is_ephemeral: false,
        }),
    };
    let at_limit = "y".repeat(MAX_ID_LENGTH);
    assert!(Message::decode(&join(&at_limit, Some(&at_limit)).encode()).is_ok());
    for (message, field) in [
        (join(&long, None), "senderId"),
        (join("peer", Some(&long)), "storageId"),
    ] {
        assert_eq!(
            Message::decode(&message.encode()),
            Err(DecodeError::TooLong {
                field,
                limit: MAX_ID_LENGTH
            })
        );
    }
}
