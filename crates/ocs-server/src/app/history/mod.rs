//! Change history (beyond the original): `diff` turns what an inventory wrote into changes in
//! words; `record` keeps them in the inventory's transaction; this module reads them back as a
//! computer's timeline and the fleet's recent changes (console, API, CSV) and drops them past
//! `[history] retention_days`.

pub mod diff;
pub mod record;

use std::time::Duration;

use ocs_proto::catalogue::{HARDWARE, SECTIONS, SOFTWARES};
use ocs_storage::history::{ChangeAction, ChangeFilter, ChangePage, ChangeRecord};
use ocs_storage::{HostId, Page};

use crate::app::{csv_export, AppError, AppState};

/// Rows per page unless asked otherwise.
pub const DEFAULT_PER_PAGE: u32 = 50;
/// Most rows of one page.
pub const MAX_PER_PAGE: u32 = 500;
/// Most rows of one CSV export (the newest matching).
pub const MAX_CSV_ROWS: u32 = 50_000;
/// Longest label filter, in characters.
const MAX_TEXT_CHARS: usize = 255;
/// Longest period filter, in days.
const MAX_DAYS: i64 = 3650;
const DAY: i64 = 86_400;
/// How often old changes are dropped.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

fn bad(key: &'static str) -> AppError {
    AppError::bad_request("E_BAD_HISTORY_QUERY", key)
}

/// Every section a change can be in, in the order filters list them.
pub fn sections() -> Vec<&'static str> {
    let mut all = vec![
        "COMPUTER",
        "ACCOUNTINFO",
        HARDWARE.element,
        SOFTWARES.element,
    ];
    all.extend(
        SECTIONS
            .iter()
            .filter(|s| diff::tracked(s))
            .map(|s| s.element),
    );
    all
}

/// A change filter from a request's parameters: `section`, `action`, `days` (changes of the
/// last N days), `q` (label contains). Unknown values are refused, not ignored.
pub fn filter_params(
    state: &AppState,
    section: Option<&str>,
    action: Option<&str>,
    days: Option<&str>,
    label: Option<&str>,
) -> Result<ChangeFilter, AppError> {
    fn given(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|v| !v.is_empty() && *v != "all")
    }
    let section = match given(section) {
        None => None,
        Some(s) => Some(
            sections()
                .into_iter()
                .find(|k| k.eq_ignore_ascii_case(s))
                .ok_or_else(|| bad("history.bad_section"))?
                .to_owned(),
        ),
    };
    let action = match given(action) {
        None => None,
        Some(a) => Some(ChangeAction::parse(a).ok_or_else(|| bad("history.bad_action"))?),
    };
    let since = match given(days) {
        None => None,
        Some(d) => {
            let days = d
                .parse::<i64>()
                .ok()
                .filter(|d| (1..=MAX_DAYS).contains(d))
                .ok_or_else(|| bad("history.bad_days"))?;
            Some(state.clock.now() - days * DAY)
        }
    };
    let label = given(label).map(str::to_owned);
    if label
        .as_ref()
        .is_some_and(|l| l.chars().count() > MAX_TEXT_CHARS)
    {
        return Err(bad("history.bad_text"));
    }
    Ok(ChangeFilter {
        computer: None,
        section,
        action,
        since,
        label,
    })
}

/// A page number and size from a request, or a 400.
pub fn page_param(page: Option<&str>, per_page: Option<&str>) -> Result<Page, AppError> {
    crate::app::page_request(page, per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)
        .ok_or_else(|| bad("history.bad_page"))
}

/// A computer's timeline page, and the sections it has changes in.
pub async fn timeline(
    state: &AppState,
    id: HostId,
    mut filter: ChangeFilter,
    page: Page,
) -> Result<(ChangePage, Vec<String>), AppError> {
    state.store.require_host(id).await?;
    filter.computer = Some(id);
    let changes = state.store.changes(&filter, page).await?;
    let sections = state.store.history_sections(id).await?;
    Ok((changes, sections))
}

/// A page of the fleet's recent changes.
pub async fn recent(
    state: &AppState,
    filter: &ChangeFilter,
    page: Page,
) -> Result<ChangePage, AppError> {
    Ok(state.store.changes(filter, page).await?)
}

/// A change's fields in one line: `VERSION: 1.0 → 2.0`, `DISKSIZE: 1000`.
pub fn fields_text(r: &ChangeRecord) -> String {
    r.change
        .fields
        .iter()
        .map(|f| match (&f.old, &f.new) {
            (Some(o), Some(n)) => format!("{}: {o} → {n}", f.field),
            (Some(v), None) | (None, Some(v)) if r.change.action != ChangeAction::Changed => {
                format!("{}: {v}", f.field)
            }
            (Some(o), None) => format!("{}: {o} → ∅", f.field),
            (None, Some(n)) => format!("{}: ∅ → {n}", f.field),
            (None, None) => f.field.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The newest changes matching the filter as CSV (at most [`MAX_CSV_ROWS`]); `header` names
/// the columns: time, computer ID, computer, section, action, what, fields, by.
pub async fn recent_csv(
    state: &AppState,
    filter: &ChangeFilter,
    header: &[String],
    date: impl Fn(i64) -> String,
) -> Result<Vec<u8>, AppError> {
    let page = state
        .store
        .changes(
            filter,
            Page {
                number: 1,
                size: MAX_CSV_ROWS,
            },
        )
        .await?;
    let rows = page.records.iter().map(|r| {
        [
            date(r.changed_at),
            r.hardware_id.0.to_string(),
            r.computer.clone().unwrap_or_default(),
            r.change.section.clone(),
            r.change.action.name().to_owned(),
            r.change.label.clone(),
            fields_text(r),
            r.change.author.clone().unwrap_or_default(),
        ]
    });
    csv_export::write(header, rows)
}

/// Drops the changes past the retention period; returns how many.
pub async fn purge(state: &AppState) -> Result<u64, AppError> {
    let days = state.config.history.retention_days;
    if days == 0 {
        return Ok(0);
    }
    let days = i64::try_from(days).unwrap_or(i64::MAX / DAY);
    let before = state.clock.now().saturating_sub(days.saturating_mul(DAY));
    Ok(state.store.purge_history(before).await?)
}

/// The retention: a purge at start, then every hour.
pub fn spawn_purger(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(PURGE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match purge(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    deleted = n,
                    days = state.config.history.retention_days,
                    "changes past the history's retention dropped"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "dropping old history failed; next try in an hour");
                }
            }
        }
    })
}
