//! Finding the plugins to run in the plugins directory, with the rules cron applies to its
//! directories: only regular executable files (symbolic links are followed), in name order;
//! editor backups, package manager leftovers and `.disabled` files are left alone; a file or
//! a directory anyone may write to is refused, since whoever can write it could run code as
//! the agent (usually root). Nothing is run here.

use std::fs::Metadata;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::PluginError;

/// Why a directory entry is not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// A hidden file, a backup (`~`), a package manager leftover (`.dpkg-old`, `.rpmnew`…)
    /// or a file disabled on purpose (`.disabled`).
    IgnoredName,
    /// A directory.
    Directory,
    /// Not a regular file (FIFO, socket, device).
    NotRegular,
    /// No execute bit.
    NotExecutable,
    /// Anyone may write the file.
    WorldWritable,
    /// Its metadata cannot be read (a dangling symbolic link, no permission).
    Unreadable(String),
}

impl Skip {
    /// Whether the operator should hear about it: a refused or broken file is a warning,
    /// a file left out by its name or kind is only debug detail.
    pub fn is_warning(&self) -> bool {
        matches!(self, Skip::WorldWritable | Skip::Unreadable(_))
    }
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::IgnoredName => {
                f.write_str("ignored name (hidden, backup, package leftover or .disabled)")
            }
            Skip::Directory => f.write_str("a directory"),
            Skip::NotRegular => f.write_str("not a regular file"),
            Skip::NotExecutable => f.write_str("not executable (chmod +x to enable it)"),
            Skip::WorldWritable => {
                f.write_str("refused: anyone may write it (chmod o-w to allow it)")
            }
            Skip::Unreadable(e) => write!(f, "cannot read its metadata: {e}"),
        }
    }
}

/// What the plugins directory holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Found {
    /// The plugins to run, in name order.
    pub run: Vec<PathBuf>,
    /// Entries left out, in name order, with the reason.
    pub skipped: Vec<(PathBuf, Skip)>,
}

/// Whether a file name marks a file that must not be run.
pub fn ignored_name(name: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "~",
        ".disabled",
        ".rpmsave",
        ".rpmnew",
        ".rpmorig",
        ".swp",
        ".bak",
    ];
    name.starts_with('.')
        || name.contains(".dpkg-")
        || name.contains(".ucf-")
        || SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// The rule for one entry, from its (followed) metadata.
pub fn skip_reason(meta: &Metadata) -> Option<Skip> {
    let mode = meta.permissions().mode();
    if meta.is_dir() {
        Some(Skip::Directory)
    } else if !meta.is_file() {
        Some(Skip::NotRegular)
    } else if mode & 0o111 == 0 {
        Some(Skip::NotExecutable)
    } else if mode & 0o002 != 0 {
        Some(Skip::WorldWritable)
    } else {
        None
    }
}

/// Lists the plugins of `dir`. `Ok(None)` when the directory does not exist (no plugins
/// installed); an error when it cannot be read or anyone may write it.
pub fn discover(dir: &Path) -> Result<Option<Found>, PluginError> {
    // Plugins run from `/`, so a relative directory (`--plugins-dir plugins`) is made
    // absolute against the agent's own working directory first.
    let dir = &std::path::absolute(dir).map_err(|e| PluginError::Directory(e.to_string()))?;
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PluginError::Directory(e.to_string())),
    };
    if !meta.is_dir() {
        return Err(PluginError::Directory("not a directory".into()));
    }
    if meta.permissions().mode() & 0o002 != 0 {
        return Err(PluginError::WorldWritableDirectory);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| PluginError::Directory(e.to_string()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut found = Found::default();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let skip = if ignored_name(&name) {
            Some(Skip::IgnoredName)
        } else {
            match std::fs::metadata(&path) {
                Ok(meta) => skip_reason(&meta),
                Err(e) => Some(Skip::Unreadable(e.to_string())),
            }
        };
        match skip {
            Some(reason) => found.skipped.push((path, reason)),
            None => found.run.push(path),
        }
    }
    Ok(Some(found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::Permissions;

    fn file(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn names_left_alone() {
        for name in [
            ".hidden",
            "plugin~",
            "plugin.dpkg-old",
            "plugin.dpkg-dist",
            "plugin.disabled",
            "plugin.rpmnew",
            "plugin.ucf-old",
        ] {
            assert!(ignored_name(name), "{name}");
        }
        for name in ["failed-units", "10_disks", "raid.sh", "a.b"] {
            assert!(!ignored_name(name), "{name}");
        }
    }

    #[test]
    fn only_executable_regular_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let b = file(d, "b-second", 0o755);
        let a = file(d, "a-first", 0o700);
        file(d, "c-readme", 0o644);
        file(d, "d-open", 0o757);
        file(d, "e~", 0o755);
        file(d, "f.disabled", 0o755);
        file(d, "g.dpkg-new", 0o755);
        std::fs::create_dir(d.join("h-dir")).unwrap();
        std::os::unix::fs::symlink(&a, d.join("i-link")).unwrap();
        std::os::unix::fs::symlink(d.join("nowhere"), d.join("j-dangling")).unwrap();
        let found = discover(d).unwrap().unwrap();
        assert_eq!(found.run, vec![a, b, d.join("i-link")]);
        let reasons: Vec<(String, Skip)> = found
            .skipped
            .iter()
            .map(|(p, s)| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    s.clone(),
                )
            })
            .collect();
        assert_eq!(reasons[0], ("c-readme".into(), Skip::NotExecutable));
        assert_eq!(reasons[1], ("d-open".into(), Skip::WorldWritable));
        assert_eq!(reasons[2], ("e~".into(), Skip::IgnoredName));
        assert_eq!(reasons[3], ("f.disabled".into(), Skip::IgnoredName));
        assert_eq!(reasons[4], ("g.dpkg-new".into(), Skip::IgnoredName));
        assert_eq!(reasons[5], ("h-dir".into(), Skip::Directory));
        assert_eq!(reasons[6].0, "j-dangling");
        assert!(matches!(reasons[6].1, Skip::Unreadable(_)));
        assert!(reasons[1].1.is_warning() && reasons[6].1.is_warning());
        assert!(!reasons[0].1.is_warning());
    }

    #[test]
    fn missing_world_writable_and_non_directories() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(discover(&dir.path().join("none")).unwrap(), None);
        let cwd_relative = discover(Path::new("src/plugins")).unwrap().unwrap();
        assert!(cwd_relative.skipped.iter().all(|(p, _)| p.is_absolute()));
        let f = file(dir.path(), "plain", 0o755);
        assert!(matches!(discover(&f), Err(PluginError::Directory(_))));
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        file(&open, "p", 0o755);
        std::fs::set_permissions(&open, Permissions::from_mode(0o777)).unwrap();
        assert_eq!(
            discover(&open).unwrap_err(),
            PluginError::WorldWritableDirectory
        );
    }
}
