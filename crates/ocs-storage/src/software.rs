//! Software reconciliation. Names, publishers and versions go into dictionaries (looked up
//! and filled in batches, not one statement per entry), and a device's software rows are
//! matched as a multiset against what the agent sent: rows equal to a sent entry keep their
//! ID, the rest are deleted or inserted. Two identical entries give two rows, so the device
//! holds exactly as many entries as the agent sent.

use std::collections::{HashMap, HashSet};

use ocs_proto::catalogue::{self, FieldKind};
use ocs_proto::software::pretty_version;
use ocs_proto::Value;
use sqlx::Row;

use sha2::{Digest, Sha256};

use crate::dictionaries;
use crate::hosts::HostId;
use crate::sections::SectionData;
use crate::software_categories::IGNORED_CATEGORY;
use crate::sql::{bind_value, placeholders, read_value, rows_per_statement, MAX_PARAMS};
use crate::{Result, Store, WriteTx};

/// Dictionary ID used when a name, publisher or version is missing.
const UNAVAILABLE: i64 = 1;

/// Columns of `software` after the three dictionary IDs, in catalogue order.
const DETAIL_FIELDS: &[&str] = &[
    "FOLDER",
    "COMMENTS",
    "FILENAME",
    "FILESIZE",
    "SOURCE",
    "GUID",
    "LANGUAGE",
    "INSTALLDATE",
    "BITSWIDTH",
    "ARCHITECTURE",
];

/// What a reconciliation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SoftwareChange {
    /// Rows added.
    pub inserted: usize,
    /// Rows removed.
    pub deleted: usize,
    /// Rows left untouched.
    pub kept: usize,
}

/// A software entry as a change history names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareEntry {
    /// Name.
    pub name: Option<String>,
    /// Publisher.
    pub publisher: Option<String>,
    /// Version.
    pub version: Option<String>,
}

/// What a reconciliation did, entry by entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoftwareDiff {
    /// The counts.
    pub change: SoftwareChange,
    /// Entries inserted.
    pub added: Vec<SoftwareEntry>,
    /// Entries deleted.
    pub removed: Vec<SoftwareEntry>,
}

struct Dictionary {
    index: usize,
    table: &'static str,
    column: &'static str,
}

const NAMES: Dictionary = Dictionary {
    index: dictionaries::NAMES,
    table: "software_name",
    column: "name",
};
const PUBLISHERS: Dictionary = Dictionary {
    index: dictionaries::PUBLISHERS,
    table: "software_publisher",
    column: "publisher",
};
const VERSIONS: Dictionary = Dictionary {
    index: dictionaries::VERSIONS,
    table: "software_version",
    column: "version",
};

fn field(name: &str) -> usize {
    catalogue::SOFTWARES.field_index(name).unwrap_or(0)
}

fn text_of(row: &[Value], name: &str) -> Option<String> {
    row.get(field(name))
        .and_then(Value::as_text)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl WriteTx {
    /// Reconciles a device's software with the entries of an inventory.
    pub async fn reconcile_software(
        &mut self,
        id: HostId,
        rows: &[Vec<Value>],
    ) -> Result<SoftwareChange> {
        Ok(self.reconcile(id, rows, false).await?.change)
    }

    /// [`WriteTx::reconcile_software`], naming the entries added and removed.
    pub async fn reconcile_software_diff(
        &mut self,
        id: HostId,
        rows: &[Vec<Value>],
    ) -> Result<SoftwareDiff> {
        self.reconcile(id, rows, true).await
    }

    async fn reconcile(
        &mut self,
        id: HostId,
        rows: &[Vec<Value>],
        entries: bool,
    ) -> Result<SoftwareDiff> {
        let digest = digest(rows);
        let stored: Option<String> =
            sqlx::query_scalar("SELECT software_digest FROM hardware WHERE id = $1")
                .bind(id.0)
                .fetch_one(self.conn())
                .await?;
        if stored.as_deref() == Some(digest.as_str()) {
            return Ok(SoftwareDiff {
                change: SoftwareChange {
                    kept: rows.len(),
                    ..SoftwareChange::default()
                },
                ..SoftwareDiff::default()
            });
        }
        let change = self.reconcile_rows(id, rows, entries).await?;
        sqlx::query("UPDATE hardware SET software_digest = $2 WHERE id = $1")
            .bind(id.0)
            .bind(digest)
            .execute(self.conn())
            .await?;
        Ok(change)
    }

    async fn reconcile_rows(
        &mut self,
        id: HostId,
        rows: &[Vec<Value>],
        entries: bool,
    ) -> Result<SoftwareDiff> {
        let names: HashSet<String> = rows
            .iter()
            .filter_map(|r| r.get(field("NAME")).and_then(Value::as_text))
            .map(str::to_owned)
            .collect();
        let publishers: HashSet<String> = rows
            .iter()
            .filter_map(|r| text_of(r, "PUBLISHER"))
            .collect();
        let versions: HashSet<String> = rows.iter().filter_map(|r| text_of(r, "VERSION")).collect();
        let name_ids = self.dictionary_ids(&NAMES, names).await?;
        let publisher_ids = self.dictionary_ids(&PUBLISHERS, publishers).await?;
        let version_ids = self.dictionary_ids(&VERSIONS, versions).await?;

        let detail_kinds: Vec<FieldKind> = DETAIL_FIELDS
            .iter()
            .map(|f| catalogue::SOFTWARES.fields[field(f)].kind)
            .collect();
        let wanted: Vec<(Vec<i64>, Vec<Value>)> = rows
            .iter()
            .map(|r| {
                let name = r
                    .get(field("NAME"))
                    .and_then(Value::as_text)
                    .and_then(|n| name_ids.get(n))
                    .copied();
                let publisher =
                    text_of(r, "PUBLISHER").and_then(|p| publisher_ids.get(&p).copied());
                let version = text_of(r, "VERSION").and_then(|v| version_ids.get(&v).copied());
                let ids = vec![
                    name.unwrap_or(UNAVAILABLE),
                    publisher.unwrap_or(UNAVAILABLE),
                    version.unwrap_or(UNAVAILABLE),
                ];
                let details = DETAIL_FIELDS
                    .iter()
                    .map(|f| r.get(field(f)).cloned().unwrap_or(Value::Null))
                    .collect();
                (ids, details)
            })
            .collect();

        let detail_columns = DETAIL_FIELDS
            .iter()
            .map(|f| f.to_lowercase())
            .collect::<Vec<_>>()
            .join(", ");
        let stored = sqlx::query(&format!("SELECT id, name_id, publisher_id, version_id, {detail_columns} FROM software WHERE hardware_id = $1"))
            .bind(id.0)
            .fetch_all(self.conn())
            .await?;
        let mut by_key: HashMap<String, Vec<i64>> = HashMap::new();
        for r in &stored {
            let ids = vec![r.try_get::<i64, _>(1)?, r.try_get(2)?, r.try_get(3)?];
            let details = detail_kinds
                .iter()
                .enumerate()
                .map(|(i, k)| read_value(r, i + 4, *k))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            by_key
                .entry(key(&ids, &details))
                .or_default()
                .push(r.try_get(0)?);
        }
        let mut to_insert = Vec::new();
        let mut added = Vec::new();
        let mut kept = 0;
        for ((ids, details), row) in wanted.iter().zip(rows) {
            match by_key.get_mut(&key(ids, details)).and_then(Vec::pop) {
                Some(_) => kept += 1,
                None => {
                    to_insert.push((ids, details));
                    if entries {
                        added.push(SoftwareEntry {
                            name: text_of(row, "NAME"),
                            publisher: text_of(row, "PUBLISHER"),
                            version: text_of(row, "VERSION"),
                        });
                    }
                }
            }
        }
        let mut stale: Vec<i64> = by_key.into_values().flatten().collect();
        stale.sort_unstable();
        let removed = if entries {
            self.entries_of(&stale).await?
        } else {
            Vec::new()
        };
        self.delete_ids("software", &stale).await?;

        let width = 4 + DETAIL_FIELDS.len();
        for chunk in to_insert.chunks(rows_per_statement(width)) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| format!("({})", placeholders(self.backend, r * width + 1, width)))
                .collect();
            let sql = format!(
                "INSERT INTO software (hardware_id, name_id, publisher_id, version_id, {detail_columns}) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (ids, details) in chunk {
                q = q.bind(id.0).bind(ids[0]).bind(ids[1]).bind(ids[2]);
                for (kind, v) in detail_kinds.iter().zip(details.iter()) {
                    q = bind_value(q, *kind, v);
                }
            }
            q.execute(self.conn()).await?;
        }
        Ok(SoftwareDiff {
            change: SoftwareChange {
                inserted: to_insert.len(),
                deleted: stale.len(),
                kept,
            },
            added,
            removed,
        })
    }

    /// The names, publishers and versions of software rows.
    async fn entries_of(&mut self, ids: &[i64]) -> Result<Vec<SoftwareEntry>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_PARAMS) {
            let sql = format!(
                "SELECT n.id, n.name, p.id, p.publisher, v.id, v.version FROM software s \
                 JOIN software_name n ON n.id = s.name_id \
                 JOIN software_publisher p ON p.id = s.publisher_id \
                 JOIN software_version v ON v.id = s.version_id WHERE s.id IN ({}) ORDER BY s.id",
                placeholders(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.conn()).await? {
                let text = |i: usize| -> std::result::Result<Option<String>, sqlx::Error> {
                    let id: i64 = r.try_get(i)?;
                    (id != UNAVAILABLE).then(|| r.try_get(i + 1)).transpose()
                };
                out.push(SoftwareEntry {
                    name: text(0)?,
                    publisher: text(2)?,
                    version: text(4)?,
                });
            }
        }
        Ok(out)
    }

    /// Reads the IDs of existing dictionary entries into `ids`.
    async fn select_dictionary(
        &mut self,
        dict: &Dictionary,
        values: &[String],
        ids: &mut HashMap<String, i64>,
    ) -> Result<()> {
        let select = format!(
            "SELECT id, {col} FROM {t} WHERE {col} IN ({})",
            placeholders(self.backend, 1, values.len()),
            col = dict.column,
            t = dict.table
        );
        let mut q = sqlx::query(&select);
        for v in values {
            q = q.bind(v.clone());
        }
        for r in q.fetch_all(self.conn()).await? {
            let (value, id) = (r.try_get::<String, _>(1)?, r.try_get::<i64, _>(0)?);
            self.learnt.push((dict.index, value.clone(), id));
            ids.insert(value, id);
        }
        Ok(())
    }

    /// IDs of dictionary entries, inserting the missing ones.
    async fn dictionary_ids(
        &mut self,
        dict: &Dictionary,
        values: HashSet<String>,
    ) -> Result<HashMap<String, i64>> {
        let mut ids = HashMap::with_capacity(values.len());
        let mut misses = Vec::new();
        for (value, cached) in self.dictionaries.lookup(dict.index, values.iter()) {
            match cached {
                Some(id) => {
                    ids.insert(value.clone(), id);
                }
                None => misses.push(value.clone()),
            }
        }
        // Sorted, so that concurrent transactions inserting overlapping names take the unique
        // index's locks in the same order and cannot deadlock each other.
        misses.sort_unstable();
        let per_row = if dict.table == VERSIONS.table { 5 } else { 1 };
        for chunk in misses.chunks(MAX_PARAMS / per_row) {
            self.select_dictionary(dict, chunk, &mut ids).await?;
            let missing: Vec<&String> = chunk.iter().filter(|v| !ids.contains_key(*v)).collect();
            if missing.is_empty() {
                continue;
            }
            let rows: Vec<String> = (0..missing.len())
                .map(|i| format!("({})", placeholders(self.backend, i * per_row + 1, per_row)))
                .collect();
            // DO NOTHING: another transaction may insert the same value first; it is then
            // read back below instead of failing this inventory.
            let insert = if per_row == 5 {
                format!("INSERT INTO software_version (version, prettyversion, major, minor, patch) VALUES {} ON CONFLICT (version) DO NOTHING RETURNING id, version", rows.join(", "))
            } else {
                format!(
                    "INSERT INTO {t} ({col}) VALUES {} ON CONFLICT ({col}) DO NOTHING RETURNING id, {col}",
                    rows.join(", "),
                    col = dict.column,
                    t = dict.table
                )
            };
            let mut q = sqlx::query(&insert);
            for v in &missing {
                q = q.bind((*v).clone());
                if per_row == 5 {
                    let p = pretty_version(v);
                    q = q.bind(p.pretty).bind(p.major).bind(p.minor).bind(p.patch);
                }
            }
            for r in q.fetch_all(self.conn()).await? {
                let (value, id) = (r.try_get::<String, _>(1)?, r.try_get::<i64, _>(0)?);
                self.learnt.push((dict.index, value.clone(), id));
                ids.insert(value, id);
            }
            let raced: Vec<String> = chunk
                .iter()
                .filter(|v| !ids.contains_key(*v))
                .cloned()
                .collect();
            if !raced.is_empty() {
                self.select_dictionary(dict, &raced, &mut ids).await?;
            }
        }
        Ok(ids)
    }
}

/// An order-independent digest of a software list as normalised for storage.
fn digest(rows: &[Vec<Value>]) -> String {
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut line = String::with_capacity(128);
            for (i, v) in r.iter().enumerate() {
                if i > 0 {
                    line.push('\u{1f}');
                }
                v.write_comparable(&mut line);
            }
            line
        })
        .collect();
    lines.sort_unstable();
    let mut hasher = Sha256::new();
    for line in &lines {
        hasher.update(line.as_bytes());
        hasher.update([0x1e]);
    }
    hex::encode(hasher.finalize())
}

fn key(ids: &[i64], details: &[Value]) -> String {
    let mut k = format!("{}\u{1f}{}\u{1f}{}", ids[0], ids[1], ids[2]);
    for v in details {
        k.push('\u{1f}');
        v.write_comparable(&mut k);
    }
    k
}

impl Store {
    /// A device's software, with names, publishers and versions resolved, sorted by name;
    /// software in the IGNORED category is left out.
    pub async fn software_rows(&self, id: HostId) -> Result<SectionData> {
        let detail_columns = DETAIL_FIELDS
            .iter()
            .map(|f| format!("s.{}", f.to_lowercase()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT n.name, p.publisher, v.version, {detail_columns} FROM software s \
             JOIN software_name n ON n.id = s.name_id \
             JOIN software_publisher p ON p.id = s.publisher_id \
             JOIN software_version v ON v.id = s.version_id \
             LEFT JOIN software_category_links l ON l.name_id = s.name_id \
                 AND l.publisher_id = s.publisher_id AND l.version_id = s.version_id \
             WHERE s.hardware_id = $1 AND (l.category_id IS NULL OR l.category_id <> {IGNORED_CATEGORY}) \
             ORDER BY n.name, s.id"
        );
        let fields = catalogue::SOFTWARES.fields;
        let order: Vec<usize> = ["NAME", "PUBLISHER", "VERSION"]
            .iter()
            .chain(DETAIL_FIELDS)
            .map(|f| field(f))
            .collect();
        let rows = sqlx::query(&sql)
            .bind(id.0)
            .fetch_all(&self.read_pool)
            .await?;
        let rows = rows
            .iter()
            .map(|r| {
                order
                    .iter()
                    .enumerate()
                    .map(|(i, fi)| read_value(r, i, fields[*fi].kind))
                    .collect()
            })
            .collect::<std::result::Result<Vec<Vec<Value>>, _>>()?;
        Ok(SectionData {
            table: catalogue::SOFTWARES.table,
            columns: order
                .iter()
                .map(|fi| (fields[*fi].column, fields[*fi].kind))
                .collect(),
            rows,
        })
    }

    /// `(prettyversion, major, minor, patch)` of a version in the dictionary.
    pub async fn find_version(&self, version: &str) -> Result<Option<(String, i64, i64, i64)>> {
        let row = sqlx::query(
            "SELECT prettyversion, major, minor, patch FROM software_version WHERE version = $1",
        )
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|r| {
                Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
            })
            .transpose()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    /// Digests stored by earlier versions must still match an unchanged list.
    #[test]
    fn the_digest_keeps_its_definition() {
        let mut rows = vec![
            sw("zsh", "5.9", Some("Debian")),
            sw("bash", "0", None),
            sw("bash", "5.2", None),
        ];
        rows[1][field("FILESIZE")] = Value::Int(0);
        rows[2][field("FILESIZE")] = Value::Int(1234);
        let mut lines: Vec<String> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(Value::comparable)
                    .collect::<Vec<_>>()
                    .join("\u{1f}")
            })
            .collect();
        lines.sort_unstable();
        let mut hasher = Sha256::new();
        for line in &lines {
            hasher.update(line.as_bytes());
            hasher.update([0x1e]);
        }
        assert_eq!(digest(&rows), hex::encode(hasher.finalize()));
    }

    fn sw(name: &str, version: &str, publisher: Option<&str>) -> Vec<Value> {
        catalogue::SOFTWARES
            .fields
            .iter()
            .map(|f| match f.name {
                "NAME" => Value::Text(name.into()),
                "VERSION" => Value::Text(version.into()),
                "PUBLISHER" => publisher.map_or(Value::Null, |p| Value::Text(p.into())),
                _ => Value::Null,
            })
            .collect()
    }

    #[tokio::test]
    async fn identical_lists_keep_ids_and_removals_are_exact() {
        let (store, _dir) = store().await;
        let list = vec![
            sw("a", "1:2.38.1-5+deb12u1", None),
            sw("b", "1", Some("Debian")),
            sw("b", "1", Some("Debian")),
        ];
        let mut tx = store.begin().await.unwrap();
        let id = tx.insert_host("pc-2024-01-01-00-00-00").await.unwrap();
        assert_eq!(tx.reconcile_software(id, &list).await.unwrap().inserted, 3);
        tx.commit().await.unwrap();
        let before = store.section_row_ids(id, "softwares").await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let change = tx.reconcile_software(id, &list).await.unwrap();
        assert_eq!(
            change,
            SoftwareChange {
                inserted: 0,
                deleted: 0,
                kept: 3
            }
        );
        let change = tx.reconcile_software(id, &list[..2]).await.unwrap();
        assert_eq!(
            change,
            SoftwareChange {
                inserted: 0,
                deleted: 1,
                kept: 2
            }
        );
        tx.commit().await.unwrap();
        let after = store.section_row_ids(id, "softwares").await.unwrap();
        assert_eq!(after.len(), 2);
        assert!(after.iter().all(|i| before.contains(i)));

        assert_eq!(
            store.find_version("1:2.38.1-5+deb12u1").await.unwrap(),
            Some(("2.38.1".into(), 2, 38, 1))
        );
        let rows = store.software_rows(id).await.unwrap();
        assert_eq!(
            rows.rows[0][1],
            Value::Text("Unavailable".into()),
            "missing publisher is 'Unavailable'"
        );
    }

    #[tokio::test]
    async fn dictionary_ids_learnt_in_a_rolled_back_transaction_are_not_cached() {
        let (store, _dir) = store().await;
        let list = vec![sw("ghost", "1.0", Some("Nobody"))];
        let mut tx = store.begin().await.unwrap();
        let id = tx.insert_host("a-2024-01-01-00-00-00").await.unwrap();
        tx.reconcile_software(id, &list).await.unwrap();
        tx.rollback().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let id = tx.insert_host("b-2024-01-01-00-00-00").await.unwrap();
        // A stale cached ID would break the foreign key here.
        assert_eq!(tx.reconcile_software(id, &list).await.unwrap().inserted, 1);
        tx.commit().await.unwrap();
        let rows = store.software_rows(id).await.unwrap().rows;
        assert_eq!(rows[0][0], Value::Text("ghost".into()));
    }

    #[tokio::test]
    async fn an_identical_list_is_recognised_by_its_digest() {
        let (store, _dir) = store().await;
        let list = vec![sw("a", "1", None), sw("b", "2", None)];
        let mut reversed = list.clone();
        reversed.reverse();
        let mut tx = store.begin().await.unwrap();
        let id = tx.insert_host("a-2024-01-01-00-00-00").await.unwrap();
        tx.reconcile_software(id, &list).await.unwrap();
        let again = tx.reconcile_software(id, &reversed).await.unwrap();
        assert_eq!(
            again,
            SoftwareChange {
                inserted: 0,
                deleted: 0,
                kept: 2
            },
            "order does not matter"
        );
        let changed = tx.reconcile_software(id, &list[..1]).await.unwrap();
        assert_eq!(changed.deleted, 1);
        tx.commit().await.unwrap();
    }
}
