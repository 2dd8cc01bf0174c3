//! Settings a group gives its members (`group_settings`), and how the communication server
//! reads them for one computer.
//!
//! Rows have the shape of the per-computer ones ([`DeviceSetting`]): one value per (group,
//! name). Which rows count and how they combine with the computer's own is the server's
//! business (`app::groups::settings`); this module only stores and reads them.

use super::membership::MemberState;
use super::GroupId;
use crate::hosts::HostId;
use crate::settings::DeviceSetting;
use crate::{Result, Store, StoreError};

/// What all the groups of a computer say about one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSettingSummary {
    /// Setting name.
    pub name: String,
    /// Smallest integer value (none when no group gives one).
    pub min: Option<i64>,
    /// Largest integer value.
    pub max: Option<i64>,
    /// Smallest text value: "a group's" text, chosen the same way every time.
    pub text: Option<String>,
    /// Whether a group gives the value 0 (IPDISCOVER 0 excludes).
    pub has_zero: bool,
}

/// Summarises settings rows of groups by name, sorted by name, as
/// [`Store::list_settings_with_groups`] does in SQL.
pub fn summarise<'a>(
    rows: impl IntoIterator<Item = &'a DeviceSetting>,
) -> Vec<GroupSettingSummary> {
    let mut by_name: std::collections::BTreeMap<&str, GroupSettingSummary> = Default::default();
    for row in rows {
        let entry = by_name
            .entry(row.name.as_str())
            .or_insert_with(|| GroupSettingSummary {
                name: row.name.clone(),
                min: None,
                max: None,
                text: None,
                has_zero: false,
            });
        if let Some(v) = row.ivalue {
            entry.min = Some(entry.min.map_or(v, |m| m.min(v)));
            entry.max = Some(entry.max.map_or(v, |m| m.max(v)));
            entry.has_zero |= v == 0;
        }
        if let Some(t) = &row.tvalue {
            if entry.text.as_ref().is_none_or(|old| t < old) {
                entry.text = Some(t.clone());
            }
        }
    }
    by_name.into_values().collect()
}

/// Reads the summaries [`Store::list_settings_with_groups`] packs into one value, sorted by
/// name.
fn unpack_summaries(packed: &str) -> Result<Vec<GroupSettingSummary>> {
    let bad = || {
        StoreError::Db(sqlx::Error::Decode(
            format!("packed group settings {packed:?}").into(),
        ))
    };
    let text = |hex_text: &str| -> Result<String> {
        let bytes = hex::decode(hex_text).map_err(|_| bad())?;
        String::from_utf8(bytes).map_err(|_| bad())
    };
    let number = |v: &str| -> Result<Option<i64>> {
        if v.is_empty() {
            Ok(None)
        } else {
            v.parse().map(Some).map_err(|_| bad())
        }
    };
    let mut out = Vec::new();
    for record in packed.split(';').filter(|r| !r.is_empty()) {
        let parts: Vec<&str> = record.split(',').collect();
        let [name, min, max, zero, value] = parts[..] else {
            return Err(bad());
        };
        out.push(GroupSettingSummary {
            name: text(name)?,
            min: number(min)?,
            max: number(max)?,
            text: match value.strip_prefix('t') {
                Some(hex_text) => Some(text(hex_text)?),
                None => None,
            },
            has_zero: zero == "1",
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

impl Store {
    /// A group's settings, by name.
    pub async fn list_group_settings(&self, group: GroupId) -> Result<Vec<DeviceSetting>> {
        Ok(sqlx::query_as(
            "SELECT name, ivalue, tvalue FROM group_settings WHERE group_id = $1 ORDER BY name",
        )
        .bind(group.0)
        // The primary, not the replica: the console shows the block right after a change.
        .fetch_all(&self.pool)
        .await?)
    }

    /// Sets one setting of a group, replacing any previous value of the same name.
    /// [`StoreError::NotFound`] if the group does not exist.
    pub async fn upsert_group_setting(
        &self,
        group: GroupId,
        setting: &DeviceSetting,
    ) -> Result<()> {
        self.update_group_settings(group, std::slice::from_ref(setting), &[])
            .await
    }

    /// Removes a setting of a group, so that its members fall back to their own value or the
    /// server's option; returns whether it existed.
    pub async fn delete_group_setting(&self, group: GroupId, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM group_settings WHERE group_id = $1 AND name = $2")
            .bind(group.0)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets and clears several settings of a group in one transaction, so that a console form
    /// is saved whole or not at all. [`StoreError::NotFound`] if the group does not exist.
    pub async fn update_group_settings(
        &self,
        group: GroupId,
        set: &[DeviceSetting],
        clear: &[&str],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM groups WHERE id = $1")
            .bind(group.0)
            .fetch_optional(tx.conn())
            .await?;
        if exists.is_none() {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("group {}", group.0)));
        }
        for name in clear {
            sqlx::query("DELETE FROM group_settings WHERE group_id = $1 AND name = $2")
                .bind(group.0)
                .bind(*name)
                .execute(tx.conn())
                .await?;
        }
        for setting in set {
            sqlx::query(
                "INSERT INTO group_settings (group_id, name, ivalue, tvalue) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (group_id, name) DO UPDATE SET ivalue = excluded.ivalue, tvalue = excluded.tvalue",
            )
            .bind(group.0)
            .bind(&setting.name)
            .bind(setting.ivalue)
            .bind(setting.tvalue.clone())
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await
    }

    /// The settings of every group `id` belongs to (computed or forced members, not those
    /// forced out), ordered by group. One statement on two indexes (`group_members` by
    /// computer, `group_settings` by group), cheap enough for every PROLOG.
    pub async fn list_member_group_settings(
        &self,
        id: HostId,
    ) -> Result<Vec<(GroupId, DeviceSetting)>> {
        let rows: Vec<(i64, String, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT s.group_id, s.name, s.ivalue, s.tvalue \
             FROM group_members m JOIN group_settings s ON s.group_id = m.group_id \
             WHERE m.hardware_id = $1 AND m.static IN (0, 1) \
             ORDER BY s.group_id, s.name",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(group, name, ivalue, tvalue)| {
                (
                    GroupId(group),
                    DeviceSetting {
                        name,
                        ivalue,
                        tvalue,
                    },
                )
            })
            .collect())
    }

    /// A computer's own settings (as [`Store::device_settings`] reads them) and, for each
    /// setting its groups have, what they say all together ([`summarise`] of
    /// [`Store::list_member_group_settings`]), in one statement: what the PROLOG reads when
    /// groups are enabled, in a single round trip and a handful of rows however many groups
    /// the computer is in.
    pub async fn list_settings_with_groups(
        &self,
        id: HostId,
    ) -> Result<(Vec<DeviceSetting>, Vec<GroupSettingSummary>)> {
        type Row = (String, Option<i64>, Option<String>, i64);
        // The computer's own rows, then one row packing every summary: on SQLite each row
        // read costs a hand-off between threads, which is most of what this read would add to
        // a PROLOG with one row per summary. Each summary is `name,min,max,zero,text`, names
        // and texts in hex (so no value can contain a separator), a NULL text as nothing, a
        // text as `t` + its hex.
        let hex = match self.backend {
            crate::Backend::Sqlite => "hex",
            crate::Backend::Postgres => "encode_utf8_hex",
        };
        let summary = format!(
            "{hex}(name) || ',' || COALESCE(CAST(low AS TEXT), '') || ',' || \
             COALESCE(CAST(high AS TEXT), '') || ',' || CAST(zero AS TEXT) || ',' || \
             CASE WHEN text IS NULL THEN '' ELSE 't' || {hex}(text) END"
        );
        let packed = match self.backend {
            crate::Backend::Sqlite => format!("group_concat({summary}, ';')"),
            crate::Backend::Postgres => format!("string_agg({summary}, ';')"),
        }
        .replace(
            "encode_utf8_hex(name)",
            "encode(convert_to(name, 'UTF8'), 'hex')",
        )
        .replace(
            "encode_utf8_hex(text)",
            "encode(convert_to(text, 'UTF8'), 'hex')",
        );
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT name, ivalue, tvalue, id FROM devices WHERE hardware_id = $1 \
             UNION ALL \
             SELECT '', CAST(NULL AS BIGINT), {packed}, CAST(0 AS BIGINT) FROM ( \
               SELECT s.name AS name, MIN(s.ivalue) AS low, MAX(s.ivalue) AS high, \
                      MIN(s.tvalue) AS text, \
                      MAX(CASE WHEN s.ivalue = 0 THEN 1 ELSE 0 END) AS zero \
               FROM group_members m JOIN group_settings s ON s.group_id = m.group_id \
               WHERE m.hardware_id = $2 AND m.static IN (0, 1) \
               GROUP BY s.name) g \
             ORDER BY 4"
        ))
        .bind(id.0)
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        let mut own = Vec::new();
        let mut groups = Vec::new();
        for (name, ivalue, tvalue, id) in rows {
            if id > 0 {
                own.push(DeviceSetting {
                    name,
                    ivalue,
                    tvalue,
                });
            } else if let Some(packed) = tvalue {
                groups = unpack_summaries(&packed)?;
            }
        }
        Ok((own, groups))
    }

    /// Writes a bare static group with members given as (computer, STATIC 0|1|2), for tests
    /// and benchmarks that need a group in a given state in one call; returns its ID.
    pub async fn insert_synthetic_group(
        &self,
        name: &str,
        members: &[(HostId, i64)],
        now: i64,
    ) -> Result<GroupId> {
        let group = crate::groups::NewGroup {
            name,
            description: "",
            kind: crate::groups::GroupKind::Static,
            criteria: None,
        };
        let id = self.insert_group(&group, now).await?;
        for state in [
            MemberState::Computed,
            MemberState::Added,
            MemberState::Excluded,
        ] {
            let ids: Vec<HostId> = members
                .iter()
                .filter(|(_, kind)| *kind == state.value())
                .map(|(host, _)| *host)
                .collect();
            if !ids.is_empty() {
                self.set_group_members(id, &ids, state).await?;
            }
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    fn setting(name: &str, ivalue: Option<i64>, tvalue: Option<&str>) -> DeviceSetting {
        DeviceSetting {
            name: name.into(),
            ivalue,
            tvalue: tvalue.map(str::to_owned),
        }
    }

    /// Two computers (IDs returned) written as the inventory would, minimally.
    async fn two_hosts(store: &Store) -> (HostId, HostId) {
        let mut ids = Vec::new();
        for deviceid in ["a-2024-01-01-00-00-00", "b-2024-01-01-00-00-00"] {
            let mut tx = store.begin().await.unwrap();
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO hardware (deviceid, name) VALUES ($1, $1) RETURNING id",
            )
            .bind(deviceid)
            .fetch_one(tx.conn())
            .await
            .unwrap();
            tx.commit().await.unwrap();
            ids.push(HostId(id));
        }
        (ids[0], ids[1])
    }

    #[tokio::test]
    async fn group_settings_are_set_replaced_listed_and_deleted() {
        let (store, _dir) = store().await;
        let group = store.insert_synthetic_group("g", &[], 0).await.unwrap();
        store
            .upsert_group_setting(group, &setting("PROLOG_FREQ", Some(12), None))
            .await
            .unwrap();
        store
            .upsert_group_setting(group, &setting("FREQUENCY", Some(3), None))
            .await
            .unwrap();
        store
            .upsert_group_setting(group, &setting("PROLOG_FREQ", Some(6), Some("x")))
            .await
            .unwrap();
        assert_eq!(
            store.list_group_settings(group).await.unwrap(),
            vec![
                setting("FREQUENCY", Some(3), None),
                setting("PROLOG_FREQ", Some(6), Some("x"))
            ]
        );
        assert!(store
            .delete_group_setting(group, "FREQUENCY")
            .await
            .unwrap());
        assert!(!store
            .delete_group_setting(group, "FREQUENCY")
            .await
            .unwrap());
        store
            .update_group_settings(
                group,
                &[setting("SNMP_SWITCH", Some(0), None)],
                &["PROLOG_FREQ", "NEVER_SET"],
            )
            .await
            .unwrap();
        assert_eq!(
            store.list_group_settings(group).await.unwrap(),
            vec![setting("SNMP_SWITCH", Some(0), None)]
        );
    }

    #[tokio::test]
    async fn settings_of_a_missing_group_are_refused_whole() {
        let (store, _dir) = store().await;
        let err = store
            .update_group_settings(GroupId(4242), &[setting("FREQUENCY", Some(1), None)], &[])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
        assert!(store
            .list_group_settings(GroupId(4242))
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn a_member_reads_the_settings_of_its_groups_only() {
        let (store, _dir) = store().await;
        let (a, b) = two_hosts(&store).await;
        let dynamic = store
            .insert_synthetic_group("dynamic", &[(a, 0), (b, 1)], 0)
            .await
            .unwrap();
        let forced = store
            .insert_synthetic_group("forced", &[(a, 1)], 0)
            .await
            .unwrap();
        let excluded = store
            .insert_synthetic_group("excluded", &[(a, 2)], 0)
            .await
            .unwrap();
        let other = store
            .insert_synthetic_group("other", &[(b, 1)], 0)
            .await
            .unwrap();
        let _bare = store
            .insert_synthetic_group("no-settings", &[(a, 1)], 0)
            .await
            .unwrap();
        for (group, value) in [(dynamic, 5), (forced, 3), (excluded, 1), (other, 2)] {
            store
                .update_group_settings(
                    group,
                    &[
                        setting("FREQUENCY", Some(value), None),
                        setting("DOWNLOAD_SWITCH", Some(1), None),
                    ],
                    &[],
                )
                .await
                .unwrap();
        }
        let read = store.list_member_group_settings(a).await.unwrap();
        assert_eq!(
            read,
            vec![
                (dynamic, setting("DOWNLOAD_SWITCH", Some(1), None)),
                (dynamic, setting("FREQUENCY", Some(5), None)),
                (forced, setting("DOWNLOAD_SWITCH", Some(1), None)),
                (forced, setting("FREQUENCY", Some(3), None)),
            ],
            "forced-out memberships and other groups do not count"
        );
        let read_b = store.list_member_group_settings(b).await.unwrap();
        let groups: Vec<GroupId> = read_b.iter().map(|(g, _)| *g).collect();
        assert_eq!(groups, vec![dynamic, dynamic, other, other]);
        assert!(store
            .list_member_group_settings(HostId(999_999))
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn own_and_group_settings_read_together_as_they_read_apart() {
        let (store, _dir) = store().await;
        let (a, b) = two_hosts(&store).await;
        store
            .set_device_setting(a, &setting("IPDISCOVER", Some(1), Some("10.0.0.0")))
            .await
            .unwrap();
        store
            .set_device_setting(a, &setting("FREQUENCY", Some(9), None))
            .await
            .unwrap();
        store
            .set_device_setting(b, &setting("FREQUENCY", Some(1), None))
            .await
            .unwrap();
        for (name, members) in [
            ("g1", vec![(a, 1), (b, 1)]),
            ("g2", vec![(a, 0)]),
            ("g3", vec![(a, 2)]),
        ] {
            let g = store
                .insert_synthetic_group(name, &members, 0)
                .await
                .unwrap();
            store
                .update_group_settings(
                    g,
                    &[
                        setting("PROLOG_FREQ", Some(g.0), None),
                        setting(
                            "SCAN_TYPE_IPDISCOVER",
                            None,
                            // Separators and non-ASCII text survive the packed read.
                            Some(["NMAP;é", "ARP,SCAN;1", "ICMP"][g.0 as usize % 3]),
                        ),
                    ],
                    &[],
                )
                .await
                .unwrap();
        }
        let (own, groups) = store.list_settings_with_groups(a).await.unwrap();
        assert_eq!(own, store.device_settings(a).await.unwrap());
        let rows = store.list_member_group_settings(a).await.unwrap();
        assert_eq!(groups, summarise(rows.iter().map(|(_, s)| s)));
        assert_eq!(
            groups,
            vec![
                GroupSettingSummary {
                    name: "PROLOG_FREQ".into(),
                    min: Some(1),
                    max: Some(2),
                    text: None,
                    has_zero: false,
                },
                GroupSettingSummary {
                    name: "SCAN_TYPE_IPDISCOVER".into(),
                    min: None,
                    max: None,
                    text: Some("ARP,SCAN;1".into()),
                    has_zero: false,
                },
            ],
            "g3 (forced out) does not count"
        );
        let (own, groups) = store.list_settings_with_groups(b).await.unwrap();
        assert_eq!(own, vec![setting("FREQUENCY", Some(1), None)]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].min, Some(1));
        let (own, groups) = store
            .list_settings_with_groups(HostId(999_999))
            .await
            .unwrap();
        assert!(own.is_empty() && groups.is_empty());
    }

    #[test]
    fn summaries_keep_the_bounds_a_zero_and_the_smallest_text() {
        let rows = [
            setting("IPDISCOVER", Some(1), None),
            setting("IPDISCOVER", Some(0), None),
            setting("FREQUENCY", Some(7), None),
            setting("FREQUENCY", Some(-1), None),
            setting("FREQUENCY", None, Some("x")),
        ];
        let out = summarise(&rows);
        assert_eq!(
            out,
            vec![
                GroupSettingSummary {
                    name: "FREQUENCY".into(),
                    min: Some(-1),
                    max: Some(7),
                    text: Some("x".into()),
                    has_zero: false,
                },
                GroupSettingSummary {
                    name: "IPDISCOVER".into(),
                    min: Some(0),
                    max: Some(1),
                    text: None,
                    has_zero: true,
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_deleted_group_takes_its_settings_with_it() {
        let (store, _dir) = store().await;
        let (a, _) = two_hosts(&store).await;
        let group = store
            .insert_synthetic_group("g", &[(a, 1)], 0)
            .await
            .unwrap();
        store
            .upsert_group_setting(group, &setting("FREQUENCY", Some(1), None))
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        sqlx::query("DELETE FROM groups WHERE id = $1")
            .bind(group.0)
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(store
            .list_member_group_settings(a)
            .await
            .unwrap()
            .is_empty());
        assert!(store.list_group_settings(group).await.unwrap().is_empty());
    }
}
