//! What the agent remembers between runs, in one TOML file in the state directory
//! (`/var/lib/ocs-agent/state.toml` by default): the DEVICEID and what it was derived from,
//! an OLD_DEVICEID still to be announced, the digest of every section as the server last
//! acknowledged it (for CHECKSUM), the administrative data (TAG and custom fields) the server
//! sent back, and the daemon's schedule.
//!
//! Writes are atomic (temporary file, then rename) so a crash or a full disk never leaves a
//! half-written state that would make the next run pick a new DEVICEID.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Error;

/// The state file's name inside the state directory.
pub const FILE: &str = "state.toml";

/// One administrative data entry (`TAG`, `fields_3`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEntry {
    /// KEYNAME.
    pub key: String,
    /// KEYVALUE.
    pub value: String,
}

/// The persisted state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// `<hostname>-YYYY-MM-DD-hh-mm-ss`, generated once.
    pub deviceid: Option<String>,
    /// The DEVICEID this machine had before a rename or hardware change, sent until a
    /// server acknowledges an inventory carrying it.
    pub old_deviceid: Option<String>,
    /// The short host name the DEVICEID was made for.
    pub hostname: Option<String>,
    /// MAC addresses of the physical interfaces when the DEVICEID was made.
    #[serde(default)]
    pub macs: Vec<String>,
    /// Section digests as of the last inventory the server acknowledged.
    #[serde(default)]
    pub digests: BTreeMap<String, String>,
    /// Administrative data from the last ACCOUNT_UPDATE.
    #[serde(default)]
    pub accountinfo: Vec<AccountEntry>,
    /// PROLOG_FREQ (hours) the server last gave.
    pub prolog_freq: Option<u32>,
    /// Seconds left before the daemon's next contact, a countdown that survives restarts
    /// (the Windows service's TTO_WAIT): time while the agent is stopped does not count, so
    /// machines that all boot at 8 am do not all call the server at once.
    pub tto_wait: Option<u64>,
    /// When the server was last contacted (Unix time), for `--lazy`.
    pub last_contact: Option<i64>,
    /// When the last inventory was acknowledged (Unix time).
    pub last_inventory: Option<i64>,
}

impl State {
    /// Loads the state; a missing file is a fresh state.
    pub fn load(dir: &Path) -> Result<State, Error> {
        let path = dir.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| Error::State {
                path,
                detail: format!(
                    "unreadable ({e}); move it away to start afresh with a new DEVICEID"
                ),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(Error::State {
                path,
                detail: e.to_string(),
            }),
        }
    }

    /// Saves the state atomically, creating the directory if needed.
    pub fn save(&self, dir: &Path) -> Result<(), Error> {
        let err = |path: PathBuf, e: &dyn std::fmt::Display| Error::State {
            path,
            detail: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| err(dir.to_owned(), &e))?;
        let text = toml::to_string(self).map_err(|e| err(dir.join(FILE), &e))?;
        let tmp = dir.join(format!("{FILE}.tmp"));
        let mut f = std::fs::File::create(&tmp).map_err(|e| err(tmp.clone(), &e))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| err(tmp.clone(), &e))?;
        std::fs::rename(&tmp, dir.join(FILE)).map_err(|e| err(dir.join(FILE), &e))
    }

    /// Makes sure there is a DEVICEID for this host, and returns it.
    ///
    /// A new one is made on the first run, when the host name changed (the original agent's
    /// rule), and when none of the physical MAC addresses it was made with is left (a disk
    /// image cloned onto other hardware: two machines must not share one DEVICEID). In the
    /// last two cases the old one becomes OLD_DEVICEID, so the server merges the records, and
    /// the section digests are dropped so that the next inventory is complete.
    pub fn ensure_deviceid(
        &mut self,
        hostname: &str,
        macs: &[String],
        now: OffsetDateTime,
    ) -> String {
        let renamed = self.hostname.as_deref().is_some_and(|h| h != hostname)
            || self
                .deviceid
                .as_deref()
                .is_some_and(|d| !d.starts_with(&format!("{hostname}-")));
        let moved = !self.macs.is_empty()
            && !macs.is_empty()
            && !self.macs.iter().any(|m| macs.contains(m));
        match &self.deviceid {
            Some(id) if !renamed && !moved => {
                if self.macs.is_empty() {
                    self.macs = macs.to_vec();
                }
                if self.hostname.is_none() {
                    self.hostname = Some(hostname.to_owned());
                }
                id.clone()
            }
            previous => {
                if let Some(old) = previous {
                    tracing::info!(old = %old, renamed, moved, "new DEVICEID; the old one is sent as OLD_DEVICEID");
                    self.old_deviceid = Some(old.clone());
                    self.digests.clear();
                }
                let id = deviceid(hostname, now);
                self.deviceid = Some(id.clone());
                self.hostname = Some(hostname.to_owned());
                self.macs = macs.to_vec();
                id
            }
        }
    }

    /// The TAG currently held, if any.
    pub fn tag(&self) -> Option<&str> {
        self.accountinfo
            .iter()
            .find(|e| e.key == "TAG")
            .map(|e| e.value.as_str())
    }
}

/// `<hostname>-YYYY-MM-DD-hh-mm-ss` in local time, the format every OCS agent uses and the
/// server checks.
pub fn deviceid(hostname: &str, now: OffsetDateTime) -> String {
    format!(
        "{hostname}-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    #[test]
    fn deviceid_format_passes_the_server_check() {
        let id = deviceid("web01", t(1_709_630_000));
        assert_eq!(id, "web01-2024-03-05-09-13-20");
        assert!(ocs_proto::deviceid::is_valid(&id));
    }

    #[test]
    fn deviceid_is_kept_then_renewed_on_rename_or_new_hardware() {
        let macs = vec![
            "aa:bb:cc:dd:ee:01".to_owned(),
            "aa:bb:cc:dd:ee:02".to_owned(),
        ];
        let mut s = State::default();
        let first = s.ensure_deviceid("web01", &macs, t(1_700_000_000));
        assert_eq!(s.old_deviceid, None);
        s.digests.insert("CPUS".into(), "x".into());
        // Same host, one NIC replaced: same device.
        let again = s.ensure_deviceid("web01", &macs[1..], t(1_700_000_100));
        assert_eq!(again, first);
        assert!(!s.digests.is_empty());
        // Renamed: new DEVICEID, old one announced, digests dropped.
        let renamed = s.ensure_deviceid("web02", &macs, t(1_700_000_200));
        assert_ne!(renamed, first);
        assert!(renamed.starts_with("web02-"));
        assert_eq!(s.old_deviceid.as_deref(), Some(first.as_str()));
        assert!(s.digests.is_empty());
        // Cloned onto other hardware: every MAC differs.
        let cloned =
            s.ensure_deviceid("web02", &["11:22:33:44:55:66".to_owned()], t(1_700_000_300));
        assert_ne!(cloned, renamed);
        assert_eq!(s.old_deviceid.as_deref(), Some(renamed.as_str()));
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(State::load(dir.path()).unwrap(), State::default());
        let mut s = State::default();
        s.ensure_deviceid("pc", &[], t(0));
        s.accountinfo.push(AccountEntry {
            key: "TAG".into(),
            value: "PARIS".into(),
        });
        s.digests.insert("BIOS".into(), "abc".into());
        s.prolog_freq = Some(24);
        s.save(&dir.path().join("sub")).unwrap();
        let back = State::load(&dir.path().join("sub")).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.tag(), Some("PARIS"));
        std::fs::write(dir.path().join("sub").join(FILE), "deviceid = [").unwrap();
        assert!(matches!(
            State::load(&dir.path().join("sub")),
            Err(Error::State { .. })
        ));
    }
}
