//! TAG repartition: computers per TAG, each count linking to the list, with a bar chart
//! drawn on the server as SVG (no script, nothing for the CSP to allow).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::{error_page, render, PageCtx, SignedIn};
use crate::app::computers;
use crate::app::AppState;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/tags", get(tags_get))
}

/// Bars drawn in the chart (the table lists every TAG).
const CHART_BARS: usize = 25;
const BAR_HEIGHT: usize = 22;
/// Longest label drawn left of a bar (the full TAG is in the bar's tooltip and the table).
const LABEL_CHARS: usize = 24;
const BAR_MAX_WIDTH: i64 = 460;

/// One TAG.
pub struct TagRow {
    /// The TAG.
    pub tag: String,
    /// Computers with it.
    pub count: i64,
    /// The list of those computers.
    pub url: String,
}

/// One bar of the chart, in SVG user units.
pub struct Bar {
    /// The TAG.
    pub tag: String,
    /// The TAG as labelled on the chart, shortened to fit its margin.
    pub label: String,
    /// Its count.
    pub count: i64,
    /// Top of the bar.
    pub y: usize,
    /// Baseline of the label text.
    pub text_y: usize,
    /// Width of the bar.
    pub width: i64,
    /// Where the count is written.
    pub count_x: i64,
}

#[derive(Template)]
#[template(path = "tags/tags.html")]
struct TagsPage {
    page: PageCtx,
    rows: Vec<TagRow>,
    total: i64,
    bars: Vec<Bar>,
    chart_height: usize,
}

async fn tags_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let counts = match computers::tag_counts(&state).await {
        Ok(c) => c,
        Err(e) => return error_page(&ctx, &e),
    };
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let bars: Vec<Bar> = counts
        .iter()
        .take(CHART_BARS)
        .enumerate()
        .map(|(i, (tag, count))| {
            let width = (count * BAR_MAX_WIDTH / max).max(1);
            Bar {
                label: if tag.chars().count() > LABEL_CHARS {
                    let mut short: String = tag.chars().take(LABEL_CHARS - 1).collect();
                    short.push('…');
                    short
                } else {
                    tag.clone()
                },
                tag: tag.clone(),
                count: *count,
                y: i * BAR_HEIGHT + 4,
                text_y: i * BAR_HEIGHT + 19,
                width,
                count_x: 170 + width + 6,
            }
        })
        .collect();
    let rows = counts
        .iter()
        .map(|(tag, count)| TagRow {
            tag: tag.clone(),
            count: *count,
            url: format!(
                "/search?{}",
                serde_urlencoded::to_string([("f0", "tag"), ("o0", "equal"), ("v0", tag)])
                    .unwrap_or_default()
            ),
        })
        .collect();
    render(
        &ctx,
        StatusCode::OK,
        &TagsPage {
            page: PageCtx::new(&ctx, &viewer, "tags"),
            rows,
            total: counts.iter().map(|(_, n)| n).sum(),
            chart_height: bars.len() * BAR_HEIGHT + 8,
            bars,
        },
    )
}
