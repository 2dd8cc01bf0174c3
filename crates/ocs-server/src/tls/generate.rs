//! The private CA and server certificate made when no certificate is configured, in the TLS
//! directory: `cacert.pem` (what agents trust), `cakey.pem`, `server.pem` (the server
//! certificate then the CA), `server.key`, and `server.names` (the names it covers). The CA
//! is made once; the server certificate is made again, by the same CA, when it is missing
//! or when the host gained a name or address it does not cover, so agents that trust
//! `cacert.pem` go on trusting the server.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::{TlsError, CA_FILE};

const CA_KEY_FILE: &str = "cakey.pem";
const CERT_FILE: &str = "server.pem";
const KEY_FILE: &str = "server.key";
const NAMES_FILE: &str = "server.names";
/// The CA outlives any agent installation.
const CA_DAYS: i64 = 20 * 365;
/// Long, because nobody renews a generated certificate by hand; it is remade when names
/// change.
const SERVER_DAYS: i64 = 10 * 365;

/// The files the TLS listener reads.
#[derive(Debug, Clone)]
pub struct ServerFiles {
    /// `server.pem`: the server certificate, then the CA certificate.
    pub cert: PathBuf,
    /// `server.key`.
    pub key: PathBuf,
}

/// Makes sure `dir` holds a CA and a server certificate covering `names`, creating what is
/// missing.
pub fn ensure(dir: &Path, names: &[String]) -> Result<ServerFiles, TlsError> {
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let files = ServerFiles {
        cert: dir.join(CERT_FILE),
        key: dir.join(KEY_FILE),
    };
    let covered = covered_names(&dir.join(NAMES_FILE));
    let missing: Vec<&String> = names.iter().filter(|n| !covered.contains(*n)).collect();
    if files.cert.exists() && files.key.exists() && missing.is_empty() {
        return Ok(files);
    }
    let ca_key = ca_key(dir)?;
    let issuer = Issuer::new(ca_params(&ca_key), &ca_key);
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(names.to_vec())?;
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        names
            .iter()
            .find(|n| n.as_str() != "localhost" && n.parse::<std::net::IpAddr>().is_err())
            .map_or("localhost", String::as_str),
    );
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(serial());
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(SERVER_DAYS);
    let cert = params.signed_by(&key, &issuer)?;
    let ca_pem = std::fs::read_to_string(dir.join(CA_FILE)).map_err(|source| TlsError::Io {
        path: dir.join(CA_FILE),
        source,
    })?;
    write_file(&files.key, key.serialize_pem().as_bytes(), true)?;
    write_file(
        &files.cert,
        format!("{}{}", cert.pem(), ca_pem).as_bytes(),
        false,
    )?;
    write_file(&dir.join(NAMES_FILE), names_text(names).as_bytes(), false)?;
    tracing::info!(
        names = %names.join(" "),
        file = %files.cert.display(),
        "created the server certificate"
    );
    Ok(files)
}

fn names_text(names: &[String]) -> String {
    names.iter().map(|n| format!("{n}\n")).collect()
}

fn covered_names(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The CA's key, made (with `cacert.pem`) on first use.
fn ca_key(dir: &Path) -> Result<KeyPair, TlsError> {
    let key_path = dir.join(CA_KEY_FILE);
    let cert_path = dir.join(CA_FILE);
    if key_path.exists() {
        let pem = std::fs::read_to_string(&key_path).map_err(|source| TlsError::Io {
            path: key_path.clone(),
            source,
        })?;
        return KeyPair::from_pem(&pem).map_err(|e| TlsError::Invalid {
            path: key_path,
            why: format!("not a usable CA key: {e}"),
        });
    }
    if cert_path.exists() {
        return Err(TlsError::Invalid {
            path: cert_path,
            why: format!("its key {CA_KEY_FILE} is gone, so no new server certificate can be signed; remove the TLS directory's files to start a new CA (agents then need the new cacert.pem)"),
        });
    }
    let key = KeyPair::generate()?;
    let mut params = ca_params(&key);
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(CA_DAYS);
    params.serial_number = Some(serial());
    let cert = params.self_signed(&key)?;
    write_file(&key_path, key.serialize_pem().as_bytes(), true)?;
    write_file(&cert_path, cert.pem().as_bytes(), false)?;
    tracing::info!(file = %cert_path.display(), "created a private certificate authority");
    Ok(key)
}

/// The CA's subject and usages. The subject is derived from the CA's public key, so the
/// issuer of certificates signed later (from the key alone, with no certificate parser)
/// matches `cacert.pem` exactly, and two servers' CAs never share a name.
fn ca_params(key: &KeyPair) -> CertificateParams {
    let mut params = CertificateParams::default();
    let digest = Sha256::digest(key.public_key_raw());
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "OCS Inventory NG");
    dn.push(
        DnType::CommonName,
        format!("OCS Inventory NG private CA {}", hex::encode(&digest[..8])),
    );
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    // Positive, as DER integers for serials must be.
    bytes[0] &= 0x7f;
    SerialNumber::from_slice(&bytes)
}

/// Writes through a temporary file and a rename, so a crash never leaves half a key; keys
/// are readable by the owner only.
fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<(), TlsError> {
    let io = |source| TlsError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension("tmp");
    // A leftover from a crash would keep its own permissions.
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_new_name_remakes_the_server_certificate_with_the_same_ca() {
        let dir = tempfile::tempdir().unwrap();
        ensure(dir.path(), &names(&["localhost", "127.0.0.1"])).unwrap();
        let ca = std::fs::read(dir.path().join(CA_FILE)).unwrap();
        let cert = std::fs::read(dir.path().join(CERT_FILE)).unwrap();
        // Fewer names: nothing changes.
        ensure(dir.path(), &names(&["localhost"])).unwrap();
        assert_eq!(std::fs::read(dir.path().join(CERT_FILE)).unwrap(), cert);
        ensure(dir.path(), &names(&["localhost", "127.0.0.1", "ocs.lan"])).unwrap();
        assert_ne!(std::fs::read(dir.path().join(CERT_FILE)).unwrap(), cert);
        assert_eq!(std::fs::read(dir.path().join(CA_FILE)).unwrap(), ca);
        let covered = std::fs::read_to_string(dir.path().join(NAMES_FILE)).unwrap();
        assert_eq!(covered, "localhost\n127.0.0.1\nocs.lan\n");
    }

    #[cfg(unix)]
    #[test]
    fn keys_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        ensure(dir.path(), &names(&["localhost"])).unwrap();
        for file in [CA_KEY_FILE, KEY_FILE] {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{file}");
        }
    }

    #[test]
    fn a_ca_without_its_key_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        ensure(dir.path(), &names(&["localhost"])).unwrap();
        std::fs::remove_file(dir.path().join(CA_KEY_FILE)).unwrap();
        std::fs::remove_file(dir.path().join(CERT_FILE)).unwrap();
        let err = ensure(dir.path(), &names(&["localhost"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cakey.pem"), "{err}");
    }
}
