//! The OCS protocol over HTTP(S): a zlib-compressed XML document POSTed to the server URL,
//! a compressed XML reply back. This module owns the HTTP client (ureq with rustls: no
//! OpenSSL to install), TLS trust (`--ca`, else the system bundle, else Mozilla's roots),
//! HTTP basic authentication, proxies, and turning every failure into one [`Error`] that
//! says what to check. It knows nothing about inventories beyond their XML text. It also
//! fetches package files (info files and fragments) with the same trust settings, so the
//! info file is verified against `--ca` exactly as the PROLOG is.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ocs_proto::codec::{self, BodyEncoding, DecodeLimits};
use ocs_proto::reply::{InventoryReply, PrologReply};
use ocs_proto::reply_reader::{parse_inventory_reply, parse_prolog_reply};

use crate::error::Error;

/// The User-Agent we send.
///
/// The original server admits a PROLOG only from a known agent *name* whose version is not
/// newer than its own (Useragent.pm): it keeps "first digit, dot, first digit" of the
/// version and compares, so Debian's server 2.8.1 admits `2.10.0` (read as 2.1) but refuses
/// `2.9.0` and anything `3.x`. We implement the protocol of the 2.10 Unix agent, so we send
/// exactly that agent's name and version: every original server from 2.1 on, and ours,
/// admit it, and consoles that classify machines by User-Agent treat ours as a Unix agent.
/// Our own version is not in it on purpose: `ocs-agent --version` shows it.
pub const USER_AGENT: &str = "OCS-NG_unified_unix_agent_v2.10.0";

/// Largest reply accepted (replies are a few hundred bytes; this only stops a runaway).
const MAX_REPLY: usize = 16 << 20;

/// How to reach the server.
#[derive(Debug, Clone, Default)]
pub struct TransportConfig {
    /// The agent endpoint, e.g. `https://ocs.example.org/ocsinventory`.
    pub url: String,
    /// PEM file with the CA certificate(s) to trust instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// Verify the server certificate (`--ssl 0` turns it off, for tests only).
    pub verify_tls: bool,
    /// HTTP basic authentication user.
    pub user: Option<String>,
    /// HTTP basic authentication password.
    pub password: Option<String>,
    /// Only answer a challenge of this realm (the original agent's behaviour); any realm
    /// when unset.
    pub realm: Option<String>,
    /// Proxy URL (`http://user:pass@proxy:3128`); the `*_proxy` environment otherwise.
    pub proxy: Option<String>,
    /// Time limit for one request.
    pub timeout: Duration,
    /// Log the XML exchanged.
    pub debug: bool,
    /// User-Agent to send instead of [`USER_AGENT`] (the injector's).
    pub user_agent: Option<String>,
}

/// A client for one server.
pub struct Client {
    agent: ureq::Agent,
    config: TransportConfig,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.config.url)
            .finish()
    }
}

impl Client {
    /// Builds the client: reads the CA file and checks the proxy URL now, so that a
    /// configuration mistake is reported before anything is collected.
    pub fn new(config: TransportConfig) -> Result<Client, Error> {
        if !(config.url.starts_with("http://") || config.url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "server URL {:?} must start with http:// or https://",
                config.url
            )));
        }
        let mut tls = ureq::tls::TlsConfig::builder().disable_verification(!config.verify_tls);
        let roots =
            match &config.ca_file {
                Some(path) => Some(load_pem(path).map_err(|detail| {
                    Error::Config(format!("--ca {}: {detail}", path.display()))
                })?),
                None => system_roots(),
            };
        if let Some(certs) = roots {
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let proxy = match &config.proxy {
            Some(p) => Some(
                ureq::Proxy::new(p)
                    .map_err(|e| Error::Config(format!("--proxy {p:?} is not a proxy URL: {e}")))?,
            ),
            None => ureq::Proxy::try_from_env(),
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(config.timeout))
            .user_agent(config.user_agent.as_deref().unwrap_or(USER_AGENT))
            .tls_config(tls.build())
            .proxy(proxy)
            .max_redirects(3)
            .build()
            .new_agent();
        Ok(Client { agent, config })
    }

    /// The server URL.
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// Sends PROLOG and reads the decision.
    pub fn prolog(&self, deviceid: &str) -> Result<PrologReply, Error> {
        let xml = ocs_proto::writer::prolog_request(deviceid);
        let reply = self.exchange("PROLOG", &xml)?;
        parse_prolog_reply(&reply).map_err(|e| self.bad_reply("PROLOG", e.to_string()))
    }

    /// Sends an INVENTORY document and reads the administrative data decision.
    pub fn inventory(&self, xml: &str) -> Result<InventoryReply, Error> {
        let reply = self.exchange("INVENTORY", xml)?;
        parse_inventory_reply(&reply).map_err(|e| self.bad_reply("INVENTORY", e.to_string()))
    }

    /// Sends a `QUERY=DOWNLOAD` status report for one package, with the same authentication
    /// as every other POST. The server answers 200 with an empty body, so only the status is
    /// checked.
    pub fn download_report(
        &self,
        deviceid: &str,
        package_id: &str,
        status: &str,
    ) -> Result<(), Error> {
        let xml = ocs_proto::writer::download_report(deviceid, package_id, status);
        self.send("DOWNLOAD", &xml).map(|_| ())
    }

    /// GETs `url` into `dest`, at most `limit` bytes. The body goes to `dest` + `.part`
    /// first and is renamed only once complete, so an interrupted transfer never leaves
    /// a file that looks whole.
    pub fn fetch_to_file(&self, url: &str, dest: &Path, limit: u64) -> Result<u64, Error> {
        let fetch_err = |detail: String| Error::Fetch {
            url: url.to_owned(),
            detail,
        };
        let mut response = self
            .agent
            .get(url)
            .header("Pragma", "no-cache")
            .call()
            .map_err(|e| match self.transport_error(e) {
                Error::Tls { detail, .. } => Error::Tls {
                    url: url.to_owned(),
                    detail,
                },
                other => fetch_err(other.to_string()),
            })?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(fetch_err(format!("HTTP {status}")));
        }
        let mut part = dest.as_os_str().to_owned();
        part.push(".part");
        let part = PathBuf::from(part);
        let write_err = |e: std::io::Error| Error::Write {
            path: part.clone(),
            source: e,
        };
        let mut file = std::fs::File::create(&part).map_err(write_err)?;
        let mut reader = response.body_mut().with_config().limit(limit).reader();
        let copied = std::io::copy(&mut reader, &mut file).map_err(|e| {
            let _ = std::fs::remove_file(&part);
            fetch_err(e.to_string())
        })?;
        file.sync_all().map_err(write_err)?;
        std::fs::rename(&part, dest).map_err(|e| Error::Write {
            path: dest.to_owned(),
            source: e,
        })?;
        Ok(copied)
    }

    fn bad_reply(&self, query: &'static str, detail: String) -> Error {
        Error::BadReply {
            url: self.config.url.clone(),
            query,
            detail,
        }
    }

    /// POSTs a document already encoded as it is to be sent (zlib, as an `.ocs` file holds
    /// it), answering an authentication challenge, and returns the reply body as received
    /// (the caller decides whether it must be readable); any status but 2xx is an error.
    pub fn send_encoded(&self, query: &'static str, body: &[u8]) -> Result<Vec<u8>, Error> {
        let mut response = self.send_body(query, body)?;
        response
            .body_mut()
            .with_config()
            .limit(MAX_REPLY as u64)
            .read_to_vec()
            .map_err(|e| self.transport_error(e))
    }

    /// POSTs one document and returns the decoded reply XML.
    fn exchange(&self, query: &'static str, xml: &str) -> Result<Vec<u8>, Error> {
        let response = self.send(query, xml)?;
        self.reply_of(query, response)
    }

    fn reply_of(
        &self,
        query: &'static str,
        mut response: ureq::http::Response<ureq::Body>,
    ) -> Result<Vec<u8>, Error> {
        let raw = response
            .body_mut()
            .with_config()
            .limit(MAX_REPLY as u64)
            .read_to_vec()
            .map_err(|e| self.transport_error(e))?;
        let decoded = codec::decode_body(
            &raw,
            DecodeLimits {
                max_inflated_bytes: MAX_REPLY,
                try_others: true,
            },
        )
        .map_err(|e| self.bad_reply(query, e.to_string()))?;
        if self.config.debug {
            tracing::debug!(
                query,
                "received:\n{}",
                String::from_utf8_lossy(&decoded.xml)
            );
        }
        Ok(decoded.xml)
    }

    /// POSTs one document (answering an authentication challenge) and checks the status;
    /// the body is left to the caller.
    fn send(
        &self,
        query: &'static str,
        xml: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        if self.config.debug {
            tracing::debug!(query, "sending:\n{xml}");
        }
        self.send_body(
            query,
            &codec::encode_body(xml.as_bytes(), BodyEncoding::Zlib),
        )
    }

    fn send_body(
        &self,
        query: &'static str,
        body: &[u8],
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        let mut response = self.post(body, None)?;
        if response.status().as_u16() == 401 {
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let realm = challenge_realm(&challenge);
            let answer = match (&self.config.user, &self.config.realm) {
                (Some(_), Some(wanted)) if realm.as_deref() != Some(wanted.as_str()) => None,
                (Some(user), _) => Some(basic_auth(
                    user,
                    self.config.password.as_deref().unwrap_or(""),
                )),
                (None, _) => None,
            };
            match answer {
                Some(header) => response = self.post(body, Some(&header))?,
                None => {
                    return Err(Error::Unauthorized {
                        url: self.config.url.clone(),
                        realm: realm
                            .map(|r| format!(", realm \"{r}\""))
                            .unwrap_or_default(),
                    })
                }
            }
        }
        let status = response.status().as_u16();
        if status == 401 {
            return Err(Error::Unauthorized {
                url: self.config.url.clone(),
                realm: ", credentials refused".into(),
            });
        }
        if status == 400 && query == "PROLOG" {
            return Err(Error::RefusedUserAgent {
                url: self.config.url.clone(),
                user_agent: self
                    .config
                    .user_agent
                    .clone()
                    .unwrap_or_else(|| USER_AGENT.into()),
            });
        }
        if !(200..300).contains(&status) {
            return Err(Error::Http {
                url: self.config.url.clone(),
                status,
                query,
                hint: match status {
                    403 => {
                        " (the server refused this inventory: device locked, or no PROLOG session)"
                    }
                    404 => " and that the URL path is the agent endpoint (…/ocsinventory)",
                    407 => " and the proxy credentials (--proxy http://user:pass@host:port)",
                    500..=599 => " (the server failed while handling the request)",
                    _ => "",
                },
            });
        }
        Ok(response)
    }

    fn post(
        &self,
        body: &[u8],
        authorization: Option<&str>,
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        let mut request = self
            .agent
            .post(&self.config.url)
            .header("Content-Type", "application/x-compress")
            .header("Pragma", "no-cache");
        if let Some(a) = authorization {
            request = request.header("Authorization", a);
        }
        request.send(body).map_err(|e| self.transport_error(e))
    }

    /// Sorts a client error into "cannot connect" and "TLS", the two things an operator
    /// checks differently.
    fn transport_error(&self, e: ureq::Error) -> Error {
        let url = self.config.url.clone();
        let detail = e.to_string();
        match e {
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => {
                Error::Tls { url, detail }
            }
            // rustls reports handshake failures (untrusted certificate, wrong name, a peer
            // that does not speak TLS) through the I/O error of the stream.
            ureq::Error::Io(io)
                if io
                    .get_ref()
                    .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) =>
            {
                Error::Tls { url, detail }
            }
            ureq::Error::BadUri(_) | ureq::Error::InvalidProxyUrl => {
                Error::Config(format!("{url}: {detail}"))
            }
            _ => Error::Unreachable { url, detail },
        }
    }
}

/// The realm of a `WWW-Authenticate: Basic realm="…"` challenge.
pub fn challenge_realm(header: &str) -> Option<String> {
    let at = header.find("realm=")?;
    let rest = &header[at + "realm=".len()..];
    let value = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next()?,
        None => rest.split([',', ' ']).next()?,
    };
    Some(value.to_owned())
}

/// An `Authorization: Basic …` value.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        crate::base64::encode(format!("{user}:{password}").as_bytes())
    )
}

/// Reads the certificates of a PEM file.
fn load_pem(path: &std::path::Path) -> Result<Vec<ureq::tls::Certificate<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| e.to_string())?;
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err("no certificate in the file".into());
    }
    Ok(certs)
}

/// The system CA bundle, so that a company CA installed the distribution's way is trusted;
/// `None` (Mozilla's bundled roots) when there is none.
fn system_roots() -> Option<Vec<ureq::tls::Certificate<'static>>> {
    [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ]
    .iter()
    .find_map(|p| load_pem(std::path::Path::new(p)).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realms_and_credentials() {
        assert_eq!(
            challenge_realm("Basic realm=\"OCS agents\"").as_deref(),
            Some("OCS agents")
        );
        assert_eq!(
            challenge_realm("Basic realm=x, charset=UTF-8").as_deref(),
            Some("x")
        );
        assert_eq!(challenge_realm("Bearer"), None);
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn bad_configuration_is_reported_before_any_request() {
        let base = TransportConfig {
            url: "ftp://x".into(),
            timeout: Duration::from_secs(1),
            verify_tls: true,
            ..TransportConfig::default()
        };
        assert!(matches!(Client::new(base.clone()), Err(Error::Config(_))));
        let missing_ca = TransportConfig {
            url: "https://localhost/ocsinventory".into(),
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..base
        };
        let err = Client::new(missing_ca).unwrap_err();
        assert!(
            err.to_string().contains("--ca /nonexistent/ca.pem"),
            "{err}"
        );
    }

    #[test]
    fn unreachable_server() {
        // Port 9 on loopback: nothing listens there on a test machine.
        let client = Client::new(TransportConfig {
            url: "http://127.0.0.1:9/ocsinventory".into(),
            timeout: Duration::from_secs(5),
            verify_tls: true,
            ..TransportConfig::default()
        })
        .unwrap();
        let err = client.prolog("pc-2024-01-01-00-00-00").unwrap_err();
        assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
        assert!(err.to_string().contains("check the server URL"), "{err}");
    }
}
