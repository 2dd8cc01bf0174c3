//! Network discovery console pages: the networks list (`/networks`, CSV), each network's
//! inventoried, non-inventoried and identified lists (`/networks/{netid}/{kind}`, CSV), and
//! deleting a non-inventoried device. Reading needs a signed-in account, deleting an
//! administrator; `app::ipdiscover::networks` checks every parameter.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use super::computers::{csv_download, date_text};
use super::paging::{pager, param, query_string, Head, Pager, Params};
use super::{outcome, page_or_error, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::i18n::Tr;
use crate::app::ipdiscover::networks::{
    self, netid_param, DeviceKind, DeviceRows, DevicesQuery, NetworkSort, NetworksQuery,
};
use crate::app::{csv_export, AppError, AppState};
use ocs_storage::ipdiscover::networks::NetworkSummary;

/// Routes of these pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/networks", get(networks_get))
        .route("/networks.csv", get(networks_csv_get))
        .route("/networks/{netid}/{kind}", get(devices_get))
        .route("/networks/devices/{mac}/delete", post(device_delete_post))
}

/// One network as listed.
struct NetworkLine {
    netid: String,
    name: String,
    mask: String,
    inventoried: i64,
    uninventoried: i64,
    agents: i64,
    identified: i64,
    /// `netid=…` for the scanning computers page.
    agents_query: String,
}

impl From<NetworkSummary> for NetworkLine {
    fn from(n: NetworkSummary) -> NetworkLine {
        NetworkLine {
            agents_query: query_string(&[("netid", n.netid.clone())]),
            netid: n.netid,
            name: n.name,
            mask: n.mask,
            inventoried: n.inventoried,
            uninventoried: n.uninventoried,
            agents: n.agents,
            identified: n.identified,
        }
    }
}

#[derive(Template)]
#[template(path = "ipdiscover/networks.html")]
struct NetworksPage {
    page: PageCtx,
    filter: String,
    heads: Vec<Head>,
    networks: Vec<NetworkLine>,
    total: usize,
    pager: Pager,
    csv_url: String,
    admin: bool,
}

fn networks_query(p: &HashMap<String, String>) -> Result<NetworksQuery, AppError> {
    NetworksQuery::parse(
        param(p, "q"),
        param(p, "sort"),
        param(p, "dir"),
        param(p, "page"),
        param(p, "per_page"),
    )
}

fn network_label(tr: &Tr, s: NetworkSort) -> String {
    tr.get(&format!("networks.col_{}", s.key())).to_owned()
}

async fn networks_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(p): Params,
) -> Response {
    let result = async {
        let q = networks_query(&p)?;
        let (total, rows) = networks::list(&state, &q).await?;
        let tr = &signed.ctx.tr;
        let dir = if q.desc { "desc" } else { "asc" };
        let heads = NetworkSort::ALL
            .into_iter()
            .map(|s| {
                let sorted = (s == q.sort).then_some(q.desc);
                let next_dir = if sorted == Some(false) { "desc" } else { "asc" };
                Head {
                    key: s.key(),
                    label: network_label(tr, s),
                    url: format!(
                        "/networks?{}",
                        query_string(&[
                            ("q", q.filter.clone()),
                            ("sort", s.key().to_owned()),
                            ("dir", next_dir.to_owned())
                        ])
                    ),
                    sorted,
                }
            })
            .collect();
        let here = query_string(&[
            ("q", q.filter.clone()),
            ("sort", q.sort.key().to_owned()),
            ("dir", dir.to_owned()),
        ]);
        let page = q.page.unwrap_or(ocs_storage::Page {
            number: 1,
            size: networks::DEFAULT_PER_PAGE,
        });
        Ok::<_, AppError>(NetworksPage {
            pager: pager(
                tr,
                &format!("/networks?{here}"),
                total,
                page.number,
                page.size,
            ),
            csv_url: format!("/networks.csv?{here}"),
            page: PageCtx::new(&signed.ctx, &signed.viewer, "networks"),
            filter: q.filter,
            heads,
            networks: rows.into_iter().map(NetworkLine::from).collect(),
            total,
            admin: signed.viewer.is_admin(),
        })
    }
    .await;
    page_or_error(&signed, result)
}

async fn networks_csv_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(p): Params,
) -> Response {
    let result = async {
        let mut q = networks_query(&p)?;
        q.page = None;
        let (_, rows) = networks::list(&state, &q).await?;
        let tr = &signed.ctx.tr;
        let mut head = vec![
            tr.get("networks.col_name").to_owned(),
            tr.get("networks.col_netid").to_owned(),
            tr.get("networks.col_mask").to_owned(),
        ];
        head.extend(NetworkSort::ALL[2..].iter().map(|s| network_label(tr, *s)));
        csv_export::write(
            &head,
            rows.into_iter().map(|n| {
                [
                    n.name,
                    n.netid,
                    n.mask,
                    n.inventoried.to_string(),
                    n.uninventoried.to_string(),
                    n.agents.to_string(),
                    n.identified.to_string(),
                ]
            }),
        )
    }
    .await;
    csv_download(&signed.ctx, "networks.csv", result)
}

/// A device row as shown: its cells, and for a non-inventoried device its MAC (the
/// register and delete actions); for a computer, its page.
struct DeviceLine {
    cells: Vec<(&'static str, String)>,
    computer: Option<i64>,
    mac: Option<String>,
}

fn device_heads(tr: &Tr, kind: DeviceKind) -> Vec<(&'static str, String)> {
    let cols: &[&'static str] = match kind {
        DeviceKind::Inventoried => &["id", "name", "ip", "mac"],
        DeviceKind::Uninventoried => &["ip", "mac", "vendor", "name", "first_seen", "last_seen"],
        DeviceKind::Identified => &[
            "mac",
            "ip",
            "description",
            "type",
            "registered_by",
            "registered_at",
        ],
    };
    cols.iter()
        .map(|c| (*c, tr.get(&format!("network_devices.col_{c}")).to_owned()))
        .collect()
}

fn device_lines(rows: DeviceRows) -> Vec<DeviceLine> {
    let or_date = |t: i64| if t > 0 { date_text(t) } else { String::new() };
    match rows {
        DeviceRows::Inventoried(rows) => rows
            .into_iter()
            .map(|r| DeviceLine {
                cells: vec![
                    ("id", r.host_id.to_string()),
                    ("name", r.name),
                    ("ip", r.ip),
                    ("mac", r.mac),
                ],
                computer: Some(r.host_id),
                mac: None,
            })
            .collect(),
        DeviceRows::Uninventoried(rows) => rows
            .into_iter()
            .map(|r| {
                let d = r.device;
                DeviceLine {
                    cells: vec![
                        ("ip", d.ip),
                        ("mac", d.mac.clone()),
                        ("vendor", r.vendor.unwrap_or_default().to_owned()),
                        ("name", if d.name == "-" { String::new() } else { d.name }),
                        ("first_seen", or_date(d.first_seen)),
                        ("last_seen", or_date(d.last_seen)),
                    ],
                    computer: None,
                    mac: Some(d.mac),
                }
            })
            .collect(),
        DeviceRows::Identified(rows) => rows
            .into_iter()
            .map(|r| DeviceLine {
                cells: vec![
                    ("mac", r.mac.clone()),
                    ("ip", r.ip),
                    ("description", r.description),
                    ("type", r.device_type),
                    ("registered_by", r.registered_by),
                    ("registered_at", or_date(r.registered_at)),
                ],
                computer: None,
                mac: Some(r.mac),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "ipdiscover/network_devices.html")]
struct DevicesPage {
    page: PageCtx,
    netid: String,
    name: String,
    kind: &'static str,
    /// The three lists: (key, label, current).
    tabs: Vec<(&'static str, String, bool)>,
    heads: Vec<Head>,
    rows: Vec<DeviceLine>,
    total: i64,
    pager: Pager,
    csv_url: String,
    agents_query: String,
    admin: bool,
}

/// A list's kind from the URL's last segment: `uninventoried` or `uninventoried.csv`.
fn kind_of(segment: &str) -> Result<(DeviceKind, bool), AppError> {
    match segment.strip_suffix(".csv") {
        Some(kind) => Ok((DeviceKind::parse(kind)?, true)),
        None => Ok((DeviceKind::parse(segment)?, false)),
    }
}

fn devices_query(kind: DeviceKind, p: &HashMap<String, String>) -> Result<DevicesQuery, AppError> {
    DevicesQuery::parse(
        kind,
        param(p, "sort"),
        param(p, "dir"),
        param(p, "page"),
        param(p, "per_page"),
    )
}

async fn devices_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((netid, segment)): Path<(String, String)>,
    Query(p): Params,
) -> Response {
    let (netid, (kind, csv)) = match netid_param(&netid).and_then(|n| Ok((n, kind_of(&segment)?))) {
        Ok(parsed) => parsed,
        Err(e) => return page_or_error::<DevicesPage>(&signed, Err(e)),
    };
    if csv {
        return devices_csv(&state, &signed, &netid, kind, &p).await;
    }
    let result = async {
        let q = devices_query(kind, &p)?;
        let (total, rows) = networks::devices(&state, &netid, &q).await?;
        let tr = &signed.ctx.tr;
        let base = format!("/networks/{netid}/{}", kind.key());
        let heads = device_heads(tr, kind)
            .into_iter()
            .map(|(key, label)| {
                let sortable = kind.sorts().contains(&key);
                let sorted = (key == q.sort).then_some(q.desc);
                let next_dir = if sorted == Some(false) { "desc" } else { "asc" };
                Head {
                    key,
                    label,
                    url: if sortable {
                        format!(
                            "{base}?{}",
                            query_string(&[("sort", key.to_owned()), ("dir", next_dir.to_owned())])
                        )
                    } else {
                        String::new()
                    },
                    sorted,
                }
            })
            .collect();
        let here = query_string(&[
            ("sort", q.sort.to_owned()),
            ("dir", if q.desc { "desc" } else { "asc" }.to_owned()),
        ]);
        let page = q.page.unwrap_or(ocs_storage::Page {
            number: 1,
            size: networks::DEFAULT_PER_PAGE,
        });
        let total_rows = usize::try_from(total).unwrap_or(0);
        Ok::<_, AppError>(DevicesPage {
            pager: pager(
                tr,
                &format!("{base}?{here}"),
                total_rows,
                page.number,
                page.size,
            ),
            csv_url: format!("{base}.csv?{here}"),
            name: networks::name(&state, &netid).await?,
            tabs: DeviceKind::ALL
                .into_iter()
                .map(|k| {
                    (
                        k.key(),
                        tr.get(&format!("network_devices.tab_{}", k.key()))
                            .to_owned(),
                        k == kind,
                    )
                })
                .collect(),
            kind: kind.key(),
            heads,
            rows: device_lines(rows),
            total,
            agents_query: query_string(&[("netid", netid.clone())]),
            admin: signed.viewer.is_admin(),
            page: PageCtx::new(&signed.ctx, &signed.viewer, "networks"),
            netid,
        })
    }
    .await;
    page_or_error(&signed, result)
}

async fn devices_csv(
    state: &AppState,
    signed: &SignedIn,
    netid: &str,
    kind: DeviceKind,
    p: &HashMap<String, String>,
) -> Response {
    let result = async {
        let mut q = devices_query(kind, p)?;
        q.page = None;
        let (_, rows) = networks::devices(state, netid, &q).await?;
        let tr = &signed.ctx.tr;
        let head: Vec<String> = device_heads(tr, kind).into_iter().map(|(_, l)| l).collect();
        csv_export::write(
            &head,
            device_lines(rows)
                .into_iter()
                .map(|l| l.cells.into_iter().map(|(_, text)| text)),
        )
    }
    .await;
    let name = format!("network-{}-{}.csv", netid, kind.key());
    csv_download(&signed.ctx, &name, result)
}

async fn device_delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(mac): Path<String>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        networks::delete_device(&state, &admin, &mac).await
    }
    .await;
    match result {
        Ok(netid) if !netid.is_empty() => outcome(
            &signed.ctx,
            &format!("/networks/{netid}/uninventoried"),
            Ok(()),
            "network_devices.deleted",
        ),
        Ok(_) => outcome(&signed.ctx, "/networks", Ok(()), "network_devices.deleted"),
        Err(e) => outcome(&signed.ctx, "/networks", Err(e), ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_segment_names_its_kind_and_whether_it_is_csv() {
        assert_eq!(
            kind_of("uninventoried.csv").unwrap(),
            (DeviceKind::Uninventoried, true)
        );
        assert_eq!(
            kind_of("identified").unwrap(),
            (DeviceKind::Identified, false)
        );
        assert!(kind_of("everything").is_err());
    }
}
