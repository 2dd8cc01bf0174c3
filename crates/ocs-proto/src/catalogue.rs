//! The inventory section catalogue: every section the server stores, its CHECKSUM bit, whether
//! it holds one row or many, and its fields. Storage builds its tables and statements from this
//! table alone, so adding a section is one entry here plus one migration.
//!
//! Field names are the agents' element names; the column of a field is its name in lower case.

/// How a field's text is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Stored as received.
    Text,
    /// A number: the leading number of the text, rounded (`274877.906944` → 274878), as the
    /// original's non-strict MySQL does.
    Int,
}

/// One stored field of a section.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Element name sent by agents.
    pub name: &'static str,
    /// Column name (the element name in lower case).
    pub column: &'static str,
    /// Storage type.
    pub kind: FieldKind,
    /// Value stored when the field is missing or holds a placeholder (`??`, `N/A`, …).
    pub fallback: Option<&'static str>,
    /// Other element names some agents use for the same thing (FusionInventory), read when
    /// the canonical one is absent.
    pub aliases: &'static [&'static str],
}

/// What kind of storage a section gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// The device row itself (`hardware`).
    Hardware,
    /// One row per device.
    Single,
    /// Any number of rows per device.
    Multi,
    /// Rows are only ever added (`JOURNALLOG`).
    AppendOnly,
    /// Software, normalised through name/publisher/version dictionaries.
    Software,
}

/// One inventory section.
#[derive(Debug)]
pub struct Section {
    /// XML element name inside `CONTENT`.
    pub element: &'static str,
    /// Table name; also the section's key in the JSON API.
    pub table: &'static str,
    /// CHECKSUM bit; 0 means "no bit: rewritten whenever present".
    pub mask: u64,
    /// How rows are stored.
    pub storage: Storage,
    /// Stored fields.
    pub fields: &'static [Field],
}

impl Section {
    /// Whether the section is rewritten given the agent's CHECKSUM. A missing CHECKSUM means
    /// "everything changed", as in the original.
    pub fn changed(&self, checksum: Option<u64>) -> bool {
        match checksum {
            None => true,
            Some(sum) => self.mask == 0 || sum & self.mask != 0,
        }
    }

    /// The index of a field by element name.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

const fn t(name: &'static str, column: &'static str) -> Field {
    Field {
        name,
        column,
        kind: FieldKind::Text,
        fallback: None,
        aliases: &[],
    }
}
const fn i(name: &'static str, column: &'static str) -> Field {
    Field {
        name,
        column,
        kind: FieldKind::Int,
        fallback: None,
        aliases: &[],
    }
}
const fn fb(mut f: Field, fallback: &'static str) -> Field {
    f.fallback = Some(fallback);
    f
}
const fn alias(mut f: Field, aliases: &'static [&'static str]) -> Field {
    f.aliases = aliases;
    f
}

/// CHECKSUM value that marks every section as changed.
pub const ALL_SECTIONS_CHANGED: u64 = (1 << 22) - 1;

/// The device row. Handled specially by storage; listed so it parses like any other section.
pub static HARDWARE: Section = Section {
    element: "HARDWARE",
    table: "hardware",
    mask: 1,
    storage: Storage::Hardware,
    fields: &[
        t("NAME", "name"),
        t("WORKGROUP", "workgroup"),
        t("USERDOMAIN", "userdomain"),
        t("OSNAME", "osname"),
        t("OSVERSION", "osversion"),
        t("OSCOMMENTS", "oscomments"),
        t("PROCESSORT", "processort"),
        i("PROCESSORS", "processors"),
        i("PROCESSORN", "processorn"),
        i("MEMORY", "memory"),
        i("SWAP", "swap"),
        t("IPADDR", "ipaddr"),
        t("DNS", "dns"),
        t("DEFAULTGATEWAY", "defaultgateway"),
        t("DESCRIPTION", "description"),
        t("WINCOMPANY", "wincompany"),
        t("WINOWNER", "winowner"),
        t("WINPRODID", "winprodid"),
        t("WINPRODKEY", "winprodkey"),
        t("UUID", "uuid"),
        t("ARCH", "arch"),
        i("TYPE", "type"),
        t("USERID", "userid"),
        t("LASTLOGGEDUSER", "lastloggeduser"),
        t("VMSYSTEM", "vmsystem"),
    ],
};

/// Software entries, normalised into name/publisher/version dictionaries.
pub static SOFTWARES: Section = Section {
    element: "SOFTWARES",
    table: "softwares",
    mask: 65536,
    storage: Storage::Software,
    fields: &[
        t("NAME", "name"),
        t("PUBLISHER", "publisher"),
        t("VERSION", "version"),
        t("FOLDER", "folder"),
        t("COMMENTS", "comments"),
        t("FILENAME", "filename"),
        fb(i("FILESIZE", "filesize"), "0"),
        fb(i("SOURCE", "source"), "0"),
        t("GUID", "guid"),
        t("LANGUAGE", "language"),
        t("INSTALLDATE", "installdate"),
        fb(i("BITSWIDTH", "bitswidth"), "0"),
        alias(t("ARCHITECTURE", "architecture"), &["ARCH"]),
    ],
};

/// Every generic section (neither HARDWARE nor SOFTWARES), in storage order.
pub static SECTIONS: &[Section] = &[
    Section {
        element: "BIOS",
        table: "bios",
        mask: 2,
        storage: Storage::Single,
        fields: &[
            t("SMANUFACTURER", "smanufacturer"),
            t("SMODEL", "smodel"),
            t("SSN", "ssn"),
            t("TYPE", "type"),
            t("BMANUFACTURER", "bmanufacturer"),
            t("BVERSION", "bversion"),
            t("BDATE", "bdate"),
            t("ASSETTAG", "assettag"),
            t("MMANUFACTURER", "mmanufacturer"),
            t("MMODEL", "mmodel"),
            t("MSN", "msn"),
        ],
    },
    Section {
        element: "MEMORIES",
        table: "memories",
        mask: 4,
        storage: Storage::Multi,
        fields: &[
            t("CAPTION", "caption"),
            t("DESCRIPTION", "description"),
            i("CAPACITY", "capacity"),
            t("PURPOSE", "purpose"),
            t("TYPE", "type"),
            t("SPEED", "speed"),
            fb(i("NUMSLOTS", "numslots"), "0"),
            t("SERIALNUMBER", "serialnumber"),
        ],
    },
    Section {
        element: "SLOTS",
        table: "slots",
        mask: 8,
        storage: Storage::Multi,
        fields: &[
            t("NAME", "name"),
            t("DESCRIPTION", "description"),
            t("DESIGNATION", "designation"),
            t("PURPOSE", "purpose"),
            t("STATUS", "status"),
            alias(fb(i("PSHARE", "pshare"), "0"), &["SHARED"]),
        ],
    },
    Section {
        element: "REGISTRY",
        table: "registry",
        mask: 16,
        storage: Storage::Multi,
        fields: &[t("NAME", "name"), t("REGVALUE", "regvalue")],
    },
    Section {
        element: "CONTROLLERS",
        table: "controllers",
        mask: 32,
        storage: Storage::Multi,
        fields: &[
            t("MANUFACTURER", "manufacturer"),
            t("NAME", "name"),
            t("CAPTION", "caption"),
            t("DESCRIPTION", "description"),
            t("VERSION", "version"),
            t("TYPE", "type"),
        ],
    },
    Section {
        element: "MONITORS",
        table: "monitors",
        mask: 64,
        storage: Storage::Multi,
        fields: &[
            t("MANUFACTURER", "manufacturer"),
            t("CAPTION", "caption"),
            t("DESCRIPTION", "description"),
            t("TYPE", "type"),
            t("SERIAL", "serial"),
        ],
    },
    Section {
        element: "PORTS",
        table: "ports",
        mask: 128,
        storage: Storage::Multi,
        fields: &[
            t("TYPE", "type"),
            t("NAME", "name"),
            t("CAPTION", "caption"),
            t("DESCRIPTION", "description"),
        ],
    },
    Section {
        element: "STORAGES",
        table: "storages",
        mask: 256,
        storage: Storage::Multi,
        fields: &[
            t("MANUFACTURER", "manufacturer"),
            t("NAME", "name"),
            t("MODEL", "model"),
            t("DESCRIPTION", "description"),
            t("TYPE", "type"),
            fb(i("DISKSIZE", "disksize"), "0"),
            alias(t("SERIALNUMBER", "serialnumber"), &["SERIAL"]),
            t("FIRMWARE", "firmware"),
        ],
    },
    Section {
        element: "DRIVES",
        table: "drives",
        mask: 512,
        storage: Storage::Multi,
        fields: &[
            t("LETTER", "letter"),
            t("TYPE", "type"),
            t("FILESYSTEM", "filesystem"),
            fb(i("TOTAL", "total"), "0"),
            fb(i("FREE", "free"), "0"),
            fb(i("NUMFILES", "numfiles"), "0"),
            t("VOLUMN", "volumn"),
            t("CREATEDATE", "createdate"),
        ],
    },
    Section {
        element: "INPUTS",
        table: "inputs",
        mask: 1024,
        storage: Storage::Multi,
        fields: &[
            t("TYPE", "type"),
            t("MANUFACTURER", "manufacturer"),
            t("CAPTION", "caption"),
            t("DESCRIPTION", "description"),
            t("INTERFACE", "interface"),
            t("POINTTYPE", "pointtype"),
        ],
    },
    Section {
        element: "MODEMS",
        table: "modems",
        mask: 2048,
        storage: Storage::Multi,
        fields: &[
            t("NAME", "name"),
            t("MODEL", "model"),
            t("DESCRIPTION", "description"),
            t("TYPE", "type"),
        ],
    },
    Section {
        element: "NETWORKS",
        table: "networks",
        mask: 4096,
        storage: Storage::Multi,
        fields: &[
            t("DESCRIPTION", "description"),
            t("TYPE", "type"),
            t("TYPEMIB", "typemib"),
            t("SPEED", "speed"),
            t("MTU", "mtu"),
            fb(t("MACADDR", "macaddr"), "00:00:00:00:00:00"),
            t("STATUS", "status"),
            t("IPADDRESS", "ipaddress"),
            t("IPMASK", "ipmask"),
            t("IPGATEWAY", "ipgateway"),
            t("IPSUBNET", "ipsubnet"),
            t("IPDHCP", "ipdhcp"),
            i("VIRTUALDEV", "virtualdev"),
        ],
    },
    Section {
        element: "PRINTERS",
        table: "printers",
        mask: 8192,
        storage: Storage::Multi,
        fields: &[
            t("NAME", "name"),
            t("DRIVER", "driver"),
            t("PORT", "port"),
            t("DESCRIPTION", "description"),
            t("SERVERNAME", "servername"),
            t("SHARENAME", "sharename"),
            t("RESOLUTION", "resolution"),
            t("COMMENT", "comment"),
            i("SHARED", "shared"),
            i("NETWORK", "network"),
        ],
    },
    Section {
        element: "SOUNDS",
        table: "sounds",
        mask: 16384,
        storage: Storage::Multi,
        fields: &[
            t("MANUFACTURER", "manufacturer"),
            t("NAME", "name"),
            t("DESCRIPTION", "description"),
        ],
    },
    Section {
        element: "VIDEOS",
        table: "videos",
        mask: 32768,
        storage: Storage::Multi,
        fields: &[
            t("NAME", "name"),
            t("CHIPSET", "chipset"),
            t("MEMORY", "memory"),
            t("RESOLUTION", "resolution"),
        ],
    },
    Section {
        element: "VIRTUALMACHINES",
        table: "virtualmachines",
        mask: 131072,
        storage: Storage::Multi,
        fields: &[
            t("NAME", "name"),
            t("STATUS", "status"),
            t("SUBSYSTEM", "subsystem"),
            t("VMTYPE", "vmtype"),
            t("UUID", "uuid"),
            i("VCPU", "vcpu"),
            i("MEMORY", "memory"),
        ],
    },
    Section {
        element: "CPUS",
        table: "cpus",
        mask: 262144,
        storage: Storage::Multi,
        fields: &[
            t("MANUFACTURER", "manufacturer"),
            alias(t("TYPE", "type"), &["NAME"]),
            t("SERIALNUMBER", "serialnumber"),
            t("SPEED", "speed"),
            alias(i("CORES", "cores"), &["CORE"]),
            t("L2CACHESIZE", "l2cachesize"),
            alias(t("CPUARCH", "cpuarch"), &["ARCH"]),
            i("DATA_WIDTH", "data_width"),
            i("CURRENT_ADDRESS_WIDTH", "current_address_width"),
            i("LOGICAL_CPUS", "logical_cpus"),
            t("VOLTAGE", "voltage"),
            t("CURRENT_SPEED", "current_speed"),
            t("SOCKET", "socket"),
        ],
    },
    Section {
        element: "SIM",
        table: "sim",
        mask: 524288,
        storage: Storage::Multi,
        fields: &[
            t("OPERATOR", "operator"),
            t("OPNAME", "opname"),
            t("COUNTRY", "country"),
            t("SERIALNUMBER", "serialnumber"),
            t("DEVICEID", "deviceid"),
            t("PHONENUMBER", "phonenumber"),
        ],
    },
    // The union of the 2.8.1 and current field lists: the Debian agent sends the former.
    Section {
        element: "BATTERIES",
        table: "batteries",
        mask: 1048576,
        storage: Storage::Multi,
        fields: &[
            t("NAME", "name"),
            t("MANUFACTURER", "manufacturer"),
            t("SERIALNUMBER", "serialnumber"),
            t("CHEMISTRY", "chemistry"),
            t("DESIGNCAPACITY", "designcapacity"),
            t("DESIGNVOLTAGE", "designvoltage"),
            t("LOCATION", "location"),
            t("MANUFACTUREDATE", "manufacturedate"),
            t("SBDSVERSION", "sbdsversion"),
            t("MAXERROR", "maxerror"),
            t("OEMSPECIFIC", "oemspecific"),
            t("CYCLES", "cycles"),
            t("DESCRIPTION", "description"),
            t("ESTIMATEDCHARGEREMAINING", "estimatedchargeremaining"),
            t("STATUS", "status"),
        ],
    },
    Section {
        element: "USBDEVICES",
        table: "usbdevices",
        mask: 2097152,
        storage: Storage::Multi,
        fields: &[
            t("DESCRIPTION", "description"),
            t("INTERFACE", "interface"),
            t("MANUFACTURER", "manufacturer"),
            t("SERIAL", "serial"),
            t("TYPE", "type"),
        ],
    },
    Section {
        element: "REPOSITORY",
        table: "repository",
        mask: 0,
        storage: Storage::Multi,
        fields: &[
            t("BASEURL", "baseurl"),
            t("EXCLUDE", "exclude"),
            t("EXCLUDED", "excluded"),
            t("EXPIRE", "expire"),
            t("FILENAME", "filename"),
            t("MIRRORS", "mirrors"),
            t("NAME", "name"),
            t("PKGS", "pkgs"),
            t("REVISION", "revision"),
            t("SIZE", "size"),
            t("TAG", "tag"),
            t("UPDATED", "updated"),
        ],
    },
    Section {
        element: "LOCAL_USERS",
        table: "local_users",
        mask: 0,
        storage: Storage::Multi,
        fields: &[
            alias(t("ID_USER", "id_user"), &["ID"]),
            t("GID", "gid"),
            t("HOME", "home"),
            t("LOGIN", "login"),
            t("NAME", "name"),
            t("SHELL", "shell"),
        ],
    },
    Section {
        element: "LOCAL_GROUPS",
        table: "local_groups",
        mask: 0,
        storage: Storage::Multi,
        fields: &[
            alias(t("ID_GROUP", "id_group"), &["ID"]),
            t("NAME", "name"),
            t("MEMBER", "member"),
        ],
    },
    Section {
        element: "JAVAINFO",
        table: "javainfo",
        mask: 0,
        storage: Storage::Single,
        fields: &[
            fb(t("JAVANAME", "javaname"), "noname"),
            fb(i("JAVAPATHLEVEL", "javapathlevel"), "0"),
            t("JAVACOUNTRY", "javacountry"),
            t("JAVACLASSPATH", "javaclasspath"),
            t("JAVAHOME", "javahome"),
        ],
    },
    Section {
        element: "JOURNALLOG",
        table: "journallog",
        mask: 0,
        storage: Storage::AppendOnly,
        fields: &[
            t("JOURNALLOG", "journallog"),
            fb(t("LISTENERNAME", "listenername"), "noname"),
            t("DATE", "date"),
            fb(i("STATUS", "status"), "0"),
            t("ERRORCODE", "errorcode"),
        ],
    },
];

/// Looks a generic section up by element name.
pub fn section(element: &str) -> Option<&'static Section> {
    SECTIONS.iter().find(|s| s.element == element)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lower_case_names() {
        for s in SECTIONS.iter().chain([&HARDWARE, &SOFTWARES]) {
            assert_eq!(s.table, s.table.to_lowercase());
            for f in s.fields {
                assert_eq!(f.column, f.name.to_lowercase(), "{}.{}", s.element, f.name);
            }
        }
    }

    #[test]
    fn masks_are_distinct_bits() {
        let mut seen = 0u64;
        for s in SECTIONS
            .iter()
            .chain([&HARDWARE, &SOFTWARES])
            .filter(|s| s.mask != 0)
        {
            assert_eq!(s.mask.count_ones(), 1, "{}", s.element);
            assert_eq!(seen & s.mask, 0, "{}", s.element);
            seen |= s.mask;
        }
        assert_eq!(seen, ALL_SECTIONS_CHANGED);
    }

    #[test]
    fn checksum_decides_rewrites() {
        let cpus = section("CPUS").unwrap();
        assert!(!cpus.changed(Some(513)));
        assert!(cpus.changed(Some(262144)));
        assert!(cpus.changed(None));
        assert!(section("REPOSITORY").unwrap().changed(Some(0)));
    }
}
