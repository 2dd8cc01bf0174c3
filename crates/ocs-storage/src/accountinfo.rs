//! Administrative data: TAG and the admin-defined fields (`fields_<id>`), exchanged with agents
//! through ACCOUNTINFO.

use sqlx::Row;

use crate::hosts::HostId;
use crate::{Result, Store, WriteTx};

/// KEYNAME of the TAG.
pub const TAG: &str = "TAG";

impl WriteTx {
    /// A device's administrative data as `(KEYNAME, value)`: TAG first, then each defined
    /// field; `None` when the device has no administrative data row.
    pub async fn accountinfo(&mut self, id: HostId) -> Result<Option<Vec<(String, String)>>> {
        let tag: Option<String> =
            sqlx::query_scalar("SELECT tag FROM accountinfo WHERE hardware_id = $1")
                .bind(id.0)
                .fetch_optional(self.conn())
                .await?;
        let Some(tag) = tag else { return Ok(None) };
        let rows = sqlx::query(
            "SELECT f.id, v.value FROM accountinfo_fields f \
             LEFT JOIN accountinfo_values v ON v.field_id = f.id AND v.hardware_id = $1 ORDER BY f.id",
        )
        .bind(id.0)
        .fetch_all(self.conn())
        .await?;
        let mut out = vec![(TAG.to_owned(), tag)];
        for r in rows {
            let field: i64 = r.try_get(0)?;
            let value: Option<String> = r.try_get(1)?;
            out.push((format!("fields_{field}"), value.unwrap_or_default()));
        }
        Ok(Some(out))
    }

    /// Stores sent ACCOUNTINFO entries whose KEYNAME names TAG or a defined field; creates the
    /// administrative data row if missing. Unknown keys are ignored, as the original does.
    pub async fn write_accountinfo(
        &mut self,
        id: HostId,
        entries: &[(String, String)],
    ) -> Result<()> {
        sqlx::query("INSERT INTO accountinfo (hardware_id) VALUES ($1) ON CONFLICT (hardware_id) DO NOTHING")
            .bind(id.0)
            .execute(self.conn())
            .await?;
        let defined: Vec<i64> = sqlx::query_scalar("SELECT id FROM accountinfo_fields")
            .fetch_all(self.conn())
            .await?;
        for (key, value) in entries {
            if key.eq_ignore_ascii_case(TAG) {
                sqlx::query("UPDATE accountinfo SET tag = $2 WHERE hardware_id = $1")
                    .bind(id.0)
                    .bind(value)
                    .execute(self.conn())
                    .await?;
            } else if let Some(field) = key
                .strip_prefix("fields_")
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|f| defined.contains(f))
            {
                sqlx::query(
                    "INSERT INTO accountinfo_values (hardware_id, field_id, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (hardware_id, field_id) DO UPDATE SET value = excluded.value",
                )
                .bind(id.0)
                .bind(field)
                .bind(value)
                .execute(self.conn())
                .await?;
            }
        }
        Ok(())
    }
}

impl Store {
    /// A device's administrative data for display.
    pub async fn accountinfo_of(&self, id: HostId) -> Result<Vec<(String, Option<String>)>> {
        let tag: Option<String> =
            sqlx::query_scalar("SELECT tag FROM accountinfo WHERE hardware_id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        let rows = sqlx::query(
            "SELECT f.id, v.value FROM accountinfo_fields f \
             LEFT JOIN accountinfo_values v ON v.field_id = f.id AND v.hardware_id = $1 ORDER BY f.id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        let mut out = vec![(TAG.to_owned(), tag)];
        for r in rows {
            out.push((format!("fields_{}", r.try_get::<i64, _>(0)?), r.try_get(1)?));
        }
        Ok(out)
    }

    /// Defines an administrative field; returns its KEYNAME (`fields_<id>`).
    pub async fn insert_accountinfo_field(&self, label: &str, kind: &str) -> Result<String> {
        let id: i64 = sqlx::query_scalar("INSERT INTO accountinfo_fields (label, kind, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(label)
            .bind(kind)
            .bind(crate::sql::unix_now())
            .fetch_one(&self.pool)
            .await?;
        Ok(format!("fields_{id}"))
    }
}
