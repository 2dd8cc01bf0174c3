//! The software catalogues devices sample their lists from: the 894 Debian packages of the
//! real Unix-agent capture (name, version, architecture, size, publisher, description), grown
//! with derived packages to a few thousand, and a Windows catalogue of well-known products,
//! updates and line-of-business applications. Built once, deterministically, with no I/O.

use std::sync::OnceLock;

/// One installable piece of software.
#[derive(Debug, Clone)]
pub struct Package {
    /// NAME as the agent reports it.
    pub name: String,
    /// VERSION.
    pub version: String,
    /// PUBLISHER (empty when the agent has none).
    pub publisher: String,
    /// COMMENTS (description).
    pub comments: String,
    /// ARCHITECTURE (`amd64`, `all`, `x64`, …).
    pub arch: String,
    /// FILESIZE in bytes.
    pub size: u64,
}

/// The Debian packages of the real capture: NAME, VERSION, ARCHITECTURE, FILESIZE, PUBLISHER,
/// first line of COMMENTS, tab-separated.
const DEBIAN: &str = include_str!("../data/debian-packages.tsv");

/// Derived Debian-style packages per real one, so that lists of up to 2,000 entries still
/// leave room for devices to differ.
const DERIVED_SUFFIXES: &[(&str, &str)] = &[
    ("-doc", "documentation"),
    ("-dev", "development files"),
    ("-data", "architecture-independent data"),
    ("-utils", "command-line utilities"),
];

/// The Linux catalogue (Unix agent and FusionInventory shapes).
pub fn linux() -> &'static [Package] {
    static LINUX: OnceLock<Vec<Package>> = OnceLock::new();
    LINUX.get_or_init(build_linux)
}

/// The Windows catalogue.
pub fn windows() -> &'static [Package] {
    static WINDOWS: OnceLock<Vec<Package>> = OnceLock::new();
    WINDOWS.get_or_init(build_windows)
}

fn build_linux() -> Vec<Package> {
    let real: Vec<Package> = DEBIAN
        .lines()
        .filter_map(|line| {
            let mut f = line.split('\t');
            let name = f.next().filter(|n| !n.is_empty())?;
            Some(Package {
                name: name.to_owned(),
                version: f.next().unwrap_or_default().to_owned(),
                arch: f.next().unwrap_or_default().to_owned(),
                size: f.next().and_then(|s| s.parse().ok()).unwrap_or(0),
                publisher: f.next().unwrap_or_default().to_owned(),
                comments: f.next().unwrap_or_default().to_owned(),
            })
        })
        .collect();
    let mut seen: std::collections::HashSet<String> = real.iter().map(|p| p.name.clone()).collect();
    let mut all = real.clone();
    for (suffix, what) in DERIVED_SUFFIXES {
        for p in &real {
            let name = format!("{}{suffix}", p.name);
            // A real package may already carry the derived name (`libc6-dev`).
            if seen.insert(name.clone()) {
                all.push(Package {
                    name,
                    version: p.version.clone(),
                    publisher: p.publisher.clone(),
                    comments: format!("{} ({what})", p.comments),
                    arch: p.arch.clone(),
                    size: p.size / 3 + 4096,
                });
            }
        }
    }
    all
}

/// Publisher, product and version of well-known Windows software (facts, not anyone's data).
const WINDOWS_PRODUCTS: &[(&str, &str, &str)] = &[
    ("Microsoft Corporation", "Microsoft Edge", "119.0.2151.72"),
    (
        "Microsoft Corporation",
        "Microsoft Office Professional Plus 2019",
        "16.0.10396.20023",
    ),
    (
        "Microsoft Corporation",
        "Microsoft 365 Apps for enterprise - en-us",
        "16.0.16924.20150",
    ),
    ("Microsoft Corporation", "Microsoft Teams", "1.6.0.27573"),
    (
        "Microsoft Corporation",
        "Microsoft OneDrive",
        "23.226.1031.0003",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Visual C++ 2015-2022 Redistributable (x64)",
        "14.38.33130",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Visual C++ 2015-2022 Redistributable (x86)",
        "14.38.33130",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Visual C++ 2013 Redistributable (x64)",
        "12.0.40664",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Visual C++ 2010  x64 Redistributable",
        "10.0.40219",
    ),
    (
        "Microsoft Corporation",
        "Microsoft .NET Framework 4.8.1",
        "4.8.09032",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Windows Desktop Runtime - 6.0.25 (x64)",
        "48.100.28919",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Update Health Tools",
        "5.72.0.0",
    ),
    (
        "Microsoft Corporation",
        "Microsoft SQL Server 2019 LocalDB",
        "15.0.4153.1",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Visual Studio Code",
        "1.84.2",
    ),
    (
        "Microsoft Corporation",
        "Windows PC Health Check",
        "3.6.2204.08001",
    ),
    ("Google LLC", "Google Chrome", "119.0.6045.160"),
    ("Google LLC", "Google Update Helper", "1.3.36.352"),
    ("Mozilla", "Mozilla Firefox (x64 en-US)", "120.0"),
    ("Mozilla", "Mozilla Maintenance Service", "120.0"),
    ("Mozilla", "Mozilla Thunderbird (x64 en-US)", "115.5.0"),
    ("Adobe", "Adobe Acrobat Reader DC", "23.006.20380"),
    ("Adobe Inc.", "Adobe Creative Cloud", "6.0.0.571"),
    ("Igor Pavlov", "7-Zip 23.01 (x64)", "23.01"),
    ("Notepad++ Team", "Notepad++ (64-bit x64)", "8.5.8"),
    ("VideoLAN", "VLC media player", "3.0.20"),
    (
        "Oracle Corporation",
        "Java 8 Update 391 (64-bit)",
        "8.0.3910.13",
    ),
    (
        "Oracle Corporation",
        "Oracle VM VirtualBox 7.0.12",
        "7.0.12",
    ),
    (
        "Eclipse Adoptium",
        "Eclipse Temurin JDK with Hotspot 17.0.9+9 (x64)",
        "17.0.9.9",
    ),
    (
        "Python Software Foundation",
        "Python 3.11.6 (64-bit)",
        "3.11.6150.0",
    ),
    ("The Git Development Community", "Git", "2.43.0"),
    ("Zoom Video Communications, Inc.", "Zoom", "5.16.10.26186"),
    (
        "Cisco Systems, Inc.",
        "Cisco Secure Client - AnyConnect VPN",
        "5.0.05040",
    ),
    ("Cisco Systems, Inc.", "Cisco Webex Meetings", "43.11.0.8"),
    (
        "Citrix Systems, Inc.",
        "Citrix Workspace 2311",
        "23.11.0.132",
    ),
    ("Fortinet Technologies Inc", "FortiClient VPN", "7.2.2.0776"),
    ("Dell Inc.", "Dell Command | Update", "5.1.0"),
    ("Dell Inc.", "Dell SupportAssist", "3.14.2.45"),
    ("HP Inc.", "HP Support Assistant", "9.26.34.0"),
    ("HP Inc.", "HP Universal Print Driver", "7.1.0"),
    ("Lenovo", "Lenovo Vantage Service", "3.13.43.0"),
    (
        "Intel Corporation",
        "Intel(R) Management Engine Components",
        "2239.3.34.0",
    ),
    (
        "Intel Corporation",
        "Intel(R) Graphics Driver",
        "31.0.101.4953",
    ),
    (
        "Intel Corporation",
        "Intel(R) Chipset Device Software",
        "10.1.19444.8378",
    ),
    (
        "NVIDIA Corporation",
        "NVIDIA Graphics Driver 546.17",
        "546.17",
    ),
    (
        "Realtek Semiconductor Corp.",
        "Realtek High Definition Audio Driver",
        "6.0.9239.1",
    ),
    (
        "Synaptics Incorporated",
        "Synaptics Pointing Device Driver",
        "19.5.35.1",
    ),
    (
        "Microsoft Corporation",
        "Windows Defender Security Intelligence",
        "1.401.1048.0",
    ),
    ("Sophos Limited", "Sophos Endpoint Agent", "2023.2.1.5"),
    (
        "Trend Micro Inc.",
        "Trend Micro Apex One Security Agent",
        "14.0.12526",
    ),
    ("TeamViewer", "TeamViewer", "15.48.5"),
    ("AnyDesk Software GmbH", "AnyDesk", "8.0.6"),
    ("SimonTatham", "PuTTY release 0.79 (64-bit)", "0.79.0.0"),
    ("Martin Prikryl", "WinSCP 6.1.2", "6.1.2"),
    ("Tim Kosse", "FileZilla 3.66.1", "3.66.1"),
    ("The Document Foundation", "LibreOffice 7.6.3.2", "7.6.3.2"),
    ("Foxit Software Inc.", "Foxit PDF Reader", "2023.3.0.23028"),
    ("KeePass Team", "KeePass Password Safe 2.55", "2.55"),
    (
        "OCS Inventory NG",
        "OCS Inventory NG Agent 2.11.0.1",
        "2.11.0.1",
    ),
    (
        "Slack Technologies Inc.",
        "Slack (Machine - MSI)",
        "4.35.126",
    ),
    ("Docker Inc.", "Docker Desktop", "4.25.2"),
    ("Node.js Foundation", "Node.js", "20.10.0"),
    (
        "PostgreSQL Global Development Group",
        "PostgreSQL 15 ",
        "15.5-1",
    ),
    (
        "Autodesk",
        "Autodesk DWG TrueView 2024 - English",
        "24.3.62.0",
    ),
    (
        "SAP SE",
        "SAP GUI for Windows 7.70  (Patchlevel 10)",
        "7.70.10",
    ),
];

/// Words for line-of-business applications, which make most of a real Windows list diverse.
const LOB_VENDORS: &[&str] = &[
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Tailspin",
    "Woodgrove",
    "Litware",
    "Proseware",
    "Adatum",
    "Wingtip",
    "Lucerne",
];
const LOB_PRODUCTS: &[&str] = &[
    "Payroll",
    "Scheduler",
    "Inventory Client",
    "Reporting Tools",
    "Label Printer Driver",
    "Scanner Utility",
    "CRM Connector",
    "Time Tracking",
    "Document Viewer",
    "Backup Agent",
    "Sync Service",
    "Planning Suite",
    "Help Desk Client",
    "Remote Support",
    "Analytics Add-in",
];

fn build_windows() -> Vec<Package> {
    let mut all: Vec<Package> = WINDOWS_PRODUCTS
        .iter()
        .enumerate()
        .map(|(i, (publisher, name, version))| Package {
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            publisher: (*publisher).to_owned(),
            comments: String::new(),
            arch: if name.contains("x86") { "x86" } else { "x64" }.to_owned(),
            size: 1_048_576 * (3 + (i as u64 * 37) % 400),
        })
        .collect();
    // Windows updates: several hundred per machine is common on a long-lived desktop.
    for n in 0..1200u64 {
        let kb = 4_480_000 + n * 173;
        let kind = ["Security Update", "Update", "Cumulative Update", "Hotfix"][(n % 4) as usize];
        all.push(Package {
            name: format!("{kind} for Microsoft Windows (KB{kb})"),
            version: format!("{}.{}", 1 + n % 3, n % 50),
            publisher: "Microsoft Corporation".to_owned(),
            comments: String::new(),
            arch: "x64".to_owned(),
            size: 0,
        });
    }
    for (v, vendor) in LOB_VENDORS.iter().enumerate() {
        for (p, product) in LOB_PRODUCTS.iter().enumerate() {
            for edition in 0..12u64 {
                let label = match edition {
                    0 => String::new(),
                    e => format!(" {}", 2012 + e),
                };
                all.push(Package {
                    name: format!("{vendor} {product}{label}"),
                    version: format!("{}.{}.{}", 1 + edition, p % 10, (v * 7 + p) % 100),
                    publisher: format!("{vendor} Ltd."),
                    comments: String::new(),
                    arch: if (v + p) % 3 == 0 { "x86" } else { "x64" }.to_owned(),
                    size: 524_288 * (1 + ((v * 31 + p * 7) as u64 + edition) % 900),
                });
            }
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_hold_enough_distinct_software() {
        for (cat, min) in [(linux(), 4000), (windows(), 2500)] {
            assert!(cat.len() >= min, "{}", cat.len());
            let mut names: Vec<&str> = cat.iter().map(|p| p.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), cat.len(), "names are distinct");
        }
        assert!(linux().iter().any(|p| p.name == "apache2"));
    }
}
