//! Sign-in (password, then the code when the account has a second factor), sign-out, and
//! the account pages (own password, language, second factor).

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{
    client_address, cookie, done, error_page, failed, read_cookie, render, to, Ctx, PageCtx, Peer,
    SignedIn, LOGIN_CSRF_COOKIE, SESSION_COOKIE,
};
use crate::app::auth::{self, random_token, NewSession, SignIn};
use crate::app::i18n::LANGUAGES;
use crate::app::totp;
use crate::app::{AppError, AppState};

/// Cookie that marks a browser as trusted for an account (see `app::auth`): a random token
/// whose digest the database keeps.
pub const DEVICE_COOKIE: &str = "ocs_device";
/// Cookie of a sign-in whose password was accepted and that waits for its code.
pub const PENDING_COOKIE: &str = "ocs_pending";

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_get).post(login_post))
        .route("/login/code", get(code_get).post(code_post))
        .route("/logout", post(logout_post))
        .route("/account", get(account_get))
        .route("/account/password", get(password_get).post(password_post))
        .route("/account/language", post(language_post))
        .route("/account/totp", get(totp_get).post(totp_post))
        .route("/account/totp/disable", post(totp_disable_post))
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    page: PageCtx,
    login: String,
    error: Option<String>,
}

async fn login_get(ctx: Ctx, headers: HeaderMap) -> Response {
    if ctx.viewer.is_some() {
        return to("/", ctx.hx);
    }
    let token = read_cookie(&headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 64)
        .map_or_else(random_token, str::to_owned);
    let mut r = render(
        &ctx,
        StatusCode::OK,
        &LoginPage {
            page: PageCtx::anonymous(&ctx, token.clone()),
            login: String::new(),
            error: None,
        },
    );
    set_cookie(&mut r, &cookie(LOGIN_CSRF_COOKIE, &token, ctx.secure, None));
    r
}

/// The sign-in form.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login_post(
    State(state): State<AppState>,
    ctx: Ctx,
    peer: Peer,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let address = client_address(&state, &headers, peer.0);
    let device = read_cookie(&headers, DEVICE_COOKIE);
    match auth::sign_in(&state, &form.login, &form.password, &address, device).await {
        Ok(SignIn::Done(session)) => signed_in(&ctx, &session),
        Ok(SignIn::SecondFactor(pending)) => {
            let mut r = to("/login/code", false);
            set_cookie(
                &mut r,
                &cookie(
                    PENDING_COOKIE,
                    &pending,
                    ctx.secure,
                    Some(auth::PENDING_SIGNIN_SECS),
                ),
            );
            r
        }
        Err(e @ (AppError::Unauthorized(_) | AppError::TooManyRequests(_))) => {
            let key = if matches!(e, AppError::TooManyRequests(_)) {
                "login.rate_limited"
            } else {
                "login.failed"
            };
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            render(
                &ctx,
                status,
                &LoginPage {
                    page: PageCtx::anonymous(&ctx, form.csrf),
                    login: form.login,
                    error: Some(ctx.tr.get(key).to_owned()),
                },
            )
        }
        Err(e) => error_page(&ctx, &e),
    }
}

/// The redirect after a complete sign-in, with the session and device cookies.
fn signed_in(ctx: &Ctx, session: &NewSession) -> Response {
    let next = if session.user.must_change_password != 0 {
        "/account/password"
    } else {
        "/"
    };
    let mut r = to(next, false);
    set_cookie(
        &mut r,
        &cookie(SESSION_COOKIE, &session.token, ctx.secure, None),
    );
    set_cookie(
        &mut r,
        &cookie(
            DEVICE_COOKIE,
            &session.device_token,
            ctx.secure,
            Some(auth::DEVICE_TTL_SECS),
        ),
    );
    set_cookie(&mut r, &cookie(LOGIN_CSRF_COOKIE, "", ctx.secure, Some(0)));
    set_cookie(&mut r, &cookie(PENDING_COOKIE, "", ctx.secure, Some(0)));
    r
}

#[derive(Template)]
#[template(path = "auth/login_code.html")]
struct CodePage {
    page: PageCtx,
    max_code: usize,
    error: Option<String>,
}

async fn code_get(ctx: Ctx, headers: HeaderMap) -> Response {
    if ctx.viewer.is_some() {
        return to("/", ctx.hx);
    }
    let Some(csrf) = read_cookie(&headers, LOGIN_CSRF_COOKIE).filter(|t| t.len() == 64) else {
        return to("/login", ctx.hx);
    };
    if read_cookie(&headers, PENDING_COOKIE).is_none() {
        return to("/login", ctx.hx);
    }
    render(
        &ctx,
        StatusCode::OK,
        &CodePage {
            page: PageCtx::anonymous(&ctx, csrf.to_owned()),
            max_code: totp::MAX_CODE_LEN,
            error: None,
        },
    )
}

/// The code form of the second sign-in step.
#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

async fn code_post(
    State(state): State<AppState>,
    ctx: Ctx,
    peer: Peer,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let address = client_address(&state, &headers, peer.0);
    let pending = read_cookie(&headers, PENDING_COOKIE).unwrap_or("");
    let device = read_cookie(&headers, DEVICE_COOKIE);
    match auth::sign_in_second_factor(&state, pending, &form.code, &address, device).await {
        Ok(session) => signed_in(&ctx, &session),
        Err(e @ (AppError::Unauthorized(_) | AppError::TooManyRequests(_))) => {
            let key = if matches!(e, AppError::TooManyRequests(_)) {
                "login.rate_limited"
            } else {
                "totp.wrong_code"
            };
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            render(
                &ctx,
                status,
                &CodePage {
                    page: PageCtx::anonymous(&ctx, form.csrf),
                    max_code: totp::MAX_CODE_LEN,
                    error: Some(ctx.tr.get(key).to_owned()),
                },
            )
        }
        // The pending sign-in expired or never was: start again.
        Err(e) if e.status() == 400 => failed(&ctx, "/login", &e),
        Err(e) => error_page(&ctx, &e),
    }
}

async fn logout_post(State(state): State<AppState>, ctx: Ctx) -> Response {
    if let Some(viewer) = &ctx.viewer {
        if let Err(e) = auth::sign_out(&state, viewer).await {
            return error_page(&ctx, &e);
        }
    }
    let mut r = to("/login", false);
    set_cookie(&mut r, &cookie(SESSION_COOKIE, "", ctx.secure, Some(0)));
    r
}

fn set_cookie(r: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[derive(Template)]
#[template(path = "auth/password.html")]
struct PasswordPage {
    page: PageCtx,
    forced: bool,
    error: Option<String>,
}

async fn password_get(ctx: Ctx) -> Response {
    let Some(viewer) = &ctx.viewer else {
        return to("/login", ctx.hx);
    };
    render(
        &ctx,
        StatusCode::OK,
        &PasswordPage {
            page: PageCtx::new(&ctx, viewer, "account"),
            forced: viewer.must_change_password,
            error: None,
        },
    )
}

/// The password change form.
#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

async fn password_post(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<PasswordForm>,
) -> Response {
    let Some(viewer) = &ctx.viewer else {
        return to("/login", ctx.hx);
    };
    let result = if form.new != form.confirm {
        Err(AppError::bad_request(
            "E_WEAK_PASSWORD",
            "password.mismatch",
        ))
    } else {
        auth::change_own_password(&state, viewer, &form.current, &form.new).await
    };
    match result {
        Ok(()) => done(&ctx, "/", ctx.tr.get("password.changed")),
        Err(e) if e.status() == 400 => render(
            &ctx,
            StatusCode::BAD_REQUEST,
            &PasswordPage {
                page: PageCtx::new(&ctx, viewer, "account"),
                forced: viewer.must_change_password,
                error: Some(super::translated(&ctx.tr, &e)),
            },
        ),
        Err(e) => error_page(&ctx, &e),
    }
}

#[derive(Template)]
#[template(path = "auth/account.html")]
struct AccountPage {
    page: PageCtx,
    role_key: &'static str,
    language: String,
    languages: &'static [&'static str],
}

async fn account_get(signed: SignedIn) -> Response {
    let SignedIn { viewer, ctx } = signed;
    render(
        &ctx,
        StatusCode::OK,
        &AccountPage {
            page: PageCtx::new(&ctx, &viewer, "account"),
            role_key: if viewer.is_admin() {
                "role.admin"
            } else {
                "role.user"
            },
            language: viewer.language.clone().unwrap_or_default(),
            languages: LANGUAGES,
        },
    )
}

#[derive(Template)]
#[template(path = "auth/totp.html")]
struct TotpPage {
    page: PageCtx,
    forced: bool,
    /// Recovery codes left, when enrolled.
    enabled: Option<i64>,
    enrolment: Option<totp::Enrolment>,
    /// Recovery codes just created (shown once, right after confirmation).
    new_codes: Vec<String>,
    error: Option<String>,
    max_code: usize,
}

impl TotpPage {
    fn new(ctx: &Ctx, viewer: &auth::Viewer, status: totp::Status) -> TotpPage {
        let (enabled, enrolment) = match status {
            totp::Status::Enabled(left) => (Some(left), None),
            totp::Status::Enrolling(e) => (None, Some(e)),
        };
        TotpPage {
            page: PageCtx::new(ctx, viewer, "account"),
            forced: viewer.must_enrol_second_factor,
            enabled,
            enrolment,
            new_codes: Vec::new(),
            error: None,
            max_code: totp::MAX_CODE_LEN,
        }
    }
}

/// The second-factor page; reachable while enrolment is required (unlike [`SignedIn`]
/// pages), not while the password must change.
async fn totp_get(State(state): State<AppState>, ctx: Ctx) -> Response {
    let Some(viewer) = &ctx.viewer else {
        return to("/login", ctx.hx);
    };
    if viewer.must_change_password {
        return to("/account/password", ctx.hx);
    }
    match totp::status(&state, viewer).await {
        Ok(status) => render(&ctx, StatusCode::OK, &TotpPage::new(&ctx, viewer, status)),
        Err(e) => error_page(&ctx, &e),
    }
}

/// The enrolment confirmation form.
#[derive(Deserialize)]
struct TotpForm {
    #[serde(default)]
    code: String,
}

async fn totp_post(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<TotpForm>,
) -> Response {
    let Some(viewer) = &ctx.viewer else {
        return to("/login", ctx.hx);
    };
    if viewer.must_change_password {
        return to("/account/password", ctx.hx);
    }
    let result = totp::confirm(&state, viewer, &form.code).await;
    let (status_code, codes, error) = match result {
        Ok(codes) => (StatusCode::OK, codes, None),
        Err(e) if e.status() == 400 => (
            StatusCode::BAD_REQUEST,
            Vec::new(),
            Some(super::translated(&ctx.tr, &e)),
        ),
        Err(e) => return error_page(&ctx, &e),
    };
    match totp::status(&state, viewer).await {
        Ok(status) => {
            let mut page = TotpPage::new(&ctx, viewer, status);
            // Enrolled by this very request: the requirement is met.
            page.forced = page.forced && page.enabled.is_none();
            page.new_codes = codes;
            page.error = error;
            render(&ctx, status_code, &page)
        }
        Err(e) => error_page(&ctx, &e),
    }
}

/// The disable form: a current code or the password.
#[derive(Deserialize)]
struct DisableForm {
    #[serde(default)]
    proof: String,
}

async fn totp_disable_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(form): Form<DisableForm>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    match totp::disable(&state, &viewer, &form.proof).await {
        Ok(()) => done(&ctx, "/account/totp", ctx.tr.get("totp.disabled")),
        Err(e) => failed(&ctx, "/account/totp", &e),
    }
}

/// The language form.
#[derive(Deserialize)]
struct LanguageForm {
    #[serde(default)]
    language: String,
}

async fn language_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(form): Form<LanguageForm>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let language = Some(form.language.as_str()).filter(|l| !l.is_empty());
    match auth::set_language(&state, &viewer, language).await {
        // The message is shown in the new language on the next page.
        Ok(()) => done(
            &ctx,
            "/account",
            crate::app::i18n::Tr::negotiate(language, None).get("account.language_saved"),
        ),
        Err(e) => failed(&ctx, "/account", &e),
    }
}
