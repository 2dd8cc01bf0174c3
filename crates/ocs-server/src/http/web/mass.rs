//! Mass actions on a selection of any computer list: the list's selection form posts to
//! `/mass` (the action chooser), each action's form to `/mass/confirm` (what will change and
//! for how many computers), which posts to `/mass/apply` (the change, then how many changed);
//! the CSV export posts to `/mass/csv`. Every step carries the selection in hidden fields:
//! chosen IDs (bounded), or the list's criteria query and group for a whole result, never the
//! IDs of a whole result. Works without JavaScript: the steps are plain form posts (not
//! boosted by htmx), so a refused step shows its error page with its status.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use ocs_storage::GroupId;

use super::computers::{csv_bytes, ListParams};
use super::deployment_affect::{mass_choices, mass_description, MassChoices};
use super::{error_page, render, to, Ctx, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::computers::{self as computer_service, ViewChange, CUSTOMISABLE};
use crate::app::deployment::redistribution;
use crate::app::groups::GroupTarget;
use crate::app::i18n::Tr;
use crate::app::mass::{self, Action, Selection, KEEP};
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        // A reload of a step's pushed URL lands back on the lists.
        .route("/mass", get(mass_get).post(mass_post))
        .route("/mass/confirm", post(mass_confirm_post))
        .route("/mass/apply", post(mass_apply_post))
        .route("/mass/csv", post(mass_csv_post))
}

type Pairs = Vec<(String, String)>;

/// A count as the translator's plural rule takes it.
fn wide(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn param<'a>(pairs: &'a Pairs, key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn values<'a>(pairs: &'a Pairs, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    pairs
        .iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Reads the selection of a form: `scope=selected` (the `id` checkboxes, or `ids` as carried
/// between steps), `scope=page` (`page_ids`), or `scope=all` (`q`, the list's criteria query,
/// and `in_group`, the group whose members the list shows; `group` is an action's own).
fn selection(pairs: &Pairs) -> Result<Selection, AppError> {
    match param(pairs, "scope").unwrap_or("") {
        "selected" => Ok(Selection::Ids(mass::parse_ids(
            values(pairs, "id").chain(values(pairs, "ids")),
        )?)),
        "page" => Ok(Selection::Ids(mass::parse_ids(values(pairs, "page_ids"))?)),
        "all" => {
            let query: Pairs = serde_urlencoded::from_str(param(pairs, "q").unwrap_or(""))
                .map_err(|_| AppError::bad_request("E_BAD_SELECTION", "unreadable criteria"))?;
            let group = match param(pairs, "in_group").map(str::trim) {
                None | Some("") => None,
                Some(g) => Some(GroupId(g.parse::<i64>().map_err(|_| {
                    AppError::bad_request("E_BAD_SELECTION", "the group is a number")
                })?)),
            };
            Ok(Selection::Result {
                criteria: ListParams::parse(&query)?.criteria,
                group,
            })
        }
        _ => Err(AppError::bad_request(
            "E_BAD_SELECTION",
            "scope is selected, page or all",
        )),
    }
}

/// The hidden fields that carry a selection to the next step.
fn selection_fields(selection: &Selection) -> Pairs {
    match selection {
        Selection::Ids(ids) => vec![
            ("scope".into(), "selected".into()),
            (
                "ids".into(),
                ids.iter()
                    .map(|h| h.0.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ],
        Selection::Result { criteria, group } => {
            let params = ListParams {
                change: ViewChange::default(),
                page: 1,
                criteria: criteria.clone(),
            };
            let mut out = vec![
                ("scope".into(), "all".into()),
                ("q".into(), params.criteria_query()),
            ];
            if let Some(g) = group {
                out.push(("in_group".into(), g.0.to_string()));
            }
            out
        }
    }
}

/// A customisation line of the chooser: its setting and choices (value, label), "keep" first.
pub struct SettingChoice {
    /// Setting name (the field name).
    pub name: &'static str,
    /// Translated label.
    pub label: String,
    /// (value, label).
    pub choices: Vec<(String, String)>,
}

fn setting_label(tr: &Tr, name: &str, value: i64) -> String {
    match tr.get(&format!("custom.{name}.{value}")) {
        l if l.starts_with("custom.") => tr.n("custom.days", value),
        l => l.to_owned(),
    }
}

fn setting_choices(tr: &Tr) -> Vec<SettingChoice> {
    CUSTOMISABLE
        .iter()
        .map(|(name, low, high)| {
            let mut choices = vec![
                (KEEP.to_owned(), tr.get("mass.keep").to_owned()),
                (String::new(), tr.get("custom.default").to_owned()),
            ];
            let values: Vec<i64> = if *name == "FREQUENCY" {
                vec![-1, 0, 1, 2, 7, 14, 30, 90, 365]
            } else {
                (*low..=*high).collect()
            };
            choices.extend(
                values
                    .into_iter()
                    .map(|v| (v.to_string(), setting_label(tr, name, v))),
            );
            SettingChoice {
                name,
                label: tr.get(&format!("custom.{name}")).to_owned(),
                choices,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "mass/choose.html")]
struct ChoosePage {
    page: PageCtx,
    count: i64,
    whole_result: bool,
    hidden: Pairs,
    /// (KEYNAME, label) of the administrative fields.
    fields: Vec<(String, String)>,
    settings: Vec<SettingChoice>,
    /// (ID, name) of the static groups.
    groups: Vec<(i64, String)>,
    deploy: MassChoices,
    /// (ID, name) of the redistribution groups.
    redistribution_groups: Vec<(i64, String)>,
}

async fn mass_get(ctx: Ctx) -> Response {
    to("/computers", ctx.hx)
}

async fn mass_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(pairs): Form<Pairs>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let selection = selection(&pairs)?;
        let count = mass::count(&state, &selection).await?;
        let fields = computer_service::account_fields(&state).await?;
        let groups = mass::static_groups(&state).await?;
        let deploy = mass_choices(&state, &ctx.tr, viewer.is_admin()).await?;
        Ok::<_, AppError>(ChoosePage {
            deploy,
            page: PageCtx::new(&ctx, &viewer, "computers"),
            count: wide(count),
            whole_result: matches!(selection, Selection::Result { .. }),
            hidden: selection_fields(&selection),
            fields: fields
                .iter()
                .map(|f| (format!("fields_{}", f.id), f.label.clone()))
                .collect(),
            settings: setting_choices(&ctx.tr),
            groups: groups.into_iter().map(|(id, name)| (id.0, name)).collect(),
            redistribution_groups: redistribution::list_redistribution_groups(&state)
                .await?
                .into_iter()
                .map(|(id, name)| (id.0, name))
                .collect(),
        })
    }
    .await;
    match result {
        Ok(page) => render(&ctx, StatusCode::OK, &page),
        Err(e) => error_page(&ctx, &e),
    }
}

/// The action's title and its parameters as (label, value) lines.
fn describe(
    tr: &Tr,
    action: &Action,
    groups: &[(GroupId, String)],
    deploy: &MassChoices,
) -> (String, Vec<(String, String)>) {
    if let Some((key, lines)) = mass_description(tr, action, deploy) {
        return (tr.get(key).to_owned(), lines);
    }
    let title = match action {
        Action::AddToRedistribution(_) => tr.get("redistribution.mass_title").to_owned(),
        _ => tr.get(&format!("mass.action.{}", action.name())).to_owned(),
    };
    let group_text = |id: &GroupId| {
        groups
            .iter()
            .find(|(g, _)| g == id)
            .map_or_else(|| format!("#{}", id.0), |(_, name)| name.clone())
    };
    let lines = match action {
        Action::SetTag(tag) => vec![(tr.get("col.tag").to_owned(), tag.clone())],
        Action::SetField { label, value, .. } => vec![(label.clone(), value.clone())],
        Action::SetCustomisation(changes) => changes
            .iter()
            .map(|(name, value)| {
                (
                    tr.get(&format!("custom.{name}")).to_owned(),
                    match value {
                        None => tr.get("custom.default").to_owned(),
                        Some(v) => setting_label(tr, name, *v),
                    },
                )
            })
            .collect(),
        Action::AddToGroup { group, overwrite } => {
            let mut lines = match group {
                GroupTarget::Existing(id) => {
                    vec![(tr.get("mass.group").to_owned(), group_text(id))]
                }
                GroupTarget::New { name, description } => vec![
                    (tr.get("mass.new_group").to_owned(), name.clone()),
                    (tr.get("mass.description").to_owned(), description.clone()),
                ],
            };
            lines.push((
                tr.get("mass.mode").to_owned(),
                tr.get(if *overwrite {
                    "mass.mode_overwrite"
                } else {
                    "mass.mode_add"
                })
                .to_owned(),
            ));
            lines
        }
        Action::RemoveFromGroup(id) => vec![(tr.get("mass.group").to_owned(), group_text(id))],
        Action::ExportCsv | Action::Delete | Action::Affect { .. } | Action::Unaffect(_) => {
            Vec::new()
        }
        Action::AddToRedistribution(target) => redistribution_lines(tr, target),
    };
    (title, lines)
}

/// The confirmation lines of the redistribution arm (the group by ID: its name is on its page).
fn redistribution_lines(tr: &Tr, target: &redistribution::Target) -> Vec<(String, String)> {
    let mode = |key: &str| (tr.get("mass.mode").to_owned(), tr.get(key).to_owned());
    match target {
        redistribution::Target::Create { name, description } => vec![
            (tr.get("redistribution.mass_new").to_owned(), name.clone()),
            (tr.get("mass.description").to_owned(), description.clone()),
        ],
        redistribution::Target::AddTo(id) => vec![
            (
                tr.get("redistribution.mass_group").to_owned(),
                format!("#{}", id.0),
            ),
            mode("mass.mode_add"),
        ],
        redistribution::Target::Overwrite(id) => vec![
            (
                tr.get("redistribution.mass_group").to_owned(),
                format!("#{}", id.0),
            ),
            mode("mass.mode_overwrite"),
        ],
    }
}

#[derive(Template)]
#[template(path = "mass/confirm.html")]
struct ConfirmPage {
    page: PageCtx,
    title: String,
    lines: Vec<(String, String)>,
    count: i64,
    danger: bool,
    hidden: Pairs,
}

async fn mass_confirm_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(pairs): Form<Pairs>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        require_admin(&viewer)?;
        let selection = selection(&pairs)?;
        let fields = computer_service::account_fields(&state).await?;
        let action = Action::parse(&pairs, &fields)?;
        if action == Action::ExportCsv {
            return Err(AppError::bad_request(
                "E_BAD_ACTION",
                "an export needs no confirmation",
            ));
        }
        let count = mass::count(&state, &selection).await?;
        let groups = mass::static_groups(&state).await?;
        let deploy = mass_choices(&state, &ctx.tr, true).await?;
        let (title, lines) = describe(&ctx.tr, &action, &groups, &deploy);
        let mut hidden = selection_fields(&selection);
        hidden.extend(action.fields());
        Ok::<_, AppError>(ConfirmPage {
            page: PageCtx::new(&ctx, &viewer, "computers"),
            title,
            lines,
            count: wide(count),
            danger: action == Action::Delete,
            hidden,
        })
    }
    .await;
    match result {
        Ok(page) => render(&ctx, StatusCode::OK, &page),
        Err(e) => error_page(&ctx, &e),
    }
}

#[derive(Template)]
#[template(path = "mass/done.html")]
struct DonePage {
    page: PageCtx,
    title: String,
    changed: i64,
    skipped: i64,
}

async fn mass_apply_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(pairs): Form<Pairs>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let admin = require_admin(&viewer)?;
        let selection = selection(&pairs)?;
        let fields = computer_service::account_fields(&state).await?;
        let action = Action::parse(&pairs, &fields)?;
        let applied = mass::apply(&state, &admin, &action, &selection).await?;
        let groups = mass::static_groups(&state).await?;
        let deploy = mass_choices(&state, &ctx.tr, true).await?;
        Ok::<_, AppError>((describe(&ctx.tr, &action, &groups, &deploy).0, applied))
    }
    .await;
    match result {
        Ok((title, applied)) => render(
            &ctx,
            StatusCode::OK,
            &DonePage {
                page: PageCtx::new(&ctx, &viewer, "computers"),
                title,
                changed: wide(applied.changed),
                skipped: wide(applied.skipped),
            },
        ),
        Err(e) => error_page(&ctx, &e),
    }
}

async fn mass_csv_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(pairs): Form<Pairs>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let selection = selection(&pairs)?;
        let (view, rows) = mass::export_rows(&state, &viewer, &selection).await?;
        csv_bytes(&ctx.tr, &view, &rows)
    }
    .await;
    super::computers::csv_download(&ctx, "computers.csv", result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocs_storage::HostId;

    fn pairs(p: &[(&str, &str)]) -> Pairs {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn selections_are_read_and_carried() {
        let chosen = selection(&pairs(&[
            ("scope", "selected"),
            ("id", "4"),
            ("id", "2"),
            ("page_ids", "9"),
        ]))
        .unwrap();
        assert_eq!(chosen, Selection::Ids(vec![HostId(2), HostId(4)]));
        assert_eq!(
            selection(&pairs(
                &selection_fields(&chosen)
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect::<Vec<_>>()
            ))
            .unwrap(),
            chosen
        );
        assert_eq!(
            selection(&pairs(&[
                ("scope", "page"),
                ("id", "4"),
                ("page_ids", "9,8")
            ]))
            .unwrap(),
            Selection::Ids(vec![HostId(8), HostId(9)])
        );
        let all = selection(&pairs(&[
            ("scope", "all"),
            ("q", "f0=tag&o0=equal&v0=PARIS&sort=os"),
            ("in_group", "3"),
        ]))
        .unwrap();
        let Selection::Result { criteria, group } = &all else {
            panic!("{all:?}")
        };
        assert_eq!(
            (criteria[0].value.as_str(), *group),
            ("PARIS", Some(GroupId(3)))
        );
        let carried = selection_fields(&all);
        let again: Vec<(&str, &str)> = carried
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(selection(&pairs(&again)).unwrap(), all);
        assert!(selection(&pairs(&[("scope", "everything")])).is_err());
        assert!(selection(&pairs(&[("scope", "all"), ("in_group", "x")])).is_err());
    }
}
