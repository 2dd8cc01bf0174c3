//! Elected agents map a network lab (`ocs_testkit::netlab`, prefix 198.51.100: the machine
//! itself may sit on 192.0.2) into our server's netmap: our agent binary (`ocs-agent`, built
//! next to the server) and Debian's `ocsinventory-agent` (its IpDiscover module, which runs
//! Debian's `ipdiscover` binary), each run in the lab's scanner namespace where the server
//! runs, with the computer forced onto the lab's network. The netmap must then hold exactly
//! the other machines on the LAN: the lab hosts and the test's own leg (on the LAN, it
//! answers ARP like any host), never the scanner itself, nothing else. Under `CI=true` a
//! missing agent or tool fails.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Mutex;

use ocs_storage::{DeviceSetting, HostId, Store};
use ocs_testkit::netlab::NetLab;
use ocs_testkit::TestServer;

use crate::real_agents::agent;
use crate::store;

const PREFIX: &str = "198.51.100";
/// Both tests build a lab on the same prefix: one at a time.
static LAB: Mutex<()> = Mutex::new(());

/// Our agent binary: `OCS_AGENT_BIN`, else `ocs-agent` next to the server binary (a
/// workspace build puts both there).
pub(crate) fn our_agent() -> Option<PathBuf> {
    let found = std::env::var_os("OCS_AGENT_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            std::path::Path::new(env!("CARGO_BIN_EXE_ocs-server"))
                .parent()
                .map(|d| d.join("ocs-agent"))
        })
        .filter(|p| p.is_file());
    if found.is_none() {
        assert!(
            !ocs_testkit::in_ci(),
            "no ocs-agent binary next to ocs-server: build it first (cargo build -p ocs-agent) or set OCS_AGENT_BIN"
        );
        eprintln!("SKIPPED: no ocs-agent binary (cargo build -p ocs-agent)");
    }
    found
}

fn ok(mut c: Command) -> Output {
    let out = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    assert!(
        out.status.success(),
        "{c:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

async fn netmap(db: &Store, netid: &str) -> BTreeSet<(String, String)> {
    db.netmap(netid)
        .await
        .unwrap()
        .into_iter()
        .map(|(ip, mac, _)| (ip, mac))
        .collect()
}

/// The one computer the server knows. Read from the database: the test does not talk to
/// the server over HTTP, because the machine running it may itself have an address in the
/// lab's documentation range (the route to the lab through its leg is then not the only one).
async fn only_computer(db: &Store) -> HostId {
    // Every computer last seen before the end of time.
    let ids = db.inactive_ids(i64::MAX).await.unwrap();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0]
}

/// Runs `inventory` (a first contact), forces the computer onto the lab's network, runs it
/// again, and checks the netmap.
fn elected_scan_maps_the_lab(lab: &NetLab, inventory: impl Fn(&TestServer) -> Command) {
    let ns = lab.scanner.ns.clone().unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ocs-server"));
    let s = TestServer::start_in_netns(bin, &[], &ns, &lab.scanner.ip).unwrap();
    s.set_option("IPDISCOVER_LATENCY", "5");
    let rt = tokio::runtime::Runtime::new().unwrap();
    ok(inventory(&s));
    let db = rt.block_on(store(&s));
    assert!(
        rt.block_on(netmap(&db, &lab.netid)).is_empty(),
        "no scan before the election"
    );
    let id = rt.block_on(only_computer(&db));
    rt.block_on(db.set_device_setting(
        id,
        &DeviceSetting {
            name: "IPDISCOVER".into(),
            ivalue: Some(2),
            tvalue: Some(lab.netid.clone()),
        },
    ))
    .unwrap();
    let out = ok(inventory(&s));
    let found = rt.block_on(netmap(&db, &lab.netid));
    assert_eq!(
        found,
        lab.visible_from_scanner(),
        "netmap after the elected run\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        s.log()
    );
    // The API lists them, each with its vendor (the lab's hosts have real vendors' OUIs;
    // the scanner is inventoried, so it is not among them).
    let (status, json) = rt.block_on(s.api(
        &format!("/api/v1/networks/{}/devices?kind=uninventoried", lab.netid),
        &s.token(),
    ));
    assert_eq!(status, 200, "{json}");
    let listed: BTreeSet<(String, String)> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["ip"].as_str().unwrap().to_owned(),
                d["mac"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(listed, lab.visible_from_scanner(), "{json}");
    for host in &lab.hosts {
        let item = json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["mac"] == host.mac.as_str())
            .unwrap();
        assert!(
            item["vendor"].as_str().is_some_and(|v| !v.is_empty()),
            "no vendor for {}: {item}",
            host.mac
        );
    }
}

#[test]
fn our_agent_elected_maps_exactly_the_lab() {
    let Some(agent) = our_agent() else { return };
    let _one = LAB.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = NetLab::create(PREFIX, 3).unwrap_or_else(|e| panic!("{e:#}")) else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    elected_scan_maps_the_lab(&lab, |s| {
        let mut c = lab.scanner.command(agent.to_str().unwrap());
        c.env("OCS_AGENT_CONFIG", "/dev/null")
            .env_remove("OCS_AGENT_LOG")
            .args([
                "--server",
                &s.agent_url(),
                "--nosoft",
                "--info",
                "--state-dir",
            ])
            .arg(state.path());
        c
    });
}

#[test]
fn debian_agent_elected_maps_exactly_the_lab() {
    let Some(agent) = agent("ocsinventory-agent") else {
        return;
    };
    // Debian's package ships the scanner its IpDiscover module runs.
    if Command::new("ipdiscover").output().is_err() {
        assert!(
            !ocs_testkit::in_ci(),
            "no ipdiscover binary: it comes with Debian's ocsinventory-agent package"
        );
        eprintln!("SKIPPED: no ipdiscover binary (apt-get install ocsinventory-agent)");
        return;
    }
    let _one = LAB.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = NetLab::create(PREFIX, 3).unwrap_or_else(|e| panic!("{e:#}")) else {
        return;
    };
    // The module picks the interface of the default route. The gateway does not exist and
    // the lab has no uplink, so nothing leaves the lab.
    let mut route = lab.scanner.command("ip");
    route.args([
        "route",
        "add",
        "default",
        "via",
        &format!("{PREFIX}.254"),
        "dev",
        &lab.scanner.ifname,
    ]);
    ok(route);
    let vardir = tempfile::tempdir().unwrap();
    elected_scan_maps_the_lab(&lab, |s| {
        let mut c = lab.scanner.command(agent.to_str().unwrap());
        // --nolocal: Debian's default configuration may ask for local mode.
        c.args(["--server", &s.agent_url(), "--nolocal", "--basevardir"])
            .arg(vardir.path());
        c
    });
}
