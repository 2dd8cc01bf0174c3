//! Fleet-wide figures too slow to compute at every page view (the software counts, the
//! duplicates' candidate sets), kept fresh enough for the pages that read them. Older than
//! their maximum age, a background job computes them again while the pages show the previous
//! ones (one job at a time across instances, through `background_jobs`). Never computed, a
//! fleet small enough is computed before answering, a larger one in the background while
//! the pages say so; a maximum age of 0 computes before every answer.

use ocs_storage::jobs::JobStart;

use crate::app::{AppError, AppState};

/// Seconds without progress after which a run is taken as dead.
const STALE_AFTER_SECS: i64 = 600;
/// Largest fleet computed while a page waits (about a second).
const COMPUTE_WHILE_WAITING: i64 = 10_000;

/// A figure kept this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cached {
    /// Computers per software (`ocs-storage/software_counts`).
    SoftwareCounts,
    /// The duplicates page's candidate sets (`ocs-storage/duplicates/candidates`).
    DuplicateCandidates,
}

impl Cached {
    /// The job's kind in `background_jobs`.
    pub fn kind(self) -> &'static str {
        match self {
            Cached::SoftwareCounts => "software_counts",
            Cached::DuplicateCandidates => "duplicate_candidates",
        }
    }

    fn max_age(self, state: &AppState) -> i64 {
        let secs = match self {
            Cached::SoftwareCounts => state.config.software.counts_max_age_secs,
            Cached::DuplicateCandidates => state.config.duplicates.candidates_max_age_secs,
        };
        i64::try_from(secs).unwrap_or(i64::MAX)
    }

    async fn computed_at(self, state: &AppState) -> Result<Option<i64>, AppError> {
        Ok(match self {
            Cached::SoftwareCounts => state.store.software_counts_refreshed_at().await?,
            Cached::DuplicateCandidates => state.store.duplicate_candidates_refreshed_at().await?,
        })
    }

    /// Computes it; returns what was found, for the log.
    async fn compute(self, state: &AppState, now: i64) -> Result<String, AppError> {
        Ok(match self {
            Cached::SoftwareCounts => {
                let c = state.store.refresh_software_counts(now).await?;
                format!("{} versions, {} names", c.triples, c.names)
            }
            Cached::DuplicateCandidates => {
                let c = state.store.refresh_duplicate_candidates(now).await?;
                format!("{} computers in candidate sets (all modes)", c.rows)
            }
        })
    }
}

/// Makes the figures fresh enough to show; returns when they were computed (`None`: never
/// yet, a run is going on).
pub async fn ensure_fresh(state: &AppState, cached: Cached) -> Result<Option<i64>, AppError> {
    let max_age = cached.max_age(state);
    let now = state.clock.now();
    let previous = cached.computed_at(state).await?;
    match previous {
        Some(at) if max_age > 0 && now.saturating_sub(at) <= max_age => Ok(Some(at)),
        Some(at) if max_age > 0 => {
            start_background(state, cached).await?;
            Ok(Some(at))
        }
        None if max_age > 0 && state.store.computer_count().await? > COMPUTE_WHILE_WAITING => {
            start_background(state, cached).await?;
            Ok(None)
        }
        _ => match cached.compute(state, now).await {
            Ok(_) => Ok(Some(now)),
            // A failed run must not take the pages down while earlier figures exist.
            Err(e) if previous.is_some() => {
                tracing::error!(kind = cached.kind(), error = %e, "computing failed; showing the previous figures");
                Ok(previous)
            }
            Err(e) => Err(e),
        },
    }
}

/// After a change that makes them wrong (an undone merge, a blacklist edit): computed again
/// now, before answering on a fleet small enough, in the background otherwise.
pub async fn invalidate(state: &AppState, cached: Cached) -> Result<(), AppError> {
    if state.store.computer_count().await? > COMPUTE_WHILE_WAITING {
        return start_background(state, cached).await;
    }
    cached.compute(state, state.clock.now()).await.map(drop)
}

/// Starts computing them again in the background, unless a run is going on.
async fn start_background(state: &AppState, cached: Cached) -> Result<(), AppError> {
    let started = state
        .store
        .start_job_if_idle(cached.kind(), "", state.clock.now(), STALE_AFTER_SECS)
        .await?;
    if let JobStart::Started(id) = started {
        let state = state.clone();
        tokio::spawn(async move { run(state, cached, id).await });
    }
    Ok(())
}

async fn run(state: AppState, cached: Cached, id: i64) {
    let kind = cached.kind();
    loop {
        let computed = cached.compute(&state, state.clock.now()).await;
        let now = state.clock.now();
        match computed {
            Ok(found) => match state.store.finish_job(id, now).await {
                // Asked again while running: once more.
                Ok(true) => continue,
                Ok(false) => {
                    tracing::info!(job = id, kind, found = %found, "fleet figures computed");
                    return;
                }
                Err(e) => {
                    tracing::error!(job = id, kind, error = %e, "could not record the end of the run");
                    return;
                }
            },
            Err(e) => {
                tracing::error!(job = id, kind, error = %e, "computing fleet figures failed");
                if let Err(e) = state.store.fail_job(id, &e.to_string(), now).await {
                    tracing::error!(job = id, kind, error = %e, "could not record the run's failure");
                }
                return;
            }
        }
    }
}
