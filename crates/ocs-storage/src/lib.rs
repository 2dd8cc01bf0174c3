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
pub mod dashboard;
mod deletion;
pub mod deployment;
mod dictionaries;
pub mod duplicates;
pub mod forwarding;
pub mod groups;
pub mod history;
mod hosts;
mod integrity;
pub mod ipdiscover;
pub mod jobs;
mod mass;
mod migrate;
mod ocsapi;
mod options;
mod plugins;
mod sections;
mod sessions;
mod settings;
mod signin;
mod soap;
mod software;
pub mod software_categories;
pub mod software_counts;
pub mod software_fleet;
mod sql;
mod synthetic;
mod tokens;
mod users;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};

pub use accountinfo::{AccountField, TAG};
pub use agent_auth::AgentUserRecord;
pub use capacities::{NotifyOutcome, SnmpOutcome};
pub use computers::{
    like_exact, list_column, search_field, Cell, Column, ComputerQuery, ComputerRow, Criterion,
    CriterionField, CriterionValue, ListColumn, Operator, SearchField, ValueKind, LIST_COLUMNS,
    SEARCH_FIELDS,
};
pub use deletion::{DeletedHost, DeletedRecord, Deletion, InactiveHost, DELETE_CHUNK};
pub use deployment::activations::NewActivation;
pub use deployment::affect::{Affectation, ComputerAffectation, GroupAffectation};
pub use deployment::log::DeploymentLogEntry;
pub use deployment::prolog::{DeviceOffer, OfferWrites, OfferedActivation, PrologPackages};
pub use deployment::redistribution::{RedistributionGroup, RedistributionMember};
pub use deployment::status::Validation;
pub use deployment::{
    ActivationId, ActivationRecord, PackageRecord, PackageSummary, RedistributionGroupId,
};
pub use duplicates::{DuplicateCriteria, MergeSource};
pub use groups::settings::{summarise, GroupSettingSummary};
pub use groups::GroupId;
pub use hosts::{HardwareUpdate, HostDetail, HostFilter, HostId, HostState, HostSummary, Page};
pub use integrity::IntegrityReport;
pub use mass::{IDS_PER_STATEMENT, IDS_PER_TRANSACTION};
pub use ocsapi::{
    raw_table, raw_tables, RawCondition, RawKind, RawOperator, RawRow, RawSearch, RawSelection,
    RawTable,
};
pub use options::OptionRow;
pub use sections::{SectionChange, SectionData, SectionDiff};
pub use settings::{DeviceSetting, RegistryQuery};
pub use signin::{PendingSignin, TotpRecord, REQUIRE_SECOND_FACTOR};
pub use soap::{SoapEvent, SoapInterface, SoapMeta, SoapSelection, SoapSort};
pub use software::{SoftwareChange, SoftwareDiff, SoftwareEntry};
pub use synthetic::{synthetic_software_name, FleetSpec, SYNTHETIC_OS};
pub use tokens::TokenRecord;
pub use users::{SessionRecord, UserRecord};
pub use writer::BatchFailure;

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
    /// The SQLite batch this transaction was committed with failed (the error of the
    /// statement that failed it, as every transaction of the batch reports it).
    #[error("group commit failed: {message}")]
    Batch {
        /// What kind of failure.
        failure: BatchFailure,
        /// The error.
        message: String,
    },
    /// Stored data this binary wrote cannot be read back (a damaged merge snapshot).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// A read asked for something that does not exist in the schema it reads (a column a
    /// table does not have, a number that is not one): the caller's mistake.
    #[error("{0}")]
    Invalid(String),
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
            StoreError::Batch { failure, .. } => *failure == BatchFailure::Unavailable,
            _ => false,
        }
    }

    /// Whether the database's disk is full (SQLite `SQLITE_FULL`, PostgreSQL `disk_full`):
    /// nothing was written, and nothing will be until an operator frees space.
    pub fn is_storage_full(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("13" | "53100"))
            }
            StoreError::Batch { failure, .. } => *failure == BatchFailure::StorageFull,
            _ => false,
        }
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

/// The settings of every SQLite connection.
pub(crate) async fn configure_sqlite(conn: &mut sqlx::AnyConnection, busy_ms: u128) -> Result<()> {
    conn.execute("PRAGMA foreign_keys = ON").await?;
    conn.execute(format!("PRAGMA busy_timeout = {busy_ms}").as_str())
        .await?;
    conn.execute("PRAGMA synchronous = NORMAL").await?;
    // Statement journals of multi-row inserts go to memory, not temp files.
    conn.execute("PRAGMA temp_store = MEMORY").await?;
    // 32 MB of page cache per connection keeps the indexes hot.
    conn.execute("PRAGMA cache_size = -32000").await?;
    // Checkpoints every 40 MB of WAL rather than 4 MB: an index page rewritten by many
    // inventories in a row is then copied into the database once, not at every checkpoint
    // (6 % less CPU per new device, measured). The WAL is cut back to 64 MB afterwards.
    conn.execute("PRAGMA wal_autocheckpoint = 10000").await?;
    conn.execute("PRAGMA journal_size_limit = 67108864").await?;
    Ok(())
}

/// A connection pool with the per-connection settings of its backend.
async fn connect(
    url: &str,
    options: &StoreOptions,
) -> Result<(Backend, AnyPool, AnyConnectOptions)> {
    let (backend, url) = backend_of(url)?;
    let connect: AnyConnectOptions = url.parse()?;
    let writer_options = connect.clone();
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
                        configure_sqlite(conn, busy_ms).await.map_err(|e| match e {
                            StoreError::Db(e) => e,
                            e => sqlx::Error::Configuration(e.to_string().into()),
                        })?
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
    Ok((backend, pool, writer_options))
}

/// The database: a pool, an optional read pool (a replica, for console and API reads), and
/// for SQLite the one writer connection, whose gate queues this process's write
/// transactions and commits them in batches ([`writer`]).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    read_pool: AnyPool,
    backend: Backend,
    writer: Option<Arc<writer::WriterGate>>,
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
        let (backend, pool, writer_options) = connect(url, options).await?;
        if backend == Backend::Sqlite {
            // WAL lets readers (API, console) run while an inventory is being written.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        migrate::run(&pool, backend).await?;
        let read_pool = match read_url {
            Some(read_url) => connect(read_url, options).await?.1,
            None => pool.clone(),
        };
        let dictionaries: Arc<dictionaries::DictionaryCache> = Arc::default();
        let writer = match backend {
            Backend::Sqlite => Some(
                writer::WriterGate::open(
                    writer_options,
                    options.busy_timeout.as_millis(),
                    Arc::clone(&dictionaries),
                )
                .await?,
            ),
            Backend::Postgres => None,
        };
        Ok(Store {
            pool,
            read_pool,
            backend,
            writer,
            dictionaries,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. On SQLite it runs on the writer connection inside the
    /// open batch (which holds the write lock from its start, `BEGIN IMMEDIATE`, so two
    /// writers never deadlock on a read-to-write upgrade).
    pub async fn begin(&self) -> Result<WriteTx> {
        let inner = match &self.writer {
            Some(gate) => Inner::Sqlite {
                held: Some(gate.begin().await?),
                gate: Arc::clone(gate),
            },
            None => Inner::Postgres(Some(self.pool.begin().await?)),
        };
        Ok(WriteTx {
            inner,
            backend: self.backend,
            dictionaries: Arc::clone(&self.dictionaries),
            learnt: Vec::new(),
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
    inner: Inner,
    backend: Backend,
    dictionaries: Arc<dictionaries::DictionaryCache>,
    /// Dictionary entries seen in this transaction, published to the cache on commit.
    learnt: Vec<(usize, String, i64)>,
}

/// Both hold their transaction in an `Option` only so that commit and rollback can take it
/// out of a type that rolls back when dropped; it is `Some` for as long as the [`WriteTx`] lives.
enum Inner {
    Postgres(Option<Transaction<'static, Any>>),
    /// A savepoint on the SQLite writer.
    Sqlite {
        held: Option<writer::Held>,
        gate: Arc<writer::WriterGate>,
    },
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Inner::Sqlite { held, gate } = self {
            if let Some(held) = held.take() {
                gate.abandon(held);
            }
        }
    }
}

impl WriteTx {
    /// Commits; on SQLite, returns once the batch holding this transaction is durable.
    pub async fn commit(mut self) -> Result<()> {
        let learnt = std::mem::take(&mut self.learnt);
        match &mut self.inner {
            Inner::Postgres(tx) => {
                if let Some(tx) = tx.take() {
                    tx.commit().await?;
                    self.dictionaries.publish(learnt);
                }
                Ok(())
            }
            Inner::Sqlite { held, gate } => match held.take() {
                Some(held) => Arc::clone(gate).commit(held, learnt).await,
                None => Ok(()),
            },
        }
    }

    /// Rolls back explicitly (dropping does the same, later).
    pub async fn rollback(mut self) -> Result<()> {
        match &mut self.inner {
            Inner::Postgres(tx) => match tx.take() {
                Some(tx) => Ok(tx.rollback().await?),
                None => Ok(()),
            },
            Inner::Sqlite { held, .. } => match held.take() {
                Some(held) => writer::WriterGate::rollback(held).await,
                None => Ok(()),
            },
        }
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

    #[allow(clippy::expect_used)] // an invariant of the type, not input-driven
    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        match &mut self.inner {
            Inner::Postgres(tx) => tx
                .as_mut()
                .expect("held until commit or rollback consume the transaction"),
            Inner::Sqlite { held, .. } => held
                .as_mut()
                .expect("held until commit or rollback consume the transaction")
                .conn(),
        }
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
    async fn freeze_growth(conn: &mut sqlx::AnyConnection) {
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&mut *conn)
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
    async fn a_transaction_ended_by_sqlite_does_not_spoil_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("full.db").display());
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let long = "x".repeat(256 * 1024);
        let mut tx = store.begin().await.unwrap();
        freeze_growth(tx.conn()).await;
        let full = sqlx::query("INSERT INTO hardware (deviceid, description) VALUES ($1, $2)")
            .bind("full-2024-01-01-00-00-00")
            .bind(&long)
            .execute(tx.conn())
            .await
            .map_err(StoreError::Db)
            .unwrap_err();
        assert!(full.is_storage_full(), "{full:?}");
        drop(tx);
        for _ in 0..3 {
            let mut tx = store.begin().await.unwrap();
            tx.insert_host("next-2024-01-01-00-00-00").await.unwrap();
            tx.rollback().await.unwrap();
        }
        let mut tx = store.begin().await.unwrap();
        tx.insert_host("kept-2024-01-01-00-00-00").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.count_hosts().await.unwrap(), 1);
    }

    /// A transaction released into a batch that a later one then fails must not report
    /// success for data that was not stored: success and presence go together.
    #[tokio::test]
    async fn a_batch_failed_after_a_release_never_reports_lost_data_as_stored() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("full.db").display());
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let mut first = store.begin().await.unwrap();
        first
            .insert_host("first-2024-01-01-00-00-00")
            .await
            .unwrap();
        let second = {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                freeze_growth(tx.conn()).await;
                let long = "x".repeat(256 * 1024);
                let full =
                    sqlx::query("INSERT INTO hardware (deviceid, description) VALUES ($1, $2)")
                        .bind("second-2024-01-01-00-00-00")
                        .bind(&long)
                        .execute(tx.conn())
                        .await;
                assert!(full.is_err());
            })
        };
        tokio::task::yield_now().await;
        // The second is waiting for the gate, so this release leaves the commit to later.
        let committed = first.commit().await;
        second.await.unwrap();
        let stored = store
            .find_host_id("first-2024-01-01-00-00-00")
            .await
            .unwrap()
            .is_some();
        assert_eq!(committed.is_ok(), stored, "{committed:?}");
        assert!(store
            .find_host_id("second-2024-01-01-00-00-00")
            .await
            .unwrap()
            .is_none());
    }
}
