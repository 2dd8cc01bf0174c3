//! The duplicates page: the sets each mode finds, and a mode's sets with their computers side
//! by side, the values that match highlighted; merging the ticked ones; the merge log with
//! its undo.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use ocs_storage::duplicates::candidates::{CandidateComputer, Criterion, DuplicateMode};

use super::computers::date_text;
use super::paging::{pager, param, query_string, Pager, Params};
use super::{done, error_page, failed, page_or_error, render, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::duplicates::blacklists::{self, Blacklist};
use crate::app::duplicates::merge::{self, Merger};
use crate::app::duplicates::{self, mode_param, page_param};
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/duplicates", get(duplicates_get))
        .route("/duplicates/merge", post(merge_post))
        .route("/duplicates/merges", get(merges_get))
        .route("/duplicates/merges/{id}/undo", post(undo_post))
        .route("/duplicates/blacklists", get(blacklists_get))
        .route("/duplicates/blacklists/{list}", post(blacklist_add_post))
        .route(
            "/duplicates/blacklists/{list}/remove",
            post(blacklist_remove_post),
        )
}

/// A mode's tab.
pub struct ModeTab {
    /// URL name.
    pub name: &'static str,
    /// Label.
    pub label: String,
    /// Sets found.
    pub sets: i64,
    /// The page of this mode.
    pub url: String,
    /// The one shown.
    pub current: bool,
}

/// A value of a computer, highlighted when the set shares it.
pub struct Value {
    /// The value as stored.
    pub text: String,
    /// Shared by the set.
    pub matches: bool,
}

/// A computer of a set.
pub struct Member {
    /// The computer page.
    pub url: String,
    /// ID.
    pub id: i64,
    /// Name.
    pub name: Value,
    /// Serial.
    pub serial: Value,
    /// UUID.
    pub uuid: Value,
    /// MAC addresses.
    pub macs: Vec<Value>,
    /// Operating system.
    pub os: String,
    /// Last inventory.
    pub last_inventory: String,
    /// The most recent of the set (a merge keeps it).
    pub newest: bool,
}

/// A candidate set.
pub struct SetView {
    /// The shared values, joined.
    pub key: String,
    /// Its computers.
    pub members: Vec<Member>,
}

#[derive(Template)]
#[template(path = "duplicates/list.html")]
struct DuplicatesPage {
    page: PageCtx,
    tabs: Vec<ModeTab>,
    mode_label: String,
    summary: String,
    found: String,
    mode: &'static str,
    page_number: u32,
    sets: Vec<SetView>,
    pager: Pager,
}

fn same(value: Option<&str>, key: &[String], criterion: Criterion, mode: DuplicateMode) -> bool {
    let Some(value) = value else { return false };
    let value = value.trim().to_lowercase();
    mode.criteria()
        .iter()
        .zip(key)
        .any(|(c, k)| *c == criterion && *k == value)
}

fn member(c: &CandidateComputer, key: &[String], mode: DuplicateMode, newest: bool) -> Member {
    let value = |v: Option<&str>, criterion| Value {
        text: v.unwrap_or_default().to_owned(),
        matches: same(v, key, criterion, mode),
    };
    Member {
        url: format!("/computers/{}", c.id),
        id: c.id,
        name: value(c.name.as_deref(), Criterion::Hostname),
        serial: value(c.serial.as_deref(), Criterion::Serial),
        uuid: value(c.uuid.as_deref(), Criterion::Uuid),
        macs: c
            .macs
            .iter()
            .map(|m| value(Some(m), Criterion::Mac))
            .collect(),
        os: c.os.clone().unwrap_or_default(),
        last_inventory: c.last_inventory.map(date_text).unwrap_or_default(),
        newest,
    }
}

async fn duplicates_get(
    State(state): State<AppState>,
    signed: SignedIn,
    params: Params,
) -> Response {
    let result = async {
        let tr = &signed.ctx.tr;
        let mode = mode_param(param(&params, "mode"))?;
        let page = page_param(param(&params, "page"), param(&params, "per_page"))?;
        let c = duplicates::candidates(&state, mode, page).await?;
        let counts = duplicates::counts(&state, Some((mode, c.count))).await?;
        let tabs = counts
            .iter()
            .map(|(m, count)| ModeTab {
                name: m.name(),
                label: tr.get(&format!("duplicates.mode_{}", m.name())).to_owned(),
                sets: count.sets,
                url: format!(
                    "/duplicates?{}",
                    query_string(&[("mode", m.name().to_owned())])
                ),
                current: *m == mode,
            })
            .collect();
        let sets = c
            .sets
            .iter()
            .map(|(set, computers)| {
                let newest = computers
                    .iter()
                    .max_by_key(|c| (c.last_inventory.unwrap_or(0), c.id))
                    .map(|c| c.id);
                SetView {
                    key: set.key.join(" + "),
                    members: computers
                        .iter()
                        .map(|m| member(m, &set.key, mode, Some(m.id) == newest))
                        .collect(),
                }
            })
            .collect();
        let base = format!(
            "/duplicates?{}",
            query_string(&[("mode", mode.name().to_owned())])
        );
        Ok::<_, AppError>(DuplicatesPage {
            pager: pager(tr, &base, c.count.sets, c.page, c.per_page),
            page: PageCtx::new(&signed.ctx, &signed.viewer, "duplicates"),
            tabs,
            mode_label: tr
                .get(&format!("duplicates.mode_{}", mode.name()))
                .to_owned(),
            mode: mode.name(),
            page_number: c.page,
            found: match c.found_at {
                Some(at) => tr.fmt("duplicates.found_at", &[("when", &date_text(at))]),
                None => tr.get("duplicates.finding").to_owned(),
            },
            summary: tr.fmt(
                "duplicates.summary",
                &[("sets", &c.count.sets), ("n", &c.count.computers)],
            ),
            sets,
        })
    }
    .await;
    page_or_error(&signed, result)
}

/// Merges the ticked `id`s of a set; back to the page it came from.
async fn merge_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| f.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let back = format!(
        "/duplicates?{}",
        query_string(&[
            ("mode", get("mode").unwrap_or_default().to_owned()),
            ("page", get("page").unwrap_or_default().to_owned()),
        ])
    );
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let mode = mode_param(get("mode"))?;
        let ids = f
            .iter()
            .filter(|(k, _)| k == "id")
            .map(|(_, v)| {
                v.parse::<i64>()
                    .map_err(|_| AppError::bad_request("E_BAD_MERGE", "duplicates.merge_too_few"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        merge::merge(&state, &Merger::admin(&admin), &ids, Some(mode)).await
    }
    .await;
    match result {
        Ok(m) => done(
            &signed.ctx,
            &back,
            &signed.ctx.tr.fmt(
                "duplicates.merged",
                &[("n", &(m.merged.len() + 1)), ("kept", &m.kept)],
            ),
        ),
        Err(e @ AppError::Forbidden { .. }) => error_page(&signed.ctx, &e),
        Err(e) => failed(&signed.ctx, &back, &e),
    }
}

/// A merge log line, as listed.
pub struct LogLine {
    /// ID.
    pub id: i64,
    /// When.
    pub when: String,
    /// The kept computer's page.
    pub kept_url: String,
    /// Its ID.
    pub kept: i64,
    /// The merged computers: page (while they exist again) and label.
    pub merged: Vec<String>,
    /// Why.
    pub reason: String,
    /// Criteria.
    pub criteria: String,
    /// Who.
    pub by: String,
    /// Can be undone now.
    pub undoable: bool,
    /// "undone … by …", or "no longer possible", or nothing.
    pub state: String,
}

#[derive(Template)]
#[template(path = "duplicates/merges.html")]
struct MergesPage {
    page: PageCtx,
    intro: String,
    lines: Vec<LogLine>,
    pager: Pager,
}

async fn merges_get(State(state): State<AppState>, signed: SignedIn, params: Params) -> Response {
    let result = async {
        let tr = &signed.ctx.tr;
        let (number, _) = page_param(param(&params, "page"), None)?;
        let (total, records) = merge::log(&state, number).await?;
        let lines = records
            .into_iter()
            .map(|r| LogLine {
                id: r.id,
                when: date_text(r.merged_at),
                kept_url: format!("/computers/{}", r.kept),
                kept: r.kept,
                merged: r
                    .merged
                    .iter()
                    .map(|(id, deviceid, name)| {
                        format!("#{id} {} ({deviceid})", name.as_deref().unwrap_or_default())
                    })
                    .collect(),
                reason: tr
                    .get(&format!("duplicates.reason_{}", r.reason))
                    .to_owned(),
                criteria: r.criteria.clone(),
                by: r.merged_by.clone(),
                undoable: r.undoable,
                state: match &r.undone {
                    Some((at, by)) => tr.fmt(
                        "duplicates.undone_at",
                        &[("at", &date_text(*at)), ("by", by)],
                    ),
                    None if !r.undoable => tr.get("duplicates.expired").to_owned(),
                    None => String::new(),
                },
            })
            .collect();
        Ok::<_, AppError>(MergesPage {
            pager: pager(tr, "/duplicates/merges", total, number, merge::LOG_PER_PAGE),
            page: PageCtx::new(&signed.ctx, &signed.viewer, "duplicates_log"),
            intro: tr.fmt(
                "duplicates.log_intro",
                &[("days", &state.config.duplicates.undo_days)],
            ),
            lines,
        })
    }
    .await;
    page_or_error(&signed, result)
}

async fn undo_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let back = "/duplicates/merges";
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        merge::undo(&state, &Merger::admin(&admin), id).await
    }
    .await;
    match result {
        Ok(restored) => done(
            &signed.ctx,
            back,
            &signed
                .ctx
                .tr
                .fmt("duplicates.undone", &[("n", &restored.len())]),
        ),
        Err(e @ AppError::Forbidden { .. }) => error_page(&signed.ctx, &e),
        Err(e) => failed(&signed.ctx, back, &e),
    }
}

#[derive(Template)]
#[template(path = "duplicates/blacklists.html")]
struct BlacklistsPage {
    page: PageCtx,
    lists: Vec<ListView>,
}

/// A blacklist as shown.
pub struct ListView {
    /// URL key.
    pub key: &'static str,
    /// Heading.
    pub title: String,
    /// Its values.
    pub values: Vec<String>,
}

async fn blacklists_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    match blacklists::lists(&state).await {
        Ok((serials, macs)) => render(
            &signed.ctx,
            StatusCode::OK,
            &BlacklistsPage {
                page: PageCtx::new(&signed.ctx, &signed.viewer, "duplicates_blacklists"),
                lists: vec![
                    ListView {
                        key: "serials",
                        title: signed.ctx.tr.get("duplicates.serials").to_owned(),
                        values: serials,
                    },
                    ListView {
                        key: "macs",
                        title: signed.ctx.tr.get("duplicates.macs").to_owned(),
                        values: macs,
                    },
                ],
            },
        ),
        Err(e) => error_page(&signed.ctx, &e),
    }
}

const BLACKLISTS: &str = "/duplicates/blacklists";

fn list_param(list: &str) -> Result<Blacklist, AppError> {
    match list {
        "serials" => Ok(Blacklist::Serials),
        "macs" => Ok(Blacklist::Macs),
        _ => Err(AppError::NotFound(format!("no blacklist {list:?}"))),
    }
}

#[derive(serde::Deserialize)]
struct ValueForm {
    value: String,
}

async fn blacklist_add_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(list): Path<String>,
    Form(f): Form<ValueForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        blacklists::add(&state, &admin, list_param(&list)?, &f.value).await
    }
    .await;
    let tr = &signed.ctx.tr;
    match result {
        Ok(true) => done(&signed.ctx, BLACKLISTS, tr.get("duplicates.added")),
        Ok(false) => done(&signed.ctx, BLACKLISTS, tr.get("duplicates.already")),
        Err(e @ AppError::Forbidden { .. }) => error_page(&signed.ctx, &e),
        Err(e) => failed(&signed.ctx, BLACKLISTS, &e),
    }
}

async fn blacklist_remove_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(list): Path<String>,
    Form(f): Form<ValueForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        blacklists::remove(&state, &admin, list_param(&list)?, &f.value).await
    }
    .await;
    super::outcome(&signed.ctx, BLACKLISTS, result, "duplicates.removed")
}
