//! Request documents as an agent writes them: PROLOG, INVENTORY with its sections,
//! ACCOUNTINFO, OLD_DEVICEID and the package history, and the DOWNLOAD status report. The shape is the Unix agent's (double-quoted declaration,
//! two-space indentation, one field per line) so that the original server, which parses with
//! XML::Simple, reads our documents exactly as it reads the Perl agent's.
//!
//! This module owns XML escaping for requests and the removal of characters XML 1.0 forbids;
//! it does not decide which sections or fields exist (the agent does) and does no I/O.

use std::fmt::Write as _;

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// A PROLOG request: exactly DEVICEID and QUERY, as the Unix agent sends it.
pub fn prolog_request(deviceid: &str) -> String {
    let mut out = String::from(DECLARATION);
    out.push_str("<REQUEST>\n");
    element(&mut out, 2, "DEVICEID", deviceid);
    element(&mut out, 2, "QUERY", "PROLOG");
    out.push_str("</REQUEST>\n");
    out
}

/// Builds an INVENTORY request. Sections are written in the order they are added; fields
/// in the order given. Empty field values are left out, as the Unix agent does, because the
/// original server treats an element with no text as absent anyway.
#[derive(Debug)]
pub struct InventoryWriter {
    out: String,
    deviceid: String,
}

impl InventoryWriter {
    /// Starts a document for this DEVICEID.
    pub fn new(deviceid: &str) -> InventoryWriter {
        let mut out = String::with_capacity(64 * 1024);
        out.push_str(DECLARATION);
        out.push_str("<REQUEST>\n  <CONTENT>\n");
        InventoryWriter {
            out,
            deviceid: deviceid.to_owned(),
        }
    }

    /// Writes one row of a section (`<CPUS>…</CPUS>`). A row whose fields are all empty is
    /// skipped: the server would read it as absent.
    pub fn row<'a, I>(&mut self, section: &str, fields: I)
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut body = String::new();
        for (name, value) in fields {
            if !value.trim().is_empty() {
                element(&mut body, 6, name, value);
            }
        }
        if body.is_empty() {
            return;
        }
        let _ = writeln!(self.out, "    <{section}>");
        self.out.push_str(&body);
        let _ = writeln!(self.out, "    </{section}>");
    }

    /// Writes one `ACCOUNTINFO` entry (administrative data: TAG and custom fields).
    pub fn accountinfo(&mut self, keyname: &str, keyvalue: &str) {
        self.out.push_str("    <ACCOUNTINFO>\n");
        element(&mut self.out, 6, "KEYNAME", keyname);
        element(&mut self.out, 6, "KEYVALUE", keyvalue);
        self.out.push_str("    </ACCOUNTINFO>\n");
    }

    /// Writes `CONTENT/OLD_DEVICEID`, where both the original server and ours look for it.
    pub fn old_deviceid(&mut self, old: &str) {
        element(&mut self.out, 4, "OLD_DEVICEID", old);
    }

    /// Writes `CONTENT/DOWNLOAD/HISTORY` with one `<PACKAGE ID="…"/>` per deployed package,
    /// as the Unix agent does from its `history` file. An empty list is still written, as
    /// the Unix agent writes it.
    pub fn download_history<'a, I>(&mut self, ids: I)
    where
        I: IntoIterator<Item = &'a str>,
    {
        self.out.push_str("    <DOWNLOAD>\n      <HISTORY>\n");
        for id in ids {
            self.out.push_str("        <PACKAGE ID=\"");
            escape_attribute_into(&mut self.out, id);
            self.out.push_str("\" />\n");
        }
        self.out.push_str("      </HISTORY>\n    </DOWNLOAD>\n");
    }

    /// Writes `CONTENT/IPDISCOVER` with one `H` (`I` address, `M` MAC, `N` name or `-`) per
    /// host an IP discovery scan found (reference §5.4), as the Unix agent does. Nothing is
    /// written for an empty list: the Unix agent adds the element only with its first host.
    pub fn ipdiscover(&mut self, hosts: &[crate::inventory::DiscoveredHost]) {
        if hosts.is_empty() {
            return;
        }
        self.out.push_str("    <IPDISCOVER>\n");
        for h in hosts {
            self.out.push_str("      <H>\n");
            element(&mut self.out, 8, "I", &h.ip);
            element(&mut self.out, 8, "M", &h.mac);
            // An empty N would read as absent; `-` is what agents send for "no name".
            let name = if h.name.trim().is_empty() {
                "-"
            } else {
                &h.name
            };
            element(&mut self.out, 8, "N", name);
            self.out.push_str("      </H>\n");
        }
        self.out.push_str("    </IPDISCOVER>\n");
    }

    /// Closes the document.
    pub fn finish(mut self) -> String {
        self.out.push_str("  </CONTENT>\n");
        element(&mut self.out, 2, "DEVICEID", &self.deviceid);
        element(&mut self.out, 2, "QUERY", "INVENTORY");
        self.out.push_str("</REQUEST>\n");
        self.out
    }
}

/// A `QUERY=DOWNLOAD` report of one package's status (`SUCCESS`, `ERR_BAD_DIGEST`, …), in
/// the Unix agent's shape: one empty `REQUEST` element carrying everything as attributes.
pub fn download_report(deviceid: &str, package_id: &str, status: &str) -> String {
    let mut out = String::from(DECLARATION);
    out.push_str("<REQUEST DEVICEID=\"");
    escape_attribute_into(&mut out, deviceid);
    out.push_str("\" ERR=\"");
    escape_attribute_into(&mut out, status);
    out.push_str("\" ID=\"");
    escape_attribute_into(&mut out, package_id);
    out.push_str("\" QUERY=\"DOWNLOAD\" />\n");
    out
}

/// Escapes text for a double-quoted attribute value.
fn escape_attribute_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            c => escape_into(out, c.encode_utf8(&mut [0; 4])),
        }
    }
}

fn element(out: &mut String, indent: usize, name: &str, text: &str) {
    for _ in 0..indent {
        out.push(' ');
    }
    let _ = write!(out, "<{name}>");
    escape_into(out, text);
    let _ = writeln!(out, "</{name}>");
}

/// Escapes text for an element body and drops the characters XML 1.0 does not allow
/// (control characters other than tab and newlines): package descriptions and DMI strings
/// sometimes carry them, and one of them would make the whole inventory unreadable.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' => out.push(c),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{parse_request, Query};
    use crate::Inventory;

    #[test]
    fn prolog_matches_the_unix_agent_byte_for_byte() {
        // ../shared/fixtures/real-agent/ocs-agent/01-PROLOG-request.xml
        let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<REQUEST>\n  <DEVICEID>vm-2026-11-21-12-46-33</DEVICEID>\n  <QUERY>PROLOG</QUERY>\n</REQUEST>\n";
        assert_eq!(prolog_request("vm-2026-11-21-12-46-33"), expected);
    }

    #[test]
    fn inventory_reads_back_with_the_server_semantics() {
        let mut w = InventoryWriter::new("pc-2024-01-01-00-00-00");
        w.row(
            "HARDWARE",
            [("CHECKSUM", "262145"), ("NAME", "pc"), ("UUID", "")],
        );
        w.row("CPUS", [("TYPE", "A & B <x>"), ("CORES", "4")]);
        w.row("CPUS", [("TYPE", "second")]);
        w.row("BIOS", [("SSN", "  ")]);
        w.row(
            "SOFTWARES",
            [("NAME", "bad\u{1}chars\u{7f}"), ("VERSION", "1")],
        );
        w.accountinfo("TAG", "PARIS");
        w.old_deviceid("old-2020-01-01-00-00-00");
        w.download_history(["1709631234", "1709630000"]);
        let xml = w.finish();
        assert!(!xml.contains("<BIOS>"), "an empty row is not written");
        assert!(!xml.contains("<UUID>"), "an empty field is not written");

        let req = parse_request(xml.as_bytes()).unwrap();
        assert_eq!(req.query, Query::Inventory);
        let inv = Inventory::from_request(&req).unwrap();
        assert_eq!(inv.checksum, Some(262145));
        assert_eq!(inv.hardware_text("NAME"), Some("pc"));
        let cpus = inv.section("CPUS").unwrap();
        assert_eq!(cpus.rows.len(), 2);
        assert_eq!(inv.column_texts("CPUS", "TYPE"), ["A & B <x>", "second"]);
        assert_eq!(inv.accountinfo, Some(vec![("TAG".into(), "PARIS".into())]));
        assert_eq!(inv.old_deviceid.as_deref(), Some("old-2020-01-01-00-00-00"));
        assert_eq!(
            inv.download_history,
            Some(vec!["1709630000".into(), "1709631234".into()])
        );
        let software = &inv.softwares.unwrap()[0];
        assert_eq!(software[0].as_text(), Some("badchars\u{7f}"));
    }

    #[test]
    fn an_empty_history_is_still_written() {
        let mut w = InventoryWriter::new("pc-2024-01-01-00-00-00");
        w.row("HARDWARE", [("NAME", "pc")]);
        w.download_history([]);
        let xml = w.finish();
        assert!(
            xml.contains("    <DOWNLOAD>\n      <HISTORY>\n      </HISTORY>\n    </DOWNLOAD>\n")
        );
        // Blank elements read as absent, as XML::Simple folds them.
        let req = parse_request(xml.as_bytes()).unwrap();
        assert_eq!(
            Inventory::from_request(&req).unwrap().download_history,
            None
        );
    }

    #[test]
    fn ipdiscover_hosts_read_back_and_an_empty_scan_writes_nothing() {
        use crate::inventory::DiscoveredHost;
        let host = |ip: &str, mac: &str, name: &str| DiscoveredHost {
            ip: ip.into(),
            mac: mac.into(),
            name: name.into(),
        };
        let mut w = InventoryWriter::new("pc-2024-01-01-00-00-00");
        w.row("HARDWARE", [("NAME", "pc")]);
        w.ipdiscover(&[
            host("10.1.2.1", "00:1a:2b:3c:4d:5e", "gw.example.org"),
            host("10.1.2.77", "3c:52:82:aa:bb:cc", ""),
        ]);
        let xml = w.finish();
        assert!(xml.contains(
            "    <IPDISCOVER>\n      <H>\n        <I>10.1.2.1</I>\n        <M>00:1a:2b:3c:4d:5e</M>\n        <N>gw.example.org</N>\n      </H>\n"
        ), "{xml}");
        let req = parse_request(xml.as_bytes()).unwrap();
        let inv = Inventory::from_request(&req).unwrap();
        assert_eq!(
            inv.ipdiscover,
            Some(vec![
                host("10.1.2.1", "00:1a:2b:3c:4d:5e", "gw.example.org"),
                host("10.1.2.77", "3c:52:82:aa:bb:cc", "-"),
            ])
        );

        let mut w = InventoryWriter::new("pc-2024-01-01-00-00-00");
        w.ipdiscover(&[]);
        assert!(!w.finish().contains("IPDISCOVER"));
    }

    #[test]
    fn download_reports_read_back() {
        let xml = download_report("pc-2024-01-01-00-00-00", "1709631234", "ERR_BAD_DIGEST");
        let req = parse_request(xml.as_bytes()).unwrap();
        assert_eq!(req.query, Query::Download);
        assert_eq!(req.deviceid.as_deref(), Some("pc-2024-01-01-00-00-00"));
        let report = req.download_report().unwrap();
        assert_eq!(report.package_id, "1709631234");
        assert_eq!(report.status, "ERR_BAD_DIGEST");
        let odd = download_report("pc-2024-01-01-00-00-00", "1", "A\"<&>");
        let req = parse_request(odd.as_bytes()).unwrap();
        assert_eq!(req.download_report().unwrap().status, "A\"<&>");
    }
}
