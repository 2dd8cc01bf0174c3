//! TAG repartition: computers per TAG, each count linking to the list, with a bar chart
//! drawn on the server as SVG (no script, nothing for the CSP to allow).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::chart::{bar_chart, Chart, Item};
use super::search::search_url;
use super::{error_page, render, PageCtx, SignedIn};
use crate::app::computers;
use crate::app::AppState;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/tags", get(tags_get))
}

/// Bars drawn in the chart (the table lists every TAG).
const CHART_BARS: usize = 25;

/// One TAG.
pub struct TagRow {
    /// The TAG.
    pub tag: String,
    /// Computers with it.
    pub count: i64,
    /// The list of those computers.
    pub url: String,
}

#[derive(Template)]
#[template(path = "tags/tags.html")]
struct TagsPage {
    page: PageCtx,
    rows: Vec<TagRow>,
    total: i64,
    chart: Chart,
}

async fn tags_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let counts = match computers::tag_counts(&state).await {
        Ok(c) => c,
        Err(e) => return error_page(&ctx, &e),
    };
    let chart = bar_chart(
        counts
            .iter()
            .map(|(tag, count)| Item {
                label: tag.clone(),
                count: *count,
                url: None,
            })
            .collect(),
        CHART_BARS,
    );
    let rows = counts
        .iter()
        .map(|(tag, count)| TagRow {
            tag: tag.clone(),
            count: *count,
            url: search_url(&[("f0", "tag"), ("o0", "equal"), ("v0", tag)]),
        })
        .collect();
    render(
        &ctx,
        StatusCode::OK,
        &TagsPage {
            page: PageCtx::new(&ctx, &viewer, "tags"),
            rows,
            total: counts.iter().map(|(_, n)| n).sum(),
            chart,
        },
    )
}
