//! The networks list: every network address seen in a scan (`netmap.netid`), on an
//! inventoried interface (`networks.ipsubnet`) or named by an administrator (`subnets`), with
//! its name, mask and four counts. It must stay fast at 500,000 netmap rows over 10,000
//! networks, so each count is one grouped pass that reads an index, never a query per
//! network: the netmap pass reads `netmap_netid`, and non-inventoried devices are the netmap
//! rows minus those whose MAC is known, found by walking the (few) known MACs into netmap's
//! primary key rather than probing every netmap row. Sorting, filtering and paging are the
//! caller's: 10,000 rows sort in well under a millisecond, and network addresses sort
//! numerically, which SQL cannot do the same way on both backends.

use std::collections::BTreeMap;

use crate::{Backend, Result, Store};

/// One network and its counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkSummary {
    /// Network address (`192.0.2.0`).
    pub netid: String,
    /// The administrators' name for it (`''`: none).
    pub name: String,
    /// Dotted mask: the named network's, else an inventoried interface's, else a scan's.
    pub mask: String,
    /// Computers with an interface on it.
    pub inventoried: i64,
    /// Scanned MACs on it that are neither an inventoried interface's nor identified.
    pub uninventoried: i64,
    /// Computers elected (or forced) to scan it.
    pub agents: i64,
    /// Identified devices last seen on it.
    pub identified: i64,
}

/// What the passes found of one network, merged by address.
#[derive(Default)]
struct Partial {
    summary: NetworkSummary,
    /// Netmap rows, and those of a known MAC: their difference is the non-inventoried count.
    scanned: i64,
    known: i64,
    /// Masks by preference: named, inventoried, scanned.
    masks: [Option<String>; 3],
    /// Whether the name comes from the entry for every TAG.
    name_untagged: bool,
}

impl Store {
    /// Every network with its counts, in no particular order.
    pub async fn list_network_summaries(&self) -> Result<Vec<NetworkSummary>> {
        let mut all: BTreeMap<String, Partial> = BTreeMap::new();
        fn entry(
            all: &mut BTreeMap<String, Partial>,
            netid: Option<String>,
        ) -> Option<&mut Partial> {
            let netid = netid.filter(|n| !n.trim().is_empty())?;
            Some(all.entry(netid).or_default())
        }

        // One pass after the other: on SQLite, parallel connections contend for the library's
        // global mutexes and take longer together than in turn. Each pass comes back as one
        // packed text (a line per network), not 10,000 rows: the SQLite driver hands every
        // row to the async side through a channel, and those wake-ups, not the SQL, were
        // most of the page's time.
        let scanned = self
            .packed(
                // One index seek per network for its mask: MAX(mask) would read every row.
                "SELECT m.netid AS k, CAST(COUNT(*) AS TEXT) AS a, \
                 (SELECT o.mask FROM netmap o WHERE o.netid = m.netid LIMIT 1) AS b \
                 FROM netmap m WHERE m.netid IS NOT NULL GROUP BY m.netid",
            )
            .await?;
        // The known MACs lead (CROSS JOIN fixes that order on SQLite): as many as
        // inventoried interfaces plus identified devices, far fewer than netmap rows. One
        // walk counts both the known devices and, among them, the identified ones.
        let known = self
            .packed(
                "SELECT n.netid AS k, CAST(COUNT(*) AS TEXT) AS a, \
                 CAST(SUM(k.identified) AS TEXT) AS b FROM \
                 (SELECT mac, MAX(identified) AS identified FROM \
                  (SELECT LOWER(macaddr) AS mac, 0 AS identified FROM networks \
                   WHERE macaddr IS NOT NULL \
                   UNION ALL SELECT mac, 1 AS identified FROM identified_devices) u \
                  GROUP BY mac) k \
                 CROSS JOIN netmap n WHERE n.mac = k.mac GROUP BY n.netid",
            )
            .await?;
        let inventoried = self
            .packed(
                "SELECT ipsubnet AS k, CAST(COUNT(DISTINCT hardware_id) AS TEXT) AS a, \
                 MAX(ipmask) AS b FROM networks WHERE ipsubnet IS NOT NULL GROUP BY ipsubnet",
            )
            .await?;
        let agents = self
            .packed(
                "SELECT tvalue AS k, CAST(COUNT(DISTINCT hardware_id) AS TEXT) AS a, '' AS b \
                 FROM devices WHERE name = 'IPDISCOVER' AND ivalue > 0 AND tvalue IS NOT NULL \
                 GROUP BY tvalue",
            )
            .await?;
        let named = self.subnet_names().await?;
        for [netid, n, mask] in scanned {
            if let Some(p) = entry(&mut all, Some(netid)) {
                p.scanned = count(&n);
                p.masks[2] = Some(mask);
            }
        }
        for [netid, n, identified] in known {
            if let Some(p) = entry(&mut all, Some(netid)) {
                p.known = count(&n);
                p.summary.identified = count(&identified);
            }
        }
        for [netid, n, mask] in inventoried {
            if let Some(p) = entry(&mut all, Some(netid)) {
                p.summary.inventoried = count(&n);
                p.masks[1] = Some(mask);
            }
        }
        for [netid, n, _] in agents {
            if let Some(p) = entry(&mut all, Some(netid)) {
                p.summary.agents = count(&n);
            }
        }
        for (netid, mask, name, tag) in named {
            let Some(p) = entry(&mut all, Some(netid)) else {
                continue;
            };
            // A name for every TAG wins over a TAG's own; among TAGs' names the first by
            // name, so that the choice does not depend on row order.
            let untagged = tag.is_empty();
            let better = p.summary.name.is_empty()
                || (untagged && !p.name_untagged)
                || (untagged == p.name_untagged && name < p.summary.name);
            if better {
                p.summary.name = name;
                p.name_untagged = untagged;
                p.masks[0] = Some(mask);
            }
        }

        Ok(all
            .into_iter()
            .map(|(netid, p)| {
                let mut s = p.summary;
                s.netid = netid;
                s.uninventoried = (p.scanned - p.known).max(0);
                s.mask = p
                    .masks
                    .into_iter()
                    .flatten()
                    .find(|m| !m.is_empty())
                    .unwrap_or_default();
                s
            })
            .collect())
    }
}

/// A count read back from a packed line (what is not a number counts as none).
fn count(text: &str) -> i64 {
    text.parse().unwrap_or(0)
}

/// Separates the fields of a packed line, and the lines: control characters that no network
/// address, count or mask holds. Any that a stored value does hold (text from an agent) is
/// replaced before packing, so a value can never forge another network's line.
const FIELD: char = '\u{1f}';
const LINE: char = '\u{1e}';

impl Store {
    /// Every named network: (netid, mask, name, tag).
    async fn subnet_names(&self) -> Result<Vec<(String, String, String, String)>> {
        Ok(sqlx::query_as("SELECT netid, mask, name, tag FROM subnets")
            .fetch_all(&self.read_pool)
            .await?)
    }

    /// Runs `inner` (three text columns `k`, `a`, `b`) and returns its rows packed into one
    /// text by the database, unpacked.
    async fn packed(&self, inner: &str) -> Result<Vec<[String; 3]>> {
        let (chr, agg) = match self.backend {
            Backend::Sqlite => ("char", "group_concat(line, char(30))"),
            Backend::Postgres => ("chr", "string_agg(line, chr(30))"),
        };
        let clean = |col: &str| {
            format!("REPLACE(REPLACE(COALESCE({col}, ''), {chr}(30), ' '), {chr}(31), ' ')")
        };
        let sql = format!(
            "SELECT {agg} FROM (SELECT {k} || {chr}(31) || {a} || {chr}(31) || {b} AS line \
             FROM ({inner}) q) p",
            k = clean("q.k"),
            a = clean("q.a"),
            b = clean("q.b"),
        );
        let packed: Option<String> = sqlx::query_scalar(&sql).fetch_one(&self.read_pool).await?;
        Ok(packed
            .unwrap_or_default()
            .split(LINE)
            .filter_map(|line| {
                let mut f = line.split(FIELD).map(str::to_owned);
                Some([f.next()?, f.next()?, f.next()?])
            })
            .collect())
    }
}

impl Store {
    /// The administrators' name of a network (`''`: none), the one for every TAG first.
    pub async fn network_name(&self, netid: &str) -> Result<String> {
        let name: Option<String> = sqlx::query_scalar(
            "SELECT name FROM subnets WHERE netid = $1 ORDER BY CASE WHEN tag = '' THEN 0 ELSE 1 END, name LIMIT 1",
        )
        .bind(netid)
        .fetch_optional(&self.read_pool)
        .await?;
        Ok(name.unwrap_or_default())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ipdiscover::identified::IdentifiedDevice;
    use crate::ipdiscover::subnets::NewSubnet;
    use crate::test_support::store as test_store;

    /// Builds two networks: 192.0.2.0 (named, two computers, one scanner, scanned MACs of
    /// which one is a computer's interface and one identified) and 198.51.100.0 (scanned only).
    pub(crate) async fn sample(store: &Store) {
        for (id, name) in [(1, "alpha"), (2, "beta"), (3, "gamma")] {
            sqlx::query("INSERT INTO hardware (id, deviceid, name) VALUES ($1, $2, $3)")
                .bind(id as i64)
                .bind(format!("{name}-2026-01-01-00-00-00"))
                .bind(name)
                .execute(&store.pool)
                .await
                .unwrap();
        }
        for (hw, mac, ip, subnet) in [
            (1, "00:0C:29:00:00:01", "192.0.2.10", "192.0.2.0"),
            (1, "00:0C:29:00:00:11", "192.0.2.11", "192.0.2.0"),
            (2, "00:0c:29:00:00:02", "192.0.2.20", "192.0.2.0"),
            (3, "00:0c:29:00:00:03", "203.0.113.30", "203.0.113.0"),
            (3, "", "fe80::1", "fe80::"),
        ] {
            sqlx::query(
                "INSERT INTO networks (hardware_id, macaddr, ipaddress, ipmask, ipsubnet) \
                 VALUES ($1, $2, $3, '255.255.255.0', $4)",
            )
            .bind(hw as i64)
            .bind(mac)
            .bind(ip)
            .bind(subnet)
            .execute(&store.pool)
            .await
            .unwrap();
        }
        for (mac, ip, netid, name, date) in [
            ("00:0c:29:00:00:01", "192.0.2.10", "192.0.2.0", "alpha", 100),
            (
                "3c:52:82:00:00:09",
                "192.0.2.9",
                "192.0.2.0",
                "printer",
                110,
            ),
            ("3c:52:82:00:00:64", "192.0.2.100", "192.0.2.0", "-", 120),
            ("08:00:27:00:00:05", "192.0.2.5", "192.0.2.0", "nas", 130),
            (
                "08:00:27:00:00:07",
                "198.51.100.7",
                "198.51.100.0",
                "-",
                140,
            ),
        ] {
            sqlx::query(
                "INSERT INTO netmap (mac, ip, mask, netid, date, name, hardware_id, first_seen) \
                 VALUES ($1, $2, '255.255.255.0', $3, $4, $5, 2, 50)",
            )
            .bind(mac)
            .bind(ip)
            .bind(netid)
            .bind(date as i64)
            .bind(name)
            .execute(&store.pool)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO devices (hardware_id, name, ivalue, tvalue) VALUES \
             (2, 'IPDISCOVER', 2, '192.0.2.0'), (3, 'IPDISCOVER', 0, '203.0.113.0')",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        store.insert_device_type("Printer").await.unwrap();
        store
            .register_device(&IdentifiedDevice {
                mac: "3c:52:82:00:00:09".into(),
                description: "hall printer".into(),
                device_type: "Printer".into(),
                registered_by: "admin".into(),
                registered_at: 1_700_000_000,
            })
            .await
            .unwrap();
        store
            .insert_subnet(&NewSubnet {
                netid: "192.0.2.0".into(),
                mask: "255.255.255.0".into(),
                name: "Office".into(),
                network_id: "HQ".into(),
                tag: String::new(),
            })
            .await
            .unwrap();
        store
            .insert_subnet(&NewSubnet {
                netid: "10.9.0.0".into(),
                mask: "255.255.0.0".into(),
                name: "Empty".into(),
                network_id: String::new(),
                tag: String::new(),
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn every_network_has_its_name_mask_and_four_counts() {
        let (store, _dir) = test_store().await;
        sample(&store).await;
        let mut all = store.list_network_summaries().await.unwrap();
        all.sort_by(|a, b| a.netid.cmp(&b.netid));
        fn row(s: &NetworkSummary) -> (&str, &str, &str, [i64; 4]) {
            (
                s.netid.as_str(),
                s.name.as_str(),
                s.mask.as_str(),
                [s.inventoried, s.uninventoried, s.agents, s.identified],
            )
        }
        assert_eq!(store.network_name("192.0.2.0").await.unwrap(), "Office");
        assert_eq!(store.network_name("198.51.100.0").await.unwrap(), "");
        assert_eq!(
            all.iter().map(row).collect::<Vec<_>>(),
            [
                ("10.9.0.0", "Empty", "255.255.0.0", [0, 0, 0, 0]),
                // Two computers (one with two interfaces); four scanned MACs of which one
                // is alpha's interface (in upper case there) and one identified; beta scans.
                ("192.0.2.0", "Office", "255.255.255.0", [2, 2, 1, 1]),
                ("198.51.100.0", "", "255.255.255.0", [0, 1, 0, 0]),
                // gamma never scans (IVALUE 0).
                ("203.0.113.0", "", "255.255.255.0", [1, 0, 0, 0]),
                // The caller drops what is not a dotted quad.
                ("fe80::", "", "255.255.255.0", [1, 0, 0, 0]),
            ]
        );
    }

    #[tokio::test]
    async fn text_from_an_agent_cannot_forge_another_networks_counts() {
        let (store, _dir) = test_store().await;
        sample(&store).await;
        let before = store.list_network_summaries().await.unwrap();
        // An interface whose subnet carries the packing's separators and a made-up line.
        sqlx::query(
            "INSERT INTO networks (hardware_id, macaddr, ipaddress, ipmask, ipsubnet) \
             VALUES (1, 'aa:bb:cc:dd:ee:ff', '10.9.9.9', '255.255.255.0', $1)",
        )
        .bind("10.9.9.0\u{1e}192.0.2.0\u{1f}999\u{1f}255.0.0.0")
        .execute(&store.pool)
        .await
        .unwrap();
        let after = store.list_network_summaries().await.unwrap();
        let of = |all: &[NetworkSummary]| {
            all.iter()
                .find(|n| n.netid == "192.0.2.0")
                .map(|n| (n.inventoried, n.mask.clone()))
        };
        assert_eq!(of(&after), of(&before));
        assert_eq!(
            after.len(),
            before.len() + 1,
            "one odd network more, nothing else"
        );
    }
}
