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

use ocs_storage::synthetic_software_name;

mod support;
use support::{percentile, sign_in, start_with_fleet, Flags};

struct Args {
    computers: usize,
    software: usize,
    runs: usize,
    database: Option<String>,
}

fn args() -> Args {
    let f = Flags::from_env();
    Args {
        computers: f.get("--computers", 100_000),
        software: f.get("--software", 100),
        runs: f.get("--runs", 11),
        database: f.text("--database"),
    }
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = start_with_fleet(args.database.as_deref(), args.computers, args.software).await;
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
        let session = sign_in(&client, &base, "admin").await.cookie;
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
