//! Driving the simulated agents against one server: the bodies of a round are generated and
//! compressed before the clock starts (so the client's own CPU use does not count against
//! the server, and `--vs` sends both servers the very same bytes), then each agent sends
//! PROLOG and, when told SEND, its INVENTORY, with at most `concurrency` agents in flight and
//! arrivals either as fast as possible or spread over a start period.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::write::ZlibEncoder;
use flate2::Compression;
use indicatif::ProgressBar;
use ocs_proto::codec::{decode_body, DecodeLimits};
use ocs_proto::reply::PrologResponse;
use ocs_proto::reply_reader::{parse_inventory_reply, parse_prolog_reply};

use crate::fleet::{FleetSpec, Shape};
use crate::rng::Rng;

/// One agent's request bodies for a round, as sent on the wire.
#[derive(Debug, Clone)]
pub struct Body {
    /// Its agent (User-Agent, Content-Type).
    pub shape: Shape,
    /// The zlib PROLOG body.
    pub prolog: Vec<u8>,
    /// The zlib INVENTORY body.
    pub inventory: Vec<u8>,
    /// When it arrives, from the start of the phase (zero when running flat out).
    pub arrival: Duration,
    /// How many software entries its inventory holds.
    pub software: usize,
}

/// zlib at level 6, what the Perl agents (Compress::Zlib) and the Windows agent send.
pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::with_capacity(data.len() / 6 + 64), Compression::new(6));
    // Writing into a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

const ARRIVAL: u64 = 6;

/// Generates and compresses the bodies of `agents` devices for `round`, on `threads`
/// threads, in device order. With a start period, each device gets an arrival time spread
/// uniformly over it (as PROLOG_FREQ jitter spreads real agents), and the list is sorted by
/// arrival.
pub fn prepare(
    spec: &FleetSpec,
    agents: u64,
    round: u32,
    start_period: Option<Duration>,
    threads: usize,
) -> Vec<Body> {
    prepare_range(spec, 0..agents, round, start_period, threads)
}

/// [`prepare`] for the devices of `range` only (a batch of a larger round): arrivals are
/// spread over `start_period` from the start of the batch.
pub fn prepare_range(
    spec: &FleetSpec,
    range: std::ops::Range<u64>,
    round: u32,
    start_period: Option<Duration>,
    threads: usize,
) -> Vec<Body> {
    let threads = threads.max(1);
    let (first, agents) = (range.start, range.end.saturating_sub(range.start));
    let chunk = agents.div_ceil(threads as u64).max(1);
    let mut bodies: Vec<Body> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|t| {
                scope.spawn(move || {
                    let (lo, hi) = (
                        first + (t * chunk).min(agents),
                        first + ((t + 1) * chunk).min(agents),
                    );
                    (lo..hi)
                        .map(|n| {
                            let g = spec.generate(n, round);
                            let arrival = start_period.map_or(Duration::ZERO, |p| {
                                let mut rng = Rng::derive(
                                    spec.seed,
                                    &[spec.device_offset + n, u64::from(round), ARRIVAL],
                                );
                                p.mul_f64(rng.unit())
                            });
                            Body {
                                shape: g.shape,
                                prolog: zlib(g.prolog.as_bytes()),
                                inventory: zlib(g.inventory.as_bytes()),
                                arrival,
                                software: g.software,
                            }
                        })
                        .collect::<Vec<Body>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    if start_period.is_some() {
        bodies.sort_by_key(|b| b.arrival);
    }
    bodies
}

/// How a phase is run.
#[derive(Debug, Clone)]
pub struct PhaseOptions {
    /// Agents in flight at most.
    pub concurrency: usize,
    /// Send INVENTORY without PROLOG, as `ocsinventory-agent -f` does (a fast path for
    /// loading a population).
    pub skip_prolog: bool,
}

/// What happened in one phase against one server.
#[derive(Debug, Default)]
pub struct PhaseOutcome {
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
    /// PROLOG latencies (answered requests only).
    pub prolog: Vec<Duration>,
    /// INVENTORY latencies (answered requests only).
    pub inventory: Vec<Duration>,
    /// HTTP requests sent.
    pub requests: u64,
    /// INVENTORY requests answered 200 with a valid reply.
    pub accepted: u64,
    /// Agents the server told STOP at PROLOG (no inventory sent).
    pub told_stop: u64,
    /// Failed requests by kind: `HTTP 503`, `timeout`, `connect`, `bad reply`, `io`.
    pub errors: BTreeMap<String, u64>,
}

impl PhaseOutcome {
    fn merge(&mut self, other: PhaseOutcome) {
        self.prolog.extend(other.prolog);
        self.inventory.extend(other.inventory);
        self.requests += other.requests;
        self.accepted += other.accepted;
        self.told_stop += other.told_stop;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }

    /// Adds a later batch of the same phase: its requests, latencies and errors, and its
    /// time (batches run one after the other).
    pub fn absorb(&mut self, other: PhaseOutcome) {
        self.elapsed += other.elapsed;
        self.merge(other);
    }

    fn error(&mut self, kind: String) {
        *self.errors.entry(kind).or_default() += 1;
    }
}

/// Inflated replies are tiny; anything larger is not an OCS reply.
const REPLY_LIMITS: DecodeLimits = DecodeLimits {
    max_inflated_bytes: 16 << 20,
    try_others: true,
};

/// Sends one body; the decoded reply XML, or the error kind.
async fn post(
    client: &reqwest::Client,
    url: &str,
    shape: Shape,
    body: &[u8],
) -> Result<Vec<u8>, String> {
    let response = client
        .post(url)
        .header("User-Agent", shape.user_agent())
        .header("Content-Type", shape.content_type())
        .header("Pragma", "no-cache")
        .body(body.to_vec())
        .send()
        .await
        .map_err(|e| error_kind(&e))?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| error_kind(&e))?;
    if status != reqwest::StatusCode::OK {
        return Err(format!("HTTP {}", status.as_u16()));
    }
    decode_body(&bytes, REPLY_LIMITS)
        .map(|d| d.xml)
        .map_err(|_| "bad reply".to_owned())
}

fn error_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else {
        "io".into()
    }
}

/// Runs one phase: every body once, against `url`.
pub async fn run_phase(
    client: &reqwest::Client,
    url: &str,
    bodies: Arc<Vec<Body>>,
    options: &PhaseOptions,
    progress: &ProgressBar,
) -> PhaseOutcome {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..options.concurrency.max(1) {
        let (client, url, bodies, next, progress) = (
            client.clone(),
            url.to_owned(),
            bodies.clone(),
            next.clone(),
            progress.clone(),
        );
        let skip_prolog = options.skip_prolog;
        workers.push(tokio::spawn(async move {
            let mut out = PhaseOutcome::default();
            while let Some(body) = bodies.get(next.fetch_add(1, Ordering::Relaxed)) {
                // Spread arrivals: wait for this agent's turn (a no-op when running flat out).
                if let Some(wait) = body.arrival.checked_sub(started.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
                agent(&client, &url, body, skip_prolog, &mut out).await;
                progress.inc(1);
            }
            out
        }));
    }
    let mut total = PhaseOutcome::default();
    for worker in workers {
        if let Ok(out) = worker.await {
            total.merge(out);
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// One agent run: PROLOG, then INVENTORY if told SEND.
async fn agent(
    client: &reqwest::Client,
    url: &str,
    body: &Body,
    skip_prolog: bool,
    out: &mut PhaseOutcome,
) {
    if !skip_prolog {
        let t = Instant::now();
        out.requests += 1;
        let reply = post(client, url, body.shape, &body.prolog).await;
        match reply {
            Ok(xml) => {
                out.prolog.push(t.elapsed());
                match parse_prolog_reply(&xml) {
                    Ok(r) if r.response == PrologResponse::Send => {}
                    Ok(_) => {
                        out.told_stop += 1;
                        return;
                    }
                    Err(_) => {
                        out.error("bad reply".into());
                        return;
                    }
                }
            }
            Err(kind) => {
                out.error(kind);
                return;
            }
        }
    }
    let t = Instant::now();
    out.requests += 1;
    match post(client, url, body.shape, &body.inventory).await {
        Ok(xml) => {
            out.inventory.push(t.elapsed());
            if parse_inventory_reply(&xml).is_ok() {
                out.accepted += 1;
            } else {
                out.error("bad reply".into());
            }
        }
        Err(kind) => out.error(kind),
    }
}
