//! What a server process tree costs: CPU seconds (user + system, of the processes and of
//! their reaped children) and resident memory, read from `/proc`. The original server is
//! Apache with worker children (and MariaDB beside it), so every figure is summed over the
//! whole tree under each given PID.
//!
//! Linux only; reads files, starts nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::LoadgenError;

/// `/proc/PID/stat` counts CPU time in USER_HZ ticks, which the kernel fixes at 100 for
/// user space on every architecture this tool is built for (x86-64, arm64).
const TICKS_PER_SECOND: f64 = 100.0;

/// One line of `/proc/PID/stat`, the parts we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    ppid: u32,
    /// utime + stime + cutime + cstime, in ticks.
    ticks: u64,
}

/// Parses `/proc/PID/stat`. The command name is in parentheses and may hold spaces or
/// parentheses itself, so fields are counted from the last `)`.
fn parse_stat(line: &str) -> Option<Stat> {
    let rest = &line[line.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    let num = |i: usize| fields.get(i).and_then(|f| f.parse::<i64>().ok());
    let ticks = [11, 12, 13, 14]
        .iter()
        .map(|i| num(*i).map(|v| u64::try_from(v).unwrap_or(0)))
        .sum::<Option<u64>>()?;
    Some(Stat {
        ppid: u32::try_from(num(1)?).ok()?,
        ticks,
    })
}

/// Every live process with its parent and ticks.
fn all_processes() -> HashMap<u32, Stat> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // A process may exit between listing and reading: it is simply left out.
        if let Some(stat) = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|s| parse_stat(&s))
        {
            out.insert(pid, stat);
        }
    }
    out
}

/// The PIDs in the trees rooted at `roots` (roots included, if alive).
fn tree(processes: &HashMap<u32, Stat>, roots: &[u32]) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (pid, stat) in processes {
        children.entry(stat.ppid).or_default().push(*pid);
    }
    let mut out = Vec::new();
    let mut stack: Vec<u32> = roots
        .iter()
        .copied()
        .filter(|p| processes.contains_key(p))
        .collect();
    while let Some(pid) = stack.pop() {
        if out.contains(&pid) {
            continue;
        }
        out.push(pid);
        if let Some(kids) = children.get(&pid) {
            stack.extend(kids);
        }
    }
    out
}

/// Checks that every PID exists, for a clear error before the run starts.
pub fn check_pids(pids: &[u32]) -> Result<(), LoadgenError> {
    for pid in pids {
        if !std::path::Path::new(&format!("/proc/{pid}/stat")).exists() {
            return Err(LoadgenError::Usage(format!(
                "--server-pid {pid}: no such process"
            )));
        }
    }
    Ok(())
}

/// CPU seconds used so far by the trees under `roots`. A worker that exits between two
/// samples moves its time into its parent's cutime/cstime, so the sum stays continuous.
pub fn cpu_seconds(roots: &[u32]) -> f64 {
    let processes = all_processes();
    tree(&processes, roots)
        .iter()
        .filter_map(|pid| processes.get(pid))
        .map(|s| s.ticks as f64 / TICKS_PER_SECOND)
        .sum()
}

/// Resident memory of the trees under `roots`, in bytes.
pub fn rss_bytes(roots: &[u32]) -> u64 {
    let processes = all_processes();
    tree(&processes, roots)
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        })
        .sum()
}

/// Samples the trees' RSS in the background and keeps the peak.
#[derive(Debug)]
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<u64>>,
}

impl RssSampler {
    /// Starts sampling every `every`.
    pub fn start(roots: Vec<u32>, every: Duration) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut peak = rss_bytes(&roots);
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(every);
                peak = peak.max(rss_bytes(&roots));
            }
            peak
        });
        RssSampler {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops and returns the peak, in bytes.
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().and_then(|h| h.join().ok()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names() {
        let line = "4242 (apache2 (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 100 1000 10";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                ppid: 1,
                ticks: 250 + 50 + 7 + 3
            })
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn our_own_tree_is_measured() {
        let me = std::process::id();
        check_pids(&[me]).unwrap();
        let busy: u64 = (0..2_000_000u64).map(|x| x ^ (x >> 3)).sum();
        assert!(busy > 0);
        assert!(cpu_seconds(&[me]) >= 0.0);
        assert!(rss_bytes(&[me]) > 0);
        assert!(check_pids(&[u32::MAX]).is_err());
    }
}
