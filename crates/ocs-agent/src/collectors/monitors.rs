//! MONITORS: screens connected to a GPU, from the EDID block the kernel exposes per DRM
//! connector (`/sys/class/drm/card*-*/edid`, readable by anyone): maker (PNP ID), model
//! name, serial number, manufacture date, size. The raw EDID is sent base64-encoded, as the
//! Unix agent does, so the server keeps everything.

use super::{Context, Row};
use crate::error::Error;

/// What an EDID block says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edid {
    /// Three-letter PNP manufacturer ID (`DEL`, `LEN`).
    pub pnp: String,
    /// Product code.
    pub product: u16,
    /// Serial number: the descriptor string when there is one, else the 32-bit number.
    pub serial: Option<String>,
    /// Monitor name descriptor.
    pub name: Option<String>,
    /// Week and year of manufacture.
    pub made: Option<(u8, u16)>,
    /// Screen size in centimetres.
    pub size_cm: Option<(u8, u8)>,
}

/// Decodes the first 128-byte EDID block; `None` when the header or checksum is wrong.
pub fn parse_edid(b: &[u8]) -> Option<Edid> {
    if b.len() < 128 || b[..8] != [0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0] {
        return None;
    }
    if b[..128].iter().fold(0u8, |a, x| a.wrapping_add(*x)) != 0 {
        return None;
    }
    let id = u16::from_be_bytes([b[8], b[9]]);
    let letter =
        |shift: u16| char::from(b'A' - 1 + u8::try_from((id >> shift) & 0x1f).unwrap_or(0));
    let pnp: String = [letter(10), letter(5), letter(0)].iter().collect();
    let product = u16::from_le_bytes([b[10], b[11]]);
    let serial_number = u32::from_le_bytes([b[12], b[13], b[14], b[15]]);
    let mut edid = Edid {
        pnp,
        product,
        made: (b[17] != 0).then(|| (b[16], 1990 + u16::from(b[17]))),
        size_cm: (b[21] != 0 && b[22] != 0).then_some((b[21], b[22])),
        ..Edid::default()
    };
    for d in (54..126).step_by(18) {
        let desc = &b[d..d + 18];
        if desc[0] != 0 || desc[1] != 0 {
            continue; // a timing descriptor
        }
        let text = || {
            String::from_utf8_lossy(&desc[5..18])
                .split('\n')
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        match desc[3] {
            0xff => edid.serial = Some(text()).filter(|s| !s.is_empty()),
            0xfc => edid.name = Some(text()).filter(|s| !s.is_empty()),
            _ => {}
        }
    }
    if edid.serial.is_none() && serial_number != 0 {
        edid.serial = Some(serial_number.to_string());
    }
    Some(edid)
}

/// Maker names for common PNP IDs; others are shown as the ID itself.
pub fn pnp_vendor(pnp: &str) -> &str {
    match pnp {
        "ACI" | "AUS" => "ASUSTek",
        "ACR" => "Acer",
        "AOC" => "AOC",
        "APP" => "Apple",
        "AUO" => "AU Optronics",
        "BNQ" => "BenQ",
        "BOE" => "BOE",
        "CMN" => "Chimei Innolux",
        "DEL" => "Dell",
        "EIZ" | "ENC" => "EIZO",
        "GSM" => "LG Electronics",
        "HPN" | "HWP" => "HP",
        "IVM" => "Iiyama",
        "LEN" => "Lenovo",
        "LGD" => "LG Display",
        "MSI" => "MSI",
        "NEC" => "NEC",
        "PHL" => "Philips",
        "SAM" | "SEC" => "Samsung",
        "SDC" => "Samsung Display",
        "SHP" => "Sharp",
        "SNY" => "Sony",
        "VSC" => "ViewSonic",
        "FUS" => "Fujitsu",
        other => other,
    }
}

/// Reads the monitors.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    for connector in ctx
        .list("/sys/class/drm")
        .into_iter()
        .filter(|c| c.contains('-'))
    {
        let Ok(raw) = ctx.read_bytes(&format!("/sys/class/drm/{connector}/edid")) else {
            continue;
        };
        let Some(edid) = parse_edid(&raw) else {
            continue;
        };
        let port = connector
            .split_once('-')
            .map_or(connector.as_str(), |(_, p)| p);
        let mut row = Row::new();
        row.set("MANUFACTURER", pnp_vendor(&edid.pnp));
        row.set(
            "CAPTION",
            edid.name
                .clone()
                .unwrap_or_else(|| format!("{}{:04X}", edid.pnp, edid.product)),
        );
        let mut description = format!("{port} {}{:04X}", edid.pnp, edid.product);
        if let Some((week, year)) = edid.made {
            description.push_str(&format!(", made {year} week {week}"));
        }
        row.set("DESCRIPTION", description);
        let built_in =
            port.starts_with("eDP") || port.starts_with("LVDS") || port.starts_with("DSI");
        let inches = edid.size_cm.map(|(w, h)| {
            let d = (f64::from(w).powi(2) + f64::from(h).powi(2)).sqrt() / 2.54;
            format!("{d:.1}\"")
        });
        row.set(
            "TYPE",
            match (built_in, inches) {
                (true, Some(i)) => format!("Built-in {i}"),
                (true, None) => "Built-in".to_owned(),
                (false, Some(i)) => format!("{port} {i}"),
                (false, None) => port.to_owned(),
            },
        );
        row.set_opt("SERIAL", edid.serial.clone());
        row.set("BASE64", crate::base64::encode(&raw));
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    /// An EDID block with a name and a serial descriptor and a correct checksum.
    pub fn sample_edid(pnp: &str, product: u16, name: &str, serial: &str) -> Vec<u8> {
        let mut b = vec![0u8; 128];
        b[..8].copy_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0]);
        let c: Vec<u16> = pnp.bytes().map(|x| u16::from(x - b'A' + 1)).collect();
        b[8..10].copy_from_slice(&(c[0] << 10 | c[1] << 5 | c[2]).to_be_bytes());
        b[10..12].copy_from_slice(&product.to_le_bytes());
        b[16] = 12;
        b[17] = 32; // 2022
        b[18] = 1;
        b[19] = 4;
        b[21] = 60;
        b[22] = 34;
        for (slot, (tag, text)) in [(0xfc_u8, name), (0xff, serial)].iter().enumerate() {
            let d = 72 + slot * 18;
            b[d + 3] = *tag;
            let mut t = text.as_bytes().to_vec();
            t.push(b'\n');
            t.resize(13, b' ');
            b[d + 5..d + 18].copy_from_slice(&t);
        }
        let sum = b[..127].iter().fold(0u8, |a, x| a.wrapping_add(*x));
        b[127] = 0u8.wrapping_sub(sum);
        b
    }

    #[test]
    fn edid_decoding() {
        let raw = sample_edid("DEL", 0xa0fe, "DELL U2723QE", "7X9KLM3");
        let e = parse_edid(&raw).unwrap();
        assert_eq!(e.pnp, "DEL");
        assert_eq!(e.product, 0xa0fe);
        assert_eq!(e.name.as_deref(), Some("DELL U2723QE"));
        assert_eq!(e.serial.as_deref(), Some("7X9KLM3"));
        assert_eq!(e.made, Some((12, 2022)));
        let mut bad = raw.clone();
        bad[127] ^= 1;
        assert!(parse_edid(&bad).is_none());
        assert!(parse_edid(&raw[..100]).is_none());
    }

    #[test]
    fn the_laptop() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        assert_eq!(
            rows.len(),
            2,
            "the disconnected connector has an empty edid"
        );
        let builtin = rows
            .iter()
            .find(|r| field(r, "TYPE").starts_with("Built-in"))
            .unwrap();
        assert_eq!(field(builtin, "MANUFACTURER"), "AU Optronics");
        let external = rows
            .iter()
            .find(|r| field(r, "MANUFACTURER") == "Dell")
            .unwrap();
        assert_eq!(field(external, "CAPTION"), "DELL U2723QE");
        assert_eq!(field(external, "SERIAL"), "7X9KLM3");
        assert!(field(external, "TYPE").starts_with("DP-1 27"));
        assert!(field(external, "DESCRIPTION").contains("made 2022 week 12"));
    }
}
