//! The injector against our server (every option), and the original's
//! `ocsinventory-injector.pl` (Debian's `ocsinventory-server`) against ours.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ocs_storage::{Store, StoreOptions};
use ocs_testkit::{fixture, inventory_xml, zlib, TestServer};

fn server_bin() -> Option<PathBuf> {
    ocs_testkit::server_bin_next_to(env!("CARGO_BIN_EXE_ocs-injector"))
}

fn server(env: &[(&str, &str)]) -> Option<TestServer> {
    Some(TestServer::start(&server_bin()?, env).expect("server starts"))
}

fn injector(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ocs-injector"));
    c.args(args).stdin(Stdio::null());
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("the injector runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

async fn stored(s: &TestServer, deviceid: &str) -> Option<ocs_storage::HostDetail> {
    let store = Store::open(&s.database_url(), &StoreOptions::default())
        .await
        .expect("database opens");
    let id = store.find_host_id(deviceid).await.unwrap()?;
    Some(store.get_host(id).await.unwrap())
}

/// A minimal inventory. Its CHECKSUM is there for the original, which answers 500 to an
/// inventory without one (its UPDATE statement then has no value for the column).
fn small(deviceid: &str) -> String {
    inventory_xml(
        deviceid,
        "<HARDWARE><NAME>injected</NAME><CHECKSUM>262143</CHECKSUM></HARDWARE>",
    )
}

#[tokio::test]
async fn a_file_a_directory_the_current_one_and_stdin() {
    let Some(s) = server(&[]) else { return };
    let url = s.agent_url();
    let dir = tempfile::tempdir().unwrap();

    // One zlib file, as the Unix agent sends it: -v says OK, -m prints the reply.
    let file = dir.path().join("vm.ocs");
    std::fs::write(&file, fixture("ocs-agent/02-INVENTORY-request.bin")).unwrap();
    let out = run(&mut injector(&[
        "-f",
        file.to_str().unwrap(),
        "-u",
        &url,
        "-v",
        "-m",
        "--useragent",
        "OCS-NG_INJECTOR_TEST_v1",
    ]));
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}\n{}", s.log());
    assert!(stderr.contains("vm.ocs: OK"), "{stderr}");
    assert!(stderr.contains("1 sent, 0 failed"), "{stderr}");
    assert!(stdout.contains("<REPLY>"), "the server's reply: {stdout}");
    let host = stored(&s, "vm-2026-11-21-12-46-33").await.expect("stored");
    assert_eq!(
        host.summary.useragent.as_deref(),
        Some("OCS-NG_INJECTOR_TEST_v1")
    );
    assert!(file.exists(), "kept without -r");

    // A directory: the Unix agent's plain-XML local file, a zlib one, and one that is no
    // inventory; -r removes what was sent; the run fails because one file did.
    let batch = tempfile::tempdir().unwrap();
    std::fs::write(
        batch.path().join("local.ocs"),
        fixture("ocs-agent-local/vm-2026-11-21-12-46-20.ocs"),
    )
    .unwrap();
    std::fs::write(
        batch.path().join("zlib.ocs"),
        zlib(small("zlib-2026-01-01-00-00-00").as_bytes()),
    )
    .unwrap();
    std::fs::write(batch.path().join("junk.ocs"), b"not an inventory").unwrap();
    std::fs::write(batch.path().join("notes.txt"), b"left alone").unwrap();
    let out = run(&mut injector(&[
        "-d",
        batch.path().to_str().unwrap(),
        "-u",
        &url,
        "-r",
    ]));
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("junk.ocs: not an OCS document"), "{stderr}");
    assert!(stderr.contains("2 sent, 1 failed"), "{stderr}");
    assert!(!batch.path().join("local.ocs").exists());
    assert!(!batch.path().join("zlib.ocs").exists());
    assert!(batch.path().join("junk.ocs").exists());
    assert!(batch.path().join("notes.txt").exists());
    assert!(stored(&s, "vm-2026-11-21-12-46-20").await.is_some());
    assert!(stored(&s, "zlib-2026-01-01-00-00-00").await.is_some());

    // No -d: the current directory (the original's --remov spelling works too).
    let here = tempfile::tempdir().unwrap();
    std::fs::write(
        here.path().join("cwd.xml"),
        small("cwd-2026-01-01-00-00-00"),
    )
    .unwrap();
    let out = run(injector(&["-u", &url, "--remov"]).current_dir(here.path()));
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(stored(&s, "cwd-2026-01-01-00-00-00").await.is_some());
    assert!(!here.path().join("cwd.xml").exists());

    // Standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocs-injector"))
        .args(["--stdin", "-u", &url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(small("stdin-2026-01-01-00-00-00").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(stored(&s, "stdin-2026-01-01-00-00-00").await.is_some());

    // An empty directory is no failure; a missing one is.
    let empty = tempfile::tempdir().unwrap();
    let out = run(&mut injector(&[
        "-d",
        empty.path().to_str().unwrap(),
        "-u",
        &url,
    ]));
    assert!(out.status.success());
    assert!(text(&out).1.contains("no .ocs or .xml file"));
    let out = run(&mut injector(&["-d", "/nonexistent/dir", "-u", &url]));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("cannot read directory"));
    // A wrong command line is 2, with the reason.
    let out = run(&mut injector(&["--sslmode", "2"]));
    assert_eq!(out.status.code(), Some(2));
    let out = run(&mut injector(&["--help"]));
    assert!(text(&out).0.contains("--cafile"));
}

#[tokio::test]
async fn https_with_and_without_checking_the_certificate() {
    let Some(s) = server(&[]) else { return };
    let url = format!("{}/ocsinventory", s.https_url());
    let ca = s.ca_path();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tls.ocs");
    std::fs::write(&file, small("tls-2026-01-01-00-00-00")).unwrap();
    let f = file.to_str().unwrap();

    let out = run(&mut injector(&["-f", f, "-u", &url, "--sslmode", "1"]));
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("TLS failure"), "{stderr}");
    assert!(stored(&s, "tls-2026-01-01-00-00-00").await.is_none());

    let out = run(&mut injector(&[
        "-f",
        f,
        "-u",
        &url,
        "--sslmode",
        "1",
        "--cafile",
        ca.to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(stored(&s, "tls-2026-01-01-00-00-00").await.is_some());

    std::fs::write(&file, small("notls-2026-01-01-00-00-00")).unwrap();
    let out = run(&mut injector(&["-f", f, "-u", &url, "--sslmode", "0"]));
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(stored(&s, "notls-2026-01-01-00-00-00").await.is_some());
}

#[tokio::test]
async fn credentials_retries_and_locked_files() {
    let Some(s) = server(&[("OCS_AGENTS__AUTH__REQUIRED", "true")]) else {
        return;
    };
    let url = s.agent_url();
    let secret = s.dir.path().join("injector.password");
    std::fs::write(&secret, "s3cret-pass\n").unwrap();
    let added = s
        .cli(&[
            "agent-user",
            "add",
            "injector",
            "--password-file",
            secret.to_str().unwrap(),
        ])
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auth.ocs");
    std::fs::write(&file, small("auth-2026-01-01-00-00-00")).unwrap();
    let f = file.to_str().unwrap();

    let out = run(&mut injector(&["-f", f, "-u", &url]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.contains("--username and --password"),
        "{:?}",
        text(&out)
    );
    let out = run(injector(&["-f", f, "-u", &url, "--username", "injector"])
        .env("OCS_INJECTOR_PASSWORD", "s3cret-pass"));
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(stored(&s, "auth-2026-01-01-00-00-00").await.is_some());

    // Nothing listens on port 9: tried again after a backoff, then reported.
    let out = run(&mut injector(&[
        "-f",
        f,
        "-u",
        "http://127.0.0.1:9/ocsinventory",
        "--retries",
        "1",
        "-v",
    ]));
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("trying again in 1 s"), "{stderr}");
    assert!(stderr.contains("cannot reach the server"), "{stderr}");

    // A file another process holds locked (a server still writing it) is left for later.
    let held = std::fs::File::open(&file).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let out = run(&mut injector(&[
        "-f",
        f,
        "-u",
        &url,
        "--username",
        "injector",
        "--password",
        "s3cret-pass",
        "-r",
    ]));
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped, locked by another process"),
        "{stderr}"
    );
    assert!(stderr.contains("0 sent, 0 failed, 1 skipped"), "{stderr}");
    assert!(file.exists());
    drop(held);
}

/// Debian's `ocsinventory-server` ships the original injector.
const ORIGINAL_INJECTOR: &str = "/usr/share/ocsinventory-server/binutils/ocsinventory-injector.pl";

#[tokio::test]
async fn the_original_injector_sends_to_ours() {
    if !Path::new(ORIGINAL_INJECTOR).is_file() {
        assert!(
            !ocs_testkit::in_ci(),
            "{ORIGINAL_INJECTOR} is missing; the test command installs it (apt-get install ocsinventory-server)"
        );
        eprintln!(
            "SKIPPED: {ORIGINAL_INJECTOR} is not installed (apt-get install ocsinventory-server)"
        );
        return;
    }
    let Some(s) = server(&[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vm.ocs"),
        fixture("ocs-agent/02-INVENTORY-request.bin"),
    )
    .unwrap();
    let out = run(Command::new("perl").arg(ORIGINAL_INJECTOR).args([
        "-d",
        dir.path().to_str().unwrap(),
        "-u",
        &s.agent_url(),
        "-r",
        "-v",
    ]));
    assert!(out.status.success(), "{:?}\n{}", text(&out), s.log());
    let host = stored(&s, "vm-2026-11-21-12-46-33").await.expect("stored");
    assert_eq!(
        host.summary.useragent.as_deref(),
        Some("OCS-NG_INJECTOR_PL_v3")
    );
    assert!(host
        .sections
        .iter()
        .any(|sec| sec.table == "softwares" && !sec.rows.is_empty()));
    assert!(!dir.path().join("vm.ocs").exists(), "-r removed it");
}

/// "N sent" of a run's summary.
fn sent_count(stderr: &str) -> usize {
    let at = stderr.rfind(" sent,").expect("a summary");
    let start = stderr[..at].rfind(' ').map_or(0, |i| i + 1);
    stderr[start..at].parse().unwrap()
}

#[tokio::test]
async fn a_slave_feeds_its_master_through_files_even_across_an_outage() {
    let files = tempfile::tempdir().unwrap();
    let path = files.path().to_str().unwrap().to_owned();
    let Some(slave) = server(&[
        ("OCS_OPT_GENERATE_OCS_FILES", "1"),
        ("OCS_OPT_OCS_FILES_PATH", path.as_str()),
    ]) else {
        return;
    };
    let Some(mut master) = server(&[]) else {
        return;
    };
    // Two inventories of one computer on the slave: two files (`<id>.ocs`, `<id>-1.ocs`).
    for round in ["first", "second"] {
        let body =
            format!("<HARDWARE><NAME>slave-pc</NAME><DESCRIPTION>{round}</DESCRIPTION></HARDWARE>");
        let r = slave
            .send(&inventory_xml("slave-2026-01-01-00-00-00", &body))
            .await;
        assert_eq!(r.status, 200);
    }
    assert_eq!(std::fs::read_dir(files.path()).unwrap().count(), 2);

    // The master is down: nothing is lost, the files stay.
    let down_url = master.agent_url();
    master.kill();
    let out = run(&mut injector(&[
        "-d",
        &path,
        "-u",
        &down_url,
        "-r",
        "--retries",
        "0",
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(sent_count(&text(&out).1), 0);
    assert_eq!(std::fs::read_dir(files.path()).unwrap().count(), 2);

    // Back up: both arrive, in order, then there is nothing left to send.
    master.restart().unwrap();
    let url = master.agent_url();
    let out = run(&mut injector(&["-d", &path, "-u", &url, "-r"]));
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(sent_count(&text(&out).1), 2);
    let out = run(&mut injector(&["-d", &path, "-u", &url, "-r"]));
    assert_eq!(sent_count(&text(&out).1), 0);
    let host = stored(&master, "slave-2026-01-01-00-00-00")
        .await
        .expect("on the master");
    assert_eq!(host.fidelity, 1, "one device, created once");
    let description = host
        .hardware
        .columns
        .iter()
        .position(|(c, _)| *c == "description")
        .unwrap();
    assert_eq!(
        host.hardware.rows[0][description],
        ocs_proto::Value::Text("second".into()),
        "the latest inventory last"
    );
}

/// The original server set up by `../shared/tools/real-ocs/setup.sh` (the test command runs it).
const ORIGINAL_URL: &str = "http://127.0.0.1:8090/ocsinventory";

fn original_up() -> bool {
    std::net::TcpStream::connect_timeout(
        &"127.0.0.1:8090".parse().unwrap(),
        std::time::Duration::from_secs(2),
    )
    .is_ok()
}

fn original_query(sql: &str) -> String {
    let out = Command::new("mysql")
        .args([
            "-h",
            "127.0.0.1",
            "-u",
            "ocs",
            "-pocs",
            "-N",
            "-B",
            "ocsweb",
            "-e",
            sql,
        ])
        .output()
        .expect("the mysql client runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn ours_sends_to_the_original() {
    if !original_up() {
        assert!(
            !ocs_testkit::in_ci(),
            "the original server is not up on 127.0.0.1:8090; the test command starts it (../shared/tools/real-ocs/setup.sh)"
        );
        eprintln!("SKIPPED: the original server is not up (../shared/tools/real-ocs/setup.sh)");
        return;
    }
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    let stamp = std::process::id();
    // A fresh DEVICEID per run: the original's database outlives the test.
    let deviceid = format!("inj{stamp}-2026-01-01-00-00-{seconds:02}");
    let dir = tempfile::tempdir().unwrap();
    // Plain XML, which the original takes only compressed (without COMPRESS_TRY_OTHERS),
    // and the real agent's zlib body.
    std::fs::write(dir.path().join("a.xml"), small(&deviceid)).unwrap();
    std::fs::write(
        dir.path().join("b.ocs"),
        fixture("ocs-agent/02-INVENTORY-request.bin"),
    )
    .unwrap();
    let out = run(&mut injector(&[
        "-d",
        dir.path().to_str().unwrap(),
        "-u",
        ORIGINAL_URL,
        "-m",
        "-v",
    ]));
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("2 sent, 0 failed"), "{stderr}");
    assert!(
        stdout.contains("ACCOUNT_UPDATE"),
        "the original's reply: {stdout}"
    );
    assert_eq!(
        original_query(&format!(
            "SELECT NAME FROM hardware WHERE DEVICEID = '{deviceid}'"
        )),
        "injected"
    );
    assert_eq!(
        original_query(
            "SELECT COUNT(*) > 100 FROM software s JOIN hardware h ON h.ID = s.HARDWARE_ID \
             WHERE h.DEVICEID = 'vm-2026-11-21-12-46-33'"
        ),
        "1"
    );
}
