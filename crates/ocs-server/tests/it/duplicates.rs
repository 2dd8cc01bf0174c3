//! The duplicates page and `/api/v1/duplicates`: candidate sets per mode from real
//! inventories, blacklisted values left out, matching values highlighted (EN/FR), and bad
//! requests refused with a reason.

use ocs_testkit::{inventory_xml, TestServer};

use crate::console::Console;
use crate::host_id;

async fn send(s: &TestServer, deviceid: &str, name: &str, serial: &str, mac: &str) {
    let body = format!(
        "<HARDWARE><NAME>{name}</NAME><UUID>uuid-{deviceid}</UUID></HARDWARE>\
         <BIOS><SSN>{serial}</SSN><SMODEL>Model {deviceid}</SMODEL></BIOS>\
         <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>{mac}</MACADDR><IPADDRESS>198.51.100.7</IPADDRESS></NETWORKS>"
    );
    let r = s.send(&inventory_xml(deviceid, &body)).await;
    assert_eq!(r.status, 200, "{}", s.log());
}

#[tokio::test]
async fn candidate_sets_per_mode_in_the_api_and_the_page() {
    let s = crate::server(&[]);
    // Each model differs, so that the automatic detection (name, serial, MAC and model by
    // default) merges none of them.
    send(
        &s,
        "a-2026-01-01-00-00-00",
        "PC-DUP",
        "S-100",
        "aa:bb:cc:00:00:01",
    )
    .await;
    send(
        &s,
        "b-2026-01-01-00-00-00",
        "pc-dup",
        "S-200",
        "AA:BB:CC:00:00:01",
    )
    .await;
    send(
        &s,
        "c-2026-01-01-00-00-00",
        "other",
        "S-100",
        "00:00:00:00:00:00",
    )
    .await;
    send(
        &s,
        "d-2026-01-01-00-00-00",
        "oem-1",
        "To Be Filled By O.E.M.",
        "00:00:00:00:00:00",
    )
    .await;
    send(
        &s,
        "e-2026-01-01-00-00-00",
        "oem-2",
        "To Be Filled By O.E.M.",
        "aa:bb:cc:00:00:05",
    )
    .await;
    let id = |d: &'static str| {
        let s = &s;
        async move { host_id(s, d).await.0 }
    };
    let (a, b, c) = (
        id("a-2026-01-01-00-00-00").await,
        id("b-2026-01-01-00-00-00").await,
        id("c-2026-01-01-00-00-00").await,
    );

    let token = s.token();
    let sets = |mode: &'static str| {
        let (s, token) = (&s, &token);
        async move {
            let (status, json) = s
                .api(&format!("/api/v1/duplicates?mode={mode}"), token)
                .await;
            assert_eq!(status, 200, "{json}");
            json
        }
    };
    let hostname = sets("hostname").await;
    assert_eq!(hostname["mode"], "hostname");
    assert_eq!(hostname["total"], 1);
    assert_eq!(hostname["sets"][0]["key"], serde_json::json!(["pc-dup"]));
    assert_eq!(hostname["sets"][0]["computers"], serde_json::json!([a, b]));
    // The blacklisted serial of d and e makes no set; S-100 does.
    let serial = sets("serial").await;
    assert_eq!(serial["total"], 1, "{serial}");
    assert_eq!(serial["sets"][0]["computers"], serde_json::json!([a, c]));
    // The blacklisted MAC of c and d makes no set; the same MAC in two cases does.
    let mac = sets("mac").await;
    assert_eq!(mac["total"], 1, "{mac}");
    assert_eq!(
        mac["sets"][0]["key"],
        serde_json::json!(["aa:bb:cc:00:00:01"])
    );
    let hostname_mac = sets("hostname_mac").await;
    assert_eq!(
        hostname_mac["sets"][0]["computers"],
        serde_json::json!([a, b])
    );
    assert_eq!(sets("hostname_serial").await["total"], 0);
    assert_eq!(sets("serial_mac").await["total"], 0);
    assert_eq!(sets("uuid").await["total"], 0);

    let (status, bad) = s.api("/api/v1/duplicates?mode=name%27--", &token).await;
    assert_eq!(status, 400);
    assert_eq!(bad["code"], "E_BAD_DUPLICATES_QUERY");
    assert!(bad["message"].as_str().unwrap().contains("hostname_serial"));
    assert_eq!(
        s.api("/api/v1/duplicates?per_page=1000", &token).await.0,
        400
    );
    assert_eq!(s.api("/api/v1/duplicates", "not-a-token").await.0, 401);

    // The page: a tab per mode with its count, the set's computers with the shared values
    // highlighted, the most recent marked.
    let admin = Console::sign_in_admin(&s).await;
    let page = admin.get("/duplicates?mode=hostname_mac").await;
    assert_eq!(page.status, 200, "{}", s.log());
    let body = &page.body;
    assert!(body.contains("id=\"mode-serial\""));
    assert!(body.contains("<td class=\"match\">PC-DUP</td>"), "{body}");
    assert!(body.contains("<td class=\"match\">pc-dup</td>"));
    assert!(body.contains("<span class=\"mac match\">AA:BB:CC:00:00:01</span>"));
    assert!(
        body.contains("<td>S-100</td>"),
        "serials are not compared by this mode"
    );
    assert!(body.contains(&format!("<tr data-id=\"{b}\" class=\"newest\">")));
    assert!(body.contains(&format!("href=\"/computers/{a}\"")));
    let empty = admin.get("/duplicates?mode=uuid").await.body;
    assert!(empty.contains("id=\"no-duplicates\""));
    let refused = admin.get("/duplicates?mode=bogus").await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("Unknown duplicate mode"));

    let fr = admin
        .post_form("/account/language", &[("language", "fr")])
        .await;
    assert_eq!(fr.status, 303);
    let fr = admin.get("/duplicates?mode=serial").await.body;
    assert!(fr.contains("Numéro de série + adresse MAC"), "{fr}");
    assert!(fr.contains("le plus récent"));
}
