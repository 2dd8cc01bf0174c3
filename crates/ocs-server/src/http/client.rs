//! Who is on the other end of a request: the client address and whether it came over HTTPS,
//! believing `X-Forwarded-For` and `X-Forwarded-Proto` only from configured reverse proxies.

use std::net::IpAddr;

use axum::http::{Extensions, HeaderMap};

use crate::app::addresses::{client_behind_proxies, is_trusted_proxy, IpRange};
use crate::config::Config;

fn trusted_proxies(config: &Config) -> Vec<IpRange> {
    // Validated at start-up; anything unparsable was refused there.
    config
        .agents
        .trusted_proxies
        .iter()
        .filter_map(|p| IpRange::parse(p))
        .collect()
}

/// The client's address: the connection's peer, or with `agents.trust_forwarded_for` the
/// right-most `X-Forwarded-For` hop that is not a trusted proxy.
pub fn client_ip(config: &Config, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    if !config.agents.trust_forwarded_for {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    client_behind_proxies(peer, &hops, &trusted_proxies(config))
}

/// Whether the client used HTTPS: it came in on the server's TLS listener, or a trusted
/// reverse proxy says so.
pub fn is_https(
    config: &Config,
    extensions: &Extensions,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> bool {
    extensions.get::<crate::tls::Https>().is_some()
        || peer.is_some_and(|peer| forwarded_https(config, headers, peer))
}

/// Whether a trusted reverse proxy says the client used HTTPS.
pub fn forwarded_https(config: &Config, headers: &HeaderMap, peer: IpAddr) -> bool {
    config.agents.trust_forwarded_for
        && is_trusted_proxy(peer, &trusted_proxies(config))
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}
