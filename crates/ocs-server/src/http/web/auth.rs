//! Sign-in, sign-out, and the account page (own password, language).

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
use crate::app::auth::{self, random_token};
use crate::app::i18n::LANGUAGES;
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_get).post(login_post))
        .route("/logout", post(logout_post))
        .route("/account", get(account_get))
        .route("/account/password", get(password_get).post(password_post))
        .route("/account/language", post(language_post))
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
        return to("/computers", ctx.hx);
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
    match auth::sign_in(&state, &form.login, &form.password, &address).await {
        Ok(session) => {
            let next = if session.user.must_change_password != 0 {
                "/account/password"
            } else {
                "/computers"
            };
            let mut r = to(next, false);
            set_cookie(
                &mut r,
                &cookie(SESSION_COOKIE, &session.token, ctx.secure, None),
            );
            set_cookie(&mut r, &cookie(LOGIN_CSRF_COOKIE, "", ctx.secure, Some(0)));
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
        Ok(()) => done(&ctx, "/computers", ctx.tr.get("password.changed")),
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
