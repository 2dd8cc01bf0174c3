//! Mass action benchmark: "set the TAG" of 10,000 computers through the console.
//!
//!     cargo bench -p ocs-server --bench mass -- [--computers N] [--selected S] [--software W]
//!         [--runs R] [--database POSTGRES_ADMIN_URL]
//!
//! Starts the release `ocs-server` on SQLite in a temporary directory (or on a fresh database
//! of the given PostgreSQL cluster), writes a synthetic fleet of N computers (default 10,000)
//! straight into its database, signs in, and times R runs (default 5, after one untimed run)
//! of each way a selection reaches `/mass/apply`: S chosen IDs (default 10,000, the most a
//! form may carry) and, when N ≤ 20,000, the whole result of All computers (sent as
//! criteria, resolved on the server). Each run sets a new TAG, so every row really changes;
//! the answer's count is checked. Prints the median, minimum and maximum per way; the issue's
//! budget is 10 s.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark driver

use std::time::{Duration, Instant};

use ocs_storage::{FleetSpec, HostId, Store, StoreOptions};
use ocs_testkit::TestServer;

struct Args {
    computers: usize,
    selected: usize,
    software: usize,
    runs: usize,
    database: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        computers: 10_000,
        selected: 10_000,
        software: 20,
        runs: 5,
        database: None,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = argv.get(i + 1).and_then(|v| v.parse().ok());
        match (argv[i].as_str(), value) {
            ("--computers", Some(v)) => a.computers = v,
            ("--selected", Some(v)) => a.selected = v,
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
    a.selected = a.selected.min(a.computers);
    a
}

/// A way of selecting: its label, the selection's form fields, and how many computers it names.
type Way<'a> = (String, Vec<(&'a str, &'a str)>, usize);

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

/// Signs in as the first-start admin and changes its password, as the console requires;
/// returns the session cookie and the CSRF token.
async fn sign_in(client: &reqwest::Client, base: &str) -> (String, String) {
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
    let session = format!("ocs_session={}", cookie(&answer, "ocs_session").unwrap());
    let page = client
        .get(format!("{base}/account/password"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    client
        .post(format!("{base}/account/password"))
        .header("Cookie", &session)
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
    (session, csrf)
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (server, ids) = start_and_populate(&args).await;
        let base = server.base_url.clone();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(300))
            .build()
            .unwrap();
        let (session, csrf) = sign_in(&client, &base).await;
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
            "\nmass \"set TAG\" through /mass/apply, fleet of {} computers ({} software each), {} runs each, release build, {}:",
            args.computers,
            args.software,
            args.runs,
            if args.database.is_some() { "PostgreSQL" } else { "SQLite" }
        );
        println!("{:<36} {:>9} {:>9} {:>9}", "selection", "median", "min", "max");
        for (label, selection, expected) in ways {
            let mut times = Vec::new();
            for run in 0..=args.runs {
                let tag = format!("BENCH-{run}-{}", label.len());
                let mut form = vec![("csrf", csrf.as_str()), ("action", "tag"), ("tag", &tag)];
                form.extend_from_slice(&selection);
                let t = Instant::now();
                let response = client
                    .post(format!("{base}/mass/apply"))
                    .header("Cookie", &session)
                    .header("Origin", &base)
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "{label}");
                let body = response.text().await.unwrap();
                let elapsed = t.elapsed();
                assert!(
                    body.contains(&format!("{expected} computers changed.")),
                    "{label}: {body}"
                );
                // One untimed run first, as a server in use has its caches warm.
                if run > 0 {
                    times.push(elapsed);
                }
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "{label:<36} {:>7.1}ms {:>7.1}ms {:>7.1}ms",
                ms(times[times.len() / 2]),
                ms(times[0]),
                ms(*times.last().unwrap())
            );
        }
        drop(server);
    });
}

/// Starts the release server on a fresh database and writes the synthetic fleet into it;
/// returns the server and the computers' IDs.
async fn start_and_populate(args: &Args) -> (TestServer, Vec<HostId>) {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ocs-server"));
    let database = args
        .database
        .as_ref()
        .map(|admin| ocs_testkit::create_pg_database(admin).unwrap());
    let server = TestServer::start_on(bin, &[], database).unwrap();
    let store = Store::open(&server.database_url(), &StoreOptions::default())
        .await
        .unwrap();
    eprintln!("writing {} synthetic computers…", args.computers);
    store
        .populate_synthetic(
            FleetSpec {
                computers: args.computers,
                software_per_computer: args.software,
                seed: 1,
            },
            |_| {},
        )
        .await
        .unwrap();
    let ids = store.matching_computer_ids(&[], None).await.unwrap();
    store.close().await;
    (server, ids)
}
