//! Background jobs (`background_jobs`): long work started from the console, with its
//! progress in the database so that every instance's console shows it.
//!
//! One job of a kind runs at a time, across every instance. A change that needs the job while
//! it runs does not start a second one: it sets `again` on the running one, which starts over
//! when it reaches its end, so the last change is always applied in full. A running job that
//! showed no sign of life (its `updated_at`) for longer than the caller's staleness delay is
//! marked failed and replaced (its server may have stopped).

use crate::{Backend, Result, Store};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Working.
    Running,
    /// Reached its end.
    Done,
    /// Stopped on an error (its message says which).
    Failed,
}

impl JobState {
    fn parse(text: &str) -> JobState {
        match text {
            "running" => JobState::Running,
            "done" => JobState::Done,
            // Anything unknown cannot be running: failed is the safe reading.
            _ => JobState::Failed,
        }
    }
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// Row ID.
    pub id: i64,
    /// What it does.
    pub kind: String,
    /// Where it stands.
    pub state: JobState,
    /// Units of work in all.
    pub total: i64,
    /// Units done.
    pub done: i64,
    /// Rows changed so far.
    pub changed: i64,
    /// Whether it will start over when done.
    pub again: bool,
    /// Unix time it started.
    pub started_at: i64,
    /// Unix time of its latest progress.
    pub updated_at: i64,
    /// Unix time it ended.
    pub finished_at: Option<i64>,
    /// Login of who started it.
    pub started_by: String,
    /// Why it failed (empty otherwise).
    pub error: String,
}

/// What asking for a job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStart {
    /// A new run with this ID: the caller runs it.
    Started(i64),
    /// A run was already going (with `start_job`, it will start over when done).
    Queued(i64),
}

/// The error stored on a job taken over.
pub const ABANDONED_JOB: &str = "abandoned: no progress for too long (its server may have stopped)";

type JobRow = (
    i64,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    String,
    String,
);

const SELECT: &str = "SELECT id, kind, state, total, done, changed, again, started_at, \
                      updated_at, finished_at, started_by, error FROM background_jobs";

fn record(r: JobRow) -> JobRecord {
    JobRecord {
        id: r.0,
        kind: r.1,
        state: JobState::parse(&r.2),
        total: r.3,
        done: r.4,
        changed: r.5,
        again: r.6 != 0,
        started_at: r.7,
        updated_at: r.8,
        finished_at: r.9,
        started_by: r.10,
        error: r.11,
    }
}

impl Store {
    /// Asks for a run of a job of `kind`: a new one, or the running one told to start over.
    pub async fn start_job(
        &self,
        kind: &str,
        started_by: &str,
        now: i64,
        stale_after_secs: i64,
    ) -> Result<JobStart> {
        self.ask_for_job(kind, started_by, now, stale_after_secs, true)
            .await
    }

    /// Asks for a run of a job of `kind` unless one is running (which is left as it is): for
    /// jobs whose running run already gives what is asked.
    pub async fn start_job_if_idle(
        &self,
        kind: &str,
        started_by: &str,
        now: i64,
        stale_after_secs: i64,
    ) -> Result<JobStart> {
        self.ask_for_job(kind, started_by, now, stale_after_secs, false)
            .await
    }

    async fn ask_for_job(
        &self,
        kind: &str,
        started_by: &str,
        now: i64,
        stale_after_secs: i64,
        restart_running: bool,
    ) -> Result<JobStart> {
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            // Two instances asking at once must see each other's run.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("background_job {kind}"))
                .execute(tx.conn())
                .await?;
        }
        let running: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, updated_at FROM background_jobs WHERE kind = $1 AND state = 'running'",
        )
        .bind(kind)
        .fetch_all(tx.conn())
        .await?;
        for (id, alive) in running {
            if now - alive < stale_after_secs {
                if restart_running {
                    sqlx::query("UPDATE background_jobs SET again = 1 WHERE id = $1")
                        .bind(id)
                        .execute(tx.conn())
                        .await?;
                }
                tx.commit().await?;
                return Ok(JobStart::Queued(id));
            }
            sqlx::query(
                "UPDATE background_jobs SET state = 'failed', finished_at = $1, error = $2 \
                 WHERE id = $3",
            )
            .bind(now)
            .bind(ABANDONED_JOB)
            .bind(id)
            .execute(tx.conn())
            .await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO background_jobs (kind, state, started_at, updated_at, started_by) \
             VALUES ($1, 'running', $2, $2, $3) RETURNING id",
        )
        .bind(kind)
        .bind(now)
        .bind(started_by)
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(JobStart::Started(id))
    }

    /// Records a running job's progress. `false` when it is no longer running (taken over as
    /// stale): it should stop.
    pub async fn job_progress(
        &self,
        id: i64,
        done: i64,
        total: i64,
        changed: i64,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE background_jobs SET done = $1, total = $2, changed = $3, updated_at = $4 \
             WHERE id = $5 AND state = 'running'",
        )
        .bind(done)
        .bind(total)
        .bind(changed)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Ends a run that reached its end; `true` when it was asked to start over meanwhile (it
    /// is then running again from zero and the caller goes on).
    pub async fn finish_job(&self, id: i64, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let again: Option<i64> = sqlx::query_scalar(
            "SELECT again FROM background_jobs WHERE id = $1 AND state = 'running'",
        )
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        let restart = again == Some(1);
        if restart {
            sqlx::query(
                "UPDATE background_jobs SET again = 0, done = 0, updated_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        } else {
            sqlx::query(
                "UPDATE background_jobs SET state = 'done', finished_at = $1, updated_at = $1 \
                 WHERE id = $2 AND state = 'running'",
            )
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;
        Ok(restart)
    }

    /// Ends a run on an error.
    pub async fn fail_job(&self, id: i64, error: &str, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE background_jobs SET state = 'failed', finished_at = $1, updated_at = $1, \
             error = $2 WHERE id = $3 AND state = 'running'",
        )
        .bind(now)
        .bind(error)
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest run of a kind.
    pub async fn latest_job(&self, kind: &str) -> Result<Option<JobRecord>> {
        let row: Option<JobRow> = sqlx::query_as(&format!(
            "{SELECT} WHERE kind = $1 ORDER BY id DESC LIMIT 1"
        ))
        .bind(kind)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    #[tokio::test]
    async fn a_second_request_queues_a_restart_and_a_stale_run_is_replaced() {
        let (store, _dir) = store().await;
        let JobStart::Started(id) = store.start_job("k", "admin", 100, 300).await.unwrap() else {
            panic!("nothing was running");
        };
        assert_eq!(
            store.start_job("k", "other", 110, 300).await.unwrap(),
            JobStart::Queued(id)
        );
        assert_eq!(
            store
                .start_job_if_idle("k", "other", 115, 300)
                .await
                .unwrap(),
            JobStart::Queued(id)
        );
        assert!(store.job_progress(id, 5, 10, 2, 120).await.unwrap());
        assert!(store.finish_job(id, 130).await.unwrap(), "asked again");
        let job = store.latest_job("k").await.unwrap().unwrap();
        assert_eq!(
            (job.state, job.done, job.again),
            (JobState::Running, 0, false)
        );
        assert!(!store.finish_job(id, 140).await.unwrap());
        let job = store.latest_job("k").await.unwrap().unwrap();
        assert_eq!((job.state, job.finished_at), (JobState::Done, Some(140)));

        // A run that stopped making progress is failed and a new one starts.
        let JobStart::Started(dead) = store.start_job("k", "admin", 200, 300).await.unwrap() else {
            panic!("the last run was done");
        };
        let JobStart::Started(fresh) = store.start_job("k", "admin", 600, 300).await.unwrap()
        else {
            panic!("the running one was stale");
        };
        assert_ne!(dead, fresh);
        assert!(
            !store.job_progress(dead, 1, 1, 0, 601).await.unwrap(),
            "it must stop"
        );
        assert_eq!(store.latest_job("k").await.unwrap().unwrap().id, fresh);
        store.fail_job(fresh, "disk full", 700).await.unwrap();
        let job = store.latest_job("k").await.unwrap().unwrap();
        assert_eq!(
            (job.state, job.error.as_str()),
            (JobState::Failed, "disk full")
        );
        assert!(store.latest_job("other kind").await.unwrap().is_none());
    }
}
