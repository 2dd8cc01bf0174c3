//! `ocs-loadgen`: a fleet simulator and benchmark for OCS Inventory NG servers (ours or the
//! original). It generates N distinct devices deterministically from a seed ([`fleet`]), in
//! the shapes of the OCS Unix agent, FusionInventory and the OCS Windows agent, and drives
//! them through PROLOG and INVENTORY as the agents do ([`run`]), measuring throughput,
//! latency, errors and the server's CPU and memory ([`procstat`], [`report`]).
//!
//! It only ever sends to loopback addresses unless told otherwise ([`target`]). The library
//! exists for the binary and its tests; it holds no global state.

pub mod catalogue;
pub mod cli;
pub mod fleet;
pub mod procstat;
pub mod report;
pub mod rng;
pub mod run;
pub mod target;

use std::time::Duration;

/// What can go wrong before or around a run (failed requests are results, not errors).
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    /// A bad flag value.
    #[error("{0}")]
    Usage(String),
    /// The target is not loopback and `--allow-remote` was not given.
    #[error("refusing to load {url}: it resolves to {address}, which is not a loopback address (pass --allow-remote to allow it)")]
    RemoteTarget {
        /// The URL given.
        url: String,
        /// The first non-loopback address it resolves to.
        address: String,
    },
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Parses a duration: `90`, `90s`, `500ms`, `5m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, LoadgenError> {
    let t = text.trim();
    let bad = || {
        LoadgenError::Usage(format!(
            "bad duration {text:?} (examples: 30s, 5m, 500ms, 1h)"
        ))
    };
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }
}
