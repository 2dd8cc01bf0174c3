//! The deployment state on disk, under `<state dir>/download/`, laid out as the Unix agent
//! lays out `<vardir>/download/`:
//!
//! - `history`: FILEIDs of deployed packages, one per line (sent in every inventory);
//! - `config`: the last `CONF` the server gave (TOML), used when a reply has no DOWNLOAD;
//! - `lock`: held (flock) by the process doing downloads, so two agents never share one;
//! - `<FILEID>/since`: Unix time the package was first seen (for `TIMEOUT`);
//! - `<FILEID>/info`: the info file;
//! - `<FILEID>/task`: the fragments still to fetch, one name per line, rewritten
//!   atomically after each fragment; `task_done` marks it complete;
//! - `<FILEID>/<FILEID>-<n>`: fetched fragments (`.part` while in transit);
//! - `<FILEID>/tmp/`: the assembled archive and what it unpacks to;
//! - `<FILEID>/done`: the package ran; holds the status still to report.
//!
//! A package directory disappears once its result is reported. Nothing here talks to the
//! network or runs anything.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::config::{is_fileid, DownloadConfig};
use crate::error::Error;

/// The `download` directory of a state directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

fn state_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::State {
        path: path.to_owned(),
        detail: e.to_string(),
    }
}

/// Writes a file through a temporary file and a rename, so readers never see half of it.
fn write_atomic(path: &Path, content: &[u8]) -> Result<(), Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".temp");
    let tmp = PathBuf::from(tmp);
    let mut f = File::create(&tmp).map_err(|e| state_err(&tmp, e))?;
    f.write_all(content)
        .and_then(|()| f.sync_all())
        .map_err(|e| state_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| state_err(path, e))
}

impl Store {
    /// The store of a state directory (nothing is created yet).
    pub fn new(state_dir: &Path) -> Store {
        Store {
            root: state_dir.join("download"),
        }
    }

    /// The `download` directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the directory and an empty history if they are missing.
    pub fn ensure(&self) -> Result<(), Error> {
        std::fs::create_dir_all(&self.root).map_err(|e| state_err(&self.root, e))?;
        let history = self.root.join("history");
        if !history.exists() {
            File::create(&history).map_err(|e| state_err(&history, e))?;
        }
        Ok(())
    }

    /// Takes the lock; `None` when another process holds it.
    pub fn lock(&self) -> Result<Option<File>, Error> {
        let path = self.root.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| state_err(&path, e))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(file)),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(state_err(&path, e)),
        }
    }

    /// The FILEIDs in the history, in file order.
    pub fn history(&self) -> Vec<String> {
        std::fs::read_to_string(self.root.join("history"))
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Adds a FILEID to the history unless it is there already.
    pub fn add_to_history(&self, id: &str) -> Result<(), Error> {
        let mut ids = self.history();
        if ids.iter().any(|h| h == id) {
            return Ok(());
        }
        ids.push(id.to_owned());
        let mut text = ids.join("\n");
        text.push('\n');
        write_atomic(&self.root.join("history"), text.as_bytes())
    }

    /// Saves the configuration.
    pub fn save_config(&self, config: &DownloadConfig) -> Result<(), Error> {
        let path = self.root.join("config");
        let text = toml::to_string(config).map_err(|e| state_err(&path, e))?;
        write_atomic(&path, text.as_bytes())
    }

    /// The saved configuration, if any (an unreadable one counts as none).
    pub fn load_config(&self) -> Option<DownloadConfig> {
        let text = std::fs::read_to_string(self.root.join("config")).ok()?;
        toml::from_str(&text).ok()
    }

    /// A package's directory.
    pub fn package_dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// The package directories present, by FILEID.
    pub fn package_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| is_fileid(n))
            .collect();
        ids.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
        ids
    }

    /// Creates a package's directory with its `since` file, unless it exists.
    pub fn create_package(&self, id: &str, now: i64) -> Result<(), Error> {
        let dir = self.package_dir(id);
        if dir.is_dir() {
            return Ok(());
        }
        std::fs::create_dir_all(&dir).map_err(|e| state_err(&dir, e))?;
        write_atomic(&dir.join("since"), now.to_string().as_bytes())
    }

    /// When the package was first seen; `None` if the file is missing or unreadable.
    pub fn since(&self, id: &str) -> Option<i64> {
        std::fs::read_to_string(self.package_dir(id).join("since"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The info file's path.
    pub fn info_path(&self, id: &str) -> PathBuf {
        self.package_dir(id).join("info")
    }

    /// The fragments still to fetch; `None` until the task list was written whole.
    pub fn task(&self, id: &str) -> Option<Vec<String>> {
        let dir = self.package_dir(id);
        if !dir.join("task_done").exists() {
            return None;
        }
        let text = std::fs::read_to_string(dir.join("task")).ok()?;
        Some(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Writes the task list (the first time, also the `task_done` flag).
    pub fn write_task(&self, id: &str, fragments: &[String]) -> Result<(), Error> {
        let dir = self.package_dir(id);
        let mut text = fragments.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        write_atomic(&dir.join("task"), text.as_bytes())?;
        let flag = dir.join("task_done");
        if !flag.exists() {
            File::create(&flag).map_err(|e| state_err(&flag, e))?;
        }
        Ok(())
    }

    /// The status of a package that ran but whose result is not reported yet.
    pub fn done(&self, id: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.package_dir(id).join("done")).ok()?;
        let code = text.trim();
        Some(if code.is_empty() { "SUCCESS" } else { code }.to_owned())
    }

    /// Records that the package ran, with the status to report.
    pub fn mark_done(&self, id: &str, code: &str) -> Result<(), Error> {
        write_atomic(&self.package_dir(id).join("done"), code.as_bytes())
    }

    /// Removes a package's directory.
    pub fn remove(&self, id: &str) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.package_dir(id)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_config_tasks_and_done() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.ensure().unwrap();
        assert!(store.history().is_empty());
        store.add_to_history("12").unwrap();
        store.add_to_history("3").unwrap();
        store.add_to_history("12").unwrap();
        assert_eq!(store.history(), ["12", "3"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("download/history")).unwrap(),
            "12\n3\n"
        );
        assert_eq!(store.load_config(), None);
        let config = DownloadConfig {
            on: true,
            ..DownloadConfig::default()
        };
        store.save_config(&config).unwrap();
        assert_eq!(store.load_config(), Some(config));

        store.create_package("100", 1_700_000_000).unwrap();
        store.create_package("100", 1_800_000_000).unwrap();
        assert_eq!(store.since("100"), Some(1_700_000_000));
        assert_eq!(store.task("100"), None);
        store
            .write_task("100", &["100-1".into(), "100-2".into()])
            .unwrap();
        assert_eq!(store.task("100").unwrap(), ["100-1", "100-2"]);
        store.write_task("100", &[]).unwrap();
        assert_eq!(store.task("100").unwrap(), Vec::<String>::new());
        store.create_package("20", 1).unwrap();
        std::fs::create_dir_all(dir.path().join("download/not-a-package")).unwrap();
        assert_eq!(store.package_ids(), ["20", "100"]);
        assert_eq!(store.done("100"), None);
        store.mark_done("100", "SUCCESS_2").unwrap();
        assert_eq!(store.done("100").as_deref(), Some("SUCCESS_2"));
        store.remove("100").unwrap();
        store.remove("100").unwrap();
        assert_eq!(store.package_ids(), ["20"]);
    }

    #[test]
    fn one_lock_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.ensure().unwrap();
        let held = store.lock().unwrap();
        assert!(held.is_some());
        assert!(store.lock().unwrap().is_none());
        drop(held);
        assert!(store.lock().unwrap().is_some());
    }
}
