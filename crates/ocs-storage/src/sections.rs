//! Generic inventory sections: every catalogue table is written and read by the same code,
//! with statements built from the catalogue (never from request text).

use std::collections::HashMap;

use ocs_proto::catalogue::{FieldKind, Section, Storage};
use ocs_proto::Value;
use sqlx::Row;

use crate::hosts::HostId;
use crate::sql::{
    bind_ids, bind_value, column_list, multi_insert, placeholders, read_fields, rows_per_statement,
};
use crate::{Result, Store, WriteTx};

/// Rows of one section as stored, for reading back.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionData {
    /// Table name (the section's key in the API).
    pub table: &'static str,
    /// Column names and types.
    pub columns: Vec<(&'static str, FieldKind)>,
    /// One value per column, per row.
    pub rows: Vec<Vec<Value>>,
}

/// What a section write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SectionChange {
    /// Rows added.
    pub inserted: usize,
    /// Rows removed.
    pub deleted: usize,
    /// Rows left untouched.
    pub kept: usize,
}

/// The rows a section write removed and added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SectionDiff {
    /// Rows inserted, as sent.
    pub added: Vec<Vec<Value>>,
    /// Rows deleted, as they were stored.
    pub removed: Vec<Vec<Value>>,
    /// Rows left untouched.
    pub kept: usize,
}

impl SectionDiff {
    /// The counts.
    pub fn change(&self) -> SectionChange {
        SectionChange {
            inserted: self.added.len(),
            deleted: self.removed.len(),
            kept: self.kept,
        }
    }
}

impl WriteTx {
    /// Replaces a device's rows of a section (`DELETE` then `INSERT`).
    pub async fn replace_section(
        &mut self,
        id: HostId,
        section: &'static Section,
        rows: &[Vec<Value>],
    ) -> Result<SectionChange> {
        let deleted = sqlx::query(&format!(
            "DELETE FROM {} WHERE hardware_id = $1",
            section.table
        ))
        .bind(id.0)
        .execute(self.conn())
        .await?
        .rows_affected();
        self.insert_rows(id, section, rows).await?;
        Ok(SectionChange {
            inserted: rows.len(),
            deleted: usize::try_from(deleted).unwrap_or(usize::MAX),
            kept: 0,
        })
    }

    /// Adds rows without touching existing ones (append-only sections).
    pub async fn append_section(
        &mut self,
        id: HostId,
        section: &'static Section,
        rows: &[Vec<Value>],
    ) -> Result<SectionChange> {
        self.insert_rows(id, section, rows).await?;
        Ok(SectionChange {
            inserted: rows.len(),
            ..SectionChange::default()
        })
    }

    /// Row-level merge: stored rows equal to a sent row are kept (each matches at most one),
    /// the other stored rows are deleted and the other sent rows inserted. NULL, `''` and `0`
    /// compare equal, as in the original.
    pub async fn diff_section(
        &mut self,
        id: HostId,
        section: &'static Section,
        rows: &[Vec<Value>],
    ) -> Result<SectionChange> {
        Ok(self.diff_section_rows(id, section, rows).await?.change())
    }

    /// [`WriteTx::diff_section`], returning the rows removed and added (what a change history
    /// records). A one-row section equal to the stored row is left untouched too.
    pub async fn diff_section_rows(
        &mut self,
        id: HostId,
        section: &'static Section,
        rows: &[Vec<Value>],
    ) -> Result<SectionDiff> {
        if section.storage == Storage::Single {
            return self.diff_single(id, section, rows).await;
        }
        let stored = self.load_rows(id, section).await?;
        let mut by_key: HashMap<Vec<String>, Vec<(i64, Vec<Value>)>> = HashMap::new();
        for (row_id, values) in stored {
            by_key
                .entry(values.iter().map(Value::comparable).collect())
                .or_default()
                .push((row_id, values));
        }
        let mut added = Vec::new();
        let mut kept = 0;
        for row in rows {
            let key: Vec<String> = row.iter().map(Value::comparable).collect();
            match by_key.get_mut(&key).and_then(Vec::pop) {
                Some(_) => kept += 1,
                None => added.push(row.clone()),
            }
        }
        // In storage order, so that what the history pairs does not depend on hashing.
        let mut left: Vec<(i64, Vec<Value>)> = by_key.into_values().flatten().collect();
        left.sort_unstable_by_key(|(row_id, _)| *row_id);
        let (stale, removed): (Vec<i64>, Vec<Vec<Value>>) = left.into_iter().unzip();
        self.delete_ids(section.table, &stale).await?;
        self.insert_rows(id, section, &added).await?;
        Ok(SectionDiff {
            added,
            removed,
            kept,
        })
    }

    async fn diff_single(
        &mut self,
        id: HostId,
        section: &'static Section,
        rows: &[Vec<Value>],
    ) -> Result<SectionDiff> {
        let sql = format!(
            "SELECT {} FROM {} WHERE hardware_id = $1",
            column_list(section),
            section.table
        );
        let stored = sqlx::query(&sql).bind(id.0).fetch_all(self.conn()).await?;
        let removed = stored
            .iter()
            .map(|r| read_fields(r, section.fields, 0))
            .collect::<std::result::Result<Vec<Vec<Value>>, _>>()?;
        let comparable = |rows: &[Vec<Value>]| -> Vec<Vec<String>> {
            rows.iter()
                .map(|r| r.iter().map(Value::comparable).collect())
                .collect()
        };
        if comparable(&removed) == comparable(rows) {
            return Ok(SectionDiff {
                kept: rows.len(),
                ..SectionDiff::default()
            });
        }
        self.replace_section(id, section, rows).await?;
        Ok(SectionDiff {
            added: rows.to_vec(),
            removed,
            kept: 0,
        })
    }

    async fn load_rows(&mut self, id: HostId, section: &Section) -> Result<Vec<(i64, Vec<Value>)>> {
        let sql = format!(
            "SELECT id, {} FROM {} WHERE hardware_id = $1",
            column_list(section),
            section.table
        );
        let rows = sqlx::query(&sql).bind(id.0).fetch_all(self.conn()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let values = read_fields(r, section.fields, 1)?;
            out.push((r.try_get(0)?, values));
        }
        Ok(out)
    }

    pub(crate) async fn delete_ids(&mut self, table: &str, ids: &[i64]) -> Result<()> {
        for chunk in ids.chunks(crate::sql::MAX_PARAMS) {
            let sql = format!(
                "DELETE FROM {table} WHERE id IN ({})",
                placeholders(self.backend, 1, chunk.len())
            );
            bind_ids(sqlx::query(&sql), chunk.iter().copied())
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    async fn insert_rows(
        &mut self,
        id: HostId,
        section: &Section,
        rows: &[Vec<Value>],
    ) -> Result<()> {
        for chunk in rows.chunks(rows_per_statement(section.fields.len() + 1)) {
            let sql = multi_insert(self.backend, section, section.table, chunk.len());
            let mut q = sqlx::query(&sql);
            for row in chunk {
                q = q.bind(id.0);
                for (f, v) in section.fields.iter().zip(row) {
                    q = bind_value(q, f.kind, v);
                }
            }
            q.execute(self.conn()).await?;
        }
        Ok(())
    }
}

impl Store {
    /// A device's rows of one section, in insertion order.
    pub async fn section_rows(&self, id: HostId, section: &'static Section) -> Result<SectionData> {
        let order = if section.storage == Storage::Single {
            "hardware_id"
        } else {
            "id"
        };
        let sql = format!(
            "SELECT {} FROM {} WHERE hardware_id = $1 ORDER BY {order}",
            column_list(section),
            section.table
        );
        let rows = sqlx::query(&sql)
            .bind(id.0)
            .fetch_all(&self.read_pool)
            .await?;
        let rows = rows
            .iter()
            .map(|r| read_fields(r, section.fields, 0))
            .collect::<std::result::Result<Vec<Vec<Value>>, _>>()?;
        Ok(SectionData {
            table: section.table,
            columns: section.fields.iter().map(|f| (f.column, f.kind)).collect(),
            rows,
        })
    }

    /// The row IDs of a device's rows of one section (tests use them to prove rows were left
    /// untouched).
    pub async fn section_row_ids(&self, id: HostId, table: &str) -> Result<Vec<i64>> {
        let section = ocs_proto::catalogue::SECTIONS
            .iter()
            .chain([&ocs_proto::catalogue::SOFTWARES])
            .find(|s| s.table == table);
        let Some(section) = section else {
            return Ok(Vec::new());
        };
        let (column, table) = match section.storage {
            Storage::Single => ("hardware_id", section.table),
            Storage::Software => ("id", "software"),
            _ => ("id", section.table),
        };
        let sql = format!("SELECT {column} FROM {table} WHERE hardware_id = $1 ORDER BY {column}");
        Ok(sqlx::query_scalar(&sql)
            .bind(id.0)
            .fetch_all(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;
    use ocs_proto::catalogue::section;

    fn net(desc: &str, mac: &str) -> Vec<Value> {
        let s = section("NETWORKS").unwrap();
        s.fields
            .iter()
            .map(|f| match f.name {
                "DESCRIPTION" => Value::Text(desc.into()),
                "MACADDR" => Value::Text(mac.into()),
                _ => Value::Null,
            })
            .collect()
    }

    #[tokio::test]
    async fn row_level_diff_keeps_equal_rows() {
        let (store, _dir) = store().await;
        let networks = section("NETWORKS").unwrap();
        let mut tx = store.begin().await.unwrap();
        let id = tx.insert_host("pc-2024-01-01-00-00-00").await.unwrap();
        tx.replace_section(id, networks, &[net("A", "aa"), net("B", "bb")])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let before = store.section_row_ids(id, "networks").await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let change = tx
            .diff_section(id, networks, &[net("A", "aa"), net("C", "cc")])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            change,
            SectionChange {
                inserted: 1,
                deleted: 1,
                kept: 1
            }
        );
        let after = store.section_row_ids(id, "networks").await.unwrap();
        assert_eq!(after[0], before[0], "A keeps its row");
        let rows = store.section_rows(id, networks).await.unwrap().rows;
        assert_eq!(
            rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
            [Value::Text("A".into()), Value::Text("C".into())]
        );
    }

    #[tokio::test]
    async fn rollback_leaves_nothing() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        let id = tx.insert_host("pc-2024-01-01-00-00-00").await.unwrap();
        tx.replace_section(id, section("NETWORKS").unwrap(), &[net("A", "aa")])
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(store.count_hosts().await.unwrap(), 0);
    }
}
