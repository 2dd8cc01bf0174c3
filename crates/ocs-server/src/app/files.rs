//! `.ocs` copies of received inventories (GENERATE_OCS_FILES), for master/slave
//! synchronisation with the injector. Written after the commit; a failure is logged and does
//! not fail the inventory, which is already stored.

use std::path::{Path, PathBuf};

use crate::app::inventory::Source;
use crate::app::options::Options;

/// Writes the copy of one inventory (`<DEVICEID>.ocs`) or SNMP result (`<DEVICEID>-SNMP.ocs`).
pub fn write_copy(options: &Options, deviceid: &str, suffix: &str, source: Source<'_>) {
    let dir = Path::new(options.text("OCS_FILES_PATH"));
    let body = if options.text("OCS_FILES_FORMAT") == "XML" {
        source.xml
    } else {
        source.raw
    };
    let path = target(
        dir,
        &format!("{deviceid}{suffix}"),
        options.on("OCS_FILES_OVERWRITE"),
    );
    match path.and_then(|p| std::fs::write(&p, body).map(|()| p)) {
        Ok(p) => tracing::debug!(path = %p.display(), "wrote .ocs copy"),
        Err(e) => {
            tracing::error!(dir = %dir.display(), error = %e, "cannot write the .ocs copy of an inventory (GENERATE_OCS_FILES)")
        }
    }
}

/// `<dir>/<stem>.ocs`, or the first free `-1`, `-2`, … name when not overwriting (a bounded
/// search: the original's loop never ended for `-SNMP.ocs` names).
fn target(dir: &Path, deviceid: &str, overwrite: bool) -> std::io::Result<PathBuf> {
    let safe: String = deviceid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let first = dir.join(format!("{safe}.ocs"));
    if overwrite || !first.exists() {
        return Ok(first);
    }
    (1..100_000)
        .map(|n| dir.join(format!("{safe}-{n}.ocs")))
        .find(|p| !p.exists())
        .ok_or_else(|| std::io::Error::other("too many copies of this device"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes() {
        let dir = tempfile::tempdir().unwrap();
        let first = target(dir.path(), "pc/x-2024-01-01-00-00-00", false).unwrap();
        assert_eq!(first.file_name().unwrap(), "pc_x-2024-01-01-00-00-00.ocs");
        std::fs::write(&first, b"x").unwrap();
        assert_eq!(
            target(dir.path(), "pc/x-2024-01-01-00-00-00", false)
                .unwrap()
                .file_name()
                .unwrap(),
            "pc_x-2024-01-01-00-00-00-1.ocs"
        );
        assert_eq!(
            target(dir.path(), "pc/x-2024-01-01-00-00-00", true).unwrap(),
            first
        );
    }
}
