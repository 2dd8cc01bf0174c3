//! Console accounts and sessions: sign-in with rate limiting, argon2 password hashes, roles,
//! and the permission types every other console service takes. A service that changes data
//! takes `&Admin`, which only [`require_admin`] can produce, so a read-only account cannot
//! reach it by construction.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};

use ocs_storage::{StoreError, UserRecord};

use crate::app::{AppError, AppState};

/// Account created on first start; it must change its password at first sign-in.
pub const DEFAULT_ADMIN: &str = "admin";

/// Sessions idle longer than this are closed.
pub const SESSION_IDLE_SECS: i64 = 8 * 3600;

/// Failed sign-ins allowed per account and address within [`FAILURE_WINDOW_SECS`].
const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed sign-ins allowed per address, whatever the account, within the window.
const MAX_FAILURES_PER_ADDRESS: i64 = 30;
const FAILURE_WINDOW_SECS: i64 = 15 * 60;

/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest accepted password or login (argon2 would take anything; requests should not).
pub const MAX_CREDENTIAL_LEN: usize = 128;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Administrator,
    /// Query and view only.
    User,
}

impl Role {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "admin",
            Role::User => "user",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Administrator),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

/// A signed-in account, as the console sees it on every request.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Account ID.
    pub user_id: i64,
    /// Login.
    pub login: String,
    /// Role.
    pub role: Role,
    /// Must change its password before anything else.
    pub must_change_password: bool,
    /// Chosen language, if any.
    pub language: Option<String>,
    /// Saved list choices (encoded).
    pub list_prefs: String,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// Digest of the session token (to close or keep this session).
    pub session_digest: String,
}

impl Viewer {
    /// Whether the account administers the console.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Administrator
    }
}

/// Proof that the caller is an administrator; only [`require_admin`] makes one.
// The private field (not `#[non_exhaustive]`, which binds only other crates) keeps the rest
// of this crate from making one.
#[allow(clippy::manual_non_exhaustive)]
#[derive(Debug)]
pub struct Admin<'a> {
    /// The administrator.
    pub viewer: &'a Viewer,
    _private: (),
}

/// Refuses read-only accounts.
pub fn require_admin(viewer: &Viewer) -> Result<Admin<'_>, AppError> {
    if viewer.is_admin() {
        Ok(Admin {
            viewer,
            _private: (),
        })
    } else {
        Err(AppError::Forbidden {
            code: "E_READ_ONLY",
            message: "this account is read-only".into(),
        })
    }
}

/// A new random secret (session token, CSRF token), hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What is stored of a session token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password (argon2id with the crate's recommended parameters) off the async
/// runtime, since it deliberately takes tens of milliseconds.
pub async fn hash_password(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("cannot hash password: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("password hashing task failed: {e}")))?
}

async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Creates `admin`/`admin` (to be changed at first sign-in) when no account exists.
pub async fn ensure_default_admin(state: &AppState) -> Result<bool, AppError> {
    if state.store.count_users().await? > 0 {
        return Ok(false);
    }
    let hash = hash_password(DEFAULT_ADMIN).await?;
    match state
        .store
        .insert_user(
            DEFAULT_ADMIN,
            &hash,
            Role::Administrator.as_str(),
            true,
            state.clock.now(),
        )
        .await
    {
        Ok(_) => Ok(true),
        // Another instance sharing the database created it first.
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A session opened by a successful sign-in: the cookie value and the account.
#[derive(Debug)]
pub struct NewSession {
    /// Cookie value (never stored).
    pub token: String,
    /// The account.
    pub user: UserRecord,
}

/// Checks credentials and opens a session. Failures are counted per account and address,
/// and refused outright once over the limit, before the password is even checked.
pub async fn sign_in(
    state: &AppState,
    login: &str,
    password: &str,
    address: &str,
) -> Result<NewSession, AppError> {
    let login = login.trim();
    if login.is_empty() || login.len() > MAX_CREDENTIAL_LEN || password.len() > MAX_CREDENTIAL_LEN {
        return Err(AppError::Unauthorized("wrong login or password".into()));
    }
    let now = state.clock.now();
    let account_key = format!("account:{}|{address}", login.to_lowercase());
    let address_key = format!("address:{address}");
    let since = now - FAILURE_WINDOW_SECS;
    if state
        .store
        .count_login_failures(&account_key, since)
        .await?
        >= MAX_FAILURES_PER_ACCOUNT
        || state
            .store
            .count_login_failures(&address_key, since)
            .await?
            >= MAX_FAILURES_PER_ADDRESS
    {
        tracing::warn!(login, address, "console sign-in refused: too many failures");
        return Err(AppError::TooManyRequests(
            "too many failed sign-ins; wait 15 minutes".into(),
        ));
    }
    let user = state.store.find_user(login).await?;
    let ok = match &user {
        Some(u) => verify_password(password, &u.password_hash).await,
        None => {
            // Spend the same time as for a real account, so timing does not reveal logins.
            let _ = hash_password(password).await;
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        state
            .store
            .insert_login_failure(&[&account_key, &address_key], now)
            .await?;
        tracing::warn!(login, address, "console sign-in failed");
        return Err(AppError::Unauthorized("wrong login or password".into()));
    };
    state.store.delete_login_failures(&account_key).await?;
    let token = random_token();
    state
        .store
        .insert_session(&token_digest(&token), user.id, &random_token(), now)
        .await?;
    // Sign-ins are rare; pruning idle sessions here needs no background task.
    state
        .store
        .delete_idle_sessions(now - SESSION_IDLE_SECS)
        .await?;
    tracing::info!(login = user.login, address, "console sign-in");
    Ok(NewSession { token, user })
}

/// The account behind a session cookie, if the session is open and not idle too long.
pub async fn resume(state: &AppState, token: &str) -> Result<Option<Viewer>, AppError> {
    if token.len() != 64 {
        return Ok(None);
    }
    let digest = token_digest(token);
    let Some(session) = state.store.find_session(&digest).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    if now - session.last_seen > SESSION_IDLE_SECS {
        state.store.delete_session(&digest).await?;
        return Ok(None);
    }
    // One write a minute at most per session, not one per request.
    if now - session.last_seen > 60 {
        state.store.touch_session(&digest, now).await?;
    }
    let Some(role) = Role::parse(&session.user.role) else {
        return Ok(None);
    };
    Ok(Some(Viewer {
        user_id: session.user.id,
        login: session.user.login,
        role,
        must_change_password: session.user.must_change_password != 0,
        language: session.user.language,
        list_prefs: session.user.list_prefs,
        csrf_token: session.csrf_token,
        session_digest: digest,
    }))
}

/// Closes the viewer's session.
pub async fn sign_out(state: &AppState, viewer: &Viewer) -> Result<(), AppError> {
    state.store.delete_session(&viewer.session_digest).await?;
    tracing::info!(login = viewer.login, "console sign-out");
    Ok(())
}

/// Checks a new password against the rules, returning the message key of the first broken
/// one.
pub fn password_problem(login: &str, password: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        Some("password.too_short")
    } else if password.len() > MAX_CREDENTIAL_LEN {
        Some("password.too_long")
    } else if password.eq_ignore_ascii_case(login) {
        Some("password.same_as_login")
    } else {
        None
    }
}

/// Changes the viewer's own password after checking the current one; other sessions of the
/// account are closed.
pub async fn change_own_password(
    state: &AppState,
    viewer: &Viewer,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let user = state.store.get_user(viewer.user_id).await?;
    if !verify_password(current, &user.password_hash).await {
        return Err(AppError::bad_request(
            "E_WRONG_PASSWORD",
            "password.wrong_current",
        ));
    }
    if let Some(problem) = password_problem(&viewer.login, new) {
        return Err(AppError::bad_request("E_WEAK_PASSWORD", problem));
    }
    if new == current {
        return Err(AppError::bad_request(
            "E_WEAK_PASSWORD",
            "password.unchanged",
        ));
    }
    let hash = hash_password(new).await?;
    state
        .store
        .update_user_password(viewer.user_id, &hash, false)
        .await?;
    state
        .store
        .delete_other_sessions(viewer.user_id, &viewer.session_digest)
        .await?;
    tracing::info!(login = viewer.login, "console password changed");
    Ok(())
}

/// Saves the viewer's language (`None`: follow the browser).
pub async fn set_language(
    state: &AppState,
    viewer: &Viewer,
    language: Option<&str>,
) -> Result<(), AppError> {
    if let Some(lang) = language {
        if !crate::app::i18n::LANGUAGES.contains(&lang) {
            return Err(AppError::bad_request(
                "E_BAD_PARAM",
                format!("unknown language {lang:?}"),
            ));
        }
    }
    Ok(state
        .store
        .update_user_language(viewer.user_id, language)
        .await?)
}
