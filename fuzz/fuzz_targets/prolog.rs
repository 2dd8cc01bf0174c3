//! The request envelope as a PROLOG (and every other query) is read: DEVICEID and QUERY. An
//! accepted DEVICEID has the required shape, only UPDATE goes without one, the QUERY is the one
//! written, and a PROLOG written by our agent for that DEVICEID reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocs_proto::codec::decode_body;
use ocs_proto::request::{parse_request, Query, RequestError};
use ocs_proto::{deviceid, writer, DecodeLimits};

const LIMITS: DecodeLimits = DecodeLimits {
    max_inflated_bytes: 1 << 20,
    try_others: true,
};

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode_body(data, LIMITS) else {
        return;
    };
    let request = match parse_request(&decoded.xml) {
        Ok(request) => request,
        Err(RequestError::InvalidDeviceId(id) | RequestError::UnknownQuery(id)) => {
            return assert!(id.chars().count() <= 64)
        }
        Err(_) => return,
    };
    assert_eq!(
        request.root.value("QUERY").map(str::trim),
        Some(request.query.as_str())
    );
    match &request.deviceid {
        Some(id) => {
            assert!(deviceid::is_valid(id));
            let prolog = parse_request(writer::prolog_request(id).as_bytes());
            let prolog = prolog.map(|r| (r.query, r.deviceid));
            assert_eq!(prolog, Ok((Query::Prolog, Some(id.clone()))));
        }
        None => assert_eq!(request.query, Query::Update),
    }
});
