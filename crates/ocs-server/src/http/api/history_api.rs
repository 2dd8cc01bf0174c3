//! `/api/v1/computers/{id}/history`: one computer's changes, newest first; `/api/v1/changes`:
//! the fleet's. Both read-only with any token, filtered by `section`, `action`
//! (`added|removed|changed|created`), `days` (the last N days) and `q` (what changed contains),
//! paged by `page` and `per_page` with `more` saying whether older changes follow (the fleet's
//! history is not counted). A bad filter is a 400 `{code, message}`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use ocs_storage::history::{ChangeFilter, ChangePage, ChangeRecord};
use ocs_storage::HostId;
use serde::Serialize;
use utoipa::ToSchema;

use super::{auth_header, english, param, respond, rfc3339, ErrorBody};
use crate::app::api::authenticate;
use crate::app::history::{self, filter_params, page_param};
use crate::app::{AppError, AppState};

/// Routes of the history API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/computers/{id}/history", get(computer_history_get))
        .route("/api/v1/changes", get(changes_get))
}

/// A field of a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldItem {
    field: String,
    old: Option<String>,
    new: Option<String>,
}

/// A change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeItem {
    id: i64,
    computer_id: i64,
    computer: Option<String>,
    changed_at: Option<String>,
    section: String,
    action: &'static str,
    label: String,
    fields: Vec<FieldItem>,
    by: Option<String>,
}

/// A page of changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesPage {
    page: u32,
    per_page: u32,
    more: bool,
    changes: Vec<ChangeItem>,
}

fn item(r: ChangeRecord) -> ChangeItem {
    ChangeItem {
        id: r.id,
        computer_id: r.hardware_id.0,
        computer: r.computer,
        changed_at: rfc3339(Some(r.changed_at)),
        section: r.change.section,
        action: r.change.action.name(),
        label: r.change.label,
        fields: r
            .change
            .fields
            .into_iter()
            .map(|f| FieldItem {
                field: f.field,
                old: f.old,
                new: f.new,
            })
            .collect(),
        by: r.change.author,
    }
}

fn page_of(changes: ChangePage, page: ocs_storage::Page) -> ChangesPage {
    ChangesPage {
        page: page.number,
        per_page: page.size,
        more: changes.more,
        changes: changes.records.into_iter().map(item).collect(),
    }
}

fn filter(state: &AppState, p: &HashMap<String, String>) -> Result<ChangeFilter, AppError> {
    filter_params(
        state,
        param(p, "section"),
        param(p, "action"),
        param(p, "days"),
        param(p, "q"),
    )
    .map_err(english)
}

#[utoipa::path(get, path = "/api/v1/computers/{id}/history", tag = "history",
    params(("id" = i64, Path, description = "Computer ID"), ("section" = Option<String>, Query, description = "A section (table name)"), ("action" = Option<String>, Query, description = "added, removed or changed"), ("days" = Option<u32>, Query, description = "Changes of the last N days"), ("q" = Option<String>, Query, description = "Label contains"), ("page" = Option<u32>, Query, description = "Page, from 1"), ("per_page" = Option<u32>, Query, description = "Rows a page (at most 1000)")),
    responses((status = 200, body = ChangesPage, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = [])))]
async fn computer_history_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        let id = id
            .parse::<i64>()
            .map_err(|_| AppError::NotFound(format!("computer {id:?}")))?;
        let filter = filter(&state, &p)?;
        let page = page_param(param(&p, "page"), param(&p, "per_page")).map_err(english)?;
        let (changes, _) = history::timeline(&state, HostId(id), filter, page).await?;
        Ok(page_of(changes, page))
    }
    .await;
    respond(result)
}

#[utoipa::path(get, path = "/api/v1/changes", tag = "history",
    params(("computer" = Option<i64>, Query, description = "Only this computer"), ("section" = Option<String>, Query, description = "A section (table name)"), ("action" = Option<String>, Query, description = "added, removed or changed"), ("days" = Option<u32>, Query, description = "Changes of the last N days"), ("q" = Option<String>, Query, description = "Label contains"), ("page" = Option<u32>, Query, description = "Page, from 1"), ("per_page" = Option<u32>, Query, description = "Rows a page (at most 1000)")),
    responses((status = 200, body = ChangesPage, description = "Newest first"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one")),
    security(("token" = [])))]
async fn changes_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        let mut filter = filter(&state, &p)?;
        if let Some(c) = param(&p, "computer").filter(|c| !c.is_empty()) {
            let id = c.parse::<i64>().map_err(|_| {
                AppError::bad_request("E_BAD_HISTORY_QUERY", "computer is a computer ID")
            })?;
            filter.computer = Some(HostId(id));
        }
        let page = page_param(param(&p, "page"), param(&p, "per_page")).map_err(english)?;
        Ok(page_of(history::recent(&state, &filter, page).await?, page))
    }
    .await;
    respond(result)
}
