//! One file as the server wants it: a complete OCS request (a `REQUEST` with a `QUERY`),
//! zlib-compressed. A zlib file is sent exactly as it is; plain XML (the Unix agent's
//! `--local` output, the server's `XML` copies) and gzip are compressed first, so that even
//! an original server without `COMPRESS_TRY_OTHERS` accepts them.

use ocs_proto::codec::{self, BodyEncoding, DecodeLimits};

/// The largest document accepted once inflated (the server's own default limit).
pub const MAX_INFLATED_BYTES: usize = 64 << 20;

/// A document ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The body to POST (zlib).
    pub body: Vec<u8>,
    /// Its QUERY (`INVENTORY` for every file an agent or a server writes).
    pub query: String,
    /// Its DEVICEID, when it has one.
    pub deviceid: Option<String>,
}

/// Checks a file's bytes and prepares the body; the error says why it cannot be sent.
pub fn prepare(raw: &[u8]) -> Result<Document, String> {
    if raw.is_empty() {
        return Err("the file is empty".to_owned());
    }
    let decoded = codec::decode_body(
        raw,
        DecodeLimits {
            max_inflated_bytes: MAX_INFLATED_BYTES,
            try_others: true,
        },
    )
    .map_err(|e| format!("not an OCS document (zlib, gzip or XML): {e}"))?;
    let root = ocs_proto::xml::parse(&decoded.xml).map_err(|e| format!("unreadable XML: {e}"))?;
    if root.name != "REQUEST" {
        return Err(format!(
            "the document is a <{}>, not an OCS <REQUEST>",
            root.name
        ));
    }
    let text = |name: &str| {
        root.child(name)
            .map(|e| e.text.trim().to_owned())
            .filter(|t| !t.is_empty())
    };
    let query = text("QUERY").ok_or("the request has no QUERY")?;
    let body = match decoded.encoding {
        BodyEncoding::Zlib => raw.to_vec(),
        BodyEncoding::Gzip | BodyEncoding::Plain => {
            codec::encode_body(&decoded.xml, BodyEncoding::Zlib)
        }
    };
    Ok(Document {
        body,
        query,
        deviceid: text("DEVICEID"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &[u8] = b"<?xml version=\"1.0\"?><REQUEST><DEVICEID>pc-2024-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY><CONTENT/></REQUEST>";

    #[test]
    fn zlib_is_sent_as_is_and_the_rest_compressed() {
        let zlib = codec::encode_body(XML, BodyEncoding::Zlib);
        let doc = prepare(&zlib).unwrap();
        assert_eq!(doc.body, zlib);
        assert_eq!(doc.query, "INVENTORY");
        assert_eq!(doc.deviceid.as_deref(), Some("pc-2024-01-01-00-00-00"));
        for raw in [XML.to_vec(), codec::encode_body(XML, BodyEncoding::Gzip)] {
            let doc = prepare(&raw).unwrap();
            assert_eq!(doc.body, zlib, "compressed with zlib");
        }
    }

    #[test]
    fn what_is_not_a_request_is_refused_with_the_reason() {
        assert!(prepare(b"").unwrap_err().contains("empty"));
        assert!(prepare(b"\x00\x01binary")
            .unwrap_err()
            .contains("not an OCS document"));
        assert!(prepare(b"<REPLY/>").unwrap_err().contains("<REPLY>"));
        assert!(prepare(b"<REQUEST><DEVICEID>x</DEVICEID></REQUEST>")
            .unwrap_err()
            .contains("no QUERY"));
    }
}
