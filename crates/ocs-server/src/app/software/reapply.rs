//! Re-applying the category rules to the whole fleet, as a background job: every installed
//! (name, publisher, version) triple, a range of names at a time, gets the category the
//! rules (or `DEFAULT_CATEGORY`) give it; links an administrator chose stay. Progress is
//! written after each range, so any instance's console shows it; a change arriving while it
//! runs makes it start over when done, so the newest rules are applied in full.

use std::collections::HashMap;

use ocs_storage::jobs::{JobRecord, JobStart};
use ocs_storage::software_categories::{Triple, NEW_CATEGORY};

use super::rules::{categorise, compile, OsFamily};
use crate::app::options::Options;
use crate::app::{AppError, AppState};

/// The job's kind in `background_jobs`.
pub const KIND: &str = "software_categories";
/// Seconds without progress after which a run is taken as dead and replaced.
const STALE_AFTER_SECS: i64 = 300;
/// Name IDs read per step.
const NAMES_PER_STEP: i64 = 500;

/// Starts a re-application (or tells the running one to start over).
pub async fn start(state: &AppState, by: &str) -> Result<JobStart, AppError> {
    let started = state
        .store
        .start_job(KIND, by, state.clock.now(), STALE_AFTER_SECS)
        .await?;
    if let JobStart::Started(id) = started {
        tracing::info!(
            job = id,
            by,
            "re-applying software category rules to the fleet"
        );
        let state = state.clone();
        tokio::spawn(async move { run(state, id).await });
    }
    Ok(started)
}

/// The newest run, for the console.
pub async fn latest(state: &AppState) -> Result<Option<JobRecord>, AppError> {
    Ok(state.store.latest_job(KIND).await?)
}

async fn run(state: AppState, id: i64) {
    loop {
        let outcome = pass(&state, id).await;
        let now = state.clock.now();
        match outcome {
            Ok(Some(changed)) => match state.store.finish_job(id, now).await {
                Ok(true) => continue,
                Ok(false) => {
                    tracing::info!(job = id, changed, "software category rules re-applied");
                    return;
                }
                Err(e) => {
                    tracing::error!(job = id, error = %e, "could not record the end of the job");
                    return;
                }
            },
            Ok(None) => {
                tracing::warn!(job = id, "re-application taken over by another run");
                return;
            }
            Err(e) => {
                tracing::error!(job = id, error = %e, "re-applying software category rules failed");
                if let Err(e) = state.store.fail_job(id, &e.to_string(), now).await {
                    tracing::error!(job = id, error = %e, "could not record the job's failure");
                }
                return;
            }
        }
    }
}

/// One pass over the fleet: `Some(links changed)`, or `None` when the run was taken over.
async fn pass(state: &AppState, id: i64) -> Result<Option<i64>, AppError> {
    let options = Options::load(&state.store).await?;
    let categories = state.store.software_categories().await?;
    let systems: HashMap<i64, String> = categories.iter().map(|c| (c.id, c.os.clone())).collect();
    let default = Some(options.int("DEFAULT_CATEGORY"))
        .filter(|d| *d != 0 && *d != NEW_CATEGORY && systems.contains_key(d));
    let rules = compile(&state.store.software_category_rules().await?, &systems);
    let total = state.store.max_software_name_id().await?;
    let (mut after, mut changed) = (0, 0_i64);
    while after < total {
        let upto = (after + NAMES_PER_STEP).min(total);
        let decisions: Vec<(Triple, Option<i64>)> = state
            .store
            .triples_in_name_range(after, upto)
            .await?
            .into_iter()
            .filter(|t| !t.manual)
            .filter_map(|t| {
                let os = OsFamily::of(t.osname.as_deref(), t.useragent.as_deref());
                let want = categorise(&rules, &t.name, &t.publisher, &t.version, os)
                    .or(default)
                    .filter(|c| *c != NEW_CATEGORY);
                (want != t.category_id).then_some((t.triple, want))
            })
            .collect();
        if !decisions.is_empty() {
            let n = state.store.apply_rule_links(&decisions).await?;
            changed += i64::try_from(n).unwrap_or(i64::MAX);
        }
        after = upto;
        let alive = state
            .store
            .job_progress(id, after, total, changed, state.clock.now())
            .await?;
        if !alive {
            return Ok(None);
        }
    }
    Ok(Some(changed))
}
