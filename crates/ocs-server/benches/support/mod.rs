//! What the console-side benchmarks share: reading `--name value` flags, starting the release
//! server on a synthetic fleet, signing in as the first-start admin, and order statistics.

// Each benchmark binary uses its own part of this module.
#![allow(dead_code)]

use std::str::FromStr;
use std::time::{Duration, Instant};

use ocs_storage::{FleetSpec, Store, StoreOptions};
use ocs_testkit::TestServer;

/// The command line of a benchmark (`cargo bench -- --flag value …`); unknown words, such as
/// the `--bench` cargo adds, are ignored.
pub struct Flags(Vec<String>);

impl Flags {
    /// The process's arguments.
    pub fn from_env() -> Flags {
        Flags(std::env::args().skip(1).collect())
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.0.iter().position(|a| a == name)
    }

    /// The text after `name`, if given.
    pub fn text(&self, name: &str) -> Option<String> {
        self.position(name).and_then(|i| self.0.get(i + 1)).cloned()
    }

    /// The value after `name`, or `default` (also when it does not parse).
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> T {
        self.text(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// Whether the switch `name` is given.
    pub fn has(&self, name: &str) -> bool {
        self.position(name).is_some()
    }
}

/// Starts the release server on a fresh database (SQLite in a temporary directory, or a new
/// database of the PostgreSQL cluster whose admin URL is given) and writes a synthetic fleet
/// straight into it, with progress on stderr.
pub async fn start_with_fleet(
    postgres_admin: Option<&str>,
    computers: usize,
    software: usize,
) -> TestServer {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ocs-server"));
    let database = postgres_admin.map(|admin| ocs_testkit::create_pg_database(admin).unwrap());
    let server = TestServer::start_on(bin, &[], database).unwrap();
    let store = Store::open(&server.database_url(), &StoreOptions::default())
        .await
        .unwrap();
    eprintln!("writing {computers} synthetic computers with {software} software each…");
    let started = Instant::now();
    let mut last = Instant::now();
    store
        .populate_synthetic(
            FleetSpec {
                computers,
                software_per_computer: software,
                seed: 1,
            },
            |done| {
                if last.elapsed() > Duration::from_secs(10) || done == computers {
                    eprintln!(
                        "  {done}/{computers} ({:.0} s)",
                        started.elapsed().as_secs_f64()
                    );
                    last = Instant::now();
                }
            },
        )
        .await
        .unwrap();
    store.close().await;
    server
}

/// The value of a cookie set by a response.
pub fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// The CSRF token of a console page.
pub fn csrf_of(body: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker).unwrap() + marker.len();
    body[start..start + 64].to_owned()
}

/// A signed-in console session.
pub struct Session {
    /// The `Cookie` header to send.
    pub cookie: String,
    /// The session's CSRF token, for form posts.
    pub csrf: String,
}

/// Signs in as `admin`; with the first-start password `admin`, also changes it as the console
/// requires before any other page.
pub async fn sign_in(client: &reqwest::Client, base: &str, password: &str) -> Session {
    let form = client.get(format!("{base}/login")).send().await.unwrap();
    let login_csrf = cookie(&form, "ocs_login_csrf").unwrap();
    let answer = client
        .post(format!("{base}/login"))
        .header("Cookie", format!("ocs_login_csrf={login_csrf}"))
        .header("Origin", base)
        .form(&[
            ("csrf", login_csrf.as_str()),
            ("login", "admin"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    let session = cookie(&answer, "ocs_session").expect("signed in");
    let header = format!("ocs_session={session}");
    let page = client
        .get(format!("{base}/account/password"))
        .header("Cookie", &header)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    if password == "admin" {
        client
            .post(format!("{base}/account/password"))
            .header("Cookie", &header)
            .header("Origin", base)
            .form(&[
                ("csrf", csrf.as_str()),
                ("current", "admin"),
                ("new", "bench-password-1"),
                ("confirm", "bench-password-1"),
            ])
            .send()
            .await
            .unwrap();
    }
    Session {
        cookie: header,
        csrf,
    }
}

/// The `p` quantile (0 to 1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The median of measurements (sorts them).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
