//! An INVENTORY request turned into typed rows: one entry per present section, values
//! normalised field by field from the catalogue, plus the capacity parts (ACCOUNTINFO,
//! DOWNLOAD history, IPDISCOVER results, OLD_DEVICEID).

use crate::catalogue::{self, Section, Storage};
use crate::extra::{ExtraCollector, ExtraSection};
use crate::request::AgentRequest;
use crate::value::{normalise, Value};
use crate::xml::Element;

/// A stored row: one value per field of its section, in catalogue order.
pub type Row = Vec<Value>;

/// The rows of one section present in the inventory.
#[derive(Debug, Clone)]
pub struct SectionRows {
    /// The section.
    pub section: &'static Section,
    /// Its rows (exactly one for single-row sections).
    pub rows: Vec<Row>,
}

/// One host found by an IP discovery scan (`IPDISCOVER/H`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredHost {
    /// IPv4 address (`I`).
    pub ip: String,
    /// MAC address (`M`).
    pub mac: String,
    /// Name, or `-` (`N`).
    pub name: String,
}

impl PartialEq for SectionRows {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.section, other.section) && self.rows == other.rows
    }
}

impl Eq for SectionRows {}

/// A parsed inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// The device.
    pub deviceid: String,
    /// `HARDWARE/CHECKSUM`; `None` when missing or not a number ("everything changed").
    pub checksum: Option<u64>,
    /// The HARDWARE row, if the section was sent.
    pub hardware: Option<Row>,
    /// `HARDWARE/LASTDATE` when the agent sends a real one (Windows agent).
    pub lastdate: Option<String>,
    /// Generic sections present in the inventory, in catalogue order.
    pub sections: Vec<SectionRows>,
    /// Software rows; `None` when the inventory has no SOFTWARES (the old list is kept).
    pub softwares: Option<Vec<Row>>,
    /// `(KEYNAME, KEYVALUE)` pairs; `None` when no ACCOUNTINFO was sent.
    pub accountinfo: Option<Vec<(String, String)>>,
    /// Package IDs of `DOWNLOAD/HISTORY`; `None` when no DOWNLOAD element was sent.
    pub download_history: Option<Vec<String>>,
    /// IP discovery results; `None` when no IPDISCOVER element was sent.
    pub ipdiscover: Option<Vec<DiscoveredHost>>,
    /// The DEVICEID this machine had before (re-install, rename).
    pub old_deviceid: Option<String>,
    /// Sections the catalogue does not know, in document order (see [`crate::extra`]).
    pub extra_sections: Vec<ExtraSection>,
}

/// Why an INVENTORY cannot be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum InventoryError {
    /// No CONTENT element.
    #[error("INVENTORY without CONTENT")]
    MissingContent,
    /// No DEVICEID.
    #[error("INVENTORY without DEVICEID")]
    MissingDeviceId,
    /// A section with more rows than the server accepts.
    #[error("section {section} has more than {limit} rows")]
    TooManyRows {
        /// The section's element name.
        section: &'static str,
        /// The limit.
        limit: usize,
    },
}

/// Rows accepted per section by default: the largest real inventories hold about 2,000
/// software entries and 1,000 rows of any other section.
pub const DEFAULT_MAX_ROWS_PER_SECTION: usize = 20_000;

impl Inventory {
    /// Reads the inventory out of a parsed request (an element tree), with the default row
    /// limit. The server reads bodies with [`crate::read_request`], which maps the same rows
    /// without building the tree; this is the reference it is tested against, and what agents'
    /// tests use on the documents they write.
    pub fn from_request(req: &AgentRequest) -> Result<Inventory, InventoryError> {
        Inventory::from_request_with(req, DEFAULT_MAX_ROWS_PER_SECTION)
    }

    /// Reads the inventory out of a parsed request; a section with more than
    /// `max_rows_per_section` rows refuses the whole inventory.
    pub fn from_request_with(
        req: &AgentRequest,
        max_rows_per_section: usize,
    ) -> Result<Inventory, InventoryError> {
        let deviceid = req
            .deviceid
            .clone()
            .ok_or(InventoryError::MissingDeviceId)?;
        let content = req
            .root
            .child("CONTENT")
            .ok_or(InventoryError::MissingContent)?;
        let hardware_el = content.child("HARDWARE");
        let (checksum, lastdate) = checksum_and_lastdate(hardware_el);

        let rows_of = |section: &'static Section| -> Result<Vec<Row>, InventoryError> {
            let elements = content.children_named(section.element);
            let mut rows = Vec::new();
            for el in elements {
                if section.storage == Storage::Single && !rows.is_empty() {
                    break;
                }
                if rows.len() >= max_rows_per_section {
                    return Err(InventoryError::TooManyRows {
                        section: section.element,
                        limit: max_rows_per_section,
                    });
                }
                rows.push(row(section, el));
            }
            Ok(rows)
        };
        let mut sections = Vec::new();
        for section in catalogue::SECTIONS {
            let rows = rows_of(section)?;
            if !rows.is_empty() {
                sections.push(SectionRows { section, rows });
            }
        }
        let softwares = rows_of(&catalogue::SOFTWARES)?;

        let accountinfo: Vec<(String, String)> = content
            .children_named("ACCOUNTINFO")
            .filter_map(|a| {
                Some((
                    a.value("KEYNAME")?.trim().to_owned(),
                    a.value("KEYVALUE").unwrap_or_default().to_owned(),
                ))
            })
            .collect();
        let accountinfo_sent = content.child("ACCOUNTINFO").is_some();

        let download = content.child("DOWNLOAD");
        let history = download.and_then(|d| d.child("HISTORY"));
        let download_history = download.map(|_| package_ids(history.into_iter()));
        let ipdiscover = content.child("IPDISCOVER").map(discovered_hosts);
        let mut extra = ExtraCollector::new(max_rows_per_section);
        for child in &content.children {
            extra.add(child);
        }

        // The Windows agent leaves OLD_DEVICEID inside DOWNLOAD/HISTORY; accept it wherever
        // an agent has been seen to put it.
        let old_deviceid = content
            .value("OLD_DEVICEID")
            .or_else(|| history.and_then(|h| h.value("OLD_DEVICEID")))
            .or_else(|| hardware_el.and_then(|h| h.value("OLD_DEVICEID")))
            .map(str::trim)
            .filter(|old| !old.is_empty() && *old != deviceid)
            .map(str::to_owned);

        Ok(Inventory {
            deviceid,
            checksum,
            hardware: hardware_el.map(|el| row(&catalogue::HARDWARE, el)),
            lastdate,
            sections,
            softwares: (!softwares.is_empty()).then_some(softwares),
            accountinfo: accountinfo_sent.then_some(accountinfo),
            download_history,
            ipdiscover,
            old_deviceid,
            extra_sections: extra.finish(),
        })
    }

    /// A value of the HARDWARE row by field name.
    pub fn hardware_text(&self, name: &str) -> Option<&str> {
        let index = catalogue::HARDWARE.field_index(name)?;
        self.hardware.as_ref()?.get(index)?.as_text()
    }

    /// The rows of a generic section, if present.
    pub fn section(&self, element: &str) -> Option<&SectionRows> {
        self.sections.iter().find(|s| s.section.element == element)
    }

    /// A text field of the single row of a section (BIOS/SSN, …).
    pub fn single_text(&self, element: &str, field: &str) -> Option<&str> {
        let rows = self.section(element)?;
        let index = rows.section.field_index(field)?;
        rows.rows.first()?.get(index)?.as_text()
    }

    /// Every value of one text field across a section's rows (NETWORKS/MACADDR, …).
    pub fn column_texts<'a>(&'a self, element: &str, field: &str) -> Vec<&'a str> {
        let Some(rows) = self.section(element) else {
            return Vec::new();
        };
        let Some(index) = rows.section.field_index(field) else {
            return Vec::new();
        };
        rows.rows
            .iter()
            .filter_map(|r| r.get(index)?.as_text())
            .collect()
    }
}

/// Maps the children of `CONTENT` one at a time, in document order, as the streaming reader
/// hands them over (each one a small tree, dropped once mapped), to the same [`Inventory`] as
/// [`Inventory::from_request_with`] reads from the whole tree. Only the children that are
/// present count (blank ones are never handed over), and only the first of each kind the tree
/// reader looks at with `child` is kept.
#[derive(Debug)]
pub(crate) struct ContentMapper {
    max_rows: usize,
    /// Rows per catalogue section, by index in [`catalogue::SECTIONS`].
    sections: Vec<Vec<Row>>,
    softwares: Vec<Row>,
    /// Sections that had more rows than `max_rows` (index `SECTIONS.len()`: SOFTWARES); the
    /// error names the first in catalogue order, as the tree reader's does.
    exceeded: Vec<bool>,
    hardware: Option<Element>,
    accountinfo: Vec<(String, String)>,
    accountinfo_sent: bool,
    download: Option<Element>,
    ipdiscover: Option<Element>,
    old_deviceid: Option<String>,
    deviceid: Option<String>,
    extra: ExtraCollector,
}

impl ContentMapper {
    /// An empty `CONTENT`.
    pub(crate) fn new(max_rows: usize) -> ContentMapper {
        ContentMapper {
            max_rows,
            sections: vec![Vec::new(); catalogue::SECTIONS.len()],
            softwares: Vec::new(),
            exceeded: vec![false; catalogue::SECTIONS.len() + 1],
            hardware: None,
            accountinfo: Vec::new(),
            accountinfo_sent: false,
            download: None,
            ipdiscover: None,
            old_deviceid: None,
            deviceid: None,
            extra: ExtraCollector::new(max_rows),
        }
    }

    /// Whether a child of this name would change the result, so that the reader builds
    /// nothing for the others (unknown elements, a second HARDWARE, rows past the limit).
    pub(crate) fn wants(&self, name: &str) -> bool {
        let section = || -> bool {
            match catalogue::SECTIONS.iter().position(|s| s.element == name) {
                Some(i) => self.wants_row(&catalogue::SECTIONS[i], &self.sections[i], i),
                None => false,
            }
        };
        let special = match name {
            "HARDWARE" => self.hardware.is_none(),
            "SOFTWARES" => self.wants_row(
                &catalogue::SOFTWARES,
                &self.softwares,
                catalogue::SECTIONS.len(),
            ),
            "ACCOUNTINFO" => true,
            "DOWNLOAD" => self.download.is_none(),
            "IPDISCOVER" => self.ipdiscover.is_none(),
            "OLD_DEVICEID" => self.old_deviceid.is_none(),
            "DEVICEID" => self.deviceid.is_none(),
            _ => false,
        };
        special || section() || self.extra.wants(name)
    }

    fn wants_row(&self, section: &Section, rows: &[Row], index: usize) -> bool {
        (section.storage != Storage::Single || rows.is_empty()) && !self.exceeded[index]
    }

    /// The section whose rows an element of this name holds, when its rows can be read field
    /// by field into a [`RowBuffer`] (every section and SOFTWARES; never the names `add` gives
    /// a meaning of their own) and another row would change the result.
    pub(crate) fn row_section(&self, name: &str) -> Option<(usize, &'static Section)> {
        if matches!(
            name,
            "HARDWARE" | "ACCOUNTINFO" | "DOWNLOAD" | "IPDISCOVER" | "OLD_DEVICEID" | "DEVICEID"
        ) {
            return None;
        }
        let (index, section, rows) =
            match catalogue::SECTIONS.iter().position(|s| s.element == name) {
                Some(i) => (i, &catalogue::SECTIONS[i], &self.sections[i]),
                None if name == catalogue::SOFTWARES.element => (
                    catalogue::SECTIONS.len(),
                    &catalogue::SOFTWARES,
                    &self.softwares,
                ),
                None => return None,
            };
        self.wants_row(section, rows, index)
            .then_some((index, section))
    }

    /// A present row element of the section `row_section` gave, read into `row`.
    pub(crate) fn add_row(&mut self, index: usize, row: &RowBuffer) {
        let (section, rows) = match self.sections.get_mut(index) {
            Some(rows) => (&catalogue::SECTIONS[index], rows),
            None => (&catalogue::SOFTWARES, &mut self.softwares),
        };
        if section.storage == Storage::Single && !rows.is_empty() {
            return;
        }
        if rows.len() >= self.max_rows {
            self.exceeded[index] = true;
            return;
        }
        rows.push(row.row());
    }

    /// One present child of `CONTENT`.
    pub(crate) fn add(&mut self, el: Element) {
        if let Some(i) = catalogue::SECTIONS
            .iter()
            .position(|s| s.element == el.name)
        {
            let (section, rows) = (&catalogue::SECTIONS[i], &mut self.sections[i]);
            push_row(section, rows, &mut self.exceeded[i], self.max_rows, &el);
        }
        match el.name.as_str() {
            "SOFTWARES" => push_row(
                &catalogue::SOFTWARES,
                &mut self.softwares,
                &mut self.exceeded[catalogue::SECTIONS.len()],
                self.max_rows,
                &el,
            ),
            "ACCOUNTINFO" => {
                self.accountinfo_sent = true;
                if let Some(key) = el.value("KEYNAME") {
                    let value = el.value("KEYVALUE").unwrap_or_default().to_owned();
                    self.accountinfo.push((key.trim().to_owned(), value));
                }
            }
            "OLD_DEVICEID" if self.old_deviceid.is_none() => self.old_deviceid = Some(el.text),
            "DEVICEID" if self.deviceid.is_none() => self.deviceid = Some(el.text),
            "HARDWARE" if self.hardware.is_none() => self.hardware = Some(el),
            "DOWNLOAD" if self.download.is_none() => self.download = Some(el),
            "IPDISCOVER" if self.ipdiscover.is_none() => self.ipdiscover = Some(el),
            _ => self.extra.add(&el),
        }
    }

    /// `CONTENT/DEVICEID`, which the envelope falls back on.
    pub(crate) fn deviceid(&self) -> Option<&str> {
        self.deviceid.as_deref()
    }

    /// The inventory of the device `deviceid`.
    pub(crate) fn finish(self, deviceid: String) -> Result<Inventory, InventoryError> {
        if let Some(i) = self.exceeded.iter().position(|e| *e) {
            let section = catalogue::SECTIONS
                .get(i)
                .unwrap_or(&catalogue::SOFTWARES)
                .element;
            return Err(InventoryError::TooManyRows {
                section,
                limit: self.max_rows,
            });
        }
        let hardware_el = self.hardware.as_ref();
        let (checksum, lastdate) = checksum_and_lastdate(hardware_el);
        let history = self.download.as_ref().and_then(|d| d.child("HISTORY"));
        let download_history = self
            .download
            .as_ref()
            .map(|_| package_ids(history.into_iter()));
        let ipdiscover = self.ipdiscover.as_ref().map(discovered_hosts);
        let old_deviceid = self
            .old_deviceid
            .as_deref()
            .or_else(|| history.and_then(|h| h.value("OLD_DEVICEID")))
            .or_else(|| hardware_el.and_then(|h| h.value("OLD_DEVICEID")))
            .map(str::trim)
            .filter(|old| !old.is_empty() && *old != deviceid)
            .map(str::to_owned);
        let sections = catalogue::SECTIONS
            .iter()
            .zip(self.sections)
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(section, rows)| SectionRows { section, rows })
            .collect();
        Ok(Inventory {
            checksum,
            hardware: hardware_el.map(|el| row(&catalogue::HARDWARE, el)),
            lastdate,
            sections,
            softwares: (!self.softwares.is_empty()).then_some(self.softwares),
            accountinfo: self.accountinfo_sent.then_some(self.accountinfo),
            download_history,
            ipdiscover,
            old_deviceid,
            deviceid,
            extra_sections: self.extra.finish(),
        })
    }
}

fn push_row(
    section: &Section,
    rows: &mut Vec<Row>,
    exceeded: &mut bool,
    max_rows: usize,
    el: &Element,
) {
    if section.storage == Storage::Single && !rows.is_empty() {
        return;
    }
    if rows.len() >= max_rows {
        *exceeded = true;
        return;
    }
    rows.push(row(section, el));
}

/// The package IDs of `DOWNLOAD/HISTORY`: trimmed, sorted, without duplicates or blanks.
fn package_ids<'a>(history: impl Iterator<Item = &'a Element>) -> Vec<String> {
    let mut ids: Vec<String> = history
        .flat_map(|h| h.children_named("PACKAGE"))
        .filter_map(|p| p.value("ID"))
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The hosts of `IPDISCOVER`, those with an address and a MAC.
fn discovered_hosts(ipd: &Element) -> Vec<DiscoveredHost> {
    ipd.children_named("H")
        .filter_map(|h| {
            Some(DiscoveredHost {
                ip: h.value("I")?.trim().to_owned(),
                mac: h.value("M")?.trim().to_owned(),
                name: h.value("N").unwrap_or("-").trim().to_owned(),
            })
        })
        .collect()
}

/// One row element read field by field without building it: the text of the first present
/// child of each name a field (or alias) of the section answers to, in one reused buffer.
/// `row()` then gives what the element tree's [`row`] gives for the same element.
#[derive(Debug, Default)]
pub(crate) struct RowBuffer {
    section: Option<&'static Section>,
    /// Per distinct field or alias name: where its text lies in `text`, once found.
    slots: Vec<Option<(usize, usize)>>,
    /// The names, in slot order.
    names: Vec<&'static str>,
    /// Per field, the slots of its name then of its aliases.
    lookups: Vec<Vec<usize>>,
    text: String,
    /// The slot of the child being read, and where its text starts.
    reading: Option<(usize, usize)>,
}

impl RowBuffer {
    /// Starts a row of `section`, forgetting the previous one.
    pub(crate) fn start(&mut self, section: &'static Section) {
        if !self.section.is_some_and(|s| std::ptr::eq(s, section)) {
            self.section = Some(section);
            self.names.clear();
            self.lookups.clear();
            for f in section.fields {
                let mut lookup = Vec::with_capacity(1 + f.aliases.len());
                for name in std::iter::once(f.name).chain(f.aliases.iter().copied()) {
                    let slot = match self.names.iter().position(|n| *n == name) {
                        Some(slot) => slot,
                        None => {
                            self.names.push(name);
                            self.names.len() - 1
                        }
                    };
                    lookup.push(slot);
                }
                self.lookups.push(lookup);
            }
        }
        self.slots.clear();
        self.slots.resize(self.names.len(), None);
        self.text.clear();
        self.reading = None;
    }

    fn empty_slot(&self, name: &str) -> Option<usize> {
        let slot = self.names.iter().position(|n| *n == name)?;
        self.slots[slot].is_none().then_some(slot)
    }

    /// An attribute of the row element: a present child with this text.
    pub(crate) fn attribute(&mut self, name: &str, value: &str) {
        if let Some(slot) = self.empty_slot(name) {
            let start = self.text.len();
            self.text.push_str(value);
            self.slots[slot] = Some((start, self.text.len()));
        }
    }

    /// A child of the row element opens; its text is kept if it is the first of a field name.
    pub(crate) fn open_child(&mut self, name: &str) {
        self.reading = self.empty_slot(name).map(|slot| (slot, self.text.len()));
    }

    /// A piece of the open child's own text.
    pub(crate) fn child_text(&mut self, text: &str) {
        if self.reading.is_some() {
            self.text.push_str(text);
        }
    }

    /// The child closes: kept when present, its text emptied when only whitespace.
    pub(crate) fn close_child(&mut self, blank: bool) {
        if let Some((slot, start)) = self.reading.take() {
            if blank {
                self.text.truncate(start);
            } else {
                if self.text[start..].trim().is_empty() {
                    self.text.truncate(start);
                }
                self.slots[slot] = Some((start, self.text.len()));
            }
        }
    }

    /// The row, normalised.
    pub(crate) fn row(&self) -> Row {
        let Some(section) = self.section else {
            return Row::new();
        };
        section
            .fields
            .iter()
            .zip(&self.lookups)
            .map(|(f, lookup)| {
                let raw = lookup
                    .iter()
                    .find_map(|slot| self.slots[*slot])
                    .map(|(start, end)| &self.text[start..end]);
                normalise(f, raw)
            })
            .collect()
    }
}

/// Builds one row: each field from its element (or an alias), normalised.
fn row(section: &Section, el: &Element) -> Row {
    section
        .fields
        .iter()
        .map(|f| {
            let raw = std::iter::once(f.name)
                .chain(f.aliases.iter().copied())
                .find_map(|name| el.value(name));
            normalise(f, raw)
        })
        .collect()
}

/// `HARDWARE/CHECKSUM` (`None` when missing or not a number) and a real `HARDWARE/LASTDATE`
/// (the Windows agent's; the Unix agents send none or the epoch).
fn checksum_and_lastdate(hardware: Option<&Element>) -> (Option<u64>, Option<String>) {
    let checksum = hardware
        .and_then(|h| h.value("CHECKSUM"))
        .and_then(|c| c.trim().parse::<u64>().ok());
    let lastdate = hardware
        .and_then(|h| h.value("LASTDATE"))
        .map(str::trim)
        .filter(|d| !d.is_empty() && !d.starts_with("1970-01-01"))
        .map(str::to_owned);
    (checksum, lastdate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::parse_request;

    fn inventory(content: &str) -> Inventory {
        let doc = format!("<REQUEST><CONTENT>{content}</CONTENT><DEVICEID>pc-2024-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>");
        Inventory::from_request(&parse_request(doc.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn sections_rows_and_checksum() {
        let inv = inventory(
            "<HARDWARE><NAME>pc</NAME><CHECKSUM>4609</CHECKSUM><MEMORY>2048</MEMORY></HARDWARE>\
             <CPUS><TYPE>x</TYPE><CORES>4</CORES></CPUS><CPUS><TYPE>y</TYPE></CPUS>\
             <BIOS><SSN>A</SSN></BIOS><BIOS><SSN>B</SSN></BIOS><USERS><LOGIN>x</LOGIN></USERS>",
        );
        assert_eq!(inv.checksum, Some(4609));
        assert_eq!(inv.hardware_text("NAME"), Some("pc"));
        assert_eq!(inv.section("CPUS").unwrap().rows.len(), 2);
        assert_eq!(inv.single_text("BIOS", "SSN"), Some("A"));
        assert!(inv.softwares.is_none());
        assert!(inv.accountinfo.is_none());
        assert!(inv.download_history.is_none());
    }

    #[test]
    fn fusioninventory_aliases() {
        let inv = inventory("<CPUS><NAME>AMD EPYC</NAME><CORE>2</CORE></CPUS><SOFTWARES><NAME>a</NAME><ARCH>all</ARCH></SOFTWARES>");
        let cpus = inv.section("CPUS").unwrap();
        assert_eq!(
            cpus.rows[0][cpus.section.field_index("TYPE").unwrap()],
            Value::Text("AMD EPYC".into())
        );
        assert_eq!(
            cpus.rows[0][cpus.section.field_index("CORES").unwrap()],
            Value::Int(2)
        );
        let sw = &inv.softwares.unwrap()[0];
        assert_eq!(
            sw[catalogue::SOFTWARES.field_index("ARCHITECTURE").unwrap()],
            Value::Text("all".into())
        );
    }

    #[test]
    fn capacities() {
        let inv = inventory(
            "<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>PARIS</KEYVALUE></ACCOUNTINFO>\
             <DOWNLOAD><HISTORY><PACKAGE ID=\"2\"/><PACKAGE ID=\"1\"/><OLD_DEVICEID>old-2020-01-01-00-00-00</OLD_DEVICEID></HISTORY></DOWNLOAD>\
             <IPDISCOVER><H><I>10.0.0.1</I><M>00:11:22:33:44:55</M><N>gw</N></H></IPDISCOVER>",
        );
        assert_eq!(inv.accountinfo, Some(vec![("TAG".into(), "PARIS".into())]));
        assert_eq!(inv.download_history, Some(vec!["1".into(), "2".into()]));
        assert_eq!(inv.old_deviceid.as_deref(), Some("old-2020-01-01-00-00-00"));
        assert_eq!(inv.ipdiscover.unwrap()[0].name, "gw");
    }

    #[test]
    fn rows_per_section_are_limited() {
        let doc = format!(
            "<REQUEST><CONTENT>{}</CONTENT><DEVICEID>pc-2024-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>",
            "<SOFTWARES><NAME>a</NAME></SOFTWARES>".repeat(4)
        );
        let req = parse_request(doc.as_bytes()).unwrap();
        assert_eq!(
            Inventory::from_request_with(&req, 4)
                .unwrap()
                .softwares
                .unwrap()
                .len(),
            4
        );
        assert_eq!(
            Inventory::from_request_with(&req, 3).unwrap_err(),
            InventoryError::TooManyRows {
                section: "SOFTWARES",
                limit: 3
            }
        );
    }
}
