//! IP discovery (reference §2.1.5, §5.4): when the server elects this machine to map its
//! network (the PROLOG reply's `IPDISCOVER` option) or `--ipdisc NET` asks for it, the agent
//! sends an ARP request to every address of that network from the interface that is on it,
//! waiting the server's latency between probes, and reports who answered in the
//! inventory's `IPDISCOVER` section.
//!
//! ARP rather than ping: every IPv4 host must answer ARP to be reachable at all, firewalled
//! or not. It needs a raw socket (root or `CAP_NET_RAW`); without one the scan is skipped
//! with a warning and the inventory goes without the section. The option's
//! `SCAN_TYPE_IPDISCOVER` and `SCAN_ARP_BANDWIDTH` choose between the Unix agent's external
//! scanners; with one built-in ARP scan there is nothing to choose, so they are not read.
//!
//! [`arp`] builds and reads frames, [`socket`] owns the raw socket, [`names`] gives host
//! names; this module decides what to scan and runs the scan.

pub mod arp;
pub mod names;
pub mod socket;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use ocs_proto::inventory::DiscoveredHost;
use ocs_proto::reply::PrologReply;
use rustix::io::Errno;

use crate::collectors::Context;
use crate::error::Error;
use crate::netlink::{self, IfAddr};

/// Milliseconds between probes when neither the server nor the command line says.
pub const DEFAULT_LATENCY_MS: u64 = 100;
/// Longest latency accepted: beyond it a /24 would take more than 40 minutes.
pub const MAX_LATENCY_MS: u64 = 10_000;
/// The widest network scanned, as the server's election rules require (no wider than /16:
/// 65,534 probes).
pub const WIDEST_PREFIX: u8 = 16;
/// How long late replies are awaited after the last probe.
pub const FINAL_WAIT: Duration = Duration::from_millis(1500);

/// A scan to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOrder {
    /// The network address (`192.0.2.0`).
    pub netid: Ipv4Addr,
    /// Wait between two probes.
    pub latency: Duration,
}

/// The scan asked for: `--ipdisc` (`forced`) whatever the server says, else the PROLOG
/// reply's `IPDISCOVER` option. The latency is `--ipdisc-latency`, else the server's
/// `IPDISC_LAT`, else [`DEFAULT_LATENCY_MS`].
pub fn order(
    reply: Option<&PrologReply>,
    forced: Option<Ipv4Addr>,
    latency_ms: Option<u64>,
) -> Option<ScanOrder> {
    let elected = reply.and_then(from_reply);
    let netid = forced.or(elected.map(|(netid, _)| netid))?;
    let ms = latency_ms
        .or(elected.and_then(|(_, lat)| lat))
        .unwrap_or(DEFAULT_LATENCY_MS);
    if ms > MAX_LATENCY_MS {
        tracing::warn!(
            latency_ms = ms,
            max = MAX_LATENCY_MS,
            "IP discovery latency too long; using the maximum"
        );
    }
    Some(ScanOrder {
        netid,
        latency: Duration::from_millis(ms.min(MAX_LATENCY_MS)),
    })
}

/// The PROLOG's `IPDISCOVER` option: the first PARAM's text is the network, its
/// `IPDISC_LAT` the latency in milliseconds (as the Unix agent reads them).
fn from_reply(reply: &PrologReply) -> Option<(Ipv4Addr, Option<u64>)> {
    let param = reply.option("IPDISCOVER")?.params.first()?;
    let text = param.text.as_deref().unwrap_or_default().trim();
    let Ok(netid) = text.parse::<Ipv4Addr>() else {
        tracing::warn!(
            network = text,
            "the server asked for an IP discovery of something that is not an IPv4 network; ignored"
        );
        return None;
    };
    let latency = param
        .attributes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("IPDISC_LAT"))
        .and_then(|(_, v)| v.trim().parse::<u64>().ok())
        .filter(|&ms| ms > 0);
    Some((netid, latency))
}

/// The interface a scan goes out of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Interface index.
    pub index: u32,
    /// Interface name (without an alias suffix).
    pub name: String,
    /// Our address there.
    pub ip: Ipv4Addr,
    /// Its prefix length.
    pub prefix: u8,
}

fn network(ip: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    Ipv4Addr::from(u32::from(ip) & mask)
}

/// The interface whose IPv4 network is `netid`; wider than /16 is refused.
pub fn find_target(addrs: &[IfAddr], netid: Ipv4Addr) -> Result<Target, Error> {
    let err = |detail: String| Error::IpDiscover {
        netid: netid.to_string(),
        detail,
    };
    let found = addrs.iter().find_map(|a| match a.addr {
        IpAddr::V4(ip) if !ip.is_loopback() && a.prefix <= 32 && network(ip, a.prefix) == netid => {
            Some((a, ip))
        }
        _ => None,
    });
    let Some((a, ip)) = found else {
        let ours: Vec<String> = addrs
            .iter()
            .filter_map(|a| match a.addr {
                IpAddr::V4(ip) if !ip.is_loopback() && a.prefix <= 32 => {
                    Some(format!("{}/{}", network(ip, a.prefix), a.prefix))
                }
                _ => None,
            })
            .collect();
        return Err(err(format!(
            "no interface of this machine is on that network (ours: {})",
            if ours.is_empty() {
                "none".to_owned()
            } else {
                ours.join(", ")
            }
        )));
    };
    if a.prefix < WIDEST_PREFIX {
        return Err(err(format!(
            "the network is a /{}, wider than /{WIDEST_PREFIX}: not scanned",
            a.prefix
        )));
    }
    let label = a.label.clone().unwrap_or_default();
    let name = label.split(':').next().unwrap_or_default().to_owned();
    if name.is_empty() {
        return Err(err("the interface has no name".into()));
    }
    Ok(Target {
        index: a.index,
        name,
        ip,
        prefix: a.prefix,
    })
}

/// Every address to probe: the network's hosts (not its network and broadcast addresses,
/// except on /31 where both are hosts), without our own.
pub fn probes(t: &Target) -> impl Iterator<Item = Ipv4Addr> {
    let base = u32::from(network(t.ip, t.prefix));
    let size = 1u64 << (32 - u32::from(t.prefix));
    let (first, last) = if size <= 2 {
        (0, size - 1)
    } else {
        (1, size - 2)
    };
    let ours = t.ip;
    (first..=last)
        .filter_map(move |k| u32::try_from(k).ok().map(|k| Ipv4Addr::from(base + k)))
        .filter(move |ip| *ip != ours)
}

/// Runs a scan and returns who answered, in address order. Only on the live machine.
pub fn scan(ctx: &Context, order: &ScanOrder) -> Result<Vec<DiscoveredHost>, Error> {
    let netid = order.netid.to_string();
    if !ctx.is_live() {
        return Err(Error::IpDiscover {
            netid,
            detail: "not the live machine".into(),
        });
    }
    let target = find_target(&netlink::addresses(ctx)?, order.netid)?;
    let our_mac = ctx
        .attr(&format!("/sys/class/net/{}/address", target.name))
        .and_then(|m| arp::parse_mac(&m))
        .ok_or_else(|| Error::IpDiscover {
            netid: netid.clone(),
            detail: format!("no MAC address for {}", target.name),
        })?;
    let sock = socket::ArpSocket::open(target.index).map_err(|e| {
        if e == Errno::PERM || e == Errno::ACCESS {
            Error::IpDiscoverPrivilege {
                interface: target.name.clone(),
                detail: e.to_string(),
            }
        } else {
            Error::IpDiscover {
                netid: netid.clone(),
                detail: format!("raw socket on {}: {e}", target.name),
            }
        }
    })?;
    let started = Instant::now();
    tracing::info!(
        network = %order.netid,
        prefix = target.prefix,
        interface = %target.name,
        latency_ms = order.latency.as_millis() as u64,
        "IP discovery started"
    );
    let io = |what: &str, e: Errno| Error::IpDiscover {
        netid: netid.clone(),
        detail: format!("{what} on {}: {e}", target.name),
    };
    let mut found = BTreeMap::new();
    let mut buf = [0u8; 2048];
    let mut probes_sent = 0u32;
    for ip in probes(&target) {
        sock.send(&arp::request(our_mac, target.ip, ip))
            .map_err(|e| io("send", e))?;
        probes_sent += 1;
        collect(
            &sock,
            &mut buf,
            &target,
            Instant::now() + order.latency,
            &mut found,
        )
        .map_err(|e| io("receive", e))?;
    }
    collect(
        &sock,
        &mut buf,
        &target,
        Instant::now() + FINAL_WAIT,
        &mut found,
    )
    .map_err(|e| io("receive", e))?;
    let names = names::hosts_file(ctx);
    let hosts: Vec<DiscoveredHost> = found
        .into_iter()
        .map(|(ip, mac)| DiscoveredHost {
            ip: ip.to_string(),
            mac: arp::mac_text(mac),
            name: names
                .get(&ip)
                .cloned()
                .unwrap_or_else(|| names::NO_NAME.to_owned()),
        })
        .collect();
    tracing::info!(
        network = %order.netid,
        probes = probes_sent,
        found = hosts.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "IP discovery done"
    );
    Ok(hosts)
}

/// Reads replies until `until`, keeping the first MAC each address of the network gave.
fn collect(
    sock: &socket::ArpSocket,
    buf: &mut [u8],
    target: &Target,
    until: Instant,
    found: &mut BTreeMap<Ipv4Addr, [u8; 6]>,
) -> Result<(), Errno> {
    let net = network(target.ip, target.prefix);
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        let Some(n) = sock.recv(buf, left)? else {
            continue;
        };
        let frame = buf.get(..n).unwrap_or_default();
        if let Some((ip, mac)) = arp::reply_sender(frame, target.ip) {
            if ip != target.ip && network(ip, target.prefix) == net && mac != [0; 6] {
                found.entry(ip).or_insert(mac);
            }
        }
    }
}

/// Runs the scan the order asks for; a failure is logged (a missing privilege as the
/// warning an operator needs) and gives `None`, so the inventory still goes.
pub fn run(ctx: &Context, order: &ScanOrder) -> Option<Vec<DiscoveredHost>> {
    match scan(ctx, order) {
        Ok(hosts) => Some(hosts),
        Err(e @ Error::IpDiscoverPrivilege { .. }) => {
            tracing::warn!("{e}");
            None
        }
        Err(e) => {
            tracing::warn!("{e}; the inventory is sent without the IPDISCOVER section");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocs_proto::reply::{Param, PrologResponse, ReplyOption};

    fn reply(params: Vec<Param>) -> PrologReply {
        PrologReply {
            response: PrologResponse::Send,
            prolog_freq: 24,
            inventory_on_startup: 0,
            options: vec![ReplyOption {
                name: "IPDISCOVER".into(),
                params,
            }],
        }
    }

    fn param(attrs: &[(&str, &str)], text: &str) -> Param {
        Param {
            text: Some(text.into()),
            ..Param::with_attributes(attrs.iter().copied())
        }
    }

    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn order_from_the_prolog_and_the_command_line() {
        let r = reply(vec![param(
            &[("IPDISC_LAT", "20"), ("SCAN_TYPE_IPDISCOVER", "ICMP")],
            "192.0.2.0",
        )]);
        assert_eq!(
            order(Some(&r), None, None),
            Some(ScanOrder {
                netid: v4("192.0.2.0"),
                latency: Duration::from_millis(20)
            })
        );
        // --ipdisc wins over the server's network, --ipdisc-latency over its latency.
        let o = order(Some(&r), Some(v4("198.51.100.0")), Some(5)).unwrap();
        assert_eq!(
            (o.netid, o.latency),
            (v4("198.51.100.0"), Duration::from_millis(5))
        );
        let o = order(Some(&r), Some(v4("198.51.100.0")), None).unwrap();
        assert_eq!(o.latency, Duration::from_millis(20));
        // A legacy PARAM without attributes, and no option at all.
        let legacy = reply(vec![param(&[], " 10.1.2.0 ")]);
        assert_eq!(
            order(Some(&legacy), None, None),
            Some(ScanOrder {
                netid: v4("10.1.2.0"),
                latency: Duration::from_millis(DEFAULT_LATENCY_MS)
            })
        );
        let none = PrologReply {
            options: vec![],
            ..legacy.clone()
        };
        assert_eq!(order(Some(&none), None, None), None);
        assert_eq!(order(None, None, None), None);
        assert_eq!(
            order(None, Some(v4("10.0.0.0")), Some(MAX_LATENCY_MS * 10))
                .unwrap()
                .latency,
            Duration::from_millis(MAX_LATENCY_MS)
        );
        assert_eq!(
            order(Some(&reply(vec![param(&[], "not an address")])), None, None),
            None
        );
    }

    fn addr(index: u32, label: &str, ip: &str, prefix: u8) -> IfAddr {
        IfAddr {
            index,
            label: Some(label.into()),
            addr: ip.parse().unwrap(),
            prefix,
            scope: 0,
        }
    }

    #[test]
    fn the_interface_on_the_network_is_chosen_and_wide_networks_refused() {
        let addrs = vec![
            addr(1, "lo", "127.0.0.1", 8),
            addr(2, "eth0", "192.0.2.10", 24),
            addr(3, "eth1:1", "10.20.30.40", 16),
            addr(4, "eth2", "172.16.0.1", 12),
        ];
        let t = find_target(&addrs, v4("192.0.2.0")).unwrap();
        assert_eq!(
            (t.index, t.name.as_str(), t.ip, t.prefix),
            (2, "eth0", v4("192.0.2.10"), 24)
        );
        let t = find_target(&addrs, v4("10.20.0.0")).unwrap();
        assert_eq!(t.name, "eth1", "an alias scans on its interface");
        let wide = find_target(&addrs, v4("172.16.0.0")).unwrap_err();
        assert!(wide.to_string().contains("wider than /16"), "{wide}");
        let none = find_target(&addrs, v4("198.51.100.0")).unwrap_err();
        assert!(
            none.to_string()
                .contains("ours: 192.0.2.0/24, 10.20.0.0/16"),
            "{none}"
        );
        assert!(
            find_target(&addrs, v4("127.0.0.0")).is_err(),
            "never loopback"
        );
    }

    #[test]
    fn probes_cover_the_hosts_of_the_network_but_ours() {
        let t = |ip: &str, prefix| Target {
            index: 2,
            name: "eth0".into(),
            ip: v4(ip),
            prefix,
        };
        let p: Vec<_> = probes(&t("192.0.2.10", 24)).collect();
        assert_eq!(p.len(), 253);
        assert_eq!((p[0], p[252]), (v4("192.0.2.1"), v4("192.0.2.254")));
        assert!(!p.contains(&v4("192.0.2.10")));
        assert_eq!(probes(&t("10.20.30.40", 16)).count(), 65_533);
        assert_eq!(
            probes(&t("192.0.2.4", 31)).collect::<Vec<_>>(),
            [v4("192.0.2.5")]
        );
        assert_eq!(probes(&t("192.0.2.4", 32)).count(), 0);
    }

    #[test]
    fn a_captured_machine_is_never_scanned() {
        let ctx = crate::collectors::testing::machine("vm-debian12", true);
        let o = ScanOrder {
            netid: v4("192.0.2.0"),
            latency: Duration::ZERO,
        };
        assert!(matches!(scan(&ctx, &o), Err(Error::IpDiscover { .. })));
        assert_eq!(run(&ctx, &o), None);
    }
}
