//! Reads and writes of the original's SOAP service (`/ocsinterface`) that no other module
//! has: the computer selection of `get_computers_V1`, its META rows and DICO_SOFT words,
//! the CHECKSUM reset, the `deleted_equiv` history pages and their clearing, the discovered
//! devices since a date. A computer's sections, administrative data and software are read
//! by the REST API's reads (`ocsapi`), which show the original's columns already.
//!
//! Every value is bound; the only words put in the SQL are the fixed sort columns of
//! [`SoapSort`].

use sqlx::Row;

use crate::sql::{Bind, Binds};
use crate::{Result, Store};

/// The column `get_computers_V1` sorts by (`SORT_BY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SoapSort {
    /// The database ID (the default).
    #[default]
    Id,
    /// The last contact.
    LastCome,
    /// The last inventory.
    LastDate,
}

impl SoapSort {
    fn column(self) -> &'static str {
        match self {
            SoapSort::Id => "h.id",
            // Never seen first on both databases (their NULLs sort at opposite ends).
            SoapSort::LastCome => "COALESCE(h.lastcome, 0)",
            SoapSort::LastDate => "COALESCE(h.lastdate, 0)",
        }
    }
}

/// Which computers `get_computers_V1` selects, and which page of them.
#[derive(Debug, Clone, Default)]
pub struct SoapSelection {
    /// Only these IDs (empty: any).
    pub ids: Vec<i64>,
    /// Not these IDs.
    pub exclude_ids: Vec<i64>,
    /// Only these TAGs (empty: any).
    pub tags: Vec<String>,
    /// Not these TAGs.
    pub exclude_tags: Vec<String>,
    /// Only computers whose USERID is one of these (empty: any).
    pub userids: Vec<String>,
    /// Only computers whose stored CHECKSUM shares a bit with this one (`None`: any).
    pub checksum: Option<i64>,
    /// The sort column.
    pub sort: SoapSort,
    /// Descending.
    pub descending: bool,
    /// Rows skipped.
    pub begin: i64,
    /// Rows returned at most.
    pub limit: i64,
}

/// What `ASKING_FOR=META` shows of a computer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapMeta {
    /// Database ID (`DATABASEID`).
    pub id: i64,
    /// DEVICEID.
    pub deviceid: String,
    /// Name.
    pub name: Option<String>,
    /// TAG.
    pub tag: Option<String>,
    /// Unix time of the last inventory.
    pub lastdate: Option<i64>,
    /// Unix time of the last contact.
    pub lastcome: Option<i64>,
    /// Stored CHECKSUM.
    pub checksum: Option<i64>,
}

/// One `deleted_equiv` row: a deleted DEVICEID and the one it was merged into, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapEvent {
    /// Unix time.
    pub date: i64,
    /// The DEVICEID that went away.
    pub deleted: String,
    /// The DEVICEID that replaced it (`None`: deleted outright).
    pub equivalent: Option<String>,
}

/// One discovered interface (`netmap`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapInterface {
    /// MAC address.
    pub mac: String,
    /// IPv4 address.
    pub ip: String,
    /// Netmask.
    pub mask: Option<String>,
    /// Unix time it was last seen.
    pub date: i64,
    /// Name the scanner resolved.
    pub name: Option<String>,
}

/// `(mac, ip, mask, date, name)` of `netmap`.
type InterfaceRow = (String, String, Option<String>, i64, Option<String>);

/// IDs per statement.
const IDS_PER_READ: usize = 500;

fn in_list(binds: &mut Binds, values: impl IntoIterator<Item = Bind>) -> String {
    values
        .into_iter()
        .map(|b| binds.push(b))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The IDs `get_computers_V1` answers for, in its order: computers with administrative
    /// data (every computer has a row), group-like DEVICEIDs (`_…`) left out.
    pub async fn soap_computer_ids(&self, s: &SoapSelection) -> Result<Vec<i64>> {
        let mut binds = Binds::default();
        let mut sql = String::from(
            "SELECT h.id FROM hardware h JOIN accountinfo a ON a.hardware_id = h.id \
             WHERE h.deviceid NOT LIKE '\\_%' ESCAPE '\\'",
        );
        if !s.ids.is_empty() {
            let list = in_list(&mut binds, s.ids.iter().map(|i| Bind::Int(*i)));
            sql.push_str(&format!(" AND h.id IN ({list})"));
        }
        if !s.exclude_ids.is_empty() {
            let list = in_list(&mut binds, s.exclude_ids.iter().map(|i| Bind::Int(*i)));
            sql.push_str(&format!(" AND h.id NOT IN ({list})"));
        }
        if !s.tags.is_empty() {
            let list = in_list(&mut binds, s.tags.iter().map(|t| Bind::Text(t.clone())));
            sql.push_str(&format!(" AND a.tag IN ({list})"));
        }
        if !s.exclude_tags.is_empty() {
            let list = in_list(
                &mut binds,
                s.exclude_tags.iter().map(|t| Bind::Text(t.clone())),
            );
            sql.push_str(&format!(" AND a.tag NOT IN ({list})"));
        }
        if !s.userids.is_empty() {
            let list = in_list(&mut binds, s.userids.iter().map(|t| Bind::Text(t.clone())));
            sql.push_str(&format!(" AND h.userid IN ({list})"));
        }
        if let Some(checksum) = s.checksum {
            let p = binds.push(Bind::Int(checksum));
            sql.push_str(&format!(" AND (COALESCE(h.checksum, 0) & {p}) <> 0"));
        }
        let direction = if s.descending { "DESC" } else { "ASC" };
        let limit = binds.push(Bind::Int(s.limit));
        let offset = binds.push(Bind::Int(s.begin));
        sql.push_str(&format!(
            " ORDER BY {} {direction}, h.id {direction} LIMIT {limit} OFFSET {offset}",
            s.sort.column()
        ));
        let rows: Vec<(i64,)> = binds
            .apply_as(sqlx::query_as(&sql))
            .fetch_all(&self.read_pool)
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The META rows of these computers, in the order of `ids` (unknown IDs left out).
    pub async fn soap_meta(&self, ids: &[i64]) -> Result<Vec<SoapMeta>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_READ) {
            let mut binds = Binds::default();
            let list = in_list(&mut binds, chunk.iter().map(|i| Bind::Int(*i)));
            let sql = format!(
                "SELECT h.id, h.deviceid, h.name, a.tag, h.lastdate, h.lastcome, h.checksum \
                 FROM hardware h LEFT JOIN accountinfo a ON a.hardware_id = h.id WHERE h.id IN ({list})"
            );
            for row in binds
                .apply(sqlx::query(&sql))
                .fetch_all(&self.read_pool)
                .await?
            {
                found.push(SoapMeta {
                    id: row.try_get(0)?,
                    deviceid: row.try_get(1)?,
                    name: row.try_get(2)?,
                    tag: row.try_get(3)?,
                    lastdate: row.try_get(4)?,
                    lastcome: row.try_get(5)?,
                    checksum: row.try_get(6)?,
                });
            }
        }
        let order: std::collections::HashMap<i64, usize> =
            ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        found.sort_by_key(|m| order.get(&m.id).copied().unwrap_or(usize::MAX));
        Ok(found)
    }

    /// The dictionary words (category names) of these computers' software, `(ID, word)`
    /// by ID then word.
    pub async fn soap_dico_soft(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_READ) {
            let mut binds = Binds::default();
            let list = in_list(&mut binds, chunk.iter().map(|i| Bind::Int(*i)));
            let sql = format!(
                "SELECT DISTINCT s.hardware_id, c.name FROM software s \
                 JOIN software_category_links l ON l.name_id = s.name_id \
                 AND l.publisher_id = s.publisher_id AND l.version_id = s.version_id \
                 JOIN software_categories c ON c.id = l.category_id \
                 WHERE s.hardware_id IN ({list}) ORDER BY s.hardware_id, c.name"
            );
            let rows: Vec<(i64, String)> = binds
                .apply_as(sqlx::query_as(&sql))
                .fetch_all(&self.read_pool)
                .await?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// The dictionary word (category name) of a software name, if it has one: the first by
    /// name when its versions are in several.
    pub async fn soap_dico_soft_element(&self, name: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT c.name FROM software_name n \
             JOIN software_category_links l ON l.name_id = n.id \
             JOIN software_categories c ON c.id = l.category_id \
             WHERE n.name = $1 ORDER BY c.name LIMIT 1",
        )
        .bind(name)
        .fetch_optional(&self.read_pool)
        .await?)
    }

    /// Sets the stored CHECKSUM of these computers; returns how many rows changed.
    pub async fn soap_reset_checksum(&self, checksum: i64, ids: &[i64]) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let mut changed = 0;
        for chunk in ids.chunks(IDS_PER_READ) {
            let mut binds = Binds::default();
            let value = binds.push(Bind::Int(checksum));
            let list = in_list(&mut binds, chunk.iter().map(|i| Bind::Int(*i)));
            let sql = format!("UPDATE hardware SET checksum = {value} WHERE id IN ({list})");
            changed += binds
                .apply(sqlx::query(&sql))
                .execute(tx.conn())
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// A page of `deleted_equiv`, by date then deleted DEVICEID.
    pub async fn soap_history(&self, offset: i64, limit: i64) -> Result<Vec<SoapEvent>> {
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT date, deleted, equivalent FROM deleted_equiv \
             ORDER BY date, deleted, id LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read_pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(date, deleted, equivalent)| SoapEvent {
                date,
                deleted,
                equivalent,
            })
            .collect())
    }

    /// Removes the first `count` events of [`Store::soap_history`]'s order; returns how
    /// many went.
    pub async fn soap_clear_history(&self, count: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "DELETE FROM deleted_equiv WHERE id IN (SELECT id FROM deleted_equiv \
             ORDER BY date, deleted, id LIMIT $1)",
        )
        .bind(count)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Discovered interfaces seen after `since`, by date; `only_unknown`: only MACs no
    /// computer has and nobody identified.
    pub async fn soap_discovered(
        &self,
        since: i64,
        only_unknown: bool,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<SoapInterface>> {
        let unknown = if only_unknown {
            " AND NOT EXISTS (SELECT 1 FROM networks nw WHERE LOWER(nw.macaddr) = LOWER(m.mac)) \
             AND NOT EXISTS (SELECT 1 FROM identified_devices d WHERE d.mac = LOWER(m.mac))"
        } else {
            ""
        };
        let sql = format!(
            "SELECT m.mac, m.ip, m.mask, m.date, m.name FROM netmap m WHERE m.date > $1{unknown} \
             ORDER BY m.date, m.mac LIMIT $2 OFFSET $3"
        );
        let rows: Vec<InterfaceRow> = sqlx::query_as(&sql)
            .bind(since)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.read_pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(mac, ip, mask, date, name)| SoapInterface {
                mac,
                ip,
                mask,
                date,
                name,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    #[tokio::test]
    async fn history_pages_and_clearing_follow_date_order() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        for (date, deleted) in [(30, "c"), (10, "b"), (10, "a")] {
            sqlx::query(
                "INSERT INTO deleted_equiv (date, deleted, equivalent) VALUES ($1, $2, NULL)",
            )
            .bind(date as i64)
            .bind(deleted)
            .execute(tx.conn())
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let page = store.soap_history(0, 2).await.unwrap();
        let names: Vec<&str> = page.iter().map(|e| e.deleted.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(store.soap_history(2, 2).await.unwrap()[0].deleted, "c");
        assert_eq!(store.soap_clear_history(2).await.unwrap(), 2);
        let left = store.soap_history(0, 10).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].deleted, "c");
    }

    /// Computers `(deviceid, tag, checksum, userid)`; their IDs in order.
    async fn fleet(store: &Store, hosts: &[(&str, &str, i64, &str)]) -> Vec<i64> {
        let mut tx = store.begin().await.unwrap();
        let mut ids = Vec::new();
        for (deviceid, tag, checksum, userid) in hosts {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO hardware (deviceid, name, checksum, userid, lastdate) \
                 VALUES ($1, $1, $2, $3, 100) RETURNING id",
            )
            .bind(*deviceid)
            .bind(*checksum)
            .bind(*userid)
            .fetch_one(tx.conn())
            .await
            .unwrap();
            sqlx::query("INSERT INTO accountinfo (hardware_id, tag) VALUES ($1, $2)")
                .bind(id)
                .bind(*tag)
                .execute(tx.conn())
                .await
                .unwrap();
            ids.push(id);
        }
        tx.commit().await.unwrap();
        ids
    }

    #[tokio::test]
    async fn selection_filters_sorts_and_pages() {
        let (store, _dir) = store().await;
        let ids = fleet(
            &store,
            &[
                ("a-1", "PARIS", 1, "jdoe"),
                ("b-2", "PARIS", 4096, "asmith"),
                ("c-3", "LYON", 4097, "jdoe"),
                ("_group", "PARIS", 1, ""),
            ],
        )
        .await;
        let select = |s: SoapSelection| {
            let store = &store;
            async move {
                store
                    .soap_computer_ids(&SoapSelection { limit: 10, ..s })
                    .await
                    .unwrap()
            }
        };
        let (a, b, c) = (ids[0], ids[1], ids[2]);
        assert_eq!(
            select(SoapSelection::default()).await,
            [a, b, c],
            "no group-like DEVICEID"
        );
        let paris = SoapSelection {
            tags: vec!["PARIS".into()],
            ..SoapSelection::default()
        };
        assert_eq!(select(paris).await, [a, b]);
        let not_paris = SoapSelection {
            exclude_tags: vec!["PARIS".into()],
            ..SoapSelection::default()
        };
        assert_eq!(select(not_paris).await, [c]);
        let networks = SoapSelection {
            checksum: Some(4096),
            ..SoapSelection::default()
        };
        assert_eq!(select(networks).await, [b, c]);
        let jdoe_desc = SoapSelection {
            userids: vec!["jdoe".into()],
            descending: true,
            exclude_ids: vec![b],
            ..SoapSelection::default()
        };
        assert_eq!(select(jdoe_desc).await, [c, a]);
        let page = store
            .soap_computer_ids(&SoapSelection {
                ids: vec![a, b, c],
                begin: 1,
                limit: 1,
                sort: SoapSort::LastDate,
                ..SoapSelection::default()
            })
            .await
            .unwrap();
        assert_eq!(page, [b]);
        let meta = store.soap_meta(&[c, a]).await.unwrap();
        assert_eq!(
            meta.iter().map(|m| m.id).collect::<Vec<_>>(),
            [c, a],
            "in the asked order"
        );
        assert_eq!(meta[0].tag.as_deref(), Some("LYON"));
        assert_eq!(
            store
                .soap_reset_checksum(0, &[a, c, 999_999])
                .await
                .unwrap(),
            2
        );
        let after = SoapSelection {
            checksum: Some(4096),
            ..SoapSelection::default()
        };
        assert_eq!(select(after).await, [b]);
    }

    #[tokio::test]
    async fn selection_of_an_empty_fleet_is_empty() {
        let (store, _dir) = store().await;
        let s = SoapSelection {
            checksum: Some(1),
            tags: vec!["PARIS".into()],
            limit: 10,
            ..SoapSelection::default()
        };
        assert!(store.soap_computer_ids(&s).await.unwrap().is_empty());
        assert_eq!(store.soap_reset_checksum(0, &[1, 2]).await.unwrap(), 0);
    }
}
