//! Attackers: peers that send what no honest client would. Every change they make is by an
//! actor whose id starts with [`ATTACKER`], so that the end of the run can look for them.
//!
//! With trust off every well-formed change is accepted, so the attackers' changes are all
//! ill-formed: a forged checksum, a damaged body, or a dependency that does not exist.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use automerge::{
    ActorId, Change, ChangeHash, ExpandedChange, ScalarValue,
    legacy::{Key, ObjectId, Op, OpType},
    sync::{BloomFilter, ChunkList, Have, Message as SyncMessage, MessageVersion},
};
use futures_util::{SinkExt, StreamExt};
use sync::{DocumentId, PeerId, PeerMetadata};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::watch,
};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::support::{Rng, Ws};

/// The first bytes of every attacker's actor id.
pub const ATTACKER: &[u8; 8] = b"attacker";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Random bytes and text frames, before or after the handshake.
    Garbage,
    /// One binary frame larger than the server's message limit (16 MiB).
    Oversized,
    /// A change whose body was altered after it was made, so that it no longer decodes.
    Forged,
    /// A change altered so that it decodes but does not re-encode to the same bytes (off by
    /// default: see `--non-canonical` in `main.rs`).
    NonCanonical,
    /// A well-formed change depending on a change that does not exist.
    Dangling,
    /// Messages naming another peer as their sender, and a second `join`.
    Impostor,
    /// A WebSocket frame cut off part way, then the TCP connection dropped.
    HalfFrame,
    /// Asks for a busy document, then never reads.
    Silent,
}

pub const KINDS: [Kind; 7] = [
    Kind::Garbage,
    Kind::Oversized,
    Kind::Forged,
    Kind::Dangling,
    Kind::Impostor,
    Kind::HalfFrame,
    Kind::Silent,
];

#[derive(Default)]
pub struct Stats {
    pub attacks: AtomicU64,
    pub oversized_bytes: AtomicU64,
}

/// Attacks until `stop`, one connection at a time.
pub async fn run(
    kind: Kind,
    docs: Arc<Vec<DocumentId>>,
    url: watch::Receiver<Option<String>>,
    mut stop: watch::Receiver<bool>,
    seed: u64,
    stats: Arc<Stats>,
) {
    let mut rng = Rng::new(seed);
    while !*stop.borrow() {
        let current = url.borrow().clone();
        if let Some(current) = current {
            let doc = docs[rng.below(docs.len() as u64) as usize];
            // Bounded: an attack that hangs must not hold up the end of the run.
            let _ = tokio::time::timeout(
                Duration::from_secs(30),
                attack(kind, &current, doc, &mut rng, &stats),
            )
            .await;
            stats.attacks.fetch_add(1, Ordering::Relaxed);
        }
        let pause = match kind {
            // Two of these a minute per attacker are plenty for the server (and this process).
            Kind::Oversized => 20_000,
            _ => 200 + rng.below(2_000),
        };
        let _ = tokio::time::timeout(Duration::from_millis(pause), stop.changed()).await;
    }
}

async fn attack(kind: Kind, url: &str, doc: DocumentId, rng: &mut Rng, stats: &Stats) {
    if kind == Kind::HalfFrame {
        half_frame(url, rng).await;
        return;
    }
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else {
        return;
    };
    let name = format!("attacker-{}", rng.next());
    if kind == Kind::Garbage && rng.below(2) == 0 {
        // Before any handshake.
        let _ = ws
            .send(WsMessage::Binary(random_bytes(rng, 4096).into()))
            .await;
        drain(&mut ws).await;
        return;
    }
    let Some((us, server)) = handshake(&mut ws, &name).await else {
        return;
    };
    let frames: Vec<WsMessage> = match kind {
        Kind::Garbage => vec![
            WsMessage::Binary(random_bytes(rng, 4096).into()),
            WsMessage::Text("{\"type\":\"sync\"}".into()),
        ],
        Kind::Oversized => {
            let size = sync::DEFAULT_MAX_MESSAGE_SIZE + 1024;
            stats
                .oversized_bytes
                .fetch_add(size as u64, Ordering::Relaxed);
            vec![WsMessage::Binary(vec![0xa5; size].into())]
        }
        Kind::Forged | Kind::Dangling | Kind::NonCanonical => {
            let change = bad_change(kind, rng);
            let message = sync_message(vec![change.0], change.1);
            vec![doc_message(&us, &server, doc, message)]
        }
        Kind::Impostor => {
            let other = PeerId::new(format!("resident-{}", rng.below(1000)));
            let (hash, bytes) = bad_change(Kind::Forged, rng);
            vec![
                doc_message(&other, &server, doc, sync_message(vec![hash], bytes)),
                WsMessage::Binary(join(&other).into()),
                doc_message(&us, &other, doc, sync_message(Vec::new(), Vec::new())),
            ]
        }
        Kind::Silent => vec![request(&us, &server, doc)],
        Kind::HalfFrame => unreachable!(),
    };
    for frame in frames {
        if ws.send(frame).await.is_err() {
            return;
        }
    }
    if kind == Kind::Silent {
        // Never reads: whatever the server sends piles up until it gives up on us. (Not a
        // wait for anything: holding the connection is the attack.)
        tokio::time::sleep(Duration::from_millis(2_000 + rng.below(10_000))).await;
        return;
    }
    drain(&mut ws).await;
}

/// Reads until the server closes the connection (or a few seconds pass).
async fn drain(ws: &mut Ws) {
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(frame)) = ws.next().await {
            if matches!(frame, WsMessage::Close(_)) {
                break;
            }
        }
    })
    .await;
}

fn join(us: &PeerId) -> Vec<u8> {
    sync::Message::Join {
        sender_id: us.clone(),
        supported_protocol_versions: vec![sync::PROTOCOL_VERSION.into()],
        peer_metadata: Some(PeerMetadata::default()),
    }
    .encode()
}

async fn handshake(ws: &mut Ws, name: &str) -> Option<(PeerId, PeerId)> {
    let us = PeerId::new(name);
    ws.send(WsMessage::Binary(join(&us).into())).await.ok()?;
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let WsMessage::Binary(bytes) = ws.next().await?.ok()? {
                if let Ok(sync::Message::Peer { sender_id, .. }) = sync::Message::decode(&bytes) {
                    return Some((us.clone(), sender_id));
                }
                return None;
            }
        }
    })
    .await
    .ok()
    .flatten()
}

fn doc_message(from: &PeerId, to: &PeerId, doc: DocumentId, data: Vec<u8>) -> WsMessage {
    let message = sync::Message::Sync {
        sender_id: from.clone(),
        target_id: to.clone(),
        document_id: doc,
        data,
    };
    WsMessage::Binary(message.encode().into())
}

fn request(from: &PeerId, to: &PeerId, doc: DocumentId) -> WsMessage {
    let message = sync::Message::Request {
        sender_id: from.clone(),
        target_id: to.clone(),
        document_id: doc,
        data: sync_message(Vec::new(), Vec::new()),
    };
    WsMessage::Binary(message.encode().into())
}

fn sync_message(heads: Vec<ChangeHash>, change: Vec<u8>) -> Vec<u8> {
    SyncMessage {
        heads,
        need: Vec::new(),
        have: vec![Have {
            last_sync: Vec::new(),
            bloom: BloomFilter::default(),
        }],
        changes: if change.is_empty() {
            ChunkList::empty()
        } else {
            ChunkList::from(change)
        },
        flags: None,
        version: MessageVersion::V1,
    }
    .encode()
}

/// A change by an attacker actor: for `Forged`, its body altered after hashing so that it no
/// longer decodes (automerge does not check the checksum, and most altered bodies decode as
/// another well-formed change, which trust off rightly accepts); for `NonCanonical`, altered
/// so that it still decodes but no longer re-encodes to itself; for `Dangling`, intact but
/// depending on nothing real.
fn bad_change(kind: Kind, rng: &mut Rng) -> (ChangeHash, Vec<u8>) {
    let mut actor = ATTACKER.to_vec();
    actor.extend_from_slice(&rng.next().to_be_bytes());
    let deps = if kind == Kind::Dangling {
        let mut hash = [0u8; 32];
        for chunk in hash.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next().to_be_bytes());
        }
        vec![ChangeHash(hash)]
    } else {
        Vec::new()
    };
    let change = Change::from(ExpandedChange {
        operations: vec![Op {
            action: OpType::Put(ScalarValue::Str("attack".into())),
            obj: ObjectId::Root,
            key: Key::Map("title".into()),
            pred: std::iter::empty().collect(),
            insert: false,
        }],
        actor_id: ActorId::from(actor),
        hash: None,
        seq: 1,
        start_op: std::num::NonZeroU64::MIN,
        time: 0,
        message: None,
        deps,
        extra_bytes: Vec::new(),
        author: None,
    });
    let bytes = change.raw_bytes().to_vec();
    let wanted = |altered: &[u8]| match Change::from_bytes(altered.to_vec()) {
        Err(_) => kind == Kind::Forged,
        Ok(parsed) => {
            kind == Kind::NonCanonical && Change::from(parsed.decode()).hash() != parsed.hash()
        }
    };
    match kind {
        Kind::Forged | Kind::NonCanonical => {
            // Each byte of the body, each of a few alterations, from a random start.
            let start = rng.below(bytes.len() as u64) as usize;
            for i in 0..bytes.len() - 8 {
                let at = 8 + (start + i) % (bytes.len() - 8);
                for flip in [0x5a_u8, 0x01, 0x80, 0xff] {
                    let mut altered = bytes.clone();
                    altered[at] ^= flip;
                    if wanted(&altered) {
                        let hash =
                            Change::from_bytes(altered.clone()).map_or(change.hash(), |c| c.hash());
                        return (hash, altered);
                    }
                }
            }
            // Cut short: never decodes.
            (change.hash(), bytes[..bytes.len() / 2].to_vec())
        }
        _ => (change.hash(), bytes),
    }
}

/// Upgrades a raw TCP connection, sends the start of a frame much longer than what follows,
/// and hangs up.
async fn half_frame(url: &str, rng: &mut Rng) {
    let Some(addr) = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
    else {
        return;
    };
    let Ok(mut tcp) = TcpStream::connect(addr).await else {
        return;
    };
    let upgrade = format!(
        "GET /sync HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    if tcp.write_all(upgrade.as_bytes()).await.is_err() {
        return;
    }
    let mut response = Vec::new();
    let mut buf = [0u8; 1024];
    while !response.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => response.extend_from_slice(&buf[..n]),
            _ => return,
        }
    }
    // A masked binary frame announcing `len` bytes, of which a part is sent.
    let len = 1_000 + rng.below(8 << 20);
    let mut frame = vec![0x82, 0x80 | 127];
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&rng.next().to_be_bytes()[..4]);
    let part = (len / 2).min(64 << 10) as usize;
    frame.extend_from_slice(&random_bytes(rng, part));
    let _ = tcp.write_all(&frame).await;
    // Dropping the stream closes the connection mid-frame.
}

fn random_bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
    let len = 1 + rng.below(max as u64) as usize;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        bytes.extend_from_slice(&rng.next().to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}
