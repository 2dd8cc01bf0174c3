//! What to send: one file (`-f`), standard input (`--stdin`), or every inventory file of a
//! directory (`-d`, the current one by default): `*.ocs`, as the original takes, and `*.xml`,
//! oldest first (a server keeping several copies of a computer names them `<id>.ocs`,
//! `<id>-1.ocs`, …, which name order would send newest first). Each file is locked (`flock`, shared with anything else that locks it) for
//! as long as it is read, sent and, with `-r`, removed.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

/// Largest file read (a document inflates to at most 64 MiB; compressed it is far smaller).
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Where a document comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file.
    File(PathBuf),
    /// Standard input.
    Stdin,
}

impl Source {
    /// How the summary and the log name it.
    pub fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "standard input".to_owned(),
        }
    }
}

/// A file's place among a computer's copies: `<id>.ocs` is copy 0, `<id>-N.ocs` copy N.
fn copy_order(path: &Path) -> (String, u64) {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.rsplit_once('-') {
        // DEVICEIDs end in `-SS` (seconds, two digits); a copy number follows them.
        Some((base, n)) if base.matches('-').count() >= 6 => match n.parse() {
            Ok(n) => (base.to_owned(), n),
            Err(_) => (stem, 0),
        },
        _ => (stem, 0),
    }
}

/// Every inventory file of a directory, oldest first: by modification time (whose clock is
/// coarse: two copies written within a few milliseconds tie), then a computer's copies in
/// their order, then by name.
pub fn directory(dir: &Path) -> Result<Vec<Source>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?;
        let path = entry.path();
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("ocs") || e.eq_ignore_ascii_case("xml"));
        let modified = entry
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.modified());
        if let (true, Some(modified)) = (wanted, modified) {
            files.push((modified.ok(), copy_order(&path), path));
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, _, p)| Source::File(p)).collect())
}

/// A file opened and locked for the time it is handled; the lock goes with it.
#[derive(Debug)]
pub struct Locked {
    file: File,
}

/// Why a source could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Another process holds the file's lock (a server writing it, another injector).
    Busy,
    /// Anything else, in words.
    Failed(String),
}

/// Opens and locks a file without waiting for the lock.
pub fn lock(path: &Path) -> Result<Locked, ReadError> {
    let file = File::open(path).map_err(|e| ReadError::Failed(format!("cannot open: {e}")))?;
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Locked { file }),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(ReadError::Busy),
        Err(e) => Err(ReadError::Failed(format!("cannot lock: {e}"))),
    }
}

impl Locked {
    /// The whole file, at most [`MAX_FILE_BYTES`].
    pub fn read(&mut self) -> Result<Vec<u8>, ReadError> {
        read_bounded(&mut self.file)
    }
}

/// Standard input, at most [`MAX_FILE_BYTES`].
pub fn stdin() -> Result<Vec<u8>, ReadError> {
    read_bounded(&mut std::io::stdin().lock())
}

fn read_bounded(r: &mut impl Read) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    r.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| ReadError::Failed(format!("cannot read: {e}")))?;
    if out.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::Failed(format!(
            "larger than {} MiB",
            MAX_FILE_BYTES >> 20
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_gives_its_inventory_files_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for (name, age) in [
            ("c.xml", 10),
            ("b.ocs", 20),
            ("a.OCS", 30),
            ("notes.txt", 40),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, "x").unwrap();
            let at = std::time::SystemTime::now() - std::time::Duration::from_secs(age);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(at)
                .unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.ocs")).unwrap();
        let names: Vec<String> = directory(dir.path())
            .unwrap()
            .iter()
            .map(|s| match s {
                Source::File(p) => p.file_name().unwrap().to_string_lossy().into_owned(),
                Source::Stdin => String::new(),
            })
            .collect();
        assert_eq!(names, ["a.OCS", "b.ocs", "c.xml"]);
        assert!(directory(&dir.path().join("missing"))
            .unwrap_err()
            .contains("cannot read directory"));
    }

    #[test]
    fn a_computers_copies_in_the_order_they_were_written() {
        let order = |name: &str| copy_order(Path::new(name));
        let id = "pc-2026-01-01-00-00-00";
        assert_eq!(order(&format!("{id}.ocs")), (id.to_owned(), 0));
        assert_eq!(order(&format!("{id}-12.ocs")), (id.to_owned(), 12));
        assert!(order(&format!("{id}-2.ocs")) < order(&format!("{id}-10.ocs")));
        assert_eq!(order("notes-1.xml"), ("notes-1".to_owned(), 0));
    }

    #[test]
    fn a_locked_file_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ocs");
        std::fs::write(&path, "data").unwrap();
        let mut held = lock(&path).unwrap();
        assert_eq!(held.read().unwrap(), b"data");
        assert!(matches!(lock(&path), Err(ReadError::Busy)));
        drop(held);
        assert!(lock(&path).is_ok());
    }
}
