//! The IP query (the guide's "IP query"; reference §5.5 `-ip`): one IPv4 address looked up
//! across inventories and scan results. Reading it needs only a signed-in account, as the
//! other network lists do; the address is checked here and reaches SQL only as a bound value.

use std::net::{Ipv4Addr, Ipv6Addr};

use ocs_storage::ipdiscover::lookup::{ComputerMatch, DiscoveredMatch, InterfaceMatch};
use ocs_storage::ipdiscover::subnets::SubnetRecord;

use crate::app::ipdiscover::vendor::mac_vendor;
use crate::app::{AppError, AppState};

/// Longest address text accepted (a dotted quad is at most 15 bytes; some slack for spaces).
pub const MAX_ADDRESS_BYTES: usize = 64;

fn bad(key: &'static str) -> AppError {
    AppError::bad_request("E_BAD_ADDRESS", key)
}

/// The address to look up, or a 400 whose message is the catalogue key of the reason.
pub fn parse_address(text: &str) -> Result<Ipv4Addr, AppError> {
    if text.len() > MAX_ADDRESS_BYTES {
        return Err(bad("lookup.too_long"));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(bad("lookup.missing"));
    }
    if let Ok(ip) = text.parse::<Ipv4Addr>() {
        return Ok(ip);
    }
    Err(bad(if text.parse::<Ipv6Addr>().is_ok() {
        "lookup.ipv6"
    } else if text.contains('/') {
        "lookup.range"
    } else {
        "lookup.bad_address"
    }))
}

/// A scan result with the vendor of its MAC.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// What the scan saw.
    pub seen: DiscoveredMatch,
    /// The MAC's registered vendor, if any.
    pub vendor: Option<&'static str>,
}

/// What is known about an address.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The address looked up.
    pub ip: Ipv4Addr,
    /// Inventoried interfaces with it.
    pub interfaces: Vec<InterfaceMatch>,
    /// Computers whose main address it is.
    pub computers: Vec<ComputerMatch>,
    /// Scan results at it.
    pub discovered: Vec<Discovered>,
    /// Named networks containing it, the most specific first.
    pub subnets: Vec<SubnetRecord>,
}

impl Lookup {
    /// Whether nothing at all is known about the address.
    pub fn is_empty(&self) -> bool {
        self.interfaces.is_empty()
            && self.computers.is_empty()
            && self.discovered.is_empty()
            && self.subnets.is_empty()
    }
}

/// Looks an address up everywhere.
#[tracing::instrument(skip_all, fields(ip = %ip))]
pub async fn lookup(state: &AppState, ip: Ipv4Addr) -> Result<Lookup, AppError> {
    let found = state.store.lookup_ip(ip).await?;
    Ok(Lookup {
        ip,
        interfaces: found.interfaces,
        computers: found.computers,
        discovered: found
            .discovered
            .into_iter()
            .map(|seen| Discovered {
                vendor: mac_vendor(&seen.mac),
                seen,
            })
            .collect(),
        subnets: found.subnets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> String {
        parse_address(text).unwrap_err().to_string()
    }

    #[test]
    fn only_one_dotted_ipv4_address_is_accepted() {
        assert_eq!(
            parse_address(" 192.0.2.7 ").unwrap(),
            Ipv4Addr::new(192, 0, 2, 7)
        );
        assert_eq!(reason(""), "lookup.missing");
        assert_eq!(reason("   "), "lookup.missing");
        assert_eq!(reason("2001:db8::1"), "lookup.ipv6");
        assert_eq!(reason("192.0.2.0/24"), "lookup.range");
        assert_eq!(reason("192.0.2"), "lookup.bad_address");
        assert_eq!(reason("192.0.2.256"), "lookup.bad_address");
        assert_eq!(reason("192.0.2.07"), "lookup.bad_address");
        assert_eq!(reason("printer.example"), "lookup.bad_address");
        assert_eq!(reason("' OR 1=1 --"), "lookup.bad_address");
        assert_eq!(
            reason(&"1".repeat(MAX_ADDRESS_BYTES + 1)),
            "lookup.too_long"
        );
        assert_eq!(
            parse_address("1").unwrap_err().code(),
            "E_BAD_ADDRESS",
            "a stable code for the API and logs"
        );
    }
}
