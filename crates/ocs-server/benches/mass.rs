//! Mass action benchmark: the three mass actions the issue budgets (10 s for 10,000
//! computers) through the console's `/mass/apply`.
//!
//!     cargo bench -p ocs-server --bench mass -- [--computers N] [--selected S] [--software W]
//!         [--runs R] [--database POSTGRES_ADMIN_URL]
//!
//! Starts the release `ocs-server` on SQLite in a temporary directory (or on a fresh database
//! of the given PostgreSQL cluster), writes a synthetic fleet of N computers (default 10,000,
//! 20 software each) straight into its database and signs in. Then, for S chosen IDs
//! (default 10,000, the most a form may carry) and, when N ≤ 20,000, for the whole result of
//! All computers (sent as criteria, resolved on the server), it times R runs (after one
//! untimed run) of "set the TAG" (a new TAG each run, so every row changes) and of "add to a
//! new static group" (a new group each run); last, once, "delete" of the S chosen computers.
//! Each answer's count is checked. Prints the median, minimum and maximum.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark driver

use std::time::{Duration, Instant};

use ocs_storage::{Store, StoreOptions};

mod support;
use support::{sign_in, start_with_fleet, Flags};

struct Args {
    computers: usize,
    selected: usize,
    software: usize,
    runs: usize,
    database: Option<String>,
}

fn args() -> Args {
    let f = Flags::from_env();
    let computers = f.get("--computers", 10_000);
    Args {
        computers,
        selected: f.get("--selected", 10_000).min(computers),
        software: f.get("--software", 20),
        runs: f.get("--runs", 5),
        database: f.text("--database"),
    }
}

/// A selection: its label, its form fields, how many computers it holds.
type Way<'a> = (String, Vec<(&'a str, &'a str)>, usize);

/// Posts one mass action and checks how many computers it says it changed.
async fn apply(
    client: &reqwest::Client,
    base: &str,
    session: &support::Session,
    fields: &[(&str, &str)],
    expected: usize,
) -> Duration {
    let mut form = vec![("csrf", session.csrf.as_str())];
    form.extend_from_slice(fields);
    let t = Instant::now();
    let response = client
        .post(format!("{base}/mass/apply"))
        .header("Cookie", &session.cookie)
        .header("Origin", base)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{fields:?}");
    let body = response.text().await.unwrap();
    let elapsed = t.elapsed();
    assert!(
        body.contains(&format!("{expected} computers changed.")),
        "{body}"
    );
    elapsed
}

fn line(label: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<52} {:>8.1}ms {:>8.1}ms {:>8.1}ms",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(*times.last().unwrap())
    );
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server =
            start_with_fleet(args.database.as_deref(), args.computers, args.software).await;
        let store = Store::open(&server.database_url(), &StoreOptions::default())
            .await
            .unwrap();
        let ids = store.matching_computer_ids(&[], None).await.unwrap();
        store.close().await;
        let base = server.base_url.clone();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(300))
            .build()
            .unwrap();
        let session = sign_in(&client, &base, "admin").await;
        let chosen = ids[..args.selected]
            .iter()
            .map(|h| h.0.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let mut ways: Vec<Way> = vec![(
            format!("{} chosen IDs", args.selected),
            vec![("scope", "selected"), ("ids", chosen.as_str())],
            args.selected,
        )];
        if args.computers <= 20_000 {
            ways.push((
                format!("whole result ({} computers)", args.computers),
                vec![("scope", "all"), ("q", "")],
                args.computers,
            ));
        }
        println!(
            "\nmass actions through /mass/apply, fleet of {} computers ({} software each), {} runs each, release build, {}:",
            args.computers,
            args.software,
            args.runs,
            if args.database.is_some() { "PostgreSQL" } else { "SQLite" }
        );
        println!("{:<52} {:>10} {:>10} {:>10}", "action, selection", "median", "min", "max");
        for (label, selection, expected) in &ways {
            let mut tag_times = Vec::new();
            let mut group_times = Vec::new();
            for run in 0..=args.runs {
                let tag = format!("BENCH-{run}-{}", label.len());
                let mut fields = vec![("action", "tag"), ("tag", tag.as_str())];
                fields.extend_from_slice(selection);
                let tag_time = apply(&client, &base, &session, &fields, *expected).await;
                let name = format!("bench {run} {label}");
                let mut fields = vec![
                    ("action", "group_add"),
                    ("group", "new"),
                    ("name", name.as_str()),
                    ("description", ""),
                    ("mode", "add"),
                ];
                fields.extend_from_slice(selection);
                let group_time = apply(&client, &base, &session, &fields, *expected).await;
                // One untimed run first, as a server in use has its caches warm.
                if run > 0 {
                    tag_times.push(tag_time);
                    group_times.push(group_time);
                }
            }
            line(&format!("set TAG, {label}"), &mut tag_times);
            line(&format!("add to a new static group, {label}"), &mut group_times);
        }
        let (label, selection, expected) = &ways[0];
        let mut fields = vec![("action", "delete")];
        fields.extend_from_slice(selection);
        let mut delete = [apply(&client, &base, &session, &fields, *expected).await];
        line(&format!("delete (one run), {label}"), &mut delete);
        drop(server);
    });
}
