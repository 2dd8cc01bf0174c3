//! Package deployment end to end with Debian's `ocsinventory-agent`, run as root as it must be
//! to run packages: it takes the info file over HTTPS (verified against the CA the server
//! generated), the fragments over HTTP from this server or from a redistribution server, runs
//! the package and reports its status. Under `CI=true` a missing agent fails the test.
//! (Our agent's side is in `crates/ocs-agent/tests/it/deploy_server.rs`.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ocs_storage::HostId;
use ocs_testkit::{TestServer, FAST_DEPLOYMENT};

use crate::real_agents::agent;
use crate::{server, store};

/// A tar.gz whose `run.sh` writes `marker`.
pub fn marker_archive(dir: &Path, marker: &Path) -> PathBuf {
    let src = dir.join(format!(
        "src-{}",
        marker.file_name().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("run.sh"),
        format!("#!/bin/sh\necho deployed > '{}'\n", marker.display()),
    )
    .unwrap();
    let archive = src.with_extension("tar.gz");
    let status = Command::new("tar")
        .arg("czf")
        .arg(&archive)
        .arg("-C")
        .arg(&src)
        .arg("run.sh")
        .status()
        .unwrap();
    assert!(status.success(), "tar runs");
    archive
}

/// Polls until the package's only status is `want` (the Unix agent deploys in a process of
/// its own after it exits); fails after two minutes with what it saw.
pub async fn wait_for_status(s: &TestServer, fileid: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got = s.package_statuses(fileid);
        if got == [(want.to_owned(), 1)] {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "package {fileid}: statuses {got:?}, expected {want}\n{}",
            s.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn debian_run(agent: &Path, s: &TestServer, vardir: &Path) {
    let out = Command::new(agent)
        .args([
            "--server",
            &s.agent_url(),
            "--nolocal",
            "--ssl",
            "1",
            "--ca",
        ])
        .arg(s.ca_path())
        .arg("--basevardir")
        .arg(vardir)
        .args(["--logfile"])
        .arg(vardir.join("agent.log"))
        .arg("--debug")
        .output()
        .expect("agent runs");
    assert!(
        out.status.success(),
        "agent failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn only_computer(s: &TestServer) -> HostId {
    let db = store(s).await;
    let ids = db.matching_computer_ids(&[], None).await.unwrap();
    assert_eq!(ids.len(), 1, "one computer inventoried");
    ids[0]
}

/// A second web server on another loopback port, serving `dir` and logging every request.
struct Redistribution {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Redistribution {
    fn start(dir: &Path, log: PathBuf) -> Redistribution {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
            .arg(dir)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("python3 runs");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the redistribution server starts"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Redistribution { child, port, log }
    }

    fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Redistribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn debian_agent_runs_a_package_over_https_and_a_corrupted_one_fails_its_digest() {
    let Some(agent) = agent("ocsinventory-agent") else {
        return;
    };
    let s = server(FAST_DEPLOYMENT);
    let work = tempfile::tempdir().unwrap();
    let vardir = tempfile::tempdir().unwrap();
    debian_run(&agent, &s, vardir.path());
    let computer = only_computer(&s).await.0.to_string();

    let marker = work.path().join("deployed");
    let good = s.build_execute_package("marker", &marker_archive(work.path(), &marker), 5);
    let spoiled_marker = work.path().join("never");
    let spoiled =
        s.build_execute_package("spoiled", &marker_archive(work.path(), &spoiled_marker), 5);
    // Same length, other bytes: only the digest can tell.
    let fragment = s
        .dir
        .path()
        .join("download")
        .join(&spoiled)
        .join(format!("{spoiled}-1"));
    let mut bytes = std::fs::read(&fragment).unwrap();
    for b in bytes.iter_mut().take(16) {
        *b ^= 0x5a;
    }
    std::fs::write(&fragment, bytes).unwrap();
    for fileid in [&good, &spoiled] {
        s.activate_here(fileid);
        s.cli_ok(&["package", "affect", fileid, "--computer", &computer]);
        assert_eq!(s.package_statuses(fileid), [("WAITING".to_owned(), 1)]);
    }

    debian_run(&agent, &s, vardir.path());
    wait_for_status(&s, &good, "SUCCESS").await;
    wait_for_status(&s, &spoiled, "ERR_BAD_DIGEST").await;
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap().trim(),
        "deployed",
        "the package ran"
    );
    assert!(
        !spoiled_marker.exists(),
        "a package with a bad digest never runs"
    );
    // The info files came over HTTPS, the fragments over HTTP, both from this server.
    let agent_log = std::fs::read_to_string(vardir.path().join("agent.log")).unwrap_or_default();
    assert!(
        agent_log.contains("Success downloading info file"),
        "{agent_log}"
    );
}

#[tokio::test]
async fn debian_agent_takes_the_fragments_from_its_redistribution_server() {
    let Some(agent) = agent("ocsinventory-agent") else {
        return;
    };
    let s = server(FAST_DEPLOYMENT);
    let work = tempfile::tempdir().unwrap();
    let vardir = tempfile::tempdir().unwrap();
    debian_run(&agent, &s, vardir.path());
    let computer = only_computer(&s).await;

    let marker = work.path().join("redistributed");
    let fileid = s.build_execute_package("redistributed", &marker_archive(work.path(), &marker), 5);
    // The redistribution server serves what `package export` wrote, under /download.
    let published = work.path().join("www");
    let exported = published.join("download");
    std::fs::create_dir_all(&exported).unwrap();
    // Export only writes activated packages: activate on this server first, export, then
    // give the agent the redistribution group's activation.
    s.activate_here(&fileid);
    s.cli_ok(&["package", "export", exported.to_str().unwrap()]);
    assert!(exported.join(&fileid).join("info").is_file());
    let web = Redistribution::start(&published, work.path().join("access.log"));

    // The agent's own computer is the group's redistribution server (one machine here).
    let db = store(&s).await;
    let group = db
        .create_redistribution_group("loopback", "second web server", 0)
        .await
        .unwrap();
    db.update_redistribution_group(
        group,
        "loopback",
        "second web server",
        &format!("127.0.0.1:{}/download", web.port),
    )
    .await
    .unwrap();
    db.add_redistribution_servers(group, &[computer], false)
        .await
        .unwrap();
    let info = format!("{}/download", s.https_url().trim_start_matches("https://"));
    s.cli_ok(&[
        "package",
        "activate",
        &fileid,
        "--info-url",
        &info,
        "--redistribution-group",
        &group.0.to_string(),
    ]);
    s.cli_ok(&[
        "package",
        "affect",
        &fileid,
        "--computer",
        &computer.0.to_string(),
        "--redistribution-group",
        &group.0.to_string(),
    ]);

    // The activation checked that the redistribution server has the package.
    let info_get = format!("GET /download/{fileid}/info ");
    let checked = web.requests();
    assert_eq!(checked.matches(&info_get).count(), 1, "{checked}");

    debian_run(&agent, &s, vardir.path());
    wait_for_status(&s, &fileid, "SUCCESS").await;
    assert!(marker.is_file(), "the package ran");
    let requests = web.requests();
    for n in 1..=2 {
        assert!(
            requests.contains(&format!("GET /download/{fileid}/{fileid}-{n} ")),
            "fragment {n} came from the redistribution server: {requests}"
        );
    }
    // The agent took the info file from the main server, over HTTPS.
    assert_eq!(requests.matches(&info_get).count(), 1, "{requests}");
    let agent_log = std::fs::read_to_string(vardir.path().join("agent.log")).unwrap_or_default();
    assert!(
        agent_log.contains("Success downloading info file"),
        "{agent_log}"
    );
}
