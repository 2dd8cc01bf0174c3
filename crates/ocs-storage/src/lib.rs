//! Storage: the database behind the server. It owns every SQL statement and every `sqlx`
//! type; callers see records, IDs and a write transaction ([`WriteTx`]) and nothing else.
//!
//! SQL is written once for both backends (`$N` placeholders, `ON CONFLICT`, `RETURNING`) and
//! runs through sqlx's `Any` driver; the little that differs per backend (transaction start,
//! connection pragmas, the migration tree) is chosen by [`Backend`]. Statements are built only
//! from the static section catalogue and bound parameters, never from request text.

mod accountinfo;
mod agent_auth;
mod capacities;
mod computers;
mod dictionaries;
mod duplicates;
mod hosts;
mod integrity;
mod migrate;
mod options;
mod sections;
mod sessions;
mod settings;
mod signin;
mod software;
mod sql;
mod synthetic;
mod tokens;
mod users;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use accountinfo::{AccountField, TAG};
pub use agent_auth::AgentUserRecord;
pub use capacities::{NotifyOutcome, SnmpOutcome};
pub use computers::{
    like_exact, list_column, search_field, Cell, Column, ComputerQuery, ComputerRow, Criterion,
    CriterionField, CriterionValue, ListColumn, Operator, SearchField, ValueKind, LIST_COLUMNS,
    SEARCH_FIELDS,
};
pub use duplicates::{DuplicateCriteria, MergeSource};
pub use hosts::{HardwareUpdate, HostDetail, HostFilter, HostId, HostState, HostSummary, Page};
pub use integrity::IntegrityReport;
pub use options::OptionRow;
pub use sections::{SectionChange, SectionData};
pub use settings::{DeviceSetting, RegistryQuery};
pub use signin::{PendingSignin, TotpRecord, REQUIRE_SECOND_FACTOR};
pub use software::SoftwareChange;
pub use synthetic::{synthetic_software_name, FleetSpec, SYNTHETIC_OS};
pub use tokens::TokenRecord;
pub use users::{SessionRecord, UserRecord};

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite, the zero-set-up default.
    Sqlite,
    /// PostgreSQL (the next storage issue).
    Postgres,
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row that must exist does not.
    #[error("{0} not found")]
    NotFound(String),
    /// A uniqueness rule would be broken.
    #[error("{0} already exists")]
    Conflict(String),
    /// The URL names no supported database.
    #[error("unsupported database URL {0:?} (expected sqlite:PATH or postgres://USER@HOST/DB)")]
    UnsupportedUrl(String),
    /// A migration failed; the schema is left at the previous version.
    #[error("migration {version} ({description}) failed: {source}")]
    Migration {
        /// Version number.
        version: i64,
        /// What it does.
        description: &'static str,
        /// The database error.
        source: sqlx::Error,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    /// Whether the error means the database cannot be reached or is saturated (answer 503 and
    /// let the agent come back), rather than that a statement was wrong.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(e) => match e {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed => true,
                // Connection exceptions (08), insufficient resources (53), operator
                // intervention (57: shutdown, cannot connect now, statement timeout).
                sqlx::Error::Database(db) => db.code().is_some_and(|c| {
                    c.starts_with("08") || c.starts_with("53") || c.starts_with("57")
                }),
                _ => false,
            },
            _ => false,
        }
    }

    /// Whether the database's disk is full (SQLite `SQLITE_FULL`, PostgreSQL `disk_full`):
    /// nothing was written, and nothing will be until an operator frees space.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(db)) if matches!(db.code().as_deref(), Some("13" | "53100")))
    }

    /// Whether the same transaction may simply be run again: PostgreSQL gave up on it because
    /// of a concurrent one (serialisation failure or deadlock).
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(db)) if matches!(db.code().as_deref(), Some("40001" | "40P01")))
    }
}

/// Storage result.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Pool size (per pool: the read replica gets as many).
    pub max_connections: u32,
    /// How long a request waits for a connection before failing; short, so that a database
    /// outage turns into quick 503s rather than piled-up requests.
    pub acquire_timeout: Duration,
    /// How long SQLite waits for another process's write lock.
    pub busy_timeout: Duration,
    /// Longest a PostgreSQL statement may run.
    pub statement_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(3),
            busy_timeout: Duration::from_secs(30),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// Which backend a URL names, and the URL sqlx needs for it.
fn backend_of(url: &str) -> Result<(Backend, String)> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.trim_start_matches("//");
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = if path.contains("mode=") {
            format!("sqlite://{path}")
        } else {
            format!("sqlite://{path}{sep}mode=rwc")
        };
        Ok((Backend::Sqlite, url))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Backend::Postgres, url.to_owned()))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// A connection pool with the per-connection settings of its backend.
async fn connect(url: &str, options: &StoreOptions) -> Result<(Backend, AnyPool)> {
    let (backend, url) = backend_of(url)?;
    let connect: AnyConnectOptions = url.parse()?;
    let busy_ms = options.busy_timeout.as_millis();
    let statement_ms = options.statement_timeout.as_millis();
    let pool = AnyPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        // SQLite ends a transaction by itself on some errors (SQLITE_FULL among them); the
        // ROLLBACK sqlx then sends fails, sqlx still counts the transaction as open and every
        // later BEGIN on that connection would fail. Such a connection is replaced instead.
        .before_acquire(|conn, _meta| {
            Box::pin(async move {
                let stuck = conn.is_in_transaction();
                if stuck {
                    tracing::warn!(
                        "replacing a database connection left inside a failed transaction"
                    );
                }
                Ok(!stuck)
            })
        })
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                match backend {
                    Backend::Sqlite => {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute(format!("PRAGMA busy_timeout = {busy_ms}").as_str())
                            .await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        // Statement journals of multi-row inserts go to memory, not temp files.
                        conn.execute("PRAGMA temp_store = MEMORY").await?;
                        // 32 MB of page cache per connection keeps the indexes hot.
                        conn.execute("PRAGMA cache_size = -32000").await?;
                    }
                    Backend::Postgres => {
                        conn.execute(format!("SET statement_timeout = {statement_ms}").as_str())
                            .await?;
                    }
                }
                Ok(())
            })
        })
        .connect_with(connect)
        .await?;
    Ok((backend, pool))
}

/// The database: a write pool, an optional read pool (a replica, for console and API
/// reads), and for SQLite a gate that queues writers in this process instead of letting them
/// spin on SQLite's file lock.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    read_pool: AnyPool,
    backend: Backend,
    write_gate: Arc<Mutex<()>>,
    dictionaries: Arc<dictionaries::DictionaryCache>,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Store> {
        Store::open_with_replica(url, None, options).await
    }

    /// Like [`Store::open`], sending read-only console and API queries to `read_url` (a
    /// PostgreSQL replica) when given.
    pub async fn open_with_replica(
        url: &str,
        read_url: Option<&str>,
        options: &StoreOptions,
    ) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, pool) = connect(url, options).await?;
        if backend == Backend::Sqlite {
            // WAL lets readers (API, console) run while an inventory is being written.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        migrate::run(&pool, backend).await?;
        let read_pool = match read_url {
            Some(read_url) => connect(read_url, options).await?.1,
            None => pool.clone(),
        };
        Ok(Store {
            pool,
            read_pool,
            backend,
            write_gate: Arc::new(Mutex::new(())),
            dictionaries: Arc::default(),
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so two writers never deadlock on a read-to-write upgrade.
    pub async fn begin(&self) -> Result<WriteTx> {
        let gate = match self.backend {
            Backend::Sqlite => Some(Arc::clone(&self.write_gate).lock_owned().await),
            Backend::Postgres => None,
        };
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            backend: self.backend,
            dictionaries: Arc::clone(&self.dictionaries),
            learnt: Vec::new(),
            _gate: gate,
        })
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
        self.read_pool.close().await;
    }
}

/// A write transaction: everything done through it is committed together or not at all.
/// Dropping it without [`WriteTx::commit`] rolls back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    dictionaries: Arc<dictionaries::DictionaryCache>,
    /// Dictionary entries seen in this transaction, published to the cache on commit.
    learnt: Vec<(usize, String, i64)>,
    _gate: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commits.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        self.dictionaries.publish(self.learnt);
        Ok(())
    }

    /// Rolls back explicitly (dropping does the same, later).
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// Locks a DEVICEID until the transaction ends and returns its device, if known. Every
    /// service that works on an agent's device goes through here, so PROLOG counters,
    /// inventories and reports of one DEVICEID never interleave across connections and
    /// server instances (PostgreSQL advisory lock; SQLite transactions already exclude each
    /// other). The lock is taken before the lookup, so it also covers creating the device.
    pub async fn lock_host(&mut self, deviceid: &str) -> Result<Option<hosts::HostState>> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(deviceid)
                .execute(self.conn())
                .await?;
        }
        self.find_host(deviceid).await
    }

    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A fresh database on the suite's backend (`OCS_TEST_BACKEND=postgres` with
    /// `OCS_TEST_PG_URL`, else a SQLite file that lives as long as the returned guard).
    pub async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = if std::env::var("OCS_TEST_BACKEND").as_deref() == Ok("postgres") {
            let admin = std::env::var("OCS_TEST_PG_URL")
                .expect("OCS_TEST_BACKEND=postgres needs OCS_TEST_PG_URL");
            pg_database(&admin).await
        } else {
            format!("sqlite:{}", dir.path().join("test.db").display())
        };
        (
            Store::open(&url, &StoreOptions::default()).await.unwrap(),
            dir,
        )
    }

    /// Creates a uniquely named database on a PostgreSQL cluster; returns its URL.
    pub async fn pg_database(admin_url: &str) -> String {
        sqlx::any::install_default_drivers();
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "ocs_unit_{}_{}_{}",
            std::process::id(),
            nanos,
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let pool = AnyPool::connect(admin_url).await.unwrap();
        pool.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        pool.close().await;
        format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Makes the database unable to grow, which SQLite reports as a full disk.
    async fn freeze_growth(conn: &mut sqlx::pool::PoolConnection<sqlx::Any>) {
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        conn.execute(format!("PRAGMA max_page_count = {pages}").as_str())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_full_sqlite_database_is_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("full.db").display());
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let mut conn = store.pool.acquire().await.unwrap();
        freeze_growth(&mut conn).await;
        let long = "x".repeat(64 * 1024);
        let error = sqlx::query("INSERT INTO hardware (deviceid, description) VALUES ($1, $2)")
            .bind("full-2024-01-01-00-00-00")
            .bind(&long)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::Db)
            .unwrap_err();
        assert!(error.is_storage_full(), "{error:?}");
        assert!(!error.is_unavailable());
    }

    #[tokio::test]
    async fn a_transaction_ended_by_sqlite_does_not_spoil_its_connection() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("full.db").display());
        let options = StoreOptions {
            max_connections: 1,
            ..StoreOptions::default()
        };
        let store = Store::open(&url, &options).await.unwrap();
        freeze_growth(&mut store.pool.acquire().await.unwrap()).await;
        let long = "x".repeat(256 * 1024);
        let mut tx = store.begin().await.unwrap();
        let full = sqlx::query("INSERT INTO hardware (deviceid, description) VALUES ($1, $2)")
            .bind("full-2024-01-01-00-00-00")
            .bind(&long)
            .execute(tx.conn())
            .await
            .map_err(StoreError::Db)
            .unwrap_err();
        assert!(full.is_storage_full(), "{full:?}");
        drop(tx);
        // The only connection was left by SQLite outside the transaction sqlx still counted.
        for _ in 0..3 {
            let mut tx = store.begin().await.unwrap();
            tx.insert_host("next-2024-01-01-00-00-00").await.unwrap();
            tx.rollback().await.unwrap();
        }
    }
}
