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

use ocs_storage::synthetic_software_name;

mod support;
use support::{percentile, sign_in, start_with_fleet, Flags};

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
    let f = Flags::from_env();
    Args {
        computers: f.get("--computers", 100_000),
        software: f.get("--software", 100),
        runs: f.get("--runs", 15),
        database: f.text("--database"),
        url: f.text("--url").map(|u| u.trim_end_matches('/').to_owned()),
        password: f.get("--password", "admin".to_owned()),
        software_a: f.text("--software-a"),
        software_b: f.text("--software-b"),
        os: f.get("--os", "Microsoft Windows 10*".to_owned()),
        json: f.has("--json"),
    }
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // The server is kept alive until the end: dropping it stops it.
        let (base, _server) = match &args.url {
            Some(url) => (url.clone(), None),
            None => {
                let server =
                    start_with_fleet(args.database.as_deref(), args.computers, args.software).await;
                (server.base_url.clone(), Some(server))
            }
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let session = sign_in(&client, &base, &args.password).await.cookie;
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
        // The software counts and the duplicates' candidate sets are computed in the
        // background on a large fleet: the pages are timed once they are, as in use.
        for (path, pending) in [
            ("/software", "id=\"counted-at\" class=\"hint\">The fleet"),
            ("/duplicates", "The fleet is being compared"),
        ] {
            let started = Instant::now();
            loop {
                let body = client
                    .get(format!("{base}{path}"))
                    .header("Cookie", &session)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                if !body.contains(pending) {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(600),
                    "{path} still computing after 10 minutes"
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            eprintln!("{path}: figures ready after {:.1} s", started.elapsed().as_secs_f64());
        }
        let pages: Vec<(&str, String)> = vec![
            ("Home dashboard", "/".into()),
            ("Software (by name)", "/software".into()),
            ("All computers (sorted by name)", "/computers?sort=name&dir=asc".into()),
            ("All computers, page 200", "/computers?page=200".into()),
            ("All computers sorted by TAG", "/computers?sort=tag&dir=desc".into()),
            ("TAG repartition", "/tags".into()),
            ("Duplicates by hostname", "/duplicates?mode=hostname".into()),
            ("Duplicates by MAC address", "/duplicates?mode=mac".into()),
            ("Duplicates by serial + MAC", "/duplicates?mode=serial_mac".into()),
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
