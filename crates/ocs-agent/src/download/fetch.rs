//! Where package files are fetched from (reference §6.2): the info file always over HTTPS
//! from `https://<INFO_LOC>/<FILEID>/info`, verified against `--ca` like every request the
//! agent makes, and fragments from `<proto>://<PACK_LOC>/<FILEID>/<FILEID>-<n>` with the
//! info file's `PROTO`. The transfer itself (trust, proxy, `.part` then rename, so a
//! half-fetched fragment is fetched again after an interruption) is the transport's.

use std::path::Path;

use ocs_proto::info::{Protocol, MAX_INFO_BYTES};

use crate::error::Error;
use crate::transport::Client;

/// Largest fragment accepted: the server's default limit for a whole package.
pub const MAX_FRAGMENT_BYTES: u64 = 4 << 30;

/// The info file's URL.
pub fn info_url(info_loc: &str, id: &str) -> String {
    format!("https://{info_loc}/{id}/info")
}

/// The name of fragment `n` (1-based).
pub fn fragment_name(id: &str, n: u32) -> String {
    format!("{id}-{n}")
}

/// A fragment's URL.
pub fn fragment_url(protocol: Protocol, pack_loc: &str, id: &str, fragment: &str) -> String {
    let scheme = match protocol {
        Protocol::Http => "http",
        Protocol::Https => "https",
    };
    format!("{scheme}://{pack_loc}/{id}/{fragment}")
}

/// Fetches the info file into `dest`.
pub fn info(client: &Client, info_loc: &str, id: &str, dest: &Path) -> Result<(), Error> {
    client
        .fetch_to_file(&info_url(info_loc, id), dest, MAX_INFO_BYTES as u64)
        .map(|_| ())
}

/// Fetches one fragment into `dest`.
pub fn fragment(client: &Client, url: &str, dest: &Path) -> Result<u64, Error> {
    client.fetch_to_file(url, dest, MAX_FRAGMENT_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            info_url("ocs.example.com/download", "1709631234"),
            "https://ocs.example.com/download/1709631234/info"
        );
        assert_eq!(fragment_name("17", 3), "17-3");
        assert_eq!(
            fragment_url(Protocol::Http, "10.0.0.5/download", "17", "17-3"),
            "http://10.0.0.5/download/17/17-3"
        );
        assert!(fragment_url(Protocol::Https, "h", "1", "1-1").starts_with("https://h/"));
    }
}
