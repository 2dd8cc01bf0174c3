//! Named networks: the names and IDs administrators give network addresses (the guide's
//! "Subnet names"), checked here (a dotted network address that is its own network under a
//! contiguous mask), and their import from CSV (`name,id,address,mask`).

use std::net::Ipv4Addr;

use ocs_storage::ipdiscover::subnets::{NewSubnet, SubnetImport, SubnetRecord};
use ocs_storage::StoreError;

use crate::app::auth::Admin;
use crate::app::{AppError, AppState};

/// Longest name or ID, in characters.
pub const MAX_TEXT_CHARS: usize = 255;
/// Largest CSV file accepted.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;
/// Most lines of one import.
pub const MAX_IMPORT_LINES: usize = 50_000;

fn bad(key: &'static str) -> AppError {
    AppError::bad_request("E_BAD_SUBNET", key)
}

/// The prefix length of a dotted mask, if its bits are contiguous.
pub fn prefix_len(mask: Ipv4Addr) -> Option<u32> {
    let bits = u32::from(mask);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones)
}

/// Checks a submitted name, ID, address and mask; returns the row to store. Errors are
/// catalogue keys.
pub fn check(
    name: &str,
    network_id: &str,
    address: &str,
    mask: &str,
) -> Result<NewSubnet, AppError> {
    checked(name, network_id, address, mask).map_err(bad)
}

/// [`check`], with the refusal as its catalogue key (an import reports it per line).
fn checked(
    name: &str,
    network_id: &str,
    address: &str,
    mask: &str,
) -> Result<NewSubnet, &'static str> {
    let (name, network_id) = (name.trim(), network_id.trim());
    if name.is_empty() || name.chars().count() > MAX_TEXT_CHARS {
        return Err("subnets.bad_name");
    }
    if network_id.chars().count() > MAX_TEXT_CHARS {
        return Err("subnets.bad_id");
    }
    let address: Ipv4Addr = address.trim().parse().map_err(|_| "subnets.bad_address")?;
    let mask: Ipv4Addr = mask.trim().parse().map_err(|_| "subnets.bad_mask")?;
    if prefix_len(mask).is_none() {
        return Err("subnets.bad_mask");
    }
    if u32::from(address) & u32::from(mask) != u32::from(address) {
        return Err("subnets.not_network");
    }
    Ok(NewSubnet {
        netid: address.to_string(),
        mask: mask.to_string(),
        name: name.to_owned(),
        network_id: network_id.to_owned(),
        tag: String::new(),
    })
}

fn conflict(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => bad("subnets.taken"),
        e => e.into(),
    }
}

/// Every named network, by address (numerically).
pub async fn list(state: &AppState) -> Result<Vec<SubnetRecord>, AppError> {
    let mut all = state.store.list_subnets().await?;
    all.sort_by_key(|s| {
        (
            s.netid
                .parse::<Ipv4Addr>()
                .map(u32::from)
                .unwrap_or(u32::MAX),
            s.tag.clone(),
        )
    });
    Ok(all)
}

/// One named network.
pub async fn find(state: &AppState, id: i64) -> Result<SubnetRecord, AppError> {
    state
        .store
        .find_subnet(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("subnet {id}")))
}

/// Names a network.
pub async fn add(state: &AppState, admin: &Admin<'_>, subnet: &NewSubnet) -> Result<i64, AppError> {
    let id = state.store.insert_subnet(subnet).await.map_err(conflict)?;
    tracing::info!(admin = %admin.viewer.login, netid = subnet.netid, name = subnet.name, "subnet named");
    Ok(id)
}

/// Changes a named network.
pub async fn update(
    state: &AppState,
    admin: &Admin<'_>,
    id: i64,
    subnet: &NewSubnet,
) -> Result<(), AppError> {
    state
        .store
        .update_subnet(id, subnet)
        .await
        .map_err(conflict)?;
    tracing::info!(admin = %admin.viewer.login, id, netid = subnet.netid, name = subnet.name, "subnet renamed");
    Ok(())
}

/// Removes a network's name (what was discovered on it stays).
pub async fn delete(state: &AppState, admin: &Admin<'_>, id: i64) -> Result<(), AppError> {
    if !state.store.delete_subnet(id).await? {
        return Err(AppError::NotFound(format!("subnet {id}")));
    }
    tracing::info!(admin = %admin.viewer.login, id, "subnet name deleted");
    Ok(())
}

/// One line of an import and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// The line's fields as read.
    pub text: String,
    /// `None` when accepted; the catalogue key of the reason otherwise.
    pub refused: Option<&'static str>,
}

/// A parsed import: the rows to store and every line's outcome.
#[derive(Debug, Default)]
pub struct ParsedImport {
    /// Accepted rows (the last line wins when an address repeats).
    pub rows: Vec<NewSubnet>,
    /// Every data line.
    pub lines: Vec<ImportLine>,
}

/// Reads `name,id,address,mask` lines (`,` or `;`, an optional header line, quoted fields
/// allowed). A line that does not check is refused with its reason; the others are kept.
pub fn parse_import(data: &[u8]) -> Result<ParsedImport, AppError> {
    if data.len() > MAX_IMPORT_BYTES {
        return Err(AppError::TooLarge {
            code: "E_TOO_LARGE",
            message: "subnets.import_too_large".into(),
        });
    }
    let text = std::str::from_utf8(data).map_err(|_| bad("subnets.import_not_utf8"))?;
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut parsed = ParsedImport::default();
    let mut by_netid: std::collections::HashMap<String, usize> = Default::default();
    for (k, record) in reader.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(k + 1, |p| p.line() as usize);
        let Ok(record) = record else {
            parsed.lines.push(ImportLine {
                line,
                text: String::new(),
                refused: Some("subnets.import_unreadable"),
            });
            continue;
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let fields: Vec<&str> = record.iter().collect();
        let text = fields.join(", ");
        // A header names the columns: its address field is not an address.
        if parsed.lines.is_empty()
            && fields
                .get(2)
                .is_some_and(|a| a.parse::<Ipv4Addr>().is_err())
            && fields
                .iter()
                .any(|f| matches!(f.to_ascii_lowercase().as_str(), "name" | "nom"))
        {
            continue;
        }
        if parsed.lines.len() >= MAX_IMPORT_LINES {
            return Err(AppError::TooLarge {
                code: "E_TOO_LARGE",
                message: "subnets.import_too_many".into(),
            });
        }
        let refused = if fields.len() != 4 {
            Some("subnets.import_columns")
        } else {
            match checked(fields[0], fields[1], fields[2], fields[3]) {
                Ok(row) => {
                    match by_netid.get(&row.netid) {
                        Some(&at) => parsed.rows[at] = row,
                        None => {
                            by_netid.insert(row.netid.clone(), parsed.rows.len());
                            parsed.rows.push(row);
                        }
                    }
                    None
                }
                Err(key) => Some(key),
            }
        };
        parsed.lines.push(ImportLine {
            line,
            text,
            refused,
        });
    }
    Ok(parsed)
}

/// Stores an import's accepted rows in one transaction.
pub async fn import(
    state: &AppState,
    admin: &Admin<'_>,
    parsed: &ParsedImport,
) -> Result<SubnetImport, AppError> {
    let done = state.store.import_subnets(&parsed.rows).await?;
    let refused = parsed.lines.iter().filter(|l| l.refused.is_some()).count();
    tracing::info!(admin = %admin.viewer.login, added = done.added, updated = done.updated, refused, "subnet names imported");
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_needs_a_network_address_under_a_contiguous_mask() {
        let ok = check(" LAN ", "HQ", "192.0.2.0", "255.255.255.0").unwrap();
        assert_eq!((ok.name.as_str(), ok.netid.as_str()), ("LAN", "192.0.2.0"));
        let key = |r: Result<NewSubnet, AppError>| r.unwrap_err().to_string();
        assert_eq!(
            key(check("", "", "192.0.2.0", "255.255.255.0")),
            "subnets.bad_name"
        );
        assert_eq!(
            key(check("x", "", "192.0.2", "255.255.255.0")),
            "subnets.bad_address"
        );
        assert_eq!(
            key(check("x", "", "192.0.2.0", "255.0.255.0")),
            "subnets.bad_mask"
        );
        assert_eq!(
            key(check("x", "", "192.0.2.7", "255.255.255.0")),
            "subnets.not_network"
        );
        assert_eq!(prefix_len("255.255.240.0".parse().unwrap()), Some(20));
        assert_eq!(prefix_len("0.0.0.0".parse().unwrap()), Some(0));
        assert_eq!(prefix_len("255.255.255.255".parse().unwrap()), Some(32));
    }

    #[test]
    fn imports_read_either_separator_skip_a_header_and_refuse_bad_lines_alone() {
        let csv = "name;id;address;mask\nLAN;HQ;192.0.2.0;255.255.255.0\n\
                   bad;HQ;192.0.2.9;255.255.255.0\n\"DMZ; edge\";;198.51.100.0;255.255.255.128\nshort;x\n";
        let p = parse_import(csv.as_bytes()).unwrap();
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[1].name, "DMZ; edge");
        let refused: Vec<_> = p.lines.iter().map(|l| (l.line, l.refused)).collect();
        assert_eq!(
            refused,
            [
                (2, None),
                (3, Some("subnets.not_network")),
                (4, None),
                (5, Some("subnets.import_columns"))
            ]
        );
        let p = parse_import(b"LAN,1,192.0.2.0,255.255.255.0\nLAN2,1,192.0.2.0,255.255.255.0\n")
            .unwrap();
        assert_eq!(p.rows.len(), 1, "the last line for an address wins");
        assert_eq!(p.rows[0].name, "LAN2");
        assert!(parse_import(&[0xff, 0xfe]).is_err());
    }
}
