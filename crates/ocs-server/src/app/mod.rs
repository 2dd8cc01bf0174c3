//! Services: the business rules of the OCS protocol and the API, between HTTP handlers (which
//! only translate) and storage (which only stores). Errors carry a stable code and the HTTP
//! status each surface renders them with.

pub mod addresses;
pub mod admin;
pub mod agent;
pub mod api;
pub mod auth;
pub mod computers;
pub mod csv_export;
pub mod dashboard;
pub mod deletion;
pub mod deployment;
pub mod duplicates;
pub mod forwarding;
pub mod groups;
pub mod health;
pub mod history;
pub mod i18n;
pub mod import;
pub mod ipdiscover;
pub mod mass;
pub mod ocsapi;
pub mod options;
pub mod refresh;
pub mod soap;
pub mod software;
pub mod totp;
pub mod users;
pub mod web_services;

use std::sync::Arc;

use ocs_storage::{Store, StoreError};

use crate::config::Config;

/// What every service needs, built once at start-up.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Lanes and budgets for reading agent bodies.
    pub intake: Arc<agent::intake::Intake>,
    /// Bounds concurrent argon2 work: console passwords and agent credentials alike.
    pub password_permits: Arc<tokio::sync::Semaphore>,
    /// Agent authentication: credentials verified recently.
    pub agent_auth: Arc<agent::agent_auth::AgentAuth>,
    /// When each API token's use was last recorded by this process.
    pub token_uses: Arc<api::TokenUses>,
    /// PROLOG contact records waiting for the writer.
    pub contacts: Arc<agent::contacts::Contacts>,
    /// Lazy recomputation of dynamic groups: one task at a time per process.
    pub group_revalidation: Arc<groups::revalidate::Revalidation>,
}

/// A page number and size from a request (nothing: page 1 of `default` rows), or `None` when
/// either is not a number, is 0, or the size is above `max`: each list refuses that with its
/// own message.
pub fn page_request(
    page: Option<&str>,
    per_page: Option<&str>,
    default: u32,
    max: u32,
) -> Option<ocs_storage::Page> {
    let parse = |t: Option<&str>, default: u32| match t {
        None | Some("") => Some(default),
        Some(p) => p.parse::<u32>().ok(),
    };
    let (number, size) = (parse(page, 1)?, parse(per_page, default)?);
    (number > 0 && size > 0 && size <= max).then_some(ocs_storage::Page { number, size })
}

/// Where services get "now" from, so tests can fix it.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// An error of a service, with the HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The client sent something unusable (400).
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// What was wrong.
        message: String,
    },
    /// Too large (413).
    #[error("{message}")]
    TooLarge {
        /// Stable code.
        code: &'static str,
        /// What was too large.
        message: String,
    },
    /// Refused by policy (403).
    #[error("{message}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// Missing or bad credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Rate limited (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// A resource that does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The database is unreachable or saturated (503).
    #[error("database unavailable: {0}")]
    Unavailable(StoreError),
    /// The database's disk is full (507): the request changed nothing, and writes resume by
    /// themselves once an operator frees space.
    #[error("database disk full: {0}")]
    StorageFull(StoreError),
    /// The database aborted the transaction because of a concurrent one; running it again
    /// may succeed (503 once retries are exhausted).
    #[error("database conflict: {0}")]
    Conflict(StoreError),
    /// The request took longer than its deadline and was abandoned (503).
    #[error("{0}")]
    Timeout(String),
    /// Too much work in progress to take this request now (503 with `Retry-After`).
    #[error("{0}")]
    Overloaded(String),
    /// Anything else (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// The stable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::TooLarge { code, .. }
            | AppError::Forbidden { code, .. } => code,
            AppError::Unauthorized(_) => "E_UNAUTHORIZED",
            AppError::TooManyRequests(_) => "E_RATE_LIMITED",
            AppError::NotFound(_) => "E_NOT_FOUND",
            AppError::Unavailable(_) => "E_DB_UNAVAILABLE",
            AppError::StorageFull(_) => "E_STORAGE_FULL",
            AppError::Conflict(_) => "E_DB_CONFLICT",
            AppError::Timeout(_) => "E_TIMEOUT",
            AppError::Overloaded(_) => "E_BUSY",
            AppError::Internal(_) => "E_INTERNAL",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest { .. } => 400,
            AppError::Unauthorized(_) => 401,
            AppError::Forbidden { .. } => 403,
            AppError::NotFound(_) => 404,
            AppError::TooLarge { .. } => 413,
            AppError::TooManyRequests(_) => 429,
            AppError::Internal(_) => 500,
            AppError::StorageFull(_) => 507,
            AppError::Unavailable(_)
            | AppError::Conflict(_)
            | AppError::Timeout(_)
            | AppError::Overloaded(_) => 503,
        }
    }

    /// Seconds a client should wait before trying again, for refusals that say so.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::Overloaded(_) => Some(10),
            AppError::Unavailable(_) | AppError::Timeout(_) => Some(30),
            _ => None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(format!("{what} not found")),
            StoreError::Invalid(why) => AppError::bad_request("E_BAD_PARAM", why),
            // Before `is_unavailable`: PostgreSQL's disk_full is in its "insufficient
            // resources" class, but waiting a little will not help.
            e if e.is_storage_full() => AppError::StorageFull(e),
            e if e.is_unavailable() => AppError::Unavailable(e),
            e if e.is_retryable() => AppError::Conflict(e),
            e => AppError::Internal(e.to_string()),
        }
    }
}
