//! CPUS: one row per physical processor (socket). `/proc/cpuinfo` gives the model, vendor
//! and flags; sysfs gives the topology (cores, threads), cache sizes and frequencies; SMBIOS
//! type 4, when readable, adds the socket name, serial number, voltage and rated speed.

use std::collections::{BTreeMap, BTreeSet};

use super::{Context, Row};
use crate::error::Error;

/// One logical processor of `/proc/cpuinfo`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Logical {
    /// `processor`.
    pub index: u32,
    /// `key: value` pairs of its block.
    pub fields: BTreeMap<String, String>,
}

impl Logical {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Parses `/proc/cpuinfo` into logical processors plus the machine-wide lines some
/// architectures add after them (ARM `Hardware`, `Model`, `Serial`).
pub fn parse_cpuinfo(text: &str) -> (Vec<Logical>, BTreeMap<String, String>) {
    let mut cpus = Vec::new();
    let mut global = BTreeMap::new();
    for block in text.split("\n\n") {
        let mut fields = BTreeMap::new();
        for line in block.lines() {
            if let Some((k, v)) = line.split_once(':') {
                fields.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
        match fields.get("processor").and_then(|p| p.parse::<u32>().ok()) {
            Some(index) => cpus.push(Logical { index, fields }),
            None => global.extend(fields),
        }
    }
    (cpus, global)
}

/// Topology of one logical CPU from sysfs.
#[derive(Debug, Clone, Default)]
struct Topology {
    package: Option<u32>,
    core: Option<u32>,
    max_khz: Option<u64>,
    cur_khz: Option<u64>,
    l2: Option<(u64, String)>,
}

fn topology(ctx: &Context, index: u32) -> Topology {
    let base = format!("/sys/devices/system/cpu/cpu{index}");
    let num = |p: &str| {
        ctx.attr(&format!("{base}/{p}"))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let l2 = ctx
        .list(&format!("{base}/cache"))
        .into_iter()
        .filter(|i| i.starts_with("index"))
        .find_map(|i| {
            let dir = format!("{base}/cache/{i}");
            (ctx.attr(&format!("{dir}/level"))? == "2").then_some(())?;
            let size = parse_size_kib(&ctx.attr(&format!("{dir}/size"))?)?;
            let shared = ctx
                .attr(&format!("{dir}/shared_cpu_list"))
                .unwrap_or_default();
            Some((size, shared))
        });
    Topology {
        package: num("topology/physical_package_id").and_then(|v| u32::try_from(v).ok()),
        core: num("topology/core_id").and_then(|v| u32::try_from(v).ok()),
        max_khz: num("cpufreq/cpuinfo_max_freq"),
        cur_khz: num("cpufreq/scaling_cur_freq"),
        l2,
    }
}

/// `512K` → 512, `2M` → 2048 (sysfs cache sizes).
pub fn parse_size_kib(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'K' => (&s[..s.len() - 1], 1),
        'M' => (&s[..s.len() - 1], 1024),
        'G' => (&s[..s.len() - 1], 1024 * 1024),
        _ => (s, 1),
    };
    num.trim().parse::<u64>().ok().map(|n| n * mult)
}

/// `1 MiB (2 instances)`, the way `lscpu` (and so the original agent) writes cache sizes.
pub fn format_cache(total_kib: u64, instances: usize) -> String {
    let size = if total_kib >= 1024 && total_kib % 1024 == 0 {
        format!("{} MiB", total_kib / 1024)
    } else {
        format!("{total_kib} KiB")
    };
    if instances > 1 {
        format!("{size} ({instances} instances)")
    } else {
        size
    }
}

/// Vendor names from `vendor_id` or the ARM implementer code.
pub fn manufacturer(vendor_id: Option<&str>, implementer: Option<&str>) -> Option<String> {
    if let Some(v) = vendor_id {
        return Some(
            match v {
                "GenuineIntel" => "Intel",
                "AuthenticAMD" => "AMD",
                "HygonGenuine" => "Hygon",
                "CentaurHauls" => "Centaur",
                "  Shanghai  " | "Shanghai" => "Zhaoxin",
                other => other,
            }
            .to_owned(),
        );
    }
    let code = implementer.and_then(crate::pci::parse_hex)?;
    Some(
        match code {
            0x41 => "ARM",
            0x42 => "Broadcom",
            0x43 => "Cavium",
            0x48 => "HiSilicon",
            0x4e => "NVIDIA",
            0x50 => "Applied Micro",
            0x51 => "Qualcomm",
            0x53 => "Samsung",
            0x56 => "Marvell",
            0x61 => "Apple",
            0x69 => "Intel",
            0xc0 => "Ampere",
            _ => return Some(format!("0x{code:02x}")),
        }
        .to_owned(),
    )
}

/// The rated frequency written in a model name (`… CPU @ 3.40GHz` → 3400 MHz).
pub fn speed_from_model(model: &str) -> Option<u64> {
    let at = model.rfind('@')?;
    let rest = model[at + 1..].trim();
    let ghz = rest.strip_suffix("GHz")?.trim().parse::<f64>().ok()?;
    Some((ghz * 1000.0).round() as u64)
}

/// Reads the processors.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let text = ctx.read("/proc/cpuinfo")?;
    let (logical, global) = parse_cpuinfo(&text);
    if logical.is_empty() {
        return Err(Error::parse("/proc/cpuinfo", "no processor entries"));
    }
    let arch = ctx.arch();

    // Group logical CPUs by package.
    let mut packages: BTreeMap<u32, Vec<(&Logical, Topology)>> = BTreeMap::new();
    for cpu in &logical {
        let topo = topology(ctx, cpu.index);
        let package = topo
            .package
            .or_else(|| cpu.get("physical id").and_then(|p| p.parse().ok()))
            .unwrap_or(0);
        packages.entry(package).or_default().push((cpu, topo));
    }
    let sockets: Vec<_> = ctx
        .smbios()
        .map(|s| {
            s.of_type(4)
                .filter(|p| p.get("Status").is_none_or(|st| !st.contains("Unpopulated")))
                .cloned()
                .collect()
        })
        .unwrap_or_default();

    let mut rows = Vec::new();
    for (n, (_, cpus)) in packages.iter().enumerate() {
        let (first, topo0) = &cpus[0];
        let mut row = Row::new();
        let model = first
            .get("model name")
            .or(first.get("cpu model"))
            .or(first.get("Processor"))
            .or(first.get("cpu"))
            .map(str::to_owned)
            .or_else(|| global.get("Model").cloned())
            .or_else(|| global.get("Hardware").cloned());
        row.set_opt("TYPE", model.clone());
        row.set_opt(
            "MANUFACTURER",
            manufacturer(first.get("vendor_id"), first.get("CPU implementer")),
        );
        row.set("CPUARCH", arch.clone());
        let lm = first
            .get("flags")
            .is_some_and(|f| f.split_whitespace().any(|x| x == "lm"));
        let width = if lm || arch.contains("64") {
            "64"
        } else {
            "32"
        };
        row.set("DATA_WIDTH", width);
        row.set("CURRENT_ADDRESS_WIDTH", width);

        let logical_count = cpus.len();
        let cores: BTreeSet<u32> = cpus.iter().filter_map(|(_, t)| t.core).collect();
        let core_count = if cores.is_empty() {
            first
                .get("cpu cores")
                .and_then(|c| c.parse().ok())
                .unwrap_or(logical_count)
        } else {
            cores.len()
        };
        row.set("CORES", core_count.to_string());
        row.set("LOGICAL_CPUS", logical_count.to_string());
        row.set(
            "THREADS",
            (logical_count / core_count.max(1)).max(1).to_string(),
        );
        row.set("HPT", if logical_count > core_count { "1" } else { "0" });
        row.set("NBSOCKET", packages.len().to_string());

        // L2: the sum over distinct caches (one per core on most parts).
        let mut l2: BTreeMap<String, u64> = BTreeMap::new();
        for (_, t) in cpus {
            if let Some((size, shared)) = &t.l2 {
                l2.insert(shared.clone(), *size);
            }
        }
        if !l2.is_empty() {
            row.set("L2CACHESIZE", format_cache(l2.values().sum(), l2.len()));
        }

        let current = topo0.cur_khz.map(|k| k / 1000).or_else(|| {
            first
                .get("cpu MHz")
                .and_then(|m| m.parse::<f64>().ok())
                .map(|m| m.round() as u64)
        });
        row.set_opt("CURRENT_SPEED", current.map(|c| c.to_string()));
        let socket = sockets.get(n);
        let rated = topo0
            .max_khz
            .map(|k| k / 1000)
            .or_else(|| {
                socket
                    .and_then(|s| s.get("Max Speed"))
                    .and_then(leading_number)
            })
            .or_else(|| model.as_deref().and_then(speed_from_model))
            .or(current);
        row.set_opt("SPEED", rated.map(|s| s.to_string()));
        row.set("CPUSTATUS", "on");
        if let Some(s) = socket {
            row.set_opt("SOCKET", s.clean("Socket Designation"));
            row.set_opt("SERIALNUMBER", s.clean("Serial Number"));
            row.set_opt("VOLTAGE", s.clean("Voltage"));
            if row.get("MANUFACTURER").is_none() {
                row.set_opt("MANUFACTURER", s.clean("Manufacturer"));
            }
        }
        if row.get("SERIALNUMBER").is_none() {
            // Raspberry Pi and some other boards publish the SoC serial number here.
            row.set_opt(
                "SERIALNUMBER",
                global
                    .get("Serial")
                    .cloned()
                    .filter(|s| !super::is_placeholder(s)),
            );
        }
        rows.push(row);
    }
    Ok(rows)
}

fn leading_number(s: &str) -> Option<u64> {
    s.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_vm() {
        let rows = collect(&machine("vm-debian12", false)).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(field(r, "TYPE"), "AMD EPYC");
        assert_eq!(field(r, "MANUFACTURER"), "AMD");
        assert_eq!(field(r, "CORES"), "2");
        assert_eq!(field(r, "LOGICAL_CPUS"), "2");
        assert_eq!(field(r, "L2CACHESIZE"), "1 MiB (2 instances)");
        assert_eq!(field(r, "DATA_WIDTH"), "64");
        assert_eq!(field(r, "CPUARCH"), "x86_64");
        assert_eq!(field(r, "CURRENT_SPEED"), "2445");
        assert_eq!(field(r, "SPEED"), "2445");
        assert_eq!(r.get("SOCKET"), None);
    }

    #[test]
    fn the_laptop_with_smbios_and_hyperthreading() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(field(r, "TYPE"), "12th Gen Intel(R) Core(TM) i7-1260P");
        assert_eq!(field(r, "MANUFACTURER"), "Intel");
        assert_eq!(field(r, "CORES"), "2");
        assert_eq!(field(r, "LOGICAL_CPUS"), "4");
        assert_eq!(field(r, "HPT"), "1");
        assert_eq!(field(r, "SPEED"), "4700");
        assert_eq!(field(r, "CURRENT_SPEED"), "1800");
        assert_eq!(field(r, "SOCKET"), "U3E1");
        assert_eq!(field(r, "VOLTAGE"), "0.8 V");
        assert_eq!(field(r, "L2CACHESIZE"), "2560 KiB (2 instances)");
    }

    #[test]
    fn arm_board() {
        let text = "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\nprocessor\t: 1\nCPU implementer\t: 0x41\n\nRevision\t: c03111\nSerial\t\t: 10000000a1b2c3d4\nModel\t\t: Raspberry Pi 4 Model B Rev 1.1\n";
        let (cpus, global) = parse_cpuinfo(text);
        assert_eq!(cpus.len(), 2);
        assert_eq!(
            global.get("Model").map(String::as_str),
            Some("Raspberry Pi 4 Model B Rev 1.1")
        );
        assert_eq!(
            manufacturer(None, cpus[0].get("CPU implementer")).as_deref(),
            Some("ARM")
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(parse_size_kib("512K"), Some(512));
        assert_eq!(parse_size_kib("2M"), Some(2048));
        assert_eq!(format_cache(1024, 2), "1 MiB (2 instances)");
        assert_eq!(format_cache(1280, 1), "1280 KiB");
        assert_eq!(
            speed_from_model("Intel(R) Xeon(R) E-2236 CPU @ 3.40GHz"),
            Some(3400)
        );
        assert_eq!(speed_from_model("AMD EPYC"), None);
    }
}
