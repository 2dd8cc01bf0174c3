//! `/ocsapi/v1`: the original's REST API, same routes and JSON shapes (see `app::ocsapi`).

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use ocs_storage::RawRow;
use serde_json::{json, Map, Value as JsonValue};

use crate::app::ocsapi::{self, LegacyComputer};
use crate::app::{AppError, AppState};
use crate::http::api::{json_value, param, respond};

/// Routes of the legacy API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ocsapi/v1/computers/listID", get(list_ids))
        .route("/ocsapi/v1/computers", get(computers))
        .route("/ocsapi/v1/computers/search", get(search))
        .route("/ocsapi/v1/computers/lastupdate", get(lastupdate))
        .route(
            "/ocsapi/v1/computers/lastupdate/{timestamp}",
            get(lastupdate_since),
        )
        .route("/ocsapi/v1/computer/{id}", get(computer))
        .route("/ocsapi/v1/computer/{id}/{section}", get(computer_section))
        .route("/ocsapi/v1/softwares", get(softwares))
        .route("/ocsapi/v1/ipdiscover", get(ipdiscover))
        .route(
            "/ocsapi/v1/ipdiscover/network/{netid}",
            get(ipdiscover_network),
        )
        .route("/ocsapi/v1/ipdiscover/tag/{tag}", get(ipdiscover_tag))
        .route("/ocsapi/v1/snmps/typeList", get(snmp_types))
        .route("/ocsapi/v1/snmp/{table}", get(snmp_table))
        .route("/ocsapi/v1/snmp/{table}/{id}", get(snmp_device))
        .route("/ocsapi/v1/cve/{what}", get(cve))
}

/// A caller the legacy API accepted (a token or a web-services account); a request without
/// one is answered 401 before its handler runs, with a challenge for Basic credentials.
struct Legacy;

impl FromRequestParts<AppState> for Legacy {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        let address =
            crate::http::client::client_ip(&state.config, &parts.headers, peer).to_string();
        match ocsapi::authenticate(state, authorization, &address).await {
            Ok(reader) => {
                tracing::debug!(reader = reader.name(), "legacy API request");
                Ok(Legacy)
            }
            Err(e) => Err(reply(Err(e))),
        }
    }
}

/// The JSON of `result`; a 401 challenges for Basic credentials, which the original's
/// scripts send.
fn reply(result: Result<JsonValue, AppError>) -> Response {
    let mut response = respond(result);
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"OCS Inventory web services\""),
        );
    }
    response
}

fn object(row: &RawRow) -> JsonValue {
    JsonValue::Object(
        row.iter()
            .map(|(k, v)| (k.clone(), json_value(v)))
            .collect(),
    )
}

fn objects(rows: &[RawRow]) -> JsonValue {
    JsonValue::Array(rows.iter().map(object).collect())
}

/// `{"<id>": {"hardware": {…}, "<table>": […], …}, …}`, or `null` for none (as the original).
fn computers_json(computers: &[LegacyComputer]) -> JsonValue {
    if computers.is_empty() {
        return JsonValue::Null;
    }
    let mut out = Map::new();
    for c in computers {
        let mut tables = Map::new();
        tables.insert("hardware".into(), object(&c.hardware));
        for (name, rows) in &c.tables {
            tables.insert(name.clone(), objects(rows));
        }
        out.insert(c.id.to_string(), JsonValue::Object(tables));
    }
    JsonValue::Object(out)
}

fn ids_json(ids: Vec<i64>) -> JsonValue {
    JsonValue::Array(ids.into_iter().map(|id| json!({ "ID": id })).collect())
}

fn number(text: &str, what: &str) -> Result<i64, AppError> {
    text.parse().map_err(|_| {
        AppError::bad_request("E_BAD_PARAM", format!("{what} {text:?} is not a number"))
    })
}

async fn list_ids(State(state): State<AppState>, _: Legacy) -> Response {
    reply(async { Ok(ids_json(ocsapi::list_ids(&state).await?)) }.await)
}

async fn computers(
    State(state): State<AppState>,
    _: Legacy,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    reply(
        async {
            let (start, limit) = ocsapi::page(param(&p, "start"), param(&p, "limit"), true)?;
            Ok(computers_json(
                &ocsapi::computers(&state, start, limit).await?,
            ))
        }
        .await,
    )
}

async fn computer(State(state): State<AppState>, _: Legacy, Path(id): Path<String>) -> Response {
    reply(
        async {
            let id = number(&id, "computer id")?;
            let found = ocsapi::computer(&state, id).await?;
            Ok(computers_json(found.as_slice()))
        }
        .await,
    )
}

async fn computer_section(
    State(state): State<AppState>,
    _: Legacy,
    Path((id, section)): Path<(String, String)>,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    reply(
        async {
            let id = number(&id, "computer id")?;
            let condition = ocsapi::condition(
                param(&p, "where"),
                param(&p, "operator"),
                param(&p, "value"),
            )?;
            let found = ocsapi::computer_section(&state, id, &section, condition.as_ref()).await?;
            Ok(computers_json(found.as_slice()))
        }
        .await,
    )
}

async fn search(
    State(state): State<AppState>,
    _: Legacy,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    reply(async { Ok(ids_json(ocsapi::search(&state, &params).await?)) }.await)
}

async fn lastupdate(State(state): State<AppState>, _: Legacy) -> Response {
    reply(async { Ok(ids_json(ocsapi::updated_since(&state, None).await?)) }.await)
}

async fn lastupdate_since(
    State(state): State<AppState>,
    _: Legacy,
    Path(timestamp): Path<String>,
) -> Response {
    reply(
        async {
            Ok(ids_json(
                ocsapi::updated_since(&state, Some(&timestamp)).await?,
            ))
        }
        .await,
    )
}

async fn softwares(
    State(state): State<AppState>,
    _: Legacy,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    reply(
        async {
            let (start, limit) = ocsapi::page(param(&p, "start"), param(&p, "limit"), false)?;
            let rows = ocsapi::softwares(&state, start, limit, param(&p, "soft")).await?;
            Ok(JsonValue::Array(
            rows.into_iter()
                .map(|(name, publisher, version)| {
                    json!({ "NAME": name, "PUBLISHER": publisher, "VERSION": version })
                })
                .collect(),
        ))
        }
        .await,
    )
}

async fn ipdiscover(State(state): State<AppState>, _: Legacy) -> Response {
    reply(
        async {
            let netids = ocsapi::networks(&state).await?;
            Ok(JsonValue::Array(
                netids.into_iter().map(|n| json!({ "NETID": n })).collect(),
            ))
        }
        .await,
    )
}

async fn ipdiscover_network(
    State(state): State<AppState>,
    _: Legacy,
    Path(netid): Path<String>,
) -> Response {
    reply(async { Ok(objects(&ocsapi::discovered(&state, false, &netid).await?)) }.await)
}

async fn ipdiscover_tag(
    State(state): State<AppState>,
    _: Legacy,
    Path(tag): Path<String>,
) -> Response {
    reply(async { Ok(objects(&ocsapi::discovered(&state, true, &tag).await?)) }.await)
}

async fn snmp_types(State(state): State<AppState>, _: Legacy) -> Response {
    reply(
        async {
            let types = ocsapi::snmp_types(&state).await?;
            Ok(JsonValue::Array(
            types
                .into_iter()
                .map(|(id, table, name)| {
                    json!({ "ID": id, "TABLE_TYPE_NAME": table, "TYPE_NAME": name })
                })
                .collect(),
        ))
        }
        .await,
    )
}

async fn snmp_table(
    State(state): State<AppState>,
    _: Legacy,
    Path(table): Path<String>,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    reply(
        async {
            let (start, limit) = ocsapi::page(param(&p, "start"), param(&p, "limit"), false)?;
            Ok(objects(
                &ocsapi::snmp_devices(&state, &table, None, start, limit).await?,
            ))
        }
        .await,
    )
}

async fn snmp_device(
    State(state): State<AppState>,
    _: Legacy,
    Path((table, id)): Path<(String, String)>,
) -> Response {
    reply(
        async {
            let id = number(&id, "device id")?;
            Ok(objects(
                &ocsapi::snmp_devices(&state, &table, Some(id), 0, 1).await?,
            ))
        }
        .await,
    )
}

/// The CVE routes of the original's HEAD: it fills them from a CVE-Search server, which we
/// do not query; they answer an empty list so that scripts calling them keep working.
async fn cve(_: Legacy, Path(what): Path<String>) -> Response {
    const KNOWN: [&str; 5] = ["cvss", "software", "computer", "computerslist", "history"];
    if !KNOWN.contains(&what.as_str()) {
        return reply(Err(AppError::NotFound(format!("/ocsapi/v1/cve/{what}"))));
    }
    reply(Ok(JsonValue::Array(Vec::new())))
}
