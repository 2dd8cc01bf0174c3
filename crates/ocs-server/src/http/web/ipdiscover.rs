//! Network discovery console pages: ipdiscover (being written).

use axum::Router;

use crate::app::AppState;

/// Routes of these pages.
pub fn router() -> Router<AppState> {
    Router::new()
}
