//! Agent rollout files (seed chapter "Deploying Agent using launcher"): files such as
//! `ocsagent.exe` or `ocspackage.exe` that administrators upload to `Config::deploy_dir()`
//! and that the launcher fetches from `/ocsinventory/deploy/<name>` while the `DEPLOY`
//! option is on. Names are single path components: no separator, no dot-file, so nothing
//! outside the directory is ever read or written. Uploads go to a temporary file renamed
//! into place when complete, so an interrupted upload leaves nothing.

use std::path::PathBuf;

use ocs_storage::DeploymentLogEntry;
use tokio::io::AsyncWriteExt;

use crate::app::auth::Admin;
use crate::app::options::Options;
use crate::app::{AppError, AppState};

/// Longest file name accepted.
pub const MAX_NAME_BYTES: usize = 128;
/// Prefix of uploads in progress (a dot-file, so never listed nor served).
const PARTIAL_PREFIX: &str = ".upload-";

/// One rollout file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutFile {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Last change, Unix time.
    pub modified: i64,
}

/// Refuses names that are not a plain file name of reasonable length.
pub fn check_name(name: &str) -> Result<(), AppError> {
    let bad = |why: &str| {
        AppError::bad_request(
            "E_BAD_ROLLOUT_NAME",
            format!("rollout file name {name:?}: {why}"),
        )
    };
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(bad(&format!("longer than {MAX_NAME_BYTES} bytes")));
    }
    if name.starts_with('.') {
        return Err(bad("starts with a dot"));
    }
    if name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        return Err(bad(
            "path separators and control characters are not allowed",
        ));
    }
    Ok(())
}

fn io_error(what: &str, e: &std::io::Error) -> AppError {
    tracing::error!(error = %e, "{what}");
    AppError::Internal(format!("{what}: {e}"))
}

/// The rollout files, by name.
pub async fn list_files(
    state: &AppState,
    _admin: &Admin<'_>,
) -> Result<Vec<RolloutFile>, AppError> {
    let dir = state.config.deploy_dir();
    let mut entries = match tokio::fs::read_dir(&dir).await {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("cannot list the rollout directory", &e)),
    };
    let mut files = Vec::new();
    while let Some(entry) = entries
        .next_entry()
        .await
        .map_err(|e| io_error("cannot list the rollout directory", &e))?
    {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if check_name(&name).is_err() {
            continue;
        }
        let Ok(meta) = entry.metadata().await else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        files.push(RolloutFile {
            name,
            size: meta.len(),
            modified,
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// An upload in progress: written to a temporary file in the rollout directory, which is
/// removed unless [`Upload::finish`] renames it into place.
#[derive(Debug)]
pub struct Upload {
    name: String,
    partial: PathBuf,
    file: Option<tokio::fs::File>,
    written: u64,
    limit: u64,
}

impl Upload {
    /// Starts an upload of `name` (checked), at most `deployment.max_package_bytes`.
    pub async fn begin(
        state: &AppState,
        _admin: &Admin<'_>,
        name: &str,
    ) -> Result<Upload, AppError> {
        check_name(name)?;
        let dir = state.config.deploy_dir();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| io_error("cannot create the rollout directory", &e))?;
        let partial = dir.join(format!("{PARTIAL_PREFIX}{}", rand::random::<u64>()));
        let file = tokio::fs::File::create(&partial)
            .await
            .map_err(|e| io_error("cannot create a rollout upload", &e))?;
        Ok(Upload {
            name: name.to_owned(),
            partial,
            file: Some(file),
            written: 0,
            limit: state.config.deployment.max_package_bytes,
        })
    }

    /// Appends a chunk; refuses to go past the limit.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        self.written = self.written.saturating_add(chunk.len() as u64);
        if self.written > self.limit {
            return Err(AppError::TooLarge {
                code: "E_UPLOAD_TOO_LARGE",
                message: format!("rollout files are at most {} bytes", self.limit),
            });
        }
        match self.file.as_mut() {
            Some(f) => f
                .write_all(chunk)
                .await
                .map_err(|e| io_error("cannot write a rollout upload", &e)),
            None => Err(AppError::Internal("upload already finished".into())),
        }
    }

    /// Puts the complete file in place (replacing one of the same name) and logs it.
    pub async fn finish(
        mut self,
        state: &AppState,
        admin: &Admin<'_>,
    ) -> Result<RolloutFile, AppError> {
        if let Some(mut f) = self.file.take() {
            f.flush()
                .await
                .map_err(|e| io_error("cannot write a rollout upload", &e))?;
            f.sync_all()
                .await
                .map_err(|e| io_error("cannot write a rollout upload", &e))?;
        }
        let target = state.config.deploy_dir().join(&self.name);
        tokio::fs::rename(&self.partial, &target)
            .await
            .map_err(|e| io_error("cannot store a rollout file", &e))?;
        log(
            state,
            admin,
            "rollout_upload",
            &self.name,
            &format!("{} bytes", self.written),
        )
        .await;
        tracing::info!(name = %self.name, bytes = self.written, admin = %admin.viewer.login, "rollout file stored");
        Ok(RolloutFile {
            name: self.name.clone(),
            size: self.written,
            modified: state.clock.now(),
        })
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.file.is_some() {
            // Interrupted or refused: nothing is left behind.
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

async fn log(state: &AppState, admin: &Admin<'_>, action: &str, name: &str, detail: &str) {
    let entry = DeploymentLogEntry {
        at: state.clock.now(),
        actor: admin.viewer.login.clone(),
        action: action.to_owned(),
        fileid: name.to_owned(),
        detail: detail.to_owned(),
    };
    if let Err(e) = state.store.log_deployment(&entry).await {
        tracing::error!(error = %e, "cannot write the deployment log");
    }
}

/// Deletes a rollout file.
pub async fn delete_file(state: &AppState, admin: &Admin<'_>, name: &str) -> Result<(), AppError> {
    check_name(name)?;
    match tokio::fs::remove_file(state.config.deploy_dir().join(name)).await {
        Ok(()) => {
            log(state, admin, "rollout_delete", name, "").await;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(AppError::NotFound(format!("no rollout file {name:?}")))
        }
        Err(e) => Err(io_error("cannot delete a rollout file", &e)),
    }
}

/// Opens a rollout file for an agent's launcher: only while `DEPLOY` is on, only valid
/// names, only regular files. Anything else is "not found".
pub async fn open_for_agent(
    state: &AppState,
    name: &str,
) -> Result<(tokio::fs::File, u64), AppError> {
    let not_found = || AppError::NotFound("no such deploy file".into());
    if !Options::load(&state.store).await?.on("DEPLOY") || check_name(name).is_err() {
        return Err(not_found());
    }
    let file = tokio::fs::File::open(state.config.deploy_dir().join(name))
        .await
        .map_err(|_| not_found())?;
    let meta = file.metadata().await.map_err(|_| not_found())?;
    if !meta.is_file() {
        return Err(not_found());
    }
    Ok((file, meta.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_single_plain_components() {
        for good in ["ocsagent.exe", "ocspackage.exe", "OCS-NG agent 2.10.zip"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        let long = "a".repeat(MAX_NAME_BYTES + 1);
        for bad in [
            "",
            ".htaccess",
            "..",
            "../etc/passwd",
            "a/b",
            "a\\b",
            "a\nb",
            long.as_str(),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
