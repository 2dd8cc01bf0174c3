//! Giving packages to computers and groups (issue item 6, reference §6.1): affect with force,
//! schedule and post-command, unaffect; what a computer's and a group's pages show about
//! deployment. Only an [`Editor`] (administrator, write-scoped token, command line) changes
//! anything, and every change goes to the deployment log with its login.

use ocs_storage::{
    ActivationId, Affectation, ComputerAffectation, DeploymentLogEntry, GroupAffectation, GroupId,
    HostId, RedistributionGroupId,
};

use crate::app::groups::Editor;
use crate::app::{AppError, AppState};

/// Post-commands offered (reference §2.1.6 `POSTCMD`; '' is none).
pub const POSTCMDS: &[&str] = &["", "REBOOT", "SHUTDOWN"];

/// Computers one request may affect at most (a mass action over a whole search result).
pub const MAX_COMPUTERS: usize = 100_000;

/// Checks and builds the way a package is given: schedule `YYYY/MM/DD HH:MM` or empty,
/// post-command one of [`POSTCMDS`].
pub fn affectation(forced: bool, schedule: &str, postcmd: &str) -> Result<Affectation, AppError> {
    let schedule = schedule.trim();
    if !schedule.is_empty() && !valid_schedule(schedule) {
        return Err(AppError::bad_request(
            "E_BAD_SCHEDULE",
            "the schedule must read YYYY/MM/DD HH:MM",
        ));
    }
    let postcmd = postcmd.trim().to_ascii_uppercase();
    if !POSTCMDS.contains(&postcmd.as_str()) {
        return Err(AppError::bad_request(
            "E_BAD_POSTCMD",
            "the post-command is REBOOT, SHUTDOWN or nothing",
        ));
    }
    Ok(Affectation {
        forced,
        schedule: schedule.to_owned(),
        postcmd,
    })
}

/// Longest package ID a form may name (FILEIDs are timestamps, far shorter).
const MAX_FILEID_LEN: usize = 64;

/// The activation a form picked (`activation` field).
pub fn parse_activation(text: &str) -> Result<ActivationId, AppError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(ActivationId)
        .ok_or_else(|| AppError::bad_request("E_BAD_PARAM", "affect.choose_package"))
}

/// The package a form names (`fileid` field): digits only, bounded, so it can never name a
/// path.
pub fn parse_fileid(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_FILEID_LEN || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_request(
            "E_BAD_PARAM",
            "affect.choose_package",
        ));
    }
    Ok(text.to_owned())
}

/// The force checkbox of a form.
pub fn parse_forced(text: &str) -> bool {
    matches!(text, "1" | "on" | "true")
}

/// `YYYY/MM/DD HH:MM` naming a real date and time.
fn valid_schedule(text: &str) -> bool {
    let format = time::macros::format_description!("[year]/[month]/[day] [hour]:[minute]");
    text.len() == 16 && time::PrimitiveDateTime::parse(text, &format).is_ok()
}

/// An activation that can be given: the package must still be in the catalogue.
async fn activation_package(
    state: &AppState,
    activation: ActivationId,
) -> Result<String, AppError> {
    let a = state
        .store
        .find_activation(activation)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("activation {} not found", activation.0)))?;
    if state.store.find_package(&a.fileid).await?.is_none() {
        return Err(AppError::NotFound(format!(
            "package {} not found",
            a.fileid
        )));
    }
    Ok(a.fileid)
}

/// The activation to give when only a package is named: its main-server activation.
pub async fn main_activation(state: &AppState, fileid: &str) -> Result<ActivationId, AppError> {
    if state.store.find_package(fileid).await?.is_none() {
        return Err(AppError::NotFound(format!("package {fileid} not found")));
    }
    state
        .store
        .activations_of(fileid)
        .await?
        .into_iter()
        .find(|a| a.server_id.is_none())
        .map(|a| a.id)
        .ok_or_else(|| {
            AppError::bad_request(
                "E_NOT_ACTIVATED",
                format!("package {fileid} is not activated on this server"),
            )
        })
}

/// Which activation each computer gets when a package activated for a redistribution group is
/// given to it: the activation of a server on one of the computer's subnets, else the group's
/// first server (the lowest activation ID), so every computer has one. Returns the computers
/// grouped by activation.
pub async fn redistribution_activations(
    state: &AppState,
    fileid: &str,
    group: RedistributionGroupId,
    ids: &[HostId],
) -> Result<Vec<(ActivationId, Vec<HostId>)>, AppError> {
    if state.store.find_package(fileid).await?.is_none() {
        return Err(AppError::NotFound(format!("package {fileid} not found")));
    }
    let servers: Vec<(ActivationId, HostId)> = state
        .store
        .activations_of(fileid)
        .await?
        .into_iter()
        .filter(|a| a.group_id == Some(group))
        .filter_map(|a| a.server_id.map(|s| (a.id, s)))
        .collect();
    let Some(&(first, _)) = servers.iter().min_by_key(|(a, _)| *a) else {
        return Err(AppError::bad_request(
            "E_NOT_ACTIVATED",
            format!(
                "package {fileid} is not activated for redistribution group {}",
                group.0
            ),
        ));
    };
    let server_hosts: Vec<HostId> = servers.iter().map(|(_, h)| *h).collect();
    let server_subnets = state.store.subnets_of(&server_hosts).await?;
    let mut by_subnet: std::collections::HashMap<&str, ActivationId> =
        std::collections::HashMap::new();
    for (host, subnet) in &server_subnets {
        if let Some(&(a, _)) = servers.iter().find(|(_, h)| h == host) {
            let e = by_subnet.entry(subnet.as_str()).or_insert(a);
            *e = (*e).min(a);
        }
    }
    let subnets = state.store.subnets_of(ids).await?;
    let mut chosen: std::collections::BTreeMap<ActivationId, Vec<HostId>> =
        std::collections::BTreeMap::new();
    for id in ids {
        let near = subnets
            .iter()
            .filter(|(h, _)| h == id)
            .filter_map(|(_, s)| by_subnet.get(s.as_str()).copied())
            .min();
        chosen.entry(near.unwrap_or(first)).or_default().push(*id);
    }
    Ok(chosen.into_iter().collect())
}

async fn log(state: &AppState, by: &Editor, action: &str, fileid: &str, detail: String) {
    let entry = DeploymentLogEntry {
        at: state.clock.now(),
        actor: by.label().to_owned(),
        action: action.to_owned(),
        fileid: fileid.to_owned(),
        detail,
    };
    // The change is made; a log that cannot be written is reported, not a reason to fail it.
    if let Err(e) = state.store.log_deployment(&entry).await {
        tracing::error!(error = %e, fileid, action, "deployment log not written");
    }
    tracing::info!(actor = by.label(), action, fileid, "{}", entry.detail);
}

fn describe(how: &Affectation) -> String {
    let mut out = Vec::new();
    if how.forced {
        out.push("forced".to_owned());
    }
    if !how.schedule.is_empty() {
        out.push(format!("schedule {}", how.schedule));
    }
    if !how.postcmd.is_empty() {
        out.push(format!("postcmd {}", how.postcmd));
    }
    out.join(", ")
}

fn id_list(ids: &[HostId]) -> String {
    let shown: Vec<String> = ids.iter().take(20).map(|i| i.0.to_string()).collect();
    let more = ids.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} and {more} more", shown.join(","))
    } else {
        shown.join(",")
    }
}

fn check_size(ids: &[HostId]) -> Result<(), AppError> {
    if ids.is_empty() {
        return Err(AppError::bad_request(
            "E_EMPTY_SELECTION",
            "no computer selected",
        ));
    }
    if ids.len() > MAX_COMPUTERS {
        return Err(AppError::TooLarge {
            code: "E_TOO_MANY_COMPUTERS",
            message: format!("at most {MAX_COMPUTERS} computers at once"),
        });
    }
    Ok(())
}

/// Gives an activation to computers (their status starts over); returns how many got it.
pub async fn affect_computers(
    state: &AppState,
    by: &Editor,
    activation: ActivationId,
    ids: &[HostId],
    how: &Affectation,
) -> Result<u64, AppError> {
    check_size(ids)?;
    let fileid = activation_package(state, activation).await?;
    let n = state.store.affect_computers(activation, ids, how).await?;
    log(
        state,
        by,
        "affect",
        &fileid,
        format!(
            "activation {} to {n} computer(s) [{}] {}",
            activation.0,
            id_list(ids),
            describe(how)
        ),
    )
    .await;
    Ok(n)
}

/// Takes a package back from computers; returns how many had it.
pub async fn unaffect_computers(
    state: &AppState,
    by: &Editor,
    fileid: &str,
    ids: &[HostId],
) -> Result<u64, AppError> {
    check_size(ids)?;
    let n = state.store.unaffect_computers(fileid, ids).await?;
    log(
        state,
        by,
        "unaffect",
        fileid,
        format!("from {n} computer(s) [{}]", id_list(ids)),
    )
    .await;
    Ok(n)
}

/// Gives an activation to a group: its members get it at their next PROLOG.
pub async fn affect_group(
    state: &AppState,
    by: &Editor,
    group: GroupId,
    activation: ActivationId,
    how: &Affectation,
) -> Result<(), AppError> {
    let fileid = activation_package(state, activation).await?;
    let g = state.store.get_group(group).await?;
    state.store.affect_group(group, activation, how).await?;
    log(
        state,
        by,
        "affect",
        &fileid,
        format!(
            "activation {} to group {} ({:?}) {}",
            activation.0,
            group.0,
            g.name,
            describe(how)
        ),
    )
    .await;
    Ok(())
}

/// Takes a package back from a group; members keep what their PROLOGs recorded.
pub async fn unaffect_group(
    state: &AppState,
    by: &Editor,
    group: GroupId,
    fileid: &str,
) -> Result<bool, AppError> {
    let had = state.store.unaffect_group(group, fileid).await?;
    if had {
        log(
            state,
            by,
            "unaffect",
            fileid,
            format!("from group {}", group.0),
        )
        .await;
    }
    Ok(had)
}

/// What a computer's page shows: affected packages, and the download history (§6.5) as
/// `(package ID, name)`; not found for an unknown computer.
pub async fn computer_deployment(
    state: &AppState,
    id: HostId,
) -> Result<(Vec<ComputerAffectation>, Vec<(String, String)>), AppError> {
    state.store.require_host(id).await?;
    Ok((
        state.store.affectations_of_computer(id).await?,
        state.store.download_history_named(id).await?,
    ))
}

/// The packages given to a group.
pub async fn group_deployment(
    state: &AppState,
    group: GroupId,
) -> Result<Vec<GroupAffectation>, AppError> {
    Ok(state.store.affectations_of_group(group).await?)
}

/// Activations an administrator can pick from: `(activation, "name (FILEID)" + where)`,
/// newest package first.
pub async fn activation_choices(state: &AppState) -> Result<Vec<(ActivationId, String)>, AppError> {
    let mut out = Vec::new();
    for p in state.store.list_packages().await? {
        if p.activations == 0 {
            continue;
        }
        for a in state.store.activations_of(&p.package.fileid).await? {
            let place = match a.server_id {
                None => String::new(),
                Some(server) => format!(" — {} #{}", a.pack_loc, server.0),
            };
            out.push((
                a.id,
                format!("{} ({}){place}", p.package.name, p.package.fileid),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affectation_checks() {
        assert!(affectation(false, "", "").is_ok());
        let a = affectation(true, " 2030/01/31 23:59 ", "reboot").unwrap();
        assert_eq!(a.schedule, "2030/01/31 23:59");
        assert_eq!(a.postcmd, "REBOOT");
        assert!(affectation(false, "2030/02/30 10:00", "").is_err());
        assert!(affectation(false, "2030-01-01 10:00", "").is_err());
        assert!(affectation(false, "2030/1/1 10:00", "").is_err());
        assert!(affectation(false, "", "rm -rf /").is_err());
    }

    #[test]
    fn form_fields_are_checked() {
        assert_eq!(parse_activation(" 7 ").unwrap(), ActivationId(7));
        assert!(parse_activation("0").is_err());
        assert!(parse_activation("x").is_err());
        assert_eq!(parse_fileid("1700000000").unwrap(), "1700000000");
        assert!(parse_fileid("../etc").is_err());
        assert!(parse_fileid("").is_err());
        assert!(parse_fileid(&"1".repeat(65)).is_err());
        assert!(parse_forced("1") && parse_forced("on") && !parse_forced(""));
    }
}
