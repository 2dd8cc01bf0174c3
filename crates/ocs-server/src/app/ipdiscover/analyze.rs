//! *Analyze* a network (reference §5.5): nmap scans the network's non-inventoried devices and
//! classifies each (Windows, Linux, Mac, network device, filtered, phantom), nmblookup adds
//! its NetBIOS name when installed. A background task on the runtime does the scanning, in
//! batches, recording progress and results after each one, so every instance's console shows
//! how far it got; one job per network at a time (the store refuses a second one).
//!
//! The addresses given to nmap are never request text: the network comes in as an
//! [`Ipv4Addr`], and each address is read back from netmap, parsed as an [`Ipv4Addr`] and kept
//! only when it lies inside that network; the command line is built from their printed form
//! alone and run without a shell.

pub mod nmap;
pub mod nmblookup;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use ocs_storage::ipdiscover::analysis::{AnalysisRecord, AnalysisResult, AnalysisTarget};
use ocs_storage::StoreError;

use self::nmap::Kind;
use crate::app::auth::Admin;
use crate::app::ipdiscover::subnets::prefix_len;
use crate::app::ipdiscover::vendor::mac_vendor;
use crate::app::{AppError, AppState};

/// Addresses per nmap run: progress is recorded after each.
pub const BATCH: usize = 16;
/// Longest nmap run of one batch. It must stay well under [`STALE_AFTER_SECS`], since a job
/// shows it is alive by the results it records after each batch.
pub const BATCH_TIMEOUT: Duration = Duration::from_secs(240);
/// Longest nmblookup of one address.
pub const NMBLOOKUP_TIMEOUT: Duration = Duration::from_secs(3);
/// A running job with no sign of life for this long is taken over by a new one.
pub const STALE_AFTER_SECS: i64 = 600;
/// Most addresses one job scans (a /16, the widest network elected computers scan).
pub const MAX_TARGETS: usize = 65_536;
/// Past jobs listed per network.
pub const HISTORY: i64 = 50;

/// The scanning programs found on this server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tools {
    /// nmap (needed).
    pub nmap: Option<PathBuf>,
    /// nmblookup (optional: names).
    pub nmblookup: Option<PathBuf>,
}

impl Tools {
    /// Looks the programs up in `PATH`.
    pub fn find() -> Tools {
        Tools {
            nmap: in_path("nmap"),
            nmblookup: in_path("nmblookup"),
        }
    }
}

fn in_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn bad(code: &'static str, key: &'static str) -> AppError {
    AppError::bad_request(code, key)
}

/// A network address from a URL: a dotted IPv4 address (nothing else, not even a prefix
/// length) that can be a network.
pub fn netid_param(text: &str) -> Result<Ipv4Addr, AppError> {
    let netid: Ipv4Addr = text
        .parse()
        .map_err(|_| bad("E_BAD_NETID", "analyze.bad_netid"))?;
    if netid.is_unspecified() || netid.is_broadcast() || netid.is_multicast() || netid.is_loopback()
    {
        return Err(bad("E_BAD_NETID", "analyze.bad_netid"));
    }
    Ok(netid)
}

/// An address to scan, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The address.
    pub ip: Ipv4Addr,
    /// Its MAC.
    pub mac: String,
    /// The name its scanner reported (`-` and empty dropped).
    pub name: String,
}

/// The netmap entries of `netid` nmap may scan: an address that parses, lies inside the
/// network under its mask (a /24 when none was reported; never wider than a /16, as for
/// election) and is a host address. Anything else (an agent may report any text) is skipped.
pub fn targets(netid: Ipv4Addr, rows: Vec<AnalysisTarget>) -> Vec<Target> {
    let mut out: Vec<Target> = rows
        .into_iter()
        .filter_map(|row| {
            let ip: Ipv4Addr = row.ip.trim().parse().ok()?;
            let mask = row
                .mask
                .as_deref()
                .and_then(|m| m.trim().parse::<Ipv4Addr>().ok())
                .filter(|m| prefix_len(*m).is_some_and(|len| (16..=30).contains(&len)))
                .unwrap_or(Ipv4Addr::new(255, 255, 255, 0));
            let (ip_bits, mask_bits) = (u32::from(ip), u32::from(mask));
            let inside = ip_bits & mask_bits == u32::from(netid);
            let host = ip_bits & !mask_bits;
            let usable = host != 0 && host != !mask_bits;
            if !inside || !usable || ip.is_loopback() || ip.is_multicast() {
                tracing::warn!(netid = %netid, ip = row.ip, "netmap address outside its network: not analysed");
                return None;
            }
            let name = row
                .name
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty() && n != "-")
                .unwrap_or_default();
            Some(Target {
                ip,
                mac: row.mac,
                name,
            })
        })
        .collect();
    out.sort_by_key(|t| u32::from(t.ip));
    out.dedup_by_key(|t| t.ip);
    out
}

/// Whether nmap is installed (the console says so rather than offer a job that cannot run).
pub fn nmap_installed() -> bool {
    Tools::find().nmap.is_some()
}

/// Starts analysing `netid` in the background; returns the job's ID.
pub async fn start(state: &AppState, admin: &Admin<'_>, netid: Ipv4Addr) -> Result<i64, AppError> {
    let tools = Tools::find();
    let Some(nmap) = tools.nmap.clone() else {
        return Err(bad("E_NO_NMAP", "analyze.no_nmap"));
    };
    let rows = state
        .store
        .list_analysis_targets(&netid.to_string())
        .await?;
    let targets = targets(netid, rows);
    if targets.is_empty() {
        return Err(bad("E_NOTHING_TO_ANALYZE", "analyze.no_targets"));
    }
    if targets.len() > MAX_TARGETS {
        return Err(bad("E_TOO_MANY_TARGETS", "analyze.too_many"));
    }
    let total = i64::try_from(targets.len()).unwrap_or(i64::MAX);
    let id = state
        .store
        .start_analysis(
            &netid.to_string(),
            total,
            &admin.viewer.login,
            state.clock.now(),
            STALE_AFTER_SECS,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => bad("E_ANALYSIS_RUNNING", "analyze.running"),
            e => e.into(),
        })?;
    tracing::info!(admin = %admin.viewer.login, netid = %netid, analysis = id, hosts = total, "network analysis started");
    let state = state.clone();
    let nmblookup = tools.nmblookup;
    tokio::spawn(async move {
        let outcome = run(&state, id, &nmap, nmblookup.as_deref(), &targets).await;
        let error = outcome.as_ref().err().map(String::as_str);
        match &outcome {
            Ok(()) => tracing::info!(analysis = id, "network analysis done"),
            Err(e) => tracing::warn!(analysis = id, error = %e, "network analysis failed"),
        }
        if let Err(e) = state
            .store
            .finish_analysis(id, error, state.clock.now())
            .await
        {
            tracing::error!(analysis = id, error = %e, "cannot record the end of a network analysis");
        }
    });
    Ok(id)
}

/// Scans every batch; the error is the message shown on the job's page.
async fn run(
    state: &AppState,
    id: i64,
    nmap: &Path,
    nmblookup: Option<&Path>,
    targets: &[Target],
) -> Result<(), String> {
    let mut os_detection = true;
    let mut done = 0i64;
    for batch in targets.chunks(BATCH) {
        let ips: Vec<Ipv4Addr> = batch.iter().map(|t| t.ip).collect();
        let output = match run_nmap(nmap, &ips, os_detection).await {
            Err(NmapFailure::NeedsRoot) if os_detection => {
                // Without root nmap cannot guess OSes; the port patterns still classify.
                tracing::warn!(
                    analysis = id,
                    "nmap needs root for OS detection: analysing by ports only"
                );
                os_detection = false;
                run_nmap(nmap, &ips, false).await
            }
            other => other,
        }
        .map_err(|e| e.to_string())?;
        let scans = nmap::parse_greppable(&output);
        let mut results = Vec::with_capacity(batch.len());
        let mut names = match nmblookup {
            Some(program) => lookup_names(program, &scans, batch).await,
            None => Vec::new(),
        };
        for target in batch {
            let kind = nmap::classify(scans.get(&target.ip));
            let name = names
                .iter_mut()
                .find(|(ip, _)| *ip == target.ip)
                .map(|(_, n)| std::mem::take(n))
                .unwrap_or_else(|| target.name.clone());
            results.push(AnalysisResult {
                ip: target.ip.to_string(),
                mac: target.mac.clone(),
                kind: kind.as_str().to_owned(),
                name,
            });
        }
        done += i64::try_from(batch.len()).unwrap_or(0);
        let still_running = state
            .store
            .record_analysis_progress(id, done, &results, state.clock.now())
            .await
            .map_err(|e| format!("cannot record progress: {e}"))?;
        if !still_running {
            tracing::warn!(
                analysis = id,
                "network analysis taken over by another one: stopping"
            );
            return Ok(());
        }
    }
    Ok(())
}

/// Why an nmap run gave nothing.
#[derive(Debug, thiserror::Error)]
enum NmapFailure {
    #[error("nmap needs root privileges for OS detection")]
    NeedsRoot,
    #[error("nmap could not be started: {0}")]
    Spawn(std::io::Error),
    #[error("nmap did not finish within {} s", BATCH_TIMEOUT.as_secs())]
    Timeout,
    #[error("nmap failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
}

async fn run_nmap(
    nmap: &Path,
    ips: &[Ipv4Addr],
    os_detection: bool,
) -> Result<String, NmapFailure> {
    let mut command = tokio::process::Command::new(nmap);
    command
        .args(nmap::args(ips, os_detection))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A timed-out run is killed when its future is dropped.
        .kill_on_drop(true);
    let output = tokio::time::timeout(BATCH_TIMEOUT, command.output())
        .await
        .map_err(|_| NmapFailure::Timeout)?
        .map_err(NmapFailure::Spawn)?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        if nmap::needs_root(&stderr) {
            return Err(NmapFailure::NeedsRoot);
        }
        return Err(NmapFailure::Failed {
            status: output.status.to_string(),
            stderr: stderr.trim().chars().take(500).collect(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// NetBIOS names of the batch's hosts found up, looked up together.
async fn lookup_names(
    program: &Path,
    scans: &std::collections::HashMap<Ipv4Addr, nmap::HostScan>,
    batch: &[Target],
) -> Vec<(Ipv4Addr, String)> {
    let mut lookups = tokio::task::JoinSet::new();
    for target in batch
        .iter()
        .filter(|t| scans.get(&t.ip).is_some_and(|s| s.up))
    {
        let (program, ip) = (program.to_owned(), target.ip);
        lookups.spawn(async move { (ip, netbios_name(&program, ip).await) });
    }
    let mut names = Vec::new();
    while let Some(joined) = lookups.join_next().await {
        if let Ok((ip, Some(name))) = joined {
            names.push((ip, name));
        }
    }
    names
}

async fn netbios_name(program: &Path, ip: Ipv4Addr) -> Option<String> {
    let mut command = tokio::process::Command::new(program);
    command
        .args(nmblookup::args(ip))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(NMBLOOKUP_TIMEOUT, command.output())
        .await
        .ok()?
        .ok()?;
    nmblookup::parse_name(&String::from_utf8_lossy(&output.stdout))
}

/// One classified device as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultLine {
    /// Address.
    pub ip: String,
    /// MAC.
    pub mac: String,
    /// The MAC's vendor, when registered.
    pub vendor: Option<&'static str>,
    /// NetBIOS or reported name.
    pub name: String,
}

/// A job with its results grouped by class (classes with no device left out).
#[derive(Debug, Clone)]
pub struct AnalysisView {
    /// The job.
    pub record: AnalysisRecord,
    /// Each class found, in [`Kind::ALL`] order, with its devices by address.
    pub groups: Vec<(Kind, Vec<ResultLine>)>,
}

/// One job and its results.
pub async fn analysis(state: &AppState, id: i64) -> Result<AnalysisView, AppError> {
    let record = state
        .store
        .find_analysis(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("analysis {id}")))?;
    let results = state.store.list_analysis_results(id).await?;
    Ok(AnalysisView {
        record,
        groups: group(results),
    })
}

fn group(results: Vec<AnalysisResult>) -> Vec<(Kind, Vec<ResultLine>)> {
    let mut groups: Vec<(Kind, Vec<ResultLine>)> =
        Kind::ALL.into_iter().map(|k| (k, Vec::new())).collect();
    for r in results {
        // A kind written by a later version is shown as the safest reading.
        let kind = Kind::parse(&r.kind).unwrap_or(Kind::Phantom);
        if let Some((_, lines)) = groups.iter_mut().find(|(k, _)| *k == kind) {
            lines.push(ResultLine {
                vendor: mac_vendor(&r.mac),
                ip: r.ip,
                mac: r.mac,
                name: r.name,
            });
        }
    }
    groups.retain(|(_, lines)| !lines.is_empty());
    for (_, lines) in &mut groups {
        lines.sort_by_key(|l| l.ip.parse::<Ipv4Addr>().map(u32::from).unwrap_or(u32::MAX));
    }
    groups
}

/// The latest jobs of a network, newest first.
pub async fn history(state: &AppState, netid: Ipv4Addr) -> Result<Vec<AnalysisRecord>, AppError> {
    Ok(state
        .store
        .list_analyses(&netid.to_string(), HISTORY)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ip: &str, mask: Option<&str>) -> AnalysisTarget {
        AnalysisTarget {
            ip: ip.into(),
            mac: "00:1b:21:0a:00:15".into(),
            mask: mask.map(str::to_owned),
            name: Some("-".into()),
        }
    }

    #[test]
    fn a_network_is_a_dotted_address_and_nothing_else() {
        assert_eq!(
            netid_param("203.0.113.0").unwrap(),
            Ipv4Addr::new(203, 0, 113, 0)
        );
        for bad in [
            "1.2.3.4;id",
            "0.0.0.0/0",
            "0.0.0.0",
            "203.0.113.0 -iL /etc/passwd",
            "-iL",
            "203.000.113.0",
            "203.0.113",
            "255.255.255.255",
            "",
        ] {
            assert!(netid_param(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_host_addresses_inside_the_network_are_scanned() {
        let netid = Ipv4Addr::new(203, 0, 113, 0);
        let found = targets(
            netid,
            vec![
                row("203.0.113.22", Some("255.255.255.0")),
                row("203.0.113.21", None),
                row("203.0.113.21", None),
                row("198.51.100.7", Some("255.255.255.0")),
                row("203.0.113.0", Some("255.255.255.0")),
                row("203.0.113.255", Some("255.255.255.0")),
                row("203.0.113.5 --script=x", None),
                row("8.8.8.8", Some("0.0.0.0")),
            ],
        );
        let ips: Vec<String> = found.iter().map(|t| t.ip.to_string()).collect();
        assert_eq!(ips, ["203.0.113.21", "203.0.113.22"]);
        assert_eq!(found[0].name, "", "a '-' name is no name");
    }

    #[test]
    fn results_are_grouped_by_class_in_order_with_vendors() {
        let r = |ip: &str, kind: &str| AnalysisResult {
            ip: ip.into(),
            mac: "00:1b:21:0a:00:15".into(),
            kind: kind.into(),
            name: String::new(),
        };
        let groups = group(vec![
            r("203.0.113.100", "PHANTOM"),
            r("203.0.113.9", "PHANTOM"),
            r("203.0.113.21", "WINDOWS"),
        ]);
        let shape: Vec<(Kind, Vec<&str>)> = groups
            .iter()
            .map(|(k, lines)| (*k, lines.iter().map(|l| l.ip.as_str()).collect()))
            .collect();
        assert_eq!(
            shape,
            [
                (Kind::Windows, vec!["203.0.113.21"]),
                (Kind::Phantom, vec!["203.0.113.9", "203.0.113.100"]),
            ]
        );
        assert!(groups[0].1[0].vendor.is_some());
    }
}
