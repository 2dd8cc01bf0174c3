//! What the PROLOG reply's `DOWNLOAD` option tells the agent: the `CONF` parameter (on/off,
//! latencies, period length, timeout) and one `PACK` parameter per package to deploy
//! (reference §2.1.6). This module only reads the reply; it does no I/O beyond what the
//! caller does with the result.
//!
//! Defaults follow the Unix agent when an attribute is missing or not a number: 10 s after
//! each fragment, 10 s after each cycle, 0 s after each period, 10 cycles per period. A
//! missing `ON` reads as off, as it does there. `TIMEOUT` has no default in the Unix agent
//! (a missing one abandons every package at once); we take the server's default of 30 days.

use ocs_proto::reply::{Param, PrologReply};
use serde::{Deserialize, Serialize};

/// Seconds to sleep after each fragment when the server does not say.
pub const DEFAULT_FRAG_LATENCY: u64 = 10;
/// Seconds to sleep after each cycle when the server does not say.
pub const DEFAULT_CYCLE_LATENCY: u64 = 10;
/// Seconds to sleep after each period when the server does not say.
pub const DEFAULT_PERIOD_LATENCY: u64 = 0;
/// Cycles per period when the server does not say.
pub const DEFAULT_PERIOD_LENGTH: u32 = 10;
/// Days after which an unfinished package is abandoned when the server does not say.
pub const DEFAULT_TIMEOUT_DAYS: u64 = 30;
/// Longest FILEID accepted: it becomes a directory name, so it must stay digits only.
const MAX_ID_DIGITS: usize = 20;
/// Longest location accepted (host and path).
const MAX_LOCATION: usize = 2048;

/// The `CONF` parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadConfig {
    /// `ON`: deployment enabled for this machine.
    pub on: bool,
    /// `FRAG_LATENCY`: seconds after each fragment.
    pub frag_latency: u64,
    /// `CYCLE_LATENCY`: seconds after each cycle.
    pub cycle_latency: u64,
    /// `PERIOD_LATENCY`: seconds after each period.
    pub period_latency: u64,
    /// `PERIOD_LENGTH`: cycles per period (at least 1).
    pub period_length: u32,
    /// `TIMEOUT`: days after which an unfinished package is abandoned (`ERR_TIMEOUT`).
    pub timeout_days: u64,
}

impl Default for DownloadConfig {
    fn default() -> Self {
        DownloadConfig {
            on: false,
            frag_latency: DEFAULT_FRAG_LATENCY,
            cycle_latency: DEFAULT_CYCLE_LATENCY,
            period_latency: DEFAULT_PERIOD_LATENCY,
            period_length: DEFAULT_PERIOD_LENGTH,
            timeout_days: DEFAULT_TIMEOUT_DAYS,
        }
    }
}

/// One `PACK` parameter: a package the server wants deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackOrder {
    /// `ID`: the FILEID, digits only.
    pub id: String,
    /// `INFO_LOC`: host[/path] serving `<ID>/info` over HTTPS.
    pub info_loc: String,
    /// `PACK_LOC`: host[/path] serving the fragments.
    pub pack_loc: String,
    /// `FORCE`: deploy again even if the history has it.
    pub force: bool,
}

/// The `DOWNLOAD` option of a PROLOG reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadOption {
    /// The `CONF` parameter (defaults when the server sent none).
    pub config: DownloadConfig,
    /// The packages, in the order the server listed them, without duplicates.
    pub packages: Vec<PackOrder>,
}

/// Reads the `DOWNLOAD` option; `None` when the reply has none (an old server), in which
/// case the agent keeps the configuration it saved last time.
pub fn from_reply(reply: &PrologReply) -> Option<DownloadOption> {
    let option = reply.option("DOWNLOAD")?;
    let mut config = DownloadConfig::default();
    let mut packages: Vec<PackOrder> = Vec::new();
    for param in &option.params {
        let kind = attribute(param, "TYPE").unwrap_or_default();
        if kind.eq_ignore_ascii_case("CONF") {
            config = conf(param);
        } else if kind.eq_ignore_ascii_case("PACK") {
            match pack(param) {
                Some(p) if !packages.iter().any(|q| q.id == p.id) => packages.push(p),
                Some(_) => {}
                None => tracing::warn!(
                    id = attribute(param, "ID").unwrap_or_default(),
                    "package order without a valid ID or location ignored"
                ),
            }
        }
    }
    Some(DownloadOption { config, packages })
}

fn conf(param: &Param) -> DownloadConfig {
    let number = |name: &str, default: u64| {
        attribute(param, name)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(default)
    };
    DownloadConfig {
        on: number("ON", 0) != 0,
        frag_latency: number("FRAG_LATENCY", DEFAULT_FRAG_LATENCY),
        cycle_latency: number("CYCLE_LATENCY", DEFAULT_CYCLE_LATENCY),
        period_latency: number("PERIOD_LATENCY", DEFAULT_PERIOD_LATENCY),
        // Zero cycles would make a period that never fetches anything, forever.
        period_length: u32::try_from(number("PERIOD_LENGTH", u64::from(DEFAULT_PERIOD_LENGTH)))
            .unwrap_or(u32::MAX)
            .max(1),
        timeout_days: number("TIMEOUT", DEFAULT_TIMEOUT_DAYS),
    }
}

fn pack(param: &Param) -> Option<PackOrder> {
    let id = attribute(param, "ID")?.trim().to_owned();
    if !is_fileid(&id) {
        return None;
    }
    let info_loc = location(attribute(param, "INFO_LOC")?)?;
    let pack_loc = location(attribute(param, "PACK_LOC")?)?;
    Some(PackOrder {
        id,
        info_loc,
        pack_loc,
        force: attribute(param, "FORCE").is_some_and(|v| v.trim() == "1"),
    })
}

/// Whether a FILEID can be used as a directory name: digits only.
pub fn is_fileid(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_DIGITS && id.bytes().all(|b| b.is_ascii_digit())
}

/// A location is host[/path]; a scheme some consoles let through is dropped, since the
/// scheme comes from the protocol (HTTPS for info files, `PROTO` for fragments).
fn location(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .unwrap_or(raw)
        .trim_end_matches('/');
    (!raw.is_empty() && raw.len() <= MAX_LOCATION && !raw.contains(char::is_whitespace))
        .then(|| raw.to_owned())
}

fn attribute<'a>(param: &'a Param, name: &str) -> Option<&'a str> {
    param
        .attributes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocs_proto::reply_reader::parse_prolog_reply;

    #[test]
    fn conf_and_packs_from_a_server_reply() {
        let doc = br#"<REPLY><RESPONSE>STOP</RESPONSE><OPTION><NAME>DOWNLOAD</NAME>
<PARAM TYPE="CONF" ON="1" FRAG_LATENCY="0" CYCLE_LATENCY="2" PERIOD_LATENCY="3" PERIOD_LENGTH="0" TIMEOUT="7" EXECUTION_TIMEOUT="120"/>
<PARAM TYPE="PACK" ID="1709631234" INFO_LOC="ocs.example.com/download" PACK_LOC="https://10.0.0.5/download/" CERT_PATH="INSTALL_PATH" CERT_FILE="INSTALL_PATH/cacert.pem" FORCE="1" SCHEDULE="" POSTCMD=""/>
<PARAM TYPE="PACK" ID="1709631234" INFO_LOC="x" PACK_LOC="y" FORCE="0"/>
<PARAM TYPE="PACK" ID="../../etc" INFO_LOC="x" PACK_LOC="y"/>
<PARAM TYPE="PACK" ID="17" INFO_LOC="a/download" PACK_LOC="b"/>
</OPTION><PROLOG_FREQ>24</PROLOG_FREQ></REPLY>"#;
        let option = from_reply(&parse_prolog_reply(doc).unwrap()).unwrap();
        assert_eq!(
            option.config,
            DownloadConfig {
                on: true,
                frag_latency: 0,
                cycle_latency: 2,
                period_latency: 3,
                period_length: 1,
                timeout_days: 7,
            }
        );
        assert_eq!(
            option.packages,
            vec![
                PackOrder {
                    id: "1709631234".into(),
                    info_loc: "ocs.example.com/download".into(),
                    pack_loc: "10.0.0.5/download".into(),
                    force: true,
                },
                PackOrder {
                    id: "17".into(),
                    info_loc: "a/download".into(),
                    pack_loc: "b".into(),
                    force: false,
                },
            ]
        );
    }

    #[test]
    fn defaults_and_off() {
        let doc = br#"<REPLY><RESPONSE>SEND</RESPONSE><OPTION><NAME>DOWNLOAD</NAME>
<PARAM TYPE="CONF" FRAG_LATENCY="x"/></OPTION></REPLY>"#;
        let option = from_reply(&parse_prolog_reply(doc).unwrap()).unwrap();
        assert_eq!(option.config, DownloadConfig::default());
        assert!(
            !option.config.on,
            "a missing ON is off, as for the Unix agent"
        );
        let none = br#"<REPLY><RESPONSE>SEND</RESPONSE></REPLY>"#;
        assert_eq!(from_reply(&parse_prolog_reply(none).unwrap()), None);
        assert!(is_fileid("1709631234"));
        assert!(!is_fileid("") && !is_fileid("12a") && !is_fileid(&"1".repeat(21)));
    }
}
