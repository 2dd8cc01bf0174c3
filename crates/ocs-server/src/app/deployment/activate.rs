//! Activating a package (issue 12 items 3 and 5): where agents fetch its info file (always
//! over HTTPS) and its fragments (over the info file's `PROTO`), checked before it is
//! accepted by fetching `<location>/<FILEID>/info` from each; deactivating; the activated
//! packages for pickers.
//!
//! Locations are stored as the original stores them, `host[:port][/path]` without a scheme
//! (the agent puts `https://` before the info location and `PROTO` before the fragments
//! location). For a redistribution group there is one activation per member, whose fragments
//! location is the group's `pack_url` with `$IP$` / `$NAME$` kept (the PROLOG replaces them);
//! the check fetches from each member with them replaced and names those that fail.
//!
//! The check's client is ureq with rustls; it trusts `<tls_dir>/cacert.pem` (the private CA
//! this server made) when it exists, plus the system's CA bundle.

use std::time::Duration;

use ocs_proto::info::{InfoFile, Protocol};
use ocs_storage::deployment::activations::NewActivation;
use ocs_storage::deployment::{
    ActivationId, ActivationRecord, PackageRecord, RedistributionGroupId,
};

use super::build::{log, write_synced, Deployer};
use crate::app::{AppError, AppState};
use crate::config::Config;

/// Longest location accepted.
pub const MAX_LOCATION_CHARS: usize = 255;
/// How long the check waits for one location.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Where agents are to fetch a package; `None` takes this server's `/download`.
#[derive(Debug, Clone, Default)]
pub struct ActivationRequest {
    /// `https://host[:port][/path]` or `host[:port][/path]`.
    pub info_url: Option<String>,
    /// `http(s)://host[:port][/path]` or `host[:port][/path]`.
    pub fragments_url: Option<String>,
    /// Activate for the members of this redistribution group instead of this server.
    pub redistribution_group: Option<RedistributionGroupId>,
}

/// A location split into its scheme (if given) and the stored `host[:port][/path]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// `http` or `https` when the URL named one.
    pub scheme: Option<Protocol>,
    /// `host[:port][/path]`, no trailing `/`.
    pub loc: String,
}

/// Reads a location as the console, CLI and API take it.
pub fn parse_location(what: &str, url: &str) -> Result<Location, AppError> {
    let url = url.trim();
    let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
        (Some(Protocol::Https), r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (Some(Protocol::Http), r)
    } else if url.contains("://") {
        return Err(AppError::bad_request(
            "E_ACTIVATE_URL",
            format!("{what} {url:?}: only http:// and https:// are used"),
        ));
    } else {
        (None, url)
    };
    let loc = rest.trim_end_matches('/');
    if loc.is_empty() || loc.starts_with('/') {
        return Err(AppError::bad_request(
            "E_ACTIVATE_URL",
            format!("{what} {url:?} names no host"),
        ));
    }
    if loc.chars().count() > MAX_LOCATION_CHARS {
        return Err(AppError::bad_request(
            "E_ACTIVATE_URL",
            format!("{what} is longer than {MAX_LOCATION_CHARS} characters"),
        ));
    }
    if loc.chars().any(|c| {
        c.is_control() || c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\\' | '?' | '#')
    }) {
        return Err(AppError::bad_request(
            "E_ACTIVATE_URL",
            format!("{what} {url:?} holds characters a location cannot have"),
        ));
    }
    Ok(Location {
        scheme,
        loc: loc.to_owned(),
    })
}

/// This server's `/download` locations (info over HTTPS, fragments over HTTP), for a client
/// that reached it as `host` (the `Host` header; the machine's name when there is none).
pub fn default_locations(config: &Config, host: Option<&str>) -> (String, String) {
    // Only the host name is taken from the request: it may have come over either protocol,
    // and each location has its own port.
    let name = match host.map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) => split_host(h).0,
        None => machine_name(),
    };
    let port = config.listen.port();
    let info = match config.tls_listen.map(|a| a.port()) {
        Some(443) | None => format!("{name}/download"),
        Some(p) => format!("{name}:{p}/download"),
    };
    let pack = match port {
        80 => format!("{name}/download"),
        p => format!("{name}:{p}/download"),
    };
    (info, pack)
}

fn split_host(h: &str) -> (String, Option<u16>) {
    // `[::1]:8080`, `host:8080`, `host`.
    if let Some(end) = h.rfind(']') {
        let port = h
            .get(end + 1..)
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|p| p.parse().ok());
        return (h.get(..=end).unwrap_or(h).to_owned(), port);
    }
    match h.rsplit_once(':') {
        Some((n, p)) if !n.contains(':') => (n.to_owned(), p.parse().ok()),
        _ => (h.to_owned(), None),
    }
}

fn machine_name() -> String {
    let uname = rustix::system::uname();
    let name = uname.nodename().to_string_lossy().into_owned();
    if name.is_empty() {
        "localhost".to_owned()
    } else {
        name
    }
}

/// The URL the check fetches for a location.
pub fn info_url(scheme: Protocol, loc: &str, fileid: &str) -> String {
    let s = match scheme {
        Protocol::Http => "http",
        Protocol::Https => "https",
    };
    format!("{s}://{loc}/{fileid}/info")
}

/// `$IP$` / `$NAME$` replaced for one redistribution server.
pub fn substitute(pack_loc: &str, name: &str, ip: &str) -> String {
    pack_loc.replace("$IP$", ip).replace("$NAME$", name)
}

/// The check's HTTP client.
fn client(config: &Config) -> Result<ureq::Agent, AppError> {
    let mut certs: Vec<ureq::tls::Certificate<'static>> = Vec::new();
    let ca = config.tls_dir().join("cacert.pem");
    if let Ok(pem) = std::fs::read(&ca) {
        certs.extend(pem_certs(&pem));
    }
    let mut tls = ureq::tls::TlsConfig::builder();
    if !certs.is_empty() {
        // The private CA replaces the bundled roots, so add the system's back.
        for bundle in [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/cert.pem",
        ] {
            if let Ok(pem) = std::fs::read(bundle) {
                certs.extend(pem_certs(&pem));
                break;
            }
        }
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(CHECK_TIMEOUT))
        .max_redirects(0)
        .tls_config(tls.build())
        .proxy(None)
        .build()
        .new_agent())
}

fn pem_certs(pem: &[u8]) -> Vec<ureq::tls::Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect()
}

/// Fetches `url` and checks it is this package's info file; the reason when it is not.
fn check_one(agent: &ureq::Agent, url: &str, fileid: &str) -> Result<(), String> {
    let mut resp = agent.get(url).call().map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(format!("HTTP {status}"));
    }
    let body = resp
        .body_mut()
        .with_config()
        .limit(ocs_proto::info::MAX_INFO_BYTES as u64)
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    let info = InfoFile::parse(&body).map_err(|e| format!("not an info file: {e}"))?;
    if info.id != fileid {
        return Err(format!("the info file is package {}", info.id));
    }
    Ok(())
}

/// Fetches every URL; returns those that failed with why.
async fn check_all(
    config: &Config,
    urls: Vec<String>,
    fileid: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let agent = client(config)?;
    let fileid = fileid.to_owned();
    tokio::task::spawn_blocking(move || {
        urls.into_iter()
            .filter_map(|u| check_one(&agent, &u, &fileid).err().map(|why| (u, why)))
            .collect()
    })
    .await
    .map_err(|e| AppError::Internal(format!("activation check: {e}")))
}

/// Activates a package after checking that its info file is where agents will look; returns
/// the new activations. `host` is how the client reached this server (for the defaults).
pub async fn activate(
    state: &AppState,
    by: &Deployer,
    fileid: &str,
    req: &ActivationRequest,
    host: Option<&str>,
) -> Result<Vec<ActivationId>, AppError> {
    let package = state
        .store
        .find_package(fileid)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("package {fileid} not found")))?;
    let (default_info, default_pack) = default_locations(&state.config, host);
    let info = match &req.info_url {
        Some(u) if !u.trim().is_empty() => parse_location("info location", u)?,
        _ => Location {
            scheme: None,
            loc: default_info,
        },
    };
    if info.scheme == Some(Protocol::Http) {
        return Err(AppError::bad_request(
            "E_ACTIVATE_URL",
            "agents fetch the info file over HTTPS only: give an https:// info location",
        ));
    }
    let pack = match &req.fragments_url {
        Some(u) if !u.trim().is_empty() => parse_location("fragments location", u)?,
        _ => Location {
            scheme: None,
            loc: default_pack,
        },
    };
    let proto = settle_protocol(state, &package, pack.scheme).await?;

    let mut new = Vec::new();
    let mut urls = vec![info_url(Protocol::Https, &info.loc, fileid)];
    match req.redistribution_group {
        None => {
            new.push(NewActivation {
                fileid: fileid.to_owned(),
                info_loc: info.loc.clone(),
                pack_loc: pack.loc.clone(),
                server: None,
                activated_by: by.label().to_owned(),
            });
            if pack.loc != info.loc || proto != Protocol::Https {
                urls.push(info_url(proto, &pack.loc, fileid));
            }
        }
        Some(group) => {
            let targets = state
                .store
                .redistribution_targets(group)
                .await?
                .ok_or_else(|| {
                    AppError::NotFound(format!("redistribution group {} not found", group.0))
                })?;
            if targets.servers.is_empty() {
                return Err(AppError::bad_request(
                    "E_ACTIVATE_GROUP",
                    format!("redistribution group {} has no server", group.0),
                ));
            }
            let pack_url = parse_location("redistribution pack_url", &targets.pack_url)?;
            for (host_id, name, ip) in &targets.servers {
                new.push(NewActivation {
                    fileid: fileid.to_owned(),
                    info_loc: info.loc.clone(),
                    pack_loc: pack_url.loc.clone(),
                    server: Some((*host_id, group)),
                    activated_by: by.label().to_owned(),
                });
                urls.push(info_url(
                    proto,
                    &substitute(&pack_url.loc, name, ip),
                    fileid,
                ));
            }
        }
    }

    // Recorded before the check: files are served only for activated packages, and the
    // main server's own `/download` is among the locations checked. Nothing is affected to
    // the new activations yet, so removing them on failure undoes everything.
    let ids = state
        .store
        .insert_activations(&new, state.clock.now())
        .await?;
    let failed = check_all(&state.config, urls, fileid).await;
    let failed = match failed {
        Ok(f) => f,
        Err(e) => {
            state.store.delete_activations(fileid, &ids).await?;
            return Err(e);
        }
    };
    if !failed.is_empty() {
        state.store.delete_activations(fileid, &ids).await?;
        let list: Vec<String> = failed
            .iter()
            .map(|(u, why)| format!("{u} ({why})"))
            .collect();
        return Err(AppError::bad_request(
            "E_ACTIVATE_CHECK",
            format!(
                "the info file could not be fetched from: {}",
                list.join(", ")
            ),
        ));
    }
    let detail = match req.redistribution_group {
        None => format!("info {} fragments {}", info.loc, pack.loc),
        Some(g) => format!(
            "info {} redistribution group {} ({} servers)",
            info.loc,
            g.0,
            ids.len()
        ),
    };
    log(state, by, "activate", fileid, detail).await;
    tracing::info!(
        fileid,
        by = by.label(),
        activations = ids.len(),
        "package activated"
    );
    Ok(ids)
}

/// Makes the info file's `PROTO` agree with the scheme of the fragments location: an info file
/// not yet served anywhere (no activation) is rewritten; otherwise the scheme must match.
async fn settle_protocol(
    state: &AppState,
    package: &PackageRecord,
    wanted: Option<Protocol>,
) -> Result<Protocol, AppError> {
    let path = state
        .config
        .download_dir()
        .join(&package.fileid)
        .join("info");
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| AppError::Internal(format!("cannot read {}: {e}", path.display())))?;
    let mut info = InfoFile::parse(&bytes)
        .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))?;
    let Some(wanted) = wanted else {
        return Ok(info.protocol);
    };
    if wanted == info.protocol {
        return Ok(wanted);
    }
    if !state
        .store
        .activations_of(&package.fileid)
        .await?
        .is_empty()
    {
        return Err(AppError::bad_request(
            "E_ACTIVATE_PROTO",
            format!(
                "package {} is already active with fragments over {}; deactivate it first to change",
                package.fileid,
                info.protocol.as_str()
            ),
        ));
    }
    info.protocol = wanted;
    let tmp = path.with_file_name(".info.tmp");
    write_synced(&tmp, info.to_xml().as_bytes()).await?;
    tokio::fs::rename(&tmp, &path)
        .await
        .map_err(|e| AppError::Internal(format!("cannot replace {}: {e}", path.display())))?;
    Ok(wanted)
}

/// Removes activations of a package (every one when `ids` is empty) with their affectations.
pub async fn deactivate(
    state: &AppState,
    by: &Deployer,
    fileid: &str,
    ids: &[ActivationId],
) -> Result<u64, AppError> {
    let gone = state.store.delete_activations(fileid, ids).await?;
    if gone == 0 {
        return Err(AppError::NotFound(format!(
            "package {fileid} has no such activation"
        )));
    }
    log(
        state,
        by,
        "deactivate",
        fileid,
        format!("{gone} activations"),
    )
    .await;
    Ok(gone)
}

/// Every activation with its package, for pickers (affecting a package, statistics).
pub async fn activated_packages(
    state: &AppState,
) -> Result<Vec<(ActivationId, PackageRecord, ActivationRecord)>, AppError> {
    let packages = state.store.list_packages().await?;
    let activations = state.store.list_activations().await?;
    Ok(activations
        .into_iter()
        .filter_map(|a| {
            let p = packages
                .iter()
                .find(|s| s.package.fileid == a.fileid)?
                .package
                .clone();
            Some((a.id, p, a))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parsed() {
        let l = parse_location("info", "https://srv.example:8443/download/").ok();
        assert_eq!(
            l,
            Some(Location {
                scheme: Some(Protocol::Https),
                loc: "srv.example:8443/download".into()
            })
        );
        let l = parse_location("info", "srv/download").ok();
        assert_eq!(
            l.map(|l| (l.scheme, l.loc)),
            Some((None, "srv/download".into()))
        );
        for bad in [
            "ftp://x/y",
            "https://",
            "/download",
            "a b/c",
            "x/\"y",
            "x?y",
        ] {
            assert!(parse_location("info", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_follow_the_host_header() {
        let mut config = Config {
            tls_listen: Some("0.0.0.0:8443".parse().unwrap()),
            ..Config::default()
        };
        let (info, pack) = default_locations(&config, Some("ocs.lan:8080"));
        assert_eq!(info, "ocs.lan:8443/download");
        assert_eq!(pack, "ocs.lan:8080/download");
        // A request over HTTPS names the HTTPS port: each location keeps its own.
        let (info, pack) = default_locations(&config, Some("[::1]:8443"));
        assert_eq!(info, "[::1]:8443/download");
        assert_eq!(pack, "[::1]:8080/download");
        config.tls_listen = Some("0.0.0.0:443".parse().unwrap());
        config.listen = "0.0.0.0:80".parse().unwrap();
        let (info, pack) = default_locations(&config, Some("ocs.lan"));
        assert_eq!(
            (info.as_str(), pack.as_str()),
            ("ocs.lan/download", "ocs.lan/download")
        );
    }

    #[test]
    fn urls_built() {
        assert_eq!(
            info_url(Protocol::Https, "srv:8443/download", "1700000000"),
            "https://srv:8443/download/1700000000/info"
        );
        assert_eq!(
            info_url(
                Protocol::Http,
                &substitute("$IP$:8080/pkg/$NAME$", "pc1", "10.0.0.5"),
                "1"
            ),
            "http://10.0.0.5:8080/pkg/pc1/1/info"
        );
    }
}
