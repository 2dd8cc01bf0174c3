//! Body decoding (zlib, gzip, plain) under a limit: never more than the limit comes out, a body
//! that decodes exactly at its size decodes and one byte less is "too large", and what the
//! server would answer in the same encoding decodes back to the same XML.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocs_proto::codec::{decode_body, encode_body, looks_like_xml, BodyEncoding, CodecError};
use ocs_proto::DecodeLimits;

/// Small limits make the bomb path reachable with small inputs.
const LIMITS: [usize; 6] = [0, 1, 64, 1000, 4096, 1 << 20];

fuzz_target!(|data: &[u8]| {
    let Some((&knob, raw)) = data.split_first() else {
        return;
    };
    let limits = DecodeLimits {
        max_inflated_bytes: LIMITS[usize::from(knob & 0x7f) % LIMITS.len()],
        try_others: knob & 0x80 != 0,
    };
    match decode_body(raw, limits) {
        Ok(decoded) => {
            let xml = &decoded.xml;
            assert!(xml.len() <= limits.max_inflated_bytes);
            match decoded.encoding {
                BodyEncoding::Plain => {
                    assert!(limits.try_others && looks_like_xml(raw));
                    assert_eq!(xml.as_slice(), raw);
                }
                BodyEncoding::Gzip => assert!(limits.try_others && raw.starts_with(&[0x1f, 0x8b])),
                BodyEncoding::Zlib => {}
            }
            // Exactly at the limit is accepted, one byte under it is a bomb.
            let exact = DecodeLimits {
                max_inflated_bytes: xml.len(),
                ..limits
            };
            assert_eq!(decode_body(raw, exact).map(|d| d.xml).as_ref(), Ok(xml));
            if let Some(under) = xml.len().checked_sub(1) {
                let under = DecodeLimits {
                    max_inflated_bytes: under,
                    ..limits
                };
                assert_eq!(
                    decode_body(raw, under).map(|d| d.xml),
                    Err(CodecError::TooLarge {
                        limit: under.max_inflated_bytes
                    })
                );
            }
            // The reply goes back in the request's encoding and must read back.
            let reply = encode_body(xml, decoded.encoding);
            let again = decode_body(&reply, limits).map(|d| (d.xml, d.encoding));
            assert_eq!(again, Ok((xml.clone(), decoded.encoding)));
        }
        Err(CodecError::Empty) => assert!(raw.is_empty()),
        Err(CodecError::TooLarge { limit }) => assert_eq!(limit, limits.max_inflated_bytes),
        Err(CodecError::Unrecognised { try_others }) => assert_eq!(try_others, limits.try_others),
        Err(CodecError::Corrupt { .. }) => {}
    }
});
