//! BIOS: firmware vendor, version and date; system manufacturer, model and serial number;
//! board manufacturer, model and serial; chassis type and asset tag. From SMBIOS types 0–3
//! (see `smbios` for the sources). Boards without DMI (ARM) get the model from the device
//! tree. A machine with neither sends no BIOS section at all, which the server reads the same
//! way as the original agent's empty `<BIOS>` element.

use super::{clean, Context, Row};
use crate::error::Error;
use crate::smbios::Smbios;

/// Builds the BIOS row from SMBIOS data.
pub fn from_smbios(smbios: &Smbios) -> Row {
    let mut row = Row::new();
    if let Some(bios) = smbios.first(0) {
        row.set_opt("BMANUFACTURER", bios.clean("Vendor"));
        row.set_opt("BVERSION", bios.clean("Version"));
        row.set_opt("BDATE", bios.clean("Release Date"));
    }
    if let Some(system) = smbios.first(1) {
        row.set_opt("SMANUFACTURER", system.clean("Manufacturer"));
        // Lenovo puts the machine type in Product Name and the marketing name in Version.
        let model = match (system.clean("Product Name"), system.clean("Version")) {
            (Some(p), Some(v))
                if v.to_ascii_lowercase().contains("thinkpad")
                    || v.to_ascii_lowercase().contains("thinkcentre") =>
            {
                Some(format!("{v} ({p})"))
            }
            (p, _) => p,
        };
        row.set_opt("SMODEL", model);
        row.set_opt("SSN", system.clean("Serial Number"));
    }
    if let Some(board) = smbios.first(2) {
        row.set_opt("MMANUFACTURER", board.clean("Manufacturer"));
        row.set_opt("MMODEL", board.clean("Product Name"));
        row.set_opt("MSN", board.clean("Serial Number"));
    }
    if let Some(chassis) = smbios.first(3) {
        row.set_opt("TYPE", chassis.clean("Type"));
        row.set_opt("ASSETTAG", chassis.clean("Asset Tag"));
        // Some vendors leave the system serial empty and fill the chassis one.
        if row.get("SSN").is_none() {
            row.set_opt("SSN", chassis.clean("Serial Number"));
        }
    }
    if row.get("ASSETTAG").is_none() {
        if let Some(board) = smbios.first(2) {
            row.set_opt("ASSETTAG", board.clean("Asset Tag"));
        }
    }
    row
}

/// Reads the firmware and system identity.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let mut row = ctx.smbios().map(from_smbios).unwrap_or_default();
    if row.get("SMODEL").is_none() {
        // Device-tree machines (ARM boards) name themselves here.
        if let Some(model) = ctx.read_opt("/proc/device-tree/model") {
            row.set_opt("SMODEL", clean(Some(model.trim_end_matches('\0'))));
        }
    }
    if row.get("SSN").is_none() {
        if let Some(serial) = ctx.read_opt("/proc/device-tree/serial-number") {
            row.set_opt("SSN", clean(Some(serial.trim_end_matches('\0'))));
        }
    }
    if !ctx.privileged && row.get("SSN").is_none() && ctx.smbios().is_some() {
        ctx.note_needs_root("BIOS serial numbers");
    }
    Ok(if row.is_empty() {
        Vec::new()
    } else {
        vec![row]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};
    use crate::smbios::parse_dmidecode;

    #[test]
    fn the_laptop() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        let r = &rows[0];
        assert_eq!(field(r, "BMANUFACTURER"), "LENOVO");
        assert_eq!(field(r, "BVERSION"), "N3AET75W (1.40 )");
        assert_eq!(field(r, "BDATE"), "03/14/2023");
        assert_eq!(field(r, "SMANUFACTURER"), "LENOVO");
        assert_eq!(field(r, "SMODEL"), "ThinkPad T14 Gen 3 (21AHCTO1WW)");
        assert_eq!(field(r, "SSN"), "PF3XYZ12");
        assert_eq!(field(r, "MMANUFACTURER"), "LENOVO");
        assert_eq!(field(r, "MMODEL"), "21AHCTO1WW");
        assert_eq!(field(r, "MSN"), "L1HF2BC03AB");
        assert_eq!(field(r, "TYPE"), "Notebook");
        assert_eq!(field(r, "ASSETTAG"), "IT-004211");
    }

    #[test]
    fn the_vm_has_no_bios() {
        assert!(collect(&machine("vm-debian12", true)).unwrap().is_empty());
    }

    #[test]
    fn placeholders_are_dropped() {
        let text = "Handle 0x0001, DMI type 1, 27 bytes\nSystem Information\n\tManufacturer: System manufacturer\n\tProduct Name: System Product Name\n\tSerial Number: To Be Filled By O.E.M.\n\nHandle 0x0003, DMI type 3, 22 bytes\nChassis Information\n\tType: Desktop\n\tSerial Number: 1234ABCD\n";
        let row = from_smbios(&parse_dmidecode(text));
        assert_eq!(row.get("SMANUFACTURER"), None);
        assert_eq!(row.get("SMODEL"), None);
        assert_eq!(row.get("SSN"), Some("1234ABCD"));
        assert_eq!(row.get("TYPE"), Some("Desktop"));
    }
}
