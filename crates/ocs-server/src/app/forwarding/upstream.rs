//! One upstream OCS server as the forwarder talks to it: the agent endpoint, its TLS trust
//! (`[forwarding] ca_file`, else the system's CAs), HTTP basic authentication, and each
//! attempt's outcome sorted by what to do next.

use std::time::Duration;

use base64::Engine;

use crate::config::ForwardingConfig;

/// How long one relay may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// An attempt that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Unreachable, busy (429) or failing (5xx): the upstream, not the document; everything
    /// queued for it waits.
    Upstream(String),
    /// This document was refused (any other status): it waits, the others go on.
    Refused(String),
}

/// A client for one upstream.
pub struct Upstream {
    url: String,
    agent: ureq::Agent,
    authorization: Option<String>,
}

impl Upstream {
    /// Builds the client; the CA file is read now, so that a mistake is reported at start.
    pub fn new(url: &str, config: &ForwardingConfig) -> anyhow::Result<Upstream> {
        let mut tls = ureq::tls::TlsConfig::builder().disable_verification(!config.verify_tls);
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("forwarding.ca_file {}: {e}", path.display()))?;
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                anyhow::bail!(
                    "forwarding.ca_file {}: no certificate in it",
                    path.display()
                );
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(SEND_TIMEOUT))
            .max_redirects(0)
            .tls_config(tls.build())
            .proxy(ureq::Proxy::try_from_env())
            .build()
            .new_agent();
        let authorization = (!config.username.is_empty()).then(|| {
            let pair = format!("{}:{}", config.username, config.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        Ok(Upstream {
            url: url.to_owned(),
            agent,
            authorization,
        })
    }

    /// The upstream's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Relays one inventory (zlib body) with the agent's User-Agent; blocking.
    pub fn send(&self, user_agent: &str, body: &[u8]) -> Result<(), SendError> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/x-compress")
            .header("Pragma", "no-cache")
            .header("User-Agent", user_agent);
        if let Some(a) = &self.authorization {
            request = request.header("Authorization", a);
        }
        match request.send(body) {
            Ok(response) => match response.status().as_u16() {
                200..=299 => Ok(()),
                s @ (429 | 500..=599) => Err(SendError::Upstream(format!("HTTP {s}"))),
                s => Err(SendError::Refused(format!("HTTP {s}"))),
            },
            Err(e) => Err(SendError::Upstream(e.to_string())),
        }
    }
}
