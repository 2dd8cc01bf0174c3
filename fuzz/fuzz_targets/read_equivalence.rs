//! The streaming request reader against the element tree: on any document, and under tight
//! limits as well as the defaults, `read_document` gives exactly what `parse_request_with` then
//! `Request::from_tree` give, the same value or the same error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocs_proto::read::read_document;
use ocs_proto::request::parse_request_with;
use ocs_proto::xml::XmlLimits;
use ocs_proto::Request;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the limits, so that every limit error is reached on small inputs.
    let Some((&pick, doc)) = data.split_first() else {
        return;
    };
    let (limits, rows) = if pick & 1 == 0 {
        (XmlLimits::default(), 20_000)
    } else {
        let limits = XmlLimits {
            max_attributes: usize::from(pick >> 5) + 1,
            max_elements: usize::from(pick >> 1 & 0x0f) * 16 + 8,
            max_text_bytes: usize::from(pick >> 3 & 0x07) * 8 + 4,
        };
        (limits, usize::from(pick >> 6))
    };
    let tree = parse_request_with(doc, &limits).and_then(|r| Request::from_tree(&r, rows));
    let streamed = read_document(doc, &limits, rows);
    assert_eq!(streamed, tree);
});
