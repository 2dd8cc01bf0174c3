//! The home dashboard: how many computers there are, how recently they reported, and how
//! they split by operating system, agent, TAG and software. Periods are whole UTC days, as
//! the search's date criteria are, so that each figure equals the list it opens.

use ocs_storage::dashboard::{Breakdown, RecentInventory, Repartition};
use ocs_storage::history::{ChangeFilter, ChangeRecord};
use ocs_storage::software_fleet::{SoftwareFilter, SoftwareSort, SoftwareSummary};
use ocs_storage::Page;

use crate::app::software::counts;
use crate::app::{AppError, AppState};

/// Values drawn per chart; the rest are summed.
pub const CHART_VALUES: usize = 8;
/// Software listed.
pub const TOP_SOFTWARE: u32 = 10;
/// Inventories listed.
pub const RECENT_INVENTORIES: i64 = 10;
/// Changes listed.
pub const RECENT_CHANGES: u32 = 10;
/// Days without contact after which a computer counts as not seen.
pub const NOT_SEEN_DAYS: i64 = 30;
/// The "seen in the last N days" figures.
pub const SEEN_WITHIN_DAYS: [i64; 3] = [1, 7, 30];

const DAY: i64 = 86_400;

/// Computers that reported within a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Days of the period, today included.
    pub days: i64,
    /// Its first second (midnight UTC).
    pub since: i64,
    /// Computers whose last contact is in it.
    pub computers: i64,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Midnight UTC today.
    pub today: i64,
    /// Computers in the database.
    pub total: i64,
    /// Computers seen within each of [`SEEN_WITHIN_DAYS`].
    pub seen: Vec<Seen>,
    /// Computers not seen for [`NOT_SEEN_DAYS`] days or more, and since when.
    pub not_seen: Seen,
    /// By operating system.
    pub by_os: Repartition,
    /// By agent (User-Agent).
    pub by_agent: Repartition,
    /// By TAG (`NA`: none).
    pub by_tag: Repartition,
    /// The most installed software, as last counted.
    pub top_software: Vec<SoftwareSummary>,
    /// When the software was counted (`None`: being counted for the first time).
    pub software_counted_at: Option<i64>,
    /// The latest inventories.
    pub recent: Vec<RecentInventory>,
    /// The latest changes.
    pub changes: Vec<ChangeRecord>,
}

/// Reads the dashboard's figures.
pub async fn dashboard(state: &AppState) -> Result<Dashboard, AppError> {
    let now = state.clock.now();
    let today = now - now.rem_euclid(DAY);
    let starts: Vec<i64> = SEEN_WITHIN_DAYS
        .iter()
        .map(|days| today - (days - 1) * DAY)
        .collect();
    let store = &state.store;
    let counts_seen = store.computers_seen_since(&starts).await?;
    let total = store.count_hosts().await?;
    let not_seen_before = today - (NOT_SEEN_DAYS - 1) * DAY;
    let not_seen = store.computers_not_seen_since(not_seen_before).await?;
    let software_counted_at = counts::ensure_fresh(state).await?;
    let (_, top_software) = store
        .software_page(
            &SoftwareFilter::default(),
            SoftwareSort::Computers,
            true,
            Some(Page {
                number: 1,
                size: TOP_SOFTWARE,
            }),
        )
        .await?;
    Ok(Dashboard {
        today,
        total,
        seen: SEEN_WITHIN_DAYS
            .iter()
            .zip(starts)
            .zip(counts_seen)
            .map(|((days, since), computers)| Seen {
                days: *days,
                since,
                computers,
            })
            .collect(),
        not_seen: Seen {
            days: NOT_SEEN_DAYS,
            since: not_seen_before,
            computers: not_seen,
        },
        by_os: store
            .computer_repartition(Breakdown::Os, CHART_VALUES)
            .await?,
        by_agent: store
            .computer_repartition(Breakdown::Agent, CHART_VALUES)
            .await?,
        by_tag: tag_repartition(store.list_tag_counts().await?),
        top_software,
        software_counted_at,
        recent: store.recent_inventories(RECENT_INVENTORIES).await?,
        changes: store
            .changes(
                &ChangeFilter::default(),
                Page {
                    number: 1,
                    size: RECENT_CHANGES,
                },
            )
            .await?
            .records,
    })
}

/// The TAG counts come sorted, the most populated first.
fn tag_repartition(counts: Vec<(String, i64)>) -> Repartition {
    let mut top: Vec<(Option<String>, i64)> =
        counts.into_iter().map(|(t, n)| (Some(t), n)).collect();
    let rest = top.split_off(CHART_VALUES.min(top.len()));
    Repartition {
        top,
        others: rest.iter().map(|(_, n)| n).sum(),
        other_values: i64::try_from(rest.len()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_beyond_the_chart_are_summed() {
        let counts: Vec<(String, i64)> = (0..10).map(|i| (format!("T{i}"), 10 - i)).collect();
        let r = tag_repartition(counts);
        assert_eq!(r.top.len(), CHART_VALUES);
        assert_eq!((r.others, r.other_values), (2 + 1, 2));
    }
}
