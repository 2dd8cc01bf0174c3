//! Giving packages from the console (issue item 6): the "Deployment" block of a computer's page
//! (affected packages with their status, unaffect, the affect form, the download history of
//! §6.5) and of a group's page (packages given to the group, add, remove). Both blocks are
//! pages of their own that the computer and group pages load in place with htmx, so they work
//! without script too. The rules live in `app::deployment::affect`.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use ocs_storage::{Affectation, GroupId, HostId};

use super::{error_page, outcome, Ctx, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::deployment::affect;
use crate::app::groups::Editor;
use crate::app::i18n::Tr;
use crate::app::mass::Action;
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/computers/{id}/deployment", get(computer_deployment_get))
        .route(
            "/computers/{id}/deployment/affect",
            post(computer_affect_post),
        )
        .route(
            "/computers/{id}/deployment/unaffect",
            post(computer_unaffect_post),
        )
        .route("/groups/{id}/deployment", get(group_deployment_get))
        .route("/groups/{id}/deployment/affect", post(group_affect_post))
        .route(
            "/groups/{id}/deployment/unaffect",
            post(group_unaffect_post),
        )
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

fn host_id(text: &str) -> Result<HostId, AppError> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(HostId)
        .ok_or_else(|| AppError::NotFound(format!("computer {text:?} not found")))
}

fn group_id(text: &str) -> Result<GroupId, AppError> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(GroupId)
        .ok_or_else(|| AppError::NotFound(format!("group {text:?} not found")))
}

/// The way a package is given, read from the affect form's `forced`, `schedule` and
/// `postcmd` fields.
pub fn affectation_fields(pairs: &[(String, String)]) -> Result<Affectation, AppError> {
    affect::affectation(
        affect::parse_forced(value(pairs, "forced")),
        value(pairs, "schedule"),
        value(pairs, "postcmd"),
    )
}

/// A package row of either block.
struct AffectedLine {
    fileid: String,
    name: String,
    status: String,
    changed: String,
    forced: bool,
    schedule: String,
    postcmd: String,
}

/// The text of a status: waiting (none yet), notified, or what the agent reported.
fn status_text(tr: &Tr, status: Option<&str>) -> String {
    match status {
        None => tr.get("affect.status_waiting").to_owned(),
        Some("NOTIFIED") => tr.get("affect.status_notified").to_owned(),
        Some(other) => other.to_owned(),
    }
}

fn postcmd_text(tr: &Tr, postcmd: &str) -> String {
    match postcmd {
        "" => String::new(),
        "REBOOT" => tr.get("affect.postcmd_reboot").to_owned(),
        "SHUTDOWN" => tr.get("affect.postcmd_shutdown").to_owned(),
        other => other.to_owned(),
    }
}

/// The post-commands the form offers: (value, label).
fn postcmd_choices(tr: &Tr) -> Vec<(&'static str, String)> {
    affect::POSTCMDS
        .iter()
        .map(|p| {
            let label = if p.is_empty() {
                tr.get("affect.postcmd_none").to_owned()
            } else {
                postcmd_text(tr, p)
            };
            (*p, label)
        })
        .collect()
}

fn block(ctx: &Ctx, view: &impl Template) -> Response {
    super::render_block(ctx, view)
}

#[derive(Template)]
#[template(path = "deployment/affect_computer.html")]
struct ComputerBlock {
    page: PageCtx,
    id: i64,
    lines: Vec<AffectedLine>,
    /// (package ID, name), newest first.
    history: Vec<(String, String)>,
    /// (activation ID, label).
    choices: Vec<(i64, String)>,
    postcmds: Vec<(&'static str, String)>,
}

async fn computer_deployment_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let host = host_id(&id)?;
        let (affected, history) = affect::computer_deployment(&state, host).await?;
        let choices = if viewer.is_admin() {
            affect::activation_choices(&state).await?
        } else {
            Vec::new()
        };
        Ok::<_, AppError>((host, affected, history, choices))
    }
    .await;
    let (host, affected, history, choices) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&ctx, &e),
    };
    let tr = &ctx.tr;
    let lines = affected
        .into_iter()
        .map(|a| {
            let status = status_text(tr, a.status.as_deref());
            let changed = a.changed.unwrap_or_default();
            affected_line(tr, a.fileid, a.name, a.affectation, status, changed)
        })
        .collect();
    let mut page = PageCtx::new(&ctx, &viewer, "computers");
    if ctx.hx {
        page.flash = None;
    }
    let view = ComputerBlock {
        postcmds: postcmd_choices(tr),
        page,
        id: host.0,
        lines,
        history,
        choices: choices.into_iter().map(|(a, label)| (a.0, label)).collect(),
    };
    block(&ctx, &view)
}

/// One row of a computer's or a group's packages (a group's have no status of their own).
fn affected_line(
    tr: &Tr,
    fileid: String,
    name: String,
    how: Affectation,
    status: String,
    changed: String,
) -> AffectedLine {
    AffectedLine {
        status,
        changed,
        postcmd: postcmd_text(tr, &how.postcmd),
        fileid,
        name,
        forced: how.forced,
        schedule: how.schedule,
    }
}

async fn computer_affect_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let host = host_id(&id)?;
        let activation = affect::parse_activation(value(&pairs, "activation"))?;
        let how = affectation_fields(&pairs)?;
        affect::affect_computers(&state, &Editor::console(&admin), activation, &[host], &how)
            .await
            .map(|_| ())
    }
    .await;
    outcome(
        &signed.ctx,
        &format!("/computers/{id}"),
        result,
        "affect.affected",
    )
}

async fn computer_unaffect_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let host = host_id(&id)?;
        let fileid = affect::parse_fileid(value(&pairs, "fileid"))?;
        affect::unaffect_computers(&state, &Editor::console(&admin), &fileid, &[host])
            .await
            .map(|_| ())
    }
    .await;
    outcome(
        &signed.ctx,
        &format!("/computers/{id}"),
        result,
        "affect.unaffected",
    )
}

#[derive(Template)]
#[template(path = "deployment/affect_group.html")]
struct GroupBlock {
    page: PageCtx,
    id: i64,
    lines: Vec<AffectedLine>,
    /// (activation ID, label).
    choices: Vec<(i64, String)>,
    postcmds: Vec<(&'static str, String)>,
}

async fn group_deployment_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let group = group_id(&id)?;
        let given = affect::group_deployment(&state, group).await?;
        let choices = if viewer.is_admin() {
            affect::activation_choices(&state).await?
        } else {
            Vec::new()
        };
        Ok::<_, AppError>((group, given, choices))
    }
    .await;
    let (group, given, choices) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&ctx, &e),
    };
    let tr = &ctx.tr;
    let lines = given
        .into_iter()
        .map(|a| {
            affected_line(
                tr,
                a.fileid,
                a.name,
                a.affectation,
                String::new(),
                String::new(),
            )
        })
        .collect();
    let mut page = PageCtx::new(&ctx, &viewer, "groups");
    if ctx.hx {
        page.flash = None;
    }
    let view = GroupBlock {
        postcmds: postcmd_choices(tr),
        page,
        id: group.0,
        lines,
        choices: choices.into_iter().map(|(a, label)| (a.0, label)).collect(),
    };
    block(&ctx, &view)
}

async fn group_affect_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let group = group_id(&id)?;
        let activation = affect::parse_activation(value(&pairs, "activation"))?;
        let how = affectation_fields(&pairs)?;
        affect::affect_group(&state, &Editor::console(&admin), group, activation, &how).await
    }
    .await;
    outcome(
        &signed.ctx,
        &format!("/groups/{id}"),
        result,
        "affect.group_affected",
    )
}

async fn group_unaffect_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let group = group_id(&id)?;
        let fileid = affect::parse_fileid(value(&pairs, "fileid"))?;
        affect::unaffect_group(&state, &Editor::console(&admin), group, &fileid)
            .await
            .map(|_| ())
    }
    .await;
    outcome(
        &signed.ctx,
        &format!("/groups/{id}"),
        result,
        "affect.group_unaffected",
    )
}

/// What the mass action pages offer and name: activations to give, packages to take back.
pub struct MassChoices {
    /// (activation ID, label) from `affect::activation_choices`.
    pub activations: Vec<(i64, String)>,
    /// (FILEID, "name (FILEID)") of every package.
    pub packages: Vec<(String, String)>,
    /// The post-commands: (value, label).
    pub postcmds: Vec<(&'static str, String)>,
}

/// The choices of the mass action forms; empty for a read-only account (it is offered no
/// changing action).
pub async fn mass_choices(
    state: &AppState,
    tr: &Tr,
    is_admin: bool,
) -> Result<MassChoices, AppError> {
    if !is_admin {
        return Ok(MassChoices {
            activations: Vec::new(),
            packages: Vec::new(),
            postcmds: Vec::new(),
        });
    }
    let activations = affect::activation_choices(state).await?;
    let packages = crate::app::deployment::packages::list(state).await?;
    Ok(MassChoices {
        activations: activations.into_iter().map(|(a, l)| (a.0, l)).collect(),
        packages: packages
            .into_iter()
            .map(|p| {
                let label = format!("{} ({})", p.package.name, p.package.fileid);
                (p.package.fileid, label)
            })
            .collect(),
        postcmds: postcmd_choices(tr),
    })
}

/// The title key and parameter lines of a mass affect or unaffect, for the confirmation
/// and result pages; `None` for the other actions.
pub fn mass_description(
    tr: &Tr,
    action: &Action,
    choices: &MassChoices,
) -> Option<(&'static str, Vec<(String, String)>)> {
    let package = tr.get("affect.package").to_owned();
    match action {
        Action::Affect { activation, how } => {
            let label = choices
                .activations
                .iter()
                .find(|(a, _)| *a == activation.0)
                .map_or_else(|| format!("#{}", activation.0), |(_, l)| l.clone());
            let mut lines = vec![(package, label)];
            if how.forced {
                lines.push((
                    tr.get("affect.options").to_owned(),
                    tr.get("affect.forced_short").to_owned(),
                ));
            }
            if !how.schedule.is_empty() {
                lines.push((tr.get("affect.schedule").to_owned(), how.schedule.clone()));
            }
            if !how.postcmd.is_empty() {
                lines.push((
                    tr.get("affect.postcmd").to_owned(),
                    postcmd_text(tr, &how.postcmd),
                ));
            }
            Some(("affect.mass_affect", lines))
        }
        Action::Unaffect(fileid) => {
            let label = choices
                .packages
                .iter()
                .find(|(f, _)| f == fileid)
                .map_or_else(|| fileid.clone(), |(_, l)| l.clone());
            Some(("affect.mass_unaffect", vec![(package, label)]))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn affect_form_is_read() {
        let how = affectation_fields(&pairs(&[
            ("forced", "1"),
            ("schedule", "2030/05/01 08:30"),
            ("postcmd", "SHUTDOWN"),
        ]))
        .unwrap();
        assert!(how.forced && how.schedule == "2030/05/01 08:30" && how.postcmd == "SHUTDOWN");
        assert!(!affectation_fields(&[]).unwrap().forced);
        assert!(affectation_fields(&pairs(&[("schedule", "tomorrow")])).is_err());
    }
}
