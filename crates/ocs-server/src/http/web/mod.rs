//! The administration console: server-rendered pages (askama) under `/`, progressively
//! enhanced with vendored htmx. This module owns what every page shares: the session layer
//! (cookie → account, CSRF token and `Origin` check on every state-changing request,
//! language), security headers, the page context, rendering (whole page or, for htmx, the
//! fragment), flash messages and error pages. Handlers live in one module per area.

pub mod admin;
pub mod auth;
mod chart;
pub mod computers;
pub mod dashboard;
pub mod deletion;
pub mod deployment;
pub mod deployment_affect;
pub mod deployment_status;
pub mod duplicates;
pub mod forwarding;
pub mod group_settings;
pub mod groups;
pub mod history;
pub mod ipdiscover;
pub mod ipdiscover_admin;
pub mod ipdiscover_agents;
pub mod ipdiscover_analyze;
pub mod ipdiscover_lookup;
pub mod mass;
mod paging;
pub mod redistribution;
pub mod rollout;
pub mod search;
pub mod software;
pub mod tags;
pub mod users;

use std::net::SocketAddr;

use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::app::auth::{resume, Viewer};
use crate::app::i18n::Tr;
use crate::app::{AppError, AppState};
use crate::http::client::is_https;

/// Name of the session cookie (a random token; the database keeps its digest).
pub const SESSION_COOKIE: &str = "ocs_session";
/// Cookie of the sign-in form's CSRF token (there is no session yet to hold it).
pub const LOGIN_CSRF_COOKIE: &str = "ocs_login_csrf";
const FLASH_COOKIE: &str = "ocs_flash";
/// Largest URL-encoded form accepted by the console.
const MAX_FORM_BYTES: usize = 1024 * 1024;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Routes of the console.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/ocsreports", get(legacy_get))
        .route("/ocsreports/", get(legacy_get))
        .route("/ocsreports/{*rest}", get(legacy_get))
        .route("/static/{file}", get(static_get))
        .route("/favicon.ico", get(favicon_get))
        .merge(auth::router())
        .merge(dashboard::router())
        .merge(duplicates::router())
        .merge(forwarding::router())
        .merge(history::router())
        .merge(computers::router())
        .merge(mass::router())
        .merge(group_settings::router())
        .merge(deletion::router())
        .merge(deployment::router())
        .merge(deployment_affect::router())
        .merge(deployment_status::router())
        .merge(redistribution::router())
        .merge(search::router())
        .merge(software::router())
        .merge(groups::router())
        .merge(tags::router())
        .merge(admin::router())
        .merge(users::router())
        .merge(rollout::router())
        .merge(ipdiscover::router())
        .merge(ipdiscover_admin::router())
        .merge(ipdiscover_agents::router())
        .merge(ipdiscover_analyze::router())
        .merge(ipdiscover_lookup::router())
        .layer(middleware::from_fn_with_state(state, console_layer))
}

/// What the session layer learnt about a request, available to every console handler.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The signed-in account, if any.
    pub viewer: Option<Viewer>,
    /// Translator for the request's language.
    pub tr: Tr,
    /// Sent by htmx: answer with the fragment.
    pub hx: bool,
    /// Served over HTTPS (directly or behind a trusted proxy): cookies get `Secure`.
    pub secure: bool,
    /// Flash message carried over from the previous request: (is_error, text).
    pub flash: Option<(bool, String)>,
    /// Path and query of the request.
    pub uri: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())
    }
}

/// A signed-in account that may use the console (its password is not pending a change, and
/// it has the second factor the console may require).
pub struct SignedIn {
    /// The account.
    pub viewer: Viewer,
    /// The request context.
    pub ctx: Ctx,
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let Some(viewer) = ctx.viewer.clone() else {
            return Err(to("/login", ctx.hx));
        };
        if viewer.must_change_password {
            return Err(to("/account/password", ctx.hx));
        }
        if viewer.must_enrol_second_factor {
            return Err(to("/account/totp", ctx.hx));
        }
        Ok(SignedIn { viewer, ctx })
    }
}

/// A redirect that htmx follows as a whole-page navigation.
pub fn to(location: &str, hx: bool) -> Response {
    if hx {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = HeaderValue::from_str(location) {
            r.headers_mut().insert("HX-Redirect", v);
        }
        r
    } else {
        Redirect::to(location).into_response()
    }
}

/// The page context every template gets.
pub struct PageCtx {
    /// Translator.
    pub t: Tr,
    /// Signed-in login (empty on the sign-in page).
    pub login: String,
    /// Whether to show administration.
    pub is_admin: bool,
    /// CSRF token for forms.
    pub csrf: String,
    /// Which navigation entry is current.
    pub nav: &'static str,
    /// Render only the main content (htmx request).
    pub fragment: bool,
    /// Printable view: no navigation.
    pub print: bool,
    /// Flash message: (is_error, text).
    pub flash: Option<(bool, String)>,
}

impl PageCtx {
    /// The context of a signed-in page.
    pub fn new(ctx: &Ctx, viewer: &Viewer, nav: &'static str) -> PageCtx {
        PageCtx {
            t: ctx.tr.clone(),
            login: viewer.login.clone(),
            is_admin: viewer.is_admin(),
            csrf: viewer.csrf_token.clone(),
            nav,
            fragment: ctx.hx,
            print: false,
            flash: ctx.flash.clone(),
        }
    }

    /// The context of a page shown before signing in.
    pub fn anonymous(ctx: &Ctx, csrf: String) -> PageCtx {
        PageCtx {
            t: ctx.tr.clone(),
            login: String::new(),
            is_admin: false,
            csrf,
            nav: "",
            fragment: false,
            print: false,
            flash: ctx.flash.clone(),
        }
    }
}

/// Renders a template as the response, with `HX-Push-Url` for htmx.
pub fn render(ctx: &Ctx, status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut r = (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response();
            if ctx.hx {
                if let Ok(v) = HeaderValue::from_str(&ctx.uri) {
                    r.headers_mut().insert("HX-Push-Url", v);
                }
            }
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed").into_response()
        }
    }
}

/// Answers a block of a page loaded by htmx (a card of the computer page): the bare fragment
/// to htmx, without `HX-Push-Url` (the address stays the page's), the whole page otherwise.
pub fn render_block(ctx: &Ctx, view: &impl Template) -> Response {
    if !ctx.hx {
        return render(ctx, StatusCode::OK, view);
    }
    match view.render() {
        Ok(html) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: PageCtx,
    status: u16,
    message: String,
}

/// An error as a page with its real status. Messages that are catalogue keys are translated.
pub fn error_page(ctx: &Ctx, error: &AppError) -> Response {
    if error.status() >= 500 {
        tracing::error!(code = error.code(), reason = %error, "console request failed");
    } else {
        tracing::warn!(code = error.code(), reason = %error, "console request refused");
    }
    let message = translated(&ctx.tr, error);
    let page = match &ctx.viewer {
        Some(v) => PageCtx::new(ctx, v, ""),
        None => PageCtx::anonymous(ctx, String::new()),
    };
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    render(
        ctx,
        status,
        &ErrorPage {
            page,
            status: error.status(),
            message,
        },
    )
}

/// The user-facing text of an error.
pub fn translated(tr: &Tr, error: &AppError) -> String {
    let text = error.to_string();
    match error {
        AppError::Forbidden { .. } => tr.get("error.forbidden").to_owned(),
        AppError::NotFound(_) => tr.get("error.not_found").to_owned(),
        e if e.status() >= 500 => tr.get("error.internal").to_owned(),
        _ if tr.has(&text) => tr.get(&text).to_owned(),
        _ => text,
    }
}

/// Renders a page built by a service call, or the error page of its failure.
pub fn page_or_error<T: Template>(signed: &SignedIn, result: Result<T, AppError>) -> Response {
    match result {
        Ok(page) => render(&signed.ctx, StatusCode::OK, &page),
        Err(e) => error_page(&signed.ctx, &e),
    }
}

/// Redirects after a successful change, carrying a message to the next page.
pub fn done(ctx: &Ctx, location: &str, message: &str) -> Response {
    flash_redirect(ctx, location, false, message)
}

/// A change's outcome: a flash redirect back to `back` with the message of `key` or the
/// reason it was refused; a read-only account gets a real 403 page, not a flash message.
pub fn outcome(ctx: &Ctx, back: &str, result: Result<(), AppError>, key: &str) -> Response {
    match result {
        Ok(()) => done(ctx, back, ctx.tr.get(key)),
        Err(e @ AppError::Forbidden { .. }) => error_page(ctx, &e),
        Err(e) => failed(ctx, back, &e),
    }
}

/// Redirects after a refused change, carrying the reason to the next page.
pub fn failed(ctx: &Ctx, location: &str, error: &AppError) -> Response {
    if error.status() >= 500 {
        return error_page(ctx, error);
    }
    tracing::warn!(code = error.code(), reason = %error, "console change refused");
    flash_redirect(ctx, location, true, &translated(&ctx.tr, error))
}

fn flash_redirect(ctx: &Ctx, location: &str, is_error: bool, message: &str) -> Response {
    let mut r = Redirect::to(location).into_response();
    let value: String = serde_urlencoded::to_string([(if is_error { "e" } else { "o" }, message)])
        .unwrap_or_default();
    let cookie = cookie(FLASH_COOKIE, &value, ctx.secure, Some(60));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, Secure over HTTPS.
pub fn cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Reads a cookie of the request.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Client address (the proxy's `X-Forwarded-For` only when configured to trust it).
pub fn client_address(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    crate::http::client::client_ip(&state.config, headers, peer.ip()).to_string()
}

fn is_console_path(path: &str) -> bool {
    !(path.starts_with("/ocsinventory")
        || path.starts_with("/api/")
        || path.starts_with("/ocsapi/")
        || path == "/ocsinterface"
        || path == "/healthz"
        || path.starts_with("/download/"))
}

/// The session layer: resolves the account, checks CSRF and `Origin` on every
/// state-changing request, and adds security headers to every console response.
async fn console_layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !is_console_path(&path) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let headers = &parts.headers;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|peer| peer.0.ip());
    let secure = is_https(&state.config, &parts.extensions, headers, peer);
    let viewer = match read_cookie(headers, SESSION_COOKIE) {
        Some(token) => match resume(&state, token).await {
            Ok(v) => v,
            Err(e) => return plain_error(&e),
        },
        None => None,
    };
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let tr = Tr::negotiate(viewer.as_ref().and_then(|v| v.language.as_deref()), accept);
    let flash = read_cookie(headers, FLASH_COOKIE)
        .and_then(|v| serde_urlencoded::from_str::<Vec<(String, String)>>(v).ok())
        .and_then(|pairs| pairs.into_iter().next())
        .map(|(k, v)| (k == "e", v));
    let had_flash = flash.is_some();
    let ctx = Ctx {
        viewer,
        tr,
        hx: headers.contains_key("hx-request"),
        secure,
        flash,
        uri: parts
            .uri
            .path_and_query()
            .map_or_else(|| path.clone(), |p| p.as_str().to_owned()),
    };
    let mut body = body;
    if parts.method != Method::GET && parts.method != Method::HEAD {
        if let Err(why) = check_origin(&parts.headers) {
            tracing::warn!(path, reason = why, "console request refused: cross-origin");
            return refused(&ctx, "error.cross_origin");
        }
        match check_csrf(&ctx, &parts, body).await {
            Ok(b) => body = b,
            Err(response) => return response,
        }
    }
    parts.extensions.insert(ctx.clone());
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // A flash message is shown once.
    if had_flash && !h.contains_key(header::SET_COOKIE) {
        if let Ok(v) = HeaderValue::from_str(&cookie(FLASH_COOKIE, "", secure, Some(0))) {
            h.append(header::SET_COOKIE, v);
        }
    }
    response
}

fn plain_error(e: &AppError) -> Response {
    tracing::error!(code = e.code(), reason = %e, "console session lookup failed");
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, format!("{}\n", e.code())).into_response()
}

fn refused(ctx: &Ctx, key: &'static str) -> Response {
    error_page(
        ctx,
        &AppError::Forbidden {
            code: "E_CSRF",
            message: key.into(),
        },
    )
}

/// A state-changing request must come from a page of this server: its `Origin` (or, from
/// older browsers, `Referer`) must name the host it was sent to.
fn check_origin(headers: &HeaderMap) -> Result<(), &'static str> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .ok_or("no Host header")?;
    let same = |url: &str| {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"));
        rest.is_some_and(|r| r.split('/').next() == Some(host))
    };
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::REFERER).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), _) if same(origin) => Ok(()),
        (Some(_), _) => Err("Origin names another site"),
        (None, Some(referer)) if same(referer) => Ok(()),
        (None, Some(_)) => Err("Referer names another site"),
        (None, None) => Err("neither Origin nor Referer"),
    }
}

/// Checks the CSRF token of a state-changing request: the `X-CSRF-Token` header, a `csrf`
/// query parameter (multipart uploads) or a `csrf` form field. The sign-in form has no
/// session and is checked against its own cookie instead (as is its code step). Returns the body, read if needed.
async fn check_csrf(ctx: &Ctx, parts: &Parts, body: Body) -> Result<Body, Response> {
    let expected = if matches!(parts.uri.path(), "/login" | "/login/code") {
        read_cookie(&parts.headers, LOGIN_CSRF_COOKIE).map(str::to_owned)
    } else {
        match &ctx.viewer {
            Some(v) => Some(v.csrf_token.clone()),
            None => return Err(to("/login", ctx.hx)),
        }
    };
    let Some(expected) = expected.filter(|e| !e.is_empty()) else {
        return Err(refused(ctx, "error.csrf"));
    };
    let supplied = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            parts.uri.query().and_then(|q| {
                serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                    .ok()?
                    .into_iter()
                    .find(|(k, _)| k == "csrf")
                    .map(|(_, v)| v)
            })
        });
    let (supplied, body) = match supplied {
        Some(s) => (Some(s), body),
        None => {
            let is_form = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            if !is_form {
                return Err(refused(ctx, "error.csrf"));
            }
            let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
                .await
                .map_err(|_| {
                    error_page(
                        ctx,
                        &AppError::TooLarge {
                            code: "E_FORM_TOO_LARGE",
                            message: format!("forms are limited to {MAX_FORM_BYTES} bytes"),
                        },
                    )
                })?;
            let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                .ok()
                .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf"))
                .map(|(_, v)| v);
            (token, Body::from(bytes))
        }
    };
    if supplied
        .as_deref()
        .is_some_and(|s| constant_time_eq(s, &expected))
    {
        Ok(body)
    } else {
        tracing::warn!(
            path = parts.uri.path(),
            "console request refused: bad CSRF token"
        );
        Err(refused(ctx, "error.csrf"))
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Bookmarks of the original console land on ours.
async fn legacy_get() -> Redirect {
    Redirect::permanent("/")
}

async fn static_get(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        "htmx.min.js" => (
            include_bytes!("../../../static/htmx.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "favicon.svg" => (
            include_bytes!("../../../static/favicon.svg"),
            "image/svg+xml",
        ),
        "console.css" => (
            include_bytes!("../../../static/console.css"),
            "text/css; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Browsers ask for `/favicon.ico` whatever the page says; they accept the SVG.
async fn favicon_get() -> Response {
    static_get(axum::extract::Path("favicon.svg".to_owned())).await
}

/// The peer address of a request, for handlers that rate-limit.
pub type Peer = ConnectInfo<SocketAddr>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_rules() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(check_origin(&h).is_err());
        h.insert(
            header::REFERER,
            HeaderValue::from_static("http://127.0.0.1:8080/x"),
        );
        assert!(check_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(check_origin(&h).is_err());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://127.0.0.1:8080"),
        );
        assert!(check_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080.evil"),
        );
        assert!(check_origin(&h).is_err());
    }

    #[test]
    fn cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; ocs_session=abc; b=2"),
        );
        assert_eq!(read_cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(read_cookie(&h, "c"), None);
        let c = cookie(SESSION_COOKIE, "v", true, None);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(!cookie(SESSION_COOKIE, "v", false, None).contains("Secure"));
    }
}
