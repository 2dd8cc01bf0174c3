//! Groups in the console: the groups list (and creating a static group), a group's page (its
//! members as a list like All computers, rename, describe, delete, criteria in words,
//! recompute, add and remove members, force computers in or out), saving a search as a
//! dynamic group or back into the group it edits, and the groups block of a computer page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use ocs_storage::groups::{GroupKind, GroupOfComputer, MemberState};
use ocs_storage::{GroupId, HostId};

use super::computers::{csv_bytes, date_text, list_table, ListParams, ListTable, SettingView};
use super::group_settings;
use super::{error_page, outcome, render, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::computers::{self, available_columns, CriterionInput};
use crate::app::groups::{self, criteria, Editor, Force, GroupInput, GroupUpdate};
use crate::app::i18n::Tr;
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/groups", get(groups_list_get).post(groups_create_post))
        .route("/groups/{id}", get(group_get))
        .route("/groups/{id}/members.csv", get(group_csv_get))
        .route("/groups/{id}/edit", post(group_edit_post))
        .route(
            "/groups/{id}/delete",
            get(group_delete_get).post(group_delete_post),
        )
        .route("/groups/{id}/recompute", post(group_recompute_post))
        .route("/groups/{id}/criteria", post(group_criteria_post))
        .route("/groups/{id}/members/add", post(group_members_add_post))
        .route(
            "/groups/{id}/members/remove",
            post(group_members_remove_post),
        )
        .route("/groups/{id}/force", post(group_force_post))
        .route(
            "/computers/{id}/groups",
            get(computer_groups_get).post(computer_groups_post),
        )
}

fn group_id(text: &str) -> Result<GroupId, AppError> {
    text.parse::<i64>()
        .map(GroupId)
        .map_err(|_| AppError::NotFound(format!("group {text:?} not found")))
}

fn host_id(text: &str) -> Result<HostId, AppError> {
    text.trim().parse::<i64>().map(HostId).map_err(|_| {
        AppError::bad_request("E_BAD_COMPUTER", format!("{text:?} is not a computer ID"))
    })
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn kind_label(tr: &Tr, kind: GroupKind) -> String {
    tr.get(&format!("groups.kind_{}", kind.as_str())).to_owned()
}

/// A row of the groups list.
struct GroupLine {
    id: i64,
    name: String,
    kind: String,
    description: String,
    created: String,
    members: i64,
}

#[derive(Template)]
#[template(path = "groups/list.html")]
struct ListPageView {
    page: PageCtx,
    groups: Vec<GroupLine>,
    enabled: bool,
}

async fn groups_list_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let list = groups::list(&state).await?;
        let enabled = groups::enabled(&state).await?;
        Ok::<_, AppError>((list, enabled))
    }
    .await;
    match result {
        Ok((list, enabled)) => render(
            &ctx,
            StatusCode::OK,
            &ListPageView {
                page: PageCtx::new(&ctx, &viewer, "groups"),
                groups: list
                    .into_iter()
                    .map(|g| GroupLine {
                        id: g.group.id.0,
                        kind: kind_label(&ctx.tr, g.group.kind),
                        name: g.group.name,
                        description: g.group.description,
                        created: date_text(g.group.created_at),
                        members: g.members,
                    })
                    .collect(),
                enabled,
            },
        ),
        Err(e) => error_page(&ctx, &e),
    }
}

/// The criteria rows of a form: one `criteria` field in the stored encoding (what the search
/// page's forms send, so that the page has a single `v0` input), else `f0`, `o0`, `v0`, `w0`, ….
fn form_criteria(pairs: &[(String, String)]) -> Result<Vec<CriterionInput>, AppError> {
    if let Some(text) = value(pairs, "criteria") {
        return criteria::decode(text);
    }
    let rows: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| matches!(k.chars().next(), Some('f' | 'o' | 'v' | 'w')))
        .filter(|(k, _)| k.len() > 1 && k[1..].bytes().all(|b| b.is_ascii_digit()))
        .cloned()
        .collect();
    Ok(ListParams::parse(&rows)?.criteria)
}

async fn groups_create_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let kind = value(&pairs, "kind")
            .and_then(GroupKind::parse)
            .ok_or_else(|| AppError::bad_request("E_BAD_PARAM", "kind is static or dynamic"))?;
        let input = GroupInput {
            name: value(&pairs, "name").unwrap_or_default().to_owned(),
            description: value(&pairs, "description").unwrap_or_default().to_owned(),
            kind,
            criteria: form_criteria(&pairs)?,
        };
        groups::create(&state, &Editor::console(&admin), &input).await
    }
    .await;
    match result {
        Ok(id) => super::done(
            &signed.ctx,
            &format!("/groups/{}", id.0),
            signed.ctx.tr.get("groups.created"),
        ),
        Err(e) => {
            let back = if value(&pairs, "kind") == Some("dynamic") {
                let rows = form_criteria(&pairs).unwrap_or_default();
                format!("/search?{}", criteria::encode(&rows))
            } else {
                "/groups".to_owned()
            };
            outcome(&signed.ctx, &back, Err(e), "")
        }
    }
}

/// A criterion of a dynamic group in words.
struct CriterionLine {
    text: String,
}

#[derive(Template)]
#[template(path = "groups/group.html")]
struct GroupPage {
    page: PageCtx,
    id: i64,
    name: String,
    description: String,
    is_dynamic: bool,
    kind: String,
    created: String,
    computed: String,
    members: i64,
    criteria: Vec<CriterionLine>,
    edit_url: String,
    problem: Option<String>,
    enabled: bool,
    table: ListTable,
    /// For the customisation block (`groups/_customisation.html`).
    group_id: i64,
    settings: Vec<SettingView>,
}

async fn group_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let id = group_id(&id)?;
        let params = ListParams::parse(&pairs)?;
        let group = groups::view(&state, id).await?;
        let (view, fields) = computers::list_view(&state, &viewer, &params.change).await?;
        let result = groups::members(&state, &view, &fields, id, params.page).await?;
        let base = format!("/groups/{}", id.0);
        let mut table = list_table(
            &ctx.tr,
            &base,
            "",
            &view,
            &available_columns(&fields),
            result,
        );
        table.csv_url = format!("/groups/{}/members.csv", id.0);
        // A mass action on "the whole result" of this page means the group's members.
        table.group = Some(id.0);
        if viewer.is_admin() {
            table.row_button = Some((
                "row-members-form".to_owned(),
                ctx.tr
                    .get(if group.record.kind == GroupKind::Dynamic {
                        "groups.force_out"
                    } else {
                        "groups.remove"
                    })
                    .to_owned(),
            ));
        }
        let settings = group_settings::setting_views(
            &ctx.tr,
            &groups::settings::group_customisation(&state, id).await?,
        );
        Ok::<_, AppError>((group, table, settings))
    }
    .await;
    let (group, table, settings) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&ctx, &e),
    };
    let tr = &ctx.tr;
    let r = &group.record;
    render(
        &ctx,
        StatusCode::OK,
        &GroupPage {
            page: PageCtx::new(&ctx, &viewer, "groups"),
            id: r.id.0,
            name: r.name.clone(),
            description: r.description.clone(),
            is_dynamic: r.kind == GroupKind::Dynamic,
            kind: kind_label(tr, r.kind),
            created: date_text(r.created_at),
            computed: if r.computed_at > 0 {
                date_text(r.computed_at)
            } else {
                tr.get("groups.never").to_owned()
            },
            members: group.members,
            criteria: group
                .criteria
                .iter()
                .map(|c| CriterionLine {
                    text: criteria::in_words(tr, c, &group.fields),
                })
                .collect(),
            edit_url: format!(
                "/search?{}&group={}",
                criteria::encode(&group.criteria),
                r.id.0
            ),
            problem: group.problem.clone(),
            enabled: group.enabled,
            table,
            group_id: r.id.0,
            settings,
        },
    )
}

async fn group_csv_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let id = group_id(&id)?;
        groups::get(&state, id).await?;
        let (view, fields) =
            computers::list_view(&state, &viewer, &computers::ViewChange::default()).await?;
        let rows = groups::all_members(&state, &view, &fields, id).await?;
        csv_bytes(&ctx.tr, &view, &rows)
    }
    .await;
    super::computers::csv_download(&ctx, "group-members.csv", result)
}

async fn group_edit_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let id = group_id(&id)?;
        let change = GroupUpdate {
            name: value(&pairs, "name").map(str::to_owned),
            description: value(&pairs, "description").map(str::to_owned),
            criteria: None,
        };
        groups::update(&state, &Editor::console(&admin), id, &change).await
    }
    .await;
    outcome(
        &signed.ctx,
        &format!("/groups/{id}"),
        result,
        "groups.saved",
    )
}

#[derive(Template)]
#[template(path = "groups/delete.html")]
struct DeletePage {
    page: PageCtx,
    id: i64,
    name: String,
    question: String,
}

async fn group_delete_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        require_admin(&viewer)?;
        groups::view(&state, group_id(&id)?).await
    }
    .await;
    match result {
        Ok(g) => render(
            &ctx,
            StatusCode::OK,
            &DeletePage {
                page: PageCtx::new(&ctx, &viewer, "groups"),
                id: g.record.id.0,
                question: ctx.tr.fmt(
                    "groups.delete_question",
                    &[("name", &g.record.name), ("n", &g.members)],
                ),
                name: g.record.name,
            },
        ),
        Err(e) => error_page(&ctx, &e),
    }
}

async fn group_delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        groups::delete(&state, &Editor::console(&admin), group_id(&id)?).await
    }
    .await;
    match result {
        Ok(()) => super::done(&signed.ctx, "/groups", signed.ctx.tr.get("groups.deleted")),
        Err(e) => outcome(&signed.ctx, &format!("/groups/{id}"), Err(e), ""),
    }
}

async fn group_recompute_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        groups::recompute(&state, &Editor::console(&admin), group_id(&id)?)
            .await
            .map(|_| ())
    }
    .await;
    outcome(
        &signed.ctx,
        &format!("/groups/{id}"),
        result,
        "groups.recomputed",
    )
}

async fn group_criteria_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let change = GroupUpdate {
            criteria: Some(form_criteria(&pairs)?),
            ..GroupUpdate::default()
        };
        groups::update(&state, &Editor::console(&admin), group_id(&id)?, &change).await
    }
    .await;
    outcome(
        &signed.ctx,
        &format!("/groups/{id}"),
        result,
        "groups.criteria_saved",
    )
}

async fn group_members_add_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let host =
            groups::resolve_computer(&state, value(&pairs, "computer").unwrap_or_default()).await?;
        groups::include_members(&state, &Editor::console(&admin), group_id(&id)?, &[host])
            .await
            .map(|_| ())
    }
    .await;
    outcome(
        &signed.ctx,
        &format!("/groups/{id}"),
        result,
        "groups.member_added",
    )
}

async fn group_members_remove_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let host = host_id(value(&pairs, "computer").unwrap_or_default())?;
        groups::remove_members(&state, &admin, group_id(&id)?, &[host])
            .await
            .map(|_| ())
    }
    .await;
    outcome(
        &signed.ctx,
        &format!("/groups/{id}"),
        result,
        "groups.member_removed",
    )
}

async fn group_force_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let computer = value(&pairs, "computer").unwrap_or_default().to_owned();
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let host = host_id(&computer)?;
        let how = Force::parse(value(&pairs, "how").unwrap_or_default())?;
        groups::force(
            &state,
            &Editor::console(&admin),
            group_id(&id)?,
            &[host],
            how,
        )
        .await
        .map(|_| ())
    }
    .await;
    // Back to the computer page when asked from there, else to the group.
    let back = match (value(&pairs, "back"), computer.trim().parse::<i64>()) {
        (Some("computer"), Ok(c)) => format!("/computers/{c}"),
        _ => format!("/groups/{id}"),
    };
    outcome(&signed.ctx, &back, result, "groups.forced")
}

/// A group of the computer page's block.
struct ComputerGroupLine {
    id: i64,
    name: String,
    kind: String,
    is_dynamic: bool,
    state: String,
    forced: bool,
    member: bool,
}

#[derive(Template)]
#[template(path = "groups/computer.html")]
struct ComputerGroups {
    page: PageCtx,
    id: i64,
    lines: Vec<ComputerGroupLine>,
    /// Groups the computer may be added to or forced into: (id, name, kind label).
    others: Vec<(i64, String, String)>,
}

fn state_label(tr: &Tr, g: &GroupOfComputer) -> String {
    let key = match (g.kind, g.state) {
        (_, MemberState::Computed) => "groups.state_computed",
        (GroupKind::Static, _) => "groups.state_added",
        (GroupKind::Dynamic, MemberState::Added) => "groups.state_forced_in",
        (GroupKind::Dynamic, MemberState::Excluded) => "groups.state_forced_out",
    };
    tr.get(key).to_owned()
}

/// The computer page's groups block: a fragment for htmx (loaded with the page, without a
/// new history entry), a page of its own otherwise.
async fn computer_groups_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let host =
            host_id(&id).map_err(|_| AppError::NotFound(format!("computer {id:?} not found")))?;
        let of = groups::groups_of_computer(&state, host).await?;
        let all = groups::list(&state).await?;
        Ok::<_, AppError>((host, of, all))
    }
    .await;
    let (host, of, all) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&ctx, &e),
    };
    let tr = &ctx.tr;
    let others = all
        .iter()
        .filter(|g| !of.iter().any(|o| o.id == g.group.id))
        .map(|g| {
            (
                g.group.id.0,
                g.group.name.clone(),
                kind_label(tr, g.group.kind),
            )
        })
        .collect();
    let lines = of
        .iter()
        .map(|g| ComputerGroupLine {
            id: g.id.0,
            name: g.name.clone(),
            kind: kind_label(tr, g.kind),
            is_dynamic: g.kind == GroupKind::Dynamic,
            state: state_label(tr, g),
            forced: g.kind == GroupKind::Dynamic && g.state != MemberState::Computed,
            member: g.state.is_member(),
        })
        .collect();
    let mut page = PageCtx::new(&ctx, &viewer, "computers");
    if ctx.hx {
        page.flash = None;
    }
    let view = ComputerGroups {
        page,
        id: host.0,
        lines,
        others,
    };
    super::render_block(&ctx, &view)
}

/// Adds the computer to a group: to a static group as a member, into a dynamic one by force.
async fn computer_groups_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let host = host_id(&id)?;
        let group = group_id(value(&pairs, "group").unwrap_or_default())
            .map_err(|_| AppError::bad_request("E_BAD_PARAM", "choose a group"))?;
        groups::include_members(&state, &Editor::console(&admin), group, &[host])
            .await
            .map(|_| ())
    }
    .await;
    outcome(
        &signed.ctx,
        &format!("/computers/{id}"),
        result,
        "groups.member_added",
    )
}

/// What the search page needs to offer saving its criteria as a group.
pub struct SaveSearch {
    /// The criteria in the stored encoding, for a hidden form field.
    pub criteria: String,
    /// The dynamic group being edited (`group=ID` in the search URL), if any.
    pub group: Option<i64>,
    /// Whether to offer saving (the search has results to show).
    pub show: bool,
}

/// The "save as dynamic group" form of a search page, and the group it edits (carried
/// through the search form as `group=ID`).
pub fn save_search(pairs: &[(String, String)], params: &ListParams, show: bool) -> SaveSearch {
    SaveSearch {
        show,
        criteria: criteria::encode(&params.criteria),
        group: value(pairs, "group").and_then(|g| g.parse().ok()),
    }
}
