//! STORAGES: physical and virtual disks (`/sys/block`, without partitions, loop devices
//! and device-mapper volumes): name, maker, model, size, bus, serial number, firmware.
//! udev's database (`/run/udev/data`) supplies the serial numbers of SATA/SCSI disks that
//! sysfs only shows to root (VPD pages); NVMe and virtio disks publish theirs in sysfs.

use super::{key_values, Context, Row};
use crate::error::Error;

/// Block devices that are not disks.
fn is_disk(name: &str) -> bool {
    !["loop", "ram", "dm-", "md", "nbd", "zd", "fd"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// The maker, from the start of a model string (ATA disks report "ATA" as vendor).
pub fn maker_from_model(model: &str) -> Option<&'static str> {
    let m = model.to_ascii_uppercase();
    [
        ("SAMSUNG", "Samsung"),
        ("MZ", "Samsung"),
        ("WDC", "Western Digital"),
        ("WD", "Western Digital"),
        ("ST", "Seagate"),
        ("SEAGATE", "Seagate"),
        ("TOSHIBA", "Toshiba"),
        ("KIOXIA", "Kioxia"),
        ("HGST", "HGST"),
        ("HITACHI", "Hitachi"),
        ("INTEL", "Intel"),
        ("SSDSC", "Intel"),
        ("KINGSTON", "Kingston"),
        ("CRUCIAL", "Crucial"),
        ("CT", "Crucial"),
        ("MICRON", "Micron"),
        ("SANDISK", "SanDisk"),
        ("SK HYNIX", "SK hynix"),
        ("HFS", "SK hynix"),
        ("LITEON", "Lite-On"),
        ("PLEXTOR", "Plextor"),
        ("ADATA", "ADATA"),
        ("CORSAIR", "Corsair"),
        ("VBOX", "Oracle"),
        ("QEMU", "QEMU"),
        ("VMWARE", "VMware"),
    ]
    .iter()
    .find(|(prefix, _)| m.starts_with(prefix))
    .map(|(_, maker)| *maker)
}

/// Reads the disks.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    for name in ctx.list("/sys/block").into_iter().filter(|n| is_disk(n)) {
        let base = format!("/sys/block/{name}");
        let attr = |p: &str| ctx.attr(&format!("{base}/{p}"));
        let udev = attr("dev")
            .and_then(|dev| ctx.read_opt(&format!("/run/udev/data/b{dev}")))
            .map(|t| {
                key_values(
                    &t.lines()
                        .filter_map(|l| l.strip_prefix("E:"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            })
            .unwrap_or_default();
        let prop = |k: &str| super::key_value(&udev, k).map(|v| v.replace('_', " "));
        let subsystem = ctx.link_name(&format!("{base}/device/subsystem"));
        let bus = prop("ID_BUS").map(|b| b.to_ascii_lowercase());

        let mut row = Row::new();
        row.set("NAME", name.clone());
        let sectors = attr("size")
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        if sectors > 0 {
            // Decimal megabytes, as disk makers and the original agent count them.
            row.set(
                "DISKSIZE",
                ((sectors * 512 + 500_000) / 1_000_000).to_string(),
            );
        }
        let removable = attr("removable").as_deref() == Some("1");
        row.set(
            "TYPE",
            if name.starts_with("sr") {
                "cdrom"
            } else if removable || bus.as_deref() == Some("usb") {
                "removable"
            } else {
                "disk"
            },
        );

        let mut model = attr("device/model").or_else(|| prop("ID_MODEL"));
        let mut vendor = attr("device/vendor")
            .filter(|v| v != "ATA" && !v.starts_with("0x"))
            .or_else(|| prop("ID_VENDOR").filter(|v| v != "ATA"));
        let description = if name.starts_with("nvme") {
            "NVMe"
        } else if name.starts_with("mmcblk") {
            "MMC/SD"
        } else if name.starts_with("zram") {
            "Compressed RAM disk (zram)"
        } else if name.starts_with("xvd") {
            "Xen virtual disk"
        } else if subsystem.as_deref() == Some("virtio") {
            "VirtIO"
        } else {
            match bus.as_deref() {
                Some("ata") => "SATA",
                Some("usb") => "USB",
                Some("scsi") => "SCSI",
                Some("ieee1394") => "FireWire",
                _ if name.starts_with("sd") => "SCSI",
                _ => "",
            }
        };
        row.set("DESCRIPTION", description);
        if description == "VirtIO" {
            // A virtio disk's "vendor" is the virtio vendor ID; the PCI database names it.
            let id = attr("device/vendor").and_then(|v| crate::pci::parse_hex(&v));
            if let Some(id) = id.and_then(|v| u16::try_from(v).ok()) {
                vendor = ctx
                    .pci_ids()
                    .and_then(|i| i.vendor(id))
                    .map(str::to_owned)
                    .or(vendor);
            }
            model = model.or_else(|| Some("Virtio block device".to_owned()));
        }
        if name.starts_with("mmcblk") {
            model = model.or_else(|| attr("device/name"));
        }
        let maker = vendor.clone().or_else(|| {
            model
                .as_deref()
                .and_then(maker_from_model)
                .map(str::to_owned)
        });
        row.set_opt("MANUFACTURER", maker);
        row.set_opt("MODEL", model);
        let serial = attr("device/serial")
            .or_else(|| attr("serial"))
            .or_else(|| prop("ID_SERIAL_SHORT"))
            .filter(|s| !super::is_placeholder(s));
        if serial.is_none() && description == "SATA" || serial.is_none() && description == "SCSI" {
            ctx.note_needs_root(&format!(
                "serial number of {name} (udev database or VPD page)"
            ));
        }
        row.set_opt("SERIALNUMBER", serial);
        row.set_opt(
            "FIRMWARE",
            attr("device/firmware_rev")
                .or_else(|| attr("device/rev"))
                .or_else(|| prop("ID_REVISION")),
        );
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_vm() {
        let rows = collect(&machine("vm-debian12", true)).unwrap();
        assert_eq!(rows.len(), 2);
        let vda = &rows[0];
        assert_eq!(field(vda, "NAME"), "vda");
        assert_eq!(field(vda, "DISKSIZE"), "274878");
        assert_eq!(field(vda, "TYPE"), "disk");
        assert_eq!(field(vda, "DESCRIPTION"), "VirtIO");
        assert_eq!(field(vda, "MODEL"), "Virtio block device");
        assert_eq!(field(vda, "SERIALNUMBER"), "overlayblk");
        let zram = &rows[1];
        assert_eq!(field(zram, "NAME"), "zram0");
        assert_eq!(zram.get("DISKSIZE"), None);
    }

    #[test]
    fn the_laptop() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        let names: Vec<&str> = rows.iter().map(|r| field(r, "NAME")).collect();
        assert_eq!(names, ["nvme0n1", "sda"]);
        let nvme = &rows[0];
        assert_eq!(field(nvme, "MODEL"), "Samsung SSD 980 PRO 1TB");
        assert_eq!(field(nvme, "MANUFACTURER"), "Samsung");
        assert_eq!(field(nvme, "SERIALNUMBER"), "S5GXNF0R123456");
        assert_eq!(field(nvme, "FIRMWARE"), "5B2QGXA7");
        assert_eq!(field(nvme, "DESCRIPTION"), "NVMe");
        assert_eq!(field(nvme, "DISKSIZE"), "1000205");
        let usb = &rows[1];
        assert_eq!(field(usb, "TYPE"), "removable");
        assert_eq!(field(usb, "DESCRIPTION"), "USB");
        assert_eq!(field(usb, "SERIALNUMBER"), "4C530001230521115294");
        assert_eq!(field(usb, "MANUFACTURER"), "SanDisk");
    }

    #[test]
    fn makers() {
        assert_eq!(
            maker_from_model("WDC WD10EZEX-08WN4A0"),
            Some("Western Digital")
        );
        assert_eq!(maker_from_model("ST2000DM008-2FR102"), Some("Seagate"));
        assert_eq!(maker_from_model("Foo"), None);
    }
}
