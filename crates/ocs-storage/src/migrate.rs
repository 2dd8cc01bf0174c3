//! Forward-only schema migrations embedded in the binary, one tree per backend. Each runs in
//! its own transaction and is recorded in `schema_migrations`.

use sqlx::{AnyPool, Executor};

use crate::{Backend, Result, StoreError};

struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "initial schema",
    sqlite: include_str!("../migrations/sqlite/0001_initial.sql"),
}];

/// The newest schema version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<()> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(pool)
        .await?;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let sql = match backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => return Err(StoreError::UnsupportedUrl("postgres".into())),
        };
        let fail = |source| StoreError::Migration {
            version: m.version,
            description: m.description,
            source,
        };
        let mut tx = pool.begin().await.map_err(fail)?;
        tx.execute(sql).await.map_err(fail)?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.description)
        .bind(crate::sql::unix_now())
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(
            version = m.version,
            description = m.description,
            "applied database migration"
        );
    }
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(pool)
        .await?;
    if newest.unwrap_or(0) > latest_version() {
        tracing::warn!(
            database = newest,
            binary = latest_version(),
            "the database schema is newer than this binary"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::test_support::store;

    #[tokio::test]
    async fn migrations_are_idempotent() {
        let (store, dir) = store().await;
        store.close().await;
        let url = format!("sqlite:{}", dir.path().join("test.db").display());
        let again = crate::Store::open(&url, &crate::StoreOptions::default())
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
            .fetch_one(&again.pool)
            .await
            .unwrap();
        assert_eq!(n, super::latest_version());
    }
}

#[cfg(test)]
mod schema_tests {
    use crate::test_support::store;
    use ocs_proto::catalogue::{HARDWARE, SECTIONS};
    use sqlx::Row;

    /// The catalogue and the migrations must not drift apart: every section's table has
    /// every field's column.
    #[tokio::test]
    async fn every_catalogue_field_has_a_column() {
        let (store, _dir) = store().await;
        for section in SECTIONS.iter().chain([&HARDWARE]) {
            let rows = sqlx::query(&format!(
                "SELECT name FROM pragma_table_info('{}')",
                section.table
            ))
            .fetch_all(&store.pool)
            .await
            .unwrap();
            let columns: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
            assert!(
                columns.contains(&"hardware_id".to_owned()) || section.table == "hardware",
                "{}",
                section.table
            );
            for f in section.fields {
                assert!(
                    columns.iter().any(|c| c == f.column),
                    "{}.{} missing",
                    section.table,
                    f.column
                );
            }
        }
    }
}
