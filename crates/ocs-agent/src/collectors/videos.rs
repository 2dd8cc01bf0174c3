//! VIDEOS: display controllers (PCI class 03): chipset and name from the PCI database,
//! video memory when the DRM driver reports it (amdgpu) or from the largest prefetchable
//! PCI memory window, and the resolution of the first connected screen.

use super::{Context, Row};
use crate::error::Error;
use crate::pci;

/// The preferred mode of the first connected DRM connector (`1920x1080`).
pub fn resolution(ctx: &Context) -> Option<String> {
    ctx.list("/sys/class/drm")
        .into_iter()
        .filter(|c| c.contains('-'))
        .filter(|c| ctx.attr(&format!("/sys/class/drm/{c}/status")).as_deref() == Some("connected"))
        .find_map(|c| {
            let modes = ctx.read_opt(&format!("/sys/class/drm/{c}/modes"))?;
            modes.lines().next().map(|m| m.trim().to_owned())
        })
        .filter(|m| !m.is_empty())
}

/// Video memory in MiB from `resource` (the largest prefetchable BAR) or amdgpu's counter.
pub fn memory_mb(ctx: &Context, slot: &str) -> Option<u64> {
    let dir = format!("/sys/bus/pci/devices/{}", full_slot(slot));
    if let Some(vram) = ctx
        .attr(&format!("{dir}/mem_info_vram_total"))
        .and_then(|v| v.parse::<u64>().ok())
    {
        return Some(vram / (1024 * 1024));
    }
    let resource = ctx.read_opt(&format!("{dir}/resource"))?;
    largest_prefetchable_bar(&resource).map(|b| b / (1024 * 1024))
}

/// Parses a PCI `resource` file (start end flags per BAR) and returns the size of the
/// largest prefetchable memory window, which is the frame buffer on most GPUs.
pub fn largest_prefetchable_bar(resource: &str) -> Option<u64> {
    const IORESOURCE_MEM: u64 = 0x200;
    const IORESOURCE_PREFETCH: u64 = 0x2000;
    resource
        .lines()
        .take(6)
        .filter_map(|l| {
            let v: Vec<u64> = l
                .split_whitespace()
                .filter_map(|x| u64::from_str_radix(x.trim_start_matches("0x"), 16).ok())
                .collect();
            let (start, end, flags) = (*v.first()?, *v.get(1)?, *v.get(2)?);
            (flags & IORESOURCE_MEM != 0 && flags & IORESOURCE_PREFETCH != 0 && end > start)
                .then(|| end - start + 1)
        })
        .max()
}

fn full_slot(slot: &str) -> String {
    if slot.matches(':').count() == 1 {
        format!("0000:{slot}")
    } else {
        slot.to_owned()
    }
}

/// Reads the display controllers.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let resolution = resolution(ctx);
    Ok(ctx
        .pci_devices()
        .iter()
        .filter(|d| d.class_code() >> 8 == 0x03)
        .enumerate()
        .map(|(i, d)| {
            let (class, vendor, device) = pci::names(ctx, d);
            let mut row = Row::new();
            row.set("NAME", device.clone().unwrap_or_else(|| class.clone()));
            row.set(
                "CHIPSET",
                match (&vendor, &device) {
                    (Some(v), Some(n)) => format!("{v} {n}"),
                    (Some(v), None) => format!("{v} {class}"),
                    _ => format!("{class} {}", d.pci_id()),
                },
            );
            row.set_opt("MEMORY", memory_mb(ctx, &d.slot).map(|m| m.to_string()));
            if i == 0 {
                row.set_opt("RESOLUTION", resolution.clone());
            }
            row.set("PCISLOT", d.slot.clone());
            row.set("PCIID", d.pci_id());
            row.set_opt("DRVVERSION", d.driver.clone());
            row
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
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(field(r, "NAME"), "Alder Lake-P GT2 [Iris Xe Graphics]");
        assert_eq!(
            field(r, "CHIPSET"),
            "Intel Corporation Alder Lake-P GT2 [Iris Xe Graphics]"
        );
        assert_eq!(
            field(r, "RESOLUTION"),
            "3840x2160",
            "the first connected screen"
        );
        assert_eq!(field(r, "MEMORY"), "256");
    }

    #[test]
    fn the_vm_has_no_display() {
        assert!(collect(&machine("vm-debian12", true)).unwrap().is_empty());
    }

    #[test]
    fn bars() {
        let res = "0x00000000a0000000 0x00000000a0ffffff 0x0000000000140204\n0x0000004000000000 0x000000400fffffff 0x000000000014220c\n0x0000000000003000 0x000000000000303f 0x0000000000040101\n";
        assert_eq!(largest_prefetchable_bar(res), Some(256 * 1024 * 1024));
        assert_eq!(largest_prefetchable_bar(""), None);
    }
}
