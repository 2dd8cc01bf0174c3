//! Analyze jobs (`netmap_analyses`) and the classification they give each address
//! (`netmap_analysis_results`), plus the addresses a job may scan: the netmap entries of a
//! network that are not inventoried interfaces.
//!
//! One job per network at a time, across every server instance: starting one is refused while
//! another runs on that network, unless the other has shown no sign of life for longer than
//! the caller's staleness delay (its server may have died), in which case it is marked failed
//! and replaced. A job's sign of life is its start or its latest recorded result: the job
//! records results after every batch, so a live job always has a recent one. Running the scans
//! is not done here.

use crate::{Backend, Result, Store, StoreError};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisState {
    /// Scanning.
    Running,
    /// Every address scanned.
    Done,
    /// Stopped on an error (its message says which).
    Failed,
}

impl AnalysisState {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            AnalysisState::Running => "running",
            AnalysisState::Done => "done",
            AnalysisState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> AnalysisState {
        match text {
            "running" => AnalysisState::Running,
            "done" => AnalysisState::Done,
            // Anything unknown cannot be running: showing it as failed is the safe reading.
            _ => AnalysisState::Failed,
        }
    }
}

/// One Analyze job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisRecord {
    /// Row ID.
    pub id: i64,
    /// The network analysed.
    pub netid: String,
    /// Where it stands.
    pub state: AnalysisState,
    /// Addresses to scan.
    pub total: i64,
    /// Addresses scanned so far.
    pub done: i64,
    /// Unix time it started.
    pub started_at: i64,
    /// Unix time it ended.
    pub finished_at: Option<i64>,
    /// Login of who started it.
    pub started_by: String,
    /// Why it failed (empty otherwise).
    pub error: String,
}

/// The classification of one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisResult {
    /// The address.
    pub ip: String,
    /// Its MAC, as netmap knows it.
    pub mac: String,
    /// `WINDOWS`, `LINUX`, `MAC`, `NETWORK`, `FILTERED` or `PHANTOM`.
    pub kind: String,
    /// NetBIOS or netmap name found (may be empty).
    pub name: String,
}

/// An address a job may scan: a netmap entry that is no inventoried interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisTarget {
    /// The address, as the scanning agent reported it (callers validate it).
    pub ip: String,
    /// Its MAC.
    pub mac: String,
    /// The network's mask, as reported with it.
    pub mask: Option<String>,
    /// The name the scanning agent reported.
    pub name: Option<String>,
}

type AnalysisRow = (
    i64,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    String,
    String,
);

fn record(
    (id, netid, state, total, done, started_at, finished_at, started_by, error): AnalysisRow,
) -> AnalysisRecord {
    AnalysisRecord {
        id,
        netid,
        state: AnalysisState::parse(&state),
        total,
        done,
        started_at,
        finished_at,
        started_by,
        error,
    }
}

const SELECT: &str = "SELECT id, netid, state, total, done, started_at, finished_at, started_by, \
                      error FROM netmap_analyses";

/// The time of a job's latest sign of life (its start or its newest result).
const LAST_ALIVE: &str = "COALESCE((SELECT MAX(r.analyzed_at) FROM netmap_analysis_results r \
                          WHERE r.analysis_id = a.id), a.started_at)";

/// The error stored on a job taken over.
pub const ABANDONED: &str = "abandoned: no progress for too long (its server may have stopped)";

impl Store {
    /// Starts a job on `netid` for `total` addresses at `now`; returns its ID.
    /// [`StoreError::Conflict`] when another job runs there and showed a sign of life within
    /// `stale_after_secs`; an older one is marked failed ([`ABANDONED`]) and replaced.
    pub async fn start_analysis(
        &self,
        netid: &str,
        total: i64,
        started_by: &str,
        now: i64,
        stale_after_secs: i64,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            // Two instances starting a job on one network at once must see each other's.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("netmap_analysis {netid}"))
                .execute(tx.conn())
                .await?;
        }
        let running: Vec<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT a.id, {LAST_ALIVE} FROM netmap_analyses a \
             WHERE a.netid = $1 AND a.state = 'running'"
        ))
        .bind(netid)
        .fetch_all(tx.conn())
        .await?;
        for (id, alive) in running {
            if now - alive < stale_after_secs {
                return Err(StoreError::Conflict(format!(
                    "analysis {id} of network {netid} is running"
                )));
            }
            sqlx::query(
                "UPDATE netmap_analyses SET state = 'failed', finished_at = $1, error = $2 \
                 WHERE id = $3",
            )
            .bind(now)
            .bind(ABANDONED)
            .bind(id)
            .execute(tx.conn())
            .await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO netmap_analyses (netid, state, total, done, started_at, started_by) \
             VALUES ($1, 'running', $2, 0, $3, $4) RETURNING id",
        )
        .bind(netid)
        .bind(total)
        .bind(now)
        .bind(started_by)
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records a batch of a running job: its results (each address keeps only its latest
    /// classification) and that `done` addresses are scanned. `false` when the job is no longer
    /// running (taken over as stale, say): it should stop, and nothing was recorded.
    pub async fn record_analysis_progress(
        &self,
        id: i64,
        done: i64,
        results: &[AnalysisResult],
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let netid: Option<String> = sqlx::query_scalar(
            "UPDATE netmap_analyses SET done = $1 WHERE id = $2 AND state = 'running' \
             RETURNING netid",
        )
        .bind(done)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        let Some(netid) = netid else {
            tx.rollback().await?;
            return Ok(false);
        };
        for r in results {
            sqlx::query(
                "INSERT INTO netmap_analysis_results (ip, netid, mac, kind, name, analysis_id, \
                 analyzed_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (ip) DO UPDATE SET netid = excluded.netid, mac = excluded.mac, \
                 kind = excluded.kind, name = excluded.name, analysis_id = excluded.analysis_id, \
                 analyzed_at = excluded.analyzed_at",
            )
            .bind(&r.ip)
            .bind(&netid)
            .bind(&r.mac)
            .bind(&r.kind)
            .bind(&r.name)
            .bind(id)
            .bind(now)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Ends a running job: done, or failed with `error`. `false` when it was not running.
    pub async fn finish_analysis(&self, id: i64, error: Option<&str>, now: i64) -> Result<bool> {
        let state = match error {
            None => AnalysisState::Done,
            Some(_) => AnalysisState::Failed,
        };
        let ended = sqlx::query(
            "UPDATE netmap_analyses SET state = $1, finished_at = $2, error = $3 \
             WHERE id = $4 AND state = 'running'",
        )
        .bind(state.as_str())
        .bind(now)
        .bind(error.unwrap_or_default())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(ended.rows_affected() > 0)
    }

    /// One job.
    pub async fn find_analysis(&self, id: i64) -> Result<Option<AnalysisRecord>> {
        let row: Option<AnalysisRow> = sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read_pool)
            .await?;
        Ok(row.map(record))
    }

    /// The latest `limit` jobs of a network, newest first.
    pub async fn list_analyses(&self, netid: &str, limit: i64) -> Result<Vec<AnalysisRecord>> {
        let rows: Vec<AnalysisRow> = sqlx::query_as(&format!(
            "{SELECT} WHERE netid = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(netid)
        .bind(limit)
        .fetch_all(&self.read_pool)
        .await?;
        Ok(rows.into_iter().map(record).collect())
    }

    /// The classifications a job gave that no later job replaced, by address text.
    pub async fn list_analysis_results(&self, id: i64) -> Result<Vec<AnalysisResult>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT ip, mac, kind, name FROM netmap_analysis_results WHERE analysis_id = $1 \
             ORDER BY ip",
        )
        .bind(id)
        .fetch_all(&self.read_pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(ip, mac, kind, name)| AnalysisResult {
                ip,
                mac,
                kind,
                name,
            })
            .collect())
    }

    /// What a job on `netid` may scan: its netmap entries whose MAC is no inventoried
    /// interface, by address text.
    pub async fn list_analysis_targets(&self, netid: &str) -> Result<Vec<AnalysisTarget>> {
        let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT m.ip, m.mac, m.mask, m.name FROM netmap m WHERE m.netid = $1 \
             AND NOT EXISTS (SELECT 1 FROM networks n WHERE LOWER(n.macaddr) = LOWER(m.mac)) \
             ORDER BY m.ip",
        )
        .bind(netid)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(ip, mac, mask, name)| AnalysisTarget {
                ip,
                mac,
                mask,
                name,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store as test_store;

    fn result(ip: &str, kind: &str) -> AnalysisResult {
        AnalysisResult {
            ip: ip.into(),
            mac: format!("00:1b:21:00:00:{}", &ip[ip.len() - 2..]),
            kind: kind.into(),
            name: String::new(),
        }
    }

    #[tokio::test]
    async fn one_job_per_network_runs_records_and_ends_and_a_stale_one_is_taken_over() {
        let (store, _dir) = test_store().await;
        let first = store
            .start_analysis("192.0.2.0", 3, "admin", 1_000, 600)
            .await
            .unwrap();
        assert!(matches!(
            store
                .start_analysis("192.0.2.0", 3, "admin", 1_100, 600)
                .await,
            Err(StoreError::Conflict(_))
        ));
        // Another network is independent.
        let other = store
            .start_analysis("198.51.100.0", 1, "admin", 1_100, 600)
            .await
            .unwrap();
        assert!(store
            .record_analysis_progress(
                first,
                2,
                &[
                    result("192.0.2.21", "WINDOWS"),
                    result("192.0.2.22", "LINUX")
                ],
                1_500,
            )
            .await
            .unwrap());
        // Its latest result is a sign of life: 1,500 + 600 is not reached yet.
        assert!(matches!(
            store
                .start_analysis("192.0.2.0", 3, "admin", 2_000, 600)
                .await,
            Err(StoreError::Conflict(_))
        ));
        let running = store.find_analysis(first).await.unwrap().unwrap();
        assert_eq!(
            (
                running.state,
                running.done,
                running.total,
                running.finished_at
            ),
            (AnalysisState::Running, 2, 3, None)
        );
        let taken = store
            .start_analysis("192.0.2.0", 4, "bob", 2_200, 600)
            .await
            .unwrap();
        let stale = store.find_analysis(first).await.unwrap().unwrap();
        assert_eq!(stale.state, AnalysisState::Failed);
        assert_eq!(stale.error, ABANDONED);
        assert_eq!(stale.finished_at, Some(2_200));
        // The abandoned job learns it must stop, and records nothing more.
        assert!(!store
            .record_analysis_progress(first, 3, &[result("192.0.2.23", "PHANTOM")], 2_300)
            .await
            .unwrap());
        assert!(!store.finish_analysis(first, None, 2_300).await.unwrap());
        // The new job's results replace the old ones per address.
        assert!(store
            .record_analysis_progress(taken, 1, &[result("192.0.2.21", "NETWORK")], 2_400)
            .await
            .unwrap());
        assert!(store.finish_analysis(taken, None, 2_500).await.unwrap());
        assert!(store
            .finish_analysis(other, Some("nmap failed"), 2_500)
            .await
            .unwrap());
        assert_eq!(
            store.list_analysis_results(first).await.unwrap(),
            [result("192.0.2.22", "LINUX")]
        );
        assert_eq!(
            store.list_analysis_results(taken).await.unwrap(),
            [result("192.0.2.21", "NETWORK")]
        );
        let done = store.find_analysis(taken).await.unwrap().unwrap();
        assert_eq!(
            (done.state, done.finished_at, done.started_by.as_str()),
            (AnalysisState::Done, Some(2_500), "bob")
        );
        let failed = store.find_analysis(other).await.unwrap().unwrap();
        assert_eq!(
            (failed.state, failed.error.as_str()),
            (AnalysisState::Failed, "nmap failed")
        );
        let ids: Vec<i64> = store
            .list_analyses("192.0.2.0", 10)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(ids, [taken, first]);
        assert_eq!(store.list_analyses("192.0.2.0", 1).await.unwrap().len(), 1);
        assert!(store.find_analysis(taken + 100).await.unwrap().is_none());
        // Once ended, the network is free again.
        store
            .start_analysis("192.0.2.0", 1, "admin", 2_600, 600)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn targets_are_the_networks_netmap_entries_that_are_no_inventoried_interface() {
        let (store, _dir) = test_store().await;
        let hw: i64 = sqlx::query_scalar(
            "INSERT INTO hardware (deviceid, name) VALUES ('pc-2026-01-01-00-00-00', 'pc') \
             RETURNING id",
        )
        .fetch_one(&store.pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO networks (hardware_id, macaddr, ipaddress) VALUES ($1, $2, $3)")
            .bind(hw)
            .bind("00:1B:21:0A:00:10")
            .bind("192.0.2.10")
            .execute(&store.pool)
            .await
            .unwrap();
        for (mac, ip, netid) in [
            ("00:1b:21:0a:00:10", "192.0.2.10", "192.0.2.0"),
            ("3c:52:82:0a:00:21", "192.0.2.21", "192.0.2.0"),
            ("00:0c:29:0a:00:22", "192.0.2.22", "192.0.2.0"),
            ("00:0c:29:0a:00:23", "198.51.100.23", "198.51.100.0"),
        ] {
            sqlx::query(
                "INSERT INTO netmap (mac, ip, mask, netid, date, name, hardware_id) \
                 VALUES ($1, $2, '255.255.255.0', $3, 0, '-', $4)",
            )
            .bind(mac)
            .bind(ip)
            .bind(netid)
            .bind(hw)
            .execute(&store.pool)
            .await
            .unwrap();
        }
        let targets = store.list_analysis_targets("192.0.2.0").await.unwrap();
        let found: Vec<(&str, &str, Option<&str>)> = targets
            .iter()
            .map(|t| (t.ip.as_str(), t.mac.as_str(), t.mask.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("192.0.2.21", "3c:52:82:0a:00:21", Some("255.255.255.0")),
                ("192.0.2.22", "00:0c:29:0a:00:22", Some("255.255.255.0")),
            ]
        );
        assert!(store
            .list_analysis_targets("203.0.113.0")
            .await
            .unwrap()
            .is_empty());
    }
}
