//! `ocs-server groups list|create|show|delete|add|remove|refresh`: groups from the command
//! line, through the same services as the console and the API.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use ocs_storage::groups::GroupKind;
use ocs_storage::HostId;

use crate::app::groups::{self, criteria, Editor, GroupInput};
use crate::app::{AppError, AppState};

/// The `groups` subcommands.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List every group: ID, kind, members, creation date, name.
    List,
    /// Create a group (static unless --criteria is given).
    Create {
        /// Its name (unique).
        name: String,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
        /// Criteria of a dynamic group, as the search page's query string, e.g.
        /// "f0=os&o0=equal&v0=Linux*&f1=software&o1=equal&v1=Firefox*"
        /// (fN field, oN operator: equal, different, smaller, bigger, between, outof; vN value; wN upper value).
        #[arg(long, value_name = "QUERY")]
        criteria: Option<String>,
    },
    /// Show a group: kind, description, criteria, dates and members.
    Show {
        /// Group ID or name.
        group: String,
    },
    /// Delete a group (its computers stay).
    Delete {
        /// Group ID or name.
        group: String,
    },
    /// Add computers to a static group, or force them into a dynamic one.
    Add {
        /// Group ID or name.
        group: String,
        /// Computers: ID, name or DEVICEID.
        #[arg(required = true)]
        computers: Vec<String>,
    },
    /// Remove computers from a static group, or force them out of a dynamic one.
    Remove {
        /// Group ID or name.
        group: String,
        /// Computers: ID, name or DEVICEID.
        #[arg(required = true)]
        computers: Vec<String>,
    },
    /// Recompute a dynamic group now, or every dynamic group when none is named.
    Refresh {
        /// Group ID or name.
        group: Option<String>,
    },
}

fn failed(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e} ({})", e.code())
}

async fn computers(state: &AppState, names: &[String]) -> anyhow::Result<Vec<HostId>> {
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        ids.push(
            groups::resolve_computer(state, name)
                .await
                .map_err(failed)
                .with_context(|| format!("computer {name:?}"))?,
        );
    }
    Ok(ids)
}

/// Runs one `groups` subcommand.
pub async fn run(state: &AppState, command: GroupsCommand) -> anyhow::Result<ExitCode> {
    let by = Editor::cli();
    match command {
        GroupsCommand::List => {
            let list = groups::list(state).await.map_err(failed)?;
            println!(
                "{:>6}  {:<8}  {:>8}  {:<16}  NAME",
                "ID", "KIND", "MEMBERS", "CREATED"
            );
            for g in list {
                println!(
                    "{:>6}  {:<8}  {:>8}  {:<16}  {}",
                    g.group.id.0,
                    g.group.kind.as_str(),
                    g.members,
                    crate::http::web::computers::date_text(g.group.created_at),
                    g.group.name
                );
            }
        }
        GroupsCommand::Create {
            name,
            description,
            criteria: query,
        } => {
            let (kind, rows) = match &query {
                Some(q) => (GroupKind::Dynamic, criteria::decode(q).map_err(failed)?),
                None => (GroupKind::Static, Vec::new()),
            };
            let id = groups::create(
                state,
                &by,
                &GroupInput {
                    name: name.clone(),
                    description,
                    kind,
                    criteria: rows,
                },
            )
            .await
            .map_err(failed)?;
            let view = groups::view(state, id).await.map_err(failed)?;
            println!("{}", id.0);
            eprintln!(
                "Group {name:?} ({}) created with {} members.",
                kind.as_str(),
                view.members
            );
        }
        GroupsCommand::Show { group } => {
            let g = groups::resolve_group(state, &group).await.map_err(failed)?;
            let view = groups::view(state, g.id).await.map_err(failed)?;
            let r = &view.record;
            println!("id: {}", r.id.0);
            println!("name: {}", r.name);
            println!("kind: {}", r.kind.as_str());
            println!("description: {}", r.description);
            println!(
                "created: {}",
                crate::http::web::computers::date_text(r.created_at)
            );
            if r.kind == GroupKind::Dynamic {
                println!("criteria: {}", criteria::encode(&view.criteria));
                if let Some(why) = &view.problem {
                    println!("criteria problem (no computed member): {why}");
                }
                println!(
                    "computed: {}",
                    if r.computed_at > 0 {
                        crate::http::web::computers::date_text(r.computed_at)
                    } else {
                        "never".to_owned()
                    }
                );
            }
            println!("members: {}", view.members);
            let ids = groups::member_ids(state, r.id).await.map_err(failed)?;
            for id in ids {
                println!("  {}", id.0);
            }
        }
        GroupsCommand::Delete { group } => {
            let g = groups::resolve_group(state, &group).await.map_err(failed)?;
            groups::delete(state, &by, g.id).await.map_err(failed)?;
            eprintln!("Group {:?} deleted.", g.name);
        }
        GroupsCommand::Add {
            group,
            computers: names,
        } => {
            let g = groups::resolve_group(state, &group).await.map_err(failed)?;
            let ids = computers(state, &names).await?;
            let n = groups::include_members(state, &by, g.id, &ids)
                .await
                .map_err(failed)?;
            eprintln!("{n} computers added to {:?}.", g.name);
        }
        GroupsCommand::Remove {
            group,
            computers: names,
        } => {
            let g = groups::resolve_group(state, &group).await.map_err(failed)?;
            let ids = computers(state, &names).await?;
            let n = groups::remove_members_as(state, &by, g.id, &ids)
                .await
                .map_err(failed)?;
            eprintln!("{n} computers removed from {:?}.", g.name);
        }
        GroupsCommand::Refresh { group } => {
            let targets = match group {
                Some(name) => vec![groups::resolve_group(state, &name).await.map_err(failed)?],
                None => groups::list(state)
                    .await
                    .map_err(failed)?
                    .into_iter()
                    .map(|g| g.group)
                    .filter(|g| g.kind == GroupKind::Dynamic)
                    .collect(),
            };
            for g in targets {
                let n = groups::recompute(state, &by, g.id).await.map_err(failed)?;
                println!("{}\t{}\t{n}", g.id.0, g.name);
            }
        }
    }
    state.store.close().await;
    Ok(ExitCode::SUCCESS)
}
