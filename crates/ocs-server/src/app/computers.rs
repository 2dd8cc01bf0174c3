//! Console services over computers: All computers and search (columns, sort and page size
//! saved per account, CSV of the whole result), TAG repartition, the computer page, and the
//! two blocks an administrator edits there (administrative data, customisation).
//!
//! Request text only ever selects entries of the storage allow-lists ([`LIST_COLUMNS`],
//! [`SEARCH_FIELDS`]) or becomes a bound value.

use std::collections::HashMap;

use ocs_storage::ipdiscover::scanners::HostNetwork;
use ocs_storage::{
    like_exact, list_column, search_field, AccountField, Column, ComputerQuery, ComputerRow,
    Criterion, CriterionField, CriterionValue, DeviceSetting, HostDetail, HostId, Operator, Page,
    ValueKind, TAG,
};

use crate::app::auth::{Admin, Viewer};
use crate::app::ipdiscover::agents::check_network;
use crate::app::{AppError, AppState};

/// Columns shown until an account chooses others.
pub const DEFAULT_COLUMNS: &[&str] = &[
    "name",
    "userid",
    "os",
    "memory",
    "cpu",
    "ipaddr",
    "tag",
    "lastdate",
    "useragent",
];

/// Page sizes offered.
pub const PAGE_SIZES: &[u32] = &[10, 25, 50, 100, 200, 500];
const DEFAULT_PAGE_SIZE: u32 = 50;
/// Most criteria a search may have.
pub const MAX_CRITERIA: usize = 20;
/// Longest value of a criterion.
const MAX_VALUE_LEN: usize = 255;

/// A column as the console shows it: its key and whether it is an administrative field.
#[derive(Debug, Clone)]
pub struct ColumnChoice {
    /// `name`, `os`, … or `fields_<id>`.
    pub key: String,
    /// The storage column.
    pub column: Column,
    /// Label of an administrative field (built-in columns are translated by key).
    pub label: Option<String>,
}

/// How an account sees lists: columns, sort and page size.
#[derive(Debug, Clone)]
pub struct ListView {
    /// Shown columns, in order.
    pub columns: Vec<ColumnChoice>,
    /// Sort column key.
    pub sort: String,
    /// Descending sort.
    pub desc: bool,
    /// Rows per page.
    pub per_page: u32,
}

fn choice(key: &str, fields: &[AccountField]) -> Option<ColumnChoice> {
    if let Some(c) = list_column(key) {
        return Some(ColumnChoice {
            key: key.to_owned(),
            column: Column::Builtin(c),
            label: None,
        });
    }
    let id: i64 = key.strip_prefix("fields_")?.parse().ok()?;
    let field = fields.iter().find(|f| f.id == id)?;
    Some(ColumnChoice {
        key: key.to_owned(),
        column: Column::AdminField(id),
        label: Some(field.label.clone()),
    })
}

/// Every column an account may choose: built-in ones, then administrative fields.
pub fn available_columns(fields: &[AccountField]) -> Vec<ColumnChoice> {
    let builtin = ocs_storage::LIST_COLUMNS.iter().map(|c| c.key.to_owned());
    let admin = fields.iter().map(|f| format!("fields_{}", f.id));
    builtin
        .chain(admin)
        .filter_map(|k| choice(&k, fields))
        .collect()
}

impl ListView {
    /// Decodes saved choices (`cols=a,b;sort=a;dir=asc;size=50`), dropping anything unknown
    /// (a deleted administrative field, say).
    pub fn decode(saved: &str, fields: &[AccountField]) -> ListView {
        let parts: HashMap<&str, &str> =
            saved.split(';').filter_map(|p| p.split_once('=')).collect();
        let keys: Vec<&str> = match parts.get("cols") {
            Some(cols) => cols.split(',').collect(),
            None => DEFAULT_COLUMNS.to_vec(),
        };
        let mut view = ListView {
            columns: keys.iter().filter_map(|k| choice(k, fields)).collect(),
            sort: parts.get("sort").copied().unwrap_or("name").to_owned(),
            desc: parts.get("dir") == Some(&"desc"),
            per_page: parts
                .get("size")
                .and_then(|s| s.parse().ok())
                .filter(|n| PAGE_SIZES.contains(n))
                .unwrap_or(DEFAULT_PAGE_SIZE),
        };
        if view.columns.is_empty() {
            view.columns = DEFAULT_COLUMNS
                .iter()
                .filter_map(|k| choice(k, fields))
                .collect();
        }
        if choice(&view.sort, fields).is_none() {
            view.sort = "name".into();
        }
        view
    }

    /// Encodes the choices for saving.
    pub fn encode(&self) -> String {
        let cols: Vec<&str> = self.columns.iter().map(|c| c.key.as_str()).collect();
        format!(
            "cols={};sort={};dir={};size={}",
            cols.join(","),
            self.sort,
            if self.desc { "desc" } else { "asc" },
            self.per_page
        )
    }

    /// The storage column the list is sorted by.
    pub fn sort_column(&self, fields: &[AccountField]) -> Column {
        choice(&self.sort, fields)
            .map(|c| c.column)
            .or_else(|| list_column("name").map(Column::Builtin))
            .unwrap_or(Column::AdminField(0))
    }
}

/// Overrides of the saved view carried by a list URL (`?sort=os&dir=desc&per_page=100`).
#[derive(Debug, Clone, Default)]
pub struct ViewChange {
    /// New sort column.
    pub sort: Option<String>,
    /// New direction (`asc` or `desc`).
    pub dir: Option<String>,
    /// New page size.
    pub per_page: Option<u32>,
    /// New columns (from the column chooser).
    pub columns: Option<Vec<String>>,
}

/// The viewer's list choices with `change` applied; saved when they differ from the stored
/// ones, so they come back at the next sign-in.
pub async fn list_view(
    state: &AppState,
    viewer: &Viewer,
    change: &ViewChange,
) -> Result<(ListView, Vec<AccountField>), AppError> {
    let fields = state.store.list_accountinfo_fields().await?;
    let mut view = ListView::decode(&viewer.list_prefs, &fields);
    if let Some(sort) = change.sort.as_deref() {
        if choice(sort, &fields).is_none() {
            return Err(AppError::bad_request(
                "E_BAD_PARAM",
                format!("unknown sort column {sort:?}"),
            ));
        }
        view.sort = sort.to_owned();
    }
    match change.dir.as_deref() {
        None => {}
        Some("asc") => view.desc = false,
        Some("desc") => view.desc = true,
        Some(other) => {
            return Err(AppError::bad_request(
                "E_BAD_PARAM",
                format!("sort direction is asc or desc, not {other:?}"),
            ))
        }
    }
    if let Some(n) = change.per_page {
        if !PAGE_SIZES.contains(&n) {
            return Err(AppError::bad_request(
                "E_BAD_PARAM",
                format!("page size must be one of {PAGE_SIZES:?}"),
            ));
        }
        view.per_page = n;
    }
    if let Some(cols) = &change.columns {
        let chosen: Vec<ColumnChoice> = cols.iter().filter_map(|k| choice(k, &fields)).collect();
        if chosen.len() != cols.len() || chosen.is_empty() {
            return Err(AppError::bad_request(
                "E_BAD_PARAM",
                "choose at least one column, from the list offered",
            ));
        }
        view.columns = chosen;
    }
    let encoded = view.encode();
    if encoded != viewer.list_prefs {
        state
            .store
            .update_user_list_prefs(viewer.user_id, &encoded)
            .await?;
    }
    Ok((view, fields))
}

/// A search criterion as submitted (field key, operator, one or two values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CriterionInput {
    /// Field key (`software`, `os`, …, `fields_<id>`).
    pub field: String,
    /// Operator name (`equal`, `different`, `smaller`, `bigger`, `between`, `outof`).
    pub op: String,
    /// The value.
    pub value: String,
    /// The upper bound for `between` and `outof`.
    pub value2: String,
}

/// Operators offered for a kind of value.
pub fn operators_for(kind: ValueKind) -> &'static [&'static str] {
    match kind {
        ValueKind::Text => &OPERATORS[..2],
        ValueKind::Integer | ValueKind::Date => OPERATORS,
    }
}

/// Every operator, by name, in the order the search form offers them.
pub const OPERATORS: &[&str] = &[
    "equal",
    "different",
    "smaller",
    "bigger",
    "between",
    "outof",
];

fn operator(name: &str) -> Option<Operator> {
    Some(match name {
        "equal" => Operator::Equal,
        "different" => Operator::Different,
        "smaller" => Operator::Smaller,
        "bigger" => Operator::Bigger,
        "between" => Operator::Between,
        "outof" => Operator::OutOf,
        _ => return None,
    })
}

/// The kind of a search field key, if it exists.
pub fn field_kind(key: &str, fields: &[AccountField]) -> Option<ValueKind> {
    if let Some(f) = search_field(key) {
        return Some(f.kind);
    }
    let id: i64 = key.strip_prefix("fields_")?.parse().ok()?;
    fields.iter().any(|f| f.id == id).then_some(ValueKind::Text)
}

const DAY: i64 = 86_400;

fn parse_value(kind: ValueKind, text: &str, what: &str) -> Result<i64, AppError> {
    let text = text.trim();
    match kind {
        ValueKind::Date => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(text, format)
                .map(|d| d.midnight().assume_utc().unix_timestamp())
                .map_err(|_| {
                    AppError::bad_request(
                        "E_BAD_CRITERION",
                        format!("{what}: {text:?} is not a date (YYYY-MM-DD)"),
                    )
                })
        }
        _ => text.parse().map_err(|_| {
            AppError::bad_request(
                "E_BAD_CRITERION",
                format!("{what}: {text:?} is not a whole number"),
            )
        }),
    }
}

/// Turns submitted criteria into storage criteria; rows without a value are ignored.
pub fn parse_criteria(
    inputs: &[CriterionInput],
    fields: &[AccountField],
) -> Result<Vec<Criterion>, AppError> {
    let mut out = Vec::new();
    for input in inputs.iter().filter(|c| !c.value.trim().is_empty()) {
        if out.len() == MAX_CRITERIA {
            return Err(AppError::bad_request(
                "E_BAD_CRITERION",
                format!("at most {MAX_CRITERIA} criteria"),
            ));
        }
        let what = input.field.as_str();
        let (field, kind) = if let Some(f) = search_field(what) {
            (CriterionField::Builtin(f), f.kind)
        } else {
            match field_kind(what, fields) {
                Some(kind) => (
                    CriterionField::AdminField(
                        what.trim_start_matches("fields_").parse().unwrap_or(0),
                    ),
                    kind,
                ),
                None => {
                    return Err(AppError::bad_request(
                        "E_BAD_CRITERION",
                        format!("unknown search field {what:?}"),
                    ))
                }
            }
        };
        let op = operator(&input.op)
            .filter(|_| operators_for(kind).contains(&input.op.as_str()))
            .ok_or_else(|| {
                AppError::bad_request(
                    "E_BAD_CRITERION",
                    format!("operator {:?} does not apply to {what}", input.op),
                )
            })?;
        if input.value.len() > MAX_VALUE_LEN || input.value2.len() > MAX_VALUE_LEN {
            return Err(AppError::bad_request(
                "E_BAD_CRITERION",
                format!("{what}: values are at most {MAX_VALUE_LEN} bytes"),
            ));
        }
        let ranged = matches!(op, Operator::Between | Operator::OutOf);
        let criterion = match kind {
            ValueKind::Text => Criterion {
                field,
                op,
                first: CriterionValue::Text(like_exact(input.value.trim())),
                second: None,
            },
            ValueKind::Integer => {
                let first = parse_value(kind, &input.value, what)?;
                let second = if ranged {
                    Some(parse_value(kind, &input.value2, what)?)
                } else {
                    None
                };
                Criterion {
                    field,
                    op,
                    first: CriterionValue::Integer(first),
                    second: second.map(CriterionValue::Integer),
                }
            }
            ValueKind::Date => {
                // A date stands for its whole day (UTC).
                let first = parse_value(kind, &input.value, what)?;
                let last = if ranged {
                    parse_value(kind, &input.value2, what)?
                } else {
                    first
                } + DAY
                    - 1;
                let (op, low, high) = match op {
                    Operator::Equal => (Operator::Between, first, last),
                    Operator::Different => (Operator::OutOf, first, last),
                    Operator::Smaller => (Operator::Smaller, first, first),
                    Operator::Bigger => (Operator::Bigger, last, last),
                    other => (other, first, last),
                };
                Criterion {
                    field,
                    op,
                    first: CriterionValue::Integer(low),
                    second: Some(CriterionValue::Integer(high)),
                }
            }
        };
        out.push(criterion);
    }
    Ok(out)
}

/// A page of a list and the total number of matches.
#[derive(Debug)]
pub struct ListPage {
    /// Matches in all.
    pub total: i64,
    /// This page's rows.
    pub rows: Vec<ComputerRow>,
    /// 1-based page number.
    pub page: u32,
}

/// One page of the computers matching `criteria`, as `view` shows them.
pub async fn list(
    state: &AppState,
    view: &ListView,
    fields: &[AccountField],
    criteria: Vec<Criterion>,
    page: u32,
) -> Result<ListPage, AppError> {
    let page = page.max(1);
    let query = ComputerQuery {
        criteria,
        group: None,
        columns: view.columns.iter().map(|c| c.column).collect(),
        sort: (view.sort_column(fields), view.desc),
        page: Some(Page {
            number: page,
            size: view.per_page,
        }),
    };
    let (total, rows) = state.store.list_computers(&query).await?;
    Ok(ListPage { total, rows, page })
}

/// Every computer matching `criteria` (for CSV), as `view` shows them.
pub async fn list_all(
    state: &AppState,
    view: &ListView,
    fields: &[AccountField],
    criteria: Vec<Criterion>,
) -> Result<Vec<ComputerRow>, AppError> {
    let query = ComputerQuery {
        criteria,
        group: None,
        columns: view.columns.iter().map(|c| c.column).collect(),
        sort: (view.sort_column(fields), view.desc),
        page: None,
    };
    Ok(state.store.list_computers(&query).await?.1)
}

/// Administrative field definitions (columns and search fields of their own).
pub async fn account_fields(state: &AppState) -> Result<Vec<AccountField>, AppError> {
    Ok(state.store.list_accountinfo_fields().await?)
}

/// Computers per TAG.
pub async fn tag_counts(state: &AppState) -> Result<Vec<(String, i64)>, AppError> {
    Ok(state.store.list_tag_counts().await?)
}

/// Everything the computer page shows.
#[derive(Debug)]
pub struct ComputerPage {
    /// The stored device.
    pub detail: HostDetail,
    /// Administrative field definitions (labels of `fields_<id>`).
    pub fields: Vec<AccountField>,
    /// Per-computer settings.
    pub settings: Vec<DeviceSetting>,
    /// Sections the catalogue does not know (plugins'), as sent.
    pub extra: Vec<ocs_proto::ExtraSection>,
}

/// The computer page's data.
pub async fn computer(state: &AppState, id: i64) -> Result<ComputerPage, AppError> {
    let detail = state.store.get_host(HostId(id)).await?;
    let fields = state.store.list_accountinfo_fields().await?;
    let settings = state.store.device_settings(HostId(id)).await?;
    let extra = state.store.extra_sections(HostId(id)).await?;
    Ok(ComputerPage {
        detail,
        fields,
        settings,
        extra,
    })
}

/// Longest administrative value accepted from the console.
const MAX_ADMIN_VALUE_LEN: usize = 255;

/// Saves a computer's administrative data (TAG and defined fields), checking each value
/// against its field's type.
pub async fn update_admin_data(
    state: &AppState,
    admin: &Admin<'_>,
    id: i64,
    values: &[(String, String)],
) -> Result<(), AppError> {
    store_admin_data(state, id, values, &admin.viewer.login).await?;
    tracing::info!(
        login = admin.viewer.login,
        computer = id,
        "administrative data updated"
    );
    Ok(())
}

/// The API's change of a computer's administrative data: the TAG, and fields named by label
/// or `fields_<id>`, checked as the console checks them.
pub async fn patch_admin_data(
    state: &AppState,
    writer: &crate::app::api::ApiWriter,
    id: i64,
    tag: Option<&str>,
    fields: &[(String, String)],
) -> Result<(), AppError> {
    let defined = state.store.list_accountinfo_fields().await?;
    let mut values = Vec::new();
    if let Some(tag) = tag {
        values.push((TAG.to_owned(), tag.to_owned()));
    }
    for (name, value) in fields {
        let by_key = name
            .strip_prefix("fields_")
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(|fid| defined.iter().find(|f| f.id == fid));
        let by_label = || {
            let mut same = defined
                .iter()
                .filter(|f| f.label.eq_ignore_ascii_case(name));
            match (same.next(), same.next()) {
                (Some(f), None) => Some(f),
                _ => defined.iter().find(|f| f.label == *name),
            }
        };
        let field = by_key.or_else(by_label).ok_or_else(|| {
            AppError::bad_request(
                "E_BAD_VALUE",
                format!("unknown administrative field {name:?}"),
            )
        })?;
        values.push((format!("fields_{}", field.id), value.clone()));
    }
    if values.is_empty() {
        return Err(AppError::bad_request(
            "E_BAD_PARAM",
            "nothing to change: give \"tag\" or \"fields\"",
        ));
    }
    store_admin_data(state, id, &values, &format!("token:{}", writer.token_name)).await?;
    tracing::info!(
        token = writer.token_name,
        computer = id,
        "administrative data updated through the API"
    );
    Ok(())
}

/// Checks administrative values (`TAG` or `fields_<id>` keys) against their fields' types
/// and stores them; nothing is stored if one is refused. `by` is who changes them, for the
/// computer's history.
async fn store_admin_data(
    state: &AppState,
    id: i64,
    values: &[(String, String)],
    by: &str,
) -> Result<(), AppError> {
    let fields = state.store.list_accountinfo_fields().await?;
    let mut entries = Vec::new();
    for (key, value) in values {
        let value = check_admin_value(&fields, key, value)?;
        entries.push((key.clone(), value));
    }
    state.store.get_host(HostId(id)).await?;
    state
        .store
        .update_accountinfo(HostId(id), &entries, by, state.clock.now())
        .await?;
    Ok(())
}

/// Checks one administrative value from the console (the TAG or a defined field, against
/// its type) and returns it trimmed.
pub fn check_admin_value(
    fields: &[AccountField],
    key: &str,
    value: &str,
) -> Result<String, AppError> {
    let value = value.trim();
    if value.len() > MAX_ADMIN_VALUE_LEN {
        return Err(AppError::bad_request(
            "E_BAD_VALUE",
            format!("{key}: at most {MAX_ADMIN_VALUE_LEN} bytes"),
        ));
    }
    if key == TAG {
        if value.is_empty() {
            return Err(AppError::bad_request("E_BAD_VALUE", "TAG cannot be empty"));
        }
    } else {
        let field = admin_field(fields, key).ok_or_else(|| {
            AppError::bad_request("E_BAD_VALUE", format!("unknown field {key:?}"))
        })?;
        check_typed(&field.kind, value).map_err(|why| {
            AppError::bad_request("E_BAD_VALUE", format!("{}: {why}", field.label))
        })?;
    }
    Ok(value.to_owned())
}

/// The administrative field a KEYNAME (`fields_<id>`) names, if defined.
pub fn admin_field<'a>(fields: &'a [AccountField], key: &str) -> Option<&'a AccountField> {
    key.strip_prefix("fields_")
        .and_then(|n| n.parse::<i64>().ok())
        .and_then(|id| fields.iter().find(|f| f.id == id))
}

/// Checks a value against an administrative field type; empty is always allowed.
pub fn check_typed(kind: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    match kind {
        "Integer" if value.parse::<i64>().is_err() => {
            Err(format!("{value:?} is not a whole number"))
        }
        "Real" if value.parse::<f64>().map_or(true, |v| !v.is_finite()) => {
            Err(format!("{value:?} is not a number"))
        }
        "Date" if parse_value(ValueKind::Date, value, "").is_err() => {
            Err(format!("{value:?} is not a date (YYYY-MM-DD)"))
        }
        _ => Ok(()),
    }
}

/// One line of the customisation block: a setting name and the value chosen (`None`: use
/// the server's option).
pub type Customisation = Vec<(&'static str, Option<i64>)>;

/// Per-computer settings the customisation block edits, with the values each accepts.
pub const CUSTOMISABLE: &[(&str, i64, i64)] = &[
    // FREQUENCY: -1 never inventory, 0 always, N days.
    ("FREQUENCY", -1, 365),
    // IPDISCOVER: 0 never elected, 1 elected for its network, 2 forced.
    ("IPDISCOVER", 0, 2),
    // DOWNLOAD_SWITCH: 0 deployment off, 1 on.
    ("DOWNLOAD_SWITCH", 0, 1),
];

/// Checks a customisation value: a setting of [`CUSTOMISABLE`], in its range (`None`, the
/// server's option, always applies).
pub fn check_setting(name: &str, value: Option<i64>) -> Result<(), AppError> {
    check_customisation(CUSTOMISABLE, name, value)
}

/// Checks one line of a customisation block against its table (a computer's, a group's):
/// the setting must be listed there and a value within its bounds.
pub fn check_customisation(
    table: &[(&str, i64, i64)],
    name: &str,
    value: Option<i64>,
) -> Result<(), AppError> {
    let (_, low, high) = table
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| AppError::bad_request("E_BAD_VALUE", format!("unknown setting {name}")))?;
    match value {
        Some(v) if !(*low..=*high).contains(&v) => Err(AppError::bad_request(
            "E_BAD_VALUE",
            format!("{name} must be between {low} and {high}, not {v}"),
        )),
        _ => Ok(()),
    }
}

/// Reads a submitted customisation value: empty is the server's option, else a number.
pub fn parse_setting(name: &str, text: &str) -> Result<Option<i64>, AppError> {
    match text.trim() {
        "" => Ok(None),
        v => v.parse::<i64>().map(Some).map_err(|_| {
            AppError::bad_request("E_BAD_VALUE", format!("{name}: {v:?} is not a number"))
        }),
    }
}

/// Saves a computer's customisation; the communication server applies it at the next PROLOG.
/// `network` is the network an IPDISCOVER override scans, one the computer reports; `None`
/// (or empty) keeps the network of its main address.
pub async fn update_customisation(
    state: &AppState,
    admin: &Admin<'_>,
    id: i64,
    values: &Customisation,
    network: Option<&str>,
) -> Result<(), AppError> {
    let host = HostId(id);
    let detail = state.store.get_host(host).await?;
    for (name, value) in values {
        check_customisation(CUSTOMISABLE, name, *value)?;
        match value {
            None => state.store.delete_device_setting(host, name).await?,
            Some(v) => {
                state
                    .store
                    .set_device_setting(
                        host,
                        &DeviceSetting {
                            name: (*name).to_owned(),
                            ivalue: Some(*v),
                            tvalue: if *name == "IPDISCOVER" && *v > 0 {
                                Some(match network.filter(|n| !n.trim().is_empty()) {
                                    Some(n) => check_network(&reported_networks(&detail), n)?,
                                    None => network_number(&detail).ok_or_else(|| {
                                        AppError::bad_request(
                                            "E_BAD_VALUE",
                                            "this computer reports no network number to scan",
                                        )
                                    })?,
                                })
                            } else {
                                None
                            },
                        },
                    )
                    .await?;
            }
        }
    }
    tracing::info!(
        login = admin.viewer.login,
        computer = id,
        "customisation updated"
    );
    Ok(())
}

/// The IPv4 networks a computer reports, by address, each once.
fn reported_networks(detail: &HostDetail) -> Vec<HostNetwork> {
    let Some(networks) = detail.sections.iter().find(|s| s.table == "networks") else {
        return Vec::new();
    };
    let column = |name: &str| networks.columns.iter().position(|(c, _)| *c == name);
    let (Some(subnet), mask) = (column("ipsubnet"), column("ipmask")) else {
        return Vec::new();
    };
    let text = |row: &Vec<ocs_proto::Value>, i: Option<usize>| match i.and_then(|i| row.get(i)) {
        Some(ocs_proto::Value::Text(t)) => t.trim().to_owned(),
        _ => String::new(),
    };
    let mut out: Vec<HostNetwork> = networks
        .rows
        .iter()
        .map(|r| HostNetwork {
            netid: text(r, Some(subnet)),
            mask: text(r, mask),
        })
        .filter(|n| n.netid.parse::<std::net::Ipv4Addr>().is_ok())
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.netid == b.netid);
    out
}

/// The networks the IPDISCOVER line of the computer page offers, and the one selected: the
/// network it scans now, else the one of its main address (what saving without a choice
/// takes).
pub fn ipdiscover_networks(page: &ComputerPage) -> (Vec<HostNetwork>, Option<String>) {
    let networks = reported_networks(&page.detail);
    let current = page
        .settings
        .iter()
        .find(|s| s.name == "IPDISCOVER")
        .and_then(|s| s.tvalue.clone())
        .filter(|t| networks.iter().any(|n| n.netid == *t));
    let chosen = current.or_else(|| network_number(&page.detail));
    (networks, chosen)
}

/// The network an elected IpDiscover computer scans: the number of the network of its main
/// address, else of its first network that has one (as the original elects).
fn network_number(detail: &HostDetail) -> Option<String> {
    let networks = detail.sections.iter().find(|s| s.table == "networks")?;
    let column = |name: &str| networks.columns.iter().position(|(c, _)| *c == name);
    let (subnet, address) = (column("ipsubnet")?, column("ipaddress")?);
    let text = |row: &Vec<ocs_proto::Value>, i: usize| match row.get(i) {
        Some(ocs_proto::Value::Text(t)) if !t.trim().is_empty() => Some(t.clone()),
        _ => None,
    };
    let main = detail.summary.ipaddr.as_deref();
    networks
        .rows
        .iter()
        .find(|r| {
            main.is_some() && text(r, address).as_deref() == main && text(r, subnet).is_some()
        })
        .or_else(|| networks.rows.iter().find(|r| text(r, subnet).is_some()))
        .and_then(|r| text(r, subnet))
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

    #[test]
    fn list_view_round_trips_and_drops_unknown_columns() {
        let fields = [field(3, "Room")];
        let view = ListView::decode(
            "cols=name,fields_3,nope,fields_9;sort=os;dir=desc;size=100",
            &fields,
        );
        let keys: Vec<_> = view.columns.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["name", "fields_3"]);
        assert_eq!(
            (view.sort.as_str(), view.desc, view.per_page),
            ("os", true, 100)
        );
        assert_eq!(
            view.encode(),
            "cols=name,fields_3;sort=os;dir=desc;size=100"
        );
        let default = ListView::decode("", &fields);
        assert_eq!(default.columns.len(), DEFAULT_COLUMNS.len());
        assert_eq!(default.per_page, 50);
        let bad = ListView::decode("sort=x); DROP TABLE hardware;--;size=7", &fields);
        assert_eq!((bad.sort.as_str(), bad.per_page), ("name", 50));
    }

    #[test]
    fn criteria_are_checked() {
        let input = |field: &str, op: &str, value: &str, value2: &str| CriterionInput {
            field: field.into(),
            op: op.into(),
            value: value.into(),
            value2: value2.into(),
        };
        let ok = parse_criteria(
            &[
                input("software", "equal", "Firefox*", ""),
                input("memory", "between", "1024", "4096"),
                input("lastdate", "equal", "2024-01-02", ""),
                input("os", "equal", "", ""),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[0].first, CriterionValue::Text("firefox%".into()));
        assert_eq!(ok[2].op, Operator::Between);
        assert_eq!(ok[2].first, CriterionValue::Integer(1_704_153_600));
        assert_eq!(
            ok[2].second,
            Some(CriterionValue::Integer(1_704_153_600 + DAY - 1))
        );
        for bad in [
            input("nope", "equal", "x", ""),
            input("os", "smaller", "x", ""),
            input("memory", "equal", "lots", ""),
            input("lastdate", "equal", "yesterday", ""),
            input("fields_4", "equal", "x", ""),
        ] {
            assert!(
                parse_criteria(std::slice::from_ref(&bad), &[]).is_err(),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_criteria(&[input("fields_4", "equal", "x", "")], &[field(4, "Room")]).unwrap()[0]
                .field,
            CriterionField::AdminField(4)
        );
    }

    /// Keys built at run time (`col.<key>`, `field.<key>`, …) exist in every language.
    #[test]
    fn computed_translation_keys_exist() {
        let mut keys: Vec<String> = Vec::new();
        keys.extend(
            ocs_storage::LIST_COLUMNS
                .iter()
                .map(|c| format!("col.{}", c.key)),
        );
        keys.extend(
            ocs_storage::SEARCH_FIELDS
                .iter()
                .map(|f| format!("field.{}", f.key)),
        );
        keys.extend(OPERATORS.iter().map(|o| format!("op.{o}")));
        keys.extend(
            ocs_proto::catalogue::SECTIONS
                .iter()
                .map(|s| format!("section.{}", s.table)),
        );
        keys.push(format!("section.{}", ocs_proto::catalogue::HARDWARE.table));
        keys.push("section.softwares".to_owned());
        for (name, _, _) in CUSTOMISABLE {
            keys.push(format!("custom.{name}"));
        }
        for lang in crate::app::i18n::LANGUAGES {
            let tr = crate::app::i18n::Tr::new(lang);
            for key in &keys {
                assert!(tr.has(key), "{lang}: {key} missing");
            }
        }
    }

    #[test]
    fn typed_values() {
        assert!(check_typed("Integer", "12").is_ok());
        assert!(check_typed("Integer", "1.5").is_err());
        assert!(check_typed("Real", "1.5").is_ok());
        assert!(check_typed("Real", "NaN").is_err());
        assert!(check_typed("Date", "2024-02-30").is_err());
        assert!(check_typed("Date", "2024-02-29").is_ok());
        assert!(check_typed("Text", "anything").is_ok());
    }
}
