//! Package deployment, as the Unix agent's download module does it (reference §6): after a
//! PROLOG, [`Downloader::prepare`] records the server's `CONF`, answers packages already in
//! the history with `SUCCESS_ALREADY_SETUP`, and fetches the info file of each new package;
//! the inventory carries the history ([`Downloader::history`]); then [`Downloader::work`]
//! fetches fragments period by period (latencies, priorities), assembles each package, checks
//! its digest, unpacks it safely, runs its action and reports the result with
//! `QUERY=DOWNLOAD`.
//!
//! Every step leaves its result on disk ([`store`]) before the next one starts, so a run
//! that is interrupted (killed, rebooted, network gone) resumes where it stopped: the next
//! run fetches only the fragments still listed in the task file.
//!
//! This module decides what to do and when; [`fetch`] and the transport move bytes,
//! [`extract`] and [`execute`] touch the package's files, and nothing here runs outside the
//! package's own directory except a STORE destination.

pub mod config;
pub mod digest;
pub mod execute;
pub mod extract;
pub mod fetch;
pub mod reports;
pub mod schedule;
pub mod store;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ocs_proto::info::InfoFile;

use self::config::{DownloadConfig, DownloadOption};
use self::reports::Status;
use self::schedule::Pending;
use self::store::Store;
use crate::error::Error;
use crate::transport::Client;

/// Failed fragment fetches in a row after which the work stops until the next run (the Unix
/// agent's `max_error_count`); the packages stay on disk and resume later.
pub const MAX_FETCH_ERRORS: u32 = 30;

/// How long [`Downloader::work`] goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One period, then return (a plain one-shot run: the rest resumes next time).
    OnePeriod,
    /// Period after period until no package is pending (`--force`, the daemon).
    UntilDone,
}

/// A status sent (or that could not be sent) for a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// FILEID.
    pub id: String,
    /// The status code.
    pub code: String,
    /// Whether the server acknowledged the report.
    pub sent: bool,
}

/// The deployment work of one agent.
pub struct Downloader<'a> {
    client: &'a Client,
    deviceid: &'a str,
    store: Store,
    install_path: PathBuf,
    stop: Option<&'a AtomicBool>,
    clock: fn() -> i64,
    outcomes: Vec<Outcome>,
    fetch_errors: u32,
    /// Packages left for the next [`Downloader::work`] instead of being retried in a loop:
    /// those whose result the server did not take, and those that could not be removed.
    set_aside: HashSet<String>,
}

impl std::fmt::Debug for Downloader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downloader")
            .field("root", &self.store.root())
            .finish()
    }
}

fn system_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl<'a> Downloader<'a> {
    /// A downloader keeping its files under `<state_dir>/download`; `INSTALL_PATH` in STORE
    /// destinations stands for `state_dir`.
    pub fn new(client: &'a Client, deviceid: &'a str, state_dir: &Path) -> Downloader<'a> {
        Downloader {
            client,
            deviceid,
            store: Store::new(state_dir),
            install_path: state_dir.to_owned(),
            stop: None,
            clock: system_now,
            outcomes: Vec::new(),
            fetch_errors: 0,
            set_aside: HashSet::new(),
        }
    }

    /// Stops between two steps when this flag is set (the daemon's signal flag).
    pub fn with_stop(mut self, stop: &'a AtomicBool) -> Downloader<'a> {
        self.stop = Some(stop);
        self
    }

    /// The statuses reported so far.
    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    /// The FILEIDs of the history file, for the inventory.
    pub fn history(&self) -> Vec<String> {
        self.store.history()
    }

    fn stopped(&self) -> bool {
        self.stop.is_some_and(|s| s.load(Ordering::Relaxed))
    }

    /// Sleeps in short steps so that a stop signal is honoured quickly.
    fn sleep(&self, seconds: u64) {
        let mut left = Duration::from_secs(seconds);
        let step = Duration::from_millis(250);
        while !left.is_zero() && !self.stopped() {
            let d = left.min(step);
            std::thread::sleep(d);
            left -= d;
        }
    }

    fn report(&mut self, id: &str, status: &str) -> bool {
        let sent = match self.client.download_report(self.deviceid, id, status) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(
                    package = id,
                    status,
                    "cannot report the package status: {e}"
                );
                false
            }
        };
        tracing::info!(package = id, status, "package status reported");
        self.outcomes.push(Outcome {
            id: id.to_owned(),
            code: status.to_owned(),
            sent,
        });
        sent
    }

    /// Removes a package's files, reporting `ERR_CLEAN` when that fails.
    fn clean(&mut self, id: &str) {
        if let Err(e) = self.store.remove(id) {
            tracing::error!(package = id, "cannot remove the package directory: {e}");
            self.set_aside.insert(id.to_owned());
            self.report(id, &Status::ErrClean.code());
        }
    }

    fn fail(&mut self, id: &str, status: Status) {
        self.clean(id);
        self.report(id, &status.code());
    }

    /// Handles the PROLOG reply's DOWNLOAD option (`None`: the reply had none, and the saved
    /// configuration stays).
    pub fn prepare(&mut self, option: Option<DownloadOption>) -> Result<(), Error> {
        self.store.ensure()?;
        let Some(option) = option else {
            return Ok(());
        };
        self.store.save_config(&option.config)?;
        if !option.config.on {
            tracing::info!("deployment is off for this machine (DOWNLOAD ON=0)");
            return Ok(());
        }
        let history = self.store.history();
        for pack in option.packages {
            if !pack.force && history.contains(&pack.id) {
                tracing::info!(
                    package = pack.id,
                    "already in the history; not deployed again"
                );
                self.report(&pack.id, &Status::AlreadySetup.code());
                continue;
            }
            self.store.create_package(&pack.id, (self.clock)())?;
            let dir = self.store.package_dir(&pack.id);
            std::fs::write(dir.join("pack_loc"), &pack.pack_loc).map_err(|e| Error::State {
                path: dir.join("pack_loc"),
                detail: e.to_string(),
            })?;
            let info = self.store.info_path(&pack.id);
            if info.exists() {
                continue;
            }
            if let Err(e) = fetch::info(self.client, &pack.info_loc, &pack.id, &info) {
                tracing::warn!(package = pack.id, "cannot fetch the info file: {e}");
                self.fail(&pack.id, Status::ErrDownloadInfo);
            }
        }
        Ok(())
    }

    /// Checks every package directory and returns those still to work on.
    fn scan(&mut self, config: &DownloadConfig) -> Result<Vec<(Pending, InfoFile)>, Error> {
        let mut pending = Vec::new();
        for id in self.store.package_ids() {
            if self.set_aside.contains(&id) {
                continue;
            }
            let Ok(bytes) = std::fs::read(self.store.info_path(&id)) else {
                tracing::debug!(package = id, "no info file; removed");
                self.clean(&id);
                continue;
            };
            let info = match InfoFile::parse(&bytes) {
                Ok(info) => info,
                Err(e) => {
                    tracing::warn!(package = id, "unreadable info file: {e}");
                    self.fail(&id, Status::ErrDownloadInfo);
                    continue;
                }
            };
            if info.id != id {
                tracing::warn!(
                    package = id,
                    info_id = info.id,
                    "the info file is another package's"
                );
                self.fail(&id, Status::ErrBadId);
                continue;
            }
            let Some(since) = self.store.since(&id) else {
                self.fail(&id, Status::ErrTimeout);
                continue;
            };
            let age = (self.clock)().saturating_sub(since);
            if age > i64::try_from(config.timeout_days.saturating_mul(86_400)).unwrap_or(i64::MAX) {
                tracing::warn!(
                    package = id,
                    days = age / 86_400,
                    "package too old; abandoned"
                );
                self.fail(&id, Status::ErrTimeout);
                continue;
            }
            if self.store.task(&id).is_none() {
                let all: Vec<String> = (1..=info.fragments)
                    .map(|n| fetch::fragment_name(&id, n))
                    .collect();
                self.store.write_task(&id, &all)?;
            }
            pending.push((
                Pending {
                    id: id.clone(),
                    priority: info.priority,
                },
                info,
            ));
        }
        Ok(pending)
    }

    /// Downloads and runs pending packages (see [`Mode`]).
    pub fn work(&mut self, mode: Mode) -> Result<(), Error> {
        let Some(config) = self.store.load_config() else {
            tracing::debug!("deployment not configured by the server yet");
            return Ok(());
        };
        if !config.on {
            return Ok(());
        }
        self.set_aside.clear();
        self.store.ensure()?;
        let Some(_lock) = self.store.lock()? else {
            tracing::info!("another agent process is deploying packages; leaving it to it");
            return Ok(());
        };
        loop {
            let mut packages = self.scan(&config)?;
            if packages.is_empty() {
                tracing::debug!("no package to deploy");
                break;
            }
            self.period(&config, &mut packages)?;
            if mode == Mode::OnePeriod || self.stopped() {
                break;
            }
            if self.fetch_errors >= MAX_FETCH_ERRORS {
                tracing::warn!(
                    errors = self.fetch_errors,
                    "too many failed downloads in a row; the rest waits for the next run"
                );
                break;
            }
        }
        Ok(())
    }

    fn period(
        &mut self,
        config: &DownloadConfig,
        packages: &mut Vec<(Pending, InfoFile)>,
    ) -> Result<(), Error> {
        for cycle in 1..=config.period_length {
            if self.stopped() || packages.is_empty() || self.fetch_errors >= MAX_FETCH_ERRORS {
                return Ok(());
            }
            let list: Vec<Pending> = packages.iter().map(|(p, _)| p.clone()).collect();
            let turn = schedule::turn(cycle, &list);
            for id in &turn.ids {
                if self.stopped() {
                    return Ok(());
                }
                let Some(index) = packages.iter().position(|(p, _)| &p.id == id) else {
                    continue;
                };
                if self.step(&packages[index].1)? {
                    packages.remove(index);
                }
                self.sleep(config.frag_latency);
            }
            if turn.cycle_latency {
                self.sleep(config.cycle_latency);
            }
        }
        self.sleep(config.period_latency);
        Ok(())
    }

    /// One step of a package; true when the package is finished (either way).
    fn step(&mut self, info: &InfoFile) -> Result<bool, Error> {
        let id = info.id.as_str();
        if let Some(code) = self.store.done(id) {
            self.finish(id, &code);
            return Ok(true);
        }
        let Some(task) = self.store.task(id) else {
            return Ok(false);
        };
        let Some(next) = task.first() else {
            self.run(info);
            return Ok(true);
        };
        let dir = self.store.package_dir(id);
        let pack_loc = std::fs::read_to_string(dir.join("pack_loc")).unwrap_or_default();
        let pack_loc = pack_loc.trim();
        if pack_loc.is_empty() {
            tracing::warn!(
                package = id,
                "no fragment location known; waiting for the next PROLOG"
            );
            self.fetch_errors += 1;
            return Ok(false);
        }
        let url = fetch::fragment_url(info.protocol, pack_loc, id, next);
        match fetch::fragment(self.client, &url, &dir.join(next)) {
            Ok(bytes) => {
                tracing::debug!(package = id, fragment = next, bytes, "fragment fetched");
                self.fetch_errors = 0;
                self.store.write_task(id, &task[1..])?;
            }
            Err(e) => {
                tracing::warn!(package = id, fragment = next, "{e}");
                self.fetch_errors += 1;
            }
        }
        Ok(false)
    }

    /// Assembles, checks, unpacks and runs a package whose fragments are all there.
    fn run(&mut self, info: &InfoFile) {
        let id = info.id.as_str();
        let dir = self.store.package_dir(id);
        let tmp = dir.join("tmp");
        if let Err(e) = std::fs::create_dir_all(&tmp) {
            tracing::warn!(package = id, "cannot create {}: {e}", tmp.display());
            self.fail(id, Status::ErrBuild);
            return;
        }
        if info.fragments > 0 {
            if let Err(status) = self.build(info, &dir, &tmp) {
                self.fail(id, status);
                return;
            }
        }
        let status = execute::run(&info.action, &tmp, &self.install_path);
        if status.is_success() {
            if let Err(e) = self.store.mark_done(id, &status.code()) {
                tracing::warn!(package = id, "{e}");
            }
            self.finish(id, &status.code());
        } else {
            self.fail(id, status);
        }
    }

    fn build(&self, info: &InfoFile, dir: &Path, tmp: &Path) -> Result<(), Status> {
        let id = info.id.as_str();
        let archive = tmp.join("build.tar.gz");
        let assembled = (|| -> std::io::Result<()> {
            let mut out = std::fs::File::create(&archive)?;
            for n in 1..=info.fragments {
                let mut part = std::fs::File::open(dir.join(fetch::fragment_name(id, n)))?;
                std::io::copy(&mut part, &mut out)?;
            }
            out.sync_all()
        })();
        if let Err(e) = assembled {
            tracing::warn!(package = id, "cannot assemble the package: {e}");
            return Err(Status::ErrBuild);
        }
        let digest = digest::file_digest(&archive, info.digest_algorithm, info.digest_encoding)
            .map_err(|e| {
                tracing::warn!(package = id, "{e}");
                Status::ErrBadDigest
            })?;
        if !digest::matches(&digest, &info.digest, info.digest_encoding) {
            tracing::warn!(
                package = id,
                expected = info.digest,
                got = digest,
                "digest mismatch"
            );
            return Err(Status::ErrBadDigest);
        }
        if let Err(e) = extract::extract(&archive, tmp) {
            tracing::warn!(package = id, "{e}");
            return Err(Status::ErrBuild);
        }
        let _ = std::fs::remove_file(&archive);
        // The fragments are in the archive's place now; no need to keep them twice.
        for n in 1..=info.fragments {
            let _ = std::fs::remove_file(dir.join(fetch::fragment_name(id, n)));
        }
        Ok(())
    }

    /// Records a package that ran: history first (so it is never run twice), then the report;
    /// the directory goes only once the server has the report, else it is sent again later.
    fn finish(&mut self, id: &str, code: &str) {
        if let Err(e) = self.store.add_to_history(id) {
            tracing::warn!(package = id, "{e}");
        }
        if self.report(id, code) {
            self.clean(id);
        } else {
            self.set_aside.insert(id.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::TransportConfig;
    use ocs_proto::info::{Action, DigestAlgorithm, DigestEncoding, Protocol};

    /// A client for a port nothing listens on: every report fails at once, which is also
    /// what these tests check (a result not acknowledged is kept and sent again).
    fn offline() -> Client {
        Client::new(TransportConfig {
            url: "http://127.0.0.1:9/ocsinventory".into(),
            timeout: Duration::from_secs(2),
            verify_tls: true,
            ..TransportConfig::default()
        })
        .unwrap()
    }

    fn info(id: &str, command: &str) -> InfoFile {
        InfoFile {
            id: id.into(),
            priority: 0,
            action: Action::Execute {
                command: command.into(),
            },
            digest: String::new(),
            protocol: Protocol::Http,
            fragments: 0,
            digest_algorithm: DigestAlgorithm::Md5,
            digest_encoding: DigestEncoding::Hexa,
            notify_user: false,
            notify_text: String::new(),
            notify_countdown: None,
            notify_can_abort: false,
            notify_can_delay: false,
            need_done_action: false,
            need_done_action_text: String::new(),
            gardefou: "rien".into(),
        }
    }

    const NOW: i64 = 1_800_000_000;

    fn fixed_now() -> i64 {
        NOW
    }

    fn package(store: &Store, dir_id: &str, info: &InfoFile, since: i64) {
        store.create_package(dir_id, since).unwrap();
        std::fs::write(store.info_path(dir_id), info.to_xml()).unwrap();
    }

    fn codes(d: &Downloader<'_>) -> Vec<(String, String)> {
        let mut v: Vec<_> = d
            .outcomes()
            .iter()
            .map(|o| (o.id.clone(), o.code.clone()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn bad_id_timeout_and_unreadable_info_are_reported_and_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let client = offline();
        let mut d = Downloader::new(&client, "pc-2024-01-01-00-00-00", dir.path());
        d.clock = fixed_now;
        let config = DownloadConfig {
            on: true,
            frag_latency: 0,
            cycle_latency: 0,
            timeout_days: 2,
            ..DownloadConfig::default()
        };
        d.store.ensure().unwrap();
        d.store.save_config(&config).unwrap();
        package(&d.store, "11", &info("12", "true"), NOW);
        package(&d.store, "13", &info("13", "true"), NOW - 3 * 86_400);
        d.store.create_package("14", NOW).unwrap();
        std::fs::write(d.store.info_path("14"), "<html>").unwrap();
        d.store.create_package("15", NOW).unwrap();
        d.work(Mode::UntilDone).unwrap();
        assert_eq!(
            codes(&d),
            [
                ("11".to_owned(), "ERR_BAD_ID".to_owned()),
                ("13".to_owned(), "ERR_TIMEOUT".to_owned()),
                ("14".to_owned(), "ERR_DOWNLOAD_INFO".to_owned()),
            ]
        );
        assert!(d.store.package_ids().is_empty(), "all cleaned, 15 silently");
        assert!(d.outcomes().iter().all(|o| !o.sent));
    }

    #[test]
    fn a_command_only_package_runs_once_and_its_result_waits_for_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let count = dir.path().join("count");
        let client = offline();
        let mut d = Downloader::new(&client, "pc-2024-01-01-00-00-00", dir.path());
        d.clock = fixed_now;
        d.store.ensure().unwrap();
        let config = DownloadConfig {
            on: true,
            frag_latency: 0,
            cycle_latency: 0,
            ..DownloadConfig::default()
        };
        d.store.save_config(&config).unwrap();
        let command = format!("echo ran >> {}", count.display());
        package(&d.store, "21", &info("21", &command), NOW);
        d.work(Mode::UntilDone).unwrap();
        d.work(Mode::OnePeriod).unwrap();
        assert_eq!(std::fs::read_to_string(&count).unwrap(), "ran\n");
        assert_eq!(d.store.history(), ["21"]);
        assert_eq!(d.store.done("21").as_deref(), Some("SUCCESS"));
        assert_eq!(
            codes(&d),
            [
                ("21".to_owned(), "SUCCESS".to_owned()),
                ("21".to_owned(), "SUCCESS".to_owned()),
            ],
            "sent again while the server has not acknowledged it"
        );

        // Off: nothing is done.
        d.store
            .save_config(&DownloadConfig {
                on: false,
                ..config
            })
            .unwrap();
        d.work(Mode::UntilDone).unwrap();
        assert_eq!(d.outcomes().len(), 2);
    }
}
