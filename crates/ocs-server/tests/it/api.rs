//! The read-only JSON API.

use ocs_testkit::{fixture, inventory_xml, OCS_UA};

use crate::server;

#[tokio::test]
async fn tokens_are_required() {
    let s = server(&[]);
    let a = s.request("GET", "/api/v1/computers", Vec::new(), &[]).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.header("www-authenticate"), Some("Bearer"));
    let json: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(json["code"], "E_UNAUTHORIZED");
    assert_eq!(s.api("/api/v1/computers", "ocs_wrong").await.0, 401);
    let token = s.token();
    assert_eq!(s.api("/api/v1/computers", &token).await.0, 200);
}

#[tokio::test]
async fn list_paging_and_filters() {
    let s = server(&[]);
    let token = s.token();
    for (i, tag) in ["A", "B", "A", "A", "C"].iter().enumerate() {
        let content = format!("<HARDWARE><NAME>Host{i}</NAME><OSNAME>Linux</OSNAME></HARDWARE><ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{tag}</KEYVALUE></ACCOUNTINFO>");
        assert_eq!(
            s.send(&inventory_xml(
                &format!("host{i}-2024-01-01-00-00-00"),
                &content
            ))
            .await
            .status,
            200
        );
    }
    let (status, page) = s.api("/api/v1/computers?page=2&per_page=2", &token).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 5);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["name"], "Host2");
    let item = &page["items"][0];
    for key in ["id", "deviceid", "name", "tag", "os_name", "last_inventory"] {
        assert!(item.get(key).is_some(), "{key}");
    }
    assert_eq!(s.api("/api/v1/computers?tag=A", &token).await.1["total"], 3);
    assert_eq!(
        s.api("/api/v1/computers?name=host1", &token).await.1["total"],
        1,
        "name filter ignores case"
    );
    assert_eq!(
        s.api("/api/v1/computers?name=%25", &token).await.1["total"],
        0,
        "LIKE wildcards are literal"
    );
    assert_eq!(s.api("/api/v1/computers?per_page=0", &token).await.0, 400);
    assert_eq!(
        s.api("/api/v1/computers?per_page=5000", &token).await.0,
        400
    );
    assert_eq!(s.api("/api/v1/computers?page=x", &token).await.0, 400);
}

#[tokio::test]
async fn computer_detail_has_every_section() {
    let s = server(&[]);
    let token = s.token();
    s.post(fixture("ocs-agent/02-INVENTORY-request.bin"), OCS_UA)
        .await;
    let (_, list) = s.api("/api/v1/computers", &token).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let (status, c) = s.api(&format!("/api/v1/computers/{id}"), &token).await;
    assert_eq!(status, 200);
    for section in ocs_proto::catalogue::SECTIONS
        .iter()
        .map(|s| s.table)
        .chain(["softwares"])
    {
        assert!(c[section].is_array(), "{section}");
    }
    assert_eq!(
        c["softwares"][0]["name"].as_str().map(|n| n.is_empty()),
        Some(false)
    );
    assert_eq!(c["accountinfo"]["tag"], "NA");
    assert_eq!(s.api("/api/v1/computers/999999", &token).await.0, 404);
    assert_eq!(s.api("/api/v1/computers/abc", &token).await.0, 400);
}
