//! Agent credentials kept in the database (`agent_users`) and device bindings
//! (`agent_bindings`): which agent credential first stored a device, so that another one
//! cannot replace, merge or update it. Password hashing and the policy are the caller's
//! business; this module only stores names, PHC strings and bindings.

use crate::hosts::HostId;
use crate::{Result, Store, StoreError, WriteTx};

/// An agent credential stored in the database.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgentUserRecord {
    /// ID.
    pub id: i64,
    /// User name, as the agent sends it.
    pub name: String,
    /// Password hash in PHC format.
    pub password_hash: String,
    /// Creation time.
    pub created_at: i64,
}

impl Store {
    /// Stores a new agent credential; [`StoreError::Conflict`] when the name is taken.
    pub async fn insert_agent_user(&self, name: &str, password_hash: &str, now: i64) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO agent_users (name, password_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .bind(password_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("agent user {name:?}")));
        }
        Ok(())
    }

    /// Replaces the password hash of an agent credential; returns whether it exists.
    pub async fn update_agent_user_password(
        &self,
        name: &str,
        password_hash: &str,
    ) -> Result<bool> {
        Ok(
            sqlx::query("UPDATE agent_users SET password_hash = $2 WHERE name = $1")
                .bind(name)
                .bind(password_hash)
                .execute(&self.pool)
                .await?
                .rows_affected()
                > 0,
        )
    }

    /// The agent credential with this name (read-only).
    pub async fn find_agent_user(&self, name: &str) -> Result<Option<AgentUserRecord>> {
        Ok(sqlx::query_as(
            "SELECT id, name, password_hash, created_at FROM agent_users WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every agent credential, by name, with the number of devices bound to it.
    pub async fn list_agent_users(&self) -> Result<Vec<(AgentUserRecord, i64)>> {
        let users: Vec<AgentUserRecord> = sqlx::query_as(
            "SELECT id, name, password_hash, created_at FROM agent_users ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(users.len());
        for user in users {
            let bound = self.count_agent_bindings(&user.name).await?;
            out.push((user, bound));
        }
        Ok(out)
    }

    /// Number of devices bound to an agent user name.
    pub async fn count_agent_bindings(&self, name: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM agent_bindings WHERE agent_user = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Deletes the agent credential `name` (if stored) and releases the devices bound to
    /// that name, in one transaction. Returns (whether the credential existed, devices
    /// released).
    pub async fn delete_agent_user(&self, name: &str) -> Result<(bool, u64)> {
        let mut tx = self.begin().await?;
        let existed = sqlx::query("DELETE FROM agent_users WHERE name = $1")
            .bind(name)
            .execute(tx.conn())
            .await?
            .rows_affected()
            > 0;
        let released = sqlx::query("DELETE FROM agent_bindings WHERE agent_user = $1")
            .bind(name)
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok((existed, released))
    }

    /// The agent user a DEVICEID is bound to, if the device exists and is bound (read-only,
    /// on the primary so that a binding just made is seen).
    pub async fn find_device_binding(&self, deviceid: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT b.agent_user FROM agent_bindings b JOIN hardware h ON h.id = b.hardware_id \
             WHERE h.deviceid = $1",
        )
        .bind(deviceid)
        .fetch_optional(&self.pool)
        .await?)
    }
}

impl WriteTx {
    /// The agent user a device is bound to, if any.
    pub async fn device_binding(&mut self, id: HostId) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT agent_user FROM agent_bindings WHERE hardware_id = $1")
                .bind(id.0)
                .fetch_optional(self.conn())
                .await?,
        )
    }

    /// Binds an unbound device to an agent user; a device already bound keeps its binding.
    /// Returns whether a binding was made.
    pub async fn bind_device(&mut self, id: HostId, agent_user: &str, now: i64) -> Result<bool> {
        Ok(sqlx::query(
            "INSERT INTO agent_bindings (hardware_id, agent_user, bound_at) VALUES ($1, $2, $3) \
             ON CONFLICT (hardware_id) DO NOTHING",
        )
        .bind(id.0)
        .bind(agent_user)
        .bind(now)
        .execute(self.conn())
        .await?
        .rows_affected()
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::store;
    use crate::StoreError;

    #[tokio::test]
    async fn agent_users_are_unique_and_listed() {
        let (store, _dir) = store().await;
        store
            .insert_agent_user("paris", "$hash1", 10)
            .await
            .unwrap();
        assert!(matches!(
            store.insert_agent_user("paris", "$hash2", 11).await,
            Err(StoreError::Conflict(_))
        ));
        store.insert_agent_user("lyon", "$hash3", 12).await.unwrap();
        let found = store.find_agent_user("paris").await.unwrap().unwrap();
        assert_eq!(found.password_hash, "$hash1");
        assert!(store.find_agent_user("nice").await.unwrap().is_none());
        assert!(store
            .update_agent_user_password("paris", "$hash4")
            .await
            .unwrap());
        assert!(!store
            .update_agent_user_password("nice", "$hash5")
            .await
            .unwrap());
        let names: Vec<String> = store
            .list_agent_users()
            .await
            .unwrap()
            .into_iter()
            .map(|(u, _)| u.name)
            .collect();
        assert_eq!(names, ["lyon", "paris"]);
    }

    #[tokio::test]
    async fn bindings_follow_their_device_and_user() {
        let (store, _dir) = store().await;
        store.insert_agent_user("paris", "$h", 1).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let a = tx.insert_host("a-2024-01-01-00-00-00").await.unwrap();
        let b = tx.insert_host("b-2024-01-01-00-00-00").await.unwrap();
        assert!(tx.bind_device(a, "paris", 5).await.unwrap());
        assert!(
            !tx.bind_device(a, "lyon", 6).await.unwrap(),
            "a bound device keeps its binding"
        );
        assert!(tx.bind_device(b, "paris", 5).await.unwrap());
        assert_eq!(
            tx.device_binding(a).await.unwrap().as_deref(),
            Some("paris")
        );
        tx.commit().await.unwrap();
        assert_eq!(
            store
                .find_device_binding("a-2024-01-01-00-00-00")
                .await
                .unwrap()
                .as_deref(),
            Some("paris")
        );
        assert_eq!(
            store
                .find_device_binding("zz-2024-01-01-00-00-00")
                .await
                .unwrap(),
            None
        );

        // Merging a device away deletes its binding with it.
        let mut tx = store.begin().await.unwrap();
        let source = crate::MergeSource {
            sent_checksum: None,
            keep_old_userid: false,
            trace: false,
            now: 7,
        };
        assert!(tx.merge_host(a, b, &source).await.unwrap());
        assert_eq!(tx.device_binding(a).await.unwrap(), None);
        tx.commit().await.unwrap();
        assert_eq!(store.count_agent_bindings("paris").await.unwrap(), 1);

        // Deleting the user releases its devices.
        assert_eq!(store.delete_agent_user("paris").await.unwrap(), (true, 1));
        assert_eq!(
            store
                .find_device_binding("b-2024-01-01-00-00-00")
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.delete_agent_user("paris").await.unwrap(), (false, 0));
    }
}
