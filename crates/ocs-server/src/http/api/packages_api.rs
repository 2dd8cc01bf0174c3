//! `/api/v1/packages…`: the package catalogue over JSON. Reads need any token; building
//! (a multipart upload: text fields, then the `file` part, streamed to disk), deleting and
//! activating need a write-scoped one.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use ocs_storage::deployment::{ActivationRecord, PackageRecord, RedistributionGroupId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{auth_header, page_of_list, respond, rfc3339, ErrorBody, ItemPage};
use crate::app::api::{authenticate, require_write};
use crate::app::deployment::activate::{self, ActivationRequest};
use crate::app::deployment::build::Deployer;
use crate::app::deployment::packages;
use crate::app::{AppError, AppState};
use crate::http::web::deployment::build_from_upload;

/// Largest JSON body (an activation request).
const MAX_JSON_BYTES: usize = 16 * 1024;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/packages",
            get(packages_get).post(packages_post.layer(DefaultBodyLimit::disable())),
        )
        .route(
            "/api/v1/packages/{id}",
            get(package_get).delete(package_delete),
        )
        .route(
            "/api/v1/packages/{id}/activate",
            post(activate_post).layer(DefaultBodyLimit::max(MAX_JSON_BYTES)),
        )
}

/// A package.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackageItem {
    fileid: String,
    name: String,
    description: String,
    os: String,
    action: String,
    action_param: String,
    priority: i64,
    fragments: i64,
    size: i64,
    digest: String,
    created_at: Option<String>,
    created_by: String,
    activations: i64,
}

/// An activation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationItem {
    id: i64,
    info_loc: String,
    pack_loc: String,
    server_id: Option<i64>,
    redistribution_group: Option<i64>,
    activated_at: Option<String>,
    activated_by: String,
}

/// A package with its activations.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackageDetail {
    #[serde(flatten)]
    package: PackageItem,
    activation_list: Vec<ActivationItem>,
}

/// What a deletion removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// The package's FILEID.
    deleted: String,
}

/// What a build or an activation created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    fileid: String,
    activations: Vec<i64>,
}

/// `POST /api/v1/packages/{id}/activate`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActivateBody {
    info_url: Option<String>,
    fragments_url: Option<String>,
    redistribution_group: Option<i64>,
}

fn item(p: PackageRecord, activations: i64) -> PackageItem {
    PackageItem {
        fileid: p.fileid,
        name: p.name,
        description: p.description,
        os: p.os,
        action: p.action,
        action_param: p.action_param,
        priority: p.priority,
        fragments: p.fragments,
        size: p.size,
        digest: p.digest,
        created_at: rfc3339(Some(p.created_at)),
        created_by: p.created_by,
        activations,
    }
}

fn activation(a: ActivationRecord) -> ActivationItem {
    ActivationItem {
        id: a.id.0,
        info_loc: a.info_loc,
        pack_loc: a.pack_loc,
        server_id: a.server_id.map(|h| h.0),
        redistribution_group: a.group_id.map(|g| g.0),
        activated_at: rfc3339(Some(a.activated_at)),
        activated_by: a.activated_by,
    }
}

fn with_status<T: Serialize>(status: StatusCode, result: Result<T, AppError>) -> Response {
    let ok = result.is_ok();
    let mut response = respond(result);
    if ok {
        *response.status_mut() = status;
    }
    response
}

#[utoipa::path(get, path = "/api/v1/packages", tag = "packages",
    params(
        ("name" = Option<String>, Query, description = "Name contains (any case)"),
        ("page" = Option<u32>, Query, description = "Page, from 1"),
        ("per_page" = Option<u32>, Query, description = "Rows a page (50; at most 1000)"),
    ),
    responses((status = 200, body = ItemPage<PackageItem>, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one")),
    security(("token" = [])))]
async fn packages_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            authenticate(&state, auth_header(&headers)).await?;
            let all = packages::list(&state)
                .await?
                .into_iter()
                .map(|s| item(s.package, s.activations))
                .collect();
            page_of_list(all, |p: &PackageItem| p.name.as_str(), &params)
        }
        .await,
    )
}

#[utoipa::path(get, path = "/api/v1/packages/{id}", tag = "packages",
    params(("id" = String, Path, description = "The package (FILEID)")),
    responses((status = 200, body = PackageDetail, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = [])))]
async fn package_get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            authenticate(&state, auth_header(&headers)).await?;
            let v = packages::view(&state, &id).await?;
            let n = i64::try_from(v.activations.len()).unwrap_or(i64::MAX);
            Ok(PackageDetail {
                package: item(v.package, n),
                activation_list: v.activations.into_iter().map(activation).collect(),
            })
        }
        .await,
    )
}

#[utoipa::path(post, path = "/api/v1/packages", tag = "packages",
    request_body(content_type = "multipart/form-data", description = "The package form: name, os, action, action_param, priority, file…"),
    responses((status = 201, body = Created, description = "Created"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 403, body = ErrorBody, description = "A read-only token"), (status = 413, body = ErrorBody, description = "The body is too large")),
    security(("token" = ["write"])))]
async fn packages_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    with_status(
        StatusCode::CREATED,
        async {
            let caller = authenticate(&state, auth_header(&headers)).await?;
            let writer = require_write(&caller)?;
            let fileid =
                build_from_upload(&state, &Deployer::api(&writer), &headers, multipart).await?;
            Ok(Created {
                fileid,
                activations: Vec::new(),
            })
        }
        .await,
    )
}

#[utoipa::path(delete, path = "/api/v1/packages/{id}", tag = "packages",
    params(("id" = String, Path, description = "The package (FILEID)")),
    responses((status = 200, body = Deleted, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 403, body = ErrorBody, description = "A read-only token"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = ["write"])))]
async fn package_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let caller = authenticate(&state, auth_header(&headers)).await?;
            let writer = require_write(&caller)?;
            packages::delete(&state, &Deployer::api(&writer), &id).await?;
            Ok(Deleted { deleted: id })
        }
        .await,
    )
}

#[utoipa::path(post, path = "/api/v1/packages/{id}/activate", tag = "packages",
    params(("id" = String, Path, description = "The package (FILEID)")),
    request_body = ActivateBody,
    responses((status = 201, body = Created, description = "Created"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 403, body = ErrorBody, description = "A read-only token"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = ["write"])))]
async fn activate_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    with_status(
        StatusCode::CREATED,
        async {
            let caller = authenticate(&state, auth_header(&headers)).await?;
            let writer = require_write(&caller)?;
            let bytes = body.map_err(|e| AppError::bad_request("E_BAD_BODY", e.body_text()))?;
            let b: ActivateBody = if bytes.is_empty() {
                ActivateBody::default()
            } else {
                serde_json::from_slice(&bytes).map_err(|e| {
                    AppError::bad_request("E_BAD_JSON", format!("invalid JSON body: {e}"))
                })?
            };
            let req = ActivationRequest {
                info_url: b.info_url,
                fragments_url: b.fragments_url,
                redistribution_group: b.redistribution_group.map(RedistributionGroupId),
            };
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            let ids = activate::activate(&state, &Deployer::api(&writer), &id, &req, host).await?;
            Ok(Created {
                fileid: id,
                activations: ids.into_iter().map(|a| a.0).collect(),
            })
        }
        .await,
    )
}
