//! The JSON API: token authentication, scopes, and the computer queries behind it.
//!
//! Checking a token is read-only: an unknown token is refused after one indexed read (or
//! none, when it cannot be a token at all), and a valid token's `last_used_at` is written at
//! most once a minute, so API traffic, bogus or not, does not queue on the write path.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::RngCore;
use sha2::{Digest, Sha256};

use ocs_proto::ExtraSection;
use ocs_storage::{HostDetail, HostFilter, HostId, HostSummary, Page, StoreError, TokenRecord};

use crate::app::{AppError, AppState};

/// Largest page the API serves.
pub const MAX_PER_PAGE: u32 = 1000;

/// A token's use is recorded at most this often.
pub const TOUCH_EVERY_SECS: i64 = 60;

/// When this process last recorded each token's use, so that a burst of requests with one
/// token writes once, not once per request that saw an old `last_used_at`.
#[derive(Debug, Default)]
pub struct TokenUses(Mutex<HashMap<i64, i64>>);

impl TokenUses {
    /// Whether the use of token `id` at `now` is to be recorded (and notes that it is).
    fn due(&self, id: i64, now: i64) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if seen.get(&id).is_some_and(|at| now - at < TOUCH_EVERY_SECS) {
            return false;
        }
        if seen.len() > 10_000 {
            seen.clear();
        }
        seen.insert(id, now);
        true
    }
}

/// Whether a string has the shape [`new_token`] gives every token.
fn token_shaped(token: &str) -> bool {
    token
        .strip_prefix("ocs_")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A fresh random token (256 bits), shown once.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("ocs_{}", hex::encode(bytes))
}

/// What is stored of a token.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only `GET` requests.
    Read,
    /// Reads, and requests that change data.
    Write,
    /// Everything `Write` may do, and changing the server's settings (its options).
    Admin,
}

impl Scope {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// Reads a scope name (`read`, `write` or `admin`).
    pub fn parse(text: &str) -> Result<Scope, AppError> {
        match text {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            "admin" => Ok(Scope::Admin),
            other => Err(AppError::bad_request(
                "E_BAD_PARAM",
                format!("a token scope is read, write or admin, not {other:?}"),
            )),
        }
    }
}

/// An authenticated caller of the API: which token, and what it may do.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The token's record.
    pub token: TokenRecord,
    /// Its scope; an unknown stored scope reads as `read`.
    pub scope: Scope,
}

/// Permission to change data through the API: only [`require_write`] makes one.
#[derive(Debug)]
pub struct ApiWriter {
    /// The token's name, for logs and traces.
    pub token_name: String,
}

/// Refuses a caller whose token has only the read scope (403).
pub fn require_write(caller: &ApiCaller) -> Result<ApiWriter, AppError> {
    match caller.scope {
        Scope::Write | Scope::Admin => Ok(ApiWriter {
            token_name: caller.token.name.clone(),
        }),
        Scope::Read => Err(AppError::Forbidden {
            code: "E_READ_ONLY_TOKEN",
            message: format!(
                "token {:?} has the read scope; changing data needs a token made with `ocs-server token create --name NAME --scope write`",
                caller.token.name
            ),
        }),
    }
}

/// Permission to change the server's settings through the API: only [`require_admin`]
/// makes one.
#[derive(Debug)]
pub struct ApiAdmin {
    /// The token's name, for logs.
    pub token_name: String,
}

/// Refuses a caller whose token lacks the admin scope (403).
pub fn require_admin(caller: &ApiCaller) -> Result<ApiAdmin, AppError> {
    match caller.scope {
        Scope::Admin => Ok(ApiAdmin {
            token_name: caller.token.name.clone(),
        }),
        Scope::Read | Scope::Write => Err(AppError::Forbidden {
            code: "E_NOT_ADMIN_TOKEN",
            message: format!(
                "token {:?} has the {} scope; changing server settings needs a token made with `ocs-server token create --name NAME --scope admin`",
                caller.token.name,
                caller.scope.name()
            ),
        }),
    }
}

/// Creates a named token with a scope and returns it.
pub async fn create_token(state: &AppState, name: &str, scope: Scope) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(AppError::bad_request(
            "E_BAD_PARAM",
            "a token name is 1 to 100 characters",
        ));
    }
    let token = new_token();
    match state
        .store
        .insert_token(name, &digest(&token), scope.name(), state.clock.now())
        .await
    {
        Ok(()) => Ok(token),
        Err(StoreError::Conflict(_)) => Err(AppError::bad_request(
            "E_TOKEN_EXISTS",
            format!("a token named {name:?} already exists"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Checks an `Authorization: Bearer` header.
pub async fn authenticate(state: &AppState, header: Option<&str>) -> Result<ApiCaller, AppError> {
    let token = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 200)
        .ok_or_else(|| {
            AppError::Unauthorized(
                "missing bearer token (create one with `ocs-server token create --name NAME`)"
                    .into(),
            )
        })?;
    let unknown = || AppError::Unauthorized("unknown token".into());
    if !token_shaped(token) {
        return Err(unknown());
    }
    let record = state
        .store
        .find_token(&digest(token))
        .await?
        .ok_or_else(unknown)?;
    let now = state.clock.now();
    let recorded_lately = record
        .last_used_at
        .is_some_and(|at| now - at < TOUCH_EVERY_SECS);
    if !recorded_lately && state.token_uses.due(record.id, now) {
        // Bookkeeping only: a busy write path must not fail a read-only request.
        if let Err(e) = state
            .store
            .touch_token(record.id, now, now - TOUCH_EVERY_SECS)
            .await
        {
            tracing::warn!(token = record.name, error = %e, "could not record the token's use");
        }
    }
    let scope = Scope::parse(&record.scope).unwrap_or(Scope::Read);
    Ok(ApiCaller {
        token: record,
        scope,
    })
}

/// Refuses a page number of 0 and a page size outside 1 to [`MAX_PER_PAGE`].
pub fn check_page(page: u32, per_page: u32) -> Result<(), AppError> {
    if page == 0 {
        return Err(AppError::bad_request("E_BAD_PARAM", "page starts at 1"));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(AppError::bad_request(
            "E_BAD_PARAM",
            format!("per_page must be between 1 and {MAX_PER_PAGE}"),
        ));
    }
    Ok(())
}

/// A page of computers.
pub async fn list_computers(
    state: &AppState,
    filter: &HostFilter,
    page: u32,
    per_page: u32,
) -> Result<(i64, Vec<HostSummary>), AppError> {
    check_page(page, per_page)?;
    Ok(state
        .store
        .list_hosts(
            filter,
            Page {
                number: page,
                size: per_page,
            },
        )
        .await?)
}

/// One computer with every stored section, and the sections the catalogue does not know.
pub async fn computer(
    state: &AppState,
    id: i64,
) -> Result<(HostDetail, Vec<ExtraSection>), AppError> {
    let detail = state.store.get_host(HostId(id)).await?;
    let extra = state.store.extra_sections(HostId(id)).await?;
    Ok((detail, extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_write_tokens_may_change_data() {
        let caller = |scope| ApiCaller {
            token: TokenRecord {
                id: 1,
                name: "ci".into(),
                created_at: 0,
                last_used_at: None,
                scope: "read".into(),
            },
            scope,
        };
        assert_eq!(
            require_write(&caller(Scope::Write)).unwrap().token_name,
            "ci"
        );
        let refused = require_write(&caller(Scope::Read)).unwrap_err();
        assert_eq!(
            (refused.status(), refused.code()),
            (403, "E_READ_ONLY_TOKEN")
        );
        assert_eq!(Scope::parse("write").unwrap(), Scope::Write);
        assert_eq!(
            require_write(&caller(Scope::Admin)).unwrap().token_name,
            "ci"
        );
        assert!(Scope::parse("root").is_err());
    }

    #[test]
    fn only_admin_tokens_may_change_settings() {
        let caller = |scope| ApiCaller {
            token: TokenRecord {
                id: 1,
                name: "ops".into(),
                created_at: 0,
                last_used_at: None,
                scope: "admin".into(),
            },
            scope,
        };
        assert_eq!(
            require_admin(&caller(Scope::Admin)).unwrap().token_name,
            "ops"
        );
        for scope in [Scope::Read, Scope::Write] {
            let refused = require_admin(&caller(scope)).unwrap_err();
            assert_eq!(
                (refused.status(), refused.code()),
                (403, "E_NOT_ADMIN_TOKEN")
            );
        }
    }

    #[test]
    fn token_shape() {
        assert!(token_shaped(&new_token()));
        assert!(!token_shaped("ocs_wrong"));
        assert!(!token_shaped(&format!("ocs_{}", "g".repeat(64))));
        assert!(!token_shaped(&"a".repeat(68)));
    }

    #[test]
    fn uses_are_recorded_once_a_minute() {
        let uses = TokenUses::default();
        assert!(uses.due(1, 1000));
        assert!(!uses.due(1, 1059));
        assert!(uses.due(2, 1059), "per token");
        assert!(uses.due(1, 1060));
    }
}
