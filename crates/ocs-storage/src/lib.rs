//! Storage: the database behind the server. It owns every SQL statement and every `sqlx`
//! type; callers see records, IDs and a write transaction ([`WriteTx`]) and nothing else.
//!
//! SQL is written once for both backends (`$N` placeholders, `ON CONFLICT`, `RETURNING`) and
//! runs through sqlx's `Any` driver; the little that differs per backend (transaction start,
//! connection pragmas, the migration tree) is chosen by [`Backend`]. Statements are built only
//! from the static section catalogue and bound parameters, never from request text.

mod accountinfo;
mod capacities;
mod dictionaries;
mod duplicates;
mod hosts;
mod migrate;
mod options;
mod sections;
mod sessions;
mod settings;
mod software;
mod sql;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use accountinfo::TAG;
pub use capacities::{NotifyOutcome, SnmpOutcome};
pub use duplicates::{DuplicateCriteria, MergeSource};
pub use hosts::{HardwareUpdate, HostDetail, HostFilter, HostId, HostState, HostSummary, Page};
pub use options::OptionRow;
pub use sections::{SectionChange, SectionData};
pub use settings::{DeviceSetting, RegistryQuery};
pub use software::SoftwareChange;
pub use tokens::TokenRecord;

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
    #[error("unsupported database URL {0:?} (expected sqlite:PATH)")]
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
    /// Whether the error means the database cannot be reached or is saturated (answer 503),
    /// rather than that a statement was wrong.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Db(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
            )
        )
    }
}

/// Storage result.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a connection before failing.
    pub acquire_timeout: Duration,
    /// How long SQLite waits for another process's write lock.
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(30),
        }
    }
}

/// The database: a pool, and for SQLite a gate that queues writers in this process instead of
/// letting them spin on SQLite's file lock.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    write_gate: Arc<Mutex<()>>,
    dictionaries: Arc<dictionaries::DictionaryCache>,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = if path.contains("mode=") {
                format!("sqlite://{path}")
            } else {
                format!("sqlite://{path}{sep}mode=rwc")
            };
            (Backend::Sqlite, url)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let connect: AnyConnectOptions = url.parse()?;
        let busy_ms = options.busy_timeout.as_millis();
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute(format!("PRAGMA busy_timeout = {busy_ms}").as_str())
                            .await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        // Statement journals of multi-row inserts go to memory, not temp files.
                        conn.execute("PRAGMA temp_store = MEMORY").await?;
                        // 32 MB of page cache per connection keeps the indexes hot.
                        conn.execute("PRAGMA cache_size = -32000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(connect)
            .await?;
        if backend == Backend::Sqlite {
            // WAL lets readers (API, console) run while an inventory is being written.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        migrate::run(&pool, backend).await?;
        Ok(Store {
            pool,
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

    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A store on a fresh SQLite file that lives as long as the returned guard.
    pub async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("test.db").display());
        (
            Store::open(&url, &StoreOptions::default()).await.unwrap(),
            dir,
        )
    }
}
