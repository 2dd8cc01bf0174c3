//! Per-device settings (`devices` rows: FREQUENCY, PROLOG_FREQ, DOWNLOAD_SWITCH, IPDISCOVER, …)
//! and the registry queries sent to agents.

use crate::hosts::HostId;
use crate::{Result, Store, WriteTx};

/// One per-device setting.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeviceSetting {
    /// Setting name (an OCS option name, or DOWNLOAD, IPDISCOVER, …).
    pub name: String,
    /// Integer value.
    pub ivalue: Option<i64>,
    /// Text value.
    pub tvalue: Option<String>,
}

/// A registry value the Windows agents are asked to collect.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RegistryQuery {
    /// Label; comes back as REGISTRY/NAME.
    pub name: String,
    /// Hive number (0 HKCR … 4 HKCC).
    pub regtree: i64,
    /// Key path.
    pub regkey: String,
    /// Value name, or `*` for all.
    pub regvalue: String,
}

impl WriteTx {
    /// A device's settings.
    pub async fn device_settings(&mut self, id: HostId) -> Result<Vec<DeviceSetting>> {
        Ok(sqlx::query_as(
            "SELECT name, ivalue, tvalue FROM devices WHERE hardware_id = $1 ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(self.conn())
        .await?)
    }
}

impl Store {
    /// A device's settings (read-only).
    pub async fn device_settings(&self, id: HostId) -> Result<Vec<DeviceSetting>> {
        Ok(sqlx::query_as(
            "SELECT name, ivalue, tvalue FROM devices WHERE hardware_id = $1 ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Sets a single-valued per-device setting (FREQUENCY, PROLOG_FREQ, …), replacing any
    /// previous value of the same name.
    pub async fn set_device_setting(&self, id: HostId, setting: &DeviceSetting) -> Result<()> {
        let mut tx = self.begin().await?;
        // A form saves every line at once: a line whose value did not change keeps its row,
        // and with it the reason an IP discovery election records in `comments`.
        let current: Option<(Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT ivalue, tvalue FROM devices WHERE hardware_id = $1 AND name = $2",
        )
        .bind(id.0)
        .bind(&setting.name)
        .fetch_optional(tx.conn())
        .await?;
        if current.as_ref() == Some(&(setting.ivalue, setting.tvalue.clone())) {
            return tx.commit().await;
        }
        let comments = (setting.name == "IPDISCOVER"
            && setting.ivalue == Some(crate::ipdiscover::election::FORCED))
        .then_some(crate::ipdiscover::scanners::FORCED);
        sqlx::query("DELETE FROM devices WHERE hardware_id = $1 AND name = $2")
            .bind(id.0)
            .bind(&setting.name)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "INSERT INTO devices (hardware_id, name, ivalue, tvalue, comments) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.0)
        .bind(&setting.name)
        .bind(setting.ivalue)
        .bind(setting.tvalue.clone())
        .bind(comments)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }

    /// Removes a per-device setting, so the server's option applies again.
    pub async fn delete_device_setting(&self, id: HostId, name: &str) -> Result<()> {
        sqlx::query("DELETE FROM devices WHERE hardware_id = $1 AND name = $2")
            .bind(id.0)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Adds a registry query.
    pub async fn insert_registry_query(&self, q: &RegistryQuery) -> Result<()> {
        sqlx::query(
            "INSERT INTO regconfig (name, regtree, regkey, regvalue) VALUES ($1, $2, $3, $4)",
        )
        .bind(&q.name)
        .bind(q.regtree)
        .bind(&q.regkey)
        .bind(&q.regvalue)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every registry query with its ID, in creation order (the console lists and deletes
    /// them by ID).
    pub async fn list_registry_queries(&self) -> Result<Vec<(i64, RegistryQuery)>> {
        let rows: Vec<(i64, String, i64, String, String)> =
            sqlx::query_as("SELECT id, name, regtree, regkey, regvalue FROM regconfig ORDER BY id")
                // The primary, not the replica: the console shows the list right after a change.
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, regtree, regkey, regvalue)| {
                (
                    id,
                    RegistryQuery {
                        name,
                        regtree,
                        regkey,
                        regvalue,
                    },
                )
            })
            .collect())
    }

    /// Deletes a registry query; returns whether it existed.
    pub async fn delete_registry_query(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM regconfig WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets several server options in one transaction, so that a console form is saved
    /// whole or not at all.
    pub async fn upsert_options(&self, rows: &[crate::options::OptionRow]) -> Result<()> {
        let mut tx = self.begin().await?;
        for row in rows {
            sqlx::query(
                "INSERT INTO config (name, ivalue, tvalue) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET ivalue = excluded.ivalue, tvalue = excluded.tvalue",
            )
            .bind(&row.name)
            .bind(row.ivalue)
            .bind(row.tvalue.clone())
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;
    use crate::OptionRow;

    #[tokio::test]
    async fn registry_queries_list_with_ids_and_delete() {
        let (store, _dir) = store().await;
        let q = |name: &str| RegistryQuery {
            name: name.into(),
            regtree: 2,
            regkey: r"SOFTWARE\Microsoft\Windows\CurrentVersion\Run".into(),
            regvalue: "*".into(),
        };
        store.insert_registry_query(&q("Run")).await.unwrap();
        store.insert_registry_query(&q("Office")).await.unwrap();
        let listed = store.list_registry_queries().await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].1, q("Run"));
        assert!(store.delete_registry_query(listed[0].0).await.unwrap());
        assert!(!store.delete_registry_query(listed[0].0).await.unwrap());
        let left = store.list_registry_queries().await.unwrap();
        assert_eq!(left, vec![(listed[1].0, q("Office"))]);
    }

    #[tokio::test]
    async fn options_are_upserted_together() {
        let (store, _dir) = store().await;
        let rows = [
            OptionRow {
                name: "PROLOG_FREQ".into(),
                ivalue: Some(12),
                tvalue: None,
            },
            OptionRow {
                name: "TAG_LABEL".into(),
                ivalue: None,
                tvalue: Some("Your office".into()),
            },
        ];
        store.upsert_options(&rows).await.unwrap();
        store.upsert_options(&rows[..1]).await.unwrap();
        let stored = store.list_options().await.unwrap();
        assert_eq!(stored.len(), 2);
        assert!(stored.contains(&rows[0]) && stored.contains(&rows[1]));
    }
}
