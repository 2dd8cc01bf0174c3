//! nmblookup for the Analyze job: the NetBIOS name a host gives in its node status
//! (`nmblookup -A <ip>`). The argument is an [`Ipv4Addr`] printed by the standard library.

use std::net::Ipv4Addr;

/// Longest name kept (a NetBIOS name has at most 15 characters; this leaves room for odd
/// implementations without letting one fill the page).
const MAX_NAME_CHARS: usize = 63;

/// nmblookup's arguments for `ip`.
pub fn args(ip: Ipv4Addr) -> Vec<String> {
    vec!["-A".to_owned(), ip.to_string()]
}

/// The host's own name in a node status reply: the first unique (non-`<GROUP>`) name of type
/// `<00>` (the workstation service). `None` when there was no reply.
pub fn parse_name(output: &str) -> Option<String> {
    output
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("<00>") && !l.contains("<GROUP>"))
        .find_map(|l| {
            let name = l.split("<00>").next()?.trim();
            let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_graphic() || c == ' ');
            ok.then(|| name.chars().take(MAX_NAME_CHARS).collect())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workstation_name_is_read_and_group_names_skipped() {
        let reply = "Looking up status of 203.0.113.21\n\
            \tWORKGROUP       <00> - <GROUP> B <ACTIVE> \n\
            \tDESKTOP-7QK2    <00> -         B <ACTIVE> \n\
            \tDESKTOP-7QK2    <20> -         B <ACTIVE> \n\
            \n\
            \tMAC Address = 00-1B-21-0A-00-15\n\n";
        assert_eq!(parse_name(reply).as_deref(), Some("DESKTOP-7QK2"));
        assert_eq!(
            parse_name("Looking up status of 203.0.113.99\nNo reply from 203.0.113.99\n\n"),
            None
        );
        assert_eq!(parse_name("\t\u{1b}[31m <00> - B\n"), None);
        assert_eq!(
            args("203.0.113.21".parse().unwrap()),
            ["-A", "203.0.113.21"]
        );
    }
}
