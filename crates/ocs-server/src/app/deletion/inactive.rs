//! Cleaning of inactive computers: those whose last contact (else last inventory) is older
//! than N days. On demand (console, with a preview first; command line, with `--dry-run`) and
//! on a schedule: with the option INACTIVE_CLEAN_DAYS above 0, every server instance checks
//! once at start and then hourly, and deletes what has gone quiet for that long.
//!
//! The cutoff is computed when the cleaning runs and checked again for each chunk as it is
//! deleted, so a computer that calls between the preview and the deletion is kept.

use std::time::Duration;

use ocs_storage::InactiveHost;

use super::{delete_computers, Deleter, DeletionReason, DAY};
use crate::app::options::Options;
use crate::app::{AppError, AppState};

/// Fewest and most days a cleaning accepts.
pub const DAYS_RANGE: (i64, i64) = (1, 3650);
/// Computers the preview names (the longest unseen).
pub const SAMPLE_SIZE: i64 = 10;
/// How often the scheduled cleaning checks.
pub const CHECK_EVERY: Duration = Duration::from_secs(3600);

/// What a cleaning would delete now.
#[derive(Debug)]
pub struct InactivePreview {
    /// The threshold.
    pub days: i64,
    /// Computers last seen before this (Unix seconds).
    pub cutoff: i64,
    /// How many.
    pub count: i64,
    /// The longest unseen of them.
    pub sample: Vec<InactiveHost>,
}

fn check_days(days: i64) -> Result<i64, AppError> {
    let (low, high) = DAYS_RANGE;
    if (low..=high).contains(&days) {
        Ok(days)
    } else {
        Err(AppError::bad_request(
            "E_BAD_DAYS",
            format!("the number of days is between {low} and {high}, not {days}"),
        ))
    }
}

/// How many computers have not been seen for `days` days, and a few of them.
pub async fn inactive_preview(state: &AppState, days: i64) -> Result<InactivePreview, AppError> {
    let days = check_days(days)?;
    let cutoff = state.clock.now() - days * DAY;
    let count = state.store.count_inactive(cutoff).await?;
    let sample = state.store.list_inactive(cutoff, SAMPLE_SIZE).await?;
    Ok(InactivePreview {
        days,
        cutoff,
        count,
        sample,
    })
}

/// Deletes the computers not seen for `days` days; returns how many were deleted.
pub async fn clean_inactive(state: &AppState, by: &Deleter, days: i64) -> Result<u64, AppError> {
    let days = check_days(days)?;
    let cutoff = state.clock.now() - days * DAY;
    let ids = state.store.inactive_ids(cutoff).await?;
    delete_computers(state, by, &ids, DeletionReason::Inactive { days }).await
}

/// One check of the scheduled cleaning: with INACTIVE_CLEAN_DAYS above 0, deletes what has
/// not been seen for that long. Returns how many were deleted.
pub async fn scheduled_clean(state: &AppState) -> Result<u64, AppError> {
    let days = Options::load(&state.store)
        .await?
        .int("INACTIVE_CLEAN_DAYS");
    if days <= 0 {
        return Ok(0);
    }
    let deleted = clean_inactive(state, &Deleter::scheduler(), days).await?;
    if deleted > 0 {
        tracing::info!(
            deleted,
            days,
            "scheduled cleaning deleted computers not seen for {days} days"
        );
    }
    Ok(deleted)
}

/// The scheduled cleaning: a check at start, then every [`CHECK_EVERY`].
pub fn spawn_cleaner(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = scheduled_clean(&state).await {
                tracing::warn!(error = %e, "scheduled cleaning of inactive computers failed; next try in an hour");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_bounded() {
        assert!(check_days(0).is_err());
        assert!(check_days(3651).is_err());
        assert_eq!(check_days(90).unwrap(), 90);
        assert_eq!(check_days(-1).unwrap_err().code(), "E_BAD_DAYS");
    }
}
