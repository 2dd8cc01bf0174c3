//! Administration pages: server options, administrative data definitions and the TAG label,
//! registry queries, and inventory upload. Every handler requires an administrator; the
//! rules live in `app::admin`.

use askama::Template;
use axum::extract::multipart::Field;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{done, error_page, failed, outcome, page_or_error, render, PageCtx, SignedIn};
use crate::app::admin::{self, FIELD_KINDS, HIVES, MAX_IMPORT_FILES};
use crate::app::auth::require_admin;
use crate::app::i18n::Tr;
use crate::app::import::max_file_bytes;
use crate::app::options::Rule;
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/options", get(options_get).post(options_post))
        .route(
            "/admin/accountinfo",
            get(accountinfo_get).post(accountinfo_post),
        )
        .route(
            "/admin/accountinfo/{id}/delete",
            post(accountinfo_delete_post),
        )
        .route("/admin/accountinfo/label", post(label_post))
        .route("/admin/registry", get(registry_get).post(registry_post))
        .route("/admin/registry/{id}/delete", post(registry_delete_post))
        // The upload limits depend on the configuration, which this router does not see:
        // the handler enforces them (per file and in all) while it streams the body.
        .route(
            "/admin/import",
            get(import_get).post(import_post.layer(DefaultBodyLimit::disable())),
        )
}

/// One row of the options table.
struct OptionLine {
    name: &'static str,
    description: String,
    value: String,
    default: &'static str,
    /// Allowed texts, for a drop-down: (text, current).
    choices: Vec<(&'static str, bool)>,
    /// Accepted integer range, as a hint.
    accepted: String,
}

#[derive(Template)]
#[template(path = "admin/options.html")]
struct OptionsPage {
    page: PageCtx,
    options: Vec<OptionLine>,
}

async fn options_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let result = async {
        require_admin(&signed.viewer)?;
        let tr = &signed.ctx.tr;
        let options = admin::options(&state)
            .await?
            .into_iter()
            .map(|o| {
                let key = format!("opt.{}", o.def.name);
                OptionLine {
                    name: o.def.name,
                    // Catalogue texts translate the built-in English description.
                    description: if tr.has(&key) {
                        tr.get(&key).to_owned()
                    } else {
                        o.def.description.to_owned()
                    },
                    default: o.def.default,
                    choices: match o.def.rule {
                        Rule::OneOf(c) => c.iter().map(|c| (*c, *c == o.value)).collect(),
                        _ => Vec::new(),
                    },
                    accepted: match o.def.rule {
                        Rule::Switch => "0 – 1".to_owned(),
                        Rule::Range(lo, hi) => format!("{lo} – {hi}"),
                        Rule::OneOf(_) | Rule::AnyText => String::new(),
                    },
                    value: o.value,
                }
            })
            .collect();
        Ok::<_, AppError>(OptionsPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "options"),
            options,
        })
    }
    .await;
    page_or_error(&signed, result)
}

async fn options_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let back = "/admin/options";
    let admin = match require_admin(&signed.viewer) {
        Ok(a) => a,
        Err(e) => return error_page(&signed.ctx, &e),
    };
    let submitted: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "csrf").collect();
    match admin::save_options(&state, &admin, &submitted).await {
        Ok(n) => done(&signed.ctx, back, &signed.ctx.tr.n("options.saved", n)),
        Err(e) => failed(&signed.ctx, back, &e),
    }
}

/// One administrative field as listed.
struct FieldLine {
    id: i64,
    label: String,
    kind: String,
    kind_label: String,
    key: String,
}

#[derive(Template)]
#[template(path = "admin/accountinfo.html")]
struct AccountinfoPage {
    page: PageCtx,
    fields: Vec<FieldLine>,
    /// (type, translated name) of each field type.
    kinds: Vec<(&'static str, String)>,
    label: String,
    max_label: usize,
}

/// The translated name of a field type (stored types are English words).
fn kind_label(tr: &Tr, kind: &str) -> String {
    let key = format!("accountinfo.kind_{kind}");
    if tr.has(&key) {
        tr.get(&key).to_owned()
    } else {
        kind.to_owned()
    }
}

async fn accountinfo_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let result = async {
        require_admin(&signed.viewer)?;
        let tr = &signed.ctx.tr;
        let fields = admin::fields(&state)
            .await?
            .into_iter()
            .map(|f| FieldLine {
                key: format!("fields_{}", f.id),
                id: f.id,
                label: f.label,
                kind_label: kind_label(tr, &f.kind),
                kind: f.kind,
            })
            .collect();
        Ok::<_, AppError>(AccountinfoPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "accountinfo"),
            fields,
            kinds: FIELD_KINDS
                .iter()
                .map(|k| (*k, kind_label(tr, k)))
                .collect(),
            label: admin::tag_label(&state).await?.unwrap_or_default(),
            max_label: admin::MAX_TAG_LABEL_CHARS,
        })
    }
    .await;
    page_or_error(&signed, result)
}

/// The add-field form.
#[derive(Deserialize)]
struct FieldForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    kind: String,
}

async fn accountinfo_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(form): Form<FieldForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        admin::add_field(&state, &admin, &form.label, &form.kind).await?;
        Ok::<(), AppError>(())
    }
    .await;
    outcome(
        &signed.ctx,
        "/admin/accountinfo",
        result,
        "accountinfo.added",
    )
}

async fn accountinfo_delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        admin::delete_field(&state, &admin, id).await
    }
    .await;
    outcome(
        &signed.ctx,
        "/admin/accountinfo",
        result,
        "accountinfo.deleted",
    )
}

/// The TAG label form.
#[derive(Deserialize)]
struct LabelForm {
    #[serde(default)]
    label: String,
}

async fn label_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(form): Form<LabelForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        admin::set_tag_label(&state, &admin, &form.label).await
    }
    .await;
    outcome(&signed.ctx, "/admin/accountinfo", result, "label.saved")
}

/// One registry query as listed.
struct QueryLine {
    id: i64,
    name: String,
    hive: &'static str,
    regkey: String,
    regvalue: String,
}

#[derive(Template)]
#[template(path = "admin/registry.html")]
struct RegistryPage {
    page: PageCtx,
    queries: Vec<QueryLine>,
    hives: &'static [(i64, &'static str)],
    enabled: bool,
}

async fn registry_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let result = async {
        require_admin(&signed.viewer)?;
        let queries = admin::registry_queries(&state)
            .await?
            .into_iter()
            .map(|(id, q)| QueryLine {
                id,
                hive: admin::hive_name(q.regtree),
                name: q.name,
                regkey: q.regkey,
                regvalue: q.regvalue,
            })
            .collect();
        let enabled = admin::options(&state)
            .await?
            .iter()
            .any(|o| o.def.name == "REGISTRY" && o.value == "1");
        Ok::<_, AppError>(RegistryPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "registry"),
            queries,
            hives: HIVES,
            enabled,
        })
    }
    .await;
    page_or_error(&signed, result)
}

/// The add-query form.
#[derive(Deserialize)]
struct RegistryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    regtree: String,
    #[serde(default)]
    regkey: String,
    #[serde(default)]
    regvalue: String,
}

async fn registry_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(f): Form<RegistryForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let query = admin::check_registry_query(&f.name, &f.regtree, &f.regkey, &f.regvalue)?;
        admin::add_registry_query(&state, &admin, &query).await
    }
    .await;
    outcome(&signed.ctx, "/admin/registry", result, "registry.added")
}

async fn registry_delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        admin::delete_registry_query(&state, &admin, id).await
    }
    .await;
    outcome(&signed.ctx, "/admin/registry", result, "registry.deleted")
}

/// The outcome of one uploaded file.
struct ImportLine {
    file: String,
    ok: bool,
    text: String,
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    page: PageCtx,
    intro: String,
    results: Option<Vec<ImportLine>>,
}

fn import_page(
    signed: &SignedIn,
    state: &AppState,
    results: Option<Vec<ImportLine>>,
) -> ImportPage {
    ImportPage {
        page: PageCtx::new(&signed.ctx, &signed.viewer, "import"),
        intro: signed.ctx.tr.fmt(
            "import.intro",
            &[
                ("files", &MAX_IMPORT_FILES),
                ("size", &mib(max_file_bytes(state))),
            ],
        ),
        results,
    }
}

async fn import_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let result = require_admin(&signed.viewer).map(|_| import_page(&signed, &state, None));
    page_or_error(&signed, result)
}

/// Reads one uploaded file, at most `max` bytes; `Ok(None)` when it is larger (the rest is
/// read and dropped). `total` counts every byte of the upload against `max_total`.
async fn read_file(
    field: &mut Field<'_>,
    max: usize,
    total: &mut usize,
    max_total: usize,
) -> Result<Option<Vec<u8>>, AppError> {
    let mut bytes = Some(Vec::new());
    while let Some(chunk) = field.chunk().await.map_err(upload_error)? {
        *total = total.saturating_add(chunk.len());
        if *total > max_total {
            return Err(too_large());
        }
        if let Some(b) = bytes.as_mut() {
            if b.len() + chunk.len() > max {
                bytes = None;
            } else {
                b.extend_from_slice(&chunk);
            }
        }
    }
    Ok(bytes)
}

/// A size for people: mebibytes with one decimal.
fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

/// The whole upload is over its limit (the message is a catalogue key).
fn too_large() -> AppError {
    AppError::TooLarge {
        code: "E_UPLOAD_TOO_LARGE",
        message: "import.upload_too_large".into(),
    }
}

fn upload_error(e: axum::extract::multipart::MultipartError) -> AppError {
    AppError::bad_request("E_BAD_UPLOAD", format!("unreadable upload: {e}"))
}

async fn import_post(
    State(state): State<AppState>,
    signed: SignedIn,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let admin = match require_admin(&signed.viewer) {
        Ok(a) => a,
        Err(e) => return error_page(&signed.ctx, &e),
    };
    let tr = &signed.ctx.tr;
    let max_total = admin::max_upload_bytes(&state);
    let max_file = max_file_bytes(&state);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_total) {
        return error_page(&signed.ctx, &too_large());
    }
    let mut results = Vec::new();
    let mut total = 0usize;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return error_page(&signed.ctx, &upload_error(e)),
        };
        if field.name() != Some("file") {
            continue;
        }
        let file = field.file_name().unwrap_or_default().to_owned();
        if file.is_empty() {
            // The browser sends an empty part when no file was chosen.
            continue;
        }
        if results.len() >= MAX_IMPORT_FILES {
            // What was imported stays imported; the rest of the upload is not read.
            results.push(ImportLine {
                file,
                ok: false,
                text: tr.get("import.too_many").to_owned(),
            });
            break;
        }
        let line = match read_file(&mut field, max_file, &mut total, max_total).await {
            Err(e) => return error_page(&signed.ctx, &e),
            Ok(None) => ImportLine {
                text: tr.fmt("import.file_too_large", &[("size", &mib(max_file))]),
                file,
                ok: false,
            },
            Ok(Some(bytes)) => {
                match admin::import_file(&state, &admin, &file, bytes.into()).await {
                    Ok(done) => ImportLine {
                        text: tr.fmt(
                            if done.created {
                                "import.created"
                            } else {
                                "import.updated"
                            },
                            &[("deviceid", &done.deviceid)],
                        ),
                        file,
                        ok: true,
                    },
                    Err(e) if e.status() >= 500 => return error_page(&signed.ctx, &e),
                    Err(e) => ImportLine {
                        text: super::translated(tr, &e),
                        file,
                        ok: false,
                    },
                }
            }
        };
        results.push(line);
    }
    if results.is_empty() {
        let e = AppError::bad_request("E_NO_FILE", "import.no_file");
        return failed(&signed.ctx, "/admin/import", &e);
    }
    render(
        &signed.ctx,
        StatusCode::OK,
        &import_page(&signed, &state, Some(results)),
    )
}
