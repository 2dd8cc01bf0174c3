//! Request and reply body encodings: zlib (what every agent sends), gzip and plain XML (what
//! the original accepts when `COMPRESS_TRY_OTHERS` is on). Replies go back in the encoding the
//! request came in, because that is what the original does and what old agents expect.

use std::io::{Read, Write};

use flate2::read::{GzDecoder, ZlibDecoder};
use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;

/// How an agent body was (or a reply must be) encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// RFC 1950 zlib stream; replies start with `78 9C`.
    Zlib,
    /// RFC 1952 gzip stream.
    Gzip,
    /// Uncompressed XML.
    Plain,
}

impl BodyEncoding {
    /// Lower-case name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyEncoding::Zlib => "zlib",
            BodyEncoding::Gzip => "gzip",
            BodyEncoding::Plain => "plain",
        }
    }
}

/// Limits applied while decoding an untrusted body.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// The largest decompressed body accepted; larger means a decompression bomb.
    pub max_inflated_bytes: usize,
    /// Accept gzip and plain XML besides zlib (`COMPRESS_TRY_OTHERS`).
    pub try_others: bool,
}

/// Why a body could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    /// Nothing to decode.
    #[error("empty request body")]
    Empty,
    /// The body inflates past the configured limit.
    #[error("body inflates to more than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A zlib or gzip stream that ends early or is corrupt.
    #[error("corrupt or truncated {encoding} stream: {reason}")]
    Corrupt {
        /// Which decoder failed.
        encoding: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// Neither zlib, gzip nor XML (or only zlib is allowed and this is not zlib).
    #[error("body is not zlib{}", if *.try_others { ", gzip or XML" } else { " (COMPRESS_TRY_OTHERS is off)" })]
    Unrecognised {
        /// Whether gzip and plain XML were tried too.
        try_others: bool,
    },
}

/// A decoded body and the encoding it arrived in.
#[derive(Debug)]
pub struct Decoded {
    /// The XML document bytes.
    pub xml: Vec<u8>,
    /// The encoding to answer in.
    pub encoding: BodyEncoding,
}

/// Decodes an agent body. The encoding is recognised from the bytes, never from
/// `Content-Type`, which the original ignores too.
pub fn decode_body(raw: &[u8], limits: DecodeLimits) -> Result<Decoded, CodecError> {
    if raw.is_empty() {
        return Err(CodecError::Empty);
    }
    if looks_like_zlib(raw) {
        let xml = inflate(ZlibDecoder::new(raw), "zlib", limits.max_inflated_bytes)?;
        return Ok(Decoded {
            xml,
            encoding: BodyEncoding::Zlib,
        });
    }
    if limits.try_others {
        if raw.starts_with(&[0x1f, 0x8b]) {
            let xml = inflate(GzDecoder::new(raw), "gzip", limits.max_inflated_bytes)?;
            return Ok(Decoded {
                xml,
                encoding: BodyEncoding::Gzip,
            });
        }
        if looks_like_xml(raw) {
            if raw.len() > limits.max_inflated_bytes {
                return Err(CodecError::TooLarge {
                    limit: limits.max_inflated_bytes,
                });
            }
            return Ok(Decoded {
                xml: raw.to_vec(),
                encoding: BodyEncoding::Plain,
            });
        }
    }
    Err(CodecError::Unrecognised {
        try_others: limits.try_others,
    })
}

/// A zlib header: compression method 8, a window size zlib allows, and a valid check value.
fn looks_like_zlib(raw: &[u8]) -> bool {
    match raw {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Plain XML as the `.ocs` files and uncompressed agents send it: optional UTF-8 BOM and
/// whitespace, then `<`.
pub fn looks_like_xml(raw: &[u8]) -> bool {
    let raw = raw.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(raw);
    raw.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

fn inflate(
    decoder: impl Read,
    encoding: &'static str,
    limit: usize,
) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    // Reading one byte past the limit tells "exactly at the limit" from "over it" without
    // ever holding more than limit + 1 bytes of a bomb in memory.
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| CodecError::Corrupt {
            encoding,
            reason: e.to_string(),
        })?;
    if out.len() > limit {
        return Err(CodecError::TooLarge { limit });
    }
    Ok(out)
}

/// Encodes a reply body. zlib uses the default level so the stream starts `78 9C`, the only
/// zlib header FusionInventory recognises.
pub fn encode_body(xml: &[u8], encoding: BodyEncoding) -> Vec<u8> {
    match encoding {
        BodyEncoding::Plain => xml.to_vec(),
        BodyEncoding::Zlib => {
            let mut enc = ZlibEncoder::new(
                Vec::with_capacity(xml.len() / 4 + 16),
                Compression::default(),
            );
            // Writing into a Vec cannot fail.
            let _ = enc.write_all(xml);
            enc.finish().unwrap_or_default()
        }
        BodyEncoding::Gzip => {
            let mut enc = GzEncoder::new(
                Vec::with_capacity(xml.len() / 4 + 32),
                Compression::default(),
            );
            let _ = enc.write_all(xml);
            enc.finish().unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DecodeLimits = DecodeLimits {
        max_inflated_bytes: 1 << 20,
        try_others: true,
    };
    const PROLOG: &[u8] = b"<?xml version=\"1.0\"?><REQUEST><QUERY>PROLOG</QUERY></REQUEST>";

    #[test]
    fn zlib_round_trip_starts_78_9c() {
        let body = encode_body(PROLOG, BodyEncoding::Zlib);
        assert_eq!(&body[..2], &[0x78, 0x9c]);
        let d = decode_body(&body, LIMITS).unwrap();
        assert_eq!(d.encoding, BodyEncoding::Zlib);
        assert_eq!(d.xml, PROLOG);
    }

    #[test]
    fn gzip_and_plain_only_with_try_others() {
        let gz = encode_body(PROLOG, BodyEncoding::Gzip);
        assert_eq!(
            decode_body(&gz, LIMITS).unwrap().encoding,
            BodyEncoding::Gzip
        );
        assert_eq!(
            decode_body(PROLOG, LIMITS).unwrap().encoding,
            BodyEncoding::Plain
        );
        let strict = DecodeLimits {
            try_others: false,
            ..LIMITS
        };
        assert_eq!(
            decode_body(PROLOG, strict).unwrap_err(),
            CodecError::Unrecognised { try_others: false }
        );
        assert!(decode_body(&gz, strict).is_err());
    }

    #[test]
    fn raw_deflate_and_garbage_are_refused() {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
        enc.write_all(PROLOG).unwrap();
        let raw = enc.finish().unwrap();
        assert!(matches!(
            decode_body(&raw, LIMITS),
            Err(CodecError::Unrecognised { .. })
        ));
        assert_eq!(decode_body(b"", LIMITS).unwrap_err(), CodecError::Empty);
    }

    #[test]
    fn truncated_zlib_is_corrupt() {
        let body = encode_body(&PROLOG.repeat(50), BodyEncoding::Zlib);
        let cut = &body[..body.len() / 2];
        assert!(matches!(
            decode_body(cut, LIMITS),
            Err(CodecError::Corrupt { .. })
        ));
    }

    #[test]
    fn bomb_stops_at_the_limit() {
        let zeros = vec![0u8; 4 << 20];
        let body = encode_body(&zeros, BodyEncoding::Zlib);
        assert_eq!(
            decode_body(&body, LIMITS).unwrap_err(),
            CodecError::TooLarge { limit: 1 << 20 }
        );
    }
}
