//! `/api/v1/networks…`: discovered networks and their devices over JSON (being written).

use axum::Router;

use crate::app::AppState;

/// Routes of the networks API.
pub fn router() -> Router<AppState> {
    Router::new()
}
