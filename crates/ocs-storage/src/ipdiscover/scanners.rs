//! The scanning computers page's data: which computers have an election row (`devices` rows
//! `IPDISCOVER`: IVALUE 0 never, 1 automatic, 2 forced; TVALUE the network; COMMENTS the
//! reason), how many scan each network, the networks a computer reports (so an administrator
//! forces it on one of them), and the administrator's overrides (force, unelect, never).
//!
//! It does not elect or replace anyone: the election rules live with the election helper.
//! Reads go through `devices (name, ivalue)` and primary keys, never a scan of `netmap`.

use sqlx::Row;

use crate::hosts::HostId;
use crate::sql::placeholders;
use crate::{Result, Store, StoreError};

/// The `devices.name` of an election row.
const IPDISCOVER: &str = "IPDISCOVER";

/// The reason an administrator's forcing leaves in `devices.comments`.
pub const FORCED: &str = "forced";

/// A computer with an election row.
#[derive(Debug, Clone, PartialEq)]
pub struct Scanner {
    /// `hardware.id`.
    pub id: HostId,
    /// Computer name (`''` when the inventory had none).
    pub name: String,
    /// Network it scans (`''` for a computer that must never scan).
    pub netid: String,
    /// 0 never, 1 elected automatically, 2 forced.
    pub ivalue: i64,
    /// Reason code (`free_slot`, `replaced_stale:<id>`, `replaced_quality:<id>`, `forced`,
    /// or `''`).
    pub reason: String,
    /// Average days between contacts (lower is better).
    pub quality: f64,
    /// Number of PROLOGs.
    pub fidelity: i64,
    /// Unix time of the last contact.
    pub lastdate: Option<i64>,
    /// User agent of the last contact.
    pub useragent: String,
    /// TAG (`''` when none).
    pub tag: String,
}

/// What the list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScannerSort {
    /// Computer name.
    #[default]
    Name,
    /// Network address (as text).
    Network,
    /// Never, automatic, forced.
    How,
    /// Quality.
    Quality,
    /// Fidelity.
    Fidelity,
    /// Last contact.
    LastDate,
}

impl ScannerSort {
    fn column(self) -> &'static str {
        match self {
            // COALESCE: SQLite and PostgreSQL put NULLs at opposite ends.
            ScannerSort::Name => "COALESCE(h.name, '')",
            ScannerSort::Network => "COALESCE(d.tvalue, '')",
            ScannerSort::How => "COALESCE(d.ivalue, 0)",
            ScannerSort::Quality => "h.quality",
            ScannerSort::Fidelity => "h.fidelity",
            ScannerSort::LastDate => "COALESCE(h.lastdate, 0)",
        }
    }
}

/// One page of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerQuery {
    /// Only the computers scanning this network.
    pub netid: Option<String>,
    /// Sort column.
    pub sort: ScannerSort,
    /// Descending order.
    pub descending: bool,
    /// Rows skipped.
    pub offset: i64,
    /// Rows returned.
    pub limit: i64,
}

/// A network a computer reports (`networks.ipsubnet` and its mask).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostNetwork {
    /// Network address.
    pub netid: String,
    /// Dotted mask (`''` when the inventory had none).
    pub mask: String,
}

/// Columns read by [`Store::list_scanners`], in [`scanner`]'s order.
const COLUMNS: &str = "h.id, h.name, d.tvalue, d.ivalue, d.comments, h.quality, h.fidelity, \
     h.lastdate, h.useragent, a.tag";

/// The election rows and their computers; callers add conditions on `d` from `$2` on.
const FROM: &str = "FROM devices d JOIN hardware h ON h.id = d.hardware_id \
     LEFT JOIN accountinfo a ON a.hardware_id = h.id WHERE d.name = $1";

fn scanner(row: &sqlx::any::AnyRow) -> std::result::Result<Scanner, sqlx::Error> {
    let text = |i: usize| -> std::result::Result<String, sqlx::Error> {
        Ok(row.try_get::<Option<String>, _>(i)?.unwrap_or_default())
    };
    Ok(Scanner {
        id: HostId(row.try_get(0)?),
        name: text(1)?,
        netid: text(2)?,
        ivalue: row.try_get::<Option<i64>, _>(3)?.unwrap_or(0),
        reason: text(4)?,
        quality: row.try_get(5)?,
        fidelity: row.try_get(6)?,
        lastdate: row.try_get(7)?,
        useragent: text(8)?,
        tag: text(9)?,
    })
}

impl Store {
    /// One page of the computers with an election row (optionally only those scanning one
    /// network), and how many there are in all.
    pub async fn list_scanners(&self, q: &ScannerQuery) -> Result<(Vec<Scanner>, i64)> {
        let filter = if q.netid.is_some() {
            " AND d.tvalue = $2"
        } else {
            ""
        };
        // Devices rows go with their computer (ON DELETE CASCADE): counting needs no join.
        let count_sql = format!("SELECT COUNT(*) FROM devices d WHERE d.name = $1{filter}");
        let mut count = sqlx::query_scalar(&count_sql).bind(IPDISCOVER);
        if let Some(netid) = &q.netid {
            count = count.bind(netid.clone());
        }
        let total: i64 = count.fetch_one(&self.pool).await?;
        let (limit, offset) = if q.netid.is_some() {
            ("$3", "$4")
        } else {
            ("$2", "$3")
        };
        let dir = if q.descending { "DESC" } else { "ASC" };
        // The ID breaks ties, so that pages neither repeat nor skip rows.
        let sql = format!(
            "SELECT {COLUMNS} {FROM}{filter} ORDER BY {} {dir}, h.id {dir} LIMIT {limit} OFFSET {offset}",
            q.sort.column()
        );
        let mut query = sqlx::query(&sql).bind(IPDISCOVER);
        if let Some(netid) = &q.netid {
            query = query.bind(netid.clone());
        }
        let rows = query
            .bind(q.limit.max(0))
            .bind(q.offset.max(0))
            .fetch_all(&self.pool)
            .await?;
        let scanners = rows
            .iter()
            .map(scanner)
            .collect::<std::result::Result<_, _>>()?;
        Ok((scanners, total))
    }

    /// How many computers are elected (automatically or forced) on each of `netids`; a
    /// network nobody scans is absent.
    pub async fn count_scanners(&self, netids: &[String]) -> Result<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for chunk in netids.chunks(crate::sql::MAX_PARAMS - 1) {
            let sql = format!(
                "SELECT tvalue, COUNT(*) FROM devices WHERE name = {} AND ivalue > 0 \
                 AND tvalue IN ({}) GROUP BY tvalue",
                placeholders(self.backend, 1, 1),
                placeholders(self.backend, 2, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, i64)>(&sql).bind(IPDISCOVER);
            for netid in chunk {
                query = query.bind(netid.clone());
            }
            out.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    /// The names of computers (those that still exist), e.g. the ones a reason says were
    /// replaced.
    pub async fn scanner_names(&self, ids: &[HostId]) -> Result<Vec<(HostId, String)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(crate::sql::MAX_PARAMS) {
            let sql = format!(
                "SELECT id, name FROM hardware WHERE id IN ({})",
                placeholders(self.backend, 1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (i64, Option<String>)>(&sql);
            for id in chunk {
                query = query.bind(id.0);
            }
            out.extend(
                query
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(id, name)| (HostId(id), name.unwrap_or_default())),
            );
        }
        Ok(out)
    }

    /// The distinct networks a computer reports, by address; interfaces without a network
    /// address are left out.
    pub async fn list_host_networks(&self, id: HostId) -> Result<Vec<HostNetwork>> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT DISTINCT ipsubnet, ipmask FROM networks \
             WHERE hardware_id = $1 AND ipsubnet IS NOT NULL AND ipsubnet <> ''",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<HostNetwork> = rows
            .into_iter()
            .map(|(netid, mask)| HostNetwork {
                netid,
                mask: mask.unwrap_or_default(),
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// A computer's election row; `None` when it has none (the election may pick it).
    pub async fn find_scanner(&self, id: HostId) -> Result<Option<Scanner>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} {FROM} AND d.hardware_id = $2"))
            .bind(IPDISCOVER)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(scanner).transpose()?)
    }

    /// Forces a computer to scan `netid` (IVALUE 2, never demoted automatically), replacing
    /// any election row it had. [`StoreError::NotFound`] when the computer does not exist.
    pub async fn force_scanner(&self, id: HostId, netid: &str) -> Result<()> {
        self.replace_election(id, 2, Some(netid), FORCED).await
    }

    /// Keeps a computer from ever being elected (IVALUE 0, no network: an inventory then
    /// stores nothing it might still send). [`StoreError::NotFound`] when it does not exist.
    pub async fn never_scanner(&self, id: HostId) -> Result<()> {
        self.replace_election(id, 0, None, "").await
    }

    /// Removes a computer's election row (elected or excluded); whether it had one. The
    /// election may pick it again at a later inventory.
    pub async fn unelect_scanner(&self, id: HostId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM devices WHERE hardware_id = $1 AND name = $2")
            .bind(id.0)
            .bind(IPDISCOVER)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn replace_election(
        &self,
        id: HostId,
        ivalue: i64,
        netid: Option<&str>,
        reason: &str,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM hardware WHERE id = $1")
            .bind(id.0)
            .fetch_optional(tx.conn())
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("computer {}", id.0)));
        }
        sqlx::query("DELETE FROM devices WHERE hardware_id = $1 AND name = $2")
            .bind(id.0)
            .bind(IPDISCOVER)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "INSERT INTO devices (hardware_id, name, ivalue, tvalue, comments) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.0)
        .bind(IPDISCOVER)
        .bind(ivalue)
        .bind(netid.map(str::to_owned))
        .bind(reason)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store as test_store;

    /// A computer with a name, a quality, a TAG and networks, written as an inventory would.
    async fn host(store: &Store, name: &str, quality: f64, subnets: &[&str]) -> HostId {
        let mut tx = store.begin().await.unwrap();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO hardware (deviceid, name, quality, fidelity, lastdate, useragent) \
             VALUES ($1, $2, $3, 5, 1700000000, 'OCS-NG_unified_unix_agent_v2.10') RETURNING id",
        )
        .bind(format!("{name}-2024-01-01-00-00-00"))
        .bind(name)
        .bind(quality)
        .fetch_one(tx.conn())
        .await
        .unwrap();
        sqlx::query("INSERT INTO accountinfo (hardware_id, tag) VALUES ($1, 'HQ')")
            .bind(id)
            .execute(tx.conn())
            .await
            .unwrap();
        for subnet in subnets {
            // Twice: two interfaces on one network are one choice.
            for _ in 0..2 {
                sqlx::query(
                    "INSERT INTO networks (hardware_id, ipsubnet, ipmask) VALUES ($1, $2, '255.255.255.0')",
                )
                .bind(id)
                .bind(*subnet)
                .execute(tx.conn())
                .await
                .unwrap();
            }
        }
        tx.commit().await.unwrap();
        HostId(id)
    }

    async fn elect(store: &Store, id: HostId, netid: &str, reason: &str) {
        let mut tx = store.begin().await.unwrap();
        sqlx::query(
            "INSERT INTO devices (hardware_id, name, ivalue, tvalue, comments) \
             VALUES ($1, 'IPDISCOVER', 1, $2, $3)",
        )
        .bind(id.0)
        .bind(netid)
        .bind(reason)
        .execute(tx.conn())
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    fn query(netid: Option<&str>, sort: ScannerSort, descending: bool) -> ScannerQuery {
        ScannerQuery {
            netid: netid.map(str::to_owned),
            sort,
            descending,
            offset: 0,
            limit: 50,
        }
    }

    fn names(list: &[Scanner]) -> Vec<&str> {
        list.iter().map(|s| s.name.as_str()).collect()
    }

    #[tokio::test]
    async fn scanners_are_listed_counted_forced_excluded_and_unelected() {
        let (store, _dir) = test_store().await;
        let alpha = host(&store, "alpha", 0.5, &["192.0.2.0", "198.51.100.0"]).await;
        let beta = host(&store, "beta", 2.0, &["192.0.2.0"]).await;
        let gamma = host(&store, "gamma", 1.0, &["203.0.113.0"]).await;
        let idle = host(&store, "idle", 1.0, &["203.0.113.0"]).await;
        elect(&store, alpha, "192.0.2.0", "free_slot").await;
        elect(
            &store,
            beta,
            "192.0.2.0",
            &format!("replaced_stale:{}", idle.0),
        )
        .await;
        elect(&store, gamma, "203.0.113.0", "free_slot").await;

        let (all, total) = store
            .list_scanners(&query(None, ScannerSort::Name, false))
            .await
            .unwrap();
        assert_eq!(total, 3);
        assert_eq!(names(&all), ["alpha", "beta", "gamma"]);
        let first = &all[0];
        assert_eq!(
            (
                first.id,
                first.netid.as_str(),
                first.ivalue,
                first.reason.as_str()
            ),
            (alpha, "192.0.2.0", 1, "free_slot")
        );
        assert_eq!((first.quality, first.fidelity), (0.5, 5));
        assert_eq!(first.lastdate, Some(1_700_000_000));
        assert_eq!(first.tag, "HQ");
        assert!(first.useragent.starts_with("OCS-NG_unified_unix_agent"));

        let (worst_first, _) = store
            .list_scanners(&query(None, ScannerSort::Quality, true))
            .await
            .unwrap();
        assert_eq!(names(&worst_first), ["beta", "gamma", "alpha"]);
        let (one_net, total) = store
            .list_scanners(&query(Some("192.0.2.0"), ScannerSort::Name, true))
            .await
            .unwrap();
        assert_eq!((names(&one_net), total), (vec!["beta", "alpha"], 2));
        let mut second_page = query(None, ScannerSort::Name, false);
        second_page.offset = 2;
        second_page.limit = 2;
        let (rest, total) = store.list_scanners(&second_page).await.unwrap();
        assert_eq!((names(&rest), total), (vec!["gamma"], 3));

        let mut counts = store
            .count_scanners(&["192.0.2.0".into(), "203.0.113.0".into(), "10.0.0.0".into()])
            .await
            .unwrap();
        counts.sort();
        assert_eq!(
            counts,
            [("192.0.2.0".to_owned(), 2), ("203.0.113.0".to_owned(), 1)]
        );

        assert_eq!(
            store.list_host_networks(alpha).await.unwrap(),
            [
                HostNetwork {
                    netid: "192.0.2.0".into(),
                    mask: "255.255.255.0".into()
                },
                HostNetwork {
                    netid: "198.51.100.0".into(),
                    mask: "255.255.255.0".into()
                }
            ]
        );
        let names_of = store.scanner_names(&[idle, HostId(999_999)]).await.unwrap();
        assert_eq!(names_of, [(idle, "idle".to_owned())]);

        store.force_scanner(alpha, "198.51.100.0").await.unwrap();
        let forced = store.find_scanner(alpha).await.unwrap().unwrap();
        assert_eq!(
            (forced.ivalue, forced.netid.as_str(), forced.reason.as_str()),
            (2, "198.51.100.0", FORCED)
        );
        let (_, total) = store
            .list_scanners(&query(None, ScannerSort::How, false))
            .await
            .unwrap();
        assert_eq!(total, 3, "forcing replaces the row, it does not add one");

        store.never_scanner(beta).await.unwrap();
        let never = store.find_scanner(beta).await.unwrap().unwrap();
        assert_eq!((never.ivalue, never.netid.as_str()), (0, ""));
        let counts = store.count_scanners(&["192.0.2.0".into()]).await.unwrap();
        assert!(
            counts.is_empty(),
            "an excluded computer is not counted: {counts:?}"
        );

        assert!(store.unelect_scanner(gamma).await.unwrap());
        assert!(!store.unelect_scanner(gamma).await.unwrap());
        assert_eq!(store.find_scanner(gamma).await.unwrap(), None);
        assert!(matches!(
            store.force_scanner(HostId(999_999), "192.0.2.0").await,
            Err(StoreError::NotFound(_))
        ));
    }
}
