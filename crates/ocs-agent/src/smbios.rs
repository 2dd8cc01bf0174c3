//! SMBIOS (DMI) data, from whichever source this machine offers, in one shape: a list of
//! structures, each a DMI type and `(name, value)` fields named as `dmidecode` names them.
//!
//! Sources, best first:
//! 1. the raw tables in `/sys/firmware/dmi/tables/DMI` (root only), decoded here, so no
//!    `dmidecode` needs to be installed;
//! 2. `dmidecode` output, when the program is installed and works (root);
//! 3. `/sys/class/dmi/id/*`, readable without root for the BIOS, system, board and chassis
//!    names (serial numbers there are root-only).
//!
//! This module decodes; the BIOS, CPUS, MEMORIES, SLOTS, PORTS and BATTERIES collectors
//! decide what goes into the inventory.

use crate::collectors::Context;

/// One SMBIOS structure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Structure {
    /// DMI type (0 BIOS, 1 system, 2 board, 3 chassis, 4 processor, 8 port, 9 slot,
    /// 16 memory array, 17 memory device, 22 battery).
    pub kind: u8,
    /// Handle, to link memory devices to their array.
    pub handle: u16,
    /// Fields with `dmidecode`'s names and value formats.
    pub fields: Vec<(String, String)>,
}

impl Structure {
    /// A field's value, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }

    /// A field's value unless it is a placeholder ("Not Specified", "To Be Filled By O.E.M.").
    pub fn clean(&self, name: &str) -> Option<String> {
        crate::collectors::clean(self.get(name))
    }

    fn push(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.fields.push((name.to_owned(), value));
        }
    }
}

/// Decoded SMBIOS data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Smbios {
    /// Structures in table order.
    pub structures: Vec<Structure>,
    /// Where they came from (`tables`, `dmidecode`, `sysfs`), for logs.
    pub source: &'static str,
}

impl Smbios {
    /// Every structure of a type.
    pub fn of_type(&self, kind: u8) -> impl Iterator<Item = &Structure> + '_ {
        self.structures.iter().filter(move |s| s.kind == kind)
    }

    /// The first structure of a type.
    pub fn first(&self, kind: u8) -> Option<&Structure> {
        self.of_type(kind).next()
    }

    /// A structure by handle.
    pub fn by_handle(&self, handle: u16) -> Option<&Structure> {
        self.structures.iter().find(|s| s.handle == handle)
    }
}

/// Loads SMBIOS data from the best available source (see the module comment).
pub fn load(ctx: &Context) -> Option<Smbios> {
    match ctx.read_bytes("/sys/firmware/dmi/tables/DMI") {
        Ok(raw) => {
            let entry = ctx
                .read_bytes("/sys/firmware/dmi/tables/smbios_entry_point")
                .unwrap_or_default();
            let smbios = decode_tables(&raw, entry_point_version(&entry));
            if !smbios.structures.is_empty() {
                return Some(smbios);
            }
        }
        Err(e) => tracing::debug!(error = %e, "no raw SMBIOS tables"),
    }
    if ctx.privileged || !ctx.is_live() {
        match ctx.command("dmidecode", &[]) {
            Some(Ok(text)) => {
                let smbios = parse_dmidecode(&text);
                if !smbios.structures.is_empty() {
                    return Some(smbios);
                }
            }
            Some(Err(e)) => tracing::debug!(error = %e, "dmidecode gave nothing"),
            None => {}
        }
    }
    // Unprivileged, the unreadable raw tables were recorded by `Context::read_bytes`.
    let smbios = from_sysfs(ctx);
    (!smbios.structures.is_empty()).then_some(smbios)
}

/// The SMBIOS version from the entry point (`_SM_` 2.x or `_SM3_` 3.x), as (major, minor).
pub fn entry_point_version(entry: &[u8]) -> (u8, u8) {
    if entry.starts_with(b"_SM3_") && entry.len() > 8 {
        (entry[7], entry[8])
    } else if entry.starts_with(b"_SM_") && entry.len() > 7 {
        (entry[6], entry[7])
    } else {
        // Unknown: assume a modern table (affects only the UUID byte order).
        (3, 0)
    }
}

/// Parses `dmidecode` output.
pub fn parse_dmidecode(text: &str) -> Smbios {
    let mut structures = Vec::new();
    let mut current: Option<Structure> = None;
    let mut title_next = false;
    let mut list_key: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Handle ") {
            if let Some(s) = current.take() {
                structures.push(s);
            }
            // "Handle 0x0000, DMI type 0, 26 bytes"
            let mut parts = rest.split(',');
            let handle = parts
                .next()
                .and_then(|h| u16::from_str_radix(h.trim().trim_start_matches("0x"), 16).ok())
                .unwrap_or(0);
            let kind = parts
                .next()
                .and_then(|t| t.trim().strip_prefix("DMI type "))
                .and_then(|t| t.trim().parse().ok());
            current = kind.map(|kind| Structure {
                kind,
                handle,
                fields: Vec::new(),
            });
            title_next = true;
            list_key = None;
            continue;
        }
        let Some(s) = current.as_mut() else { continue };
        if title_next {
            title_next = false;
            continue;
        }
        if let Some(item) = line.strip_prefix("\t\t") {
            // A list under a "Key:" line; joined so the key keeps one value.
            if let Some(key) = &list_key {
                if let Some(slot) = s.fields.iter_mut().find(|(k, _)| k == key) {
                    if !slot.1.is_empty() {
                        slot.1.push_str(", ");
                    }
                    slot.1.push_str(item.trim());
                }
            }
            continue;
        }
        if let Some(field) = line.strip_prefix('\t') {
            match field.split_once(':') {
                Some((k, v)) => {
                    let v = v.trim();
                    s.fields.push((k.trim().to_owned(), v.to_owned()));
                    list_key = v.is_empty().then(|| k.trim().to_owned());
                }
                None => list_key = None,
            }
        } else if line.trim().is_empty() {
            list_key = None;
        }
    }
    if let Some(s) = current {
        structures.push(s);
    }
    Smbios {
        structures,
        source: "dmidecode",
    }
}

/// Reads `/sys/class/dmi/id`: types 0, 1, 2 and 3 with the fields the kernel exports.
/// Files root cannot share (serials, UUID) are simply absent for other users.
pub fn from_sysfs(ctx: &Context) -> Smbios {
    let attr = |name: &str| ctx.attr(&format!("/sys/class/dmi/id/{name}"));
    let mut structures = Vec::new();
    let groups: [(u8, &[(&str, &str)]); 4] = [
        (
            0,
            &[
                ("bios_vendor", "Vendor"),
                ("bios_version", "Version"),
                ("bios_date", "Release Date"),
            ],
        ),
        (
            1,
            &[
                ("sys_vendor", "Manufacturer"),
                ("product_name", "Product Name"),
                ("product_version", "Version"),
                ("product_serial", "Serial Number"),
                ("product_uuid", "UUID"),
                ("product_family", "Family"),
                ("product_sku", "SKU Number"),
            ],
        ),
        (
            2,
            &[
                ("board_vendor", "Manufacturer"),
                ("board_name", "Product Name"),
                ("board_version", "Version"),
                ("board_serial", "Serial Number"),
                ("board_asset_tag", "Asset Tag"),
            ],
        ),
        (
            3,
            &[
                ("chassis_vendor", "Manufacturer"),
                ("chassis_type", "Type"),
                ("chassis_version", "Version"),
                ("chassis_serial", "Serial Number"),
                ("chassis_asset_tag", "Asset Tag"),
            ],
        ),
    ];
    for (kind, files) in groups {
        let mut s = Structure {
            kind,
            handle: u16::from(kind),
            fields: Vec::new(),
        };
        for (file, name) in files {
            if let Some(v) = attr(file) {
                let v = if kind == 3 && *file == "chassis_type" {
                    v.parse::<u8>()
                        .map(|t| chassis_type(t).to_owned())
                        .unwrap_or(v)
                } else {
                    v
                };
                s.push(name, v);
            }
            // Root-only files (serials, UUID) that exist but cannot be read are recorded
            // by `Context::read` for the unprivileged summary.
        }
        if !s.fields.is_empty() {
            structures.push(s);
        }
    }
    Smbios {
        structures,
        source: "sysfs",
    }
}

/// Decodes the raw structure table (`/sys/firmware/dmi/tables/DMI`). Types the inventory
/// does not use are kept with no fields so that handles still resolve.
pub fn decode_tables(raw: &[u8], version: (u8, u8)) -> Smbios {
    let mut structures = Vec::new();
    let mut at = 0usize;
    while at + 4 <= raw.len() {
        let kind = raw[at];
        let len = usize::from(raw[at + 1]);
        let handle = u16::from_le_bytes([raw[at + 2], raw[at + 3]]);
        if len < 4 || at + len > raw.len() {
            break;
        }
        let formatted = &raw[at..at + len];
        // The string set follows the formatted area and ends with two NULs.
        let mut end = at + len;
        while end + 1 < raw.len() && !(raw[end] == 0 && raw[end + 1] == 0) {
            end += 1;
        }
        let strings: Vec<String> = raw[at + len..end.min(raw.len())]
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).trim().to_owned())
            .collect();
        let mut s = Structure {
            kind,
            handle,
            fields: Vec::new(),
        };
        decode_structure(&mut s, formatted, &strings, version);
        structures.push(s);
        if kind == 127 {
            break; // end-of-table
        }
        at = end + 2;
    }
    Smbios {
        structures,
        source: "tables",
    }
}

/// Reads the formatted area and the string set of one structure.
struct Fields<'a> {
    data: &'a [u8],
    strings: &'a [String],
}

impl Fields<'_> {
    fn byte(&self, off: usize) -> Option<u8> {
        self.data.get(off).copied()
    }
    fn word(&self, off: usize) -> Option<u16> {
        Some(u16::from_le_bytes([
            *self.data.get(off)?,
            *self.data.get(off + 1)?,
        ]))
    }
    fn dword(&self, off: usize) -> Option<u32> {
        let b = self.data.get(off..off + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A string by its 1-based index in the string set; 0 means "no string".
    fn string(&self, off: usize) -> Option<String> {
        let index = usize::from(self.byte(off)?);
        if index == 0 {
            return None;
        }
        self.strings.get(index - 1).cloned()
    }
}

fn decode_structure(s: &mut Structure, data: &[u8], strings: &[String], version: (u8, u8)) {
    let f = Fields { data, strings };
    let string = |s: &mut Structure, name: &str, off: usize| {
        if let Some(v) = f.string(off) {
            s.push(name, v);
        }
    };
    match s.kind {
        0 => {
            string(s, "Vendor", 0x04);
            string(s, "Version", 0x05);
            string(s, "Release Date", 0x08);
        }
        1 => {
            string(s, "Manufacturer", 0x04);
            string(s, "Product Name", 0x05);
            string(s, "Version", 0x06);
            string(s, "Serial Number", 0x07);
            if let Some(uuid) = data.get(0x08..0x18) {
                if let Some(u) = format_uuid(uuid, version) {
                    s.push("UUID", u);
                }
            }
            string(s, "SKU Number", 0x19);
            string(s, "Family", 0x1a);
        }
        2 => {
            string(s, "Manufacturer", 0x04);
            string(s, "Product Name", 0x05);
            string(s, "Version", 0x06);
            string(s, "Serial Number", 0x07);
            string(s, "Asset Tag", 0x08);
        }
        3 => {
            string(s, "Manufacturer", 0x04);
            if let Some(t) = f.byte(0x05) {
                s.push("Type", chassis_type(t & 0x7f));
            }
            string(s, "Version", 0x06);
            string(s, "Serial Number", 0x07);
            string(s, "Asset Tag", 0x08);
        }
        4 => {
            string(s, "Socket Designation", 0x04);
            string(s, "Manufacturer", 0x07);
            string(s, "Version", 0x10);
            if let Some(v) = f.byte(0x11) {
                let volts = if v & 0x80 != 0 {
                    format!("{:.1} V", f64::from(v & 0x7f) / 10.0)
                } else if v & 0x01 != 0 {
                    "5.0 V".to_owned()
                } else if v & 0x02 != 0 {
                    "3.3 V".to_owned()
                } else if v & 0x04 != 0 {
                    "2.9 V".to_owned()
                } else {
                    String::new()
                };
                s.push("Voltage", volts);
            }
            for (name, off) in [
                ("External Clock", 0x12),
                ("Max Speed", 0x14),
                ("Current Speed", 0x16),
            ] {
                if let Some(mhz) = f.word(off).filter(|m| *m != 0) {
                    s.push(name, format!("{mhz} MHz"));
                }
            }
            if let Some(status) = f.byte(0x18) {
                let populated = status & 0x40 != 0;
                s.push(
                    "Status",
                    if populated {
                        "Populated, Enabled"
                    } else {
                        "Unpopulated"
                    },
                );
            }
            string(s, "Serial Number", 0x20);
            string(s, "Asset Tag", 0x21);
            string(s, "Part Number", 0x22);
            // Counts of 0xFF mean "see the 16-bit field" (SMBIOS 3.0).
            let count = |short: usize, long: usize| match f.byte(short) {
                Some(0xff) => f.word(long),
                Some(0) | None => None,
                Some(n) => Some(u16::from(n)),
            };
            if let Some(n) = count(0x23, 0x2a) {
                s.push("Core Count", n.to_string());
            }
            if let Some(n) = count(0x24, 0x2c) {
                s.push("Core Enabled", n.to_string());
            }
            if let Some(n) = count(0x25, 0x2e) {
                s.push("Thread Count", n.to_string());
            }
        }
        8 => {
            string(s, "Internal Reference Designator", 0x04);
            if let Some(t) = f.byte(0x05) {
                s.push("Internal Connector Type", connector_type(t));
            }
            string(s, "External Reference Designator", 0x06);
            if let Some(t) = f.byte(0x07) {
                s.push("External Connector Type", connector_type(t));
            }
            if let Some(t) = f.byte(0x08) {
                s.push("Port Type", port_type(t));
            }
        }
        9 => {
            string(s, "Designation", 0x04);
            if let Some(t) = f.byte(0x05) {
                s.push("Type", slot_type(t, f.byte(0x06)));
            }
            if let Some(u) = f.byte(0x07) {
                s.push(
                    "Current Usage",
                    match u {
                        3 => "Available",
                        4 => "In Use",
                        5 => "Unavailable",
                        1 => "Other",
                        _ => "Unknown",
                    },
                );
            }
            if let Some(id) = f.word(0x09) {
                s.push("ID", id.to_string());
            }
        }
        16 => {
            if let Some(e) = f.byte(0x06) {
                s.push(
                    "Error Correction Type",
                    match e {
                        3 => "None",
                        4 => "Parity",
                        5 => "Single-bit ECC",
                        6 => "Multi-bit ECC",
                        7 => "CRC",
                        1 => "Other",
                        _ => "Unknown",
                    },
                );
            }
            if let Some(n) = f.word(0x0d) {
                s.push("Number Of Devices", n.to_string());
            }
        }
        17 => {
            if let Some(h) = f.word(0x04) {
                s.push("Array Handle", format!("0x{h:04X}"));
            }
            if let Some(w) = f.word(0x08).filter(|w| *w != 0xffff && *w != 0) {
                s.push("Total Width", format!("{w} bits"));
            }
            if let Some(w) = f.word(0x0a).filter(|w| *w != 0xffff && *w != 0) {
                s.push("Data Width", format!("{w} bits"));
            }
            match f.word(0x0c) {
                Some(0) => s.push("Size", "No Module Installed"),
                Some(0xffff) | None => s.push("Size", "Unknown"),
                Some(0x7fff) => {
                    if let Some(mb) = f.dword(0x1c) {
                        s.push("Size", format!("{} MB", mb & 0x7fff_ffff));
                    }
                }
                Some(size) if size & 0x8000 != 0 => {
                    s.push("Size", format!("{} kB", size & 0x7fff));
                }
                Some(size) => s.push("Size", format!("{size} MB")),
            }
            if let Some(ff) = f.byte(0x0e) {
                s.push("Form Factor", form_factor(ff));
            }
            string(s, "Locator", 0x10);
            string(s, "Bank Locator", 0x11);
            if let Some(t) = f.byte(0x12) {
                s.push("Type", memory_type(t));
            }
            if let Some(speed) = f.word(0x15).filter(|v| *v != 0 && *v != 0xffff) {
                s.push("Speed", format!("{speed} MT/s"));
            }
            string(s, "Manufacturer", 0x17);
            string(s, "Serial Number", 0x18);
            string(s, "Asset Tag", 0x19);
            string(s, "Part Number", 0x1a);
            if let Some(speed) = f.word(0x20).filter(|v| *v != 0 && *v != 0xffff) {
                s.push("Configured Memory Speed", format!("{speed} MT/s"));
            }
        }
        22 => {
            string(s, "Location", 0x04);
            string(s, "Manufacturer", 0x05);
            string(s, "Manufacture Date", 0x06);
            string(s, "Serial Number", 0x07);
            string(s, "Name", 0x08);
            if let Some(c) = f.byte(0x09) {
                s.push("Chemistry", battery_chemistry(c));
            }
            let multiplier = f.byte(0x15).filter(|m| *m != 0).map_or(1, u32::from);
            if let Some(cap) = f.word(0x0a).filter(|c| *c != 0) {
                s.push(
                    "Design Capacity",
                    format!("{} mWh", u32::from(cap) * multiplier),
                );
            }
            if let Some(mv) = f.word(0x0c).filter(|v| *v != 0) {
                s.push("Design Voltage", format!("{mv} mV"));
            }
            string(s, "SBDS Version", 0x0e);
            if let Some(e) = f.byte(0x0f).filter(|e| *e != 0xff) {
                s.push("Maximum Error", format!("{e}%"));
            }
            if let Some(serial) = f.word(0x10).filter(|_| f.byte(0x07) == Some(0)) {
                s.push("SBDS Serial Number", format!("{serial:04X}"));
            }
            if let Some(date) = f.word(0x12).filter(|d| *d != 0 && f.byte(0x06) == Some(0)) {
                // Packed as (year-1980) << 9 | month << 5 | day.
                s.push(
                    "SBDS Manufacture Date",
                    format!(
                        "{:04}-{:02}-{:02}",
                        1980 + u32::from(date >> 9),
                        (date >> 5) & 0x0f,
                        date & 0x1f
                    ),
                );
            }
            string(s, "SBDS Chemistry", 0x14);
            if let Some(oem) = f.dword(0x16).filter(|o| *o != 0) {
                s.push("OEM-specific Information", format!("0x{oem:08X}"));
            }
        }
        _ => {}
    }
}

/// Formats the 16 UUID bytes. Since SMBIOS 2.6 the first three fields are little-endian;
/// all-zero and all-0xFF UUIDs mean "not set".
fn format_uuid(b: &[u8], version: (u8, u8)) -> Option<String> {
    if b.len() != 16 || b.iter().all(|x| *x == 0) || b.iter().all(|x| *x == 0xff) {
        return None;
    }
    let le = version >= (2, 6);
    let (p1, p2, p3) = if le {
        ([b[3], b[2], b[1], b[0]], [b[5], b[4]], [b[7], b[6]])
    } else {
        ([b[0], b[1], b[2], b[3]], [b[4], b[5]], [b[6], b[7]])
    };
    Some(format!(
        "{}-{}-{}-{}-{}",
        hex::encode_upper(p1),
        hex::encode_upper(p2),
        hex::encode_upper(p3),
        hex::encode_upper(&b[8..10]),
        hex::encode_upper(&b[10..16])
    ))
}

/// Chassis type names (SMBIOS 7.4.1).
pub fn chassis_type(t: u8) -> &'static str {
    match t {
        1 => "Other",
        3 => "Desktop",
        4 => "Low Profile Desktop",
        5 => "Pizza Box",
        6 => "Mini Tower",
        7 => "Tower",
        8 => "Portable",
        9 => "Laptop",
        10 => "Notebook",
        11 => "Hand Held",
        12 => "Docking Station",
        13 => "All In One",
        14 => "Sub Notebook",
        15 => "Space-saving",
        16 => "Lunch Box",
        17 => "Main Server Chassis",
        18 => "Expansion Chassis",
        19 => "Sub Chassis",
        20 => "Bus Expansion Chassis",
        21 => "Peripheral Chassis",
        22 => "RAID Chassis",
        23 => "Rack Mount Chassis",
        24 => "Sealed-case PC",
        25 => "Multi-system",
        26 => "CompactPCI",
        27 => "AdvancedTCA",
        28 => "Blade",
        29 => "Blade Enclosing",
        30 => "Tablet",
        31 => "Convertible",
        32 => "Detachable",
        33 => "IoT Gateway",
        34 => "Embedded PC",
        35 => "Mini PC",
        36 => "Stick PC",
        _ => "Unknown",
    }
}

fn memory_type(t: u8) -> &'static str {
    match t {
        0x01 => "Other",
        0x03 => "DRAM",
        0x07 => "RAM",
        0x09 => "Flash",
        0x0f => "SDRAM",
        0x12 => "DDR",
        0x13 => "DDR2",
        0x14 => "DDR2 FB-DIMM",
        0x18 => "DDR3",
        0x1a => "DDR4",
        0x1b => "LPDDR",
        0x1c => "LPDDR2",
        0x1d => "LPDDR3",
        0x1e => "LPDDR4",
        0x1f => "Logical non-volatile device",
        0x20 => "HBM",
        0x21 => "HBM2",
        0x22 => "DDR5",
        0x23 => "LPDDR5",
        0x24 => "HBM3",
        _ => "Unknown",
    }
}

fn form_factor(t: u8) -> &'static str {
    match t {
        0x01 => "Other",
        0x03 => "SIMM",
        0x04 => "SIP",
        0x05 => "Chip",
        0x06 => "DIP",
        0x07 => "ZIP",
        0x08 => "Proprietary Card",
        0x09 => "DIMM",
        0x0a => "TSOP",
        0x0b => "Row Of Chips",
        0x0c => "RIMM",
        0x0d => "SODIMM",
        0x0e => "SRIMM",
        0x0f => "FB-DIMM",
        0x10 => "Die",
        0x11 => "CAMM",
        _ => "Unknown",
    }
}

fn battery_chemistry(c: u8) -> &'static str {
    match c {
        1 => "Other",
        3 => "Lead Acid",
        4 => "Nickel Cadmium",
        5 => "Nickel Metal Hydride",
        6 => "Lithium Ion",
        7 => "Zinc Air",
        8 => "Lithium Polymer",
        _ => "Unknown",
    }
}

fn connector_type(t: u8) -> &'static str {
    match t {
        0x00 => "None",
        0x01 => "Centronics",
        0x02 => "Mini Centronics",
        0x03 => "Proprietary",
        0x04 => "DB-25 male",
        0x05 => "DB-25 female",
        0x06 => "DB-15 male",
        0x07 => "DB-15 female",
        0x08 => "DB-9 male",
        0x09 => "DB-9 female",
        0x0a => "RJ-11",
        0x0b => "RJ-45",
        0x0c => "50 Pin MiniSCSI",
        0x0d => "Mini DIN",
        0x0e => "Micro DIN",
        0x0f => "PS/2",
        0x10 => "Infrared",
        0x11 => "HP-HIL",
        0x12 => "Access Bus (USB)",
        0x13 => "SSA SCSI",
        0x14 => "Circular DIN-8 male",
        0x15 => "Circular DIN-8 female",
        0x16 => "On Board IDE",
        0x17 => "On Board Floppy",
        0x1f => "Mini Jack (headphones)",
        0x20 => "BNC",
        0x21 => "IEEE 1394",
        0x22 => "SAS/SATA Plug Receptacle",
        0x23 => "USB Type-C Receptacle",
        0xff => "Other",
        _ => "Unknown",
    }
}

fn port_type(t: u8) -> &'static str {
    match t {
        0x00 => "None",
        0x01 => "Parallel Port XT/AT Compatible",
        0x02 => "Parallel Port PS/2",
        0x03 => "Parallel Port ECP",
        0x04 => "Parallel Port EPP",
        0x05 => "Parallel Port ECP/EPP",
        0x06 => "Serial Port XT/AT Compatible",
        0x07 => "Serial Port 16450 Compatible",
        0x08 => "Serial Port 16550 Compatible",
        0x09 => "Serial Port 16550A Compatible",
        0x0a => "SCSI Port",
        0x0b => "MIDI Port",
        0x0c => "Joystick Port",
        0x0d => "Keyboard Port",
        0x0e => "Mouse Port",
        0x0f => "SSA SCSI",
        0x10 => "USB",
        0x11 => "Firewire (IEEE P1394)",
        0x1c => "Video Port",
        0x1d => "Audio Port",
        0x1e => "Modem Port",
        0x1f => "Network Port",
        0x20 => "SATA",
        0x21 => "SAS",
        0x22 => "MFDP (Multi-Function Display Port)",
        0x23 => "Thunderbolt",
        0xff => "Other",
        _ => "Unknown",
    }
}

fn slot_type(t: u8, width: Option<u8>) -> String {
    let name = match t {
        0x01 => "Other",
        0x03 => "ISA",
        0x04 => "MCA",
        0x05 => "EISA",
        0x06 => "PCI",
        0x07 => "PC Card (PCMCIA)",
        0x0f => "AGP",
        0x11 => "AGP 4x",
        0x12 => "PCI-X",
        0x13 => "AGP 8x",
        0x14 => "M.2 Socket 1-DP",
        0x15 => "M.2 Socket 1-SD",
        0x16 => "M.2 Socket 2",
        0x17 => "M.2 Socket 3",
        0xa5 => "PCI Express",
        0xa6 => "PCI Express x1",
        0xa7 => "PCI Express x2",
        0xa8 => "PCI Express x4",
        0xa9 => "PCI Express x8",
        0xaa => "PCI Express x16",
        0xab => "PCI Express 2",
        0xac => "PCI Express 2 x1",
        0xad => "PCI Express 2 x2",
        0xae => "PCI Express 2 x4",
        0xaf => "PCI Express 2 x8",
        0xb0 => "PCI Express 2 x16",
        0xb1 => "PCI Express 3",
        0xb2 => "PCI Express 3 x1",
        0xb3 => "PCI Express 3 x2",
        0xb4 => "PCI Express 3 x4",
        0xb5 => "PCI Express 3 x8",
        0xb6 => "PCI Express 3 x16",
        0xb8 => "PCI Express 4",
        0xb9 => "PCI Express 4 x1",
        0xba => "PCI Express 4 x2",
        0xbb => "PCI Express 4 x4",
        0xbc => "PCI Express 4 x8",
        0xbd => "PCI Express 4 x16",
        0xbe => "PCI Express 5",
        0xbf => "PCI Express 5 x1",
        0xc0 => "PCI Express 5 x2",
        0xc1 => "PCI Express 5 x4",
        0xc2 => "PCI Express 5 x8",
        0xc3 => "PCI Express 5 x16",
        _ => "Unknown",
    };
    // The width byte (x1…x32) is only worth adding when the type does not say it.
    let width = match width {
        Some(0x08) => Some("x1"),
        Some(0x09) => Some("x2"),
        Some(0x0a) => Some("x4"),
        Some(0x0b) => Some("x8"),
        Some(0x0c) => Some("x12"),
        Some(0x0d) => Some("x16"),
        Some(0x0e) => Some("x32"),
        _ => None,
    };
    match width {
        Some(w) if !name.contains(" x") && name.starts_with("PCI Express") => {
            format!("{w} {name}")
        }
        _ => name.to_owned(),
    }
}

/// Builds raw SMBIOS structures for tests.
#[cfg(test)]
pub(crate) fn raw_structure(kind: u8, handle: u16, formatted: &[u8], strings: &[&str]) -> Vec<u8> {
    let mut out = vec![kind, u8::try_from(formatted.len() + 4).unwrap_or(u8::MAX)];
    out.extend_from_slice(&handle.to_le_bytes());
    out.extend_from_slice(formatted);
    for s in strings {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    if strings.is_empty() {
        out.push(0);
    }
    out.push(0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("testdata")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn dmidecode_text() {
        let smbios = parse_dmidecode(&fixture("laptop-fedora/cmd/dmidecode.txt"));
        let bios = smbios.first(0).unwrap();
        assert_eq!(bios.get("Vendor"), Some("LENOVO"));
        assert_eq!(bios.get("Release Date"), Some("03/14/2023"));
        assert!(bios
            .get("Characteristics")
            .unwrap()
            .contains("PCI is supported"));
        assert_eq!(
            smbios.first(1).unwrap().get("Serial Number"),
            Some("PF3XYZ12")
        );
        assert_eq!(smbios.of_type(17).count(), 2);
        let dimm = smbios.of_type(17).next().unwrap();
        assert_eq!(dimm.get("Size"), Some("16 GB"));
        assert_eq!(dimm.get("Locator"), Some("DIMM 0"));
        assert_eq!(smbios.by_handle(0x0039).map(|s| s.kind), Some(16));
    }

    #[test]
    fn raw_tables_decode_to_dmidecode_names() {
        let mut raw = Vec::new();
        raw.extend(raw_structure(
            0,
            0,
            &[
                1, 2, 0, 0xe0, 3, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ],
            &["Dell Inc.", "2.17.0", "05/12/2022"],
        ));
        let mut system = vec![1, 2, 3, 4];
        system.extend([
            0x44, 0x45, 0x4c, 0x4c, 0x33, 0, 0x10, 0x4b, 0x80, 0x32, 0xb7, 0xc0, 0x4f, 0x4c, 0x32,
            0x33,
        ]);
        system.extend([6, 0, 0]);
        raw.extend(raw_structure(
            1,
            0x100,
            &system,
            &["Dell Inc.", "PowerEdge R340", "Not Specified", "7XK2L3J"],
        ));
        raw.extend(raw_structure(
            3,
            0x300,
            &[1, 0x17, 0, 2, 0],
            &["Dell Inc.", "7XK2L3J"],
        ));
        // Offsets are the specification's, which count the 4-byte header.
        let base = |off: usize| off - 4;
        let mut dimm = vec![0u8; 0x24];
        dimm[base(0x04)..base(0x06)].copy_from_slice(&0x1000u16.to_le_bytes());
        dimm[base(0x08)..base(0x0a)].copy_from_slice(&72u16.to_le_bytes());
        dimm[base(0x0a)..base(0x0c)].copy_from_slice(&64u16.to_le_bytes());
        dimm[base(0x0c)..base(0x0e)].copy_from_slice(&0x7fffu16.to_le_bytes());
        dimm[base(0x0e)] = 0x09;
        dimm[base(0x10)] = 1;
        dimm[base(0x11)] = 2;
        dimm[base(0x12)] = 0x1a;
        dimm[base(0x15)..base(0x17)].copy_from_slice(&2933u16.to_le_bytes());
        dimm[base(0x17)] = 3;
        dimm[base(0x18)] = 4;
        dimm[base(0x1a)] = 5;
        dimm[base(0x1c)..base(0x20)].copy_from_slice(&32768u32.to_le_bytes());
        raw.extend(raw_structure(
            17,
            0x1100,
            &dimm,
            &["A1", "Bank 0", "Hynix", "93A1B2C3", "HMA84GR7CJR4N-WM"],
        ));
        raw.extend(raw_structure(127, 0xfeff, &[], &[]));

        let smbios = decode_tables(&raw, (3, 2));
        assert_eq!(smbios.structures.len(), 5);
        let bios = smbios.first(0).unwrap();
        assert_eq!(bios.get("Vendor"), Some("Dell Inc."));
        assert_eq!(bios.get("Version"), Some("2.17.0"));
        assert_eq!(bios.get("Release Date"), Some("05/12/2022"));
        let sys = smbios.first(1).unwrap();
        assert_eq!(sys.get("Product Name"), Some("PowerEdge R340"));
        assert_eq!(sys.clean("Version"), None);
        assert_eq!(sys.get("Serial Number"), Some("7XK2L3J"));
        assert_eq!(
            sys.get("UUID"),
            Some("4C4C4544-0033-4B10-8032-B7C04F4C3233")
        );
        assert_eq!(
            smbios.first(3).unwrap().get("Type"),
            Some("Rack Mount Chassis")
        );
        let d = smbios.first(17).unwrap();
        assert_eq!(d.get("Size"), Some("32768 MB"));
        assert_eq!(d.get("Type"), Some("DDR4"));
        assert_eq!(d.get("Form Factor"), Some("DIMM"));
        assert_eq!(d.get("Speed"), Some("2933 MT/s"));
        assert_eq!(d.get("Locator"), Some("A1"));
        assert_eq!(d.get("Serial Number"), Some("93A1B2C3"));
        assert_eq!(d.get("Part Number"), Some("HMA84GR7CJR4N-WM"));
        assert_eq!(d.get("Array Handle"), Some("0x1000"));
    }

    #[test]
    fn truncated_tables_stop_cleanly() {
        let raw = raw_structure(0, 0, &[1, 2], &["x"]);
        assert_eq!(decode_tables(&raw[..5], (3, 0)).structures.len(), 0);
        assert_eq!(decode_tables(&[], (3, 0)).structures.len(), 0);
        assert_eq!(decode_tables(&raw, (3, 0)).structures.len(), 1);
    }

    #[test]
    fn entry_point_versions() {
        assert_eq!(entry_point_version(b"_SM3_\x00\x18\x03\x02\x00"), (3, 2));
        assert_eq!(entry_point_version(b"_SM_\x00\x1f\x02\x08"), (2, 8));
        assert_eq!(entry_point_version(b""), (3, 0));
    }

    #[test]
    fn the_vm_without_dmi_has_no_smbios() {
        let ctx = crate::collectors::testing::machine("vm-debian12", true);
        assert!(ctx.smbios().is_none());
    }
}
