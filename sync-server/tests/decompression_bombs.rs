//! Decompression bombs on `/sync`: a sync message whose changes are a deflate stream of a few
//! hundred KiB that inflates to 256 MiB, as a compressed change chunk and as a document chunk's
//! compressed column. The peer gets an `error` and is closed, nothing is stored, and the
//! server's peak memory (this process's, measured) grows by far less than the bomb. Also a
//! `have` Bloom filter that would make automerge divide by zero in the document's task.

mod support;

use automerge::{ROOT, transaction::Transactable};
use futures_util::SinkExt;
use support::{
    Client, TestServer, all_stored_keys, random_document_id, raw_connect, raw_handshake,
    raw_until_closed,
};
use sync::{DocumentId, Message, PeerId};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// What each bomb inflates to.
const INFLATED: usize = 256 * 1024 * 1024;
/// Peak memory growth tolerated while the server refuses a bomb (other work in this process,
/// the message itself and its copies included).
const TOLERATED_GROWTH: u64 = 64 * 1024 * 1024;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// A raw deflate stream that inflates to `inflated` zero bytes: one fully flushed block of 1
/// MiB of zeros (it refers to nothing before it), repeated, then an empty final block.
fn deflate_bomb(inflated: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    const BLOCK: usize = 1024 * 1024;
    let zeros = vec![0u8; BLOCK];
    let mut block = Vec::with_capacity(BLOCK);
    let mut compress = Compress::new(Compression::best(), false);
    compress
        .compress_vec(&zeros, &mut block, FlushCompress::Full)
        .unwrap();
    assert_eq!(compress.total_in(), BLOCK as u64);
    let mut end = Vec::with_capacity(64);
    Compress::new(Compression::best(), false)
        .compress_vec(&[], &mut end, FlushCompress::Finish)
        .unwrap();
    let mut bomb = Vec::new();
    for _ in 0..inflated / BLOCK {
        bomb.extend_from_slice(&block);
    }
    bomb.extend_from_slice(&end);
    bomb
}

fn uleb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// An automerge chunk of `chunk_type` around `body` (the checksum is left zero: automerge
/// inflates before it checks it).
fn chunk(chunk_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend([0, 0, 0, 0, chunk_type]);
    uleb(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

/// A document chunk (type 0) with one actor, no heads and one deflated change column.
fn document_bomb(inflated: usize) -> Vec<u8> {
    let column = deflate_bomb(inflated);
    let mut body = Vec::new();
    uleb(1, &mut body);
    uleb(16, &mut body);
    body.extend([7u8; 16]);
    uleb(0, &mut body);
    // Change columns: one, id 0, type 0 (group card), deflate bit set.
    uleb(1, &mut body);
    uleb(0b1000, &mut body);
    uleb(column.len() as u64, &mut body);
    // No op columns.
    uleb(0, &mut body);
    body.extend_from_slice(&column);
    chunk(0, &body)
}

/// The `sync` message that carries `changes` as its only chunk.
fn sync_carrying(us: &PeerId, server: &PeerId, doc: DocumentId, changes: Vec<u8>) -> Vec<u8> {
    use automerge::sync::SyncDoc;
    let mut message = automerge::Automerge::new()
        .generate_sync_message(&mut automerge::sync::State::new())
        .unwrap();
    message.changes = changes.into();
    Message::Sync {
        sender_id: us.clone(),
        target_id: server.clone(),
        document_id: doc,
        data: message.encode(),
    }
    .encode()
}

fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Sends a `sync` for `doc` carrying `changes` from a fresh raw peer; returns the `error` it
/// got and the growth of this process's peak resident memory (reset first) meanwhile.
async fn attack(
    server: &TestServer,
    name: &str,
    doc: DocumentId,
    changes: Vec<u8>,
) -> (Option<String>, u64) {
    let mut ws = raw_connect(&server.url()).await;
    let (us, server_peer) = raw_handshake(&mut ws, name).await;
    let frame = sync_carrying(&us, &server_peer, doc, changes);
    // Resets VmHWM (the peak) to the current resident size.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = proc_status_kib("VmRSS:");
    ws.send(WsMessage::Binary(frame.into())).await.unwrap();
    let error = raw_until_closed(&mut ws).await;
    let peak = proc_status_kib("VmHWM:");
    (error, peak.saturating_sub(before) * 1024)
}

#[test]
fn the_bombs_inflate_as_claimed() {
    use std::io::Read;
    let bomb = deflate_bomb(4 * 1024 * 1024);
    let mut inflated = Vec::new();
    flate2::read::DeflateDecoder::new(&bomb[..])
        .read_to_end(&mut inflated)
        .unwrap();
    assert_eq!(inflated.len(), 4 * 1024 * 1024);
    // About 1,000 times: 256 MiB from a few hundred KiB.
    assert!(deflate_bomb(INFLATED).len() < 512 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_change_and_document_bombs_are_refused_without_inflating_them() {
    let server = TestServer::start().await;
    let keys_before = all_stored_keys(&server.data()).await.len();
    let doc = random_document_id();
    let compressed = chunk(2, &deflate_bomb(INFLATED));
    let (error, growth) = attack(&server, "bomber-1", doc, compressed).await;
    println!("compressed change bomb: peak memory grew by {growth} bytes");
    let error = error.expect("an error message");
    assert!(error.contains("compressed change"), "{error}");
    assert!(growth < TOLERATED_GROWTH, "grew by {growth} bytes");

    let document = document_bomb(INFLATED);
    let (error, growth) = attack(&server, "bomber-2", doc, document).await;
    println!("document bomb: peak memory grew by {growth} bytes");
    let error = error.expect("an error message");
    assert!(error.contains("inflate to more than"), "{error}");
    assert!(growth < TOLERATED_GROWTH, "grew by {growth} bytes");

    let dir = server.stop().await;
    let data = dir.path().join("data");
    assert_eq!(support::stored_entries(&data, doc).await, 0);
    assert_eq!(all_stored_keys(&data).await.len(), keys_before);
}

#[tokio::test]
async fn a_have_bloom_filter_without_bits_is_refused_before_the_document_sees_it() {
    let server = TestServer::start().await;
    let mut anna = Client::new("anna");
    anna.connect(&server.url()).await.unwrap();
    let doc = anna
        .create(|tx| {
            tx.put(ROOT, "title", "Dorpsfeest").unwrap();
        })
        .await
        .unwrap();
    anna.pump_until(|c| c.in_sync(doc)).await.unwrap();

    // One entry, 0 bits per entry, 7 probes, no bits: automerge 0.12 takes every hash modulo
    // the filter's size in bits, zero, and panics.
    let bloom = automerge::sync::BloomFilter::try_from(&[1u8, 0, 7][..]).unwrap();
    let mut ws = raw_connect(&server.url()).await;
    let (us, server_peer) = raw_handshake(&mut ws, "bloomer").await;
    let mut message = {
        use automerge::sync::SyncDoc;
        automerge::Automerge::new()
            .generate_sync_message(&mut automerge::sync::State::new())
            .unwrap()
    };
    message.have = vec![automerge::sync::Have {
        last_sync: Vec::new(),
        bloom,
    }];
    let request = Message::Request {
        sender_id: us,
        target_id: server_peer,
        document_id: doc,
        data: message.encode(),
    };
    ws.send(WsMessage::Binary(request.encode().into()))
        .await
        .unwrap();
    let error = raw_until_closed(&mut ws).await.expect("an error message");
    assert!(error.contains("Bloom filter"), "{error}");

    // The document's task is unharmed: an edit still reaches a second reader.
    anna.edit(doc, |tx| {
        tx.put(ROOT, "title", "Dorpsfeest 2027").unwrap();
    })
    .await
    .unwrap();
    anna.pump_until(|c| c.in_sync(doc)).await.unwrap();
    let expected = anna.heads(doc);
    let mut bert = Client::new("bert");
    bert.connect(&server.url()).await.unwrap();
    bert.find(doc).await.unwrap();
    bert.pump_until(|c| c.heads(doc) == expected).await.unwrap();
    server.stop().await;
}
