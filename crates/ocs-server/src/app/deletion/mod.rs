//! Deleting computers: the one deletion path of the console, the command line, the API, the
//! mass actions and the inactive computers cleaning ([`delete_computers`]), and the log of
//! deleted computers. Who may delete is a type: a [`Deleter`] is made only from an
//! administrator ([`Admin`]), a write-scoped API token ([`ApiWriter`]), the command line or
//! the scheduled cleaning.
//!
//! A deletion is final: every row of the computer goes (storage `deletion`), a line is added
//! to the log, and with TRACE_DELETED a `deleted_equiv` row without an equivalent. The
//! computer's PROLOG contact records still queued in this process are dropped, so that a
//! contact made just before the deletion cannot open a session for it afterwards; a later
//! contact of the same agent is that of a new computer, which its next inventory creates.

pub mod inactive;

use ocs_storage::{DeletedRecord, Deletion, HostId, HostSummary, Page};

use crate::app::api::ApiWriter;
use crate::app::auth::Admin;
use crate::app::options::Options;
use crate::app::{AppError, AppState};

pub use inactive::{clean_inactive, inactive_preview, spawn_cleaner, InactivePreview};

/// Who deletes: recorded in the log as `deleted_by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleter {
    name: String,
}

impl Deleter {
    /// A console administrator (their login).
    pub fn admin(admin: &Admin<'_>) -> Deleter {
        Deleter {
            name: admin.viewer.login.clone(),
        }
    }

    /// An API client with a write-scoped token (`token:<name>`).
    pub fn api(writer: &ApiWriter) -> Deleter {
        Deleter {
            name: format!("token:{}", writer.token_name),
        }
    }

    /// A web-service account (`ws:<login>`), by the SOAP service's `delete_computers_by_id_V1`.
    pub fn web_service(login: &str) -> Deleter {
        Deleter {
            name: format!("ws:{login}"),
        }
    }

    /// The operator at the command line, who has the database in hand anyway (`cli`, or
    /// `cli:<user>` when the environment names the user).
    pub fn cli(user: Option<&str>) -> Deleter {
        let name = match user.map(str::trim).filter(|u| !u.is_empty()) {
            Some(user) => format!("cli:{}", user.chars().take(64).collect::<String>()),
            None => "cli".to_owned(),
        };
        Deleter { name }
    }

    /// The scheduled cleaning of inactive computers (INACTIVE_CLEAN_DAYS).
    pub(crate) fn scheduler() -> Deleter {
        Deleter {
            name: "scheduler".to_owned(),
        }
    }

    /// The name recorded in the log.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl From<&Admin<'_>> for Deleter {
    fn from(admin: &Admin<'_>) -> Deleter {
        Deleter::admin(admin)
    }
}

impl From<&ApiWriter> for Deleter {
    fn from(writer: &ApiWriter) -> Deleter {
        Deleter::api(writer)
    }
}

/// Why computers are deleted: recorded in the log as `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionReason {
    /// Chosen by someone (a computer page, a mass action, the API or the command line).
    Manual,
    /// Not seen for this many days (the cleaning). Only computers still unseen when their
    /// turn comes are deleted.
    Inactive {
        /// The cleaning's threshold.
        days: i64,
    },
}

impl DeletionReason {
    /// The stored text: `manual`, or `inactive:<days>`.
    pub fn code(self) -> String {
        match self {
            DeletionReason::Manual => "manual".to_owned(),
            DeletionReason::Inactive { days } => format!("inactive:{days}"),
        }
    }

    /// Reads a stored text back (`None` for anything else, say a later kind).
    pub fn parse(code: &str) -> Option<DeletionReason> {
        match code {
            "manual" => Some(DeletionReason::Manual),
            _ => code
                .strip_prefix("inactive:")
                .and_then(|d| d.parse().ok())
                .map(|days| DeletionReason::Inactive { days }),
        }
    }
}

const DAY: i64 = 86_400;

/// Deletes computers: every row of each, in transactions of [`ocs_storage::DELETE_CHUNK`]
/// computers; each deletion is logged (and traced in `deleted_equiv` with TRACE_DELETED).
/// IDs that name no computer (any more) are skipped; returns how many were deleted.
pub async fn delete_computers(
    state: &AppState,
    by: &Deleter,
    ids: &[HostId],
    reason: DeletionReason,
) -> Result<u64, AppError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let options = Options::load(&state.store).await?;
    let now = state.clock.now();
    let how = Deletion {
        by: by.name.clone(),
        reason: reason.code(),
        now,
        trace: options.on("TRACE_DELETED"),
        inactive_before: match reason {
            DeletionReason::Manual => None,
            DeletionReason::Inactive { days } => Some(now - days * DAY),
        },
    };
    let deleted = state.store.delete_computers(ids, &how).await?;
    let deviceids: Vec<&str> = deleted.iter().map(|d| d.deviceid.as_str()).collect();
    state.contacts.discard_devices(&deviceids);
    for d in &deleted {
        tracing::debug!(
            computer = d.id.0,
            deviceid = d.deviceid,
            by = by.name,
            "computer deleted"
        );
    }
    let count = u64::try_from(deleted.len()).unwrap_or(u64::MAX);
    if count > 0 {
        tracing::info!(
            count,
            by = by.name,
            reason = how.reason,
            traced = how.trace,
            "computers deleted"
        );
    }
    Ok(count)
}

/// Deletes one computer by ID; 404 if there is none.
pub async fn delete_computer(state: &AppState, by: &Deleter, id: i64) -> Result<(), AppError> {
    match delete_computers(state, by, &[HostId(id)], DeletionReason::Manual).await? {
        0 => Err(AppError::NotFound(format!("computer {id}"))),
        _ => Ok(()),
    }
}

/// The computer a deletion is about to remove (for the confirmation step); 404 if none.
pub async fn deletion_target(state: &AppState, id: i64) -> Result<HostSummary, AppError> {
    Ok(state.store.get_host(HostId(id)).await?.summary)
}

/// Of these IDs, those that name no stored computer (for callers that must refuse them).
pub async fn unknown_computers(state: &AppState, ids: &[HostId]) -> Result<Vec<HostId>, AppError> {
    let found = state.store.existing_hosts(ids).await?;
    let mut unknown: Vec<HostId> = ids
        .iter()
        .filter(|id| !found.contains(id))
        .copied()
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    Ok(unknown)
}

/// Lines of the deleted computers log per page.
pub const LOG_PAGE_SIZE: u32 = 50;

/// A page of the deleted computers log.
#[derive(Debug)]
pub struct DeletedLog {
    /// Lines in all.
    pub total: i64,
    /// This page (1-based).
    pub page: u32,
    /// Number of pages.
    pub pages: u32,
    /// This page's lines, newest first.
    pub rows: Vec<DeletedRecord>,
}

/// A page of the deleted computers log, newest first.
pub async fn deleted_log(state: &AppState, page: u32) -> Result<DeletedLog, AppError> {
    if page == 0 || page > 1_000_000 {
        return Err(AppError::bad_request(
            "E_BAD_PARAM",
            "page is between 1 and 1000000",
        ));
    }
    let (total, rows) = state
        .store
        .list_deleted(Page {
            number: page,
            size: LOG_PAGE_SIZE,
        })
        .await?;
    let size = i64::from(LOG_PAGE_SIZE);
    let pages = u32::try_from(((total + size - 1) / size).max(1)).unwrap_or(u32::MAX);
    Ok(DeletedLog {
        total,
        page,
        pages,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip() {
        for reason in [
            DeletionReason::Manual,
            DeletionReason::Inactive { days: 90 },
        ] {
            assert_eq!(DeletionReason::parse(&reason.code()), Some(reason));
        }
        assert_eq!(DeletionReason::parse("inactive:x"), None);
        assert_eq!(DeletionReason::parse("other"), None);
    }

    #[test]
    fn deleters_are_named_for_the_log() {
        let writer = ApiWriter {
            token_name: "ci".into(),
        };
        assert_eq!(Deleter::from(&writer).name(), "token:ci");
        assert_eq!(Deleter::cli(Some("root")).name(), "cli:root");
        assert_eq!(Deleter::cli(Some(" ")).name(), "cli");
        assert_eq!(Deleter::cli(None).name(), "cli");
        assert_eq!(Deleter::scheduler().name(), "scheduler");
    }
}
