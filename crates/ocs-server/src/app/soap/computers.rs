//! `get_computers_V1`: the request document's selection (IDs, TAGs, USERIDs, CHECKSUM
//! filter, sort, page) and the answer: `<COMPUTERS>\n`, one `<COMPUTER>` document per
//! computer (META, or the INVENTORY of the sections CHECKSUM names plus the WANTED extras),
//! `</COMPUTERS>\n`, each a separate value as the original returned them. Also
//! `get_snmp_V1`, whose request has the same page rules.
//!
//! The sections are read by the REST API's reads (`ocs_storage::ocsapi`), which give the
//! original's column names.

use std::collections::HashMap;

use ocs_proto::catalogue::{self, ALL_SECTIONS_CHANGED};
use ocs_proto::Value;
use ocs_storage::{raw_table, RawRow, RawSelection, SoapSelection, SoapSort};

use super::document::{parse_request, RequestDoc};
use super::methods::{datetime, digits, error_value};
use super::writer::{Node, SoapValue};
use super::{client_fault, Limits};
use crate::app::{AppError, AppState};

/// WANTED bit: the administrative data.
pub const WANTED_ACCOUNTINFO: i64 = 1;
/// WANTED bit: the dictionary words of the computer's software.
pub const WANTED_DICO_SOFT: i64 = 2;

/// The first row of the page: `OFFSET` pages of `limit`, or `BEGIN` rows; else the error
/// code to answer.
fn begin(doc: &RequestDoc, limit: i64) -> Result<i64, &'static str> {
    if let Some(offset) = doc.get("OFFSET") {
        return digits(Some(offset))
            .map(|o| o.saturating_mul(limit))
            .ok_or("BAD_OFFSET");
    }
    if let Some(begin) = doc.get("BEGIN") {
        return digits(Some(begin)).ok_or("BAD_BEGIN_VALUE");
    }
    Ok(0)
}

/// Perl's truth of a string: neither empty nor `"0"`.
fn truthy(text: Option<&str>) -> bool {
    text.is_some_and(|t| !t.is_empty() && t != "0")
}

/// The leading number of a string as Perl's numeric context reads it (0 for none).
fn perl_number(text: Option<&str>) -> i64 {
    let text = text.unwrap_or_default();
    let end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    text[..end].parse().unwrap_or(0)
}

fn both(doc: &RequestDoc, a: &str, b: &str) -> Result<(), AppError> {
    if doc.get(a).is_some() && doc.get(b).is_some() {
        return Err(client_fault(format!(
            "BAD_REQUEST: {a} and {b} cannot be combined"
        )));
    }
    Ok(())
}

fn texts(doc: &RequestDoc, name: &str) -> Vec<String> {
    doc.all(name).into_iter().map(str::to_owned).collect()
}

/// Answers `get_computers_V1` (`limit`: WEB_SERVICE_RESULTS_LIMIT).
pub async fn get_computers(
    state: &AppState,
    limit: i64,
    request: &str,
) -> Result<Vec<SoapValue>, AppError> {
    let request = request.strip_suffix('\\').unwrap_or(request);
    let doc = parse_request(request, &Limits::default())?;
    let begin = match begin(&doc, limit) {
        Ok(b) => b,
        Err(code) => return error_value(code),
    };
    let sort = match doc.get("SORT_BY") {
        Some(s) if s.contains("LASTCOME") => SoapSort::LastCome,
        Some(s) if s.contains("LASTDATE") => SoapSort::LastDate,
        _ => SoapSort::Id,
    };
    match doc.get("ENGINE") {
        None => {}
        Some(e) if e.eq_ignore_ascii_case("FIRST") => {}
        Some(e) => {
            return Err(client_fault(format!(
                "ENGINE {e:?} is unknown; the only one is FIRST"
            )))
        }
    }
    both(&doc, "ID", "EXCLUDE_ID")?;
    both(&doc, "TAG", "EXCLUDE_TAG")?;
    let ids = |name| {
        doc.all(name)
            .into_iter()
            .filter_map(|t| digits(Some(t)))
            .collect()
    };
    let checksum = if truthy(doc.get("CHECKSUM")) {
        match digits(doc.get("CHECKSUM")) {
            Some(c) => Some(c),
            None => return error_value("BAD_CHECKSUM"),
        }
    } else {
        None
    };
    let kind = doc
        .get("ASKING_FOR")
        .unwrap_or("INVENTORY")
        .to_ascii_uppercase();
    if kind != "META" && kind != "INVENTORY" {
        return Err(client_fault(format!(
            "ASKING_FOR {kind:?} is unknown: META or INVENTORY"
        )));
    }
    let selection = SoapSelection {
        ids: ids("ID"),
        exclude_ids: ids("EXCLUDE_ID"),
        tags: texts(&doc, "TAG"),
        exclude_tags: texts(&doc, "EXCLUDE_TAG"),
        userids: texts(&doc, "USERID"),
        checksum,
        sort,
        descending: doc.get("SORT_DIR") == Some("DESC"),
        begin,
        limit,
    };
    let found = state.store.soap_computer_ids(&selection).await?;
    let mut out = vec![SoapValue::Text("<COMPUTERS>\n".into())];
    let documents = if kind == "META" {
        meta(state, &found).await?
    } else {
        // Every section unless CHECKSUM holds a number (0 included: then none).
        let sections = doc
            .get("CHECKSUM")
            .filter(|c| c.bytes().any(|b| b.is_ascii_digit()))
            .map_or(ALL_SECTIONS_CHANGED as i64, |c| perl_number(Some(c)));
        let wanted = perl_number(doc.get("WANTED"));
        inventories(state, &found, sections, wanted).await?
    };
    out.extend(documents.into_iter().map(SoapValue::Text));
    out.push(SoapValue::Text("</COMPUTERS>\n".into()));
    Ok(out)
}

async fn meta(state: &AppState, ids: &[i64]) -> Result<Vec<String>, AppError> {
    let rows = state.store.soap_meta(ids).await?;
    let date = |d: Option<i64>| d.map(datetime);
    rows.iter()
        .map(|m| {
            Node::parent(
                "COMPUTER",
                vec![
                    Node::text("NAME", m.name.as_deref()),
                    Node::text("TAG", m.tag.as_deref()),
                    Node::text("DEVICEID", Some(&m.deviceid)),
                    Node::text("LASTDATE", date(m.lastdate).as_deref()),
                    Node::text("LASTCOME", date(m.lastcome).as_deref()),
                    Node::text("CHECKSUM", m.checksum.map(|c| c.to_string()).as_deref()),
                    Node::text("DATABASEID", Some(&m.id.to_string())),
                ],
            )
            .document()
        })
        .collect()
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Int(n) => Some(n.to_string()),
        Value::Text(t) => Some(t.clone()),
    }
}

/// One row as a section element: a child per column, the keys left out.
fn row_node(element: &str, row: &RawRow) -> Node {
    Node::parent(
        element,
        row.iter()
            .filter(|(k, _)| k != "ID" && k != "HARDWARE_ID")
            .map(|(k, v)| Node::text(k, text_of(v).as_deref()))
            .collect(),
    )
}

/// Each computer's elements, in the page's order, found by ID.
struct Page {
    order: Vec<i64>,
    nodes: HashMap<i64, Vec<Node>>,
}

impl Page {
    fn push(&mut self, id: i64, node: Node) {
        if let Some(nodes) = self.nodes.get_mut(&id) {
            nodes.push(node);
        }
    }

    fn add_rows(&mut self, element: &str, rows: Vec<(i64, RawRow)>) {
        for (id, row) in rows {
            self.push(id, row_node(element, &row));
        }
    }
}

async fn inventories(
    state: &AppState,
    ids: &[i64],
    sections: i64,
    wanted: i64,
) -> Result<Vec<String>, AppError> {
    let mut page = Page {
        order: ids.to_vec(),
        nodes: ids.iter().map(|id| (*id, Vec::new())).collect(),
    };
    let on = |mask: u64| mask != 0 && (sections as u64) & mask != 0;
    if on(catalogue::HARDWARE.mask) {
        let rows = state.store.ocsapi_hardware(RawSelection::Ids(ids)).await?;
        let keyed = rows
            .into_iter()
            .filter_map(|row| {
                let id = row
                    .iter()
                    .find(|(k, _)| k == "ID")
                    .and_then(|(_, v)| match v {
                        Value::Int(n) => Some(*n),
                        _ => None,
                    })?;
                Some((id, row))
            })
            .collect();
        page.add_rows("HARDWARE", keyed);
    }
    for section in catalogue::SECTIONS.iter().filter(|s| on(s.mask)) {
        let Some(table) = raw_table(section.table) else {
            continue;
        };
        let rows = state.store.ocsapi_rows(&table, ids, None).await?;
        page.add_rows(&section.table.to_ascii_uppercase(), rows);
    }
    if on(catalogue::SOFTWARES.mask) {
        let rows = state.store.ocsapi_software(ids, None).await?;
        page.add_rows("SOFTWARES", rows);
    }
    if wanted & WANTED_ACCOUNTINFO != 0 {
        let labels: Vec<(String, String)> = state
            .store
            .list_accountinfo_fields()
            .await?
            .into_iter()
            .map(|f| (format!("fields_{}", f.id), f.label))
            .collect();
        for (id, row) in state.store.ocsapi_accountinfo(ids).await? {
            let entries = row
                .iter()
                .filter(|(k, _)| k != "HARDWARE_ID")
                .map(|(k, v)| {
                    let name = labels
                        .iter()
                        .find(|(key, _)| key == k)
                        .map_or(k.as_str(), |(_, label)| label.as_str());
                    Node::text("ENTRY", text_of(v).as_deref()).attribute("Name", name)
                })
                .collect();
            page.push(id, Node::parent("ACCOUNTINFO", entries));
        }
    }
    if wanted & WANTED_DICO_SOFT != 0 {
        let mut words: HashMap<i64, Vec<Node>> = HashMap::new();
        for (id, word) in state.store.soap_dico_soft(ids).await? {
            words
                .entry(id)
                .or_default()
                .push(Node::text("WORD", Some(&word)));
        }
        for id in ids {
            let mine = words.remove(id).unwrap_or_default();
            page.push(*id, Node::parent("DICO_SOFT", mine));
        }
    }
    page.order
        .iter()
        .filter_map(|id| page.nodes.remove(id))
        .map(|nodes| Node::parent("COMPUTER", nodes).document())
        .collect()
}

/// Answers `get_snmp_V1`: its page rules checked, and no device, since the original reads
/// SNMP tables that 2.7 and later no longer have.
pub fn get_snmp(request: &str) -> Result<Vec<SoapValue>, AppError> {
    let doc = parse_request(request, &Limits::default())?;
    if let Err(code) = begin(&doc, 1) {
        return error_value(code);
    }
    Ok(vec![
        SoapValue::Text("<SNMP_DEVICES>\n".into()),
        SoapValue::Text("</SNMP_DEVICES>\n".into()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_numbers_read_as_the_original() {
        let doc = parse_request("<R><OFFSET>2</OFFSET></R>", &Limits::default()).unwrap();
        assert_eq!(begin(&doc, 100), Ok(200));
        let doc = parse_request("<R><BEGIN>7</BEGIN></R>", &Limits::default()).unwrap();
        assert_eq!(begin(&doc, 100), Ok(7));
        let doc = parse_request("<R><OFFSET>x</OFFSET></R>", &Limits::default()).unwrap();
        assert_eq!(begin(&doc, 100), Err("BAD_OFFSET"));
        assert_eq!(perl_number(Some("12abc")), 12);
        assert_eq!(perl_number(None), 0);
        assert!(!truthy(Some("0")) && truthy(Some("4099")));
        assert!(get_snmp("<R><BEGIN>-1</BEGIN></R>").is_ok());
    }
}
