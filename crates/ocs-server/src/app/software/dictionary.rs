//! The software dictionary (the guide's): every installed (name, publisher, version) with its
//! category, searched everywhere or in one category, and software moved by hand to a new or
//! existing category: the chosen rows, a page, or everything matching the search. A move is
//! an administrator's choice that later rule changes leave alone.

use ocs_storage::software_categories::{DictionaryFilter, DictionaryRow, Triple};
use ocs_storage::Page;

use super::{category_param, counts, page_param, text_param};
use crate::app::auth::Admin;
use crate::app::{AppError, AppState};

/// Most rows one move may name (a larger set is moved as "everything matching").
pub const MAX_SELECTED: usize = 5_000;

/// What the dictionary shows.
#[derive(Debug, Clone)]
pub struct DictionaryQuery {
    /// Filters.
    pub filter: DictionaryFilter,
    /// The page.
    pub page: Page,
}

impl DictionaryQuery {
    /// Checks a request's search text, category and page.
    pub fn parse(
        text: Option<&str>,
        category: Option<&str>,
        page: Option<&str>,
        per_page: Option<&str>,
    ) -> Result<DictionaryQuery, AppError> {
        Ok(DictionaryQuery {
            filter: DictionaryFilter {
                text: text_param(text, "software.bad_filter")?,
                category: category_param(category)?,
            },
            page: page_param(page, per_page)?,
        })
    }
}

/// A page of the dictionary, and when its computers were counted.
pub async fn page(
    state: &AppState,
    q: &DictionaryQuery,
) -> Result<(i64, Vec<DictionaryRow>, Option<i64>), AppError> {
    let counted_at = counts::ensure_fresh(state).await?;
    let (total, rows) = state
        .store
        .software_dictionary(&q.filter, Some(q.page))
        .await?;
    Ok((total, rows, counted_at))
}

/// A row's key in forms: `name_id:publisher_id:version_id`.
pub fn triple_key(t: &Triple) -> String {
    format!("{}:{}:{}", t.name_id, t.publisher_id, t.version_id)
}

/// The triple a form key names, or a 400.
pub fn parse_triple(text: &str) -> Result<Triple, AppError> {
    let bad = || AppError::bad_request("E_BAD_SELECTION", "dictionary.bad_selection");
    let mut it = text.split(':').map(|p| p.parse::<i64>().map_err(|_| bad()));
    let (Some(n), Some(p), Some(v), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(bad());
    };
    Ok(Triple {
        name_id: n?,
        publisher_id: p?,
        version_id: v?,
    })
}

/// Which rows a move takes.
#[derive(Debug, Clone)]
pub enum MoveScope {
    /// These rows (the chosen ones, or a page's).
    Rows(Vec<Triple>),
    /// Every row matching the search, read on the server.
    Matching(DictionaryFilter),
}

/// Moves rows to a category; returns how many.
pub async fn move_to(
    state: &AppState,
    admin: &Admin<'_>,
    scope: MoveScope,
    category_id: i64,
) -> Result<u64, AppError> {
    let triples = match scope {
        MoveScope::Rows(rows) => {
            if rows.len() > MAX_SELECTED {
                return Err(AppError::bad_request(
                    "E_BAD_SELECTION",
                    "dictionary.too_many",
                ));
            }
            rows
        }
        MoveScope::Matching(filter) => {
            counts::ensure_fresh(state).await?;
            state
                .store
                .software_dictionary(&filter, None)
                .await?
                .1
                .into_iter()
                .map(|r| r.triple)
                .collect()
        }
    };
    if triples.is_empty() {
        return Err(AppError::bad_request(
            "E_BAD_SELECTION",
            "dictionary.nothing",
        ));
    }
    let n = state
        .store
        .set_software_category(&triples, category_id)
        .await?;
    tracing::info!(rows = n, category = category_id, by = %admin.viewer.login, "software moved to a category");
    Ok(n)
}
