//! `/api/v1`: the JSON API, behind bearer tokens; requests that change data need a token
//! with the write scope.

mod duplicates_api;
mod groups_api;
mod history_api;
mod networks_api;
mod ocsapi;
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
}

/// One computer in a list.
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
pub struct ComputerPage {
    total: i64,
    page: u32,
    per_page: u32,
    items: Vec<ComputerItem>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ErrorBody<'a> {
    code: &'a str,
    message: String,
}

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
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ComputerPatch {
    tag: Option<String>,
    #[serde(default)]
    fields: HashMap<String, String>,
}

/// `PATCH /api/v1/computers/{id}`: sets the TAG and administrative fields (by label or
/// `fields_<id>`); answers the computer as `GET` does.
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

fn json_value(v: &Value) -> JsonValue {
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

/// The computer: list fields, then `hardware`, `accountinfo`, and one array per section.
fn detail(d: HostDetail) -> Map<String, JsonValue> {
    let mut out = match serde_json::to_value(item(d.summary)) {
        Ok(JsonValue::Object(map)) => map,
        _ => Map::new(),
    };
    out.insert("quality".into(), JsonValue::from(d.quality));
    out.insert("fidelity".into(), JsonValue::from(d.fidelity));
    out.insert("checksum".into(), JsonValue::from(d.checksum));
    out.insert(
        "ip_source".into(),
        d.ipsrc.map_or(JsonValue::Null, JsonValue::from),
    );
    if let JsonValue::Array(mut hw) = rows(&d.hardware) {
        out.insert("hardware".into(), hw.pop().unwrap_or(JsonValue::Null));
    }
    out.insert(
        "accountinfo".into(),
        JsonValue::Object(
            d.accountinfo
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v.map_or(JsonValue::Null, JsonValue::from)))
                .collect(),
        ),
    );
    for section in &d.sections {
        out.insert(section.table.to_owned(), rows(section));
    }
    out
}
