//! Candidate duplicates across the fleet, for the duplicates page: computers sharing a
//! hostname, a serial, a MAC address, a UUID or a pair of them. Values are compared trimmed
//! and ignoring case, empty ones never match, and blacklisted serials and MACs are left out,
//! as in the automatic detection at ingestion.

use std::fmt;
use std::str::FromStr;

use crate::{Result, Store};

/// The guide's duplicate modes, plus UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DuplicateMode {
    /// Same hostname.
    Hostname,
    /// Same BIOS serial.
    Serial,
    /// Same MAC address on any interface.
    Mac,
    /// Same hostname and serial.
    HostnameSerial,
    /// Same hostname and a same MAC address.
    HostnameMac,
    /// Same serial and a same MAC address.
    SerialMac,
    /// Same system UUID.
    Uuid,
}

impl DuplicateMode {
    /// Every mode, in the page's order.
    pub const ALL: [DuplicateMode; 7] = [
        DuplicateMode::Hostname,
        DuplicateMode::Serial,
        DuplicateMode::Mac,
        DuplicateMode::HostnameSerial,
        DuplicateMode::HostnameMac,
        DuplicateMode::SerialMac,
        DuplicateMode::Uuid,
    ];

    /// The name used in URLs and the API.
    pub fn name(self) -> &'static str {
        match self {
            DuplicateMode::Hostname => "hostname",
            DuplicateMode::Serial => "serial",
            DuplicateMode::Mac => "mac",
            DuplicateMode::HostnameSerial => "hostname_serial",
            DuplicateMode::HostnameMac => "hostname_mac",
            DuplicateMode::SerialMac => "serial_mac",
            DuplicateMode::Uuid => "uuid",
        }
    }

    /// The criteria the mode compares.
    pub fn criteria(self) -> &'static [Criterion] {
        use Criterion::*;
        match self {
            DuplicateMode::Hostname => &[Hostname],
            DuplicateMode::Serial => &[Serial],
            DuplicateMode::Mac => &[Mac],
            DuplicateMode::HostnameSerial => &[Hostname, Serial],
            DuplicateMode::HostnameMac => &[Hostname, Mac],
            DuplicateMode::SerialMac => &[Serial, Mac],
            DuplicateMode::Uuid => &[Uuid],
        }
    }

    /// `(computer, key)` rows of the mode; a computer with two MACs has two. Static SQL only.
    /// A pair joins the two base tables on the computer (their `hardware_id` indexes), never
    /// two derived tables, which neither database indexes.
    fn keys_sql(self) -> String {
        match self.criteria() {
            [one] => {
                let (table, id, key, cond) = one.parts();
                format!(
                    "SELECT DISTINCT {id} AS id, {key} AS k1, '' AS k2 FROM {table} WHERE {cond}"
                )
            }
            [a, b] => {
                let (a_table, a_id, a_key, a_cond) = a.parts();
                let (b_table, b_id, b_key, b_cond) = b.parts();
                format!(
                    "SELECT DISTINCT {a_id} AS id, {a_key} AS k1, {b_key} AS k2 \
                     FROM {a_table} JOIN {b_table} ON {b_id} = {a_id} WHERE {a_cond} AND {b_cond}"
                )
            }
            _ => unreachable!("a mode compares one or two criteria"),
        }
    }
}

impl fmt::Display for DuplicateMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DuplicateMode {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        DuplicateMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = DuplicateMode::ALL.iter().map(|m| m.name()).collect();
                format!("unknown duplicate mode {s:?} (one of {})", names.join(", "))
            })
    }
}

/// One compared value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    /// HARDWARE/NAME.
    Hostname,
    /// BIOS/SSN.
    Serial,
    /// NETWORKS/MACADDR.
    Mac,
    /// HARDWARE/UUID.
    Uuid,
}

impl Criterion {
    /// Table with its alias, computer ID, key and the condition a key must meet.
    fn parts(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Criterion::Hostname => (
                "hardware h",
                "h.id",
                "LOWER(TRIM(h.name))",
                "TRIM(COALESCE(h.name, '')) <> ''",
            ),
            Criterion::Uuid => (
                "hardware u",
                "u.id",
                "LOWER(TRIM(u.uuid))",
                "TRIM(COALESCE(u.uuid, '')) <> ''",
            ),
            Criterion::Serial => (
                "bios b",
                "b.hardware_id",
                "LOWER(TRIM(b.ssn))",
                "TRIM(COALESCE(b.ssn, '')) <> '' \
                 AND LOWER(TRIM(b.ssn)) NOT IN (SELECT LOWER(serial) FROM blacklist_serials)",
            ),
            Criterion::Mac => (
                "networks n",
                "n.hardware_id",
                "LOWER(TRIM(n.macaddr))",
                "TRIM(COALESCE(n.macaddr, '')) <> '' \
                 AND LOWER(TRIM(n.macaddr)) NOT IN (SELECT LOWER(macaddress) FROM blacklist_macaddresses)",
            ),
        }
    }
}

/// How many candidate sets a mode finds, and how many computers are in them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CandidateCount {
    /// Sets of two or more computers sharing the values.
    pub sets: i64,
    /// Distinct computers in those sets.
    pub computers: i64,
}

/// Computers sharing the mode's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateSet {
    /// The shared values, one per criterion of the mode (lower case).
    pub key: Vec<String>,
    /// The computers, by ID.
    pub computers: Vec<i64>,
}

/// A computer of a candidate set, with what the modes compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateComputer {
    /// ID.
    pub id: i64,
    /// HARDWARE/NAME.
    pub name: Option<String>,
    /// DEVICEID.
    pub deviceid: String,
    /// BIOS/SSN.
    pub serial: Option<String>,
    /// HARDWARE/UUID.
    pub uuid: Option<String>,
    /// NETWORKS/MACADDR values, sorted.
    pub macs: Vec<String>,
    /// Operating system.
    pub os: Option<String>,
    /// Last inventory (Unix seconds).
    pub last_inventory: Option<i64>,
    /// Last contact (Unix seconds).
    pub last_contact: Option<i64>,
}

type ComputerRow = (
    i64,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

/// Rows of one multi-row insert into `duplicate_candidates` (4 values each).
const ROWS_PER_INSERT: usize = crate::sql::MAX_PARAMS / 4;

/// What a search of the fleet's candidate sets found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CandidatesFound {
    /// Rows stored (one per computer of a set, per mode).
    pub rows: usize,
}

impl Store {
    /// When the candidate sets were last found (`None`: never).
    pub async fn duplicate_candidates_refreshed_at(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar(
                "SELECT refreshed_at FROM duplicate_candidates_refresh WHERE id = 1",
            )
            .fetch_optional(&self.pool)
            .await?,
        )
    }

    /// Finds every mode's candidate sets across the fleet and replaces the stored ones. The
    /// grouping reads off the writer; only the swap is a write, and a computer deleted in
    /// between is left out rather than failing it.
    pub async fn refresh_duplicate_candidates(&self, now: i64) -> Result<CandidatesFound> {
        let mut found: Vec<(&'static str, String, String, i64)> = Vec::new();
        for mode in DuplicateMode::ALL {
            let keys = mode.keys_sql();
            let rows: Vec<(String, String, i64)> = sqlx::query_as(&format!(
                "WITH keys AS ({keys}), \
                 sets AS (SELECT k1, k2 FROM keys GROUP BY k1, k2 HAVING COUNT(*) > 1) \
                 SELECT k1, k2, id FROM keys WHERE (k1, k2) IN (SELECT k1, k2 FROM sets)"
            ))
            .fetch_all(&self.read_pool)
            .await?;
            found.extend(
                rows.into_iter()
                    .map(|(k1, k2, id)| (mode.name(), k1, k2, id)),
            );
        }
        let mut tx = self.begin().await?;
        if self.backend == crate::Backend::Postgres {
            // Two instances replacing the sets at once would collide on the keys.
            sqlx::query(
                "SELECT pg_advisory_xact_lock(hashtextextended('duplicate candidates', 0))",
            )
            .execute(tx.conn())
            .await?;
        }
        sqlx::query("DELETE FROM duplicate_candidates")
            .execute(tx.conn())
            .await?;
        for chunk in found.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| format!("({})", crate::sql::placeholders(self.backend, r * 4 + 1, 4)))
                .collect();
            let sql = format!(
                "WITH v (mode, k1, k2, id) AS (VALUES {}) \
                 INSERT INTO duplicate_candidates (mode, k1, k2, hardware_id) \
                 SELECT v.mode, v.k1, v.k2, v.id FROM v JOIN hardware h ON h.id = v.id",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (mode, k1, k2, id) in chunk {
                q = q.bind(*mode).bind(k1.clone()).bind(k2.clone()).bind(*id);
            }
            q.execute(tx.conn()).await?;
        }
        sqlx::query(
            "INSERT INTO duplicate_candidates_refresh (id, refreshed_at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET refreshed_at = excluded.refreshed_at",
        )
        .bind(now)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(CandidatesFound { rows: found.len() })
    }

    /// Sets and computers the mode found, as last searched. A set a deletion or a merge left
    /// with one computer no longer counts.
    pub async fn duplicate_count(&self, mode: DuplicateMode) -> Result<CandidateCount> {
        let (sets, computers): (i64, i64) = sqlx::query_as(
            "WITH keys AS (SELECT hardware_id AS id, k1, k2 FROM duplicate_candidates WHERE mode = $1), \
             sets AS (SELECT k1, k2 FROM keys GROUP BY k1, k2 HAVING COUNT(*) > 1) \
             SELECT (SELECT COUNT(*) FROM sets), \
             (SELECT COUNT(DISTINCT id) FROM keys WHERE (k1, k2) IN (SELECT k1, k2 FROM sets))",
        )
        .bind(mode.name())
        .fetch_one(&self.read_pool)
        .await?;
        Ok(CandidateCount { sets, computers })
    }

    /// A page of the mode's sets, ordered by their values, as last searched.
    pub async fn duplicate_sets(
        &self,
        mode: DuplicateMode,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CandidateSet>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "WITH keys AS (SELECT hardware_id AS id, k1, k2 FROM duplicate_candidates WHERE mode = $3), \
             page AS (SELECT k1, k2 FROM keys GROUP BY k1, k2 HAVING COUNT(*) > 1 \
                      ORDER BY k1, k2 LIMIT $1 OFFSET $2) \
             SELECT k1, k2, id FROM keys WHERE (k1, k2) IN (SELECT k1, k2 FROM page) \
             ORDER BY k1, k2, id",
        )
        .bind(limit)
        .bind(offset)
        .bind(mode.name())
        .fetch_all(&self.read_pool)
        .await?;
        let two = mode.criteria().len() == 2;
        let mut sets: Vec<CandidateSet> = Vec::new();
        for (k1, k2, id) in rows {
            let key = if two { vec![k1, k2] } else { vec![k1] };
            match sets.last_mut() {
                Some(last) if last.key == key => last.computers.push(id),
                _ => sets.push(CandidateSet {
                    key,
                    computers: vec![id],
                }),
            }
        }
        Ok(sets)
    }

    /// What the modes compare for these computers, by ID; unknown IDs are left out.
    pub async fn candidate_computers(&self, ids: &[i64]) -> Result<Vec<CandidateComputer>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = crate::sql::placeholders(self.backend, 1, ids.len());
        let sql = format!(
            "SELECT h.id, h.name, h.deviceid, \
             (SELECT MIN(b.ssn) FROM bios b WHERE b.hardware_id = h.id), h.uuid, h.osname, \
             h.lastdate, h.lastcome FROM hardware h WHERE h.id IN ({marks}) ORDER BY h.id"
        );
        let mut q = sqlx::query_as::<_, ComputerRow>(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&self.read_pool).await?;
        let sql = format!(
            "SELECT DISTINCT hardware_id, macaddr FROM networks WHERE hardware_id IN ({marks}) \
             AND TRIM(COALESCE(macaddr, '')) <> '' ORDER BY hardware_id, macaddr"
        );
        let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        let macs = q.fetch_all(&self.read_pool).await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, name, deviceid, serial, uuid, os, last_inventory, last_contact)| {
                    CandidateComputer {
                        id,
                        name,
                        deviceid,
                        serial,
                        uuid,
                        macs: macs
                            .iter()
                            .filter(|(h, _)| *h == id)
                            .map(|(_, m)| m.clone())
                            .collect(),
                        os,
                        last_inventory,
                        last_contact,
                    }
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::{CandidateCount, DuplicateMode};
    use crate::test_support::store;

    /// Hosts with (name, serial, uuid, macs).
    async fn fleet(store: &crate::Store, hosts: &[(&str, &str, &str, &[&str])]) -> Vec<i64> {
        let mut tx = store.begin().await.unwrap();
        let mut ids = Vec::new();
        for (i, (name, serial, uuid, macs)) in hosts.iter().enumerate() {
            let id = tx
                .insert_host(&format!("d{i}-2024-01-01-00-00-00"))
                .await
                .unwrap();
            sqlx::query("UPDATE hardware SET name = $2, uuid = $3 WHERE id = $1")
                .bind(id.0)
                .bind(name)
                .bind(uuid)
                .execute(tx.conn())
                .await
                .unwrap();
            sqlx::query("INSERT INTO bios (hardware_id, ssn) VALUES ($1, $2)")
                .bind(id.0)
                .bind(serial)
                .execute(tx.conn())
                .await
                .unwrap();
            for mac in *macs {
                sqlx::query("INSERT INTO networks (hardware_id, macaddr) VALUES ($1, $2)")
                    .bind(id.0)
                    .bind(mac)
                    .execute(tx.conn())
                    .await
                    .unwrap();
            }
            ids.push(id.0);
        }
        tx.commit().await.unwrap();
        ids
    }

    #[tokio::test]
    async fn each_mode_finds_its_sets_and_the_blacklists_are_left_out() {
        let (store, _dir) = store().await;
        let ids = fleet(
            &store,
            &[
                (
                    "PC1",
                    "S1",
                    "U1",
                    &["aa:aa:aa:aa:aa:01", "00:00:00:00:00:00"],
                ),
                ("pc1 ", "S2", "U2", &["AA:AA:AA:AA:AA:01"]),
                (
                    "PC2",
                    "S1",
                    "u1",
                    &["aa:aa:aa:aa:aa:02", "00:00:00:00:00:00"],
                ),
                ("PC3", "To Be Filled By O.E.M.", "U3", &[]),
                ("PC4", "to be filled by o.e.m.", "", &[]),
                ("", "S2", "", &["aa:aa:aa:aa:aa:01"]),
            ],
        )
        .await;
        assert_eq!(
            store.duplicate_candidates_refreshed_at().await.unwrap(),
            None
        );
        assert!(store.refresh_duplicate_candidates(100).await.unwrap().rows > 0);
        assert_eq!(
            store.duplicate_candidates_refreshed_at().await.unwrap(),
            Some(100)
        );
        let sets = |mode| {
            let store = store.clone();
            async move {
                store
                    .duplicate_sets(mode, 100, 0)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|s| (s.key, s.computers))
                    .collect::<Vec<_>>()
            }
        };
        let k = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            sets(DuplicateMode::Hostname).await,
            [(k(&["pc1"]), vec![ids[0], ids[1]])]
        );
        assert_eq!(
            sets(DuplicateMode::Serial).await,
            [
                (k(&["s1"]), vec![ids[0], ids[2]]),
                (k(&["s2"]), vec![ids[1], ids[5]])
            ]
        );
        assert_eq!(
            sets(DuplicateMode::Mac).await,
            [(k(&["aa:aa:aa:aa:aa:01"]), vec![ids[0], ids[1], ids[5]])]
        );
        assert_eq!(
            sets(DuplicateMode::Uuid).await,
            [(k(&["u1"]), vec![ids[0], ids[2]])]
        );
        assert_eq!(sets(DuplicateMode::HostnameSerial).await, []);
        assert_eq!(
            sets(DuplicateMode::HostnameMac).await,
            [(k(&["pc1", "aa:aa:aa:aa:aa:01"]), vec![ids[0], ids[1]])]
        );
        assert_eq!(
            sets(DuplicateMode::SerialMac).await,
            [(k(&["s2", "aa:aa:aa:aa:aa:01"]), vec![ids[1], ids[5]])]
        );
        assert_eq!(
            store.duplicate_count(DuplicateMode::Serial).await.unwrap(),
            CandidateCount {
                sets: 2,
                computers: 4
            }
        );
        // Paging is by set.
        let second = store
            .duplicate_sets(DuplicateMode::Serial, 1, 1)
            .await
            .unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].computers, vec![ids[1], ids[5]]);

        let shown = store.candidate_computers(&[ids[0], 999]).await.unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].serial.as_deref(), Some("S1"));
        assert_eq!(shown[0].macs, ["00:00:00:00:00:00", "aa:aa:aa:aa:aa:01"]);
        assert_eq!(
            "serial_mac".parse::<DuplicateMode>(),
            Ok(DuplicateMode::SerialMac)
        );
        assert!("name".parse::<DuplicateMode>().is_err());

        // A deleted computer leaves its sets at once; one left alone is no set.
        store
            .delete_computers(
                &[crate::HostId(ids[5])],
                &crate::Deletion {
                    by: "test".into(),
                    reason: "manual".into(),
                    now: 150,
                    trace: false,
                    inactive_before: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            sets(DuplicateMode::Serial).await,
            [(k(&["s1"]), vec![ids[0], ids[2]])]
        );
        // Searching again replaces, never adds.
        store.refresh_duplicate_candidates(200).await.unwrap();
        assert_eq!(
            store.duplicate_count(DuplicateMode::Serial).await.unwrap(),
            CandidateCount {
                sets: 1,
                computers: 2
            }
        );
    }
}
