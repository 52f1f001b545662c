//! [`SyncLimits`]: how much one connection, one document and the whole server may hold, and how
//! long a silent peer is kept.

use std::time::Duration;

/// Limits of the `/sync` endpoint. The defaults suit a phone on a slow network; tests shorten
/// the timers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLimits {
    /// A WebSocket message (and frame) longer than this closes the connection unread.
    pub max_message_size: usize,
    /// Frames waiting to be written to one connection. A peer that reads too slowly to keep
    /// its queue below this is disconnected, so it cannot grow the server's memory; it
    /// resyncs when it comes back.
    pub outbound_queue: usize,
    /// Messages waiting for one document's task. A full queue makes the connections sending
    /// to it wait (TCP backpressure), it never drops anything.
    pub document_queue: usize,
    /// Open WebSocket connections at most; further upgrades get 503.
    pub max_connections: usize,
    /// Documents one connection may have open at once; beyond that it gets an `error`.
    pub max_documents_per_connection: usize,
    /// How often the server pings a connection.
    pub ping_interval: Duration,
    /// A connection from which nothing (not even a pong) arrived for this long is closed.
    pub peer_timeout: Duration,
    /// Writing one frame may take at most this long before the connection is closed.
    pub send_timeout: Duration,
    /// Time a new connection has to send `join`.
    pub handshake_timeout: Duration,
    /// A document nobody has open stays in memory this long before it is unloaded.
    pub unload_after: Duration,
    /// The most bytes one sync message's changes may hold once inflated (deflated columns of
    /// a whole document counted inflated; compressed change chunks and bundles are refused
    /// outright, automerge never sends them in sync). Checked by inflating into nothing before
    /// automerge sees the bytes. Default 64 MiB: four times the message size limit; automerge's
    /// column compression of a real document saves well under 4× (its largest column, the
    /// text, is already run-length encoded), and deflate bombs reach about 1,000×.
    pub max_inflated_size: usize,
    /// Storage ids one connection may subscribe to for heads gossip. Default 64: a client
    /// subscribes to the storage ids of the servers it syncs with, one or two.
    pub max_subscriptions_per_connection: usize,
    /// Simultaneous WebSocket connections from one IP address (as the socket shows it: behind
    /// a reverse proxy every client shares the proxy's address, so raise it there). Default
    /// 64: a household behind one NAT with a few devices and tabs each, far below what one
    /// host opening sockets to fill [`SyncLimits::max_connections`] would need.
    pub max_connections_per_ip: usize,
}

impl Default for SyncLimits {
    fn default() -> Self {
        Self {
            max_message_size: sync::DEFAULT_MAX_MESSAGE_SIZE,
            outbound_queue: 256,
            document_queue: 256,
            max_connections: 10_000,
            max_documents_per_connection: 1_000,
            ping_interval: Duration::from_secs(20),
            peer_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(15),
            handshake_timeout: Duration::from_secs(10),
            unload_after: Duration::from_secs(30),
            max_inflated_size: 64 * 1024 * 1024,
            max_subscriptions_per_connection: 64,
            max_connections_per_ip: 64,
        }
    }
}
