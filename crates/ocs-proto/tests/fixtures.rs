//! Every real agent capture in `../shared/fixtures/real-agent` decodes and parses, and the
//! inventories hold what the captures are known to hold.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::PathBuf;

use ocs_proto::codec::{decode_body, DecodeLimits};
use ocs_proto::request::{parse_request, Query};
use ocs_proto::Inventory;

fn fixtures() -> PathBuf {
    std::env::var_os("OCS_FIXTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/real-agent")
        })
}

const LIMITS: DecodeLimits = DecodeLimits {
    max_inflated_bytes: 64 << 20,
    try_others: true,
};

fn read(rel: &str) -> Vec<u8> {
    let path = fixtures().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_captured_agent_request_parses() {
    let mut checked = 0;
    for dir in [
        "ocs-agent",
        "ocs-agent-second-run",
        "fusioninventory-agent",
        "fusioninventory-agent-rejected",
    ] {
        for entry in std::fs::read_dir(fixtures().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with("-request.bin") {
                continue;
            }
            let body = std::fs::read(&path).unwrap();
            let decoded = decode_body(&body, LIMITS).unwrap();
            let xml_twin =
                std::fs::read(path.with_file_name(name.replace(".bin", ".xml"))).unwrap();
            assert_eq!(decoded.xml, xml_twin, "{name}");
            let request = parse_request(&decoded.xml).unwrap();
            if request.query == Query::Inventory {
                Inventory::from_request(&request).unwrap();
            }
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} captures found");
}

#[test]
fn ocs_agent_inventory_content() {
    let request = parse_request(&read("ocs-agent/02-INVENTORY-request.xml")).unwrap();
    let inv = Inventory::from_request(&request).unwrap();
    assert_eq!(inv.deviceid, "vm-2026-11-21-12-46-33");
    assert_eq!(inv.checksum, Some(1_572_863));
    assert_eq!(inv.hardware_text("NAME"), Some("vm"));
    assert_eq!(inv.softwares.as_ref().unwrap().len(), 894);
    let count = |s: &str| inv.section(s).map_or(0, |r| r.rows.len());
    assert_eq!(count("CPUS"), 1);
    assert_eq!(count("DRIVES"), 1);
    assert_eq!(count("CONTROLLERS"), 6);
    assert_eq!(count("NETWORKS"), 4);
    assert_eq!(count("STORAGES"), 2);
    assert_eq!(count("REPOSITORY"), 3);
    assert_eq!(count("LOCAL_USERS"), 25);
    assert_eq!(count("LOCAL_GROUPS"), 48);
    // The captured <BIOS> holds only whitespace, so it is absent.
    assert_eq!(count("BIOS"), 0);
    assert!(inv.accountinfo.is_none());
}

#[test]
fn second_run_and_fusioninventory() {
    let second = Inventory::from_request(
        &parse_request(&read("ocs-agent-second-run/02-INVENTORY-request.xml")).unwrap(),
    )
    .unwrap();
    assert_eq!(second.checksum, Some(513));
    let fusion = Inventory::from_request(
        &parse_request(&read("fusioninventory-agent/02-INVENTORY-request.xml")).unwrap(),
    )
    .unwrap();
    assert_eq!(fusion.softwares.as_ref().unwrap().len(), 894);
    assert_eq!(fusion.section("NETWORKS").unwrap().rows.len(), 7);
}

#[test]
fn local_files_are_plain_xml_inventories() {
    for dir in ["ocs-agent-local", "fusioninventory-agent-local"] {
        for entry in std::fs::read_dir(fixtures().join(dir)).unwrap() {
            let body = std::fs::read(entry.unwrap().path()).unwrap();
            let decoded = decode_body(&body, LIMITS).unwrap();
            assert_eq!(decoded.encoding, ocs_proto::BodyEncoding::Plain);
            let request = parse_request(&decoded.xml).unwrap();
            assert_eq!(request.query, Query::Inventory);
            assert_eq!(
                Inventory::from_request(&request)
                    .unwrap()
                    .softwares
                    .unwrap()
                    .len(),
                894
            );
        }
    }
}

/// Every file under the fixtures (requests, responses, local files, edge cases: whatever
/// decodes) reads to the same typed request, or the same error, through the element tree and
/// through the streaming reader.
#[test]
fn tree_and_streaming_readers_agree_on_every_capture() {
    use ocs_proto::read::read_document;
    use ocs_proto::request::parse_request_with;
    use ocs_proto::xml::XmlLimits;
    use ocs_proto::Request;

    fn files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut all = Vec::new();
    files(&fixtures(), &mut all);
    all.sort();
    let (mut compared, mut inventories) = (0, 0);
    for path in &all {
        let body = std::fs::read(path).unwrap();
        let Ok(decoded) = decode_body(&body, LIMITS) else {
            continue;
        };
        // The default limits, and tight ones so that the limit errors are compared too.
        for (limits, rows) in [
            (XmlLimits::default(), 20_000),
            (XmlLimits::default(), 100),
            (
                XmlLimits {
                    max_attributes: 4,
                    max_elements: 5_000,
                    max_text_bytes: 200,
                },
                20_000,
            ),
        ] {
            let tree = parse_request_with(&decoded.xml, &limits)
                .and_then(|r| Request::from_tree(&r, rows));
            let streamed = read_document(&decoded.xml, &limits, rows);
            assert_eq!(streamed, tree, "{}", path.display());
            if let Ok(Request::Inventory {
                inventory: Ok(_), ..
            }) = &streamed
            {
                inventories += 1;
            }
        }
        compared += 1;
    }
    assert!(
        compared >= 30 && inventories >= 6,
        "only {compared} documents, {inventories} inventories"
    );
}
