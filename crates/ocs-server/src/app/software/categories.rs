//! Categories and their rules as administrators edit them (console, and the same calls for
//! any other surface). Every change to what the rules decide starts their re-application to
//! the fleet (`reapply`), so the fleet never stays categorised by rules that are gone.

use ocs_storage::software_categories::{Category, CategoryRule, NewRule};
use ocs_storage::StoreError;

use super::reapply;
use super::rules::{Sign, OS_CHOICES};
use crate::app::auth::Admin;
use crate::app::{AppError, AppState};

/// Longest category name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest pattern, publisher or version of a rule, in characters.
pub const MAX_PATTERN_CHARS: usize = 255;

fn bad(code: &'static str, key: &'static str) -> AppError {
    AppError::bad_request(code, key)
}

/// Every category.
pub async fn list(state: &AppState) -> Result<Vec<Category>, AppError> {
    Ok(state.store.software_categories().await?)
}

/// Every rule in order.
pub async fn rules(state: &AppState) -> Result<Vec<CategoryRule>, AppError> {
    Ok(state.store.software_category_rules().await?)
}

fn os_param(os: &str) -> Result<&'static str, AppError> {
    let os = os.trim();
    let os = if os.is_empty() { "ALL" } else { os };
    OS_CHOICES
        .into_iter()
        .find(|c| *c == os)
        .ok_or_else(|| bad("E_BAD_CATEGORY", "categories.bad_os"))
}

/// Checks a new category's name: not empty, bounded, no control characters.
pub fn check_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(bad("E_BAD_CATEGORY", "categories.bad_name"));
    }
    Ok(name.to_owned())
}

/// Adds a category; returns its ID.
pub async fn create(
    state: &AppState,
    _admin: &Admin<'_>,
    name: &str,
    os: &str,
) -> Result<i64, AppError> {
    let name = check_name(name)?;
    let os = os_param(os)?;
    match state.store.create_software_category(&name, os).await {
        Ok(id) => {
            tracing::info!(category = %name, os, "software category created");
            Ok(id)
        }
        Err(StoreError::Conflict(_)) => Err(bad("E_CATEGORY_EXISTS", "categories.exists")),
        Err(e) => Err(e.into()),
    }
}

/// The category an existing name or a new name gives (a move's target), created if new.
pub async fn existing_or_new(
    state: &AppState,
    admin: &Admin<'_>,
    id: Option<i64>,
    new_name: &str,
) -> Result<i64, AppError> {
    if !new_name.trim().is_empty() {
        let name = check_name(new_name)?;
        let all = list(state).await?;
        if let Some(c) = all.iter().find(|c| c.name.eq_ignore_ascii_case(&name)) {
            return Ok(c.id);
        }
        return create(state, admin, &name, "ALL").await;
    }
    let id = id.ok_or_else(|| bad("E_BAD_CATEGORY", "categories.choose"))?;
    if list(state).await?.iter().any(|c| c.id == id) {
        Ok(id)
    } else {
        Err(AppError::NotFound(format!("category {id}")))
    }
}

/// Limits a category's rules to an operating system family (or `ALL`).
pub async fn set_os(
    state: &AppState,
    admin: &Admin<'_>,
    id: i64,
    os: &str,
) -> Result<(), AppError> {
    let os = os_param(os)?;
    state.store.set_software_category_os(id, os).await?;
    reapply::start(state, admin.viewer.login.as_str()).await?;
    Ok(())
}

/// Deletes a category that is not built in; its software goes back to NEW.
pub async fn delete(state: &AppState, admin: &Admin<'_>, id: i64) -> Result<(), AppError> {
    let all = list(state).await?;
    let Some(c) = all.iter().find(|c| c.id == id) else {
        return Err(AppError::NotFound(format!("category {id}")));
    };
    if c.builtin {
        return Err(bad("E_BUILTIN_CATEGORY", "categories.builtin_refused"));
    }
    state.store.delete_software_category(id).await?;
    tracing::info!(category = %c.name, by = %admin.viewer.login, "software category deleted");
    if c.rules > 0 {
        reapply::start(state, admin.viewer.login.as_str()).await?;
    }
    Ok(())
}

/// A rule as typed: checked and ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInput {
    /// Category.
    pub category_id: i64,
    /// Name pattern.
    pub pattern: String,
    /// Comparison and version.
    pub version: Option<(&'static str, String)>,
    /// Publisher pattern.
    pub publisher: Option<String>,
}

/// Checks a rule's fields: a pattern, and a version exactly when a comparison is chosen.
pub fn check_rule(
    category_id: i64,
    pattern: &str,
    sign: &str,
    version: &str,
    publisher: &str,
) -> Result<RuleInput, AppError> {
    let long = |t: &str| t.chars().count() > MAX_PATTERN_CHARS || t.chars().any(char::is_control);
    let (pattern, version, publisher) = (pattern.trim(), version.trim(), publisher.trim());
    if pattern.is_empty() || long(pattern) || long(version) || long(publisher) {
        return Err(bad("E_BAD_RULE", "categories.bad_rule"));
    }
    let version = match sign.trim() {
        "" if version.is_empty() => None,
        "" => return Err(bad("E_BAD_RULE", "categories.bad_rule_sign")),
        s => {
            let sign = Sign::ALL
                .into_iter()
                .find(|k| *k == s)
                .ok_or_else(|| bad("E_BAD_RULE", "categories.bad_rule_sign"))?;
            if version.is_empty() {
                return Err(bad("E_BAD_RULE", "categories.bad_rule_version"));
            }
            Some((sign, version.to_owned()))
        }
    };
    Ok(RuleInput {
        category_id,
        pattern: pattern.to_owned(),
        version,
        publisher: (!publisher.is_empty()).then(|| publisher.to_owned()),
    })
}

/// Adds a rule after the others, then re-applies the rules.
pub async fn add_rule(
    state: &AppState,
    admin: &Admin<'_>,
    rule: &RuleInput,
) -> Result<i64, AppError> {
    let id = state
        .store
        .add_software_category_rule(&NewRule {
            category_id: rule.category_id,
            pattern: &rule.pattern,
            sign_version: rule.version.as_ref().map(|(s, _)| *s),
            version: rule.version.as_ref().map(|(_, v)| v.as_str()),
            publisher: rule.publisher.as_deref(),
        })
        .await?;
    tracing::info!(rule = id, pattern = %rule.pattern, by = %admin.viewer.login, "software category rule added");
    reapply::start(state, admin.viewer.login.as_str()).await?;
    Ok(id)
}

/// Deletes a rule, then re-applies the rules.
pub async fn delete_rule(state: &AppState, admin: &Admin<'_>, id: i64) -> Result<(), AppError> {
    if !state.store.delete_software_category_rule(id).await? {
        return Err(AppError::NotFound(format!("rule {id}")));
    }
    reapply::start(state, admin.viewer.login.as_str()).await?;
    Ok(())
}

/// Moves a rule one place earlier or later, then re-applies the rules.
pub async fn move_rule(
    state: &AppState,
    admin: &Admin<'_>,
    id: i64,
    earlier: bool,
) -> Result<(), AppError> {
    if state.store.move_software_category_rule(id, earlier).await? {
        reapply::start(state, admin.viewer.login.as_str()).await?;
    }
    Ok(())
}
