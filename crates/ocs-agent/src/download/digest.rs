//! The check of a whole assembled archive against the info file's `DIGEST`: MD5 or SHA1,
//! written in hexadecimal or base64. Hexadecimal is compared case-insensitively; base64
//! with or without its trailing `=` padding (Perl's `b64digest`, which the original tools
//! use, leaves it out).

use std::io::Read;
use std::path::Path;

use md5::Md5;
use ocs_proto::info::{DigestAlgorithm, DigestEncoding};
use sha1::{Digest, Sha1};

use crate::error::Error;

/// The digest of a file, encoded as the info file encodes it (hex lower-case, base64
/// without padding).
pub fn file_digest(
    path: &Path,
    algorithm: DigestAlgorithm,
    encoding: DigestEncoding,
) -> Result<String, Error> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    let raw = match algorithm {
        DigestAlgorithm::Md5 => hash::<Md5>(&mut file),
        DigestAlgorithm::Sha1 => hash::<Sha1>(&mut file),
    }
    .map_err(|e| Error::read(path, e))?;
    Ok(match encoding {
        DigestEncoding::Hexa => hex::encode(raw),
        DigestEncoding::Base64 => crate::base64::encode(&raw).trim_end_matches('=').to_owned(),
    })
}

fn hash<D: Digest>(reader: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut hasher = D::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_vec())
}

/// Whether a computed digest (as [`file_digest`] writes it) matches the expected one.
pub fn matches(computed: &str, expected: &str, encoding: DigestEncoding) -> bool {
    let expected = expected.trim();
    match encoding {
        DigestEncoding::Hexa => computed.eq_ignore_ascii_case(expected),
        DigestEncoding::Base64 => computed == expected.trim_end_matches('='),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_and_sha1_in_hex_and_base64() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"The quick brown fox jumps over the lazy dog").unwrap();
        let md5_hex = file_digest(&path, DigestAlgorithm::Md5, DigestEncoding::Hexa).unwrap();
        assert_eq!(md5_hex, "9e107d9d372bb6826bd81d3542a419d6");
        assert!(matches(
            &md5_hex,
            "9E107D9D372BB6826BD81D3542A419D6",
            DigestEncoding::Hexa
        ));
        let md5_b64 = file_digest(&path, DigestAlgorithm::Md5, DigestEncoding::Base64).unwrap();
        assert_eq!(md5_b64, "nhB9nTcrtoJr2B01QqQZ1g");
        assert!(matches(
            &md5_b64,
            "nhB9nTcrtoJr2B01QqQZ1g==",
            DigestEncoding::Base64
        ));
        let sha_hex = file_digest(&path, DigestAlgorithm::Sha1, DigestEncoding::Hexa).unwrap();
        assert_eq!(sha_hex, "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
        let sha_b64 = file_digest(&path, DigestAlgorithm::Sha1, DigestEncoding::Base64).unwrap();
        assert!(matches(
            &sha_b64,
            "L9ThxnotKPzthJ7hu3bnORuT6xI=",
            DigestEncoding::Base64
        ));
        assert!(!matches(
            &md5_hex,
            "0e107d9d372bb6826bd81d3542a419d6",
            DigestEncoding::Hexa
        ));
        assert!(!matches(&md5_hex, "", DigestEncoding::Hexa));
    }
}
