//! Integration tests: the `ocs-loadgen` binary against the real `ocs-server` (started by
//! `ocs-testkit` on the suite's backend, SQLite or PostgreSQL), checking that what the tool
//! reports is what the server stored, and that it refuses non-loopback targets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use ocs_loadgen::fleet::{Change, FleetSpec};
use ocs_testkit::TestServer;

fn server_bin() -> Option<PathBuf> {
    ocs_testkit::server_bin_next_to(env!("CARGO_BIN_EXE_ocs-loadgen"))
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

#[tokio::test]
async fn a_loaded_imaged_fleet_is_reinventoried_in_batches_without_round_one() {
    let Some(bin) = server_bin() else { return };
    let server = TestServer::start(&bin, &[]).unwrap();
    let url = server.agent_url();
    let fleet = [
        "--agents",
        "60",
        "--seed",
        "3",
        "--images",
        "4",
        "--software-min",
        "5",
        "--software-max",
        "80",
        "--batch",
        "25",
        "--concurrency",
        "4",
        "--json",
    ];
    let run = |extra: &[&str]| {
        let mut args = vec!["--url", url.as_str()];
        args.extend_from_slice(&fleet);
        args.extend_from_slice(extra);
        let out = loadgen(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let load = run(&["--skip-prolog"]);
    assert_eq!(load["images"], 4);
    assert_eq!(load["batch"], 25);
    assert_eq!(load["phases"][0]["round"], 1);
    assert_eq!(load["phases"][0]["inventories_accepted"], 60);
    assert_eq!(load["phases"][0]["requests"], 60);
    let day = run(&["--reinventory-only", "--changed-share", "0.5"]);
    let phases = day["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 1, "round 1 is not sent again");
    let p = &phases[0];
    assert_eq!(p["round"], 2);
    assert_eq!(p["kind"], "reinventory (50% changed)");
    assert_eq!(p["inventories_accepted"], 60, "{p}");
    assert_eq!(p["prolog"]["count"], 60);
    assert_eq!(p["errors"], serde_json::json!({}));

    // Still 60 devices, the changed ones in their round-2 state.
    let token = server.token();
    let (status, page) = server.api("/api/v1/computers?per_page=100", &token).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 60);
    let spec = FleetSpec {
        seed: 3,
        software_min: 5,
        software_max: 80,
        images: 4,
        changed_share: vec![0.5],
        ..FleetSpec::default()
    };
    let ids: HashMap<String, i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["deviceid"].as_str().unwrap().to_owned(),
                i["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let changed: Vec<u64> = (0..60)
        .filter(|n| {
            matches!(
                spec.change(*n, 2),
                Some(Change::SoftwareAdded(_) | Change::SoftwareRemoved(_))
            )
        })
        .take(4)
        .collect();
    assert!(!changed.is_empty());
    for n in changed {
        let g = spec.generate(n, 2);
        assert_ne!(g.software, spec.generate(n, 1).software);
        let (status, computer) = server
            .api(&format!("/api/v1/computers/{}", ids[&g.deviceid]), &token)
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            computer["softwares"].as_array().map_or(0, Vec::len),
            g.software
        );
    }
}

#[test]
fn common_software_names_the_most_shared_packages() {
    let out = loadgen(&[
        "--agents",
        "300",
        "--images",
        "5",
        "--software-min",
        "5",
        "--software-max",
        "2000",
        "--common-software",
        "4",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 4, "{text}");
    let counts: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{text}");
    // With 5 images, the top packages sit on a large share of one shape's devices.
    assert!(counts[0] > 50, "{text}");
    assert!(rows
        .iter()
        .all(|r| ["unix", "fusion", "windows"].contains(&r[1]) && !r[2].is_empty()));
}
