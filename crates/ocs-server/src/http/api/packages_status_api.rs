//! `GET /api/v1/packages/{id}/status`: a package's statistics (counts per status) over JSON,
//! for any token.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::{auth_header, respond, ErrorBody};
use crate::app::api::authenticate;
use crate::app::deployment::status::{self, PackageStatus};
use crate::app::{AppError, AppState};

/// Longest FILEID accepted.
const MAX_FILEID_LEN: usize = 32;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/packages/{id}/status", get(status_get))
}

#[utoipa::path(get, path = "/api/v1/packages/{id}/status", tag = "packages",
    params(("id" = String, Path, description = "The package (FILEID)")),
    responses((status = 200, body = PackageStatus, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = [])))]
async fn status_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        if id.is_empty() || id.len() > MAX_FILEID_LEN || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::bad_request(
                "E_BAD_FILEID",
                "a package ID is a number",
            ));
        }
        status::package_status(&state, &id).await
    }
    .await;
    respond(result)
}
