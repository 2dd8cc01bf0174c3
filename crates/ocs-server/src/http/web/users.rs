//! The users page: console accounts, roles and second factors, for administrators. The rules
//! (own account protected, last administrator kept) live in `app::users` and `app::totp`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{error_page, outcome, render, PageCtx, SignedIn};
use crate::app::auth::{require_admin, Role, MIN_PASSWORD_LEN};
use crate::app::totp;
use crate::app::users::{self, MAX_LOGIN_CHARS};
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_get).post(users_post))
        .route("/admin/users/{id}/role", post(user_role_post))
        .route("/admin/users/{id}/password", post(user_password_post))
        .route("/admin/users/{id}/delete", post(user_delete_post))
        .route("/admin/users/{id}/totp-reset", post(user_totp_reset_post))
        .route("/admin/users/second-factor", post(second_factor_post))
}

const BACK: &str = "/admin/users";

/// One account as listed.
struct UserLine {
    id: i64,
    login: String,
    is_admin: bool,
    is_self: bool,
    must_change: bool,
    has_totp: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    page: PageCtx,
    users: Vec<UserLine>,
    max_login: usize,
    min_password: usize,
    require_second_factor: bool,
}

async fn users_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let SignedIn { viewer, ctx } = &signed;
    let result = async {
        let admin = require_admin(viewer)?;
        let with_totp = users::with_second_factor(&state, &admin).await?;
        let users = users::list(&state, &admin)
            .await?
            .into_iter()
            .map(|u| UserLine {
                is_admin: Role::parse(&u.role) == Some(Role::Administrator),
                is_self: u.id == viewer.user_id,
                must_change: u.must_change_password != 0,
                has_totp: with_totp.contains(&u.id),
                id: u.id,
                login: u.login,
            })
            .collect();
        let required = totp::required(&state, &admin).await?;
        Ok::<_, AppError>((users, required))
    }
    .await;
    match result {
        Ok((users, require_second_factor)) => render(
            ctx,
            StatusCode::OK,
            &UsersPage {
                page: PageCtx::new(ctx, viewer, "users"),
                users,
                max_login: MAX_LOGIN_CHARS,
                min_password: MIN_PASSWORD_LEN,
                require_second_factor,
            },
        ),
        Err(e) => error_page(ctx, &e),
    }
}

/// The add-account form.
#[derive(Deserialize)]
struct AddForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

async fn users_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(f): Form<AddForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        users::add(&state, &admin, &f.login, &f.password, &f.role).await?;
        Ok::<(), AppError>(())
    }
    .await;
    outcome(&signed.ctx, BACK, result, "users.added")
}

/// The change-role form.
#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
}

async fn user_role_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
    Form(f): Form<RoleForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        users::set_role(&state, &admin, id, &f.role).await
    }
    .await;
    outcome(&signed.ctx, BACK, result, "users.role_changed")
}

/// The reset-password form.
#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn user_password_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
    Form(f): Form<PasswordForm>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        users::reset_password(&state, &admin, id, &f.password).await
    }
    .await;
    outcome(&signed.ctx, BACK, result, "users.password_reset")
}

async fn user_delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        users::delete(&state, &admin, id).await
    }
    .await;
    outcome(&signed.ctx, BACK, result, "users.deleted")
}

async fn user_totp_reset_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        totp::reset(&state, &admin, id).await
    }
    .await;
    outcome(&signed.ctx, BACK, result, "totp.reset_done")
}

/// The second-factor requirement form (an unchecked box sends nothing).
#[derive(Deserialize)]
struct RequireForm {
    #[serde(default)]
    require: String,
}

async fn second_factor_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(f): Form<RequireForm>,
) -> Response {
    let required = f.require == "1";
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        totp::set_required(&state, &admin, required).await
    }
    .await;
    let key = if required {
        "totp.required_on"
    } else {
        "totp.required_off"
    };
    outcome(&signed.ctx, BACK, result, key)
}
