//! Groups: static and dynamic groups, their members, and the settings they give them.
//!
//! Services for every surface (console, API, CLI): create, rename, describe, delete, members
//! added by hand, computers forced into or out of a dynamic group, the members list, and
//! recomputing a dynamic group (on demand here, lazily in [`revalidate`]). Every change is
//! made by an [`Editor`], which only an administrator's [`Admin`], a write-scoped API token
//! ([`ApiWriter`]) or the command line make. Criteria are kept as the search form's rows
//! ([`criteria`]) and parsed with the search's rules at each evaluation.

pub mod criteria;
pub mod revalidate;
pub mod settings;

use ocs_storage::groups::{
    GroupChange, GroupKind, GroupOfComputer, GroupRecord, GroupSummary, MemberState, NewGroup,
};
use ocs_storage::{
    list_column, AccountField, Column, ComputerQuery, ComputerRow, GroupId, HostId, Page,
    StoreError,
};

use crate::app::api::ApiWriter;
use crate::app::auth::Admin;
use crate::app::computers::{parse_criteria, CriterionInput, ListPage, ListView};
use crate::app::options::Options;
use crate::app::{AppError, AppState};

/// Longest group name, in bytes.
pub const MAX_NAME_LEN: usize = 255;
/// Longest group description, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 2000;
/// Most computers one change may name (a mass action on a large result included).
pub const MAX_COMPUTERS_PER_CHANGE: usize = 200_000;

/// Who changes groups, for the log: only [`Editor::console`], [`Editor::api`] and
/// [`Editor::cli`] make one, so a service that takes an `&Editor` cannot be reached by a
/// read-only account or token.
#[derive(Debug, Clone)]
pub struct Editor {
    label: String,
}

impl Editor {
    /// A console administrator.
    pub fn console(admin: &Admin<'_>) -> Editor {
        Editor {
            label: format!("console:{}", admin.viewer.login),
        }
    }

    /// An API token with the write scope.
    pub fn api(writer: &ApiWriter) -> Editor {
        Editor {
            label: format!("api:{}", writer.token_name),
        }
    }

    /// The command line (whoever can run it can open the database anyway).
    pub fn cli() -> Editor {
        Editor {
            label: "cli".to_owned(),
        }
    }

    /// How the log names this editor.
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// Where a selection of computers goes: an existing static group, or a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupTarget {
    /// A static group that exists.
    Existing(GroupId),
    /// A static group to create.
    New {
        /// Its name.
        name: String,
        /// Its description.
        description: String,
    },
}

/// A group to create, as submitted.
#[derive(Debug, Clone)]
pub struct GroupInput {
    /// Name (unique).
    pub name: String,
    /// Description.
    pub description: String,
    /// Kind.
    pub kind: GroupKind,
    /// Criteria rows of a dynamic group (none for a static one).
    pub criteria: Vec<CriterionInput>,
}

/// Changes to a group; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct GroupUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New criteria (dynamic groups only).
    pub criteria: Option<Vec<CriterionInput>>,
}

/// How a computer is forced in a dynamic group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Force {
    /// A member whatever the criteria say.
    In,
    /// Never a member whatever the criteria say.
    Out,
    /// Back to what the criteria say.
    Clear,
}

impl Force {
    /// Reads `in`, `out`, `clear`.
    pub fn parse(text: &str) -> Result<Force, AppError> {
        match text {
            "in" => Ok(Force::In),
            "out" => Ok(Force::Out),
            "clear" => Ok(Force::Clear),
            other => Err(AppError::bad_request(
                "E_BAD_PARAM",
                format!("force is in, out or clear, not {other:?}"),
            )),
        }
    }
}

/// A group as its page shows it.
#[derive(Debug, Clone)]
pub struct GroupView {
    /// The stored group.
    pub record: GroupRecord,
    /// Members (computed or added).
    pub members: i64,
    /// Criteria rows of a dynamic group.
    pub criteria: Vec<CriterionInput>,
    /// Why the criteria select nobody (a field that no longer exists…), if they cannot be
    /// used.
    pub problem: Option<String>,
    /// Whether the server honours groups (`ENABLE_GROUPS`).
    pub enabled: bool,
    /// Administrative field definitions (labels of `fields_<id>` criteria).
    pub fields: Vec<AccountField>,
}

fn check_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "E_BAD_GROUP_NAME",
            format!("a group name is 1 to {MAX_NAME_LEN} bytes of printable text"),
        ));
    }
    Ok(name.to_owned())
}

fn check_description(description: &str) -> Result<String, AppError> {
    if description.len() > MAX_DESCRIPTION_LEN {
        return Err(AppError::bad_request(
            "E_BAD_DESCRIPTION",
            format!("a description is at most {MAX_DESCRIPTION_LEN} bytes"),
        ));
    }
    Ok(description.trim().to_owned())
}

fn check_ids(ids: &[HostId]) -> Result<(), AppError> {
    if ids.len() > MAX_COMPUTERS_PER_CHANGE {
        return Err(AppError::TooLarge {
            code: "E_TOO_MANY_COMPUTERS",
            message: format!("at most {MAX_COMPUTERS_PER_CHANGE} computers per change"),
        });
    }
    Ok(())
}

/// Checks criteria rows the way a search does, and that there is at least one: a dynamic
/// group without criteria would hold every computer.
async fn checked_criteria(
    state: &AppState,
    rows: &[CriterionInput],
) -> Result<Vec<CriterionInput>, AppError> {
    let fields = state.store.list_accountinfo_fields().await?;
    if parse_criteria(rows, &fields)?.is_empty() {
        return Err(AppError::bad_request(
            "E_NO_CRITERIA",
            "a dynamic group needs at least one criterion with a value",
        ));
    }
    Ok(rows
        .iter()
        .filter(|r| !r.value.trim().is_empty())
        .cloned()
        .collect())
}

fn name_taken(name: &str) -> AppError {
    AppError::bad_request(
        "E_GROUP_EXISTS",
        format!("a group named {name:?} already exists"),
    )
}

/// Creates a group; a dynamic one is computed at once.
pub async fn create(
    state: &AppState,
    by: &Editor,
    input: &GroupInput,
) -> Result<GroupId, AppError> {
    let name = check_name(&input.name)?;
    let description = check_description(&input.description)?;
    let criteria = match input.kind {
        GroupKind::Dynamic => Some(criteria::encode(
            &checked_criteria(state, &input.criteria).await?,
        )),
        GroupKind::Static if input.criteria.iter().any(|c| !c.value.is_empty()) => {
            return Err(AppError::bad_request(
                "E_BAD_CRITERION",
                "a static group has no criteria",
            ))
        }
        GroupKind::Static => None,
    };
    let id = state
        .store
        .insert_group(
            &NewGroup {
                name: &name,
                description: &description,
                kind: input.kind,
                criteria: criteria.as_deref(),
            },
            state.clock.now(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => name_taken(&name),
            e => e.into(),
        })?;
    tracing::info!(
        by = by.label(),
        group = id.0,
        name,
        kind = input.kind.as_str(),
        "group created"
    );
    if input.kind == GroupKind::Dynamic {
        recompute(state, by, id).await?;
    }
    Ok(id)
}

/// Whether groups are in use (`ENABLE_GROUPS`: membership, group settings and packages).
pub async fn enabled(state: &AppState) -> Result<bool, AppError> {
    Ok(crate::app::options::Options::load(&state.store)
        .await?
        .on("ENABLE_GROUPS"))
}

/// Every group with its member count.
pub async fn list(state: &AppState) -> Result<Vec<GroupSummary>, AppError> {
    Ok(state.store.list_groups().await?)
}

/// Static groups by name, for pickers (adding a selection to a group).
pub async fn list_static_groups(state: &AppState) -> Result<Vec<(GroupId, String)>, AppError> {
    Ok(state
        .store
        .list_groups()
        .await?
        .into_iter()
        .filter(|g| g.group.kind == GroupKind::Static)
        .map(|g| (g.group.id, g.group.name))
        .collect())
}

/// A group by ID (404 when there is none).
pub async fn get(state: &AppState, id: GroupId) -> Result<GroupRecord, AppError> {
    Ok(state.store.get_group(id).await?)
}

/// Everything a group's page shows above its members.
pub async fn view(state: &AppState, id: GroupId) -> Result<GroupView, AppError> {
    let record = state.store.get_group(id).await?;
    let members = state.store.count_group_members(id).await?;
    let fields = state.store.list_accountinfo_fields().await?;
    let options = Options::load(&state.store).await?;
    let (criteria, problem) = match (record.kind, record.criteria.as_deref()) {
        (GroupKind::Dynamic, Some(text)) => match criteria::decode(text) {
            Ok(rows) => {
                let problem = parse_criteria(&rows, &fields).err().map(|e| e.to_string());
                (rows, problem)
            }
            Err(e) => (Vec::new(), Some(e.to_string())),
        },
        (GroupKind::Dynamic, None) => (Vec::new(), Some("no criteria".to_owned())),
        (GroupKind::Static, _) => (Vec::new(), None),
    };
    Ok(GroupView {
        record,
        members,
        criteria,
        problem,
        enabled: options.on("ENABLE_GROUPS"),
        fields,
    })
}

/// Renames, describes, or changes the criteria of a group (a dynamic group is then
/// recomputed).
pub async fn update(
    state: &AppState,
    by: &Editor,
    id: GroupId,
    change: &GroupUpdate,
) -> Result<(), AppError> {
    let record = state.store.get_group(id).await?;
    let name = change.name.as_deref().map(check_name).transpose()?;
    let description = change
        .description
        .as_deref()
        .map(check_description)
        .transpose()?;
    let criteria = match (&change.criteria, record.kind) {
        (None, _) => None,
        (Some(rows), GroupKind::Dynamic) => {
            Some(criteria::encode(&checked_criteria(state, rows).await?))
        }
        (Some(_), GroupKind::Static) => {
            return Err(AppError::bad_request(
                "E_NOT_DYNAMIC",
                "only a dynamic group has criteria",
            ))
        }
    };
    state
        .store
        .update_group(
            id,
            &GroupChange {
                name: name.as_deref(),
                description: description.as_deref(),
                criteria: criteria.as_deref(),
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => name_taken(name.as_deref().unwrap_or_default()),
            e => e.into(),
        })?;
    tracing::info!(by = by.label(), group = id.0, "group changed");
    if criteria.is_some() {
        recompute(state, by, id).await?;
    }
    Ok(())
}

/// Deletes a group, its member rows and its settings.
pub async fn delete(state: &AppState, by: &Editor, id: GroupId) -> Result<(), AppError> {
    if !state.store.delete_group(id).await? {
        return Err(AppError::NotFound(format!("group {} not found", id.0)));
    }
    tracing::info!(by = by.label(), group = id.0, "group deleted");
    Ok(())
}

/// Recomputes a dynamic group now (console button, API, CLI); returns its computed members.
pub async fn recompute(state: &AppState, by: &Editor, id: GroupId) -> Result<u64, AppError> {
    let options = Options::load(&state.store).await?;
    let offset = revalidate::random_offset(options.int("GROUPS_CACHE_OFFSET"));
    let computed = revalidate::compute(state, id, state.clock.now(), offset).await?;
    tracing::info!(by = by.label(), group = id.0, computed, "group recomputed");
    Ok(computed)
}

fn must_be_static(record: &GroupRecord) -> Result<(), AppError> {
    if record.kind != GroupKind::Static {
        return Err(AppError::bad_request(
            "E_NOT_STATIC",
            format!(
                "{:?} is a dynamic group: its members come from its criteria (force computers in or out instead)",
                record.name
            ),
        ));
    }
    Ok(())
}

/// Adds computers to a static group, or replaces its members (`overwrite`); a new group is
/// created first. Returns the group and how many members were added.
pub async fn add_members(
    state: &AppState,
    admin: &Admin<'_>,
    target: &GroupTarget,
    ids: &[HostId],
    overwrite: bool,
) -> Result<(GroupId, u64), AppError> {
    add_members_as(state, &Editor::console(admin), target, ids, overwrite).await
}

/// [`add_members`] for any editor.
pub async fn add_members_as(
    state: &AppState,
    by: &Editor,
    target: &GroupTarget,
    ids: &[HostId],
    overwrite: bool,
) -> Result<(GroupId, u64), AppError> {
    check_ids(ids)?;
    let id = match target {
        GroupTarget::Existing(id) => {
            must_be_static(&state.store.get_group(*id).await?)?;
            *id
        }
        GroupTarget::New { name, description } => {
            create(
                state,
                by,
                &GroupInput {
                    name: name.clone(),
                    description: description.clone(),
                    kind: GroupKind::Static,
                    criteria: Vec::new(),
                },
            )
            .await?
        }
    };
    let added = if overwrite {
        state.store.replace_group_members(id, ids).await?
    } else {
        state
            .store
            .set_group_members(id, ids, MemberState::Added)
            .await?
    };
    tracing::info!(
        by = by.label(),
        group = id.0,
        added,
        overwrite,
        "members added"
    );
    Ok((id, added))
}

/// Removes computers from a group: from a static group they go; from a dynamic group they
/// are forced out (otherwise the next computation would bring them back). Returns how many
/// rows changed.
pub async fn remove_members(
    state: &AppState,
    admin: &Admin<'_>,
    group: GroupId,
    ids: &[HostId],
) -> Result<u64, AppError> {
    remove_members_as(state, &Editor::console(admin), group, ids).await
}

/// [`remove_members`] for any editor.
pub async fn remove_members_as(
    state: &AppState,
    by: &Editor,
    group: GroupId,
    ids: &[HostId],
) -> Result<u64, AppError> {
    check_ids(ids)?;
    let record = state.store.get_group(group).await?;
    let removed = match record.kind {
        GroupKind::Static => state.store.delete_group_members(group, ids).await?,
        GroupKind::Dynamic => {
            state
                .store
                .set_group_members(group, ids, MemberState::Excluded)
                .await?
        }
    };
    tracing::info!(by = by.label(), group = group.0, removed, "members removed");
    Ok(removed)
}

/// Adds computers to a group of either kind: added to a static group, forced into a dynamic
/// one (what the API's and the computer page's "add" mean).
pub async fn include_members(
    state: &AppState,
    by: &Editor,
    group: GroupId,
    ids: &[HostId],
) -> Result<u64, AppError> {
    check_ids(ids)?;
    state.store.get_group(group).await?;
    let added = state
        .store
        .set_group_members(group, ids, MemberState::Added)
        .await?;
    tracing::info!(by = by.label(), group = group.0, added, "members added");
    Ok(added)
}

/// Forces computers into or out of a dynamic group, or lets its criteria decide again (the
/// group is then recomputed, so an un-forced computer is back where its criteria put it).
pub async fn force(
    state: &AppState,
    by: &Editor,
    group: GroupId,
    ids: &[HostId],
    how: Force,
) -> Result<u64, AppError> {
    check_ids(ids)?;
    let record = state.store.get_group(group).await?;
    if record.kind != GroupKind::Dynamic {
        return Err(AppError::bad_request(
            "E_NOT_DYNAMIC",
            "only computers of a dynamic group are forced in or out",
        ));
    }
    let changed = match how {
        Force::In => {
            state
                .store
                .set_group_members(group, ids, MemberState::Added)
                .await?
        }
        Force::Out => {
            state
                .store
                .set_group_members(group, ids, MemberState::Excluded)
                .await?
        }
        Force::Clear => {
            let n = state.store.delete_group_members(group, ids).await?;
            recompute(state, by, group).await?;
            n
        }
    };
    tracing::info!(by = by.label(), group = group.0, changed, how = ?how, "members forced");
    Ok(changed)
}

/// The groups a computer has a row in (member, or forced out).
pub async fn groups_of_computer(
    state: &AppState,
    host: HostId,
) -> Result<Vec<GroupOfComputer>, AppError> {
    state.store.require_host(host).await?;
    Ok(state.store.list_groups_of_computer(host).await?)
}

/// The IDs of a group's members, in ID order.
pub async fn member_ids(state: &AppState, group: GroupId) -> Result<Vec<HostId>, AppError> {
    Ok(state.store.matching_computer_ids(&[], Some(group)).await?)
}

/// The group a CLI user names: its ID, else its exact name.
pub async fn resolve_group(state: &AppState, text: &str) -> Result<GroupRecord, AppError> {
    let text = text.trim();
    if let Ok(id) = text.parse::<i64>() {
        if let Some(g) = state.store.find_group(GroupId(id)).await? {
            return Ok(g);
        }
    }
    state
        .store
        .find_group_by_name(text)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("group {text:?} not found")))
}

/// The computer a console or CLI user names: its ID, else its exact name or DEVICEID (which
/// must then be unique).
pub async fn resolve_computer(state: &AppState, text: &str) -> Result<HostId, AppError> {
    let text = text.trim();
    if text.is_empty() || text.len() > 255 {
        return Err(AppError::bad_request(
            "E_BAD_COMPUTER",
            "name a computer by its ID, name or DEVICEID",
        ));
    }
    if let Ok(id) = text.parse::<i64>() {
        state.store.get_host(HostId(id)).await?;
        return Ok(HostId(id));
    }
    match state.store.find_computers_named(text, 2).await?.as_slice() {
        [one] => Ok(*one),
        [] => Err(AppError::NotFound(format!("computer {text:?} not found"))),
        _ => Err(AppError::bad_request(
            "E_AMBIGUOUS_COMPUTER",
            format!("several computers are named {text:?}: use its ID"),
        )),
    }
}

fn member_query(
    view: &ListView,
    fields: &[AccountField],
    group: GroupId,
    page: Option<Page>,
) -> ComputerQuery {
    ComputerQuery {
        criteria: Vec::new(),
        group: Some(group),
        columns: view.columns.iter().map(|c| c.column).collect(),
        sort: (view.sort_column(fields), view.desc),
        page,
    }
}

/// One page of a group's members, as `view` shows lists.
pub async fn members(
    state: &AppState,
    view: &ListView,
    fields: &[AccountField],
    group: GroupId,
    page: u32,
) -> Result<ListPage, AppError> {
    let page = page.max(1);
    let query = member_query(
        view,
        fields,
        group,
        Some(Page {
            number: page,
            size: view.per_page,
        }),
    );
    let (total, rows) = state.store.list_computers(&query).await?;
    Ok(ListPage { total, rows, page })
}

/// Every member of a group (for CSV), as `view` shows lists.
pub async fn all_members(
    state: &AppState,
    view: &ListView,
    fields: &[AccountField],
    group: GroupId,
) -> Result<Vec<ComputerRow>, AppError> {
    let query = member_query(view, fields, group, None);
    Ok(state.store.list_computers(&query).await?.1)
}

/// The columns of the API's member list, in this order.
pub const API_MEMBER_COLUMNS: &[&str] = &[
    "deviceid",
    "name",
    "tag",
    "os",
    "osversion",
    "ipaddr",
    "userid",
    "memory",
    "useragent",
    "lastdate",
    "lastcome",
];

/// A page of a group's members for the API (columns [`API_MEMBER_COLUMNS`], by name).
pub async fn api_members(
    state: &AppState,
    group: GroupId,
    page: u32,
    per_page: u32,
) -> Result<(i64, Vec<ComputerRow>), AppError> {
    if page == 0 {
        return Err(AppError::bad_request("E_BAD_PARAM", "page starts at 1"));
    }
    let max = crate::app::api::MAX_PER_PAGE;
    if per_page == 0 || per_page > max {
        return Err(AppError::bad_request(
            "E_BAD_PARAM",
            format!("per_page must be between 1 and {max}"),
        ));
    }
    state.store.get_group(group).await?;
    let columns: Vec<Column> = API_MEMBER_COLUMNS
        .iter()
        .filter_map(|k| list_column(k).map(Column::Builtin))
        .collect();
    let sort = columns
        .get(1)
        .copied()
        .ok_or_else(|| AppError::Internal("no name column".into()))?;
    let query = ComputerQuery {
        criteria: Vec::new(),
        group: Some(group),
        columns,
        sort: (sort, false),
        page: Some(Page {
            number: page,
            size: per_page,
        }),
    };
    Ok(state.store.list_computers(&query).await?)
}
