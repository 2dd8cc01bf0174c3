//! Keeping the software counts fresh enough for the pages that read them (older than
//! `[software] counts_max_age_secs`, counted again in the background; see `app/refresh`).
//! Counting takes about half a minute at 5M software rows.

use crate::app::refresh::{self, Cached};
use crate::app::{AppError, AppState};

/// Makes the counts fresh enough to show; returns when they were counted (`None`: never
/// yet, a count is running).
pub async fn ensure_fresh(state: &AppState) -> Result<Option<i64>, AppError> {
    refresh::ensure_fresh(state, Cached::SoftwareCounts).await
}
