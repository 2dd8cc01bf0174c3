//! Every kind of bad agent input gets a clear 4xx, a warn log line with the peer and the
//! reason, and leaves the database exactly as it was; the server keeps serving meanwhile.

use std::io::Write;

use ocs_testkit::{fixture, inventory_xml, prolog_xml, zlib, TestServer, OCS_UA};

use crate::server;

const DEV: &str = "bad-2024-01-01-00-00-00";

/// Everything the API can see, to compare before and after.
async fn snapshot(s: &TestServer, token: &str) -> String {
    let (_, list) = s.api("/api/v1/computers?per_page=1000", token).await;
    let mut out = list.to_string();
    for item in list["items"].as_array().unwrap() {
        out.push_str(
            &s.api(&format!("/api/v1/computers/{}", item["id"]), token)
                .await
                .1
                .to_string(),
        );
    }
    out
}

/// Sends a bad body and checks status, log line and database.
async fn refused(s: &TestServer, token: &str, body: Vec<u8>, status: u16, reason: &str) {
    let before = snapshot(s, token).await;
    let log_before = s.log().len();
    let a = s.post(body, OCS_UA).await;
    assert_eq!(
        a.status,
        status,
        "{reason}: {}",
        String::from_utf8_lossy(&a.body)
    );
    let body = String::from_utf8_lossy(&a.body).to_lowercase();
    assert!(
        body.contains(&reason.to_lowercase()),
        "reply should say {reason:?}: {body}"
    );
    let log = s.log()[log_before..].to_owned();
    assert!(
        log.contains("WARN")
            && log.contains("peer=127.0.0.1")
            && log.to_lowercase().contains(&reason.to_lowercase()),
        "warn line for {reason:?}: {log}"
    );
    assert_eq!(
        snapshot(s, token).await,
        before,
        "{reason}: database changed"
    );
}

fn setup() -> TestServer {
    server(&[("OCS_LIMITS__MAX_BODY_BYTES", "2000000")])
}

async fn with_one_device(s: &TestServer) -> String {
    let token = s.token();
    assert_eq!(
        s.post(fixture("ocs-agent/02-INVENTORY-request.bin"), OCS_UA)
            .await
            .status,
        200
    );
    token
}

#[tokio::test]
async fn malformed_xml() {
    let s = setup();
    let t = with_one_device(&s).await;
    refused(&s, &t, zlib(b"<REQUEST><DEVICEID>bad-2024-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY><CONTENT><HARDWARE></CONTENT></REQUEST>"), 400, "malformed XML").await;
    refused(&s, &t, zlib(b"not xml at all"), 400, "malformed XML").await;
    refused(&s, &t, zlib(b"   "), 400, "no root element").await;
}

#[tokio::test]
async fn truncated_and_invalid_zlib() {
    let s = setup();
    let t = with_one_device(&s).await;
    let inv = fixture("ocs-agent/02-INVENTORY-request.bin");
    refused(&s, &t, inv[..inv.len() / 2].to_vec(), 400, "truncated").await;
    let mut garbage = vec![0x78, 0x9c];
    garbage.extend((0..500u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    refused(&s, &t, garbage, 400, "corrupt").await;
    refused(
        &s,
        &t,
        fixture("edge-cases/05-NOQUERY-request.bin"),
        400,
        "is not zlib",
    )
    .await;
    refused(&s, &t, Vec::new(), 400, "empty request body").await;
}

#[tokio::test]
async fn decompression_bomb_of_one_gib() {
    let s = server(&[]);
    let t = with_one_device(&s).await;
    // 1 GiB of XML-ish filler inflating from about a megabyte.
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(
        format!("<REQUEST><DEVICEID>{DEV}</DEVICEID><QUERY>INVENTORY</QUERY><CONTENT><X>")
            .as_bytes(),
    )
    .unwrap();
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..1024 {
        enc.write_all(&chunk).unwrap();
    }
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 8_000_000, "bomb is {} bytes", bomb.len());
    // The server keeps answering other agents while it refuses the bomb.
    let other = async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        s.send(&prolog_xml("other-2024-01-01-00-00-00"))
            .await
            .status
    };
    let (_, other_status) =
        tokio::join!(refused(&s, &t, bomb, 413, "inflates to more than"), other);
    assert_eq!(other_status, 200);
}

#[tokio::test]
async fn body_over_the_size_limit() {
    let s = setup();
    let t = with_one_device(&s).await;
    refused(&s, &t, vec![b'x'; 2_500_000], 413, "request body over").await;
}

#[tokio::test]
async fn doctype_and_entities() {
    let s = setup();
    let t = with_one_device(&s).await;
    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><REQUEST><DEVICEID>{DEV}</DEVICEID><QUERY>INVENTORY</QUERY><CONTENT><HARDWARE><NAME>&x;</NAME></HARDWARE></CONTENT></REQUEST>"
    );
    refused(
        &s,
        &t,
        zlib(xxe.as_bytes()),
        400,
        "document type declarations are not accepted",
    )
    .await;
    let entity = inventory_xml(DEV, "<HARDWARE><NAME>&x;</NAME></HARDWARE>");
    refused(&s, &t, zlib(entity.as_bytes()), 400, "malformed XML").await;
}

#[tokio::test]
async fn invalid_encodings() {
    let s = setup();
    let t = with_one_device(&s).await;
    let mut doc = inventory_xml(DEV, "<HARDWARE><NAME>caf").into_bytes();
    doc.truncate(doc.len() - "</CONTENT>\n<DEVICEID>bad-2024-01-01-00-00-00</DEVICEID>\n<QUERY>INVENTORY</QUERY>\n</REQUEST>\n".len());
    doc.extend_from_slice(b"\xe9</NAME></HARDWARE></CONTENT><DEVICEID>bad-2024-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>");
    refused(&s, &t, zlib(&doc), 400, "invalid UTF-8").await;
    let unknown = "<?xml version=\"1.0\" encoding=\"x-klingon\"?><REQUEST><DEVICEID>bad-2024-01-01-00-00-00</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>";
    refused(&s, &t, zlib(unknown.as_bytes()), 400, "unknown encoding").await;
}

#[tokio::test]
async fn missing_or_malformed_deviceid_and_unknown_query() {
    let s = setup();
    let t = with_one_device(&s).await;
    refused(&s, &t, zlib(b"<REQUEST><QUERY>INVENTORY</QUERY><CONTENT><HARDWARE><NAME>x</NAME></HARDWARE></CONTENT></REQUEST>"), 400, "missing DEVICEID").await;
    refused(
        &s,
        &t,
        zlib(inventory_xml("vm", "<HARDWARE><NAME>x</NAME></HARDWARE>").as_bytes()),
        400,
        "malformed DEVICEID",
    )
    .await;
    refused(
        &s,
        &t,
        zlib(
            inventory_xml("vm-2026-11-21-12-46-33", "")
                .replace("INVENTORY", "FILE")
                .as_bytes(),
        ),
        400,
        "unknown QUERY",
    )
    .await;
    refused(
        &s,
        &t,
        zlib(
            format!("<REQUEST><DEVICEID>{DEV}</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>")
                .as_bytes(),
        ),
        400,
        "INVENTORY without CONTENT",
    )
    .await;
}

#[tokio::test]
async fn refused_user_agent_is_logged() {
    let s = setup();
    let t = with_one_device(&s).await;
    let before = snapshot(&s, &t).await;
    let a = s
        .post(zlib(prolog_xml(DEV).as_bytes()), "curl/7.88.1")
        .await;
    assert_eq!(a.status, 400);
    assert!(s.log().contains("curl/7.88.1"));
    assert_eq!(snapshot(&s, &t).await, before);
}

/// An inventory document around `content`, zlib-compressed.
fn inventory_body(content: &str) -> Vec<u8> {
    zlib(inventory_xml(DEV, content).as_bytes())
}

#[tokio::test]
async fn documents_over_the_shape_limits_get_413_with_the_limit_named() {
    let s = server(&[("OCS_LIMITS__MAX_BODY_BYTES", "8000000")]);
    let t = with_one_device(&s).await;
    // One element with 100,000 attributes: once 13 s of quadratic work, now refused at once.
    let attributes: String = (0..100_000).map(|i| format!(" A{i}=\"x\"")).collect();
    refused(
        &s,
        &t,
        inventory_body(&format!("<HARDWARE{attributes}/>")),
        413,
        "more than 256 attributes",
    )
    .await;
    // More elements than any agent sends.
    let elements = "<ENVS><KEY>k</KEY></ENVS>".repeat(130_000);
    refused(
        &s,
        &t,
        inventory_body(&elements),
        413,
        "more than 250000 elements",
    )
    .await;
    // A value longer than any real one.
    let long = format!("<HARDWARE><NAME>{}</NAME></HARDWARE>", "n".repeat(300_000));
    refused(
        &s,
        &t,
        inventory_body(&long),
        413,
        "longer than 262144 bytes",
    )
    .await;
    // More rows in a section than allowed (50 here).
    let s = server(&[("OCS_LIMITS__MAX_ROWS_PER_SECTION", "50")]);
    let t = s.token();
    let rows = "<SOFTWARES><NAME>s</NAME></SOFTWARES>".repeat(51);
    refused(
        &s,
        &t,
        inventory_body(&rows),
        413,
        "section SOFTWARES has more than 50 rows",
    )
    .await;
    // At the limit, it is stored.
    let rows = "<SOFTWARES><NAME>s</NAME></SOFTWARES>".repeat(50);
    assert_eq!(s.post(inventory_body(&rows), OCS_UA).await.status, 200);
}

#[tokio::test]
async fn duplicate_attributes_are_malformed() {
    let s = setup();
    let t = with_one_device(&s).await;
    let body =
        zlib(format!(r#"<REQUEST DEVICEID="{DEV}" DEVICEID="{DEV}" QUERY="PROLOG"/>"#).as_bytes());
    refused(&s, &t, body, 400, "duplicate attribute").await;
}
