//! Our agent deploys packages built, activated and affected on our real server: the info file
//! over the server's own HTTPS (verified against the CA it generated), the fragments over
//! HTTP; priority 0 first, then lower priorities sooner; a corrupted fragment ends in
//! `ERR_BAD_DIGEST`. One `run --force` goes through every pending package.

use std::path::Path;
use std::process::Command as StdCommand;

use ocs_testkit::{TestServer, FAST_DEPLOYMENT};

use super::{agent, run, server_bin};

/// Builds an EXECUTE package whose script appends `name` to `order`.
fn package(s: &TestServer, work: &Path, name: &str, priority: u8) -> String {
    let src = work.join(name);
    std::fs::create_dir_all(&src).unwrap();
    let order = work.join("order");
    std::fs::write(
        src.join("run.sh"),
        format!("#!/bin/sh\necho {name} >> '{}'\n", order.display()),
    )
    .unwrap();
    let archive = work.join(format!("{name}.tar.gz"));
    assert!(StdCommand::new("tar")
        .arg("czf")
        .arg(&archive)
        .arg("-C")
        .arg(&src)
        .arg("run.sh")
        .status()
        .unwrap()
        .success());
    s.build_execute_package(name, &archive, priority)
}

#[test]
fn packages_from_our_server_run_in_priority_order_and_a_bad_digest_is_reported() {
    let Some(bin) = server_bin() else { return };
    let s = TestServer::start(&bin, FAST_DEPLOYMENT).unwrap();
    let state = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap();
    let ca = s.ca_path();
    let agent_run = || {
        let out = run(agent().args([
            "run",
            "--force",
            "--server",
            &s.agent_url(),
            "--ca",
            ca.to_str().unwrap(),
            "--state-dir",
            state_dir,
        ]));
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    agent_run();
    let token = s.token();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (code, list) = rt.block_on(s.api("/api/v1/computers", &token));
    assert_eq!(code, 200, "{list}");
    let computer = list["items"][0]["id"].as_i64().unwrap().to_string();

    // Built in an order the priorities must undo.
    let p9 = package(&s, work.path(), "p9", 9);
    let p1 = package(&s, work.path(), "p1", 1);
    let p0 = package(&s, work.path(), "p0", 0);
    let spoiled = package(&s, work.path(), "spoiled", 5);
    let fragment = s
        .dir
        .path()
        .join("download")
        .join(&spoiled)
        .join(format!("{spoiled}-2"));
    let mut bytes = std::fs::read(&fragment).unwrap();
    for b in bytes.iter_mut() {
        *b = !*b;
    }
    std::fs::write(&fragment, bytes).unwrap();
    for fileid in [&p9, &p1, &p0, &spoiled] {
        s.activate_here(fileid);
        s.cli_ok(&["package", "affect", fileid, "--computer", &computer]);
    }

    // One run goes through every pending package.
    agent_run();
    let order = std::fs::read_to_string(work.path().join("order")).unwrap();
    assert_eq!(
        order.lines().collect::<Vec<_>>(),
        ["p0", "p1", "p9"],
        "priority 0 first, then lower priorities sooner"
    );
    for fileid in [&p0, &p1, &p9] {
        assert_eq!(
            s.package_statuses(fileid),
            [("SUCCESS".to_owned(), 1)],
            "{fileid}"
        );
    }
    assert_eq!(
        s.package_statuses(&spoiled),
        [("ERR_BAD_DIGEST".to_owned(), 1)],
        "a corrupted fragment"
    );
}
