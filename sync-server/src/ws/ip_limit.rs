//! Open WebSocket connections per IP address ([`crate::SyncLimits::max_connections_per_ip`]).
//!
//! The address is the socket's, as `Server::run` records it (`ConnectInfo`), or, when that is
//! the reverse proxy the operator named (`--trusted-proxy`), the client its `X-Forwarded-For`
//! names (the accounts' `client_ip.rs`, so both count the same client). Connections from
//! [`crate::SyncLimits::trusted_proxies`] (loopback by default) are not counted.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

/// The peer's IP address, if the server records it (requests in in-process tests have none).
pub(crate) struct PeerIp(pub(crate) Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// How many connections each address has open.
pub(crate) struct IpConnections {
    limit: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl IpConnections {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            open: Mutex::default(),
        })
    }

    /// A permit for one more connection from `ip`, if it has fewer than the limit open; the
    /// connection holds it until it closes.
    pub(crate) fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Option<IpPermit> {
        let mut open = self.lock();
        let count = open.entry(ip).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(IpPermit {
            connections: self.clone(),
            ip,
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        // Held for a map update only, never across an `.await`.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One open connection from an address; dropping it frees the place.
pub(crate) struct IpPermit {
    connections: Arc<IpConnections>,
    ip: IpAddr,
}

impl Drop for IpPermit {
    fn drop(&mut self) {
        let mut open = self.connections.lock();
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                // The map holds only addresses with connections open.
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_address_and_freed() {
        let connections = IpConnections::new(2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = connections.try_acquire(a).unwrap();
        let _second = connections.try_acquire(a).unwrap();
        assert!(connections.try_acquire(a).is_none());
        assert!(connections.try_acquire(b).is_some());
        drop(first);
        assert!(connections.try_acquire(a).is_some());
        assert_eq!(
            connections.lock().len(),
            1,
            "addresses without connections are dropped"
        );
    }
}
