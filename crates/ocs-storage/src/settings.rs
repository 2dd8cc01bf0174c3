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

    /// Every registry query.
    pub async fn registry_queries(&mut self) -> Result<Vec<RegistryQuery>> {
        Ok(
            sqlx::query_as("SELECT name, regtree, regkey, regvalue FROM regconfig ORDER BY id")
                .fetch_all(self.conn())
                .await?,
        )
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
        sqlx::query("DELETE FROM devices WHERE hardware_id = $1 AND name = $2")
            .bind(id.0)
            .bind(&setting.name)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "INSERT INTO devices (hardware_id, name, ivalue, tvalue) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.0)
        .bind(&setting.name)
        .bind(setting.ivalue)
        .bind(setting.tvalue.clone())
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
}
