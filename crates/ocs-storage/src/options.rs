//! Server options (`config` table): read on every agent contact so that a change made through
//! one server instance applies to all of them.

use crate::{Result, Store};

/// One stored option.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OptionRow {
    /// OCS name without the `OCS_OPT_` prefix.
    pub name: String,
    /// Integer value.
    pub ivalue: Option<i64>,
    /// Text value.
    pub tvalue: Option<String>,
}

impl Store {
    /// Every stored option.
    pub async fn list_options(&self) -> Result<Vec<OptionRow>> {
        Ok(
            sqlx::query_as("SELECT name, ivalue, tvalue FROM config ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Sets an option, creating it if needed.
    pub async fn upsert_option(&self, row: &OptionRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO config (name, ivalue, tvalue) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET ivalue = excluded.ivalue, tvalue = excluded.tvalue",
        )
        .bind(&row.name)
        .bind(row.ivalue)
        .bind(row.tvalue.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores an option only if it has no value yet; returns whether it was inserted.
    pub async fn insert_option_if_absent(&self, row: &OptionRow) -> Result<bool> {
        let done = sqlx::query("INSERT INTO config (name, ivalue, tvalue) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(&row.name)
            .bind(row.ivalue)
            .bind(row.tvalue.clone())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    #[tokio::test]
    async fn seed_then_set() {
        let (store, _dir) = store().await;
        let row = OptionRow {
            name: "PROLOG_FREQ".into(),
            ivalue: Some(24),
            tvalue: None,
        };
        assert!(store.insert_option_if_absent(&row).await.unwrap());
        assert!(!store
            .insert_option_if_absent(&OptionRow {
                ivalue: Some(1),
                ..row.clone()
            })
            .await
            .unwrap());
        store
            .upsert_option(&OptionRow {
                ivalue: Some(12),
                ..row
            })
            .await
            .unwrap();
        assert_eq!(store.list_options().await.unwrap()[0].ivalue, Some(12));
    }
}
