//! The readers of the small status queries, DOWNLOAD reports, NOTIFY and SNMP results, on any
//! request envelope that parses: a report's package ID is trimmed and its status is never
//! empty nor longer than the quoting limit; NOTIFY and SNMP keep what was sent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocs_proto::codec::decode_body;
use ocs_proto::request::parse_request;
use ocs_proto::DecodeLimits;

const LIMITS: DecodeLimits = DecodeLimits {
    max_inflated_bytes: 1 << 20,
    try_others: true,
};

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode_body(data, LIMITS) else {
        return;
    };
    let Ok(request) = parse_request(&decoded.xml) else {
        return;
    };
    match request.download_report() {
        Some(report) => {
            assert_eq!(report.package_id.trim(), report.package_id);
            assert!(!report.status.is_empty() && report.status.chars().count() <= 64);
            assert_eq!(report.status.trim(), report.status);
        }
        None => assert!(request.root.child("ID").is_none()),
    }
    let notify = request.notify();
    assert_eq!(
        notify.ifaces.len(),
        request.root.children_named("IFACE").count()
    );
    let results = request.snmp_results();
    let tables = request
        .root
        .child("CONTENT")
        .map_or(0, |c| c.children.len());
    assert_eq!(results.len(), tables);
});
