//! Network discovery console pages: *Analyze* a network (start the job, follow its progress,
//! see its devices by class) and the past analyses of a network. Reading needs a signed-in
//! account, starting a job an administrator; the network in the URL must be a dotted IPv4
//! address (`app::ipdiscover::analyze` checks it and everything the job scans).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::computers::date_text;
use super::{error_page, failed, page_or_error, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::i18n::Tr;
use crate::app::ipdiscover::analyze::{self, ResultLine};
use crate::app::{AppError, AppState};
use ocs_storage::ipdiscover::analysis::{AnalysisRecord, AnalysisState};

/// Seconds between reloads of a running job's page.
const REFRESH_SECS: u32 = 3;

/// Routes of these pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/networks/{netid}/analyze", post(analyze_post))
        .route("/networks/{netid}/analyses", get(analyses_get))
        .route("/networks/analyses/{id}", get(analysis_get))
}

/// A job as listed or shown.
struct JobLine {
    id: i64,
    netid: String,
    /// `running`, `done` or `failed` (a CSS class and a catalogue key suffix).
    state: &'static str,
    /// The catalogue key of the state's name.
    state_key: String,
    running: bool,
    progress: String,
    started: String,
    finished: String,
    started_by: String,
    error: String,
}

fn job_line(tr: &Tr, a: AnalysisRecord) -> JobLine {
    JobLine {
        id: a.id,
        progress: tr.fmt("analyze.progress", &[("n", &a.done), ("of", &a.total)]),
        netid: a.netid,
        state: a.state.as_str(),
        state_key: format!("analyze.state_{}", a.state.as_str()),
        running: a.state == AnalysisState::Running,
        started: date_text(a.started_at),
        finished: a.finished_at.map(date_text).unwrap_or_default(),
        started_by: a.started_by,
        error: a.error,
    }
}

/// The devices of one class.
struct KindGroup {
    /// `WINDOWS`, …: the anchor and the catalogue key suffix (lower case).
    kind: &'static str,
    label_key: String,
    devices: Vec<ResultLine>,
}

#[derive(Template)]
#[template(path = "ipdiscover/analysis.html")]
struct AnalysisPage {
    page: PageCtx,
    job: JobLine,
    groups: Vec<KindGroup>,
    refresh: u32,
}

async fn analysis_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let view = analyze::analysis(&state, id).await?;
        let groups = view
            .groups
            .into_iter()
            .map(|(kind, devices)| KindGroup {
                kind: kind.as_str(),
                label_key: format!("analyze.kind_{}", kind.as_str().to_ascii_lowercase()),
                devices,
            })
            .collect();
        Ok::<_, AppError>(AnalysisPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "networks"),
            job: job_line(&signed.ctx.tr, view.record),
            groups,
            refresh: REFRESH_SECS,
        })
    }
    .await;
    page_or_error(&signed, result)
}

#[derive(Template)]
#[template(path = "ipdiscover/analyses.html")]
struct AnalysesPage {
    page: PageCtx,
    netid: String,
    jobs: Vec<JobLine>,
    admin: bool,
    nmap: bool,
}

async fn analyses_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(netid): Path<String>,
) -> Response {
    let result = async {
        let netid = analyze::netid_param(&netid)?;
        let tr = &signed.ctx.tr;
        let jobs = analyze::history(&state, netid)
            .await?
            .into_iter()
            .map(|a| job_line(tr, a))
            .collect();
        Ok::<_, AppError>(AnalysesPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "networks"),
            netid: netid.to_string(),
            jobs,
            admin: signed.viewer.is_admin(),
            nmap: analyze::nmap_installed(),
        })
    }
    .await;
    page_or_error(&signed, result)
}

async fn analyze_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(netid): Path<String>,
) -> Response {
    // A network that is no address is refused outright (there is no page to go back to).
    let netid = match analyze::netid_param(&netid) {
        Ok(n) => n,
        Err(e) => return error_page(&signed.ctx, &e),
    };
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        analyze::start(&state, &admin, netid).await
    }
    .await;
    match result {
        Ok(id) => Redirect::to(&format!("/networks/analyses/{id}")).into_response(),
        Err(e @ AppError::Forbidden { .. }) => error_page(&signed.ctx, &e),
        Err(e) => failed(&signed.ctx, &format!("/networks/{netid}/analyses"), &e),
    }
}
