//! An agent body through the whole INVENTORY reading path, as the server reads it
//! (`read_request`: decode, envelope, inventory mapping while streaming).
//! Every row has one value per catalogue field, of the field's kind; single-row sections keep
//! one row; the capacity parts are trimmed, sorted and deduplicated as documented.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocs_proto::catalogue::{self, FieldKind, Section, Storage};
use ocs_proto::inventory::{Row, DEFAULT_MAX_ROWS_PER_SECTION};
use ocs_proto::{read_request, DecodeLimits, InventoryError, ReadLimits, Request, Value};

const LIMITS: DecodeLimits = DecodeLimits {
    max_inflated_bytes: 1 << 20,
    try_others: true,
};

fuzz_target!(|data: &[u8]| {
    let Ok(read) = read_request(data, &ReadLimits::new(LIMITS)) else {
        return;
    };
    let Request::Inventory {
        deviceid,
        inventory,
    } = read.request
    else {
        return;
    };
    let inv = match inventory {
        Ok(inv) => inv,
        Err(InventoryError::MissingDeviceId) => panic!("the envelope requires a DEVICEID"),
        Err(InventoryError::MissingContent) => return,
        Err(InventoryError::TooManyRows { limit, .. }) => {
            return assert_eq!(limit, DEFAULT_MAX_ROWS_PER_SECTION)
        }
    };
    assert_eq!(inv.deviceid, deviceid);
    if let Some(hardware) = &inv.hardware {
        check_row(&catalogue::HARDWARE, hardware);
    }
    let mut last = None;
    for s in &inv.sections {
        let position = catalogue::SECTIONS
            .iter()
            .position(|c| std::ptr::eq(c, s.section));
        assert!(position.is_some() && position > last, "catalogue order");
        last = position;
        assert!(!s.rows.is_empty());
        if s.section.storage == Storage::Single {
            assert_eq!(s.rows.len(), 1);
        }
        for row in &s.rows {
            check_row(s.section, row);
        }
    }
    if let Some(softwares) = &inv.softwares {
        assert!(!softwares.is_empty());
        for row in softwares {
            check_row(&catalogue::SOFTWARES, row);
        }
    }
    for (key, _) in inv.accountinfo.iter().flatten() {
        assert_eq!(key.trim(), key);
    }
    if let Some(ids) = &inv.download_history {
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
        assert!(ids.iter().all(|id| !id.is_empty() && id.trim() == id));
    }
    for host in inv.ipdiscover.iter().flatten() {
        for v in [&host.ip, &host.mac, &host.name] {
            assert_eq!(v.trim(), v);
        }
    }
    if let Some(old) = &inv.old_deviceid {
        assert!(!old.is_empty() && *old != inv.deviceid && old.trim() == old);
    }
    // The lookups the ingestion and duplicate detection use.
    let _ = inv.hardware_text("NAME");
    let _ = inv.single_text("BIOS", "SSN");
    let _ = inv.column_texts("NETWORKS", "MACADDR");
});

fn check_row(section: &Section, row: &Row) {
    assert_eq!(row.len(), section.fields.len(), "{}", section.element);
    for (field, value) in section.fields.iter().zip(row) {
        match (field.kind, value) {
            (_, Value::Null) => assert!(field.fallback.is_none()),
            (FieldKind::Int, Value::Int(_)) | (FieldKind::Text, Value::Text(_)) => {}
            _ => panic!("{}/{}: {value:?}", section.element, field.name),
        }
    }
}
