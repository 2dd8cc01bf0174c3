//! The scanning computers page (the guide's IP discovery agents, reference §5.1–§5.3): which
//! computers scan which network and why they were chosen, and an administrator's overrides:
//! force a computer on one of its own networks, unelect it (the election may choose again),
//! or exclude it for good. Reading needs a signed-in account, every change an [`Admin`].
//!
//! It never elects: the rules that choose and replace scanners are the election's.

use std::net::Ipv4Addr;

use ocs_storage::ipdiscover::scanners::{HostNetwork, Scanner, ScannerQuery, ScannerSort, FORCED};
use ocs_storage::HostId;

use crate::app::auth::Admin;
use crate::app::options::Options;
use crate::app::{AppError, AppState};

/// Rows per page.
pub const PAGE_SIZE: i64 = 50;
/// Highest page number accepted (far beyond any real fleet; keeps OFFSET bounded).
const MAX_PAGE: i64 = 100_000;

fn bad(key: &'static str) -> AppError {
    AppError::bad_request("E_BAD_NETWORK", key)
}

/// A network address from a request, in its canonical dotted form, or a 400.
pub fn netid_param(text: &str) -> Result<String, AppError> {
    super::networks::canonical_netid(text).ok_or_else(|| bad("ipdagents.bad_netid"))
}

/// Checks that `netid` is a dotted network address among `networks` (a computer's), and a
/// network under the mask that computer reports for it; returns it canonical.
pub fn check_network(networks: &[HostNetwork], netid: &str) -> Result<String, AppError> {
    let netid = netid_param(netid)?;
    let network = networks
        .iter()
        .find(|n| n.netid.trim() == netid)
        .ok_or_else(|| bad("ipdagents.not_its_network"))?;
    if let Ok(mask) = network.mask.trim().parse::<Ipv4Addr>() {
        let address = netid.parse::<Ipv4Addr>().map(u32::from).unwrap_or(0);
        if address & u32::from(mask) != address {
            return Err(bad("ipdagents.not_network"));
        }
    }
    Ok(netid)
}

/// How a computer came to scan (or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Excluded by an administrator (IVALUE 0).
    Never,
    /// Chosen by the election (IVALUE 1).
    Automatic,
    /// Forced by an administrator (IVALUE 2).
    Forced,
}

impl How {
    /// How an IVALUE says a computer was chosen.
    pub fn of(ivalue: i64) -> How {
        match ivalue {
            0 => How::Never,
            2 => How::Forced,
            _ => How::Automatic,
        }
    }

    /// Its catalogue key suffix.
    pub fn key(self) -> &'static str {
        match self {
            How::Never => "never",
            How::Automatic => "automatic",
            How::Forced => "forced",
        }
    }
}

/// Why a computer was elected, read from the code the election left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Its network had fewer scanners than the option allows.
    FreeSlot,
    /// It replaced a scanner not seen for more than `IPDISCOVER_MAX_ALIVE` days.
    ReplacedStale(Replaced),
    /// It replaced a scanner of worse quality.
    ReplacedQuality(Replaced),
    /// An administrator forced it.
    Forced,
    /// An administrator excluded it.
    Never,
    /// No reason recorded (elected before reasons were kept).
    Unknown,
    /// A code this version does not know, shown as stored.
    Other(String),
}

/// The computer a scanner replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    /// Its ID.
    pub id: HostId,
    /// Its name, `None` once it is deleted.
    pub name: Option<String>,
}

impl Reason {
    /// Reads a reason code; the replaced computers' names are filled in later.
    pub fn parse(code: &str, how: How) -> Reason {
        let replaced = |id: &str| {
            id.trim().parse::<i64>().ok().map(|id| Replaced {
                id: HostId(id),
                name: None,
            })
        };
        match (code.trim(), how) {
            (_, How::Never) => Reason::Never,
            (_, How::Forced) => Reason::Forced,
            ("free_slot", _) => Reason::FreeSlot,
            (c, _) if c == FORCED => Reason::Forced,
            ("", _) => Reason::Unknown,
            (c, _) => {
                if let Some(r) = c.strip_prefix("replaced_stale:").and_then(replaced) {
                    Reason::ReplacedStale(r)
                } else if let Some(r) = c.strip_prefix("replaced_quality:").and_then(replaced) {
                    Reason::ReplacedQuality(r)
                } else {
                    Reason::Other(c.to_owned())
                }
            }
        }
    }

    fn replaced_mut(&mut self) -> Option<&mut Replaced> {
        match self {
            Reason::ReplacedStale(r) | Reason::ReplacedQuality(r) => Some(r),
            _ => None,
        }
    }
}

/// One computer of the page.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentLine {
    /// What the store holds.
    pub scanner: Scanner,
    /// How it was chosen.
    pub how: How,
    /// Why.
    pub reason: Reason,
    /// Computers elected on its network (0 for an excluded one).
    pub elected_here: i64,
}

/// What the list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentsQuery {
    /// Only one network.
    pub netid: Option<String>,
    /// Sort column.
    pub sort: ScannerSort,
    /// Descending order.
    pub descending: bool,
    /// 1-based page.
    pub page: i64,
}

impl AgentsQuery {
    /// Reads the page's query string: unknown sorts fall back to the name, a bad page number
    /// to the first; a network that is not a dotted quad is a 400.
    pub fn parse(
        netid: Option<&str>,
        sort: Option<&str>,
        dir: Option<&str>,
        page: Option<&str>,
    ) -> Result<AgentsQuery, AppError> {
        let netid = match netid.map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(netid_param(n)?),
        };
        let sort = match sort.unwrap_or("") {
            "network" => ScannerSort::Network,
            "how" => ScannerSort::How,
            "quality" => ScannerSort::Quality,
            "fidelity" => ScannerSort::Fidelity,
            "lastdate" => ScannerSort::LastDate,
            _ => ScannerSort::Name,
        };
        let page = page
            .and_then(|p| p.trim().parse::<i64>().ok())
            .unwrap_or(1)
            .clamp(1, MAX_PAGE);
        Ok(AgentsQuery {
            netid,
            sort,
            descending: dir == Some("desc"),
            page,
        })
    }

    /// The sort's name in the query string.
    pub fn sort_name(&self) -> &'static str {
        match self.sort {
            ScannerSort::Name => "name",
            ScannerSort::Network => "network",
            ScannerSort::How => "how",
            ScannerSort::Quality => "quality",
            ScannerSort::Fidelity => "fidelity",
            ScannerSort::LastDate => "lastdate",
        }
    }
}

/// The page's data.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentsView {
    /// This page's computers.
    pub lines: Vec<AgentLine>,
    /// Computers in all pages.
    pub total: i64,
    /// Number of pages (at least 1).
    pub pages: i64,
    /// Option `IPDISCOVER`: computers elected per network (0: discovery is off).
    pub per_network: i64,
    /// Option `IPDISCOVER_MAX_ALIVE`, the days after which a silent scanner is replaced.
    pub max_alive: i64,
    /// With a network chosen, the computers elected on it.
    pub elected_on_netid: Option<i64>,
}

/// One page of the scanning computers, with the counts per network and the replaced
/// computers' names.
pub async fn list(state: &AppState, q: &AgentsQuery) -> Result<AgentsView, AppError> {
    let options = Options::load(&state.store).await?;
    let (scanners, total) = state
        .store
        .list_scanners(&ScannerQuery {
            netid: q.netid.clone(),
            sort: q.sort,
            descending: q.descending,
            offset: (q.page - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
        })
        .await?;
    let mut netids: Vec<String> = scanners
        .iter()
        .map(|s| s.netid.clone())
        .chain(q.netid.clone())
        .filter(|n| !n.is_empty())
        .collect();
    netids.sort();
    netids.dedup();
    let counts = state.store.count_scanners(&netids).await?;
    let count_of = |netid: &str| {
        counts
            .iter()
            .find(|(n, _)| n == netid)
            .map_or(0, |(_, c)| *c)
    };
    let mut lines: Vec<AgentLine> = scanners
        .into_iter()
        .map(|scanner| {
            let how = How::of(scanner.ivalue);
            AgentLine {
                reason: Reason::parse(&scanner.reason, how),
                elected_here: if how == How::Never {
                    0
                } else {
                    count_of(&scanner.netid)
                },
                how,
                scanner,
            }
        })
        .collect();
    let mut replaced: Vec<HostId> = lines
        .iter_mut()
        .filter_map(|l| l.reason.replaced_mut().map(|r| r.id))
        .collect();
    replaced.sort();
    replaced.dedup();
    if !replaced.is_empty() {
        let names = state.store.scanner_names(&replaced).await?;
        for line in &mut lines {
            if let Some(r) = line.reason.replaced_mut() {
                r.name = names
                    .iter()
                    .find(|(id, _)| *id == r.id)
                    .map(|(_, n)| n.clone());
            }
        }
    }
    Ok(AgentsView {
        lines,
        total,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        per_network: options.int("IPDISCOVER"),
        max_alive: options.int("IPDISCOVER_MAX_ALIVE"),
        elected_on_netid: q.netid.as_deref().map(count_of),
    })
}

/// A computer the force form is for: its name, its networks, and its election row if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ForceChoice {
    /// Computer ID.
    pub id: HostId,
    /// Its name.
    pub name: String,
    /// The networks it reports, the only ones it can be forced on.
    pub networks: Vec<HostNetwork>,
    /// Its current election row.
    pub current: Option<Scanner>,
}

/// What the force form offers for one computer; a 404 when it does not exist.
pub async fn force_choice(state: &AppState, id: i64) -> Result<ForceChoice, AppError> {
    let host = HostId(id);
    let name = state
        .store
        .scanner_names(&[host])
        .await?
        .into_iter()
        .next()
        .map(|(_, n)| n)
        .ok_or_else(|| AppError::NotFound(format!("computer {id}")))?;
    let networks = dotted(state.store.list_host_networks(host).await?);
    let current = state.store.find_scanner(host).await?;
    Ok(ForceChoice {
        id: host,
        name,
        networks,
        current,
    })
}

/// Only the IPv4 networks: an IPv6 interface has nothing an ARP scan could use.
fn dotted(networks: Vec<HostNetwork>) -> Vec<HostNetwork> {
    networks
        .into_iter()
        .filter(|n| n.netid.trim().parse::<Ipv4Addr>().is_ok())
        .collect()
}

/// Forces a computer to scan one of its networks (never demoted by the election).
pub async fn force(
    state: &AppState,
    admin: &Admin<'_>,
    id: i64,
    netid: &str,
) -> Result<String, AppError> {
    let host = HostId(id);
    let networks = state.store.list_host_networks(host).await?;
    if networks.is_empty() && state.store.scanner_names(&[host]).await?.is_empty() {
        return Err(AppError::NotFound(format!("computer {id}")));
    }
    let netid = check_network(&dotted(networks), netid)?;
    state.store.force_scanner(host, &netid).await?;
    tracing::info!(admin = %admin.viewer.login, computer = id, netid, "IP discovery forced");
    Ok(netid)
}

/// Removes a computer's election row (or its exclusion): the election may choose it again.
pub async fn unelect(state: &AppState, admin: &Admin<'_>, id: i64) -> Result<(), AppError> {
    if !state.store.unelect_scanner(HostId(id)).await? {
        return Err(AppError::NotFound(format!(
            "IP discovery row of computer {id}"
        )));
    }
    tracing::info!(admin = %admin.viewer.login, computer = id, "IP discovery unelected");
    Ok(())
}

/// Keeps a computer from ever scanning.
pub async fn never(state: &AppState, admin: &Admin<'_>, id: i64) -> Result<(), AppError> {
    state.store.never_scanner(HostId(id)).await?;
    tracing::info!(admin = %admin.viewer.login, computer = id, "IP discovery excluded");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(netid: &str, mask: &str) -> HostNetwork {
        HostNetwork {
            netid: netid.into(),
            mask: mask.into(),
        }
    }

    fn refusal(r: Result<String, AppError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn a_network_must_be_a_dotted_network_the_computer_reports() {
        let nets = [
            net("192.0.2.0", "255.255.255.0"),
            net("198.51.100.0", ""),
            net("203.0.113.5", "255.255.255.0"),
        ];
        assert_eq!(check_network(&nets, " 192.0.2.0 ").unwrap(), "192.0.2.0");
        assert_eq!(
            check_network(&nets, "198.51.100.0").unwrap(),
            "198.51.100.0"
        );
        assert_eq!(
            refusal(check_network(&nets, "10.0.0.0")),
            "ipdagents.not_its_network"
        );
        assert_eq!(
            refusal(check_network(&nets, "192.0.2")),
            "ipdagents.bad_netid"
        );
        assert_eq!(
            refusal(check_network(&nets, "192.0.2.0; rm -rf /")),
            "ipdagents.bad_netid"
        );
        assert_eq!(
            refusal(check_network(&nets, "203.0.113.5")),
            "ipdagents.not_network"
        );
    }

    #[test]
    fn reasons_are_read_from_their_codes() {
        let stale = Reason::parse("replaced_stale:42", How::Automatic);
        assert_eq!(
            stale,
            Reason::ReplacedStale(Replaced {
                id: HostId(42),
                name: None
            })
        );
        assert!(matches!(
            Reason::parse("replaced_quality:7", How::Automatic),
            Reason::ReplacedQuality(Replaced { id: HostId(7), .. })
        ));
        assert_eq!(Reason::parse("free_slot", How::Automatic), Reason::FreeSlot);
        assert_eq!(Reason::parse("", How::Forced), Reason::Forced);
        assert_eq!(Reason::parse("free_slot", How::Never), Reason::Never);
        assert_eq!(Reason::parse("", How::Automatic), Reason::Unknown);
        assert_eq!(
            Reason::parse("replaced_stale:x", How::Automatic),
            Reason::Other("replaced_stale:x".into())
        );
    }

    #[test]
    fn the_query_string_is_read_leniently_except_the_network() {
        let q = AgentsQuery::parse(Some("192.0.2.0"), Some("quality"), Some("desc"), Some("3"))
            .unwrap();
        assert_eq!(
            (q.netid.as_deref(), q.sort, q.descending, q.page),
            (Some("192.0.2.0"), ScannerSort::Quality, true, 3)
        );
        let q = AgentsQuery::parse(Some(""), Some("drop"), None, Some("-4")).unwrap();
        assert_eq!((q.netid, q.sort, q.page), (None, ScannerSort::Name, 1));
        assert!(AgentsQuery::parse(Some("x"), None, None, None).is_err());
    }
}
