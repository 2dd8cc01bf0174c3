//! Console benchmark at fleet scale.
//!
//!     cargo bench -p ocs-server --bench console -- [--computers N] [--software S] [--runs R]
//!         [--database POSTGRES_ADMIN_URL]
//!     cargo bench -p ocs-server --bench console -- --url http://127.0.0.1:PORT
//!         [--password P] --software-a NAME --software-b NAME [--os PATTERN] [--runs R] [--json]
//!
//! Starts the release `ocs-server` on SQLite in a temporary directory (or on a fresh database
//! of the given PostgreSQL cluster), writes a synthetic fleet of N computers with S software
//! entries each straight into its database, signs in, and times the console's list pages R
//! times each over loopback: All computers (default and sorted by TAG), the TAG
//! repartition, and a search for "software A and software B and OS". Prints the median,
//! p90 and maximum per page; the budget is 300 ms.
//!
//! With `--url`, it times the pages of a server already running with its data (loaded by
//! `ocs-loadgen`, as `bench/fleet-1m.sh` does) instead: it signs in as `admin` with
//! `--password` (default `admin`, which it then changes as the console requires at the first
//! sign-in), searches for the two software names given, and writes nothing else. `--json`
//! prints the figures as one JSON array on stdout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark driver

use std::time::{Duration, Instant};

use ocs_storage::{synthetic_software_name, FleetSpec, Store, StoreOptions};
use ocs_testkit::TestServer;

struct Args {
    computers: usize,
    software: usize,
    runs: usize,
    database: Option<String>,
    url: Option<String>,
    password: String,
    software_a: Option<String>,
    software_b: Option<String>,
    os: String,
    json: bool,
}

fn args() -> Args {
    let mut a = Args {
        computers: 100_000,
        software: 100,
        runs: 15,
        database: None,
        url: None,
        password: "admin".into(),
        software_a: None,
        software_b: None,
        os: "Microsoft Windows 10*".into(),
        json: false,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = argv.get(i + 1).and_then(|v| v.parse().ok());
        match (argv[i].as_str(), value) {
            ("--computers", Some(v)) => a.computers = v,
            ("--software", Some(v)) => a.software = v,
            ("--runs", Some(v)) => a.runs = v,
            ("--database", _) if i + 1 < argv.len() => a.database = Some(argv[i + 1].clone()),
            ("--url", _) if i + 1 < argv.len() => {
                a.url = Some(argv[i + 1].trim_end_matches('/').to_owned())
            }
            ("--password", _) if i + 1 < argv.len() => a.password = argv[i + 1].clone(),
            ("--software-a", _) if i + 1 < argv.len() => a.software_a = Some(argv[i + 1].clone()),
            ("--software-b", _) if i + 1 < argv.len() => a.software_b = Some(argv[i + 1].clone()),
            ("--os", _) if i + 1 < argv.len() => a.os = argv[i + 1].clone(),
            ("--json", _) => {
                a.json = true;
                i += 1;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
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

fn csrf_of(body: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker).unwrap() + marker.len();
    body[start..start + 64].to_owned()
}

/// Signs in as admin; with the first-start password `admin`, changes it as required.
/// Returns the session cookie.
async fn sign_in(client: &reqwest::Client, base: &str, password: &str) -> String {
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
    if password != "admin" {
        return header;
    }
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
    header
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // The server is kept alive until the end: dropping it stops it.
        let (base, _server) = match &args.url {
            Some(url) => (url.clone(), None),
            None => {
                let server = start_and_populate(&args).await;
                (server.base_url.clone(), Some(server))
            }
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let session = sign_in(&client, &base, &args.password).await;
        let a = args
            .software_a
            .clone()
            .unwrap_or_else(|| synthetic_software_name(0));
        let b = args
            .software_b
            .clone()
            .unwrap_or_else(|| synthetic_software_name(1));
        let search = format!(
            "/search?{}",
            serde_urlencoded::to_string([
                ("f0", "software"),
                ("o0", "equal"),
                ("v0", a.as_str()),
                ("f1", "software"),
                ("o1", "equal"),
                ("v1", b.as_str()),
                ("f2", "os"),
                ("o2", "equal"),
                ("v2", args.os.as_str()),
            ])
            .unwrap()
        );
        let pages: Vec<(&str, String)> = vec![
            ("All computers (sorted by name)", "/computers?sort=name&dir=asc".into()),
            ("All computers, page 200", "/computers?page=200".into()),
            ("All computers sorted by TAG", "/computers?sort=tag&dir=desc".into()),
            ("TAG repartition", "/tags".into()),
            (
                "Search: software A and software B and OS",
                format!("{search}&sort=name&dir=asc"),
            ),
        ];
        if args.url.is_some() {
            eprintln!("\nconsole pages of {base}, {} runs each:", args.runs);
        } else {
            println!(
                "\nconsole pages over {} computers ({} software rows), {} runs each, release build, {}:",
                args.computers,
                args.computers * args.software,
                args.runs,
                if args.database.is_some() { "PostgreSQL" } else { "SQLite" }
            );
        }
        if !args.json {
            println!("{:<44} {:>9} {:>9} {:>9}  matches", "page", "median", "p90", "max");
        }
        let mut results = Vec::new();
        for (label, path) in pages {
            let mut times = Vec::new();
            let mut matches = String::new();
            // One untimed run warms the page cache, as a server in use has it warm.
            for run in 0..=args.runs {
                let t = Instant::now();
                let response = client
                    .get(format!("{base}{path}"))
                    .header("Cookie", &session)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "{path}");
                let body = response.text().await.unwrap();
                if run > 0 {
                    times.push(t.elapsed());
                }
                if let Some(count) = body
                    .split("id=\"result-count\">")
                    .nth(1)
                    .and_then(|r| r.split('<').next())
                {
                    matches = count.to_owned();
                }
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            let (median, p90, max) = (
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.9)),
                ms(*times.last().unwrap()),
            );
            if args.json {
                results.push(serde_json::json!({
                    "page": label, "path": path, "runs": times.len(), "median_ms": median,
                    "p90_ms": p90, "max_ms": max, "matches": matches,
                }));
            } else {
                println!("{label:<44} {median:>7.1}ms {p90:>7.1}ms {max:>7.1}ms  {matches}");
            }
        }
        if args.json {
            println!("{}", serde_json::Value::Array(results));
        }
    });
}

/// Starts the release server on a fresh database and writes the synthetic fleet into it.
async fn start_and_populate(args: &Args) -> TestServer {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ocs-server"));
    let database = args
        .database
        .as_ref()
        .map(|admin| ocs_testkit::create_pg_database(admin).unwrap());
    let server = TestServer::start_on(bin, &[], database).unwrap();
    let store = Store::open(&server.database_url(), &StoreOptions::default())
        .await
        .unwrap();
    eprintln!(
        "writing {} synthetic computers with {} software each…",
        args.computers, args.software
    );
    let started = Instant::now();
    let mut last = Instant::now();
    store
        .populate_synthetic(
            FleetSpec {
                computers: args.computers,
                software_per_computer: args.software,
                seed: 1,
            },
            |done| {
                if last.elapsed() > Duration::from_secs(5) || done == args.computers {
                    eprintln!(
                        "  {done}/{} ({:.0} s)",
                        args.computers,
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
