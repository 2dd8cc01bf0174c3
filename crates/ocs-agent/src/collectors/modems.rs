//! MODEMS: PCI modems (class 0703) and the mobile broadband modems the kernel exposes as
//! `wwan` devices.

use super::{Context, Row};
use crate::error::Error;
use crate::pci;

/// Reads the modems.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let mut rows: Vec<Row> = ctx
        .pci_devices()
        .iter()
        .filter(|d| d.class_code() == 0x0703)
        .map(|d| {
            let (class, vendor, device) = pci::names(ctx, d);
            let mut row = Row::new();
            row.set("NAME", device.unwrap_or_else(|| class.clone()));
            row.set_opt("MODEL", vendor);
            row.set("DESCRIPTION", format!("{class} {}", d.pci_id()));
            row.set("TYPE", "PCI modem");
            row
        })
        .collect();
    for dev in ctx.list("/sys/class/wwan") {
        let mut row = Row::new();
        row.set("NAME", dev.clone());
        row.set("TYPE", "WWAN");
        row.set("DESCRIPTION", "Mobile broadband modem");
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_laptop_has_a_wwan_modem_and_the_vm_none() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(field(&rows[0], "NAME"), "wwan0");
        assert!(collect(&machine("vm-debian12", true)).unwrap().is_empty());
    }
}
