//! Integration tests of the `ocs-agent` binary: it inventories this machine into our real
//! server (started from its binary, found through `OCS_SERVER_BIN` or next to ours) and the
//! API shows every section it sent; HTTP, TLS and connection failures give one line and a
//! non-zero exit; the daemon stops cleanly on SIGTERM and keeps its countdown; packages are
//! deployed from a local server (`download`); elected or forced, it maps a network lab by
//! ARP into the server's netmap (`ipdiscover`); plugin sections reach the written inventory
//! and bad plugins are left out (`plugins`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ocs_testkit::TestServer;

mod deploy_server;
mod download;
mod ipdiscover;
mod plugins;

fn agent() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ocs-agent"));
    // Never pick up a configuration file of the machine running the tests.
    c.env("OCS_AGENT_CONFIG", "/dev/null");
    c.env_remove("OCS_AGENT_LOG");
    c
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn server_bin() -> Option<PathBuf> {
    ocs_testkit::server_bin_next_to(env!("CARGO_BIN_EXE_ocs-agent"))
}

/// Section elements and row counts of an inventory document.
fn sections_of(xml: &str) -> Vec<(String, usize)> {
    let doc = ocs_proto::xml::parse(xml.as_bytes()).unwrap();
    let content = doc.child("CONTENT").unwrap();
    let mut out: Vec<(String, usize)> = Vec::new();
    for c in &content.children {
        if c.name == "ACCOUNTINFO" || c.name == "OLD_DEVICEID" {
            continue;
        }
        match out.iter_mut().find(|(n, _)| *n == c.name) {
            Some((_, n)) => *n += 1,
            None => out.push((c.name.clone(), 1)),
        }
    }
    out
}

#[test]
fn inventories_this_machine_into_our_server_and_the_api_shows_every_section() {
    let Some(bin) = server_bin() else { return };
    // The IP discovery test's lab adds a link to this machine: not between the two runs.
    let _steady = ocs_testkit::netlab::steady_interfaces();
    let server = TestServer::start(&bin, &[]).unwrap();
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap();

    // What the agent sends (same state, so same DEVICEID).
    let printed = run(agent().args(["--stdout", "--state-dir", state_dir]));
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let xml = String::from_utf8(printed.stdout).unwrap();
    let sent = sections_of(&xml);
    let deviceid = ocs_proto::xml::parse(xml.as_bytes())
        .unwrap()
        .value("DEVICEID")
        .unwrap()
        .to_owned();
    assert!(sent.len() >= 8, "{sent:?}");

    let out = run(agent().args([
        "--server",
        &server.agent_url(),
        "--state-dir",
        state_dir,
        "--info",
    ]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("inventory sent to"), "{stdout}");

    let token = server.token();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, list) = rt.block_on(server.api("/api/v1/computers", &token));
    assert_eq!(status, 200, "{list}");
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["deviceid"] == deviceid.as_str())
        .unwrap_or_else(|| panic!("{deviceid} not in {list}"));
    let id = item["id"].as_i64().unwrap();
    let (status, detail) = rt.block_on(server.api(&format!("/api/v1/computers/{id}"), &token));
    assert_eq!(status, 200, "{detail}");
    for (element, rows) in &sent {
        let key = element.to_lowercase();
        let value = detail.get(&key).unwrap_or_else(|| {
            panic!("section {element} sent but no {key:?} in the API: {detail}")
        });
        if element == "HARDWARE" {
            assert!(value.is_object(), "{key}: {value}");
        } else {
            let stored = value
                .as_array()
                .unwrap_or_else(|| panic!("{key}: {value}"))
                .len();
            assert_eq!(
                stored, *rows,
                "{element}: sent {rows} rows, the API shows {stored}"
            );
        }
    }
    assert_eq!(detail["hardware"]["name"], item["name"]);

    // Second run: CHECKSUM shrinks to what changed, and the server's ACCOUNT_UPDATE (TAG) is
    // kept in the state and would be sent back.
    let again = run(agent().args([
        "--server",
        &server.agent_url(),
        "--state-dir",
        state_dir,
        "--info",
    ]));
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let stdout = String::from_utf8_lossy(&again.stdout);
    let checksum: u64 = stdout
        .split("CHECKSUM ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        checksum < ocs_proto::catalogue::ALL_SECTIONS_CHANGED,
        "{checksum}"
    );
    assert_eq!(checksum & 1, 1);
    let state_text = std::fs::read_to_string(state.path().join("state.toml")).unwrap();
    assert!(state_text.contains("key = \"TAG\""), "{state_text}");
    let third = run(agent().args(["--stdout", "--state-dir", state_dir]));
    assert!(String::from_utf8_lossy(&third.stdout).contains("<KEYNAME>TAG</KEYNAME>"));
}

/// A one-shot HTTP server answering every request with `response`.
fn fake_server(response: &'static [u8]) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        if let Ok((mut s, _)) = listener.accept() {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(response);
        }
    });
    (format!("127.0.0.1:{}", addr.port()), handle)
}

fn one_line_failure(args: &[&str]) -> String {
    let state = tempfile::tempdir().unwrap();
    let out =
        run(agent()
            .args(args)
            .args(["--state-dir", state.path().to_str().unwrap(), "--nosoft"]));
    // 1 for run-time failures, 2 for configuration mistakes.
    assert!(
        matches!(out.status.code(), Some(1) | Some(2)),
        "{:?}",
        out.status
    );
    let expected = if String::from_utf8_lossy(&out.stderr).contains("ocs-agent: configuration") {
        2
    } else {
        1
    };
    assert_eq!(out.status.code(), Some(expected));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("ocs-agent:"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_owned()
}

#[test]
fn refused_user_agent_http_error_unreachable_and_tls_failures_are_one_line() {
    let (addr, h) =
        fake_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let line = one_line_failure(&["--server", &format!("http://{addr}/ocsinventory")]);
    h.join().unwrap();
    assert!(
        line.contains("refused the PROLOG (HTTP 400)") && line.contains("User-Agent"),
        "{line}"
    );

    let (addr, h) = fake_server(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let line = one_line_failure(&["--server", &format!("http://{addr}/ocsinventory")]);
    h.join().unwrap();
    assert!(line.contains("answered HTTP 500 to PROLOG"), "{line}");

    let (addr, h) =
        fake_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    let line = one_line_failure(&["--server", &format!("http://{addr}/ocsinventory")]);
    h.join().unwrap();
    assert!(line.contains("not an OCS reply"), "{line}");

    // Bind then drop: nothing listens on that port any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let line = one_line_failure(&["--server", &format!("http://127.0.0.1:{port}/ocsinventory")]);
    assert!(line.contains("cannot reach the server"), "{line}");

    // An HTTPS URL on a server that does not speak TLS.
    let (addr, h) = fake_server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let line = one_line_failure(&["--server", &format!("https://{addr}/ocsinventory")]);
    h.join().unwrap();
    assert!(line.contains("TLS failure"), "{line}");

    let line = one_line_failure(&["--test", "--server", "ftp://example.org/"]);
    assert!(
        line.contains("must start with http:// or https://"),
        "{line}"
    );
}

#[test]
fn test_switch_reports_the_server_answer() {
    let body = ocs_proto::codec::encode_body(
        b"<?xml version='1.0' encoding='UTF-8'?>\n<REPLY>\n  <RESPONSE>SEND</RESPONSE>\n  <PROLOG_FREQ>12</PROLOG_FREQ>\n</REPLY>\n",
        ocs_proto::BodyEncoding::Zlib,
    );
    let mut response = format!("HTTP/1.1 200 OK\r\nContent-Type: application/x-compressed\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
    response.extend(body);
    let (addr, h) = fake_server(Box::leak(response.into_boxed_slice()));
    let state = tempfile::tempdir().unwrap();
    let out = run(agent().args([
        "--test",
        "--server",
        &format!("http://{addr}/ocsinventory"),
        "--state-dir",
        state.path().to_str().unwrap(),
    ]));
    h.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("OK:") && stdout.contains("SEND") && stdout.contains("PROLOG_FREQ 12 h"),
        "{stdout}"
    );
}

#[test]
fn daemon_stops_on_sigterm_and_keeps_its_countdown() {
    let state = tempfile::tempdir().unwrap();
    std::fs::write(state.path().join("state.toml"), "tto_wait = 3600\n").unwrap();
    let mut child = agent()
        .args([
            "daemon",
            "--server",
            "http://127.0.0.1:9/ocsinventory",
            "--state-dir",
            state.path().to_str().unwrap(),
            "--info",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the daemon is still waiting"
    );
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("resuming the countdown"), "{stderr}");
    let text = std::fs::read_to_string(state.path().join("state.toml")).unwrap();
    let left: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("tto_wait = "))
        .unwrap()
        .parse()
        .unwrap();
    assert!((3595..3600).contains(&left), "countdown saved at {left}");
}

/// A PROLOG reply as the original server sends it (zlib), with its HTTP head.
fn prolog_response() -> Vec<u8> {
    let body = ocs_proto::codec::encode_body(
        b"<?xml version='1.0' encoding='UTF-8'?>\n<REPLY>\n  <RESPONSE>STOP</RESPONSE>\n  <PROLOG_FREQ>24</PROLOG_FREQ>\n</REPLY>\n",
        ocs_proto::BodyEncoding::Zlib,
    );
    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Type: application/x-compressed\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
    r.extend(body);
    r
}

/// Reads one HTTP request (head and Content-Length body) from a stream.
fn read_request(s: &mut std::net::TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data);
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + len {
                break;
            }
        }
    }
    String::from_utf8_lossy(&data).into_owned()
}

/// Serves `n` connections, answering each request with `answer(request head)`; returns the
/// request heads seen.
fn serve(
    n: usize,
    answer: impl Fn(&str) -> Vec<u8> + Send + 'static,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..n {
            let Ok((mut s, _)) = listener.accept() else {
                break;
            };
            let request = read_request(&mut s);
            let head = request.split("\r\n\r\n").next().unwrap_or("").to_owned();
            let _ = s.write_all(&answer(&head));
            seen.push(head);
        }
        seen
    });
    (format!("127.0.0.1:{}", addr.port()), handle)
}

#[test]
fn basic_authentication_answers_the_challenge_of_the_configured_realm() {
    let challenge = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"OCS agents\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec();
    let c2 = challenge.clone();
    let (addr, h) = serve(2, move |head| {
        if head.contains("Authorization: Basic YWdlbnQ6czNjcmV0")
            || head.contains("authorization: Basic YWdlbnQ6czNjcmV0")
        {
            prolog_response()
        } else {
            c2.clone()
        }
    });
    let state = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/ocsinventory");
    let out = run(agent()
        .args([
            "--test",
            "--server",
            &url,
            "--user",
            "agent",
            "--realm",
            "OCS agents",
            "--state-dir",
            state.path().to_str().unwrap(),
        ])
        .env("OCS_AGENT_PASSWORD", "s3cret"));
    let seen = h.join().unwrap();
    assert!(
        out.status.success(),
        "{}\n{seen:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !seen[0].to_ascii_lowercase().contains("authorization:"),
        "credentials only after the challenge"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("STOP"));

    // No credentials, or another realm: one line naming the realm.
    let (addr, h) = serve(1, move |_| challenge.clone());
    let line = one_line_failure(&[
        "--test",
        "--server",
        &format!("http://{addr}/ocsinventory"),
        "--user",
        "agent",
        "--realm",
        "other",
    ]);
    h.join().unwrap();
    assert!(
        line.contains("requires authentication (HTTP 401, realm \"OCS agents\")"),
        "{line}"
    );
}

#[test]
fn requests_go_through_the_proxy() {
    // An HTTP proxy gets either the absolute URL or a CONNECT for the server.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let head = read_request(&mut s);
        if head.starts_with("CONNECT ") {
            s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .unwrap();
            let inner = read_request(&mut s);
            s.write_all(&prolog_response()).unwrap();
            format!("{head}\n{inner}")
        } else {
            s.write_all(&prolog_response()).unwrap();
            head
        }
    });
    let state = tempfile::tempdir().unwrap();
    let out = run(agent().args([
        "--test",
        "--server",
        "http://ocs.invalid:8080/ocsinventory",
        "--proxy",
        &format!("http://{proxy}"),
        "--state-dir",
        state.path().to_str().unwrap(),
    ]));
    let seen = handle.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(seen.contains("ocs.invalid:8080"), "{seen}");
    assert!(
        seen.contains("User-Agent: OCS-NG_unified_unix_agent_v2.10.0")
            || seen.contains("user-agent: OCS-NG_unified_unix_agent_v2.10.0"),
        "{seen}"
    );
}

/// A one-connection HTTPS server (rustls) answering a PROLOG reply, with a certificate
/// made by the openssl command for `localhost`, signed by a throw-away CA.
fn tls_server(dir: &Path) -> Option<(u16, std::thread::JoinHandle<()>)> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    if Command::new("openssl").arg("version").output().is_err() {
        assert!(
            !ocs_testkit::in_ci(),
            "the openssl command is needed to make a test certificate (apt-get install openssl)"
        );
        eprintln!("SKIPPED: no openssl binary to make a test certificate");
        return None;
    }
    let p = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let ok = |c: &mut Command| {
        assert!(c
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success())
    };
    ok(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Test CA",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]));
    ok(Command::new("openssl").args([
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &p("srv.key"),
        "-out",
        &p("srv.csr"),
    ]));
    std::fs::write(
        p("ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    ok(Command::new("openssl").args([
        "x509",
        "-req",
        "-in",
        &p("srv.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &p("ext"),
        "-out",
        &p("srv.pem"),
    ]));
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(p("srv.pem"))
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(p("srv.key")).unwrap();
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        // Two connections: the untrusted attempt (which fails its handshake), then the
        // trusted one.
        for _ in 0..2 {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            tls.sock
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut buf = [0u8; 4096];
            if tls.read(&mut buf).is_ok() {
                let _ = tls.write_all(&prolog_response());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        }
    });
    Some((port, handle))
}

#[test]
fn https_with_the_server_ca_and_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some((port, handle)) = tls_server(dir.path()) else {
        return;
    };
    let url = format!("https://localhost:{port}/ocsinventory");
    let untrusted = one_line_failure(&["--test", "--server", &url, "--timeout", "10"]);
    assert!(
        untrusted.contains("TLS failure") && untrusted.contains("--ca"),
        "{untrusted}"
    );
    let state = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let trusted = run(agent().args([
        "--test",
        "--server",
        &url,
        "--ca",
        ca.to_str().unwrap(),
        "--timeout",
        "10",
        "--state-dir",
        state.path().to_str().unwrap(),
    ]));
    handle.join().unwrap();
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    assert!(String::from_utf8_lossy(&trusted.stdout).contains("OK:"));
}
