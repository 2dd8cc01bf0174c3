//! `ocs-agent daemon`: stays running and contacts the server every PROLOG_FREQ hours, as
//! the server last said. The first contact happens at a random moment within the first
//! period, and the countdown to the next contact is saved in the state (TTO_WAIT, as the
//! Windows service does), so a restart resumes it instead of starting over or calling the
//! server at once. SIGTERM and SIGINT stop it between two runs, after saving the countdown.
//! After each contact it deploys every pending package before it starts counting down
//! again (stopping between two fragments on a signal; the work resumes at the next contact).
//!
//! The schedule is computed by pure functions (tested); the loop only sleeps and runs.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use time::{OffsetDateTime, UtcOffset};

use crate::collectors::Context;
use crate::config::Config;
use crate::download::Mode;
use crate::error::Error;
use crate::run::{run_with, Report};
use crate::state::State;

/// Hours between contacts when the server never said (the original server's default).
pub const DEFAULT_PROLOG_FREQ: u32 = 24;
/// How often the countdown is written to disk while waiting.
const SAVE_EVERY: Duration = Duration::from_secs(60);

/// Seconds to wait before the first contact of a daemon with no saved countdown: a random
/// moment within the first period, so that a fleet installed at once spreads its calls.
pub fn first_wait(state: &State, delaytime: Duration, rng: &mut impl Rng) -> u64 {
    let period = match state.prolog_freq {
        Some(hours) if hours > 0 => u64::from(hours) * 3600,
        _ => delaytime.as_secs().max(1),
    };
    rng.gen_range(0..=period)
}

/// Seconds until the contact after a successful run.
pub fn wait_after_success(state: &State) -> u64 {
    u64::from(
        state
            .prolog_freq
            .filter(|h| *h > 0)
            .unwrap_or(DEFAULT_PROLOG_FREQ),
    ) * 3600
}

/// Seconds until the retry after a failed run: an hour, or the period if shorter, plus a
/// little jitter so that agents cut off by the same outage do not all come back together.
pub fn wait_after_failure(state: &State, rng: &mut impl Rng) -> u64 {
    let period = wait_after_success(state);
    period.min(3600) + rng.gen_range(0..=300)
}

/// Saves the countdown without touching what a run saved meanwhile.
fn save_countdown(dir: &Path, seconds: u64) -> Result<(), Error> {
    let mut state = State::load(dir)?;
    state.tto_wait = Some(seconds);
    state.save(dir)
}

/// Runs until SIGTERM or SIGINT.
pub fn run(cfg: &Config, offset: UtcOffset) -> Result<(), Error> {
    if cfg.server.is_none() {
        return Err(Error::Config("the daemon needs a server: give --server URL or server = \"…\" in the configuration file".into()));
    }
    // Checked once, at start: a daemon that cannot keep its state would pick a new
    // DEVICEID at every restart.
    let state = State::load(&cfg.state_dir)?;
    state.save(&cfg.state_dir)?;

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| Error::Config(format!("cannot handle signals: {e}")))?;
    }
    let mut rng = rand::thread_rng();
    let mut wait = match state.tto_wait {
        Some(left) => {
            tracing::info!(seconds = left, "resuming the countdown to the next contact");
            left
        }
        None => {
            let w = first_wait(&state, cfg.delaytime, &mut rng);
            tracing::info!(
                seconds = w,
                "first contact at a random moment within the first period"
            );
            w
        }
    };
    save_countdown(&cfg.state_dir, wait)?;
    tracing::info!(
        server = cfg.server.as_deref().unwrap_or(""),
        "daemon started"
    );

    loop {
        if !sleep_counting_down(&mut wait, &stop, &cfg.state_dir) {
            save_countdown(&cfg.state_dir, wait)?;
            tracing::info!(seconds_left = wait, "stopping on signal; countdown saved");
            return Ok(());
        }
        let now = OffsetDateTime::now_utc().to_offset(offset);
        let privileged = rustix::process::geteuid().is_root();
        let ctx = Context::live(privileged, now);
        let result = run_with(cfg, &ctx, Mode::UntilDone, Some(&*stop));
        let state = State::load(&cfg.state_dir).unwrap_or_default();
        wait = match result {
            Ok(report) => {
                if report != Report::Printed {
                    tracing::info!("{report}");
                }
                wait_after_success(&state)
            }
            Err(e) => {
                tracing::error!("{e}");
                wait_after_failure(&state, &mut rng)
            }
        };
        tracing::info!(seconds = wait, "next contact");
        if let Err(e) = save_countdown(&cfg.state_dir, wait) {
            tracing::error!("{e}");
        }
    }
}

/// Sleeps `wait` seconds in short steps, decrementing it and saving it every minute.
/// Returns false when a stop signal arrived.
fn sleep_counting_down(wait: &mut u64, stop: &AtomicBool, dir: &Path) -> bool {
    let mut last_save = Instant::now();
    let step = Duration::from_millis(250);
    let mut elapsed = Duration::ZERO;
    while *wait > 0 {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(step);
        elapsed += step;
        if elapsed >= Duration::from_secs(1) {
            elapsed -= Duration::from_secs(1);
            *wait -= 1;
        }
        if last_save.elapsed() >= SAVE_EVERY {
            last_save = Instant::now();
            if let Err(e) = save_countdown(dir, *wait) {
                tracing::warn!("{e}");
            }
        }
    }
    !stop.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn first_wait_is_within_the_period() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut state = State::default();
        for _ in 0..100 {
            assert!(first_wait(&state, Duration::from_secs(3600), &mut rng) <= 3600);
        }
        state.prolog_freq = Some(12);
        let waits: Vec<u64> = (0..200)
            .map(|_| first_wait(&state, Duration::from_secs(3600), &mut rng))
            .collect();
        assert!(waits.iter().all(|w| *w <= 12 * 3600));
        assert!(
            waits.iter().any(|w| *w > 3600),
            "spread over the whole period"
        );
    }

    #[test]
    fn waits_after_runs() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let mut state = State::default();
        assert_eq!(wait_after_success(&state), 24 * 3600);
        state.prolog_freq = Some(6);
        assert_eq!(wait_after_success(&state), 6 * 3600);
        let retry = wait_after_failure(&state, &mut rng);
        assert!((3600..=3900).contains(&retry));
    }

    #[test]
    fn a_stop_signal_ends_the_wait_and_the_countdown_is_saved() {
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(true);
        let mut wait = 500;
        assert!(!sleep_counting_down(&mut wait, &stop, dir.path()));
        assert_eq!(wait, 500);
        save_countdown(dir.path(), wait).unwrap();
        assert_eq!(State::load(dir.path()).unwrap().tto_wait, Some(500));
        let go = AtomicBool::new(false);
        let mut short = 1;
        assert!(sleep_counting_down(&mut short, &go, dir.path()));
        assert_eq!(short, 0);
    }
}
