//! Software console pages: the fleet's software (`/software`, CSV), one software's versions
//! (`/software/{id}`) and its computers, the dictionary (`/software/dictionary`: search,
//! move rows to a category), and the categories with their rules and the re-application job
//! (`/software/categories`). Reading needs a signed-in account, changing an administrator;
//! `app::software` checks every parameter.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use ocs_storage::jobs::{JobRecord, JobState};
use ocs_storage::software_categories::{Category, IGNORED_CATEGORY};
use serde::Deserialize;

use super::computers::{csv_download, date_text};
use super::paging::{pager, param, query_string, Head, Pager, Params};
use super::{done, failed, outcome, page_or_error, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::i18n::Tr;
use crate::app::software::dictionary::{
    self, parse_triple, triple_key, DictionaryQuery, MoveScope,
};
use crate::app::software::fleet::{self, id_param, sort_key, SoftwareQuery, SORTS};
use crate::app::software::rules::{Sign, OS_CHOICES};
use crate::app::software::{categories, page_param, reapply, DEFAULT_PER_PAGE};
use crate::app::{csv_export, AppError, AppState};

/// Routes of these pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/software", get(list_get))
        .route("/software.csv", get(list_csv_get))
        .route("/software/{id}", get(software_get))
        .route("/software/{id}/computers", get(computers_get))
        .route("/software/dictionary", get(dictionary_get))
        .route("/software/dictionary/move", post(move_post))
        .route(
            "/software/categories",
            get(categories_get).post(category_create_post),
        )
        .route("/software/categories/job", get(job_get))
        .route("/software/categories/reapply", post(reapply_post))
        .route("/software/categories/{id}/os", post(category_os_post))
        .route(
            "/software/categories/{id}/delete",
            post(category_delete_post),
        )
        .route("/software/rules", post(rule_add_post))
        .route("/software/rules/{id}/delete", post(rule_delete_post))
        .route("/software/rules/{id}/up", post(rule_up_post))
        .route("/software/rules/{id}/down", post(rule_down_post))
}

/// When the shown computers were counted, or that they are being counted.
fn counted_text(tr: &Tr, counted_at: Option<i64>) -> String {
    match counted_at {
        Some(at) => tr.fmt("software.counted_at", &[("when", &date_text(at))]),
        None => tr.get("software.counting").to_owned(),
    }
}

/// A category in a drop-down.
struct Choice {
    id: i64,
    name: String,
    selected: bool,
}

fn choices(all: &[Category], selected: Option<i64>) -> Vec<Choice> {
    all.iter()
        .map(|c| Choice {
            id: c.id,
            name: c.name.clone(),
            selected: Some(c.id) == selected,
        })
        .collect()
}

/// One software as listed.
struct SoftwareLine {
    name_id: i64,
    name: String,
    publisher: String,
    versions: i64,
    computers: i64,
    category: String,
}

#[derive(Template)]
#[template(path = "software/list.html")]
struct ListPage {
    page: PageCtx,
    name: String,
    publisher: String,
    categories: Vec<Choice>,
    heads: Vec<Head>,
    rows: Vec<SoftwareLine>,
    total: i64,
    pager: Pager,
    csv_url: String,
    counted: String,
}

fn software_query(p: &HashMap<String, String>) -> Result<SoftwareQuery, AppError> {
    SoftwareQuery::parse(
        param(p, "name"),
        param(p, "publisher"),
        param(p, "category"),
        param(p, "sort"),
        param(p, "dir"),
        param(p, "page"),
        param(p, "per_page"),
    )
}

fn filter_pairs(q: &SoftwareQuery) -> Vec<(&'static str, String)> {
    vec![
        ("name", q.filter.name.clone()),
        ("publisher", q.filter.publisher.clone()),
        (
            "category",
            q.filter.category.map(|c| c.to_string()).unwrap_or_default(),
        ),
    ]
}

async fn list_get(State(state): State<AppState>, signed: SignedIn, Query(p): Params) -> Response {
    let result = async {
        let q = software_query(&p)?;
        let (total, rows, counted_at) = fleet::list(&state, &q).await?;
        let all = categories::list(&state).await?;
        let tr = &signed.ctx.tr;
        let heads = SORTS
            .iter()
            .map(|(s, key)| {
                let sorted = (*s == q.sort).then_some(q.desc);
                let next_dir = if sorted == Some(false) { "desc" } else { "asc" };
                let mut pairs = filter_pairs(&q);
                pairs.push(("sort", (*key).to_owned()));
                pairs.push(("dir", next_dir.to_owned()));
                Head {
                    key,
                    label: tr.get(&format!("software.col_{key}")).to_owned(),
                    url: format!("/software?{}", query_string(&pairs)),
                    sorted,
                }
            })
            .collect();
        let mut here = filter_pairs(&q);
        here.push(("sort", sort_key(q.sort).to_owned()));
        here.push(("dir", if q.desc { "desc" } else { "asc" }.to_owned()));
        let here = query_string(&here);
        let page = q.page.unwrap_or(ocs_storage::Page {
            number: 1,
            size: DEFAULT_PER_PAGE,
        });
        let several = tr.get("software.several").to_owned();
        Ok::<_, AppError>(ListPage {
            pager: pager(
                tr,
                &format!("/software?{here}"),
                total,
                page.number,
                page.size,
            ),
            csv_url: format!("/software.csv?{here}"),
            counted: counted_text(tr, counted_at),
            page: PageCtx::new(&signed.ctx, &signed.viewer, "software"),
            name: q.filter.name.clone(),
            publisher: q.filter.publisher.clone(),
            categories: choices(&all, q.filter.category),
            heads,
            rows: rows
                .into_iter()
                .map(|r| SoftwareLine {
                    name_id: r.name_id,
                    name: r.name,
                    publisher: r.publisher,
                    versions: r.versions,
                    computers: r.computers,
                    category: r.category.unwrap_or_else(|| several.clone()),
                })
                .collect(),
            total,
        })
    }
    .await;
    page_or_error(&signed, result)
}

async fn list_csv_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(p): Params,
) -> Response {
    let result = async {
        let mut q = software_query(&p)?;
        q.page = None;
        let (_, rows, _) = fleet::list(&state, &q).await?;
        let tr = &signed.ctx.tr;
        let header: Vec<String> = SORTS
            .iter()
            .map(|(_, k)| tr.get(&format!("software.col_{k}")).to_owned())
            .collect();
        let several = tr.get("software.several");
        csv_export::write(
            &header,
            rows.iter().map(|r| {
                [
                    r.name.clone(),
                    r.publisher.clone(),
                    r.versions.to_string(),
                    r.computers.to_string(),
                    r.category.clone().unwrap_or_else(|| several.to_owned()),
                ]
            }),
        )
    }
    .await;
    csv_download(&signed.ctx, "software.csv", result)
}

/// One version of a software.
struct VersionLine {
    publisher: String,
    version: String,
    computers: i64,
    computers_url: String,
    category: String,
    ignored: bool,
    manual: bool,
}

#[derive(Template)]
#[template(path = "software/software.html")]
struct SoftwarePage {
    page: PageCtx,
    name_id: i64,
    name: String,
    versions: Vec<VersionLine>,
    computers: i64,
    counted: String,
}

async fn software_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let fleet::SoftwareDetail {
            name,
            versions,
            computers,
            counted_at,
        } = fleet::software(&state, id).await?;
        Ok::<_, AppError>(SoftwarePage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "software"),
            name_id: id,
            name,
            versions: versions
                .into_iter()
                .map(|v| VersionLine {
                    computers_url: format!(
                        "/software/{id}/computers?{}",
                        query_string(&[
                            ("publisher", v.publisher_id.to_string()),
                            ("version", v.version_id.to_string())
                        ])
                    ),
                    publisher: v.publisher,
                    version: v.version,
                    computers: v.computers,
                    ignored: v.category_id == IGNORED_CATEGORY,
                    category: v.category,
                    manual: v.manual,
                })
                .collect(),
            computers,
            counted: counted_text(&signed.ctx.tr, counted_at),
        })
    }
    .await;
    page_or_error(&signed, result)
}

/// A computer with the software.
struct ComputerLine {
    id: i64,
    name: String,
    os: String,
    user: String,
    last_inventory: String,
}

#[derive(Template)]
#[template(path = "software/computers.html")]
struct ComputersPage {
    page: PageCtx,
    name_id: i64,
    name: String,
    version: String,
    rows: Vec<ComputerLine>,
    total: i64,
    pager: Pager,
}

async fn computers_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
    Query(p): Params,
) -> Response {
    let result = async {
        let publisher = id_param(param(&p, "publisher"))?;
        let version = id_param(param(&p, "version"))?;
        let page = page_param(param(&p, "page"), param(&p, "per_page"))?;
        let fleet::SoftwareDetail { name, versions, .. } = fleet::software(&state, id).await?;
        let (total, rows) = fleet::computers(&state, id, publisher, version, Some(page)).await?;
        let version_text = versions
            .iter()
            .find(|v| {
                Some(v.version_id) == version && publisher.is_none_or(|p| p == v.publisher_id)
            })
            .map(|v| v.version.clone())
            .unwrap_or_default();
        let base = format!(
            "/software/{id}/computers?{}",
            query_string(&[
                (
                    "publisher",
                    publisher.map(|p| p.to_string()).unwrap_or_default()
                ),
                (
                    "version",
                    version.map(|v| v.to_string()).unwrap_or_default()
                ),
            ])
        );
        Ok::<_, AppError>(ComputersPage {
            pager: pager(&signed.ctx.tr, &base, total, page.number, page.size),
            page: PageCtx::new(&signed.ctx, &signed.viewer, "software"),
            name_id: id,
            name,
            version: version_text,
            rows: rows
                .into_iter()
                .map(|c| ComputerLine {
                    id: c.id,
                    name: c.name.unwrap_or_default(),
                    os: c.osname.unwrap_or_default(),
                    user: c.userid.unwrap_or_default(),
                    last_inventory: c.lastdate.map(date_text).unwrap_or_default(),
                })
                .collect(),
            total,
        })
    }
    .await;
    page_or_error(&signed, result)
}

/// One dictionary row.
struct DictionaryLine {
    key: String,
    name_id: i64,
    name: String,
    publisher: String,
    version: String,
    category: String,
    manual: bool,
    computers: i64,
}

#[derive(Template)]
#[template(path = "software/dictionary.html")]
struct DictionaryPage {
    page: PageCtx,
    text: String,
    category: String,
    categories: Vec<Choice>,
    targets: Vec<Choice>,
    rows: Vec<DictionaryLine>,
    total: i64,
    pager: Pager,
    admin: bool,
    counted: String,
}

async fn dictionary_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(p): Params,
) -> Response {
    let result = async {
        let q = DictionaryQuery::parse(
            param(&p, "q"),
            param(&p, "category"),
            param(&p, "page"),
            param(&p, "per_page"),
        )?;
        let (total, rows, counted_at) = dictionary::page(&state, &q).await?;
        let all = categories::list(&state).await?;
        let category = q.filter.category.map(|c| c.to_string()).unwrap_or_default();
        let base = format!(
            "/software/dictionary?{}",
            query_string(&[("q", q.filter.text.clone()), ("category", category.clone())])
        );
        Ok::<_, AppError>(DictionaryPage {
            pager: pager(&signed.ctx.tr, &base, total, q.page.number, q.page.size),
            page: PageCtx::new(&signed.ctx, &signed.viewer, "software_dictionary"),
            text: q.filter.text.clone(),
            category,
            categories: choices(&all, q.filter.category),
            targets: choices(&all, None),
            rows: rows
                .into_iter()
                .map(|r| DictionaryLine {
                    key: triple_key(&r.triple),
                    name_id: r.triple.name_id,
                    name: r.name,
                    publisher: r.publisher,
                    version: r.version,
                    category: r.category,
                    manual: r.manual,
                    computers: r.computers,
                })
                .collect(),
            total,
            admin: signed.viewer.is_admin(),
            counted: counted_text(&signed.ctx.tr, counted_at),
        })
    }
    .await;
    page_or_error(&signed, result)
}

/// The move form: `scope` is `selected` (the ticked `sel` rows), `page` (every `row` of the
/// page) or `matching` (the search `q` / `category`, read again on the server).
async fn move_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        f.iter()
            .find(|(key, _)| key == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let back = format!(
        "/software/dictionary?{}",
        query_string(&[
            ("q", get("q").to_owned()),
            ("category", get("category").to_owned())
        ])
    );
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let keys = |name: &str| {
            f.iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| parse_triple(v))
                .collect::<Result<Vec<_>, _>>()
        };
        let scope = match get("scope") {
            "selected" => MoveScope::Rows(keys("sel")?),
            "page" => MoveScope::Rows(keys("row")?),
            "matching" => MoveScope::Matching(
                DictionaryQuery::parse(Some(get("q")), Some(get("category")), None, None)?.filter,
            ),
            _ => {
                return Err(AppError::bad_request(
                    "E_BAD_SELECTION",
                    "dictionary.bad_selection",
                ))
            }
        };
        let target = categories::existing_or_new(
            &state,
            &admin,
            crate::app::software::category_param(Some(get("target")))?,
            get("new_category"),
        )
        .await?;
        dictionary::move_to(&state, &admin, scope, target).await
    }
    .await;
    match result {
        Ok(n) => done(
            &signed.ctx,
            &back,
            &signed
                .ctx
                .tr
                .count("dictionary.moved", i64::try_from(n).unwrap_or(0)),
        ),
        Err(e @ AppError::Forbidden { .. }) => super::error_page(&signed.ctx, &e),
        Err(e) => failed(&signed.ctx, &back, &e),
    }
}

/// A category as listed.
struct CategoryLine {
    id: i64,
    name: String,
    os: String,
    builtin: bool,
    rules: i64,
}

/// A rule as listed.
struct RuleLine {
    id: i64,
    category: String,
    pattern: String,
    sign: String,
    version: String,
    publisher: String,
    first: bool,
    last: bool,
}

/// The re-application job as shown.
struct JobView {
    running: bool,
    text: String,
    failed: bool,
}

fn job_view(tr: &Tr, job: Option<JobRecord>) -> Option<JobView> {
    job.map(|j| {
        let percent = if j.total > 0 {
            j.done * 100 / j.total
        } else {
            0
        };
        let text = match j.state {
            JobState::Running => tr.fmt(
                "categories.job_running",
                &[("percent", &percent), ("changed", &j.changed)],
            ),
            JobState::Done => tr.fmt(
                "categories.job_done",
                &[
                    ("when", &date_text(j.finished_at.unwrap_or(j.updated_at))),
                    ("changed", &j.changed),
                ],
            ),
            JobState::Failed => tr.fmt("categories.job_failed", &[("error", &j.error)]),
        };
        JobView {
            running: j.state == JobState::Running,
            failed: j.state == JobState::Failed,
            text,
        }
    })
}

#[derive(Template)]
#[template(path = "software/categories.html")]
struct CategoriesPage {
    page: PageCtx,
    categories: Vec<CategoryLine>,
    targets: Vec<Choice>,
    rules: Vec<RuleLine>,
    os_choices: &'static [&'static str],
    signs: &'static [&'static str],
    job: Option<JobView>,
    admin: bool,
}

async fn categories_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let result = async {
        let all = categories::list(&state).await?;
        let rules = categories::rules(&state).await?;
        let names: HashMap<i64, String> = all.iter().map(|c| (c.id, c.name.clone())).collect();
        let n = rules.len();
        Ok::<_, AppError>(CategoriesPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "software_categories"),
            targets: choices(&all, None),
            categories: all
                .into_iter()
                .map(|c| CategoryLine {
                    id: c.id,
                    name: c.name,
                    os: c.os,
                    builtin: c.builtin,
                    rules: c.rules,
                })
                .collect(),
            rules: rules
                .into_iter()
                .enumerate()
                .map(|(i, r)| RuleLine {
                    id: r.id,
                    category: names.get(&r.category_id).cloned().unwrap_or_default(),
                    pattern: r.pattern,
                    sign: r.sign_version.unwrap_or_default(),
                    version: r.version.unwrap_or_default(),
                    publisher: r.publisher.unwrap_or_default(),
                    first: i == 0,
                    last: i + 1 == n,
                })
                .collect(),
            os_choices: &OS_CHOICES,
            signs: &Sign::ALL,
            job: job_view(&signed.ctx.tr, reapply::latest(&state).await?),
            admin: signed.viewer.is_admin(),
        })
    }
    .await;
    page_or_error(&signed, result)
}

#[derive(Template)]
#[template(path = "software/_job.html")]
struct JobFragment {
    page: PageCtx,
    job: Option<JobView>,
}

/// The job's status alone, which the categories page polls while it runs.
async fn job_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let result = async {
        let mut page = PageCtx::new(&signed.ctx, &signed.viewer, "software_categories");
        page.fragment = true;
        Ok::<_, AppError>(JobFragment {
            page,
            job: job_view(&signed.ctx.tr, reapply::latest(&state).await?),
        })
    }
    .await;
    page_or_error(&signed, result)
}

const CATEGORIES: &str = "/software/categories";

#[derive(Deserialize)]
struct CategoryForm {
    name: String,
    #[serde(default)]
    os: String,
}

async fn category_create_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(f): Form<CategoryForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        categories::create(&state, &admin, &f.name, &f.os)
            .await
            .map(|_| ())
    }
    .await;
    outcome(&signed.ctx, CATEGORIES, result, "categories.created")
}

#[derive(Deserialize)]
struct OsForm {
    os: String,
}

async fn category_os_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
    Form(f): Form<OsForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        categories::set_os(&state, &admin, id, &f.os).await
    }
    .await;
    outcome(&signed.ctx, CATEGORIES, result, "categories.os_set")
}

async fn category_delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        categories::delete(&state, &admin, id).await
    }
    .await;
    outcome(&signed.ctx, CATEGORIES, result, "categories.deleted")
}

#[derive(Deserialize)]
struct RuleForm {
    category: String,
    pattern: String,
    #[serde(default)]
    sign: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    publisher: String,
}

async fn rule_add_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(f): Form<RuleForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let category = crate::app::software::category_param(Some(&f.category))?
            .ok_or_else(|| AppError::bad_request("E_BAD_RULE", "categories.choose"))?;
        let rule = categories::check_rule(category, &f.pattern, &f.sign, &f.version, &f.publisher)?;
        categories::add_rule(&state, &admin, &rule)
            .await
            .map(|_| ())
    }
    .await;
    outcome(&signed.ctx, CATEGORIES, result, "categories.rule_added")
}

async fn rule_delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        categories::delete_rule(&state, &admin, id).await
    }
    .await;
    outcome(&signed.ctx, CATEGORIES, result, "categories.rule_deleted")
}

async fn rule_move(state: AppState, signed: SignedIn, id: i64, earlier: bool) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        categories::move_rule(&state, &admin, id, earlier).await
    }
    .await;
    outcome(&signed.ctx, CATEGORIES, result, "categories.rule_moved")
}

async fn rule_up_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    rule_move(state, signed, id, true).await
}

async fn rule_down_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    rule_move(state, signed, id, false).await
}

async fn reapply_post(State(state): State<AppState>, signed: SignedIn) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        reapply::start(&state, &admin.viewer.login)
            .await
            .map(|_| ())
    }
    .await;
    outcome(
        &signed.ctx,
        CATEGORIES,
        result,
        "categories.reapply_started",
    )
}
