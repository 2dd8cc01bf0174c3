//! SOUNDS: audio devices: PCI multimedia audio functions (class 0401/0403), plus the ALSA
//! cards `/proc/asound/cards` lists that are not on PCI (USB headsets, HDMI on SoCs).

use super::{Context, Row};
use crate::error::Error;
use crate::pci;

/// ALSA cards: (driver, short name, long name).
pub fn parse_asound_cards(text: &str) -> Vec<(String, String, String)> {
    let mut cards = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        // " 0 [PCH            ]: HDA-Intel - HDA Intel PCH"
        let Some((head, desc)) = line.split_once("]:") else {
            continue;
        };
        if !head.trim_start().starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let (driver, short) = desc.split_once(" - ").unwrap_or((desc, ""));
        let long = lines
            .next()
            .map(|l| l.trim().to_owned())
            .unwrap_or_default();
        cards.push((driver.trim().to_owned(), short.trim().to_owned(), long));
    }
    cards
}

/// Reads the sound devices.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let mut rows: Vec<Row> = ctx
        .pci_devices()
        .iter()
        .filter(|d| matches!(d.class_code(), 0x0401 | 0x0403))
        .map(|d| {
            let (class, vendor, device) = pci::names(ctx, d);
            let mut row = Row::new();
            row.set(
                "MANUFACTURER",
                vendor.unwrap_or_else(|| format!("Vendor {:04x}", d.vendor)),
            );
            row.set("NAME", device.unwrap_or_else(|| class.clone()));
            row.set("DESCRIPTION", format!("{class} rev {:02x}", d.revision));
            row
        })
        .collect();
    let pci_rows = rows.len();
    if let Some(cards) = ctx.read_opt("/proc/asound/cards") {
        for (driver, short, long) in parse_asound_cards(&cards) {
            // PCI cards (memory-mapped, with an IRQ) are listed above already; keep USB
            // and SoC ones.
            if pci_rows > 0 && long.contains(" irq ") {
                continue;
            }
            // The long name is "<maker> <short name> at <where>".
            let full = long.split(" at ").next().unwrap_or(&long).trim();
            let maker = full
                .strip_suffix(short.as_str())
                .map(str::trim)
                .filter(|m| !m.is_empty() && !short.is_empty());
            let mut row = Row::new();
            row.set(
                "NAME",
                if short.is_empty() {
                    full
                } else {
                    short.as_str()
                },
            );
            row.set_opt("MANUFACTURER", maker);
            row.set("DESCRIPTION", format!("{long} ({driver})"));
            rows.push(row);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_laptop() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(
            field(&rows[0], "NAME"),
            "Alder Lake PCH-P High Definition Audio Controller"
        );
        assert_eq!(field(&rows[0], "MANUFACTURER"), "Intel Corporation");
        assert_eq!(field(&rows[1], "NAME"), "Jabra Evolve2 65");
        assert_eq!(field(&rows[1], "MANUFACTURER"), "GN Audio A/S");
    }

    #[test]
    fn asound_cards() {
        let text = " 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n                      HDA Intel PCH at 0x603f1f0000 irq 163\n 1 [Evolve         ]: USB-Audio - Jabra Evolve2 65\n                      GN Audio A/S Jabra Evolve2 65 at usb-0000:00:14.0-3, full speed\n";
        let cards = parse_asound_cards(text);
        assert_eq!(cards.len(), 2);
        assert_eq!(cards[1].0, "USB-Audio");
    }
}
