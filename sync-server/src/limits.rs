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
    /// Bytes waiting to be written to one connection, beyond which (as beyond
    /// [`SyncLimits::outbound_queue`] messages) it is disconnected as too slow. A message
    /// larger than this still goes out when nothing else is queued, so the first sync of the
    /// largest document allowed ([`SyncLimits::max_message_size`]) always fits. Default 32
    /// MiB: twice the largest message, room for a first sync plus the small messages behind
    /// it; 256 messages of 16 MiB (the message cap alone) would have been 4 GiB.
    pub outbound_queue_bytes: usize,
    /// The most bytes one sync message's changes may hold once inflated (deflated columns of
    /// a whole document counted inflated; compressed change chunks and bundles are refused
    /// outright, automerge never sends them in sync). Checked by inflating into nothing before
    /// automerge sees the bytes. Default 64 MiB: a synthetic village document of 5,000 posts
    /// saves to 296 KB that inflate to 1.6 MB (5.4×), so this is room for a document some 40
    /// times that size, while a deflate bomb reaches about 1,000× (a 260 KiB message made the
    /// server allocate 815 MB before this check).
    pub max_inflated_size: usize,
    /// The largest ephemeral payload relayed (presence, cursors). Default 4 KiB: a cursor or
    /// presence record is tens of bytes; each payload goes to every reader of the document
    /// (one shared copy, but one frame per reader on the wire), so a large one amplifies.
    pub max_ephemeral_size: usize,
    /// Ephemeral messages one connection may send per second (the same number may come at
    /// once after a quiet second); more are dropped. Default 20: a cursor update every 50 ms.
    pub ephemeral_per_second: u32,
    /// Storage ids one connection may subscribe to for heads gossip. Default 64: a client
    /// subscribes to the storage ids of the servers it syncs with, one or two.
    pub max_subscriptions_per_connection: usize,
    /// Simultaneous WebSocket connections from one IP address, as the socket shows it.
    /// Default 64: a household behind one NAT with a few devices and tabs each, far below what
    /// one host opening sockets to fill [`SyncLimits::max_connections`] would need.
    pub max_connections_per_ip: usize,
    /// Addresses whose own connections are not counted per IP. Default: the loopback
    /// addresses (local tools and benchmarks). Behind a reverse proxy named with
    /// `--trusted-proxy`, each connection counts for the client the proxy's
    /// `X-Forwarded-For` names instead.
    pub trusted_proxies: Vec<std::net::IpAddr>,
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
            outbound_queue_bytes: 32 * 1024 * 1024,
            max_inflated_size: 64 * 1024 * 1024,
            max_ephemeral_size: 4 * 1024,
            ephemeral_per_second: 20,
            max_subscriptions_per_connection: 64,
            max_connections_per_ip: 64,
            trusted_proxies: vec![
                std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::Ipv6Addr::LOCALHOST.into(),
            ],
        }
    }
}
