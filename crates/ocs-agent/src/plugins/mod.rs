//! Plugins: executables in the plugins directory that print inventory sections of their own
//! (`<FAILED_UNITS>…</FAILED_UNITS>`), which go into the INVENTORY after the built-in
//! sections. `discover` picks the files to run, `exec` runs one with a time and an output
//! limit, `parse` reads and checks what it printed.
//!
//! A plugin never breaks the inventory: one that cannot start, times out, fails, prints too
//! much, prints something that is not a valid fragment or uses a built-in section's name is
//! left out with a warning naming it and the reason, and the others go on. Plugin sections
//! have no CHECKSUM bit and no digest: the server takes them whenever they are present.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod discover;
pub mod exec;
pub mod parse;

pub use parse::PluginRow;

/// Where plugins are looked for when the configuration does not say.
pub const DEFAULT_DIR: &str = "/etc/ocs-agent/plugins";
/// Time one plugin may take, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes a plugin may print.
pub const MAX_OUTPUT: usize = 1 << 20;
/// Most lines of a plugin's standard error that are logged.
const MAX_STDERR_LINES: usize = 20;

/// Why a plugin (or the whole plugins directory) was left out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The plugins directory exists but cannot be listed.
    #[error("cannot list the plugins directory: {0}")]
    Directory(String),
    /// Anyone may write the plugins directory, so any user could add a plugin.
    #[error(
        "refused: anyone may write the plugins directory (chmod o-w to allow it); no plugin runs"
    )]
    WorldWritableDirectory,
    /// The plugin could not be started.
    #[error("cannot start it: {0}")]
    Start(String),
    /// The time limit passed.
    #[error("still running after {} s: killed", .0.as_secs_f64())]
    TimedOut(Duration),
    /// A non-zero exit or a signal.
    #[error("failed ({0})")]
    Failed(String),
    /// More output than the limit.
    #[error("printed more than {limit} bytes: killed")]
    TooMuchOutput {
        /// The limit.
        limit: usize,
    },
    /// Output that is not UTF-8.
    #[error("its output is not UTF-8: {0}")]
    NotUtf8(String),
    /// Output that is not a well-formed fragment of elements.
    #[error("its output is not valid XML: {0}")]
    InvalidXml(String),
    /// A section or field name outside `[A-Z][A-Z0-9_]*`.
    #[error("invalid element name {0:?} (section and field names are upper-case ASCII letters, digits and _, starting with a letter)")]
    InvalidName(String),
    /// A section the agent writes itself or the server reads specially.
    #[error(
        "section {0} is one of the agent's built-in sections; plugins must use their own names"
    )]
    BuiltinSection(String),
    /// A section that is not a flat list of scalar fields.
    #[error("section {section} is not a flat list of fields: {detail}")]
    NotFlat {
        /// The section.
        section: String,
        /// What is wrong.
        detail: String,
    },
    /// Too many rows.
    #[error("printed more than {limit} rows")]
    TooManyRows {
        /// The limit.
        limit: usize,
    },
    /// Too many fields in one row.
    #[error("a row of {section} has more than {limit} fields")]
    TooManyFields {
        /// The section.
        section: String,
        /// The limit.
        limit: usize,
    },
    /// A value longer than the limit.
    #[error("a value is longer than {limit} bytes")]
    ValueTooLong {
        /// The limit.
        limit: usize,
    },
}

/// Where plugins are and how long each may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The plugins directory.
    pub dir: PathBuf,
    /// Time limit of one plugin.
    pub timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dir: PathBuf::from(DEFAULT_DIR),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Runs one plugin and reads its rows; its standard error is logged either way.
pub fn run_one(path: &Path, timeout: Duration) -> Result<Vec<PluginRow>, PluginError> {
    let plugin = name_of(path);
    let limits = exec::Limits {
        timeout,
        max_output: MAX_OUTPUT,
    };
    let ran = exec::run(path, limits).map_err(|e| PluginError::Start(e.to_string()))?;
    let stderr = String::from_utf8_lossy(&ran.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    for line in lines.iter().take(MAX_STDERR_LINES) {
        tracing::warn!(plugin = %plugin, "stderr: {line}");
    }
    if lines.len() > MAX_STDERR_LINES {
        tracing::warn!(
            plugin = %plugin,
            "stderr: {} more lines not logged",
            lines.len() - MAX_STDERR_LINES
        );
    }
    match ran.end {
        exec::End::TimedOut => return Err(PluginError::TimedOut(timeout)),
        exec::End::TooMuchOutput => return Err(PluginError::TooMuchOutput { limit: MAX_OUTPUT }),
        exec::End::Exited(status) if !status.success() => {
            return Err(PluginError::Failed(status.to_string()))
        }
        exec::End::Exited(_) => {}
    }
    let rows = parse::parse(&ran.stdout, MAX_OUTPUT)?;
    tracing::info!(
        plugin = %plugin,
        rows = rows.len(),
        elapsed_ms = ran.elapsed.as_millis() as u64,
        "plugin ran"
    );
    Ok(rows)
}

/// Runs every plugin of the directory in name order and returns their rows, plugin after
/// plugin. Failures are logged and leave only that plugin out.
pub fn run_all(settings: &Settings) -> Vec<PluginRow> {
    let dir = &settings.dir;
    let found = match discover::discover(dir) {
        Ok(Some(found)) => found,
        Ok(None) => {
            tracing::debug!(dir = %dir.display(), "no plugins directory");
            return Vec::new();
        }
        Err(e) => {
            tracing::warn!(dir = %dir.display(), "plugins left out: {e}");
            return Vec::new();
        }
    };
    for (path, reason) in &found.skipped {
        if reason.is_warning() {
            tracing::warn!(plugin = %name_of(path), dir = %dir.display(), "plugin not run: {reason}");
        } else {
            tracing::debug!(plugin = %name_of(path), "plugin not run: {reason}");
        }
    }
    let mut rows = Vec::new();
    for path in &found.run {
        match run_one(path, settings.timeout) {
            Ok(mut more) => rows.append(&mut more),
            Err(e) => tracing::warn!(
                plugin = %name_of(path),
                dir = %dir.display(),
                "plugin left out of the inventory: {e}"
            ),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, name: &str, body: &str) {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn good_plugins_add_rows_and_bad_ones_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        script(
            d,
            "10-good",
            "echo '<DISKS_HEALTH><DEV>sda</DEV><OK>1</OK></DISKS_HEALTH>'",
        );
        script(d, "20-fails", "echo '<A><X>1</X></A>'; exit 1");
        script(d, "30-builtin", "echo '<BIOS><X>1</X></BIOS>'");
        script(d, "40-garbage", "echo 'not xml at all'");
        script(d, "50-slow", "sleep 10");
        script(d, "60-good", "echo '<B><Y>2</Y></B><B><Y>3</Y></B>'");
        let settings = Settings {
            dir: d.to_owned(),
            timeout: Duration::from_millis(500),
        };
        let rows = run_all(&settings);
        let got: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.section.as_str(), r.fields[0].1.as_str()))
            .collect();
        assert_eq!(got, vec![("DISKS_HEALTH", "sda"), ("B", "2"), ("B", "3")]);
        assert_eq!(
            run_one(&d.join("20-fails"), settings.timeout).unwrap_err(),
            PluginError::Failed("exit status: 1".into())
        );
        assert_eq!(
            run_one(&d.join("50-slow"), settings.timeout).unwrap_err(),
            PluginError::TimedOut(settings.timeout)
        );
        assert!(run_all(&Settings {
            dir: d.join("none"),
            ..settings
        })
        .is_empty());
    }
}
