//! The request envelope (`QUERY`, `DEVICEID`) and the small status-only queries: DOWNLOAD
//! reports, NOTIFY and SNMP results.

use crate::deviceid;
use crate::inventory::{Inventory, InventoryError};
use crate::xml::{self, Element, XmlError, XmlLimits};

/// The QUERY of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// First contact of a run: "should I send an inventory, and what else must I do?"
    Prolog,
    /// A full inventory.
    Inventory,
    /// A package deployment result.
    Download,
    /// An IP change (Windows agent).
    Notify,
    /// SNMP scan results.
    Snmp,
    /// Agent self-update check (deprecated).
    Update,
}

impl Query {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Query::Prolog => "PROLOG",
            Query::Inventory => "INVENTORY",
            Query::Download => "DOWNLOAD",
            Query::Notify => "NOTIFY",
            Query::Snmp => "SNMP",
            Query::Update => "UPDATE",
        }
    }

    fn parse(s: &str) -> Option<Query> {
        Some(match s {
            "PROLOG" => Query::Prolog,
            "INVENTORY" => Query::Inventory,
            "DOWNLOAD" => Query::Download,
            "NOTIFY" => Query::Notify,
            "SNMP" => Query::Snmp,
            "UPDATE" => Query::Update,
            _ => return None,
        })
    }
}

/// Why a request envelope is unacceptable. Every variant is the agent's fault (HTTP 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// The XML itself.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// No DEVICEID where one is required.
    #[error("missing DEVICEID")]
    MissingDeviceId,
    /// A DEVICEID not shaped `<name>-YYYY-MM-DD-hh-mm-ss`.
    #[error("malformed DEVICEID {0:?}")]
    InvalidDeviceId(String),
    /// No QUERY.
    #[error("missing QUERY")]
    MissingQuery,
    /// A QUERY the server does not handle.
    #[error("unknown QUERY {0:?}")]
    UnknownQuery(String),
}

/// A parsed, validated agent request.
#[derive(Debug)]
pub struct AgentRequest {
    /// What the agent asks.
    pub query: Query,
    /// The device; always present except for UPDATE.
    pub deviceid: Option<String>,
    /// The whole document, for the query handlers.
    pub root: Element,
}

/// Longest QUERY quoted back in an error.
const MAX_QUOTED: usize = 64;

/// Parses and validates the envelope with the default [`XmlLimits`].
pub fn parse_request(doc: &[u8]) -> Result<AgentRequest, RequestError> {
    parse_request_with(doc, &XmlLimits::default())
}

/// Parses and validates the envelope in the original's order: DEVICEID (except UPDATE),
/// then QUERY.
pub fn parse_request_with(doc: &[u8], limits: &XmlLimits) -> Result<AgentRequest, RequestError> {
    let root = xml::parse_with(doc, limits)?;
    let deviceid = root
        .value("DEVICEID")
        .or_else(|| root.child("CONTENT").and_then(|c| c.value("DEVICEID")));
    let (query, deviceid) = envelope(root.value("QUERY"), deviceid)?;
    Ok(AgentRequest {
        query,
        deviceid,
        root,
    })
}

/// Validates the envelope's QUERY and DEVICEID texts, however they were read: DEVICEID first
/// (required except for UPDATE), then QUERY.
pub(crate) fn envelope(
    query_text: Option<&str>,
    deviceid: Option<&str>,
) -> Result<(Query, Option<String>), RequestError> {
    let query_text = query_text.map(str::trim);
    let is_update = query_text == Some("UPDATE");
    let deviceid = match deviceid {
        Some(id) if deviceid::is_valid(id) => Some(id.to_owned()),
        Some(id) if !is_update => return Err(RequestError::InvalidDeviceId(truncate(id))),
        None if !is_update => return Err(RequestError::MissingDeviceId),
        _ => None,
    };
    let query_text = query_text.ok_or(RequestError::MissingQuery)?;
    let query =
        Query::parse(query_text).ok_or_else(|| RequestError::UnknownQuery(truncate(query_text)))?;
    Ok((query, deviceid))
}

fn truncate(s: &str) -> String {
    s.chars().take(MAX_QUOTED).collect()
}

/// A DOWNLOAD report: the package's FILEID and the agent's status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadReport {
    /// `download_available.FILEID`.
    pub package_id: String,
    /// `SUCCESS`, `ERR_*`, `EXIT_CODE_*`, … or `UNKNOWN_CODE` when the agent sent none.
    pub status: String,
}

impl AgentRequest {
    /// The report of a DOWNLOAD query (Unix agent attributes, Windows mixed form alike).
    pub fn download_report(&self) -> Option<DownloadReport> {
        let package_id = self.root.value("ID")?.trim().to_owned();
        let status = self
            .root
            .value("ERR")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("UNKNOWN_CODE");
        // Cut, then trimmed again: a cut inside a run of spaces must not leave them trailing.
        Some(DownloadReport {
            package_id,
            status: truncate(status).trim_end().to_owned(),
        })
    }

    /// The content of a NOTIFY query.
    pub fn notify(&self) -> Notify {
        let r = &self.root;
        let hardware_ipaddr = r
            .child("HARDWARE")
            .and_then(|h| h.value("IPADDR"))
            .map(str::to_owned);
        let ifaces = r
            .children_named("IFACE")
            .map(|i| NotifyIface {
                mac: i.value("MAC").map(str::to_owned),
                ip: i.value("IP").map(str::to_owned),
                mask: i.value("MASK").map(str::to_owned),
                gateway: i.value("GW").map(str::to_owned),
                subnet: i.value("SUBNET").map(str::to_owned),
                dhcp: i.value("DHCP").map(str::to_owned),
            })
            .collect();
        Notify {
            kind: r.value("TYPE").unwrap_or_default().to_owned(),
            hardware_ipaddr,
            ifaces,
        }
    }

    /// The per-table results of an SNMP query (2.7+ format): `CONTENT/snmp_<type>` elements.
    pub fn snmp_results(&self) -> Vec<SnmpResult> {
        let Some(content) = self.root.child("CONTENT") else {
            return Vec::new();
        };
        content
            .children
            .iter()
            .map(|t| SnmpResult {
                table: t.name.clone(),
                values: t
                    .children
                    .iter()
                    .map(|c| (c.name.clone(), c.text.clone()))
                    .collect(),
            })
            .collect()
    }
}

/// A validated request with what its query needs, one variant per QUERY: what
/// [`crate::read_request`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// PROLOG: the device is all the service needs.
    Prolog {
        /// The device.
        deviceid: String,
    },
    /// INVENTORY, mapped into rows; the error (a section over the row limit, no CONTENT) is
    /// kept rather than returned, so that the service refuses it after its own checks, as it
    /// refuses everything else about the device.
    Inventory {
        /// The device.
        deviceid: String,
        /// The rows, or why there are none.
        inventory: Result<Box<Inventory>, InventoryError>,
    },
    /// DOWNLOAD: a deployment result.
    Download {
        /// The device.
        deviceid: String,
        /// `None` when the report has no package ID.
        report: Option<DownloadReport>,
    },
    /// NOTIFY: an IP change.
    Notify {
        /// The device.
        deviceid: String,
        /// What was sent.
        notify: Notify,
    },
    /// SNMP scan results.
    Snmp {
        /// The device.
        deviceid: String,
        /// One per scanned device.
        results: Vec<SnmpResult>,
    },
    /// UPDATE, the only query without a required DEVICEID.
    Update {
        /// The device, when a valid one was sent.
        deviceid: Option<String>,
    },
}

impl Request {
    /// The QUERY.
    pub fn query(&self) -> Query {
        match self {
            Request::Prolog { .. } => Query::Prolog,
            Request::Inventory { .. } => Query::Inventory,
            Request::Download { .. } => Query::Download,
            Request::Notify { .. } => Query::Notify,
            Request::Snmp { .. } => Query::Snmp,
            Request::Update { .. } => Query::Update,
        }
    }

    /// The DEVICEID.
    pub fn deviceid(&self) -> Option<&str> {
        match self {
            Request::Prolog { deviceid }
            | Request::Inventory { deviceid, .. }
            | Request::Download { deviceid, .. }
            | Request::Notify { deviceid, .. }
            | Request::Snmp { deviceid, .. } => Some(deviceid),
            Request::Update { deviceid } => deviceid.as_deref(),
        }
    }

    /// The typed request of a parsed element tree: the reference the streaming reader is
    /// tested against, and how it reads the small status queries. `MissingDeviceId` only for a tree not validated by [`parse_request_with`].
    pub fn from_tree(
        req: &AgentRequest,
        max_rows_per_section: usize,
    ) -> Result<Request, RequestError> {
        let deviceid = req.deviceid.clone();
        let id = match (&deviceid, req.query) {
            (_, Query::Update) => return Ok(Request::Update { deviceid }),
            (Some(id), _) => id.clone(),
            (None, _) => return Err(RequestError::MissingDeviceId),
        };
        Ok(match req.query {
            Query::Prolog => Request::Prolog { deviceid: id },
            Query::Inventory => Request::Inventory {
                deviceid: id,
                inventory: Inventory::from_request_with(req, max_rows_per_section).map(Box::new),
            },
            Query::Download => Request::Download {
                deviceid: id,
                report: req.download_report(),
            },
            Query::Notify => Request::Notify {
                deviceid: id,
                notify: req.notify(),
            },
            Query::Snmp => Request::Snmp {
                deviceid: id,
                results: req.snmp_results(),
            },
            Query::Update => Request::Update { deviceid },
        })
    }
}

/// A NOTIFY query: the Windows agent's "my IP changed".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    /// Only `IP` is handled.
    pub kind: String,
    /// `HARDWARE/IPADDR`.
    pub hardware_ipaddr: Option<String>,
    /// The interfaces reported.
    pub ifaces: Vec<NotifyIface>,
}

/// One interface of a NOTIFY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyIface {
    /// MAC address, the key.
    pub mac: Option<String>,
    /// IPv4 address.
    pub ip: Option<String>,
    /// Netmask.
    pub mask: Option<String>,
    /// Gateway.
    pub gateway: Option<String>,
    /// Subnet address.
    pub subnet: Option<String>,
    /// DHCP server.
    pub dhcp: Option<String>,
}

/// One scanned device of an SNMP query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnmpResult {
    /// The SNMP type table (`snmp_default`, …); validated by the server.
    pub table: String,
    /// (label, value) pairs.
    pub values: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Result<AgentRequest, RequestError> {
        parse_request(s.as_bytes())
    }

    #[test]
    fn envelope_errors() {
        assert_eq!(
            req("<REQUEST><DEVICEID>foo</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>").unwrap_err(),
            RequestError::InvalidDeviceId("foo".into())
        );
        assert_eq!(
            req("<REQUEST><QUERY>PROLOG</QUERY></REQUEST>").unwrap_err(),
            RequestError::MissingDeviceId
        );
        assert_eq!(
            req("<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID></REQUEST>").unwrap_err(),
            RequestError::MissingQuery
        );
        assert_eq!(
            req("<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID><QUERY>FILE</QUERY></REQUEST>")
                .unwrap_err(),
            RequestError::UnknownQuery("FILE".into())
        );
        assert_eq!(
            req("<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID><QUERY>SYSTEM</QUERY></REQUEST>").unwrap_err(),
            RequestError::UnknownQuery("SYSTEM".into())
        );
        let update =
            req("<REQUEST><QUERY>UPDATE</QUERY><PLATFORM>WINDOWS</PLATFORM></REQUEST>").unwrap();
        assert_eq!(update.query, Query::Update);
        assert_eq!(update.deviceid, None);
    }

    #[test]
    fn deviceid_from_content() {
        let r = req("<REQUEST><CONTENT><DEVICEID>a-2024-01-01-00-00-00</DEVICEID></CONTENT><QUERY>INVENTORY</QUERY></REQUEST>").unwrap();
        assert_eq!(r.deviceid.as_deref(), Some("a-2024-01-01-00-00-00"));
    }

    #[test]
    fn download_reports_in_both_forms() {
        let unix = req(r#"<REQUEST DEVICEID="a-2024-01-01-00-00-00" ERR="ERR_BAD_DIGEST" ID="1709631234" QUERY="DOWNLOAD" />"#).unwrap();
        let windows = req(r#"<REQUEST ID="1709631234" ERR="ERR_BAD_DIGEST"><DEVICEID>a-2024-01-01-00-00-00</DEVICEID><CONTENT/><QUERY>DOWNLOAD</QUERY></REQUEST>"#).unwrap();
        let expected = DownloadReport {
            package_id: "1709631234".into(),
            status: "ERR_BAD_DIGEST".into(),
        };
        assert_eq!(unix.download_report(), Some(expected.clone()));
        assert_eq!(windows.download_report(), Some(expected));
        let bare =
            req(r#"<REQUEST DEVICEID="a-2024-01-01-00-00-00" ID="7" QUERY="DOWNLOAD" />"#).unwrap();
        assert_eq!(bare.download_report().unwrap().status, "UNKNOWN_CODE");
        // Found by the download fuzz target: the 64-character cut fell among spaces.
        let spaced = format!(
            r#"<REQUEST DEVICEID="a-2024-01-01-00-00-00" ID="7" ERR="EXIT_{} 1" QUERY="DOWNLOAD" />"#,
            " ".repeat(70)
        );
        assert_eq!(
            req(&spaced).unwrap().download_report().unwrap().status,
            "EXIT_"
        );
    }
}
