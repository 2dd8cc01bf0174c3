//! nmap for the Analyze job: the command line (built from addresses only), its greppable
//! output (`-oG -`) read into one [`HostScan`] per address, and the classification of a host
//! from its four ports and OS guess (reference §5.5).
//!
//! Nothing here runs a process or reads request text: the arguments are [`Ipv4Addr`] values
//! printed by the standard library, so no shell or option syntax can reach nmap (the
//! original's CVE-2018-12483 passed request text to a shell).

use std::collections::HashMap;
use std::net::Ipv4Addr;

/// The ports whose states classify a host: MSRPC, HTTP, SSH, telnet.
pub const PORTS: [u16; 4] = [135, 80, 22, 23];

/// nmap's arguments for `targets`; `os_detection` adds `-O` (which needs root).
pub fn args(targets: &[Ipv4Addr], os_detection: bool) -> Vec<String> {
    let mut args: Vec<String> = ["-n"].iter().map(|s| (*s).to_owned()).collect();
    if os_detection {
        args.extend(
            ["-O", "--osscan-limit", "--max-os-tries", "1"]
                .iter()
                .map(|s| (*s).to_owned()),
        );
    }
    args.extend(
        [
            "-T4",
            "--max-retries",
            "1",
            "-p",
            "135,80,22,23",
            "-oG",
            "-",
        ]
        .iter()
        .map(|s| (*s).to_owned()),
    );
    args.extend(targets.iter().map(Ipv4Addr::to_string));
    args
}

/// Whether nmap refused `-O` for want of privileges (its message on stderr).
pub fn needs_root(stderr: &str) -> bool {
    stderr.contains("requires root privileges")
}

/// The state nmap gave a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortState {
    /// Something answers.
    Open,
    /// The host refused (it is there, nothing listens).
    Closed,
    /// No answer, or an ambiguous one: a firewall drops the probes.
    Filtered,
    /// Anything else nmap may say (`unfiltered`).
    Other,
}

impl PortState {
    fn parse(text: &str) -> PortState {
        match text {
            "open" => PortState::Open,
            "closed" => PortState::Closed,
            "filtered" | "open|filtered" | "closed|filtered" => PortState::Filtered,
            _ => PortState::Other,
        }
    }
}

/// What nmap found about one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostScan {
    /// Whether the host answered at all.
    pub up: bool,
    /// The states of the scanned ports.
    pub ports: Vec<(u16, PortState)>,
    /// nmap's OS guess, if it made one.
    pub os: Option<String>,
}

impl HostScan {
    fn state(&self, port: u16) -> Option<PortState> {
        self.ports.iter().find(|(p, _)| *p == port).map(|(_, s)| *s)
    }

    fn open(&self, port: u16) -> bool {
        self.state(port) == Some(PortState::Open)
    }
}

/// Reads greppable output: one entry per address nmap reported on (an address missing was
/// not found up). Lines that do not parse are skipped.
pub fn parse_greppable(text: &str) -> HashMap<Ipv4Addr, HostScan> {
    let mut hosts: HashMap<Ipv4Addr, HostScan> = HashMap::new();
    for line in text.lines() {
        let mut fields = line.split('\t');
        let Some(ip) = fields
            .next()
            .and_then(|f| f.strip_prefix("Host: "))
            .and_then(|f| f.split_whitespace().next())
            .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
        else {
            continue;
        };
        let host = hosts.entry(ip).or_default();
        let mut ignored: Option<PortState> = None;
        for field in fields {
            let field = field.trim();
            if let Some(status) = field.strip_prefix("Status: ") {
                host.up = status.trim() == "Up";
            } else if let Some(ports) = field.strip_prefix("Ports: ") {
                // A host with ports listed answered, whatever the Status line said.
                host.up = true;
                for entry in ports.split(", ") {
                    let mut parts = entry.trim().split('/');
                    let (Some(Ok(port)), Some(state)) =
                        (parts.next().map(str::parse::<u16>), parts.next())
                    else {
                        continue;
                    };
                    host.ports.retain(|(p, _)| *p != port);
                    host.ports.push((port, PortState::parse(state)));
                }
            } else if let Some(state) = field.strip_prefix("Ignored State: ") {
                ignored = state.split_whitespace().next().map(PortState::parse);
            } else if let Some(os) = field.strip_prefix("OS: ") {
                let os = os.trim();
                if !os.is_empty() {
                    host.os = Some(os.chars().take(255).collect());
                }
            }
        }
        // Ports nmap summarised as "Ignored State" instead of listing them.
        if let Some(state) = ignored {
            for port in PORTS {
                if host.state(port).is_none() {
                    host.ports.push((port, state));
                }
            }
        }
    }
    hosts
}

/// The classes of reference §5.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A Windows computer.
    Windows,
    /// A Linux (or other Unix) computer.
    Linux,
    /// A Mac.
    Mac,
    /// A switch, router, printer or other appliance.
    Network,
    /// Every probe dropped: nothing can be said.
    Filtered,
    /// Not there, or nothing listening.
    Phantom,
}

impl Kind {
    /// Every class, in the order the console shows them.
    pub const ALL: [Kind; 6] = [
        Kind::Windows,
        Kind::Linux,
        Kind::Mac,
        Kind::Network,
        Kind::Filtered,
        Kind::Phantom,
    ];

    /// The stored text (the original's `<TYPE>` values).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Windows => "WINDOWS",
            Kind::Linux => "LINUX",
            Kind::Mac => "MAC",
            Kind::Network => "NETWORK",
            Kind::Filtered => "FILTERED",
            Kind::Phantom => "PHANTOM",
        }
    }

    /// The class of a stored text.
    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

fn mentions(os: Option<&str>, words: &[&str]) -> bool {
    os.is_some_and(|os| {
        let os = os.to_ascii_lowercase();
        words.iter().any(|w| os.contains(w))
    })
}

const MAC_WORDS: &[&str] = &["mac os", "macos", "os x", "apple", "darwin"];
const NETWORK_WORDS: &[&str] = &[
    "switch",
    "router",
    "printer",
    "print server",
    "embedded",
    "firewall",
    "access point",
    "cisco",
    "juniper",
    "voip",
    "jetdirect",
];

/// The class of a host (`None`: nmap did not find it up). Port patterns first, as the
/// original: MSRPC open is Windows, SSH open a Unix, telnet open an appliance; then the OS
/// guess; then an HTTP-only host is an appliance, and a host with nothing open a phantom
/// (all refused) or filtered.
pub fn classify(scan: Option<&HostScan>) -> Kind {
    let Some(scan) = scan.filter(|s| s.up) else {
        return Kind::Phantom;
    };
    let os = scan.os.as_deref();
    if scan.open(135) {
        return Kind::Windows;
    }
    if scan.open(22) {
        return if mentions(os, MAC_WORDS) {
            Kind::Mac
        } else {
            Kind::Linux
        };
    }
    if scan.open(23) {
        return Kind::Network;
    }
    if mentions(os, &["windows"]) {
        return Kind::Windows;
    }
    if mentions(os, MAC_WORDS) {
        return Kind::Mac;
    }
    if mentions(os, NETWORK_WORDS) {
        return Kind::Network;
    }
    if mentions(os, &["linux", "bsd", "unix", "solaris"]) {
        return Kind::Linux;
    }
    if scan.open(80) {
        return Kind::Network;
    }
    if PORTS
        .iter()
        .all(|p| scan.state(*p) == Some(PortState::Closed))
    {
        Kind::Phantom
    } else {
        Kind::Filtered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    /// Written in the shape nmap 7.93 prints with `-oG -` (tabs between fields).
    const SAMPLE: &str = "# Nmap 7.93 scan initiated Wed Dec  2 14:00:00 2026 as: nmap -n -O --osscan-limit --max-os-tries 1 -T4 --max-retries 1 -p 135,80,22,23 -oG - 203.0.113.21 203.0.113.22 203.0.113.23 203.0.113.24 203.0.113.99\n\
Host: 203.0.113.21 ()\tStatus: Up\n\
Host: 203.0.113.21 ()\tPorts: 22/closed/tcp//ssh///, 23/closed/tcp//telnet///, 80/closed/tcp//http///, 135/open/tcp//msrpc///\tOS: Linux 4.15 - 5.8\tSeq Index: 258\tIP ID Seq: All zeros\n\
Host: 203.0.113.22 ()\tStatus: Up\n\
Host: 203.0.113.22 ()\tPorts: 22/open/tcp//ssh///, 23/closed/tcp//telnet///, 80/closed/tcp//http///, 135/closed/tcp//msrpc///\n\
Host: 203.0.113.23 ()\tStatus: Up\n\
Host: 203.0.113.23 ()\tPorts: 22/closed/tcp//ssh///, 23/open/tcp//telnet///, 80/closed/tcp//http///, 135/closed/tcp//msrpc///\n\
Host: 203.0.113.24 ()\tStatus: Up\n\
Host: 203.0.113.24 ()\tPorts: 22/closed/tcp//ssh///, 23/closed/tcp//telnet///, 80/closed/tcp//http///, 135/closed/tcp//msrpc///\n\
Host: 203.0.113.25 ()\tStatus: Down\n\
Host: 203.0.113.26 ()\tStatus: Up\n\
Host: 203.0.113.26 ()\tPorts: 22/filtered/tcp//ssh///, 23/filtered/tcp//telnet///, 80/filtered/tcp//http///, 135/filtered/tcp//msrpc///\n\
Host: 203.0.113.27 ()\tStatus: Up\n\
Host: 203.0.113.27 ()\tPorts: 80/open/tcp//http///\tIgnored State: closed (3)\tOS: HP LaserJet 4250 printer\n\
# Nmap done at Wed Dec  2 14:00:09 2026 -- 8 IP addresses (6 hosts up) scanned in 9.10 seconds\n";

    #[test]
    fn arguments_are_the_fixed_options_and_the_addresses() {
        let with_os = args(&[ip("203.0.113.21"), ip("203.0.113.22")], true);
        assert_eq!(
            with_os.join(" "),
            "-n -O --osscan-limit --max-os-tries 1 -T4 --max-retries 1 -p 135,80,22,23 -oG - \
             203.0.113.21 203.0.113.22"
        );
        let without = args(&[ip("203.0.113.21")], false);
        assert_eq!(
            without.join(" "),
            "-n -T4 --max-retries 1 -p 135,80,22,23 -oG - 203.0.113.21"
        );
        assert!(needs_root(
            "TCP/IP fingerprinting (for OS scan) requires root privileges.\nQUITTING!\n"
        ));
        assert!(!needs_root(""));
    }

    #[test]
    fn greppable_output_gives_each_hosts_ports_and_os() {
        let hosts = parse_greppable(SAMPLE);
        assert_eq!(hosts.len(), 7);
        let windows = &hosts[&ip("203.0.113.21")];
        assert!(windows.up);
        assert_eq!(windows.os.as_deref(), Some("Linux 4.15 - 5.8"));
        assert_eq!(windows.state(135), Some(PortState::Open));
        assert_eq!(windows.state(22), Some(PortState::Closed));
        assert!(!hosts[&ip("203.0.113.25")].up);
        let printer = &hosts[&ip("203.0.113.27")];
        assert_eq!(printer.state(80), Some(PortState::Open));
        assert_eq!(printer.state(23), Some(PortState::Closed), "ignored state");
        assert!(!hosts.contains_key(&ip("203.0.113.99")));
        assert!(parse_greppable("Host: not-an-ip ()\tStatus: Up\ngarbage\n").is_empty());
    }

    #[test]
    fn every_class_from_captured_lines() {
        let hosts = parse_greppable(SAMPLE);
        let kind = |a: &str| classify(hosts.get(&ip(a)));
        assert_eq!(kind("203.0.113.21"), Kind::Windows, "135 open beats the OS");
        assert_eq!(kind("203.0.113.22"), Kind::Linux);
        assert_eq!(kind("203.0.113.23"), Kind::Network);
        assert_eq!(kind("203.0.113.24"), Kind::Phantom, "all closed");
        assert_eq!(kind("203.0.113.25"), Kind::Phantom, "down");
        assert_eq!(kind("203.0.113.26"), Kind::Filtered);
        assert_eq!(kind("203.0.113.27"), Kind::Network, "HTTP-only printer");
        assert_eq!(kind("203.0.113.99"), Kind::Phantom, "not reported");
    }

    fn host(open: &[u16], os: Option<&str>) -> HostScan {
        HostScan {
            up: true,
            ports: PORTS
                .iter()
                .map(|p| {
                    let s = if open.contains(p) {
                        PortState::Open
                    } else {
                        PortState::Closed
                    };
                    (*p, s)
                })
                .collect(),
            os: os.map(str::to_owned),
        }
    }

    #[test]
    fn os_guesses_classify_what_ports_leave_open() {
        let kind = |open: &[u16], os: Option<&str>| classify(Some(&host(open, os)));
        assert_eq!(
            kind(&[80], Some("Microsoft Windows 10 1607")),
            Kind::Windows
        );
        assert_eq!(kind(&[22], Some("Apple macOS 11 (Big Sur)")), Kind::Mac);
        assert_eq!(kind(&[80], Some("Apple Mac OS X 10.7")), Kind::Mac);
        assert_eq!(kind(&[80], Some("Linux 5.0 - 5.4")), Kind::Linux);
        assert_eq!(
            kind(&[80], Some("Cisco 2960 switch (IOS 15)")),
            Kind::Network
        );
        assert_eq!(kind(&[80], None), Kind::Network, "HTTP only");
        assert_eq!(kind(&[22, 80], Some("Linux 4.x")), Kind::Linux);
        assert_eq!(kind(&[23, 80], None), Kind::Network);
        assert_eq!(kind(&[], None), Kind::Phantom);
        let mut mixed = host(&[], None);
        mixed.ports[0].1 = PortState::Filtered;
        assert_eq!(classify(Some(&mixed)), Kind::Filtered);
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("OTHER"), None);
    }
}
