//! HTTPS certificates: the PEM certificate chain and key given in `[tls] cert_file/key_file`,
//! or else a private CA and a server certificate that the first start creates under
//! `<data_dir>/tls/` ([`generate`]); the rustls server configuration built on them; and the
//! reload on SIGHUP, which swaps the certificate under connections to come without
//! restarting (connections in progress keep theirs).

pub mod generate;
pub mod names;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::config::Config;

/// The CA certificate agents need (`--ca`), in the TLS directory.
pub const CA_FILE: &str = "cacert.pem";
/// Largest certificate or key file read; real chains are a few KiB.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// A request extension set on every request that came over HTTPS, so handlers (cookie
/// `Secure`, links) know the scheme without trusting headers.
#[derive(Debug, Clone, Copy)]
pub struct Https;

/// What can go wrong with the certificates.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not what it should hold.
    #[error("{path}: {why}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// Settings that do not go together.
    #[error("{0}")]
    Config(String),
    /// Certificate generation failed.
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The HTTPS address cannot be listened on.
    #[error("cannot listen on {addr} (HTTPS; tls_listen = \"off\" turns it off): {source}")]
    Bind {
        /// `tls_listen`.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Path of the generated CA certificate (whether or not it exists yet).
pub fn ca_certificate_path(config: &Config) -> PathBuf {
    config.tls_dir().join(CA_FILE)
}

/// The generated CA certificate in PEM, for download; `None` when the server uses provided
/// certificates and never generated a CA.
pub fn ca_certificate_pem(config: &Config) -> Result<Option<Vec<u8>>, TlsError> {
    let path = ca_certificate_path(config);
    // A CA left from before the certificate was provided would mislead agents.
    if config.tls.cert_file.is_some() || !path.exists() {
        return Ok(None);
    }
    read_limited(&path).map(Some)
}

/// Where the certificate in use comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `[tls] cert_file` and `key_file`.
    Provided {
        /// The certificate chain.
        cert: PathBuf,
        /// The key.
        key: PathBuf,
    },
    /// Signed by the private CA whose certificate is at `ca`.
    Generated {
        /// `cacert.pem`.
        ca: PathBuf,
    },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Provided { cert, key } => {
                write!(f, "certificate {} (key {})", cert.display(), key.display())
            }
            Source::Generated { ca } => write!(
                f,
                "generated certificate; CA for agents (--ca): {}",
                ca.display()
            ),
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads the certificate the configuration asks for, generating the CA and the server
/// certificate first when no files are configured.
pub fn load(config: &Config) -> Result<(Arc<CertifiedKey>, Source), TlsError> {
    let (cert, key, source) = match (&config.tls.cert_file, &config.tls.key_file) {
        (Some(cert), Some(key)) => (
            cert.clone(),
            key.clone(),
            Source::Provided {
                cert: cert.clone(),
                key: key.clone(),
            },
        ),
        (None, None) => {
            let dir = config.tls_dir();
            let files = generate::ensure(&dir, &names::server_names(&config.tls.names))?;
            (
                files.cert,
                files.key,
                Source::Generated {
                    ca: ca_certificate_path(config),
                },
            )
        }
        _ => {
            return Err(TlsError::Config(
                "[tls] cert_file and key_file go together: set both, or neither to use a generated certificate".into(),
            ))
        }
    };
    Ok((Arc::new(certified_key(&cert, &key)?), source))
}

/// Reads a PEM certificate chain (server certificate first) and its private key, and checks
/// that they belong together.
pub fn certified_key(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, TlsError> {
    let invalid = |path: &Path, why: String| TlsError::Invalid {
        path: path.to_owned(),
        why,
    };
    let cert_pem = read_limited(cert_path)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(cert_path, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(invalid(cert_path, "no CERTIFICATE block".into()));
    }
    let key_pem = read_limited(key_path)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| invalid(key_path, format!("not a PEM private key: {e}")))?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| invalid(key_path, format!("unusable private key: {e}")))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| {
        invalid(
            key_path,
            format!(
                "does not match the certificate {}: {e}",
                cert_path.display()
            ),
        )
    })?;
    Ok(certified)
}

fn read_limited(path: &Path) -> Result<Vec<u8>, TlsError> {
    let io = |source| TlsError::Io {
        path: path.to_owned(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_PEM_BYTES {
        return Err(TlsError::Invalid {
            path: path.to_owned(),
            why: format!("{len} bytes; a PEM file here is at most {MAX_PEM_BYTES}"),
        });
    }
    std::fs::read(path).map_err(io)
}

/// The certificate the TLS listener presents, replaceable while the server runs.
#[derive(Debug)]
pub struct CertStore {
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertStore {
    /// Starts with `key`.
    pub fn new(key: Arc<CertifiedKey>) -> CertStore {
        CertStore {
            current: RwLock::new(key),
        }
    }

    /// Reads the certificate again (SIGHUP). On error the one in use stays.
    pub fn reload(&self, config: &Config) -> Result<Source, TlsError> {
        let (key, source) = load(config)?;
        match self.current.write() {
            Ok(mut current) => *current = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
        Ok(source)
    }

    fn get(&self) -> Arc<CertifiedKey> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// The TLS side of the HTTPS listener: HTTP/1.1 only (as the HTTP listener), TLS 1.2 and
/// 1.3 (the Perl agents' OpenSSL may predate 1.3), the certificate taken from `certs` at
/// each handshake.
pub fn acceptor(certs: Arc<CertStore>) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(certs);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// The HTTPS listener, ready to serve.
pub struct HttpsListener {
    /// Bound to `tls_listen`.
    pub listener: tokio::net::TcpListener,
    /// Handshakes with the current certificate.
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Where the certificate comes from (for the start-up log).
    pub source: Source,
    /// Reloads the certificate on SIGHUP; abort it when the server stops.
    pub reloader: Option<tokio::task::JoinHandle<()>>,
}

/// Loads (or generates) the certificate and binds `tls_listen`; `None` when HTTPS is off.
pub async fn bind(config: Arc<Config>) -> Result<Option<HttpsListener>, TlsError> {
    let Some(addr) = config.tls_listen else {
        return Ok(None);
    };
    let loading = Arc::clone(&config);
    let (key, source) = tokio::task::spawn_blocking(move || load(&loading))
        .await
        .map_err(|e| TlsError::Config(format!("certificate loading stopped: {e}")))??;
    let certs = Arc::new(CertStore::new(key));
    let acceptor = acceptor(Arc::clone(&certs))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| TlsError::Bind { addr, source })?;
    Ok(Some(HttpsListener {
        listener,
        acceptor,
        source,
        reloader: reload_on_sighup(config, certs),
    }))
}

/// Reads the certificate again at each SIGHUP, so a renewed certificate is used without a
/// restart.
#[cfg(unix)]
fn reload_on_sighup(
    config: Arc<Config>,
    certs: Arc<CertStore>,
) -> Option<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGHUP; the HTTPS certificate is read at start only");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let (config, certs) = (Arc::clone(&config), Arc::clone(&certs));
            match tokio::task::spawn_blocking(move || certs.reload(&config)).await {
                Ok(Ok(source)) => {
                    tracing::info!("SIGHUP: reloaded the HTTPS certificate ({source})")
                }
                Ok(Err(e)) => tracing::error!(
                    error = %e,
                    "SIGHUP: cannot reload the HTTPS certificate; keeping the one in use"
                ),
                Err(e) => tracing::error!(error = %e, "SIGHUP: certificate reload stopped"),
            }
        }
    }))
}

#[cfg(not(unix))]
fn reload_on_sighup(
    _config: Arc<Config>,
    _certs: Arc<CertStore>,
) -> Option<tokio::task::JoinHandle<()>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_in(dir: &Path) -> Config {
        Config {
            data_dir: dir.to_owned(),
            ..Config::default()
        }
    }

    #[test]
    fn generated_certificate_loads_and_is_kept_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(dir.path());
        let (first, source) = load(&config).unwrap();
        assert_eq!(
            source,
            Source::Generated {
                ca: dir.path().join("tls/cacert.pem")
            }
        );
        assert_eq!(first.cert.len(), 2, "server certificate, then the CA");
        let (second, _) = load(&config).unwrap();
        assert_eq!(first.cert, second.cert, "a second start reuses the files");
        assert!(ca_certificate_pem(&config)
            .unwrap()
            .unwrap()
            .starts_with(b"-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn only_one_of_cert_and_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config_in(dir.path());
        config.tls.cert_file = Some(dir.path().join("c.pem"));
        let err = load(&config).unwrap_err().to_string();
        assert!(err.contains("go together"), "{err}");
    }

    #[test]
    fn provided_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let generated = config_in(&dir.path().join("a"));
        load(&generated).unwrap();
        let other = config_in(&dir.path().join("b"));
        load(&other).unwrap();
        let tls_a = generated.tls_dir();
        let tls_b = other.tls_dir();
        // A key from another pair.
        let err = certified_key(&tls_a.join("server.pem"), &tls_b.join("server.key"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not match"), "{err}");
        // Not PEM at all.
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "hello").unwrap();
        let err = certified_key(&junk, &tls_a.join("server.key"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no CERTIFICATE"), "{err}");
        let err = certified_key(&tls_a.join("server.pem"), &junk)
            .unwrap_err()
            .to_string();
        assert!(err.contains("private key"), "{err}");
        // Missing.
        let err = certified_key(&dir.path().join("none.pem"), &junk)
            .unwrap_err()
            .to_string();
        assert!(err.contains("none.pem"), "{err}");
    }

    #[test]
    fn oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'A'; 2 * 1024 * 1024]).unwrap();
        let err = read_limited(&big).unwrap_err().to_string();
        assert!(err.contains("at most"), "{err}");
    }

    #[test]
    fn reload_swaps_the_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(dir.path());
        let (first, _) = load(&config).unwrap();
        let store = CertStore::new(Arc::clone(&first));
        std::fs::remove_file(config.tls_dir().join("server.pem")).unwrap();
        store.reload(&config).unwrap();
        assert_ne!(store.get().cert[0], first.cert[0]);
        assert_eq!(store.get().cert[1], first.cert[1], "same CA");
        // A broken file keeps the certificate in use.
        std::fs::write(config.tls_dir().join("server.pem"), "broken").unwrap();
        let before = store.get();
        assert!(store.reload(&config).is_err());
        assert_eq!(store.get().cert, before.cert);
    }
}
