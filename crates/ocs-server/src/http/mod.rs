//! HTTP: one router per area, assembled here. Handlers translate between HTTP and services
//! and never touch storage.

pub mod agent;
pub mod api;
pub mod client;
pub mod download;
pub mod label;
pub mod server;
pub mod soap;
pub mod tls;
pub mod web;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::app::AppState;

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(agent::router())
        .merge(api::router())
        .merge(soap::router())
        .merge(label::router())
        .merge(download::router())
        .merge(tls::router())
        .merge(web::router(state.clone()))
        .route("/healthz", get(healthz_get))
        .layer(axum::middleware::map_response(close_after_refused_body))
        .with_state(state)
}

/// A body refused as too large is left unread, so the connection cannot carry another
/// request: the answer says so, and clients do not send their next request on it (they
/// would see it closed under them).
async fn close_after_refused_body(mut response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Liveness and database reachability, for load balancers.
async fn healthz_get(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match crate::app::health::check(&state).await {
        Ok(_) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}
