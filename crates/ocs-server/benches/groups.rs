//! Groups benchmark at fleet scale.
//!
//!     cargo bench -p ocs-server --bench groups -- [--computers N] [--software S] [--runs R]
//!         [--database POSTGRES_ADMIN_URL]
//!
//! Starts the release `ocs-server` on SQLite in a temporary directory (or on a fresh database
//! of the given PostgreSQL cluster), writes a synthetic fleet of N computers with S software
//! entries each straight into its database, creates a dynamic group "OS and two software"
//! (`Microsoft Windows 10*`, the two most common software names) through the API, then times
//! R times each, over loopback: recomputing the group (`POST /api/v1/groups/{id}/refresh`:
//! one write transaction replacing every computed member), its console page (members sorted
//! by name, page 1 and page 50), and a page of its members through the API. Prints the median,
//! p90 and maximum; the budget is 300 ms for the evaluation and for the group page.

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
        software: 20,
        runs: 11,
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

/// Signs in as the first-start admin (the password change it asks for does not matter to
/// reading pages). Returns the session cookie header.
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
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let csrf = page[start..start + 64].to_owned();
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
        let server = start_and_populate(&args).await;
        let base = server.base_url.clone();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(300))
            .build()
            .unwrap();
        let token = server.token_with_scope("write");
        let bearer = format!("Bearer {token}");
        let body = serde_json::json!({
            "name": "OS and two software",
            "kind": "dynamic",
            "criteria": [
                {"field": "os", "op": "equal", "value": "Microsoft Windows 10*"},
                {"field": "software", "op": "equal", "value": synthetic_software_name(0)},
                {"field": "software", "op": "equal", "value": synthetic_software_name(1)},
            ]
        });
        let t = Instant::now();
        let created: serde_json::Value = client
            .post(format!("{base}/api/v1/groups"))
            .header("Authorization", &bearer)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        eprintln!(
            "group created and computed in {:.1} ms: {} members",
            t.elapsed().as_secs_f64() * 1000.0,
            created["members"]
        );
        let id = created["id"].as_i64().expect("group created");
        let session = sign_in(&client, &base).await;
        println!(
            "\ngroups over {} computers ({} software rows), {} runs each, release build, {}; group of {} members:",
            args.computers,
            args.computers * args.software,
            args.runs,
            if args.database.is_some() { "PostgreSQL" } else { "SQLite" },
            created["members"]
        );
        println!("{:<48} {:>9} {:>9} {:>9}", "operation", "median", "p90", "max");
        let steps: Vec<(&str, &str, String, bool)> = vec![
            ("Evaluate the dynamic group (API refresh)", "POST", format!("/api/v1/groups/{id}/refresh"), false),
            ("Group page (members sorted by name)", "GET", format!("/groups/{id}?sort=name&dir=asc"), true),
            ("Group page, page 50", "GET", format!("/groups/{id}?page=50"), true),
            ("API: members, page 1 of 50", "GET", format!("/api/v1/groups/{id}/members"), false),
            ("Groups list", "GET", "/groups".to_owned(), true),
        ];
        for (label, method, path, console) in steps {
            let mut times = Vec::new();
            for run in 0..=args.runs {
                let mut req = client.request(method.parse().unwrap(), format!("{base}{path}"));
                req = if console {
                    req.header("Cookie", &session)
                } else {
                    req.header("Authorization", &bearer)
                };
                let t = Instant::now();
                let response = req.send().await.unwrap();
                assert_eq!(response.status(), 200, "{path}");
                response.bytes().await.unwrap();
                // One untimed run warms the page cache, as a server in use has it warm.
                if run > 0 {
                    times.push(t.elapsed());
                }
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "{label:<48} {:>7.1}ms {:>7.1}ms {:>7.1}ms",
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.9)),
                ms(*times.last().unwrap())
            );
        }
        drop(server);
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
                if last.elapsed() > Duration::from_secs(10) || done == args.computers {
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
