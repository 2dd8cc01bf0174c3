//! Deletion benchmark: deleting many computers at once, as a mass action or a cleaning does.
//!
//!     cargo bench -p ocs-server --bench deletion -- [--computers N] [--delete D]
//!         [--software S] [--runs R] [--database POSTGRES_ADMIN_URL]
//!
//! For each of R runs: a fresh database (SQLite in a temporary directory, or a new database
//! of the given PostgreSQL cluster) gets a synthetic fleet of N computers with S software
//! entries each (`ocs_storage::synthetic`: hardware, TAG, BIOS, a network, software), then
//! the release `ocs-server computers delete` is run with D of their IDs (every other one, so
//! the rows deleted are spread over the tables as a selection's would be). Prints the
//! deletion time the command reports (its transactions only) and the command's wall time
//! (process start, options, admin check included), median and maximum over the runs, and
//! checks that D computers went. The budget: 10,000 computers in under 10 s.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark driver

use std::process::Command;
use std::time::Instant;

use ocs_storage::{FleetSpec, Store, StoreOptions};

mod support;
use support::{median, Flags};

struct Args {
    computers: usize,
    delete: usize,
    software: usize,
    runs: usize,
    database: Option<String>,
}

fn args() -> Args {
    let f = Flags::from_env();
    let a = Args {
        computers: f.get("--computers", 20_000),
        delete: f.get("--delete", 10_000),
        software: f.get("--software", 100),
        runs: f.get("--runs", 3),
        database: f.text("--database"),
    };
    assert!(a.delete <= a.computers, "--delete is at most --computers");
    a
}

#[tokio::main]
async fn main() {
    let args = args();
    let bin = env!("CARGO_BIN_EXE_ocs-server");
    let backend = if args.database.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut reported = Vec::new();
    let mut wall = Vec::new();
    for run in 1..=args.runs {
        let dir = tempfile::tempdir().unwrap();
        let url = match &args.database {
            Some(admin) => ocs_testkit::create_pg_database(admin).unwrap(),
            None => format!("sqlite:{}", dir.path().join("ocs.db").display()),
        };
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let started = Instant::now();
        store
            .populate_synthetic(
                FleetSpec {
                    computers: args.computers,
                    software_per_computer: args.software,
                    seed: u64::try_from(run).unwrap(),
                },
                |_| {},
            )
            .await
            .unwrap();
        eprintln!(
            "run {run}: {} computers with {} software each written in {:.0} s",
            args.computers,
            args.software,
            started.elapsed().as_secs_f64()
        );
        // Every other computer, from the first: a selection spread over the fleet.
        let step = args.computers / args.delete.max(1);
        let ids: Vec<String> = (0..args.delete)
            .map(|i| (1 + i * step.max(1)).to_string())
            .collect();
        store.close().await;

        let started = Instant::now();
        let out = Command::new(bin)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--database", &url, "computers", "delete"])
            .args(&ids)
            .env("OCS_LOG__LEVEL", "warn")
            .output()
            .unwrap();
        let elapsed = started.elapsed().as_secs_f64();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{out:?}");
        let line = stdout.lines().find(|l| l.starts_with("deleted ")).unwrap();
        assert!(
            line.starts_with(&format!("deleted {} computer(s)", args.delete)),
            "{line}"
        );
        let secs: f64 = line
            .rsplit(" in ")
            .next()
            .and_then(|t| t.trim_end_matches(" s").parse().ok())
            .unwrap();
        eprintln!("run {run}: {line} (command: {elapsed:.2} s)");
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        assert_eq!(
            store.count_hosts().await.unwrap(),
            i64::try_from(args.computers - args.delete).unwrap()
        );
        store.close().await;
        reported.push(secs);
        wall.push(elapsed);
    }
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    println!(
        "deleting {} of {} computers ({} software each) on {backend}, {} runs:",
        args.delete, args.computers, args.software, args.runs
    );
    println!(
        "  deletion     median {:.2} s   max {:.2} s",
        median(&mut reported.clone()),
        max(&reported)
    );
    println!(
        "  command      median {:.2} s   max {:.2} s   (budget 10 s)",
        median(&mut wall.clone()),
        max(&wall)
    );
}
