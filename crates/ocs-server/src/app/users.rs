//! Console accounts as administrators manage them: create, change role, reset a password,
//! delete. Own-account changes (password, language) live in `auth`. Every function takes
//! `&Admin`; an administrator cannot demote, reset or delete themself here, and storage
//! refuses to leave the console without an administrator.

use ocs_storage::{StoreError, UserRecord};

use crate::app::auth::{hash_password, password_problem, Admin, Role};
use crate::app::{AppError, AppState};

/// Longest login accepted.
pub const MAX_LOGIN_CHARS: usize = 64;

/// Every account, by login.
pub async fn list(state: &AppState, _admin: &Admin<'_>) -> Result<Vec<UserRecord>, AppError> {
    Ok(state.store.list_users().await?)
}

/// IDs of the accounts that have a second factor.
pub async fn with_second_factor(
    state: &AppState,
    _admin: &Admin<'_>,
) -> Result<std::collections::HashSet<i64>, AppError> {
    Ok(state.store.list_totp_users().await?.into_iter().collect())
}

/// Checks a new login: 1 to 64 letters, digits, `.`, `-`, `_` or `@`. Returns it trimmed.
pub fn check_login(login: &str) -> Result<&str, AppError> {
    let login = login.trim();
    let ok = !login.is_empty()
        && login.chars().count() <= MAX_LOGIN_CHARS
        && login
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(login)
    } else {
        Err(AppError::bad_request("E_BAD_LOGIN", "users.bad_login"))
    }
}

fn parse_role(role: &str) -> Result<Role, AppError> {
    Role::parse(role).ok_or_else(|| AppError::bad_request("E_BAD_ROLE", "users.bad_role"))
}

fn check_password(login: &str, password: &str) -> Result<(), AppError> {
    match password_problem(login, password) {
        Some(key) => Err(AppError::bad_request("E_WEAK_PASSWORD", key)),
        None => Ok(()),
    }
}

/// A storage conflict as a user-facing message key.
fn conflict_as(e: StoreError, code: &'static str, key: &'static str) -> AppError {
    match e {
        StoreError::Conflict(_) => AppError::bad_request(code, key),
        e => e.into(),
    }
}

/// Refuses an action on the administrator's own account (they would lock themself out).
fn not_self(admin: &Admin<'_>, id: i64, key: &'static str) -> Result<(), AppError> {
    if admin.viewer.user_id == id {
        Err(AppError::bad_request("E_SELF", key))
    } else {
        Ok(())
    }
}

/// Creates an account after checking its login and password; returns its ID and login.
async fn create<'a>(
    state: &AppState,
    login: &'a str,
    password: &str,
    role: Role,
) -> Result<(i64, &'a str), AppError> {
    let login = check_login(login)?;
    check_password(login, password)?;
    let hash = hash_password(state, password).await?;
    let id = state
        .store
        .insert_user(login, &hash, role.as_str(), false, state.clock.now())
        .await
        .map_err(|e| conflict_as(e, "E_LOGIN_TAKEN", "users.login_taken"))?;
    Ok((id, login))
}

/// Creates an account with the given password; returns its ID.
pub async fn add(
    state: &AppState,
    admin: &Admin<'_>,
    login: &str,
    password: &str,
    role: &str,
) -> Result<i64, AppError> {
    let role = parse_role(role)?;
    let (id, login) = create(state, login, password, role).await?;
    tracing::info!(
        admin = admin.viewer.login,
        login,
        role = role.as_str(),
        "console account created"
    );
    Ok(id)
}

/// Changes an account's role; the change applies at the account's next request.
pub async fn set_role(
    state: &AppState,
    admin: &Admin<'_>,
    id: i64,
    role: &str,
) -> Result<(), AppError> {
    let role = parse_role(role)?;
    if role != Role::Administrator {
        not_self(admin, id, "users.self_demote")?;
    }
    let user = state.store.get_user(id).await?;
    state
        .store
        .update_user_role(id, role.as_str(), Role::Administrator.as_str())
        .await
        .map_err(|e| conflict_as(e, "E_LAST_ADMIN", "users.last_admin"))?;
    tracing::info!(
        admin = admin.viewer.login,
        login = user.login,
        role = role.as_str(),
        "console account role changed"
    );
    Ok(())
}

/// Gives an account a new password that it must change at its next sign-in; its open
/// sessions are closed.
pub async fn reset_password(
    state: &AppState,
    admin: &Admin<'_>,
    id: i64,
    password: &str,
) -> Result<(), AppError> {
    not_self(admin, id, "users.self_reset")?;
    let user = state.store.get_user(id).await?;
    check_password(&user.login, password)?;
    let hash = hash_password(state, password).await?;
    state.store.update_user_password(id, &hash, true).await?;
    // No session digest is empty, so this closes them all.
    state.store.delete_other_sessions(id, "").await?;
    tracing::info!(
        admin = admin.viewer.login,
        login = user.login,
        "console account password reset"
    );
    Ok(())
}

/// Deletes an account and closes its sessions.
pub async fn delete(state: &AppState, admin: &Admin<'_>, id: i64) -> Result<(), AppError> {
    not_self(admin, id, "users.self_delete")?;
    let user = state.store.get_user(id).await?;
    state
        .store
        .delete_user(id, Role::Administrator.as_str())
        .await
        .map_err(|e| conflict_as(e, "E_LAST_ADMIN", "users.last_admin"))?;
    tracing::info!(
        admin = admin.viewer.login,
        login = user.login,
        "console account deleted"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins() {
        let (long, too_long) = ("x".repeat(64), "x".repeat(65));
        for ok in [
            "bob",
            "jean.dupont@example.org",
            "a-b_c.d",
            "Élodie",
            long.as_str(),
        ] {
            assert!(check_login(ok).is_ok(), "{ok}");
        }
        assert_eq!(check_login("  bob ").unwrap(), "bob");
        for bad in ["", "  ", "a b", "bob;", "<x>", "a/b", too_long.as_str()] {
            assert_eq!(
                check_login(bad).unwrap_err().to_string(),
                "users.bad_login",
                "{bad}"
            );
        }
    }

    #[test]
    fn roles_and_passwords() {
        assert_eq!(parse_role("admin").unwrap(), Role::Administrator);
        assert_eq!(parse_role("user").unwrap(), Role::User);
        assert!(parse_role("root").is_err());
        assert_eq!(
            check_password("bob", "short").unwrap_err().to_string(),
            "password.too_short"
        );
        assert_eq!(
            check_password("bobbybobby", "BobbyBobby")
                .unwrap_err()
                .to_string(),
            "password.same_as_login"
        );
        assert!(check_password("bob", "a good password").is_ok());
        assert_eq!(
            conflict_as(StoreError::Conflict("x".into()), "E", "users.last_admin").to_string(),
            "users.last_admin"
        );
    }
}

/// The command line's account management (`ocs-server users …`): whoever runs it holds the
/// database already, so no console session is asked for; the same checks apply.
pub mod cli {
    use super::*;

    /// A role as the command line names it: `administrator` or `user`.
    pub fn role(name: &str) -> Result<Role, AppError> {
        match name {
            "administrator" | "admin" => Ok(Role::Administrator),
            "user" => Ok(Role::User),
            _ => Err(AppError::bad_request(
                "E_BAD_ROLE",
                format!("unknown role {name:?}: use administrator or user"),
            )),
        }
    }

    /// Creates an account (its password is its own: no change is forced); returns its ID.
    pub async fn add(
        state: &AppState,
        login: &str,
        password: &str,
        role: Role,
        web_services: bool,
    ) -> Result<i64, AppError> {
        let (id, login) = create(state, login, password, role).await?;
        if web_services {
            state.store.update_user_web_services(id, true).await?;
        }
        tracing::info!(
            login,
            role = role.as_str(),
            web_services,
            by = "command line",
            "console account created"
        );
        Ok(id)
    }

    /// Every account, by login.
    pub async fn list(state: &AppState) -> Result<Vec<UserRecord>, AppError> {
        Ok(state.store.list_users().await?)
    }

    /// Deletes an account by login, never the last administrator.
    pub async fn delete(state: &AppState, login: &str) -> Result<(), AppError> {
        let user = state
            .store
            .find_user(login)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no console account {login:?}")))?;
        state
            .store
            .delete_user(user.id, Role::Administrator.as_str())
            .await
            .map_err(|e| conflict_as(e, "E_LAST_ADMIN", "users.last_admin"))?;
        tracing::info!(login, by = "command line", "console account deleted");
        Ok(())
    }
}
