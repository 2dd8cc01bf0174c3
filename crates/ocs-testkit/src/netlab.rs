//! Throwaway networks for the discovery tests: a bridge in its own network namespace, a
//! *scanner* namespace (where the server and the agent under test run), a few *hosts*, each in
//! its own namespace with a known MAC and address, and a leg in the test's own namespace so
//! that the test reaches the server. Everything uses one documentation /24 (RFC 5737) and no
//! namespace has a default route, so a scan can only ever reach the lab. Removed when dropped.
//!
//! Needs root and `ip` (iproute2). [`NetLab::create`] returns `None` (with a message) when
//! they are missing, and fails the test instead under `CI=true`.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use anyhow::{bail, Context};

/// MAC prefixes of real vendors (so that the console has a vendor to show); the last three
/// bytes are the lab's own.
const HOST_OUIS: [&str; 6] = [
    "00:1b:21", // Intel
    "3c:52:82", // Hewlett Packard
    "00:0c:29", // VMware
    "b8:27:eb", // Raspberry Pi
    "00:1a:a0", // Dell
    "00:50:56", // VMware
];

static LABS: AtomicU32 = AtomicU32::new(0);

/// Labs add and remove a link in the test's own namespace (the leg). Labs share it as
/// readers; a test that reads this machine's interfaces twice and compares takes it as the
/// writer ([`steady_interfaces`]), so no lab comes or goes in between.
static HOST_LINKS: RwLock<()> = RwLock::new(());

/// Keeps every network lab of this process from being built or removed while it is held:
/// for a test that compares what it reads of this machine's own interfaces at two moments.
pub fn steady_interfaces() -> RwLockWriteGuard<'static, ()> {
    HOST_LINKS.write().unwrap_or_else(|e| e.into_inner())
}

/// One machine on the lab's LAN.
#[derive(Clone, Debug)]
pub struct Member {
    /// Its network namespace (`None` for the test's own leg).
    pub ns: Option<String>,
    /// Its interface on the LAN (`eth0` in a namespace).
    pub ifname: String,
    /// Its IPv4 address.
    pub ip: String,
    /// Its MAC, lower case with colons.
    pub mac: String,
}

impl Member {
    /// A command run inside this member's namespace (`ip netns exec NS PROGRAM`).
    pub fn command(&self, program: &str) -> Command {
        match &self.ns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
            None => Command::new(program),
        }
    }
}

/// A lab network. Dropping it kills what it started and removes its namespaces and links.
pub struct NetLab {
    /// The lab's /24 as three octets, e.g. `192.0.2`.
    pub prefix: String,
    /// Network address (`192.0.2.0`), as agents report it in NETWORKS/IPSUBNET.
    pub netid: String,
    /// `255.255.255.0`.
    pub mask: String,
    /// Where the server and the agent under test run (`.10`).
    pub scanner: Member,
    /// The other machines (`.21`, `.22`, …), with vendor MACs.
    pub hosts: Vec<Member>,
    /// The test's own leg on the LAN (`.1`): how the test reaches a server in the scanner.
    pub leg: Member,
    lan_ns: String,
    namespaces: Vec<String>,
    children: Vec<Child>,
    // Released only once the lab is gone: fields drop after `drop` has removed the leg.
    _host_links: RwLockReadGuard<'static, ()>,
}

impl NetLab {
    /// Builds a lab on `prefix` (three octets of a documentation range: `192.0.2`,
    /// `198.51.100` or `203.0.113`; two labs alive at once must use different ones, and none
    /// the machine itself has an address in: it is refused) with
    /// `hosts` hosts besides the scanner. `None` when this machine cannot (not root, no
    /// `ip`), after saying why; under `CI=true` that is an error instead.
    pub fn create(prefix: &str, hosts: usize) -> anyhow::Result<Option<NetLab>> {
        if let Err(why) = can_build() {
            if crate::in_ci() {
                bail!("network lab needed under CI=true: {why}");
            }
            eprintln!("skipping: network lab unavailable ({why})");
            return Ok(None);
        }
        if !matches!(prefix, "192.0.2" | "198.51.100" | "203.0.113") {
            bail!("{prefix} is not a documentation /24 (RFC 5737)");
        }
        if let Some(taken) = own_address_in(prefix)? {
            bail!(
                "this machine has {taken} in {prefix}.0/24: a lab there would give its leg \
                 another address of that network (perhaps the gateway's) and cut the machine \
                 off; use another documentation range"
            );
        }
        if hosts > HOST_OUIS.len() * 40 {
            bail!("at most {} hosts", HOST_OUIS.len() * 40);
        }
        let id = (std::process::id() % 10_000) * 100 + LABS.fetch_add(1, Ordering::Relaxed) % 100;
        let base = format!("ocslab{id}");
        let mut lab = NetLab {
            prefix: prefix.to_owned(),
            netid: format!("{prefix}.0"),
            mask: "255.255.255.0".into(),
            scanner: Member {
                ns: Some(format!("{base}-scan")),
                ifname: "eth0".into(),
                ip: format!("{prefix}.10"),
                mac: "00:16:3e:0a:00:10".into(),
            },
            hosts: (0..hosts)
                .map(|k| Member {
                    ns: Some(format!("{base}-h{k}")),
                    ifname: "eth0".into(),
                    ip: format!("{prefix}.{}", 21 + k),
                    mac: format!("{}:0a:00:{:02x}", HOST_OUIS[k % HOST_OUIS.len()], 21 + k),
                })
                .collect(),
            leg: Member {
                ns: None,
                // Interface names are at most 15 bytes.
                ifname: format!("ol{id}"),
                ip: format!("{prefix}.1"),
                mac: "00:16:3e:0a:00:01".into(),
            },
            lan_ns: format!("{base}-lan"),
            namespaces: Vec::new(),
            children: Vec::new(),
            _host_links: HOST_LINKS.read().unwrap_or_else(|e| e.into_inner()),
        };
        lab.build().context("cannot build the network lab")?;
        Ok(Some(lab))
    }

    fn build(&mut self) -> anyhow::Result<()> {
        let lan = self.lan_ns.clone();
        self.add_ns(&lan)?;
        ip(&["-n", &lan, "link", "set", "lo", "up"])?;
        ip(&["-n", &lan, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &lan, "link", "set", "br0", "up"])?;
        let members: Vec<Member> = std::iter::once(self.scanner.clone())
            .chain(self.hosts.iter().cloned())
            .collect();
        for (k, m) in members.iter().enumerate() {
            let Some(ns) = &m.ns else { continue };
            self.add_ns(ns)?;
            let port = format!("p{k}");
            ip(&[
                "-n", &lan, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                ns,
            ])?;
            ip(&["-n", &lan, "link", "set", &port, "master", "br0", "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "link", "set", "eth0", "address", &m.mac])?;
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{}/24", m.ip),
                "dev",
                "eth0",
            ])?;
            ip(&["-n", ns, "link", "set", "eth0", "up"])?;
        }
        ip(&[
            "link",
            "add",
            &self.leg.ifname,
            "type",
            "veth",
            "peer",
            "name",
            "pleg",
            "netns",
            &lan,
        ])?;
        ip(&["link", "set", &self.leg.ifname, "address", &self.leg.mac])?;
        ip(&[
            "addr",
            "add",
            &format!("{}/24", self.leg.ip),
            "dev",
            &self.leg.ifname,
        ])?;
        // By default Linux answers ARP on any interface for any of the machine's addresses:
        // a lab scan would then find this machine's own addresses in the lab's range (a
        // machine may well sit on a documentation range), with the leg's MAC.
        let knob = format!("/proc/sys/net/ipv4/conf/{}/arp_ignore", self.leg.ifname);
        std::fs::write(&knob, "1").with_context(|| format!("writing {knob}"))?;
        ip(&["link", "set", &self.leg.ifname, "up"])?;
        ip(&["-n", &lan, "link", "set", "pleg", "master", "br0", "up"])?;
        Ok(())
    }

    fn add_ns(&mut self, ns: &str) -> anyhow::Result<()> {
        // A namespace left by a killed run of the same process ID goes first.
        let _ = Command::new("ip")
            .args(["netns", "del", ns])
            .stderr(Stdio::null())
            .status();
        ip(&["netns", "add", ns])?;
        self.namespaces.push(ns.to_owned());
        Ok(())
    }

    /// Every member's (IP, MAC) except the test's leg, the scanner first.
    pub fn machines(&self) -> Vec<(String, String)> {
        std::iter::once(&self.scanner)
            .chain(&self.hosts)
            .map(|m| (m.ip.clone(), m.mac.clone()))
            .collect()
    }

    /// What a scan from the scanner must find, as (IP, MAC): every other machine on the LAN,
    /// the test's leg included.
    pub fn visible_from_scanner(&self) -> std::collections::BTreeSet<(String, String)> {
        self.hosts
            .iter()
            .chain(std::iter::once(&self.leg))
            .map(|m| (m.ip.clone(), m.mac.clone()))
            .collect()
    }

    /// Starts `command` and kills it when the lab is dropped (a listener on a host, say).
    pub fn keep(&mut self, mut command: Command) -> anyhow::Result<()> {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start a lab process")?;
        self.children.push(child);
        Ok(())
    }

    /// Makes host `k` accept TCP connections on `port` (a tiny Python listener), so that a
    /// port scan finds it open.
    pub fn listen_tcp(&mut self, k: usize, port: u16) -> anyhow::Result<()> {
        let host = self.hosts.get(k).context("no such lab host")?.clone();
        let mut c = host.command("python3");
        c.args([
            "-c",
            "import socket,sys\n\
             s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
             s.bind(('0.0.0.0',int(sys.argv[1])));s.listen(64)\n\
             while True:\n c,_=s.accept();c.close()",
            &port.to_string(),
        ]);
        self.keep(c)?;
        // Wait until it accepts, so the caller's scan sees it.
        for _ in 0..100 {
            let ok = host
                .command("python3")
                .args([
                    "-c",
                    "import socket,sys;socket.create_connection(('127.0.0.1',int(sys.argv[1])),1)",
                    &port.to_string(),
                ])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        bail!("lab host {} does not listen on {port}", host.ip)
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.leg.ifname])
            .stderr(Stdio::null())
            .status();
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn can_build() -> Result<(), String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("cannot run id: {e}"))?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Err("not root".into());
    }
    Command::new("ip")
        .arg("-V")
        .output()
        .map_err(|e| format!("no ip (iproute2): {e}"))?;
    Ok(())
}

/// An IPv4 address of the test's own namespace inside `prefix`.0/24, if it has one.
fn own_address_in(prefix: &str) -> anyhow::Result<Option<String>> {
    let out = Command::new("ip")
        .args(["-4", "-o", "addr", "show"])
        .output()
        .context("cannot run ip")?;
    let start = format!("{prefix}.");
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|w| w.split('/').next())
        .find(|a| a.starts_with(&start))
        .map(str::to_owned))
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .context("cannot run ip")?;
    if !out.status.success() {
        bail!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_host_answers_arp_and_ping_from_the_scanner_only_inside_the_lab() {
        let Some(lab) = NetLab::create("203.0.113", 2).unwrap_or_else(|e| panic!("{e:#}")) else {
            return;
        };
        // A datagram makes the kernel resolve the host's MAC by ARP.
        let sent = lab
            .scanner
            .command("python3")
            .args([
                "-c",
                "import socket,sys,time\n\
                 s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
                 s.sendto(b'x',(sys.argv[1],9));time.sleep(0.5)",
                &lab.hosts[1].ip,
            ])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(sent.status.success(), "{sent:?}");
        let neigh = lab
            .scanner
            .command("ip")
            .args(["neigh", "show", &lab.hosts[1].ip])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let neigh = String::from_utf8_lossy(&neigh.stdout);
        assert!(neigh.contains(&lab.hosts[1].mac), "{neigh}");
        let route = lab
            .scanner
            .command("ip")
            .args(["route", "get", "8.8.8.8"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!route.status.success(), "the lab must have no route out");
        let leg = lab
            .leg
            .command("ip")
            .args(["route", "get", &lab.scanner.ip])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let leg = String::from_utf8_lossy(&leg.stdout);
        assert!(leg.contains(&lab.leg.ifname), "{leg}");
    }
}
