//! INPUTS: keyboards and pointing devices, from `/proc/bus/input/devices` (readable by
//! anyone). Power buttons, lid switches and other event sources are left out.

use super::{Context, Row};
use crate::error::Error;

/// One input device block.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Device {
    bus: u16,
    vendor: u16,
    name: String,
    phys: String,
    handlers: Vec<String>,
}

fn parse_devices(text: &str) -> Vec<Device> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut d = Device::default();
            for line in block.lines() {
                let (kind, rest) = line.split_once(": ")?;
                match kind {
                    "I" => {
                        for part in rest.split_whitespace() {
                            let (k, v) = part.split_once('=')?;
                            let v = u16::from_str_radix(v, 16).unwrap_or(0);
                            match k {
                                "Bus" => d.bus = v,
                                "Vendor" => d.vendor = v,
                                _ => {}
                            }
                        }
                    }
                    "N" => {
                        d.name = rest
                            .trim_start_matches("Name=")
                            .trim_matches('"')
                            .to_owned()
                    }
                    "P" => d.phys = rest.trim_start_matches("Phys=").to_owned(),
                    "H" => {
                        d.handlers = rest
                            .trim_start_matches("Handlers=")
                            .split_whitespace()
                            .map(str::to_owned)
                            .collect()
                    }
                    _ => {}
                }
            }
            (!d.name.is_empty()).then_some(d)
        })
        .collect()
}

/// Keyboard and pointing-device rows from `/proc/bus/input/devices`.
pub fn parse(text: &str) -> Vec<Row> {
    parse_devices(text)
        .into_iter()
        .filter_map(|d| {
            let mouse = d.handlers.iter().any(|h| h.starts_with("mouse"));
            let keyboard = d.handlers.iter().any(|h| h == "kbd")
                && d.handlers
                    .iter()
                    .any(|h| h == "sysrq" || h.starts_with("leds"))
                || d.name.to_ascii_lowercase().contains("keyboard");
            let lower = d.name.to_ascii_lowercase();
            if lower.contains("button")
                || lower.contains("switch")
                || lower.contains("hotkey")
                || lower.contains("video bus")
            {
                return None;
            }
            let kind = if mouse {
                "Pointing"
            } else if keyboard {
                "Keyboard"
            } else {
                return None;
            };
            let interface = match d.bus {
                0x03 => "USB",
                0x05 => "Bluetooth",
                0x11 => "PS/2",
                0x18 => "I2C",
                0x19 => "Host",
                0x06 => "Virtual",
                _ => "Other",
            };
            let mut row = Row::new();
            row.set("TYPE", kind);
            row.set("CAPTION", d.name.clone());
            row.set("DESCRIPTION", d.name.clone());
            row.set("INTERFACE", interface);
            if mouse {
                let lower = d.name.to_ascii_lowercase();
                row.set(
                    "POINTTYPE",
                    if lower.contains("touchpad") {
                        "Touchpad"
                    } else if lower.contains("trackpoint") {
                        "Trackpoint"
                    } else {
                        "Mouse"
                    },
                );
            }
            // The first word of a USB device name is usually its maker.
            if d.bus == 0x03 {
                row.set_opt("MANUFACTURER", d.name.split_whitespace().next());
            }
            Some(row)
        })
        .collect()
}

/// Reads the input devices.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    Ok(ctx
        .read_opt("/proc/bus/input/devices")
        .map(|t| parse(&t))
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_laptop() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        let kinds: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (field(r, "TYPE"), field(r, "CAPTION")))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Keyboard", "AT Translated Set 2 keyboard"),
                ("Pointing", "SYNA8018:00 06CB:CE67 Touchpad"),
                ("Pointing", "TPPS/2 Elan TrackPoint"),
                ("Pointing", "Logitech USB Receiver Mouse"),
            ]
        );
        assert_eq!(field(&rows[0], "INTERFACE"), "PS/2");
        assert_eq!(field(&rows[1], "POINTTYPE"), "Touchpad");
        assert_eq!(field(&rows[3], "INTERFACE"), "USB");
        assert_eq!(field(&rows[3], "MANUFACTURER"), "Logitech");
    }

    #[test]
    fn the_vm_has_none() {
        assert!(collect(&machine("vm-debian12", true)).unwrap().is_empty());
    }
}
