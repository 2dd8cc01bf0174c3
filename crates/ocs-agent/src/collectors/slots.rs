//! SLOTS: expansion slots, from SMBIOS type 9 (designation, type, usage). Without SMBIOS,
//! the hot-plug slots the kernel knows (`/sys/bus/pci/slots`) are listed with their bus
//! address and whether a card is present.

use super::{Context, Row};
use crate::error::Error;
use crate::smbios::Smbios;

/// Rows from SMBIOS system slots.
pub fn from_smbios(smbios: &Smbios) -> Vec<Row> {
    smbios
        .of_type(9)
        .map(|s| {
            let mut row = Row::new();
            let designation = s.clean("Designation");
            row.set_opt("NAME", designation.clone());
            row.set_opt("DESIGNATION", designation.or_else(|| s.clean("ID")));
            row.set_opt("DESCRIPTION", s.clean("Type"));
            row.set_opt("STATUS", s.clean("Current Usage"));
            row.set_opt("PURPOSE", s.clean("Bus Address"));
            row
        })
        .collect()
}

/// Rows from PCI hot-plug slots.
pub fn from_sysfs(ctx: &Context) -> Vec<Row> {
    ctx.list("/sys/bus/pci/slots")
        .into_iter()
        .map(|slot| {
            let attr = |name: &str| ctx.attr(&format!("/sys/bus/pci/slots/{slot}/{name}"));
            let mut row = Row::new();
            row.set("NAME", format!("Slot {slot}"));
            row.set("DESIGNATION", slot.clone());
            row.set("DESCRIPTION", "PCI hot-plug slot");
            row.set_opt("PURPOSE", attr("address"));
            row.set_opt(
                "STATUS",
                attr("adapter").map(|a| if a == "1" { "In Use" } else { "Available" }),
            );
            row
        })
        .collect()
}

/// Reads the slots.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    Ok(ctx.smbios_rows_or(from_smbios, from_sysfs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_laptop() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(field(&rows[0], "NAME"), "M.2 Slot 1");
        assert_eq!(field(&rows[0], "DESCRIPTION"), "x4 PCI Express 4 x4");
        assert_eq!(field(&rows[0], "STATUS"), "In Use");
        assert_eq!(field(&rows[1], "STATUS"), "Available");
    }

    #[test]
    fn hotplug_slots() {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path().join("sys/bus/pci/slots/3");
        std::fs::create_dir_all(&s).unwrap();
        std::fs::write(s.join("address"), "0000:00:03\n").unwrap();
        std::fs::write(s.join("adapter"), "1\n").unwrap();
        let rows = collect(&crate::collectors::Context::captured(dir.path(), true)).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(field(&rows[0], "STATUS"), "In Use");
        assert_eq!(field(&rows[0], "PURPOSE"), "0000:00:03");
    }
}
