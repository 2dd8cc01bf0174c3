//! `/api/v1/packages…`: the package catalogue over JSON. Reads need any token; building
//! (a multipart upload: text fields, then the `file` part, streamed to disk), deleting and
//! activating need a write-scoped one.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use ocs_storage::deployment::{ActivationRecord, PackageRecord, RedistributionGroupId};
use serde::{Deserialize, Serialize};

use super::{auth_header, respond, rfc3339};
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
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
pub struct PackageDetail {
    #[serde(flatten)]
    package: PackageItem,
    activation_list: Vec<ActivationItem>,
}

/// What a build or an activation created.
#[derive(Debug, Serialize)]
pub struct Created {
    fileid: String,
    activations: Vec<i64>,
}

/// `POST /api/v1/packages/{id}/activate`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivateBody {
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

async fn packages_get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(
        async {
            authenticate(&state, auth_header(&headers)).await?;
            Ok(packages::list(&state)
                .await?
                .into_iter()
                .map(|s| item(s.package, s.activations))
                .collect::<Vec<_>>())
        }
        .await,
    )
}

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
            Ok(serde_json::json!({ "deleted": id }))
        }
        .await,
    )
}

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
