//! Storing what a scanning computer reports (`netmap`, reference §5.4): one row per MAC, with
//! when it was first and last seen. It decides nothing about who scans (that is
//! [`super::election`]) and lists nothing (the network pages read `netmap` elsewhere).

use ocs_proto::inventory::DiscoveredHost;

use crate::hosts::HostId;
use crate::{Result, Store, WriteTx};

/// The network a scan covered, as the scanning computer's inventory describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScannedNetwork<'a> {
    /// Network address the computer is elected on (`192.0.2.0`).
    pub netid: &'a str,
    /// IPMASK of the computer's interface on that network, when it has one.
    pub mask: Option<&'a str>,
    /// With `IPDISCOVER_LINK_TAG_NETWORK`: the scanning computer's TAG. Rows then carry it,
    /// and a MAC already seen under another TAG is left alone.
    pub tag: Option<&'a str>,
}

/// What storing a scan did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetmapOutcome {
    /// Hosts inserted or refreshed.
    pub stored: usize,
    /// Entries that are not a dotted-quad IPv4 address with a MAC, or (TAG linked) a MAC
    /// known under another TAG.
    pub skipped: usize,
}

/// One `netmap` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NetmapEntry {
    /// MAC (lower case).
    pub mac: String,
    /// Last address seen.
    pub ip: String,
    /// Network it was seen on.
    pub netid: Option<String>,
    /// Name reported (`-` when none).
    pub name: Option<String>,
    /// When it was first seen.
    pub first_seen: i64,
    /// When it was last seen.
    pub date: i64,
    /// TAG of the computer that saw it (TAG linking only).
    pub tag: Option<String>,
    /// The computer that last saw it.
    pub hardware_id: Option<i64>,
}

/// Without TAG linking an existing row keeps its TAG; `first_seen` is only ever written on
/// insert, so it says when the MAC first appeared however often it is scanned again.
const UPSERT: &str = "INSERT INTO netmap (mac, ip, mask, netid, date, name, hardware_id, first_seen) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $5) \
     ON CONFLICT (mac) DO UPDATE SET ip = excluded.ip, mask = excluded.mask, netid = excluded.netid, \
     date = excluded.date, name = excluded.name, hardware_id = excluded.hardware_id";

/// With TAG linking the row carries the scanner's TAG and another TAG's row is not taken over
/// (the MAC is the key, so such an entry is skipped, as the original's failed insert is).
const UPSERT_TAGGED: &str = "INSERT INTO netmap (mac, ip, mask, netid, date, name, hardware_id, first_seen, tag) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $5, $8) \
     ON CONFLICT (mac) DO UPDATE SET ip = excluded.ip, mask = excluded.mask, netid = excluded.netid, \
     date = excluded.date, name = excluded.name, hardware_id = excluded.hardware_id \
     WHERE netmap.tag = excluded.tag";

impl WriteTx {
    /// Stores the hosts a computer found on `network`, one row per MAC (lower case).
    pub async fn store_netmap(
        &mut self,
        scanner: HostId,
        network: ScannedNetwork<'_>,
        hosts: &[DiscoveredHost],
        now: i64,
    ) -> Result<NetmapOutcome> {
        let mut outcome = NetmapOutcome::default();
        for h in hosts {
            if !is_dotted_quad(&h.ip) || !is_mac(&h.mac) {
                outcome.skipped += 1;
                continue;
            }
            let sql = if network.tag.is_some() {
                UPSERT_TAGGED
            } else {
                UPSERT
            };
            let query = sqlx::query(sql)
                .bind(h.mac.to_ascii_lowercase())
                .bind(&h.ip)
                .bind(network.mask.map(str::to_owned))
                .bind(network.netid)
                .bind(now)
                .bind(&h.name)
                .bind(scanner.0);
            let query = match network.tag {
                Some(tag) => query.bind(tag),
                None => query,
            };
            let done = query.execute(self.conn()).await?;
            if done.rows_affected() > 0 {
                outcome.stored += 1;
            } else {
                outcome.skipped += 1;
            }
        }
        Ok(outcome)
    }
}

impl Store {
    /// The `netmap` row of a MAC (any case).
    pub async fn find_netmap_entry(&self, mac: &str) -> Result<Option<NetmapEntry>> {
        Ok(sqlx::query_as(
            "SELECT mac, ip, netid, name, first_seen, date, tag, hardware_id FROM netmap WHERE mac = $1",
        )
        .bind(mac.to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?)
    }
}

/// Four decimal octets, as agents write addresses.
pub fn is_dotted_quad(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            (1..=3).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// Six pairs of hex digits separated by colons.
pub fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store as test_store;
    use crate::Store;

    fn host(ip: &str, mac: &str, name: &str) -> DiscoveredHost {
        DiscoveredHost {
            ip: ip.into(),
            mac: mac.into(),
            name: name.into(),
        }
    }

    type Row = (
        String,
        String,
        Option<String>,
        i64,
        i64,
        Option<String>,
        Option<i64>,
    );

    async fn rows(store: &Store) -> Vec<Row> {
        sqlx::query_as(
            "SELECT mac, ip, name, first_seen, date, tag, hardware_id FROM netmap ORDER BY mac",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap()
    }

    async fn scanner(store: &Store, deviceid: &str) -> HostId {
        let mut tx = store.begin().await.unwrap();
        let id = tx.insert_host(deviceid).await.unwrap();
        tx.commit().await.unwrap();
        id
    }

    const NET: ScannedNetwork<'static> = ScannedNetwork {
        netid: "192.0.2.0",
        mask: Some("255.255.255.0"),
        tag: None,
    };

    #[test]
    fn addresses_and_macs_are_checked() {
        assert!(is_dotted_quad("192.0.2.1"));
        assert!(!is_dotted_quad("192.0.2"));
        assert!(!is_dotted_quad("192.0.2.256"));
        assert!(!is_dotted_quad("192.0.2.x"));
        assert!(!is_dotted_quad("::1"));
        assert!(is_mac("00:1A:2b:3c:4d:5e"));
        assert!(!is_mac("00-1a-2b-3c-4d-5e"));
        assert!(!is_mac("00:1a:2b:3c:4d"));
    }

    #[tokio::test]
    async fn first_seen_is_kept_when_a_mac_is_seen_again_and_bad_entries_are_skipped() {
        let (store, _dir) = test_store().await;
        let id = scanner(&store, "scan-1").await;
        let mut tx = store.begin().await.unwrap();
        let done = tx
            .store_netmap(
                id,
                NET,
                &[
                    host("192.0.2.1", "00:1A:2B:3C:4D:5E", "gw"),
                    host("bad", "00:1a:2b:3c:4d:5f", "-"),
                    host("192.0.2.9", "nope", "-"),
                ],
                100,
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            done,
            NetmapOutcome {
                stored: 1,
                skipped: 2
            }
        );
        let mut tx = store.begin().await.unwrap();
        tx.store_netmap(
            id,
            NET,
            &[host("192.0.2.7", "00:1a:2b:3c:4d:5e", "gw2")],
            500,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            rows(&store).await,
            [(
                "00:1a:2b:3c:4d:5e".to_owned(),
                "192.0.2.7".to_owned(),
                Some("gw2".to_owned()),
                100,
                500,
                None,
                Some(id.0)
            )]
        );
    }

    #[tokio::test]
    async fn with_tags_linked_rows_carry_the_tag_and_another_tags_row_is_left_alone() {
        let (store, _dir) = test_store().await;
        let paris = scanner(&store, "scan-paris").await;
        let lyon = scanner(&store, "scan-lyon").await;
        let tagged = |tag| ScannedNetwork {
            tag: Some(tag),
            ..NET
        };
        let mut tx = store.begin().await.unwrap();
        tx.store_netmap(
            paris,
            tagged("PARIS"),
            &[host("192.0.2.1", "00:00:00:00:00:01", "a")],
            100,
        )
        .await
        .unwrap();
        let other = tx
            .store_netmap(
                lyon,
                tagged("LYON"),
                &[host("192.0.2.2", "00:00:00:00:00:01", "b")],
                200,
            )
            .await
            .unwrap();
        let same = tx
            .store_netmap(
                paris,
                tagged("PARIS"),
                &[host("192.0.2.3", "00:00:00:00:00:01", "c")],
                300,
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!((other.stored, other.skipped), (0, 1), "another TAG's row");
        assert_eq!((same.stored, same.skipped), (1, 0), "the same TAG's row");
        assert_eq!(
            rows(&store).await,
            [(
                "00:00:00:00:00:01".to_owned(),
                "192.0.2.3".to_owned(),
                Some("c".to_owned()),
                100,
                300,
                Some("PARIS".to_owned()),
                Some(paris.0)
            )]
        );
    }
}
