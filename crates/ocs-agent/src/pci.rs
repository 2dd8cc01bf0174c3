//! PCI devices from `/sys/bus/pci/devices`, and their names from the system's `pci.ids`
//! database when it is installed (pciutils or hwdata ship it). Without it, names fall back to
//! the built-in class names below and numeric IDs, so the agent needs nothing installed.
//!
//! Shared by the CONTROLLERS, VIDEOS, SOUNDS, MODEMS and STORAGES collectors.

use std::collections::{BTreeMap, BTreeSet};

use crate::collectors::Context;

/// One PCI function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PciDevice {
    /// Bus address as lspci prints it (`00:03.0`; the domain is kept when not 0000).
    pub slot: String,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Subsystem vendor ID.
    pub subsystem_vendor: u16,
    /// Subsystem device ID.
    pub subsystem_device: u16,
    /// Class (8 bits), subclass (8 bits) and programming interface (8 bits).
    pub class: u32,
    /// Revision.
    pub revision: u8,
    /// Bound kernel driver.
    pub driver: Option<String>,
}

impl PciDevice {
    /// Class and subclass (`0x0200` = Ethernet controller).
    pub fn class_code(&self) -> u16 {
        u16::try_from(self.class >> 8).unwrap_or(0)
    }

    /// `vvvv:dddd`, as lspci -n prints it.
    pub fn pci_id(&self) -> String {
        format!("{:04x}:{:04x}", self.vendor, self.device)
    }
}

/// Lists the PCI devices of the machine.
pub fn devices(ctx: &Context) -> Vec<PciDevice> {
    let base = "/sys/bus/pci/devices";
    ctx.list(base)
        .into_iter()
        .filter_map(|addr| {
            let attr = |name: &str| ctx.attr(&format!("{base}/{addr}/{name}"));
            let hex = |name: &str| attr(name).and_then(|v| parse_hex(&v));
            let slot = addr
                .strip_prefix("0000:")
                .map_or_else(|| addr.clone(), str::to_owned);
            Some(PciDevice {
                slot,
                vendor: u16::try_from(hex("vendor")?).ok()?,
                device: u16::try_from(hex("device")?).ok()?,
                subsystem_vendor: hex("subsystem_vendor")
                    .and_then(|v| u16::try_from(v).ok())
                    .unwrap_or(0),
                subsystem_device: hex("subsystem_device")
                    .and_then(|v| u16::try_from(v).ok())
                    .unwrap_or(0),
                class: hex("class").unwrap_or(0),
                revision: hex("revision")
                    .and_then(|v| u8::try_from(v).ok())
                    .unwrap_or(0),
                driver: ctx.link_name(&format!("{base}/{addr}/driver")),
            })
        })
        .collect()
}

/// Parses `0x1af4` and `1af4`.
pub fn parse_hex(s: &str) -> Option<u32> {
    let s = s.trim();
    u32::from_str_radix(s.strip_prefix("0x").unwrap_or(s), 16).ok()
}

/// Names from `pci.ids`, for the vendors present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PciIds {
    vendors: BTreeMap<u16, String>,
    devices: BTreeMap<(u16, u16), String>,
    classes: BTreeMap<u8, String>,
    subclasses: BTreeMap<u16, String>,
}

impl PciIds {
    /// The vendor's name.
    pub fn vendor(&self, vendor: u16) -> Option<&str> {
        self.vendors.get(&vendor).map(String::as_str)
    }

    /// The device's name.
    pub fn device(&self, vendor: u16, device: u16) -> Option<&str> {
        self.devices.get(&(vendor, device)).map(String::as_str)
    }

    /// The subclass name (`0x0200` → "Ethernet controller").
    pub fn class(&self, class_code: u16) -> Option<&str> {
        self.subclasses
            .get(&class_code)
            .or_else(|| {
                self.classes
                    .get(&u8::try_from(class_code >> 8).unwrap_or(0))
            })
            .map(String::as_str)
    }
}

/// Loads the database from its usual places, keeping only the given vendors so that memory
/// stays small (the file describes some 40,000 devices).
pub fn load_ids(ctx: &Context, vendors: &BTreeSet<u16>) -> Option<PciIds> {
    [
        "/usr/share/misc/pci.ids",
        "/usr/share/hwdata/pci.ids",
        "/usr/share/pci.ids",
    ]
    .iter()
    .find_map(|p| ctx.read_opt(p))
    .map(|text| parse_ids(&text, vendors))
}

/// Parses `pci.ids` text: vendor lines `vvvv  Name`, device lines `\tdddd  Name`,
/// subsystem lines `\t\t…` (skipped), and the class section `C cc  Name` / `\tss  Name`.
pub fn parse_ids(text: &str, wanted: &BTreeSet<u16>) -> PciIds {
    let mut ids = PciIds::default();
    let mut vendor: Option<u16> = None;
    let mut class: Option<u16> = None;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("C ") {
            vendor = None;
            let (code, name) = split_id(rest);
            let code = code.and_then(|c| u8::from_str_radix(c, 16).ok());
            class = code.map(|c| u16::from(c) << 8);
            if let (Some(c), Some(name)) = (code, name) {
                ids.classes.insert(c, name.to_owned());
            }
        } else if line.starts_with("\t\t") {
            continue;
        } else if let Some(rest) = line.strip_prefix('\t') {
            let (code, name) = split_id(rest);
            let (Some(code), Some(name)) = (code, name) else {
                continue;
            };
            if let Some(v) = vendor {
                if let Ok(d) = u16::from_str_radix(code, 16) {
                    ids.devices.insert((v, d), name.to_owned());
                }
            } else if let Some(c) = class {
                if let Ok(sub) = u16::from_str_radix(code, 16) {
                    ids.subclasses.insert(c | sub, name.to_owned());
                }
            }
        } else {
            class = None;
            let (code, name) = split_id(line);
            vendor = code
                .and_then(|c| u16::from_str_radix(c, 16).ok())
                .filter(|v| wanted.contains(v));
            if let (Some(v), Some(name)) = (vendor, name) {
                ids.vendors.insert(v, name.to_owned());
            }
        }
    }
    ids
}

fn split_id(s: &str) -> (Option<&str>, Option<&str>) {
    match s.split_once(char::is_whitespace) {
        Some((code, name)) => (Some(code.trim()), Some(name.trim())),
        None => (Some(s.trim()), None),
    }
}

/// Built-in class names (PCI Code and ID Assignment Specification), used when `pci.ids` is
/// missing.
pub fn builtin_class_name(class_code: u16) -> &'static str {
    match class_code {
        0x0100 => "SCSI storage controller",
        0x0101 => "IDE interface",
        0x0104 => "RAID bus controller",
        0x0106 => "SATA controller",
        0x0107 => "Serial Attached SCSI controller",
        0x0108 => "Non-Volatile memory controller",
        0x0200 => "Ethernet controller",
        0x0280 => "Network controller",
        0x0300 => "VGA compatible controller",
        0x0302 => "3D controller",
        0x0380 => "Display controller",
        0x0401 => "Multimedia audio controller",
        0x0403 => "Audio device",
        0x0600 => "Host bridge",
        0x0601 => "ISA bridge",
        0x0604 => "PCI bridge",
        0x0700 => "Serial controller",
        0x0703 => "Communication controller",
        0x0c03 => "USB controller",
        0x0c05 => "SMBus",
        0x0d11 => "Bluetooth",
        _ => match class_code >> 8 {
            0x00 => "Unclassified device",
            0x01 => "Mass storage controller",
            0x02 => "Network controller",
            0x03 => "Display controller",
            0x04 => "Multimedia controller",
            0x05 => "Memory controller",
            0x06 => "Bridge",
            0x07 => "Communication controller",
            0x08 => "Generic system peripheral",
            0x09 => "Input device controller",
            0x0a => "Docking station",
            0x0b => "Processor",
            0x0c => "Serial bus controller",
            0x0d => "Wireless controller",
            0x0e => "Intelligent controller",
            0x0f => "Satellite communications controller",
            0x10 => "Encryption controller",
            0x11 => "Signal processing controller",
            0x12 => "Processing accelerators",
            0x13 => "Non-Essential Instrumentation",
            0x40 => "Coprocessor",
            _ => "Unassigned class",
        },
    }
}

/// Human names of one device: (class name, vendor name, device name). Vendor and device
/// names are `None` when `pci.ids` is missing or does not know them.
pub fn names(ctx: &Context, d: &PciDevice) -> (String, Option<String>, Option<String>) {
    let ids = ctx.pci_ids();
    let class = ids
        .and_then(|i| i.class(d.class_code()))
        .unwrap_or_else(|| builtin_class_name(d.class_code()))
        .to_owned();
    let vendor = ids.and_then(|i| i.vendor(d.vendor)).map(str::to_owned);
    let device = ids
        .and_then(|i| i.device(d.vendor, d.device))
        .map(str::to_owned);
    (class, vendor, device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::machine;

    const IDS: &str = "# comment\n1af4  Red Hat, Inc.\n\t1041  Virtio 1.0 network device\n\t\t1af4 1100  QEMU Virtual Machine\n8086  Intel Corporation\n\t0d57  Device 0d57\n10de  NVIDIA Corporation\n\t2204  GA102 [GeForce RTX 3090]\nC 02  Network controller\n\t00  Ethernet controller\nC 06  Bridge\n\t00  Host bridge\n";

    #[test]
    fn ids_keep_only_wanted_vendors() {
        let wanted: BTreeSet<u16> = [0x1af4, 0x8086].into_iter().collect();
        let ids = parse_ids(IDS, &wanted);
        assert_eq!(ids.vendor(0x1af4), Some("Red Hat, Inc."));
        assert_eq!(
            ids.device(0x1af4, 0x1041),
            Some("Virtio 1.0 network device")
        );
        assert_eq!(ids.vendor(0x10de), None);
        assert_eq!(ids.device(0x10de, 0x2204), None);
        assert_eq!(ids.class(0x0200), Some("Ethernet controller"));
        assert_eq!(ids.class(0x0280), Some("Network controller"));
        assert_eq!(ids.class(0x0600), Some("Host bridge"));
    }

    #[test]
    fn captured_vm_devices() {
        let ctx = machine("vm-debian12", true);
        let devices = ctx.pci_devices();
        assert_eq!(devices.len(), 6);
        let nic = devices.iter().find(|d| d.slot == "00:03.0").unwrap();
        assert_eq!(nic.pci_id(), "1af4:1041");
        assert_eq!(nic.class_code(), 0x0200);
        assert_eq!(nic.revision, 1);
        assert_eq!(nic.driver.as_deref(), Some("virtio-pci"));
        assert_eq!(devices[0].driver, None);
    }

    #[test]
    fn builtin_names_cover_unknown_subclasses() {
        assert_eq!(builtin_class_name(0x0200), "Ethernet controller");
        assert_eq!(builtin_class_name(0x0c80), "Serial bus controller");
        assert_eq!(builtin_class_name(0xff00), "Unassigned class");
    }
}
