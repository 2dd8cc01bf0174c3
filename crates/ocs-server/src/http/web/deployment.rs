//! Console pages of packages: the list (`/packages`), the build form (`/packages/new`, a
//! multipart upload streamed to disk by [`crate::app::deployment::build`]), a package's page
//! (`/packages/{fileid}`: info file, activations, activate / deactivate / delete) and their
//! POST actions. Only administrators change anything.

use askama::Template;
use axum::extract::multipart::Field;
use axum::extract::{DefaultBodyLimit, Form, Multipart, Path, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use ocs_proto::info::Protocol;
use ocs_storage::deployment::{ActivationId, RedistributionGroupId};
use serde::Deserialize;

use super::computers::date_text;
use super::{done, error_page, failed, render, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::deployment::activate::{self, ActivationRequest};
use crate::app::deployment::build::{
    self, ActionKind, Archive, ArchiveSource, Deployer, PackageSpec, Split, TargetOs,
};
use crate::app::deployment::{packages, redistribution};
use crate::app::{AppError, AppState};

/// Largest text field of the build form.
const MAX_FIELD_BYTES: usize = 64 * 1024;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/packages", get(packages_get))
        .route(
            "/packages/new",
            get(build_get).post(build_post.layer(DefaultBodyLimit::disable())),
        )
        .route("/packages/{fileid}", get(package_get))
        .route("/packages/{fileid}/activate", post(activate_post))
        .route("/packages/{fileid}/deactivate", post(deactivate_post))
        .route("/packages/{fileid}/delete", post(delete_post))
}

/// One package of the list.
pub struct PackageRow {
    /// FILEID.
    pub fileid: String,
    /// Name.
    pub name: String,
    /// OS.
    pub os: String,
    /// Size in bytes.
    pub size: i64,
    /// Fragments.
    pub fragments: i64,
    /// Priority.
    pub priority: i64,
    /// Build date.
    pub created: String,
    /// Activations.
    pub activations: i64,
}

#[derive(Template)]
#[template(path = "deployment/packages.html")]
struct PackagesPage {
    page: PageCtx,
    rows: Vec<PackageRow>,
}

async fn packages_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let list = match packages::list(&state).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, &e),
    };
    let rows = list
        .into_iter()
        .map(|s| PackageRow {
            fileid: s.package.fileid,
            name: s.package.name,
            os: s.package.os,
            size: s.package.size,
            fragments: s.package.fragments,
            priority: s.package.priority,
            created: date_text(s.package.created_at),
            activations: s.activations,
        })
        .collect();
    render(
        &ctx,
        StatusCode::OK,
        &PackagesPage {
            page: PageCtx::new(&ctx, &viewer, "deployment"),
            rows,
        },
    )
}

#[derive(Template)]
#[template(path = "deployment/build.html")]
struct BuildPage {
    page: PageCtx,
    max_mib: u64,
}

async fn build_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let SignedIn { viewer, ctx } = signed;
    if let Err(e) = require_admin(&viewer) {
        return error_page(&ctx, &e);
    }
    render(
        &ctx,
        StatusCode::OK,
        &BuildPage {
            page: PageCtx::new(&ctx, &viewer, "deployment"),
            max_mib: state.config.deployment.max_package_bytes >> 20,
        },
    )
}

/// The upload's file part as an archive source.
struct FieldSource<'a>(Field<'a>);

impl ArchiveSource for FieldSource<'_> {
    async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, AppError> {
        self.0.chunk().await.map_err(|e| {
            AppError::bad_request("E_PACKAGE_UPLOAD", format!("unreadable upload: {e}"))
        })
    }
}

async fn text_field(field: Field<'_>) -> Result<String, AppError> {
    let bytes = field.bytes().await.map_err(|e| {
        AppError::bad_request("E_PACKAGE_UPLOAD", format!("unreadable upload: {e}"))
    })?;
    if bytes.len() > MAX_FIELD_BYTES {
        return Err(AppError::TooLarge {
            code: "E_PACKAGE_FIELD",
            message: "a field of the form is too long".to_owned(),
        });
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| AppError::bad_request("E_PACKAGE_UPLOAD", "a field is not UTF-8"))
}

/// The build form's fields (every one but the file).
#[derive(Debug, Default)]
pub struct BuildFields {
    fields: Vec<(String, String)>,
}

impl BuildFields {
    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), "1" | "on" | "true")
    }

    /// The spec the fields describe.
    pub fn spec(&self) -> Result<PackageSpec, AppError> {
        let os = TargetOs::parse(self.get("os"))?;
        let action = ActionKind::parse(self.get("action"))?;
        let mut s = PackageSpec::new(self.get("name"), os, action, self.get("action_param"));
        s.description = self.get("description").to_owned();
        s.priority = number(self.get("priority"), "E_PACKAGE_PRIORITY")?.unwrap_or(5);
        let frags: Option<u64> = number(self.get("fragments"), "E_PACKAGE_FRAGMENTS")?;
        let size: Option<u64> = number(self.get("fragment_size"), "E_PACKAGE_FRAGMENTS")?;
        s.split = match (frags, size) {
            (Some(k), _) => Split::Fragments(k),
            (None, Some(b)) => Split::FragmentSize(b),
            (None, None) => Split::Default,
        };
        if self.get("proto").eq_ignore_ascii_case("https") {
            s.protocol = Protocol::Https;
        }
        s.notify_user = self.flag("notify_user");
        s.notify_text = self.get("notify_text").to_owned();
        s.notify_countdown = number(self.get("notify_countdown"), "E_PACKAGE_NOTIFY")?;
        s.notify_can_abort = self.flag("notify_can_abort");
        s.notify_can_delay = self.flag("notify_can_delay");
        s.done_action_text = self.get("done_text").to_owned();
        Ok(s)
    }
}

fn number<T: std::str::FromStr>(s: &str, code: &'static str) -> Result<Option<T>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|_| AppError::bad_request(code, format!("{s:?} is not a number")))
}

/// Reads a build form (console and API): text fields first, then the file part (the form puts it last), which is
/// streamed into the build.
pub async fn build_from_upload(
    state: &AppState,
    by: &Deployer,
    headers: &HeaderMap,
    mut multipart: Multipart,
) -> Result<String, AppError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let max = state.config.deployment.max_package_bytes;
    if declared.is_some_and(|n| n > max.saturating_add(1 << 20)) {
        return Err(AppError::TooLarge {
            code: "E_PACKAGE_TOO_LARGE",
            message: format!("the archive is larger than {max} bytes"),
        });
    }
    let mut fields = BuildFields::default();
    let upload_error = |e: axum::extract::multipart::MultipartError| {
        AppError::bad_request("E_PACKAGE_UPLOAD", format!("unreadable upload: {e}"))
    };
    while let Some(field) = multipart.next_field().await.map_err(upload_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            if file_name.is_empty() {
                continue;
            }
            if fields.fields.len() > 64 {
                break;
            }
            let spec = fields.spec()?;
            return build::build(
                state,
                by,
                &spec,
                Some(Archive {
                    file_name,
                    source: FieldSource(field),
                }),
            )
            .await;
        }
        if fields.fields.len() >= 64 {
            return Err(AppError::bad_request("E_PACKAGE_UPLOAD", "too many fields"));
        }
        let value = text_field(field).await?;
        fields.fields.push((name, value));
    }
    let spec = fields.spec()?;
    build::build::<FieldSource<'_>>(state, by, &spec, None).await
}

async fn build_post(
    State(state): State<AppState>,
    signed: SignedIn,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let admin = match require_admin(&viewer) {
        Ok(a) => a,
        Err(e) => return error_page(&ctx, &e),
    };
    let by = Deployer::console(&admin);
    match build_from_upload(&state, &by, &headers, multipart).await {
        Ok(fileid) => done(
            &ctx,
            &format!("/packages/{fileid}"),
            &ctx.tr.fmt("build.done", &[("fileid", &fileid)]),
        ),
        Err(e) => failed(&ctx, "/packages/new", &e),
    }
}

/// One activation on a package's page.
pub struct ActivationRow {
    /// ID.
    pub id: i64,
    /// Info location.
    pub info_loc: String,
    /// Fragments location.
    pub pack_loc: String,
    /// Redistribution server (computer ID), if any.
    pub server: String,
    /// Date.
    pub activated: String,
    /// By whom.
    pub by: String,
}

/// One log entry on a package's page.
pub struct LogRow {
    /// Date.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Details.
    pub detail: String,
}

#[derive(Template)]
#[template(path = "deployment/package.html")]
struct PackagePage {
    page: PageCtx,
    p: ocs_storage::deployment::PackageRecord,
    created: String,
    info: Vec<(&'static str, String)>,
    activations: Vec<ActivationRow>,
    log: Vec<LogRow>,
    default_info: String,
    default_pack: String,
    /// (ID, name) of the redistribution groups the activate form offers.
    redistribution_groups: Vec<(i64, String)>,
}

async fn package_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(fileid): Path<String>,
    headers: HeaderMap,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let view = match packages::view(&state, &fileid).await {
        Ok(v) => v,
        Err(e) => return error_page(&ctx, &e),
    };
    let redistribution_groups = match redistribution::list_redistribution_groups(&state).await {
        Ok(g) => g.into_iter().map(|(id, name)| (id.0, name)).collect(),
        Err(e) => return error_page(&ctx, &e),
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let (default_info, default_pack) = activate::default_locations(&state.config, host);
    let info = match &view.info {
        None => Vec::new(),
        Some(i) => vec![
            ("ID", i.id.clone()),
            ("PRI", i.priority.to_string()),
            ("ACT", i.action.as_str().to_owned()),
            ("DIGEST", i.digest.clone()),
            ("PROTO", i.protocol.as_str().to_owned()),
            ("FRAGS", i.fragments.to_string()),
            ("DIGEST_ALGO", i.digest_algorithm.as_str().to_owned()),
            ("DIGEST_ENCODE", i.digest_encoding.as_str().to_owned()),
            ("NOTIFY_USER", u8::from(i.notify_user).to_string()),
            ("NOTIFY_TEXT", i.notify_text.clone()),
            (
                "NOTIFY_COUNTDOWN",
                i.notify_countdown
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            ),
            ("NOTIFY_CAN_ABORT", u8::from(i.notify_can_abort).to_string()),
            ("NOTIFY_CAN_DELAY", u8::from(i.notify_can_delay).to_string()),
            ("NEED_DONE_ACTION", u8::from(i.need_done_action).to_string()),
            ("NEED_DONE_ACTION_TEXT", i.need_done_action_text.clone()),
        ],
    };
    let activations = view
        .activations
        .iter()
        .map(|a| ActivationRow {
            id: a.id.0,
            info_loc: a.info_loc.clone(),
            pack_loc: a.pack_loc.clone(),
            server: a.server_id.map(|h| h.0.to_string()).unwrap_or_default(),
            activated: date_text(a.activated_at),
            by: a.activated_by.clone(),
        })
        .collect();
    let log = view
        .log
        .iter()
        .map(|e| LogRow {
            at: date_text(e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            detail: e.detail.clone(),
        })
        .collect();
    render(
        &ctx,
        StatusCode::OK,
        &PackagePage {
            page: PageCtx::new(&ctx, &viewer, "deployment"),
            created: date_text(view.package.created_at),
            p: view.package,
            info,
            activations,
            log,
            default_info,
            default_pack,
            redistribution_groups,
        },
    )
}

/// The activation form.
#[derive(Debug, Deserialize)]
pub struct ActivateForm {
    #[serde(default)]
    info_url: String,
    #[serde(default)]
    fragments_url: String,
    #[serde(default)]
    redistribution_group: String,
}

async fn activate_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(fileid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ActivateForm>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let admin = match require_admin(&viewer) {
        Ok(a) => a,
        Err(e) => return error_page(&ctx, &e),
    };
    let back = format!("/packages/{fileid}");
    let group = match number::<i64>(&form.redistribution_group, "E_ACTIVATE_GROUP") {
        Ok(g) => g.map(RedistributionGroupId),
        Err(e) => return failed(&ctx, &back, &e),
    };
    let req = ActivationRequest {
        info_url: Some(form.info_url).filter(|s| !s.trim().is_empty()),
        fragments_url: Some(form.fragments_url).filter(|s| !s.trim().is_empty()),
        redistribution_group: group,
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match activate::activate(&state, &Deployer::console(&admin), &fileid, &req, host).await {
        Ok(_) => done(&ctx, &back, ctx.tr.get("activate.done")),
        Err(e) => failed(&ctx, &back, &e),
    }
}

/// The deactivation form: one activation, or every one when empty.
#[derive(Debug, Deserialize)]
pub struct DeactivateForm {
    #[serde(default)]
    activation: String,
}

async fn deactivate_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(fileid): Path<String>,
    Form(form): Form<DeactivateForm>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let admin = match require_admin(&viewer) {
        Ok(a) => a,
        Err(e) => return error_page(&ctx, &e),
    };
    let back = format!("/packages/{fileid}");
    let ids: Vec<ActivationId> = match number::<i64>(&form.activation, "E_ACTIVATE_ID") {
        Ok(id) => id.map(ActivationId).into_iter().collect(),
        Err(e) => return failed(&ctx, &back, &e),
    };
    match activate::deactivate(&state, &Deployer::console(&admin), &fileid, &ids).await {
        Ok(_) => done(&ctx, &back, ctx.tr.get("activate.deactivated")),
        Err(e) => failed(&ctx, &back, &e),
    }
}

/// The delete confirmation.
#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

async fn delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(fileid): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let admin = match require_admin(&viewer) {
        Ok(a) => a,
        Err(e) => return error_page(&ctx, &e),
    };
    let back = format!("/packages/{fileid}");
    if form.confirm != fileid {
        return failed(
            &ctx,
            &back,
            &AppError::bad_request("E_PACKAGE_CONFIRM", "packages.confirm_needed"),
        );
    }
    match packages::delete(&state, &Deployer::console(&admin), &fileid).await {
        Ok(()) => done(&ctx, "/packages", ctx.tr.get("packages.deleted")),
        Err(e) => failed(&ctx, &back, &e),
    }
}
