//! HARDWARE: the device row. Host and domain names, operating system and kernel,
//! architecture, memory and swap, main IP address and default gateway, DNS servers, SMBIOS
//! UUID, logged-in and last users, virtualisation, and a summary of the processors. It runs
//! after every other collector because several of its fields summarise theirs (CPUS,
//! NETWORKS). CHECKSUM is set later, by the run, once all sections are known.

use time::OffsetDateTime;

use super::{key_value, key_values, Context, Row, Section};

/// Builds the HARDWARE row. Never fails: every field is optional.
pub fn collect(ctx: &Context, sections: &[Section]) -> Row {
    let mut row = Row::new();
    let hostname = ctx
        .attr("/proc/sys/kernel/hostname")
        .or_else(|| ctx.attr("/etc/hostname"))
        .unwrap_or_default();
    let (short, domain_from_name) = split_hostname(&hostname);
    row.set("NAME", short);

    let hosts = ctx.read_opt("/etc/hosts").unwrap_or_default();
    let resolv = resolv_conf(ctx);
    let domain = domain_from_name
        .or_else(|| domain_from_hosts(&hosts, short))
        .or_else(|| parse_resolv(&resolv).1)
        // The console groups machines by "domain"; the original agent says WORKGROUP when
        // it finds none, like a Windows machine outside a domain.
        .unwrap_or_else(|| "WORKGROUP".to_owned());
    row.set("WORKGROUP", domain);
    row.set("DNS", parse_resolv(&resolv).0.join("/"));

    let os = key_values(
        &ctx.read_opt("/etc/os-release")
            .or_else(|| ctx.read_opt("/usr/lib/os-release"))
            .unwrap_or_default(),
    );
    let (osname, oscomments) = os_names(&os);
    row.set_opt("OSNAME", osname);
    row.set_opt("OSCOMMENTS", oscomments);
    row.set_opt("OSVERSION", ctx.attr("/proc/sys/kernel/osrelease"));
    let arch = ctx.arch();
    row.set("ARCH", arch.clone());

    let meminfo = ctx.read_opt("/proc/meminfo").unwrap_or_default();
    row.set_opt(
        "MEMORY",
        meminfo_mb(&meminfo, "MemTotal").map(|m| m.to_string()),
    );
    row.set_opt(
        "SWAP",
        meminfo_mb(&meminfo, "SwapTotal").map(|m| m.to_string()),
    );

    if let Some(cpus) = section(sections, "CPUS") {
        row.set("PROCESSORN", cpus.rows.len().to_string());
        if let Some(first) = cpus.rows.first() {
            row.set_opt("PROCESSORT", first.get("TYPE"));
            row.set_opt(
                "PROCESSORS",
                first.get("SPEED").or(first.get("CURRENT_SPEED")),
            );
        }
    }

    let route = ctx.read_opt("/proc/net/route").unwrap_or_default();
    let gateway = default_gateway(&route);
    row.set_opt("DEFAULTGATEWAY", gateway.as_ref().map(|(_, gw)| gw.clone()));
    row.set_opt(
        "IPADDR",
        main_ip(
            section(sections, "NETWORKS"),
            gateway.as_ref().map(|(i, _)| i.as_str()),
        ),
    );

    if let Some(uuid) = ctx
        .smbios()
        .and_then(|s| s.first(1))
        .and_then(|s| s.clean("UUID"))
    {
        // dmidecode and sysfs print it in lower case, the raw tables in upper case; one
        // spelling keeps the server's duplicate detection by UUID working.
        row.set("UUID", uuid.to_ascii_uppercase());
    }
    row.set_opt("VMSYSTEM", vm_system(ctx));

    let uptime = ctx
        .attr("/proc/uptime")
        .and_then(|u| u.split_whitespace().next()?.parse::<f64>().ok());
    row.set_opt("DESCRIPTION", uptime.map(|u| description(&arch, u)));

    match ctx
        .read_bytes("/run/utmp")
        .or_else(|_| ctx.read_bytes("/var/run/utmp"))
    {
        Ok(utmp) => {
            let users = logged_in(&utmp);
            row.set("USERID", users.join("/"));
        }
        Err(e) => tracing::debug!(error = %e, "no utmp: logged-in users unknown"),
    }
    if let Ok(wtmp) = ctx.read_bytes("/var/log/wtmp") {
        if let Some((user, time)) = last_login(&wtmp) {
            row.set("LASTLOGGEDUSER", user);
            if let Ok(t) = OffsetDateTime::from_unix_timestamp(time) {
                row.set(
                    "DATELASTLOGGEDUSER",
                    super::ocs_datetime(t.to_offset(ctx.offset)),
                );
            }
        }
    }
    row.set_opt("INSTALLDATE", install_date(ctx));
    row
}

fn section<'a>(sections: &'a [Section], element: &str) -> Option<&'a Section> {
    sections.iter().find(|s| s.element == element)
}

/// Splits `web01.example.org` into `web01` and `example.org`.
pub fn split_hostname(hostname: &str) -> (&str, Option<String>) {
    match hostname.trim().split_once('.') {
        Some((short, domain)) if !domain.is_empty() => (short, Some(domain.to_owned())),
        _ => (hostname.trim(), None),
    }
}

/// The domain of the fully qualified name `/etc/hosts` gives this host, as `hostname -d`
/// finds it.
pub fn domain_from_hosts(hosts: &str, short: &str) -> Option<String> {
    hosts.lines().find_map(|line| {
        let line = line.split('#').next()?;
        let names: Vec<&str> = line.split_whitespace().skip(1).collect();
        if !names.contains(&short) && !names.iter().any(|n| n.split('.').next() == Some(short)) {
            return None;
        }
        names
            .iter()
            .find_map(|n| n.strip_prefix(short)?.strip_prefix('.'))
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
    })
}

/// resolv.conf, or the upstream one when the local stub resolver of systemd-resolved is in
/// the way (127.0.0.53 tells an administrator nothing).
fn resolv_conf(ctx: &Context) -> String {
    let main = ctx.read_opt("/etc/resolv.conf").unwrap_or_default();
    if parse_resolv(&main)
        .0
        .iter()
        .all(|ns| ns.starts_with("127.0.0.53"))
    {
        if let Some(upstream) = ctx.read_opt("/run/systemd/resolve/resolv.conf") {
            return upstream;
        }
    }
    main
}

/// Name servers and the first `domain`/`search` entry of a resolv.conf.
pub fn parse_resolv(text: &str) -> (Vec<String>, Option<String>) {
    let mut servers = Vec::new();
    let mut domain = None;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => servers.extend(words.next().map(str::to_owned)),
            Some("domain") | Some("search") if domain.is_none() => {
                domain = words.next().filter(|d| *d != ".").map(str::to_owned)
            }
            _ => {}
        }
    }
    (servers, domain)
}

/// (OSNAME, OSCOMMENTS) from os-release: `Debian GNU/Linux 12` and
/// `Debian GNU/Linux 12 (bookworm)`.
pub fn os_names(os: &[(String, String)]) -> (Option<String>, Option<String>) {
    let pretty = key_value(os, "PRETTY_NAME").map(str::to_owned);
    let name = match (key_value(os, "NAME"), key_value(os, "VERSION_ID")) {
        (Some(n), Some(v)) => Some(format!("{n} {v}")),
        (Some(n), None) => Some(n.to_owned()),
        _ => pretty.clone(),
    };
    (name, pretty)
}

/// A `/proc/meminfo` value in MiB.
pub fn meminfo_mb(meminfo: &str, key: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        if k.trim() != key {
            return None;
        }
        let kb: u64 = v.split_whitespace().next()?.parse().ok()?;
        Some(kb / 1024)
    })
}

/// The default IPv4 route of `/proc/net/route`: (interface, gateway).
pub fn default_gateway(route: &str) -> Option<(String, String)> {
    route.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 || f[1] != "00000000" || f[7] != "00000000" {
            return None;
        }
        let gw = u32::from_str_radix(f[2], 16).ok()?;
        // The file holds addresses in host byte order of a little-endian machine.
        let ip = std::net::Ipv4Addr::from(gw.swap_bytes());
        (!ip.is_unspecified()).then(|| (f[0].to_owned(), ip.to_string()))
    })
}

/// The address the server will most likely see: the first IPv4 address of the interface
/// that holds the default route, else the first IPv4 address that is not loopback.
fn main_ip(networks: Option<&Section>, default_iface: Option<&str>) -> Option<String> {
    let rows = &networks?.rows;
    let ipv4 = |r: &&Row| {
        r.get("IPADDRESS")
            .is_some_and(|a| a.contains('.') && !a.starts_with("127."))
    };
    default_iface
        .and_then(|iface| {
            rows.iter().filter(ipv4).find(|r| {
                r.get("DESCRIPTION")
                    .is_some_and(|d| d == iface || d.starts_with(&format!("{iface}:")))
            })
        })
        .or_else(|| rows.iter().find(ipv4))
        .and_then(|r| r.get("IPADDRESS"))
        .map(str::to_owned)
}

/// `x86_64/00-00-03 04:05:06`: the architecture and the uptime written as a date offset
/// (years-months-days hours:minutes:seconds since boot), the format OCS consoles show.
pub fn description(arch: &str, uptime_secs: f64) -> String {
    let secs = uptime_secs.max(0.0) as i64;
    let t = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{arch}/{:02}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year() - 1970,
        u8::from(t.month()) - 1,
        t.day() - 1,
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// glibc's `struct utmp` on Linux (the same on 32- and 64-bit, for compatibility).
const UTMP_SIZE: usize = 384;
const USER_PROCESS: i16 = 7;

fn utmp_records(data: &[u8]) -> impl Iterator<Item = (i16, String, i64)> + '_ {
    data.chunks_exact(UTMP_SIZE).map(|r| {
        let kind = i16::from_ne_bytes([r[0], r[1]]);
        let user = String::from_utf8_lossy(&r[44..76])
            .trim_end_matches('\0')
            .to_owned();
        let secs = i64::from(i32::from_ne_bytes([r[340], r[341], r[342], r[343]]));
        (kind, user, secs)
    })
}

/// Users with a session now (`/run/utmp`), each once, in login order.
pub fn logged_in(utmp: &[u8]) -> Vec<String> {
    let mut users: Vec<String> = Vec::new();
    for (kind, user, _) in utmp_records(utmp) {
        if kind == USER_PROCESS && !user.is_empty() && !users.contains(&user) {
            users.push(user);
        }
    }
    users
}

/// The last user to log in (`/var/log/wtmp`) and when.
pub fn last_login(wtmp: &[u8]) -> Option<(String, i64)> {
    utmp_records(wtmp)
        .filter(|(kind, user, _)| *kind == USER_PROCESS && !user.is_empty())
        .last()
        .map(|(_, user, time)| (user, time))
}

/// Virtualisation or container technology, or `Physical`. SMBIOS names are the most
/// specific; the `hypervisor` CPU flag catches hypervisors that hide them.
pub fn vm_system(ctx: &Context) -> Option<String> {
    if ctx.exists("/.dockerenv") {
        return Some("Docker".into());
    }
    if let Some(env) = ctx.read_opt("/run/systemd/container") {
        return Some(container_name(env.trim()).to_owned());
    }
    if let Some(smbios) = ctx.smbios() {
        let text: String = smbios
            .structures
            .iter()
            .filter(|s| s.kind <= 1)
            .flat_map(|s| s.fields.iter().map(|(_, v)| v.as_str()))
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(name) = hypervisor_from_dmi(&text) {
            return Some(name.to_owned());
        }
    }
    if let Some(xen) = ctx.attr("/sys/hypervisor/type") {
        if xen == "xen" {
            return Some("Xen".into());
        }
    }
    let cpuinfo = ctx.read_opt("/proc/cpuinfo").unwrap_or_default();
    let flagged = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .is_some_and(|l| l.split_whitespace().any(|f| f == "hypervisor"));
    if flagged {
        return Some("Virtual Machine".into());
    }
    Some("Physical".into())
}

fn container_name(env: &str) -> &str {
    match env {
        "docker" => "Docker",
        "lxc" | "lxc-libvirt" => "LXC",
        "podman" => "Podman",
        "systemd-nspawn" => "systemd-nspawn",
        "wsl" => "WSL",
        other => other,
    }
}

/// Recognises a hypervisor from SMBIOS vendor and product strings.
pub fn hypervisor_from_dmi(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    [
        ("vmware", "VMware"),
        ("virtualbox", "VirtualBox"),
        ("innotek", "VirtualBox"),
        ("microsoft corporation virtual machine", "Hyper-V"),
        ("hyper-v", "Hyper-V"),
        ("kvm", "KVM"),
        ("qemu", "QEMU"),
        ("xen", "Xen"),
        ("parallels", "Parallels"),
        ("bochs", "Bochs"),
        ("amazon ec2", "KVM"),
        ("google compute engine", "KVM"),
        ("openstack", "KVM"),
    ]
    .iter()
    .find(|(needle, _)| t.contains(needle))
    .map(|(_, name)| *name)
}

/// When the operating system was installed, from files installers leave behind.
fn install_date(ctx: &Context) -> Option<String> {
    [
        "/var/log/installer",
        "/root/anaconda-ks.cfg",
        "/etc/machine-id",
    ]
    .iter()
    .find_map(|p| ctx.mtime(p))
    .filter(|_| ctx.is_live())
    .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};
    use crate::collectors::{collect_all, CollectOptions};

    #[test]
    fn the_vm() {
        let ctx = machine("vm-debian12", true);
        let (sections, _) = collect_all(&ctx, CollectOptions::default());
        let hw = &sections
            .iter()
            .find(|s| s.element == "HARDWARE")
            .unwrap()
            .rows[0];
        assert_eq!(field(hw, "NAME"), "vm");
        assert_eq!(field(hw, "WORKGROUP"), "WORKGROUP");
        assert_eq!(field(hw, "DNS"), "10.255.255.53");
        assert_eq!(field(hw, "OSNAME"), "Debian GNU/Linux 12");
        assert_eq!(field(hw, "OSCOMMENTS"), "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(field(hw, "OSVERSION"), "6.18.44-fc-v657");
        assert_eq!(field(hw, "MEMORY"), "24105");
        assert_eq!(field(hw, "SWAP"), "0");
        assert_eq!(field(hw, "DEFAULTGATEWAY"), "192.0.2.1");
        assert_eq!(field(hw, "IPADDR"), "192.0.2.2");
        assert_eq!(field(hw, "PROCESSORT"), "AMD EPYC");
        assert_eq!(field(hw, "PROCESSORN"), "1");
        assert_eq!(field(hw, "VMSYSTEM"), "Virtual Machine");
        assert!(field(hw, "DESCRIPTION").starts_with("x86_64/00-00-"));
        assert_eq!(hw.get("UUID"), None);
    }

    #[test]
    fn the_laptop_with_smbios() {
        let ctx = machine("laptop-fedora", true);
        let (sections, _) = collect_all(&ctx, CollectOptions::default());
        let hw = &sections
            .iter()
            .find(|s| s.element == "HARDWARE")
            .unwrap()
            .rows[0];
        assert_eq!(field(hw, "NAME"), "thinkpad");
        assert_eq!(field(hw, "WORKGROUP"), "corp.example.com");
        assert_eq!(field(hw, "UUID"), "2A7F3C81-5B1E-11B2-A85C-D0F3E1A2B3C4");
        assert_eq!(field(hw, "VMSYSTEM"), "Physical");
        assert_eq!(field(hw, "OSNAME"), "Fedora Linux 40");
        assert_eq!(field(hw, "USERID"), "alice/bob");
        assert_eq!(field(hw, "LASTLOGGEDUSER"), "bob");
        assert_eq!(field(hw, "DNS"), "192.168.1.1/2001:db8::1");
        assert_eq!(field(hw, "IPADDR"), "192.168.1.23");
        assert_eq!(field(hw, "PROCESSORS"), "4700");
    }

    #[test]
    fn names_and_domains() {
        assert_eq!(
            split_hostname("web01.example.org"),
            ("web01", Some("example.org".into()))
        );
        assert_eq!(split_hostname("vm"), ("vm", None));
        let hosts = "127.0.0.1 localhost\n10.0.0.5 web01.corp.example.com web01 # me\n";
        assert_eq!(
            domain_from_hosts(hosts, "web01").as_deref(),
            Some("corp.example.com")
        );
        assert_eq!(domain_from_hosts(hosts, "db"), None);
        let (ns, domain) =
            parse_resolv("search lan example.org\nnameserver 1.1.1.1\nnameserver ::1\n");
        assert_eq!(ns, ["1.1.1.1", "::1"]);
        assert_eq!(domain.as_deref(), Some("lan"));
    }

    #[test]
    fn routes_memory_uptime() {
        let route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
        assert_eq!(
            default_gateway(route),
            Some(("eth0".into(), "192.0.2.1".into()))
        );
        assert_eq!(default_gateway("Iface\n"), None);
        assert_eq!(
            meminfo_mb("MemTotal:       24684092 kB\nSwapTotal: 0 kB\n", "MemTotal"),
            Some(24105)
        );
        assert_eq!(
            description("x86_64", 3.0 * 86400.0 + 3723.5),
            "x86_64/00-00-03 01:02:03"
        );
    }

    fn utmp_record(kind: i16, user: &str, secs: i32) -> Vec<u8> {
        let mut r = vec![0u8; UTMP_SIZE];
        r[0..2].copy_from_slice(&kind.to_ne_bytes());
        r[44..44 + user.len()].copy_from_slice(user.as_bytes());
        r[340..344].copy_from_slice(&secs.to_ne_bytes());
        r
    }

    #[test]
    fn utmp_and_wtmp() {
        let mut utmp = utmp_record(2, "reboot", 1);
        utmp.extend(utmp_record(USER_PROCESS, "alice", 10));
        utmp.extend(utmp_record(USER_PROCESS, "bob", 20));
        utmp.extend(utmp_record(USER_PROCESS, "alice", 30));
        utmp.extend(utmp_record(8, "", 40));
        assert_eq!(logged_in(&utmp), ["alice", "bob"]);
        assert_eq!(last_login(&utmp), Some(("alice".into(), 30)));
        assert_eq!(logged_in(&utmp[..100]), Vec::<String>::new());
    }

    #[test]
    fn hypervisors() {
        assert_eq!(
            hypervisor_from_dmi("QEMU Standard PC (Q35 + ICH9, 2009)"),
            Some("QEMU")
        );
        assert_eq!(
            hypervisor_from_dmi("innotek GmbH VirtualBox"),
            Some("VirtualBox")
        );
        assert_eq!(hypervisor_from_dmi("LENOVO 21CB"), None);
    }
}
