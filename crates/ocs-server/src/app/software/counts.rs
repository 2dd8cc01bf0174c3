//! Keeping the software counts fresh enough for the pages that read them. Older than
//! `[software] counts_max_age_secs`, a background job counts again while the pages show the
//! previous counts (one job at a time across instances, through `background_jobs`). Never
//! counted, a fleet small enough is counted before answering, a larger one (half a minute
//! at 5M software rows) in the background while the pages say so; a maximum age of 0
//! counts before every answer.

use ocs_storage::jobs::JobStart;

use crate::app::{AppError, AppState};

/// The job's kind in `background_jobs`.
pub const KIND: &str = "software_counts";
/// Seconds without progress after which a counting run is taken as dead.
const STALE_AFTER_SECS: i64 = 600;
/// Largest fleet counted while a page waits (about a second).
const COUNT_WHILE_WAITING: i64 = 10_000;

/// Makes the counts fresh enough to show; returns when they were counted (`None`: never
/// yet, a count is running).
pub async fn ensure_fresh(state: &AppState) -> Result<Option<i64>, AppError> {
    let max_age = i64::try_from(state.config.software.counts_max_age_secs).unwrap_or(i64::MAX);
    let now = state.clock.now();
    let previous = state.store.software_counts_refreshed_at().await?;
    match previous {
        Some(at) if max_age > 0 && now.saturating_sub(at) <= max_age => Ok(Some(at)),
        Some(at) if max_age > 0 => {
            start_background(state).await?;
            Ok(Some(at))
        }
        None if max_age > 0 && state.store.computer_count().await? > COUNT_WHILE_WAITING => {
            start_background(state).await?;
            Ok(None)
        }
        _ => match state.store.refresh_software_counts(now).await {
            Ok(_) => Ok(Some(now)),
            // A failed recount must not take the pages down while earlier counts exist.
            Err(e) if previous.is_some() => {
                tracing::error!(error = %e, "counting the software failed; showing the previous counts");
                Ok(previous)
            }
            Err(e) => Err(e.into()),
        },
    }
}

async fn start_background(state: &AppState) -> Result<(), AppError> {
    let started = state
        .store
        .start_job_if_idle(KIND, "", state.clock.now(), STALE_AFTER_SECS)
        .await?;
    if let JobStart::Started(id) = started {
        let state = state.clone();
        tokio::spawn(async move { run(state, id).await });
    }
    Ok(())
}

async fn run(state: AppState, id: i64) {
    loop {
        let counted = state.store.refresh_software_counts(state.clock.now()).await;
        let now = state.clock.now();
        match counted {
            Ok(c) => match state.store.finish_job(id, now).await {
                Ok(true) => continue,
                Ok(false) => {
                    tracing::info!(
                        job = id,
                        triples = c.triples,
                        names = c.names,
                        "software counted"
                    );
                    return;
                }
                Err(e) => {
                    tracing::error!(job = id, error = %e, "could not record the end of the counting");
                    return;
                }
            },
            Err(e) => {
                tracing::error!(job = id, error = %e, "counting the software failed");
                if let Err(e) = state.store.fail_job(id, &e.to_string(), now).await {
                    tracing::error!(job = id, error = %e, "could not record the counting's failure");
                }
                return;
            }
        }
    }
}
