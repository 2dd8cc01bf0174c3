//! Forward-only schema migrations embedded in the binary, one tree per backend. Each runs in
//! its own transaction and is recorded in `schema_migrations`.

use sqlx::{AnyPool, Executor};

use crate::{Backend, Result, StoreError};

struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial schema",
        sqlite: include_str!("../migrations/sqlite/0001_initial.sql"),
        postgres: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        description: "administration console",
        sqlite: include_str!("../migrations/sqlite/0002_console.sql"),
        postgres: include_str!("../migrations/postgres/0002_console.sql"),
    },
    Migration {
        version: 3,
        description: "search statistics",
        sqlite: include_str!("../migrations/sqlite/0003_search_statistics.sql"),
        postgres: include_str!("../migrations/postgres/0003_search_statistics.sql"),
    },
    Migration {
        version: 4,
        description: "sign-in limits and second factor",
        sqlite: include_str!("../migrations/sqlite/0004_signin.sql"),
        postgres: include_str!("../migrations/postgres/0004_signin.sql"),
    },
    Migration {
        version: 5,
        description: "agent authentication",
        sqlite: include_str!("../migrations/sqlite/0005_agent_auth.sql"),
        postgres: include_str!("../migrations/postgres/0005_agent_auth.sql"),
    },
    Migration {
        version: 6,
        description: "groups and deleted computers",
        sqlite: include_str!("../migrations/sqlite/0006_groups.sql"),
        postgres: include_str!("../migrations/postgres/0006_groups.sql"),
    },
    Migration {
        version: 7,
        description: "package deployment",
        sqlite: include_str!("../migrations/sqlite/0007_deployment.sql"),
        postgres: include_str!("../migrations/postgres/0007_deployment.sql"),
    },
    Migration {
        version: 8,
        description: "network discovery",
        sqlite: include_str!("../migrations/sqlite/0008_ipdiscover.sql"),
        postgres: include_str!("../migrations/postgres/0008_ipdiscover.sql"),
    },
    Migration {
        version: 9,
        description: "software categories",
        sqlite: include_str!("../migrations/sqlite/0009_software_categories.sql"),
        postgres: include_str!("../migrations/postgres/0009_software_categories.sql"),
    },
    Migration {
        version: 10,
        description: "background jobs and software counts",
        sqlite: include_str!("../migrations/sqlite/0010_background_jobs.sql"),
        postgres: include_str!("../migrations/postgres/0010_background_jobs.sql"),
    },
    Migration {
        version: 11,
        description: "merge log",
        sqlite: include_str!("../migrations/sqlite/0011_merge_log.sql"),
        postgres: include_str!("../migrations/postgres/0011_merge_log.sql"),
    },
    Migration {
        version: 12,
        description: "change history",
        sqlite: include_str!("../migrations/sqlite/0012_history.sql"),
        postgres: include_str!("../migrations/postgres/0012_history.sql"),
    },
    Migration {
        version: 13,
        description: "duplicate candidates",
        sqlite: include_str!("../migrations/sqlite/0013_duplicate_candidates.sql"),
        postgres: include_str!("../migrations/postgres/0013_duplicate_candidates.sql"),
    },
    Migration {
        version: 14,
        description: "web services permission of console accounts",
        sqlite: include_str!("../migrations/sqlite/0014_web_services_accounts.sql"),
        postgres: include_str!("../migrations/postgres/0014_web_services_accounts.sql"),
    },
    Migration {
        version: 15,
        description: "forwarding queue",
        sqlite: include_str!("../migrations/sqlite/0015_forward_queue.sql"),
        postgres: include_str!("../migrations/postgres/0015_forward_queue.sql"),
    },
    Migration {
        version: 16,
        description: "sections the catalogue does not know",
        sqlite: include_str!("../migrations/sqlite/0016_extra_sections.sql"),
        postgres: include_str!("../migrations/postgres/0016_extra_sections.sql"),
    },
];

/// Key of the PostgreSQL advisory lock that serialises migrations of instances starting
/// together on one database.
const MIGRATION_LOCK: i64 = 0x0C5_3161;

/// The newest schema version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<()> {
    let mut conn = pool.acquire().await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply(&mut conn, backend).await;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<()> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let sql = match backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let fail = |source| StoreError::Migration {
            version: m.version,
            description: m.description,
            source,
        };
        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(fail)?;
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
        .fetch_one(&mut *conn)
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
        // Counted, not compared with the newest version: numbers are reserved per branch, so
        // a tree may have gaps.
        assert_eq!(n, i64::try_from(super::MIGRATIONS.len()).unwrap());
    }
}

/// Tables of a schema with their columns and (explicitly created) indexes, all sorted, so
/// that the two migration trees can be compared.
pub type SchemaShape = std::collections::BTreeMap<String, (Vec<String>, Vec<String>)>;

impl crate::Store {
    /// The shape of the migrated schema (bookkeeping tables excluded).
    pub async fn schema_shape(&self) -> Result<SchemaShape> {
        let (tables_sql, columns_sql, indexes_sql) = match self.backend {
            Backend::Sqlite => (
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                "SELECT name FROM pragma_table_info($1)",
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL",
            ),
            Backend::Postgres => (
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
                "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1 \
                 AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            ),
        };
        let mut shape = SchemaShape::new();
        let tables: Vec<String> = sqlx::query_scalar(tables_sql).fetch_all(&self.pool).await?;
        for table in tables.into_iter().filter(|t| t != "schema_migrations") {
            let mut columns: Vec<String> = sqlx::query_scalar(columns_sql)
                .bind(&table)
                .fetch_all(&self.pool)
                .await?;
            let mut indexes: Vec<String> = sqlx::query_scalar(indexes_sql)
                .bind(&table)
                .fetch_all(&self.pool)
                .await?;
            columns.sort();
            indexes.sort();
            shape.insert(table, (columns, indexes));
        }
        Ok(shape)
    }
}

#[cfg(test)]
mod schema_tests {
    use crate::test_support::{pg_database, store};
    use crate::{Store, StoreOptions};
    use ocs_proto::catalogue::{HARDWARE, SECTIONS};

    /// The catalogue and the migrations must not drift apart: every section's table has
    /// every field's column.
    #[tokio::test]
    async fn every_catalogue_field_has_a_column() {
        let (store, _dir) = store().await;
        let shape = store.schema_shape().await.unwrap();
        for section in SECTIONS.iter().chain([&HARDWARE]) {
            let (columns, _) = &shape[section.table];
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

    /// Both migration trees give the same tables, columns and indexes.
    #[tokio::test]
    async fn sqlite_and_postgres_schemas_are_the_same() {
        let Some(admin) = std::env::var("OCS_TEST_PG_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "OCS_TEST_PG_URL must be set in CI"
            );
            eprintln!("SKIPPED: needs PostgreSQL (OCS_TEST_PG_URL)");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Store::open(
            &format!("sqlite:{}", dir.path().join("a.db").display()),
            &StoreOptions::default(),
        )
        .await
        .unwrap();
        let postgres = Store::open(&pg_database(&admin).await, &StoreOptions::default())
            .await
            .unwrap();
        let (a, b) = (
            sqlite.schema_shape().await.unwrap(),
            postgres.schema_shape().await.unwrap(),
        );
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "tables"
        );
        for (table, shape) in &a {
            assert_eq!(shape, &b[table], "{table}");
        }
    }
}
