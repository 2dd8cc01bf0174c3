//! `/api/v1/options`: the server options (`OCS_OPT_*`) over JSON. Reads need any token;
//! changes a token of the admin scope (`require_admin`), validated and saved whole or not
//! at all, as the console's options page does.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::Value as JsonValue;
use utoipa::ToSchema;

use super::{auth_header, json_body, respond, ErrorBody};
use crate::app::admin::{self, OptionValue};
use crate::app::api::{authenticate, require_admin};
use crate::app::options::Kind;
use crate::app::{AppError, AppState};

/// Largest request body (every option of the catalogue fits many times over).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/options", get(options_get).patch(options_patch))
        .route("/api/v1/options/{name}", get(option_get))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// One server option.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptionItem {
    /// Its name, without `OCS_OPT_`.
    name: &'static str,
    /// The value in effect, as text.
    value: String,
    /// The value of a fresh install.
    default: &'static str,
    /// `int` or `text`.
    kind: &'static str,
    /// What it does.
    description: &'static str,
}

/// What a change did.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptionsChange {
    /// Options whose value changed.
    changed: usize,
    /// Every option after the change.
    options: Vec<OptionItem>,
}

fn item(o: OptionValue) -> OptionItem {
    OptionItem {
        name: o.def.name,
        value: o.value,
        default: o.def.default,
        kind: match o.def.kind {
            Kind::Int => "int",
            Kind::Text => "text",
        },
        description: o.def.description,
    }
}

async fn all(state: &AppState) -> Result<Vec<OptionItem>, AppError> {
    Ok(admin::options(state).await?.into_iter().map(item).collect())
}

#[utoipa::path(get, path = "/api/v1/options", tag = "options",
    responses(
        (status = 200, body = Vec<OptionItem>, description = "Every option of the catalogue"),
        (status = 401, body = ErrorBody, description = "No token, or not a valid one"),
    ),
    security(("token" = [])))]
async fn options_get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(
        async {
            authenticate(&state, auth_header(&headers)).await?;
            all(&state).await
        }
        .await,
    )
}

#[utoipa::path(get, path = "/api/v1/options/{name}", tag = "options",
    params(("name" = String, Path, description = "The option, e.g. PROLOG_FREQ")),
    responses(
        (status = 200, body = OptionItem, description = "OK"),
        (status = 401, body = ErrorBody, description = "No token, or not a valid one"),
        (status = 404, body = ErrorBody, description = "No such option"),
    ),
    security(("token" = [])))]
async fn option_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    respond(
        async {
            authenticate(&state, auth_header(&headers)).await?;
            let wanted = name.trim().to_ascii_uppercase();
            all(&state)
                .await?
                .into_iter()
                .find(|o| o.name == wanted)
                .ok_or_else(|| AppError::NotFound(format!("option {name:?}")))
        }
        .await,
    )
}

/// `PATCH /api/v1/options`: `{"NAME": value, …}`, each value a string or a number.
#[utoipa::path(patch, path = "/api/v1/options", tag = "options",
    request_body(content = BTreeMap<String, serde_json::Value>,
        description = "The options to set, by name: `{\"PROLOG_FREQ\": 12}`"),
    responses(
        (status = 200, body = OptionsChange, description = "Saved, every option valid"),
        (status = 400, body = ErrorBody, description = "An unknown option or an invalid value: nothing saved"),
        (status = 401, body = ErrorBody, description = "No token, or not a valid one"),
        (status = 403, body = ErrorBody, description = "A token without the admin scope"),
        (status = 413, body = ErrorBody, description = "The body is too large"),
    ),
    security(("token" = ["admin"])))]
async fn options_patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(
        async {
            let caller = authenticate(&state, auth_header(&headers)).await?;
            let admin = require_admin(&caller)?;
            let body: BTreeMap<String, JsonValue> = json_body(body, MAX_BODY_BYTES)?;
            if body.is_empty() {
                return Err(AppError::bad_request(
                    "E_BAD_OPTION",
                    "the body names no option: {\"NAME\": value, …}",
                ));
            }
            let submitted = body
                .into_iter()
                .map(|(name, value)| {
                    let text = match value {
                        JsonValue::String(s) => s,
                        JsonValue::Number(n) => n.to_string(),
                        _ => {
                            return Err(AppError::bad_request(
                                "E_BAD_OPTION",
                                format!("the value of {name} is a string or a number"),
                            ))
                        }
                    };
                    Ok((name.trim().to_ascii_uppercase(), text))
                })
                .collect::<Result<Vec<_>, AppError>>()?;
            let changed = admin::save_options_api(&state, &admin, &submitted).await?;
            Ok(OptionsChange {
                changed,
                options: all(&state).await?,
            })
        }
        .await,
    )
}
