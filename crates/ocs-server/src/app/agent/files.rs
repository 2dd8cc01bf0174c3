//! `.ocs` copies of received inventories (GENERATE_OCS_FILES), for master/slave
//! synchronisation with the injector. Written after the commit, off the async runtime; a
//! failure is logged and does not fail the inventory, which is already stored.
//!
//! The directory may be shared with other users (the original's default was `/tmp`), so a
//! copy is never written through a symbolic link and never replaces one: files are opened
//! with `O_NOFOLLOW`, new names with `O_EXCL`, and created `0600`. The default directory is
//! `<data_dir>/ocs-files`, created `0700`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::app::agent::inventory::Source;
use crate::app::options::Options;
use crate::app::AppState;

/// Name of the default directory of copies, under the data directory.
const DEFAULT_DIR: &str = "ocs-files";

/// Writes the copy of one inventory (`<DEVICEID>.ocs`) or SNMP result (`<DEVICEID>-SNMP.ocs`).
pub async fn write_copy(
    state: &AppState,
    options: &Options,
    deviceid: &str,
    suffix: &str,
    source: Source<'_>,
) {
    let configured = options.text("OCS_FILES_PATH").trim();
    let (dir, private) = if configured.is_empty() {
        (state.config.data_dir.join(DEFAULT_DIR), true)
    } else {
        (PathBuf::from(configured), false)
    };
    let as_xml = options.text("OCS_FILES_FORMAT") == "XML";
    let raw = source.raw.to_vec();
    let max_inflated_bytes = state.config.limits.max_inflated_bytes;
    let stem = format!("{deviceid}{suffix}");
    let overwrite = options.on("OCS_FILES_OVERWRITE");
    let written = tokio::task::spawn_blocking(move || {
        // The body was decoded once already, within this limit. Decoding it again costs about
        // 1 ms for a 2,000-software inventory (benches/read.rs in ocs-proto), and only when
        // copies are wanted as XML; keeping every request's inflated document until here
        // would cost its memory on every request instead.
        let body = if as_xml {
            let limits = ocs_proto::DecodeLimits {
                max_inflated_bytes,
                try_others: true,
            };
            ocs_proto::codec::decode_body(&raw, limits)
                .map(|d| d.xml)
                .map_err(|e| (dir.clone(), std::io::Error::other(e)))?
        } else {
            raw
        };
        if private {
            create_private_dir(&dir)?;
        }
        write_new_copy(&dir, &stem, overwrite, &body).map_err(|e| (dir, e))
    })
    .await;
    match written {
        Ok(Ok(p)) => tracing::debug!(path = %p.display(), "wrote .ocs copy"),
        Ok(Err((dir, e))) => {
            tracing::error!(dir = %dir.display(), error = %e, "cannot write the .ocs copy of an inventory (GENERATE_OCS_FILES)")
        }
        Err(e) => tracing::error!(error = %e, "the .ocs copy task failed"),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| (dir.to_owned(), e))
}

/// Writes `body` as `<dir>/<stem>.ocs` (or the first free `-N` name) and returns the path.
fn write_new_copy(
    dir: &Path,
    stem: &str,
    overwrite: bool,
    body: &[u8],
) -> std::io::Result<PathBuf> {
    let safe = safe_stem(stem);
    let first = dir.join(format!("{safe}.ocs"));
    if overwrite {
        let mut file = open_no_follow(&first, false)?;
        file.write_all(body)?;
        return Ok(first);
    }
    // A bounded search: the original's loop never ended for `-SNMP.ocs` names. O_EXCL makes
    // "exists" and "create" one step, so a name taken meanwhile is simply skipped.
    for path in
        std::iter::once(first).chain((1..100_000).map(|n| dir.join(format!("{safe}-{n}.ocs"))))
    {
        match open_no_follow(&path, true) {
            Ok(mut file) => {
                file.write_all(body)?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many copies of this device"))
}

/// Opens for writing without following a symbolic link at the last component: a link there
/// makes the open fail (`ELOOP`, or `EEXIST` with `create_new`) instead of writing elsewhere.
fn open_no_follow(path: &Path, create_new: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    options.open(path)
}

/// The DEVICEID with anything but `[A-Za-z0-9._-]` replaced, so a name never leaves the
/// directory.
fn safe_stem(stem: &str) -> String {
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_new_copy(dir.path(), "pc/x-2024-01-01-00-00-00", false, b"a").unwrap();
        assert_eq!(first.file_name().unwrap(), "pc_x-2024-01-01-00-00-00.ocs");
        let second = write_new_copy(dir.path(), "pc/x-2024-01-01-00-00-00", false, b"b").unwrap();
        assert_eq!(
            second.file_name().unwrap(),
            "pc_x-2024-01-01-00-00-00-1.ocs"
        );
        let again = write_new_copy(dir.path(), "pc/x-2024-01-01-00-00-00", true, b"c").unwrap();
        assert_eq!(again, first);
        assert_eq!(std::fs::read(&first).unwrap(), b"c");
    }

    #[cfg(unix)]
    #[test]
    fn links_are_never_followed_nor_replaced() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let link = dir.path().join("pc-2024-01-01-00-00-00.ocs");
        symlink(&victim, &link).unwrap();
        // Overwriting: the open fails on the link.
        assert!(write_new_copy(dir.path(), "pc-2024-01-01-00-00-00", true, b"x").is_err());
        // Not overwriting: the link's name counts as taken, the copy goes to a new name.
        let path = write_new_copy(dir.path(), "pc-2024-01-01-00-00-00", false, b"x").unwrap();
        assert_eq!(path.file_name().unwrap(), "pc-2024-01-01-00-00-00-1.ocs");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
