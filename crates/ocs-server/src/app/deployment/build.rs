//! Building a package (issue 12 item 2, reference §6.3): an optional archive streamed to disk
//! while its MD5 is computed, cut into fragments, the info file, the catalogue row and a log
//! entry. The server never unpacks or runs an archive; it only checks that it starts as a ZIP
//! or a gzip stream does.
//!
//! A build works in `<download_dir>/.build-<FILEID>/` and renames it to `<FILEID>/` once
//! every file is written; the directory is removed if the build fails or its future is
//! dropped (an interrupted upload), so an unfinished build leaves nothing. The `.build-`
//! directory also reserves its FILEID against concurrent builds.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use ocs_proto::info::{Action, DigestAlgorithm, DigestEncoding, InfoFile, Protocol};
use ocs_storage::deployment::log::DeploymentLogEntry;
use ocs_storage::deployment::PackageRecord;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::app::api::ApiWriter;
use crate::app::auth::Admin;
use crate::app::{AppError, AppState};

/// Longest package name.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Longest command, file name or destination path.
pub const MAX_ACTION_PARAM_CHARS: usize = 1024;
/// Longest notification or done-action text.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Most fragments a package may have.
pub const MAX_FRAGMENTS: u64 = 10_000;
/// Smallest fragment size accepted.
pub const MIN_FRAGMENT_BYTES: u64 = 1024;
/// Fragment size when neither a count nor a size is given: agents wait `FRAG_LATENCY` between
/// fragments, so tiny fragments make deployments slow, and huge ones make resuming costly.
pub const DEFAULT_FRAGMENT_BYTES: u64 = 10 << 20;
/// Longest notification countdown (a day).
pub const MAX_COUNTDOWN_SECS: u32 = 86_400;

/// Who builds, activates or deletes packages, for the deployment log: only an
/// administrator's [`Admin`], a write-scoped API token or the command line make one.
#[derive(Debug, Clone)]
pub struct Deployer {
    label: String,
}

impl Deployer {
    /// A console administrator (logged by login).
    pub fn console(admin: &Admin<'_>) -> Deployer {
        Deployer {
            label: admin.viewer.login.clone(),
        }
    }

    /// An API token with the write scope.
    pub fn api(writer: &ApiWriter) -> Deployer {
        Deployer {
            label: format!("api:{}", writer.token_name),
        }
    }

    /// The command line.
    pub fn cli() -> Deployer {
        Deployer {
            label: "cli".to_owned(),
        }
    }

    /// How the log names this deployer.
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// The operating system a package is for (`OSNAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetOs {
    /// Windows agents.
    Windows,
    /// Linux agents.
    Linux,
    /// macOS agents.
    Macos,
}

impl TargetOs {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetOs::Windows => "WINDOWS",
            TargetOs::Linux => "LINUX",
            TargetOs::Macos => "MACOS",
        }
    }

    /// Reads `windows`, `linux` or `macos` (any case).
    pub fn parse(s: &str) -> Result<TargetOs, AppError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "windows" => Ok(TargetOs::Windows),
            "linux" => Ok(TargetOs::Linux),
            "macos" | "mac" | "darwin" => Ok(TargetOs::Macos),
            other => Err(AppError::bad_request(
                "E_PACKAGE_OS",
                format!("unknown OS {other:?}: use windows, linux or macos"),
            )),
        }
    }
}

/// What the agent does once it has the package (`ACT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// Extract and run a file of the archive, reporting its exit code.
    Launch,
    /// Extract and run a command.
    Execute,
    /// Extract into a destination directory.
    Store,
}

impl ActionKind {
    /// Reads `launch`, `execute` or `store` (any case).
    pub fn parse(s: &str) -> Result<ActionKind, AppError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "launch" => Ok(ActionKind::Launch),
            "execute" => Ok(ActionKind::Execute),
            "store" => Ok(ActionKind::Store),
            other => Err(AppError::bad_request(
                "E_PACKAGE_ACTION",
                format!("unknown action {other:?}: use launch, execute or store"),
            )),
        }
    }
}

/// How the archive is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// This many fragments (fewer if the archive is smaller than that many kilobytes).
    Fragments(u64),
    /// Fragments of this many bytes (the last one shorter).
    FragmentSize(u64),
    /// [`DEFAULT_FRAGMENT_BYTES`].
    Default,
}

/// What to build.
#[derive(Debug, Clone)]
pub struct PackageSpec {
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Target OS.
    pub os: TargetOs,
    /// Action.
    pub action: ActionKind,
    /// The file to launch, the command, or the destination path.
    pub action_param: String,
    /// 0–10.
    pub priority: u8,
    /// How the archive is cut.
    pub split: Split,
    /// How agents fetch the fragments.
    pub protocol: Protocol,
    /// Show a notification before running.
    pub notify_user: bool,
    /// Its text.
    pub notify_text: String,
    /// Seconds before it continues by itself.
    pub notify_countdown: Option<u32>,
    /// The user may cancel.
    pub notify_can_abort: bool,
    /// The user may postpone.
    pub notify_can_delay: bool,
    /// Message shown once done (none when empty).
    pub done_action_text: String,
}

impl PackageSpec {
    /// A spec with the defaults for everything but the name, OS and action.
    pub fn new(name: &str, os: TargetOs, action: ActionKind, action_param: &str) -> PackageSpec {
        PackageSpec {
            name: name.to_owned(),
            description: String::new(),
            os,
            action,
            action_param: action_param.to_owned(),
            priority: 5,
            split: Split::Default,
            protocol: Protocol::Http,
            notify_user: false,
            notify_text: String::new(),
            notify_countdown: None,
            notify_can_abort: false,
            notify_can_delay: false,
            done_action_text: String::new(),
        }
    }
}

/// Where an archive's bytes come from, a chunk at a time (a file, an upload).
pub trait ArchiveSource {
    /// The next chunk; `None` at the end. An error interrupts the build.
    fn next_chunk(
        &mut self,
    ) -> impl std::future::Future<Output = Result<Option<bytes::Bytes>, AppError>> + Send;
}

/// An [`ArchiveSource`] reading an `AsyncRead` (a file given on the command line).
pub struct ReaderSource<R> {
    reader: R,
    buf: Vec<u8>,
}

impl<R> ReaderSource<R> {
    /// Reads `reader` in chunks of 256 KiB.
    pub fn new(reader: R) -> ReaderSource<R> {
        ReaderSource {
            reader,
            buf: vec![0u8; 256 * 1024],
        }
    }
}

impl<R: AsyncRead + Unpin + Send> ArchiveSource for ReaderSource<R> {
    async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, AppError> {
        let n = self
            .reader
            .read(&mut self.buf)
            .await
            .map_err(|e| bad("E_PACKAGE_UPLOAD", format!("reading the archive: {e}")))?;
        if n == 0 {
            return Ok(None);
        }
        Ok(Some(bytes::Bytes::copy_from_slice(
            self.buf.get(..n).unwrap_or_default(),
        )))
    }
}

/// An archive to package: the name it was given (for its extension, may be empty) and its
/// bytes.
pub struct Archive<S> {
    /// File name as uploaded or given on the command line.
    pub file_name: String,
    /// The bytes, read once.
    pub source: S,
}

fn bad(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::bad_request(code, message)
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

fn check_text(
    what: &str,
    value: &str,
    max: usize,
    code: &'static str,
    multiline: bool,
) -> Result<(), AppError> {
    if value.chars().count() > max {
        return Err(bad(code, format!("{what} is longer than {max} characters")));
    }
    let bad_char = if multiline {
        value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    } else {
        has_control(value)
    };
    if bad_char {
        return Err(bad(code, format!("{what} holds control characters")));
    }
    Ok(())
}

/// Checks a STORE destination: an absolute path or one under `INSTALL_PATH`, with no `..`
/// component, so the agent's extraction never climbs out of the directory it was given.
pub fn check_store_path(path: &str) -> Result<(), AppError> {
    if path.trim().is_empty() {
        return Err(bad("E_PACKAGE_PATH", "STORE needs a destination path"));
    }
    if path.split(['/', '\\']).any(|c| c == "..") {
        return Err(bad(
            "E_PACKAGE_PATH",
            format!("destination path {path:?} holds a '..' component"),
        ));
    }
    Ok(())
}

/// Checks a LAUNCH file name: one file of the archive, no directory.
fn check_launch_name(name: &str) -> Result<(), AppError> {
    if name.trim().is_empty() {
        return Err(bad("E_PACKAGE_LAUNCH", "LAUNCH needs the file to run"));
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(bad(
            "E_PACKAGE_LAUNCH",
            format!("file to launch {name:?} must be a file name, without directory"),
        ));
    }
    Ok(())
}

/// Checks a spec as a whole (before any byte of the archive is read).
pub fn check_spec(spec: &PackageSpec, has_archive: bool) -> Result<(), AppError> {
    if spec.name.trim().is_empty() {
        return Err(bad("E_PACKAGE_NAME", "a package needs a name"));
    }
    check_text("name", &spec.name, MAX_NAME_CHARS, "E_PACKAGE_NAME", false)?;
    check_text(
        "description",
        &spec.description,
        MAX_DESCRIPTION_CHARS,
        "E_PACKAGE_DESCRIPTION",
        true,
    )?;
    check_text(
        "action parameter",
        &spec.action_param,
        MAX_ACTION_PARAM_CHARS,
        "E_PACKAGE_ACTION",
        false,
    )?;
    check_text(
        "notification text",
        &spec.notify_text,
        MAX_TEXT_CHARS,
        "E_PACKAGE_NOTIFY",
        true,
    )?;
    check_text(
        "done-action text",
        &spec.done_action_text,
        MAX_TEXT_CHARS,
        "E_PACKAGE_NOTIFY",
        true,
    )?;
    if spec.priority > 10 {
        return Err(bad(
            "E_PACKAGE_PRIORITY",
            format!("priority {} is not between 0 and 10", spec.priority),
        ));
    }
    if spec
        .notify_countdown
        .is_some_and(|c| c > MAX_COUNTDOWN_SECS)
    {
        return Err(bad(
            "E_PACKAGE_NOTIFY",
            format!("the countdown is longer than {MAX_COUNTDOWN_SECS} seconds"),
        ));
    }
    match spec.action {
        ActionKind::Execute => {
            if spec.action_param.trim().is_empty() {
                return Err(bad("E_PACKAGE_ACTION", "EXECUTE needs a command"));
            }
        }
        ActionKind::Launch => {
            check_launch_name(&spec.action_param)?;
            if !has_archive {
                return Err(bad("E_PACKAGE_FILE", "LAUNCH needs an archive"));
            }
        }
        ActionKind::Store => {
            check_store_path(&spec.action_param)?;
            if !has_archive {
                return Err(bad("E_PACKAGE_FILE", "STORE needs an archive"));
            }
        }
    }
    match spec.split {
        Split::Fragments(k) if k == 0 || k > MAX_FRAGMENTS => Err(bad(
            "E_PACKAGE_FRAGMENTS",
            format!("the number of fragments must be between 1 and {MAX_FRAGMENTS}"),
        )),
        Split::FragmentSize(b) if b < MIN_FRAGMENT_BYTES => Err(bad(
            "E_PACKAGE_FRAGMENTS",
            format!("fragments must be at least {MIN_FRAGMENT_BYTES} bytes"),
        )),
        _ => Ok(()),
    }
}

/// The archive kinds accepted, told by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// `PK\x03\x04`.
    Zip,
    /// `\x1f\x8b` (tar.gz).
    Gzip,
}

/// The kind of an archive from its first bytes, checked against its file name's extension
/// when it has one.
pub fn archive_kind(head: &[u8], file_name: &str) -> Result<ArchiveKind, AppError> {
    let kind = if head.starts_with(b"PK\x03\x04") {
        ArchiveKind::Zip
    } else if head.starts_with(b"\x1f\x8b") {
        ArchiveKind::Gzip
    } else {
        return Err(bad(
            "E_PACKAGE_ARCHIVE",
            "the archive is neither a ZIP nor a tar.gz file",
        ));
    };
    let lower = file_name.to_ascii_lowercase();
    let named = if lower.ends_with(".zip") {
        Some(ArchiveKind::Zip)
    } else if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") || lower.ends_with(".gz") {
        Some(ArchiveKind::Gzip)
    } else {
        None
    };
    match named {
        Some(n) if n != kind => Err(bad(
            "E_PACKAGE_ARCHIVE",
            format!("{file_name:?} does not hold what its extension says"),
        )),
        None if !lower.is_empty() => Err(bad(
            "E_PACKAGE_ARCHIVE",
            format!("{file_name:?}: only .zip, .tar.gz and .tgz archives are accepted"),
        )),
        _ => Ok(kind),
    }
}

/// Fragment size for an archive of `size` bytes.
pub fn fragment_bytes(split: Split, size: u64) -> u64 {
    let bytes = match split {
        Split::Fragments(k) => size.div_ceil(k.max(1)),
        Split::FragmentSize(b) => b,
        Split::Default => DEFAULT_FRAGMENT_BYTES,
    };
    // Never more than MAX_FRAGMENTS fragments, whatever the size. A count asked for is
    // honoured as it is (the original cuts size/FRAGS); the 1 KiB floor only keeps the
    // defaults and sizes from making many tiny fragments.
    let floor = match split {
        Split::Fragments(_) => 1,
        _ => MIN_FRAGMENT_BYTES.min(size.max(1)),
    };
    bytes.max(size.div_ceil(MAX_FRAGMENTS)).max(floor).max(1)
}

/// The name of fragment `n` (from 1) of a package.
pub fn fragment_name(fileid: &str, n: u64) -> String {
    format!("{fileid}-{n}")
}

/// Removes a directory when dropped, unless disarmed: what makes an interrupted build leave
/// nothing.
struct DirGuard {
    path: Option<PathBuf>,
}

impl DirGuard {
    fn disarm(&mut self) {
        self.path = None;
    }
}

impl Drop for DirGuard {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            if let Err(e) = std::fs::remove_dir_all(&p) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %p.display(), error = %e, "could not remove an unfinished package build");
                }
            }
        }
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> AppError {
    if e.kind() == std::io::ErrorKind::StorageFull {
        return AppError::Internal(format!("{what} {}: disk full", path.display()));
    }
    AppError::Internal(format!("{what} {}: {e}", path.display()))
}

/// Reserves a FILEID: the build's Unix time, or the next second that no package, package
/// directory or build in progress has.
async fn reserve(state: &AppState, dir: &Path, now: i64) -> Result<(String, DirGuard), AppError> {
    for t in now.max(1)..now.max(1) + 10_000 {
        let fileid = t.to_string();
        if tokio::fs::try_exists(dir.join(&fileid))
            .await
            .unwrap_or(true)
            || state.store.find_package(&fileid).await?.is_some()
        {
            continue;
        }
        let work = dir.join(format!(".build-{fileid}"));
        match tokio::fs::create_dir(&work).await {
            Ok(()) => return Ok((fileid, DirGuard { path: Some(work) })),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error("cannot create", &work, e)),
        }
    }
    Err(AppError::Internal("no free FILEID".to_owned()))
}

/// What streaming the archive gave.
struct Streamed {
    size: u64,
    digest: String,
}

/// Copies the archive to `path`, computing its MD5, refusing more than `limit` bytes and
/// anything that does not start as a ZIP or gzip stream does.
async fn stream_archive<S: ArchiveSource>(
    source: &mut S,
    file_name: &str,
    path: &Path,
    limit: u64,
) -> Result<Streamed, AppError> {
    let file = tokio::fs::File::create(path)
        .await
        .map_err(|e| io_error("cannot create", path, e))?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut md5 = Md5::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(4);
    while let Some(bytes) = source.next_chunk().await? {
        let chunk: &[u8] = &bytes;
        let n = chunk.len();
        if head.len() < 4 {
            let take = (4 - head.len()).min(n);
            head.extend_from_slice(chunk.get(..take).unwrap_or_default());
            if head.len() == 4 {
                archive_kind(&head, file_name)?;
            }
        }
        size += n as u64;
        if size > limit {
            return Err(AppError::TooLarge {
                code: "E_PACKAGE_TOO_LARGE",
                message: format!("the archive is larger than {limit} bytes"),
            });
        }
        md5.update(chunk);
        out.write_all(chunk)
            .await
            .map_err(|e| io_error("cannot write", path, e))?;
    }
    if head.len() < 4 {
        archive_kind(&head, file_name)?;
    }
    out.flush()
        .await
        .map_err(|e| io_error("cannot write", path, e))?;
    Ok(Streamed {
        size,
        digest: hex::encode(md5.finalize()),
    })
}

/// Cuts the archive into `<fileid>-<n>` files next to it and removes it; returns the
/// number of fragments. Runs on the blocking pool.
fn cut(work: &Path, archive: &Path, fileid: &str, fragment: u64) -> std::io::Result<u64> {
    let mut input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(archive)?);
    let mut n = 0;
    loop {
        let mut probe = [0u8; 1];
        let first = input.read(&mut probe)?;
        if first == 0 {
            break;
        }
        n += 1;
        let path = work.join(fragment_name(fileid, n));
        let file = std::fs::File::create(&path)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        out.write_all(&probe)?;
        std::io::copy(&mut (&mut input).take(fragment - 1), &mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    std::fs::remove_file(archive)?;
    Ok(n)
}

/// The info file of a package.
pub fn info_file(
    spec: &PackageSpec,
    fileid: &str,
    fragments: u32,
    digest: &str,
    protocol: Protocol,
) -> InfoFile {
    let action = match spec.action {
        ActionKind::Launch => Action::Launch {
            name: spec.action_param.clone(),
        },
        ActionKind::Execute => Action::Execute {
            command: spec.action_param.clone(),
        },
        ActionKind::Store => Action::Store {
            path: spec.action_param.clone(),
        },
    };
    InfoFile {
        id: fileid.to_owned(),
        priority: spec.priority,
        action,
        digest: digest.to_owned(),
        protocol,
        fragments,
        digest_algorithm: DigestAlgorithm::Md5,
        digest_encoding: DigestEncoding::Hexa,
        notify_user: spec.notify_user,
        notify_text: spec.notify_text.clone(),
        notify_countdown: spec.notify_countdown,
        notify_can_abort: spec.notify_can_abort,
        notify_can_delay: spec.notify_can_delay,
        need_done_action: !spec.done_action_text.is_empty(),
        need_done_action_text: spec.done_action_text.clone(),
        gardefou: "rien".to_owned(),
    }
}

/// Builds a package and returns its FILEID.
pub async fn build<S: ArchiveSource>(
    state: &AppState,
    by: &Deployer,
    spec: &PackageSpec,
    archive: Option<Archive<S>>,
) -> Result<String, AppError> {
    check_spec(spec, archive.is_some())?;
    let dir = state.config.download_dir();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| io_error("cannot create", &dir, e))?;
    let now = state.clock.now();
    let (fileid, mut guard) = reserve(state, &dir, now).await?;
    let work = dir.join(format!(".build-{fileid}"));

    let (size, digest, fragments) = match archive {
        None => (0, String::new(), 0),
        Some(mut a) => {
            let path = work.join("archive");
            let s = stream_archive(
                &mut a.source,
                &a.file_name,
                &path,
                state.config.deployment.max_package_bytes,
            )
            .await?;
            let piece = fragment_bytes(spec.split, s.size);
            let (w, id) = (work.clone(), fileid.clone());
            let n = tokio::task::spawn_blocking(move || cut(&w, &path, &id, piece))
                .await
                .map_err(|e| AppError::Internal(format!("cutting fragments: {e}")))?
                .map_err(|e| io_error("cannot cut fragments in", &work, e))?;
            (s.size, s.digest, n)
        }
    };
    let frags = u32::try_from(fragments)
        .map_err(|_| AppError::Internal("too many fragments".to_owned()))?;
    let info = info_file(spec, &fileid, frags, &digest, spec.protocol).to_xml();
    let info_path = work.join("info");
    write_synced(&info_path, info.as_bytes()).await?;

    let target = dir.join(&fileid);
    tokio::fs::rename(&work, &target)
        .await
        .map_err(|e| io_error("cannot move the build to", &target, e))?;
    guard.disarm();
    let mut placed = DirGuard { path: Some(target) };

    let record = PackageRecord {
        fileid: fileid.clone(),
        name: spec.name.trim().to_owned(),
        description: spec.description.clone(),
        os: spec.os.as_str().to_owned(),
        action: match spec.action {
            ActionKind::Launch => "LAUNCH",
            ActionKind::Execute => "EXECUTE",
            ActionKind::Store => "STORE",
        }
        .to_owned(),
        action_param: spec.action_param.clone(),
        priority: i64::from(spec.priority),
        fragments: i64::from(frags),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        digest,
        created_at: now,
        created_by: by.label().to_owned(),
    };
    state.store.insert_package(&record).await?;
    placed.disarm();
    log(
        state,
        by,
        "build",
        &fileid,
        format!("{} ({} bytes, {} fragments)", record.name, size, frags),
    )
    .await;
    tracing::info!(fileid = %fileid, by = by.label(), size, fragments = frags, "package built");
    Ok(fileid)
}

/// Writes a small file and syncs it.
pub(crate) async fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    let mut f = tokio::fs::File::create(path)
        .await
        .map_err(|e| io_error("cannot create", path, e))?;
    f.write_all(bytes)
        .await
        .map_err(|e| io_error("cannot write", path, e))?;
    f.sync_all()
        .await
        .map_err(|e| io_error("cannot write", path, e))
}

/// Appends to the deployment log; a failure is logged, not returned, since the action itself
/// is done by then.
pub(crate) async fn log(
    state: &AppState,
    by: &Deployer,
    action: &str,
    fileid: &str,
    detail: String,
) {
    let entry = DeploymentLogEntry {
        at: state.clock.now(),
        actor: by.label().to_owned(),
        action: action.to_owned(),
        fileid: fileid.to_owned(),
        detail,
    };
    if let Err(e) = state.store.log_deployment(&entry).await {
        tracing::error!(fileid, action, error = %e, "deployment log write failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_magic_and_extension() {
        assert_eq!(
            archive_kind(b"PK\x03\x04", "a.zip").ok(),
            Some(ArchiveKind::Zip)
        );
        assert_eq!(
            archive_kind(b"\x1f\x8b\x08\x00", "a.tar.gz").ok(),
            Some(ArchiveKind::Gzip)
        );
        assert_eq!(
            archive_kind(b"\x1f\x8b\x08\x00", "").ok(),
            Some(ArchiveKind::Gzip)
        );
        assert!(archive_kind(b"PK\x03\x04", "a.tar.gz").is_err());
        assert!(archive_kind(b"#!/b", "a.zip").is_err());
        assert!(archive_kind(b"PK\x03\x04", "a.exe").is_err());
        assert!(archive_kind(b"", "").is_err());
    }

    #[test]
    fn fragment_sizes() {
        assert_eq!(fragment_bytes(Split::Fragments(4), 10_000), 2500);
        assert_eq!(fragment_bytes(Split::Fragments(3), 10_000), 3334);
        assert_eq!(fragment_bytes(Split::FragmentSize(4096), 10_000), 4096);
        assert_eq!(
            fragment_bytes(Split::Default, 100 << 20),
            DEFAULT_FRAGMENT_BYTES
        );
        // A count is honoured even for a small archive.
        assert_eq!(fragment_bytes(Split::Fragments(2), 114), 57);
        // Never more than MAX_FRAGMENTS.
        assert_eq!(
            fragment_bytes(Split::FragmentSize(1024), 100 << 20),
            (100u64 << 20).div_ceil(MAX_FRAGMENTS)
        );
    }

    #[test]
    fn specs_refused() {
        let ok = PackageSpec::new("p", TargetOs::Linux, ActionKind::Execute, "true");
        assert!(check_spec(&ok, false).is_ok());
        let mut s = ok.clone();
        s.priority = 11;
        assert_eq!(
            check_spec(&s, false).err().map(|e| e.code()),
            Some("E_PACKAGE_PRIORITY")
        );
        let s = PackageSpec::new("p", TargetOs::Linux, ActionKind::Store, "INSTALL_PATH/../x");
        assert_eq!(
            check_spec(&s, true).err().map(|e| e.code()),
            Some("E_PACKAGE_PATH")
        );
        let s = PackageSpec::new("p", TargetOs::Linux, ActionKind::Store, "/opt/x");
        assert_eq!(
            check_spec(&s, false).err().map(|e| e.code()),
            Some("E_PACKAGE_FILE")
        );
        let s = PackageSpec::new("p", TargetOs::Linux, ActionKind::Launch, "../setup.sh");
        assert_eq!(
            check_spec(&s, true).err().map(|e| e.code()),
            Some("E_PACKAGE_LAUNCH")
        );
        let s = PackageSpec::new("p\n", TargetOs::Linux, ActionKind::Execute, "true");
        assert_eq!(
            check_spec(&s, false).err().map(|e| e.code()),
            Some("E_PACKAGE_NAME")
        );
        let s = PackageSpec::new("", TargetOs::Linux, ActionKind::Execute, "true");
        assert!(check_spec(&s, false).is_err());
        let mut s = ok.clone();
        s.split = Split::Fragments(0);
        assert_eq!(
            check_spec(&s, false).err().map(|e| e.code()),
            Some("E_PACKAGE_FRAGMENTS")
        );
    }

    #[test]
    fn cutting_keeps_every_byte_in_order() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let archive = dir.path().join("archive");
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&archive, &data)?;
        let n = cut(dir.path(), &archive, "1700000000", 3000)?;
        assert_eq!(n, 4);
        assert!(!archive.exists());
        let mut joined = Vec::new();
        for i in 1..=n {
            let part = std::fs::read(dir.path().join(fragment_name("1700000000", i)))?;
            assert_eq!(part.len(), if i < 4 { 3000 } else { 1000 });
            joined.extend(part);
        }
        assert_eq!(joined, data);
        Ok(())
    }

    #[test]
    fn info_file_round_trips() -> Result<(), Box<dyn std::error::Error>> {
        let mut spec = PackageSpec::new("p", TargetOs::Linux, ActionKind::Execute, "sh run.sh");
        spec.priority = 3;
        spec.notify_countdown = Some(30);
        spec.done_action_text = "done".to_owned();
        let info = info_file(&spec, "1700000000", 4, "abc", Protocol::Https);
        let back = InfoFile::parse(info.to_xml().as_bytes())?;
        assert_eq!(back, info);
        assert!(back.need_done_action);
        Ok(())
    }

    use std::sync::Arc;

    use ocs_storage::{Store, StoreOptions};

    use crate::app::Clock;
    use crate::config::Config;

    struct FixedClock;

    impl Clock for FixedClock {
        fn now(&self) -> i64 {
            1_700_000_000
        }
    }

    async fn state(dir: &tempfile::TempDir, max: u64) -> AppState {
        let url = match ocs_testkit::test_database().unwrap() {
            Some(url) => url,
            None => format!("sqlite:{}", dir.path().join("build.db").display()),
        };
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let mut config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        config.deployment.max_package_bytes = max;
        AppState {
            store,
            intake: Arc::new(crate::app::agent::intake::Intake::new(&config)),
            config: Arc::new(config),
            clock: Arc::new(FixedClock),
            password_permits: crate::app::auth::password_hashing_permits(),
            agent_auth: Arc::default(),
            token_uses: Arc::default(),
            contacts: Arc::default(),
            group_revalidation: Arc::default(),
        }
    }

    /// Chunks given one by one, then an error or the end.
    struct Chunks(Vec<Result<Vec<u8>, AppError>>);

    impl ArchiveSource for Chunks {
        async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, AppError> {
            if self.0.is_empty() {
                return Ok(None);
            }
            self.0.remove(0).map(|c| Some(c.into()))
        }
    }

    fn archive(chunks: Vec<Result<Vec<u8>, AppError>>) -> Option<Archive<Chunks>> {
        Some(Archive {
            file_name: "p.tar.gz".into(),
            source: Chunks(chunks),
        })
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[tokio::test]
    async fn builds_info_fragments_row_and_log() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&dir, 1 << 20).await;
        let mut data = b"\x1f\x8b\x08\x00".to_vec();
        data.extend((0..10_000u32).map(|i| (i % 253) as u8));
        let mut spec = PackageSpec::new("Marker", TargetOs::Linux, ActionKind::Execute, "sh x.sh");
        spec.split = Split::Fragments(3);
        let (a, b) = data.split_at(5000);
        let fileid = build(
            &state,
            &Deployer::cli(),
            &spec,
            archive(vec![Ok(a.to_vec()), Ok(b.to_vec())]),
        )
        .await
        .unwrap();
        assert_eq!(fileid, "1700000000");
        let pdir = state.config.download_dir().join(&fileid);
        assert_eq!(
            leftovers(&pdir),
            vec!["1700000000-1", "1700000000-2", "1700000000-3", "info"]
        );
        let mut joined = Vec::new();
        for n in 1..=3 {
            joined.extend(std::fs::read(pdir.join(fragment_name(&fileid, n))).unwrap());
        }
        assert_eq!(joined, data);
        let info = InfoFile::parse(&std::fs::read(pdir.join("info")).unwrap()).unwrap();
        let digest = hex::encode(Md5::digest(&data));
        assert_eq!((info.id.as_str(), info.fragments), ("1700000000", 3));
        assert_eq!(info.digest, digest);
        let row = state.store.find_package(&fileid).await.unwrap().unwrap();
        assert_eq!(
            (
                row.size,
                row.fragments,
                row.digest.as_str(),
                row.os.as_str()
            ),
            (data.len() as i64, 3, digest.as_str(), "LINUX")
        );
        let log = state.store.deployment_log(&fileid, 10).await.unwrap();
        assert_eq!(
            log.iter()
                .map(|e| (e.actor.as_str(), e.action.as_str()))
                .collect::<Vec<_>>(),
            vec![("cli", "build")]
        );
        // The same second again: the next free one.
        let second = build(
            &state,
            &Deployer::cli(),
            &spec,
            archive(vec![Ok(data.clone())]),
        )
        .await
        .unwrap();
        assert_eq!(second, "1700000001");
        // A command without a file.
        let third = build::<Chunks>(&state, &Deployer::cli(), &spec, None)
            .await
            .unwrap();
        let info = InfoFile::parse(
            &std::fs::read(state.config.download_dir().join(&third).join("info")).unwrap(),
        )
        .unwrap();
        assert_eq!((info.fragments, info.digest.as_str()), (0, ""));
    }

    #[tokio::test]
    async fn an_interrupted_or_refused_build_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&dir, 8192).await;
        let spec = PackageSpec::new("p", TargetOs::Linux, ActionKind::Execute, "true");
        let cases = vec![
            // The upload breaks off.
            vec![
                Ok(b"\x1f\x8b\x08\x00abc".to_vec()),
                Err(bad("E_PACKAGE_UPLOAD", "connection reset")),
            ],
            // Over the limit.
            vec![Ok(b"\x1f\x8b".to_vec()), Ok(vec![0u8; 9000])],
            // Not an archive.
            vec![Ok(b"#!/bin/sh\n".to_vec())],
        ];
        for (chunks, code) in cases.into_iter().zip([
            "E_PACKAGE_UPLOAD",
            "E_PACKAGE_TOO_LARGE",
            "E_PACKAGE_ARCHIVE",
        ]) {
            let e = build(&state, &Deployer::cli(), &spec, archive(chunks))
                .await
                .unwrap_err();
            assert_eq!(e.code(), code);
            assert!(leftovers(&state.config.download_dir()).is_empty());
        }
        // A build whose future is dropped half-way (the client went away).
        struct Stalls(bool);
        impl ArchiveSource for Stalls {
            async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, AppError> {
                if std::mem::replace(&mut self.0, false) {
                    return Ok(Some(bytes::Bytes::from_static(b"PK\x03\x04data")));
                }
                std::future::pending().await
            }
        }
        let by = Deployer::cli();
        let fut = build(
            &state,
            &by,
            &spec,
            Some(Archive {
                file_name: "p.zip".into(),
                source: Stalls(true),
            }),
        );
        let timed = tokio::time::timeout(std::time::Duration::from_millis(200), fut).await;
        assert!(timed.is_err());
        assert!(leftovers(&state.config.download_dir()).is_empty());
        assert!(state.store.list_packages().await.unwrap().is_empty());
    }
}
