//! Deleting computers: every row a computer owns goes, in one transaction per chunk of
//! computers; the deletion is logged in `deleted_computers` (and, with TRACE_DELETED, in
//! `deleted_equiv`, as the original and GLPI expect). Also the inactive computers cleaning
//! reads (last contact older than a cutoff) and the log of deleted computers.
//!
//! What goes with a computer: the `hardware` row takes every table holding a foreign key to it
//! (sections, software, administrative data, settings, group memberships, bindings, deployment
//! history) through `ON DELETE CASCADE`; `prolog_sessions` is keyed by DEVICEID and is deleted
//! by name; `netmap.hardware_id` and `snmp_devices.scanned_by` only say which computer saw a
//! network device, and the device stays, unlinked. [`Store::remnants_of`] reads the schema
//! catalogue to find any other table naming a computer, so a table added later without a
//! cascade fails the tests instead of keeping rows of deleted computers. This module must not
//! delete anything but the computers it is given (and their rows).

use sqlx::Row;

use crate::hosts::{HostId, Page};
use crate::sql::placeholders;
use crate::{Backend, Result, Store, WriteTx};

/// Computers deleted per transaction: small enough that the SQLite writer is never held for
/// long (inventories queue behind it) and that the IDs fit in one statement's parameters.
pub const DELETE_CHUNK: usize = 500;

/// How a deletion is recorded.
#[derive(Debug, Clone)]
pub struct Deletion {
    /// Who deleted (a console login, an API token, the command line, the scheduler).
    pub by: String,
    /// Why (`manual`, `inactive`, …).
    pub reason: String,
    /// Now, Unix seconds.
    pub now: i64,
    /// Also record each computer in `deleted_equiv` (TRACE_DELETED).
    pub trace: bool,
    /// Only delete computers whose last contact is still older than this (inactive cleaning:
    /// a computer that came back between the preview and its chunk is kept).
    pub inactive_before: Option<i64>,
}

/// A computer that was deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedHost {
    /// Its former ID.
    pub id: HostId,
    /// Its DEVICEID.
    pub deviceid: String,
    /// Its name.
    pub name: Option<String>,
}

/// One line of the deleted computers log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedRecord {
    /// Line number.
    pub id: i64,
    /// The computer's former ID.
    pub hardware_id: HostId,
    /// Its DEVICEID.
    pub deviceid: String,
    /// Its name.
    pub name: Option<String>,
    /// When (Unix seconds).
    pub deleted_at: i64,
    /// Who.
    pub deleted_by: String,
    /// Why.
    pub reason: String,
}

/// A computer not seen for long, as the cleaning preview shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InactiveHost {
    /// ID.
    pub id: HostId,
    /// DEVICEID.
    pub deviceid: String,
    /// Name.
    pub name: Option<String>,
    /// Last contact (or last inventory), Unix seconds.
    pub last_seen: Option<i64>,
}

/// When a computer was last heard of: its last contact, else its last inventory; a computer
/// with neither was never seen and counts as inactive.
const LAST_SEEN: &str = "COALESCE(lastcome, lastdate, 0)";

/// Columns that name a computer, by ID or DEVICEID.
const COMPUTER_COLUMNS: &[&str] = &["hardware_id", "deviceid", "scanned_by"];
/// Tables that keep a deleted computer's ID on purpose: the logs of deletions.
const LOG_TABLES: &[&str] = &["deleted_computers", "deleted_equiv"];

/// Tables whose rows belong to one computer (`hardware_id` with ON DELETE CASCADE), deleted
/// explicitly before the device row for speed; the cascade covers any table not listed.
fn owned_tables() -> impl Iterator<Item = &'static str> {
    ocs_proto::catalogue::SECTIONS
        .iter()
        .map(|s| s.table)
        .chain([
            "software",
            "accountinfo_values",
            "accountinfo",
            "devices",
            "download_history",
            "download_reports",
            "agent_bindings",
            "group_members",
            "history",
        ])
}

impl WriteTx {
    /// Deletes these computers and every row they own, and logs each deletion. IDs that are
    /// not (or no longer) stored are skipped; returns the computers deleted. At most
    /// [`DELETE_CHUNK`] IDs: use [`Store::delete_computers`] for more.
    pub async fn delete_hosts(
        &mut self,
        ids: &[HostId],
        how: &Deletion,
    ) -> Result<Vec<DeletedHost>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut ids: Vec<i64> = ids.iter().map(|h| h.0).collect();
        ids.sort_unstable();
        ids.dedup();
        let b = self.backend;
        let inactive = how.inactive_before.map_or(String::new(), |_| {
            format!(" AND {LAST_SEEN} < {}", placeholders(b, ids.len() + 1, 1))
        });
        let within = format!("id IN ({}){inactive}", placeholders(b, 1, ids.len()));
        if b == Backend::Postgres {
            // The DEVICEID locks of inventories and PROLOG contact records (`lock_host`), in
            // DEVICEID order as every other holder of several takes them: an inventory of one
            // of these computers finishes before, or starts after, its deletion.
            let sql = format!(
                "SELECT pg_advisory_xact_lock(hashtextextended(deviceid, 0)) FROM hardware \
                 WHERE {within} ORDER BY deviceid"
            );
            let mut q = sqlx::query(&sql);
            for id in &ids {
                q = q.bind(*id);
            }
            if let Some(before) = how.inactive_before {
                q = q.bind(before);
            }
            q.execute(self.conn()).await?;
        }
        let lock = if b == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let sql =
            format!("SELECT id, deviceid, name FROM hardware WHERE {within} ORDER BY id{lock}");
        let mut q = sqlx::query(&sql);
        for id in &ids {
            q = q.bind(*id);
        }
        if let Some(before) = how.inactive_before {
            q = q.bind(before);
        }
        let rows = q.fetch_all(self.conn()).await?;
        let deleted = rows
            .iter()
            .map(|r| {
                Ok(DeletedHost {
                    id: HostId(r.try_get(0)?),
                    deviceid: r.try_get(1)?,
                    name: r.try_get(2)?,
                })
            })
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?;
        if deleted.is_empty() {
            return Ok(deleted);
        }
        let ids: Vec<i64> = deleted.iter().map(|d| d.id.0).collect();
        let n = ids.len();
        let list = |from: usize| placeholders(b, from, n);

        // The log, read from the rows before they go.
        let sql = format!(
            "INSERT INTO deleted_computers (hardware_id, deviceid, name, deleted_at, deleted_by, reason) \
             SELECT id, deviceid, name, {} FROM hardware WHERE id IN ({}) ORDER BY id",
            placeholders(b, 1, 3),
            list(4)
        );
        let mut q = sqlx::query(&sql)
            .bind(how.now)
            .bind(how.by.clone())
            .bind(how.reason.clone());
        for id in &ids {
            q = q.bind(*id);
        }
        q.execute(self.conn()).await?;
        if how.trace {
            let sql = format!(
                "INSERT INTO deleted_equiv (date, deleted, equivalent) \
                 SELECT {}, CAST(id AS TEXT), NULL FROM hardware WHERE id IN ({}) ORDER BY id",
                placeholders(b, 1, 1),
                list(2)
            );
            let mut q = sqlx::query(&sql).bind(how.now);
            for id in &ids {
                q = q.bind(*id);
            }
            q.execute(self.conn()).await?;
        }

        // Rows that name the computer without a foreign key.
        let sql = format!(
            "DELETE FROM prolog_sessions WHERE deviceid IN ({})",
            list(1)
        );
        let mut q = sqlx::query(&sql);
        for d in &deleted {
            q = q.bind(d.deviceid.clone());
        }
        q.execute(self.conn()).await?;
        for (table, column) in [("netmap", "hardware_id"), ("snmp_devices", "scanned_by")] {
            let sql = format!(
                "UPDATE {table} SET {column} = NULL WHERE {column} IN ({})",
                list(1)
            );
            let mut q = sqlx::query(&sql);
            for id in &ids {
                q = q.bind(*id);
            }
            q.execute(self.conn()).await?;
        }

        // The rows of the tables that hold most, deleted table by table: for a chunk of
        // computers one seek per table and ID list is much cheaper than the cascade's
        // statement per computer and table (a third less time, measured on SQLite).
        for table in owned_tables() {
            let sql = format!("DELETE FROM {table} WHERE hardware_id IN ({})", list(1));
            let mut q = sqlx::query(&sql);
            for id in &ids {
                q = q.bind(*id);
            }
            q.execute(self.conn()).await?;
        }
        // The device row, and with it (ON DELETE CASCADE) every other row holding a foreign
        // key to it, including tables added after this list.
        let sql = format!("DELETE FROM hardware WHERE id IN ({})", list(1));
        let mut q = sqlx::query(&sql);
        for id in &ids {
            q = q.bind(*id);
        }
        q.execute(self.conn()).await?;
        Ok(deleted)
    }
}

impl Store {
    /// Deletes computers by ID, [`DELETE_CHUNK`] per transaction: each chunk is deleted whole
    /// or not at all, and a failure stops at its chunk (the chunks before it stay deleted and
    /// logged). Returns the computers deleted; unknown IDs are skipped.
    pub async fn delete_computers(
        &self,
        ids: &[HostId],
        how: &Deletion,
    ) -> Result<Vec<DeletedHost>> {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut deleted = Vec::with_capacity(sorted.len());
        for chunk in sorted.chunks(DELETE_CHUNK) {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let mut tx = self.begin().await?;
                let result = async {
                    let done = tx.delete_hosts(chunk, how).await?;
                    tx.commit().await?;
                    Ok::<_, crate::StoreError>(done)
                }
                .await;
                match result {
                    Ok(done) => {
                        deleted.extend(done);
                        break;
                    }
                    // PostgreSQL gave up on the chunk because of a concurrent transaction
                    // (a deadlock with an inventory's merge): nothing of it was kept.
                    Err(e) if e.is_retryable() && attempt < 3 => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(deleted)
    }

    /// Which of these IDs are stored computers.
    pub async fn existing_hosts(&self, ids: &[HostId]) -> Result<Vec<HostId>> {
        let mut found = Vec::new();
        for chunk in ids.chunks(DELETE_CHUNK) {
            let sql = format!(
                "SELECT id FROM hardware WHERE id IN ({}) ORDER BY id",
                placeholders(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query_scalar::<_, i64>(&sql);
            for id in chunk {
                q = q.bind(id.0);
            }
            found.extend(q.fetch_all(&self.pool).await?.into_iter().map(HostId));
        }
        Ok(found)
    }

    /// Number of computers last seen before `before` (Unix seconds).
    pub async fn count_inactive(&self, before: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM hardware WHERE {LAST_SEEN} < $1"
        ))
        .bind(before)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The computers last seen before `before`, longest unseen first, at most `limit`.
    pub async fn list_inactive(&self, before: i64, limit: i64) -> Result<Vec<InactiveHost>> {
        let rows = sqlx::query(&format!(
            "SELECT id, deviceid, name, COALESCE(lastcome, lastdate) FROM hardware \
             WHERE {LAST_SEEN} < $1 ORDER BY {LAST_SEEN}, id LIMIT $2"
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InactiveHost {
                    id: HostId(r.try_get(0)?),
                    deviceid: r.try_get(1)?,
                    name: r.try_get(2)?,
                    last_seen: r.try_get(3)?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// The IDs of every computer last seen before `before`.
    pub async fn inactive_ids(&self, before: i64) -> Result<Vec<HostId>> {
        let ids: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM hardware WHERE {LAST_SEEN} < $1 ORDER BY id"
        ))
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(HostId).collect())
    }

    /// A page of the deleted computers log, newest first, and the number of lines.
    pub async fn list_deleted(&self, page: Page) -> Result<(i64, Vec<DeletedRecord>)> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deleted_computers")
            .fetch_one(&self.read_pool)
            .await?;
        let size = i64::from(page.size.max(1));
        let offset = i64::from(page.number.max(1) - 1) * size;
        let rows = sqlx::query(
            "SELECT id, hardware_id, deviceid, name, deleted_at, deleted_by, reason \
             FROM deleted_computers ORDER BY deleted_at DESC, id DESC LIMIT $1 OFFSET $2",
        )
        .bind(size)
        .bind(offset)
        .fetch_all(&self.read_pool)
        .await?;
        let records = rows
            .iter()
            .map(|r| {
                Ok(DeletedRecord {
                    id: r.try_get(0)?,
                    hardware_id: HostId(r.try_get(1)?),
                    deviceid: r.try_get(2)?,
                    name: r.try_get(3)?,
                    deleted_at: r.try_get(4)?,
                    deleted_by: r.try_get(5)?,
                    reason: r.try_get(6)?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()?;
        Ok((total, records))
    }

    /// Every row of any table that still names this computer (by ID in a `hardware_id` or
    /// `scanned_by` column, by DEVICEID in a `deviceid` column), as `(table.column, rows)`,
    /// the deletion logs excepted. The tables come from the schema catalogue, so a table
    /// added later is covered without a change here. For tests and diagnostics.
    pub async fn remnants_of(&self, id: HostId, deviceid: &str) -> Result<Vec<(String, i64)>> {
        let mut found = Vec::new();
        for (table, (columns, _)) in self.schema_shape().await? {
            if LOG_TABLES.contains(&table.as_str()) {
                continue;
            }
            for column in columns
                .iter()
                .filter(|c| COMPUTER_COLUMNS.contains(&c.as_str()))
            {
                // Names from the database's own catalogue, quoted; the value is bound.
                let sql = format!("SELECT COUNT(*) FROM \"{table}\" WHERE \"{column}\" = $1");
                let q = sqlx::query_scalar::<_, i64>(&sql);
                let q = if column == "deviceid" {
                    q.bind(deviceid.to_owned())
                } else {
                    q.bind(id.0)
                };
                let n = q.fetch_one(&self.pool).await?;
                if n > 0 {
                    found.push((format!("{table}.{column}"), n));
                }
            }
        }
        Ok(found)
    }

    /// Number of `deleted_equiv` rows naming this deleted ID (TRACE_DELETED).
    pub async fn count_deleted_equiv(&self, id: HostId) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM deleted_equiv WHERE deleted = $1")
                .bind(id.0.to_string())
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;
    use crate::FleetSpec;

    fn how(trace: bool) -> Deletion {
        Deletion {
            by: "admin".into(),
            reason: "manual".into(),
            now: 1_700_000_000,
            trace,
            inactive_before: None,
        }
    }

    /// Runs one statement; `$1` is bound to the ID, or to the DEVICEID when the statement
    /// names only that, and `$2` to the DEVICEID.
    async fn exec(store: &Store, sql: &str, id: i64, deviceid: &str) {
        let mut tx = store.begin().await.unwrap();
        let mut q = sqlx::query(sql);
        if sql.contains("$2") {
            q = q.bind(id).bind(deviceid.to_owned());
        } else if sql.contains("deviceid") {
            q = q.bind(deviceid.to_owned());
        } else {
            q = q.bind(id);
        }
        q.execute(tx.conn()).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// Gives computer `id` a row in every kind of table that can name a computer: sections,
    /// administrative data, settings, sessions, groups, deployment, bindings, IP discovery
    /// and SNMP.
    async fn furnish(store: &Store, id: HostId, deviceid: &str) {
        let statements = [
            "INSERT INTO memories (hardware_id, caption, capacity) VALUES ($1, 'DIMM', 4096)",
            "INSERT INTO cpus (hardware_id, manufacturer) VALUES ($1, 'Intel')",
            "INSERT INTO javainfo (hardware_id, javaname) VALUES ($1, 'OpenJDK')",
            "INSERT INTO devices (hardware_id, name, ivalue) VALUES ($1, 'FREQUENCY', 3)",
            "INSERT INTO download_history (hardware_id, pkg_id) VALUES ($1, '1700000000')",
            "INSERT INTO download_reports (hardware_id, fileid, status, reported_at) VALUES ($1, '1700000000', 'SUCCESS', 0)",
            "INSERT INTO agent_bindings (hardware_id, agent_user, bound_at) VALUES ($1, 'agent', 0)",
            "INSERT INTO group_members (group_id, hardware_id, static) SELECT id, $1, 1 FROM groups",
            "INSERT INTO accountinfo_values (hardware_id, field_id, value) SELECT $1, id, 'x' FROM accountinfo_fields",
            "INSERT INTO prolog_sessions (deviceid, opened_at) VALUES ($1, 0)",
            "INSERT INTO snmp_devices (type_table, reconciliation_value, scanned_by, first_seen, last_seen) VALUES ('snmp_default', $2, $1, 0, 0)",
            "INSERT INTO netmap (mac, ip, date, hardware_id) VALUES ($2, '10.0.0.9', 0, $1)",
        ];
        for sql in statements {
            exec(store, sql, id.0, deviceid).await;
        }
    }

    async fn fleet(store: &Store, n: usize) -> Vec<(HostId, String)> {
        store
            .populate_synthetic(
                FleetSpec {
                    computers: n,
                    software_per_computer: 15,
                    seed: 7,
                },
                |_| {},
            )
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        sqlx::query("INSERT INTO groups (name, kind, created_at) VALUES ('g', 'static', 0)")
            .execute(tx.conn())
            .await
            .unwrap();
        sqlx::query("INSERT INTO accountinfo_fields (label, kind) VALUES ('Room', 'Text')")
            .execute(tx.conn())
            .await
            .unwrap();
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, deviceid FROM hardware ORDER BY id")
                .fetch_all(tx.conn())
                .await
                .unwrap();
        tx.commit().await.unwrap();
        rows.into_iter().map(|(id, d)| (HostId(id), d)).collect()
    }

    #[tokio::test]
    async fn nothing_of_a_deleted_computer_remains_in_any_table() {
        let (store, _dir) = store().await;
        let hosts = fleet(&store, 3).await;
        for (id, deviceid) in &hosts {
            furnish(&store, *id, deviceid).await;
        }
        let (gone, gone_deviceid) = hosts[1].clone();
        let before = store.remnants_of(gone, &gone_deviceid).await.unwrap();
        let tables: Vec<&str> = before
            .iter()
            .map(|(t, _)| t.split('.').next().unwrap())
            .collect();
        for table in [
            "hardware",
            "accountinfo",
            "accountinfo_values",
            "bios",
            "networks",
            "software",
            "memories",
            "cpus",
            "javainfo",
            "devices",
            "download_history",
            "download_reports",
            "agent_bindings",
            "group_members",
            "prolog_sessions",
            "snmp_devices",
            "netmap",
        ] {
            assert!(tables.contains(&table), "{table} not seen in {before:?}");
        }
        let others: Vec<_> = [&hosts[0], &hosts[2]].iter().map(|(id, _)| *id).collect();
        let mut kept = Vec::new();
        for (id, d) in [&hosts[0], &hosts[2]] {
            kept.push(store.remnants_of(*id, d).await.unwrap());
        }

        let deleted = store
            .delete_computers(&[gone, HostId(999_999)], &how(false))
            .await
            .unwrap();
        assert_eq!(deleted.len(), 1, "the unknown ID is skipped");
        assert_eq!(deleted[0].deviceid, gone_deviceid);
        assert_eq!(
            store.remnants_of(gone, &gone_deviceid).await.unwrap(),
            Vec::<(String, i64)>::new()
        );
        // The network devices it had seen stay, unlinked.
        let mut tx = store.begin().await.unwrap();
        let unlinked: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM snmp_devices WHERE reconciliation_value = $1 AND scanned_by IS NULL), \
                    (SELECT COUNT(*) FROM netmap WHERE mac = $1 AND hardware_id IS NULL)",
        )
        .bind(&gone_deviceid)
        .fetch_one(tx.conn())
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(unlinked, (1, 1));
        // The other computers lost nothing.
        for ((id, d), before) in [&hosts[0], &hosts[2]].iter().zip(kept) {
            assert_eq!(store.remnants_of(*id, d).await.unwrap(), before);
        }
        assert_eq!(
            store
                .existing_hosts(&[gone, others[0], others[1]])
                .await
                .unwrap(),
            others
        );
        // Logged, without a trace.
        let (total, log) = store
            .list_deleted(Page {
                number: 1,
                size: 10,
            })
            .await
            .unwrap();
        assert_eq!(total, 1);
        assert_eq!(
            (
                log[0].hardware_id,
                log[0].deviceid.as_str(),
                log[0].deleted_by.as_str(),
                log[0].reason.as_str(),
                log[0].deleted_at
            ),
            (
                gone,
                gone_deviceid.as_str(),
                "admin",
                "manual",
                1_700_000_000
            )
        );
        assert!(log[0].name.as_deref().is_some_and(|n| n.starts_with("pc-")));
        assert_eq!(store.count_deleted_equiv(gone).await.unwrap(), 0);
        // Deleting it again deletes nothing and logs nothing.
        assert!(store
            .delete_computers(&[gone], &how(true))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            store
                .list_deleted(Page {
                    number: 1,
                    size: 10
                })
                .await
                .unwrap()
                .0,
            1
        );
    }

    #[tokio::test]
    async fn trace_deleted_records_each_computer_in_deleted_equiv() {
        let (store, _dir) = store().await;
        let hosts = fleet(&store, 2).await;
        let ids: Vec<HostId> = hosts.iter().map(|(id, _)| *id).collect();
        let deleted = store.delete_computers(&ids, &how(true)).await.unwrap();
        assert_eq!(deleted.len(), 2);
        for id in ids {
            assert_eq!(store.count_deleted_equiv(id).await.unwrap(), 1);
        }
        let mut tx = store.begin().await.unwrap();
        let equivalent: Vec<Option<String>> =
            sqlx::query_scalar("SELECT equivalent FROM deleted_equiv")
                .fetch_all(tx.conn())
                .await
                .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(equivalent, vec![None, None]);
        assert_eq!(store.count_hosts().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn many_computers_go_in_chunks_and_the_log_pages_newest_first() {
        let (store, _dir) = store().await;
        let hosts = fleet(&store, DELETE_CHUNK + 20).await;
        let ids: Vec<HostId> = hosts.iter().map(|(id, _)| *id).collect();
        let first = store
            .delete_computers(
                &ids[..10],
                &Deletion {
                    now: 100,
                    ..how(false)
                },
            )
            .await
            .unwrap();
        assert_eq!(first.len(), 10);
        let rest = store
            .delete_computers(
                &ids[10..],
                &Deletion {
                    now: 200,
                    reason: "inactive".into(),
                    ..how(false)
                },
            )
            .await
            .unwrap();
        assert_eq!(rest.len(), DELETE_CHUNK + 10);
        assert_eq!(store.count_hosts().await.unwrap(), 0);
        let (total, page1) = store
            .list_deleted(Page {
                number: 1,
                size: 25,
            })
            .await
            .unwrap();
        assert_eq!(total, i64::try_from(DELETE_CHUNK + 20).unwrap());
        assert_eq!(page1.len(), 25);
        assert!(page1
            .iter()
            .all(|r| r.deleted_at == 200 && r.reason == "inactive"));
        let last = store
            .list_deleted(Page {
                number: u32::try_from(total / 25 + 1).unwrap(),
                size: 25,
            })
            .await
            .unwrap()
            .1;
        assert_eq!(last.len(), 20);
        assert!(last[..10].iter().all(|r| r.deleted_at == 200));
        assert!(last[10..].iter().all(|r| r.deleted_at == 100));
    }

    #[tokio::test]
    async fn inactive_computers_are_those_not_seen_since_the_cutoff() {
        let (store, _dir) = store().await;
        let hosts = fleet(&store, 4).await;
        let set = |id: HostId, lastcome: Option<i64>, lastdate: Option<i64>| {
            let store = store.clone();
            async move {
                let mut tx = store.begin().await.unwrap();
                sqlx::query("UPDATE hardware SET lastcome = $2, lastdate = $3 WHERE id = $1")
                    .bind(id.0)
                    .bind(lastcome)
                    .bind(lastdate)
                    .execute(tx.conn())
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
        };
        set(hosts[0].0, Some(1000), Some(5000)).await; // contact counts first: inactive
        set(hosts[1].0, None, Some(1500)).await; // no contact: its inventory counts
        set(hosts[2].0, Some(3000), Some(100)).await; // seen lately
        set(hosts[3].0, None, Some(2500)).await;
        assert_eq!(store.count_inactive(2000).await.unwrap(), 2);
        let listed = store.list_inactive(2000, 10).await.unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|h| (h.id, h.last_seen))
                .collect::<Vec<_>>(),
            [(hosts[0].0, Some(1000)), (hosts[1].0, Some(1500))]
        );
        assert_eq!(store.list_inactive(2000, 1).await.unwrap().len(), 1);
        assert_eq!(
            store.inactive_ids(2000).await.unwrap(),
            [hosts[0].0, hosts[1].0]
        );
        // A computer that came back after the preview is kept by the cleaning.
        set(hosts[1].0, Some(2600), Some(1500)).await;
        let deleted = store
            .delete_computers(
                &[hosts[0].0, hosts[1].0],
                &Deletion {
                    inactive_before: Some(2000),
                    ..how(false)
                },
            )
            .await
            .unwrap();
        assert_eq!(
            deleted.iter().map(|d| d.id).collect::<Vec<_>>(),
            [hosts[0].0]
        );
        assert_eq!(store.count_hosts().await.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_deviceid_inventoried_again_after_its_deletion_is_a_new_computer() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        let old = tx.insert_host("again-2024-01-01-00-00-00").await.unwrap();
        tx.commit().await.unwrap();
        store.delete_computers(&[old], &how(false)).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.lock_host("again-2024-01-01-00-00-00").await.unwrap(),
            None
        );
        let new = tx.insert_host("again-2024-01-01-00-00-00").await.unwrap();
        tx.commit().await.unwrap();
        assert!(new.0 > old.0, "{new:?} after {old:?}");
    }
}
