//! Duplicate detection (AUTO_DUPLICATE_LVL criteria) and the merge of an old device row into
//! the current one. Comparisons, blacklists included, ignore case: agents report MACs in lower
//! case while the blacklists hold upper case.

pub mod blacklists;
pub mod candidates;
pub mod merges;

use std::collections::BTreeSet;

use sqlx::Row;

use crate::hosts::HostId;
use crate::sql::placeholders;
use crate::{Result, WriteTx};

/// What the current inventory says, for the criteria of `level`.
#[derive(Debug, Clone, Default)]
pub struct DuplicateCriteria {
    /// AUTO_DUPLICATE_LVL bitmask: 1 name, 2 serial, 4 MAC, 8 model, 16 UUID, 32 asset tag.
    pub level: i64,
    /// HARDWARE/NAME.
    pub name: Option<String>,
    /// BIOS/SSN.
    pub serial: Option<String>,
    /// NETWORKS/MACADDR values.
    pub macs: Vec<String>,
    /// BIOS/SMODEL.
    pub model: Option<String>,
    /// HARDWARE/UUID.
    pub uuid: Option<String>,
    /// BIOS/ASSETTAG.
    pub assettag: Option<String>,
}

/// What the merge needs from the current inventory.
#[derive(Debug, Clone)]
pub struct MergeSource {
    /// CHECKSUM sent by the agent (`None`: everything changed).
    pub sent_checksum: Option<u64>,
    /// The agent reported a system account as logged-in user, so the old one is kept.
    pub keep_old_userid: bool,
    /// Record the merge in `deleted_equiv` (TRACE_DELETED).
    pub trace: bool,
    /// Now, Unix seconds.
    pub now: i64,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl WriteTx {
    /// Other devices matching **every** criterion of the level.
    pub async fn find_duplicates(
        &mut self,
        id: HostId,
        c: &DuplicateCriteria,
    ) -> Result<Vec<HostId>> {
        let level = c.level & 63;
        if level == 0 {
            return Ok(Vec::new());
        }
        let mut result: Option<BTreeSet<i64>> = None;
        for bit in [1, 2, 4, 8, 16, 32] {
            if level & bit == 0 {
                continue;
            }
            let found = self.matching(id, bit, c).await?;
            let narrowed: BTreeSet<i64> = match result {
                None => found,
                Some(prev) => prev.intersection(&found).copied().collect(),
            };
            if narrowed.is_empty() {
                return Ok(Vec::new());
            }
            result = Some(narrowed);
        }
        Ok(result.unwrap_or_default().into_iter().map(HostId).collect())
    }

    async fn matching(
        &mut self,
        id: HostId,
        bit: i64,
        c: &DuplicateCriteria,
    ) -> Result<BTreeSet<i64>> {
        let single = |sql: &'static str, value: Option<&str>| (sql, value.map(str::to_owned));
        let (sql, value) = match bit {
            1 => single("SELECT id FROM hardware WHERE LOWER(name) = LOWER($1) AND id <> $2", present(&c.name)),
            2 => {
                let Some(serial) = present(&c.serial) else { return Ok(BTreeSet::new()) };
                let listed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM blacklist_serials WHERE LOWER(serial) = LOWER($1)")
                    .bind(serial)
                    .fetch_one(self.conn())
                    .await?;
                if listed > 0 {
                    return Ok(BTreeSet::new());
                }
                single("SELECT hardware_id FROM bios WHERE LOWER(ssn) = LOWER($1) AND hardware_id <> $2", Some(serial))
            }
            4 => return self.matching_macs(id, &c.macs).await,
            8 => single("SELECT hardware_id FROM bios WHERE LOWER(smodel) = LOWER($1) AND hardware_id <> $2", present(&c.model)),
            16 => single("SELECT id FROM hardware WHERE LOWER(uuid) = LOWER($1) AND id <> $2", present(&c.uuid)),
            _ => single("SELECT hardware_id FROM bios WHERE LOWER(assettag) = LOWER($1) AND hardware_id <> $2", present(&c.assettag)),
        };
        let Some(value) = value else {
            return Ok(BTreeSet::new());
        };
        let ids: Vec<i64> = sqlx::query_scalar(sql)
            .bind(value)
            .bind(id.0)
            .fetch_all(self.conn())
            .await?;
        Ok(ids.into_iter().collect())
    }

    async fn matching_macs(&mut self, id: HostId, macs: &[String]) -> Result<BTreeSet<i64>> {
        let blacklist: Vec<String> =
            sqlx::query_scalar("SELECT LOWER(macaddress) FROM blacklist_macaddresses")
                .fetch_all(self.conn())
                .await?;
        let mut wanted: Vec<String> = macs
            .iter()
            .map(|m| m.trim().to_lowercase())
            .filter(|m| !m.is_empty() && !blacklist.contains(m))
            .collect();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(BTreeSet::new());
        }
        let sql = format!(
            "SELECT DISTINCT hardware_id FROM networks WHERE LOWER(macaddr) IN ({}) AND hardware_id <> {}",
            placeholders(self.backend, 1, wanted.len()),
            placeholders(self.backend, wanted.len() + 1, 1)
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for m in wanted {
            q = q.bind(m);
        }
        q = q.bind(id.0);
        Ok(q.fetch_all(self.conn()).await?.into_iter().collect())
    }

    /// Merges device `old` into `new`: `new` inherits the old counters, administrative data
    /// and per-device settings; `old` and all its inventory rows are deleted. Returns false
    /// when `old` no longer exists (a concurrent inventory merged it first).
    pub async fn merge_host(
        &mut self,
        old: HostId,
        new: HostId,
        src: &MergeSource,
    ) -> Result<bool> {
        // PostgreSQL: lock the old row so that two instances cannot merge it at once; the
        // second one waits, then finds it gone. SQLite transactions already exclude each other.
        let lock = if self.backend == crate::Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT quality, fidelity, checksum, userid FROM hardware WHERE id = $1{lock}"
        ))
        .bind(old.0)
        .fetch_optional(self.conn())
        .await?;
        let Some(row) = row else { return Ok(false) };
        let quality: f64 = row.try_get(0)?;
        let fidelity: i64 = row.try_get(1)?;
        let old_checksum: i64 = row.try_get(2)?;
        let old_userid: Option<String> = row.try_get(3)?;
        let sent = src.sent_checksum.map_or(
            i64::try_from(ocs_proto::catalogue::ALL_SECTIONS_CHANGED).unwrap_or(i64::MAX),
            |c| i64::try_from(c).unwrap_or(i64::MAX),
        );
        sqlx::query("UPDATE hardware SET quality = $2, fidelity = $3, checksum = $4 WHERE id = $1")
            .bind(new.0)
            .bind(quality)
            .bind(fidelity)
            .bind(old_checksum | sent)
            .execute(self.conn())
            .await?;
        if src.keep_old_userid {
            sqlx::query("UPDATE hardware SET userid = $2 WHERE id = $1")
                .bind(new.0)
                .bind(old_userid)
                .execute(self.conn())
                .await?;
        }
        let has_admin_data: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM accountinfo WHERE hardware_id = $1")
                .bind(old.0)
                .fetch_one(self.conn())
                .await?;
        if has_admin_data > 0 {
            for table in ["accountinfo", "accountinfo_values"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE hardware_id = $1"))
                    .bind(new.0)
                    .execute(self.conn())
                    .await?;
            }
        }
        sqlx::query("DELETE FROM devices WHERE hardware_id = $1")
            .bind(new.0)
            .execute(self.conn())
            .await?;
        for table in [
            "accountinfo",
            "accountinfo_values",
            "devices",
            "download_reports",
            "netmap",
        ] {
            sqlx::query(&format!(
                "UPDATE {table} SET hardware_id = $2 WHERE hardware_id = $1"
            ))
            .bind(old.0)
            .bind(new.0)
            .execute(self.conn())
            .await?;
        }
        // Static memberships (added by hand, forced in or out) are administrative data and
        // follow the device; computed ones go with the old row and come back at the next
        // evaluation if the new row matches. A group the new row already has keeps its row.
        sqlx::query(
            "UPDATE group_members SET hardware_id = $2 WHERE hardware_id = $1 AND static IN (1, 2) \
             AND group_id NOT IN (SELECT g.group_id FROM group_members g WHERE g.hardware_id = $2)",
        )
        .bind(old.0)
        .bind(new.0)
        .execute(self.conn())
        .await?;
        // Deleting the device row deletes its inventory rows with it (ON DELETE CASCADE).
        sqlx::query("DELETE FROM hardware WHERE id = $1")
            .bind(old.0)
            .execute(self.conn())
            .await?;
        if src.trace {
            sqlx::query(
                "INSERT INTO deleted_equiv (date, deleted, equivalent) VALUES ($1, $2, $3)",
            )
            .bind(src.now)
            .bind(old.0.to_string())
            .bind(new.0.to_string())
            .execute(self.conn())
            .await?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::store;
    use crate::{HostId, MergeSource};

    async fn memberships(store: &crate::Store, id: HostId) -> Vec<(i64, i64)> {
        sqlx::query_as(
            "SELECT group_id, static FROM group_members WHERE hardware_id = $1 ORDER BY group_id",
        )
        .bind(id.0)
        .fetch_all(&store.pool)
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_merge_keeps_static_memberships_and_drops_computed_ones() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        let old = tx.insert_host("old-2024-01-01-00-00-00").await.unwrap();
        let new = tx.insert_host("new-2024-01-01-00-00-00").await.unwrap();
        for (id, name) in [
            (1, "by hand"),
            (2, "computed"),
            (3, "forced out"),
            (4, "both"),
        ] {
            sqlx::query(
                "INSERT INTO groups (id, name, kind, created_at) VALUES ($1, $2, 'static', 0)",
            )
            .bind(id)
            .bind(name)
            .execute(tx.conn())
            .await
            .unwrap();
        }
        for (group, host, kind) in [
            (1, old, 1),
            (2, old, 0),
            (3, old, 2),
            (4, old, 1),
            (4, new, 0),
        ] {
            sqlx::query(
                "INSERT INTO group_members (group_id, hardware_id, static) VALUES ($1, $2, $3)",
            )
            .bind(group)
            .bind(host.0)
            .bind(kind)
            .execute(tx.conn())
            .await
            .unwrap();
        }
        let source = MergeSource {
            sent_checksum: None,
            keep_old_userid: false,
            trace: false,
            now: 7,
        };
        assert!(tx.merge_host(old, new, &source).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(memberships(&store, old).await, []);
        assert_eq!(memberships(&store, new).await, [(1, 1), (3, 2), (4, 0)]);
    }
}
