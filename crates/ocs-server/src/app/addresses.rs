//! IP addresses and ranges in configuration and options: `TRUSTED_IP`, the trusted reverse
//! proxies, and which hop of an `X-Forwarded-For` chain is the real client. Pure functions,
//! so the rules can be tested without a network.

use std::net::IpAddr;

/// One IP address or CIDR range (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    net: IpAddr,
    bits: u32,
}

impl IpRange {
    /// Parses `ADDR` or `ADDR/BITS`; `None` when it is neither.
    pub fn parse(text: &str) -> Option<IpRange> {
        let text = text.trim();
        let (net, bits) = match text.split_once('/') {
            None => {
                let net: IpAddr = text.parse().ok()?;
                (net, if net.is_ipv4() { 32 } else { 128 })
            }
            Some((net, bits)) => (net.parse().ok()?, bits.parse().ok()?),
        };
        let max = if net.is_ipv4() { 32 } else { 128 };
        (bits <= max).then_some(IpRange { net, bits })
    }

    /// Whether `ip` is in the range. An IPv4 address mapped into IPv6 (`::ffff:a.b.c.d`, as a
    /// dual-stack listener reports IPv4 peers) matches the IPv4 range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - self.bits).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - self.bits).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Whether an address is in a list of IPs and CIDR ranges separated by commas or spaces
/// (`TRUSTED_IP`). Entries that are neither are ignored.
pub fn in_list(ip: IpAddr, list: &str) -> bool {
    list.split([',', ' '])
        .filter_map(IpRange::parse)
        .any(|r| r.contains(ip))
}

/// The real client of a request that came through reverse proxies: walking the chain from
/// the connection's peer leftwards through `X-Forwarded-For`, the first hop that is not a
/// trusted proxy. Entries left of it were written by the client and prove nothing, which is
/// why the left-most entry must never be believed. An unparsable hop ends the walk at the
/// last trusted one's reporter.
pub fn client_behind_proxies(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpRange]) -> IpAddr {
    let mut client = peer;
    if !trusted.iter().any(|r| r.contains(peer)) {
        return client;
    }
    for hop in forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .rev()
    {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !trusted.iter().any(|r| r.contains(ip)) {
            break;
        }
    }
    client
}

/// Whether the connection's peer is one of the trusted proxies (so that its
/// `X-Forwarded-Proto` may be believed).
pub fn is_trusted_proxy(peer: IpAddr, trusted: &[IpRange]) -> bool {
    trusted.iter().any(|r| r.contains(peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn ranges(list: &[&str]) -> Vec<IpRange> {
        list.iter().map(|r| IpRange::parse(r).unwrap()).collect()
    }

    #[test]
    fn ranges_and_lists() {
        assert!(in_list(ip("127.0.0.1"), "127.0.0.1"));
        assert!(!in_list(ip("10.0.0.1"), "127.0.0.1"));
        assert!(in_list(ip("10.1.2.3"), "127.0.0.1, 10.0.0.0/8"));
        assert!(in_list(ip("::1"), "::1/128"));
        assert!(!in_list(ip("10.1.2.3"), "garbage/99"));
        assert!(in_list(ip("::ffff:10.1.2.3"), "10.0.0.0/8"));
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert_eq!(IpRange::parse("10.0.0.0/33"), None);
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop() {
        let trusted = ranges(&["127.0.0.0/8", "192.0.2.0/24"]);
        // The client wrote the left-most entry itself: it is not believed.
        assert_eq!(
            client_behind_proxies(ip("127.0.0.1"), &["6.6.6.6, 198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // Two proxies of ours in a row.
        assert_eq!(
            client_behind_proxies(
                ip("127.0.0.1"),
                &["6.6.6.6", "198.51.100.7, 192.0.2.10"],
                &trusted
            ),
            ip("198.51.100.7")
        );
        // A peer that is no proxy of ours: its header is ignored.
        assert_eq!(
            client_behind_proxies(ip("198.51.100.9"), &["127.0.0.1"], &trusted),
            ip("198.51.100.9")
        );
        // No header, or garbage in it.
        assert_eq!(
            client_behind_proxies(ip("127.0.0.1"), &[], &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_behind_proxies(ip("127.0.0.1"), &["nonsense"], &trusted),
            ip("127.0.0.1")
        );
        // Every hop trusted: the left-most one is as far as the chain goes.
        assert_eq!(
            client_behind_proxies(ip("127.0.0.1"), &["192.0.2.1"], &trusted),
            ip("192.0.2.1")
        );
    }
}
