//! `/admin/forwarding`: the upstreams inventories are relayed to, and what waits for each.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::computers::date_text;
use super::{page_or_error, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::{forwarding, AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/admin/forwarding", get(forwarding_get))
}

/// An upstream, as listed.
pub struct UpstreamLine {
    /// Its URL.
    pub url: String,
    /// Inventories waiting.
    pub waiting: i64,
    /// When the oldest was queued.
    pub oldest: String,
    /// When the next attempt is due.
    pub next: String,
    /// Attempts of the oldest.
    pub attempts: i64,
    /// The last failure.
    pub error: String,
}

#[derive(Template)]
#[template(path = "forwarding/upstreams.html")]
struct ForwardingPage {
    page: PageCtx,
    lines: Vec<UpstreamLine>,
}

async fn forwarding_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let result = async {
        require_admin(&signed.viewer)?;
        let lines = forwarding::backlog(&state)
            .await?
            .into_iter()
            .map(|b| UpstreamLine {
                url: b.upstream,
                waiting: b.waiting,
                oldest: b.oldest.map(date_text).unwrap_or_default(),
                next: b.next_attempt.map(date_text).unwrap_or_default(),
                attempts: b.attempts,
                error: b.last_error,
            })
            .collect();
        Ok::<_, AppError>(ForwardingPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "forwarding"),
            lines,
        })
    }
    .await;
    page_or_error(&signed, result)
}
