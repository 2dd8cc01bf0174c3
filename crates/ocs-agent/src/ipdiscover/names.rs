//! Names of the hosts a scan found, from `/etc/hosts` only. Real reverse DNS would cost one
//! resolver round trip per host (and the resolver's whole timeout, several seconds, for
//! every host on a network whose DNS is unreachable), so a name is given only when it is
//! free; the rest get `-`, which is what agents send when they have none.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use crate::collectors::Context;

/// What agents send for a host without a name.
pub const NO_NAME: &str = "-";

/// The first name `/etc/hosts` gives each IPv4 address.
pub fn hosts_file(ctx: &Context) -> HashMap<Ipv4Addr, String> {
    ctx.read_opt("/etc/hosts")
        .map(|text| parse_hosts(&text))
        .unwrap_or_default()
}

fn parse_hosts(text: &str) -> HashMap<Ipv4Addr, String> {
    let mut names = HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let (Some(ip), Some(name)) = (fields.next(), fields.next()) else {
            continue;
        };
        if let Ok(ip) = ip.parse::<Ipv4Addr>() {
            // Names are written into XML elements; anything odd is not a host name.
            let clean = name.len() <= 253
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            if clean {
                names.entry(ip).or_insert_with(|| name.to_owned());
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_name_of_each_address() {
        let names = parse_hosts(
            "127.0.0.1 localhost\n# 192.0.2.9 commented\n192.0.2.21  printer.lab printer\n192.0.2.21 other\n::1 ip6-localhost\n192.0.2.22 bad<name>\nnot-an-ip x\n",
        );
        assert_eq!(
            names.get(&Ipv4Addr::new(192, 0, 2, 21)).map(String::as_str),
            Some("printer.lab")
        );
        assert!(!names.contains_key(&Ipv4Addr::new(192, 0, 2, 9)));
        assert!(!names.contains_key(&Ipv4Addr::new(192, 0, 2, 22)));
        assert_eq!(names.len(), 2);
    }
}
