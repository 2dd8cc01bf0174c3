//! `package export DIR` (issue 12 item 5): writes the layout a redistribution web server
//! serves, `DIR/<FILEID>/info` and `DIR/<FILEID>/<FILEID>-<n>` for every activated package,
//! so that `rsync` of that directory is all a redistribution server needs. Files are hard
//! linked when `DIR` is on the same file system (fragments can be large), copied otherwise;
//! each lands under a temporary name and is renamed, so a web server serving `DIR` never
//! sees half a file. Files already there with the right size are kept.

use std::path::{Path, PathBuf};

use crate::app::{AppError, AppState};

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Packages exported.
    pub packages: usize,
    /// Files written.
    pub written: usize,
    /// Files already up to date.
    pub kept: usize,
}

fn io(path: &Path, e: std::io::Error) -> AppError {
    AppError::Internal(format!("{}: {e}", path.display()))
}

/// Exports every activated package into `target`.
pub async fn export(state: &AppState, target: &Path) -> Result<ExportReport, AppError> {
    let mut fileids: Vec<String> = state
        .store
        .list_activations()
        .await?
        .into_iter()
        .map(|a| a.fileid)
        .collect();
    fileids.dedup();
    let source = state.config.download_dir();
    let target = target.to_owned();
    tokio::task::spawn_blocking(move || export_blocking(&source, &target, &fileids))
        .await
        .map_err(|e| AppError::Internal(format!("export: {e}")))?
}

fn export_blocking(
    source: &Path,
    target: &Path,
    fileids: &[String],
) -> Result<ExportReport, AppError> {
    let mut report = ExportReport::default();
    for fileid in fileids {
        if !super::files::valid_fileid(fileid) {
            continue;
        }
        let from = source.join(fileid);
        let to = target.join(fileid);
        std::fs::create_dir_all(&to).map_err(|e| io(&to, e))?;
        let entries = std::fs::read_dir(&from).map_err(|e| io(&from, e))?;
        let mut names: Vec<PathBuf> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io(&from, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if super::files::parse_file_name(fileid, name).is_some()
                && entry.file_type().map_err(|e| io(&from, e))?.is_file()
            {
                names.push(PathBuf::from(name));
            }
        }
        names.sort();
        for name in names {
            let src = from.join(&name);
            let dst = to.join(&name);
            let len = std::fs::metadata(&src).map_err(|e| io(&src, e))?.len();
            if std::fs::metadata(&dst).is_ok_and(|m| m.is_file() && m.len() == len) {
                report.kept += 1;
                continue;
            }
            let tmp = to.join(format!(".{}.part", name.display()));
            let _ = std::fs::remove_file(&tmp);
            if std::fs::hard_link(&src, &tmp).is_err() {
                std::fs::copy(&src, &tmp).map_err(|e| io(&tmp, e))?;
            }
            std::fs::rename(&tmp, &dst).map_err(|e| io(&dst, e))?;
            report.written += 1;
        }
        report.packages += 1;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_written_and_kept() -> Result<(), Box<dyn std::error::Error>> {
        let src = tempfile::tempdir()?;
        let dst = tempfile::tempdir()?;
        let p = src.path().join("1700000000");
        std::fs::create_dir(&p)?;
        std::fs::write(p.join("info"), b"<DOWNLOAD />")?;
        std::fs::write(p.join("1700000000-1"), b"abc")?;
        std::fs::write(p.join("stray"), b"x")?;
        let ids = vec!["1700000000".to_owned(), "../x".to_owned()];
        let r = export_blocking(src.path(), dst.path(), &ids).map_err(|e| e.to_string())?;
        assert_eq!((r.packages, r.written, r.kept), (1, 2, 0));
        assert_eq!(
            std::fs::read(dst.path().join("1700000000/1700000000-1"))?,
            b"abc"
        );
        assert!(!dst.path().join("1700000000/stray").exists());
        let r = export_blocking(src.path(), dst.path(), &ids).map_err(|e| e.to_string())?;
        assert_eq!((r.written, r.kept), (0, 2));
        Ok(())
    }
}
