//! The injector: inventory files sent to an OCS server, as the original's
//! `ocsinventory-injector.pl` sends them (master/slave synchronisation, replays of `.ocs`
//! files written by `GENERATE_OCS_FILES` or by an agent's local mode). `source` finds and
//! reads what to send, `document` checks a file and encodes it as the server wants it, and
//! `inject` sends each one (locked while it is sent, retried with a backoff on failures
//! that may pass) and counts the outcomes.

pub mod document;
pub mod inject;
pub mod source;

/// The User-Agent sent unless `--useragent` says otherwise. INVENTORY requests are never
/// checked against the PROLOG's allow-list, and a User-Agent containing "local" would make
/// the original store into its local database: neither applies to this one.
pub const USER_AGENT: &str = concat!("OCS-NG_INJECTOR_RS_v", env!("CARGO_PKG_VERSION"));

/// The server URL unless `-u` says otherwise (the original injector's documented default).
pub const DEFAULT_URL: &str = "http://ocsinventory-ng/ocsinventory";
