//! IP discovery by the agent binary in a network lab (`ocs_testkit::netlab`, prefix
//! 198.51.100): the agent runs in the lab's scanner namespace and maps the lab's /24 by ARP,
//! forced with `--ipdisc` (checked on the document it writes), then elected by our server,
//! run in the same namespace (the computer's `IPDISCOVER` row forced to the network), whose
//! netmap must then hold the same hosts. Both times that is exactly the other machines on
//! the LAN: the lab hosts and the test's own leg (it is on the LAN and answers ARP like any
//! host), never the scanner itself, nothing else. Unprivileged, the agent warns and sends
//! its inventory without the section.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use ocs_storage::{DeviceSetting, Store, StoreOptions};
use ocs_testkit::netlab::NetLab;
use ocs_testkit::TestServer;

use crate::{run, server_bin};

const PREFIX: &str = "198.51.100";

/// The agent binary inside the scanner namespace.
fn agent_in(lab: &NetLab, args: &[&str]) -> Output {
    let mut c = lab.scanner.command(env!("CARGO_BIN_EXE_ocs-agent"));
    c.env("OCS_AGENT_CONFIG", "/dev/null")
        .env_remove("OCS_AGENT_LOG")
        .args(args);
    let out = run(&mut c);
    assert!(
        out.status.success(),
        "agent failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn netmap(rt: &tokio::runtime::Runtime, db: &Store, netid: &str) -> BTreeSet<(String, String)> {
    rt.block_on(db.netmap(netid))
        .unwrap()
        .into_iter()
        .map(|(ip, mac, _)| (ip, mac))
        .collect()
}

fn limits() -> ocs_proto::ReadLimits {
    ocs_proto::ReadLimits::new(ocs_proto::DecodeLimits {
        max_inflated_bytes: 1 << 26,
        try_others: true,
    })
}

fn deviceid(state: &Path) -> String {
    let text = std::fs::read_to_string(state.join("state.toml")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("deviceid = "))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| panic!("no deviceid in {text}"))
}

#[test]
fn forced_and_elected_scans_map_exactly_the_lab() {
    let Some(bin) = server_bin() else { return };
    let Some(lab) = NetLab::create(PREFIX, 3).unwrap_or_else(|e| panic!("{e:#}")) else {
        return;
    };
    let ns = lab.scanner.ns.clone().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let want = lab.visible_from_scanner();

    // --ipdisc: scanned whatever the server says (none here). The server keeps results
    // only from elected computers (reference §5.3), so this is checked on what is sent.
    let out = agent_in(
        &lab,
        &[
            "--stdout",
            "--nosoft",
            "--ipdisc",
            &lab.netid,
            "--ipdisc-latency",
            "2",
        ],
    );
    let sent = ocs_proto::read_request(&out.stdout, &limits()).unwrap();
    let ocs_proto::Request::Inventory {
        inventory: Ok(inv), ..
    } = sent.request
    else {
        panic!("not an inventory: {:?}", sent.request)
    };
    let hosts = inv.ipdiscover.expect("an IPDISCOVER section");
    let found: BTreeSet<_> = hosts
        .iter()
        .map(|h| (h.ip.clone(), h.mac.clone()))
        .collect();
    assert_eq!(found, want, "--ipdisc: sent");
    assert!(hosts.iter().all(|h| !h.name.is_empty()), "{hosts:?}");

    // Without the privilege: a warning, and the inventory all the same.
    if Command::new("setpriv").arg("--version").output().is_ok() {
        let mut c = lab.scanner.command("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_ocs-agent"))
            .env("OCS_AGENT_CONFIG", "/dev/null")
            .env_remove("OCS_AGENT_LOG")
            .args(["--stdout", "--nosoft", "--ipdisc", &lab.netid]);
        let out = run(&mut c);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("IP discovery needs root or CAP_NET_RAW"),
            "{stderr}"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("<HARDWARE>") && !stdout.contains("<IPDISCOVER>"),
            "{stdout}"
        );
    } else {
        assert!(!ocs_testkit::in_ci(), "setpriv (util-linux) is needed");
        eprintln!("SKIPPED the unprivileged run: no setpriv");
    }

    // Elected: the first contact sends no scan; once the computer is forced onto the
    // network, the PROLOG orders one and the results come back.
    let server = TestServer::start_in_netns(&bin, &[], &ns, &lab.scanner.ip).unwrap();
    server.set_option("IPDISCOVER_LATENCY", "2");
    let state = tempfile::tempdir().unwrap();
    let args = [
        "--server",
        &server.agent_url(),
        "--state-dir",
        state.path().to_str().unwrap(),
        "--nosoft",
        "--force",
        "--info",
    ];
    let first = agent_in(&lab, &args);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        !stderr.contains("IP discovery"),
        "not elected yet: {stderr}"
    );
    let db = rt
        .block_on(Store::open(
            &server.database_url(),
            &StoreOptions::default(),
        ))
        .unwrap();
    assert!(netmap(&rt, &db, &lab.netid).is_empty());
    let id = rt
        .block_on(db.find_host_id(&deviceid(state.path())))
        .unwrap()
        .expect("the computer is stored");
    rt.block_on(db.set_device_setting(
        id,
        &DeviceSetting {
            name: "IPDISCOVER".into(),
            ivalue: Some(2),
            tvalue: Some(lab.netid.clone()),
        },
    ))
    .unwrap();
    // Without --force: the election alone makes the server say SEND.
    let elected = agent_in(&lab, &args[..args.len() - 2]);
    let stderr = String::from_utf8_lossy(&elected.stderr);
    let found = netmap(&rt, &db, &lab.netid);
    assert_eq!(found, want, "elected: netmap\n{stderr}\n{}", server.log());
}
