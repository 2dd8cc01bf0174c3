//! Change history: the real agent's inventory, then a second one with software added and
//! removed, a disk added and the OS version changed, must record exactly those changes; an
//! unchanged re-inventory records nothing; administrative edits are recorded with who made
//! them; the timeline, the fleet's feed, its CSV and the API show them (EN/FR).

use ocs_testkit::{fixture, inventory_xml, TestServer};
use serde_json::Value;

use crate::console::Console;
use crate::{host_id, server};

const DEVICEID: &str = "vm-2026-11-21-12-46-33";

fn first_inventory() -> String {
    String::from_utf8(fixture("ocs-agent/02-INVENTORY-request.xml")).unwrap()
}

/// The first inventory, changed as an agent would report an upgrade of the machine: the
/// first software entry (adduser) removed, one installed, a disk added, Debian 12 → 13, and
/// the CHECKSUM bits of HARDWARE, STORAGES and SOFTWARES.
fn changed_inventory() -> String {
    let doc = first_inventory();
    let start = doc.find("<SOFTWARES>").unwrap();
    let end = start + doc[start..].find("</SOFTWARES>").unwrap() + "</SOFTWARES>".len();
    assert!(doc[start..end].contains("<NAME>adduser</NAME>"));
    let mut doc = format!("{}{}", &doc[..start], &doc[end..]);
    let installed = "<SOFTWARES><NAME>history-probe</NAME><PUBLISHER>Probe Ltd</PUBLISHER>\
                     <VERSION>2.0</VERSION></SOFTWARES>\
                     <STORAGES><NAME>vdb</NAME><TYPE>disk</TYPE><DISKSIZE>512000</DISKSIZE></STORAGES>";
    let at = doc.find("</CONTENT>").unwrap();
    doc.insert_str(at, installed);
    let doc = doc.replacen("<OSVERSION>12</OSVERSION>", "<OSVERSION>13</OSVERSION>", 1);
    doc.replacen(
        "<CHECKSUM>1572863</CHECKSUM>",
        &format!("<CHECKSUM>{}</CHECKSUM>", 1 | 256 | 65536),
        1,
    )
}

async fn history(s: &TestServer, token: &str, id: i64, query: &str) -> Vec<Value> {
    let (status, page) = s
        .api(&format!("/api/v1/computers/{id}/history?{query}"), token)
        .await;
    assert_eq!(status, 200, "{page}");
    page["changes"].as_array().unwrap().clone()
}

/// `(section, action, label)` of each change, sorted.
fn summary(changes: &[Value]) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = changes
        .iter()
        .map(|c| {
            (
                c["section"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
                c["label"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn triple(section: &str, action: &str, label: &str) -> (String, String, String) {
    (section.to_owned(), action.to_owned(), label.to_owned())
}

#[tokio::test]
async fn an_inventory_records_exactly_what_changed() {
    let s = server(&[]);
    assert_eq!(s.send(&first_inventory()).await.status, 200, "{}", s.log());
    let id = host_id(&s, DEVICEID).await.0;
    let token = s.token();
    let first = history(&s, &token, id, "").await;
    assert_eq!(
        summary(&first),
        [triple("COMPUTER", "created", "vm")],
        "a first inventory is one entry, not one per row"
    );

    assert_eq!(
        s.send(&changed_inventory()).await.status,
        200,
        "{}",
        s.log()
    );
    let all = history(&s, &token, id, "").await;
    let mut want = vec![
        triple("COMPUTER", "created", "vm"),
        triple("HARDWARE", "changed", "vm"),
        triple("SOFTWARES", "added", "history-probe"),
        triple("SOFTWARES", "removed", "adduser"),
        triple("STORAGES", "added", "vdb"),
    ];
    want.sort();
    assert_eq!(summary(&all), want, "{all:#?}");
    let os = all.iter().find(|c| c["section"] == "HARDWARE").unwrap();
    assert_eq!(
        os["fields"],
        serde_json::json!([{"field": "OSVERSION", "old": "12", "new": "13"}])
    );
    assert!(os["by"].is_null(), "an inventory has no author");
    assert!(os["changed_at"].as_str().unwrap().ends_with('Z'));
    let added = all
        .iter()
        .find(|c| c["action"] == "added" && c["section"] == "SOFTWARES")
        .unwrap();
    assert!(added["fields"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({"field": "VERSION", "old": null, "new": "2.0"})));
    let removed = all.iter().find(|c| c["action"] == "removed").unwrap();
    assert_eq!(
        removed["fields"],
        serde_json::json!([{"field": "VERSION", "old": "3.134", "new": null}])
    );
    let disk = all.iter().find(|c| c["section"] == "STORAGES").unwrap();
    assert!(disk["fields"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({"field": "DISKSIZE", "old": null, "new": "512000"})));

    // The same inventory again, every flagged section rewritten: nothing new.
    assert_eq!(s.send(&changed_inventory()).await.status, 200);
    assert_eq!(
        history(&s, &token, id, "").await.len(),
        all.len(),
        "unchanged"
    );

    // Filters.
    let software = history(&s, &token, id, "section=SOFTWARES").await;
    assert_eq!(software.len(), 2);
    let removed_only = history(&s, &token, id, "action=removed&days=1").await;
    assert_eq!(
        summary(&removed_only),
        [triple("SOFTWARES", "removed", "adduser")]
    );
    let paged = history(&s, &token, id, "per_page=2&page=1").await;
    assert_eq!(paged.len(), 2);
    let (status, page) = s
        .api(
            &format!("/api/v1/computers/{id}/history?per_page=2"),
            &token,
        )
        .await;
    assert_eq!((status, page["more"].as_bool()), (200, Some(true)));
    for bad in [
        "section=NOPE",
        "action=moved",
        "days=0",
        "page=0",
        "per_page=100000",
    ] {
        let (status, body) = s
            .api(&format!("/api/v1/computers/{id}/history?{bad}"), &token)
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["code"], "E_BAD_HISTORY_QUERY");
    }
    assert_eq!(
        s.api("/api/v1/computers/999999/history", &token).await.0,
        404
    );
    assert_eq!(
        s.api(&format!("/api/v1/computers/{id}/history"), "bad")
            .await
            .0,
        401
    );

    // The fleet's feed.
    let (status, feed) = s.api("/api/v1/changes?section=STORAGES", &token).await;
    assert_eq!(status, 200);
    assert_eq!(feed["changes"][0]["computer_id"], id);
    assert_eq!(feed["changes"][0]["computer"], "vm");
    assert_eq!(feed["changes"].as_array().unwrap().len(), 1);
    let (_, probe) = s.api("/api/v1/changes?q=PROBE", &token).await;
    assert_eq!(probe["changes"].as_array().unwrap().len(), 1);

    // The console: the computer page's card, the timeline with its filter, the feed and its
    // CSV, in English and French.
    let admin = Console::sign_in_admin(&s).await;
    let card = admin
        .get_hx(&format!("/computers/{id}/history?compact=1&per_page=10"))
        .await;
    assert_eq!(card.status, 200);
    assert!(card.body.contains("id=\"full-timeline\""), "{}", card.body);
    assert!(!card.body.contains("<html"), "a fragment");
    let computer = admin.get(&format!("/computers/{id}")).await.body;
    assert!(computer.contains("id=\"computer-history\""));
    let timeline = admin
        .get(&format!("/computers/{id}/history?section=SOFTWARES"))
        .await;
    assert_eq!(timeline.status, 200);
    assert!(timeline
        .body
        .contains("<td data-col=\"what\">history-probe</td>"));
    assert!(timeline.body.contains("<td data-col=\"what\">adduser</td>"));
    assert!(
        !timeline.body.contains("<td data-col=\"what\">vdb</td>"),
        "filtered"
    );
    assert!(timeline
        .body
        .contains("<option value=\"STORAGES\" >Storage</option>"));
    let os_change = admin
        .get(&format!("/computers/{id}/history?section=HARDWARE"))
        .await
        .body;
    assert!(
        os_change.contains("<del>12</del> → <ins>13</ins>"),
        "{os_change}"
    );
    let feed = admin.get("/changes?action=added").await;
    assert_eq!(feed.status, 200);
    assert!(feed
        .body
        .contains(&format!("href=\"/computers/{id}\">vm</a>")));
    assert!(feed.body.contains("history-probe"));
    assert!(!feed.body.contains(">adduser<"), "filtered to additions");
    let refused = admin.get("/changes?section=bogus").await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("Unknown section"));
    let csv = admin.get("/changes.csv?section=SOFTWARES").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.body);
    assert!(lines[0].starts_with("\"When\",\"Computer ID\",\"Computer\""));
    assert!(csv.body.contains("\"VERSION: 3.134\""));
    let home = admin.get("/").await.body;
    assert!(home.contains("id=\"recent-changes\""));
    assert!(home.contains("history-probe"));
    admin
        .post_form("/account/language", &[("language", "fr")])
        .await;
    let fr = admin.get("/changes").await.body;
    assert!(fr.contains("Modifications récentes"));
    assert!(fr.contains("premier inventaire"));
}

#[tokio::test]
async fn edits_by_hand_are_recorded_with_who_made_them() {
    let s = server(&[("OCS_OPT_ACCEPT_TAG_UPDATE_FROM_CLIENT", "1")]);
    let send = |tag: &'static str| {
        let body = format!(
            "<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{tag}</KEYVALUE></ACCOUNTINFO>\
             <HARDWARE><NAME>pc-tag</NAME></HARDWARE>"
        );
        inventory_xml("tag-2026-01-01-00-00-00", &body)
    };
    assert_eq!(s.send(&send("PARIS")).await.status, 200);
    let id = host_id(&s, "tag-2026-01-01-00-00-00").await.0;
    let admin = Console::sign_in_admin(&s).await;
    let saved = admin
        .post_form(&format!("/computers/{id}/admin-data"), &[("TAG", "LYON")])
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    // Saving the same value again is no change.
    admin
        .post_form(&format!("/computers/{id}/admin-data"), &[("TAG", "LYON")])
        .await;
    // The agent sends its own TAG back (ACCEPT_TAG_UPDATE_FROM_CLIENT).
    assert_eq!(s.send(&send("NANTES")).await.status, 200);
    // A mass change of the TAG.
    let fields = [
        ("scope", "selected"),
        ("ids", &*id.to_string()),
        ("action", "tag"),
        ("tag", "LILLE"),
    ];
    let done = admin.post_form("/mass/apply", &fields).await;
    assert_eq!(done.status, 200, "{}", done.body);

    let token = s.token();
    let changes = history(&s, &token, id, "section=ACCOUNTINFO").await;
    let edits: Vec<(String, String, String)> = changes
        .iter()
        .rev()
        .map(|c| {
            (
                c["fields"][0]["old"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                c["fields"][0]["new"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                c["by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        edits,
        [
            ("PARIS".into(), "LYON".into(), "admin".into()),
            ("LYON".into(), "NANTES".into(), "agent".into()),
            ("NANTES".into(), "LILLE".into(), "admin".into()),
        ]
    );
    assert!(changes.iter().all(|c| c["label"] == "TAG"));
}

#[tokio::test]
async fn with_the_history_off_nothing_is_recorded() {
    let s = server(&[("OCS_HISTORY__ENABLED", "false")]);
    assert_eq!(s.send(&first_inventory()).await.status, 200);
    assert_eq!(s.send(&changed_inventory()).await.status, 200);
    let id = host_id(&s, DEVICEID).await.0;
    let token = s.token();
    assert!(history(&s, &token, id, "").await.is_empty());
    let admin = Console::sign_in_admin(&s).await;
    assert!(admin.get("/changes").await.body.contains("turned off"));
    // The inventory was stored all the same.
    let (_, c) = s.api(&format!("/api/v1/computers/{id}"), &token).await;
    assert_eq!(c["hardware"]["osversion"], "13");
}
