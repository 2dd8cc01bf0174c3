//! `ocs-server package build|list|delete|activate|deactivate|export|affect|status`: packages from the command line,
//! through the same services as the console and the API.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use ocs_proto::info::Protocol;
use ocs_storage::deployment::RedistributionGroupId;

use crate::app::deployment::activate::{self, ActivationRequest};
use crate::app::deployment::build::{
    self, ActionKind, Archive, Deployer, PackageSpec, ReaderSource, Split, TargetOs,
};
use crate::app::deployment::{export, packages};
use crate::app::{AppError, AppState};

/// The `package` subcommands.
#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Build a package and print its FILEID.
    Build(BuildArgs),
    /// List the packages: FILEID, OS, size, fragments, priority, created, activations, name.
    List,
    /// Delete a package: its files, activations and affectations.
    Delete {
        /// FILEID.
        id: String,
    },
    /// Activate a package once its info file is found where agents will fetch it.
    Activate {
        /// FILEID.
        id: String,
        /// Info file location (HTTPS) [default: this server's /download].
        #[arg(long, value_name = "URL")]
        info_url: Option<String>,
        /// Fragments location (HTTP or HTTPS) [default: this server's /download].
        #[arg(long, value_name = "URL")]
        fragments_url: Option<String>,
        /// Activate for the servers of this redistribution group (fragments from them).
        #[arg(long, value_name = "ID")]
        redistribution_group: Option<i64>,
    },
    /// Remove a package's activations (and the affectations of them).
    Deactivate {
        /// FILEID.
        id: String,
    },
    /// Write the files of every activated package under DIR, as a redistribution server serves them.
    Export {
        /// Target directory.
        dir: PathBuf,
    },
    /// Give the package to computers (its main-server activation), or take it back with
    /// `--unaffect`.
    Affect(super::package_affect_cli::AffectArgs),
    /// Counts per status of the package's affectations.
    Status(super::package_affect_cli::StatusArgs),
}

/// `package build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Name.
    #[arg(long)]
    name: String,
    /// Description.
    #[arg(long, default_value = "")]
    description: String,
    /// Target OS: windows, linux or macos.
    #[arg(long)]
    os: String,
    /// launch, execute or store.
    #[arg(long)]
    action: String,
    /// EXECUTE: the command to run.
    #[arg(long, value_name = "CMD")]
    command: Option<String>,
    /// LAUNCH: the file of the archive to run.
    #[arg(long, value_name = "FILE")]
    name_to_launch: Option<String>,
    /// STORE: the destination directory (INSTALL_PATH allowed).
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// The archive (ZIP or tar.gz).
    #[arg(long, value_name = "ARCHIVE")]
    file: Option<PathBuf>,
    /// Priority, 0 (first) to 10.
    #[arg(long, default_value_t = 5)]
    priority: u8,
    /// Number of fragments.
    #[arg(long, value_name = "K", conflicts_with = "fragment_size")]
    fragments: Option<u64>,
    /// Fragment size in bytes.
    #[arg(long, value_name = "BYTES")]
    fragment_size: Option<u64>,
    /// Fetch fragments over HTTPS rather than HTTP.
    #[arg(long)]
    https_fragments: bool,
    /// Show a notification to the user before running.
    #[arg(long)]
    notify: bool,
    /// Its text.
    #[arg(long, default_value = "")]
    notify_text: String,
    /// Seconds before it goes on by itself.
    #[arg(long, value_name = "SECONDS")]
    notify_countdown: Option<u32>,
    /// The user may cancel.
    #[arg(long)]
    notify_can_abort: bool,
    /// The user may postpone.
    #[arg(long)]
    notify_can_delay: bool,
    /// Message shown once done.
    #[arg(long, default_value = "")]
    done_text: String,
}

fn failed(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e} ({})", e.code())
}

fn spec(a: &BuildArgs) -> anyhow::Result<PackageSpec> {
    let os = TargetOs::parse(&a.os).map_err(failed)?;
    let action = ActionKind::parse(&a.action).map_err(failed)?;
    let param = match action {
        ActionKind::Execute => a.command.clone(),
        ActionKind::Launch => a.name_to_launch.clone(),
        ActionKind::Store => a.path.clone(),
    }
    .ok_or_else(|| {
        anyhow::anyhow!(match action {
            ActionKind::Execute => "--action execute needs --command CMD",
            ActionKind::Launch => "--action launch needs --name-to-launch FILE",
            ActionKind::Store => "--action store needs --path PATH",
        })
    })?;
    let mut s = PackageSpec::new(&a.name, os, action, &param);
    s.description = a.description.clone();
    s.priority = a.priority;
    s.split = match (a.fragments, a.fragment_size) {
        (Some(k), _) => Split::Fragments(k),
        (None, Some(b)) => Split::FragmentSize(b),
        (None, None) => Split::Default,
    };
    if a.https_fragments {
        s.protocol = Protocol::Https;
    }
    s.notify_user = a.notify;
    s.notify_text = a.notify_text.clone();
    s.notify_countdown = a.notify_countdown;
    s.notify_can_abort = a.notify_can_abort;
    s.notify_can_delay = a.notify_can_delay;
    s.done_action_text = a.done_text.clone();
    Ok(s)
}

/// Runs one `package` subcommand.
pub async fn run(state: &AppState, command: PackageCommand) -> anyhow::Result<ExitCode> {
    let by = Deployer::cli();
    match command {
        PackageCommand::Affect(a) => return super::package_affect_cli::affect(state, a).await,
        PackageCommand::Status(a) => return super::package_affect_cli::status(state, a).await,
        PackageCommand::Build(a) => {
            let s = spec(&a)?;
            let fileid = match &a.file {
                Some(path) => {
                    let file = tokio::fs::File::open(path)
                        .await
                        .with_context(|| format!("cannot open {}", path.display()))?;
                    let file_name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    build::build(
                        state,
                        &by,
                        &s,
                        Some(Archive {
                            file_name,
                            source: ReaderSource::new(file),
                        }),
                    )
                    .await
                }
                None => build::build::<ReaderSource<tokio::fs::File>>(state, &by, &s, None).await,
            }
            .map_err(failed)?;
            println!("{fileid}");
        }
        PackageCommand::List => {
            let list = packages::list(state).await.map_err(failed)?;
            println!(
                "{:<12}  {:<8}  {:>12}  {:>6}  {:>3}  {:<16}  {:>5}  NAME",
                "FILEID", "OS", "SIZE", "FRAGS", "PRI", "CREATED", "ACT"
            );
            for p in list {
                let r = &p.package;
                println!(
                    "{:<12}  {:<8}  {:>12}  {:>6}  {:>3}  {:<16}  {:>5}  {}",
                    r.fileid,
                    r.os,
                    r.size,
                    r.fragments,
                    r.priority,
                    crate::http::web::computers::date_text(r.created_at),
                    p.activations,
                    r.name
                );
            }
        }
        PackageCommand::Delete { id } => {
            packages::delete(state, &by, &id).await.map_err(failed)?;
            eprintln!("Package {id} deleted.");
        }
        PackageCommand::Activate {
            id,
            info_url,
            fragments_url,
            redistribution_group,
        } => {
            let req = ActivationRequest {
                info_url,
                fragments_url,
                redistribution_group: redistribution_group.map(RedistributionGroupId),
            };
            let ids = activate::activate(state, &by, &id, &req, None)
                .await
                .map_err(failed)?;
            for a in &ids {
                println!("{}", a.0);
            }
            eprintln!("Package {id} activated ({} activations).", ids.len());
        }
        PackageCommand::Deactivate { id } => {
            let n = activate::deactivate(state, &by, &id, &[])
                .await
                .map_err(failed)?;
            eprintln!("Package {id}: {n} activations removed.");
        }
        PackageCommand::Export { dir } => {
            let r = export::export(state, &dir).await.map_err(failed)?;
            eprintln!(
                "{} packages exported to {}: {} files written, {} up to date.",
                r.packages,
                dir.display(),
                r.written,
                r.kept
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
