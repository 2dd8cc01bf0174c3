//! The deployment statistics page of a package (`/packages/{fileid}/status`): counts per
//! status with the server-drawn SVG chart, each count linking to the search of its computers
//! (criterion `deployment` = `FILEID:STATUS`), and the validation buttons that post to
//! `/packages/{fileid}/validate`. Only administrators validate.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::{done, error_page, failed, render, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::deployment::status;
use crate::app::groups::Editor;
use crate::app::AppState;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/packages/{fileid}/status", get(status_get))
        .route("/packages/{fileid}/validate", post(validate_post))
}

/// One status line of the page.
pub struct StatusRow {
    /// The status.
    pub status: String,
    /// Computers at it.
    pub computers: i64,
    /// The search listing them.
    pub search_url: String,
}

/// The search page URL listing a package's computers at one status (`FILEID:STATUS`).
pub fn search_url(criterion: &str) -> String {
    let query =
        serde_urlencoded::to_string([("f0", "deployment"), ("o0", "equal"), ("v0", criterion)])
            .unwrap_or_default();
    format!("/search?{query}")
}

#[derive(Template)]
#[template(path = "deployment/status.html")]
struct StatusPage {
    page: PageCtx,
    fileid: String,
    name: String,
    total: i64,
    rows: Vec<StatusRow>,
    chart: String,
    /// (kind, button, hint) of each validation.
    validations: Vec<(&'static str, String, String)>,
}

async fn status_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(fileid): Path<String>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let stats = match status::package_status(&state, &fileid).await {
        Ok(s) => s,
        Err(e) => return error_page(&ctx, &e),
    };
    let chart = status::bar_chart(
        &stats
            .statuses
            .iter()
            .map(|s| (s.status.clone(), s.computers))
            .collect::<Vec<_>>(),
    );
    let rows = stats
        .statuses
        .into_iter()
        .map(|s| StatusRow {
            search_url: search_url(&s.search),
            status: s.status,
            computers: s.computers,
        })
        .collect();
    render(
        &ctx,
        StatusCode::OK,
        &StatusPage {
            page: PageCtx::new(&ctx, &viewer, "deployment"),
            fileid: stats.fileid,
            name: stats.name,
            total: stats.total,
            rows,
            chart,
            validations: vec![
                (
                    "success",
                    ctx.tr.get("deploy_status.validate_success").to_owned(),
                    ctx.tr.get("deploy_status.validate_success_hint").to_owned(),
                ),
                (
                    "not_notified",
                    ctx.tr.get("deploy_status.validate_not_notified").to_owned(),
                    ctx.tr
                        .get("deploy_status.validate_not_notified_hint")
                        .to_owned(),
                ),
                (
                    "all",
                    ctx.tr.get("deploy_status.validate_all").to_owned(),
                    ctx.tr.get("deploy_status.validate_all_hint").to_owned(),
                ),
            ],
        },
    )
}

/// The validation form: `kind` is success, not_notified or all; `confirm` must be ticked.
#[derive(Debug, Deserialize)]
pub struct ValidateForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    confirm: String,
}

async fn validate_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(fileid): Path<String>,
    Form(form): Form<ValidateForm>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let admin = match require_admin(&viewer) {
        Ok(a) => a,
        Err(e) => return error_page(&ctx, &e),
    };
    let back = format!("/packages/{fileid}/status");
    let which = match status::parse_validation(&form.kind) {
        Ok(w) => w,
        Err(e) => return failed(&ctx, &back, &e),
    };
    if form.confirm.is_empty() {
        return failed(
            &ctx,
            &back,
            &crate::app::AppError::bad_request(
                "E_VALIDATE_CONFIRM",
                "deploy_status.confirm_needed",
            ),
        );
    }
    match status::validate(&state, &Editor::console(&admin), &fileid, which).await {
        Ok(n) => done(&ctx, &back, &ctx.tr.n("deploy_status.validated", n)),
        Err(e) => failed(&ctx, &back, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_urls_encode_the_criterion() {
        assert_eq!(
            search_url("1709631900:SUCCESS"),
            "/search?f0=deployment&o0=equal&v0=1709631900%3ASUCCESS"
        );
    }
}
