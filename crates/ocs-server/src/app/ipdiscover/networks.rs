//! The networks list and each network's device lists (the guide's "Using IP discovery
//! feature" pages): reading what scans found, which any signed-in account or API token may,
//! and deleting a non-inventoried device, which only an administrator may. Request text is
//! checked here (a dotted network address, an allow-listed sort, a bounded filter and page);
//! the lists themselves come from `ocs_storage::ipdiscover::{networks, devices}`.

use std::cmp::Ordering;
use std::net::Ipv4Addr;

use ocs_storage::ipdiscover::devices::{
    IdentifiedOnNetwork, IdentifiedSort, InventoriedDevice, InventoriedSort, ListQuery,
    NetmapDeletion, UninventoriedDevice, UninventoriedSort,
};
use ocs_storage::ipdiscover::networks::NetworkSummary;
use ocs_storage::Page;

use crate::app::auth::Admin;
use crate::app::ipdiscover::identified::mac_param;
use crate::app::ipdiscover::vendor::mac_vendor;
use crate::app::{AppError, AppState};

/// Longest filter text, in characters.
pub const MAX_FILTER_CHARS: usize = 255;
/// Rows per page unless asked otherwise.
pub const DEFAULT_PER_PAGE: u32 = 50;
/// Most rows of one page.
pub const MAX_PER_PAGE: u32 = 1000;

fn bad(key: &'static str) -> AppError {
    AppError::bad_request("E_BAD_NETWORK_QUERY", key)
}

/// A network address as typed (surrounding spaces allowed), in its canonical dotted form.
pub fn canonical_netid(text: &str) -> Option<String> {
    text.trim().parse::<Ipv4Addr>().ok().map(|a| a.to_string())
}

/// A network address from a request, in its canonical dotted form, or a 400.
pub fn netid_param(text: &str) -> Result<String, AppError> {
    canonical_netid(text).ok_or_else(|| AppError::bad_request("E_BAD_NETID", "networks.bad_netid"))
}

/// A page number and size from a request (`None`: the default), or a 400.
pub fn page_param(page: Option<&str>, per_page: Option<&str>) -> Result<Page, AppError> {
    crate::app::page_request(page, per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)
        .ok_or_else(|| bad("networks.bad_page"))
}

/// A sort direction from a request: `asc` (or nothing) or `desc`.
pub fn desc_param(dir: Option<&str>) -> Result<bool, AppError> {
    match dir {
        None | Some("" | "asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(_) => Err(bad("networks.bad_sort")),
    }
}

/// Columns the networks list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkSort {
    /// Name (unnamed networks last), then address.
    Name,
    /// Address, numerically.
    Netid,
    /// Inventoried computers.
    Inventoried,
    /// Non-inventoried devices.
    Uninventoried,
    /// Scanning computers.
    Agents,
    /// Identified devices.
    Identified,
}

impl NetworkSort {
    /// Every column, in display order.
    pub const ALL: [NetworkSort; 6] = [
        NetworkSort::Name,
        NetworkSort::Netid,
        NetworkSort::Inventoried,
        NetworkSort::Uninventoried,
        NetworkSort::Agents,
        NetworkSort::Identified,
    ];

    /// The column's name in URLs.
    pub fn key(self) -> &'static str {
        match self {
            NetworkSort::Name => "name",
            NetworkSort::Netid => "netid",
            NetworkSort::Inventoried => "inventoried",
            NetworkSort::Uninventoried => "uninventoried",
            NetworkSort::Agents => "agents",
            NetworkSort::Identified => "identified",
        }
    }

    /// The column of a URL's `sort` (nothing: by address), or a 400.
    pub fn parse(text: Option<&str>) -> Result<NetworkSort, AppError> {
        match text {
            None | Some("") => Ok(NetworkSort::Netid),
            Some(t) => NetworkSort::ALL
                .into_iter()
                .find(|s| s.key() == t)
                .ok_or_else(|| bad("networks.bad_sort")),
        }
    }
}

/// What the networks list shows.
#[derive(Debug, Clone)]
pub struct NetworksQuery {
    /// Text the name or address contains (case-insensitive; empty: every network).
    pub filter: String,
    /// Column.
    pub sort: NetworkSort,
    /// Descending.
    pub desc: bool,
    /// The page, or every match (CSV).
    pub page: Option<Page>,
}

impl NetworksQuery {
    /// Checks a request's filter, sort, direction and page.
    pub fn parse(
        filter: Option<&str>,
        sort: Option<&str>,
        dir: Option<&str>,
        page: Option<&str>,
        per_page: Option<&str>,
    ) -> Result<NetworksQuery, AppError> {
        let filter = filter.unwrap_or_default().trim();
        if filter.chars().count() > MAX_FILTER_CHARS {
            return Err(bad("networks.bad_filter"));
        }
        Ok(NetworksQuery {
            filter: filter.to_owned(),
            sort: NetworkSort::parse(sort)?,
            desc: desc_param(dir)?,
            page: Some(page_param(page, per_page)?),
        })
    }
}

fn address(netid: &str) -> u32 {
    netid.parse::<Ipv4Addr>().map(u32::from).unwrap_or(u32::MAX)
}

fn compare(sort: NetworkSort, a: &NetworkSummary, b: &NetworkSummary) -> Ordering {
    let first = match sort {
        NetworkSort::Name => (a.name.is_empty(), a.name.to_lowercase())
            .cmp(&(b.name.is_empty(), b.name.to_lowercase())),
        NetworkSort::Netid => Ordering::Equal,
        NetworkSort::Inventoried => a.inventoried.cmp(&b.inventoried),
        NetworkSort::Uninventoried => a.uninventoried.cmp(&b.uninventoried),
        NetworkSort::Agents => a.agents.cmp(&b.agents),
        NetworkSort::Identified => a.identified.cmp(&b.identified),
    };
    first.then_with(|| address(&a.netid).cmp(&address(&b.netid)))
}

/// The networks matching a query in its order: how many match, and the asked page of them.
/// Only dotted IPv4 networks are listed (interfaces also report IPv6 prefixes, which no
/// IPv4 scan covers).
pub async fn list(
    state: &AppState,
    q: &NetworksQuery,
) -> Result<(usize, Vec<NetworkSummary>), AppError> {
    let needle = q.filter.to_lowercase();
    let mut all: Vec<NetworkSummary> = state
        .store
        .list_network_summaries()
        .await?
        .into_iter()
        .filter(|n| n.netid.parse::<Ipv4Addr>().is_ok())
        .filter(|n| {
            needle.is_empty()
                || n.netid.contains(&needle)
                || n.name.to_lowercase().contains(&needle)
        })
        .collect();
    all.sort_by(|a, b| {
        let o = compare(q.sort, a, b);
        if q.desc {
            o.reverse()
        } else {
            o
        }
    });
    let total = all.len();
    let rows = match q.page {
        Some(p) => {
            let size = p.size as usize;
            let skip = (p.number as usize - 1).saturating_mul(size);
            all.into_iter().skip(skip).take(size).collect()
        }
        None => all,
    };
    Ok((total, rows))
}

/// The administrators' name of a network (`''`: none).
pub async fn name(state: &AppState, netid: &str) -> Result<String, AppError> {
    Ok(state.store.network_name(netid).await?)
}

/// Which of a network's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// Computers with an interface on it.
    Inventoried,
    /// Devices scans found that are neither inventoried nor identified.
    Uninventoried,
    /// Identified devices seen on it.
    Identified,
}

impl DeviceKind {
    /// Every list, in display order.
    pub const ALL: [DeviceKind; 3] = [
        DeviceKind::Inventoried,
        DeviceKind::Uninventoried,
        DeviceKind::Identified,
    ];

    /// The list's name in URLs.
    pub fn key(self) -> &'static str {
        match self {
            DeviceKind::Inventoried => "inventoried",
            DeviceKind::Uninventoried => "uninventoried",
            DeviceKind::Identified => "identified",
        }
    }

    /// The list a URL names, or a 400.
    pub fn parse(text: &str) -> Result<DeviceKind, AppError> {
        DeviceKind::ALL
            .into_iter()
            .find(|k| k.key() == text)
            .ok_or_else(|| AppError::bad_request("E_BAD_KIND", "networks.bad_kind"))
    }

    /// The columns it sorts by (the first is the default).
    pub fn sorts(self) -> &'static [&'static str] {
        match self {
            DeviceKind::Inventoried => &["name", "id", "ip", "mac"],
            DeviceKind::Uninventoried => &["ip", "mac", "name", "first_seen", "last_seen"],
            DeviceKind::Identified => &[
                "ip",
                "mac",
                "description",
                "type",
                "registered_by",
                "registered_at",
            ],
        }
    }
}

/// A non-inventoried device with its MAC's vendor.
#[derive(Debug, Clone)]
pub struct UninventoriedRow {
    /// The device.
    pub device: UninventoriedDevice,
    /// Who owns the MAC's prefix, if registered.
    pub vendor: Option<&'static str>,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub enum DeviceRows {
    /// Computers.
    Inventoried(Vec<InventoriedDevice>),
    /// Non-inventoried devices.
    Uninventoried(Vec<UninventoriedRow>),
    /// Identified devices.
    Identified(Vec<IdentifiedOnNetwork>),
}

/// What a device list shows.
#[derive(Debug, Clone)]
pub struct DevicesQuery {
    /// Which list.
    pub kind: DeviceKind,
    /// Column (one of the kind's [`DeviceKind::sorts`]).
    pub sort: &'static str,
    /// Descending.
    pub desc: bool,
    /// The page, or every row (CSV).
    pub page: Option<Page>,
}

impl DevicesQuery {
    /// Checks a request's sort, direction and page for a list.
    pub fn parse(
        kind: DeviceKind,
        sort: Option<&str>,
        dir: Option<&str>,
        page: Option<&str>,
        per_page: Option<&str>,
    ) -> Result<DevicesQuery, AppError> {
        let sorts = kind.sorts();
        let sort = match sort {
            None | Some("") => sorts[0],
            Some(s) => sorts
                .iter()
                .copied()
                .find(|k| *k == s)
                .ok_or_else(|| bad("networks.bad_sort"))?,
        };
        Ok(DevicesQuery {
            kind,
            sort,
            desc: desc_param(dir)?,
            page: Some(page_param(page, per_page)?),
        })
    }
}

/// A network's list: its total and the asked page.
pub async fn devices(
    state: &AppState,
    netid: &str,
    q: &DevicesQuery,
) -> Result<(i64, DeviceRows), AppError> {
    let store = &state.store;
    let (desc, page) = (q.desc, q.page);
    Ok(match q.kind {
        DeviceKind::Inventoried => {
            let sort = match q.sort {
                "id" => InventoriedSort::Id,
                "ip" => InventoriedSort::Ip,
                "mac" => InventoriedSort::Mac,
                _ => InventoriedSort::Name,
            };
            let (total, rows) = store
                .list_network_inventoried(netid, ListQuery { sort, desc, page })
                .await?;
            (total, DeviceRows::Inventoried(rows))
        }
        DeviceKind::Uninventoried => {
            let sort = match q.sort {
                "mac" => UninventoriedSort::Mac,
                "name" => UninventoriedSort::Name,
                "first_seen" => UninventoriedSort::FirstSeen,
                "last_seen" => UninventoriedSort::LastSeen,
                _ => UninventoriedSort::Ip,
            };
            let (total, rows) = store
                .list_network_uninventoried(netid, ListQuery { sort, desc, page })
                .await?;
            let rows = rows
                .into_iter()
                .map(|device| UninventoriedRow {
                    vendor: mac_vendor(&device.mac),
                    device,
                })
                .collect();
            (total, DeviceRows::Uninventoried(rows))
        }
        DeviceKind::Identified => {
            let sort = match q.sort {
                "mac" => IdentifiedSort::Mac,
                "description" => IdentifiedSort::Description,
                "type" => IdentifiedSort::Type,
                "registered_by" => IdentifiedSort::RegisteredBy,
                "registered_at" => IdentifiedSort::RegisteredAt,
                _ => IdentifiedSort::Ip,
            };
            let (total, rows) = store
                .list_network_identified(netid, ListQuery { sort, desc, page })
                .await?;
            (total, DeviceRows::Identified(rows))
        }
    })
}

/// Deletes a non-inventoried device from the scan results (a later scan that finds it
/// again brings it back). Returns the network it was on (`''`: unknown), for the page to
/// go back to.
pub async fn delete_device(
    state: &AppState,
    admin: &Admin<'_>,
    mac: &str,
) -> Result<String, AppError> {
    let mac = mac_param(mac)?;
    let netid = state
        .store
        .seen_device(&mac)
        .await?
        .map(|s| s.netid)
        .unwrap_or_default();
    match state.store.delete_netmap_device(&mac).await? {
        NetmapDeletion::Deleted => {
            tracing::info!(admin = %admin.viewer.login, mac, netid, "non-inventoried device deleted");
            Ok(netid)
        }
        NetmapDeletion::NotFound => Err(AppError::NotFound(format!("discovered device {mac}"))),
        NetmapDeletion::Known => Err(AppError::bad_request(
            "E_DEVICE_KNOWN",
            "networks.device_known",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(netid: &str, name: &str, counts: [i64; 4]) -> NetworkSummary {
        NetworkSummary {
            netid: netid.into(),
            name: name.into(),
            mask: "255.255.255.0".into(),
            inventoried: counts[0],
            uninventoried: counts[1],
            agents: counts[2],
            identified: counts[3],
        }
    }

    #[test]
    fn networks_sort_numerically_and_unnamed_ones_last() {
        let mut all = [
            net("192.0.2.0", "", [1, 0, 0, 0]),
            net("10.0.0.0", "lab", [0, 5, 0, 0]),
            net("9.0.0.0", "Office", [0, 5, 1, 0]),
        ];
        all.sort_by(|a, b| compare(NetworkSort::Netid, a, b));
        assert_eq!(all[0].netid, "9.0.0.0");
        all.sort_by(|a, b| compare(NetworkSort::Name, a, b));
        let names: Vec<_> = all.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["lab", "Office", ""]);
        all.sort_by(|a, b| compare(NetworkSort::Uninventoried, a, b));
        let ids: Vec<_> = all.iter().map(|n| n.netid.as_str()).collect();
        assert_eq!(ids, ["192.0.2.0", "9.0.0.0", "10.0.0.0"]);
    }

    #[test]
    fn request_text_is_checked() {
        assert_eq!(netid_param(" 192.0.2.0 ").unwrap(), "192.0.2.0");
        for bad in ["", "192.0.2", "fe80::", "192.0.2.0/24", "../etc"] {
            assert!(netid_param(bad).is_err(), "{bad}");
        }
        assert!(page_param(Some("0"), None).is_err());
        assert!(page_param(None, Some("5000")).is_err());
        assert_eq!(page_param(Some("3"), Some("20")).unwrap().number, 3);
        assert!(NetworkSort::parse(Some("bogus")).is_err());
        assert_eq!(
            NetworkSort::parse(Some("agents")).unwrap(),
            NetworkSort::Agents
        );
        assert!(desc_param(Some("sideways")).is_err());
        assert!(DeviceKind::parse("all").is_err());
        let q = DevicesQuery::parse(DeviceKind::Uninventoried, None, None, None, None).unwrap();
        assert_eq!(q.sort, "ip");
        assert!(
            DevicesQuery::parse(DeviceKind::Inventoried, Some("date"), None, None, None).is_err()
        );
        let long = "x".repeat(MAX_FILTER_CHARS + 1);
        assert!(NetworksQuery::parse(Some(&long), None, None, None, None).is_err());
    }
}
