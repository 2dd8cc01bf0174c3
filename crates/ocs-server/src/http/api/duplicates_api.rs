//! `/api/v1/duplicates?mode=…`: candidate duplicate sets of one mode (`hostname`, `serial`,
//! `mac`, `hostname_serial`, `hostname_mac`, `serial_mac`, `uuid`), each with its shared
//! values and computer IDs, paged by set, read-only, with any token. A bad mode or page is a
//! 400 `{code, message}`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;

use super::{auth_header, english, param, respond};
use crate::app::api::authenticate;
use crate::app::duplicates::{self, mode_param, page_param};
use crate::app::AppState;

/// Routes of the duplicates API.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/duplicates", get(list_get))
}

/// Computers sharing the mode's values.
#[derive(Debug, Serialize)]
pub struct SetItem {
    /// The shared values (lower case), one per criterion of the mode.
    key: Vec<String>,
    /// Computer IDs, ascending.
    computers: Vec<i64>,
}

/// A page of candidate sets.
#[derive(Debug, Serialize)]
pub struct DuplicatesPage {
    mode: &'static str,
    /// Sets in all.
    total: i64,
    /// Distinct computers in those sets.
    computers: i64,
    page: u32,
    per_page: u32,
    sets: Vec<SetItem>,
}

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
