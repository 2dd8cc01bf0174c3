//! Software across the fleet (the guide's software pages and dictionary, reference §3.8):
//! `fleet` the list of every software, one software's versions and its computers; `rules` the
//! category rules as a pure function; `categories` categories and rules as administrators edit
//! them; `dictionary` placing software in categories by hand; `reapply` the background job
//! applying the rules to the whole fleet; `ingest` the rules applied to an inventory's new
//! software inside its transaction.

pub mod categories;
pub mod counts;
pub mod dictionary;
pub mod fleet;
pub mod ingest;
pub mod reapply;
pub mod rules;

use ocs_storage::Page;

use crate::app::AppError;

/// Longest filter or name text, in characters.
pub const MAX_TEXT_CHARS: usize = 255;
/// Rows per page unless asked otherwise.
pub const DEFAULT_PER_PAGE: u32 = 50;
/// Most rows of one page.
pub const MAX_PER_PAGE: u32 = 1000;

fn bad(key: &'static str) -> AppError {
    AppError::bad_request("E_BAD_SOFTWARE_QUERY", key)
}

/// A bounded, trimmed text from a request (`key`: the refusal's message).
pub fn text_param(text: Option<&str>, key: &'static str) -> Result<String, AppError> {
    let text = text.unwrap_or_default().trim();
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(bad(key));
    }
    Ok(text.to_owned())
}

/// A page number and size from a request, or a 400.
pub fn page_param(page: Option<&str>, per_page: Option<&str>) -> Result<Page, AppError> {
    crate::app::page_request(page, per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)
        .ok_or_else(|| bad("software.bad_page"))
}

/// A sort direction from a request: `asc` (or nothing) or `desc`.
pub fn desc_param(dir: Option<&str>) -> Result<bool, AppError> {
    match dir {
        None | Some("" | "asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(_) => Err(bad("software.bad_sort")),
    }
}

/// An optional category ID from a request (nothing or `all`: none).
pub fn category_param(text: Option<&str>) -> Result<Option<i64>, AppError> {
    match text {
        None | Some("" | "all") => Ok(None),
        Some(t) => t
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad("software.bad_category")),
    }
}
