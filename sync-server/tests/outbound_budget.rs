//! A peer that asks for more than it reads: its queue on the server is bounded in bytes
//! (`SyncLimits::outbound_queue_bytes`), not only in messages; past the budget it is
//! disconnected as too slow, as past the message cap.

mod support;

use automerge::{ROOT, transaction::Transactable};
use futures_util::SinkExt;
use support::{Client, PATIENCE, Rng, TestServer, raw_connect_small_receive_buffer, raw_handshake};
use sync::Message;
use sync_server::SyncLimits;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_whose_queue_passes_the_byte_budget_is_disconnected() {
    const BUDGET: usize = 64 * 1024;
    const DOC_TEXT: usize = 100 * 1024;
    let limits = SyncLimits {
        outbound_queue_bytes: BUDGET,
        // A write to bert, who reads nothing, gives up soon.
        send_timeout: std::time::Duration::from_secs(2),
        ..SyncLimits::default()
    };
    let server = TestServer::start_with_small_send_buffers(limits).await;
    // Six documents of 100 KiB that does not compress.
    let mut anna = Client::new("anna");
    anna.connect(&server.url()).await.unwrap();
    let mut rng = Rng::new(7);
    let mut docs = Vec::new();
    for _ in 0..6 {
        let text: String = (0..DOC_TEXT)
            .map(|_| char::from(b'a' + rng.below(26) as u8))
            .collect();
        let id = anna
            .create(|tx| {
                tx.put(ROOT, "text", text.as_str()).unwrap();
            })
            .await
            .unwrap();
        anna.pump_until(|c| c.in_sync(id)).await.unwrap();
        docs.push(id);
    }
    let before = server.server.open_connections();

    // Bert asks for all six and reads nothing.
    let mut ws = raw_connect_small_receive_buffer(&server.url()).await;
    let (us, server_peer) = raw_handshake(&mut ws, "bert").await;
    for &doc in &docs {
        use automerge::sync::SyncDoc;
        let hello = automerge::Automerge::new()
            .generate_sync_message(&mut automerge::sync::State::new())
            .unwrap();
        let request = Message::Request {
            sender_id: us.clone(),
            target_id: server_peer.clone(),
            document_id: doc,
            data: hello.encode(),
        };
        ws.send(WsMessage::Binary(request.encode().into()))
            .await
            .unwrap();
    }
    // Six answers of about 60 KiB (the documents, compressed) against a budget of 64 KiB: the
    // first is queued, the second ends the connection (once its blocked write gives up).
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut peak_queued = 0;
    while server.server.open_connections() > before {
        peak_queued = peak_queued.max(server.server.queued_outbound_bytes());
        assert!(
            tokio::time::Instant::now() < deadline,
            "bert is still connected with {} bytes queued",
            server.server.queued_outbound_bytes()
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    println!("peak bytes queued for bert, who did not read: {peak_queued}");
    assert!(peak_queued > 0, "the first answer waits for bert");
    assert!(peak_queued <= BUDGET, "{peak_queued} bytes queued");
    assert_eq!(server.server.queued_outbound_bytes(), 0, "all counted off");
    drop(ws);
    server.stop().await;
}
