//! PORTS: connectors, from SMBIOS type 8 (USB, serial, network, audio…). Without SMBIOS,
//! the serial ports with a real UART behind them (`/sys/class/tty/ttyS*/type` ≠ 0) and
//! USB serial adapters are listed.

use super::{Context, Row};
use crate::error::Error;
use crate::smbios::Smbios;

/// Rows from SMBIOS port connectors.
pub fn from_smbios(smbios: &Smbios) -> Vec<Row> {
    smbios
        .of_type(8)
        .map(|p| {
            let mut row = Row::new();
            let name = p
                .clean("External Reference Designator")
                .or_else(|| p.clean("Internal Reference Designator"));
            row.set_opt("NAME", name.clone());
            row.set_opt("CAPTION", name);
            row.set_opt("TYPE", p.clean("Port Type"));
            row.set_opt(
                "DESCRIPTION",
                p.clean("External Connector Type")
                    .or_else(|| p.clean("Internal Connector Type")),
            );
            row
        })
        .filter(|r| r.get("TYPE").is_some() || r.get("NAME").is_some())
        .collect()
}

/// Serial ports from sysfs.
pub fn from_sysfs(ctx: &Context) -> Vec<Row> {
    ctx.list("/sys/class/tty")
        .into_iter()
        .filter(|t| t.starts_with("ttyS") || t.starts_with("ttyUSB") || t.starts_with("ttyACM"))
        .filter(|t| {
            // Legacy ttyS nodes exist for every possible port; type 0 means no UART.
            !t.starts_with("ttyS")
                || ctx
                    .attr(&format!("/sys/class/tty/{t}/type"))
                    .is_some_and(|ty| ty != "0")
        })
        .map(|t| {
            let mut row = Row::new();
            row.set("NAME", t.clone());
            row.set("CAPTION", format!("/dev/{t}"));
            row.set("TYPE", "Serial");
            row.set(
                "DESCRIPTION",
                if t.starts_with("ttyS") {
                    "Serial port (UART)"
                } else {
                    "USB serial adapter"
                },
            );
            row
        })
        .collect()
}

/// Reads the ports.
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
        assert_eq!(rows.len(), 3);
        assert_eq!(field(&rows[0], "NAME"), "USB 1");
        assert_eq!(field(&rows[0], "TYPE"), "USB");
        assert_eq!(field(&rows[0], "DESCRIPTION"), "Access Bus (USB)");
        assert_eq!(field(&rows[2], "TYPE"), "Network Port");
    }

    #[test]
    fn the_vm_serial_port() {
        let rows = collect(&machine("vm-debian12", true)).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(field(&rows[0], "NAME"), "ttyS0");
        assert_eq!(field(&rows[0], "TYPE"), "Serial");
    }
}
