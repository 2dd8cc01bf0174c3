//! Administration services behind the console's admin pages: server options, administrative
//! data definitions, the TAG label, registry queries and inventory upload. Every change takes
//! `&Admin` and is logged with the administrator's login. This module decides what is valid;
//! it renders nothing and holds no SQL.

use ocs_storage::{AccountField, OptionRow, RegistryQuery};

use crate::app::api::ApiAdmin;
use crate::app::auth::Admin;
use crate::app::import::{import_bytes, Imported};
use crate::app::options::{validate, Kind, OptionDef, OPTIONS};
use crate::app::{AppError, AppState};

/// `config` row holding the TAG label (the text of the agents' first-start TAG prompt). It is
/// not an `OCS_OPT_*` option: it is multi-line and longer than option texts may be.
pub const TAG_LABEL: &str = "TAG_LABEL";
/// Longest TAG label accepted.
pub const MAX_TAG_LABEL_CHARS: usize = 1000;
/// Longest administrative field label accepted.
pub const MAX_FIELD_LABEL_CHARS: usize = 100;
/// Types an administrative field may have (what the computer page validates values against).
pub const FIELD_KINDS: &[&str] = &["Text", "Integer", "Real", "Date"];
/// Longest name, key or value of a registry query.
pub const MAX_REGISTRY_CHARS: usize = 255;
/// Registry hives by the number agents expect in `REGTREE`.
pub const HIVES: &[(i64, &str)] = &[
    (0, "HKEY_CLASSES_ROOT"),
    (1, "HKEY_CURRENT_USER"),
    (2, "HKEY_LOCAL_MACHINE"),
    (3, "HKEY_USERS"),
    (4, "HKEY_CURRENT_CONFIG"),
];

/// One option as the options page shows it.
#[derive(Debug)]
pub struct OptionValue {
    /// The catalogue entry.
    pub def: &'static OptionDef,
    /// The value in effect (the default when none is stored).
    pub value: String,
}

/// The stored value of an option as text, if any.
fn stored_text(rows: &[OptionRow], def: &OptionDef) -> Option<String> {
    rows.iter()
        .find(|r| r.name == def.name)
        .and_then(|r| match def.kind {
            Kind::Int => r.ivalue.map(|n| n.to_string()),
            Kind::Text => r.tvalue.clone(),
        })
}

/// Every option of the catalogue with its current value.
pub async fn options(state: &AppState) -> Result<Vec<OptionValue>, AppError> {
    let rows = state.store.list_options().await?;
    Ok(OPTIONS
        .iter()
        .map(|def| OptionValue {
            def,
            value: stored_text(&rows, def).unwrap_or_else(|| def.default.to_owned()),
        })
        .collect())
}

/// The rows to write for a submitted options form: every submitted option is validated
/// (all problems are reported together), and only those whose value changed are returned,
/// with their previous value for the log.
pub fn changed_options(
    stored: &[OptionRow],
    submitted: &[(String, String)],
) -> Result<Vec<(OptionRow, String)>, AppError> {
    let mut problems = Vec::new();
    let mut changes = Vec::new();
    for (name, value) in submitted {
        let Some(def) = OPTIONS.iter().find(|d| d.name == name.as_str()) else {
            problems.push(format!("unknown option {name:?}"));
            continue;
        };
        match validate(def, value) {
            Ok(row) => {
                let old = stored_text(stored, def).unwrap_or_else(|| def.default.to_owned());
                let new = match def.kind {
                    Kind::Int => row.ivalue.map(|n| n.to_string()),
                    Kind::Text => row.tvalue.clone(),
                }
                .unwrap_or_default();
                // A value equal to the default but never stored is still written, so the
                // database holds what the administrator saw.
                if old != new || stored_text(stored, def).is_none() {
                    changes.push((row, old));
                }
            }
            Err(why) => problems.push(why),
        }
    }
    if problems.is_empty() {
        Ok(changes)
    } else {
        Err(AppError::bad_request("E_BAD_OPTION", problems.join("; ")))
    }
}

/// Saves the options form whole or not at all; returns how many options changed. Agents see
/// the new values at their next contact, since options are read on every request.
pub async fn save_options(
    state: &AppState,
    admin: &Admin<'_>,
    submitted: &[(String, String)],
) -> Result<usize, AppError> {
    store_options(state, admin.viewer.login.as_str(), submitted).await
}

/// [`save_options`] for an API token of the admin scope.
pub async fn save_options_api(
    state: &AppState,
    admin: &ApiAdmin,
    submitted: &[(String, String)],
) -> Result<usize, AppError> {
    store_options(state, &format!("api:{}", admin.token_name), submitted).await
}

async fn store_options(
    state: &AppState,
    by: &str,
    submitted: &[(String, String)],
) -> Result<usize, AppError> {
    let stored = state.store.list_options().await?;
    let changes = changed_options(&stored, submitted)?;
    let rows: Vec<OptionRow> = changes.iter().map(|(row, _)| row.clone()).collect();
    state.store.upsert_options(&rows).await?;
    for (row, old) in &changes {
        let new = row
            .ivalue
            .map(|n| n.to_string())
            .or_else(|| row.tvalue.clone())
            .unwrap_or_default();
        tracing::info!(
            admin = by,
            option = row.name,
            old = old.as_str(),
            new = new.as_str(),
            "server option changed"
        );
    }
    Ok(changes.len())
}

/// Every administrative field definition.
pub async fn fields(state: &AppState) -> Result<Vec<AccountField>, AppError> {
    Ok(state.store.list_accountinfo_fields().await?)
}

/// Checks a new field's label and type against the existing fields; returns the trimmed
/// label. Messages are catalogue keys.
pub fn check_field(existing: &[AccountField], label: &str, kind: &str) -> Result<String, AppError> {
    let label = label.trim();
    let bad = |key: &str| AppError::bad_request("E_BAD_FIELD", key);
    if label.is_empty() || label.chars().count() > MAX_FIELD_LABEL_CHARS {
        return Err(bad("accountinfo.bad_label"));
    }
    if label.eq_ignore_ascii_case(ocs_storage::TAG) {
        return Err(bad("accountinfo.tag_reserved"));
    }
    if existing
        .iter()
        .any(|f| f.label.to_lowercase() == label.to_lowercase())
    {
        return Err(bad("accountinfo.duplicate"));
    }
    if !FIELD_KINDS.contains(&kind) {
        return Err(bad("accountinfo.bad_kind"));
    }
    Ok(label.to_owned())
}

/// Defines an administrative field; returns its KEYNAME (`fields_<id>`). Agents get it in
/// their next ACCOUNTINFO reply.
pub async fn add_field(
    state: &AppState,
    admin: &Admin<'_>,
    label: &str,
    kind: &str,
) -> Result<String, AppError> {
    let existing = state.store.list_accountinfo_fields().await?;
    let label = check_field(&existing, label, kind)?;
    let key = state.store.insert_accountinfo_field(&label, kind).await?;
    tracing::info!(
        admin = admin.viewer.login,
        key,
        label,
        kind,
        "administrative field added"
    );
    Ok(key)
}

/// Deletes an administrative field and every computer's value of it.
pub async fn delete_field(state: &AppState, admin: &Admin<'_>, id: i64) -> Result<(), AppError> {
    if !state.store.delete_accountinfo_field(id).await? {
        return Err(AppError::NotFound(format!("administrative field {id}")));
    }
    tracing::info!(
        admin = admin.viewer.login,
        id,
        "administrative field deleted"
    );
    Ok(())
}

/// The TAG label, `None` when blank (agents then show no prompt).
pub async fn tag_label(state: &AppState) -> Result<Option<String>, AppError> {
    Ok(state
        .store
        .list_options()
        .await?
        .into_iter()
        .find(|r| r.name == TAG_LABEL)
        .and_then(|r| r.tvalue)
        .filter(|t| !t.trim().is_empty()))
}

/// Checks a submitted TAG label; returns it with line ends normalised to `\n`.
pub fn check_tag_label(label: &str) -> Result<String, AppError> {
    let label = label.replace("\r\n", "\n").trim().to_owned();
    if label.chars().count() > MAX_TAG_LABEL_CHARS {
        return Err(AppError::bad_request("E_BAD_LABEL", "label.too_long"));
    }
    Ok(label)
}

/// Saves the TAG label; a blank one withdraws the label file.
pub async fn set_tag_label(
    state: &AppState,
    admin: &Admin<'_>,
    label: &str,
) -> Result<(), AppError> {
    let label = check_tag_label(label)?;
    state
        .store
        .upsert_options(&[OptionRow {
            name: TAG_LABEL.to_owned(),
            ivalue: None,
            tvalue: Some(label.clone()),
        }])
        .await?;
    tracing::info!(
        admin = admin.viewer.login,
        blank = label.is_empty(),
        "TAG label changed"
    );
    Ok(())
}

/// Every registry query with its ID.
pub async fn registry_queries(state: &AppState) -> Result<Vec<(i64, RegistryQuery)>, AppError> {
    Ok(state.store.list_registry_queries().await?)
}

/// The name of a hive number.
pub fn hive_name(regtree: i64) -> &'static str {
    HIVES
        .iter()
        .find(|(n, _)| *n == regtree)
        .map_or("?", |(_, name)| name)
}

/// Checks a submitted registry query; returns it trimmed. Messages are catalogue keys.
pub fn check_registry_query(
    name: &str,
    regtree: &str,
    regkey: &str,
    regvalue: &str,
) -> Result<RegistryQuery, AppError> {
    let bad = |key: &str| AppError::bad_request("E_BAD_REGISTRY", key);
    let fits = |s: &str| !s.is_empty() && s.chars().count() <= MAX_REGISTRY_CHARS;
    let (name, regkey, regvalue) = (name.trim(), regkey.trim(), regvalue.trim());
    if !fits(name) {
        return Err(bad("registry.bad_name"));
    }
    let regtree = regtree
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| HIVES.iter().any(|(h, _)| h == n))
        .ok_or_else(|| bad("registry.bad_hive"))?;
    // Agents open the key under the chosen hive; a key repeating the hive would not exist.
    let regkey = regkey.trim_start_matches('\\');
    if !fits(regkey) {
        return Err(bad("registry.bad_key"));
    }
    if !fits(regvalue) {
        return Err(bad("registry.bad_value"));
    }
    Ok(RegistryQuery {
        name: name.to_owned(),
        regtree,
        regkey: regkey.to_owned(),
        regvalue: regvalue.to_owned(),
    })
}

/// Adds a registry query; agents get it in their next PROLOG reply when `REGISTRY` is on.
pub async fn add_registry_query(
    state: &AppState,
    admin: &Admin<'_>,
    query: &RegistryQuery,
) -> Result<(), AppError> {
    state.store.insert_registry_query(query).await?;
    tracing::info!(
        admin = admin.viewer.login,
        name = query.name,
        regtree = query.regtree,
        regkey = query.regkey,
        regvalue = query.regvalue,
        "registry query added"
    );
    Ok(())
}

/// Deletes a registry query.
pub async fn delete_registry_query(
    state: &AppState,
    admin: &Admin<'_>,
    id: i64,
) -> Result<(), AppError> {
    if !state.store.delete_registry_query(id).await? {
        return Err(AppError::NotFound(format!("registry query {id}")));
    }
    tracing::info!(admin = admin.viewer.login, id, "registry query deleted");
    Ok(())
}

/// Most files one upload may carry.
pub const MAX_IMPORT_FILES: usize = 100;

/// Largest upload: [`MAX_IMPORT_FILES`] files of the largest accepted size, plus room for
/// the multipart framing.
pub fn max_upload_bytes(state: &AppState) -> usize {
    crate::app::import::max_file_bytes(state)
        .saturating_mul(MAX_IMPORT_FILES)
        .saturating_add(1 << 20)
}

/// Imports one uploaded inventory file through the agents' ingestion.
pub async fn import_file(
    state: &AppState,
    admin: &Admin<'_>,
    file_name: &str,
    bytes: bytes::Bytes,
) -> Result<Imported, AppError> {
    match import_bytes(state, bytes).await {
        Ok(done) => {
            tracing::info!(
                admin = admin.viewer.login,
                file = file_name,
                deviceid = done.deviceid,
                created = done.created,
                "inventory file imported"
            );
            Ok(done)
        }
        Err(e) => {
            tracing::warn!(
                admin = admin.viewer.login,
                file = file_name,
                code = e.code(),
                reason = %e,
                "inventory file refused"
            );
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(id: i64, label: &str) -> AccountField {
        AccountField {
            id,
            label: label.into(),
            kind: "Text".into(),
        }
    }

    fn message(e: AppError) -> String {
        e.to_string()
    }

    #[test]
    fn option_forms_are_validated_whole_and_only_changes_are_written() {
        let stored = [
            OptionRow {
                name: "PROLOG_FREQ".into(),
                ivalue: Some(24),
                tvalue: None,
            },
            OptionRow {
                name: "OCS_FILES_FORMAT".into(),
                ivalue: None,
                tvalue: Some("OCS".into()),
            },
        ];
        let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let changes = changed_options(
            &stored,
            &form(&[
                ("PROLOG_FREQ", "12"),
                ("OCS_FILES_FORMAT", "OCS"),
                ("FREQUENCY", "0"),
            ]),
        )
        .unwrap();
        let names: Vec<&str> = changes.iter().map(|(r, _)| r.name.as_str()).collect();
        // FREQUENCY is at its default but was never stored: it is written once.
        assert_eq!(names, ["PROLOG_FREQ", "FREQUENCY"]);
        assert_eq!(changes[0].1, "24");
        assert_eq!(changes[0].0.ivalue, Some(12));

        let refused = changed_options(
            &stored,
            &form(&[
                ("PROLOG_FREQ", "0"),
                ("OCS_FILES_FORMAT", "PDF"),
                ("FREQUENCY", "x"),
            ]),
        )
        .unwrap_err();
        let text = message(refused);
        assert!(text.contains("PROLOG_FREQ") && text.contains("OCS_FILES_FORMAT"));
        assert!(text.contains("FREQUENCY"), "{text}");
        assert!(changed_options(&stored, &form(&[("NOPE", "1")])).is_err());
    }

    #[test]
    fn field_definitions() {
        let existing = [field(1, "Room")];
        assert_eq!(
            check_field(&existing, "  Buy date ", "Date").unwrap(),
            "Buy date"
        );
        for (label, kind, key) in [
            ("", "Text", "accountinfo.bad_label"),
            ("x".repeat(101).as_str(), "Text", "accountinfo.bad_label"),
            ("tag", "Text", "accountinfo.tag_reserved"),
            ("ROOM", "Text", "accountinfo.duplicate"),
            ("Price", "Money", "accountinfo.bad_kind"),
        ] {
            assert_eq!(
                message(check_field(&existing, label, kind).unwrap_err()),
                key
            );
        }
        assert!(check_field(&existing, &"é".repeat(100), "Real").is_ok());
    }

    #[test]
    fn registry_queries_and_labels() {
        let q = check_registry_query(" Run ", "2", r"\SOFTWARE\Run", "*").unwrap();
        assert_eq!(
            (q.name.as_str(), q.regtree, q.regkey.as_str()),
            ("Run", 2, r"SOFTWARE\Run")
        );
        assert_eq!(hive_name(q.regtree), "HKEY_LOCAL_MACHINE");
        assert_eq!(hive_name(4), "HKEY_CURRENT_CONFIG");
        for (args, key) in [
            (("", "2", "K", "*"), "registry.bad_name"),
            (("N", "5", "K", "*"), "registry.bad_hive"),
            (("N", "x", "K", "*"), "registry.bad_hive"),
            (("N", "0", "", "*"), "registry.bad_key"),
            (("N", "0", "K", " "), "registry.bad_value"),
            (
                ("N", "0", "k".repeat(256).as_str(), "*"),
                "registry.bad_key",
            ),
        ] {
            let e = check_registry_query(args.0, args.1, args.2, args.3).unwrap_err();
            assert_eq!(message(e), key);
        }
        assert_eq!(check_tag_label(" a\r\nb ").unwrap(), "a\nb");
        assert_eq!(check_tag_label("   ").unwrap(), "");
        assert!(check_tag_label(&"x".repeat(1000)).is_ok());
        assert!(check_tag_label(&"x".repeat(1001)).is_err());
    }

    #[test]
    fn every_option_has_a_description_in_the_catalogue() {
        for lang in crate::app::i18n::LANGUAGES {
            let tr = crate::app::i18n::Tr::new(lang);
            for def in OPTIONS {
                assert!(tr.has(&format!("opt.{}", def.name)), "{lang}: {}", def.name);
            }
        }
    }
}
