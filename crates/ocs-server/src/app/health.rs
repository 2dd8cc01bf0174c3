//! Liveness for load balancers: the process answers and its database does.

use crate::app::{AppError, AppState};

/// Checks that the database answers.
pub async fn check(state: &AppState) -> Result<(), AppError> {
    state.store.ping().await.map_err(AppError::from)
}
