//! The IP query: everything the database knows about one IPv4 address — inventoried
//! interfaces and computers with it, what scanners saw at it, whether that MAC is identified,
//! and the named networks that contain it. Every read is an index seek (`networks_ipaddress`,
//! `hardware_ipaddr`, `netmap_ip`, the `(netid, tag)` key of `subnets`), so the answer costs
//! the same whatever the size of the fleet or the netmap.

use std::net::Ipv4Addr;

use crate::sql::placeholders;
use crate::{Result, Store};

pub use crate::ipdiscover::subnets::SubnetRecord;

/// Most rows read per kind of match: an address is normally held by one device, so more
/// than this is a misconfiguration worth seeing, not a list worth paging.
pub const MAX_MATCHES: i64 = 100;

/// An inventoried interface with the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceMatch {
    /// The computer's ID.
    pub hardware_id: i64,
    /// The computer's name.
    pub computer: String,
    /// The interface's MAC as inventoried.
    pub mac: String,
    /// The interface's network address (`IPSUBNET`).
    pub subnet: String,
    /// The interface's mask.
    pub mask: String,
    /// Unix time of the computer's last contact, if any.
    pub last_contact: Option<i64>,
}

/// A computer whose main address (`hardware.IPADDR`) is the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputerMatch {
    /// The computer's ID.
    pub hardware_id: i64,
    /// The computer's name.
    pub computer: String,
    /// Unix time of its last contact, if any.
    pub last_contact: Option<i64>,
}

/// What a scan saw at the address (`netmap`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredMatch {
    /// MAC, lower case with colons.
    pub mac: String,
    /// Network address it was seen on.
    pub netid: String,
    /// Mask of that network, as the scanner's interface had it.
    pub mask: String,
    /// Name the scanner resolved (`-` or empty when none).
    pub name: String,
    /// Unix time it was first seen (0: before first sightings were recorded).
    pub first_seen: i64,
    /// Unix time it was last seen.
    pub last_seen: i64,
    /// The computer that reported it, if it still exists: (ID, name).
    pub scanner: Option<(i64, String)>,
    /// The MAC's registration, if an operator identified it: (description, type).
    pub identified: Option<(String, String)>,
}

/// Everything known about one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpLookup {
    /// Inventoried interfaces with the address.
    pub interfaces: Vec<InterfaceMatch>,
    /// Computers whose main address it is.
    pub computers: Vec<ComputerMatch>,
    /// Scan results at the address.
    pub discovered: Vec<DiscoveredMatch>,
    /// Named networks containing it, the most specific first.
    pub subnets: Vec<SubnetRecord>,
}

type InterfaceRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);
type DiscoveredRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The network address of `ip` under every prefix length, /32 first: a named network
/// containing `ip` has one of these as its address, which turns "contains" into an
/// `IN` seek on the indexed address column.
fn candidate_networks(ip: Ipv4Addr) -> Vec<(u32, String)> {
    let bits = u32::from(ip);
    (0..=32u32)
        .rev()
        .map(|len| {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            (len, Ipv4Addr::from(bits & mask).to_string())
        })
        .collect()
}

/// The prefix length of a stored dotted mask, if it is one with contiguous bits.
fn prefix_of(mask: &str) -> Option<u32> {
    let bits = u32::from(mask.trim().parse::<Ipv4Addr>().ok()?);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones)
}

impl Store {
    /// Everything known about `ip`, in four indexed reads.
    pub async fn lookup_ip(&self, ip: Ipv4Addr) -> Result<IpLookup> {
        let text = ip.to_string();
        let interfaces: Vec<InterfaceRow> = sqlx::query_as(
            "SELECT n.hardware_id, h.name, n.macaddr, n.ipsubnet, n.ipmask, h.lastcome \
             FROM networks n JOIN hardware h ON h.id = n.hardware_id \
             WHERE n.ipaddress = $1 ORDER BY n.hardware_id, n.id LIMIT $2",
        )
        .bind(&text)
        .bind(MAX_MATCHES)
        .fetch_all(&self.read_pool)
        .await?;
        let computers: Vec<(i64, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, lastcome FROM hardware WHERE ipaddr = $1 ORDER BY id LIMIT $2",
        )
        .bind(&text)
        .bind(MAX_MATCHES)
        .fetch_all(&self.read_pool)
        .await?;
        let discovered: Vec<DiscoveredRow> = sqlx::query_as(
            "SELECT m.mac, m.netid, m.mask, m.name, m.first_seen, m.date, h.id, h.name, \
             d.description, d.device_type \
             FROM netmap m LEFT JOIN hardware h ON h.id = m.hardware_id \
             LEFT JOIN identified_devices d ON d.mac = m.mac \
             WHERE m.ip = $1 ORDER BY m.date DESC, m.mac LIMIT $2",
        )
        .bind(&text)
        .bind(MAX_MATCHES)
        .fetch_all(&self.read_pool)
        .await?;
        let candidates = candidate_networks(ip);
        let sql = format!(
            "SELECT id, netid, mask, name, network_id, tag FROM subnets WHERE netid IN ({})",
            placeholders(self.backend(), 1, candidates.len())
        );
        let mut q = sqlx::query_as(&sql);
        for (_, netid) in &candidates {
            q = q.bind(netid.clone());
        }
        let named: Vec<(i64, String, String, String, String, String)> =
            q.fetch_all(&self.read_pool).await?;
        // A row is kept only when its own mask puts the address inside it: 192.0.2.0/24 and
        // 192.0.2.0/25 share an address, and 192.0.2.200 is in the first only.
        let mut subnets: Vec<(u32, SubnetRecord)> = named
            .into_iter()
            .map(|(id, netid, mask, name, network_id, tag)| SubnetRecord {
                id,
                netid,
                mask,
                name,
                network_id,
                tag,
            })
            .filter_map(|s| {
                let len = prefix_of(&s.mask)?;
                candidates
                    .iter()
                    .any(|(l, netid)| *l == len && *netid == s.netid)
                    .then_some((len, s))
            })
            .collect();
        subnets.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.tag.cmp(&y.tag)));
        Ok(IpLookup {
            interfaces: interfaces
                .into_iter()
                .map(
                    |(hardware_id, computer, mac, subnet, mask, last_contact)| InterfaceMatch {
                        hardware_id,
                        computer: computer.unwrap_or_default(),
                        mac: mac.unwrap_or_default(),
                        subnet: subnet.unwrap_or_default(),
                        mask: mask.unwrap_or_default(),
                        last_contact,
                    },
                )
                .collect(),
            computers: computers
                .into_iter()
                .map(|(hardware_id, computer, last_contact)| ComputerMatch {
                    hardware_id,
                    computer: computer.unwrap_or_default(),
                    last_contact,
                })
                .collect(),
            discovered: discovered
                .into_iter()
                .map(
                    |(
                        mac,
                        netid,
                        mask,
                        name,
                        first_seen,
                        last_seen,
                        scanner_id,
                        scanner_name,
                        description,
                        device_type,
                    )| DiscoveredMatch {
                        // Both columns are NOT NULL: a description means the join matched.
                        identified: description.map(|d| (d, device_type.unwrap_or_default())),
                        mac,
                        netid: netid.unwrap_or_default(),
                        mask: mask.unwrap_or_default(),
                        name: name.unwrap_or_default(),
                        first_seen,
                        last_seen,
                        scanner: scanner_id.map(|id| (id, scanner_name.unwrap_or_default())),
                    },
                )
                .collect(),
            subnets: subnets.into_iter().map(|(_, s)| s).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipdiscover::identified::IdentifiedDevice;
    use crate::ipdiscover::subnets::NewSubnet;
    use crate::test_support::store;

    async fn exec(store: &Store, sql: &str) {
        let mut tx = store.begin().await.unwrap();
        sqlx::query(sql).execute(tx.conn()).await.unwrap();
        tx.commit().await.unwrap();
    }

    fn named(netid: &str, mask: &str, name: &str) -> NewSubnet {
        NewSubnet {
            netid: netid.into(),
            mask: mask.into(),
            name: name.into(),
            network_id: String::new(),
            tag: String::new(),
        }
    }

    #[test]
    fn candidates_cover_every_prefix_most_specific_first() {
        let c = candidate_networks("192.0.2.177".parse().unwrap());
        assert_eq!(c.len(), 33);
        assert_eq!(c[0], (32, "192.0.2.177".to_owned()));
        assert_eq!(c[8], (24, "192.0.2.0".to_owned()));
        assert_eq!(c[32], (0, "0.0.0.0".to_owned()));
        assert_eq!(prefix_of("255.255.255.128"), Some(25));
        assert_eq!(prefix_of("255.0.255.0"), None);
    }

    #[tokio::test]
    async fn an_address_is_found_in_interfaces_computers_netmap_and_named_networks() {
        let (store, _dir) = store().await;
        exec(
            &store,
            "INSERT INTO hardware (id, deviceid, name, ipaddr, lastcome) VALUES \
             (1, 'pc-1', 'PC-1', '192.0.2.10', 1700000000), \
             (2, 'scanner-1', 'SCANNER', '192.0.2.5', 1700000500)",
        )
        .await;
        exec(
            &store,
            "INSERT INTO networks (hardware_id, macaddr, ipaddress, ipmask, ipsubnet) VALUES \
             (1, '00:0C:29:0A:00:10', '192.0.2.10', '255.255.255.0', '192.0.2.0'), \
             (2, '00:0c:29:0a:00:05', '192.0.2.5', '255.255.255.0', '192.0.2.0')",
        )
        .await;
        exec(
            &store,
            "INSERT INTO netmap (mac, ip, mask, netid, date, name, hardware_id, first_seen) VALUES \
             ('00:0c:29:0a:00:10', '192.0.2.10', '255.255.255.0', '192.0.2.0', 1700000400, 'pc-1', 2, 1690000000), \
             ('3c:52:82:aa:bb:cc', '192.0.2.177', '255.255.255.0', '192.0.2.0', 1700000450, '-', 2, 1690000100), \
             ('3c:52:82:aa:bb:dd', '192.0.2.178', '255.255.255.0', '192.0.2.0', 1700000450, NULL, 99, 0)",
        )
        .await;
        store.insert_device_type("Printer").await.unwrap();
        store
            .register_device(&IdentifiedDevice {
                mac: "3c:52:82:aa:bb:cc".into(),
                description: "hall printer".into(),
                device_type: "Printer".into(),
                registered_by: "admin".into(),
                registered_at: 1_700_000_000,
            })
            .await
            .unwrap();
        // (netid, tag) is unique: the /25 sharing the /24's address is another TAG's name.
        for s in [
            named("192.0.2.0", "255.255.255.0", "Office"),
            NewSubnet {
                tag: "LAB".into(),
                ..named("192.0.2.0", "255.255.255.128", "Office, lower half")
            },
            named("192.0.0.0", "255.255.0.0", "Site"),
            named("198.51.100.0", "255.255.255.0", "DMZ"),
        ] {
            store.insert_subnet(&s).await.unwrap();
        }

        let pc = store
            .lookup_ip("192.0.2.10".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(
            pc.interfaces,
            [InterfaceMatch {
                hardware_id: 1,
                computer: "PC-1".into(),
                mac: "00:0C:29:0A:00:10".into(),
                subnet: "192.0.2.0".into(),
                mask: "255.255.255.0".into(),
                last_contact: Some(1_700_000_000),
            }]
        );
        assert_eq!(
            pc.computers,
            [ComputerMatch {
                hardware_id: 1,
                computer: "PC-1".into(),
                last_contact: Some(1_700_000_000),
            }]
        );
        assert_eq!(pc.discovered.len(), 1);
        assert_eq!(pc.discovered[0].scanner, Some((2, "SCANNER".into())));
        assert_eq!(pc.discovered[0].identified, None);
        let names: Vec<&str> = pc.subnets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Office, lower half", "Office", "Site"]);

        let printer = store
            .lookup_ip("192.0.2.177".parse().unwrap())
            .await
            .unwrap();
        assert!(printer.interfaces.is_empty() && printer.computers.is_empty());
        assert_eq!(
            printer.discovered,
            [DiscoveredMatch {
                mac: "3c:52:82:aa:bb:cc".into(),
                netid: "192.0.2.0".into(),
                mask: "255.255.255.0".into(),
                name: "-".into(),
                first_seen: 1_690_000_100,
                last_seen: 1_700_000_450,
                scanner: Some((2, "SCANNER".into())),
                identified: Some(("hall printer".into(), "Printer".into())),
            }]
        );
        let high: Vec<&str> = printer.subnets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(high, ["Office", "Site"], "the /25 does not hold .177");

        let orphan = store
            .lookup_ip("192.0.2.178".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(orphan.discovered[0].scanner, None, "scanner deleted");
        assert_eq!(orphan.discovered[0].name, "");

        let unknown = store
            .lookup_ip("203.0.113.9".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(unknown, IpLookup::default());
    }
}
