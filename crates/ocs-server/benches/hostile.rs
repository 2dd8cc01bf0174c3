//! Hostile load: each shape of hostile request, sent at concurrency 8 for a while, against a
//! fresh release `ocs-server` on SQLite, while a probe sends a PROLOG and a `/healthz` every
//! 20 ms. Prints, per shape, how the hostile requests were answered, the probe's latency
//! percentiles and the server's peak RSS.
//!
//!     cargo bench -p ocs-server --bench hostile -- [--seconds S] [--concurrency C]

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark driver

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocs_testkit::{inventory_xml, prolog_xml, zlib, TestServer, OCS_UA};

const DEV: &str = "hostile-2024-01-01-00-00-00";

fn arg(name: &str, default: u64) -> u64 {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A hostile request: agent body, or another route.
#[derive(Clone)]
enum Attack {
    Agent(Vec<u8>),
    Api,
    SignIn,
}

fn zlib_stream(head: &str, chunk: &str, inflated: usize, tail: &str) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(head.as_bytes()).unwrap();
    while (enc.total_in() as usize) < inflated {
        enc.write_all(chunk.as_bytes()).unwrap();
    }
    enc.write_all(tail.as_bytes()).unwrap();
    enc.finish().unwrap()
}

fn shapes() -> Vec<(&'static str, Attack)> {
    let head = format!("<REQUEST><DEVICEID>{DEV}</DEVICEID><QUERY>INVENTORY</QUERY><CONTENT>");
    let attributes: String = (0..100_000).map(|i| format!(" A{i}=\"x\"")).collect();
    vec![
        (
            "100,000 attributes on one element",
            Attack::Agent(zlib(
                inventory_xml(DEV, &format!("<HARDWARE{attributes}/>")).as_bytes(),
            )),
        ),
        (
            "64 MiB of tiny elements (zlib bomb)",
            Attack::Agent(zlib_stream(
                &head,
                &"<A>1</A>".repeat(8192),
                64 << 20,
                "</CONTENT></REQUEST>",
            )),
        ),
        (
            "1 GiB of text (zlib bomb)",
            Attack::Agent(zlib_stream(
                &format!("{head}<X>"),
                &"A".repeat(1 << 16),
                1 << 30,
                "",
            )),
        ),
        (
            "240,000 elements (under the limit)",
            Attack::Agent(zlib(
                inventory_xml(DEV, &"<ENVS><KEY>k</KEY></ENVS>".repeat(120_000)).as_bytes(),
            )),
        ),
        ("API requests with bogus tokens", Attack::Api),
        ("wrong console passwords", Attack::SignIn),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn peak_rss_mib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}

async fn hostile(server: &TestServer, client: &reqwest::Client, attack: &Attack) -> u16 {
    let url = &server.base_url;
    let sent = match attack {
        Attack::Agent(body) => {
            client
                .post(format!("{url}/ocsinventory"))
                .header("User-Agent", OCS_UA)
                .body(body.clone())
                .send()
                .await
        }
        Attack::Api => {
            client
                .get(format!("{url}/api/v1/computers"))
                .header("Authorization", format!("Bearer {:064x}", rand_u64()))
                .send()
                .await
        }
        Attack::SignIn => {
            // As a browser would: the sign-in form's CSRF cookie first.
            let form = client.get(format!("{url}/login")).send().await;
            let csrf = form
                .ok()
                .and_then(|r| {
                    r.headers()
                        .get_all("set-cookie")
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .find_map(|c| c.strip_prefix("ocs_login_csrf="))
                        .and_then(|c| c.split(';').next())
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            client
                .post(format!("{url}/login"))
                .header("Origin", url)
                .header("Cookie", format!("ocs_login_csrf={csrf}"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("login", "admin"),
                    ("password", "wrong-password"),
                ])
                .send()
                .await
        }
    };
    match sent {
        Ok(r) => {
            let status = r.status().as_u16();
            let _ = r.bytes().await;
            status
        }
        Err(_) => 0,
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

fn main() {
    let seconds = arg("--seconds", 10);
    let concurrency = arg("--concurrency", 8) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ocs-server"));
    println!("hostile load: {concurrency} concurrent senders for {seconds} s per shape; probe: PROLOG + /healthz every 20 ms");
    println!("| shape | hostile answers | hostile req/s | /healthz p50 / p99 | PROLOG p50 / p99 | peak RSS |");
    println!("|---|---|---|---|---|---|");
    for (name, attack) in shapes() {
        let server = Arc::new(TestServer::start(bin, &[]).unwrap());
        let row = runtime.block_on(async {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let mut senders = Vec::new();
            for _ in 0..concurrency {
                let (server, client, attack, stop) =
                    (server.clone(), client.clone(), attack.clone(), stop.clone());
                senders.push(tokio::spawn(async move {
                    let mut statuses = BTreeMap::new();
                    while !stop.load(Ordering::Relaxed) {
                        *statuses
                            .entry(hostile(&server, &client, &attack).await)
                            .or_insert(0u64) += 1;
                    }
                    statuses
                }));
            }
            let probe = {
                let (server, client, stop) = (server.clone(), client.clone(), stop.clone());
                tokio::spawn(async move {
                    let (mut health, mut prolog) = (Vec::new(), Vec::new());
                    let body = zlib(prolog_xml("probe-2024-01-01-00-00-00").as_bytes());
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        let ok = client
                            .get(format!("{}/healthz", server.base_url))
                            .send()
                            .await
                            .is_ok_and(|r| r.status() == 200);
                        health.push((t.elapsed(), ok));
                        let t = Instant::now();
                        let ok = client
                            .post(server.agent_url())
                            .header("User-Agent", OCS_UA)
                            .body(body.clone())
                            .send()
                            .await
                            .is_ok_and(|r| r.status() == 200);
                        prolog.push((t.elapsed(), ok));
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    (health, prolog)
                })
            };
            let started = Instant::now();
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            stop.store(true, Ordering::Relaxed);
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            for s in senders {
                for (k, v) in s.await.unwrap() {
                    *statuses.entry(k).or_insert(0) += v;
                }
            }
            let elapsed = started.elapsed().as_secs_f64();
            let (health, prolog) = probe.await.unwrap();
            let summarise = |samples: Vec<(Duration, bool)>| {
                let failed = samples.iter().filter(|(_, ok)| !ok).count();
                let mut d: Vec<Duration> = samples.into_iter().map(|(d, _)| d).collect();
                d.sort();
                format!(
                    "{:.1} / {:.1} ms{}",
                    percentile(&d, 0.5).as_secs_f64() * 1000.0,
                    percentile(&d, 0.99).as_secs_f64() * 1000.0,
                    if failed > 0 {
                        format!(" ({failed} failed)")
                    } else {
                        String::new()
                    }
                )
            };
            let total: u64 = statuses.values().sum();
            let answers = statuses
                .iter()
                .map(|(k, v)| format!("{v}×{k}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "| {name} | {answers} | {:.1} | {} | {} | {} MiB |",
                total as f64 / elapsed,
                summarise(health),
                summarise(prolog),
                peak_rss_mib(server.pid())
            )
        });
        println!("{row}");
    }
}
