//! All computers (shared with search results), the column chooser, CSV export, and the
//! computer page with its administrative data and customisation blocks.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use ocs_proto::catalogue::FieldKind;
use ocs_proto::Value;
use ocs_storage::{Cell, ComputerRow, DeviceSetting, SectionData, ValueKind, TAG};

use super::{done, error_page, failed, outcome, render, PageCtx, SignedIn};
use crate::app::auth::{require_admin, Viewer};
use crate::app::computers::{
    self, available_columns, parse_criteria, ColumnChoice, CriterionInput, Customisation, ListPage,
    ListView, ViewChange, CUSTOMISABLE, PAGE_SIZES,
};
use crate::app::i18n::Tr;
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/computers", get(computers_list_get))
        .route("/computers.csv", get(computers_csv_get))
        .route("/computers/view", post(computers_view_post))
        .route("/computers/{id}", get(computer_get))
        .route("/computers/{id}/admin-data", post(computer_admin_data_post))
        .route(
            "/computers/{id}/customisation",
            post(computer_customisation_post),
        )
}

/// Query parameters of a list: view changes, page, and search criteria (`f0`, `o0`, `v0`,
/// `w0`, `f1`, …).
pub struct ListParams {
    /// Sort, direction, page size.
    pub change: ViewChange,
    /// Page number.
    pub page: u32,
    /// Criteria rows as submitted.
    pub criteria: Vec<CriterionInput>,
}

impl ListParams {
    /// Reads list parameters.
    pub fn parse(pairs: &[(String, String)]) -> Result<ListParams, AppError> {
        let mut params = ListParams {
            change: ViewChange::default(),
            page: 1,
            criteria: Vec::new(),
        };
        for (k, v) in pairs {
            match k.as_str() {
                "sort" => params.change.sort = Some(v.clone()),
                "dir" => params.change.dir = Some(v.clone()),
                "per_page" => {
                    params.change.per_page = Some(v.parse().map_err(|_| {
                        AppError::bad_request("E_BAD_PARAM", "per_page must be a number")
                    })?)
                }
                "page" => {
                    params.page = v.parse().map_err(|_| {
                        AppError::bad_request("E_BAD_PARAM", "page must be a number")
                    })?
                }
                _ => {
                    let Some((slot, index)) = k
                        .split_at_checked(1)
                        .and_then(|(slot, n)| Some((slot, n.parse::<usize>().ok()?)))
                    else {
                        continue;
                    };
                    if index >= computers::MAX_CRITERIA {
                        return Err(AppError::bad_request(
                            "E_BAD_CRITERION",
                            format!("at most {} criteria", computers::MAX_CRITERIA),
                        ));
                    }
                    if params.criteria.len() <= index {
                        params.criteria.resize(index + 1, CriterionInput::default());
                    }
                    let c = &mut params.criteria[index];
                    match slot {
                        "f" => c.field = v.clone(),
                        "o" => c.op = v.clone(),
                        "v" => c.value = v.clone(),
                        "w" => c.value2 = v.clone(),
                        _ => {}
                    }
                }
            }
        }
        Ok(params)
    }

    /// The criteria as a query string, to carry them through sorting, paging and CSV.
    pub fn criteria_query(&self) -> String {
        let mut pairs = Vec::new();
        for (i, c) in self.criteria.iter().enumerate() {
            if c.value.trim().is_empty() {
                continue;
            }
            pairs.push((format!("f{i}"), c.field.clone()));
            pairs.push((format!("o{i}"), c.op.clone()));
            pairs.push((format!("v{i}"), c.value.clone()));
            if !c.value2.is_empty() {
                pairs.push((format!("w{i}"), c.value2.clone()));
            }
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// A column header.
pub struct ColumnHead {
    /// Key.
    pub key: String,
    /// Translated label.
    pub label: String,
    /// URL sorting by this column (toggling the direction if already sorted by it).
    pub sort_url: String,
    /// `Some(desc)` when the list is sorted by this column.
    pub sorted: Option<bool>,
}

/// A row as shown.
pub struct RowView {
    /// Computer ID.
    pub id: i64,
    /// Has per-computer settings.
    pub customised: bool,
    /// (column key, text) per cell.
    pub cells: Vec<(String, String)>,
}

/// A rendered list: heads, rows, paging and export links.
pub struct ListTable {
    /// Column heads.
    pub heads: Vec<ColumnHead>,
    /// Rows.
    pub rows: Vec<RowView>,
    /// Matches in all.
    pub total: i64,
    /// Current page.
    pub page: u32,
    /// Number of pages.
    pub pages: u32,
    /// "Page N of M".
    pub page_label: String,
    /// Previous page URL.
    pub prev_url: Option<String>,
    /// Next page URL.
    pub next_url: Option<String>,
    /// CSV of the whole result.
    pub csv_url: String,
    /// Where the column chooser returns to.
    pub return_to: String,
    /// The column chooser's choices: (key, label, chosen).
    pub choices: Vec<(String, String, bool)>,
    /// Page sizes: (size, chosen).
    pub sizes: Vec<(u32, bool)>,
    /// The list's criteria query: what "the whole result" of a mass action stands for.
    pub criteria: String,
    /// The group whose members the list shows (a group page sets it), for the same purpose.
    pub group: Option<i64>,
    /// This page's computer IDs, comma-separated ("this page" of a mass action).
    pub page_ids: String,
    /// A button at the end of each row: (form it submits, label); the row's ID is its value.
    pub row_button: Option<(String, String)>,
}

/// Label of a column.
pub fn column_label(tr: &Tr, c: &ColumnChoice) -> String {
    match &c.label {
        Some(label) => label.clone(),
        None => tr.get(&format!("col.{}", c.key)).to_owned(),
    }
}

/// Text of a cell.
pub fn cell_text(kind: ValueKind, cell: &Cell) -> String {
    match (kind, cell) {
        (_, Cell::Null) => String::new(),
        (ValueKind::Date, Cell::Integer(secs)) => date_text(*secs),
        (_, Cell::Integer(n)) => n.to_string(),
        (_, Cell::Text(s)) => s.clone(),
    }
}

/// A Unix time as `YYYY-MM-DD HH:MM` (UTC).
pub fn date_text(secs: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|d| d.format(format).ok())
        .unwrap_or_default()
}

/// Builds the table of a list page. `base` is the page path, `criteria` its criteria query.
pub fn list_table(
    tr: &Tr,
    base: &str,
    criteria: &str,
    view: &ListView,
    all: &[ColumnChoice],
    result: ListPage,
) -> ListTable {
    let join = |extra: &str| {
        let mut q = String::new();
        for part in [criteria, extra] {
            if !part.is_empty() {
                if !q.is_empty() {
                    q.push('&');
                }
                q.push_str(part);
            }
        }
        if q.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{q}")
        }
    };
    let heads = view
        .columns
        .iter()
        .map(|c| {
            let sorted = (c.key == view.sort).then_some(view.desc);
            let dir = if sorted == Some(false) { "desc" } else { "asc" };
            ColumnHead {
                key: c.key.clone(),
                label: column_label(tr, c),
                sort_url: join(&format!("sort={}&dir={dir}", c.key)),
                sorted,
            }
        })
        .collect();
    let rows = result
        .rows
        .iter()
        .map(|r: &ComputerRow| RowView {
            id: r.id.0,
            customised: r.customised,
            cells: view
                .columns
                .iter()
                .zip(&r.cells)
                .map(|(c, cell)| (c.key.clone(), cell_text(c.column.kind(), cell)))
                .collect(),
        })
        .collect();
    let per_page = i64::from(view.per_page.max(1));
    let pages = u32::try_from(((result.total + per_page - 1) / per_page).max(1)).unwrap_or(1);
    let page = result.page;
    ListTable {
        heads,
        rows,
        total: result.total,
        page,
        pages,
        page_label: tr.fmt("list.page", &[("n", &page), ("of", &pages)]),
        prev_url: (page > 1).then(|| join(&format!("page={}", page - 1))),
        next_url: (page < pages).then(|| join(&format!("page={}", page + 1))),
        csv_url: if criteria.is_empty() {
            "/computers.csv".to_owned()
        } else {
            format!("/computers.csv?{criteria}")
        },
        return_to: join(""),
        choices: all
            .iter()
            .map(|c| {
                (
                    c.key.clone(),
                    column_label(tr, c),
                    view.columns.iter().any(|v| v.key == c.key),
                )
            })
            .collect(),
        sizes: PAGE_SIZES
            .iter()
            .map(|n| (*n, *n == view.per_page))
            .collect(),
        criteria: criteria.to_owned(),
        group: None,
        page_ids: result
            .rows
            .iter()
            .map(|r| r.id.0.to_string())
            .collect::<Vec<_>>()
            .join(","),
        row_button: None,
    }
}

/// One page of a list (All computers, or search results at `base`) as the viewer sees it,
/// saving the view changes the request carries.
pub async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    tr: &Tr,
    base: &str,
    params: &ListParams,
) -> Result<ListTable, AppError> {
    let (view, fields) = computers::list_view(state, viewer, &params.change).await?;
    let criteria = parse_criteria(&params.criteria, &fields)?;
    let result = computers::list(state, &view, &fields, criteria, params.page).await?;
    Ok(list_table(
        tr,
        base,
        &params.criteria_query(),
        &view,
        &available_columns(&fields),
        result,
    ))
}

#[derive(Template)]
#[template(path = "computers/list.html")]
struct ListPageView {
    page: PageCtx,
    table: ListTable,
}

async fn computers_list_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let params = ListParams::parse(&pairs)?;
        list_page(&state, &viewer, &ctx.tr, "/computers", &params).await
    }
    .await;
    match result {
        Ok(table) => render(
            &ctx,
            StatusCode::OK,
            &ListPageView {
                page: PageCtx::new(&ctx, &viewer, "computers"),
                table,
            },
        ),
        Err(e) => error_page(&ctx, &e),
    }
}

async fn computers_csv_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let params = ListParams::parse(&pairs)?;
        let (view, fields) = computers::list_view(&state, &viewer, &params.change).await?;
        let criteria = parse_criteria(&params.criteria, &fields)?;
        let rows = computers::list_all(&state, &view, &fields, criteria).await?;
        csv_bytes(&ctx.tr, &view, &rows)
    }
    .await;
    csv_download(&ctx, "computers.csv", result)
}

/// A CSV file to download, or the error page.
pub fn csv_download(
    ctx: &super::Ctx,
    filename: &str,
    result: Result<Vec<u8>, AppError>,
) -> Response {
    match result {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_page(ctx, &e),
    }
}

/// The whole result as CSV (cells neutralised by the one CSV writer).
pub fn csv_bytes(tr: &Tr, view: &ListView, rows: &[ComputerRow]) -> Result<Vec<u8>, AppError> {
    let mut head = vec![tr.get("col.id").to_owned()];
    head.extend(view.columns.iter().map(|c| column_label(tr, c)));
    crate::app::csv_export::write(
        &head,
        rows.iter().map(|r| {
            std::iter::once(r.id.0.to_string()).chain(
                view.columns
                    .iter()
                    .zip(&r.cells)
                    .map(|(c, cell)| cell_text(c.column.kind(), cell)),
            )
        }),
    )
}

async fn computers_view_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let columns: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "col")
        .map(|(_, v)| v.clone())
        .collect();
    let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    // Only back to a list of ours: never an open redirect.
    let back = value("return_to")
        .filter(|r| {
            r.starts_with("/computers") || r.starts_with("/search") || r.starts_with("/groups/")
        })
        .unwrap_or_else(|| "/computers".to_owned());
    let change = ViewChange {
        columns: Some(columns),
        per_page: value("per_page").and_then(|v| v.parse().ok()),
        ..ViewChange::default()
    };
    match computers::list_view(&state, &viewer, &change).await {
        Ok(_) => done(&ctx, &back, ctx.tr.get("list.view_saved")),
        Err(e) => failed(&ctx, &back, &e),
    }
}

/// One inventory section as shown on the computer page.
pub struct SectionView {
    /// Section key (table name; `x-<name>` for an undeclared section).
    pub key: String,
    /// Translated title.
    pub title: String,
    /// A line under the title, if any.
    pub note: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Cell texts.
    pub rows: Vec<Vec<String>>,
    /// For one-row sections (hardware, BIOS): (column, value) pairs, shown as a list.
    pub facts: Vec<(String, String)>,
}

/// An undeclared section (a plugin's): its columns are the fields any row has, in the order
/// first seen.
fn extra_section_view(tr: &Tr, section: &ocs_proto::ExtraSection) -> SectionView {
    let mut columns: Vec<String> = Vec::new();
    for row in &section.rows {
        for (field, _) in row {
            if !columns.contains(field) {
                columns.push(field.clone());
            }
        }
    }
    let rows = section
        .rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| {
                    row.iter()
                        .find(|(f, _)| f == c)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect();
    SectionView {
        key: format!("x-{}", section.name.to_lowercase()),
        title: tr.fmt("section.undeclared", &[("name", &section.name)]),
        note: tr.get("section.undeclared_note").to_owned(),
        columns,
        rows,
        facts: Vec::new(),
    }
}

fn section_view(tr: &Tr, data: &SectionData) -> SectionView {
    let mut view = section_table(tr, data);
    if matches!(data.table, "hardware" | "bios") && view.rows.len() == 1 {
        let row = view.rows.remove(0);
        view.facts = view.columns.iter().cloned().zip(row).collect();
    }
    view
}

fn section_table(tr: &Tr, data: &SectionData) -> SectionView {
    // Columns that are empty in every row only add noise.
    let keep: Vec<usize> = (0..data.columns.len())
        .filter(|i| {
            data.rows
                .iter()
                .any(|r| !matches!(r.get(*i), None | Some(Value::Null)))
        })
        .collect();
    SectionView {
        key: data.table.to_owned(),
        title: tr.get(&format!("section.{}", data.table)).to_owned(),
        note: String::new(),
        columns: keep.iter().map(|i| data.columns[*i].0.to_owned()).collect(),
        rows: data
            .rows
            .iter()
            .map(|r| {
                keep.iter()
                    .map(|i| match (&r[*i], data.columns[*i].1) {
                        (Value::Null, _) => String::new(),
                        (Value::Int(n), FieldKind::Int) => n.to_string(),
                        (Value::Int(n), _) => n.to_string(),
                        (Value::Text(s), _) => s.clone(),
                    })
                    .collect()
            })
            .collect(),
        facts: Vec::new(),
    }
}

/// An administrative field in the editable block.
pub struct AdminFieldView {
    /// KEYNAME (`TAG`, `fields_<id>`).
    pub key: String,
    /// Label.
    pub label: String,
    /// Type (`Text`, `Integer`, `Real`, `Date`).
    pub kind: String,
    /// Current value.
    pub value: String,
}

/// A customisable setting in the customisation block.
pub struct SettingView {
    /// Setting name.
    pub name: &'static str,
    /// Translated label.
    pub label: String,
    /// Current override, empty when the server's option applies.
    pub value: String,
    /// Choices: (value, label, chosen); the first is "server default".
    pub choices: Vec<(String, String, bool)>,
}

/// The lines of a customisation block (a computer's, a group's): for each setting of `table`,
/// its label and choices, the current value of `current` selected. Labels are looked up under
/// each of `prefixes` in turn (`<prefix>.<NAME>`, `<prefix>.<NAME>.<value>`, else
/// `<prefix>.<NAME>.unit` with `{n}`), then as a number of days.
pub fn setting_views(
    tr: &Tr,
    table: &[(&'static str, i64, i64)],
    current: &[DeviceSetting],
    prefixes: &[&str],
) -> Vec<SettingView> {
    let lookup = |suffix: &str| {
        prefixes
            .iter()
            .map(|p| format!("{p}.{suffix}"))
            .find(|key| tr.has(key))
    };
    table
        .iter()
        .map(|(name, low, high)| {
            let current = current
                .iter()
                .find(|s| s.name == *name)
                .and_then(|s| s.ivalue);
            let mut choices = vec![(
                String::new(),
                tr.get("custom.default").to_owned(),
                current.is_none(),
            )];
            let mut values = choice_values(name, *low, *high);
            if let Some(c) = current.filter(|c| !values.contains(c)) {
                values.push(c);
                values.sort_unstable();
            }
            for v in values {
                let label = match (
                    lookup(&format!("{name}.{v}")),
                    lookup(&format!("{name}.unit")),
                ) {
                    (Some(key), _) => tr.get(&key).to_owned(),
                    (None, Some(unit)) => tr.n(&unit, v),
                    (None, None) => tr.n("custom.days", v),
                };
                choices.push((v.to_string(), label, current == Some(v)));
            }
            SettingView {
                name,
                label: lookup(name)
                    .map_or_else(|| (*name).to_owned(), |key| tr.get(&key).to_owned()),
                value: current.map(|v| v.to_string()).unwrap_or_default(),
                choices,
            }
        })
        .collect()
}

/// The values a customisation line offers: a few usual ones for wide ranges, else every
/// value of the range.
fn choice_values(name: &str, low: i64, high: i64) -> Vec<i64> {
    let usual: &[i64] = match name {
        "FREQUENCY" => &[-1, 0, 1, 2, 7, 14, 30, 90, 365],
        "PROLOG_FREQ" => &[1, 2, 4, 6, 12, 24, 48, 72, 168],
        "DOWNLOAD_FRAG_LATENCY" | "DOWNLOAD_PERIOD_LATENCY" => &[0, 1, 2, 5, 10, 30, 60],
        "DOWNLOAD_CYCLE_LATENCY" => &[0, 10, 30, 60, 120, 300, 600],
        "DOWNLOAD_PERIOD_LENGTH" => &[1, 2, 5, 10, 20, 50, 100],
        "DOWNLOAD_TIMEOUT" => &[1, 7, 14, 30, 60, 90, 365],
        "DOWNLOAD_EXECUTION_TIMEOUT" => &[10, 30, 60, 120, 240, 480, 1440],
        _ => return (low..=high).collect(),
    };
    usual
        .iter()
        .copied()
        .filter(|v| (low..=high).contains(v))
        .collect()
}

/// Reads a submitted customisation block: for each setting of `table`, its value, `None` when
/// left on the server default.
pub fn customisation_form(
    table: &[(&'static str, i64, i64)],
    pairs: &[(String, String)],
) -> Result<Customisation, AppError> {
    let mut values = Vec::new();
    for (name, _, _) in table {
        let submitted = pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        values.push((
            *name,
            computers::parse_setting(name, submitted.unwrap_or(""))?,
        ));
    }
    Ok(values)
}

#[derive(Template)]
#[template(path = "computers/detail.html")]
struct DetailPage {
    page: PageCtx,
    id: i64,
    name: String,
    banner: Vec<(String, String)>,
    /// (key, title, rows) of every section, for the section menu.
    menu: Vec<(String, String, usize)>,
    current: String,
    sections: Vec<SectionView>,
    admin_fields: Vec<AdminFieldView>,
    settings: Vec<SettingView>,
    /// The networks the IPDISCOVER setting may scan: (value, label, selected).
    ipdiscover_networks: Vec<(String, String, bool)>,
}

/// Section query and printable flag of the computer page.
#[derive(serde::Deserialize)]
struct DetailQuery {
    section: Option<String>,
    print: Option<String>,
}

async fn computer_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let Ok(id) = id.parse::<i64>() else {
        return error_page(&ctx, &AppError::NotFound(format!("computer {id:?}")));
    };
    let data = match computers::computer(&state, id).await {
        Ok(d) => d,
        Err(e) => return error_page(&ctx, &e),
    };
    let tr = &ctx.tr;
    let d = &data.detail;
    let s = &d.summary;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let banner = vec![
        (tr.get("col.name").to_owned(), opt(&s.name)),
        (tr.get("col.deviceid").to_owned(), s.deviceid.clone()),
        (tr.get("col.os").to_owned(), opt(&s.osname)),
        (tr.get("col.osversion").to_owned(), opt(&s.osversion)),
        (tr.get("col.userid").to_owned(), opt(&s.userid)),
        (tr.get("col.ipaddr").to_owned(), opt(&s.ipaddr)),
        (
            tr.get("col.memory").to_owned(),
            s.memory.map(|m| format!("{m} MB")).unwrap_or_default(),
        ),
        (tr.get("col.tag").to_owned(), opt(&s.tag)),
        (
            tr.get("col.lastdate").to_owned(),
            s.lastdate.map(date_text).unwrap_or_default(),
        ),
        (
            tr.get("col.lastcome").to_owned(),
            s.lastcome.map(date_text).unwrap_or_default(),
        ),
        (tr.get("col.useragent").to_owned(), opt(&s.useragent)),
    ];
    let mut all = vec![section_view(tr, &d.hardware)];
    all.extend(
        d.sections
            .iter()
            .filter(|sec| !sec.rows.is_empty())
            .map(|sec| section_view(tr, sec)),
    );
    all.extend(data.extra.iter().map(|sec| extra_section_view(tr, sec)));
    let menu = all
        .iter()
        .map(|v| (v.key.clone(), v.title.clone(), v.rows.len()))
        .collect();
    let print = q.print.is_some();
    let current = match q.section.as_deref() {
        _ if print => "all".to_owned(),
        Some(key) if key == "all" || all.iter().any(|v| v.key == key) => key.to_owned(),
        _ => "hardware".to_owned(),
    };
    let sections = all
        .into_iter()
        .filter(|v| current == "all" || v.key == current)
        .collect();
    let admin_fields = d
        .accountinfo
        .iter()
        .map(|(key, value)| {
            let field = key
                .strip_prefix("fields_")
                .and_then(|n| n.parse::<i64>().ok())
                .and_then(|fid| data.fields.iter().find(|f| f.id == fid));
            AdminFieldView {
                key: key.clone(),
                label: match field {
                    Some(f) => f.label.clone(),
                    None if key == TAG => tr.get("col.tag").to_owned(),
                    None => key.clone(),
                },
                kind: field.map_or_else(|| "Text".to_owned(), |f| f.kind.clone()),
                value: value.clone().unwrap_or_default(),
            }
        })
        .collect();
    let settings = setting_views(tr, CUSTOMISABLE, &data.settings, &["custom"]);
    let (networks, chosen) = computers::ipdiscover_networks(&data);
    let ipdiscover_networks = networks
        .into_iter()
        .map(|n| {
            let label = if n.mask.is_empty() {
                n.netid.clone()
            } else {
                format!("{} / {}", n.netid, n.mask)
            };
            let selected = chosen.as_deref() == Some(n.netid.as_str());
            (n.netid, label, selected)
        })
        .collect();
    let mut page = PageCtx::new(&ctx, &viewer, "computers");
    page.print = print;
    render(
        &ctx,
        StatusCode::OK,
        &DetailPage {
            page,
            id,
            name: opt(&s.name),
            banner,
            menu,
            current,
            sections,
            admin_fields,
            settings,
            ipdiscover_networks,
        },
    )
}

async fn computer_admin_data_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let values: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(k, _)| k == TAG || k.starts_with("fields_"))
            .collect();
        computers::update_admin_data(&state, &admin, id, &values).await
    }
    .await;
    let back = format!("/computers/{id}");
    outcome(&signed.ctx, &back, result, "computer.admin_saved")
}

async fn computer_customisation_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let values = customisation_form(CUSTOMISABLE, &pairs)?;
        let network = pairs
            .iter()
            .find(|(k, _)| k == "IPDISCOVER_NETWORK")
            .map(|(_, v)| v.as_str());
        computers::update_customisation(&state, &admin, id, &values, network).await
    }
    .await;
    let back = format!("/computers/{id}");
    outcome(&signed.ctx, &back, result, "computer.custom_saved")
}
