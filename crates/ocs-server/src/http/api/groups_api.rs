//! `/api/v1/groups…`: groups and their members over JSON. Reads need any token, changes a
//! write-scoped one (`require_write`); bodies are read under [`MAX_BODY_BYTES`] and parsed
//! here, so that every refusal is a JSON `{code, message}` with its 4xx status.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ocs_storage::groups::{GroupKind, GroupRecord};
use ocs_storage::{Cell, ComputerRow, GroupId, HostId};
use serde::{Deserialize, Serialize};
use serde_json::Value as JsonValue;
use utoipa::ToSchema;

use super::{
    auth_header, number, page_of_list, respond, rfc3339, with_status, ComputerItem, ComputerPage,
    ErrorBody, ItemPage,
};
use crate::app::api::{authenticate, require_write};
use crate::app::computers::CriterionInput;
use crate::app::groups::{self, criteria, Editor, GroupInput, GroupUpdate};
use crate::app::{AppError, AppState};

/// Largest request body (a members list of 100,000 IDs fits).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/groups", get(groups_get).post(groups_post))
        .route(
            "/api/v1/groups/{id}",
            get(group_get).patch(group_patch).delete(group_delete),
        )
        .route(
            "/api/v1/groups/{id}/members",
            get(members_get).post(members_post).delete(members_delete),
        )
        .route("/api/v1/groups/{id}/refresh", post(refresh_post))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A criterion as the API takes and gives it (the search form's row).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionBody {
    field: String,
    op: String,
    /// A string or a number.
    #[schema(value_type = serde_json::Value)]
    value: JsonValue,
    /// The second bound of `between`.
    #[serde(default)]
    #[schema(value_type = serde_json::Value)]
    value2: JsonValue,
}

/// `POST /api/v1/groups`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    name: String,
    kind: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    criteria: Vec<CriterionBody>,
}

/// `PATCH /api/v1/groups/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchBody {
    name: Option<String>,
    description: Option<String>,
    criteria: Option<Vec<CriterionBody>>,
}

/// `POST` / `DELETE /api/v1/groups/{id}/members`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MembersBody {
    computers: Vec<i64>,
}

/// A group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupItem {
    id: i64,
    name: String,
    kind: &'static str,
    description: String,
    criteria: Option<Vec<CriterionBody>>,
    created_at: Option<String>,
    computed_at: Option<String>,
    members: i64,
}

/// What a members change did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersChange {
    group: i64,
    changed: u64,
}

fn text_of(v: &JsonValue, what: &str) -> Result<String, AppError> {
    match v {
        JsonValue::Null => Ok(String::new()),
        JsonValue::String(s) => Ok(s.clone()),
        JsonValue::Number(n) => Ok(n.to_string()),
        _ => Err(AppError::bad_request(
            "E_BAD_CRITERION",
            format!("{what} is a string or a number"),
        )),
    }
}

fn inputs(body: &[CriterionBody]) -> Result<Vec<CriterionInput>, AppError> {
    body.iter()
        .map(|c| {
            Ok(CriterionInput {
                field: c.field.clone(),
                op: c.op.clone(),
                value: text_of(&c.value, "value")?,
                value2: text_of(&c.value2, "value2")?,
            })
        })
        .collect()
}

fn item(r: GroupRecord, members: i64) -> GroupItem {
    let criteria = (r.kind == GroupKind::Dynamic).then(|| {
        criteria::decode(r.criteria.as_deref().unwrap_or_default())
            .unwrap_or_default()
            .into_iter()
            .map(|c| CriterionBody {
                field: c.field,
                op: c.op,
                value: JsonValue::from(c.value),
                value2: if c.value2.is_empty() {
                    JsonValue::Null
                } else {
                    JsonValue::from(c.value2)
                },
            })
            .collect()
    });
    GroupItem {
        id: r.id.0,
        name: r.name,
        kind: r.kind.as_str(),
        description: r.description,
        criteria,
        created_at: rfc3339(Some(r.created_at)),
        computed_at: (r.computed_at > 0)
            .then(|| rfc3339(Some(r.computed_at)))
            .flatten(),
        members,
    }
}

fn group_id(id: &str) -> Result<GroupId, AppError> {
    id.parse().map(GroupId).map_err(|_| {
        AppError::bad_request("E_BAD_PARAM", format!("group id {id:?} is not a number"))
    })
}

/// Reads a JSON body, every refusal as an [`AppError`].
fn json<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, AppError> {
    super::json_body(body, MAX_BODY_BYTES)
}

#[utoipa::path(get, path = "/api/v1/groups", tag = "groups",
    params(
        ("name" = Option<String>, Query, description = "Name contains (any case)"),
        ("page" = Option<u32>, Query, description = "Page, from 1"),
        ("per_page" = Option<u32>, Query, description = "Rows a page (50; at most 1000)"),
    ),
    responses((status = 200, body = ItemPage<GroupItem>, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one")),
    security(("token" = [])))]
async fn groups_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        let all = groups::list(&state)
            .await?
            .into_iter()
            .map(|g| item(g.group, g.members))
            .collect();
        page_of_list(all, |g: &GroupItem| g.name.as_str(), &params)
    }
    .await;
    respond(result)
}

#[utoipa::path(post, path = "/api/v1/groups", tag = "groups",
    request_body = CreateBody,
    responses((status = 201, body = GroupItem, description = "Created"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 403, body = ErrorBody, description = "A read-only token"), (status = 413, body = ErrorBody, description = "The body is too large")),
    security(("token" = ["write"])))]
async fn groups_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let caller = authenticate(&state, auth_header(&headers)).await?;
        let writer = require_write(&caller)?;
        let body: CreateBody = json(body)?;
        let kind = GroupKind::parse(&body.kind).ok_or_else(|| {
            AppError::bad_request("E_BAD_PARAM", "kind is \"static\" or \"dynamic\"")
        })?;
        let input = GroupInput {
            name: body.name,
            description: body.description,
            kind,
            criteria: inputs(&body.criteria)?,
        };
        let id = groups::create(&state, &Editor::api(&writer), &input).await?;
        let view = groups::view(&state, id).await?;
        Ok(item(view.record, view.members))
    }
    .await;
    with_status(StatusCode::CREATED, result)
}

#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "groups",
    params(("id" = i64, Path, description = "Group ID")),
    responses((status = 200, body = GroupItem, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = [])))]
async fn group_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        let view = groups::view(&state, group_id(&id)?).await?;
        Ok(item(view.record, view.members))
    }
    .await;
    respond(result)
}

#[utoipa::path(patch, path = "/api/v1/groups/{id}", tag = "groups",
    params(("id" = i64, Path, description = "Group ID")),
    request_body = PatchBody,
    responses((status = 200, body = GroupItem, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 403, body = ErrorBody, description = "A read-only token"), (status = 404, body = ErrorBody, description = "No such item"), (status = 413, body = ErrorBody, description = "The body is too large")),
    security(("token" = ["write"])))]
async fn group_patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let caller = authenticate(&state, auth_header(&headers)).await?;
        let writer = require_write(&caller)?;
        let id = group_id(&id)?;
        let body: PatchBody = json(body)?;
        let change = GroupUpdate {
            name: body.name,
            description: body.description,
            criteria: body.criteria.as_deref().map(inputs).transpose()?,
        };
        groups::update(&state, &Editor::api(&writer), id, &change).await?;
        let view = groups::view(&state, id).await?;
        Ok(item(view.record, view.members))
    }
    .await;
    respond(result)
}

#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "groups",
    params(("id" = i64, Path, description = "Group ID")),
    responses((status = 204, description = "Deleted"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 403, body = ErrorBody, description = "A read-only token"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = ["write"])))]
async fn group_delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let caller = authenticate(&state, auth_header(&headers)).await?;
        let writer = require_write(&caller)?;
        groups::delete(&state, &Editor::api(&writer), group_id(&id)?).await
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => respond::<()>(Err(e)),
    }
}

fn text(cell: Option<&Cell>) -> Option<String> {
    match cell {
        Some(Cell::Text(s)) => Some(s.clone()),
        Some(Cell::Integer(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn integer(cell: Option<&Cell>) -> Option<i64> {
    match cell {
        Some(Cell::Integer(n)) => Some(*n),
        _ => None,
    }
}

/// A member row (columns [`groups::API_MEMBER_COLUMNS`]) as the computers list shows it.
fn member(row: ComputerRow) -> ComputerItem {
    let c = |key: &str| {
        groups::API_MEMBER_COLUMNS
            .iter()
            .position(|k| *k == key)
            .and_then(|i| row.cells.get(i))
    };
    ComputerItem {
        id: row.id.0,
        deviceid: text(c("deviceid")).unwrap_or_default(),
        name: text(c("name")),
        tag: text(c("tag")),
        os_name: text(c("os")),
        os_version: text(c("osversion")),
        ip_address: text(c("ipaddr")),
        user: text(c("userid")),
        memory_mb: integer(c("memory")),
        agent: text(c("useragent")),
        last_inventory: rfc3339(integer(c("lastdate"))),
        last_contact: rfc3339(integer(c("lastcome"))),
    }
}

#[utoipa::path(get, path = "/api/v1/groups/{id}/members", tag = "groups",
    params(("id" = i64, Path, description = "Group ID"), ("page" = Option<u32>, Query, description = "Page, from 1"), ("per_page" = Option<u32>, Query, description = "Rows a page (at most 1000)")),
    responses((status = 200, body = ComputerPage, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = [])))]
async fn members_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        let page = number(&params, "page", 1)?;
        let per_page = number(&params, "per_page", 50)?;
        let (total, rows) = groups::api_members(&state, group_id(&id)?, page, per_page).await?;
        Ok(ComputerPage {
            total,
            page,
            per_page,
            items: rows.into_iter().map(member).collect(),
        })
    }
    .await;
    respond(result)
}

async fn members_change(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    body: Result<Bytes, BytesRejection>,
    add: bool,
) -> Result<MembersChange, AppError> {
    let caller = authenticate(state, auth_header(headers)).await?;
    let writer = require_write(&caller)?;
    let group = group_id(id)?;
    let body: MembersBody = json(body)?;
    let ids: Vec<HostId> = body.computers.into_iter().map(HostId).collect();
    let by = Editor::api(&writer);
    let changed = if add {
        groups::include_members(state, &by, group, &ids).await?
    } else {
        groups::remove_members_as(state, &by, group, &ids).await?
    };
    Ok(MembersChange {
        group: group.0,
        changed,
    })
}

#[utoipa::path(post, path = "/api/v1/groups/{id}/members", tag = "groups",
    params(("id" = i64, Path, description = "Group ID")),
    request_body = MembersBody,
    responses((status = 200, body = MembersChange, description = "Computers added (forced in, for a dynamic group)"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 403, body = ErrorBody, description = "A read-only token"), (status = 404, body = ErrorBody, description = "No such item"), (status = 413, body = ErrorBody, description = "The body is too large")),
    security(("token" = ["write"])))]
async fn members_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(members_change(&state, &headers, &id, body, true).await)
}

#[utoipa::path(delete, path = "/api/v1/groups/{id}/members", tag = "groups",
    params(("id" = i64, Path, description = "Group ID")),
    request_body = MembersBody,
    responses((status = 200, body = MembersChange, description = "Computers removed (forced out, for a dynamic group)"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 403, body = ErrorBody, description = "A read-only token"), (status = 404, body = ErrorBody, description = "No such item"), (status = 413, body = ErrorBody, description = "The body is too large")),
    security(("token" = ["write"])))]
async fn members_delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(members_change(&state, &headers, &id, body, false).await)
}

#[utoipa::path(post, path = "/api/v1/groups/{id}/refresh", tag = "groups",
    params(("id" = i64, Path, description = "Group ID")),
    responses((status = 200, body = GroupItem, description = "Recomputed now"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 403, body = ErrorBody, description = "A read-only token"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = ["write"])))]
async fn refresh_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let caller = authenticate(&state, auth_header(&headers)).await?;
        let writer = require_write(&caller)?;
        let id = group_id(&id)?;
        groups::recompute(&state, &Editor::api(&writer), id).await?;
        let view = groups::view(&state, id).await?;
        Ok(item(view.record, view.members))
    }
    .await;
    respond(result)
}
