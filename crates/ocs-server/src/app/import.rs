//! Local import: `.ocs` (zlib or plain XML) and `.xml` inventory files go through the same
//! ingestion as agents, without a running server.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use crate::app::agent::inventory::{ingest, Source};
use crate::app::agent::AgentMeta;
use crate::app::options::Options;
use crate::app::{AppError, AppState};

/// User-Agent recorded for imported inventories ("local" ones skip IP discovery, as in the
/// original).
pub const IMPORT_USER_AGENT: &str = "OCS-NG_LOCAL_IMPORT_v1";

/// Totals of an import run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportReport {
    /// Files stored.
    pub imported: usize,
    /// Files refused.
    pub failed: usize,
}

/// The files to import: each file given, and the `.ocs`/`.xml` files of each directory (sorted).
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries =
                std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.extension().is_some_and(|x| {
                            x.eq_ignore_ascii_case("ocs") || x.eq_ignore_ascii_case("xml")
                        })
                })
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or directory", path.display()));
        }
    }
    Ok(files)
}

/// Imports files, printing one line per file and a summary.
pub async fn import(state: &AppState, files: &[PathBuf], out: &mut impl Write) -> ImportReport {
    let mut report = ImportReport::default();
    for file in files {
        match import_one(state, file).await {
            Ok(line) => {
                report.imported += 1;
                let _ = writeln!(out, "ok     {}  {line}", file.display());
            }
            Err(e) => {
                report.failed += 1;
                let _ = writeln!(out, "error  {}  {e}", file.display());
            }
        }
    }
    let _ = writeln!(
        out,
        "imported {}, errors {}",
        report.imported, report.failed
    );
    report
}

async fn import_one(state: &AppState, file: &Path) -> Result<String, AppError> {
    let meta = std::fs::metadata(file).map_err(|e| AppError::bad_request("E_IO", e.to_string()))?;
    let max = max_file_bytes(state);
    if usize::try_from(meta.len()).unwrap_or(usize::MAX) > max {
        return Err(AppError::TooLarge {
            code: "E_BODY_TOO_LARGE",
            message: format!("file is larger than {max} bytes"),
        });
    }
    let raw = std::fs::read(file).map_err(|e| AppError::bad_request("E_IO", e.to_string()))?;
    let done = import_bytes(state, bytes::Bytes::from(raw)).await?;
    Ok(format!(
        "{} ({})",
        done.deviceid,
        if done.created { "new" } else { "updated" }
    ))
}

/// Largest file accepted: what an agent may send, compressed or not.
pub fn max_file_bytes(state: &AppState) -> usize {
    state
        .config
        .limits
        .max_body_bytes
        .max(state.config.limits.max_inflated_bytes)
}

/// What importing one file stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// DEVICEID of the computer.
    pub deviceid: String,
    /// Whether the computer was new.
    pub created: bool,
}

/// Imports one inventory given as the bytes of a `.ocs` (zlib or plain XML) or `.xml` file,
/// through the same ingestion as agents. Shared by the `import` command and the console's
/// upload page; the caller enforces the size limit.
pub async fn import_bytes(state: &AppState, raw: bytes::Bytes) -> Result<Imported, AppError> {
    let prepared = state
        .intake
        .prepare(raw.clone(), true)
        .await
        .map_err(|refused| refused.error)?;
    let options = Options::load(&state.store).await?;
    let agent = AgentMeta {
        peer: IpAddr::V4(Ipv4Addr::LOCALHOST),
        user_agent: IMPORT_USER_AGENT.into(),
        https: false,
        agent_user: None,
    };
    let inventory = prepared.inventory()?;
    let done = ingest(state, &options, &agent, inventory, Source { raw: &raw }).await?;
    Ok(Imported {
        deviceid: inventory.deviceid.clone(),
        created: done.created,
    })
}
