//! Ingestion benchmark on the real 894-software inventory of the Debian OCS agent.
//!
//!     cargo bench -p ocs-server --bench ingest -- [--devices N] [--concurrency C] [--rounds R]
//!         [--database POSTGRES_ADMIN_URL] [--instances I]
//!
//! Starts the release `ocs-server` on SQLite in a temporary directory (or I instances sharing
//! a fresh database on the given PostgreSQL cluster, requests spread round-robin) and, in each round,
//! sends N distinct new devices (PROLOG + INVENTORY, as an agent does) at concurrency C, then
//! re-inventories the same N devices unchanged (CHECKSUM says only HARDWARE changed, as an
//! agent's routine run does). Prints the median over rounds of inventories per second and of
//! the INVENTORY latency percentiles, then checks the server stored every device.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark driver

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocs_testkit::{fixture, prolog_xml, zlib, TestServer, OCS_UA};

struct Args {
    devices: usize,
    concurrency: usize,
    rounds: usize,
    database: Option<String>,
    instances: usize,
}

fn args() -> Args {
    let mut a = Args {
        devices: 200,
        concurrency: 4,
        rounds: 3,
        database: None,
        instances: 1,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = argv.get(i + 1).and_then(|v| v.parse().ok());
        match (argv[i].as_str(), value) {
            ("--devices", Some(v)) => a.devices = v,
            ("--concurrency", Some(v)) => a.concurrency = v,
            ("--rounds", Some(v)) => a.rounds = v,
            ("--instances", Some(v)) => a.instances = v,
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

/// One phase's figures.
struct Phase {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn phase(
    servers: &Arc<Vec<TestServer>>,
    bodies: Arc<Vec<(Vec<u8>, Vec<u8>)>>,
    concurrency: usize,
) -> Phase {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (servers, bodies, next) = (servers.clone(), bodies.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((prolog, inventory)) = bodies.get(i) else {
                    break;
                };
                // Round-robin, as a load balancer in front of the instances would.
                let server = &servers[i % servers.len()];
                assert_eq!(server.post(prolog.clone(), OCS_UA).await.status, 200);
                let t = Instant::now();
                let answer = server.post(inventory.clone(), OCS_UA).await;
                latencies.push(t.elapsed());
                assert_eq!(
                    answer.status,
                    200,
                    "{}",
                    String::from_utf8_lossy(&answer.body)
                );
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    Phase {
        per_second: bodies.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

fn median<T: Copy + PartialOrd>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ocs-server"));
        let database = args.database.as_deref().map(|admin| ocs_testkit::create_pg_database(admin).unwrap());
        let servers: Vec<TestServer> =
            (0..args.instances.max(1)).map(|_| TestServer::start_on(bin, &[], database.clone()).unwrap()).collect();
        let servers = Arc::new(servers);
        let server = &servers[0];
        let xml = String::from_utf8(fixture("ocs-agent/02-INVENTORY-request.xml")).unwrap();
        assert!(xml.contains("<SOFTWARES>"), "fixture missing");
        let software = xml.matches("<SOFTWARES>").count();
        let mut new_runs = Vec::new();
        let mut again_runs = Vec::new();
        for round in 0..args.rounds {
            let make = |unchanged: bool| -> Vec<(Vec<u8>, Vec<u8>)> {
                (0..args.devices)
                    .map(|i| {
                        let deviceid = format!("bench{round}x{i}-2026-11-21-12-46-33");
                        let mut doc = xml.replace("vm-2026-11-21-12-46-33", &deviceid).replace("<NAME>vm</NAME>", &format!("<NAME>bench{round}x{i}</NAME>"));
                        if unchanged {
                            doc = doc.replace("<CHECKSUM>1572863</CHECKSUM>", "<CHECKSUM>1</CHECKSUM>");
                        }
                        (zlib(prolog_xml(&deviceid).as_bytes()), zlib(doc.as_bytes()))
                    })
                    .collect()
            };
            let new = phase(&servers, Arc::new(make(false)), args.concurrency).await;
            let again = phase(&servers, Arc::new(make(true)), args.concurrency).await;
            eprintln!(
                "round {}: new {:.1}/s (p50 {:?}, p99 {:?}); unchanged {:.1}/s (p50 {:?}, p99 {:?})",
                round + 1,
                new.per_second,
                new.p50,
                new.p99,
                again.per_second,
                again.p50,
                again.p99
            );
            new_runs.push(new);
            again_runs.push(again);
        }
        let (_, list) = server.api("/api/v1/computers?per_page=1", &server.token()).await;
        assert_eq!(list["total"].as_u64(), Some((args.devices * args.rounds) as u64), "every device stored");

        let backend = if args.database.is_some() { format!("PostgreSQL, {} instance(s)", servers.len()) } else { "SQLite".to_owned() };
        println!("\ningestion of the real {software}-software inventory, {backend}, {} devices x {} rounds, concurrency {}", args.devices, args.rounds, args.concurrency);
        println!("{:<34} {:>14} {:>12} {:>12}", "phase (median of rounds)", "inventories/s", "p50", "p99");
        for (name, runs) in [("new devices (PROLOG+INVENTORY)", &new_runs), ("unchanged re-inventory", &again_runs)] {
            println!(
                "{:<34} {:>14.1} {:>10.1}ms {:>10.1}ms",
                name,
                median(runs.iter().map(|r| r.per_second).collect()),
                median(runs.iter().map(|r| r.p50).collect()).as_secs_f64() * 1000.0,
                median(runs.iter().map(|r| r.p99).collect()).as_secs_f64() * 1000.0
            );
        }
    });
}
