//! Merges of duplicate computers that can be undone. Before a merge, every row naming the
//! computers involved (the kept one included: the merge changes its counters, administrative
//! data and memberships) is copied into the merge log as JSON, in the merge's transaction;
//! undoing puts those rows back as they were and removes what the merge gave the kept
//! computer. The tables come from the database's own catalogue (every table with a
//! `hardware_id` column), so a section added later is covered without a change here.

use serde_json::{json, Map, Value};
use sqlx::any::AnyRow;
use sqlx::{Column, Row};

use crate::hosts::HostId;
use crate::sql::{bind_ids, placeholders};
use crate::{MergeSource, Result, Store, StoreError, WriteTx};

/// Tables with a `hardware_id` column left out of snapshots: logs that keep a computer's ID
/// on purpose, and the duplicates page's candidate sets (found again after an undo).
const NOT_SNAPSHOTTED: &[&str] = &["deleted_computers", "deleted_equiv", "duplicate_candidates"];

/// Why computers were merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeReason {
    /// An administrator chose them (console or API).
    Administrator,
    /// The automatic detection at ingestion (AUTO_DUPLICATE_LVL).
    Automatic,
}

impl MergeReason {
    fn name(self) -> &'static str {
        match self {
            MergeReason::Administrator => "administrator",
            MergeReason::Automatic => "automatic",
        }
    }
}

/// A merge to make.
#[derive(Debug, Clone)]
pub struct MergeRequest {
    /// The computer that stays.
    pub kept: HostId,
    /// The computers merged into it, in the order they are merged (the last one's
    /// administrative data win).
    pub merged: Vec<HostId>,
    /// Why.
    pub reason: MergeReason,
    /// The duplicate mode or detection level.
    pub criteria: String,
    /// Who (login, `token:NAME`, `agent`).
    pub by: String,
    /// Now, Unix seconds.
    pub now: i64,
    /// Record the merges in `deleted_equiv` (TRACE_DELETED).
    pub trace: bool,
    /// CHECKSUM of the inventory that triggered an automatic merge (`None`: by hand, every
    /// section counts as changed).
    pub sent_checksum: Option<u64>,
    /// Keep the merged computer's user (the agent reported a system account).
    pub keep_old_userid: bool,
}

/// A line of the merge log.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeRecord {
    /// ID.
    pub id: i64,
    /// When.
    pub merged_at: i64,
    /// The computer kept.
    pub kept: i64,
    /// The computers merged into it: ID, DEVICEID, name.
    pub merged: Vec<(i64, String, Option<String>)>,
    /// `administrator` or `automatic`.
    pub reason: String,
    /// Mode or detection level.
    pub criteria: String,
    /// Who.
    pub merged_by: String,
    /// The snapshot is still there (within the undo period, not undone).
    pub undoable: bool,
    /// When it was undone, and by whom.
    pub undone: Option<(i64, String)>,
}

/// Why an undo was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoRefusal {
    /// No such merge.
    Unknown,
    /// Already undone.
    AlreadyUndone,
    /// The undo period is over: the snapshot is gone.
    Expired,
    /// A merged computer's DEVICEID is used again (its agent came back as a new computer).
    DeviceIdInUse(String),
}

/// The columns of a [`MergeRow`]; the snapshot itself is not read, only whether it is there.
const MERGE_COLUMNS: &str = "SELECT id, merged_at, kept_id, merged, reason, criteria, merged_by, \
     CASE WHEN snapshot IS NULL THEN NULL ELSE '' END, undone_at, undone_by FROM merge_log";

type MergeRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
);

fn record(row: MergeRow) -> MergeRecord {
    let (id, merged_at, kept, merged, reason, criteria, merged_by, snapshot, undone_at, undone_by) =
        row;
    let merged = serde_json::from_str::<Vec<Value>>(&merged)
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            (
                m["id"].as_i64().unwrap_or_default(),
                m["deviceid"].as_str().unwrap_or_default().to_owned(),
                m["name"].as_str().map(str::to_owned),
            )
        })
        .collect();
    MergeRecord {
        id,
        merged_at,
        kept,
        merged,
        reason,
        criteria,
        merged_by,
        undoable: snapshot.is_some() && undone_at.is_none(),
        undone: undone_at.map(|at| (at, undone_by.unwrap_or_default())),
    }
}

/// One stored value as JSON: integers and texts as themselves, reals and blobs tagged.
fn cell(row: &AnyRow, i: usize) -> Result<Value> {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return Ok(v.map_or(Value::Null, Value::from));
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return Ok(v.map_or(Value::Null, |f| json!({ "f": f })));
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return Ok(v.map_or(Value::Null, Value::from));
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        return Ok(v.map_or(Value::Null, Value::from));
    }
    if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return Ok(v.map_or(Value::Null, |b| json!({ "b": hex::encode(b) })));
    }
    Err(StoreError::Corrupt(format!(
        "merge snapshot: column {} has a type the snapshot cannot keep",
        row.column(i).name()
    )))
}

fn bind_value<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    v: &Value,
) -> Result<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>> {
    Ok(match v {
        Value::Null => q,
        Value::Bool(b) => q.bind(*b),
        Value::Number(n) => q.bind(n.as_i64().unwrap_or_default()),
        Value::String(s) => q.bind(s.clone()),
        Value::Object(o) if o.contains_key("f") => q.bind(o["f"].as_f64().unwrap_or_default()),
        Value::Object(o) => q.bind(
            hex::decode(o.get("b").and_then(Value::as_str).unwrap_or_default())
                .map_err(|e| StoreError::Corrupt(format!("merge snapshot: bad blob: {e}")))?,
        ),
        Value::Array(_) => {
            return Err(StoreError::Corrupt(
                "merge snapshot: unexpected array value".to_owned(),
            ))
        }
    })
}

impl Store {
    /// Merges computers into one, logging the merge with what undoing it needs. Returns the
    /// merge log ID, or `None` when a computer is gone (nothing is changed then).
    pub async fn merge_computers(&self, req: &MergeRequest) -> Result<Option<i64>> {
        let mut tx = self.begin().await?;
        let id = tx.merge_logged(req).await?;
        if id.is_some() {
            tx.commit().await?;
        }
        Ok(id)
    }

    /// The merge log, newest first.
    pub async fn merge_log(&self, limit: i64, offset: i64) -> Result<(i64, Vec<MergeRecord>)> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM merge_log")
            .fetch_one(&self.read_pool)
            .await?;
        let rows: Vec<MergeRow> = sqlx::query_as(&format!(
            "{MERGE_COLUMNS} ORDER BY merged_at DESC, id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read_pool)
        .await?;
        Ok((total, rows.into_iter().map(record).collect()))
    }

    /// One merge.
    pub async fn merge_record(&self, id: i64) -> Result<Option<MergeRecord>> {
        let row: Option<MergeRow> = sqlx::query_as(&format!("{MERGE_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read_pool)
            .await?;
        Ok(row.map(record))
    }

    /// Drops the snapshots of merges made before `cutoff`: they can no longer be undone.
    pub async fn expire_merge_snapshots(&self, cutoff: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE merge_log SET snapshot = NULL WHERE snapshot IS NOT NULL AND merged_at < $1",
        )
        .bind(cutoff)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Undoes a merge: the merged computers come back with every row, and the kept one is
    /// as it was before the merge (what it received since is replaced by that state; its
    /// next inventory brings it up to date).
    pub async fn undo_merge(
        &self,
        id: i64,
        by: &str,
        now: i64,
    ) -> Result<std::result::Result<Vec<i64>, UndoRefusal>> {
        let mut tx = self.begin().await?;
        let row: Option<(Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT snapshot, undone_at FROM merge_log WHERE id = $1")
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
        let snapshot = match row {
            None => return Ok(Err(UndoRefusal::Unknown)),
            Some((_, Some(_))) => return Ok(Err(UndoRefusal::AlreadyUndone)),
            Some((None, None)) => return Ok(Err(UndoRefusal::Expired)),
            Some((Some(s), None)) => s,
        };
        let snapshot: Value = serde_json::from_str(&snapshot)
            .map_err(|e| StoreError::Corrupt(format!("merge snapshot {id}: {e}")))?;
        let restored = match tx.restore(&snapshot).await? {
            Ok(ids) => ids,
            Err(refusal) => return Ok(Err(refusal)),
        };
        sqlx::query(
            "UPDATE merge_log SET undone_at = $2, undone_by = $3, snapshot = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .bind(by.to_owned())
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(Ok(restored))
    }
}

/// Rows of one table as `{table, columns, rows}`.
fn table_json(table: &str, columns: &[String], rows: &[AnyRow]) -> Result<Value> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            cells.push(cell(row, i)?);
        }
        out.push(Value::Array(cells));
    }
    let mut m = Map::new();
    m.insert("table".into(), Value::from(table));
    m.insert("columns".into(), json!(columns));
    m.insert("rows".into(), Value::Array(out));
    Ok(Value::Object(m))
}

fn quoted(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

impl WriteTx {
    /// Tables with rows owned by a computer (a `hardware_id` column), from the catalogue,
    /// read on this transaction's connection, sorted.
    async fn owned_tables(&mut self) -> Result<Vec<(String, Vec<String>)>> {
        let sql = match self.backend {
            crate::Backend::Sqlite => {
                "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid"
            }
            crate::Backend::Postgres => {
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
            }
        };
        let rows: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(self.conn()).await?;
        let mut tables: Vec<(String, Vec<String>)> = Vec::new();
        for (table, column) in rows {
            match tables.last_mut() {
                Some((t, columns)) if *t == table => columns.push(column),
                _ => tables.push((table, vec![column])),
            }
        }
        tables.retain(|(table, columns)| {
            table != "hardware"
                && !NOT_SNAPSHOTTED.contains(&table.as_str())
                && columns.iter().any(|c| c == "hardware_id")
        });
        Ok(tables)
    }

    /// [`Store::merge_computers`] inside this transaction (the automatic detection merges in
    /// the inventory's). `None`: a computer is gone, and nothing was changed.
    pub async fn merge_logged(&mut self, req: &MergeRequest) -> Result<Option<i64>> {
        let tables = self.owned_tables().await?;
        let mut ids: Vec<HostId> = vec![req.kept];
        ids.extend(req.merged.iter().copied());
        let Some((snapshot, merged)) = self.snapshot(&ids, &tables).await? else {
            return Ok(None);
        };
        let source = MergeSource {
            sent_checksum: req.sent_checksum,
            keep_old_userid: req.keep_old_userid,
            trace: req.trace,
            now: req.now,
        };
        for old in &req.merged {
            if !self.merge_host(*old, req.kept, &source).await? {
                return Ok(None);
            }
        }
        let merged: Vec<Value> = merged
            .into_iter()
            .filter(|(id, ..)| *id != req.kept.0)
            .map(|(id, deviceid, name)| json!({ "id": id, "deviceid": deviceid, "name": name }))
            .collect();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO merge_log (merged_at, kept_id, merged, reason, criteria, merged_by, snapshot) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(req.now)
        .bind(req.kept.0)
        .bind(Value::Array(merged).to_string())
        .bind(req.reason.name())
        .bind(req.criteria.clone())
        .bind(req.by.clone())
        .bind(snapshot.to_string())
        .fetch_one(self.conn())
        .await?;
        Ok(Some(id))
    }

    /// Every row of these computers, or `None` when one of them does not exist. Also their
    /// ID, DEVICEID and name.
    async fn snapshot(
        &mut self,
        ids: &[HostId],
        tables: &[(String, Vec<String>)],
    ) -> Result<Option<(Value, Vec<(i64, String, Option<String>)>)>> {
        let marks = placeholders(self.backend, 1, ids.len());
        let sql = format!("SELECT * FROM hardware WHERE id IN ({marks}) ORDER BY id");
        let raw: Vec<i64> = ids.iter().map(|h| h.0).collect();
        let rows = bind_ids(sqlx::query(&sql), raw.iter().copied())
            .fetch_all(self.conn())
            .await?;
        if rows.len() != ids.len() {
            return Ok(None);
        }
        let hardware_columns: Vec<String> = rows[0]
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        let mut who = Vec::with_capacity(rows.len());
        for row in &rows {
            who.push((
                row.try_get::<i64, _>("id")?,
                row.try_get::<String, _>("deviceid")?,
                row.try_get::<Option<String>, _>("name")?,
            ));
        }
        let mut out = vec![table_json("hardware", &hardware_columns, &rows)?];
        for (table, columns) in tables {
            let sql = format!(
                "SELECT {} FROM \"{table}\" WHERE hardware_id IN ({marks})",
                quoted(columns)
            );
            let rows = bind_ids(sqlx::query(&sql), raw.iter().copied())
                .fetch_all(self.conn())
                .await?;
            out.push(table_json(table, columns, &rows)?);
        }
        Ok(Some((json!({ "computers": raw, "tables": out }), who)))
    }

    /// Puts a snapshot back: each computer's rows are replaced by the snapshot's.
    async fn restore(
        &mut self,
        snapshot: &Value,
    ) -> Result<std::result::Result<Vec<i64>, UndoRefusal>> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("merge snapshot: {what}"));
        let ids: Vec<i64> = snapshot["computers"]
            .as_array()
            .ok_or_else(|| corrupt("no computers"))?
            .iter()
            .filter_map(Value::as_i64)
            .collect();
        let tables = snapshot["tables"]
            .as_array()
            .ok_or_else(|| corrupt("no tables"))?;
        let marks = placeholders(self.backend, 1, ids.len());
        // A computer whose DEVICEID came back as another computer cannot be put back.
        let hardware = &tables[0];
        let columns: Vec<String> = serde_json::from_value(hardware["columns"].clone())
            .map_err(|e| corrupt(&e.to_string()))?;
        let deviceid_at = columns
            .iter()
            .position(|c| c == "deviceid")
            .ok_or_else(|| corrupt("no deviceid"))?;
        let id_at = columns
            .iter()
            .position(|c| c == "id")
            .ok_or_else(|| corrupt("no id"))?;
        for row in hardware["rows"].as_array().into_iter().flatten() {
            let deviceid = row[deviceid_at].as_str().unwrap_or_default();
            let taken: Option<i64> =
                sqlx::query_scalar("SELECT id FROM hardware WHERE deviceid = $1 AND id <> $2")
                    .bind(deviceid.to_owned())
                    .bind(row[id_at].as_i64().unwrap_or_default())
                    .fetch_optional(self.conn())
                    .await?;
            if taken.is_some() {
                return Ok(Err(UndoRefusal::DeviceIdInUse(deviceid.to_owned())));
            }
        }
        // The computers' current rows go (the kept one's cascade with its device row), then
        // the snapshot's come back, device rows first.
        let sql = format!("DELETE FROM hardware WHERE id IN ({marks})");
        bind_ids(sqlx::query(&sql), ids.iter().copied())
            .execute(self.conn())
            .await?;
        for table in tables {
            let name = table["table"]
                .as_str()
                .ok_or_else(|| corrupt("table name"))?;
            // Only names this database has: a snapshot cannot name a table of its own.
            let columns: Vec<String> = serde_json::from_value(table["columns"].clone())
                .map_err(|e| corrupt(&e.to_string()))?;
            if !valid_name(name) || !columns.iter().all(|c| valid_name(c)) {
                return Err(corrupt("bad table or column name"));
            }
            if name != "hardware" {
                let sql = format!("DELETE FROM \"{name}\" WHERE hardware_id IN ({marks})");
                bind_ids(sqlx::query(&sql), ids.iter().copied())
                    .execute(self.conn())
                    .await?;
            }
            for row in table["rows"].as_array().into_iter().flatten() {
                let values = row.as_array().ok_or_else(|| corrupt("row"))?;
                if values.len() != columns.len() {
                    return Err(corrupt("row length"));
                }
                // NULLs are written as such: a NULL parameter is typed (text) on PostgreSQL,
                // which a numeric column refuses.
                let mut n = 0;
                let marks: Vec<String> = values
                    .iter()
                    .map(|v| {
                        if v.is_null() {
                            "NULL".to_owned()
                        } else {
                            n += 1;
                            match self.backend {
                                crate::Backend::Sqlite => "?".to_owned(),
                                crate::Backend::Postgres => format!("${n}"),
                            }
                        }
                    })
                    .collect();
                let insert = format!(
                    "INSERT INTO \"{name}\" ({}) VALUES ({})",
                    quoted(&columns),
                    marks.join(", ")
                );
                let mut q = sqlx::query(&insert);
                for v in values.iter().filter(|v| !v.is_null()) {
                    q = bind_value(q, v)?;
                }
                q.execute(self.conn()).await?;
            }
        }
        Ok(Ok(ids))
    }
}

/// A table or column name as the schema writes them.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::{MergeReason, MergeRequest, UndoRefusal};
    use crate::test_support::store;
    use crate::{HostId, Store};

    async fn exec(store: &Store, sql: &str, binds: &[i64], text: &str) {
        let mut tx = store.begin().await.unwrap();
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        if !text.is_empty() {
            q = q.bind(text.to_owned());
        }
        q.execute(tx.conn()).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// Every row of the computers, each table's rows sorted, for comparisons.
    async fn state(store: &Store, ids: &[HostId]) -> Value {
        let mut tx = store.begin().await.unwrap();
        let tables = tx.owned_tables().await.unwrap();
        let (mut snap, _) = tx.snapshot(ids, &tables).await.unwrap().unwrap();
        drop(tx);
        for t in snap["tables"].as_array_mut().unwrap() {
            let rows = t["rows"].as_array_mut().unwrap();
            rows.sort_by_key(|r| r.to_string());
        }
        snap
    }

    #[tokio::test]
    async fn an_undone_merge_puts_every_row_back() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        let old = tx.insert_host("old-2024-01-01-00-00-00").await.unwrap();
        let new = tx.insert_host("new-2024-01-01-00-00-00").await.unwrap();
        tx.commit().await.unwrap();
        for (id, serial, mac) in [(old, "S1", "aa:00"), (new, "S1", "aa:01")] {
            exec(
                &store,
                "UPDATE hardware SET name = 'pc', quality = 1.5, lastdate = $2 WHERE id = $1",
                &[id.0, id.0 * 10],
                "",
            )
            .await;
            exec(
                &store,
                "INSERT INTO bios (hardware_id, ssn) VALUES ($1, $2)",
                &[id.0],
                serial,
            )
            .await;
            exec(
                &store,
                "INSERT INTO networks (hardware_id, macaddr) VALUES ($1, $2)",
                &[id.0],
                mac,
            )
            .await;
        }
        exec(
            &store,
            "UPDATE accountinfo SET tag = $2 WHERE hardware_id = $1",
            &[old.0],
            "OLD-TAG",
        )
        .await;
        exec(
            &store,
            "UPDATE accountinfo SET tag = $2 WHERE hardware_id = $1",
            &[new.0],
            "NEW-TAG",
        )
        .await;
        exec(
            &store,
            "INSERT INTO devices (hardware_id, name, ivalue) VALUES ($1, $2, 12)",
            &[old.0],
            "FREQUENCY",
        )
        .await;
        exec(
            &store,
            "INSERT INTO groups (id, name, kind, created_at) VALUES (7, $1, 'static', 0)",
            &[],
            "g",
        )
        .await;
        exec(
            &store,
            "INSERT INTO group_members (group_id, hardware_id, static) VALUES (7, $1, 1)",
            &[old.0],
            "",
        )
        .await;
        let before = state(&store, &[new, old]).await;

        let request = MergeRequest {
            kept: new,
            merged: vec![old],
            reason: MergeReason::Administrator,
            criteria: "serial".to_owned(),
            by: "admin".to_owned(),
            now: 1_000,
            trace: true,
            sent_checksum: None,
            keep_old_userid: false,
        };
        let id = store.merge_computers(&request).await.unwrap().unwrap();
        let (total, log) = store.merge_log(10, 0).await.unwrap();
        assert_eq!(total, 1);
        assert_eq!(
            log[0].merged,
            [(
                old.0,
                "old-2024-01-01-00-00-00".to_owned(),
                Some("pc".to_owned())
            )]
        );
        assert!(log[0].undoable);
        assert_eq!(
            (log[0].reason.as_str(), log[0].merged_by.as_str()),
            ("administrator", "admin")
        );
        // Merged: the old computer is gone, its administrative data and membership moved.
        assert!(store
            .candidate_computers(&[old.0])
            .await
            .unwrap()
            .is_empty());
        let tag: String = sqlx::query_scalar("SELECT tag FROM accountinfo WHERE hardware_id = $1")
            .bind(new.0)
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(tag, "OLD-TAG");

        assert_eq!(
            store.undo_merge(id, "admin", 2_000).await.unwrap(),
            Ok(vec![new.0, old.0])
        );
        assert_eq!(state(&store, &[new, old]).await, before);
        let record = store.merge_record(id).await.unwrap().unwrap();
        assert!(!record.undoable);
        assert_eq!(record.undone, Some((2_000, "admin".to_owned())));
        assert_eq!(
            store.undo_merge(id, "admin", 2_001).await.unwrap(),
            Err(UndoRefusal::AlreadyUndone)
        );
        assert_eq!(
            store.undo_merge(99, "admin", 2_001).await.unwrap(),
            Err(UndoRefusal::Unknown)
        );

        // Past the undo period the snapshot is dropped and the undo refused.
        let again = store
            .merge_computers(&MergeRequest {
                now: 3_000,
                ..request.clone()
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.expire_merge_snapshots(3_001).await.unwrap(), 1);
        assert_eq!(
            store.undo_merge(again, "admin", 3_002).await.unwrap(),
            Err(UndoRefusal::Expired)
        );
        // A computer that is gone cannot be merged.
        assert_eq!(store.merge_computers(&request).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_undo_is_refused_when_the_agent_came_back_as_a_new_computer() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        let old = tx.insert_host("old-2024-01-01-00-00-00").await.unwrap();
        let new = tx.insert_host("new-2024-01-01-00-00-00").await.unwrap();
        tx.commit().await.unwrap();
        let request = MergeRequest {
            kept: new,
            merged: vec![old],
            reason: MergeReason::Administrator,
            criteria: "hostname".to_owned(),
            by: "admin".to_owned(),
            now: 1_000,
            trace: false,
            sent_checksum: None,
            keep_old_userid: false,
        };
        let id = store.merge_computers(&request).await.unwrap().unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.insert_host("old-2024-01-01-00-00-00").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.undo_merge(id, "admin", 2_000).await.unwrap(),
            Err(UndoRefusal::DeviceIdInUse(
                "old-2024-01-01-00-00-00".to_owned()
            ))
        );
        assert!(store.merge_record(id).await.unwrap().unwrap().undoable);
    }
}
