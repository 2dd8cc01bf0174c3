//! The original's REST API (`/ocsapi/v1`), for the scripts written against it: what each of
//! its routes reads, in its tables' shapes (see `ocs_storage::ocsapi`).
//!
//! The original served it without authentication (Apache allowed 127.0.0.1 only); ours takes
//! an API token (`Authorization: Bearer`, any scope: every route only reads) or the HTTP
//! Basic credentials of a console account allowed to use web services.
//!
//! Differences from the original, on purpose: pages are bounded ([`MAX_LIMIT`], refused
//! above rather than cut, so that a script paging by `start += limit` never skips rows);
//! a column a table does not have is a 400 naming it, not an SQL error page; answers are
//! JSON once (2.8.1 encoded some answers twice, as a JSON string holding JSON).

use ocs_storage::{
    raw_table, raw_tables, RawCondition, RawOperator, RawRow, RawSearch, RawSelection,
};

use crate::app::{api, web_services, AppError, AppState};

/// Most computers (or rows) one page serves.
pub const MAX_LIMIT: i64 = 1000;

/// The `softwares` pseudo-section: a computer's software joined with the dictionaries
/// (the key 2.8.1 used; the original's HEAD writes it under `""` by mistake).
pub const SOFTWARES: &str = "softwares";

/// A caller the legacy API accepted.
#[derive(Debug)]
pub enum Reader {
    /// By API token.
    Token(String),
    /// By a web-services account.
    Account(String),
}

impl Reader {
    /// Who, for logs.
    pub fn name(&self) -> String {
        match self {
            Reader::Token(name) => format!("token:{name}"),
            Reader::Account(login) => login.clone(),
        }
    }
}

/// Checks the `Authorization` header: a bearer token or Basic credentials.
pub async fn authenticate(
    state: &AppState,
    authorization: Option<&[u8]>,
    peer: &str,
) -> Result<Reader, AppError> {
    let scheme = authorization
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| h.split_whitespace().next())
        .map(str::to_ascii_lowercase);
    match scheme.as_deref() {
        Some("bearer") => {
            let header = authorization.and_then(|h| std::str::from_utf8(h).ok());
            let caller = api::authenticate(state, header).await?;
            Ok(Reader::Token(caller.token.name))
        }
        _ => web_services::authenticate(state, authorization, peer)
            .await
            .map(|user| Reader::Account(user.login)),
    }
}

/// One computer as the original's API shows it.
#[derive(Debug)]
pub struct LegacyComputer {
    /// Its ID (the JSON key).
    pub id: i64,
    /// Its `hardware` row.
    pub hardware: RawRow,
    /// Its rows of each table asked for, by table name.
    pub tables: Vec<(String, Vec<RawRow>)>,
}

/// Reads `start`/`limit` as the original does (digits only; missing is 0), refusing a limit
/// of 0 or above [`MAX_LIMIT`].
pub fn page(
    start: Option<&str>,
    limit: Option<&str>,
    required: bool,
) -> Result<(i64, i64), AppError> {
    let number = |name: &str, text: Option<&str>| -> Result<i64, AppError> {
        match text.map(str::trim) {
            None | Some("") => Ok(0),
            Some(t) => t.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                AppError::bad_request(
                    "E_BAD_PARAM",
                    format!("{name} must be a whole number, not {t:?}"),
                )
            }),
        }
    };
    let start = number("start", start)?;
    let mut limit = number("limit", limit)?;
    if limit == 0 {
        if required {
            return Err(AppError::bad_request(
                "E_BAD_PARAM",
                format!("limit is required and must be 1 to {MAX_LIMIT}"),
            ));
        }
        limit = MAX_LIMIT;
    }
    if limit > MAX_LIMIT {
        return Err(AppError::bad_request(
            "E_BAD_PARAM",
            format!("limit is at most {MAX_LIMIT}; page with start"),
        ));
    }
    Ok((start, limit))
}

/// `where`/`operator`/`value`: all three, or none (as the original ignores a partial one).
pub fn condition(
    column: Option<&str>,
    operator: Option<&str>,
    value: Option<&str>,
) -> Result<Option<RawCondition>, AppError> {
    let (Some(column), Some(operator), Some(value)) = (column, operator, value) else {
        return Ok(None);
    };
    if column.is_empty() || operator.is_empty() || value.is_empty() {
        return Ok(None);
    }
    let operator = RawOperator::parse(operator).ok_or_else(|| {
        AppError::bad_request(
            "E_BAD_PARAM",
            format!("operator {operator:?} is not one of =, !=, <>, <, >, <=, >=, like, not like"),
        )
    })?;
    Ok(Some(RawCondition {
        column: column.to_owned(),
        operator,
        value: value.to_owned(),
    }))
}

/// Every computer's ID.
pub async fn list_ids(state: &AppState) -> Result<Vec<i64>, AppError> {
    Ok(state.store.ocsapi_ids().await?)
}

/// Computers with every table (`with_software`: and the `softwares` list).
async fn assemble(
    state: &AppState,
    hardware: Vec<RawRow>,
    with_software: bool,
) -> Result<Vec<LegacyComputer>, AppError> {
    let ids: Vec<i64> = hardware.iter().filter_map(row_id).collect();
    let mut computers: Vec<LegacyComputer> = hardware
        .into_iter()
        .zip(&ids)
        .map(|(hardware, id)| LegacyComputer {
            id: *id,
            hardware,
            tables: Vec::new(),
        })
        .collect();
    let mut add = |name: &str, rows: Vec<(i64, RawRow)>| {
        for c in computers.iter_mut() {
            c.tables.push((name.to_owned(), Vec::new()));
        }
        for (id, row) in rows {
            if let Some(c) = computers.iter_mut().find(|c| c.id == id) {
                if let Some((_, rows)) = c.tables.last_mut() {
                    rows.push(row);
                }
            }
        }
    };
    add("accountinfo", state.store.ocsapi_accountinfo(&ids).await?);
    for table in raw_tables() {
        let rows = state.store.ocsapi_rows(&table, &ids, None).await?;
        add(table.name, rows);
    }
    if with_software {
        add(SOFTWARES, state.store.ocsapi_software(&ids, None).await?);
    }
    Ok(computers)
}

fn row_id(row: &RawRow) -> Option<i64> {
    row.iter()
        .find(|(k, _)| k == "ID")
        .and_then(|(_, v)| match v {
            ocs_proto::Value::Int(n) => Some(*n),
            _ => None,
        })
}

/// `/computers`: a page of computers with every table.
pub async fn computers(
    state: &AppState,
    start: i64,
    limit: i64,
) -> Result<Vec<LegacyComputer>, AppError> {
    let hardware = state
        .store
        .ocsapi_hardware(RawSelection::Page { start, limit })
        .await?;
    assemble(state, hardware, false).await
}

/// `/computer/{id}`: one computer with every table and its software; `None` if unknown.
pub async fn computer(state: &AppState, id: i64) -> Result<Option<LegacyComputer>, AppError> {
    let hardware = state
        .store
        .ocsapi_hardware(RawSelection::Ids(&[id]))
        .await?;
    Ok(assemble(state, hardware, true).await?.pop())
}

/// `/computer/{id}/{section}`: its hardware row and the rows of one table (filtered); an
/// unknown table gives the hardware row alone, as the original does.
pub async fn computer_section(
    state: &AppState,
    id: i64,
    section: &str,
    condition: Option<&RawCondition>,
) -> Result<Option<LegacyComputer>, AppError> {
    let Some(hardware) = state
        .store
        .ocsapi_hardware(RawSelection::Ids(&[id]))
        .await?
        .pop()
    else {
        return Ok(None);
    };
    let ids = [id];
    let rows = if section == SOFTWARES {
        Some(state.store.ocsapi_software(&ids, condition).await?)
    } else if section == "accountinfo" {
        Some(state.store.ocsapi_accountinfo(&ids).await?)
    } else if let Some(table) = raw_table(section) {
        Some(state.store.ocsapi_rows(&table, &ids, condition).await?)
    } else {
        None
    };
    Ok(Some(LegacyComputer {
        id,
        hardware,
        tables: rows
            .map(|rows| {
                (
                    section.to_owned(),
                    rows.into_iter().map(|(_, r)| r).collect(),
                )
            })
            .into_iter()
            .collect(),
    }))
}

/// `/computers/lastupdate[/{timestamp}]`: computers inventoried since then (default: the
/// last day).
pub async fn updated_since(
    state: &AppState,
    timestamp: Option<&str>,
) -> Result<Vec<i64>, AppError> {
    let since = match timestamp {
        None => state.clock.now() - 86_400,
        Some(t) => t.trim().parse::<i64>().map_err(|_| {
            AppError::bad_request("E_BAD_PARAM", format!("{t:?} is not a Unix timestamp"))
        })?,
    };
    Ok(state.store.ocsapi_updated_since(since).await?)
}

/// `/computers/search`: every parameter but `start`, `limit` and `orderby` is a hardware
/// column that must equal its value (`null`: is NULL); `orderby=COLUMN;ASC|DESC`.
pub async fn search(state: &AppState, params: &[(String, String)]) -> Result<Vec<i64>, AppError> {
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    let (start, limit) = page(get("start"), get("limit"), false)?;
    let order_by = match get("orderby") {
        None | Some("") => None,
        Some(text) => {
            let (column, direction) = text.split_once(';').unwrap_or((text, "ASC"));
            let desc = match direction.trim().to_ascii_uppercase().as_str() {
                "ASC" | "" => false,
                "DESC" => true,
                other => {
                    return Err(AppError::bad_request(
                        "E_BAD_PARAM",
                        format!("orderby direction is ASC or DESC, not {other:?}"),
                    ))
                }
            };
            Some((column.trim().to_owned(), desc))
        }
    };
    let equals = params
        .iter()
        .filter(|(k, _)| {
            !["start", "limit", "orderby"]
                .iter()
                .any(|s| k.eq_ignore_ascii_case(s))
        })
        .map(|(k, v)| {
            (
                k.clone(),
                (!v.eq_ignore_ascii_case("null")).then(|| v.clone()),
            )
        })
        .collect();
    let search = RawSearch {
        equals,
        order_by,
        start,
        limit,
    };
    Ok(state.store.ocsapi_search(&search).await?)
}

/// `/softwares`: distinct name, publisher and version, names starting with `soft`.
pub async fn softwares(
    state: &AppState,
    start: i64,
    limit: i64,
    soft: Option<&str>,
) -> Result<Vec<(String, String, String)>, AppError> {
    let soft = soft.filter(|s| !s.is_empty());
    Ok(state.store.ocsapi_softwares(soft, start, limit).await?)
}

/// `/ipdiscover`: the networks IP discovery has seen.
pub async fn networks(state: &AppState) -> Result<Vec<String>, AppError> {
    Ok(state.store.ocsapi_netids().await?)
}

/// `/ipdiscover/network/{netid}` and `/ipdiscover/tag/{tag}`: discovered devices.
pub async fn discovered(
    state: &AppState,
    by_tag: bool,
    key: &str,
) -> Result<Vec<RawRow>, AppError> {
    Ok(state.store.ocsapi_netmap(by_tag, key).await?)
}

/// `/snmps/typeList`: `(ID, TABLE_TYPE_NAME, TYPE_NAME)`.
pub async fn snmp_types(state: &AppState) -> Result<Vec<(i64, String, String)>, AppError> {
    Ok(state
        .store
        .ocsapi_snmp_types()
        .await?
        .into_iter()
        .zip(1..)
        .map(|((table, name), id)| (id, table, name))
        .collect())
}

/// `/snmp/{table}` and `/snmp/{table}/{id}`: devices of an SNMP type (none for a table that
/// is no type).
pub async fn snmp_devices(
    state: &AppState,
    table: &str,
    id: Option<i64>,
    start: i64,
    limit: i64,
) -> Result<Vec<RawRow>, AppError> {
    let known = state
        .store
        .ocsapi_snmp_types()
        .await?
        .into_iter()
        .any(|(t, _)| t == table);
    if !known {
        return Ok(Vec::new());
    }
    Ok(state
        .store
        .ocsapi_snmp_devices(table, id, start, limit)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded_and_never_cut() {
        assert_eq!(page(Some("20"), Some("10"), true).unwrap(), (20, 10));
        assert!(
            page(None, None, true).is_err(),
            "the original needs limit > 0"
        );
        assert_eq!(page(None, None, false).unwrap(), (0, MAX_LIMIT));
        assert!(page(None, Some("5000"), false).is_err());
        assert!(page(Some("-1"), Some("5"), false).is_err());
    }

    #[test]
    fn conditions_need_all_three_parts() {
        assert!(condition(Some("NAME"), None, Some("x")).unwrap().is_none());
        let c = condition(Some("NAME"), Some("like"), Some("lib"))
            .unwrap()
            .unwrap();
        assert_eq!(c.operator, RawOperator::Like);
        assert!(condition(Some("NAME"), Some("; drop"), Some("x")).is_err());
    }
}
