//! Bulk changes to many computers at once, for the console's mass actions: the TAG, an
//! administrative field, a per-computer setting, and the list rows of a selection (its CSV).
//!
//! IDs are bound as parameters, [`IDS_PER_STATEMENT`] per statement, and the statements of
//! [`IDS_PER_TRANSACTION`] IDs share one write transaction: a selection of 10,000 computers
//! costs a few dozen statements, never one per computer, and on SQLite it goes through the
//! writer in a few short transactions, so agents' inventories wait behind none of them for
//! long. A selection larger than one transaction is applied chunk group by chunk group: a
//! failure leaves the groups already committed changed (each change is idempotent, so running
//! the action again finishes it). IDs of computers that no longer exist are skipped.
//! Nothing here decides which values are acceptable: the console service checks them.

use sqlx::Row;

use crate::computers::{joins, read_row, CUSTOMISED_SETTINGS};
use crate::hosts::HostId;
use crate::sql::{bind_ids, placeholders};
use crate::{Column, ComputerRow, Result, Store, WriteTx};

/// IDs bound in one statement.
pub const IDS_PER_STATEMENT: usize = 500;
/// IDs changed in one write transaction.
pub const IDS_PER_TRANSACTION: usize = 10 * IDS_PER_STATEMENT;

/// The network an elected IpDiscover computer scans: its main address's network number, else
/// the first network number it reports (as the computer page elects one computer).
const NETWORK_NUMBER: &str = "COALESCE(\
     (SELECT n.ipsubnet FROM networks n WHERE n.hardware_id = h.id AND n.ipaddress = h.ipaddr \
      AND n.ipsubnet IS NOT NULL AND TRIM(n.ipsubnet) <> '' ORDER BY n.id LIMIT 1), \
     (SELECT n.ipsubnet FROM networks n WHERE n.hardware_id = h.id \
      AND n.ipsubnet IS NOT NULL AND TRIM(n.ipsubnet) <> '' ORDER BY n.id LIMIT 1))";

/// One bulk change.
#[derive(Debug, Clone, Copy)]
enum Change<'a> {
    /// Set the TAG.
    Tag(&'a str),
    /// Set an administrative field (by ID) to a value.
    Field(i64, &'a str),
    /// Remove a per-computer setting: the server's option applies again.
    SettingDefault(&'a str),
    /// Set a per-computer setting's integer value (no text value).
    SettingValue(&'a str, i64),
    /// Elect for IpDiscover (1) or force (2): the text value is the computer's network
    /// number, and computers without one are left as they are.
    IpDiscover(&'a str, i64),
}

/// Sorted, without duplicates.
fn normalised(ids: &[HostId]) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.iter().map(|h| h.0).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// An administrative change's values before it: its label, KEYNAME, new value, and each
/// stored computer's old value.
type AdminBefore<'a> = (String, String, &'a str, Vec<(i64, Option<String>)>);

impl WriteTx {
    /// The TAG or field values a change is about to replace; `None` for other changes.
    async fn admin_values<'a>(
        &mut self,
        change: Change<'a>,
        ids: &[i64],
    ) -> Result<Option<AdminBefore<'a>>> {
        let b = self.backend;
        let (sql, label, key, new, field) = match change {
            Change::Tag(tag) => (
                format!(
                    "SELECT h.id, a.tag FROM hardware h LEFT JOIN accountinfo a ON a.hardware_id = h.id \
                     WHERE h.id IN ({})",
                    placeholders(b, 1, ids.len())
                ),
                crate::TAG.to_owned(),
                crate::TAG.to_owned(),
                tag,
                None,
            ),
            Change::Field(field, value) => {
                let label: Option<String> =
                    sqlx::query_scalar("SELECT label FROM accountinfo_fields WHERE id = $1")
                        .bind(field)
                        .fetch_optional(self.conn())
                        .await?;
                (
                    format!(
                        "SELECT h.id, v.value FROM hardware h LEFT JOIN accountinfo_values v \
                         ON v.hardware_id = h.id AND v.field_id = {} WHERE h.id IN ({})",
                        placeholders(b, 1, 1),
                        placeholders(b, 2, ids.len())
                    ),
                    label.unwrap_or_else(|| format!("fields_{field}")),
                    format!("fields_{field}"),
                    value,
                    Some(field),
                )
            }
            _ => return Ok(None),
        };
        let mut q = sqlx::query(&sql);
        if let Some(field) = field {
            q = q.bind(field);
        }
        let rows = bind_ids(q, ids.iter().copied())
            .fetch_all(self.conn())
            .await?;
        let before = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?;
        Ok(Some((label, key, new, before)))
    }

    /// Applies a change to one chunk of IDs; returns the rows it wrote (one per computer
    /// changed).
    async fn mass_chunk(&mut self, change: Change<'_>, ids: &[i64]) -> Result<u64> {
        let b = self.backend;
        let p = |from: usize| placeholders(b, from, 1);
        let done = match change {
            Change::Tag(tag) => {
                let sql = format!(
                    "INSERT INTO accountinfo (hardware_id, tag) SELECT h.id, {} FROM hardware h \
                     WHERE h.id IN ({}) ON CONFLICT (hardware_id) DO UPDATE SET tag = excluded.tag",
                    p(1),
                    placeholders(b, 2, ids.len())
                );
                bind_ids(sqlx::query(&sql).bind(tag), ids.iter().copied())
                    .execute(self.conn())
                    .await?
            }
            Change::Field(field, value) => {
                // As for one computer: the administrative data row exists once a field is set.
                let sql = format!(
                    "INSERT INTO accountinfo (hardware_id) SELECT h.id FROM hardware h \
                     WHERE h.id IN ({}) ON CONFLICT (hardware_id) DO NOTHING",
                    placeholders(b, 1, ids.len())
                );
                bind_ids(sqlx::query(&sql), ids.iter().copied())
                    .execute(self.conn())
                    .await?;
                let sql = format!(
                    "INSERT INTO accountinfo_values (hardware_id, field_id, value) \
                     SELECT h.id, {}, {} FROM hardware h WHERE h.id IN ({}) \
                     ON CONFLICT (hardware_id, field_id) DO UPDATE SET value = excluded.value",
                    p(1),
                    p(2),
                    placeholders(b, 3, ids.len())
                );
                bind_ids(
                    sqlx::query(&sql).bind(field).bind(value),
                    ids.iter().copied(),
                )
                .execute(self.conn())
                .await?
            }
            Change::SettingDefault(name) => {
                let sql = format!(
                    "DELETE FROM devices WHERE name = {} AND hardware_id IN ({})",
                    p(1),
                    placeholders(b, 2, ids.len())
                );
                bind_ids(sqlx::query(&sql).bind(name), ids.iter().copied())
                    .execute(self.conn())
                    .await?
            }
            Change::SettingValue(name, value) => {
                let sql = format!(
                    "DELETE FROM devices WHERE name = {} AND hardware_id IN ({})",
                    p(1),
                    placeholders(b, 2, ids.len())
                );
                bind_ids(sqlx::query(&sql).bind(name), ids.iter().copied())
                    .execute(self.conn())
                    .await?;
                let sql = format!(
                    "INSERT INTO devices (hardware_id, name, ivalue, tvalue) \
                     SELECT h.id, {}, {}, NULL FROM hardware h WHERE h.id IN ({})",
                    p(1),
                    p(2),
                    placeholders(b, 3, ids.len())
                );
                bind_ids(
                    sqlx::query(&sql).bind(name).bind(value),
                    ids.iter().copied(),
                )
                .execute(self.conn())
                .await?
            }
            Change::IpDiscover(name, value) => {
                let sql = format!(
                    "DELETE FROM devices WHERE name = {} AND hardware_id IN \
                     (SELECT h.id FROM hardware h WHERE h.id IN ({}) AND {NETWORK_NUMBER} IS NOT NULL)",
                    p(1),
                    placeholders(b, 2, ids.len())
                );
                bind_ids(sqlx::query(&sql).bind(name), ids.iter().copied())
                    .execute(self.conn())
                    .await?;
                let sql = format!(
                    "INSERT INTO devices (hardware_id, name, ivalue, tvalue) \
                     SELECT t.id, {}, {}, t.net FROM \
                     (SELECT h.id AS id, {NETWORK_NUMBER} AS net FROM hardware h WHERE h.id IN ({})) t \
                     WHERE t.net IS NOT NULL",
                    p(1),
                    p(2),
                    placeholders(b, 3, ids.len())
                );
                bind_ids(
                    sqlx::query(&sql).bind(name).bind(value),
                    ids.iter().copied(),
                )
                .execute(self.conn())
                .await?
            }
        };
        Ok(done.rows_affected())
    }
}

impl Store {
    /// Applies a change to every ID, chunk by chunk; returns the computers changed.
    async fn mass_apply(&self, ids: &[HostId], change: Change<'_>) -> Result<u64> {
        self.mass_apply_by(ids, change, None).await
    }

    /// [`Store::mass_apply`]; an administrative change is recorded in each computer's history
    /// as made by `by.0` at `by.1`.
    async fn mass_apply_by(
        &self,
        ids: &[HostId],
        change: Change<'_>,
        by: Option<(&str, i64)>,
    ) -> Result<u64> {
        let ids = normalised(ids);
        let mut changed = 0;
        for group in ids.chunks(IDS_PER_TRANSACTION) {
            let mut tx = self.begin().await?;
            for chunk in group.chunks(IDS_PER_STATEMENT) {
                let before = match by {
                    Some(_) => tx.admin_values(change, chunk).await?,
                    None => None,
                };
                changed += tx.mass_chunk(change, chunk).await?;
                if let (Some((label, key, new, before)), Some((by, at))) = (before, by) {
                    let changes: Vec<(HostId, crate::history::Change)> = before
                        .into_iter()
                        .filter_map(|(id, old)| {
                            crate::accountinfo::admin_change(&key, label.clone(), old, new, by)
                                .map(|c| (HostId(id), c))
                        })
                        .collect();
                    tx.record_changes_of(at, &changes).await?;
                }
            }
            tx.commit().await?;
        }
        Ok(changed)
    }

    /// How many of these IDs name a stored computer (duplicates counted once).
    pub async fn count_existing_computers(&self, ids: &[HostId]) -> Result<u64> {
        let ids = normalised(ids);
        let mut count = 0u64;
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT COUNT(*) FROM hardware WHERE id IN ({})",
                placeholders(self.backend, 1, chunk.len())
            );
            let n: i64 = bind_ids(sqlx::query(&sql), chunk.iter().copied())
                .fetch_one(&self.read_pool)
                .await?
                .try_get(0)?;
            count += u64::try_from(n).unwrap_or(0);
        }
        Ok(count)
    }

    /// Sets the TAG of these computers (creating their administrative data where missing);
    /// returns how many were changed.
    /// Each computer changed is recorded in its history as changed by `by` at `at`.
    pub async fn mass_set_tag(&self, ids: &[HostId], tag: &str, by: &str, at: i64) -> Result<u64> {
        self.mass_apply_by(ids, Change::Tag(tag), Some((by, at)))
            .await
    }

    /// Sets an administrative field (by ID, which must exist) of these computers; returns how
    /// many were changed. Each computer changed is recorded in its history as changed by `by`
    /// at `at`.
    pub async fn mass_set_accountinfo_field(
        &self,
        ids: &[HostId],
        field: i64,
        value: &str,
        by: &str,
        at: i64,
    ) -> Result<u64> {
        self.mass_apply_by(ids, Change::Field(field, value), Some((by, at)))
            .await
    }

    /// Sets (`Some`) or removes (`None`: the server's option applies) a single-valued
    /// per-computer setting of these computers, replacing any previous value; returns how
    /// many computers were given the value, or how many lost their setting.
    ///
    /// `IPDISCOVER` 1 or 2 also records the network the computer scans; computers that report
    /// no network number are left unchanged and not counted.
    pub async fn mass_set_device_setting(
        &self,
        ids: &[HostId],
        name: &str,
        value: Option<i64>,
    ) -> Result<u64> {
        let change = match value {
            None => Change::SettingDefault(name),
            Some(v) if name == "IPDISCOVER" && v > 0 => Change::IpDiscover(name, v),
            Some(v) => Change::SettingValue(name, v),
        };
        self.mass_apply(ids, change).await
    }

    /// The list rows of these computers, in ID order, with `columns` (a selection's CSV).
    pub async fn list_computers_by_ids(
        &self,
        ids: &[HostId],
        columns: &[Column],
    ) -> Result<Vec<ComputerRow>> {
        let ids = normalised(ids);
        let select: Vec<String> = columns.iter().map(Column::sql).collect();
        let select = if select.is_empty() {
            String::new()
        } else {
            format!(", {}", select.join(", "))
        };
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT h.id, CASE WHEN EXISTS (SELECT 1 FROM devices d WHERE d.hardware_id = h.id \
                 AND d.name IN ({CUSTOMISED_SETTINGS})) THEN 1 ELSE 0 END{select} \
                 FROM hardware h{} WHERE h.id IN ({}) ORDER BY h.id",
                joins(&[&select]),
                placeholders(self.backend, 1, chunk.len())
            );
            let rows = bind_ids(sqlx::query(&sql), chunk.iter().copied())
                .fetch_all(&self.read_pool)
                .await?;
            for r in &rows {
                out.push(read_row(r, columns)?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;
    use crate::{list_column, DeviceSetting};

    async fn computers(store: &Store, n: usize) -> Vec<HostId> {
        let mut tx = store.begin().await.unwrap();
        let mut ids = Vec::new();
        for i in 0..n {
            ids.push(
                tx.insert_host(&format!("mass-{i:05}-2024-01-01-00-00-00"))
                    .await
                    .unwrap(),
            );
        }
        tx.commit().await.unwrap();
        ids
    }

    async fn tag(store: &Store, id: HostId) -> Option<String> {
        store.accountinfo_of(id).await.unwrap()[0].1.clone()
    }

    #[tokio::test]
    async fn tags_many_computers_across_statements_and_transactions() {
        let (store, _dir) = store().await;
        let n = IDS_PER_TRANSACTION + IDS_PER_STATEMENT + 7;
        let ids = computers(&store, n).await;
        // Some already have administrative data, some do not.
        store
            .update_accountinfo(ids[3], &[("TAG".into(), "OLD".into())], "ann", 1)
            .await
            .unwrap();
        let mut chosen: Vec<HostId> = ids.iter().copied().filter(|h| h.0 % 3 != 0).collect();
        let expected = chosen.len() as u64;
        // Duplicates and unknown IDs are harmless.
        chosen.push(chosen[0]);
        chosen.push(HostId(10_000_000));
        assert_eq!(
            store.count_existing_computers(&chosen).await.unwrap(),
            expected
        );
        assert_eq!(
            store.mass_set_tag(&chosen, "LYON", "ann", 2).await.unwrap(),
            expected
        );
        for id in &ids {
            let want = if id.0 % 3 != 0 {
                Some("LYON")
            } else if *id == ids[3] {
                Some("OLD")
            } else {
                Some("NA")
            };
            assert_eq!(tag(&store, *id).await.as_deref(), want, "{id:?}");
        }
        let counts = store.list_tag_counts().await.unwrap();
        assert!(counts.contains(&("LYON".to_owned(), expected as i64)));
        assert_eq!(store.mass_set_tag(&[], "X", "ann", 3).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn sets_an_administrative_field() {
        let (store, _dir) = store().await;
        let ids = computers(&store, 3).await;
        let key = store
            .insert_accountinfo_field("Room", "Text")
            .await
            .unwrap();
        let field: i64 = key.trim_start_matches("fields_").parse().unwrap();
        store
            .update_accountinfo(ids[0], &[(key.clone(), "A1".into())], "ann", 1)
            .await
            .unwrap();
        assert_eq!(
            store
                .mass_set_accountinfo_field(&ids[..2], field, "B2", "bob", 2)
                .await
                .unwrap(),
            2
        );
        // Each value changed is in the computer's history, with who changed it.
        let edits = |id| {
            let store = store.clone();
            async move {
                let filter = crate::history::ChangeFilter {
                    computer: Some(id),
                    ..Default::default()
                };
                let page = crate::Page {
                    number: 1,
                    size: 10,
                };
                store
                    .changes(&filter, page)
                    .await
                    .unwrap()
                    .records
                    .into_iter()
                    .map(|r| {
                        let f = &r.change.fields[0];
                        (
                            r.change.label.clone(),
                            f.old.clone(),
                            f.new.clone(),
                            r.change.author.clone(),
                        )
                    })
                    .collect::<Vec<_>>()
            }
        };
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            edits(ids[0]).await,
            [
                ("Room".to_owned(), some("A1"), some("B2"), some("bob")),
                ("Room".to_owned(), None, some("A1"), some("ann")),
            ]
        );
        assert_eq!(edits(ids[1]).await.len(), 1);
        assert!(edits(ids[2]).await.is_empty());
        let value = |id| {
            let store = store.clone();
            async move { store.accountinfo_of(id).await.unwrap()[1].1.clone() }
        };
        assert_eq!(value(ids[0]).await.as_deref(), Some("B2"));
        assert_eq!(value(ids[1]).await.as_deref(), Some("B2"));
        assert_eq!(value(ids[2]).await, None);
        // The administrative data row now exists, with the default TAG.
        assert_eq!(tag(&store, ids[1]).await.as_deref(), Some("NA"));
    }

    #[tokio::test]
    async fn sets_and_resets_settings_and_elects_only_computers_with_a_network() {
        let (store, _dir) = store().await;
        let ids = computers(&store, 3).await;
        let mut tx = store.begin().await.unwrap();
        // ids[0] has two networks, the second on its main address; ids[1] has none.
        sqlx::query("UPDATE hardware SET ipaddr = '10.1.2.3' WHERE id = $1")
            .bind(ids[0].0)
            .execute(tx.conn())
            .await
            .unwrap();
        for (id, addr, subnet) in [
            (ids[0], "192.168.0.5", "192.168.0.0"),
            (ids[0], "10.1.2.3", "10.1.2.0"),
            (ids[1], "169.254.0.1", " "),
            (ids[2], "172.16.0.9", "172.16.0.0"),
        ] {
            sqlx::query(
                "INSERT INTO networks (hardware_id, ipaddress, ipsubnet) VALUES ($1, $2, $3)",
            )
            .bind(id.0)
            .bind(addr)
            .bind(subnet)
            .execute(tx.conn())
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        store
            .set_device_setting(
                ids[1],
                &DeviceSetting {
                    name: "FREQUENCY".into(),
                    ivalue: Some(30),
                    tvalue: None,
                },
            )
            .await
            .unwrap();

        assert_eq!(
            store
                .mass_set_device_setting(&ids, "FREQUENCY", Some(7))
                .await
                .unwrap(),
            3
        );
        for id in &ids {
            let s = store.device_settings(*id).await.unwrap();
            assert_eq!(s.len(), 1, "replaced, not added: {s:?}");
            assert_eq!(s[0].ivalue, Some(7));
        }
        assert_eq!(
            store
                .mass_set_device_setting(&ids, "IPDISCOVER", Some(2))
                .await
                .unwrap(),
            2,
            "the computer without a network is left out"
        );
        let ipd = |id| {
            let store = store.clone();
            async move {
                store
                    .device_settings(id)
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|s| s.name == "IPDISCOVER")
                    .map(|s| (s.ivalue, s.tvalue))
            }
        };
        assert_eq!(
            ipd(ids[0]).await,
            Some((Some(2), Some("10.1.2.0".into()))),
            "the main address's network wins"
        );
        assert_eq!(ipd(ids[1]).await, None);
        assert_eq!(
            ipd(ids[2]).await,
            Some((Some(2), Some("172.16.0.0".into())))
        );
        assert_eq!(
            store
                .mass_set_device_setting(&ids, "IPDISCOVER", Some(0))
                .await
                .unwrap(),
            3
        );
        assert_eq!(ipd(ids[1]).await, Some((Some(0), None)));
        assert_eq!(
            store
                .mass_set_device_setting(&ids[..2], "FREQUENCY", None)
                .await
                .unwrap(),
            2
        );
        assert!(store
            .device_settings(ids[0])
            .await
            .unwrap()
            .iter()
            .all(|s| s.name != "FREQUENCY"));
        assert_eq!(store.device_settings(ids[2]).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn lists_the_rows_of_a_selection() {
        let (store, _dir) = store().await;
        let ids = computers(&store, IDS_PER_STATEMENT + 2).await;
        store.mass_set_tag(&ids[..2], "T", "ann", 1).await.unwrap();
        let columns = [Column::Builtin(list_column("tag").unwrap())];
        let mut chosen = vec![ids[IDS_PER_STATEMENT + 1], ids[1], ids[0]];
        chosen.extend_from_slice(&ids[10..IDS_PER_STATEMENT]);
        let rows = store
            .list_computers_by_ids(&chosen, &columns)
            .await
            .unwrap();
        assert_eq!(rows.len(), chosen.len());
        assert_eq!(rows[0].id, ids[0]);
        assert_eq!(rows[0].cells, [crate::Cell::Text("T".into())]);
        assert_eq!(rows.last().unwrap().id, ids[IDS_PER_STATEMENT + 1]);
        assert_eq!(rows.last().unwrap().cells, [crate::Cell::Text("NA".into())]);
    }
}
