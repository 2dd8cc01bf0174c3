//! Package info files: parsing never panics, and any file that parses is written back by
//! `to_xml` into a document that parses to the same value (when it still fits the size limit:
//! escaping can make a near-limit file longer).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocs_proto::info::MAX_INFO_BYTES;
use ocs_proto::InfoFile;

fuzz_target!(|data: &[u8]| {
    let Ok(info) = InfoFile::parse(data) else {
        return;
    };
    let xml = info.to_xml();
    if xml.len() <= MAX_INFO_BYTES {
        assert_eq!(
            InfoFile::parse(xml.as_bytes()),
            Ok(info),
            "rewritten as {xml:?}"
        );
    }
});
