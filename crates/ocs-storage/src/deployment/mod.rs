//! Package deployment (reference §6): the catalogue (`download_available`), activations
//! (`download_enable`: where agents fetch a package's info file and fragments), affectations
//! (the `devices` rows `DOWNLOAD`, `DOWNLOAD_FORCE`, `DOWNLOAD_SCHEDULE`, `DOWNLOAD_POSTCMD`
//! whose IVALUE is an activation, and `group_packages`), the statuses agents report, the
//! redistribution groups and the deployment log.
//!
//! This module owns the shared records; [`packages`] the catalogue rows, [`activations`] the
//! activation rows, [`affect`] the affectations, [`prolog`] what a PROLOG offers (§6.4),
//! [`status`] the statistics, [`redistribution`] the redistribution groups, [`log`] who did
//! what. Files (info, fragments) are the application's business, never this crate's.

pub mod activations;
pub mod affect;
pub mod log;
pub mod packages;
pub mod prolog;
pub mod redistribution;
pub mod status;

/// The ID of an activation (a `download_enable` row; the IVALUE of a computer's `DOWNLOAD`
/// row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActivationId(pub i64);

/// The ID of a redistribution group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RedistributionGroupId(pub i64);

/// A package of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRecord {
    /// FILEID: the package's directory name and its ID on the wire.
    pub fileid: String,
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Target OS (`WINDOWS`, `LINUX`, `MACOS`).
    pub os: String,
    /// `LAUNCH`, `EXECUTE` or `STORE`.
    pub action: String,
    /// The file to launch, the command or the destination path.
    pub action_param: String,
    /// 0–10; 0 is the absolute priority.
    pub priority: i64,
    /// Number of fragments (0: command only).
    pub fragments: i64,
    /// Size of the archive in bytes.
    pub size: i64,
    /// MD5 of the whole archive, lower-case hex ('' without a file).
    pub digest: String,
    /// Unix time of the build.
    pub created_at: i64,
    /// Who built it.
    pub created_by: String,
}

/// A package of the list, with its number of activations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSummary {
    /// The package.
    pub package: PackageRecord,
    /// Activations (main server and redistribution servers).
    pub activations: i64,
}

/// An activation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationRecord {
    /// ID.
    pub id: ActivationId,
    /// The package.
    pub fileid: String,
    /// host[/path] serving `<fileid>/info` over HTTPS.
    pub info_loc: String,
    /// host[/path] serving the fragments (may hold `$IP$` / `$NAME$` for a redistribution
    /// server).
    pub pack_loc: String,
    /// `CERT_PATH` sent to agents.
    pub cert_path: String,
    /// `CERT_FILE` sent to agents.
    pub cert_file: String,
    /// The redistribution server, for a redistribution activation.
    pub server_id: Option<crate::HostId>,
    /// The redistribution group, for a redistribution activation.
    pub group_id: Option<RedistributionGroupId>,
    /// Unix time.
    pub activated_at: i64,
    /// Who activated it.
    pub activated_by: String,
}
