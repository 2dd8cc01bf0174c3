//! BATTERIES: from the kernel's power supply class (`/sys/class/power_supply/*/uevent`,
//! readable by anyone), completed by SMBIOS type 22 (location, manufacture date, SBDS data)
//! when available.

use super::{key_value, key_values, Context, Row};
use crate::error::Error;

/// One battery from its uevent file.
pub fn from_uevent(name: &str, uevent: &str) -> Option<Row> {
    let kv = key_values(uevent);
    let get = |k: &str| key_value(&kv, &format!("POWER_SUPPLY_{k}"));
    if get("TYPE") != Some("Battery") || get("SCOPE") == Some("Device") {
        // Mice and headsets report their batteries here too; they are not the machine's.
        return None;
    }
    let mut row = Row::new();
    row.set("NAME", get("MODEL_NAME").unwrap_or(name));
    row.set_opt("MANUFACTURER", get("MANUFACTURER"));
    row.set_opt(
        "SERIALNUMBER",
        get("SERIAL_NUMBER").filter(|s| !super::is_placeholder(s)),
    );
    row.set_opt("CHEMISTRY", get("TECHNOLOGY"));
    row.set_opt("STATUS", get("STATUS"));
    row.set_opt("CYCLES", get("CYCLE_COUNT").filter(|c| *c != "0"));
    row.set_opt("ESTIMATEDCHARGEREMAINING", get("CAPACITY"));
    let micro = |k: &str| {
        get(k)
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|v| *v > 0)
    };
    // Energy in µWh (or charge in µAh, converted with the design voltage) → mWh.
    let voltage = micro("VOLTAGE_MIN_DESIGN");
    let design = micro("ENERGY_FULL_DESIGN").map(|e| e / 1000).or_else(|| {
        let charge = micro("CHARGE_FULL_DESIGN")?;
        Some(charge / 1000 * voltage? / 1_000_000)
    });
    row.set_opt("DESIGNCAPACITY", design.map(|d| d.to_string()));
    row.set_opt("DESIGNVOLTAGE", voltage.map(|v| (v / 1000).to_string()));
    row.set("DESCRIPTION", name);
    Some(row)
}

/// Reads the batteries.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let mut rows: Vec<Row> = ctx
        .list("/sys/class/power_supply")
        .into_iter()
        .filter_map(|n| {
            let uevent = ctx.read_opt(&format!("/sys/class/power_supply/{n}/uevent"))?;
            from_uevent(&n, &uevent)
        })
        .collect();
    if let Some(smbios) = ctx.smbios() {
        for (i, b) in smbios.of_type(22).enumerate() {
            if rows.len() <= i {
                let mut row = Row::new();
                row.set_opt("NAME", b.clean("Name"));
                rows.push(row);
            }
            let row = &mut rows[i];
            row.set_opt("LOCATION", b.clean("Location"));
            row.set_opt(
                "MANUFACTUREDATE",
                b.clean("Manufacture Date")
                    .or_else(|| b.clean("SBDS Manufacture Date")),
            );
            row.set_opt("SBDSVERSION", b.clean("SBDS Version"));
            row.set_opt("MAXERROR", b.clean("Maximum Error"));
            row.set_opt("OEMSPECIFIC", b.clean("OEM-specific Information"));
            if row.get("MANUFACTURER").is_none() {
                row.set_opt("MANUFACTURER", b.clean("Manufacturer"));
            }
            if row.get("SERIALNUMBER").is_none() {
                row.set_opt(
                    "SERIALNUMBER",
                    b.clean("Serial Number")
                        .or_else(|| b.clean("SBDS Serial Number")),
                );
            }
            if row.get("CHEMISTRY").is_none() {
                row.set_opt(
                    "CHEMISTRY",
                    b.clean("Chemistry").or_else(|| b.clean("SBDS Chemistry")),
                );
            }
            if row.get("DESIGNCAPACITY").is_none() {
                row.set_opt(
                    "DESIGNCAPACITY",
                    b.get("Design Capacity")
                        .and_then(|c| c.split_whitespace().next())
                        .map(str::to_owned),
                );
            }
            if row.get("DESIGNVOLTAGE").is_none() {
                row.set_opt(
                    "DESIGNVOLTAGE",
                    b.get("Design Voltage")
                        .and_then(|c| c.split_whitespace().next())
                        .map(str::to_owned),
                );
            }
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
        assert_eq!(rows.len(), 1, "the mouse battery is not the machine's");
        let b = &rows[0];
        assert_eq!(field(b, "NAME"), "5B10W51867");
        assert_eq!(field(b, "MANUFACTURER"), "Sunwoda");
        assert_eq!(field(b, "CHEMISTRY"), "Li-poly");
        assert_eq!(field(b, "DESIGNCAPACITY"), "52500");
        assert_eq!(field(b, "DESIGNVOLTAGE"), "15440");
        assert_eq!(field(b, "CYCLES"), "87");
        assert_eq!(field(b, "ESTIMATEDCHARGEREMAINING"), "93");
        assert_eq!(field(b, "STATUS"), "Discharging");
        assert_eq!(field(b, "LOCATION"), "Front");
        assert_eq!(field(b, "MANUFACTUREDATE"), "2022-11-07");
        assert_eq!(field(b, "SBDSVERSION"), "03.01");
    }

    #[test]
    fn charge_based_battery() {
        let u = "POWER_SUPPLY_NAME=BAT0\nPOWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_VOLTAGE_MIN_DESIGN=11100000\nPOWER_SUPPLY_CHARGE_FULL_DESIGN=4400000\n";
        let row = from_uevent("BAT0", u).unwrap();
        assert_eq!(field(&row, "DESIGNCAPACITY"), "48840");
        assert_eq!(field(&row, "DESIGNVOLTAGE"), "11100");
        assert!(from_uevent("AC", "POWER_SUPPLY_TYPE=Mains\n").is_none());
    }
}
