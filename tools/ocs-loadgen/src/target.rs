//! Which servers the tool may load: loopback addresses only, unless `--allow-remote`. A load
//! generator pointed at a production server by a typo does real harm, so the host is
//! resolved and every address it resolves to must be loopback.

use std::net::{IpAddr, ToSocketAddrs};

use crate::LoadgenError;

/// Checks that `url` is an http(s) URL whose host is loopback (127.0.0.0/8, ::1,
/// `localhost`), or that remote targets are allowed.
pub fn check_target(url: &str, allow_remote: bool) -> Result<(), LoadgenError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| LoadgenError::Usage(format!("bad URL {url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(LoadgenError::Usage(format!(
            "bad URL {url:?}: only http and https are supported"
        )));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| LoadgenError::Usage(format!("bad URL {url:?}: no host")))?;
    if allow_remote {
        return Ok(());
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = if let Ok(ip) = bare.parse::<IpAddr>() {
        vec![ip]
    } else if bare.eq_ignore_ascii_case("localhost") {
        return Ok(());
    } else {
        let port = parsed.port_or_known_default().unwrap_or(80);
        (bare, port)
            .to_socket_addrs()
            .map_err(|e| LoadgenError::Usage(format!("cannot resolve {host:?}: {e}")))?
            .map(|a| a.ip())
            .collect()
    };
    match addrs.iter().find(|ip| !is_loopback(ip)) {
        None if !addrs.is_empty() => Ok(()),
        found => Err(LoadgenError::RemoteTarget {
            url: url.to_owned(),
            address: found.map_or_else(|| "nothing".to_owned(), IpAddr::to_string),
        }),
    }
}

fn is_loopback(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        // An IPv4-mapped loopback (::ffff:127.0.0.1) is loopback too.
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only_unless_allowed() {
        for ok in [
            "http://127.0.0.1:8080/ocsinventory",
            "http://127.9.9.9/ocsinventory",
            "http://[::1]:8080/ocsinventory",
            "http://localhost:8090/ocsinventory",
            "https://LOCALHOST/ocsinventory",
        ] {
            assert!(check_target(ok, false).is_ok(), "{ok}");
        }
        for refused in [
            "http://10.0.0.1/ocsinventory",
            "http://192.168.1.10:8080/ocsinventory",
            "http://[2001:db8::1]/ocsinventory",
            "http://0.0.0.0:8080/ocsinventory",
        ] {
            assert!(
                matches!(
                    check_target(refused, false),
                    Err(LoadgenError::RemoteTarget { .. })
                ),
                "{refused}"
            );
            assert!(check_target(refused, true).is_ok());
        }
        assert!(matches!(
            check_target("ftp://127.0.0.1/", false),
            Err(LoadgenError::Usage(_))
        ));
        assert!(matches!(
            check_target("not a url", false),
            Err(LoadgenError::Usage(_))
        ));
    }
}
