//! The captured exchanges of the real agents, replayed through the running server: replies
//! must be semantically equal to the original server's, and the data must be stored.

use ocs_testkit::{fixture, unzlib, OCS_UA};

use crate::{count, host_id, server, shape, store};

const FUSION_UA: &str = "FusionInventory-Agent_v2.6-3";

#[tokio::test]
async fn ocs_agent_first_and_second_run() {
    let s = server(&[]);
    let token = s.token();

    // Case 1: PROLOG of an unknown device.
    let a = s
        .post(fixture("ocs-agent/01-PROLOG-request.bin"), OCS_UA)
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some("application/x-compressed"));
    assert_eq!(a.header("cache-control"), Some("no-cache"));
    assert_eq!(&a.body[..2], &[0x78, 0x9c]);
    let captured = unzlib(&fixture("ocs-agent/01-PROLOG-response.bin")).unwrap();
    assert_eq!(shape(&a.xml()), shape(&captured));
    let db = store(&s).await;
    assert_eq!(
        db.count_hosts().await.unwrap(),
        0,
        "a PROLOG creates no device"
    );
    crate::eventually("PROLOG sessions", 1, || async {
        db.count_prolog_sessions().await.unwrap()
    })
    .await;

    // Case 5: first INVENTORY.
    let a = s
        .post(fixture("ocs-agent/02-INVENTORY-request.bin"), OCS_UA)
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        shape(&a.xml()),
        shape(&unzlib(&fixture("ocs-agent/02-INVENTORY-response.bin")).unwrap())
    );
    assert_eq!(
        db.count_prolog_sessions().await.unwrap(),
        0,
        "the inventory closes the session"
    );
    let id = host_id(&s, "vm-2026-11-21-12-46-33").await;
    let (status, c) = s.api(&format!("/api/v1/computers/{}", id.0), &token).await;
    assert_eq!(status, 200);
    assert_eq!(c["name"], "vm");
    assert_eq!(c["hardware"]["memory"], 24105);
    assert_eq!(c["hardware"]["osname"], "Debian GNU/Linux 12");
    assert_eq!(c["agent"], OCS_UA);
    assert_eq!(c["ip_source"], "127.0.0.1");
    assert_eq!(c["tag"], "NA");
    assert_eq!(c["checksum"], 1_572_863 | 262_143 | 1);
    for (section, rows) in [
        ("softwares", 894),
        ("cpus", 1),
        ("drives", 1),
        ("controllers", 6),
        ("networks", 4),
        ("storages", 2),
        ("repository", 3),
        ("local_users", 25),
        ("local_groups", 48),
        ("bios", 0),
    ] {
        assert_eq!(count(&c, section), rows, "{section}");
    }
    assert!(
        c["networks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["ipmask"].as_str().unwrap_or_default().contains("ffff:")),
        "the IPv6 address is kept"
    );
    assert!(c["last_inventory"].is_string());

    let ids = |table: &'static str| {
        let db = db.clone();
        async move { db.section_row_ids(id, table).await.unwrap() }
    };
    let before = [
        ids("cpus").await,
        ids("networks").await,
        ids("storages").await,
        ids("controllers").await,
        ids("softwares").await,
    ];
    let drives_before = ids("drives").await;

    // Case 6: second run, CHECKSUM 513, no ACCOUNTINFO sent.
    let a = s
        .post(
            fixture("ocs-agent-second-run/01-PROLOG-request.bin"),
            OCS_UA,
        )
        .await;
    assert_eq!(shape(&a.xml()).scalars["RESPONSE"], "SEND");
    let a = s
        .post(
            fixture("ocs-agent-second-run/02-INVENTORY-request.bin"),
            OCS_UA,
        )
        .await;
    let reply = shape(&a.xml());
    assert_eq!(
        reply,
        shape(&unzlib(&fixture("ocs-agent-second-run/02-INVENTORY-response.bin")).unwrap())
    );
    assert_eq!(reply.accountinfo, [("TAG".to_owned(), "NA".to_owned())]);
    let after = [
        ids("cpus").await,
        ids("networks").await,
        ids("storages").await,
        ids("controllers").await,
        ids("softwares").await,
    ];
    assert_eq!(before, after, "unchanged sections keep their rows");
    assert_ne!(
        drives_before,
        ids("drives").await,
        "DRIVES (bit 512) is rewritten"
    );
    let (_, c) = s.api(&format!("/api/v1/computers/{}", id.0), &token).await;
    assert_eq!(c["fidelity"], 2, "the second PROLOG counts a contact");
    assert_eq!(count(&c, "softwares"), 894);
}

#[tokio::test]
async fn fusioninventory_is_admitted_and_stored() {
    let s = server(&[]);
    let token = s.token();
    // The original refused this exact request with 400.
    let a = s
        .post(
            fixture("fusioninventory-agent-rejected/01-PROLOG-request.bin"),
            FUSION_UA,
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        shape(&a.xml()),
        shape(&unzlib(&fixture("fusioninventory-agent/01-PROLOG-response.bin")).unwrap())
    );
    let a = s
        .post(
            fixture("fusioninventory-agent/02-INVENTORY-request.bin"),
            FUSION_UA,
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        shape(&a.xml()),
        shape(&unzlib(&fixture("fusioninventory-agent/02-INVENTORY-response.bin")).unwrap())
    );
    let (_, list) = s.api("/api/v1/computers", &token).await;
    assert_eq!(list["total"], 1);
    let id = list["items"][0]["id"].as_i64().unwrap();
    let (_, c) = s.api(&format!("/api/v1/computers/{id}"), &token).await;
    assert_eq!(count(&c, "softwares"), 894);
    assert_eq!(count(&c, "networks"), 7);
    assert_eq!(
        c["cpus"][0]["type"], "AMD EPYC",
        "FusionInventory's CPUS/NAME is read as TYPE"
    );
    assert_eq!(
        c["softwares"][0]["architecture"], "all",
        "FusionInventory's ARCH is read as ARCHITECTURE"
    );
}

#[tokio::test]
async fn edge_cases_of_the_capture() {
    let s = server(&[]);
    let dir = "edge-cases";
    // 01: uncompressed PROLOG → uncompressed reply.
    let a = s
        .post(fixture(&format!("{dir}/01-PROLOG-request.bin")), OCS_UA)
        .await;
    assert_eq!(a.status, 200);
    assert!(a.body.starts_with(b"<?xml"));
    assert_eq!(
        shape(std::str::from_utf8(&a.body).unwrap()),
        shape(&String::from_utf8(fixture(&format!("{dir}/01-PROLOG-response.xml"))).unwrap())
    );
    // 02: gzip → gzip.
    let a = s
        .post(fixture(&format!("{dir}/02-PROLOG-request.bin")), OCS_UA)
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(&a.body[..2], &[0x1f, 0x8b]);
    // 03: curl → 400; 04: agent 2.9 → admitted here (the original's version gate refused it).
    assert_eq!(
        s.post(
            fixture(&format!("{dir}/03-PROLOG-request.bin")),
            "curl/7.88.1"
        )
        .await
        .status,
        400
    );
    assert_eq!(
        s.post(
            fixture(&format!("{dir}/04-PROLOG-request.bin")),
            "OCS-NG_unified_unix_agent_v2.9.0"
        )
        .await
        .status,
        200
    );
    // 05 garbage, 06 empty: 400 here (the original answered 500).
    assert_eq!(
        s.post(fixture(&format!("{dir}/05-NOQUERY-request.bin")), OCS_UA)
            .await
            .status,
        400
    );
    assert_eq!(s.post(Vec::new(), OCS_UA).await.status, 400);
    // 07 unknown QUERY.
    assert_eq!(
        s.post(
            fixture(&format!("{dir}/07-NOSUCHQUERY-request.bin")),
            OCS_UA
        )
        .await
        .status,
        400
    );
    // 08 INVENTORY without PROLOG (agent -f): stored.
    let a = s
        .post(fixture(&format!("{dir}/08-INVENTORY-request.bin")), OCS_UA)
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(shape(&a.xml()).scalars["RESPONSE"], "NO_ACCOUNT_UPDATE");
    assert_eq!(store(&s).await.count_hosts().await.unwrap(), 1);
}
