//! CONTROLLERS: every PCI function, as `lspci` lists them: vendor, device and class names
//! (from `pci.ids` when installed), PCI ID, bus address, driver and revision.

use super::{Context, Row};
use crate::error::Error;
use crate::pci::{self, PciDevice};

/// One controller row.
pub fn row(ctx: &Context, d: &PciDevice) -> Row {
    let (class, vendor, device) = pci::names(ctx, d);
    let mut row = Row::new();
    row.set("TYPE", class.clone());
    row.set(
        "NAME",
        device
            .clone()
            .unwrap_or_else(|| format!("{class} [{:04x}]", d.class_code())),
    );
    row.set(
        "MANUFACTURER",
        vendor
            .clone()
            .unwrap_or_else(|| format!("Vendor {:04x}", d.vendor)),
    );
    row.set(
        "CAPTION",
        match (&vendor, &device) {
            (Some(v), Some(n)) => format!("{v} {n}"),
            _ => format!("{class} {}", d.pci_id()),
        },
    );
    row.set("DESCRIPTION", format!("{class} [{:04x}]", d.class_code()));
    row.set("VERSION", format!("rev {:02x}", d.revision));
    row.set("PCIID", d.pci_id());
    row.set("PCISLOT", d.slot.clone());
    row.set_opt("DRIVER", d.driver.clone());
    row
}

/// Reads the PCI controllers.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    Ok(ctx.pci_devices().iter().map(|d| row(ctx, d)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_vm_without_pci_ids() {
        let rows = collect(&machine("vm-debian12", true)).unwrap();
        assert_eq!(rows.len(), 6);
        let nic = rows
            .iter()
            .find(|r| field(r, "PCISLOT") == "00:03.0")
            .unwrap();
        assert_eq!(field(nic, "TYPE"), "Ethernet controller");
        assert_eq!(field(nic, "PCIID"), "1af4:1041");
        assert_eq!(field(nic, "MANUFACTURER"), "Vendor 1af4");
        assert_eq!(field(nic, "VERSION"), "rev 01");
        assert_eq!(field(nic, "DRIVER"), "virtio-pci");
        let bridge = rows
            .iter()
            .find(|r| field(r, "PCISLOT") == "00:00.0")
            .unwrap();
        assert_eq!(field(bridge, "NAME"), "Host bridge [0600]");
    }

    #[test]
    fn the_laptop_with_pci_ids() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        let vga = rows
            .iter()
            .find(|r| field(r, "PCISLOT") == "00:02.0")
            .unwrap();
        assert_eq!(field(vga, "MANUFACTURER"), "Intel Corporation");
        assert_eq!(field(vga, "NAME"), "Alder Lake-P GT2 [Iris Xe Graphics]");
        assert_eq!(field(vga, "TYPE"), "VGA compatible controller");
        assert_eq!(
            field(vga, "CAPTION"),
            "Intel Corporation Alder Lake-P GT2 [Iris Xe Graphics]"
        );
        assert_eq!(field(vga, "DRIVER"), "i915");
    }
}
