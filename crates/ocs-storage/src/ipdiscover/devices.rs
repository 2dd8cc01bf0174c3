//! The device lists of one network, each a page in a chosen order with its total: the
//! inventoried computers with an interface on it, the non-inventoried devices scans found on
//! it (netmap MACs that are neither an inventoried interface's nor identified) and the
//! identified devices last seen on it; and deleting a non-inventoried device. Every list
//! starts from an index on the network address (`netmap_netid`, `networks_ipsubnet`) and
//! tests a MAC through an index (`networks_lower_macaddr`, the identified devices' key), so a
//! page costs the network's rows, not the table's. Columns to sort by are allow-listed here.

use crate::{Backend, Page, Result, Store};

/// A computer with an interface on the network (its first by address when it has several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoriedDevice {
    /// Computer ID.
    pub host_id: i64,
    /// Computer name.
    pub name: String,
    /// Interface address.
    pub ip: String,
    /// Interface MAC (lower case).
    pub mac: String,
}

/// A device scans found that is neither inventoried nor identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UninventoriedDevice {
    /// IPv4 address.
    pub ip: String,
    /// MAC (lower case).
    pub mac: String,
    /// Name the scanner resolved (`-` or empty when none).
    pub name: String,
    /// Unix time first seen (0: before first sightings were recorded).
    pub first_seen: i64,
    /// Unix time last seen.
    pub last_seen: i64,
}

/// An identified device last seen on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifiedOnNetwork {
    /// MAC (lower case).
    pub mac: String,
    /// Address it was last seen at.
    pub ip: String,
    /// The operator's description.
    pub description: String,
    /// Type name (`''`: none).
    pub device_type: String,
    /// Who registered it.
    pub registered_by: String,
    /// Unix time of the registration.
    pub registered_at: i64,
}

/// Orders of the inventoried list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoriedSort {
    /// Computer name.
    Name,
    /// Computer ID.
    Id,
    /// Address (numerically).
    Ip,
    /// MAC.
    Mac,
}

/// Orders of the non-inventoried list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UninventoriedSort {
    /// Address (numerically).
    Ip,
    /// MAC.
    Mac,
    /// Resolved name.
    Name,
    /// First seen.
    FirstSeen,
    /// Last seen.
    LastSeen,
}

/// Orders of the identified list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifiedSort {
    /// MAC.
    Mac,
    /// Address (numerically).
    Ip,
    /// Description.
    Description,
    /// Type.
    Type,
    /// Who registered it.
    RegisteredBy,
    /// When.
    RegisteredAt,
}

/// What deleting a non-inventoried device did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetmapDeletion {
    /// Gone from the scan results (a later scan that sees it again brings it back).
    Deleted,
    /// No scan found this MAC.
    NotFound,
    /// It is an inventoried interface's MAC or identified: not a non-inventoried device.
    Known,
}

/// A sort order and a page; `page: None` is every row (CSV).
#[derive(Debug, Clone, Copy)]
pub struct ListQuery<S> {
    /// Column.
    pub sort: S,
    /// Descending.
    pub desc: bool,
    /// The page, or every row.
    pub page: Option<Page>,
}

/// An expression sorting dotted IPv4 addresses numerically: each octet left-padded to three
/// digits (any text is accepted; what is not an address sorts somewhere, without failing).
fn ip_key(backend: Backend, col: &str) -> String {
    match backend {
        Backend::Postgres => (1..=4)
            .map(|i| format!("lpad(split_part({col}, '.', {i}), 3, '0')"))
            .collect::<Vec<_>>()
            .join(" || "),
        Backend::Sqlite => {
            // SQLite has no split function: peel one octet at a time with instr / substr.
            let mut rest = format!("({col} || '.')");
            let mut parts = Vec::new();
            for _ in 0..4 {
                parts.push(format!(
                    "substr('000' || substr({rest}, 1, instr({rest}, '.') - 1), -3, 3)"
                ));
                rest = format!("substr({rest}, instr({rest}, '.') + 1)");
            }
            parts.join(" || ")
        }
    }
}

fn order_by(first: String, desc: bool, tie: &str) -> String {
    let dir = if desc { "DESC" } else { "ASC" };
    format!("ORDER BY {first} {dir}, {tie}")
}

fn limit(page: Option<Page>) -> String {
    match page {
        Some(p) => {
            let size = u64::from(p.size.max(1));
            let offset = u64::from(p.number.max(1) - 1) * size;
            format!("LIMIT {size} OFFSET {offset}")
        }
        None => String::new(),
    }
}

/// netmap rows (alias `n`) that are neither an inventoried interface's MAC nor identified.
/// `LOWER(n.mac)` rather than `n.mac`: SQLite only uses the LOWER(macaddr) index when both
/// sides are expressions without a column affinity.
const NOT_KNOWN: &str =
    "NOT EXISTS (SELECT 1 FROM networks w WHERE LOWER(w.macaddr) = LOWER(n.mac)) \
     AND NOT EXISTS (SELECT 1 FROM identified_devices d WHERE d.mac = n.mac)";

impl Store {
    /// Computers with an interface on a network: their total and the asked page.
    pub async fn list_network_inventoried(
        &self,
        netid: &str,
        q: ListQuery<InventoriedSort>,
    ) -> Result<(i64, Vec<InventoriedDevice>)> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT hardware_id) FROM networks WHERE ipsubnet = $1",
        )
        .bind(netid)
        .fetch_one(&self.read_pool)
        .await?;
        let ip = ip_key(self.backend, "t.ip");
        let first = match q.sort {
            InventoriedSort::Name => "LOWER(t.name)".to_owned(),
            InventoriedSort::Id => "t.id".to_owned(),
            InventoriedSort::Ip => ip.clone(),
            InventoriedSort::Mac => "t.mac".to_owned(),
        };
        let sql = format!(
            "SELECT t.id, t.name, t.ip, t.mac FROM (\
               SELECT h.id AS id, COALESCE(h.name, '') AS name, \
                      COALESCE(MIN(w.ipaddress), '') AS ip, COALESCE(MIN(LOWER(w.macaddr)), '') AS mac \
               FROM networks w JOIN hardware h ON h.id = w.hardware_id \
               WHERE w.ipsubnet = $1 GROUP BY h.id, h.name) t {} {}",
            order_by(first, q.desc, "t.id"),
            limit(q.page)
        );
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(&sql)
            .bind(netid)
            .fetch_all(&self.read_pool)
            .await?;
        Ok((
            total,
            rows.into_iter()
                .map(|(host_id, name, ip, mac)| InventoriedDevice {
                    host_id,
                    name,
                    ip,
                    mac,
                })
                .collect(),
        ))
    }

    /// Non-inventoried devices of a network: their total and the asked page.
    pub async fn list_network_uninventoried(
        &self,
        netid: &str,
        q: ListQuery<UninventoriedSort>,
    ) -> Result<(i64, Vec<UninventoriedDevice>)> {
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM netmap n WHERE n.netid = $1 AND {NOT_KNOWN}"
        ))
        .bind(netid)
        .fetch_one(&self.read_pool)
        .await?;
        let first = match q.sort {
            UninventoriedSort::Ip => ip_key(self.backend, "n.ip"),
            UninventoriedSort::Mac => "n.mac".to_owned(),
            UninventoriedSort::Name => "LOWER(COALESCE(n.name, ''))".to_owned(),
            UninventoriedSort::FirstSeen => "n.first_seen".to_owned(),
            UninventoriedSort::LastSeen => "n.date".to_owned(),
        };
        let sql = format!(
            "SELECT n.ip, n.mac, COALESCE(n.name, ''), n.first_seen, n.date FROM netmap n \
             WHERE n.netid = $1 AND {NOT_KNOWN} {} {}",
            order_by(first, q.desc, "n.mac"),
            limit(q.page)
        );
        let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(&sql)
            .bind(netid)
            .fetch_all(&self.read_pool)
            .await?;
        Ok((
            total,
            rows.into_iter()
                .map(
                    |(ip, mac, name, first_seen, last_seen)| UninventoriedDevice {
                        ip,
                        mac,
                        name,
                        first_seen,
                        last_seen,
                    },
                )
                .collect(),
        ))
    }

    /// Identified devices last seen on a network: their total and the asked page.
    pub async fn list_network_identified(
        &self,
        netid: &str,
        q: ListQuery<IdentifiedSort>,
    ) -> Result<(i64, Vec<IdentifiedOnNetwork>)> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM netmap n JOIN identified_devices d ON d.mac = n.mac \
             WHERE n.netid = $1",
        )
        .bind(netid)
        .fetch_one(&self.read_pool)
        .await?;
        let first = match q.sort {
            IdentifiedSort::Mac => "d.mac".to_owned(),
            IdentifiedSort::Ip => ip_key(self.backend, "n.ip"),
            IdentifiedSort::Description => "LOWER(d.description)".to_owned(),
            IdentifiedSort::Type => "LOWER(d.device_type)".to_owned(),
            IdentifiedSort::RegisteredBy => "LOWER(d.registered_by)".to_owned(),
            IdentifiedSort::RegisteredAt => "d.registered_at".to_owned(),
        };
        let sql = format!(
            "SELECT d.mac, n.ip, d.description, d.device_type, d.registered_by, d.registered_at \
             FROM netmap n JOIN identified_devices d ON d.mac = n.mac WHERE n.netid = $1 {} {}",
            order_by(first, q.desc, "d.mac"),
            limit(q.page)
        );
        let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(&sql)
            .bind(netid)
            .fetch_all(&self.read_pool)
            .await?;
        Ok((
            total,
            rows.into_iter()
                .map(
                    |(mac, ip, description, device_type, registered_by, registered_at)| {
                        IdentifiedOnNetwork {
                            mac,
                            ip,
                            description,
                            device_type,
                            registered_by,
                            registered_at,
                        }
                    },
                )
                .collect(),
        ))
    }

    /// Deletes a non-inventoried device (lower-case MAC) from the scan results; an
    /// inventoried interface's or identified MAC stays (it would leave the other lists).
    /// The check and the delete are one transaction, so a registration cannot slip between.
    pub async fn delete_netmap_device(&self, mac: &str) -> Result<NetmapDeletion> {
        let mut tx = self.begin().await?;
        let outcome = tx.delete_netmap_device(mac).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}

impl crate::WriteTx {
    /// [`Store::delete_netmap_device`] inside a caller's transaction.
    pub async fn delete_netmap_device(&mut self, mac: &str) -> Result<NetmapDeletion> {
        let known: Option<String> = sqlx::query_scalar(
            "SELECT n.mac FROM netmap n WHERE n.mac = $1 AND NOT (NOT EXISTS \
             (SELECT 1 FROM networks w WHERE LOWER(w.macaddr) = LOWER(n.mac)) \
             AND NOT EXISTS (SELECT 1 FROM identified_devices d WHERE d.mac = n.mac))",
        )
        .bind(mac)
        .fetch_optional(self.conn())
        .await?;
        if known.is_some() {
            return Ok(NetmapDeletion::Known);
        }
        let done = sqlx::query("DELETE FROM netmap WHERE mac = $1")
            .bind(mac)
            .execute(self.conn())
            .await?;
        Ok(if done.rows_affected() > 0 {
            NetmapDeletion::Deleted
        } else {
            NetmapDeletion::NotFound
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipdiscover::networks::tests::sample;
    use crate::test_support::store as test_store;

    fn all<S>(sort: S, desc: bool) -> ListQuery<S> {
        ListQuery {
            sort,
            desc,
            page: None,
        }
    }

    #[tokio::test]
    async fn each_list_pages_sorts_and_counts_one_network() {
        let (store, _dir) = test_store().await;
        sample(&store).await;
        let (total, rows) = store
            .list_network_inventoried("192.0.2.0", all(InventoriedSort::Name, false))
            .await
            .unwrap();
        assert_eq!(total, 2);
        assert_eq!(
            rows.iter()
                .map(|r| (r.host_id, r.name.as_str(), r.ip.as_str(), r.mac.as_str()))
                .collect::<Vec<_>>(),
            [
                (1, "alpha", "192.0.2.10", "00:0c:29:00:00:01"),
                (2, "beta", "192.0.2.20", "00:0c:29:00:00:02")
            ]
        );

        // 192.0.2.100 sorts after 192.0.2.5 and 192.0.2.9: numerically, not as text.
        let ips = |rows: &[UninventoriedDevice]| -> Vec<String> {
            rows.iter().map(|r| r.ip.clone()).collect()
        };
        let (total, rows) = store
            .list_network_uninventoried("192.0.2.0", all(UninventoriedSort::Ip, false))
            .await
            .unwrap();
        assert_eq!(total, 2);
        assert_eq!(ips(&rows), ["192.0.2.5", "192.0.2.100"]);
        let (_, rows) = store
            .list_network_uninventoried("192.0.2.0", all(UninventoriedSort::Ip, true))
            .await
            .unwrap();
        assert_eq!(ips(&rows), ["192.0.2.100", "192.0.2.5"]);
        let (_, rows) = store
            .list_network_uninventoried("192.0.2.0", all(UninventoriedSort::LastSeen, true))
            .await
            .unwrap();
        assert_eq!(rows[0].last_seen, 130);
        assert_eq!((rows[0].first_seen, rows[0].name.as_str()), (50, "nas"));
        let (total, rows) = store
            .list_network_uninventoried(
                "192.0.2.0",
                ListQuery {
                    sort: UninventoriedSort::Ip,
                    desc: false,
                    page: Some(Page { number: 2, size: 1 }),
                },
            )
            .await
            .unwrap();
        assert_eq!((total, ips(&rows)), (2, vec!["192.0.2.100".to_owned()]));

        let (total, rows) = store
            .list_network_identified("192.0.2.0", all(IdentifiedSort::Mac, false))
            .await
            .unwrap();
        assert_eq!(total, 1);
        assert_eq!(
            (
                rows[0].mac.as_str(),
                rows[0].ip.as_str(),
                rows[0].description.as_str(),
                rows[0].device_type.as_str(),
                rows[0].registered_by.as_str()
            ),
            (
                "3c:52:82:00:00:09",
                "192.0.2.9",
                "hall printer",
                "Printer",
                "admin"
            )
        );
        for sort in [
            IdentifiedSort::Ip,
            IdentifiedSort::Description,
            IdentifiedSort::Type,
            IdentifiedSort::RegisteredBy,
            IdentifiedSort::RegisteredAt,
        ] {
            let (n, _) = store
                .list_network_identified("192.0.2.0", all(sort, true))
                .await
                .unwrap();
            assert_eq!(n, 1, "{sort:?}");
        }
        for sort in [
            InventoriedSort::Id,
            InventoriedSort::Ip,
            InventoriedSort::Mac,
        ] {
            let (_, rows) = store
                .list_network_inventoried("192.0.2.0", all(sort, true))
                .await
                .unwrap();
            assert_eq!(rows[0].host_id, 2, "{sort:?}");
        }
    }

    #[tokio::test]
    async fn only_non_inventoried_devices_are_deleted() {
        let (store, _dir) = test_store().await;
        sample(&store).await;
        // An inventoried interface's MAC and an identified one stay.
        for mac in ["00:0c:29:00:00:01", "3c:52:82:00:00:09"] {
            assert_eq!(
                store.delete_netmap_device(mac).await.unwrap(),
                NetmapDeletion::Known,
                "{mac}"
            );
        }
        assert_eq!(
            store
                .delete_netmap_device("08:00:27:00:00:05")
                .await
                .unwrap(),
            NetmapDeletion::Deleted
        );
        assert_eq!(
            store
                .delete_netmap_device("08:00:27:00:00:05")
                .await
                .unwrap(),
            NetmapDeletion::NotFound
        );
        let (total, _) = store
            .list_network_uninventoried("192.0.2.0", all(UninventoriedSort::Mac, false))
            .await
            .unwrap();
        assert_eq!(total, 1);
    }
}
