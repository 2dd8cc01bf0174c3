//! Test support: starts the real `ocs-server` binary on a free port with a temporary data
//! directory, speaks the agent protocol to it, and reads its API and log. Integration tests
//! use this instead of calling handlers, so they exercise exactly what users run.

// Test support: failing the calling test (under CI=true, when a required service is missing)
// is what its panics are for.
#![allow(clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use tempfile::TempDir;

pub mod netlab;

/// The real-agent captures (`../shared/fixtures/real-agent`, or `OCS_FIXTURES_DIR`).
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("OCS_FIXTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/real-agent")
        })
}

/// Reads a capture file.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = fixtures_dir().join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("fixture {}: {e}", path.display());
            Vec::new()
        }
    }
}

/// zlib as the Perl agents compress (level 6).
pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::new(6));
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// gzip.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// Inflates a zlib reply.
pub fn unzlib(data: &[u8]) -> anyhow::Result<String> {
    use std::io::Read;
    let mut out = String::new();
    flate2::read::ZlibDecoder::new(data).read_to_string(&mut out)?;
    Ok(out)
}

/// The User-Agent of the Debian OCS agent in the captures.
pub const OCS_UA: &str = "OCS-NG_unified_unix_agent_v2.10.0";

/// A PROLOG request document.
pub fn prolog_xml(deviceid: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<REQUEST>\n  <DEVICEID>{deviceid}</DEVICEID>\n  <QUERY>PROLOG</QUERY>\n</REQUEST>\n")
}

/// An INVENTORY request document around `content`.
pub fn inventory_xml(deviceid: &str, content: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<REQUEST>\n<CONTENT>{content}</CONTENT>\n<DEVICEID>{deviceid}</DEVICEID>\n<QUERY>INVENTORY</QUERY>\n</REQUEST>\n"
    )
}

/// Which database the suite runs on: `OCS_TEST_BACKEND=postgres` (with `OCS_TEST_PG_URL`,
/// an administrator URL of a throwaway cluster) or SQLite.
pub fn postgres_requested() -> bool {
    std::env::var("OCS_TEST_BACKEND").as_deref() == Ok("postgres")
}

/// The administrator URL of the test PostgreSQL cluster, if any.
pub fn pg_admin_url() -> Option<String> {
    std::env::var("OCS_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Whether missing services must fail tests rather than skip them.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The server binary for another crate's tests: `OCS_SERVER_BIN`, else `ocs-server` next to
/// `exe` (that crate's binary: a workspace build puts both in one directory). `None` (with a
/// notice) means skip; under `CI=true` a missing binary is a panic.
pub fn server_bin_next_to(exe: &str) -> Option<PathBuf> {
    let candidate = std::env::var_os("OCS_SERVER_BIN")
        .map(PathBuf::from)
        .or_else(|| Path::new(exe).parent().map(|d| d.join("ocs-server")));
    match candidate.filter(|p| p.is_file()) {
        Some(p) => Some(p),
        None if in_ci() => panic!(
            "no ocs-server binary next to {exe}: build it first (cargo build -p ocs-server) or set OCS_SERVER_BIN"
        ),
        None => {
            eprintln!("SKIPPED: no ocs-server binary (run cargo build -p ocs-server, or set OCS_SERVER_BIN)");
            None
        }
    }
}

/// The admin URL for tests that need PostgreSQL whatever the backend: `None` (with a notice)
/// when there is none outside CI; a panic under `CI=true`.
pub fn require_postgres(test: &str) -> Option<String> {
    match pg_admin_url() {
        Some(url) => Some(url),
        None if in_ci() => {
            panic!("{test} needs PostgreSQL: OCS_TEST_PG_URL is not set (scripts/test.sh sets it)")
        }
        None => {
            eprintln!(
                "SKIPPED {test}: needs PostgreSQL (set OCS_TEST_PG_URL, or run scripts/test.sh)"
            );
            None
        }
    }
}

/// Creates a fresh, uniquely named database on the cluster of `admin_url` and returns its URL.
pub fn create_pg_database(admin_url: &str) -> anyhow::Result<String> {
    let name = format!("ocs_test_{}_{}", std::process::id(), unique());
    let out = Command::new("psql")
        .arg(admin_url)
        .args(["-qAt", "-c", &format!("CREATE DATABASE {name}")])
        .output()
        .context("cannot run psql")?;
    if !out.status.success() {
        bail!(
            "CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

/// The database URL a new test server should use: a fresh PostgreSQL database when the suite
/// runs on PostgreSQL, else `None` (SQLite in the server's data directory).
pub fn test_database() -> anyhow::Result<Option<String>> {
    if !postgres_requested() {
        return Ok(None);
    }
    let admin = pg_admin_url().context("OCS_TEST_BACKEND=postgres needs OCS_TEST_PG_URL")?;
    create_pg_database(&admin).map(Some)
}

/// Server options (as environment seeds) under which a package goes through in seconds:
/// deployment on, zero latencies. PERIOD_LENGTH stays 10: the Unix agent gives a package of
/// priority P a step on the cycles of a period that are multiples of P, so a period shorter
/// than P would never download it.
pub const FAST_DEPLOYMENT: &[(&str, &str)] = &[
    ("OCS_OPT_DOWNLOAD", "1"),
    ("OCS_OPT_DOWNLOAD_FRAG_LATENCY", "0"),
    ("OCS_OPT_DOWNLOAD_CYCLE_LATENCY", "0"),
    ("OCS_OPT_DOWNLOAD_PERIOD_LATENCY", "0"),
    ("OCS_OPT_DOWNLOAD_PERIOD_LENGTH", "10"),
];

/// A running server. Killed when dropped.
pub struct TestServer {
    child: Child,
    bin: PathBuf,
    database: Option<String>,
    env: Vec<(String, String)>,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// `https://127.0.0.1:PORT`, empty when HTTPS is off (`OCS_TLS_LISTEN=off`).
    https_base: String,
    /// The data directory (and the server's log file, `server.log`).
    pub dir: TempDir,
    client: reqwest::Client,
    place: Place,
}

/// Where a test server runs: a network namespace (or the test's own) and the address it
/// listens on there.
#[derive(Clone, Debug)]
struct Place {
    netns: Option<String>,
    ip: String,
}

impl Default for Place {
    fn default() -> Place {
        Place {
            netns: None,
            ip: "127.0.0.1".into(),
        }
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: Vec<u8>,
}

impl Answer {
    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body inflated from zlib; an empty string (and a message) when it is not zlib.
    pub fn xml(&self) -> String {
        unzlib(&self.body).unwrap_or_else(|e| {
            eprintln!(
                "reply is not zlib ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            );
            String::new()
        })
    }
}

impl TestServer {
    /// Starts `bin serve` with a fresh data directory and the given extra environment, on the
    /// suite's backend (a fresh database each time).
    pub fn start(bin: &Path, env: &[(&str, &str)]) -> anyhow::Result<TestServer> {
        TestServer::start_on(bin, env, test_database()?)
    }

    /// Starts `bin serve` on a given database (`None`: SQLite in the data directory), so that
    /// several instances can share one PostgreSQL database.
    pub fn start_on(
        bin: &Path,
        env: &[(&str, &str)],
        database: Option<String>,
    ) -> anyhow::Result<TestServer> {
        TestServer::start_at(bin, env, database, Place::default())
    }

    /// Starts `bin serve` inside the network namespace `netns` (see [`netlab::NetLab`]),
    /// listening on `ip` there (HTTP and HTTPS on free ports), always on SQLite: the
    /// namespace has a loopback of its own, so the suite's PostgreSQL on 127.0.0.1 is out of
    /// its reach (lab tests are about scans; the storage they use is tested on both backends
    /// elsewhere). The test reaches it through the lab's leg in the test's own namespace.
    pub fn start_in_netns(
        bin: &Path,
        env: &[(&str, &str)],
        netns: &str,
        ip: &str,
    ) -> anyhow::Result<TestServer> {
        let place = Place {
            netns: Some(netns.to_owned()),
            ip: ip.to_owned(),
        };
        TestServer::start_at(bin, env, None, place)
    }

    fn start_at(
        bin: &Path,
        env: &[(&str, &str)],
        database: Option<String>,
        place: Place,
    ) -> anyhow::Result<TestServer> {
        let dir = tempfile::tempdir()?;
        let child = spawn(bin, dir.path(), database.as_deref(), env, &place)?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?;
        let mut server = TestServer {
            child,
            bin: bin.to_owned(),
            database,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            base_url: String::new(),
            https_base: String::new(),
            dir,
            client,
            place,
        };
        (server.base_url, server.https_base) = server.wait_for_address(0)?;
        Ok(server)
    }

    /// Kills the server with SIGKILL, as a crash or the OOM killer would: no graceful
    /// shutdown, no flush. The data directory and database are kept.
    pub fn kill(&mut self) {
        // `Child::kill` sends SIGKILL on Unix.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again (after [`TestServer::kill`]) on the same data directory,
    /// database and environment; it listens on a new port, so `base_url` changes. The log
    /// of every run is kept, one after the other, in `server.log`.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        let logged = self.log().len();
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.child = spawn(
            &self.bin,
            self.dir.path(),
            self.database.as_deref(),
            &env,
            &self.place,
        )?;
        (self.base_url, self.https_base) = self.wait_for_address(logged)?;
        Ok(())
    }

    /// The HTTP and HTTPS base URLs the server logs once it listens, looked for after byte
    /// `from` of the log (the HTTPS line comes first; it is absent when HTTPS is off).
    fn wait_for_address(&mut self, from: usize) -> anyhow::Result<(String, String)> {
        let url_after = |log: &str, marker: &str| {
            let at = log.find(marker)?;
            let rest = &log[at + "listening on ".len()..];
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            Some(rest[..end].to_owned())
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let log = self.log();
            let run = log.get(from..).unwrap_or_default();
            if let Some(http) = url_after(run, "listening on http://") {
                let https = url_after(run, "listening on https://").unwrap_or_default();
                return Ok((http, https));
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("server exited with {status}: {log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("server did not start within 30 s: {}", self.log())
    }

    /// `https://127.0.0.1:PORT` (every route is there too), empty when HTTPS is off.
    pub fn https_url(&self) -> &str {
        &self.https_base
    }

    /// The CA certificate the server generated, which an HTTPS client must trust.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("tls").join("cacert.pem")
    }

    /// An HTTPS client that trusts only the PEM certificates in `ca_file` (no web roots).
    pub fn https_client_trusting(ca_file: &Path) -> anyhow::Result<reqwest::Client> {
        let pem =
            std::fs::read(ca_file).with_context(|| format!("cannot read {}", ca_file.display()))?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .timeout(Duration::from_secs(120));
        for cert in reqwest::Certificate::from_pem_bundle(&pem)? {
            builder = builder.add_root_certificate(cert);
        }
        Ok(builder.build()?)
    }

    /// Any request over HTTPS, trusting the server's generated CA.
    pub async fn https_request(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let client = match TestServer::https_client_trusting(&self.ca_path()) {
            Ok(c) => c,
            Err(e) => {
                return Answer {
                    status: 0,
                    headers: Vec::new(),
                    body: format!("no HTTPS client: {e:#}").into_bytes(),
                }
            }
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut req = client
            .request(method, format!("{}{path}", self.https_base))
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.send().await).await
    }

    /// The server's process ID (to read its memory use).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The agent endpoint.
    pub fn agent_url(&self) -> String {
        format!("{}/ocsinventory", self.base_url)
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The database URL, for tests that inspect the store directly.
    pub fn database_url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| format!("sqlite:{}", self.dir.path().join("ocs.db").display()))
    }

    /// Runs another command of the same binary on the same data directory and database.
    pub fn cli(&self, args: &[&str]) -> std::io::Result<Output> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--data-dir").arg(self.dir.path());
        if let Some(url) = &self.database {
            cmd.args(["--database", url]);
        }
        cmd.args(args).env("OCS_LOG__LEVEL", "warn").output()
    }

    /// [`TestServer::cli`] with `input` on standard input.
    pub fn cli_with_stdin(&self, args: &[&str], input: &str) -> std::io::Result<Output> {
        use std::io::Write;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--data-dir").arg(self.dir.path());
        if let Some(url) = &self.database {
            cmd.args(["--database", url]);
        }
        let mut child = cmd
            .args(args)
            .env("OCS_LOG__LEVEL", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes())?;
        }
        child.wait_with_output()
    }

    /// Runs a command of the same binary (as [`TestServer::cli`]) that must succeed; returns
    /// what it printed on stdout, trimmed. Fails the test with both outputs otherwise.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = match self.cli(args) {
            Ok(out) => out,
            Err(e) => panic!("ocs-server {args:?} cannot run: {e}"),
        };
        assert!(
            out.status.success(),
            "ocs-server {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Builds an EXECUTE package for Linux of `archive` (`sh run.sh`, two fragments) with
    /// `package build`, and returns its FILEID.
    pub fn build_execute_package(&self, name: &str, archive: &Path, priority: u8) -> String {
        let fileid = self.cli_ok(&[
            "package",
            "build",
            "--name",
            name,
            "--os",
            "linux",
            "--action",
            "execute",
            "--command",
            "sh run.sh",
            "--file",
            &archive.to_string_lossy(),
            "--priority",
            &priority.to_string(),
            "--fragments",
            "2",
        ]);
        assert!(
            !fileid.is_empty() && fileid.bytes().all(|b| b.is_ascii_digit()),
            "a FILEID printed: {fileid:?}"
        );
        fileid
    }

    /// Activates a package on this server: info over its HTTPS, fragments over its HTTP.
    pub fn activate_here(&self, fileid: &str) {
        let authority = |url: &str| url.split_once("://").map_or(url, |(_, r)| r).to_owned();
        let info = format!("{}/download", authority(self.https_url()));
        let frags = format!("{}/download", authority(&self.base_url));
        self.cli_ok(&[
            "package",
            "activate",
            fileid,
            "--info-url",
            &info,
            "--fragments-url",
            &frags,
        ]);
    }

    /// The computers per status of a package (non-zero counts), from `package status --json`.
    pub fn package_statuses(&self, fileid: &str) -> Vec<(String, i64)> {
        let text = self.cli_ok(&["package", "status", fileid, "--json"]);
        let json: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => panic!("package status --json: {e}: {text}"),
        };
        json["statuses"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|c| {
                (
                    c["status"].as_str().unwrap_or_default().to_owned(),
                    c["computers"].as_i64().unwrap_or_default(),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Sets a server option through the CLI (it applies at the next request).
    pub fn set_option(&self, name: &str, value: &str) {
        let out = self.cli(&["options", "set", name, value]);
        let ok = out.as_ref().is_ok_and(|o| o.status.success());
        assert!(ok, "options set {name} {value}: {out:?}");
    }

    /// Creates an API token with the read scope.
    pub fn token(&self) -> String {
        self.token_with_scope("read")
    }

    /// Creates an API token with a scope (`read` or `write`).
    pub fn token_with_scope(&self, scope: &str) -> String {
        let name = format!("t{}", unique());
        match self.cli(&["token", "create", "--name", &name, "--scope", scope]) {
            Ok(out) if out.status.success() => {
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            }
            other => {
                eprintln!("token create failed: {other:?}");
                String::new()
            }
        }
    }

    /// POSTs a body to the agent endpoint.
    pub async fn post(&self, body: Vec<u8>, user_agent: &str) -> Answer {
        let req = self
            .client
            .post(self.agent_url())
            .header("User-Agent", user_agent)
            .header("Content-Type", "application/x-compress")
            .body(body);
        answer(req.send().await).await
    }

    /// POSTs an XML document zlib-compressed, as the OCS agent does.
    pub async fn send(&self, xml: &str) -> Answer {
        self.post(zlib(xml.as_bytes()), OCS_UA).await
    }

    /// Any request.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.send().await).await
    }

    /// GETs an API path with a token and parses the JSON.
    pub async fn api(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        let a = self
            .request(
                "GET",
                path,
                Vec::new(),
                &[("Authorization", &format!("Bearer {token}"))],
            )
            .await;
        let json = serde_json::from_slice(&a.body).unwrap_or(serde_json::Value::Null);
        (a.status, json)
    }

    /// Stops the server and waits for it.
    pub fn stop(&mut self) {
        self.kill();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `bin serve` on `dir`, appending its output to `dir/server.log`.
fn spawn(
    bin: &Path,
    dir: &Path,
    database: Option<&str>,
    env: &[(&str, &str)],
    place: &Place,
) -> anyhow::Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))?;
    // `ip netns exec` execs the program, so the child is the server itself.
    let mut cmd = match &place.netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.arg("--data-dir").arg(dir);
    if let Some(url) = database {
        cmd.args(["--database", url]);
    }
    cmd.args(["serve", "--listen", &format!("{}:0", place.ip)]);
    // HTTPS on a free port too, so parallel servers never fight over 8443; a test that sets
    // OCS_TLS_LISTEN (e.g. `off`) decides for itself.
    if !env.iter().any(|(k, _)| *k == "OCS_TLS_LISTEN") {
        cmd.args(["--tls-listen", &format!("{}:0", place.ip)]);
    }
    cmd.env("OCS_LOG__LEVEL", "info")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn()
        .with_context(|| format!("cannot start {}", bin.display()))
}

/// A failed request becomes status 0 with the error as body, so the test's assertion on the
/// status reports it.
async fn answer(resp: reqwest::Result<reqwest::Response>) -> Answer {
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            return Answer {
                status: 0,
                headers: Vec::new(),
                body: e.to_string().into_bytes(),
            }
        }
    };
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// A private PostgreSQL cluster (through `scripts/pg-cluster.sh`) that a test may stop and
/// start, to see what the server does while its database is down. Stopped when dropped.
pub struct PgCluster {
    dir: TempDir,
    port: u16,
    /// Administrator URL.
    pub admin_url: String,
}

impl PgCluster {
    fn script() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-cluster.sh")
    }

    /// Creates and starts a cluster on a free port.
    pub fn start() -> anyhow::Result<PgCluster> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut cluster = PgCluster {
            dir,
            port,
            admin_url: String::new(),
        };
        cluster.admin_url = cluster.up()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("pg")
    }

    fn up(&self) -> anyhow::Result<String> {
        let out = Command::new(Self::script())
            .arg("start")
            .arg(self.data())
            .arg(self.port.to_string())
            .output()?;
        if !out.status.success() {
            bail!(
                "pg-cluster start failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Stops the cluster (fast shutdown: open connections are cut).
    pub fn stop(&self) -> anyhow::Result<()> {
        let out = Command::new(Self::script())
            .arg("stop")
            .arg(self.data())
            .output()?;
        if !out.status.success() {
            bail!(
                "pg-cluster stop failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Starts it again on the same port.
    pub fn restart(&self) -> anyhow::Result<()> {
        self.up().map(|_| ())
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
