//! One run of the agent, the way `ocsinventory-agent` does one: identify the machine
//! (DEVICEID), ask the server (PROLOG), collect, and send the INVENTORY when told SEND, or
//! write it to a file or standard output. The state is updated only with what the server
//! acknowledged, so a failed send never makes the next CHECKSUM skip a change.
//!
//! When talking to a server, the run also deploys packages (`download`): the PROLOG reply's
//! DOWNLOAD option is handled right after the PROLOG, the history goes into the inventory,
//! and the downloads run last, for one period, or until nothing is pending with `--force`
//! (the daemon always goes on until nothing is pending).
//!
//! When the PROLOG reply elects the machine for IP discovery, or `--ipdisc` asks for it, the
//! network is scanned after the collection and the hosts go into the same inventory
//! (`ipdiscover`); `--ipdisc` also sends the inventory when the server says STOP, since
//! that is the only way the results reach it.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use ocs_proto::codec::{encode_body, BodyEncoding};
use ocs_proto::reply::{InventoryReply, PrologResponse};
use rand::Rng;

use crate::collectors::{self, CollectOptions, Context, Section};
use crate::config::Config;
use crate::download::{self, Downloader, Mode};
use crate::error::Error;
use crate::inventory::{self, Extras};
use crate::ipdiscover;
use crate::plugins;
use crate::state::{AccountEntry, State};
use crate::transport::Client;

/// What a run did, for the closing message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// The inventory was sent and acknowledged.
    Sent {
        /// The server URL.
        url: String,
        /// The CHECKSUM sent.
        checksum: u64,
        /// Whether the server replaced the administrative data.
        account_update: bool,
        /// Sections and rows sent.
        sections: usize,
        /// Rows sent.
        rows: usize,
    },
    /// The server said STOP (inventory not due).
    Stopped {
        /// The server URL.
        url: String,
        /// Hours until the next contact.
        prolog_freq: i64,
    },
    /// The inventory was written to a file.
    Written(PathBuf),
    /// The inventory was printed.
    Printed,
    /// `--test` succeeded.
    Tested(String),
    /// `--lazy` and the server was contacted recently.
    Skipped,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Report::Sent { url, checksum, account_update, sections, rows } => write!(
                f,
                "inventory sent to {url}: {sections} sections, {rows} rows, CHECKSUM {checksum}{}",
                if *account_update { "; administrative data (TAG) updated from the server" } else { "" }
            ),
            Report::Stopped { url, prolog_freq } => write!(
                f,
                "{url} says no inventory is due (STOP); next contact in {prolog_freq} h (use --force to send anyway)"
            ),
            Report::Written(p) => write!(f, "inventory written to {}", p.display()),
            Report::Printed => Ok(()),
            Report::Tested(msg) => f.write_str(msg),
            Report::Skipped => f.write_str("--lazy: the server was contacted less than PROLOG_FREQ hours ago; nothing to do"),
        }
    }
}

/// The host name (short) and the MAC addresses of the physical interfaces, which together
/// identify the machine for the DEVICEID.
pub fn identity(ctx: &Context) -> (String, Vec<String>) {
    let hostname = ctx
        .attr("/proc/sys/kernel/hostname")
        .or_else(|| ctx.attr("/etc/hostname"))
        .unwrap_or_else(|| "localhost".into());
    let short = hostname.split('.').next().unwrap_or(&hostname).to_owned();
    let macs = ctx
        .list("/sys/class/net")
        .into_iter()
        .filter(|n| ctx.exists(&format!("/sys/class/net/{n}/device")))
        .filter_map(|n| ctx.attr(&format!("/sys/class/net/{n}/address")))
        .filter(|m| m != "00:00:00:00:00:00")
        .collect();
    (short, macs)
}

/// The administrative data to send: what the server last gave, with the configured TAG
/// (flag or file) in place of the stored one.
pub fn accountinfo(state: &State, tag: Option<&str>) -> Vec<AccountEntry> {
    let mut entries = state.accountinfo.clone();
    if let Some(tag) = tag {
        match entries.iter_mut().find(|e| e.key == "TAG") {
            Some(e) => e.value = tag.to_owned(),
            None => entries.insert(
                0,
                AccountEntry {
                    key: "TAG".into(),
                    value: tag.to_owned(),
                },
            ),
        }
    }
    entries
}

/// Collects and logs what each collector found (and, unprivileged, what it could not read).
pub fn collect(ctx: &Context, cfg: &Config) -> Vec<Section> {
    let started = Instant::now();
    let (sections, outcomes) = collectors::collect_all(ctx, CollectOptions { nosoft: cfg.nosoft });
    for o in &outcomes {
        match &o.error {
            None => tracing::info!(
                section = o.element,
                rows = o.rows,
                elapsed_ms = o.elapsed.as_millis() as u64,
                "collected"
            ),
            Some(e) => tracing::warn!(section = o.element, error = %e, "section left out"),
        }
    }
    let missing = ctx.needs_root();
    if !missing.is_empty() {
        tracing::warn!(
            "running without root: left out {}; run as root for the full inventory",
            missing.join(", ")
        );
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "inventory collected"
    );
    sections
}

/// Loads the state; when the state directory cannot be read (an ordinary user trying
/// `--stdout`), goes on with an empty state that will not be saved.
fn load_state(cfg: &Config, needs_saving: bool) -> Result<(State, bool), Error> {
    match State::load(&cfg.state_dir) {
        Ok(s) => Ok((s, true)),
        Err(e) if !needs_saving => {
            tracing::warn!(error = %e, "state unavailable; using a temporary DEVICEID");
            Ok((State::default(), false))
        }
        Err(e) => Err(e),
    }
}

fn save_state(cfg: &Config, state: &State, persist: bool, required: bool) -> Result<(), Error> {
    if !persist {
        return Ok(());
    }
    match state.save(&cfg.state_dir) {
        Ok(()) => Ok(()),
        Err(e) if !required => {
            tracing::warn!(error = %e, "state not saved; the DEVICEID will not be kept");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// One run with the given configuration on the given machine: downloads for one period,
/// or until every pending package is done with `--force`.
pub fn run_once(cfg: &Config, ctx: &Context) -> Result<Report, Error> {
    let mode = if cfg.force {
        Mode::UntilDone
    } else {
        Mode::OnePeriod
    };
    run_with(cfg, ctx, mode, None)
}

/// Runs the deployment work after a contact; its failures are logged, never the run's.
fn deploy(downloader: Option<&mut Downloader<'_>>, mode: Mode) {
    if let Some(d) = downloader {
        if let Err(e) = d.work(mode) {
            tracing::error!("package deployment: {e}");
        }
        for o in d.outcomes() {
            tracing::info!(package = o.id, status = o.code, sent = o.sent, "package");
        }
    }
}

/// One run, with the download work going on as `mode` says and stopping early when `stop`
/// is set (the daemon's signal flag).
pub fn run_with(
    cfg: &Config,
    ctx: &Context,
    mode: Mode,
    stop: Option<&AtomicBool>,
) -> Result<Report, Error> {
    let server_mode = cfg.server.is_some() && !cfg.stdout && cfg.local.is_none();
    if !server_mode && !cfg.stdout && cfg.local.is_none() && !cfg.xml {
        return Err(Error::Config(
            "no server configured: give --server URL (or server = \"…\" in the configuration file), or use --local DIR or --stdout".into(),
        ));
    }
    let client = if server_mode || cfg.test {
        Some(Client::new(cfg.transport.clone())?)
    } else {
        None
    };
    let (mut state, persist) = load_state(cfg, server_mode)?;
    let now = ctx.now.unix_timestamp();
    if cfg.lazy && server_mode {
        if let (Some(last), Some(freq)) = (state.last_contact, state.prolog_freq) {
            if now < last + i64::from(freq) * 3600 {
                return Ok(Report::Skipped);
            }
        }
    }
    let (hostname, macs) = identity(ctx);
    let deviceid = state.ensure_deviceid(&hostname, &macs, ctx.now);

    if cfg.test {
        let Some(client) = &client else {
            return Err(Error::Config("--test needs a server (--server URL)".into()));
        };
        let reply = client.prolog(&deviceid)?;
        save_state(cfg, &state, persist, false)?;
        return Ok(Report::Tested(format!(
            "OK: {} answered the PROLOG of {deviceid}: {}, PROLOG_FREQ {} h",
            client.url(),
            if reply.response == PrologResponse::Send {
                "inventory due (SEND)"
            } else {
                "no inventory due (STOP)"
            },
            reply.prolog_freq
        )));
    }

    if let (Some(client), Some(wait)) = (&client, cfg.wait) {
        let secs = rand::thread_rng().gen_range(0..=wait.as_secs());
        tracing::info!(
            seconds = secs,
            url = client.url(),
            "waiting before contacting the server"
        );
        std::thread::sleep(Duration::from_secs(secs));
    }

    let mut downloader = None;
    let mut prolog = None;
    if let Some(client) = client.as_ref().filter(|_| server_mode) {
        let reply = client.prolog(&deviceid)?;
        state.last_contact = Some(now);
        if reply.prolog_freq > 0 {
            state.prolog_freq = u32::try_from(reply.prolog_freq).ok();
        }
        let mut d = Downloader::new(client, &deviceid, &cfg.state_dir);
        if let Some(stop) = stop {
            d = d.with_stop(stop);
        }
        if let Err(e) = d.prepare(download::config::from_reply(&reply)) {
            tracing::error!("package deployment: {e}");
        }
        downloader = Some(d);
        // An elected machine is always told SEND, so a STOP never carries a scan order.
        if reply.response == PrologResponse::Stop && !cfg.force && cfg.ipdisc.is_none() {
            save_state(cfg, &state, persist, true)?;
            deploy(downloader.as_mut(), mode);
            return Ok(Report::Stopped {
                url: client.url().to_owned(),
                prolog_freq: reply.prolog_freq,
            });
        }
        prolog = Some(reply);
    }

    let mut sections = collect(ctx, cfg);
    let ipdiscover = ipdiscover::order(prolog.as_ref(), cfg.ipdisc, cfg.ipdisc_latency)
        .and_then(|order| ipdiscover::run(ctx, &order));
    // Plugin rows stay out of the digests: their sections have no CHECKSUM bit to set.
    let plugin_rows = plugins::run_all(&cfg.plugins);
    let digests = inventory::digests(&sections);
    let checksum = inventory::checksum(&digests, &state.digests);
    let extras = Extras {
        accountinfo: accountinfo(&state, cfg.tag.as_deref()),
        old_deviceid: state.old_deviceid.clone(),
        download_history: downloader.as_ref().map(Downloader::history),
        ipdiscover,
        plugins: plugin_rows,
    };
    let xml = inventory::to_xml(&deviceid, &sections, checksum, &extras);

    if cfg.stdout {
        save_state(cfg, &state, persist, false)?;
        let mut out = std::io::stdout().lock();
        out.write_all(xml.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Error::Write {
                path: "standard output".into(),
                source: e,
            })?;
        return Ok(Report::Printed);
    }
    if let Some(dir) = &cfg.local {
        save_state(cfg, &state, persist, false)?;
        let path = dir.join(format!("{deviceid}.ocs"));
        let body = if cfg.xml {
            xml.into_bytes()
        } else {
            encode_body(xml.as_bytes(), BodyEncoding::Zlib)
        };
        write_file(&path, &body)?;
        return Ok(Report::Written(path));
    }
    if cfg.xml {
        let path = PathBuf::from(format!("{deviceid}.xml"));
        write_file(&path, xml.as_bytes())?;
        if !server_mode {
            save_state(cfg, &state, persist, false)?;
            return Ok(Report::Written(path));
        }
    }
    let Some(client) = client.as_ref() else {
        return Err(Error::Config("no server configured".into()));
    };
    let reply = match client.inventory(&xml) {
        Ok(reply) => reply,
        Err(e) => {
            // The server took the PROLOG: packages it offered are deployed all the same.
            deploy(downloader.as_mut(), mode);
            return Err(e);
        }
    };
    let account_update = match reply {
        InventoryReply::AccountUpdate(entries) => {
            state.accountinfo = entries
                .into_iter()
                .map(|(key, value)| AccountEntry { key, value })
                .collect();
            true
        }
        InventoryReply::NoAccountUpdate => false,
    };
    // The server has it all now: this is the state the next CHECKSUM compares with.
    state.digests = digests;
    state.old_deviceid = None;
    state.last_inventory = Some(now);
    save_state(cfg, &state, persist, true)?;
    deploy(downloader.as_mut(), mode);
    sections.retain(|s| !s.rows.is_empty());
    let plugin_sections: std::collections::BTreeSet<&str> =
        extras.plugins.iter().map(|r| r.section.as_str()).collect();
    Ok(Report::Sent {
        url: client.url().to_owned(),
        checksum,
        account_update,
        sections: sections.len() + plugin_sections.len(),
        rows: sections.iter().map(|s| s.rows.len()).sum::<usize>() + extras.plugins.len(),
    })
}

fn write_file(path: &std::path::Path, body: &[u8]) -> Result<(), Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::Write {
            path: parent.to_owned(),
            source: e,
        })?;
    }
    std::fs::write(path, body).map_err(|e| Error::Write {
        path: path.to_owned(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::machine;
    use clap::Parser;

    fn config(args: &[&str], state: &std::path::Path) -> Config {
        let mut argv = vec!["ocs-agent"];
        argv.extend_from_slice(args);
        let cli = crate::cli::Cli::try_parse_from(argv).unwrap();
        let mut c = Config::merge(&cli.options, crate::config::ConfigFile::default());
        c.state_dir = state.to_owned();
        // Never the plugins of the machine running the tests.
        c.plugins.dir = state.join("no-plugins");
        c
    }

    #[test]
    fn local_mode_writes_a_compressed_ocs_file_and_keeps_the_deviceid() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let cfg = config(
            &["--local", out.to_str().unwrap()],
            &dir.path().join("state"),
        );
        let ctx = machine("vm-debian12", true);
        let Report::Written(path) = run_once(&cfg, &ctx).unwrap() else {
            panic!("not written")
        };
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("vm-") && name.ends_with(".ocs"), "{name}");
        let body = std::fs::read(&path).unwrap();
        assert_eq!(&body[..2], &[0x78, 0x9c]);
        // Read as the server reads it: zlib only, one call to a typed request.
        let limits = ocs_proto::ReadLimits::new(ocs_proto::DecodeLimits {
            max_inflated_bytes: 1 << 24,
            try_others: false,
        });
        let read = ocs_proto::read_request(&body, &limits).unwrap();
        let ocs_proto::Request::Inventory {
            inventory: Ok(inv), ..
        } = read.request
        else {
            panic!("not an inventory: {:?}", read.request)
        };
        assert_eq!(
            inv.checksum,
            Some(ocs_proto::catalogue::ALL_SECTIONS_CHANGED)
        );
        assert!(inv.softwares.is_some());
        // The DEVICEID is kept; local runs do not touch the acknowledged digests.
        let state = State::load(&dir.path().join("state")).unwrap();
        assert_eq!(
            state.deviceid.as_deref(),
            Some(name.trim_end_matches(".ocs"))
        );
        assert!(state.digests.is_empty());
        let Report::Written(again) = run_once(&cfg, &ctx).unwrap() else {
            panic!("not written")
        };
        assert_eq!(again, path);
    }

    #[test]
    fn xml_flag_writes_plain_xml_and_nosoft_drops_software() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let cfg = config(
            &[
                "--local",
                out.to_str().unwrap(),
                "--xml",
                "--nosoft",
                "--tag",
                "PARIS",
            ],
            &dir.path().join("state"),
        );
        let Report::Written(path) = run_once(&cfg, &machine("vm-debian12", true)).unwrap() else {
            panic!("not written")
        };
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<REQUEST>"));
        assert!(!text.contains("<SOFTWARES>"));
        assert!(text.contains("<KEYNAME>TAG</KEYNAME>\n      <KEYVALUE>PARIS</KEYVALUE>"));
    }

    #[test]
    fn plugin_sections_go_into_the_written_inventory_without_touching_checksum() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut cfg = config(
            &["--local", out.to_str().unwrap(), "--xml"],
            &dir.path().join("state"),
        );
        let plugins = dir.path().join("plugins");
        std::fs::create_dir(&plugins).unwrap();
        let p = plugins.join("raid");
        std::fs::write(
            &p,
            "#!/bin/sh\necho '<RAID_ARRAYS><NAME>md0</NAME><STATE>clean</STATE></RAID_ARRAYS>'\n",
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        cfg.plugins.dir = plugins;
        let Report::Written(path) = run_once(&cfg, &machine("vm-debian12", true)).unwrap() else {
            panic!("not written")
        };
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.contains("    <RAID_ARRAYS>\n      <NAME>md0</NAME>\n      <STATE>clean</STATE>\n    </RAID_ARRAYS>\n  </CONTENT>"),
            "{text}"
        );
        let req = ocs_proto::request::parse_request(text.as_bytes()).unwrap();
        let inv = ocs_proto::Inventory::from_request(&req).unwrap();
        assert_eq!(
            inv.checksum,
            Some(ocs_proto::catalogue::ALL_SECTIONS_CHANGED)
        );
    }

    #[test]
    fn no_destination_is_a_configuration_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = run_once(&config(&[], dir.path()), &machine("vm-debian12", true)).unwrap_err();
        assert!(matches!(err, Error::Config(_)));
        assert!(err.to_string().contains("--server"));
    }

    #[test]
    fn tag_overrides_the_stored_one() {
        let s = State {
            accountinfo: vec![
                AccountEntry {
                    key: "TAG".into(),
                    value: "NA".into(),
                },
                AccountEntry {
                    key: "fields_3".into(),
                    value: "x".into(),
                },
            ],
            ..State::default()
        };
        let a = accountinfo(&s, Some("LYON"));
        assert_eq!(a[0].value, "LYON");
        assert_eq!(a.len(), 2);
        assert_eq!(accountinfo(&State::default(), Some("P"))[0].key, "TAG");
        assert!(accountinfo(&State::default(), None).is_empty());
    }
}
