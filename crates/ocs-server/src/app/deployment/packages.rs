//! The package catalogue as the console, CLI and API read it: the list, one package with its
//! info file and activations, and deleting a package (its catalogue row, activations and
//! affectations first, then its directory, so an agent never gets offered a package whose
//! files are gone).

use ocs_proto::info::InfoFile;
use ocs_storage::deployment::log::DeploymentLogEntry;
use ocs_storage::deployment::{ActivationRecord, PackageRecord, PackageSummary};

use super::build::{log, Deployer};
use super::files::package_dir;
use crate::app::{AppError, AppState};

/// Entries of the deployment log shown on a package page.
const LOG_ENTRIES: i64 = 50;

/// One package with everything its page shows.
#[derive(Debug, Clone)]
pub struct PackageView {
    /// The catalogue row.
    pub package: PackageRecord,
    /// The info file as it is on disk (`None` if it is missing or unreadable).
    pub info: Option<InfoFile>,
    /// Its activations, main server first.
    pub activations: Vec<ActivationRecord>,
    /// Who did what, newest first.
    pub log: Vec<DeploymentLogEntry>,
}

/// Every package, newest first, with its number of activations.
pub async fn list(state: &AppState) -> Result<Vec<PackageSummary>, AppError> {
    Ok(state.store.list_packages().await?)
}

/// One package.
pub async fn view(state: &AppState, fileid: &str) -> Result<PackageView, AppError> {
    let dir = package_dir(state, fileid)?;
    let package = state
        .store
        .find_package(fileid)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("package {fileid} not found")))?;
    let info = match tokio::fs::read(dir.join("info")).await {
        Ok(bytes) => InfoFile::parse(&bytes).ok(),
        Err(_) => None,
    };
    Ok(PackageView {
        package,
        info,
        activations: state.store.activations_of(fileid).await?,
        log: state.store.deployment_log(fileid, LOG_ENTRIES).await?,
    })
}

/// Deletes a package: catalogue row, activations, affectations, then its files.
pub async fn delete(state: &AppState, by: &Deployer, fileid: &str) -> Result<(), AppError> {
    let dir = package_dir(state, fileid)?;
    if !state.store.delete_package(fileid).await? {
        return Err(AppError::NotFound(format!("package {fileid} not found")));
    }
    match tokio::fs::remove_dir_all(&dir).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::error!(fileid, error = %e, "package deleted but its directory could not be removed");
        }
    }
    log(state, by, "delete", fileid, String::new()).await;
    tracing::info!(fileid, by = by.label(), "package deleted");
    Ok(())
}
