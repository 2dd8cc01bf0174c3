//! SOFTWARES: installed packages from every package manager present: dpkg (its status file,
//! read directly), rpm (through the `rpm` program, since its database format varies),
//! flatpak (`flatpak list`) and snap (the `snap.yaml` of each mounted snap). For each:
//! name, version, publisher, description, size, install date, architecture and origin.
//!
//! PUBLISHER for Debian packages is the Homepage, as the original agent sends it, so that a
//! machine moving from the Perl agent to this one keeps the same software entries on the
//! server (which keys them by name, publisher and version).

use super::{ocs_datetime, Context, Row};
use crate::error::Error;

/// One paragraph of the dpkg status file, with the fields the inventory uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DebPackage {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Architecture (`amd64`, `all`).
    pub arch: String,
    /// Installed-Size (KiB).
    pub installed_kib: Option<u64>,
    /// First line of Description.
    pub summary: String,
    /// Homepage.
    pub homepage: String,
    /// Maintainer.
    pub maintainer: String,
    /// Multi-Arch: same packages have per-architecture info files.
    pub multi_arch_same: bool,
}

/// Parses the dpkg status file, keeping installed packages only (`install ok installed`,
/// and held ones).
pub fn parse_dpkg_status(text: &str) -> Vec<DebPackage> {
    let mut out = Vec::new();
    for paragraph in text.split("\n\n") {
        let mut p = DebPackage::default();
        let mut installed = false;
        for line in paragraph.lines() {
            if line.starts_with([' ', '\t']) {
                continue; // continuation lines (long descriptions, conffiles)
            }
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k {
                "Package" => p.name = v.to_owned(),
                "Status" => {
                    installed = v.ends_with(" installed")
                        && !v.starts_with("deinstall")
                        && !v.starts_with("purge")
                }
                "Version" => p.version = v.to_owned(),
                "Architecture" => p.arch = v.to_owned(),
                "Installed-Size" => p.installed_kib = v.parse().ok(),
                "Description" => p.summary = v.to_owned(),
                "Homepage" => p.homepage = v.to_owned(),
                "Maintainer" => p.maintainer = v.to_owned(),
                "Multi-Arch" => p.multi_arch_same = v == "same",
                _ => {}
            }
        }
        if installed && !p.name.is_empty() {
            out.push(p);
        }
    }
    out
}

fn dpkg(ctx: &Context) -> Result<Vec<Row>, Error> {
    let text = ctx.read("/var/lib/dpkg/status")?;
    Ok(parse_dpkg_status(&text)
        .into_iter()
        .map(|p| {
            let mut row = Row::new();
            row.set("NAME", p.name.clone());
            row.set("VERSION", p.version.clone());
            row.set("ARCHITECTURE", p.arch.clone());
            row.set("COMMENTS", p.summary.clone());
            row.set("PUBLISHER", p.homepage.clone());
            row.set_opt("FILESIZE", p.installed_kib.map(|k| (k * 1024).to_string()));
            row.set("FROM", "deb");
            // dpkg rewrites a package's file list when it installs or upgrades it, so its
            // time is the install date.
            let list = if p.multi_arch_same {
                format!("/var/lib/dpkg/info/{}:{}.list", p.name, p.arch)
            } else {
                format!("/var/lib/dpkg/info/{}.list", p.name)
            };
            if let Some(t) = ctx.mtime(&list) {
                row.set("INSTALLDATE", ocs_datetime(t));
            }
            row.set("FOLDER", format!("/usr/share/doc/{}", p.name));
            row
        })
        .collect())
}

/// The `rpm -qa` query format the parser below reads (tab-separated).
pub const RPM_QUERYFORMAT: &str =
    "%{NAME}\\t%{EPOCH}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{INSTALLTIME}\\t%{SIZE}\\t%{VENDOR}\\t%{SUMMARY}\\n";

/// Parses `rpm -qa --queryformat RPM_QUERYFORMAT` output.
pub fn parse_rpm(text: &str, ctx: &Context) -> Vec<Row> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() < 7 || f[0].starts_with("gpg-pubkey") {
                return None;
            }
            let mut row = Row::new();
            row.set("NAME", f[0]);
            let version = f[1].strip_prefix("(none):").unwrap_or(f[1]);
            row.set("VERSION", version);
            row.set("ARCHITECTURE", f[2].replace("(none)", ""));
            if let Some(t) = f[3]
                .parse::<i64>()
                .ok()
                .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
            {
                row.set("INSTALLDATE", ocs_datetime(t.to_offset(ctx.offset)));
            }
            row.set("FILESIZE", f[4].replace("(none)", ""));
            row.set("PUBLISHER", f[5].replace("(none)", ""));
            row.set("COMMENTS", f[6]);
            row.set("FROM", "rpm");
            Some(row)
        })
        .collect()
}

/// The `flatpak list` columns the parser below reads (tab-separated).
pub const FLATPAK_COLUMNS: &str =
    "--columns=application,name,version,arch,origin,installation,size,description";

/// Parses `flatpak list --columns=…` output.
pub fn parse_flatpak(text: &str) -> Vec<Row> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() < 7 || f[0] == "Application ID" {
                return None;
            }
            let mut row = Row::new();
            row.set("NAME", if f[1].is_empty() { f[0] } else { f[1] });
            row.set("GUID", f[0]);
            row.set("VERSION", f[2]);
            row.set("ARCHITECTURE", f[3]);
            row.set("PUBLISHER", f[4]);
            row.set("FOLDER", format!("{} installation", f[5]));
            row.set_opt("FILESIZE", human_size(f[6]).map(|b| b.to_string()));
            row.set_opt("COMMENTS", f.get(7).copied());
            row.set("FROM", "flatpak");
            Some(row)
        })
        .collect()
}

/// `1.2 GB`, `850.3 MB`, `12 kB` (flatpak's sizes, powers of 1000) → bytes.
pub fn human_size(s: &str) -> Option<u64> {
    let s = s.trim().replace('\u{a0}', " ");
    let (num, unit) = s.split_once(' ')?;
    let n: f64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "bytes" | "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    };
    Some((n * mult).round() as u64)
}

/// Parses the few `snap.yaml` keys the inventory uses (flat `key: value` lines).
pub fn parse_snap_yaml(text: &str) -> Option<Row> {
    let mut row = Row::new();
    for line in text.lines().filter(|l| !l.starts_with([' ', '-', '#'])) {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim().trim_matches(['\'', '"']);
        match k {
            "name" => {
                row.set("NAME", v);
            }
            "version" => {
                row.set("VERSION", v);
            }
            "summary" => {
                row.set("COMMENTS", v);
            }
            _ => {}
        }
    }
    if let Some(arch) = text
        .lines()
        .skip_while(|l| !l.starts_with("architectures:"))
        .nth(1)
        .and_then(|l| l.trim().strip_prefix("- "))
    {
        row.set("ARCHITECTURE", arch.trim());
    }
    row.get("NAME")?;
    row.set("FROM", "snap");
    Some(row)
}

fn snaps(ctx: &Context) -> Vec<Row> {
    ctx.list("/snap")
        .into_iter()
        .filter(|n| n != "bin" && n != "README")
        .filter_map(|n| {
            let yaml = ctx.read_opt(&format!("/snap/{n}/current/meta/snap.yaml"))?;
            let mut row = parse_snap_yaml(&yaml)?;
            if let Some(t) = ctx.mtime(&format!("/snap/{n}/current")) {
                row.set("INSTALLDATE", ocs_datetime(t));
            }
            row.set("FOLDER", format!("/snap/{n}"));
            Some(row)
        })
        .collect()
}

/// Reads the installed software of every package manager present. A missing package
/// manager is not an error; a broken one is logged and the others still count.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    if ctx.exists("/var/lib/dpkg/status") {
        match dpkg(ctx) {
            Ok(r) => rows.extend(r),
            Err(e) => failures.push(e),
        }
    }
    match ctx.command("rpm", &["-qa", "--queryformat", RPM_QUERYFORMAT]) {
        Some(Ok(out)) => rows.extend(parse_rpm(&out, ctx)),
        Some(Err(e)) => failures.push(e),
        None => {}
    }
    match ctx.command("flatpak", &["list", FLATPAK_COLUMNS]) {
        Some(Ok(out)) => rows.extend(parse_flatpak(&out)),
        Some(Err(e)) => failures.push(e),
        None => {}
    }
    rows.extend(snaps(ctx));
    for e in &failures {
        tracing::warn!(error = %e, "a package source failed; the others are still reported");
    }
    match (rows.is_empty(), failures.into_iter().next()) {
        (true, Some(e)) => Err(e),
        _ => Ok(rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_vm_dpkg() {
        let rows = collect(&machine("vm-debian12", true)).unwrap();
        assert_eq!(rows.len(), 40);
        let adduser = rows.iter().find(|r| field(r, "NAME") == "adduser").unwrap();
        assert_eq!(field(adduser, "VERSION"), "3.134");
        assert_eq!(field(adduser, "ARCHITECTURE"), "all");
        assert_eq!(field(adduser, "FILESIZE"), "702464");
        assert_eq!(
            field(adduser, "COMMENTS"),
            "add and remove users and groups"
        );
        assert_eq!(field(adduser, "FROM"), "deb");
    }

    #[test]
    fn dpkg_status_rules() {
        let text = "Package: a\nStatus: install ok installed\nVersion: 1\nDescription: first line\n second line\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 2\n\nPackage: c\nStatus: hold ok installed\nVersion: 3\nMulti-Arch: same\nArchitecture: amd64\nHomepage: https://c.example\n";
        let p = parse_dpkg_status(text);
        assert_eq!(
            p.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["a", "c"]
        );
        assert_eq!(p[0].summary, "first line");
        assert!(p[1].multi_arch_same);
        assert_eq!(p[1].homepage, "https://c.example");
    }

    #[test]
    fn install_date_from_the_file_list() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/dpkg/info")).unwrap();
        std::fs::write(dir.path().join("var/lib/dpkg/status"), "Package: libc6\nStatus: install ok installed\nVersion: 2.36\nArchitecture: amd64\nMulti-Arch: same\n").unwrap();
        let list = dir.path().join("var/lib/dpkg/info/libc6:amd64.list");
        std::fs::write(&list, "/.\n").unwrap();
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        std::fs::File::options()
            .write(true)
            .open(&list)
            .unwrap()
            .set_modified(when)
            .unwrap();
        let mut ctx = crate::collectors::Context::captured(dir.path(), true);
        ctx.offset = time::UtcOffset::UTC;
        let rows = collect(&ctx).unwrap();
        assert_eq!(field(&rows[0], "INSTALLDATE"), "2023/11/14 22:13:20");
    }

    #[test]
    fn the_laptop_rpm_flatpak_snap() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        let from = |f: &str| rows.iter().filter(|r| field(r, "FROM") == f).count();
        assert_eq!(from("rpm"), 5, "gpg-pubkey entries are not software");
        assert_eq!(from("flatpak"), 2);
        assert_eq!(from("snap"), 1);
        let bash = rows.iter().find(|r| field(r, "NAME") == "bash").unwrap();
        assert_eq!(field(bash, "VERSION"), "5.2.26-3.fc40");
        assert_eq!(field(bash, "PUBLISHER"), "Fedora Project");
        assert_eq!(field(bash, "FILESIZE"), "8451210");
        let kernel = rows
            .iter()
            .find(|r| field(r, "NAME") == "kernel-core")
            .unwrap();
        assert_eq!(field(kernel, "VERSION"), "0:6.8.5-301.fc40");
        let gimp = rows
            .iter()
            .find(|r| field(r, "NAME") == "GNU Image Manipulation Program")
            .unwrap();
        assert_eq!(field(gimp, "VERSION"), "2.10.38");
        assert_eq!(field(gimp, "FILESIZE"), "347000000");
        let snap = rows.iter().find(|r| field(r, "FROM") == "snap").unwrap();
        assert_eq!(field(snap, "NAME"), "firefox");
        assert_eq!(field(snap, "ARCHITECTURE"), "amd64");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size("1.2 GB"), Some(1_200_000_000));
        assert_eq!(human_size("12\u{a0}kB"), Some(12_000));
        assert_eq!(human_size("?"), None);
    }
}
