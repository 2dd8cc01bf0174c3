//! The names and addresses a generated server certificate covers: the host name, `localhost`,
//! the loopback addresses, the machine's own addresses, and `[tls] names`. The addresses are
//! read from the kernel's tables (`/proc/net`) rather than found by resolving or connecting,
//! so nothing leaves the machine.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Every name and address, sorted and without duplicates.
pub fn server_names(extra: &[String]) -> Vec<String> {
    let mut names = BTreeSet::new();
    names.insert("localhost".to_owned());
    let host = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    if !host.is_empty() {
        names.insert(host);
    }
    let mut addresses: BTreeSet<IpAddr> = BTreeSet::new();
    addresses.insert(IpAddr::V4(Ipv4Addr::LOCALHOST));
    addresses.insert(IpAddr::V6(Ipv6Addr::LOCALHOST));
    if let Ok(text) = std::fs::read_to_string("/proc/net/fib_trie") {
        addresses.extend(local_ipv4(&text).into_iter().map(IpAddr::V4));
    }
    if let Ok(text) = std::fs::read_to_string("/proc/net/if_inet6") {
        addresses.extend(local_ipv6(&text).into_iter().map(IpAddr::V6));
    }
    names.extend(addresses.iter().map(IpAddr::to_string));
    names.extend(
        extra
            .iter()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
    );
    names.into_iter().collect()
}

/// The host's IPv4 addresses: in `fib_trie`, each address line followed by `/32 host LOCAL`.
fn local_ipv4(fib_trie: &str) -> BTreeSet<Ipv4Addr> {
    let mut found = BTreeSet::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in fib_trie.lines() {
        let line = line.trim();
        if let Some(addr) = line.strip_prefix("|-- ") {
            last = addr.parse().ok();
        } else if line.starts_with("/32 host LOCAL") {
            if let Some(addr) = last {
                found.insert(addr);
            }
        }
    }
    found
}

/// The host's IPv6 addresses, link-local ones left out (a certificate cannot name their zone).
fn local_ipv6(if_inet6: &str) -> BTreeSet<Ipv6Addr> {
    let mut found = BTreeSet::new();
    for line in if_inet6.lines() {
        let Some(hex) = line.split_whitespace().next() else {
            continue;
        };
        let Ok(bits) = u128::from_str_radix(hex, 16) else {
            continue;
        };
        if hex.len() != 32 {
            continue;
        }
        let addr = Ipv6Addr::from(bits);
        if addr.segments()[0] & 0xffc0 != 0xfe80 {
            found.insert(addr);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_addresses_come_from_local_host_entries() {
        let trie = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n     +-- 127.0.0.0/8 2 0 2\n        +-- 127.0.0.0/31 1 0 0\n           |-- 127.0.0.0\n              /8 host LOCAL\n           |-- 127.0.0.1\n              /32 host LOCAL\n     |-- 172.17.0.0\n        /16 link UNICAST\n     |-- 172.17.0.2\n        /32 host LOCAL\n     |-- 172.17.255.255\n        /32 link BROADCAST\n";
        let found: Vec<String> = local_ipv4(trie).iter().map(|a| a.to_string()).collect();
        assert_eq!(found, ["127.0.0.1", "172.17.0.2"]);
    }

    #[test]
    fn ipv6_link_local_is_left_out() {
        let table = "00000000000000000000000000000001 01 80 10 80       lo\nfe800000000000000042acfffe110002 02 40 20 80     eth0\n20010db8000000000000000000000005 02 40 00 80     eth0\nnonsense\n";
        let found: Vec<String> = local_ipv6(table).iter().map(|a| a.to_string()).collect();
        assert_eq!(found, ["::1", "2001:db8::5"]);
    }

    #[test]
    fn names_always_cover_loopback_and_extra_names() {
        let names = server_names(&[" ocs.example.org ".into(), String::new()]);
        for expected in ["localhost", "127.0.0.1", "::1", "ocs.example.org"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        assert!(!names.iter().any(String::is_empty));
    }
}
