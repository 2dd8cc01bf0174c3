//! The change history in the console: a computer's timeline (its own page, and the latest
//! changes as a card of the computer page), and the fleet's recent changes with their CSV.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use ocs_storage::history::{ChangeAction, ChangeFilter, ChangePage, ChangeRecord};
use ocs_storage::{HostId, Page};

use super::computers::{csv_download, date_text};
use super::paging::{param, query_string, Pager, Params};
use super::{error_page, page_or_error, render, render_block, PageCtx, SignedIn};
use crate::app::history::{self, filter_params, page_param};
use crate::app::i18n::Tr;
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/changes", get(changes_get))
        .route("/changes.csv", get(changes_csv_get))
        .route("/computers/{id}/history", get(timeline_get))
}

/// A field of a change, as shown.
pub struct FieldView {
    /// Field name.
    pub field: String,
    /// Before (empty for an added row).
    pub old: String,
    /// After (empty for a removed row).
    pub new: String,
}

/// A change, as listed.
pub struct ChangeLine {
    /// When.
    pub when: String,
    /// The computer's page.
    pub computer_url: String,
    /// The computer's name (or `#id`).
    pub computer: String,
    /// Section, in words.
    pub section: String,
    /// Stored action name (CSS class).
    pub action: &'static str,
    /// Action, in words.
    pub action_label: String,
    /// What changed.
    pub label: String,
    /// Its fields.
    pub fields: Vec<FieldView>,
    /// Who edited it by hand.
    pub by: String,
}

/// A filter's choice.
pub struct Choice {
    /// Value sent.
    pub value: String,
    /// Shown.
    pub label: String,
    /// The current one.
    pub selected: bool,
}

/// The section's name in the console.
pub fn section_title(tr: &Tr, element: &str) -> String {
    match element {
        "COMPUTER" => tr.get("history.section_computer").to_owned(),
        "ACCOUNTINFO" => tr.get("history.section_accountinfo").to_owned(),
        e => tr.get(&format!("section.{}", e.to_lowercase())).to_owned(),
    }
}

fn action_label(tr: &Tr, action: ChangeAction) -> String {
    tr.get(&format!("history.action_{}", action.name()))
        .to_owned()
}

/// A change as a list line.
pub fn line(tr: &Tr, r: &ChangeRecord) -> ChangeLine {
    ChangeLine {
        when: date_text(r.changed_at),
        computer_url: format!("/computers/{}", r.hardware_id.0),
        computer: r
            .computer
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("#{}", r.hardware_id.0)),
        section: section_title(tr, &r.change.section),
        action: r.change.action.name(),
        action_label: action_label(tr, r.change.action),
        label: r.change.label.clone(),
        fields: r
            .change
            .fields
            .iter()
            .map(|f| FieldView {
                field: f.field.clone(),
                old: f.old.clone().unwrap_or_default(),
                new: f.new.clone().unwrap_or_default(),
            })
            .collect(),
        by: r.change.author.clone().unwrap_or_default(),
    }
}

/// The filters a page was asked for, as given (for the form and the links).
struct Asked {
    section: String,
    action: String,
    days: String,
    q: String,
}

impl Asked {
    fn of(params: &Params) -> Asked {
        let get = |k| param(params, k).unwrap_or_default().trim().to_owned();
        Asked {
            section: get("section"),
            action: get("action"),
            days: get("days"),
            q: get("q"),
        }
    }

    fn filter(&self, state: &AppState) -> Result<ChangeFilter, AppError> {
        filter_params(
            state,
            Some(&self.section),
            Some(&self.action),
            Some(&self.days),
            Some(&self.q),
        )
    }

    fn query(&self) -> String {
        query_string(&[
            ("section", self.section.clone()),
            ("action", self.action.clone()),
            ("days", self.days.clone()),
            ("q", self.q.clone()),
        ])
    }

    fn sections(&self, tr: &Tr, available: &[String]) -> Vec<Choice> {
        let mut out = vec![Choice {
            value: String::new(),
            label: tr.get("history.any_section").to_owned(),
            selected: self.section.is_empty(),
        }];
        out.extend(available.iter().map(|s| Choice {
            value: s.clone(),
            label: section_title(tr, s),
            selected: self.section.eq_ignore_ascii_case(s),
        }));
        out
    }

    fn actions(&self, tr: &Tr) -> Vec<Choice> {
        let mut out = vec![Choice {
            value: String::new(),
            label: tr.get("history.any_action").to_owned(),
            selected: self.action.is_empty(),
        }];
        out.extend(ChangeAction::ALL.into_iter().map(|a| Choice {
            value: a.name().to_owned(),
            label: action_label(tr, a),
            selected: self.action == a.name(),
        }));
        out
    }

    fn periods(&self, tr: &Tr) -> Vec<Choice> {
        let mut out = vec![Choice {
            value: String::new(),
            label: tr.get("history.any_period").to_owned(),
            selected: self.days.is_empty(),
        }];
        out.extend([1, 7, 30, 90, 365].into_iter().map(|d: u32| Choice {
            value: d.to_string(),
            label: tr.count("history.last_days", i64::from(d)),
            selected: self.days == d.to_string(),
        }));
        out
    }
}

/// Previous / next links of a page read without a total.
fn pager(tr: &Tr, base: &str, changes: &ChangePage, page: Page) -> Pager {
    let sep = if base.contains('?') { '&' } else { '?' };
    let at = |n: u32| format!("{base}{sep}page={n}&per_page={}", page.size);
    Pager {
        prev: (page.number > 1).then(|| at(page.number - 1)),
        next: changes.more.then(|| at(page.number + 1)),
        label: tr.fmt("history.page", &[("n", &page.number)]),
    }
}

#[derive(Template)]
#[template(path = "history/changes.html")]
struct ChangesPage {
    page: PageCtx,
    lines: Vec<ChangeLine>,
    sections: Vec<Choice>,
    actions: Vec<Choice>,
    periods: Vec<Choice>,
    q: String,
    csv_url: String,
    retention: String,
    pager: Pager,
}

fn retention_text(tr: &Tr, state: &AppState) -> String {
    match state.config.history.retention_days {
        _ if !state.config.history.enabled => tr.get("history.disabled").to_owned(),
        0 => tr.get("history.kept_forever").to_owned(),
        days => tr.count("history.kept_days", i64::try_from(days).unwrap_or(i64::MAX)),
    }
}

async fn changes_get(State(state): State<AppState>, signed: SignedIn, params: Params) -> Response {
    let result = async {
        let tr = &signed.ctx.tr;
        let asked = Asked::of(&params);
        let filter = asked.filter(&state)?;
        let page = page_param(param(&params, "page"), param(&params, "per_page"))?;
        let changes = history::recent(&state, &filter, page).await?;
        let all: Vec<String> = history::sections().into_iter().map(str::to_owned).collect();
        let query = asked.query();
        Ok::<_, AppError>(ChangesPage {
            pager: pager(tr, &format!("/changes?{query}"), &changes, page),
            page: PageCtx::new(&signed.ctx, &signed.viewer, "changes"),
            lines: changes.records.iter().map(|r| line(tr, r)).collect(),
            sections: asked.sections(tr, &all),
            actions: asked.actions(tr),
            periods: asked.periods(tr),
            q: asked.q.clone(),
            csv_url: format!("/changes.csv?{query}"),
            retention: retention_text(tr, &state),
        })
    }
    .await;
    page_or_error(&signed, result)
}

async fn changes_csv_get(
    State(state): State<AppState>,
    signed: SignedIn,
    params: Params,
) -> Response {
    let tr = &signed.ctx.tr;
    let result = async {
        let filter = Asked::of(&params).filter(&state)?;
        let header: Vec<String> = [
            "history.col_when",
            "history.col_computer_id",
            "history.col_computer",
            "history.col_section",
            "history.col_action",
            "history.col_what",
            "history.col_fields",
            "history.col_by",
        ]
        .iter()
        .map(|k| tr.get(k).to_owned())
        .collect();
        history::recent_csv(&state, &filter, &header, date_text).await
    }
    .await;
    csv_download(&signed.ctx, "changes.csv", result)
}

#[derive(Template)]
#[template(path = "history/timeline.html")]
struct TimelinePage {
    page: PageCtx,
    id: i64,
    /// The latest changes only, as a card of the computer page.
    compact: bool,
    lines: Vec<ChangeLine>,
    sections: Vec<Choice>,
    actions: Vec<Choice>,
    retention: String,
    pager: Pager,
}

async fn timeline_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    params: Params,
) -> Response {
    let result = async {
        let tr = &signed.ctx.tr;
        let id = id
            .parse::<i64>()
            .map_err(|_| AppError::NotFound(format!("computer {id:?}")))?;
        let asked = Asked::of(&params);
        let filter = asked.filter(&state)?;
        let page = page_param(param(&params, "page"), param(&params, "per_page"))?;
        let (changes, sections) = history::timeline(&state, HostId(id), filter, page).await?;
        let base = format!("/computers/{id}/history?{}", asked.query());
        let compact = param(&params, "compact").is_some();
        Ok::<_, AppError>(TimelinePage {
            pager: pager(tr, &base, &changes, page),
            page: PageCtx::new(&signed.ctx, &signed.viewer, "computers"),
            id,
            compact,
            lines: changes.records.iter().map(|r| line(tr, r)).collect(),
            sections: asked.sections(tr, &sections),
            actions: asked.actions(tr),
            retention: retention_text(tr, &state),
        })
    }
    .await;
    match result {
        Ok(page) if page.compact => render_block(&signed.ctx, &page),
        Ok(page) => render(&signed.ctx, StatusCode::OK, &page),
        Err(e) => error_page(&signed.ctx, &e),
    }
}
