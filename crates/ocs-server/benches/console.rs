//! Console benchmark at fleet scale.
//!
//!     cargo bench -p ocs-server --bench console -- [--computers N] [--software S] [--runs R]
//!         [--database POSTGRES_ADMIN_URL]
//!
//! Starts the release `ocs-server` on SQLite in a temporary directory (or on a fresh database
//! of the given PostgreSQL cluster), writes a synthetic fleet of N computers with S software
//! entries each straight into its database, signs in, and times the console's list pages R
//! times each over loopback: All computers (default and sorted by TAG), the TAG
//! repartition, and a search for "software A and software B and OS". Prints the median,
//! p90 and maximum per page; the budget is 300 ms.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark driver

use std::time::{Duration, Instant};

use ocs_storage::{synthetic_software_name, FleetSpec, Store, StoreOptions};
use ocs_testkit::TestServer;

struct Args {
    computers: usize,
    software: usize,
    runs: usize,
    database: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        computers: 100_000,
        software: 100,
        runs: 15,
        database: None,
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

/// Signs in as admin/admin, changes the password as required, returns the session cookie.
async fn sign_in(client: &reqwest::Client, base: &str) -> String {
    let form = client.get(format!("{base}/login")).send().await.unwrap();
    let login_csrf = cookie(&form, "ocs_login_csrf").unwrap();
    let answer = client
        .post(format!("{base}/login"))
        .header("Cookie", format!("ocs_login_csrf={login_csrf}"))
        .header("Origin", base)
        .form(&[
            ("csrf", login_csrf.as_str()),
            ("login", "admin"),
            ("password", "admin"),
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
                        eprintln!("  {done}/{} ({:.0} s)", args.computers, started.elapsed().as_secs_f64());
                        last = Instant::now();
                    }
                },
            )
            .await
            .unwrap();
        store.close().await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let base = server.base_url.clone();
        let session = sign_in(&client, &base).await;
        let a = synthetic_software_name(0);
        let b = synthetic_software_name(1);
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
                ("v2", "Microsoft Windows 10*"),
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
        println!(
            "\nconsole pages over {} computers ({} software rows), {} runs each, release build, {}:",
            args.computers,
            args.computers * args.software,
            args.runs,
            if args.database.is_some() { "PostgreSQL" } else { "SQLite" }
        );
        println!("{:<44} {:>9} {:>9} {:>9}  matches", "page", "median", "p90", "max");
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
            println!(
                "{label:<44} {:>7.1}ms {:>7.1}ms {:>7.1}ms  {matches}",
                percentile(&times, 0.5).as_secs_f64() * 1000.0,
                percentile(&times, 0.9).as_secs_f64() * 1000.0,
                times.last().unwrap().as_secs_f64() * 1000.0,
            );
        }
    });
}
