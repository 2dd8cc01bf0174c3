//! Console accounts and their server-side sessions. Sessions live in the
//! database (not in process memory) so that every server instance sharing it accepts them.
//! Only digests of session tokens are stored; password hashing is the caller's business.
//! Sign-in limits and second factors live in `signin`.

use crate::{Result, Store, StoreError, WriteTx};

/// A console account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRecord {
    /// ID.
    pub id: i64,
    /// Login name.
    pub login: String,
    /// Password hash in PHC format.
    pub password_hash: String,
    /// Role name (`admin` or `user`).
    pub role: String,
    /// 1 while the account must choose a new password before doing anything else.
    pub must_change_password: i64,
    /// Chosen console language; `None` follows the browser.
    pub language: Option<String>,
    /// Saved choices of the computer list (columns, sort, page size), encoded by the caller.
    pub list_prefs: String,
    /// Creation time.
    pub created_at: i64,
    /// 1 when the account may use the web services.
    pub web_services: i64,
}

/// A signed-in session with its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Token expected in every state-changing request.
    pub csrf_token: String,
    /// When the session was opened.
    pub created_at: i64,
    /// Last request seen.
    pub last_seen: i64,
    /// The account.
    pub user: UserRecord,
}

const USER_COLUMNS: &str =
    "id, login, password_hash, role, must_change_password, language, list_prefs, created_at, web_services";

/// Refuses (and so rolls back) a change that would leave the console without an
/// administrator.
async fn an_admin_remains(tx: &mut WriteTx, admin_role: &str) -> Result<()> {
    let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_users WHERE role = $1")
        .bind(admin_role)
        .fetch_one(tx.conn())
        .await?;
    if admins == 0 {
        return Err(StoreError::Conflict("the last administrator".into()));
    }
    Ok(())
}

impl Store {
    /// Every account, by login.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM console_users ORDER BY login"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    /// The account with this login.
    pub async fn find_user(&self, login: &str) -> Result<Option<UserRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM console_users WHERE login = $1"
        ))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The account with this ID.
    pub async fn get_user(&self, id: i64) -> Result<UserRecord> {
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM console_users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {id}")))
    }

    /// Number of accounts.
    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM console_users")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Creates an account; `Conflict` if the login is taken.
    pub async fn insert_user(
        &self,
        login: &str,
        password_hash: &str,
        role: &str,
        must_change_password: bool,
        now: i64,
    ) -> Result<i64> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO console_users (login, password_hash, role, must_change_password, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(login)
        .bind(password_hash)
        .bind(role)
        .bind(i64::from(must_change_password))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        id.ok_or_else(|| StoreError::Conflict(format!("user {login:?}")))
    }

    /// Replaces an account's password hash and clears the must-change flag (or sets it, when
    /// an administrator resets someone else's password).
    pub async fn update_user_password(
        &self,
        id: i64,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE console_users SET password_hash = $2, must_change_password = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(password_hash)
        .bind(i64::from(must_change_password))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        Ok(())
    }

    /// Allows or forbids an account the web services.
    pub async fn update_user_web_services(&self, id: i64, allowed: bool) -> Result<()> {
        let done = sqlx::query("UPDATE console_users SET web_services = $2 WHERE id = $1")
            .bind(id)
            .bind(i64::from(allowed))
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        Ok(())
    }

    /// Changes an account's role, refusing to leave the console without an administrator.
    pub async fn update_user_role(&self, id: i64, role: &str, admin_role: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE console_users SET role = $2 WHERE id = $1")
            .bind(id)
            .bind(role)
            .execute(tx.conn())
            .await?;
        an_admin_remains(&mut tx, admin_role).await?;
        tx.commit().await
    }

    /// Deletes an account and its sessions, refusing to delete the last administrator.
    pub async fn delete_user(&self, id: i64, admin_role: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM console_users WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        sqlx::query("DELETE FROM console_sessions WHERE user_id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        an_admin_remains(&mut tx, admin_role).await?;
        tx.commit().await
    }

    /// Saves an account's language (`None`: follow the browser).
    pub async fn update_user_language(&self, id: i64, language: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE console_users SET language = $2 WHERE id = $1")
            .bind(id)
            .bind(language)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Saves an account's computer-list choices.
    pub async fn update_user_list_prefs(&self, id: i64, prefs: &str) -> Result<()> {
        sqlx::query("UPDATE console_users SET list_prefs = $2 WHERE id = $1")
            .bind(id)
            .bind(prefs)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Opens a session.
    pub async fn insert_session(
        &self,
        token_digest: &str,
        user_id: i64,
        csrf_token: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_sessions (token_digest, user_id, csrf_token, created_at, last_seen) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(token_digest)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session with this token digest and its account.
    pub async fn find_session(&self, token_digest: &str) -> Result<Option<SessionRecord>> {
        let row: Option<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT csrf_token, created_at, last_seen, user_id FROM console_sessions WHERE token_digest = $1",
        )
        .bind(token_digest)
        .fetch_optional(&self.pool)
        .await?;
        let Some((csrf_token, created_at, last_seen, user_id)) = row else {
            return Ok(None);
        };
        let user: Option<UserRecord> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM console_users WHERE id = $1"
        ))
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(user.map(|user| SessionRecord {
            csrf_token,
            created_at,
            last_seen,
            user,
        }))
    }

    /// Number of open sessions.
    pub async fn count_sessions(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM console_sessions")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Records activity on a session.
    pub async fn touch_session(&self, token_digest: &str, now: i64) -> Result<()> {
        // Through the writer, like every write the console makes while browsing: on SQLite
        // a write outside it would wait for the writer's batch on the file lock.
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE console_sessions SET last_seen = $2 WHERE token_digest = $1")
            .bind(token_digest)
            .bind(now)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Closes a session.
    pub async fn delete_session(&self, token_digest: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE token_digest = $1")
            .bind(token_digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Closes every session of an account but one (after a password change).
    pub async fn delete_other_sessions(&self, user_id: i64, keep_digest: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE user_id = $1 AND token_digest <> $2")
            .bind(user_id)
            .bind(keep_digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets sessions idle since before `idle_before`.
    pub async fn delete_idle_sessions(&self, idle_before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM console_sessions WHERE last_seen < $1")
                .bind(idle_before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::store;
    use crate::StoreError;

    #[tokio::test]
    async fn users_and_sessions() {
        let (store, _dir) = store().await;
        let id = store
            .insert_user("admin", "hash", "admin", true, 10)
            .await
            .unwrap();
        assert!(matches!(
            store.insert_user("admin", "x", "user", false, 10).await,
            Err(StoreError::Conflict(_))
        ));
        let other = store
            .insert_user("viewer", "hash", "user", false, 10)
            .await
            .unwrap();
        store.insert_session("d1", id, "csrf", 20).await.unwrap();
        let s = store.find_session("d1").await.unwrap().unwrap();
        assert_eq!(s.user.login, "admin");
        assert_eq!(s.csrf_token, "csrf");
        assert!(store.find_session("nope").await.unwrap().is_none());
        // The last administrator can be neither demoted nor deleted.
        assert!(matches!(
            store.update_user_role(id, "user", "admin").await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store.delete_user(id, "admin").await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.get_user(id).await.unwrap().role, "admin");
        store.delete_user(other, "admin").await.unwrap();
        assert_eq!(store.count_users().await.unwrap(), 1);
    }
}
