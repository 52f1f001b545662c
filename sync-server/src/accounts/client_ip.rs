//! The client's address for the rate limits: the socket's peer, unless that peer is a reverse
//! proxy the operator named (`--trusted-proxy`), whose `X-Forwarded-For` then names the client.
//!
//! Anyone can send `X-Forwarded-For`; only the proxy's own appended entry is true. So the
//! header is read only when the socket peer is a trusted proxy, and from the right: the last
//! entry that is not itself a trusted proxy is the client (entries left of it are whatever the
//! client chose to send). IPv6 clients are keyed by their /64, the block one subscriber holds
//! (an attacker with one /64 has 2^64 addresses).

use std::net::{IpAddr, Ipv6Addr};

/// The key the rate limits count `peer`'s requests under, given the `X-Forwarded-For` headers
/// (joined by commas) and the trusted proxies.
pub(crate) fn client_key(peer: IpAddr, forwarded: Option<&str>, trusted: &[IpAddr]) -> String {
    key(client(peer.to_canonical(), forwarded, trusted))
}

/// The request's `X-Forwarded-For` headers joined by commas, if it has any.
pub(crate) fn forwarded_for(headers: &axum::http::HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// The client's address itself (what [`client_key`] counts under, without the /64 keying):
/// for the sync endpoint's per-address connection cap.
pub(crate) fn client_addr(peer: IpAddr, forwarded: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    client(peer.to_canonical(), forwarded, trusted)
}

/// Says once that requests arrive with `X-Forwarded-For` but no proxy is trusted: behind a
/// reverse proxy that is not named with `--trusted-proxy`, every client counts as the proxy
/// and shares its limits (20 sign-ups an hour for the whole municipality).
pub(crate) fn warn_untrusted_forwarding(peer: IpAddr) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "requests from {peer} carry X-Forwarded-For, but no --trusted-proxy is set: if \
             {peer} is your reverse proxy, name it, or all its clients share one rate limit"
        );
    }
}

fn client(peer: IpAddr, forwarded: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(forwarded) = forwarded else {
        return peer;
    };
    for entry in forwarded.rsplit(',') {
        let Some(ip) = parse(entry.trim()) else {
            // Not an address: the chain cannot be followed further; the proxy is the client.
            return peer;
        };
        if !trusted.contains(&ip) {
            return ip;
        }
    }
    peer
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:80`.
fn parse(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(addr) = entry.parse::<std::net::SocketAddr>() {
        return Some(addr.ip().to_canonical());
    }
    None
}

fn key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy_and_from_the_right() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted = [proxy];
        let other: IpAddr = "192.0.2.1".parse().unwrap();
        let xff = Some("6.6.6.6, 203.0.113.7");
        assert_eq!(client_key(other, xff, &trusted), "192.0.2.1");
        assert_eq!(client_key(proxy, xff, &trusted), "203.0.113.7");
        assert_eq!(client_key(proxy, None, &trusted), "10.0.0.2");
        assert_eq!(
            client_key(proxy, Some("203.0.113.7, 10.0.0.2"), &trusted),
            "203.0.113.7"
        );
        assert_eq!(client_key(proxy, Some("junk"), &trusted), "10.0.0.2");
        assert_eq!(
            client_key(proxy, Some("[2001:db8:1:2:3::9]:443"), &trusted),
            "2001:db8:1:2::/64"
        );
        let mapped: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        assert_eq!(client_key(mapped, xff, &trusted), "203.0.113.7");
    }
}
