//! VIRTUALMACHINES: guests and containers this machine hosts: libvirt domains
//! (`/etc/libvirt/qemu/*.xml`), Docker containers (`/var/lib/docker/containers/*`) and LXC
//! containers (`/var/lib/lxc/*/config`). All three keep their definitions root-only, so an
//! unprivileged run reports none and says so.

use super::{Context, Row};
use crate::error::Error;

/// A libvirt domain definition. `running` comes from the run-time state directory.
pub fn parse_libvirt(xml: &str, running: bool) -> Option<Row> {
    let domain = ocs_proto::xml::parse(xml.as_bytes()).ok()?;
    let mut row = Row::new();
    row.set("NAME", domain.value("name")?);
    row.set_opt("UUID", domain.value("uuid"));
    row.set("SUBSYSTEM", "libvirt");
    row.set("VMTYPE", domain.value("type").unwrap_or("kvm"));
    let vcpu = domain.value("vcpu");
    row.set_opt("VCPU", vcpu);
    if let Some(mem) = domain.child("memory") {
        let n: u64 = mem.text.trim().parse().unwrap_or(0);
        let mib = match mem.value("unit").unwrap_or("KiB") {
            "b" | "bytes" => n / (1024 * 1024),
            "KiB" | "k" => n / 1024,
            "MiB" | "M" => n,
            "GiB" | "G" => n * 1024,
            _ => n / 1024,
        };
        row.set("MEMORY", mib.to_string());
    }
    row.set("STATUS", if running { "running" } else { "off" });
    Some(row)
}

/// A Docker container from its `config.v2.json` and `hostconfig.json`.
pub fn parse_docker(config: &str, hostconfig: Option<&str>) -> Option<Row> {
    let c: serde_json::Value = serde_json::from_str(config).ok()?;
    let mut row = Row::new();
    row.set("NAME", c.get("Name")?.as_str()?.trim_start_matches('/'));
    let id = c.get("ID").and_then(|v| v.as_str()).unwrap_or("");
    row.set("UUID", id);
    row.set("VMID", id.get(..12).unwrap_or(id));
    row.set("SUBSYSTEM", "Docker");
    row.set("VMTYPE", "container");
    let state = c.get("State");
    let flag = |k: &str| {
        state
            .and_then(|s| s.get(k))
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    let status = if flag("Paused") {
        "paused"
    } else if flag("Running") {
        "running"
    } else {
        "off"
    };
    row.set("STATUS", status);
    if let Some(h) = hostconfig.and_then(|h| serde_json::from_str::<serde_json::Value>(h).ok()) {
        if let Some(mem) = h.get("Memory").and_then(|m| m.as_u64()).filter(|m| *m > 0) {
            row.set("MEMORY", (mem / (1024 * 1024)).to_string());
        }
        if let Some(nano) = h
            .get("NanoCpus")
            .and_then(|m| m.as_u64())
            .filter(|m| *m > 0)
        {
            row.set("VCPU", nano.div_ceil(1_000_000_000).to_string());
        }
    }
    Some(row)
}

/// An LXC container from its `config` file.
pub fn parse_lxc(name: &str, config: &str, running: bool) -> Row {
    let mut row = Row::new();
    row.set("NAME", name);
    row.set("SUBSYSTEM", "LXC");
    row.set("VMTYPE", "container");
    row.set("STATUS", if running { "running" } else { "off" });
    for line in config.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        match k {
            "lxc.uts.name" | "lxc.utsname" => {
                row.set("NAME", v);
            }
            "lxc.cgroup2.memory.max" | "lxc.cgroup.memory.limit_in_bytes" => {
                row.set_opt(
                    "MEMORY",
                    parse_bytes(v).map(|b| (b / (1024 * 1024)).to_string()),
                );
            }
            "lxc.cgroup2.cpuset.cpus" | "lxc.cgroup.cpuset.cpus" => {
                row.set("VCPU", count_cpus(v).to_string());
            }
            _ => {}
        }
    }
    row
}

fn parse_bytes(v: &str) -> Option<u64> {
    let v = v.trim();
    let (num, mult) = match v.chars().last()? {
        'K' | 'k' => (&v[..v.len() - 1], 1024),
        'M' | 'm' => (&v[..v.len() - 1], 1024 * 1024),
        'G' | 'g' => (&v[..v.len() - 1], 1024 * 1024 * 1024),
        _ => (v, 1),
    };
    num.parse::<u64>().ok().map(|n| n * mult)
}

/// Counts the CPUs of a cpuset list (`0-3,6`).
pub fn count_cpus(list: &str) -> usize {
    list.split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => match (a.trim().parse::<usize>(), b.trim().parse::<usize>()) {
                (Ok(a), Ok(b)) if b >= a => b - a + 1,
                _ => 0,
            },
            None => usize::from(!part.trim().is_empty()),
        })
        .sum()
}

/// Reads the hosted guests and containers.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    for file in ctx
        .list("/etc/libvirt/qemu")
        .into_iter()
        .filter(|f| f.ends_with(".xml"))
    {
        let Some(xml) = ctx.read_opt(&format!("/etc/libvirt/qemu/{file}")) else {
            continue;
        };
        let name = file.trim_end_matches(".xml");
        let running = ctx.exists(&format!("/run/libvirt/qemu/{name}.pid"))
            || ctx.exists(&format!("/run/libvirt/qemu/{name}.xml"));
        rows.extend(parse_libvirt(&xml, running));
    }
    let docker = "/var/lib/docker/containers";
    if ctx.exists(docker) {
        let ids = ctx.list(docker);
        if ids.is_empty() && !ctx.privileged {
            ctx.note_needs_root("Docker containers (/var/lib/docker)");
        }
        for id in ids {
            let Some(config) = ctx.read_opt(&format!("{docker}/{id}/config.v2.json")) else {
                continue;
            };
            let host = ctx.read_opt(&format!("{docker}/{id}/hostconfig.json"));
            rows.extend(parse_docker(&config, host.as_deref()));
        }
    }
    for name in ctx.list("/var/lib/lxc") {
        let Some(config) = ctx.read_opt(&format!("/var/lib/lxc/{name}/config")) else {
            continue;
        };
        let running = ctx.exists(&format!("/sys/fs/cgroup/lxc.payload.{name}"))
            || ctx.exists(&format!("/sys/fs/cgroup/lxc/{name}"));
        rows.push(parse_lxc(&name, &config, running));
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
        let names: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| (field(r, "SUBSYSTEM"), field(r, "NAME"), field(r, "STATUS")))
            .collect();
        assert_eq!(
            names,
            [
                ("libvirt", "win11", "running"),
                ("Docker", "postgres", "running"),
                ("LXC", "build-box", "off")
            ]
        );
        assert_eq!(field(&rows[0], "MEMORY"), "8192");
        assert_eq!(field(&rows[0], "VCPU"), "4");
        assert_eq!(
            field(&rows[0], "UUID"),
            "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
        );
        assert_eq!(field(&rows[1], "MEMORY"), "1024");
        assert_eq!(field(&rows[1], "VCPU"), "2");
        assert_eq!(field(&rows[2], "MEMORY"), "2048");
        assert_eq!(field(&rows[2], "VCPU"), "2");
    }

    #[test]
    fn cpusets() {
        assert_eq!(count_cpus("0-3,6"), 5);
        assert_eq!(count_cpus("1"), 1);
        assert_eq!(count_cpus(""), 0);
    }
}
