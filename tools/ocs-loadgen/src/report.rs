//! The figures of a run: per phase and server, throughput, latency percentiles per QUERY,
//! errors by kind and the server's CPU and memory; the B/A ratios of a side-by-side run; and
//! how they are printed (a table on stdout, or JSON with `--json`). The JSON shape is this
//! module's types, serialised as they are.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::run::PhaseOutcome;

/// Latency percentiles of one QUERY type, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    /// Answered requests.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Latency {
    /// Nearest-rank percentiles of `samples`.
    pub fn of(mut samples: Vec<Duration>) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let at = |p: f64| {
            let rank = (p * samples.len() as f64).ceil() as usize;
            samples[rank.clamp(1, samples.len()) - 1].as_secs_f64() * 1000.0
        };
        Latency {
            count: samples.len(),
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// What the server process tree used during a phase (`--server-pid`).
#[derive(Debug, Clone, Serialize)]
pub struct ServerUsage {
    /// The PIDs whose trees were measured.
    pub pids: Vec<u32>,
    /// CPU seconds (user + system) of the trees during the phase.
    pub cpu_seconds: f64,
    /// CPU seconds per accepted inventory.
    pub cpu_seconds_per_inventory: Option<f64>,
    /// Highest sampled resident memory of the trees, in MiB.
    pub peak_rss_mib: f64,
}

/// One phase against one server.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// `A` (`--url`) or `B` (`--vs`).
    pub target: String,
    /// The agent endpoint.
    pub url: String,
    /// 1 = new devices, then re-inventories.
    pub round: u32,
    /// `new`, or `reinventory (N% changed)`.
    pub kind: String,
    /// Agents run.
    pub agents: u64,
    /// Seconds from the first request to the last answer.
    pub elapsed_s: f64,
    /// HTTP requests sent.
    pub requests: u64,
    /// Requests per second.
    pub requests_per_s: f64,
    /// Inventories answered 200 with a valid reply.
    pub inventories_accepted: u64,
    /// Accepted inventories per second.
    pub inventories_per_s: f64,
    /// Agents told STOP at PROLOG.
    pub told_stop: u64,
    /// PROLOG latency.
    pub prolog: Latency,
    /// INVENTORY latency.
    pub inventory: Latency,
    /// Failed requests by kind.
    pub errors: BTreeMap<String, u64>,
    /// Server CPU and memory, with `--server-pid`.
    pub server: Option<ServerUsage>,
}

impl PhaseReport {
    /// Builds the report of a phase from its outcome.
    pub fn new(
        target: &str,
        url: &str,
        round: u32,
        kind: String,
        agents: u64,
        outcome: PhaseOutcome,
        server: Option<ServerUsage>,
    ) -> PhaseReport {
        let secs = outcome.elapsed.as_secs_f64().max(1e-9);
        PhaseReport {
            target: target.to_owned(),
            url: url.to_owned(),
            round,
            kind,
            agents,
            elapsed_s: outcome.elapsed.as_secs_f64(),
            requests: outcome.requests,
            requests_per_s: outcome.requests as f64 / secs,
            inventories_accepted: outcome.accepted,
            inventories_per_s: outcome.accepted as f64 / secs,
            told_stop: outcome.told_stop,
            prolog: Latency::of(outcome.prolog),
            inventory: Latency::of(outcome.inventory),
            errors: outcome.errors,
            server,
        }
    }

    /// Failed requests, all kinds.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// B/A ratios of one phase in a side-by-side run.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    /// The round.
    pub round: u32,
    /// inventories/s of B divided by A's (above 1: B is faster).
    pub inventories_per_s_b_over_a: Option<f64>,
    /// INVENTORY p50 of B divided by A's (above 1: B is slower).
    pub inventory_p50_b_over_a: Option<f64>,
    /// INVENTORY p99 of B divided by A's.
    pub inventory_p99_b_over_a: Option<f64>,
    /// CPU seconds per inventory of B divided by A's.
    pub cpu_per_inventory_b_over_a: Option<f64>,
}

fn ratio(b: f64, a: f64) -> Option<f64> {
    (a > 0.0 && b.is_finite()).then(|| b / a)
}

impl Ratio {
    /// The ratios of B's phase to A's.
    pub fn of(a: &PhaseReport, b: &PhaseReport) -> Ratio {
        let cpu = |r: &PhaseReport| r.server.as_ref().and_then(|s| s.cpu_seconds_per_inventory);
        Ratio {
            round: a.round,
            inventories_per_s_b_over_a: ratio(b.inventories_per_s, a.inventories_per_s),
            inventory_p50_b_over_a: ratio(b.inventory.p50_ms, a.inventory.p50_ms),
            inventory_p99_b_over_a: ratio(b.inventory.p99_ms, a.inventory.p99_ms),
            cpu_per_inventory_b_over_a: cpu(b).zip(cpu(a)).and_then(|(b, a)| ratio(b, a)),
        }
    }
}

/// The whole run, as `--json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Seed of the fleet.
    pub seed: u64,
    /// Index of the first device.
    pub device_offset: u64,
    /// Agents per phase.
    pub agents: u64,
    /// Agents in flight at most.
    pub concurrency: usize,
    /// Arrival spread in seconds (`None`: as fast as possible).
    pub start_period_s: Option<f64>,
    /// Whether PROLOG was skipped.
    pub skip_prolog: bool,
    /// Base images per catalogue (0: software drawn per device).
    pub images: u32,
    /// Mean software entries per device in the first round sent.
    pub software_per_device: f64,
    /// Devices generated and sent at a time (`None`: whole rounds).
    pub batch: Option<u64>,
    /// Agents per shape.
    pub shapes: BTreeMap<String, u64>,
    /// Every phase, in the order run (A then B for each round).
    pub phases: Vec<PhaseReport>,
    /// B/A ratios per round, with `--vs`.
    pub ratios: Vec<Ratio>,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

/// The human-readable report.
pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    let shapes: Vec<String> = summary
        .shapes
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        out,
        "fleet: {} agents (seed {}, offset {}; {}; {:.0} software each on average{}), concurrency {}, {}{}",
        summary.agents,
        summary.seed,
        summary.device_offset,
        shapes.join(", "),
        summary.software_per_device,
        if summary.images > 0 {
            format!(", from {} images", summary.images)
        } else {
            String::new()
        },
        summary.concurrency,
        summary.start_period_s.map_or_else(
            || "as fast as possible".to_owned(),
            |s| format!("arrivals over {s:.0} s")
        ),
        if summary.skip_prolog {
            ", INVENTORY without PROLOG"
        } else {
            ""
        },
    );
    let _ = writeln!(
        out,
        "{:<2} {:<5} {:<26} {:>7} {:>8} {:>8} {:>6} {:>25} {:>27} {:>9} {:>8} {:>6}",
        "",
        "round",
        "phase",
        "inv ok",
        "req/s",
        "inv/s",
        "STOP",
        "PROLOG p50/p90/p99/max ms",
        "INVENTORY p50/p90/p99/max ms",
        "cpu s/inv",
        "peak MiB",
        "errors"
    );
    for p in &summary.phases {
        let lat = |l: &Latency| {
            format!(
                "{:.0}/{:.0}/{:.0}/{:.0}",
                l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
            )
        };
        let cpu = p.server.as_ref().and_then(|s| s.cpu_seconds_per_inventory);
        let rss = p.server.as_ref().map(|s| s.peak_rss_mib);
        let _ = writeln!(
            out,
            "{:<2} {:<5} {:<26} {:>7} {:>8.1} {:>8.1} {:>6} {:>25} {:>27} {:>9} {:>8} {:>6}",
            p.target,
            p.round,
            p.kind,
            p.inventories_accepted,
            p.requests_per_s,
            p.inventories_per_s,
            p.told_stop,
            lat(&p.prolog),
            lat(&p.inventory),
            opt(cpu, 4),
            opt(rss, 0),
            p.error_count()
        );
    }
    for p in summary.phases.iter().filter(|p| !p.errors.is_empty()) {
        let kinds: Vec<String> = p.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(
            out,
            "errors {} round {}: {}",
            p.target,
            p.round,
            kinds.join(", ")
        );
    }
    if !summary.ratios.is_empty() {
        let _ = writeln!(out, "ratios B/A (B = --vs, A = --url): inv/s above 1 = B faster; latency and cpu above 1 = B slower");
        for r in &summary.ratios {
            let _ = writeln!(
                out,
                "   round {}: inv/s {}x, INVENTORY p50 {}x, p99 {}x, cpu s/inv {}x",
                r.round,
                opt(r.inventories_per_s_b_over_a, 2),
                opt(r.inventory_p50_b_over_a, 2),
                opt(r.inventory_p99_b_over_a, 2),
                opt(r.cpu_per_inventory_b_over_a, 2)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let l = Latency::of(samples);
        assert_eq!(
            (l.count, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms),
            (100, 50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(Latency::of(Vec::new()).count, 0);
        assert_eq!(Latency::of(vec![Duration::from_millis(7)]).p99_ms, 7.0);
    }
}
