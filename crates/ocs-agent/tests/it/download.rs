//! Package deployment by the agent binary against a small local OCS server written here:
//! one handler behind an HTTP and an HTTPS listener (a throwaway CA and certificate from
//! rcgen), answering PROLOG with the DOWNLOAD option the test sets, INVENTORY, and
//! `QUERY=DOWNLOAD` reports (recorded in order), and serving info files and fragments
//! (every GET recorded, some made to fail on demand). Latencies are 0 s throughout.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};
use ocs_proto::info::{Action, DigestAlgorithm, DigestEncoding, InfoFile, Protocol};

#[derive(Default)]
struct Shared {
    /// The PROLOG reply (plain XML).
    prolog: String,
    /// Files by URL path.
    files: HashMap<String, Vec<u8>>,
    /// URL paths answered with 500.
    failing: HashSet<String>,
    /// Every GET, in order.
    gets: Vec<String>,
    /// Every DOWNLOAD report (ID, ERR), in order.
    reports: Vec<(String, String)>,
    /// Every INVENTORY document.
    inventories: Vec<String>,
}

struct Server {
    shared: Arc<Mutex<Shared>>,
    http_port: u16,
    https_port: u16,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

fn read_http(stream: &mut impl Read) -> Option<(String, String, Vec<u8>)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        if h.trim().is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

fn respond(stream: &mut impl Write, status: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

fn handle(shared: &Mutex<Shared>, stream: &mut (impl Read + Write)) {
    let Some((method, path, body)) = read_http(stream) else {
        return;
    };
    if method == "POST" {
        let limits = ocs_proto::DecodeLimits {
            max_inflated_bytes: 64 << 20,
            try_others: true,
        };
        let xml = ocs_proto::codec::decode_body(&body, limits).unwrap().xml;
        let request = ocs_proto::request::parse_request(&xml).unwrap();
        let reply = match request.query {
            ocs_proto::request::Query::Prolog => shared.lock().unwrap().prolog.clone(),
            ocs_proto::request::Query::Inventory => {
                shared
                    .lock()
                    .unwrap()
                    .inventories
                    .push(String::from_utf8_lossy(&xml).into_owned());
                ocs_proto::reply::InventoryReply::NoAccountUpdate.to_xml()
            }
            ocs_proto::request::Query::Download => {
                let r = request.download_report().unwrap();
                shared
                    .lock()
                    .unwrap()
                    .reports
                    .push((r.package_id, r.status));
                return respond(stream, "200 OK", b"");
            }
            other => panic!("unexpected query {other:?}"),
        };
        let body = ocs_proto::codec::encode_body(reply.as_bytes(), ocs_proto::BodyEncoding::Zlib);
        return respond(stream, "200 OK", &body);
    }
    let mut s = shared.lock().unwrap();
    s.gets.push(path.clone());
    if s.failing.contains(&path) {
        return respond(stream, "500 Internal Server Error", b"");
    }
    match s.files.get(&path).cloned() {
        Some(body) => {
            drop(s);
            respond(stream, "200 OK", &body)
        }
        None => {
            drop(s);
            respond(stream, "404 Not Found", b"")
        }
    }
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        let ca_path = dir.path().join("cacert.pem");
        std::fs::write(&ca_path, ca.pem()).unwrap();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(
                    vec![leaf.der().clone()],
                    rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
                )
                .unwrap(),
        );
        let shared = Arc::new(Mutex::new(Shared::default()));

        let http = TcpListener::bind("127.0.0.1:0").unwrap();
        let http_port = http.local_addr().unwrap().port();
        let s = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in http.incoming().flatten() {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    let mut stream = stream;
                    handle(&s, &mut stream);
                });
            }
        });
        let https = TcpListener::bind("127.0.0.1:0").unwrap();
        let https_port = https.local_addr().unwrap().port();
        let s = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in https.incoming().flatten() {
                let s = Arc::clone(&s);
                let tls = Arc::clone(&tls);
                std::thread::spawn(move || {
                    let Ok(conn) = rustls::ServerConnection::new(tls) else {
                        return;
                    };
                    let mut stream = rustls::StreamOwned::new(conn, stream);
                    handle(&s, &mut stream);
                    stream.conn.send_close_notify();
                    let _ = stream.flush();
                });
            }
        });
        Server {
            shared,
            http_port,
            https_port,
            ca: ca_path,
            _dir: dir,
        }
    }

    fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}/ocsinventory", self.https_port)
    }

    fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}/ocsinventory", self.http_port)
    }

    /// Sets the PROLOG reply: CONF with `conf` attributes, one PACK per ID.
    fn offer(&self, conf: &str, ids: &[&str]) {
        let mut xml = format!(
            "<?xml version='1.0' encoding='UTF-8'?>\n<REPLY>\n  <RESPONSE>STOP</RESPONSE>\n  <OPTION>\n    <NAME>DOWNLOAD</NAME>\n    <PARAM TYPE=\"CONF\" {conf} />\n"
        );
        for id in ids {
            xml.push_str(&format!(
                "    <PARAM TYPE=\"PACK\" ID=\"{id}\" INFO_LOC=\"127.0.0.1:{}/download\" PACK_LOC=\"127.0.0.1:{}/download\" CERT_PATH=\"INSTALL_PATH\" CERT_FILE=\"INSTALL_PATH/cacert.pem\" FORCE=\"0\" SCHEDULE=\"\" POSTCMD=\"\" />\n",
                self.https_port, self.http_port
            ));
        }
        xml.push_str("  </OPTION>\n  <PROLOG_FREQ>24</PROLOG_FREQ>\n</REPLY>\n");
        self.shared.lock().unwrap().prolog = xml;
    }

    /// Publishes a package: the info file and `fragments` slices of `archive`.
    fn publish(&self, id: &str, priority: u8, action: Action, archive: &[u8], fragments: u32) {
        let info = InfoFile {
            id: id.into(),
            priority,
            action,
            digest: if fragments == 0 {
                String::new()
            } else {
                hex::encode(Md5::digest(archive))
            },
            protocol: Protocol::Http,
            fragments,
            digest_algorithm: DigestAlgorithm::Md5,
            digest_encoding: DigestEncoding::Hexa,
            notify_user: false,
            notify_text: String::new(),
            notify_countdown: None,
            notify_can_abort: false,
            notify_can_delay: false,
            need_done_action: false,
            need_done_action_text: String::new(),
            gardefou: "rien".into(),
        };
        let mut s = self.shared.lock().unwrap();
        s.files
            .insert(format!("/download/{id}/info"), info.to_xml().into_bytes());
        if fragments > 0 {
            let size = archive.len().div_ceil(fragments as usize);
            for (n, chunk) in archive.chunks(size).enumerate() {
                s.files
                    .insert(format!("/download/{id}/{id}-{}", n + 1), chunk.to_vec());
            }
        }
    }

    fn reports(&self) -> Vec<(String, String)> {
        self.shared.lock().unwrap().reports.clone()
    }

    fn gets(&self) -> Vec<String> {
        self.shared.lock().unwrap().gets.clone()
    }
}

const FAST: &str = "ON=\"1\" FRAG_LATENCY=\"0\" CYCLE_LATENCY=\"0\" PERIOD_LATENCY=\"0\" PERIOD_LENGTH=\"10\" TIMEOUT=\"30\" EXECUTION_TIMEOUT=\"120\"";

/// `ocs-agent run --force` against the server, with its state in `state`.
fn run_agent(url: &str, ca: Option<&Path>, state: &Path) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ocs-agent"));
    c.env("OCS_AGENT_CONFIG", "/dev/null")
        .env_remove("OCS_AGENT_LOG")
        .args(["run", "--force", "--nosoft", "--info", "--server", url])
        .arg("--state-dir")
        .arg(state);
    if let Some(ca) = ca {
        c.arg("--ca").arg(ca);
    }
    let out = c.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "agent failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn tar_gz(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (path, data, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_path(path).unwrap();
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn zip_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, data) in files {
        let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        w.start_file(*path, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn report(id: &str, code: &str) -> (String, String) {
    (id.to_owned(), code.to_owned())
}

#[test]
fn execute_writes_the_marker_reports_success_and_keeps_the_history() {
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let marker = work.path().join("marker");
    // Enough content for three real fragments.
    let filler: Vec<u8> = (0..50_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let archive = tar_gz(&[
        ("write.sh", b"#!/bin/sh\necho deployed > \"$1\"\n", 0o755),
        ("filler.bin", &filler, 0o644),
    ]);
    let command = format!("./write.sh {}", marker.display());
    server.publish("1709631234", 5, Action::Execute { command }, &archive, 3);
    server.offer(FAST, &["1709631234"]);
    let state = work.path().join("state");
    run_agent(&server.https_url(), Some(&server.ca), &state);

    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "deployed\n");
    assert_eq!(server.reports(), [report("1709631234", "SUCCESS")]);
    let download = state.join("download");
    assert_eq!(
        std::fs::read_to_string(download.join("history")).unwrap(),
        "1709631234\n"
    );
    assert!(
        !download.join("1709631234").exists(),
        "cleaned once reported"
    );
    assert!(download.join("config").exists() && download.join("lock").exists());
    let gets = server.gets();
    assert_eq!(gets[0], "/download/1709631234/info");
    assert_eq!(gets.len(), 4, "{gets:?}");

    // Offered again without FORCE: already set up, not run again; the history goes into
    // the inventory.
    std::fs::remove_file(&marker).unwrap();
    run_agent(&server.https_url(), Some(&server.ca), &state);
    assert!(!marker.exists());
    assert_eq!(
        server.reports()[1..],
        [report("1709631234", "SUCCESS_ALREADY_SETUP")]
    );
    let shared = server.shared.lock().unwrap();
    let last = shared.inventories.last().unwrap();
    assert!(
        last.contains("<DOWNLOAD>\n      <HISTORY>\n        <PACKAGE ID=\"1709631234\" />"),
        "{last}"
    );
}

#[test]
fn a_corrupted_fragment_ends_in_err_bad_digest_and_nothing_runs() {
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let marker = work.path().join("marker");
    let archive = tar_gz(&[("a.txt", &[7u8; 30_000], 0o644)]);
    let command = format!("touch {}", marker.display());
    server.publish("1700000001", 5, Action::Execute { command }, &archive, 2);
    {
        let mut s = server.shared.lock().unwrap();
        let frag = s
            .files
            .get_mut("/download/1700000001/1700000001-2")
            .unwrap();
        frag[10] ^= 0xff;
    }
    server.offer(FAST, &["1700000001"]);
    let state = work.path().join("state");
    run_agent(&server.https_url(), Some(&server.ca), &state);
    assert_eq!(server.reports(), [report("1700000001", "ERR_BAD_DIGEST")]);
    assert!(!marker.exists());
    assert!(!state.join("download/1700000001").exists());
    assert_eq!(
        std::fs::read_to_string(state.join("download/history")).unwrap(),
        ""
    );
}

#[test]
fn priority_zero_goes_first_then_lower_priorities_sooner() {
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let archive = tar_gz(&[("f", &[1u8; 9_000], 0o644)]);
    for (id, pri) in [("1000000001", 5u8), ("1000000002", 1), ("1000000003", 0)] {
        let action = Action::Execute {
            command: "true".into(),
        };
        server.publish(id, pri, action, &archive, 3);
    }
    server.offer(FAST, &["1000000001", "1000000002", "1000000003"]);
    run_agent(
        &server.https_url(),
        Some(&server.ca),
        &work.path().join("state"),
    );
    assert_eq!(
        server.reports(),
        [
            report("1000000003", "SUCCESS"),
            report("1000000002", "SUCCESS"),
            report("1000000001", "SUCCESS"),
        ]
    );
    let fragments: Vec<String> = server
        .gets()
        .into_iter()
        .filter(|g| !g.ends_with("/info"))
        .map(|g| g.rsplit('/').next().unwrap().to_owned())
        .collect();
    // Priority 0 alone until done (three fragments, then its run on cycle 4); from cycle 5
    // priority 5 gets a fragment on cycles 5 and 10 of a period, priority 1 on every one.
    assert_eq!(
        fragments,
        [
            "1000000003-1",
            "1000000003-2",
            "1000000003-3",
            "1000000001-1",
            "1000000002-1",
            "1000000002-2",
            "1000000002-3",
            "1000000001-2",
            "1000000001-3",
        ]
    );
}

#[test]
fn an_interrupted_download_resumes_with_the_missing_fragments_only() {
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let marker = work.path().join("marker");
    let archive = tar_gz(&[("x", &[3u8; 40_000], 0o644)]);
    let command = format!("touch {}", marker.display());
    server.publish("1700000002", 1, Action::Execute { command }, &archive, 3);
    server.offer(FAST, &["1700000002"]);
    let broken = "/download/1700000002/1700000002-2".to_owned();
    server.shared.lock().unwrap().failing.insert(broken.clone());
    let state = work.path().join("state");
    run_agent(&server.https_url(), Some(&server.ca), &state);
    // The agent gave up for this run; what it has is on disk.
    assert!(server.reports().is_empty());
    let dir = state.join("download/1700000002");
    assert!(dir.join("1700000002-1").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("task")).unwrap(),
        "1700000002-2\n1700000002-3\n"
    );
    server.shared.lock().unwrap().failing.clear();
    run_agent(&server.https_url(), Some(&server.ca), &state);
    assert_eq!(server.reports(), [report("1700000002", "SUCCESS")]);
    assert!(marker.exists());
    let gets = server.gets();
    let count = |p: &str| gets.iter().filter(|g| g.as_str() == p).count();
    assert_eq!(count("/download/1700000002/1700000002-1"), 1);
    assert_eq!(
        count("/download/1700000002/info"),
        1,
        "the info file is kept"
    );
    assert!(count(&broken) > 1);
}

#[test]
fn zip_launch_reports_the_exit_code_and_zip_slip_is_refused() {
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let good = zip_bytes(&[("setup.sh", b"#!/bin/sh\nexit 3\n")]);
    let action = Action::Launch {
        name: "setup.sh --quiet".into(),
    };
    server.publish("1700000003", 1, action, &good, 1);
    let evil = zip_bytes(&[("ok.sh", b"#!/bin/sh\n"), ("../../../escaped", b"x")]);
    let action = Action::Launch {
        name: "ok.sh".into(),
    };
    server.publish("1700000004", 1, action, &evil, 1);
    server.offer(FAST, &["1700000003", "1700000004"]);
    let state = work.path().join("state");
    run_agent(&server.https_url(), Some(&server.ca), &state);
    let mut reports = server.reports();
    reports.sort();
    assert_eq!(
        reports,
        [
            report("1700000003", "SUCCESS_3"),
            report("1700000004", "ERR_BUILD"),
        ]
    );
    assert!(!state.join("escaped").exists() && !work.path().join("escaped").exists());
}

#[test]
fn store_creates_the_destination_and_off_or_untrusted_info_stop_it() {
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let archive = tar_gz(&[("conf/app.conf", b"x=1\n", 0o644)]);
    let dest = work.path().join("dest/sub");
    let action = Action::Store {
        path: dest.display().to_string(),
    };
    server.publish("1700000005", 3, action, &archive, 1);

    // ON=0: nothing fetched, nothing reported.
    server.offer("ON=\"0\" FRAG_LATENCY=\"0\"", &["1700000005"]);
    let state = work.path().join("state");
    run_agent(&server.https_url(), Some(&server.ca), &state);
    assert!(server.gets().is_empty() && server.reports().is_empty());

    // The info file comes over HTTPS and must be trusted: without --ca (server over HTTP),
    // the info file is refused.
    server.offer(FAST, &["1700000005"]);
    run_agent(&server.http_url(), None, &state);
    assert_eq!(
        server.reports(),
        [report("1700000005", "ERR_DOWNLOAD_INFO")]
    );
    assert!(!dest.exists());

    run_agent(&server.http_url(), Some(&server.ca), &state);
    assert_eq!(server.reports()[1..], [report("1700000005", "SUCCESS")]);
    assert_eq!(
        std::fs::read_to_string(dest.join("conf/app.conf")).unwrap(),
        "x=1\n"
    );
}
