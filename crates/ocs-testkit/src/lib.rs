//! Test support: starts the real `ocs-server` binary on a free port with a temporary data
//! directory, speaks the agent protocol to it, and reads its API and log. Integration tests
//! use this instead of calling handlers, so they exercise exactly what users run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use tempfile::TempDir;

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

/// A running server. Killed when dropped.
pub struct TestServer {
    child: Child,
    bin: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The data directory (and the server's log file, `server.log`).
    pub dir: TempDir,
    client: reqwest::Client,
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
    /// Starts `bin serve` with a fresh data directory and the given extra environment.
    pub fn start(bin: &Path, env: &[(&str, &str)]) -> anyhow::Result<TestServer> {
        let dir = tempfile::tempdir()?;
        let log = std::fs::File::create(dir.path().join("server.log"))?;
        let mut cmd = Command::new(bin);
        cmd.arg("--data-dir")
            .arg(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0"]);
        cmd.env("OCS_LOG__LEVEL", "info")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?;
        let mut server = TestServer {
            child,
            bin: bin.to_owned(),
            base_url: String::new(),
            dir,
            client,
        };
        server.base_url = server.wait_for_address()?;
        Ok(server)
    }

    fn wait_for_address(&mut self) -> anyhow::Result<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let log = self.log();
            if let Some(at) = log.find("listening on http://") {
                let rest = &log[at + "listening on ".len()..];
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                return Ok(rest[..end].to_owned());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("server exited with {status}: {log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("server did not start within 30 s: {}", self.log())
    }

    /// The agent endpoint.
    pub fn agent_url(&self) -> String {
        format!("{}/ocsinventory", self.base_url)
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The SQLite database URL, for tests that inspect the store directly.
    pub fn database_url(&self) -> String {
        format!("sqlite:{}", self.dir.path().join("ocs.db").display())
    }

    /// Runs another command of the same binary on the same data directory.
    pub fn cli(&self, args: &[&str]) -> std::io::Result<Output> {
        Command::new(&self.bin)
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(args)
            .env("OCS_LOG__LEVEL", "warn")
            .output()
    }

    /// Sets a server option through the CLI (it applies at the next request).
    pub fn set_option(&self, name: &str, value: &str) {
        let out = self.cli(&["options", "set", name, value]);
        let ok = out.as_ref().is_ok_and(|o| o.status.success());
        assert!(ok, "options set {name} {value}: {out:?}");
    }

    /// Creates an API token.
    pub fn token(&self) -> String {
        let name = format!("t{}", unique());
        match self.cli(&["token", "create", "--name", &name]) {
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
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
