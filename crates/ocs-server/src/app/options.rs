//! Server options (`OCS_OPT_*`): the catalogue with the defaults of a fresh original install,
//! validation, seeding on first start, and the per-request snapshot read from the database.

use std::collections::HashMap;

use ocs_storage::{OptionRow, Store};

use crate::app::AppError;

/// Type of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Integer (`config.ivalue`).
    Int,
    /// Text (`config.tvalue`).
    Text,
}

/// What values an option accepts.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// 0 or 1.
    Switch,
    /// An integer in a range.
    Range(i64, i64),
    /// One of these texts.
    OneOf(&'static [&'static str]),
    /// Any text.
    AnyText,
}

/// One server option.
#[derive(Debug)]
pub struct OptionDef {
    /// Name without `OCS_OPT_`.
    pub name: &'static str,
    /// Value type.
    pub kind: Kind,
    /// Default: the value a fresh original install runs with.
    pub default: &'static str,
    /// Accepted values.
    pub rule: Rule,
    /// What it does, for `options list` and the console.
    pub description: &'static str,
}

const fn int(
    name: &'static str,
    default: &'static str,
    rule: Rule,
    description: &'static str,
) -> OptionDef {
    OptionDef {
        name,
        kind: Kind::Int,
        default,
        rule,
        description,
    }
}
const fn text(
    name: &'static str,
    default: &'static str,
    rule: Rule,
    description: &'static str,
) -> OptionDef {
    OptionDef {
        name,
        kind: Kind::Text,
        default,
        rule,
        description,
    }
}

const SWITCH: Rule = Rule::Switch;
const SECONDS: Rule = Rule::Range(0, 31_536_000);
const SCAN_TYPES: Rule = Rule::OneOf(&["ICMP", "NMAP", "ARPSCAN"]);

/// Every option, in the order of the reference's table.
pub static OPTIONS: &[OptionDef] = &[
    text("LOGPATH", "/var/log/ocsinventory-server", Rule::AnyText, "Directory of the original's activity log; this server logs through its own logger instead"),
    int("LOGLEVEL", "0", Rule::Range(0, 2), "1 logs what each inventory changed, section by section, at info level"),
    int("FREQUENCY", "0", Rule::Range(-1, 3650), "Days between inventories: 0 = at every contact, -1 = never"),
    int("PROLOG_FREQ", "24", Rule::Range(1, 8760), "Hours between agent contacts, sent in every PROLOG reply"),
    int("INVENTORY_ON_STARTUP", "1", SWITCH, "Windows service inventories when it starts"),
    int("DEPLOY", "1", SWITCH, "Serve GET /ocsinventory/deploy/<file> (deprecated agent bootstrap)"),
    int("UPDATE", "0", SWITCH, "Agent self-update query (deprecated; always answered NO_UPDATE)"),
    int("TRACE_DELETED", "0", SWITCH, "Record merges and deletions in deleted_equiv"),
    int("AUTO_DUPLICATE_LVL", "7", Rule::Range(0, 63), "Duplicate criteria bitmask: 1 name, 2 serial, 4 MAC, 8 model, 16 UUID, 32 asset tag"),
    int("SECURITY_LEVEL", "0", Rule::Range(0, 10), "Unused"),
    int("LOCK_REUSE_TIME", "600", SECONDS, "Seconds after which a device lock may be taken over (locks are database transactions here)"),
    int("INVENTORY_DIFF", "1", SWITCH, "Skip sections whose CHECKSUM bit says they did not change"),
    int("INVENTORY_WRITE_DIFF", "0", SWITCH, "Merge changed sections row by row instead of rewriting them"),
    int("INVENTORY_TRANSACTION", "1", SWITCH, "One transaction per inventory (always on here: an inventory is stored whole or not at all)"),
    int("INVENTORY_CACHE_ENABLED", "1", SWITCH, "Keep value caches for console drop-downs (indexes serve them here)"),
    int("INVENTORY_CACHE_REVALIDATE", "7", Rule::Range(0, 3650), "Days between cache rebuilds"),
    int("INVENTORY_CACHE_KEEP", "1", SWITCH, "Never remove cached values"),
    int("INVENTORY_FILTER_ENABLED", "0", SWITCH, "Mark filterable fields"),
    int("INVENTORY_FILTER_ON", "0", SWITCH, "Enable the inventory filters"),
    int("INVENTORY_FILTER_FLOOD_IP", "0", SWITCH, "Allow one new device per IP per period"),
    int("INVENTORY_FILTER_FLOOD_IP_CACHE_TIME", "300", SECONDS, "That period, in seconds"),
    int("PROLOG_FILTER_ON", "0", SWITCH, "Enable the PROLOG filters"),
    int("INVENTORY_SESSION_ONLY", "0", SWITCH, "Refuse (403) inventories without a recent SEND PROLOG, except from trusted IPs"),
    int("SESSION_VALIDITY_TIME", "600", SECONDS, "Seconds a PROLOG session stays valid (0 = no limit)"),
    int("SESSION_CLEAN_TIME", "86400", SECONDS, "Seconds after which unused PROLOG sessions are purged"),
    int("PROXY_REVALIDATE_DELAY", "3600", SECONDS, "Cache-control max-age of deploy downloads"),
    int("DEFAULT_CATEGORY", "0", Rule::Range(0, i64::MAX), "ID of the software category given to software no category rule matches (0 = NEW)"),
    int("ENABLE_GROUPS", "1", SWITCH, "Group membership, group settings and group packages"),
    int("GROUPS_CACHE_REVALIDATE", "43200", SECONDS, "Seconds before a dynamic group is recomputed"),
    int("GROUPS_CACHE_OFFSET", "43200", SECONDS, "Random extra delay added after each recomputation"),
    int("GENERATE_OCS_FILES", "0", SWITCH, "Write a copy of each inventory to OCS_FILES_PATH"),
    int("GENERATE_OCS_FILES_SNMP", "0", SWITCH, "Write a copy of each SNMP result"),
    text("OCS_FILES_FORMAT", "OCS", Rule::OneOf(&["OCS", "XML"]), "OCS = the body as received, XML = the decoded XML"),
    int("OCS_FILES_OVERWRITE", "0", SWITCH, "1 = one file per DEVICEID; 0 = add -1, -2, … suffixes"),
    text("OCS_FILES_PATH", "", Rule::AnyText, "Directory for .ocs copies (empty: ocs-files in the data directory, private to the server)"),
    int("IPDISCOVER", "2", Rule::Range(0, 100), "Computers elected per subnet for IP discovery; 0 disables it"),
    int("IPDISCOVER_MAX_ALIVE", "7", Rule::Range(1, 3650), "Days without inventory after which an elected computer can be replaced"),
    int("IPDISCOVER_BETTER_THRESHOLD", "1", Rule::Range(0, 3650), "Quality difference (days) needed to replace an elected computer"),
    int("IPDISCOVER_LATENCY", "100", Rule::Range(0, 100_000), "Milliseconds between ARP probes"),
    int("IPDISCOVER_USE_GROUPS", "1", SWITCH, "Groups with IPDISCOVER=0 exclude their members"),
    int("IPDISCOVER_NO_POSTPONE", "0", SWITCH, "Elect without waiting for a third contact"),
    int("IPDISCOVER_LINK_TAG_NETWORK", "0", SWITCH, "Count and elect per (subnet, TAG)"),
    text("SCAN_TYPE_IPDISCOVER", "ICMP", SCAN_TYPES, "Scan method sent to IP discovery agents"),
    text("SCAN_TYPE_SNMP", "ICMP", SCAN_TYPES, "Scan method for SNMP scans"),
    int("SCAN_ARP_BANDWIDTH", "256", Rule::Range(1, 1_000_000), "kbit/s for ARPSCAN"),
    int("REGISTRY", "0", SWITCH, "Send the registry queries in PROLOG replies"),
    int("DOWNLOAD", "0", SWITCH, "Package deployment master switch"),
    int("DOWNLOAD_FRAG_LATENCY", "10", SECONDS, "Seconds agents wait after each fragment"),
    int("DOWNLOAD_CYCLE_LATENCY", "60", SECONDS, "Seconds agents wait after each cycle"),
    int("DOWNLOAD_PERIOD_LATENCY", "1", SECONDS, "Seconds agents wait after each period"),
    int("DOWNLOAD_PERIOD_LENGTH", "10", Rule::Range(1, 1000), "Cycles per period"),
    int("DOWNLOAD_TIMEOUT", "30", Rule::Range(1, 3650), "Days before an unfinished package is abandoned"),
    int("DOWNLOAD_EXECUTION_TIMEOUT", "120", Rule::Range(1, 100_000), "Minutes a package command may run"),
    int("DOWNLOAD_GROUPS_TRACE_EVENTS", "1", SWITCH, "Record group packages per member"),
    int("SNMP", "0", SWITCH, "SNMP feature switch"),
    int("SNMP_INVENTORY_DIFF", "1", SWITCH, "Legacy SNMP diff (unused by the current format)"),
    int("SNMP_LINK_TAG", "0", SWITCH, "Copy the scanning computer's TAG to SNMP devices"),
    int("COMPRESS_TRY_OTHERS", "1", SWITCH, "Accept gzip and plain XML bodies besides zlib"),
    text("TRUSTED_IP", "127.0.0.1", Rule::AnyText, "Client addresses (IPs or CIDR ranges, comma-separated) that bypass the session check"),
    int("UNICODE_SUPPORT", "1", SWITCH, "Convert declared encodings to UTF-8 (always done here)"),
    int("OPTIONS_NOT_OVERLOADED", "0", SWITCH, "Ignored: the database is always authoritative here"),
    int("ACCEPT_TAG_UPDATE_FROM_CLIENT", "0", SWITCH, "Store the administrative data agents send for known computers"),
    text("EXT_USERAGENTS_FILE_PATH", "", Rule::AnyText, "File of extra admitted User-Agents, one per line (whole string or prefix)"),
    int("SNMP_PRINT_HTTPS_ERROR", "1", SWITCH, "Log when SNMP options are withheld because of plain HTTP"),
    int("WEB_SERVICE_ENABLED", "0", SWITCH, "SOAP web service"),
    int("WEB_SERVICE_RESULTS_LIMIT", "100", Rule::Range(1, 100_000), "Page size of SOAP list methods"),
    // Not in the original: its console had the cleaning on demand only.
    int("INACTIVE_CLEAN_DAYS", "0", Rule::Range(0, 3650), "Delete computers not seen for this many days, checked hourly by every server; 0 = off"),
];

/// The definition of an option by name (case-insensitive, `OCS_OPT_` prefix allowed).
pub fn definition(name: &str) -> Option<&'static OptionDef> {
    let upper = name.trim().to_ascii_uppercase();
    let name = upper.strip_prefix("OCS_OPT_").unwrap_or(&upper);
    OPTIONS.iter().find(|o| o.name == name)
}

/// Checks a value against an option's rule and turns it into a stored row.
pub fn validate(def: &OptionDef, value: &str) -> Result<OptionRow, String> {
    let value = value.trim();
    match def.kind {
        Kind::Int => {
            let n: i64 = value
                .parse()
                .map_err(|_| format!("{} takes an integer, not {value:?}", def.name))?;
            let (lo, hi) = match def.rule {
                Rule::Switch => (0, 1),
                Rule::Range(lo, hi) => (lo, hi),
                _ => (i64::MIN, i64::MAX),
            };
            if n < lo || n > hi {
                return Err(format!(
                    "{} must be between {lo} and {hi}, not {n}",
                    def.name
                ));
            }
            Ok(OptionRow {
                name: def.name.to_owned(),
                ivalue: Some(n),
                tvalue: None,
            })
        }
        Kind::Text => {
            if let Rule::OneOf(allowed) = def.rule {
                if !allowed.contains(&value) {
                    return Err(format!(
                        "{} must be one of {}, not {value:?}",
                        def.name,
                        allowed.join(", ")
                    ));
                }
            }
            if value.len() > 255 {
                return Err(format!("{} is limited to 255 characters", def.name));
            }
            Ok(OptionRow {
                name: def.name.to_owned(),
                ivalue: None,
                tvalue: Some(value.to_owned()),
            })
        }
    }
}

/// The options in effect for one request.
#[derive(Debug, Clone)]
pub struct Options {
    ints: HashMap<&'static str, i64>,
    texts: HashMap<&'static str, String>,
}

impl Options {
    /// The built-in defaults.
    pub fn defaults() -> Options {
        Options::from_rows(&[])
    }

    /// Defaults overlaid with stored rows. A stored value that fails validation (edited by
    /// hand in the database) is ignored with a warning rather than trusted.
    pub fn from_rows(rows: &[OptionRow]) -> Options {
        let mut ints = HashMap::new();
        let mut texts = HashMap::new();
        for def in OPTIONS {
            let stored = rows.iter().find(|r| r.name == def.name).and_then(|r| {
                let raw = match def.kind {
                    Kind::Int => r.ivalue.map(|n| n.to_string()),
                    Kind::Text => r.tvalue.clone(),
                }?;
                match validate(def, &raw) {
                    Ok(row) => Some(row),
                    Err(e) => {
                        tracing::warn!(option = def.name, error = %e, "ignoring invalid stored option value");
                        None
                    }
                }
            });
            let row = stored.or_else(|| validate(def, def.default).ok());
            match (def.kind, row) {
                (Kind::Int, Some(r)) => {
                    ints.insert(def.name, r.ivalue.unwrap_or(0));
                }
                (Kind::Text, Some(r)) => {
                    texts.insert(def.name, r.tvalue.unwrap_or_default());
                }
                _ => {}
            }
        }
        Options { ints, texts }
    }

    /// Reads the options from the database.
    pub async fn load(store: &Store) -> Result<Options, AppError> {
        Ok(Options::from_rows(&store.list_options().await?))
    }

    /// An integer option (0 for an unknown name).
    pub fn int(&self, name: &str) -> i64 {
        self.ints.get(name).copied().unwrap_or(0)
    }

    /// Whether a switch option is on.
    pub fn on(&self, name: &str) -> bool {
        self.int(name) != 0
    }

    /// A text option ("" for an unknown name).
    pub fn text(&self, name: &str) -> &str {
        self.texts.get(name).map_or("", String::as_str)
    }
}

/// Stores every option that has no value yet: first the seeds (configuration file and
/// `OCS_OPT_*` variables), then the defaults. Seeds for options already stored are reported,
/// because they no longer apply.
pub async fn seed(store: &Store, seeds: &[(String, String)]) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    let stored = store.list_options().await?;
    for (name, value) in seeds {
        let def =
            definition(name).ok_or_else(|| anyhow::anyhow!("unknown server option {name}"))?;
        let row = validate(def, value).map_err(anyhow::Error::msg)?;
        if stored.iter().any(|r| r.name == def.name) {
            notes.push(format!(
                "option {} is already stored in the database; the seed {value:?} is ignored (use `ocs-server options set`)",
                def.name
            ));
            continue;
        }
        store.insert_option_if_absent(&row).await?;
    }
    for def in OPTIONS {
        if let Ok(row) = validate(def, def.default) {
            store.insert_option_if_absent(&row).await?;
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_fresh_install_ones() {
        let o = Options::defaults();
        assert_eq!(o.int("PROLOG_FREQ"), 24);
        assert_eq!(o.int("AUTO_DUPLICATE_LVL"), 7);
        assert_eq!(o.int("INVENTORY_WRITE_DIFF"), 0);
        assert_eq!(o.int("DOWNLOAD_TIMEOUT"), 30);
        assert_eq!(o.int("COMPRESS_TRY_OTHERS"), 1);
        assert_eq!(o.text("OCS_FILES_FORMAT"), "OCS");
        for def in OPTIONS {
            assert!(validate(def, def.default).is_ok(), "{}", def.name);
        }
    }

    #[test]
    fn validation() {
        let freq = definition("ocs_opt_frequency").unwrap();
        assert_eq!(validate(freq, "-1").unwrap().ivalue, Some(-1));
        assert!(validate(freq, "-2").is_err());
        assert!(validate(freq, "x").is_err());
        assert!(validate(definition("DOWNLOAD").unwrap(), "2").is_err());
        assert!(validate(definition("SCAN_TYPE_SNMP").unwrap(), "UDP").is_err());
        let rows = [OptionRow {
            name: "PROLOG_FREQ".into(),
            ivalue: Some(-5),
            tvalue: None,
        }];
        assert_eq!(Options::from_rows(&rows).int("PROLOG_FREQ"), 24);
    }
}
