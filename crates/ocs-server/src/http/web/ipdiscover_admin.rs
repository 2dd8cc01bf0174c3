//! Network discovery settings pages: subnet names (list, add, edit, delete, CSV import),
//! device types (list, add, delete), and registering a discovered device as known. Reading
//! needs a signed-in account; every change an administrator (`app::ipdiscover` checks what
//! is submitted).

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::computers::date_text;
use super::{error_page, outcome, page_or_error, render, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::ipdiscover::identified::{self, mac_param};
use crate::app::ipdiscover::subnets::{self, ImportLine, MAX_IMPORT_BYTES};
use crate::app::ipdiscover::vendor::mac_vendor;
use crate::app::{AppError, AppState};
use ocs_storage::ipdiscover::subnets::SubnetRecord;

/// Routes of these pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/networks/subnets", get(subnets_get).post(subnets_post))
        .route(
            "/networks/subnets/{id}/edit",
            get(subnet_edit_get).post(subnet_edit_post),
        )
        .route("/networks/subnets/{id}/delete", post(subnet_delete_post))
        .route(
            "/networks/subnets/import",
            get(import_get)
                .post(import_post)
                .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES + 64 * 1024)),
        )
        .route("/networks/types", get(types_get).post(types_post))
        .route("/networks/types/{id}/delete", post(type_delete_post))
        .route(
            "/networks/devices/{mac}/register",
            get(register_get).post(register_post),
        )
        .route("/networks/identified/{mac}/delete", post(unregister_post))
}

/// One named network as listed or edited.
struct SubnetLine {
    id: i64,
    name: String,
    network_id: String,
    netid: String,
    mask: String,
}

impl From<SubnetRecord> for SubnetLine {
    fn from(s: SubnetRecord) -> SubnetLine {
        SubnetLine {
            id: s.id,
            name: s.name,
            network_id: s.network_id,
            netid: s.netid,
            mask: s.mask,
        }
    }
}

#[derive(Template)]
#[template(path = "ipdiscover/subnets.html")]
struct SubnetsPage {
    page: PageCtx,
    subnets: Vec<SubnetLine>,
    admin: bool,
}

async fn subnets_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let result = async {
        let subnets = subnets::list(&state)
            .await?
            .into_iter()
            .map(SubnetLine::from)
            .collect();
        Ok::<_, AppError>(SubnetsPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "networks_subnets"),
            subnets,
            admin: signed.viewer.is_admin(),
        })
    }
    .await;
    page_or_error(&signed, result)
}

/// The add / edit form.
#[derive(Deserialize)]
struct SubnetForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    network_id: String,
    #[serde(default)]
    netid: String,
    #[serde(default)]
    mask: String,
}

async fn subnets_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(f): Form<SubnetForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let subnet = subnets::check(&f.name, &f.network_id, &f.netid, &f.mask)?;
        subnets::add(&state, &admin, &subnet).await.map(|_| ())
    }
    .await;
    outcome(&signed.ctx, "/networks/subnets", result, "subnets.added")
}

#[derive(Template)]
#[template(path = "ipdiscover/subnet_edit.html")]
struct SubnetEditPage {
    page: PageCtx,
    subnet: SubnetLine,
}

async fn subnet_edit_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        require_admin(&signed.viewer)?;
        let subnet = subnets::find(&state, id).await?.into();
        Ok::<_, AppError>(SubnetEditPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "networks_subnets"),
            subnet,
        })
    }
    .await;
    page_or_error(&signed, result)
}

async fn subnet_edit_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
    Form(f): Form<SubnetForm>,
) -> Response {
    let back = format!("/networks/subnets/{id}/edit");
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let subnet = subnets::check(&f.name, &f.network_id, &f.netid, &f.mask)?;
        subnets::update(&state, &admin, id, &subnet).await
    }
    .await;
    match result {
        Ok(()) => outcome(&signed.ctx, "/networks/subnets", Ok(()), "subnets.saved"),
        Err(e) => outcome(&signed.ctx, &back, Err(e), ""),
    }
}

async fn subnet_delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        subnets::delete(&state, &admin, id).await
    }
    .await;
    outcome(&signed.ctx, "/networks/subnets", result, "subnets.deleted")
}

/// An import line as shown.
struct ImportRow {
    line: usize,
    text: String,
    /// Translated reason; empty when accepted.
    reason: String,
}

#[derive(Template)]
#[template(path = "ipdiscover/subnet_import.html")]
struct ImportPage {
    page: PageCtx,
    /// After an upload: (added, updated, refused) and each line.
    report: Option<(usize, usize, usize)>,
    lines: Vec<ImportRow>,
    max_kib: usize,
}

async fn import_get(signed: SignedIn) -> Response {
    let result = require_admin(&signed.viewer).map(|_| ImportPage {
        page: PageCtx::new(&signed.ctx, &signed.viewer, "networks_subnets"),
        report: None,
        lines: Vec::new(),
        max_kib: MAX_IMPORT_BYTES / 1024,
    });
    page_or_error(&signed, result)
}

/// The uploaded file (field `file`), or the pasted text (field `text`).
async fn upload(mut form: Multipart) -> Result<Vec<u8>, AppError> {
    let unreadable = || AppError::bad_request("E_BAD_UPLOAD", "subnets.import_unreadable");
    let mut data = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|_| unreadable())? {
        if matches!(field.name(), Some("file" | "text")) {
            let bytes = field.bytes().await.map_err(|_| unreadable())?;
            data.extend_from_slice(&bytes);
            data.push(b'\n');
        }
    }
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::bad_request(
            "E_BAD_UPLOAD",
            "subnets.import_empty",
        ));
    }
    Ok(data)
}

async fn import_post(State(state): State<AppState>, signed: SignedIn, form: Multipart) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let data = upload(form).await?;
        let parsed = subnets::parse_import(&data)?;
        let done = subnets::import(&state, &admin, &parsed).await?;
        let tr = &signed.ctx.tr;
        let lines: Vec<ImportRow> = parsed
            .lines
            .into_iter()
            .map(
                |ImportLine {
                     line,
                     text,
                     refused,
                 }| ImportRow {
                    line,
                    text,
                    reason: refused.map(|k| tr.get(k).to_owned()).unwrap_or_default(),
                },
            )
            .collect();
        let refused = lines.iter().filter(|l| !l.reason.is_empty()).count();
        Ok::<_, AppError>(ImportPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "networks_subnets"),
            report: Some((done.added, done.updated, refused)),
            lines,
            max_kib: MAX_IMPORT_BYTES / 1024,
        })
    }
    .await;
    match result {
        Ok(page) => render(&signed.ctx, StatusCode::OK, &page),
        Err(e @ AppError::Forbidden { .. }) => error_page(&signed.ctx, &e),
        Err(e) => super::failed(&signed.ctx, "/networks/subnets/import", &e),
    }
}

/// A device type as listed.
struct TypeLine {
    id: i64,
    name: String,
    devices: i64,
}

#[derive(Template)]
#[template(path = "ipdiscover/types.html")]
struct TypesPage {
    page: PageCtx,
    types: Vec<TypeLine>,
    admin: bool,
}

async fn types_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let result = async {
        let types = identified::types(&state)
            .await?
            .into_iter()
            .map(|t| TypeLine {
                id: t.id,
                name: t.name,
                devices: t.devices,
            })
            .collect();
        Ok::<_, AppError>(TypesPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "networks_types"),
            types,
            admin: signed.viewer.is_admin(),
        })
    }
    .await;
    page_or_error(&signed, result)
}

#[derive(Deserialize)]
struct TypeForm {
    #[serde(default)]
    name: String,
}

async fn types_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(f): Form<TypeForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        identified::add_type(&state, &admin, &f.name).await
    }
    .await;
    outcome(&signed.ctx, "/networks/types", result, "types.added")
}

async fn type_delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        identified::delete_type(&state, &admin, id).await
    }
    .await;
    outcome(&signed.ctx, "/networks/types", result, "types.deleted")
}

#[derive(Template)]
#[template(path = "ipdiscover/register.html")]
struct RegisterPage {
    page: PageCtx,
    mac: String,
    vendor: String,
    /// What scans saw: IP, network, name, last seen.
    seen: Option<(String, String, String, String)>,
    /// Types to choose from: (name, selected).
    types: Vec<(String, bool)>,
    description: String,
    /// Who registered it and when, if it is already known.
    registered: Option<(String, String)>,
}

async fn register_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(mac): Path<String>,
) -> Response {
    let result = async {
        require_admin(&signed.viewer)?;
        let mac = mac_param(&mac)?;
        let (known, seen) = identified::device(&state, &mac).await?;
        let current = known
            .as_ref()
            .map(|k| k.device_type.clone())
            .unwrap_or_default();
        let types = identified::types(&state)
            .await?
            .into_iter()
            .map(|t| {
                let selected = t.name == current;
                (t.name, selected)
            })
            .collect();
        Ok::<_, AppError>(RegisterPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "networks"),
            vendor: mac_vendor(&mac).unwrap_or_default().to_owned(),
            seen: seen.map(|s| (s.ip, s.netid, s.name, date_text(s.last_seen))),
            types,
            description: known
                .as_ref()
                .map(|k| k.description.clone())
                .unwrap_or_default(),
            registered: known.map(|k| (k.registered_by, date_text(k.registered_at))),
            mac,
        })
    }
    .await;
    page_or_error(&signed, result)
}

#[derive(Deserialize)]
struct RegisterForm {
    #[serde(default)]
    device_type: String,
    #[serde(default)]
    description: String,
}

async fn register_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(mac): Path<String>,
    Form(f): Form<RegisterForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        identified::register(&state, &admin, &mac, &f.device_type, &f.description).await?;
        identified::device(&state, &mac_param(&mac)?).await
    }
    .await;
    match result {
        // Back to the network it was seen on, where it now shows as identified.
        Ok((_, Some(seen))) if !seen.netid.is_empty() => outcome(
            &signed.ctx,
            &format!("/networks/{}/identified", seen.netid),
            Ok(()),
            "identified.registered",
        ),
        Ok(_) => outcome(&signed.ctx, "/networks", Ok(()), "identified.registered"),
        // Only a well-formed MAC has a form to go back to.
        Err(e) => {
            let back = mac_param(&mac).map_or_else(
                |_| "/networks".to_owned(),
                |m| format!("/networks/devices/{m}/register"),
            );
            outcome(&signed.ctx, &back, Err(e), "")
        }
    }
}

async fn unregister_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(mac): Path<String>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        identified::unregister(&state, &admin, &mac).await
    }
    .await;
    outcome(&signed.ctx, "/networks", result, "identified.unregistered")
}
