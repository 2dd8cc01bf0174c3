//! Group commit for SQLite: every write transaction of the process runs on one dedicated
//! connection, and consecutive transactions share one database transaction, each inside a
//! savepoint of its own.
//!
//! Why: a commit writes every page the transaction dirtied to the WAL, and an inventory
//! dirties pages all over the software name index (its entries are ordered by software, not
//! by device), so one commit per inventory writes the same hot pages again and again. With
//! several inventories per commit, a page is written once per batch. The one connection also
//! keeps its page cache valid: SQLite drops a connection's cache whenever another connection
//! wrote.
//!
//! Protocol. A job takes the gate (FIFO), opens the batch if none is open (`BEGIN
//! IMMEDIATE`), and runs inside `SAVEPOINT job`. On commit it releases the savepoint; if no
//! one is waiting for the gate, or the batch is full or old, it commits the batch at once.
//! Otherwise it hands the gate over and queues for it again: by the time it is back at the
//! head, every job that was waiting has run in the same batch, and it commits them all
//! (unless one of them already did). A job's commit returns only once its batch is durable
//! (or failed: then every job of the batch gets the error), so a reply is never sent for
//! data that could still be lost. A job dropped inside its savepoint (an error, or an
//! abandoned request) is rolled back to the savepoint by whoever takes the gate next, and
//! the second wait runs in a task of its own, so an abandoned request never strands its
//! batch.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, ConnectOptions, Executor};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::dictionaries::DictionaryCache;
use crate::{Result, StoreError};

/// Most jobs committed together.
const MAX_JOBS: usize = 64;
/// Oldest a batch gets before the next release commits it, waiters or not: bounds how long
/// the write lock is held and how much a failure takes with it.
const MAX_AGE: Duration = Duration::from_millis(250);
/// Failed batches remembered for the jobs still waiting to learn their outcome.
const REMEMBERED_FAILURES: usize = 256;

/// How a batch failed, as every job of it reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchFailure {
    /// The disk is full.
    StorageFull,
    /// The database could not be reached.
    Unavailable,
    /// Anything else.
    Other,
}

impl BatchFailure {
    fn of(error: &StoreError) -> BatchFailure {
        if error.is_storage_full() {
            BatchFailure::StorageFull
        } else if error.is_unavailable() {
            BatchFailure::Unavailable
        } else {
            BatchFailure::Other
        }
    }
}

/// The writer connection and the state of the open batch; only the gate holder touches it.
pub(crate) struct Writer {
    conn: AnyConnection,
    connect: AnyConnectOptions,
    busy_ms: u128,
    /// Whether the connection must be replaced before its next use.
    broken: bool,
    /// A batch transaction is open.
    open: bool,
    /// Number of the open batch, or of the last one.
    batch: u64,
    /// Last batch that ended (committed or failed).
    finished: u64,
    /// Jobs released into the open batch.
    released: usize,
    started: Instant,
    /// A job ended inside its savepoint without commit or rollback.
    abandoned: bool,
    failures: VecDeque<(u64, BatchFailure, String)>,
    /// Dictionary entries of the released jobs, published once their batch commits.
    learnt: Vec<(usize, String, i64)>,
    dictionaries: Arc<DictionaryCache>,
}

/// The gate in front of the writer, and how many wait for it.
pub(crate) struct WriterGate {
    writer: Arc<Mutex<Writer>>,
    waiting: AtomicUsize,
}

/// Counts a waiter for as long as it waits, even if the wait is abandoned.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for WriterGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterGate")
            .field("waiting", &self.waiting.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A job's hold on the writer: the gate, inside `SAVEPOINT job`.
pub(crate) type Held = OwnedMutexGuard<Writer>;

impl WriterGate {
    /// Opens the writer connection.
    pub(crate) async fn open(
        connect: AnyConnectOptions,
        busy_ms: u128,
        dictionaries: Arc<DictionaryCache>,
    ) -> Result<Arc<WriterGate>> {
        let mut conn = connect.connect().await?;
        crate::configure_sqlite(&mut conn, busy_ms).await?;
        Ok(Arc::new(WriterGate {
            writer: Arc::new(Mutex::new(Writer {
                conn,
                connect,
                busy_ms,
                broken: false,
                open: false,
                batch: 0,
                finished: 0,
                released: 0,
                started: Instant::now(),
                abandoned: false,
                failures: VecDeque::new(),
                learnt: Vec::new(),
                dictionaries,
            })),
            waiting: AtomicUsize::new(0),
        }))
    }

    async fn lock(&self) -> Held {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiting);
        Arc::clone(&self.writer).lock_owned().await
    }

    /// Starts a job: the gate, a batch, a savepoint.
    pub(crate) async fn begin(&self) -> Result<Held> {
        let mut w = self.lock().await;
        w.settle().await;
        if w.broken {
            w.reconnect().await?;
        }
        if !w.open {
            w.run("BEGIN IMMEDIATE").await?;
            w.open = true;
            w.batch += 1;
            w.released = 0;
            w.started = Instant::now();
        }
        if let Err(e) = w.run("SAVEPOINT job").await {
            w.fail(&e).await;
            return Err(e);
        }
        Ok(w)
    }

    /// Ends a job well: its changes join the batch, and this returns once the batch is
    /// committed (or failed).
    pub(crate) async fn commit(
        self: &Arc<Self>,
        mut w: Held,
        learnt: Vec<(usize, String, i64)>,
    ) -> Result<()> {
        if let Err(e) = w.run("RELEASE job").await {
            w.fail(&e).await;
            return Err(e);
        }
        w.released += 1;
        w.learnt.extend(learnt);
        let mine = w.batch;
        let due = self.waiting.load(Ordering::SeqCst) == 0
            || w.released >= MAX_JOBS
            || w.started.elapsed() >= MAX_AGE;
        if due {
            return w.finish().await;
        }
        drop(w);
        // In a task of its own: the batch gets committed even if this request is abandoned.
        let gate = Arc::clone(self);
        let second = tokio::spawn(async move {
            let mut w = gate.lock().await;
            w.settle().await;
            if w.finished < mine {
                w.finish().await
            } else {
                w.outcome(mine)
            }
        });
        match second.await {
            Ok(outcome) => outcome,
            Err(e) => Err(StoreError::Batch {
                failure: BatchFailure::Other,
                message: format!("commit task failed: {e}"),
            }),
        }
    }

    /// Ends a job by undoing it; the rest of the batch is unaffected.
    pub(crate) async fn rollback(mut w: Held) -> Result<()> {
        w.undo_job().await
    }

    /// Marks a job dropped inside its savepoint, and makes sure it is undone even if no
    /// other job comes.
    pub(crate) fn abandon(self: &Arc<Self>, mut w: Held) {
        w.abandoned = true;
        drop(w);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let gate = Arc::clone(self);
            runtime.spawn(async move {
                gate.lock().await.settle().await;
            });
        }
    }
}

impl Writer {
    /// The connection, for the job holding the gate.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    async fn run(&mut self, sql: &str) -> Result<()> {
        match self.conn.execute(sql).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = StoreError::Db(e);
                if e.is_unavailable() {
                    self.broken = true;
                }
                Err(e)
            }
        }
    }

    async fn reconnect(&mut self) -> Result<()> {
        let mut conn = self.connect.connect().await?;
        crate::configure_sqlite(&mut conn, self.busy_ms).await?;
        self.conn = conn;
        self.broken = false;
        self.open = false;
        Ok(())
    }

    /// Undoes a job abandoned inside its savepoint; an open batch nobody released into is
    /// closed, so the write lock is not held for nothing.
    async fn settle(&mut self) {
        if self.abandoned {
            self.abandoned = false;
            if let Err(e) = self.undo_job().await {
                tracing::warn!(error = %e, "could not undo an abandoned write");
            }
        }
    }

    async fn undo_job(&mut self) -> Result<()> {
        if !self.open {
            return Ok(());
        }
        let undone = match self.run("ROLLBACK TO job").await {
            Ok(()) => self.run("RELEASE job").await,
            Err(e) => Err(e),
        };
        if let Err(e) = undone {
            // SQLite ended the whole transaction by itself (a full disk does): the batch
            // is lost.
            self.fail(&e).await;
            return Err(e);
        }
        if self.released == 0 {
            self.open = false;
            self.finished = self.batch;
            self.run("ROLLBACK").await?;
        }
        Ok(())
    }

    async fn finish(&mut self) -> Result<()> {
        match self.run("COMMIT").await {
            Ok(()) => {
                self.open = false;
                self.finished = self.batch;
                self.dictionaries.publish(std::mem::take(&mut self.learnt));
                Ok(())
            }
            Err(e) => {
                self.fail(&e).await;
                Err(e)
            }
        }
    }

    /// Ends the open batch as failed: every job of it learns so.
    async fn fail(&mut self, error: &StoreError) {
        if !self.open {
            return;
        }
        self.open = false;
        self.finished = self.batch;
        self.learnt.clear();
        if self.failures.len() == REMEMBERED_FAILURES {
            self.failures.pop_front();
        }
        self.failures
            .push_back((self.batch, BatchFailure::of(error), error.to_string()));
        // SQLite may already have ended it; a failing ROLLBACK then changes nothing.
        let _ = self.conn.execute("ROLLBACK").await;
    }

    fn outcome(&self, batch: u64) -> Result<()> {
        match self.failures.iter().find(|(b, _, _)| *b == batch) {
            Some((_, failure, message)) => Err(StoreError::Batch {
                failure: *failure,
                message: message.clone(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreOptions};

    #[tokio::test]
    async fn concurrent_transactions_share_commits_and_an_abandoned_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("batch.db").display());
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..20 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                tx.insert_host(&format!("pc{i:02}-2024-01-01-00-00-00"))
                    .await
                    .unwrap();
                if i == 7 {
                    drop(tx);
                } else {
                    tx.commit().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(store.count_hosts().await.unwrap(), 19);
        assert!(store
            .find_host_id("pc07-2024-01-01-00-00-00")
            .await
            .unwrap()
            .is_none());
        let gate = store.writer.as_ref().unwrap();
        let batches = gate.writer.lock().await.finished;
        assert!(batches < 19, "{batches} batches for 19 transactions");
    }
}
