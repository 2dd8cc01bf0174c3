//! `GET /download/label` (and `/ocsinventory/deploy/label`, where agents of the original
//! fetch it): the TAG label agents show in their first-start prompt, as plain text. Public like the rest of the deployment files (agents have no console session);
//! 404 while the label is blank, which tells agents not to prompt.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::admin::tag_label;
use crate::app::AppState;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/download/label", get(label_get))
        .route("/ocsinventory/deploy/label", get(label_get))
}

async fn label_get(State(state): State<AppState>) -> Response {
    match tag_label(&state).await {
        Ok(Some(label)) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            label,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no label\n").into_response(),
        Err(e) => {
            tracing::error!(code = e.code(), reason = %e, "TAG label lookup failed");
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, format!("{}\n", e.code())).into_response()
        }
    }
}
