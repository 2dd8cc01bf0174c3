//! `/api/v1`: the JSON API, behind bearer tokens; requests that change data need a token
//! with the write scope, changes of server settings one with the admin scope. Its OpenAPI
//! document is generated from the annotations here (`openapi`).

mod duplicates_api;
mod groups_api;
mod history_api;
mod networks_api;
mod ocsapi;
mod openapi;
mod options_api;
mod packages_api;
mod packages_status_api;
mod software_api;

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ocs_proto::Value;
use ocs_storage::{HostDetail, HostFilter, HostSummary, SectionData};
use serde::Serialize;
use serde_json::{Map, Value as JsonValue};
use utoipa::ToSchema;

use crate::app::i18n::Tr;
use crate::app::{api, computers, deletion, AppError, AppState};

/// Largest JSON body accepted.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Routes of the API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/computers", get(computers_list_get))
        .route(
            "/api/v1/computers/{id}",
            get(computer_get)
                .delete(computer_delete)
                .patch(computer_patch),
        )
        .merge(groups_api::router())
        .merge(networks_api::router())
        .merge(software_api::router())
        .merge(duplicates_api::router())
        .merge(history_api::router())
        .merge(packages_status_api::router())
        .merge(packages_api::router())
        .merge(ocsapi::router())
        .merge(options_api::router())
        .merge(openapi::router())
}

/// One computer in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComputerItem {
    id: i64,
    deviceid: String,
    name: Option<String>,
    tag: Option<String>,
    os_name: Option<String>,
    os_version: Option<String>,
    ip_address: Option<String>,
    user: Option<String>,
    memory_mb: Option<i64>,
    agent: Option<String>,
    last_inventory: Option<String>,
    last_contact: Option<String>,
}

/// A page of computers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComputerPage {
    total: i64,
    page: u32,
    per_page: u32,
    items: Vec<ComputerItem>,
}

/// A page of a list: how many match in all, which page, and its items.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemPage<T> {
    pub(crate) total: i64,
    pub(crate) page: u32,
    pub(crate) per_page: u32,
    pub(crate) items: Vec<T>,
}

/// Pages a short list read whole (groups, packages: hundreds, not millions) with the same
/// `page`/`per_page` rules as every other list, and the same `name` filter (contains, any
/// case) as the computers.
pub(crate) fn page_of_list<T>(
    items: Vec<T>,
    name_of: impl Fn(&T) -> &str,
    params: &HashMap<String, String>,
) -> Result<ItemPage<T>, AppError> {
    let page = number(params, "page", 1)?;
    let per_page = number(params, "per_page", 50)?;
    api::check_page(page, per_page)?;
    let wanted = params.get("name").map(|n| n.to_lowercase());
    let matching: Vec<T> = items
        .into_iter()
        .filter(|i| {
            wanted
                .as_deref()
                .is_none_or(|w| name_of(i).to_lowercase().contains(w))
        })
        .collect();
    let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from((u64::from(page) - 1) * u64::from(per_page)).unwrap_or(usize::MAX);
    let items = matching
        .into_iter()
        .skip(skip)
        .take(per_page as usize)
        .collect();
    Ok(ItemPage {
        total,
        page,
        per_page,
        items,
    })
}

/// Every refusal and failure: a stable code and a sentence saying what to do.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// Stable, for scripts (`E_BAD_PARAM`, `E_UNAUTHORIZED`, `E_NOT_FOUND`…).
    code: &'static str,
    /// For people.
    message: String,
}

/// A computer: its list fields, then `hardware`, `accountinfo`, and one array of rows per
/// inventory section, by table name (`cpus`, `networks`, `software`…).
#[derive(Debug, Serialize, ToSchema)]
pub struct ComputerDetail {
    #[serde(flatten)]
    summary: ComputerItem,
    quality: f64,
    fidelity: i64,
    checksum: i64,
    ip_source: Option<String>,
    /// The `hardware` row, by column.
    #[schema(value_type = Object)]
    hardware: JsonValue,
    /// Administrative data, by field (`tag`, `fields_3`…).
    accountinfo: std::collections::BTreeMap<String, Option<String>>,
    /// Sections the agent sent that the catalogue does not know (plugins'), by name: rows
    /// of text fields, as sent.
    undeclared_sections:
        std::collections::BTreeMap<String, Vec<std::collections::BTreeMap<String, String>>>,
    /// Each section's rows, an array per table name beside the fields above (the
    /// document cannot say "arrays" for these keys only: it allows any value).
    #[serde(flatten)]
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    sections: Map<String, JsonValue>,
}

#[utoipa::path(get, path = "/api/v1/computers", tag = "computers",
    params(
        ("page" = Option<u32>, Query, description = "Page, from 1"),
        ("per_page" = Option<u32>, Query, description = "Computers a page (50; at most 1000)"),
        ("name" = Option<String>, Query, description = "Name contains (any case)"),
        ("tag" = Option<String>, Query, description = "TAG equals"),
    ),
    responses(
        (status = 200, body = ComputerPage, description = "OK"),
        (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"),
        (status = 401, body = ErrorBody, description = "No token, or not a valid one"),
    ),
    security(("token" = [])))]
async fn computers_list_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        api::authenticate(&state, auth_header(&headers)).await?;
        let page = number(&params, "page", 1)?;
        let per_page = number(&params, "per_page", 50)?;
        let filter = HostFilter {
            name: params.get("name").cloned(),
            tag: params.get("tag").cloned(),
        };
        let (total, items) = api::list_computers(&state, &filter, page, per_page).await?;
        Ok(ComputerPage {
            total,
            page,
            per_page,
            items: items.into_iter().map(item).collect(),
        })
    }
    .await;
    respond(result)
}

#[utoipa::path(get, path = "/api/v1/computers/{id}", tag = "computers",
    params(("id" = i64, Path, description = "Computer ID")),
    responses(
        (status = 200, body = ComputerDetail, description = "OK"),
        (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"),
        (status = 401, body = ErrorBody, description = "No token, or not a valid one"),
        (status = 404, body = ErrorBody, description = "No such item"),
    ),
    security(("token" = [])))]
async fn computer_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        api::authenticate(&state, auth_header(&headers)).await?;
        let id: i64 = id.parse().map_err(|_| {
            AppError::bad_request("E_BAD_PARAM", format!("computer id {id:?} is not a number"))
        })?;
        Ok(detail(api::computer(&state, id).await?))
    }
    .await;
    respond(result)
}

/// `DELETE /api/v1/computers/{id}`: 204, or 404 for an unknown computer.
#[utoipa::path(delete, path = "/api/v1/computers/{id}", tag = "computers",
    params(("id" = i64, Path, description = "Computer ID")),
    responses(
        (status = 204, description = "Deleted, every row of it"),
        (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"),
        (status = 401, body = ErrorBody, description = "No token, or not a valid one"),
        (status = 403, body = ErrorBody, description = "A read-only token"),
        (status = 404, body = ErrorBody, description = "No such item"),
    ),
    security(("token" = ["write"])))]
async fn computer_delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let caller = api::authenticate(&state, auth_header(&headers)).await?;
        let writer = api::require_write(&caller)?;
        let id = computer_id(&id)?;
        deletion::delete_computer(&state, &deletion::Deleter::from(&writer), id).await
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => respond::<()>(Err(e)),
    }
}

/// The body of `PATCH /api/v1/computers/{id}`.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComputerPatch {
    /// The new TAG.
    tag: Option<String>,
    /// Administrative fields to set, by label or `fields_<id>`.
    #[serde(default)]
    fields: HashMap<String, String>,
}

/// `PATCH /api/v1/computers/{id}`: sets the TAG and administrative fields (by label or
/// `fields_<id>`); answers the computer as `GET` does.
#[utoipa::path(patch, path = "/api/v1/computers/{id}", tag = "computers",
    params(("id" = i64, Path, description = "Computer ID")),
    request_body = ComputerPatch,
    responses(
        (status = 200, body = ComputerDetail, description = "OK"),
        (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"),
        (status = 401, body = ErrorBody, description = "No token, or not a valid one"),
        (status = 403, body = ErrorBody, description = "A read-only token"),
        (status = 404, body = ErrorBody, description = "No such item"),
        (status = 413, body = ErrorBody, description = "The body is too large"),
    ),
    security(("token" = ["write"])))]
async fn computer_patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let result = async {
        let caller = api::authenticate(&state, auth_header(&headers)).await?;
        let writer = api::require_write(&caller)?;
        let id = computer_id(&id)?;
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| AppError::TooLarge {
                code: "E_BODY_TOO_LARGE",
                message: format!("the body is limited to {MAX_BODY_BYTES} bytes"),
            })?;
        let patch: ComputerPatch = serde_json::from_slice(&bytes).map_err(|e| {
            AppError::bad_request(
                "E_BAD_JSON",
                format!("expected {{\"tag\": \"…\", \"fields\": {{\"label\": \"value\"}}}}: {e}"),
            )
        })?;
        let mut fields: Vec<(String, String)> = patch.fields.into_iter().collect();
        fields.sort();
        computers::patch_admin_data(&state, &writer, id, patch.tag.as_deref(), &fields).await?;
        Ok(detail(api::computer(&state, id).await?))
    }
    .await;
    respond(result)
}

fn computer_id(id: &str) -> Result<i64, AppError> {
    id.parse().map_err(|_| {
        AppError::bad_request("E_BAD_PARAM", format!("computer id {id:?} is not a number"))
    })
}

pub(crate) fn auth_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

pub(crate) fn number(
    params: &HashMap<String, String>,
    key: &str,
    default: u32,
) -> Result<u32, AppError> {
    match params.get(key) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            AppError::bad_request(
                "E_BAD_PARAM",
                format!("{key} must be a positive integer, not {v:?}"),
            )
        }),
    }
}

/// Reads a JSON body of at most `limit` bytes (the route's `DefaultBodyLimit`), every
/// refusal as an [`AppError`].
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    limit: usize,
) -> Result<T, AppError> {
    let bytes = body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge {
                code: "E_BODY_TOO_LARGE",
                message: format!("the body is larger than {limit} bytes"),
            }
        } else {
            AppError::bad_request("E_BAD_BODY", e.body_text())
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| AppError::bad_request("E_BAD_JSON", format!("invalid JSON body: {e}")))
}

/// [`respond`] with another status than 200 on success.
pub(crate) fn with_status<T: Serialize>(
    status: axum::http::StatusCode,
    result: Result<T, AppError>,
) -> Response {
    let ok = result.is_ok();
    let mut response = respond(result);
    if ok {
        *response.status_mut() = status;
    }
    response
}

pub(crate) fn respond<T: Serialize>(result: Result<T, AppError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            if error.status() >= 500 {
                tracing::error!(code = error.code(), reason = %error, "API request failed");
            } else {
                tracing::warn!(code = error.code(), reason = %error, "API request refused");
            }
            let status =
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = match &error {
                AppError::Internal(_) => "internal error".to_owned(),
                e => e.to_string(),
            };
            let mut response = (
                status,
                Json(ErrorBody {
                    code: error.code(),
                    message,
                }),
            )
                .into_response();
            if status == StatusCode::UNAUTHORIZED {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            response
        }
    }
}

/// One query parameter, if given.
pub(crate) fn param<'a>(p: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    p.get(key).map(String::as_str)
}

/// The API answers in English: a refusal's catalogue key becomes its English text.
pub(crate) fn english(e: AppError) -> AppError {
    match e {
        AppError::BadRequest { code, message } => {
            let tr = Tr::new("en");
            let message = if tr.has(&message) {
                tr.get(&message).to_owned()
            } else {
                message
            };
            AppError::BadRequest { code, message }
        }
        e => e,
    }
}

pub(crate) fn rfc3339(t: Option<i64>) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(t?).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn item(h: HostSummary) -> ComputerItem {
    ComputerItem {
        id: h.id.0,
        deviceid: h.deviceid,
        name: h.name,
        tag: h.tag,
        os_name: h.osname,
        os_version: h.osversion,
        ip_address: h.ipaddr,
        user: h.userid,
        memory_mb: h.memory,
        agent: h.useragent,
        last_inventory: rfc3339(h.lastdate),
        last_contact: rfc3339(h.lastcome),
    }
}

pub(crate) fn json_value(v: &Value) -> JsonValue {
    match v {
        Value::Null => JsonValue::Null,
        Value::Int(n) => JsonValue::from(*n),
        Value::Text(s) => JsonValue::from(s.as_str()),
    }
}

fn rows(section: &SectionData) -> JsonValue {
    JsonValue::Array(
        section
            .rows
            .iter()
            .map(|row| {
                JsonValue::Object(
                    section
                        .columns
                        .iter()
                        .zip(row)
                        .map(|((c, _), v)| ((*c).to_owned(), json_value(v)))
                        .collect(),
                )
            })
            .collect(),
    )
}

/// The computer as the API shows it.
fn detail((d, extra): (HostDetail, Vec<ocs_proto::ExtraSection>)) -> ComputerDetail {
    let hardware = match rows(&d.hardware) {
        JsonValue::Array(mut hw) => hw.pop().unwrap_or(JsonValue::Null),
        _ => JsonValue::Null,
    };
    ComputerDetail {
        summary: item(d.summary),
        quality: d.quality,
        fidelity: d.fidelity,
        checksum: d.checksum,
        ip_source: d.ipsrc,
        hardware,
        accountinfo: d
            .accountinfo
            .into_iter()
            .map(|(k, v)| (k.to_lowercase(), v))
            .collect(),
        undeclared_sections: extra
            .into_iter()
            .map(|s| {
                (
                    s.name,
                    s.rows
                        .into_iter()
                        .map(|r| r.into_iter().collect())
                        .collect(),
                )
            })
            .collect(),
        sections: d
            .sections
            .iter()
            .map(|section| (section.table.to_owned(), rows(section)))
            .collect(),
    }
}
