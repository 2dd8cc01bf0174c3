//! The command line: flags, the round/target loop (each round against A, then the same bodies
//! against B with `--vs`), server sampling around each phase, and output.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use crate::fleet::{FleetSpec, OsMix};
use crate::procstat::{self, RssSampler};
use crate::report::{render, PhaseReport, Ratio, ServerUsage, Summary};
use crate::run::{prepare, run_phase, PhaseOptions};
use crate::target::check_target;
use crate::{parse_duration, LoadgenError};

/// Simulates a fleet of OCS Inventory agents (OCS Unix agent, FusionInventory, OCS Windows
/// agent) against an OCS server and measures it.
///
/// Round 1 sends every device as new (PROLOG, then INVENTORY when told SEND); each further
/// round re-inventories the same devices, a share of which changed something (software
/// added or removed, a disk added, a new IP). Inventories are generated from --seed alone:
/// the same flags always send the same bytes.
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
    };
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
    let mut phases = Vec::new();
    let mut ratios = Vec::new();
    for round in 1..=args.rounds {
        let kind = if round == 1 {
            "new".to_owned()
        } else {
            format!("reinventory ({}% changed)", spec.share(round) * 100.0)
        };
        let bodies = Arc::new(prepare(
            &spec,
            args.agents,
            round,
            args.start_period,
            threads,
        ));
        let mut this_round = Vec::new();
        for (label, url, pids) in &targets {
            let progress = if show_progress {
                let bar = ProgressBar::new(args.agents);
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} agents, {per_sec}, eta {eta}",
                ) {
                    bar.set_style(style);
                }
                bar.set_prefix(format!("{label} round {round} {kind}"));
                bar
            } else {
                ProgressBar::hidden()
            };
            let sampling = (!pids.is_empty()).then(|| {
                (
                    procstat::cpu_seconds(pids),
                    RssSampler::start(pids.clone(), Duration::from_millis(250)),
                )
            });
            let outcome =
                runtime.block_on(run_phase(&client, url, bodies.clone(), &options, &progress));
            progress.finish_and_clear();
            let server = sampling.map(|(before, rss)| {
                let cpu = (procstat::cpu_seconds(pids) - before).max(0.0);
                ServerUsage {
                    pids: pids.clone(),
                    cpu_seconds: cpu,
                    cpu_seconds_per_inventory: (outcome.accepted > 0)
                        .then(|| cpu / outcome.accepted as f64),
                    peak_rss_mib: rss.finish() as f64 / (1024.0 * 1024.0),
                }
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
