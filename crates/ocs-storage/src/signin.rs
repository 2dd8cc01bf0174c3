//! What console sign-in keeps besides accounts and sessions: attempt counters for rate
//! limiting, trusted devices, sign-ins waiting for their second factor, TOTP secrets and
//! recovery codes, and console-wide settings. Every check-and-change here is one statement
//! (or one transaction), so concurrent requests and server instances cannot both pass a
//! check that only one of them should. Deciding limits and verifying codes is the caller's
//! business; only digests of cookies and recovery codes are stored.

use crate::{Result, Store};

/// A sign-in whose password was right and that waits for its second factor.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingSignin {
    /// The account.
    pub user_id: i64,
    /// The rate-limit key the password step was counted under.
    pub limit_key: String,
    /// When the password was accepted.
    pub created_at: i64,
}

/// An account's TOTP secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    /// The shared secret, base32-encoded.
    pub secret: String,
    /// Whether enrolment was confirmed with a valid code (until then it is not required).
    pub confirmed: bool,
    /// Newest time step accepted (codes of this step or older are refused).
    pub last_step: i64,
}

/// Name of the setting that requires a second factor for every account.
pub const REQUIRE_SECOND_FACTOR: &str = "require_second_factor";

impl Store {
    /// Counts one attempt under `key` and returns how many the current window holds,
    /// this one included. A window starts at the first attempt and lasts `window_secs`.
    /// One upsert does the check and the increment, so concurrent attempts each see a
    /// different count (the row is locked on PostgreSQL; SQLite writers are serialised).
    pub async fn hit_login_attempt(&self, key: &str, now: i64, window_secs: i64) -> Result<i64> {
        let mut tx = self.begin().await?;
        let attempts: i64 = sqlx::query_scalar(
            "INSERT INTO console_login_attempts (key, window_start, attempts) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
             attempts = CASE WHEN console_login_attempts.window_start <= $3 THEN 1 \
                        ELSE console_login_attempts.attempts + 1 END, \
             window_start = CASE WHEN console_login_attempts.window_start <= $3 THEN $2 \
                            ELSE console_login_attempts.window_start END \
             RETURNING attempts",
        )
        .bind(key)
        .bind(now)
        .bind(now - window_secs)
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(attempts)
    }

    /// Gives back one attempt under `key` (a right password should not use up the budget
    /// of an address that many people share).
    pub async fn refund_login_attempt(&self, key: &str) -> Result<()> {
        sqlx::query(
            "UPDATE console_login_attempts SET attempts = attempts - 1 \
             WHERE key = $1 AND attempts > 0",
        )
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the attempts under `key` (after a successful sign-in).
    pub async fn delete_login_attempts(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_login_attempts WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets counters whose window started before `before`; they no longer limit anything.
    pub async fn delete_stale_login_attempts(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM console_login_attempts WHERE window_start < $1")
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Remembers a browser that signed in to an account (by its cookie's digest).
    pub async fn insert_device(&self, digest: &str, user_id: i64, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_devices (digest, user_id, created_at, last_used) \
             VALUES ($1, $2, $3, $3) ON CONFLICT (digest) DO UPDATE SET last_used = $3",
        )
        .bind(digest)
        .bind(user_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The account a device cookie (by digest) is bound to, if it is known.
    pub async fn find_device_user(&self, digest: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT user_id FROM console_devices WHERE digest = $1")
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Records a sign-in through a device.
    pub async fn touch_device(&self, digest: &str, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE console_devices SET last_used = $2 WHERE digest = $1")
            .bind(digest)
            .bind(now)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes a device.
    pub async fn delete_device(&self, digest: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_devices WHERE digest = $1")
            .bind(digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Number of devices trusted for an account.
    pub async fn count_devices(&self, user_id: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM console_devices WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Forgets devices unused since before `unused_since`.
    pub async fn delete_stale_devices(&self, unused_since: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM console_devices WHERE last_used < $1")
                .bind(unused_since)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Records a sign-in waiting for its second factor.
    pub async fn insert_pending_signin(
        &self,
        token_digest: &str,
        user_id: i64,
        limit_key: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_pending_signins (token_digest, user_id, limit_key, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_digest)
        .bind(user_id)
        .bind(limit_key)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The pending sign-in with this token digest.
    pub async fn find_pending_signin(&self, token_digest: &str) -> Result<Option<PendingSignin>> {
        Ok(sqlx::query_as(
            "SELECT user_id, limit_key, created_at FROM console_pending_signins \
             WHERE token_digest = $1",
        )
        .bind(token_digest)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Ends a pending sign-in; returns whether it was still there, so that only one of two
    /// concurrent second-factor answers can complete it.
    pub async fn delete_pending_signin(&self, token_digest: &str) -> Result<bool> {
        Ok(
            sqlx::query("DELETE FROM console_pending_signins WHERE token_digest = $1")
                .bind(token_digest)
                .execute(&self.pool)
                .await?
                .rows_affected()
                > 0,
        )
    }

    /// Forgets pending sign-ins started before `before`.
    pub async fn delete_stale_pending_signins(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM console_pending_signins WHERE created_at < $1")
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// An account's TOTP secret, confirmed or not.
    pub async fn find_totp(&self, user_id: i64) -> Result<Option<TotpRecord>> {
        let row: Option<(String, i64, i64)> = sqlx::query_as(
            "SELECT secret, confirmed, last_step FROM console_totp WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(secret, confirmed, last_step)| TotpRecord {
            secret,
            confirmed: confirmed != 0,
            last_step,
        }))
    }

    /// Stores an unconfirmed secret unless the account already has one (confirmed or not),
    /// and returns the account's secret: reloading the enrolment page keeps the secret the
    /// authenticator may already have scanned.
    pub async fn insert_unconfirmed_totp(
        &self,
        user_id: i64,
        secret: &str,
        now: i64,
    ) -> Result<TotpRecord> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO console_totp (user_id, secret, confirmed, last_step, created_at) \
             VALUES ($1, $2, 0, 0, $3) ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(secret)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let (secret, confirmed, last_step): (String, i64, i64) = sqlx::query_as(
            "SELECT secret, confirmed, last_step FROM console_totp WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(TotpRecord {
            secret,
            confirmed: confirmed != 0,
            last_step,
        })
    }

    /// Confirms an account's pending secret at time step `step` and replaces its recovery
    /// codes, all at once; returns false if there was no unconfirmed secret.
    pub async fn confirm_totp(
        &self,
        user_id: i64,
        step: i64,
        recovery_digests: &[String],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE console_totp SET confirmed = 1, last_step = $2 \
             WHERE user_id = $1 AND confirmed = 0",
        )
        .bind(user_id)
        .bind(step)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM console_recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        for digest in recovery_digests {
            sqlx::query("INSERT INTO console_recovery_codes (user_id, digest) VALUES ($1, $2)")
                .bind(user_id)
                .bind(digest)
                .execute(tx.conn())
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Accepts a code of time step `step` unless a code of that step or a later one was
    /// already accepted (no replay); one statement, so two concurrent uses of one code
    /// cannot both succeed.
    pub async fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE console_totp SET last_step = $2 \
             WHERE user_id = $1 AND confirmed = 1 AND last_step < $2",
        )
        .bind(user_id)
        .bind(step)
        .execute(&self.pool)
        .await?
        .rows_affected()
            > 0)
    }

    /// Uses up a recovery code (by digest); returns whether it was valid and unused.
    pub async fn use_recovery_code(&self, user_id: i64, digest: &str) -> Result<bool> {
        Ok(
            sqlx::query("DELETE FROM console_recovery_codes WHERE user_id = $1 AND digest = $2")
                .bind(user_id)
                .bind(digest)
                .execute(&self.pool)
                .await?
                .rows_affected()
                > 0,
        )
    }

    /// Recovery codes an account has left.
    pub async fn count_recovery_codes(&self, user_id: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM console_recovery_codes WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Removes an account's second factor (secret and recovery codes); returns whether it
    /// had one.
    pub async fn delete_totp(&self, user_id: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM console_totp WHERE user_id = $1")
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        sqlx::query("DELETE FROM console_recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// IDs of the accounts with a confirmed second factor.
    pub async fn list_totp_users(&self) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT user_id FROM console_totp WHERE confirmed = 1")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Whether an account has a confirmed second factor, and whether every account must
    /// have one: one statement, since the console asks on every request.
    pub async fn second_factor_state(&self, user_id: i64) -> Result<(bool, bool)> {
        let (enrolled, required): (i64, i64) = sqlx::query_as(
            "SELECT \
             (SELECT COUNT(*) FROM console_totp WHERE user_id = $1 AND confirmed = 1), \
             (SELECT COUNT(*) FROM console_settings WHERE name = $2 AND value = '1')",
        )
        .bind(user_id)
        .bind(REQUIRE_SECOND_FACTOR)
        .fetch_one(&self.pool)
        .await?;
        Ok((enrolled > 0, required > 0))
    }

    /// A console setting.
    pub async fn find_console_setting(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM console_settings WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Sets a console setting.
    pub async fn upsert_console_setting(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::store;

    #[tokio::test]
    async fn attempt_counter_windows_refunds_and_resets() {
        let (store, _dir) = store().await;
        for expected in 1..=3 {
            assert_eq!(
                store.hit_login_attempt("k", 1000, 900).await.unwrap(),
                expected
            );
        }
        // Other keys count apart.
        assert_eq!(
            store.hit_login_attempt("other", 1000, 900).await.unwrap(),
            1
        );
        store.refund_login_attempt("k").await.unwrap();
        assert_eq!(store.hit_login_attempt("k", 1500, 900).await.unwrap(), 3);
        // The window runs from the first attempt (1000): at 1900 a new one starts.
        assert_eq!(store.hit_login_attempt("k", 1900, 900).await.unwrap(), 1);
        assert_eq!(store.hit_login_attempt("k", 1901, 900).await.unwrap(), 2);
        store.delete_login_attempts("k").await.unwrap();
        assert_eq!(store.hit_login_attempt("k", 1902, 900).await.unwrap(), 1);
        // A refund never goes below zero.
        for _ in 0..3 {
            store.refund_login_attempt("other").await.unwrap();
        }
        assert_eq!(
            store.hit_login_attempt("other", 1001, 900).await.unwrap(),
            1
        );
        assert_eq!(store.delete_stale_login_attempts(1500).await.unwrap(), 1);
        assert_eq!(
            store.hit_login_attempt("other", 1002, 900).await.unwrap(),
            1
        );
    }

    #[tokio::test]
    async fn concurrent_attempts_each_get_their_own_count() {
        let (store, _dir) = store().await;
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.hit_login_attempt("flood", 5000, 900).await.unwrap()
            }));
        }
        let mut counts = Vec::new();
        for t in tasks {
            counts.push(t.await.unwrap());
        }
        counts.sort_unstable();
        assert_eq!(counts, (1..=20).collect::<Vec<i64>>());
    }

    #[tokio::test]
    async fn devices_pending_signins_totp_and_settings() {
        let (store, _dir) = store().await;
        let id = store
            .insert_user("alice", "hash", "admin", false, 10)
            .await
            .unwrap();
        store.insert_device("d1", id, 100).await.unwrap();
        assert_eq!(store.find_device_user("d1").await.unwrap(), Some(id));
        assert_eq!(store.count_devices(id).await.unwrap(), 1);
        store.touch_device("d1", 200).await.unwrap();
        assert_eq!(store.delete_stale_devices(150).await.unwrap(), 0);
        store.delete_device("d1").await.unwrap();
        assert_eq!(store.find_device_user("d1").await.unwrap(), None);

        store
            .insert_pending_signin("p1", id, "untrusted:alice", 300)
            .await
            .unwrap();
        let p = store.find_pending_signin("p1").await.unwrap().unwrap();
        assert_eq!((p.user_id, p.limit_key.as_str()), (id, "untrusted:alice"));
        assert!(store.delete_pending_signin("p1").await.unwrap());
        assert!(!store.delete_pending_signin("p1").await.unwrap());

        assert_eq!(store.second_factor_state(id).await.unwrap(), (false, false));
        let t = store
            .insert_unconfirmed_totp(id, "SECRET1", 400)
            .await
            .unwrap();
        assert_eq!((t.secret.as_str(), t.confirmed), ("SECRET1", false));
        // A second enrolment visit keeps the first secret.
        let t = store
            .insert_unconfirmed_totp(id, "SECRET2", 401)
            .await
            .unwrap();
        assert_eq!(t.secret, "SECRET1");
        // Unconfirmed secrets accept nothing.
        assert!(!store.accept_totp_step(id, 5).await.unwrap());
        let codes = vec!["r1".to_owned(), "r2".to_owned()];
        assert!(store.confirm_totp(id, 10, &codes).await.unwrap());
        assert!(!store.confirm_totp(id, 11, &codes).await.unwrap());
        assert_eq!(store.second_factor_state(id).await.unwrap(), (true, false));
        assert_eq!(store.list_totp_users().await.unwrap(), vec![id]);
        // A step is accepted once, and never an older one.
        assert!(!store.accept_totp_step(id, 10).await.unwrap());
        assert!(store.accept_totp_step(id, 11).await.unwrap());
        assert!(!store.accept_totp_step(id, 11).await.unwrap());
        assert!(!store.accept_totp_step(id, 9).await.unwrap());
        assert!(store.use_recovery_code(id, "r1").await.unwrap());
        assert!(!store.use_recovery_code(id, "r1").await.unwrap());
        assert_eq!(store.count_recovery_codes(id).await.unwrap(), 1);
        assert!(store.delete_totp(id).await.unwrap());
        assert!(!store.delete_totp(id).await.unwrap());
        assert_eq!(store.count_recovery_codes(id).await.unwrap(), 0);
        assert_eq!(store.find_totp(id).await.unwrap(), None);

        assert_eq!(
            store
                .find_console_setting(super::REQUIRE_SECOND_FACTOR)
                .await
                .unwrap(),
            None
        );
        store
            .upsert_console_setting(super::REQUIRE_SECOND_FACTOR, "1")
            .await
            .unwrap();
        assert_eq!(store.second_factor_state(id).await.unwrap(), (false, true));
        store
            .upsert_console_setting(super::REQUIRE_SECOND_FACTOR, "0")
            .await
            .unwrap();
        assert_eq!(store.second_factor_state(id).await.unwrap(), (false, false));
    }
}
