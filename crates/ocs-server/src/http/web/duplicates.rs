//! The duplicates page: the sets each mode finds, and a mode's sets with their computers side
//! by side, the values that match highlighted.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use ocs_storage::duplicates::candidates::{CandidateComputer, Criterion, DuplicateMode};

use super::computers::date_text;
use super::paging::{pager, param, query_string, Pager, Params};
use super::{error_page, render, PageCtx, SignedIn};
use crate::app::duplicates::{self, mode_param, page_param};
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/duplicates", get(duplicates_get))
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
        let counts = duplicates::counts(&state).await?;
        let c = duplicates::candidates(&state, mode, page).await?;
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
            summary: tr.fmt(
                "duplicates.summary",
                &[("sets", &c.count.sets), ("n", &c.count.computers)],
            ),
            sets,
        })
    }
    .await;
    match result {
        Ok(page) => render(&signed.ctx, StatusCode::OK, &page),
        Err(e) => error_page(&signed.ctx, &e),
    }
}
