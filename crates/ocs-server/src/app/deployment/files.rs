//! The files agents download (issue 12 item 4): `<download_dir>/<FILEID>/info` and
//! `<FILEID>-<n>` fragments, only for activated packages. Names are checked here (FILEID:
//! decimal digits; fragment: `<FILEID>-<n>`), so no request can name anything else under or
//! outside the download directory; the handler only streams the opened file.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::app::{AppError, AppState};

/// Longest FILEID accepted (a Unix time has 10 digits).
const MAX_FILEID_DIGITS: usize = 20;

/// Which file of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageFile {
    /// The info file.
    Info,
    /// Fragment `n` (from 1).
    Fragment(u64),
}

/// An opened package file.
#[derive(Debug)]
pub struct OpenedFile {
    /// The file, positioned at its start.
    pub file: tokio::fs::File,
    /// Its length.
    pub len: u64,
    /// Its modification time.
    pub modified: Option<SystemTime>,
    /// Whether it is the info file (XML) or a fragment (bytes).
    pub kind: PackageFile,
}

/// Whether `s` is a FILEID.
pub fn valid_fileid(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_FILEID_DIGITS && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reads the file part of `/download/<fileid>/<name>`.
pub fn parse_file_name(fileid: &str, name: &str) -> Option<PackageFile> {
    if !valid_fileid(fileid) {
        return None;
    }
    if name == "info" {
        return Some(PackageFile::Info);
    }
    let n = name.strip_prefix(fileid)?.strip_prefix('-')?;
    if n.is_empty() || n.len() > 6 || !n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with('0') {
        return None;
    }
    n.parse().ok().map(PackageFile::Fragment)
}

fn not_found() -> AppError {
    AppError::NotFound("no such package file".to_owned())
}

/// The directory of a package.
pub fn package_dir(state: &AppState, fileid: &str) -> Result<PathBuf, AppError> {
    if !valid_fileid(fileid) {
        return Err(AppError::bad_request(
            "E_PACKAGE_ID",
            format!("{fileid:?} is not a FILEID"),
        ));
    }
    Ok(state.config.download_dir().join(fileid))
}

/// Opens a file of an activated package (404 for anything else, including names that are
/// not a package file's).
pub async fn open(state: &AppState, fileid: &str, name: &str) -> Result<OpenedFile, AppError> {
    let kind = parse_file_name(fileid, name).ok_or_else(not_found)?;
    if !state.store.is_activated(fileid).await? {
        return Err(not_found());
    }
    let path = state.config.download_dir().join(fileid).join(match &kind {
        PackageFile::Info => "info".to_owned(),
        PackageFile::Fragment(n) => super::build::fragment_name(fileid, *n),
    });
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(AppError::Internal(format!("{}: {e}", path.display()))),
    };
    let meta = file
        .metadata()
        .await
        .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(not_found());
    }
    Ok(OpenedFile {
        file,
        len: meta.len(),
        modified: meta.modified().ok(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_checked() {
        assert_eq!(
            parse_file_name("1700000000", "info"),
            Some(PackageFile::Info)
        );
        assert_eq!(
            parse_file_name("1700000000", "1700000000-12"),
            Some(PackageFile::Fragment(12))
        );
        for (id, name) in [
            ("1700000000", "1700000001-1"),
            ("1700000000", "1700000000-0"),
            ("1700000000", "1700000000-01"),
            ("1700000000", "1700000000-"),
            ("1700000000", "1700000000-1x"),
            ("1700000000", ".."),
            ("1700000000", "archive"),
            ("..", "info"),
            ("17000a", "info"),
            ("", "info"),
        ] {
            assert_eq!(parse_file_name(id, name), None, "{id}/{name}");
        }
    }
}
