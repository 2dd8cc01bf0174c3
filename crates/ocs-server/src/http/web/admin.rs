//! Administration pages (options, administrative data definitions, TAG label, registry
//! queries, inventory import). Routes are added by the administration work.

use axum::Router;

use crate::app::AppState;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
}
