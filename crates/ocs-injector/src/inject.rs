//! Sending: each source read (a file locked meanwhile), checked, POSTed; a failure that may
//! pass (the server unreachable, busy or failing: no answer, 429, 5xx) is tried again after
//! 1, 2, 4… seconds; success is any 2xx, as for the original. The outcomes are counted for
//! the summary and the exit status.

use std::time::Duration;

use ocs_agent::error::Error as TransportError;
use ocs_agent::transport::Client;
use ocs_proto::codec::{self, DecodeLimits};

use crate::document::{self, MAX_INFLATED_BYTES};
use crate::source::{self, ReadError, Source};

/// What to do besides sending.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Remove each file once the server took it (`-r`).
    pub remove: bool,
    /// Print the server's reply (`-m`).
    pub show_reply: bool,
    /// Print a line per file (`-v`).
    pub verbose: bool,
    /// Attempts after the first for a failure that may pass.
    pub retries: u32,
    /// Wait before the first retry; doubled at each.
    pub backoff: Duration,
}

/// What happened to one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server took it (2xx); the reply as text when `-m` asked for it.
    Sent {
        /// The decoded reply.
        reply: Option<String>,
        /// The file was removed (`-r`).
        removed: bool,
    },
    /// Another process holds its lock: left for the next run.
    Busy,
    /// Not sent, and why.
    Failed(String),
}

/// The counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Taken by the server.
    pub sent: usize,
    /// Left because locked.
    pub busy: usize,
    /// Not sent.
    pub failed: usize,
}

impl Summary {
    /// Counts an outcome.
    pub fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Sent { .. } => self.sent += 1,
            Outcome::Busy => self.busy += 1,
            Outcome::Failed(_) => self.failed += 1,
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} sent, {} failed", self.sent, self.failed)?;
        if self.busy > 0 {
            write!(f, ", {} skipped (locked by another process)", self.busy)?;
        }
        Ok(())
    }
}

/// Whether trying again later may help.
fn passing(e: &TransportError) -> bool {
    match e {
        TransportError::Unreachable { .. } => true,
        TransportError::Http { status, .. } => *status == 429 || *status >= 500,
        _ => false,
    }
}

/// The error in the injector's words (the transport's name the agent's flags).
fn explain(e: &TransportError) -> String {
    match e {
        TransportError::Unreachable { url, detail } => {
            format!("cannot reach the server at {url}: {detail}; check the URL (-u), DNS and the network path")
        }
        TransportError::Tls { url, detail } => format!(
            "TLS failure talking to {url}: {detail}; check --cafile (the CA that signed the server certificate) and that the URL's host name is in the certificate, or use --sslmode 0 to send without checking it"
        ),
        TransportError::Unauthorized { url, realm } => format!(
            "the server at {url} requires authentication (HTTP 401{realm}); check --username and --password"
        ),
        TransportError::Http { status, hint, .. } => format!("HTTP {status}{hint}"),
        other => other.to_string(),
    }
}

/// Sends one source with its retries.
pub fn send_one(client: &Client, src: &Source, settings: &Settings) -> Outcome {
    let (raw, held) = match src {
        Source::Stdin => match source::stdin() {
            Ok(raw) => (raw, None),
            Err(ReadError::Busy) => return Outcome::Busy,
            Err(ReadError::Failed(why)) => return Outcome::Failed(why),
        },
        Source::File(path) => {
            let mut locked = match source::lock(path) {
                Ok(l) => l,
                Err(ReadError::Busy) => return Outcome::Busy,
                Err(ReadError::Failed(why)) => return Outcome::Failed(why),
            };
            match locked.read() {
                Ok(raw) => (raw, Some(locked)),
                Err(ReadError::Busy) => return Outcome::Busy,
                Err(ReadError::Failed(why)) => return Outcome::Failed(why),
            }
        }
    };
    let doc = match document::prepare(&raw) {
        Ok(d) => d,
        Err(why) => return Outcome::Failed(why),
    };
    let mut wait = settings.backoff;
    let mut attempt = 0;
    let reply = loop {
        match client.send_encoded("INVENTORY", &doc.body) {
            Ok(reply) => break reply,
            Err(e) if attempt < settings.retries && passing(&e) => {
                if settings.verbose {
                    eprintln!(
                        "{}: {}; trying again in {} s",
                        src.name(),
                        explain(&e),
                        wait.as_secs_f64()
                    );
                }
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2);
                attempt += 1;
            }
            Err(e) => return Outcome::Failed(explain(&e)),
        }
    };
    let reply = settings.show_reply.then(|| reply_text(&reply));
    let mut removed = false;
    if settings.remove {
        if let Source::File(path) = src {
            // Removed while still locked, so no other injector sends it meanwhile.
            match std::fs::remove_file(path) {
                Ok(()) => removed = true,
                Err(e) => {
                    return Outcome::Failed(format!("sent, but cannot be removed: {e}"));
                }
            }
        }
    }
    drop(held);
    Outcome::Sent { reply, removed }
}

/// A reply as text: decoded when it is an OCS reply, else as received.
fn reply_text(raw: &[u8]) -> String {
    let limits = DecodeLimits {
        max_inflated_bytes: MAX_INFLATED_BYTES,
        try_others: true,
    };
    match codec::decode_body(raw, limits) {
        Ok(d) => String::from_utf8_lossy(&d.xml).into_owned(),
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_tried_again() {
        let http = |status| TransportError::Http {
            url: "u".into(),
            status,
            query: "INVENTORY",
            hint: "",
        };
        assert!(passing(&http(503)));
        assert!(passing(&http(429)));
        assert!(!passing(&http(400)), "a refused document is refused again");
        assert!(!passing(&http(413)));
        assert!(passing(&TransportError::Unreachable {
            url: "u".into(),
            detail: "refused".into()
        }));
        let mut s = Summary::default();
        s.add(&Outcome::Busy);
        s.add(&Outcome::Failed("x".into()));
        s.add(&Outcome::Sent {
            reply: None,
            removed: false,
        });
        assert_eq!(
            s.to_string(),
            "1 sent, 1 failed, 1 skipped (locked by another process)"
        );
    }
}
