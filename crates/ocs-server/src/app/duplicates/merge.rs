//! Merging chosen duplicates by hand and undoing a merge. The most recent computer (last
//! inventory) is kept; the others are merged into it from the most recent to the oldest, so
//! that the oldest's administrative data are the ones kept, as the original does. Every merge
//! is logged with who made it and why, with what undoing it needs for `[duplicates]
//! undo_days`.

use ocs_storage::duplicates::candidates::DuplicateMode;
use ocs_storage::duplicates::merges::{MergeReason, MergeRecord, MergeRequest, UndoRefusal};
use ocs_storage::HostId;

use crate::app::api::ApiWriter;
use crate::app::auth::Admin;
use crate::app::options::Options;
use crate::app::refresh::{self, Cached};
use crate::app::{AppError, AppState};

/// Computers one merge may take.
pub const MAX_MERGED: usize = 50;
/// Merge log lines per page.
pub const LOG_PER_PAGE: u32 = 50;

const DAY: i64 = 86_400;

/// Who merges or undoes: recorded in the merge log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merger(String);

impl Merger {
    /// A console administrator.
    pub fn admin(admin: &Admin<'_>) -> Merger {
        Merger(admin.viewer.login.clone())
    }

    /// An API client with a write-scoped token.
    pub fn api(writer: &ApiWriter) -> Merger {
        Merger(format!("token:{}", writer.token_name))
    }
}

/// A merge made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// Its merge log ID.
    pub id: i64,
    /// The computer kept.
    pub kept: i64,
    /// The computers merged into it.
    pub merged: Vec<i64>,
}

fn bad(key: &'static str) -> AppError {
    AppError::bad_request("E_BAD_MERGE", key)
}

/// Merges the chosen computers into the most recent of them.
pub async fn merge(
    state: &AppState,
    by: &Merger,
    ids: &[i64],
    mode: Option<DuplicateMode>,
) -> Result<Merged, AppError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() < 2 {
        return Err(bad("duplicates.merge_too_few"));
    }
    if ids.len() > MAX_MERGED {
        return Err(bad("duplicates.merge_too_many"));
    }
    let mut computers = state.store.candidate_computers(&ids).await?;
    if computers.len() != ids.len() {
        let missing: Vec<String> = ids
            .iter()
            .filter(|id| !computers.iter().any(|c| c.id == **id))
            .map(i64::to_string)
            .collect();
        return Err(AppError::NotFound(format!(
            "no computer with ID {}",
            missing.join(", ")
        )));
    }
    // Most recent first; the kept one is the first, the oldest merged last.
    computers.sort_by_key(|c| std::cmp::Reverse((c.last_inventory.unwrap_or(0), c.id)));
    let kept = computers[0].id;
    let merged: Vec<i64> = computers[1..].iter().map(|c| c.id).collect();
    let options = Options::load(&state.store).await?;
    let now = state.clock.now();
    expire(state, now).await?;
    let request = MergeRequest {
        kept: HostId(kept),
        merged: merged.iter().copied().map(HostId).collect(),
        reason: MergeReason::Administrator,
        criteria: mode.map(|m| m.name().to_owned()).unwrap_or_default(),
        by: by.0.clone(),
        now,
        trace: options.on("TRACE_DELETED"),
        sent_checksum: None,
        keep_old_userid: false,
    };
    let Some(id) = state.store.merge_computers(&request).await? else {
        return Err(AppError::NotFound(
            "a computer of the merge was deleted or merged meanwhile".to_owned(),
        ));
    };
    tracing::info!(merge = id, kept, merged = ?merged, by = %by.0, "duplicates merged");
    Ok(Merged { id, kept, merged })
}

/// Snapshots past the undo period are dropped.
async fn expire(state: &AppState, now: i64) -> Result<(), AppError> {
    let days = i64::try_from(state.config.duplicates.undo_days).unwrap_or(i64::MAX / DAY);
    state
        .store
        .expire_merge_snapshots(now.saturating_sub(days.saturating_mul(DAY)))
        .await?;
    Ok(())
}

/// Undoes a merge; returns the computers put back (the kept one first).
pub async fn undo(state: &AppState, by: &Merger, id: i64) -> Result<Vec<i64>, AppError> {
    let now = state.clock.now();
    expire(state, now).await?;
    match state.store.undo_merge(id, &by.0, now).await? {
        Ok(restored) => {
            tracing::info!(merge = id, restored = ?restored, by = %by.0, "merge undone");
            // The computers put back are in no candidate set until they are searched again.
            refresh::invalidate(state, Cached::DuplicateCandidates).await?;
            Ok(restored)
        }
        Err(UndoRefusal::Unknown) => Err(AppError::NotFound(format!("no merge {id}"))),
        Err(UndoRefusal::AlreadyUndone) => Err(bad("duplicates.undo_done")),
        Err(UndoRefusal::Expired) => Err(bad("duplicates.undo_expired")),
        Err(UndoRefusal::DeviceIdInUse(_)) => Err(bad("duplicates.undo_deviceid")),
    }
}

/// A page of the merge log, newest first.
pub async fn log(state: &AppState, page: u32) -> Result<(i64, Vec<MergeRecord>), AppError> {
    let offset = i64::from(page.saturating_sub(1)) * i64::from(LOG_PER_PAGE);
    Ok(state
        .store
        .merge_log(i64::from(LOG_PER_PAGE), offset)
        .await?)
}
