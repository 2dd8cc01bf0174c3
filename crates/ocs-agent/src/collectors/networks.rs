//! NETWORKS: every interface except loopback, one row per address as the Unix agent sends
//! them (an interface with an IPv4 and an IPv6 address gives two rows; one without address
//! gives one). Link data comes from `/sys/class/net`, addresses from netlink, gateways from
//! the kernel routing tables, and the DHCP server from the lease files of dhclient,
//! systemd-networkd and NetworkManager.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{key_value, key_values, Context, Row};
use crate::error::Error;
use crate::netlink::{self, IfAddr};

/// The mask of a prefix, written as the agents write it (`255.255.255.0`,
/// `ffff:ffff:ffff:ffff::`).
pub fn mask(addr: &IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(_) => {
            let bits = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix.min(32)))
            };
            IpAddr::V4(Ipv4Addr::from(bits))
        }
        IpAddr::V6(_) => {
            let bits = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix.min(128)))
            };
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

/// The network address of `addr/prefix`.
pub fn subnet(addr: &IpAddr, prefix: u8) -> IpAddr {
    match (addr, mask(addr, prefix)) {
        (IpAddr::V4(a), IpAddr::V4(m)) => IpAddr::V4(Ipv4Addr::from(u32::from(*a) & u32::from(m))),
        (IpAddr::V6(a), IpAddr::V6(m)) => {
            IpAddr::V6(Ipv6Addr::from(u128::from(*a) & u128::from(m)))
        }
        _ => *addr,
    }
}

/// IPv4 default gateways per interface, from `/proc/net/route`.
pub fn ipv4_gateways(route: &str) -> BTreeMap<String, Ipv4Addr> {
    route
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 8 || f[1] != "00000000" || f[7] != "00000000" {
                return None;
            }
            let gw = Ipv4Addr::from(u32::from_str_radix(f[2], 16).ok()?.swap_bytes());
            (!gw.is_unspecified()).then(|| (f[0].to_owned(), gw))
        })
        .collect()
}

/// IPv6 default gateways per interface, from `/proc/net/ipv6_route`.
pub fn ipv6_gateways(route: &str) -> BTreeMap<String, Ipv6Addr> {
    route
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // dest, dest prefix, src, src prefix, next hop, metric, refcnt, use, flags, iface
            if f.len() < 10 || f[1] != "00" || f[0].chars().any(|c| c != '0') {
                return None;
            }
            let gw = Ipv6Addr::from(u128::from_str_radix(f[4], 16).ok()?);
            (!gw.is_unspecified()).then(|| (f[9].to_owned(), gw))
        })
        .collect()
}

/// DHCP servers per interface from dhclient lease files (the last lease of each interface
/// wins, as dhclient appends).
pub fn parse_dhclient_leases(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for block in text.split("lease {").skip(1) {
        let block = block.split('}').next().unwrap_or("");
        let mut iface = None;
        let mut server = None;
        for line in block.lines().map(|l| l.trim().trim_end_matches(';')) {
            if let Some(i) = line.strip_prefix("interface ") {
                iface = Some(i.trim_matches('"').to_owned());
            } else if let Some(s) = line.strip_prefix("option dhcp-server-identifier ") {
                server = Some(s.trim().to_owned());
            }
        }
        if let (Some(i), Some(s)) = (iface, server) {
            out.insert(i, s);
        }
    }
    out
}

fn dhcp_servers(ctx: &Context, index_to_name: &BTreeMap<u32, String>) -> BTreeMap<String, String> {
    let mut servers = BTreeMap::new();
    for dir in [
        "/var/lib/dhcp",
        "/var/lib/dhclient",
        "/var/lib/NetworkManager",
    ] {
        for file in ctx.list(dir) {
            if !(file.ends_with(".leases") || file.ends_with(".lease")) {
                continue;
            }
            let Some(text) = ctx.read_opt(&format!("{dir}/{file}")) else {
                continue;
            };
            if text.contains("lease {") {
                servers.extend(parse_dhclient_leases(&text));
            } else if let Some(server) = key_value(&key_values(&text), "SERVER_ADDRESS") {
                // NetworkManager's internal client: internal-<uuid>-<iface>.lease
                if let Some(iface) = file.trim_end_matches(".lease").rsplit('-').next() {
                    servers.insert(iface.to_owned(), server.to_owned());
                }
            }
        }
    }
    for index in ctx.list("/run/systemd/netif/leases") {
        let Some(text) = ctx.read_opt(&format!("/run/systemd/netif/leases/{index}")) else {
            continue;
        };
        let name = index
            .parse::<u32>()
            .ok()
            .and_then(|i| index_to_name.get(&i));
        if let (Some(name), Some(server)) = (name, key_value(&key_values(&text), "SERVER_ADDRESS"))
        {
            servers.insert(name.clone(), server.to_owned());
        }
    }
    servers
}

/// (TYPE, TYPEMIB) of an interface from its ARP hardware type and udev device type.
pub fn link_type(
    arphrd: u32,
    devtype: Option<&str>,
    wireless: bool,
) -> (&'static str, &'static str) {
    match (devtype, wireless, arphrd) {
        (Some("wlan"), _, _) | (_, true, _) => ("wifi", "ieee80211"),
        (Some("bridge"), _, _) => ("bridge", "bridge"),
        (Some("bond"), _, _) => ("bond", "ieee8023adLag"),
        (Some("vlan"), _, _) => ("vlan", "l2vlan"),
        (Some("wwan"), _, _) => ("wwan", "wwanPP"),
        (_, _, 1) => ("ethernet", "ethernetCsmacd"),
        (_, _, 32) => ("infiniband", "infiniband"),
        (_, _, 512) => ("ppp", "ppp"),
        (_, _, 772) => ("loopback", "softwareLoopback"),
        (_, _, 768..=779) | (_, _, 65534) => ("tunnel", "tunnel"),
        _ => ("other", "other"),
    }
}

/// Reads the network interfaces.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let names: Vec<String> = ctx.list("/sys/class/net");
    let mut index_to_name = BTreeMap::new();
    for n in &names {
        if let Some(i) = ctx
            .attr(&format!("/sys/class/net/{n}/ifindex"))
            .and_then(|i| i.parse::<u32>().ok())
        {
            index_to_name.insert(i, n.clone());
        }
    }
    let addresses = match netlink::addresses(ctx) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "interface addresses unavailable; NETWORKS without IP data");
            Vec::new()
        }
    };
    let gw4 = ipv4_gateways(&ctx.read_opt("/proc/net/route").unwrap_or_default());
    let gw6 = ipv6_gateways(&ctx.read_opt("/proc/net/ipv6_route").unwrap_or_default());
    let dhcp = dhcp_servers(ctx, &index_to_name);

    let mut rows = Vec::new();
    for name in names.iter().filter(|n| n.as_str() != "lo") {
        let base = format!("/sys/class/net/{name}");
        let attr = |p: &str| ctx.attr(&format!("{base}/{p}"));
        let uevent = key_values(&ctx.read_opt(&format!("{base}/uevent")).unwrap_or_default());
        let arphrd: u32 = attr("type").and_then(|t| t.parse().ok()).unwrap_or(0);
        if arphrd == 772 {
            continue;
        }
        let (kind, mib) = link_type(
            arphrd,
            key_value(&uevent, "DEVTYPE"),
            ctx.exists(&format!("{base}/wireless")),
        );
        let mut link = Row::new();
        link.set("TYPE", kind);
        link.set("TYPEMIB", mib);
        link.set_opt(
            "MACADDR",
            attr("address").filter(|m| m != "00:00:00:00:00:00"),
        );
        link.set_opt("MTU", attr("mtu"));
        let flags = attr("flags")
            .and_then(|f| crate::pci::parse_hex(&f))
            .unwrap_or(0);
        let up = match attr("operstate").as_deref() {
            Some("up") => true,
            Some("unknown") => flags & 1 != 0 && attr("carrier").as_deref() == Some("1"),
            _ => false,
        };
        link.set("STATUS", if up { "Up" } else { "Down" });
        if let Some(speed) = attr("speed")
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|s| *s > 0)
        {
            link.set("SPEED", format!("{speed} Mbps"));
        }
        link.set_opt(
            "DUPLEX",
            attr("duplex").filter(|d| d != "unknown").map(|d| {
                let mut c = d.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }),
        );
        let physical = ctx.exists(&format!("{base}/device"));
        link.set("VIRTUALDEV", if physical { "0" } else { "1" });
        link.set_opt("DRIVER", ctx.link_name(&format!("{base}/device/driver")));
        let device_uevent = key_values(
            &ctx.read_opt(&format!("{base}/device/uevent"))
                .unwrap_or_default(),
        );
        link.set_opt(
            "PCISLOT",
            key_value(&device_uevent, "PCI_SLOT_NAME")
                .map(|s| s.strip_prefix("0000:").unwrap_or(s).to_owned()),
        );
        link.set_opt("SLAVE", ctx.link_name(&format!("{base}/master")));
        link.set_opt("IPDHCP", dhcp.get(name).cloned());

        let index = attr("ifindex").and_then(|i| i.parse::<u32>().ok());
        let mut mine: Vec<&IfAddr> = addresses
            .iter()
            .filter(|a| Some(a.index) == index)
            .collect();
        // IPv4 first, as the original lists them.
        mine.sort_by_key(|a| a.addr.is_ipv6());
        if mine.is_empty() {
            let mut row = link.clone();
            row.set("DESCRIPTION", name.clone());
            rows.push(row);
            continue;
        }
        for a in mine {
            let mut row = link.clone();
            row.set(
                "DESCRIPTION",
                a.label.clone().unwrap_or_else(|| name.clone()),
            );
            row.set("IPADDRESS", a.addr.to_string());
            row.set("IPMASK", mask(&a.addr, a.prefix).to_string());
            row.set("IPSUBNET", subnet(&a.addr, a.prefix).to_string());
            let gateway = match a.addr {
                IpAddr::V4(_) => gw4.get(name).map(ToString::to_string),
                IpAddr::V6(_) => gw6.get(name).map(ToString::to_string),
            };
            row.set_opt("IPGATEWAY", gateway);
            if a.addr.is_ipv6() {
                row.remove("IPDHCP");
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_vm() {
        let rows = collect(&machine("vm-debian12", true)).unwrap();
        let summary: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (field(r, "DESCRIPTION"), field(r, "IPADDRESS")))
            .collect();
        assert_eq!(
            summary,
            [
                ("eth0", "192.0.2.2"),
                ("eth0", "fd00::2"),
                ("eth0", "fe80::fc:ff:fe00:1"),
                ("ifb0", ""),
                ("ifb1", ""),
            ]
        );
        let v4 = &rows[0];
        assert_eq!(field(v4, "IPMASK"), "255.255.255.0");
        assert_eq!(field(v4, "IPSUBNET"), "192.0.2.0");
        assert_eq!(field(v4, "IPGATEWAY"), "192.0.2.1");
        assert_eq!(field(v4, "MACADDR"), "02:fc:00:00:00:01");
        assert_eq!(field(v4, "MTU"), "1400");
        assert_eq!(field(v4, "STATUS"), "Up");
        assert_eq!(field(v4, "TYPE"), "ethernet");
        assert_eq!(field(v4, "VIRTUALDEV"), "0");
        assert_eq!(field(v4, "DRIVER"), "virtio_net");
        assert_eq!(v4.get("DUPLEX"), None, "virtio says unknown");
        assert_eq!(v4.get("SPEED"), None, "virtio reports no speed");
        let v6 = &rows[2];
        assert_eq!(field(v6, "IPMASK"), "ffff:ffff:ffff:ffff::");
        assert_eq!(field(v6, "IPSUBNET"), "fe80::");
        assert_eq!(field(&rows[3], "VIRTUALDEV"), "1");
        assert_eq!(field(&rows[3], "STATUS"), "Down");
    }

    #[test]
    fn the_laptop() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        let wifi = rows
            .iter()
            .find(|r| field(r, "IPADDRESS") == "192.168.1.23")
            .unwrap();
        assert_eq!(field(wifi, "TYPE"), "wifi");
        assert_eq!(field(wifi, "IPDHCP"), "192.168.1.1");
        assert_eq!(field(wifi, "IPGATEWAY"), "192.168.1.1");
        assert_eq!(field(wifi, "PCISLOT"), "00:14.3");
        let bridge = rows
            .iter()
            .find(|r| field(r, "DESCRIPTION") == "docker0")
            .unwrap();
        assert_eq!(field(bridge, "TYPE"), "bridge");
        assert_eq!(field(bridge, "VIRTUALDEV"), "1");
        let eth = rows
            .iter()
            .find(|r| field(r, "DESCRIPTION") == "enp0s31f6")
            .unwrap();
        assert_eq!(field(eth, "SPEED"), "1000 Mbps");
        assert_eq!(field(eth, "STATUS"), "Up");
    }

    #[test]
    fn masks_and_subnets() {
        let a: IpAddr = "10.1.2.40".parse().unwrap();
        assert_eq!(mask(&a, 16).to_string(), "255.255.0.0");
        assert_eq!(subnet(&a, 16).to_string(), "10.1.0.0");
        assert_eq!(mask(&a, 0).to_string(), "0.0.0.0");
        let b: IpAddr = "2001:db8:1:2::5".parse().unwrap();
        assert_eq!(mask(&b, 48).to_string(), "ffff:ffff:ffff::");
        assert_eq!(subnet(&b, 48).to_string(), "2001:db8:1::");
    }

    #[test]
    fn routes_and_leases() {
        let v6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 wlp0s20f3\nfe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 wlp0s20f3\n";
        assert_eq!(
            ipv6_gateways(v6)
                .get("wlp0s20f3")
                .map(ToString::to_string)
                .as_deref(),
            Some("fe80::1")
        );
        let leases = "lease {\n  interface \"eth0\";\n  fixed-address 10.0.0.5;\n  option dhcp-server-identifier 10.0.0.1;\n}\nlease {\n  interface \"eth0\";\n  option dhcp-server-identifier 10.0.0.2;\n}\n";
        assert_eq!(
            parse_dhclient_leases(leases)
                .get("eth0")
                .map(String::as_str),
            Some("10.0.0.2")
        );
    }
}
