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
}

impl Store {
    /// Stores a new token's digest.
    pub async fn insert_token(&self, name: &str, digest: &str, now: i64) -> Result<()> {
        let done = sqlx::query("INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(digest)
            .bind(now)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("token {name:?}")));
        }
        Ok(())
    }

    /// The token with this digest, recording its use.
    pub async fn use_token(&self, digest: &str, now: i64) -> Result<Option<TokenRecord>> {
        let row = sqlx::query_as("UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 RETURNING id, name, created_at, last_used_at")
            .bind(digest)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row)
    }

    /// Every token.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        Ok(
            sqlx::query_as("SELECT id, name, created_at, last_used_at FROM api_tokens ORDER BY id")
                .fetch_all(&self.pool)
                .await?,
        )
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
