//! The read-only JSON API: token authentication and the computer queries behind it.

use rand::RngCore;
use sha2::{Digest, Sha256};

use ocs_storage::{HostDetail, HostFilter, HostId, HostSummary, Page, StoreError, TokenRecord};

use crate::app::{AppError, AppState};

/// Largest page the API serves.
pub const MAX_PER_PAGE: u32 = 1000;

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

/// Creates a named token and returns it.
pub async fn create_token(state: &AppState, name: &str) -> Result<String, AppError> {
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
        .insert_token(name, &digest(&token), state.clock.now())
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
pub async fn authenticate(state: &AppState, header: Option<&str>) -> Result<TokenRecord, AppError> {
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
    state
        .store
        .use_token(&digest(token), state.clock.now())
        .await?
        .ok_or_else(|| AppError::Unauthorized("unknown token".into()))
}

/// A page of computers.
pub async fn list_computers(
    state: &AppState,
    filter: &HostFilter,
    page: u32,
    per_page: u32,
) -> Result<(i64, Vec<HostSummary>), AppError> {
    if page == 0 {
        return Err(AppError::bad_request("E_BAD_PARAM", "page starts at 1"));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(AppError::bad_request(
            "E_BAD_PARAM",
            format!("per_page must be between 1 and {MAX_PER_PAGE}"),
        ));
    }
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

/// One computer with every stored section.
pub async fn computer(state: &AppState, id: i64) -> Result<HostDetail, AppError> {
    Ok(state.store.get_host(HostId(id)).await?)
}
