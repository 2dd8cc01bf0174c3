//! Search with various criteria: any number of rows (field, operator, one or two values),
//! ANDed; results behave like All computers (columns, sort, paging, CSV).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use ocs_storage::{AccountField, SEARCH_FIELDS};

use super::computers::{list_page, ListParams, ListTable};
use super::{error_page, render, PageCtx, SignedIn};
use crate::app::computers::{self, operators_for, CriterionInput, OPERATORS};
use crate::app::i18n::Tr;
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search_get))
}

/// A criterion row of the form.
pub struct CriterionRow {
    /// Row index (the `N` of `fN`, `oN`, …).
    pub index: usize,
    /// Submitted values.
    pub input: CriterionInput,
}

#[derive(Template)]
#[template(path = "search/search.html")]
struct SearchPage {
    page: PageCtx,
    /// (key, label) of every field.
    fields: Vec<(String, String)>,
    /// (key, label) of every operator.
    operators: Vec<(&'static str, String)>,
    rows: Vec<CriterionRow>,
    table: Option<ListTable>,
    save: super::groups::SaveSearch,
}

fn field_choices(tr: &Tr, fields: &[AccountField]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = SEARCH_FIELDS
        .iter()
        .map(|f| {
            let mut label = tr.get(&format!("field.{}", f.key)).to_owned();
            if operators_for(f.kind).len() > 2 {
                label.push_str(" #");
            }
            (f.key.to_owned(), label)
        })
        .collect();
    out.extend(fields.iter().map(|f| {
        (
            format!("fields_{}", f.id),
            format!("{} ({})", f.label, tr.get("search.admin_field")),
        )
    }));
    out
}

async fn search_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let result = async {
        let params = ListParams::parse(&pairs)?;
        let add = pairs.iter().any(|(k, _)| k == "add");
        let fields = computers::account_fields(&state).await?;
        let filled = params.criteria.iter().any(|c| !c.value.trim().is_empty());
        let table = if filled && !add {
            Some(list_page(&state, &viewer, &ctx.tr, "/search", &params).await?)
        } else {
            None
        };
        let mut rows: Vec<CriterionRow> = params
            .criteria
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.field.is_empty() || !c.value.is_empty())
            .map(|(index, input)| CriterionRow {
                index,
                input: input.clone(),
            })
            .collect();
        if rows.is_empty() || add {
            let index = rows.last().map_or(0, |r| r.index + 1);
            if index < computers::MAX_CRITERIA {
                rows.push(CriterionRow {
                    index,
                    input: CriterionInput {
                        field: "software".into(),
                        op: "equal".into(),
                        ..CriterionInput::default()
                    },
                });
            }
        }
        let save = super::groups::save_search(&pairs, &params, table.is_some());
        Ok::<_, AppError>((field_choices(&ctx.tr, &fields), rows, table, save))
    }
    .await;
    match result {
        Ok((fields, rows, table, save)) => render(
            &ctx,
            StatusCode::OK,
            &SearchPage {
                page: PageCtx::new(&ctx, &viewer, "search"),
                fields,
                operators: OPERATORS
                    .iter()
                    .map(|o| (*o, ctx.tr.get(&format!("op.{o}")).to_owned()))
                    .collect(),
                rows,
                table,
                save,
            },
        ),
        Err(e) => error_page(&ctx, &e),
    }
}

/// The search page with these criteria (`f0`, `o0`, `v0`, …).
pub fn search_url(pairs: &[(&str, &str)]) -> String {
    format!(
        "/search?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}
