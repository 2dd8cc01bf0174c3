//! `ocs-server package affect|status`: giving a package to computers and reading its
//! statistics from the command line, through the same services as the console and the API.
//! The `package` command (`package_cli`) holds these as its `Affect` and `Status` variants.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::app::deployment::{affect as deploy, status as stats};
use crate::app::groups::{self, Editor};
use crate::app::{AppError, AppState};

/// `package affect ID --computer NAME_OR_ID... [--force] [--schedule S] [--postcmd P]
/// [--redistribution-group G]`.
#[derive(Debug, Args)]
pub struct AffectArgs {
    /// The package (FILEID); its main-server activation is given.
    pub id: String,
    /// Computers: ID, name or DEVICEID.
    #[arg(long = "computer", required = true, value_name = "NAME_OR_ID")]
    pub computers: Vec<String>,
    /// Deploy again even if the agent's history has the package.
    #[arg(long)]
    pub force: bool,
    /// When the Windows agent may run it: YYYY/MM/DD HH:MM.
    #[arg(long, default_value = "")]
    pub schedule: String,
    /// After it: REBOOT or SHUTDOWN.
    #[arg(long, default_value = "")]
    pub postcmd: String,
    /// Give the package's activation for this redistribution group: each computer gets the
    /// fragments from a server of its own subnet (else from the group's first server).
    #[arg(long, value_name = "GROUP_ID")]
    pub redistribution_group: Option<i64>,
    /// Take the package back from these computers instead.
    #[arg(long)]
    pub unaffect: bool,
}

/// `package status ID [--json]`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The package (FILEID).
    pub id: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn failed(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e} ({})", e.code())
}

/// Runs `package affect`.
pub async fn affect(state: &AppState, args: AffectArgs) -> anyhow::Result<ExitCode> {
    let by = Editor::cli();
    let mut ids = Vec::with_capacity(args.computers.len());
    for name in &args.computers {
        ids.push(
            groups::resolve_computer(state, name)
                .await
                .map_err(failed)
                .with_context(|| format!("computer {name:?}"))?,
        );
    }
    if args.unaffect {
        let n = deploy::unaffect_computers(state, &by, &args.id, &ids)
            .await
            .map_err(failed)?;
        eprintln!("Package {} taken back from {n} computer(s).", args.id);
        return Ok(ExitCode::SUCCESS);
    }
    let how = deploy::affectation(args.force, &args.schedule, &args.postcmd).map_err(failed)?;
    let plan = match args.redistribution_group {
        Some(g) => deploy::redistribution_activations(
            state,
            &args.id,
            ocs_storage::RedistributionGroupId(g),
            &ids,
        )
        .await
        .map_err(failed)?,
        None => vec![(
            deploy::main_activation(state, &args.id)
                .await
                .map_err(failed)?,
            ids,
        )],
    };
    let mut n = 0;
    for (activation, computers) in plan {
        n += deploy::affect_computers(state, &by, activation, &computers, &how)
            .await
            .map_err(failed)?;
    }
    eprintln!("Package {} affected to {n} computer(s).", args.id);
    Ok(ExitCode::SUCCESS)
}

/// Runs `package status`.
pub async fn status(state: &AppState, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let s = stats::package_status(state, &args.id)
        .await
        .map_err(failed)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!("{} ({}): {} computer(s)", s.name, s.fileid, s.total);
        for c in &s.statuses {
            println!("{:>8}  {}", c.computers, c.status);
        }
    }
    Ok(ExitCode::SUCCESS)
}
