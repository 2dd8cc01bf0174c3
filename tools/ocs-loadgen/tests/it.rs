//! Integration tests: the `ocs-loadgen` binary against the real `ocs-server` (started by
//! `ocs-testkit` on the suite's backend, SQLite or PostgreSQL), checking that what the tool
//! reports is what the server stored, and that it refuses non-loopback targets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ocs_loadgen::fleet::{Change, FleetSpec};
use ocs_testkit::TestServer;

/// The server binary: `OCS_SERVER_BIN`, else `ocs-server` next to our binary (a workspace
/// build puts both in the same directory). `None` means skip, except under CI.
fn server_bin() -> Option<PathBuf> {
    let candidate = std::env::var_os("OCS_SERVER_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            Path::new(env!("CARGO_BIN_EXE_ocs-loadgen"))
                .parent()
                .map(|d| d.join("ocs-server"))
        });
    match candidate.filter(|p| p.is_file()) {
        Some(p) => Some(p),
        None if ocs_testkit::in_ci() => panic!(
            "no ocs-server binary next to ocs-loadgen: build it first (cargo build -p ocs-server) or set OCS_SERVER_BIN"
        ),
        None => {
            eprintln!("SKIPPED: no ocs-server binary (run cargo build -p ocs-server, or set OCS_SERVER_BIN)");
            None
        }
    }
}

fn loadgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ocs-loadgen"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[tokio::test]
async fn reported_counts_match_what_the_server_stored() {
    let Some(bin) = server_bin() else { return };
    let server = TestServer::start(&bin, &[]).unwrap();
    let url = server.agent_url();
    let out = loadgen(&[
        "--url",
        &url,
        "--agents",
        "200",
        "--rounds",
        "2",
        "--changed-share",
        "0.1",
        "--seed",
        "5",
        "--concurrency",
        "8",
        "--software-min",
        "20",
        "--software-max",
        "120",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let phases = summary["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 2);
    for p in phases {
        assert_eq!(p["inventories_accepted"], 200, "{p}");
        assert_eq!(p["told_stop"], 0);
        assert_eq!(p["errors"], serde_json::json!({}));
        assert_eq!(p["prolog"]["count"], 200);
        assert_eq!(p["requests"], 400);
    }
    assert_eq!(phases[1]["kind"], "reinventory (10% changed)");
    let shapes = summary["shapes"].as_object().unwrap();
    assert_eq!(shapes.len(), 3, "every agent shape was sent: {shapes:?}");

    // The server holds exactly the 200 devices, each last seen with the agent it simulated.
    let token = server.token();
    let (status, page) = server.api("/api/v1/computers?per_page=1000", &token).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 200);
    let ids: HashMap<String, (i64, String)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["deviceid"].as_str().unwrap().to_owned(),
                (
                    i["id"].as_i64().unwrap(),
                    i["agent"].as_str().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect();

    // Every changed device (and a few unchanged ones) holds the second round's state.
    let spec = FleetSpec {
        seed: 5,
        software_min: 20,
        software_max: 120,
        changed_share: vec![0.1],
        ..FleetSpec::default()
    };
    let changed: Vec<u64> = (0..200).filter(|n| spec.change(*n, 2).is_some()).collect();
    assert!((5..=40).contains(&changed.len()), "{}", changed.len());
    let unchanged = (0..200).filter(|n| spec.change(*n, 2).is_none()).take(5);
    for n in changed.iter().copied().chain(unchanged) {
        let g = spec.generate(n, 2);
        let (id, agent) = &ids[&g.deviceid];
        assert_eq!(agent, g.shape.user_agent());
        let (status, computer) = server.api(&format!("/api/v1/computers/{id}"), &token).await;
        assert_eq!(status, 200);
        let count = |key: &str| computer[key].as_array().map_or(0, Vec::len);
        assert_eq!(
            count("softwares"),
            g.software,
            "{} {:?}",
            g.deviceid,
            g.change
        );
        let storages = g.inventory.matches("<STORAGES>").count();
        assert_eq!(count("storages"), storages, "{} {:?}", g.deviceid, g.change);
        if g.change == Some(Change::IpChanged) {
            let ip = computer["ip_address"].as_str().unwrap().to_owned();
            assert!(
                g.inventory
                    .contains(&format!("<IPADDRESS>{ip}</IPADDRESS>")),
                "{ip}"
            );
        }
    }
}

#[test]
fn arrivals_spread_over_the_start_period() {
    let Some(bin) = server_bin() else { return };
    let server = TestServer::start(&bin, &[]).unwrap();
    let out = loadgen(&[
        "--url",
        &server.agent_url(),
        "--agents",
        "20",
        "--start-period",
        "2s",
        "--concurrency",
        "4",
        "--software-max",
        "60",
        "--seed",
        "9",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let phase = &summary["phases"][0];
    assert_eq!(phase["inventories_accepted"], 20);
    assert_eq!(summary["start_period_s"], 2.0);
    // The last of 20 uniform arrivals over 2 s comes well after the first second.
    let elapsed = phase["elapsed_s"].as_f64().unwrap();
    assert!((1.0..10.0).contains(&elapsed), "{elapsed}");
}

#[test]
fn non_loopback_targets_are_refused() {
    for url in [
        "http://10.1.2.3:8080/ocsinventory",
        "http://[2001:db8::1]/ocsinventory",
    ] {
        let out = loadgen(&["--url", url, "--agents", "1"]);
        assert_eq!(out.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains("--allow-remote"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    // The second server of a side-by-side run is checked too.
    let out = loadgen(&[
        "--url",
        "http://127.0.0.1:9/ocsinventory",
        "--vs",
        "http://192.0.2.7/ocsinventory",
        "--agents",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
