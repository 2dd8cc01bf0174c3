//! `/api/v1/software…`: the fleet's software (one item per name and publisher, filtered by
//! `name`, `publisher`, `category`, sorted by `sort`/`dir`, paged like the other lists) and one
//! software's versions with their category, read-only, with any token. A bad parameter is a
//! 400 `{code, message}`, an unknown software a 404.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;

use super::{auth_header, english, param, respond, rfc3339, ErrorBody};
use crate::app::api::authenticate;
use crate::app::software::fleet::{self, SoftwareQuery};
use crate::app::software::DEFAULT_PER_PAGE;
use crate::app::AppState;

/// Routes of the software API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/software", get(list_get))
        .route("/api/v1/software/{id}", get(software_get))
}

/// One software of the fleet.
#[derive(Debug, Serialize, ToSchema)]
pub struct SoftwareItem {
    id: i64,
    name: String,
    publisher: String,
    versions: i64,
    computers: i64,
    /// `None` when its versions are in different categories.
    category: Option<String>,
}

/// A page of software.
#[derive(Debug, Serialize, ToSchema)]
pub struct SoftwarePage {
    /// When the computers were counted (RFC 3339; `null` while the first count runs).
    counted_at: Option<String>,
    total: i64,
    page: u32,
    per_page: u32,
    items: Vec<SoftwareItem>,
}

/// One version of a software.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionItem {
    publisher: String,
    version: String,
    computers: i64,
    category: String,
    /// Set by hand in the dictionary (rules leave it alone).
    manual: bool,
}

/// One software with its versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SoftwareDetail {
    id: i64,
    name: String,
    computers: i64,
    /// When the computers were counted (RFC 3339; `null` while the first count runs).
    counted_at: Option<String>,
    versions: Vec<VersionItem>,
}

#[utoipa::path(get, path = "/api/v1/software", tag = "software",
    params(("name" = Option<String>, Query, description = "Name contains"), ("publisher" = Option<String>, Query, description = "Publisher contains"), ("category" = Option<String>, Query, description = "Category"), ("sort" = Option<String>, Query, description = "Column to sort by"), ("dir" = Option<String>, Query, description = "asc or desc"), ("page" = Option<u32>, Query, description = "Page, from 1"), ("per_page" = Option<u32>, Query, description = "Rows a page (at most 1000)")),
    responses((status = 200, body = SoftwarePage, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one")),
    security(("token" = [])))]
async fn list_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        let q = SoftwareQuery::parse(
            param(&p, "name"),
            param(&p, "publisher"),
            param(&p, "category"),
            param(&p, "sort"),
            param(&p, "dir"),
            param(&p, "page"),
            param(&p, "per_page"),
        )
        .map_err(english)?;
        let (total, rows, counted_at) = fleet::list(&state, &q).await?;
        let page = q.page.unwrap_or(ocs_storage::Page {
            number: 1,
            size: DEFAULT_PER_PAGE,
        });
        Ok(SoftwarePage {
            counted_at: rfc3339(counted_at),
            total,
            page: page.number,
            per_page: page.size,
            items: rows
                .into_iter()
                .map(|r| SoftwareItem {
                    id: r.name_id,
                    name: r.name,
                    publisher: r.publisher,
                    versions: r.versions,
                    computers: r.computers,
                    category: r.category,
                })
                .collect(),
        })
    }
    .await;
    respond(result)
}

#[utoipa::path(get, path = "/api/v1/software/{id}", tag = "software",
    params(("id" = i64, Path, description = "Software name ID")),
    responses((status = 200, body = SoftwareDetail, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = [])))]
async fn software_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        let detail = fleet::software(&state, id).await?;
        Ok(SoftwareDetail {
            id,
            name: detail.name,
            computers: detail.computers,
            counted_at: rfc3339(detail.counted_at),
            versions: detail
                .versions
                .into_iter()
                .map(|v| VersionItem {
                    publisher: v.publisher,
                    version: v.version,
                    computers: v.computers,
                    category: v.category,
                    manual: v.manual,
                })
                .collect(),
        })
    }
    .await;
    respond(result)
}
