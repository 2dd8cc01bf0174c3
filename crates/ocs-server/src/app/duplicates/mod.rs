//! Candidate duplicates for review: how many sets each mode finds, and a mode's sets with the
//! compared values of their computers side by side. Request text is checked here.

pub mod blacklists;
pub mod merge;

use ocs_storage::duplicates::candidates::{
    CandidateComputer, CandidateCount, CandidateSet, DuplicateMode,
};

use crate::app::refresh::{self, Cached};
use crate::app::{AppError, AppState};

/// Sets per page unless asked otherwise.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// The most sets a page may hold.
pub const MAX_PER_PAGE: u32 = 200;

fn bad(key: &'static str) -> AppError {
    AppError::bad_request("E_BAD_DUPLICATES_QUERY", key)
}

/// A mode from a request (`None`: the first one, hostname).
pub fn mode_param(mode: Option<&str>) -> Result<DuplicateMode, AppError> {
    match mode {
        None | Some("") => Ok(DuplicateMode::Hostname),
        Some(m) => m.parse().map_err(|_| bad("duplicates.bad_mode")),
    }
}

/// A page number and size from a request.
pub fn page_param(page: Option<&str>, per_page: Option<&str>) -> Result<(u32, u32), AppError> {
    crate::app::page_request(page, per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)
        .map(|p| (p.number, p.size))
        .ok_or_else(|| bad("duplicates.bad_page"))
}

/// Sets and computers found by every mode, in the page's order; `known` is a mode already
/// counted (the one whose page is shown), not counted again.
pub async fn counts(
    state: &AppState,
    known: Option<(DuplicateMode, CandidateCount)>,
) -> Result<Vec<(DuplicateMode, CandidateCount)>, AppError> {
    let mut counts = Vec::with_capacity(DuplicateMode::ALL.len());
    for mode in DuplicateMode::ALL {
        let count = match known {
            Some((m, count)) if m == mode => count,
            _ => state.store.duplicate_count(mode).await?,
        };
        counts.push((mode, count));
    }
    Ok(counts)
}

/// A page of a mode's sets, with their computers.
#[derive(Debug, Clone)]
pub struct Candidates {
    /// The mode.
    pub mode: DuplicateMode,
    /// Its sets in all.
    pub count: CandidateCount,
    /// 1-based page.
    pub page: u32,
    /// Sets per page.
    pub per_page: u32,
    /// The page's sets, each with its computers (in the set's order).
    pub sets: Vec<(CandidateSet, Vec<CandidateComputer>)>,
    /// When the fleet was last searched (`None`: being searched for the first time).
    pub found_at: Option<i64>,
}

/// A page of a mode's candidate sets.
pub async fn candidates(
    state: &AppState,
    mode: DuplicateMode,
    (page, per_page): (u32, u32),
) -> Result<Candidates, AppError> {
    let found_at = refresh::ensure_fresh(state, Cached::DuplicateCandidates).await?;
    let count = state.store.duplicate_count(mode).await?;
    let offset = i64::from(page - 1) * i64::from(per_page);
    let sets = state
        .store
        .duplicate_sets(mode, i64::from(per_page), offset)
        .await?;
    let mut ids: Vec<i64> = sets
        .iter()
        .flat_map(|s| s.computers.iter().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let computers = state.store.candidate_computers(&ids).await?;
    let sets = sets
        .into_iter()
        .map(|set| {
            let members = set
                .computers
                .iter()
                .filter_map(|id| computers.iter().find(|c| c.id == *id).cloned())
                .collect();
            (set, members)
        })
        .collect();
    Ok(Candidates {
        mode,
        count,
        page,
        per_page,
        sets,
        found_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_pages_are_checked() {
        assert_eq!(mode_param(None).unwrap(), DuplicateMode::Hostname);
        assert_eq!(
            mode_param(Some("hostname_mac")).unwrap(),
            DuplicateMode::HostnameMac
        );
        assert_eq!(
            mode_param(Some("name')--")).unwrap_err().code(),
            "E_BAD_DUPLICATES_QUERY"
        );
        assert_eq!(page_param(None, None).unwrap(), (1, DEFAULT_PER_PAGE));
        assert!(page_param(Some("0"), None).is_err());
        assert!(page_param(None, Some("201")).is_err());
        assert!(page_param(Some("x"), None).is_err());
    }
}
