//! Console accounts and sessions: sign-in with rate limiting, trusted devices, the
//! second-factor step, argon2 password hashes, roles, and the permission types every other
//! console service takes. A service that changes data takes `&Admin`, which only
//! [`require_admin`] can produce, so a read-only account cannot reach it by construction.
//!
//! Rate limiting counts every attempt *before* the password is checked, with one atomic
//! upsert per key, so concurrent attempts cannot all slip under the limit. Which keys an
//! attempt is counted under depends on whether it carries a *device cookie*: a long-lived
//! random cookie given to a browser after it signed in to an account. With a valid one for
//! the login, only that device's own key counts (and a device that fails too often is
//! revoked); without one, the account's "untrusted clients" key and the client address count.
//! A flood, from one address or many, therefore locks out untrusted clients of the account
//! only, while the administrator's usual browser still signs in.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use std::sync::Arc;

use argon2::{Argon2, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use ocs_storage::{StoreError, UserRecord};

use crate::app::{AppError, AppState};

/// Account created on first start; it must change its password at first sign-in.
pub const DEFAULT_ADMIN: &str = "admin";

/// Sessions idle longer than this are closed.
pub const SESSION_IDLE_SECS: i64 = 8 * 3600;

/// Attempts allowed per client key (an account's untrusted clients, one trusted device, a
/// second-factor step) within [`ATTEMPT_WINDOW_SECS`]. A right password gives its attempt
/// back, so this counts failures and attempts still being checked.
pub const MAX_ATTEMPTS_PER_CLIENT: i64 = 5;
/// Attempts allowed per address without a device cookie, whatever the account, within the
/// window.
pub const MAX_ATTEMPTS_PER_ADDRESS: i64 = 30;
/// Length of a rate-limit window, from its first attempt.
pub const ATTEMPT_WINDOW_SECS: i64 = 15 * 60;
/// How long a browser stays trusted without signing in.
pub const DEVICE_TTL_SECS: i64 = 90 * 86_400;
/// How long the second-factor step may wait after the password was accepted.
pub const PENDING_SIGNIN_SECS: i64 = 5 * 60;
/// Password hashes computed at once in this process; more wait their turn, so a flood of
/// sign-ins queues cheap futures instead of blocking threads.
pub const PASSWORD_HASHING_PERMITS: usize = 2;

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
    /// Every account must have a second factor and this one has none yet: it may only
    /// enrol (or sign out) until it has.
    pub must_enrol_second_factor: bool,
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

/// The process-wide limit on concurrent password hashing, for [`AppState`].
pub fn password_hashing_permits() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(PASSWORD_HASHING_PERMITS))
}

/// Hashes a password (argon2id with the crate's recommended parameters) off the async
/// runtime, since it deliberately takes tens of milliseconds; at most
/// [`PASSWORD_HASHING_PERMITS`] at once.
pub async fn hash_password(state: &AppState, password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    let _permit = state
        .password_permits
        .acquire()
        .await
        .map_err(|e| AppError::Internal(format!("password hashing closed: {e}")))?;
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

/// Checks a password against its stored hash, under the same limit as [`hash_password`].
pub(crate) async fn verify_password(state: &AppState, password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    let Ok(_permit) = state.password_permits.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || argon2_matches(&password, &hash))
        .await
        .unwrap_or(false)
}

/// Whether `password` matches a PHC-format argon2 hash (blocking: tens of milliseconds).
/// Callers run it on the blocking pool under [`AppState::password_permits`].
pub(crate) fn argon2_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Creates `admin`/`admin` (to be changed at first sign-in) when no account exists.
pub async fn ensure_default_admin(state: &AppState) -> Result<bool, AppError> {
    if state.store.count_users().await? > 0 {
        return Ok(false);
    }
    let hash = hash_password(state, DEFAULT_ADMIN).await?;
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

/// A session opened by a successful sign-in: the cookie values and the account.
#[derive(Debug)]
pub struct NewSession {
    /// Session cookie value (never stored).
    pub token: String,
    /// Device cookie value for this browser (the one it sent, if still valid, or a new one).
    pub device_token: String,
    /// The account.
    pub user: UserRecord,
}

/// What a right password leads to.
#[derive(Debug)]
pub enum SignIn {
    /// The account has no second factor: signed in.
    Done(NewSession),
    /// The account has a second factor: the code step is due, within
    /// [`PENDING_SIGNIN_SECS`]. The value is the pending-sign-in cookie (never stored).
    SecondFactor(String),
}

/// A refusal over the limit; `what` names the key that hit it (never the key itself, which
/// may hold a device digest).
fn too_many(what: &str) -> AppError {
    tracing::warn!(limit = what, "console sign-in refused: too many failures");
    AppError::TooManyRequests("too many failed sign-ins; wait 15 minutes".into())
}

/// The device key of a device cookie, if it is bound to `user_id`.
async fn trusted_device(
    state: &AppState,
    device_token: Option<&str>,
    user_id: Option<i64>,
) -> Result<Option<String>, AppError> {
    let (Some(token), Some(user_id)) = (device_token.filter(|t| t.len() == 64), user_id) else {
        return Ok(None);
    };
    let digest = token_digest(token);
    Ok((state.store.find_device_user(&digest).await? == Some(user_id)).then_some(digest))
}

/// Checks credentials. Every attempt is counted before the password is checked, and one over
/// the limit is refused without checking it (see the module comment for the keys). A right
/// password opens a session, or starts the second-factor step if the account has one.
/// `device_token` is the device cookie the browser sent, if any.
pub async fn sign_in(
    state: &AppState,
    login: &str,
    password: &str,
    address: &str,
    device_token: Option<&str>,
) -> Result<SignIn, AppError> {
    let login = login.trim();
    if login.is_empty() || login.len() > MAX_CREDENTIAL_LEN || password.len() > MAX_CREDENTIAL_LEN {
        return Err(AppError::Unauthorized("wrong login or password".into()));
    }
    let now = state.clock.now();
    let user = state.store.find_user(login).await?;
    let device = trusted_device(state, device_token, user.as_ref().map(|u| u.id)).await?;
    let address_key = format!("address:{address}");
    let limit_key = match &device {
        Some(digest) => {
            let key = format!("device:{digest}");
            if state
                .store
                .hit_login_attempt(&key, now, ATTEMPT_WINDOW_SECS)
                .await?
                > MAX_ATTEMPTS_PER_CLIENT
            {
                // A device cookie that keeps failing was stolen or is being guessed with:
                // it no longer earns its own budget.
                state.store.delete_device(digest).await?;
                tracing::warn!(login, address, "console device revoked after failures");
                return Err(too_many("device"));
            }
            key
        }
        None => {
            if state
                .store
                .hit_login_attempt(&address_key, now, ATTEMPT_WINDOW_SECS)
                .await?
                > MAX_ATTEMPTS_PER_ADDRESS
            {
                return Err(too_many("address"));
            }
            let key = format!("untrusted:{}", login.to_lowercase());
            if state
                .store
                .hit_login_attempt(&key, now, ATTEMPT_WINDOW_SECS)
                .await?
                > MAX_ATTEMPTS_PER_CLIENT
            {
                return Err(too_many("account"));
            }
            key
        }
    };
    let ok = match &user {
        Some(u) => verify_password(state, password, &u.password_hash).await,
        None => {
            // Spend the same time as for a real account, so timing does not reveal logins.
            let _ = hash_password(state, password).await;
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        tracing::warn!(login, address, "console sign-in failed");
        return Err(AppError::Unauthorized("wrong login or password".into()));
    };
    if device.is_none() {
        // Behind a proxy everyone shares one address: right passwords must not use it up.
        state.store.refund_login_attempt(&address_key).await?;
    }
    if state
        .store
        .find_totp(user.id)
        .await?
        .is_some_and(|t| t.confirmed)
    {
        let token = random_token();
        state
            .store
            .insert_pending_signin(&token_digest(&token), user.id, &limit_key, now)
            .await?;
        tracing::info!(
            login = user.login,
            address,
            "console password accepted; code due"
        );
        return Ok(SignIn::SecondFactor(token));
    }
    let session = open_session(state, user, &limit_key, device_token, device.is_some()).await?;
    tracing::info!(login = session.user.login, address, "console sign-in");
    Ok(SignIn::Done(session))
}

/// The second step of a sign-in: a TOTP code or a recovery code for the pending sign-in
/// behind `pending_token`. Attempts are counted (before checking) under the key the password
/// step used, prefixed, and never reset by a right password, so knowing the password does
/// not buy more guesses.
pub async fn sign_in_second_factor(
    state: &AppState,
    pending_token: &str,
    code: &str,
    address: &str,
    device_token: Option<&str>,
) -> Result<NewSession, AppError> {
    let now = state.clock.now();
    let expired = || AppError::bad_request("E_SIGNIN_EXPIRED", "totp.expired");
    if pending_token.len() != 64 {
        return Err(expired());
    }
    let digest = token_digest(pending_token);
    let Some(pending) = state.store.find_pending_signin(&digest).await? else {
        return Err(expired());
    };
    if now - pending.created_at > PENDING_SIGNIN_SECS {
        state.store.delete_pending_signin(&digest).await?;
        return Err(expired());
    }
    let code_key = format!("code:{}", pending.limit_key);
    if state
        .store
        .hit_login_attempt(&code_key, now, ATTEMPT_WINDOW_SECS)
        .await?
        > MAX_ATTEMPTS_PER_CLIENT
    {
        return Err(too_many("code"));
    }
    let user = state.store.get_user(pending.user_id).await?;
    if !crate::app::totp::check_code(state, user.id, code).await? {
        tracing::warn!(login = user.login, address, "console second factor failed");
        return Err(AppError::Unauthorized("wrong code".into()));
    }
    // Two right answers racing for one pending sign-in open one session.
    if !state.store.delete_pending_signin(&digest).await? {
        return Err(expired());
    }
    state.store.delete_login_attempts(&code_key).await?;
    let device = trusted_device(state, device_token, Some(user.id)).await?;
    let session = open_session(
        state,
        user,
        &pending.limit_key,
        device_token,
        device.is_some(),
    )
    .await?;
    tracing::info!(
        login = session.user.login,
        address,
        "console sign-in (second factor)"
    );
    Ok(session)
}

/// Opens a session after a complete sign-in: clears the attempts counted under
/// `limit_key`, and trusts the browser (keeping its device cookie if it is already
/// trusted for this account).
async fn open_session(
    state: &AppState,
    user: UserRecord,
    limit_key: &str,
    device_token: Option<&str>,
    device_trusted: bool,
) -> Result<NewSession, AppError> {
    let now = state.clock.now();
    state.store.delete_login_attempts(limit_key).await?;
    let device_token = match device_token.filter(|_| device_trusted) {
        Some(t) => {
            state.store.touch_device(&token_digest(t), now).await?;
            t.to_owned()
        }
        None => {
            let t = random_token();
            state
                .store
                .insert_device(&token_digest(&t), user.id, now)
                .await?;
            t
        }
    };
    let token = random_token();
    state
        .store
        .insert_session(&token_digest(&token), user.id, &random_token(), now)
        .await?;
    // Sign-ins are rare; pruning here needs no background task.
    state
        .store
        .delete_idle_sessions(now - SESSION_IDLE_SECS)
        .await?;
    state
        .store
        .delete_stale_login_attempts(now - ATTEMPT_WINDOW_SECS)
        .await?;
    state
        .store
        .delete_stale_devices(now - DEVICE_TTL_SECS)
        .await?;
    state
        .store
        .delete_stale_pending_signins(now - PENDING_SIGNIN_SECS)
        .await?;
    Ok(NewSession {
        token,
        device_token,
        user,
    })
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
    let (enrolled, required) = state.store.second_factor_state(session.user.id).await?;
    Ok(Some(Viewer {
        must_enrol_second_factor: required && !enrolled,
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
    if !verify_password(state, current, &user.password_hash).await {
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
    let hash = hash_password(state, new).await?;
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
