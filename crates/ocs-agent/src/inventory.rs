//! From collected sections to the INVENTORY document: the per-section digests, the CHECKSUM
//! bitmask computed against the digests the server last acknowledged, and the XML itself
//! (written by `ocs_proto::writer`, in the Unix agent's shape: sections and fields sorted).
//!
//! CHECKSUM tells the server which sections changed, so with `INVENTORY_DIFF` it rewrites
//! only those; a bit wrongly cleared would leave stale data on the server, so every section
//! whose digest differs in any way, appears or disappears gets its bit.

use std::collections::BTreeMap;

use ocs_proto::catalogue;
use ocs_proto::writer::InventoryWriter;
use sha2::{Digest, Sha256};

use crate::collectors::Section;
use crate::state::AccountEntry;

/// The CHECKSUM bit of a section; 0 for sections without one (LOCAL_USERS, REPOSITORY…),
/// which the server rewrites whenever they are present.
pub fn mask(element: &str) -> u64 {
    match element {
        "HARDWARE" => catalogue::HARDWARE.mask,
        "SOFTWARES" => catalogue::SOFTWARES.mask,
        other => catalogue::section(other).map_or(0, |s| s.mask),
    }
}

/// A digest of each section's content. HARDWARE's CHECKSUM field is left out, since it is
/// computed from the digests.
pub fn digests(sections: &[Section]) -> BTreeMap<String, String> {
    sections
        .iter()
        .map(|s| {
            let mut h = Sha256::new();
            for row in &s.rows {
                for (k, v) in row.sorted() {
                    if s.element == "HARDWARE" && k == "CHECKSUM" {
                        continue;
                    }
                    h.update(k.as_bytes());
                    h.update([0]);
                    h.update(v.as_bytes());
                    h.update([0]);
                }
                h.update([1]);
            }
            (s.element.to_owned(), hex::encode(h.finalize()))
        })
        .collect()
}

/// The CHECKSUM: the bits of the sections whose digest differs from the acknowledged one
/// (including sections that appeared or disappeared). A first inventory (no previous
/// digests) has every bit set, as the original agent's does.
pub fn checksum(current: &BTreeMap<String, String>, previous: &BTreeMap<String, String>) -> u64 {
    if previous.is_empty() {
        return catalogue::ALL_SECTIONS_CHANGED;
    }
    let mut sum = 0;
    for key in current.keys().chain(previous.keys()) {
        if current.get(key) != previous.get(key) {
            sum |= mask(key);
        }
    }
    // HARDWARE is always processed by the server; the bit keeps the record's change flag.
    sum | catalogue::HARDWARE.mask
}

/// What goes into an INVENTORY besides the sections.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Administrative data to send (TAG first, as the Unix agent orders them).
    pub accountinfo: Vec<AccountEntry>,
    /// The previous DEVICEID, when it changed.
    pub old_deviceid: Option<String>,
    /// The deployed packages' FILEIDs (`DOWNLOAD/HISTORY`), when talking to a server.
    pub download_history: Option<Vec<String>>,
    /// Hosts an IP discovery scan found (`IPDISCOVER`), when one ran.
    pub ipdiscover: Option<Vec<ocs_proto::inventory::DiscoveredHost>>,
    /// Rows the plugins added, in plugin order; written after everything else, with no
    /// CHECKSUM bit and no digest.
    pub plugins: Vec<crate::plugins::PluginRow>,
}

/// Writes the INVENTORY document, with `checksum` in HARDWARE.
pub fn to_xml(deviceid: &str, sections: &[Section], checksum: u64, extras: &Extras) -> String {
    let mut w = InventoryWriter::new(deviceid);
    let mut accountinfo_written = false;
    for s in sections {
        if !accountinfo_written && s.element > "ACCOUNTINFO" {
            for e in &extras.accountinfo {
                w.accountinfo(&e.key, &e.value);
            }
            accountinfo_written = true;
        }
        for row in &s.rows {
            if s.element == "HARDWARE" {
                let sum = checksum.to_string();
                let mut fields = row.sorted();
                fields.push(("CHECKSUM", &sum));
                fields.sort_by(|a, b| a.0.cmp(b.0));
                w.row(s.element, fields);
            } else {
                w.row(s.element, row.sorted());
            }
        }
    }
    if !accountinfo_written {
        for e in &extras.accountinfo {
            w.accountinfo(&e.key, &e.value);
        }
    }
    if let Some(old) = &extras.old_deviceid {
        w.old_deviceid(old);
    }
    if let Some(history) = &extras.download_history {
        w.download_history(history.iter().map(String::as_str));
    }
    if let Some(hosts) = &extras.ipdiscover {
        w.ipdiscover(hosts);
    }
    for row in &extras.plugins {
        w.row(
            &row.section,
            row.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::Row;
    use ocs_proto::request::parse_request;

    fn section(element: &'static str, values: &[&str]) -> Section {
        Section {
            element,
            rows: values
                .iter()
                .map(|v| {
                    let mut r = Row::new();
                    r.set("NAME", *v);
                    r
                })
                .collect(),
        }
    }

    #[test]
    fn checksum_bits() {
        let a = vec![
            section("HARDWARE", &["pc"]),
            section("CPUS", &["x"]),
            section("DRIVES", &["/"]),
            section("LOCAL_USERS", &["root"]),
        ];
        let first = digests(&a);
        assert_eq!(
            checksum(&first, &BTreeMap::new()),
            catalogue::ALL_SECTIONS_CHANGED
        );
        assert_eq!(checksum(&first, &first), 1);
        let b = vec![
            section("HARDWARE", &["pc"]),
            section("CPUS", &["x"]),
            section("DRIVES", &["/", "/home"]),
            section("LOCAL_USERS", &["root", "bob"]),
        ];
        assert_eq!(
            checksum(&digests(&b), &first),
            1 | 512,
            "LOCAL_USERS has no bit"
        );
        let c = vec![
            section("HARDWARE", &["pc"]),
            section("DRIVES", &["/"]),
            section("PRINTERS", &["p"]),
        ];
        assert_eq!(
            checksum(&digests(&c), &first),
            1 | 262144 | 8192,
            "a section that disappears or appears changed"
        );
    }

    #[test]
    fn document_carries_checksum_accountinfo_and_old_deviceid() {
        let sections = vec![
            section("BIOS", &["b"]),
            section("CPUS", &["c"]),
            section("HARDWARE", &["pc"]),
        ];
        let extras = Extras {
            accountinfo: vec![AccountEntry {
                key: "TAG".into(),
                value: "LYON".into(),
            }],
            old_deviceid: Some("pc-2020-01-01-00-00-00".into()),
            download_history: Some(vec!["1709631234".into()]),
            ipdiscover: Some(vec![ocs_proto::inventory::DiscoveredHost {
                ip: "192.0.2.21".into(),
                mac: "00:1b:21:0a:00:15".into(),
                name: "-".into(),
            }]),
            plugins: vec![crate::plugins::PluginRow {
                section: "FAILED_UNITS".into(),
                fields: vec![
                    ("NAME".into(), "a&b.service".into()),
                    ("DESCRIPTION".into(), "<x> \"y\"".into()),
                ],
            }],
        };
        let xml = to_xml("pc-2024-01-01-00-00-00", &sections, 513, &extras);
        let at = |needle: &str| xml.find(needle).unwrap();
        assert!(
            at("<ACCOUNTINFO>") < at("<BIOS>"),
            "sections in alphabetical order"
        );
        let req = parse_request(xml.as_bytes()).unwrap();
        let inv = ocs_proto::Inventory::from_request(&req).unwrap();
        assert_eq!(inv.checksum, Some(513));
        assert_eq!(inv.download_history, Some(vec!["1709631234".into()]));
        assert_eq!(
            inv.ipdiscover.as_ref().map(|h| h[0].mac.as_str()),
            Some("00:1b:21:0a:00:15")
        );
        assert_eq!(inv.accountinfo, Some(vec![("TAG".into(), "LYON".into())]));
        assert_eq!(inv.old_deviceid.as_deref(), Some("pc-2020-01-01-00-00-00"));
        assert_eq!(inv.hardware_text("NAME"), Some("pc"));
        assert!(
            at("</IPDISCOVER>") < at("<FAILED_UNITS>"),
            "plugin sections come last"
        );
        assert!(xml.contains("<NAME>a&amp;b.service</NAME>"), "{xml}");
        let doc = ocs_proto::xml::parse(xml.as_bytes()).unwrap();
        let unit = doc.child("CONTENT").unwrap().child("FAILED_UNITS").unwrap();
        assert_eq!(unit.value("DESCRIPTION"), Some("<x> \"y\""));
        assert_eq!(unit.value("NAME"), Some("a&b.service"));
    }
}
