//! Collectors: one module per inventory section. Each module has pure parsers of captured
//! text (a `/proc` file, a sysfs attribute, `dmidecode` output, the dpkg status file) and one
//! thin `collect` function that reads the real files through a [`Context`].
//!
//! The context hides where files come from: the live machine (`/`), or a captured copy of
//! one (`testdata/<machine>/`), so the same `collect` functions run in tests. It also caches
//! the sources several sections share (SMBIOS tables, the PCI device list) and records which
//! sources needed root, so an unprivileged run can say what it left out.
//!
//! A collector never panics and never aborts the inventory: it returns an error, which
//! [`collect_all`] logs before going on with the next section.

use std::cell::{OnceCell, RefCell};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use time::{OffsetDateTime, UtcOffset};

use crate::error::Error;
use crate::pci::{PciDevice, PciIds};
use crate::smbios::Smbios;

pub mod batteries;
pub mod bios;
pub mod controllers;
pub mod cpus;
pub mod drives;
pub mod hardware;
pub mod inputs;
pub mod local_groups;
pub mod local_users;
pub mod memories;
pub mod modems;
pub mod monitors;
pub mod networks;
pub mod ports;
pub mod printers;
pub mod repository;
pub mod slots;
pub mod softwares;
pub mod sounds;
pub mod storages;
pub mod usbdevices;
pub mod videos;
pub mod virtualmachines;

/// One row of a section: `(FIELD, value)` pairs. Empty values are never stored, so "filled
/// fields" is simply the length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row(Vec<(&'static str, String)>);

impl Row {
    /// An empty row.
    pub fn new() -> Row {
        Row(Vec::new())
    }

    /// Sets a field; blank values are ignored and a field set twice keeps the last value.
    pub fn set(&mut self, field: &'static str, value: impl Into<String>) -> &mut Row {
        let value = value.into();
        let value = value.trim();
        if value.is_empty() {
            return self;
        }
        match self.0.iter_mut().find(|(k, _)| *k == field) {
            Some(slot) => slot.1 = value.to_owned(),
            None => self.0.push((field, value.to_owned())),
        }
        self
    }

    /// Sets a field when there is a value.
    pub fn set_opt<S: Into<String>>(&mut self, field: &'static str, value: Option<S>) -> &mut Row {
        if let Some(v) = value {
            self.set(field, v);
        }
        self
    }

    /// Sets a field only if it is not set yet.
    pub fn set_default(&mut self, field: &'static str, value: impl Into<String>) -> &mut Row {
        if self.get(field).is_none() {
            self.set(field, value);
        }
        self
    }

    /// Removes a field.
    pub fn remove(&mut self, field: &str) {
        self.0.retain(|(k, _)| *k != field);
    }

    /// A field's value.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| *k == field)
            .map(|(_, v)| v.as_str())
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of filled fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The fields sorted by name, the order the Unix agent writes them in.
    pub fn sorted(&self) -> Vec<(&'static str, &str)> {
        let mut fields: Vec<(&'static str, &str)> =
            self.0.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fields.sort_by(|a, b| a.0.cmp(b.0));
        fields
    }
}

/// The rows collected for one section.
#[derive(Debug, Clone)]
pub struct Section {
    /// The XML element (`CPUS`).
    pub element: &'static str,
    /// Its rows.
    pub rows: Vec<Row>,
}

/// What one collector produced, and whether it worked.
#[derive(Debug)]
pub struct Outcome {
    /// The section.
    pub element: &'static str,
    /// How many rows.
    pub rows: usize,
    /// The error, when the collector failed.
    pub error: Option<String>,
    /// How long it took.
    pub elapsed: Duration,
}

/// A collector: the section it fills and the function that fills it.
pub struct Collector {
    /// The XML element it produces.
    pub element: &'static str,
    /// Reads the machine.
    pub collect: fn(&Context) -> Result<Vec<Row>, Error>,
}

/// Every collector except HARDWARE (which summarises the others and runs last), in the
/// order the Unix agent writes sections (alphabetical).
pub static COLLECTORS: &[Collector] = &[
    Collector {
        element: "BATTERIES",
        collect: batteries::collect,
    },
    Collector {
        element: "BIOS",
        collect: bios::collect,
    },
    Collector {
        element: "CONTROLLERS",
        collect: controllers::collect,
    },
    Collector {
        element: "CPUS",
        collect: cpus::collect,
    },
    Collector {
        element: "DRIVES",
        collect: drives::collect,
    },
    Collector {
        element: "INPUTS",
        collect: inputs::collect,
    },
    Collector {
        element: "LOCAL_GROUPS",
        collect: local_groups::collect,
    },
    Collector {
        element: "LOCAL_USERS",
        collect: local_users::collect,
    },
    Collector {
        element: "MEMORIES",
        collect: memories::collect,
    },
    Collector {
        element: "MODEMS",
        collect: modems::collect,
    },
    Collector {
        element: "MONITORS",
        collect: monitors::collect,
    },
    Collector {
        element: "NETWORKS",
        collect: networks::collect,
    },
    Collector {
        element: "PORTS",
        collect: ports::collect,
    },
    Collector {
        element: "PRINTERS",
        collect: printers::collect,
    },
    Collector {
        element: "REPOSITORY",
        collect: repository::collect,
    },
    Collector {
        element: "SLOTS",
        collect: slots::collect,
    },
    Collector {
        element: "SOFTWARES",
        collect: softwares::collect,
    },
    Collector {
        element: "SOUNDS",
        collect: sounds::collect,
    },
    Collector {
        element: "STORAGES",
        collect: storages::collect,
    },
    Collector {
        element: "USBDEVICES",
        collect: usbdevices::collect,
    },
    Collector {
        element: "VIDEOS",
        collect: videos::collect,
    },
    Collector {
        element: "VIRTUALMACHINES",
        collect: virtualmachines::collect,
    },
];

/// Where the machine's files come from.
#[derive(Debug, Clone)]
enum Origin {
    /// The running machine: files under `/`, commands are run, addresses come from netlink.
    Live,
    /// A captured copy: files under this folder, command output from `cmd/<program>.txt`,
    /// addresses from `cmd/netlink-getaddr.bin`.
    Captured(PathBuf),
}

/// What collectors read the machine through.
pub struct Context {
    origin: Origin,
    /// Whether the agent runs as root (more detail: SMBIOS, serial numbers, CUPS).
    pub privileged: bool,
    /// The time of this run, in local time.
    pub now: OffsetDateTime,
    /// The local UTC offset, for dates shown to people (install dates).
    pub offset: UtcOffset,
    /// Longest a helper program may run.
    pub command_timeout: Duration,
    needs_root: RefCell<BTreeSet<String>>,
    smbios: OnceCell<Option<Smbios>>,
    pci: OnceCell<Vec<PciDevice>>,
    pci_ids: OnceCell<Option<PciIds>>,
}

impl Context {
    /// Reads the running machine.
    pub fn live(privileged: bool, now: OffsetDateTime) -> Context {
        Context::new(Origin::Live, privileged, now)
    }

    /// Reads a captured machine folder (see `scripts/capture-machine.py`). `privileged`
    /// says whether to behave as root would.
    pub fn captured(dir: impl Into<PathBuf>, privileged: bool) -> Context {
        // A fixed clock keeps tests repeatable.
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Context::new(Origin::Captured(dir.into()), privileged, now)
    }

    fn new(origin: Origin, privileged: bool, now: OffsetDateTime) -> Context {
        Context {
            origin,
            privileged,
            offset: now.offset(),
            now,
            command_timeout: Duration::from_secs(30),
            needs_root: RefCell::new(BTreeSet::new()),
            smbios: OnceCell::new(),
            pci: OnceCell::new(),
            pci_ids: OnceCell::new(),
        }
    }

    /// Whether this is the running machine.
    pub fn is_live(&self) -> bool {
        matches!(self.origin, Origin::Live)
    }

    /// The machine architecture (`uname -m`); a capture records it in `cmd/uname-m.txt`.
    pub fn arch(&self) -> String {
        match &self.origin {
            Origin::Live => rustix::system::uname()
                .machine()
                .to_string_lossy()
                .into_owned(),
            Origin::Captured(_) => self
                .attr("/cmd/uname-m.txt")
                .unwrap_or_else(|| "unknown".to_owned()),
        }
    }

    /// The real path of a machine path (`/proc/cpuinfo`).
    pub fn path(&self, path: &str) -> PathBuf {
        match &self.origin {
            Origin::Live => PathBuf::from(path),
            Origin::Captured(dir) => dir.join(path.trim_start_matches('/')),
        }
    }

    /// Reads a text file. Invalid UTF-8 is replaced rather than refused: DMI strings and
    /// package descriptions are not always clean.
    pub fn read(&self, path: &str) -> Result<String, Error> {
        let bytes = self.read_bytes(path)?;
        Ok(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Reads a binary file.
    pub fn read_bytes(&self, path: &str) -> Result<Vec<u8>, Error> {
        let real = self.path(path);
        std::fs::read(&real).map_err(|e| {
            let err = Error::read(path, e);
            if matches!(err, Error::NeedsRoot { .. }) {
                self.note_needs_root(path);
            }
            err
        })
    }

    /// Reads a file that may legitimately be missing: `None` when absent or unreadable
    /// (a permission problem is recorded for the unprivileged summary).
    pub fn read_opt(&self, path: &str) -> Option<String> {
        self.read(path).ok()
    }

    /// Reads a one-line sysfs attribute, trimmed; `None` when missing or empty.
    pub fn attr(&self, path: &str) -> Option<String> {
        let v = self.read_opt(path)?;
        let v = v.trim();
        (!v.is_empty()).then(|| v.to_owned())
    }

    /// Whether a path exists.
    pub fn exists(&self, path: &str) -> bool {
        self.path(path).symlink_metadata().is_ok()
    }

    /// The entries of a directory, sorted; empty when it does not exist.
    pub fn list(&self, dir: &str) -> Vec<String> {
        let mut names: Vec<String> = match std::fs::read_dir(self.path(dir)) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Err(e) => {
                if e.kind() == std::io::ErrorKind::PermissionDenied {
                    self.note_needs_root(dir);
                }
                Vec::new()
            }
        };
        names.sort();
        names
    }

    /// The last component of a symbolic link's target (a driver's or a bus's name).
    pub fn link_name(&self, path: &str) -> Option<String> {
        let target = std::fs::read_link(self.path(path)).ok()?;
        target.file_name().map(|n| n.to_string_lossy().into_owned())
    }

    /// A symbolic link's whole target.
    pub fn link_target(&self, path: &str) -> Option<String> {
        std::fs::read_link(self.path(path))
            .ok()
            .map(|t| t.to_string_lossy().into_owned())
    }

    /// The modification time of a file, in local time.
    pub fn mtime(&self, path: &str) -> Option<OffsetDateTime> {
        let modified = std::fs::metadata(self.path(path)).ok()?.modified().ok()?;
        Some(OffsetDateTime::from(modified).to_offset(self.offset))
    }

    /// Runs a helper program and returns its standard output, or `None` when the program
    /// is not installed. On a captured machine, reads `cmd/<program>.txt` instead.
    pub fn command(&self, program: &str, args: &[&str]) -> Option<Result<String, Error>> {
        match &self.origin {
            Origin::Captured(dir) => {
                let file = dir.join("cmd").join(format!("{program}.txt"));
                std::fs::read(&file)
                    .ok()
                    .map(|b| Ok(String::from_utf8_lossy(&b).into_owned()))
            }
            Origin::Live => {
                let exe = find_program(program)?;
                Some(run_with_timeout(&exe, args, self.command_timeout))
            }
        }
    }

    /// Records that a source needed root, for the unprivileged summary.
    pub fn note_needs_root(&self, what: &str) {
        if !self.privileged {
            self.needs_root.borrow_mut().insert(what.to_owned());
        }
    }

    /// The sources that were skipped for lack of privileges.
    pub fn needs_root(&self) -> Vec<String> {
        self.needs_root.borrow().iter().cloned().collect()
    }

    /// The SMBIOS tables: the raw tables when readable (root), else `dmidecode` output,
    /// else the few unprivileged values in `/sys/class/dmi/id`. `None` on machines without
    /// DMI (most ARM boards, some VMs).
    pub fn smbios(&self) -> Option<&Smbios> {
        self.smbios
            .get_or_init(|| crate::smbios::load(self))
            .as_ref()
    }

    /// The rows an SMBIOS decoder gives, or, when there are none (no DMI, or not root),
    /// the rows of a fallback source.
    pub fn smbios_rows_or(
        &self,
        from_smbios: fn(&Smbios) -> Vec<Row>,
        fallback: impl FnOnce(&Context) -> Vec<Row>,
    ) -> Vec<Row> {
        let rows = self.smbios().map(from_smbios).unwrap_or_default();
        if rows.is_empty() {
            fallback(self)
        } else {
            rows
        }
    }

    /// The PCI devices, in bus order.
    pub fn pci_devices(&self) -> &[PciDevice] {
        self.pci.get_or_init(|| crate::pci::devices(self))
    }

    /// Names from the system's `pci.ids`, for the devices present; `None` when the file is
    /// not installed (names then fall back to built-in class names and numeric IDs).
    pub fn pci_ids(&self) -> Option<&PciIds> {
        self.pci_ids
            .get_or_init(|| {
                let vendors: BTreeSet<u16> = self
                    .pci_devices()
                    .iter()
                    .flat_map(|d| [d.vendor, d.subsystem_vendor, storages_virtio_vendor()])
                    .collect();
                crate::pci::load_ids(self, &vendors)
            })
            .as_ref()
    }
}

/// Virtio disks report the virtio vendor ID, whose name the PCI database holds too.
fn storages_virtio_vendor() -> u16 {
    0x1af4
}

/// Looks a program up in the usual system directories (the agent may run from cron or
/// systemd with a minimal PATH).
fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"])
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file());
    found
}

/// Runs a program with a time limit, so one hung helper cannot stall the inventory.
fn run_with_timeout(exe: &Path, args: &[&str], timeout: Duration) -> Result<String, Error> {
    let program = exe.display().to_string();
    let mut child = Command::new(exe)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::Command {
            program: program.clone(),
            detail: e.to_string(),
        })?;
    let mut stdout = child.stdout.take();
    // Read on a helper thread so a chatty program cannot fill the pipe and block.
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut out);
        }
        out
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Command {
                    program,
                    detail: format!("no answer within {} s", timeout.as_secs()),
                });
            }
            Err(e) => {
                return Err(Error::Command {
                    program,
                    detail: e.to_string(),
                })
            }
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(Error::Command {
            program,
            detail: status.to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Options that change what is collected.
#[derive(Debug, Clone, Copy, Default)]
pub struct CollectOptions {
    /// Leave SOFTWARES out (`--nosoft`).
    pub nosoft: bool,
}

/// Runs every collector, then HARDWARE. A failing collector is logged and skipped.
pub fn collect_all(ctx: &Context, options: CollectOptions) -> (Vec<Section>, Vec<Outcome>) {
    let mut sections = Vec::new();
    let mut outcomes = Vec::new();
    for collector in COLLECTORS {
        if options.nosoft && collector.element == "SOFTWARES" {
            continue;
        }
        let started = Instant::now();
        let result = (collector.collect)(ctx);
        let elapsed = started.elapsed();
        match result {
            Ok(rows) => {
                let rows: Vec<Row> = rows.into_iter().filter(|r| !r.is_empty()).collect();
                tracing::debug!(
                    section = collector.element,
                    rows = rows.len(),
                    ?elapsed,
                    "collected"
                );
                outcomes.push(Outcome {
                    element: collector.element,
                    rows: rows.len(),
                    error: None,
                    elapsed,
                });
                if !rows.is_empty() {
                    sections.push(Section {
                        element: collector.element,
                        rows,
                    });
                }
            }
            Err(e) => {
                tracing::warn!(section = collector.element, error = %e, "collector failed; the inventory goes out without this section");
                outcomes.push(Outcome {
                    element: collector.element,
                    rows: 0,
                    error: Some(e.to_string()),
                    elapsed,
                });
            }
        }
    }
    let started = Instant::now();
    let hardware = hardware::collect(ctx, &sections);
    outcomes.push(Outcome {
        element: "HARDWARE",
        rows: 1,
        error: None,
        elapsed: started.elapsed(),
    });
    sections.push(Section {
        element: "HARDWARE",
        rows: vec![hardware],
    });
    sections.sort_by(|a, b| a.element.cmp(b.element));
    (sections, outcomes)
}

/// Values that firmware and drivers use to mean "nothing here", in any case.
pub fn is_placeholder(value: &str) -> bool {
    const PLACEHOLDERS: &[&str] = &[
        "",
        "none",
        "n/a",
        "na",
        "not specified",
        "not available",
        "not present",
        "not provided",
        "not applicable",
        "unknown",
        "default string",
        "to be filled by o.e.m.",
        "to be filled by oem",
        "system product name",
        "system manufacturer",
        "system serial number",
        "system version",
        "base board serial number",
        "chassis serial number",
        "0123456789",
        "oem",
        "o.e.m.",
        "no asset tag",
        "no asset information",
        "asset-1234567890",
        "no module installed",
        "empty",
        "<out of spec>",
        "<bad index>",
        "00000000",
        "0000000000000000",
        "ffffffff",
        "0xffffffff",
        "xxxxxxxxxxxx",
        "1234567890",
        "unspecified",
        "serial",
        "none specified",
    ];
    let v = value.trim().to_ascii_lowercase();
    PLACEHOLDERS.contains(&v.as_str())
        || PLACEHOLDERS.contains(&v.trim_end_matches('.'))
        || v.len() > 3 && v.chars().all(|c| c == '0' || c == 'f' || c == ' ')
}

/// A value unless it is a placeholder.
pub fn clean(value: Option<&str>) -> Option<String> {
    let v = value?.trim();
    (!is_placeholder(v)).then(|| v.to_owned())
}

/// Reads `KEY=value` lines (os-release, uevent files), unquoting values.
pub fn key_values(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let (k, v) = line.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_owned(), v.replace("\\\"", "\"")))
        })
        .collect()
}

/// The value of `key` in `KEY=value` lines.
pub fn key_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Formats a date the way OCS stores install dates: `YYYY/MM/DD hh:mm:ss`.
pub fn ocs_datetime(t: OffsetDateTime) -> String {
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Test helpers shared by the collector tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A captured machine under `testdata/`.
    pub fn machine(name: &str, privileged: bool) -> Context {
        Context::captured(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("testdata")
                .join(name),
            privileged,
        )
    }

    /// The value of a field of a row, for assertions.
    pub fn field<'a>(row: &'a Row, name: &str) -> &'a str {
        row.get(name).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_skip_blanks_and_sort() {
        let mut row = Row::new();
        row.set("NAME", " x ").set("EMPTY", "  ").set("A", "1");
        row.set("NAME", "y");
        assert_eq!(row.sorted(), [("A", "1"), ("NAME", "y")]);
        row.set_default("A", "2");
        assert_eq!(row.get("A"), Some("1"));
    }

    #[test]
    fn placeholders() {
        for p in [
            "To Be Filled By O.E.M.",
            "Not Specified",
            "0000000000",
            "Default string",
            "FFFFFFFF",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for v in ["PF3ABCDE", "Dell Inc.", "R7", "1.2.0", "0"] {
            assert!(!is_placeholder(v), "{v}");
        }
    }

    #[test]
    fn key_value_files() {
        let kv = key_values("NAME=\"Debian GNU/Linux\"\n# c\nID=debian\nX='a b'\n");
        assert_eq!(key_value(&kv, "NAME"), Some("Debian GNU/Linux"));
        assert_eq!(key_value(&kv, "ID"), Some("debian"));
        assert_eq!(key_value(&kv, "X"), Some("a b"));
    }

    #[test]
    fn every_section_has_a_catalogue_entry() {
        for c in COLLECTORS {
            assert!(
                ocs_proto::catalogue::section(c.element).is_some() || c.element == "SOFTWARES",
                "{}",
                c.element
            );
        }
    }

    #[test]
    fn the_captured_vm_inventories_without_errors() {
        let ctx = testing::machine("vm-debian12", true);
        let (sections, outcomes) = collect_all(&ctx, CollectOptions::default());
        for o in &outcomes {
            assert!(o.error.is_none(), "{}: {:?}", o.element, o.error);
        }
        let names: Vec<&str> = sections.iter().map(|s| s.element).collect();
        for expected in [
            "CONTROLLERS",
            "CPUS",
            "DRIVES",
            "HARDWARE",
            "LOCAL_GROUPS",
            "LOCAL_USERS",
            "NETWORKS",
            "REPOSITORY",
            "SOFTWARES",
            "STORAGES",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        assert!(!names.contains(&"BIOS"), "this VM has no DMI data");
    }
}
