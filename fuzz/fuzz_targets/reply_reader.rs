//! The agent's reading of server replies. Whatever parses as a reply, written again by the
//! server's writer, reads back the same, up to what the written form cannot carry: an
//! ACCOUNTINFO value of only whitespace is written as an element, which reads as empty, an entry
//! whose name is empty is then dropped, and so is an OPTION with neither NAME nor PARAM
//! (XML::Simple's SuppressEmpty, on both sides).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocs_proto::reply::InventoryReply;
use ocs_proto::reply_reader::{parse_inventory_reply, parse_prolog_reply};

fuzz_target!(|data: &[u8]| {
    if let Ok(reply) = parse_prolog_reply(data) {
        let plain = reply.options.iter().all(|o| {
            o.params.iter().all(|p| {
                let mut names: Vec<&str> = p.attributes.iter().map(|(k, _)| k.as_str()).collect();
                let count = names.len();
                names.sort_unstable();
                names.dedup();
                // Attribute names written as they are, each once (XML forbids repeats).
                names.len() == count && names.iter().all(|n| plain_name(n))
            })
        });
        if plain {
            // An OPTION with neither NAME nor PARAM is written empty, so it is absent.
            let mut expected = reply.clone();
            expected
                .options
                .retain(|o| !o.name.is_empty() || !o.params.is_empty());
            let again = parse_prolog_reply(reply.to_xml().as_bytes());
            assert_eq!(again, Ok(expected), "rewritten as {:?}", reply.to_xml());
        }
        for name in ["DOWNLOAD", "REGISTRY", "IPDISCOVER", "SNMP"] {
            let _ = reply.option(name);
        }
    }
    if let Ok(reply) = parse_inventory_reply(data) {
        let expected = match &reply {
            InventoryReply::NoAccountUpdate => InventoryReply::NoAccountUpdate,
            InventoryReply::AccountUpdate(entries) => InventoryReply::AccountUpdate(
                entries
                    .iter()
                    .filter(|(key, _)| !key.is_empty())
                    .map(|(key, value)| {
                        let value = if value.trim().is_empty() { "" } else { value };
                        (key.clone(), value.to_owned())
                    })
                    .collect(),
            ),
        };
        let again = parse_inventory_reply(reply.to_xml().as_bytes());
        assert_eq!(again, Ok(expected), "rewritten as {:?}", reply.to_xml());
    }
});

fn plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}
