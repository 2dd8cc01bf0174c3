//! MEMORIES: memory modules and empty slots, from SMBIOS type 17 (root, or `dmidecode`).
//! Without SMBIOS, servers with an EDAC driver still describe their DIMMs in
//! `/sys/devices/system/edac/mc/*/dimm*`, readable by anyone.

use super::{Context, Row};
use crate::error::Error;
use crate::smbios::Smbios;

/// `16 GB` / `16384 MB` / `512 kB` → MiB.
pub fn size_mb(size: &str) -> Option<u64> {
    let mut words = size.split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    match words.next()? {
        "TB" => Some(n * 1024 * 1024),
        "GB" => Some(n * 1024),
        "MB" => Some(n),
        "kB" | "KB" => Some(n / 1024),
        _ => None,
    }
}

/// Rows from SMBIOS memory devices, numbered by slot.
pub fn from_smbios(smbios: &Smbios) -> Vec<Row> {
    smbios
        .of_type(17)
        .enumerate()
        .map(|(i, dev)| {
            let mut row = Row::new();
            row.set("NUMSLOTS", (i + 1).to_string());
            row.set_opt("CAPTION", dev.clean("Locator"));
            let installed = dev.get("Size").and_then(size_mb);
            let form = dev.clean("Form Factor");
            let bank = dev.clean("Bank Locator");
            match installed {
                Some(mb) => {
                    row.set("CAPACITY", mb.to_string());
                    let mut description = form.unwrap_or_default();
                    if let Some(b) = bank {
                        description = format!("{description} ({b})").trim().to_owned();
                    }
                    row.set("DESCRIPTION", description);
                    row.set_opt("TYPE", dev.clean("Type"));
                    row.set_opt(
                        "SPEED",
                        dev.get("Configured Memory Speed")
                            .or(dev.get("Speed"))
                            .and_then(|s| s.split_whitespace().next())
                            .filter(|s| s.parse::<u32>().is_ok())
                            .map(str::to_owned),
                    );
                    row.set_opt("SERIALNUMBER", dev.clean("Serial Number"));
                    row.set_opt("MANUFACTURER", dev.clean("Manufacturer"));
                }
                None => {
                    row.set("CAPACITY", "0");
                    row.set("DESCRIPTION", "Empty slot");
                }
            }
            let array = dev
                .get("Array Handle")
                .and_then(|h| u16::from_str_radix(h.trim_start_matches("0x"), 16).ok())
                .and_then(|h| smbios.by_handle(h));
            if let Some(a) = array {
                row.set_opt("PURPOSE", a.clean("Use"));
                // "None" is a real answer here, not a placeholder.
                row.set_opt("ERRORCORRECTIONTYPE", a.get("Error Correction Type"));
            }
            row
        })
        .collect()
}

/// Rows from EDAC (`dimm_label`, `size` in MiB, `dimm_mem_type`, `dimm_location`).
pub fn from_edac(ctx: &Context) -> Vec<Row> {
    let mut rows = Vec::new();
    let base = "/sys/devices/system/edac/mc";
    for mc in ctx.list(base).into_iter().filter(|m| m.starts_with("mc")) {
        for dimm in ctx
            .list(&format!("{base}/{mc}"))
            .into_iter()
            .filter(|d| d.starts_with("dimm") || d.starts_with("rank"))
        {
            let attr = |name: &str| ctx.attr(&format!("{base}/{mc}/{dimm}/{name}"));
            let Some(size) = attr("size").filter(|s| s != "0") else {
                continue;
            };
            let mut row = Row::new();
            row.set("NUMSLOTS", (rows.len() + 1).to_string());
            row.set("CAPACITY", size);
            row.set_opt(
                "CAPTION",
                attr("dimm_label").or_else(|| attr("dimm_location")),
            );
            row.set_opt(
                "TYPE",
                attr("dimm_mem_type").map(|t| t.trim_start_matches("Registered-").to_owned()),
            );
            row.set_opt("ERRORCORRECTIONTYPE", attr("dimm_edac_mode"));
            row.set("DESCRIPTION", "DIMM");
            rows.push(row);
        }
    }
    rows
}

/// Reads the memory modules.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let rows = ctx.smbios().map(from_smbios).unwrap_or_default();
    if !rows.is_empty() {
        return Ok(rows);
    }
    let edac = from_edac(ctx);
    if edac.is_empty() && ctx.smbios().is_some() {
        ctx.note_needs_root("memory modules (SMBIOS type 17)");
    }
    Ok(edac)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_laptop() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        assert_eq!(rows.len(), 2);
        let a = &rows[0];
        assert_eq!(field(a, "CAPACITY"), "16384");
        assert_eq!(field(a, "CAPTION"), "DIMM 0");
        assert_eq!(field(a, "DESCRIPTION"), "SODIMM (BANK 0)");
        assert_eq!(field(a, "TYPE"), "DDR4");
        assert_eq!(field(a, "SPEED"), "3200");
        assert_eq!(field(a, "SERIALNUMBER"), "E1A2B3C4");
        assert_eq!(field(a, "MANUFACTURER"), "Samsung");
        assert_eq!(field(a, "NUMSLOTS"), "1");
        assert_eq!(field(a, "PURPOSE"), "System Memory");
        assert_eq!(field(a, "ERRORCORRECTIONTYPE"), "None");
        let b = &rows[1];
        assert_eq!(field(b, "CAPACITY"), "0");
        assert_eq!(field(b, "DESCRIPTION"), "Empty slot");
        assert_eq!(field(b, "NUMSLOTS"), "2");
    }

    #[test]
    fn sizes() {
        assert_eq!(size_mb("16 GB"), Some(16384));
        assert_eq!(size_mb("8192 MB"), Some(8192));
        assert_eq!(size_mb("No Module Installed"), None);
    }

    #[test]
    fn the_vm_has_no_modules() {
        assert!(collect(&machine("vm-debian12", true)).unwrap().is_empty());
    }

    #[test]
    fn edac_dimms() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("sys/devices/system/edac/mc/mc0/dimm0");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("size"), "16384\n").unwrap();
        std::fs::write(d.join("dimm_label"), "CPU_SrcID#0_Ha#0_Chan#0_DIMM#0\n").unwrap();
        std::fs::write(d.join("dimm_mem_type"), "Registered-DDR4\n").unwrap();
        std::fs::create_dir_all(dir.path().join("sys/devices/system/edac/mc/mc0/dimm1")).unwrap();
        std::fs::write(
            dir.path().join("sys/devices/system/edac/mc/mc0/dimm1/size"),
            "0\n",
        )
        .unwrap();
        let ctx = crate::collectors::Context::captured(dir.path(), false);
        let rows = collect(&ctx).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(field(&rows[0], "CAPACITY"), "16384");
        assert_eq!(field(&rows[0], "TYPE"), "DDR4");
    }
}
