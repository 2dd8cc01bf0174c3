//! Consistency checks of a whole database, for crash tests and for an operator who wants to
//! know whether an unclean stop left anything behind: the engine's own check (SQLite's
//! `PRAGMA integrity_check`), device rows without their administrative data row, and section
//! rows whose device does not exist. It only reads.

use ocs_proto::catalogue::{self, Storage};

use crate::{Backend, Result, Store};

/// What [`Store::check_integrity`] found; [`IntegrityReport::is_clean`] when nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    /// Problems reported by the engine itself (SQLite's `integrity_check` lines other than
    /// `ok`); PostgreSQL has no such check and reports none.
    pub engine: Vec<String>,
    /// Devices (`hardware` rows) without their `accountinfo` row, which every inventory
    /// creates in the same transaction as the device.
    pub hosts_without_accountinfo: i64,
    /// `(table, rows)` for every table holding rows of a device that does not exist.
    pub orphans: Vec<(&'static str, i64)>,
}

impl IntegrityReport {
    /// Whether the database is consistent.
    pub fn is_clean(&self) -> bool {
        self.engine.is_empty() && self.hosts_without_accountinfo == 0 && self.orphans.is_empty()
    }
}

/// Every table keyed by `hardware_id`: the catalogue's section tables, software and the
/// administrative data.
fn device_tables() -> impl Iterator<Item = &'static str> {
    catalogue::SECTIONS
        .iter()
        .filter(|s| s.storage != Storage::Hardware)
        .map(|s| s.table)
        .chain(["software", "accountinfo", "accountinfo_values"])
}

impl Store {
    /// Checks the whole database (see the module comment). Reads every device table once,
    /// so it is meant for tests and maintenance, not for request paths.
    pub async fn check_integrity(&self) -> Result<IntegrityReport> {
        let engine = match self.backend {
            Backend::Sqlite => {
                let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_all(&self.pool)
                    .await?;
                lines.into_iter().filter(|l| l != "ok").collect()
            }
            Backend::Postgres => Vec::new(),
        };
        let hosts_without_accountinfo: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM hardware h WHERE NOT EXISTS \
             (SELECT 1 FROM accountinfo a WHERE a.hardware_id = h.id)",
        )
        .fetch_one(&self.pool)
        .await?;
        let mut orphans = Vec::new();
        for table in device_tables() {
            // Table names come from the static catalogue, never from input.
            let sql = format!(
                "SELECT COUNT(*) FROM {table} t WHERE NOT EXISTS \
                 (SELECT 1 FROM hardware h WHERE h.id = t.hardware_id)"
            );
            let count: i64 = sqlx::query_scalar(&sql).fetch_one(&self.pool).await?;
            if count > 0 {
                orphans.push((table, count));
            }
        }
        Ok(IntegrityReport {
            engine,
            hosts_without_accountinfo,
            orphans,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::store;

    #[tokio::test]
    async fn a_written_device_is_consistent() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        tx.insert_host("integrity-2024-01-01-00-00-00")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let report = store.check_integrity().await.unwrap();
        assert!(report.is_clean(), "{report:?}");

        // What a device created outside one transaction would look like.
        sqlx::query("DELETE FROM accountinfo")
            .execute(&store.pool)
            .await
            .unwrap();
        let report = store.check_integrity().await.unwrap();
        assert_eq!(report.hosts_without_accountinfo, 1);
        assert!(!report.is_clean());
    }
}
