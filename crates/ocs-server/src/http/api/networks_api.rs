//! `/api/v1/networks…`: the discovered networks with their counts, and one network's
//! inventoried, non-inventoried (with the MAC vendor) or identified devices, read-only, with
//! any token. Paging is the other lists' (`page`, `per_page`, `{total, page, per_page,
//! items}`); a bad network address, kind, sort or page is a 400 `{code, message}`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;

use super::{auth_header, english, param, respond, rfc3339, ErrorBody, ItemPage};
use crate::app::api::authenticate;
use crate::app::ipdiscover::networks::{
    self, netid_param, DeviceKind, DeviceRows, DevicesQuery, NetworksQuery,
};
use crate::app::{AppError, AppState};

/// Routes of the networks API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/networks", get(networks_get))
        .route("/api/v1/networks/{id}/devices", get(devices_get))
}

/// One network.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkItem {
    netid: String,
    name: String,
    mask: String,
    inventoried: i64,
    uninventoried: i64,
    agents: i64,
    identified: i64,
}

/// One device of a network; which fields are set depends on the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceItem {
    mac: String,
    ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    computer_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vendor: Option<Option<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registered_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registered_at: Option<Option<String>>,
}

impl DeviceItem {
    fn new(mac: String, ip: String) -> DeviceItem {
        DeviceItem {
            mac,
            ip,
            computer_id: None,
            name: None,
            vendor: None,
            first_seen: None,
            last_seen: None,
            description: None,
            device_type: None,
            registered_by: None,
            registered_at: None,
        }
    }
}

fn time(t: i64) -> Option<String> {
    (t > 0).then_some(t).and_then(|t| rfc3339(Some(t)))
}

#[utoipa::path(get, path = "/api/v1/networks", tag = "networks",
    params(("q" = Option<String>, Query, description = "Network or name contains"), ("sort" = Option<String>, Query, description = "Column to sort by"), ("dir" = Option<String>, Query, description = "asc or desc"), ("page" = Option<u32>, Query, description = "Page, from 1"), ("per_page" = Option<u32>, Query, description = "Rows a page (at most 1000)")),
    responses((status = 200, body = ItemPage<NetworkItem>, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one")),
    security(("token" = [])))]
async fn networks_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        let q = NetworksQuery::parse(
            param(&p, "q"),
            param(&p, "sort"),
            param(&p, "dir"),
            param(&p, "page"),
            param(&p, "per_page"),
        )
        .map_err(english)?;
        let (total, rows) = networks::list(&state, &q).await?;
        let page = q.page.unwrap_or(ocs_storage::Page {
            number: 1,
            size: networks::DEFAULT_PER_PAGE,
        });
        Ok(ItemPage {
            total: i64::try_from(total).unwrap_or(i64::MAX),
            page: page.number,
            per_page: page.size,
            items: rows
                .into_iter()
                .map(|n| NetworkItem {
                    netid: n.netid,
                    name: n.name,
                    mask: n.mask,
                    inventoried: n.inventoried,
                    uninventoried: n.uninventoried,
                    agents: n.agents,
                    identified: n.identified,
                })
                .collect(),
        })
    }
    .await;
    respond(result)
}

fn items(rows: DeviceRows) -> Vec<DeviceItem> {
    match rows {
        DeviceRows::Inventoried(rows) => rows
            .into_iter()
            .map(|r| DeviceItem {
                computer_id: Some(r.host_id),
                name: Some(r.name),
                ..DeviceItem::new(r.mac, r.ip)
            })
            .collect(),
        DeviceRows::Uninventoried(rows) => rows
            .into_iter()
            .map(|r| {
                let d = r.device;
                DeviceItem {
                    name: Some(if d.name == "-" { String::new() } else { d.name }),
                    vendor: Some(r.vendor),
                    first_seen: Some(time(d.first_seen)),
                    last_seen: Some(time(d.last_seen)),
                    ..DeviceItem::new(d.mac, d.ip)
                }
            })
            .collect(),
        DeviceRows::Identified(rows) => rows
            .into_iter()
            .map(|r| DeviceItem {
                description: Some(r.description),
                device_type: Some(r.device_type),
                registered_by: Some(r.registered_by),
                registered_at: Some(time(r.registered_at)),
                ..DeviceItem::new(r.mac, r.ip)
            })
            .collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/networks/{id}/devices", tag = "networks",
    params(("id" = String, Path, description = "The network (NETID, e.g. 198.51.100.0)"), ("kind" = String, Query, description = "inventoried, uninventoried or identified"), ("sort" = Option<String>, Query, description = "Column to sort by"), ("dir" = Option<String>, Query, description = "asc or desc"), ("page" = Option<u32>, Query, description = "Page, from 1"), ("per_page" = Option<u32>, Query, description = "Rows a page (at most 1000)")),
    responses((status = 200, body = ItemPage<DeviceItem>, description = "OK"), (status = 400, body = ErrorBody, description = "A parameter or the body is invalid"), (status = 401, body = ErrorBody, description = "No token, or not a valid one"), (status = 404, body = ErrorBody, description = "No such item")),
    security(("token" = [])))]
async fn devices_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        authenticate(&state, auth_header(&headers)).await?;
        let netid = netid_param(&id).map_err(english)?;
        let kind = match param(&p, "kind") {
            Some(k) => DeviceKind::parse(k).map_err(english)?,
            None => {
                return Err(AppError::bad_request(
                    "E_BAD_KIND",
                    "kind is required: inventoried, uninventoried or identified",
                ))
            }
        };
        let q = DevicesQuery::parse(
            kind,
            param(&p, "sort"),
            param(&p, "dir"),
            param(&p, "page"),
            param(&p, "per_page"),
        )
        .map_err(english)?;
        let (total, rows) = networks::devices(&state, &netid, &q).await?;
        let page = q.page.unwrap_or(ocs_storage::Page {
            number: 1,
            size: networks::DEFAULT_PER_PAGE,
        });
        Ok(ItemPage {
            total,
            page: page.number,
            per_page: page.size,
            items: items(rows),
        })
    }
    .await;
    respond(result)
}
