//! Agent authenticity: HTTP Basic authentication on `/ocsinventory` (`[agents.auth]`) and
//! the device-binding rule (`agents.auth.bind_devices`).
//!
//! Credentials come from the configuration file (clear text, compared in constant time, or
//! argon2 PHC strings) and from the database (`ocs-server agent-user`, argon2). argon2 runs
//! on the blocking pool behind a small semaphore, and a verified `Authorization` header is
//! remembered (keyed by its SHA-256 digest, never the header itself) for
//! `agents.auth.cache_secs`, so a fleet sharing one credential costs one verification per
//! period, not one per request. User names are not secret: an unknown name is refused
//! without spending argon2 time on it, which keeps floods of made-up names cheap.
//!
//! Binding: the agent user that first stores a device is recorded on it; from then on
//! every request about that DEVICEID (PROLOG, INVENTORY, NOTIFY, DOWNLOAD, SNMP), and every
//! duplicate merge or OLD_DEVICEID takeover of it, needs the same agent user, or is refused
//! with 403 before anything is written. Devices stored before binding was turned on (or by a
//! local import) are unbound, and the next authenticated INVENTORY claims them.
//!
//! This module must not log passwords or headers; it logs failures at `warn` with the peer
//! and the user name.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use ocs_storage::{HostId, StoreError, WriteTx};
use sha2::{Digest, Sha256};

use crate::app::agent::AgentMeta;
use crate::app::{auth, AppError, AppState};

/// Longest agent password accepted (argon2 would take anything; requests should not).
pub const MAX_PASSWORD_LEN: usize = 128;
/// Longest agent user name.
pub const MAX_NAME_LEN: usize = 64;
/// Shortest password of a credential created with `ocs-server agent-user`.
pub const MIN_STORED_PASSWORD_LEN: usize = auth::MIN_PASSWORD_LEN;
/// Longest `Authorization` header looked at.
const MAX_HEADER_LEN: usize = 1024;
/// Verified headers remembered at most (a fleet needs one per credential).
const CACHE_CAPACITY: usize = 4096;
/// How long a request waits for an argon2 slot (shared with the console's sign-in, see
/// [`AppState::password_permits`]) before it gets 503.
const VERIFICATION_WAIT: Duration = Duration::from_secs(5);

/// Why a user name is unusable, if it is.
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        Some("a user name is 1 to 64 bytes")
    } else if name.contains(':') {
        Some("a user name cannot contain ':' (HTTP Basic separates it from the password with one)")
    } else if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Some("a user name cannot contain spaces or control characters")
    } else {
        None
    }
}

/// Whether a configured password is an argon2 PHC string rather than clear text.
pub fn is_phc(password: &str) -> bool {
    password.starts_with("$argon2")
}

/// Process-wide state of agent authentication: the verification cache. One per server
/// process, in [`AppState`].
#[derive(Debug)]
pub struct AgentAuth {
    cache: Mutex<HashMap<[u8; 32], Cached>>,
}

#[derive(Debug, Clone)]
struct Cached {
    user: String,
    until: i64,
}

impl Default for AgentAuth {
    fn default() -> Self {
        AgentAuth {
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl AgentAuth {
    pub(crate) fn cached(&self, key: &[u8; 32], now: i64) -> Option<String> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|c| c.until >= now)
            .map(|c| c.user.clone())
    }

    pub(crate) fn remember(&self, key: [u8; 32], user: &str, until: i64, now: i64) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, c| c.until >= now);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(
            key,
            Cached {
                user: user.to_owned(),
                until,
            },
        );
    }
}

/// User and password of an `Authorization: Basic` header.
#[derive(PartialEq, Eq)]
pub(crate) struct Credentials {
    pub(crate) user: String,
    pub(crate) password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({:?}, ***)", self.user)
    }
}

pub(crate) fn parse_basic(header: &[u8]) -> Result<Credentials, &'static str> {
    if header.len() > MAX_HEADER_LEN {
        return Err("Authorization header too long");
    }
    let text = std::str::from_utf8(header).map_err(|_| "Authorization header is not text")?;
    let (scheme, encoded) = text
        .trim()
        .split_once(' ')
        .ok_or("Authorization header without a scheme")?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err("not HTTP Basic credentials");
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| "Basic credentials are not base64")?;
    let decoded = String::from_utf8(decoded).map_err(|_| "Basic credentials are not UTF-8")?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or("Basic credentials without ':'")?;
    if user.is_empty() || user.len() > MAX_NAME_LEN || password.len() > MAX_PASSWORD_LEN {
        return Err("Basic credentials of an impossible length");
    }
    Ok(Credentials {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

/// Compares two digests without stopping at the first difference.
fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

pub(crate) fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Checks the `Authorization` header of an agent request. `Ok(None)`: authentication is
/// off; `Ok(Some(user))`: the agent user. Missing or wrong credentials are a 401 (the
/// handler adds the challenge); too many verifications at once a 503.
pub async fn authenticate(
    state: &AppState,
    authorization: Option<&[u8]>,
    peer: IpAddr,
) -> Result<Option<String>, AppError> {
    let config = &state.config.agents.auth;
    if !config.enabled() {
        return Ok(None);
    }
    let Some(header) = authorization else {
        // What the OCS Unix agent does first: it answers the challenge with credentials.
        tracing::debug!(%peer, "agent request without credentials: challenged");
        return Err(AppError::Unauthorized(
            "agent credentials required (HTTP Basic)".into(),
        ));
    };
    let credentials = parse_basic(header).map_err(|reason| {
        tracing::warn!(%peer, reason, "agent authentication failed");
        AppError::Unauthorized(format!("unusable agent credentials: {reason}"))
    })?;
    let now = state.clock.now();
    let key = digest(header);
    if let Some(user) = state.agent_auth.cached(&key, now) {
        return Ok(Some(user));
    }
    let user = credentials.user.as_str();
    let expected = match config.users.get(user) {
        Some(password) => Some(password.clone()),
        None => state
            .store
            .find_agent_user(user)
            .await?
            .map(|u| u.password_hash),
    };
    let ok = match expected {
        None => false,
        Some(hash) if is_phc(&hash) => verify_bounded(state, &credentials.password, &hash).await?,
        Some(clear) => digests_equal(
            &digest(credentials.password.as_bytes()),
            &digest(clear.as_bytes()),
        ),
    };
    if !ok {
        tracing::warn!(%peer, user, "agent authentication failed: wrong user or password");
        return Err(AppError::Unauthorized(
            "wrong agent user or password".into(),
        ));
    }
    if config.cache_secs > 0 {
        let until = now.saturating_add(i64::try_from(config.cache_secs).unwrap_or(i64::MAX));
        state.agent_auth.remember(key, user, until, now);
    }
    Ok(Some(credentials.user))
}

/// argon2 verification on the blocking pool, under the process-wide bound on argon2 work.
async fn verify_bounded(state: &AppState, password: &str, hash: &str) -> Result<bool, AppError> {
    let permit = tokio::time::timeout(VERIFICATION_WAIT, state.password_permits.acquire())
        .await
        .map_err(|_| {
            AppError::Timeout(
                "too many agent authentications at once; the agent retries later".into(),
            )
        })?
        .map_err(|e| AppError::Internal(format!("agent authentication closed: {e}")))?;
    let (password, hash) = (password.to_owned(), hash.to_owned());
    let ok = tokio::task::spawn_blocking(move || auth::argon2_matches(&password, &hash))
        .await
        .map_err(|e| AppError::Internal(format!("password verification task failed: {e}")))?;
    drop(permit);
    Ok(ok)
}

/// The binding rule for one request: on when `agents.auth.bind_devices` is set and the
/// request carries an agent user. A local import (no agent user) is the administrator's
/// own doing and is not held to it.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    user: Option<&'a str>,
}

impl<'a> Binding<'a> {
    /// The rule for a request.
    pub fn of(state: &AppState, meta: &'a AgentMeta) -> Binding<'a> {
        Binding {
            user: meta
                .agent_user
                .as_deref()
                .filter(|_| state.config.agents.auth.bind_devices),
        }
    }

    /// Refuses the request when device `id` is bound to another agent user; `what` says
    /// what was refused (`"INVENTORY"`, `"merge of pc-2024-…"`).
    pub async fn check(&self, tx: &mut WriteTx, id: HostId, what: &str) -> Result<(), AppError> {
        let Some(user) = self.user else {
            return Ok(());
        };
        match tx.device_binding(id).await? {
            Some(bound) if bound != user => Err(refusal(what, user)),
            _ => Ok(()),
        }
    }

    /// Binds device `id` to the request's agent user if it is not bound yet.
    pub async fn claim(&self, tx: &mut WriteTx, id: HostId, now: i64) -> Result<(), AppError> {
        if let Some(user) = self.user {
            if tx.bind_device(id, user, now).await? {
                tracing::info!(device = id.0, user, "device bound to its agent credential");
            }
        }
        Ok(())
    }
}

fn refusal(what: &str, user: &str) -> AppError {
    AppError::Forbidden {
        code: "E_DEVICE_BOUND",
        message: format!(
            "{what} refused: the device is bound to another agent credential than {user:?} \
             (agents.auth.bind_devices)"
        ),
    }
}

/// The early check of every agent request about a DEVICEID (read-only): a bound device
/// answers only its own agent user. INVENTORY and NOTIFY check again inside their
/// transaction, so a binding made meanwhile is honoured too.
pub async fn check_device(
    state: &AppState,
    meta: &AgentMeta,
    query: &str,
    deviceid: Option<&str>,
) -> Result<(), AppError> {
    let (Some(user), Some(deviceid)) = (Binding::of(state, meta).user, deviceid) else {
        return Ok(());
    };
    match state.store.find_device_binding(deviceid).await? {
        Some(bound) if bound != user => Err(refusal(query, user)),
        _ => Ok(()),
    }
}

/// An agent credential as `ocs-server agent-user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentUserLine {
    /// User name.
    pub name: String,
    /// `database` or `configuration`.
    pub source: &'static str,
    /// Devices bound to it.
    pub bound_devices: i64,
    /// Creation time (database credentials).
    pub created_at: Option<i64>,
}

fn check_new_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_STORED_PASSWORD_LEN || password.len() > MAX_PASSWORD_LEN {
        return Err(AppError::bad_request(
            "E_WEAK_PASSWORD",
            format!("an agent password is {MIN_STORED_PASSWORD_LEN} to {MAX_PASSWORD_LEN} bytes"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "E_BAD_PASSWORD",
            "an agent password cannot contain control characters",
        ));
    }
    Ok(())
}

/// Stores a new agent credential (argon2) in the database.
pub async fn add_user(state: &AppState, name: &str, password: &str) -> Result<(), AppError> {
    if let Some(problem) = name_problem(name) {
        return Err(AppError::bad_request("E_BAD_PARAM", problem));
    }
    if state.config.agents.auth.users.contains_key(name) {
        return Err(AppError::bad_request(
            "E_AGENT_USER_EXISTS",
            format!("agent user {name:?} is defined in the configuration file"),
        ));
    }
    check_new_password(password)?;
    let hash = auth::hash_password(state, password).await?;
    match state
        .store
        .insert_agent_user(name, &hash, state.clock.now())
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(AppError::bad_request(
            "E_AGENT_USER_EXISTS",
            format!(
                "agent user {name:?} already exists (change its password with `agent-user passwd`)"
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Changes the password of a database agent credential; its bindings stay. Headers cached
/// with the old password stay valid for at most `agents.auth.cache_secs` on running servers.
pub async fn set_password(state: &AppState, name: &str, password: &str) -> Result<(), AppError> {
    check_new_password(password)?;
    let hash = auth::hash_password(state, password).await?;
    if state.store.update_agent_user_password(name, &hash).await? {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "agent user {name:?} (only database credentials can be changed here)"
        )))
    }
}

/// Every agent credential, from the configuration file and the database.
pub async fn list_users(state: &AppState) -> Result<Vec<AgentUserLine>, AppError> {
    let mut lines = Vec::new();
    for name in state.config.agents.auth.users.keys() {
        lines.push(AgentUserLine {
            name: name.clone(),
            source: "configuration",
            bound_devices: state.store.count_agent_bindings(name).await?,
            created_at: None,
        });
    }
    for (user, bound) in state.store.list_agent_users().await? {
        lines.push(AgentUserLine {
            name: user.name,
            source: "database",
            bound_devices: bound,
            created_at: Some(user.created_at),
        });
    }
    Ok(lines)
}

/// Deletes a database agent credential and releases the devices bound to the name (they
/// are claimed by the next authenticated inventory). For a name of the configuration file,
/// only releases its devices. Returns the number of devices released.
pub async fn delete_user(state: &AppState, name: &str) -> Result<u64, AppError> {
    let (existed, released) = state.store.delete_agent_user(name).await?;
    if !existed && released == 0 && !state.config.agents.auth.users.contains_key(name) {
        return Err(AppError::NotFound(format!("agent user {name:?}")));
    }
    Ok(released)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_password: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_password)
        )
        .into_bytes()
    }

    #[test]
    fn basic_headers() {
        assert_eq!(
            parse_basic(&basic("paris:se:cret")).unwrap(),
            Credentials {
                user: "paris".into(),
                password: "se:cret".into()
            },
            "the password may hold ':'"
        );
        assert!(parse_basic(b"basic cGFyaXM6eA==").is_ok(), "scheme case");
        assert!(parse_basic(b"Bearer abc").is_err());
        assert!(parse_basic(b"Basic !!!").is_err());
        assert!(parse_basic(&basic("no-colon")).is_err());
        assert!(parse_basic(&basic(":empty-user")).is_err());
        assert!(parse_basic(&basic(&format!("u:{}", "x".repeat(200)))).is_err());
        assert!(parse_basic(&[b'B'; 2000]).is_err());
        assert!(parse_basic(b"Basic \xff\xfe").is_err());
        let shown = format!("{:?}", parse_basic(&basic("paris:hidden")).unwrap());
        assert!(!shown.contains("hidden"), "{shown}");
    }

    #[test]
    fn names() {
        assert_eq!(name_problem("paris-agents"), None);
        assert!(name_problem("").is_some());
        assert!(name_problem("a:b").is_some());
        assert!(name_problem("a b").is_some());
        assert!(name_problem(&"x".repeat(65)).is_some());
    }

    #[test]
    fn password_checks() {
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        let phc = argon2::Argon2::default()
            .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(is_phc(&phc));
        assert!(auth::argon2_matches("correct horse", &phc));
        assert!(!auth::argon2_matches("wrong horse", &phc));
        assert!(!auth::argon2_matches("correct horse", "$argon2id$garbage"));
        assert!(digests_equal(&digest(b"a"), &digest(b"a")));
        assert!(!digests_equal(&digest(b"a"), &digest(b"b")));
    }

    #[test]
    fn cache_expires_and_stays_bounded() {
        let auth = AgentAuth::default();
        let key = digest(b"header");
        auth.remember(key, "paris", 100, 50);
        assert_eq!(auth.cached(&key, 100).as_deref(), Some("paris"));
        assert_eq!(auth.cached(&key, 101), None, "expired");
        for i in 0..CACHE_CAPACITY + 10 {
            auth.remember(digest(&i.to_le_bytes()), "u", 1000, 500);
        }
        let len = auth.cache.lock().unwrap().len();
        assert!(len <= CACHE_CAPACITY, "{len}");
    }
}
