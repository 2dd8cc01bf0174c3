//! The software list (every name with its publisher, versions, computers and category), one
//! software's versions, and the computers with a software. Request text is checked here.

use ocs_storage::software_fleet::{
    SoftwareComputer, SoftwareFilter, SoftwareSort, SoftwareSummary, SoftwareVersionRow,
};
use ocs_storage::Page;

use super::{bad, category_param, counts, desc_param, page_param, text_param};
use crate::app::{AppError, AppState};

/// Every sort of the list, in display order, with its URL key.
pub const SORTS: [(SoftwareSort, &str); 5] = [
    (SoftwareSort::Name, "name"),
    (SoftwareSort::Publisher, "publisher"),
    (SoftwareSort::Versions, "versions"),
    (SoftwareSort::Computers, "computers"),
    (SoftwareSort::Category, "category"),
];

/// The URL key of a sort.
pub fn sort_key(sort: SoftwareSort) -> &'static str {
    SORTS
        .iter()
        .find(|(s, _)| *s == sort)
        .map_or("name", |(_, k)| k)
}

/// What the software list shows.
#[derive(Debug, Clone)]
pub struct SoftwareQuery {
    /// Filters.
    pub filter: SoftwareFilter,
    /// Column.
    pub sort: SoftwareSort,
    /// Descending.
    pub desc: bool,
    /// The page, or every match (CSV).
    pub page: Option<Page>,
}

impl SoftwareQuery {
    /// Checks a request's filters, sort and page.
    pub fn parse(
        name: Option<&str>,
        publisher: Option<&str>,
        category: Option<&str>,
        sort: Option<&str>,
        dir: Option<&str>,
        page: Option<&str>,
        per_page: Option<&str>,
    ) -> Result<SoftwareQuery, AppError> {
        let sort = match sort {
            None | Some("") => SoftwareSort::Name,
            Some(t) => SORTS
                .iter()
                .find(|(_, k)| *k == t)
                .map(|(s, _)| *s)
                .ok_or_else(|| bad("software.bad_sort"))?,
        };
        Ok(SoftwareQuery {
            filter: SoftwareFilter {
                name: text_param(name, "software.bad_filter")?,
                publisher: text_param(publisher, "software.bad_filter")?,
                category: category_param(category)?,
            },
            sort,
            desc: desc_param(dir)?,
            page: Some(page_param(page, per_page)?),
        })
    }
}

/// The software matching a query: how many, the page, and when the computers were counted
/// (`None`: being counted for the first time).
pub async fn list(
    state: &AppState,
    q: &SoftwareQuery,
) -> Result<(i64, Vec<SoftwareSummary>, Option<i64>), AppError> {
    let counted_at = counts::ensure_fresh(state).await?;
    let (total, rows) = state
        .store
        .software_page(&q.filter, q.sort, q.desc, q.page)
        .await?;
    Ok((total, rows, counted_at))
}

/// A software as counted: its name, every publisher and version, and its computers.
#[derive(Debug, Clone)]
pub struct SoftwareDetail {
    /// Its name.
    pub name: String,
    /// Its publishers and versions.
    pub versions: Vec<SoftwareVersionRow>,
    /// Computers with it.
    pub computers: i64,
    /// When they were counted (`None`: being counted for the first time).
    pub counted_at: Option<i64>,
}

/// A software, or a 404.
pub async fn software(state: &AppState, name_id: i64) -> Result<SoftwareDetail, AppError> {
    let name = state
        .store
        .software_name(name_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("software {name_id}")))?;
    let counted_at = counts::ensure_fresh(state).await?;
    Ok(SoftwareDetail {
        name,
        versions: state.store.software_versions(name_id).await?,
        computers: state.store.software_name_computers(name_id).await?,
        counted_at,
    })
}

/// The computers with a software (optionally one publisher and version): how many, and the
/// page.
pub async fn computers(
    state: &AppState,
    name_id: i64,
    publisher_id: Option<i64>,
    version_id: Option<i64>,
    page: Option<Page>,
) -> Result<(i64, Vec<SoftwareComputer>), AppError> {
    Ok(state
        .store
        .software_computers(name_id, publisher_id, version_id, page)
        .await?)
}

/// An optional dictionary ID from a request.
pub fn id_param(text: Option<&str>) -> Result<Option<i64>, AppError> {
    match text {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad("software.bad_id")),
    }
}
