//! Who may use the web services that scripts written for the original call (its REST API
//! at `/ocsapi/v1`, its SOAP service at `/ocsinterface`): console accounts marked for web
//! services (`ocs-server users add LOGIN --web-services`), by HTTP Basic, as the original's
//! Apache configuration had them.
//!
//! A script calls many times with one credential, and argon2 costs tens of milliseconds:
//! a verified header is remembered (by its digest, in the cache agent credentials use) for
//! [`CACHE_SECS`], and the account is read again on every request, so that a deleted
//! account or a withdrawn permission takes effect at once. Failures count against the
//! account's sign-in budget, as console sign-ins do.

use crate::app::agent::agent_auth;
use crate::app::auth::{self, ATTEMPT_WINDOW_SECS, MAX_ATTEMPTS_PER_CLIENT};
use crate::app::{AppError, AppState};

/// How long a verified header is remembered.
pub const CACHE_SECS: i64 = 60;

/// An account allowed to use the web services.
#[derive(Debug, Clone)]
pub struct WebServiceUser {
    /// Its login.
    pub login: String,
    /// Whether it has the administrator role (needed by calls that change data).
    pub admin: bool,
}

fn unauthorized(why: &str) -> AppError {
    AppError::Unauthorized(format!(
        "{why}: the web services take HTTP Basic credentials of a console account allowed to use them (`ocs-server users add LOGIN --web-services`)"
    ))
}

/// Checks the `Authorization: Basic` header of a web-service request.
pub async fn authenticate(
    state: &AppState,
    authorization: Option<&[u8]>,
    peer: &str,
) -> Result<WebServiceUser, AppError> {
    let header = authorization.ok_or_else(|| unauthorized("no credentials"))?;
    let credentials = agent_auth::parse_basic(header).map_err(|reason| {
        tracing::warn!(peer, reason, "web-service authentication failed");
        unauthorized(reason)
    })?;
    let now = state.clock.now();
    let mut keyed = b"web-services\0".to_vec();
    keyed.extend_from_slice(header);
    let key = agent_auth::digest(&keyed);
    let login = credentials.user.as_str();
    let account = state
        .store
        .find_user(login)
        .await?
        .filter(|u| u.web_services == 1);
    let verified = state
        .agent_auth
        .cached(&key, now)
        .is_some_and(|cached| cached == login);
    if !verified {
        let budget = format!("web-services:{}", login.to_lowercase());
        if state
            .store
            .hit_login_attempt(&budget, now, ATTEMPT_WINDOW_SECS)
            .await?
            > MAX_ATTEMPTS_PER_CLIENT
        {
            tracing::warn!(peer, login, "web-service request refused: too many failures");
            return Err(AppError::TooManyRequests(
                "too many failed web-service authentications for this account; wait 15 minutes"
                    .into(),
            ));
        }
        let ok = match &account {
            Some(u) => auth::verify_password(state, &credentials.password, &u.password_hash).await,
            None => {
                // As long as for a real account, so that timing does not reveal logins.
                let _ = auth::hash_password(state, &credentials.password).await;
                false
            }
        };
        if !ok {
            tracing::warn!(peer, login, "web-service authentication failed");
            return Err(unauthorized("wrong login or password, or an account without web services"));
        }
        state.store.refund_login_attempt(&budget).await?;
        state
            .agent_auth
            .remember(key, login, now + CACHE_SECS, now);
    }
    let account = account.ok_or_else(|| unauthorized("this account may no longer use the web services"))?;
    Ok(WebServiceUser {
        login: account.login,
        admin: account.role == auth::Role::Administrator.as_str(),
    })
}
