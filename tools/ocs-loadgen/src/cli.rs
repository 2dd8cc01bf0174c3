//! The command line: flags, the round/target loop (each round against A, then the same bodies
//! against B with `--vs`), server sampling around each phase, and output.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::fleet::{FleetSpec, OsMix};
use crate::procstat::{self, RssSampler};
use crate::report::{render, PhaseReport, Ratio, ServerUsage, Summary};
use crate::run::{prepare_range, run_phase, PhaseOptions, PhaseOutcome};
use crate::target::check_target;
use crate::{parse_duration, LoadgenError};

/// Simulates a fleet of OCS Inventory agents (OCS Unix agent, FusionInventory, OCS Windows
/// agent) against an OCS server and measures it.
///
/// Round 1 sends every device as new (PROLOG, then INVENTORY when told SEND); each further
/// round re-inventories the same devices, a share of which changed something (software
/// added or removed, a disk added, a new IP). Inventories are generated from --seed alone:
/// the same flags always send the same bytes.
///
/// A million-device day, in parts (what bench/fleet-1m.sh runs): load the fleet once with
/// `--agents 1000000 --images 200 --software-min 5 --batch 10000 --skip-prolog`, then
/// re-inventory it at a daily pace with the same fleet flags and `--reinventory-only
/// --changed-share 0.1 --start-period 23h`.
#[derive(Debug, Parser)]
#[command(name = "ocs-loadgen", version, about, long_about)]
pub struct Args {
    /// Agent endpoint of the server under test (A).
    #[arg(long, default_value = "http://127.0.0.1:8080/ocsinventory")]
    pub url: String,
    /// Number of distinct devices (agents).
    #[arg(long, default_value_t = 1000)]
    pub agents: u64,
    /// Seed of every generated value.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Agents in flight at most.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Spread arrivals uniformly over this period (e.g. 5m), as PROLOG_FREQ jitter spreads
    /// real agents; without it agents run as fast as --concurrency allows.
    #[arg(long, value_parser = duration_arg, value_name = "DURATION")]
    pub start_period: Option<Duration>,
    /// Rounds: 1 = new devices only; each further round re-inventories them.
    #[arg(long, default_value_t = 1)]
    pub rounds: u32,
    /// Share of devices changed before each re-inventory; a comma list gives rounds 2, 3, …
    /// their own share (the last one repeats), e.g. `0,0.1` = unchanged, then 10 % changed.
    #[arg(long, default_value = "0.1", value_name = "SHARE[,SHARE…]")]
    pub changed_share: String,
    /// Fewest software entries per device.
    #[arg(long, default_value_t = 50)]
    pub software_min: u32,
    /// Most software entries per device.
    #[arg(long, default_value_t = 2000)]
    pub software_max: u32,
    /// Weights of the agent shapes.
    #[arg(long, default_value = "unix=40,fusion=20,windows=40")]
    pub os_mix: OsMix,
    /// Index of the first device: runs with disjoint ranges never share a DEVICEID.
    #[arg(long, default_value_t = 0)]
    pub device_offset: u64,
    /// Send INVENTORY without PROLOG (what `ocsinventory-agent -f` does): a fast path to load
    /// a population.
    #[arg(long)]
    pub skip_prolog: bool,
    /// Print a machine-readable summary on stdout (and no progress bar).
    #[arg(long)]
    pub json: bool,
    /// Measure this server process tree's CPU and memory (repeatable: e.g. Apache and MariaDB).
    #[arg(long = "server-pid", value_name = "PID")]
    pub server_pid: Vec<u32>,
    /// Run the same workload against a second server (B), alternating A and B each round,
    /// and print B/A ratios.
    #[arg(long, value_name = "URL2")]
    pub vs: Option<String>,
    /// Process trees of the --vs server to measure (repeatable).
    #[arg(long = "vs-server-pid", value_name = "PID")]
    pub vs_server_pid: Vec<u32>,
    /// Allow targets that are not loopback addresses.
    #[arg(long)]
    pub allow_remote: bool,
    /// Draw software lists from N base images per catalogue (Linux, Windows) instead of
    /// independently per device: each device takes one image, image k with probability
    /// ln((k+2)/(k+1)) / ln(N+1) (Zipf-like: with 100 images the first holds 15 % of the
    /// devices), and half of the devices then remove up to 3 of its packages and add 1 to 5
    /// of their own, so that the other half share identical lists. 0: no images.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub images: u32,
    /// Generate and send each round N devices at a time (generation stays off the clock),
    /// so that a round of a million devices does not hold every body in memory; the start
    /// period is shared among the batches. 0: the whole round at once.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub batch: u64,
    /// The devices are already stored (round 1 sent by an earlier run with the same --seed,
    /// --device-offset and fleet flags): send only re-inventories, --rounds of them (rounds
    /// 2, 3, …, with --changed-share as usual).
    #[arg(long)]
    pub reinventory_only: bool,
    /// Print the K software names found on the most devices of the fleet (count, shape,
    /// name; tab-separated, most frequent first, from the first --agents devices, at most
    /// 20,000 of them) and exit without sending anything: search terms for benchmarks.
    #[arg(long, value_name = "K")]
    pub common_software: Option<usize>,
    /// Per-request timeout.
    #[arg(long, default_value = "60s", value_parser = duration_arg, value_name = "DURATION")]
    pub timeout: Duration,
}

fn duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn shares(text: &str) -> Result<Vec<f64>, LoadgenError> {
    text.split(',')
        .map(|s| match s.trim().parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
            _ => Err(LoadgenError::Usage(format!(
                "--changed-share {text:?}: each share is a number from 0 to 1"
            ))),
        })
        .collect()
}

/// Runs the command line; exit 2 for usage errors and refused targets, 1 for other failures.
pub fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ocs-loadgen: {e:#}");
            let usage = e.downcast_ref::<LoadgenError>().is_some_and(|e| {
                matches!(
                    e,
                    LoadgenError::Usage(_) | LoadgenError::RemoteTarget { .. }
                )
            });
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    check_target(&args.url, args.allow_remote)?;
    if let Some(vs) = &args.vs {
        check_target(vs, args.allow_remote)?;
    }
    procstat::check_pids(&args.server_pid)?;
    procstat::check_pids(&args.vs_server_pid)?;
    if args.agents == 0 || args.rounds == 0 || args.concurrency == 0 {
        return Err(LoadgenError::Usage(
            "--agents, --rounds and --concurrency must be at least 1".into(),
        )
        .into());
    }
    let spec = FleetSpec {
        seed: args.seed,
        device_offset: args.device_offset,
        software_min: args.software_min,
        software_max: args.software_max,
        os_mix: args.os_mix,
        changed_share: shares(&args.changed_share)?,
        images: args.images,
    };
    if let Some(k) = args.common_software {
        print!("{}", common_software(&spec, args.agents, k));
        return Ok(());
    }
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .map_err(LoadgenError::from)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let show_progress = !args.json && std::io::stderr().is_terminal();

    let mut shapes: BTreeMap<String, u64> = BTreeMap::new();
    for n in 0..args.agents {
        *shapes.entry(spec.shape(n).name().to_owned()).or_default() += 1;
    }
    let mut targets = vec![("A", args.url.clone(), args.server_pid.clone())];
    if let Some(vs) = &args.vs {
        targets.push(("B", vs.clone(), args.vs_server_pid.clone()));
    }
    let options = PhaseOptions {
        concurrency: args.concurrency,
        skip_prolog: args.skip_prolog,
    };
    let batch = if args.batch == 0 {
        args.agents
    } else {
        args.batch.min(args.agents)
    };
    let first_round = if args.reinventory_only { 2 } else { 1 };
    let multi = MultiProgress::new();
    let mut phases = Vec::new();
    let mut ratios = Vec::new();
    let mut software = (0u64, 0u64);
    for round in first_round..first_round + args.rounds {
        let kind = if round == 1 {
            "new".to_owned()
        } else {
            format!("reinventory ({}% changed)", spec.share(round) * 100.0)
        };
        // Per target: the merged outcome, CPU seconds and peak RSS over the batches.
        let mut totals: Vec<(PhaseOutcome, f64, u64)> = targets
            .iter()
            .map(|_| (PhaseOutcome::default(), 0.0, 0))
            .collect();
        let bars: Vec<ProgressBar> = targets
            .iter()
            .map(|(label, _, _)| {
                if !show_progress {
                    return ProgressBar::hidden();
                }
                let bar = multi.add(ProgressBar::new(args.agents));
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} agents, {per_sec}, eta {eta}",
                ) {
                    bar.set_style(style);
                }
                bar.set_prefix(format!("{label} round {round} {kind}"));
                bar
            })
            .collect();
        let mut lo = 0;
        while lo < args.agents {
            let hi = (lo + batch).min(args.agents);
            // Each batch gets its share of the start period, so the pace stays the same.
            let period = args
                .start_period
                .map(|p| p.mul_f64((hi - lo) as f64 / args.agents as f64));
            let bodies = Arc::new(prepare_range(&spec, lo..hi, round, period, threads));
            if round == first_round {
                software.0 += bodies.iter().map(|b| b.software as u64).sum::<u64>();
                software.1 += bodies.len() as u64;
            }
            for (((_, url, pids), total), bar) in targets.iter().zip(&mut totals).zip(&bars) {
                let sampling = (!pids.is_empty()).then(|| {
                    (
                        procstat::cpu_seconds(pids),
                        RssSampler::start(pids.clone(), Duration::from_millis(250)),
                    )
                });
                let outcome =
                    runtime.block_on(run_phase(&client, url, bodies.clone(), &options, bar));
                if let Some((before, rss)) = sampling {
                    total.1 += (procstat::cpu_seconds(pids) - before).max(0.0);
                    total.2 = total.2.max(rss.finish());
                }
                total.0.absorb(outcome);
            }
            lo = hi;
        }
        let mut this_round = Vec::new();
        for (((label, url, pids), (outcome, cpu, rss)), bar) in targets.iter().zip(totals).zip(bars)
        {
            bar.finish_and_clear();
            let server = (!pids.is_empty()).then(|| ServerUsage {
                pids: pids.clone(),
                cpu_seconds: cpu,
                cpu_seconds_per_inventory: (outcome.accepted > 0)
                    .then(|| cpu / outcome.accepted as f64),
                peak_rss_mib: rss as f64 / (1024.0 * 1024.0),
            });
            let report = PhaseReport::new(
                label,
                url,
                round,
                kind.clone(),
                args.agents,
                outcome,
                server,
            );
            if !args.json {
                eprintln!(
                    "{label} round {round} ({kind}): {} inventories accepted in {:.1} s, {:.1}/s, {} errors",
                    report.inventories_accepted,
                    report.elapsed_s,
                    report.inventories_per_s,
                    report.error_count()
                );
            }
            this_round.push(report);
        }
        if let [a, b] = this_round.as_slice() {
            ratios.push(Ratio::of(a, b));
        }
        phases.extend(this_round);
    }
    let summary = Summary {
        seed: args.seed,
        device_offset: args.device_offset,
        agents: args.agents,
        concurrency: args.concurrency,
        start_period_s: args.start_period.map(|d| d.as_secs_f64()),
        skip_prolog: args.skip_prolog,
        images: args.images,
        software_per_device: software.0 as f64 / software.1.max(1) as f64,
        batch: (args.batch > 0).then_some(batch),
        shapes,
        phases,
        ratios,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", render(&summary));
    }
    Ok(())
}

/// At most this many devices are read for `--common-software`.
const COMMON_SAMPLE: u64 = 20_000;

/// The `k` software names on the most devices among the first `agents` (capped), per shape.
fn common_software(spec: &FleetSpec, agents: u64, k: usize) -> String {
    let mut counts: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    for n in 0..agents.min(COMMON_SAMPLE) {
        let shape = spec.shape(n).name();
        for name in spec.software_names(n, 1) {
            *counts.entry((shape, name)).or_default() += 1;
        }
    }
    let mut ranked: Vec<_> = counts.into_iter().collect();
    // Most frequent first; ties in name order, so the output is stable.
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
        .into_iter()
        .take(k)
        .map(|((shape, name), count)| format!("{count}\t{shape}\t{name}\n"))
        .collect()
}
