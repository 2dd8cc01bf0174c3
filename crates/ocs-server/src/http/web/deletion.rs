//! Deleting a computer from its page (a confirmation step, then a POST), the deleted
//! computers log, and the inactive computers cleaning (a preview, then a POST). Administrators
//! only; the rules live in `app::deletion`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::computers::date_text;
use super::{done, error_page, failed, render, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::deletion::{self, Deleter, DeletionReason};
use crate::app::i18n::Tr;
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/computers/{id}/delete",
            get(computer_delete_get).post(computer_delete_post),
        )
        .route("/admin/deleted", get(deleted_get))
        .route("/admin/inactive", get(inactive_get).post(inactive_post))
}

/// Translates the services' refusals of a number of days.
fn days_error(tr: &Tr, error: AppError) -> AppError {
    match error {
        AppError::BadRequest {
            code: "E_BAD_DAYS", ..
        } => AppError::bad_request("E_BAD_DAYS", tr.get("deletion.bad_days")),
        e => e,
    }
}

#[derive(Template)]
#[template(path = "deletion/confirm.html")]
struct ConfirmPage {
    page: PageCtx,
    title: String,
    id: i64,
    name: String,
    deviceid: String,
    last_seen: String,
}

fn parse_id(id: &str) -> Result<i64, AppError> {
    id.parse()
        .map_err(|_| AppError::NotFound(format!("computer {id:?}")))
}

async fn computer_delete_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        require_admin(&viewer)?;
        let id = parse_id(&id)?;
        let target = deletion::deletion_target(&state, id).await?;
        let name = target.name.clone().unwrap_or_default();
        let shown = if name.is_empty() {
            format!("#{id}")
        } else {
            name.clone()
        };
        Ok::<_, AppError>(ConfirmPage {
            page: PageCtx::new(&ctx, &viewer, "computers"),
            title: ctx.tr.fmt("deletion.confirm_title", &[("name", &shown)]),
            id,
            name,
            deviceid: target.deviceid,
            last_seen: target
                .lastcome
                .or(target.lastdate)
                .map_or_else(|| ctx.tr.get("deletion.never").to_owned(), date_text),
        })
    }
    .await;
    match result {
        Ok(page) => render(&ctx, StatusCode::OK, &page),
        Err(e) => error_page(&ctx, &e),
    }
}

async fn computer_delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let admin = require_admin(&viewer)?;
        let id = parse_id(&id)?;
        let target = deletion::deletion_target(&state, id).await?;
        deletion::delete_computer(&state, &Deleter::from(&admin), id).await?;
        Ok::<_, AppError>(
            target
                .name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("#{id}")),
        )
    }
    .await;
    match result {
        Ok(name) => done(
            &ctx,
            "/computers",
            &ctx.tr.fmt("deletion.deleted", &[("name", &name)]),
        ),
        Err(e) => error_page(&ctx, &e),
    }
}

/// One line of the log as shown.
struct LogLine {
    hardware_id: i64,
    when: String,
    name: String,
    deviceid: String,
    by: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "deletion/log.html")]
struct LogPage {
    page: PageCtx,
    total: String,
    rows: Vec<LogLine>,
    page_label: String,
    prev_url: Option<String>,
    next_url: Option<String>,
}

#[derive(Deserialize)]
struct LogQuery {
    page: Option<u32>,
}

fn reason_text(tr: &Tr, code: &str) -> String {
    match DeletionReason::parse(code) {
        Some(DeletionReason::Manual) => tr.get("deletion.reason_manual").to_owned(),
        Some(DeletionReason::Inactive { days }) => tr.n("deletion.reason_inactive", days),
        None => code.to_owned(),
    }
}

async fn deleted_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(q): Query<LogQuery>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        require_admin(&viewer)?;
        let log = deletion::deleted_log(&state, q.page.unwrap_or(1)).await?;
        let tr = &ctx.tr;
        Ok::<_, AppError>(LogPage {
            page: PageCtx::new(&ctx, &viewer, "deleted"),
            total: tr.count("list.count", log.total),
            rows: log
                .rows
                .into_iter()
                .map(|r| LogLine {
                    hardware_id: r.hardware_id.0,
                    when: date_text(r.deleted_at),
                    name: r.name.unwrap_or_default(),
                    deviceid: r.deviceid,
                    by: r.deleted_by,
                    reason: reason_text(tr, &r.reason),
                })
                .collect(),
            page_label: tr.fmt("list.page", &[("n", &log.page), ("of", &log.pages)]),
            prev_url: (log.page > 1).then(|| format!("/admin/deleted?page={}", log.page - 1)),
            next_url: (log.page < log.pages)
                .then(|| format!("/admin/deleted?page={}", log.page + 1)),
        })
    }
    .await;
    match result {
        Ok(page) => render(&ctx, StatusCode::OK, &page),
        Err(e) => error_page(&ctx, &e),
    }
}

/// The preview as shown.
struct PreviewView {
    days: i64,
    count: i64,
    summary: String,
    /// (id, name, DEVICEID, last seen).
    sample: Vec<(i64, String, String, String)>,
}

#[derive(Template)]
#[template(path = "deletion/inactive.html")]
struct InactivePage {
    page: PageCtx,
    days: String,
    preview: Option<PreviewView>,
}

#[derive(Deserialize)]
struct DaysForm {
    days: Option<String>,
}

fn parse_days(tr: &Tr, text: &str) -> Result<i64, AppError> {
    text.trim()
        .parse()
        .map_err(|_| AppError::bad_request("E_BAD_DAYS", tr.get("deletion.bad_days")))
}

async fn inactive_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(q): Query<DaysForm>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let tr = &ctx.tr;
    let result = async {
        require_admin(&viewer)?;
        let text = q.days.unwrap_or_default();
        let preview = match text.trim() {
            "" => None,
            given => {
                let days = parse_days(tr, given)?;
                let p = deletion::inactive_preview(&state, days)
                    .await
                    .map_err(|e| days_error(tr, e))?;
                let summary = match p.count {
                    0 => tr.fmt("deletion.preview_none", &[("days", &p.days)]),
                    1 => tr.fmt("deletion.preview_count_one", &[("days", &p.days)]),
                    n => tr.fmt("deletion.preview_count", &[("n", &n), ("days", &p.days)]),
                };
                Some(PreviewView {
                    days: p.days,
                    count: p.count,
                    summary,
                    sample: p
                        .sample
                        .into_iter()
                        .map(|h| {
                            (
                                h.id.0,
                                h.name.unwrap_or_default(),
                                h.deviceid,
                                h.last_seen
                                    .map_or_else(|| tr.get("deletion.never").to_owned(), date_text),
                            )
                        })
                        .collect(),
                })
            }
        };
        Ok::<_, AppError>(InactivePage {
            page: PageCtx::new(&ctx, &viewer, "inactive"),
            days: text,
            preview,
        })
    }
    .await;
    match result {
        Ok(page) => render(&ctx, StatusCode::OK, &page),
        Err(e @ AppError::BadRequest { .. }) => failed(&ctx, "/admin/inactive", &e),
        Err(e) => error_page(&ctx, &e),
    }
}

async fn inactive_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(form): Form<DaysForm>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let tr = &ctx.tr;
    let result = async {
        let admin = require_admin(&viewer)?;
        let days = parse_days(tr, form.days.as_deref().unwrap_or(""))?;
        let deleted = deletion::clean_inactive(&state, &Deleter::from(&admin), days)
            .await
            .map_err(|e| days_error(tr, e))?;
        Ok::<_, AppError>((days, deleted))
    }
    .await;
    match result {
        Ok((days, deleted)) => done(
            &ctx,
            &format!("/admin/inactive?days={days}"),
            &tr.fmt("deletion.cleaned", &[("n", &deleted), ("days", &days)]),
        ),
        Err(e @ AppError::Forbidden { .. }) => error_page(&ctx, &e),
        Err(e) => failed(&ctx, "/admin/inactive", &e),
    }
}
