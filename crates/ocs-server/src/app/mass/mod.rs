//! Mass actions: one change applied to a selection of computers taken from any computer
//! list (rows, a page, or the whole result of the list's criteria within its group). This
//! module owns reading a selection (bounded, integers only), the [`Action`] enum with its
//! form parsing and checks, and applying it through the storage's bulk statements.
//!
//! The checks are the computer page's own ([`computers::check_admin_value`],
//! [`computers::check_setting`]), so a mass change accepts exactly what one computer's
//! blocks accept. A whole result travels as criteria and is resolved on the server when the
//! action is confirmed and again when it is applied; it never becomes a list of IDs in the
//! browser. Group membership, deletion and affectations belong to other services; their arms
//! say so.

use ocs_storage::{
    AccountField, ActivationId, Affectation, ComputerQuery, ComputerRow, GroupId, HostId, TAG,
};

use crate::app::auth::{Admin, Viewer};
use crate::app::computers::{self, CriterionInput, ListView, ViewChange, CUSTOMISABLE};
use crate::app::deletion::{self, Deleter, DeletionReason};
use crate::app::deployment::{affect, redistribution};
use crate::app::groups::{self, Editor, GroupTarget};
use crate::app::{AppError, AppState};

/// Most computers an explicit selection (rows or a page) may name in one form post.
pub const MAX_SELECTED_IDS: usize = 10_000;
/// Longest group name or description accepted.
const MAX_GROUP_TEXT: usize = 255;

/// The computers an action applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Computers chosen one by one (rows of a page, or a whole page).
    Ids(Vec<HostId>),
    /// Every computer matching a list's criteria, within a group's members when the list is
    /// a group's.
    Result {
        /// The list's criteria as submitted.
        criteria: Vec<CriterionInput>,
        /// The group whose members the list shows.
        group: Option<GroupId>,
    },
}

/// Reads explicit computer IDs: each value is one ID or a comma-separated list of them.
/// Duplicates count once; more than [`MAX_SELECTED_IDS`] is refused (413), as is anything
/// that is not an ID (400).
pub fn parse_ids<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<HostId>, AppError> {
    let mut ids = Vec::new();
    for value in values {
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            // Checked per part, so an oversized post is refused before it is all parsed.
            if ids.len() == MAX_SELECTED_IDS {
                return Err(AppError::TooLarge {
                    code: "E_SELECTION_TOO_LARGE",
                    message: format!(
                        "at most {MAX_SELECTED_IDS} computers may be selected one by one; select the whole result instead"
                    ),
                });
            }
            let id = part.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                AppError::bad_request(
                    "E_BAD_SELECTION",
                    format!(
                        "{:?} is not a computer ID",
                        part.chars().take(20).collect::<String>()
                    ),
                )
            })?;
            ids.push(HostId(id));
        }
    }
    ids.sort_unstable_by_key(|h| h.0);
    ids.dedup();
    Ok(ids)
}

/// The IDs a selection stands for now. An empty selection is refused.
pub async fn resolve(state: &AppState, selection: &Selection) -> Result<Vec<HostId>, AppError> {
    let ids = match selection {
        Selection::Ids(ids) => ids.clone(),
        Selection::Result { criteria, group } => {
            let fields = computers::account_fields(state).await?;
            let criteria = computers::parse_criteria(criteria, &fields)?;
            state.store.matching_computer_ids(&criteria, *group).await?
        }
    };
    if ids.is_empty() {
        return Err(empty_selection());
    }
    Ok(ids)
}

fn empty_selection() -> AppError {
    AppError::bad_request("E_EMPTY_SELECTION", "mass.empty_selection")
}

/// How many stored computers a selection names (what the confirmation announces).
pub async fn count(state: &AppState, selection: &Selection) -> Result<u64, AppError> {
    let ids = resolve(state, selection).await?;
    Ok(match selection {
        Selection::Ids(_) => state.store.count_existing_computers(&ids).await?,
        Selection::Result { .. } => u64::try_from(ids.len()).unwrap_or(u64::MAX),
    })
}

/// What a mass action does. Every arm but [`Action::ExportCsv`] changes data and needs an
/// administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Set the TAG.
    SetTag(String),
    /// Set an administrative field (`fields_<id>`) to a value checked against its type.
    SetField {
        /// KEYNAME.
        key: String,
        /// The field's ID.
        field: i64,
        /// Its label.
        label: String,
        /// The value (may be empty: clears it).
        value: String,
    },
    /// Change customisation settings; settings not listed are left as they are, `None`
    /// returns to the server's option.
    SetCustomisation(Vec<(&'static str, Option<i64>)>),
    /// The selection's list rows as CSV (changes nothing).
    ExportCsv,
    /// Add to a static group; `overwrite` first removes its other members.
    AddToGroup {
        /// The group.
        group: GroupTarget,
        /// Replace the members instead of adding to them.
        overwrite: bool,
    },
    /// Remove from a static group.
    RemoveFromGroup(GroupId),
    /// Delete the computers.
    Delete,
    /// Give a package (an activation) with force, schedule and post-command.
    Affect {
        /// The activation given.
        activation: ActivationId,
        /// How it is given.
        how: Affectation,
    },
    /// Take a package (FILEID) back.
    Unaffect(String),
    /// Put the computers in a redistribution group (create, add to, overwrite).
    AddToRedistribution(redistribution::Target),
}

/// Value of a customisation field that leaves the setting as it is.
pub const KEEP: &str = "keep";

fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn group_id(text: &str) -> Result<GroupId, AppError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(GroupId)
        .ok_or_else(|| AppError::bad_request("E_BAD_VALUE", "mass.choose_group"))
}

fn bounded(text: &str, what: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.len() > MAX_GROUP_TEXT {
        return Err(AppError::bad_request(
            "E_BAD_VALUE",
            format!("{what}: at most {MAX_GROUP_TEXT} bytes"),
        ));
    }
    Ok(text.to_owned())
}

impl Action {
    /// The form name of the action (`action=` field).
    pub fn name(&self) -> &'static str {
        match self {
            Action::SetTag(_) => "tag",
            Action::SetField { .. } => "field",
            Action::SetCustomisation(_) => "customisation",
            Action::ExportCsv => "csv",
            Action::AddToGroup { .. } => "group_add",
            Action::RemoveFromGroup(_) => "group_remove",
            Action::Delete => "delete",
            Action::Affect { .. } => "affect",
            Action::Unaffect(_) => "unaffect",
            Action::AddToRedistribution(_) => "redistribution_add",
        }
    }

    /// Reads and checks an action from its form fields (`action` and its parameters).
    pub fn parse(pairs: &[(String, String)], fields: &[AccountField]) -> Result<Action, AppError> {
        let get = |key: &str| param(pairs, key).unwrap_or("");
        match get("action") {
            "tag" => Ok(Action::SetTag(computers::check_admin_value(
                fields,
                TAG,
                get("tag"),
            )?)),
            "field" => {
                let key = get("field");
                let field = computers::admin_field(fields, key)
                    .ok_or_else(|| AppError::bad_request("E_BAD_VALUE", "mass.choose_field"))?;
                let value = computers::check_admin_value(fields, key, get("value"))?;
                Ok(Action::SetField {
                    key: key.to_owned(),
                    field: field.id,
                    label: field.label.clone(),
                    value,
                })
            }
            "customisation" => {
                let mut changes = Vec::new();
                for (name, _, _) in CUSTOMISABLE {
                    let text = param(pairs, name).unwrap_or(KEEP);
                    if text == KEEP {
                        continue;
                    }
                    let value = computers::parse_setting(name, text)?;
                    computers::check_setting(name, value)?;
                    changes.push((*name, value));
                }
                if changes.is_empty() {
                    return Err(AppError::bad_request(
                        "E_BAD_VALUE",
                        "mass.nothing_to_change",
                    ));
                }
                Ok(Action::SetCustomisation(changes))
            }
            "csv" => Ok(Action::ExportCsv),
            "group_add" => {
                let group = match get("group") {
                    "new" => {
                        let name = bounded(get("name"), "name")?;
                        if name.is_empty() {
                            return Err(AppError::bad_request("E_BAD_VALUE", "mass.group_name"));
                        }
                        GroupTarget::New {
                            name,
                            description: bounded(get("description"), "description")?,
                        }
                    }
                    id => GroupTarget::Existing(group_id(id)?),
                };
                let overwrite = match get("mode") {
                    "" | "add" => false,
                    "overwrite" => true,
                    other => {
                        return Err(AppError::bad_request(
                            "E_BAD_VALUE",
                            format!("mode is add or overwrite, not {other:?}"),
                        ))
                    }
                };
                if overwrite && matches!(group, GroupTarget::New { .. }) {
                    // A new group has no members to overwrite; the same as adding.
                    return Ok(Action::AddToGroup {
                        group,
                        overwrite: false,
                    });
                }
                Ok(Action::AddToGroup { group, overwrite })
            }
            "group_remove" => Ok(Action::RemoveFromGroup(group_id(get("group"))?)),
            "delete" => Ok(Action::Delete),
            "affect" => Ok(Action::Affect {
                activation: affect::parse_activation(get("activation"))?,
                how: affect::affectation(
                    affect::parse_forced(get("forced")),
                    get("schedule"),
                    get("postcmd"),
                )?,
            }),
            "unaffect" => Ok(Action::Unaffect(affect::parse_fileid(get("fileid"))?)),
            "redistribution_add" => parse_redistribution(pairs),
            other => Err(AppError::bad_request(
                "E_BAD_ACTION",
                format!(
                    "unknown mass action {:?}",
                    other.chars().take(40).collect::<String>()
                ),
            )),
        }
    }

    /// The form fields that submit this action again (for the confirmation's hidden fields).
    pub fn fields(&self) -> Vec<(String, String)> {
        let mut out = vec![("action".to_owned(), self.name().to_owned())];
        let mut push = |k: &str, v: String| out.push((k.to_owned(), v));
        match self {
            Action::SetTag(tag) => push("tag", tag.clone()),
            Action::SetField { key, value, .. } => {
                push("field", key.clone());
                push("value", value.clone());
            }
            Action::SetCustomisation(changes) => {
                for (name, value) in changes {
                    push(name, value.map(|v| v.to_string()).unwrap_or_default());
                }
            }
            Action::AddToGroup { group, overwrite } => {
                match group {
                    GroupTarget::Existing(id) => push("group", id.0.to_string()),
                    GroupTarget::New { name, description } => {
                        push("group", "new".to_owned());
                        push("name", name.clone());
                        push("description", description.clone());
                    }
                }
                push(
                    "mode",
                    if *overwrite { "overwrite" } else { "add" }.to_owned(),
                );
            }
            Action::RemoveFromGroup(id) => push("group", id.0.to_string()),
            Action::Affect { activation, how } => {
                push("activation", activation.0.to_string());
                push("forced", if how.forced { "1" } else { "" }.to_owned());
                push("schedule", how.schedule.clone());
                push("postcmd", how.postcmd.clone());
            }
            Action::Unaffect(fileid) => push("fileid", fileid.clone()),
            Action::AddToRedistribution(target) => match target {
                redistribution::Target::Create { name, description } => {
                    push("redistribution", "new".to_owned());
                    push("name", name.clone());
                    push("description", description.clone());
                }
                redistribution::Target::AddTo(id) => {
                    push("redistribution", id.0.to_string());
                    push("mode", "add".to_owned());
                }
                redistribution::Target::Overwrite(id) => {
                    push("redistribution", id.0.to_string());
                    push("mode", "overwrite".to_owned());
                }
            },
            Action::ExportCsv | Action::Delete => {}
        }
        out
    }
}

/// Reads the redistribution arm: `redistribution` is `new` (with `name`, `description`) or a
/// group's ID with `mode` add or overwrite.
fn parse_redistribution(pairs: &[(String, String)]) -> Result<Action, AppError> {
    let get = |key: &str| param(pairs, key).unwrap_or("");
    let target = match get("redistribution") {
        "new" => {
            let name = bounded(get("name"), "name")?;
            if name.is_empty() {
                return Err(AppError::bad_request("E_BAD_VALUE", "mass.group_name"));
            }
            redistribution::Target::Create {
                name,
                description: bounded(get("description"), "description")?,
            }
        }
        id => {
            let id = id
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(ocs_storage::RedistributionGroupId)
                .ok_or_else(|| AppError::bad_request("E_BAD_VALUE", "redistribution.choose"))?;
            match get("mode") {
                "" | "add" => redistribution::Target::AddTo(id),
                "overwrite" => redistribution::Target::Overwrite(id),
                other => {
                    return Err(AppError::bad_request(
                        "E_BAD_VALUE",
                        format!("mode is add or overwrite, not {other:?}"),
                    ))
                }
            }
        }
    };
    Ok(Action::AddToRedistribution(target))
}

/// The static groups a selection may be added to or removed from, as (ID, name).
pub async fn static_groups(state: &AppState) -> Result<Vec<(GroupId, String)>, AppError> {
    groups::list_static_groups(state).await
}

/// What applying an action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Computers changed.
    pub changed: u64,
    /// Computers of the selection left as they were (IpDiscover: no network to scan).
    pub skipped: u64,
}

/// Applies a changing action to the selection, resolved now.
pub async fn apply(
    state: &AppState,
    admin: &Admin<'_>,
    action: &Action,
    selection: &Selection,
) -> Result<Applied, AppError> {
    let ids = resolve(state, selection).await?;
    let store = &state.store;
    let (by, now) = (admin.viewer.login.as_str(), state.clock.now());
    let applied = match action {
        Action::SetTag(tag) => Applied {
            changed: store.mass_set_tag(&ids, tag, by, now).await?,
            skipped: 0,
        },
        Action::SetField { field, value, .. } => Applied {
            changed: store
                .mass_set_accountinfo_field(&ids, *field, value, by, now)
                .await?,
            skipped: 0,
        },
        Action::SetCustomisation(changes) => {
            let existing = store.count_existing_computers(&ids).await?;
            let mut skipped = 0;
            for (name, value) in changes {
                let done = store.mass_set_device_setting(&ids, name, *value).await?;
                if *name == "IPDISCOVER" && value.is_some_and(|v| v > 0) {
                    skipped = existing.saturating_sub(done);
                }
            }
            Applied {
                changed: existing - skipped,
                skipped,
            }
        }
        Action::ExportCsv => {
            return Err(AppError::bad_request(
                "E_BAD_ACTION",
                "an export changes nothing: use export_rows",
            ))
        }
        Action::AddToGroup { group, overwrite } => Applied {
            changed: groups::add_members(state, admin, group, &ids, *overwrite)
                .await?
                .1,
            skipped: 0,
        },
        Action::RemoveFromGroup(group) => Applied {
            changed: groups::remove_members(state, admin, *group, &ids).await?,
            skipped: 0,
        },
        Action::Affect { activation, how } => Applied {
            changed: affect::affect_computers(
                state,
                &Editor::console(admin),
                *activation,
                &ids,
                how,
            )
            .await?,
            skipped: 0,
        },
        Action::Unaffect(fileid) => Applied {
            changed: affect::unaffect_computers(state, &Editor::console(admin), fileid, &ids)
                .await?,
            skipped: 0,
        },
        Action::AddToRedistribution(target) => {
            let existing = store.count_existing_computers(&ids).await?;
            redistribution::add_servers(state, admin, target.clone(), &ids).await?;
            Applied {
                changed: existing,
                skipped: 0,
            }
        }
        Action::Delete => Applied {
            changed: deletion::delete_computers(
                state,
                &Deleter::from(admin),
                &ids,
                DeletionReason::Manual,
            )
            .await?,
            skipped: 0,
        },
    };
    tracing::info!(
        login = admin.viewer.login,
        action = action.name(),
        selected = ids.len(),
        changed = applied.changed,
        "mass action applied"
    );
    Ok(applied)
}

/// The selection's rows as the viewer's list shows them (columns; a whole result also in the
/// list's sort, chosen rows in ID order), for the CSV export.
pub async fn export_rows(
    state: &AppState,
    viewer: &Viewer,
    selection: &Selection,
) -> Result<(ListView, Vec<ComputerRow>), AppError> {
    let (view, fields) = computers::list_view(state, viewer, &ViewChange::default()).await?;
    let columns: Vec<_> = view.columns.iter().map(|c| c.column).collect();
    // Refused when empty exactly as `resolve` refuses it, without reading the IDs of a
    // whole result once more before its rows.
    let rows = match selection {
        Selection::Ids(ids) if ids.is_empty() => return Err(empty_selection()),
        Selection::Ids(ids) => state.store.list_computers_by_ids(ids, &columns).await?,
        Selection::Result { criteria, group } => {
            let query = ComputerQuery {
                criteria: computers::parse_criteria(criteria, &fields)?,
                group: *group,
                columns,
                sort: (view.sort_column(&fields), view.desc),
                page: None,
            };
            let rows = state.store.list_computers(&query).await?.1;
            if rows.is_empty() {
                return Err(empty_selection());
            }
            rows
        }
    };
    Ok((view, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn ids_are_bounded_integers() {
        assert_eq!(
            parse_ids(["3", "1,2, 3", ""]).unwrap(),
            [HostId(1), HostId(2), HostId(3)]
        );
        for bad in ["x", "1;2", "-4", "0", "1e3", "99999999999999999999"] {
            assert_eq!(
                parse_ids([bad]).unwrap_err().code(),
                "E_BAD_SELECTION",
                "{bad}"
            );
        }
        let max: Vec<String> = (1..=MAX_SELECTED_IDS).map(|i| i.to_string()).collect();
        assert_eq!(
            parse_ids([max.join(",").as_str()]).unwrap().len(),
            MAX_SELECTED_IDS
        );
        let over = format!("{},1", max.join(","));
        let e = parse_ids([over.as_str()]).unwrap_err();
        assert_eq!((e.code(), e.status()), ("E_SELECTION_TOO_LARGE", 413));
    }

    #[test]
    fn actions_are_parsed_and_checked() {
        let fields = [AccountField {
            id: 4,
            label: "Room".into(),
            kind: "Integer".into(),
        }];
        let parse = |p: &[(&str, &str)]| Action::parse(&pairs(p), &fields);
        assert_eq!(
            parse(&[("action", "tag"), ("tag", " LYON ")]).unwrap(),
            Action::SetTag("LYON".into())
        );
        assert!(parse(&[("action", "tag"), ("tag", " ")]).is_err());
        assert!(parse(&[("action", "tag"), ("tag", &"x".repeat(256))]).is_err());
        let field = parse(&[("action", "field"), ("field", "fields_4"), ("value", "12")]).unwrap();
        assert!(matches!(&field, Action::SetField { field: 4, value, .. } if value == "12"));
        assert!(parse(&[("action", "field"), ("field", "fields_4"), ("value", "x")]).is_err());
        assert!(parse(&[("action", "field"), ("field", "fields_5"), ("value", "1")]).is_err());
        assert_eq!(
            parse(&[
                ("action", "customisation"),
                ("FREQUENCY", "7"),
                ("IPDISCOVER", "keep"),
                ("DOWNLOAD_SWITCH", "")
            ])
            .unwrap(),
            Action::SetCustomisation(vec![("FREQUENCY", Some(7)), ("DOWNLOAD_SWITCH", None)])
        );
        assert!(parse(&[("action", "customisation"), ("FREQUENCY", "400")]).is_err());
        assert!(parse(&[("action", "customisation"), ("IPDISCOVER", "x")]).is_err());
        assert!(
            parse(&[("action", "customisation")]).is_err(),
            "nothing to change"
        );
        assert_eq!(
            parse(&[
                ("action", "group_add"),
                ("group", "9"),
                ("mode", "overwrite")
            ])
            .unwrap(),
            Action::AddToGroup {
                group: GroupTarget::Existing(GroupId(9)),
                overwrite: true
            }
        );
        assert!(matches!(
            parse(&[("action", "group_add"), ("group", "new"), ("name", "Lab")]).unwrap(),
            Action::AddToGroup { group: GroupTarget::New { name, .. }, overwrite: false } if name == "Lab"
        ));
        assert!(parse(&[("action", "group_add"), ("group", "new"), ("name", "")]).is_err());
        assert!(parse(&[("action", "group_add"), ("group", "x")]).is_err());
        assert!(parse(&[("action", "group_add"), ("group", "1"), ("mode", "merge")]).is_err());
        assert_eq!(
            parse(&[("action", "group_remove"), ("group", "2")]).unwrap(),
            Action::RemoveFromGroup(GroupId(2))
        );
        assert_eq!(parse(&[("action", "delete")]).unwrap(), Action::Delete);
        assert_eq!(
            parse(&[
                ("action", "redistribution_add"),
                ("redistribution", "4"),
                ("mode", "overwrite")
            ])
            .unwrap(),
            Action::AddToRedistribution(redistribution::Target::Overwrite(
                ocs_storage::RedistributionGroupId(4)
            ))
        );
        assert!(parse(&[
            ("action", "redistribution_add"),
            ("redistribution", "new"),
            ("name", " ")
        ])
        .is_err());
        assert!(parse(&[("action", "redistribution_add"), ("redistribution", "x")]).is_err());
        assert_eq!(parse(&[("action", "csv")]).unwrap(), Action::ExportCsv);
        assert!(parse(&[("action", "drop")]).is_err());
    }

    #[test]
    fn fields_submit_the_same_action_again() {
        let fields = [AccountField {
            id: 4,
            label: "Room".into(),
            kind: "Text".into(),
        }];
        for action in [
            Action::SetTag("T".into()),
            Action::SetField {
                key: "fields_4".into(),
                field: 4,
                label: "Room".into(),
                value: "B2".into(),
            },
            Action::SetCustomisation(vec![("FREQUENCY", None), ("IPDISCOVER", Some(1))]),
            Action::AddToGroup {
                group: GroupTarget::New {
                    name: "Lab".into(),
                    description: "d".into(),
                },
                overwrite: false,
            },
            Action::AddToGroup {
                group: GroupTarget::Existing(GroupId(3)),
                overwrite: true,
            },
            Action::RemoveFromGroup(GroupId(3)),
            Action::AddToRedistribution(redistribution::Target::Create {
                name: "Relays".into(),
                description: "Lyon".into(),
            }),
            Action::AddToRedistribution(redistribution::Target::AddTo(
                ocs_storage::RedistributionGroupId(2),
            )),
            Action::Delete,
            Action::ExportCsv,
        ] {
            assert_eq!(Action::parse(&action.fields(), &fields).unwrap(), action);
        }
    }
}
