//! PROLOG sessions: a SEND prolog opens one, the inventory that follows closes it.
//! `INVENTORY_SESSION_ONLY` refuses inventories that come without one.

use crate::{Result, WriteTx};

impl WriteTx {
    /// Opens (or renews) the session of a device, and drops sessions older than `purge_before`.
    pub async fn open_prolog_session(
        &mut self,
        deviceid: &str,
        now: i64,
        purge_before: i64,
    ) -> Result<()> {
        sqlx::query("DELETE FROM prolog_sessions WHERE opened_at < $1")
            .bind(purge_before)
            .execute(self.conn())
            .await?;
        sqlx::query(
            "INSERT INTO prolog_sessions (deviceid, opened_at) VALUES ($1, $2) \
             ON CONFLICT (deviceid) DO UPDATE SET opened_at = excluded.opened_at",
        )
        .bind(deviceid)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// When the device's session was opened, if it has one.
    pub async fn prolog_session(&mut self, deviceid: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT opened_at FROM prolog_sessions WHERE deviceid = $1")
                .bind(deviceid)
                .fetch_optional(self.conn())
                .await?,
        )
    }

    /// Closes the device's session.
    pub async fn close_prolog_session(&mut self, deviceid: &str) -> Result<()> {
        sqlx::query("DELETE FROM prolog_sessions WHERE deviceid = $1")
            .bind(deviceid)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl crate::Store {
    /// Number of open sessions (for tests and diagnostics).
    pub async fn count_prolog_sessions(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM prolog_sessions")
            .fetch_one(&self.pool)
            .await?)
    }
}
