//! USBDEVICES: devices on the USB buses (not the root hubs), from
//! `/sys/bus/usb/devices/*/` attributes readable by anyone.

use super::{Context, Row};
use crate::error::Error;

fn class_name(class: u8) -> &'static str {
    match class {
        0x01 => "Audio",
        0x02 => "Communications",
        0x03 => "Human Interface Device",
        0x05 => "Physical",
        0x06 => "Imaging",
        0x07 => "Printer",
        0x08 => "Mass Storage",
        0x09 => "Hub",
        0x0a => "CDC Data",
        0x0b => "Smart Card",
        0x0e => "Video",
        0x0f => "Personal Healthcare",
        0x10 => "Audio/Video",
        0xe0 => "Wireless",
        0xef => "Miscellaneous",
        0xfe => "Application Specific",
        0xff => "Vendor Specific",
        _ => "Defined at Interface level",
    }
}

/// Reads the USB devices.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let base = "/sys/bus/usb/devices";
    Ok(ctx
        .list(base)
        .into_iter()
        // "1-2" and "1-2.3" are devices; "usb1" are root hubs, "1-2:1.0" interfaces.
        .filter(|d| !d.starts_with("usb") && !d.contains(':'))
        .filter_map(|d| {
            let attr = |name: &str| ctx.attr(&format!("{base}/{d}/{name}"));
            let vendor = attr("idVendor")?;
            let product_id = attr("idProduct")?;
            let mut class = attr("bDeviceClass")
                .and_then(|c| u8::from_str_radix(&c, 16).ok())
                .unwrap_or(0);
            if class == 0 {
                class = attr("bInterfaceClass")
                    .or_else(|| ctx.attr(&format!("{base}/{d}:1.0/bInterfaceClass")))
                    .and_then(|c| u8::from_str_radix(&c, 16).ok())
                    .unwrap_or(0);
            }
            if class == 0x09 {
                return None; // external hubs carry no information of their own
            }
            let mut row = Row::new();
            row.set(
                "DESCRIPTION",
                attr("product").unwrap_or_else(|| format!("USB device {vendor}:{product_id}")),
            );
            row.set_opt("MANUFACTURER", attr("manufacturer"));
            row.set_opt(
                "SERIAL",
                attr("serial").filter(|s| !super::is_placeholder(s)),
            );
            row.set(
                "INTERFACE",
                format!("USB {vendor}:{product_id} on bus {}", d),
            );
            row.set("TYPE", class_name(class));
            Some(row)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_laptop() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        assert_eq!(rows.len(), 2);
        let receiver = rows
            .iter()
            .find(|r| field(r, "MANUFACTURER") == "Logitech")
            .unwrap();
        assert_eq!(field(receiver, "DESCRIPTION"), "USB Receiver");
        assert_eq!(field(receiver, "TYPE"), "Human Interface Device");
        let stick = rows
            .iter()
            .find(|r| field(r, "TYPE") == "Mass Storage")
            .unwrap();
        assert_eq!(field(stick, "SERIAL"), "4C530001230521115294");
    }
}
