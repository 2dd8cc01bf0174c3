//! `/api/v1/duplicates?mode=…`: candidate duplicate sets of one mode (`hostname`, `serial`,
//! `mac`, `hostname_serial`, `hostname_mac`, `serial_mac`, `uuid`), each with its shared
//! values and computer IDs, paged by set, read-only, with any token. A bad mode or page is a
//! 400 `{code, message}`. `/api/v1/merges…`: the merge log (any token), a merge of chosen
//! computers into the most recent and the undo of a merge (write scope).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{auth_header, english, json_body, param, respond, rfc3339, with_status, ErrorBody};
use crate::app::api::{authenticate, require_write};
use crate::app::duplicates::merge::{self, Merger};
use crate::app::duplicates::{self, mode_param, page_param};
use crate::app::{AppError, AppState};

/// Routes of the duplicates API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/duplicates", get(list_get))
        .merge(merges_router())
}

/// Computers sharing the mode's values.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetItem {
    /// The shared values (lower case), one per criterion of the mode.
    key: Vec<String>,
    /// Computer IDs, ascending.
    computers: Vec<i64>,
}

/// A page of candidate sets.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicatesPage {
    mode: &'static str,
    /// Sets in all.
    total: i64,
    /// Distinct computers in those sets.
    computers: i64,
    page: u32,
    per_page: u32,
    /// When the fleet was last compared (`null`: being compared for the first time).
    found_at: Option<String>,
    sets: Vec<SetItem>,
}

#[utoipa::path(get, path = "/api/v1/duplicates", tag = "duplicates",
    params(("mode" = Option<String>, Query, description = "The criterion sets are found by (hostname, serial, mac…)"), ("page" = Option<u32>, Query, description = "Page, from 1"), ("per_page" = Option<u32>, Query, description = "Rows a page (at most 1000)")),
    responses((status = 200, body = DuplicatesPage, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one")),
    security(("token" = [])))]
async fn list_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        let mode = mode_param(param(&p, "mode")).map_err(english)?;
        let page = page_param(param(&p, "page"), param(&p, "per_page")).map_err(english)?;
        let c = duplicates::candidates(&state, mode, page).await?;
        Ok(DuplicatesPage {
            mode: c.mode.name(),
            total: c.count.sets,
            computers: c.count.computers,
            page: c.page,
            per_page: c.per_page,
            found_at: rfc3339(c.found_at),
            sets: c
                .sets
                .into_iter()
                .map(|(set, _)| SetItem {
                    key: set.key,
                    computers: set.computers,
                })
                .collect(),
        })
    }
    .await;
    respond(result)
}

/// Largest merge request body.
const MAX_MERGE_BODY_BYTES: usize = 64 * 1024;

/// `POST /api/v1/merges`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeBody {
    /// The computers to merge into the most recent of them.
    computers: Vec<i64>,
    /// The duplicate mode they were found by, for the log.
    #[serde(default)]
    mode: Option<String>,
}

/// A merge made.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MergeItem {
    id: i64,
    kept: i64,
    merged: Vec<i64>,
}

/// A computer of a merge, as it was merged.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MergedComputer {
    id: i64,
    deviceid: String,
    name: Option<String>,
}

/// A line of the merge log.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MergeLogItem {
    id: i64,
    merged_at: Option<String>,
    kept: i64,
    merged: Vec<MergedComputer>,
    /// `administrator` or `automatic`.
    reason: String,
    criteria: String,
    merged_by: String,
    undoable: bool,
    undone_at: Option<String>,
    undone_by: Option<String>,
}

/// A page of the merge log.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MergeLogPage {
    total: i64,
    page: u32,
    per_page: u32,
    items: Vec<MergeLogItem>,
}

/// An undone merge.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UndoItem {
    id: i64,
    /// The computers put back, the kept one first.
    restored: Vec<i64>,
}

fn merges_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/merges", get(merges_get).post(merges_post))
        .route("/api/v1/merges/{id}/undo", post(undo_post))
        .layer(DefaultBodyLimit::max(MAX_MERGE_BODY_BYTES))
}

#[utoipa::path(get, path = "/api/v1/merges", tag = "duplicates",
    params(("page" = Option<u32>, Query, description = "Page, from 1"), ("per_page" = Option<u32>, Query, description = "Rows a page (at most 1000)")),
    responses((status = 200, body = MergeLogPage, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one")),
    security(("token" = [])))]
async fn merges_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        let (page, _) = page_param(param(&p, "page"), None).map_err(english)?;
        let (total, records) = merge::log(&state, page).await?;
        Ok(MergeLogPage {
            total,
            page,
            per_page: merge::LOG_PER_PAGE,
            items: records
                .into_iter()
                .map(|r| MergeLogItem {
                    id: r.id,
                    merged_at: rfc3339(Some(r.merged_at)),
                    kept: r.kept,
                    merged: r
                        .merged
                        .into_iter()
                        .map(|(id, deviceid, name)| MergedComputer { id, deviceid, name })
                        .collect(),
                    reason: r.reason,
                    criteria: r.criteria,
                    merged_by: r.merged_by,
                    undoable: r.undoable,
                    undone_at: r.undone.as_ref().and_then(|(at, _)| rfc3339(Some(*at))),
                    undone_by: r.undone.map(|(_, by)| by),
                })
                .collect(),
        })
    }
    .await;
    respond(result)
}

#[utoipa::path(post, path = "/api/v1/merges", tag = "duplicates",
    request_body = MergeBody,
    responses((status = 201, body = MergeItem, description = "Merged into the most recent"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 403, body = ErrorBody, description = "A read-only token"), (status = 404, body = ErrorBody, description = "No such item"), (status = 413, body = ErrorBody, description = "The body is too large")),
    security(("token" = ["write"])))]
async fn merges_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let caller = authenticate(&state, auth_header(&headers)).await?;
        let writer = require_write(&caller)?;
        let body: MergeBody = json_body(body, MAX_MERGE_BODY_BYTES)?;
        let mode = match body.mode.as_deref() {
            None => None,
            Some(m) => Some(mode_param(Some(m)).map_err(english)?),
        };
        let m = merge::merge(&state, &Merger::api(&writer), &body.computers, mode)
            .await
            .map_err(english)?;
        Ok(MergeItem {
            id: m.id,
            kept: m.kept,
            merged: m.merged,
        })
    }
    .await;
    with_status(StatusCode::CREATED, result)
}

#[utoipa::path(post, path = "/api/v1/merges/{id}/undo", tag = "duplicates",
    params(("id" = i64, Path, description = "Merge ID")),
    responses((status = 200, body = UndoItem, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 403, body = ErrorBody, description = "A read-only token"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = ["write"])))]
async fn undo_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let caller = authenticate(&state, auth_header(&headers)).await?;
        let writer = require_write(&caller)?;
        let id: i64 = id.parse().map_err(|_| {
            AppError::bad_request("E_BAD_PARAM", format!("merge id {id:?} is not a number"))
        })?;
        let restored = merge::undo(&state, &Merger::api(&writer), id)
            .await
            .map_err(english)?;
        Ok(UndoItem { id, restored })
    }
    .await;
    respond(result)
}
