//! The crate's one error type. Transport variants carry a hint of what to check, because
//! the binary prints them as the one line an operator sees.

use std::path::PathBuf;

/// Everything that can go wrong in the agent.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file that exists could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The system error.
        source: std::io::Error,
    },
    /// A source only root may read.
    #[error("{path}: permission denied (run as root for this detail)")]
    NeedsRoot {
        /// The file or command.
        path: PathBuf,
    },
    /// Data that does not have the expected shape.
    #[error("cannot parse {what}: {detail}")]
    Parse {
        /// What was being read.
        what: String,
        /// Why it failed.
        detail: String,
    },
    /// A helper program failed.
    #[error("{program} failed: {detail}")]
    Command {
        /// The program.
        program: String,
        /// Exit status or error.
        detail: String,
    },
    /// The configuration file or the flags are wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// The state directory cannot be used.
    #[error("state directory {path}: {detail}")]
    State {
        /// The directory or file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Writing the local inventory file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The system error.
        source: std::io::Error,
    },
    /// No TCP connection to the server (DNS, refused, routing, timeout).
    #[error("cannot reach the server at {url}: {detail}; check the server URL, DNS, the network path and any proxy (--proxy)")]
    Unreachable {
        /// The server URL.
        url: String,
        /// The underlying error.
        detail: String,
    },
    /// The TLS handshake failed: certificate not trusted, wrong name, expired, protocol.
    #[error("TLS failure talking to {url}: {detail}; check --ca (the CA that signed the server certificate), that the URL's host name is in the certificate, and the clock")]
    Tls {
        /// The server URL.
        url: String,
        /// The underlying error.
        detail: String,
    },
    /// The server refused the PROLOG with HTTP 400, which is how the OCS server rejects a
    /// User-Agent it does not admit.
    #[error("the server at {url} refused the PROLOG (HTTP 400): it does not admit the User-Agent {user_agent:?}, or this is not an OCS server; check the server version and its allowed agents (extra_useragents), and that the URL ends in /ocsinventory")]
    RefusedUserAgent {
        /// The server URL.
        url: String,
        /// What we sent.
        user_agent: String,
    },
    /// The server asked for credentials (or refused ours).
    #[error("the server at {url} requires authentication (HTTP 401{realm}); check --user, --password and --realm")]
    Unauthorized {
        /// The server URL.
        url: String,
        /// `, realm "…"` when the server named one.
        realm: String,
    },
    /// Any other HTTP error status.
    #[error(
        "the server at {url} answered HTTP {status} to {query}; check the server's logs{hint}"
    )]
    Http {
        /// The server URL.
        url: String,
        /// The status code.
        status: u16,
        /// PROLOG, INVENTORY or DOWNLOAD.
        query: &'static str,
        /// A more specific hint for well-known statuses.
        hint: &'static str,
    },
    /// A package file (info file or fragment) could not be fetched.
    #[error("cannot fetch {url}: {detail}")]
    Fetch {
        /// The file's URL.
        url: String,
        /// HTTP status or transport error.
        detail: String,
    },
    /// A 200 whose body is not an OCS reply.
    #[error("the server at {url} sent a reply to {query} that is not an OCS reply ({detail}); check that the URL points at the OCS agent endpoint (…/ocsinventory)")]
    BadReply {
        /// The server URL.
        url: String,
        /// PROLOG or INVENTORY.
        query: &'static str,
        /// Why it could not be read.
        detail: String,
    },
    /// An IP discovery scan needs a raw socket, which only root or `CAP_NET_RAW` may open.
    #[error("IP discovery needs root or CAP_NET_RAW (raw socket on {interface}: {detail}); the inventory is sent without the IPDISCOVER section")]
    IpDiscoverPrivilege {
        /// The interface the scan would have used.
        interface: String,
        /// The system error.
        detail: String,
    },
    /// An IP discovery scan could not run (no interface on that network, too wide, …).
    #[error("IP discovery of {netid}: {detail}")]
    IpDiscover {
        /// The network asked for.
        netid: String,
        /// Why it did not run.
        detail: String,
    },
}

impl Error {
    /// A read error, turning "permission denied" into [`Error::NeedsRoot`].
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::PermissionDenied {
            Error::NeedsRoot { path }
        } else {
            Error::Read { path, source }
        }
    }

    /// A parse error.
    pub fn parse(what: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::Parse {
            what: what.into(),
            detail: detail.into(),
        }
    }

    /// The process exit code for this error: 2 for configuration mistakes, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) => 2,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_problems_become_needs_root_and_config_errors_exit_2() {
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(matches!(
            Error::read("/etc/cups/printers.conf", denied),
            Error::NeedsRoot { .. }
        ));
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert!(matches!(Error::read("/x", missing), Error::Read { .. }));
        assert_eq!(Error::Config("x".into()).exit_code(), 2);
        let unreachable = Error::Unreachable {
            url: "http://x".into(),
            detail: "refused".into(),
        };
        assert_eq!(unreachable.exit_code(), 1);
        assert!(!unreachable.to_string().contains('\n'), "one line");
    }
}
