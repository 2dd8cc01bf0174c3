//! Editing the duplicate blacklists: serials and MAC addresses that never make two computers
//! duplicates. Values are checked here: a serial is any text of at most 255 bytes, a MAC is
//! six hexadecimal pairs, stored in upper case as the original's lists are.

pub use ocs_storage::duplicates::blacklists::Blacklist;

use crate::app::auth::Admin;
use crate::app::refresh::{self, Cached};
use crate::app::{AppError, AppState};

/// Longest serial accepted.
pub const MAX_SERIAL_BYTES: usize = 255;

fn bad(key: &'static str) -> AppError {
    AppError::bad_request("E_BAD_BLACKLIST", key)
}

/// A value as stored, or why it is refused.
pub fn normalise(list: Blacklist, value: &str) -> Result<String, AppError> {
    let value = value.trim();
    match list {
        Blacklist::Serials => {
            if value.is_empty()
                || value.len() > MAX_SERIAL_BYTES
                || value.chars().any(char::is_control)
            {
                return Err(bad("duplicates.bad_serial"));
            }
            Ok(value.to_owned())
        }
        Blacklist::Macs => {
            let parts: Vec<&str> = value.split([':', '-']).collect();
            if parts.len() != 6
                || !parts
                    .iter()
                    .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
            {
                return Err(bad("duplicates.bad_mac"));
            }
            Ok(parts.join(":").to_ascii_uppercase())
        }
    }
}

/// Both lists.
pub async fn lists(state: &AppState) -> Result<(Vec<String>, Vec<String>), AppError> {
    Ok((
        state.store.blacklist(Blacklist::Serials).await?,
        state.store.blacklist(Blacklist::Macs).await?,
    ))
}

/// Adds a value; false when it was already listed.
pub async fn add(
    state: &AppState,
    admin: &Admin<'_>,
    list: Blacklist,
    value: &str,
) -> Result<bool, AppError> {
    let value = normalise(list, value)?;
    let added = state.store.blacklist_add(list, &value).await?;
    tracing::info!(list = ?list, value = %value, added, by = %admin.viewer.login, "duplicate blacklist changed");
    if added {
        refresh::invalidate(state, Cached::DuplicateCandidates).await?;
    }
    Ok(added)
}

/// Removes a value as listed.
pub async fn remove(
    state: &AppState,
    admin: &Admin<'_>,
    list: Blacklist,
    value: &str,
) -> Result<(), AppError> {
    if !state.store.blacklist_remove(list, value).await? {
        return Err(AppError::NotFound(format!("{value:?} is not in the list")));
    }
    tracing::info!(list = ?list, value = %value, by = %admin.viewer.login, "duplicate blacklist value removed");
    refresh::invalidate(state, Cached::DuplicateCandidates).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_macs_written_in_upper_case() {
        assert_eq!(
            normalise(Blacklist::Macs, " 02-00-4c-4f-4f-50 ").unwrap(),
            "02:00:4C:4F:4F:50"
        );
        assert!(normalise(Blacklist::Macs, "02:00:4c:4f:4f").is_err());
        assert!(normalise(Blacklist::Macs, "zz:00:4c:4f:4f:50").is_err());
        assert_eq!(
            normalise(Blacklist::Serials, " Default string ").unwrap(),
            "Default string"
        );
        assert!(normalise(Blacklist::Serials, "").is_err());
        assert!(normalise(Blacklist::Serials, &"x".repeat(256)).is_err());
    }
}
