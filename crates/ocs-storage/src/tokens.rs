//! API tokens. Only a SHA-256 digest of each token is stored: tokens are long random strings,
//! so a fast digest is enough and a stolen database yields no usable token.

use crate::{Result, Store, StoreError};

/// A stored token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRecord {
    /// ID.
    pub id: i64,
    /// Name given at creation.
    pub name: String,
    /// Creation time.
    pub created_at: i64,
    /// Last use.
    pub last_used_at: Option<i64>,
    /// `read` or `write` (which includes read).
    pub scope: String,
}

impl Store {
    /// Stores a new token's digest.
    pub async fn insert_token(
        &self,
        name: &str,
        digest: &str,
        scope: &str,
        now: i64,
    ) -> Result<()> {
        let done = sqlx::query("INSERT INTO api_tokens (name, token_hash, created_at, scope) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(digest)
            .bind(now)
            .bind(scope)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("token {name:?}")));
        }
        Ok(())
    }

    /// The token with this digest (read-only: checking a token never takes the write path,
    /// so a flood of unknown tokens costs one indexed read each).
    pub async fn find_token(&self, digest: &str) -> Result<Option<TokenRecord>> {
        Ok(sqlx::query_as(
            "SELECT id, name, created_at, last_used_at, scope FROM api_tokens WHERE token_hash = $1",
        )
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records a use of a token unless one was recorded at or after `unless_since`; returns
    /// whether the row was written.
    pub async fn touch_token(&self, id: i64, now: i64, unless_since: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let written = sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 \
             AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(id)
        .bind(now)
        .bind(unless_since)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(written > 0)
    }

    /// Every token.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        Ok(sqlx::query_as(
            "SELECT id, name, created_at, last_used_at, scope FROM api_tokens ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Deletes a token by name; returns whether it existed.
    pub async fn delete_token(&self, name: &str) -> Result<bool> {
        Ok(sqlx::query("DELETE FROM api_tokens WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::store;

    #[tokio::test]
    async fn tokens_are_found_without_writing_and_touched_at_most_once_per_window() {
        let (store, _dir) = store().await;
        store
            .insert_token("ci", "digest-1", "read", 100)
            .await
            .unwrap();
        assert_eq!(store.find_token("digest-unknown").await.unwrap(), None);
        let token = store.find_token("digest-1").await.unwrap().unwrap();
        assert_eq!(token.last_used_at, None);
        assert!(store.touch_token(token.id, 200, 140).await.unwrap());
        assert!(
            !store.touch_token(token.id, 230, 170).await.unwrap(),
            "used at 200, within the window starting at 170"
        );
        assert_eq!(
            store
                .find_token("digest-1")
                .await
                .unwrap()
                .unwrap()
                .last_used_at,
            Some(200)
        );
        assert!(store.touch_token(token.id, 300, 240).await.unwrap());
        assert_eq!(
            store.list_tokens().await.unwrap()[0].last_used_at,
            Some(300)
        );
    }
}
