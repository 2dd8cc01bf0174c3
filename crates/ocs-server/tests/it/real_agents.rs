//! End to end with the real agents Debian packages (`ocsinventory-agent`,
//! `fusioninventory-agent`): first contact, then a second run. The server keeps an XML copy
//! of every inventory (GENERATE_OCS_FILES), so the test compares the API with exactly what the
//! agent sent. Under `CI=true` a missing agent fails the test instead of skipping it.

use std::path::{Path, PathBuf};

use ocs_proto::catalogue::SECTIONS;
use ocs_proto::Inventory;
use ocs_storage::HostId;
use ocs_testkit::TestServer;

use crate::{count, host_id, read_inventory, server, store};

pub(crate) fn agent(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "{name} is not installed; the test command installs it (apt-get install {name})"
            );
        }
        eprintln!("SKIPPED: {name} is not installed (run the README's test command to install it)");
    }
    found
}

fn copies_server(copies: &Path) -> TestServer {
    let path = copies.to_str().unwrap().to_owned();
    server(&[
        ("OCS_OPT_GENERATE_OCS_FILES", "1"),
        ("OCS_OPT_OCS_FILES_FORMAT", "XML"),
        ("OCS_OPT_OCS_FILES_PATH", path.as_str()),
    ])
}

/// The inventories the server received, oldest first.
fn received(copies: &Path) -> Vec<Inventory> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(copies)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // `<id>.ocs` came first, then `<id>-1.ocs`, …
    files.sort_by_key(|p| (p.to_string_lossy().len(), p.clone()));
    files
        .iter()
        .map(|f| read_inventory(&std::fs::read(f).unwrap()))
        .collect()
}

async fn run(cmd: &mut tokio::process::Command) {
    let out = cmd.output().await.expect("agent runs");
    assert!(
        out.status.success(),
        "agent failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The API shows the computer with everything the agent sent.
async fn check_stored(s: &TestServer, token: &str, inv: &Inventory) -> HostId {
    let id = host_id(s, &inv.deviceid).await;
    let (status, c) = s.api(&format!("/api/v1/computers/{}", id.0), token).await;
    assert_eq!(status, 200);
    assert!(
        c["name"].as_str().is_some_and(|n| !n.is_empty()),
        "hardware name"
    );
    assert!(c["hardware"]["memory"].as_i64().unwrap_or(0) > 0, "memory");
    for section in ["cpus", "drives", "networks"] {
        assert!(count(&c, section) > 0, "{section} stored");
    }
    let sent = inv.softwares.as_ref().map_or(0, Vec::len);
    assert!(sent > 0, "the agent sent software");
    assert_eq!(
        count(&c, "softwares"),
        sent,
        "exactly as many software entries as sent"
    );
    for rows in &inv.sections {
        assert_eq!(
            count(&c, rows.section.table),
            rows.rows.len(),
            "{} rows",
            rows.section.element
        );
    }
    id
}

async fn row_ids(s: &TestServer, id: HostId) -> Vec<(&'static str, Vec<i64>)> {
    let db = store(s).await;
    let mut out = Vec::new();
    for section in SECTIONS.iter().map(|s| s.table).chain(["softwares"]) {
        out.push((section, db.section_row_ids(id, section).await.unwrap()));
    }
    out
}

#[tokio::test]
async fn debian_ocs_agent_first_and_second_run() {
    let Some(agent) = agent("ocsinventory-agent") else {
        return;
    };
    let copies = tempfile::tempdir().unwrap();
    let vardir = tempfile::tempdir().unwrap();
    let s = copies_server(copies.path());
    let token = s.token();
    let inventory_run = || {
        let mut c = tokio::process::Command::new(&agent);
        // --nolocal: Debian's default configuration may ask for local mode.
        c.args(["--server", &s.agent_url(), "--nolocal", "--basevardir"])
            .arg(vardir.path());
        c
    };
    run(&mut inventory_run()).await;
    let first = received(copies.path())
        .pop()
        .expect("an inventory was received");
    assert_eq!(first.checksum.map(|c| c & 1), Some(1));
    let id = check_stored(&s, &token, &first).await;
    let before = row_ids(&s, id).await;

    // Make the agent believe CPUS changed: it flags the section and the server rewrites it.
    let state_dir = std::fs::read_dir(vardir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let state_file = state_dir.join("last_state");
    let state = std::fs::read_to_string(&state_file).unwrap();
    let start = state.find("<CPUS>").unwrap() + "<CPUS>".len();
    let end = state.find("</CPUS>").unwrap();
    std::fs::write(
        &state_file,
        format!("{}forced-change{}", &state[..start], &state[end..]),
    )
    .unwrap();

    run(&mut inventory_run()).await;
    let second = received(copies.path()).pop().unwrap();
    assert_eq!(second.deviceid, first.deviceid);
    let checksum = second.checksum.expect("CHECKSUM sent");
    assert_ne!(checksum & 262_144, 0, "the agent flagged CPUS");
    check_stored(&s, &token, &second).await;
    let after = row_ids(&s, id).await;
    for ((table, old), (_, new)) in before.iter().zip(&after) {
        let section = SECTIONS.iter().find(|s| s.table == *table);
        let flagged = section.is_some_and(|s| s.mask != 0 && checksum & s.mask != 0);
        // A flagged section is compared row by row (the change history needs the rows it
        // replaces): CPUS did not really change, so its rows stay.
        if !flagged && *table != "softwares" || *table == "cpus" {
            assert_eq!(old, new, "{table}: an unchanged section keeps its rows");
        }
    }
    let (_, c) = s.api(&format!("/api/v1/computers/{}", id.0), &token).await;
    assert_eq!(c["fidelity"], 2);
    // The machine did not change between the runs: its history holds its first inventory
    // only (free space, the logged-in user and the like are not changes).
    let (_, history) = s
        .api(&format!("/api/v1/computers/{}/history", id.0), &token)
        .await;
    let changes = history["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{history:#}");
    assert_eq!(changes[0]["action"], "created");
}

#[tokio::test]
async fn fusioninventory_agent_first_and_second_run() {
    let Some(agent) = agent("fusioninventory-agent") else {
        return;
    };
    let copies = tempfile::tempdir().unwrap();
    let s = copies_server(copies.path());
    let token = s.token();
    let inventory_run = || {
        let mut c = tokio::process::Command::new(&agent);
        c.args([
            "--server",
            &s.agent_url(),
            "--no-task",
            "ESX,Deploy,NetDiscovery,NetInventory,WakeOnLan,Collect",
        ]);
        c
    };
    run(&mut inventory_run()).await;
    let first = received(copies.path())
        .pop()
        .expect("an inventory was received");
    let id = check_stored(&s, &token, &first).await;
    let before = row_ids(&s, id).await;
    run(&mut inventory_run()).await;
    let second = received(copies.path()).pop().unwrap();
    assert_eq!(second.deviceid, first.deviceid);
    check_stored(&s, &token, &second).await;
    let checksum = second.checksum.unwrap_or(u64::MAX);
    let after = row_ids(&s, id).await;
    for ((table, old), (_, new)) in before.iter().zip(&after) {
        let flagged = SECTIONS
            .iter()
            .find(|s| s.table == *table)
            .is_some_and(|s| s.mask != 0 && checksum & s.mask != 0);
        let same_rows = first
            .section(table.to_uppercase().as_str())
            .map(|r| &r.rows)
            == second
                .section(table.to_uppercase().as_str())
                .map(|r| &r.rows);
        if !flagged && same_rows && *table != "softwares" {
            assert_eq!(old, new, "{table}: an unchanged section keeps its rows");
        }
    }
    // Every section came again (FusionInventory flags little), yet the machine did not
    // change: only its first inventory is in its history.
    let (_, history) = s
        .api(&format!("/api/v1/computers/{}/history", id.0), &token)
        .await;
    let changes = history["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{history:#}");
}
