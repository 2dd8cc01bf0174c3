//! The duplicates page and `/api/v1/duplicates`: candidate sets per mode from real
//! inventories, blacklisted values left out, matching values highlighted (EN/FR), and bad
//! requests refused with a reason.

use ocs_testkit::{inventory_xml, TestServer};
use serde_json::{json, Value};

use crate::console::Console;
use crate::{host_id, store};

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
    // No two share name, serial and MAC together, so the automatic detection (level 7 by
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

async fn call(s: &TestServer, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let a = s
        .request(
            method,
            path,
            serde_json::to_vec(&body).unwrap(),
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Content-Type", "application/json"),
            ],
        )
        .await;
    (
        a.status,
        serde_json::from_slice(&a.body).unwrap_or(Value::Null),
    )
}

async fn send_full(s: &TestServer, deviceid: &str, serial: &str, tag: &str, software: &[&str]) {
    let software: String = software
        .iter()
        .map(|n| format!("<SOFTWARES><NAME>{n}</NAME><PUBLISHER>P</PUBLISHER><VERSION>1</VERSION></SOFTWARES>"))
        .collect();
    let body = format!(
        "<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{tag}</KEYVALUE></ACCOUNTINFO>\
         <HARDWARE><NAME>PC-X</NAME><OSNAME>Debian GNU/Linux 12</OSNAME></HARDWARE>\
         <BIOS><SSN>{serial}</SSN></BIOS>\
         <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>aa:bb:cc:00:01:{}</MACADDR></NETWORKS>{software}",
        &serial[serial.len() - 2..]
    );
    let r = s.send(&inventory_xml(deviceid, &body)).await;
    assert_eq!(r.status, 200, "{}", s.log());
}

#[tokio::test]
async fn a_merge_through_the_api_and_the_console_is_logged_and_undone() {
    let s = crate::server(&[]);
    let (old_d, new_d) = ("old-2026-01-01-00-00-00", "new-2026-01-01-00-00-00");
    send_full(&s, old_d, "SER-01", "OLD-TAG", &["vim", "htop"]).await;
    send_full(&s, new_d, "SER-02", "NEW-TAG", &["vim", "firefox"]).await;
    let (old, new) = (host_id(&s, old_d).await, host_id(&s, new_d).await);
    store(&s)
        .await
        .backdate_host(old, 10 * 86_400)
        .await
        .unwrap();

    let read = s.token();
    let write = s.token_with_scope("write");
    let detail = |id: i64| {
        let (s, read) = (&s, &read);
        async move { s.api(&format!("/api/v1/computers/{id}"), read).await }
    };
    let (_, old_before) = detail(old.0).await;
    let (_, new_before) = detail(new.0).await;
    assert_eq!(old_before["accountinfo"]["tag"], "OLD-TAG", "{old_before}");

    let body = json!({"computers": [new.0, old.0], "mode": "hostname"});
    let (status, refused) = call(&s, "POST", "/api/v1/merges", &read, body.clone()).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("E_READ_ONLY_TOKEN"))
    );
    let (status, refused) = call(
        &s,
        "POST",
        "/api/v1/merges",
        &write,
        json!({"computers": [new.0]}),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        refused["message"],
        "Choose at least two computers to merge."
    );
    assert_eq!(
        call(
            &s,
            "POST",
            "/api/v1/merges",
            &write,
            json!({"computers": [new.0, 999_999]})
        )
        .await
        .0,
        404
    );

    // The most recent is kept, with the oldest's administrative data and both inventories' rows
    // of its own.
    let (status, merged) = call(&s, "POST", "/api/v1/merges", &write, body).await;
    assert_eq!(status, 201, "{merged} {}", s.log());
    assert_eq!(merged["kept"], new.0);
    assert_eq!(merged["merged"], json!([old.0]));
    assert_eq!(detail(old.0).await.0, 404);
    let (_, kept) = detail(new.0).await;
    assert_eq!(kept["accountinfo"]["tag"], "OLD-TAG");
    let (_, log) = s.api("/api/v1/merges", &read).await;
    assert_eq!(log["total"], 1);
    let line = &log["items"][0];
    assert_eq!(
        (
            line["reason"].as_str(),
            line["criteria"].as_str(),
            line["undoable"].as_bool()
        ),
        (Some("administrator"), Some("hostname"), Some(true))
    );
    assert!(line["merged_by"].as_str().unwrap().starts_with("token:"));
    assert_eq!(line["merged"][0]["deviceid"], old_d);

    // Undone: both computers are exactly as they were.
    let id = line["id"].as_i64().unwrap();
    let (status, undone) = call(
        &s,
        "POST",
        &format!("/api/v1/merges/{id}/undo"),
        &write,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{undone} {}", s.log());
    assert_eq!(undone["restored"], json!([new.0, old.0]));
    assert_eq!(detail(old.0).await.1, old_before);
    assert_eq!(detail(new.0).await.1, new_before);
    let (status, again) = call(
        &s,
        "POST",
        &format!("/api/v1/merges/{id}/undo"),
        &write,
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, again["message"].as_str()),
        (400, Some("This merge has already been undone."))
    );
    assert_eq!(
        call(&s, "POST", "/api/v1/merges/77/undo", &write, Value::Null)
            .await
            .0,
        404
    );

    // The same from the console: tick, merge, then undo from the merge log.
    let admin = Console::sign_in_admin(&s).await;
    let page = admin.get("/duplicates?mode=hostname").await.body;
    assert!(
        page.contains(&format!("name=\"id\" value=\"{}\" checked", old.0)),
        "{page}"
    );
    let (o, n) = (old.0.to_string(), new.0.to_string());
    let merged = admin
        .post_form(
            "/duplicates/merge",
            &[("mode", "hostname"), ("page", "1"), ("id", &o), ("id", &n)],
        )
        .await;
    assert_eq!(merged.status, 303, "{}", s.log());
    let after = admin.get("/duplicates?mode=hostname").await.body;
    assert!(
        after.contains(&format!("Merged 2 computers into #{n}")),
        "{after}"
    );
    assert!(after.contains("id=\"no-duplicates\""));
    let merges = admin.get("/duplicates/merges").await.body;
    assert!(merges.contains("by hand (hostname)"), "{merges}");
    let undo = merges.split("action=\"/duplicates/merges/").nth(1).unwrap();
    let undo_path = format!("/duplicates/merges/{}", &undo[..undo.find('"').unwrap()]);
    assert_eq!(admin.post_form(&undo_path, &[]).await.status, 303);
    let merges = admin.get("/duplicates/merges").await.body;
    assert!(
        merges.contains("Merge undone: 2 computers are back."),
        "{merges}"
    );
    assert!(merges.contains("undone "));
    assert_eq!(detail(old.0).await.1, old_before);
}

#[tokio::test]
async fn an_automatic_merge_at_ingestion_is_logged_and_can_be_undone() {
    let s = crate::server(&[]);
    // Same name, serial and MAC: the default AUTO_DUPLICATE_LVL (7) merges the first into
    // the second (a reinstalled agent).
    let body = "<HARDWARE><NAME>LAB-7</NAME></HARDWARE>\
        <BIOS><SSN>LAB-SERIAL-7</SSN><SMODEL>OptiPlex</SMODEL></BIOS>\
        <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>aa:bb:cc:00:07:07</MACADDR></NETWORKS>";
    let first = "lab7-2026-01-01-00-00-00";
    let second = "lab7-2026-02-01-00-00-00";
    assert_eq!(s.send(&inventory_xml(first, body)).await.status, 200);
    let old = host_id(&s, first).await.0;
    assert_eq!(s.send(&inventory_xml(second, body)).await.status, 200);
    let new = host_id(&s, second).await.0;
    let read = s.token();
    assert_eq!(
        s.api(&format!("/api/v1/computers/{old}"), &read).await.0,
        404
    );

    let (_, log) = s.api("/api/v1/merges", &read).await;
    assert_eq!(log["total"], 1, "{log}");
    let line = &log["items"][0];
    assert_eq!(line["reason"], "automatic");
    assert_eq!(line["criteria"], "AUTO_DUPLICATE_LVL=7");
    assert_eq!(line["merged_by"], "agent");
    assert_eq!(
        (line["kept"].as_i64(), line["merged"][0]["id"].as_i64()),
        (Some(new), Some(old))
    );

    let write = s.token_with_scope("write");
    let id = line["id"].as_i64().unwrap();
    let (status, undone) = call(
        &s,
        "POST",
        &format!("/api/v1/merges/{id}/undo"),
        &write,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{undone}");
    let (status, back) = s.api(&format!("/api/v1/computers/{old}"), &read).await;
    assert_eq!(status, 200);
    assert_eq!(back["deviceid"], first);
    assert_eq!(
        s.api(&format!("/api/v1/computers/{new}"), &read).await.0,
        200
    );
}

#[tokio::test]
async fn the_blacklists_are_edited_and_followed_by_the_candidates() {
    let s = crate::server(&[]);
    send(
        &s,
        "f-2026-01-01-00-00-00",
        "f1",
        "DEFAULT-STRING",
        "aa:bb:cc:00:00:11",
    )
    .await;
    send(
        &s,
        "g-2026-01-01-00-00-00",
        "g1",
        "default-string",
        "aa:bb:cc:00:00:11",
    )
    .await;
    let token = s.token();
    let sets = |mode: &'static str| {
        let (s, token) = (&s, &token);
        async move {
            s.api(&format!("/api/v1/duplicates?mode={mode}"), token)
                .await
                .1["total"]
                .as_i64()
        }
    };
    assert_eq!(
        (sets("serial").await, sets("mac").await),
        (Some(1), Some(1))
    );

    let admin = Console::sign_in_admin(&s).await;
    let page = admin.get("/duplicates/blacklists").await;
    assert_eq!(page.status, 200, "{}", s.log());
    assert!(page.body.contains("To Be Filled By O.E.M."));
    let add = admin
        .post_form(
            "/duplicates/blacklists/serials",
            &[("value", "Default-String")],
        )
        .await;
    assert_eq!(add.status, 303);
    let add = admin
        .post_form(
            "/duplicates/blacklists/macs",
            &[("value", "aa-bb-cc-00-00-11")],
        )
        .await;
    assert_eq!(add.status, 303);
    let page = admin.get("/duplicates/blacklists").await.body;
    assert!(page.contains("Added to the blacklist."), "{page}");
    assert!(page.contains("<td>AA:BB:CC:00:00:11</td>"));
    assert_eq!(
        (sets("serial").await, sets("mac").await),
        (Some(0), Some(0))
    );

    let refused = admin
        .post_form("/duplicates/blacklists/macs", &[("value", "not a mac")])
        .await;
    assert_eq!(refused.status, 303);
    assert!(admin
        .get("/duplicates/blacklists")
        .await
        .body
        .contains("six pairs of hexadecimal digits"));
    assert_eq!(
        admin
            .post_form("/duplicates/blacklists/colours", &[("value", "x")])
            .await
            .status,
        303
    );

    let removed = admin
        .post_form(
            "/duplicates/blacklists/serials/remove",
            &[("value", "Default-String")],
        )
        .await;
    assert_eq!(removed.status, 303);
    assert_eq!(sets("serial").await, Some(1));
}

#[tokio::test]
async fn the_candidates_are_shown_as_last_compared_then_compared_again() {
    let s = crate::server(&[]);
    send(
        &s,
        "f-2026-01-01-00-00-00",
        "pc-f",
        "S-F1",
        "aa:bb:cc:00:00:f1",
    )
    .await;
    send(
        &s,
        "g-2026-01-01-00-00-00",
        "pc-f",
        "S-F2",
        "aa:bb:cc:00:00:f2",
    )
    .await;
    let token = s.token();
    let (_, first) = s.api("/api/v1/duplicates?mode=hostname", &token).await;
    assert_eq!(first["sets"][0]["computers"].as_array().unwrap().len(), 2);
    assert!(first["found_at"].as_str().unwrap().ends_with('Z'));
    // A third one of the name comes after the comparison: shown once compared again (every
    // `[duplicates] candidates_max_age_secs`), not at every view.
    send(
        &s,
        "h-2026-01-01-00-00-00",
        "PC-F",
        "S-F3",
        "aa:bb:cc:00:00:f3",
    )
    .await;
    let (_, again) = s.api("/api/v1/duplicates?mode=hostname", &token).await;
    assert_eq!(again["sets"][0]["computers"].as_array().unwrap().len(), 2);
    assert_eq!(again["found_at"], first["found_at"]);
    let admin = Console::sign_in_admin(&s).await;
    let page = admin.get("/duplicates").await.body;
    assert!(page.contains("id=\"duplicates-found-at\""));
    assert!(page.contains("Computers compared on"));

    // With a maximum age of 0, every view compares.
    let fresh = crate::server(&[("OCS_DUPLICATES__CANDIDATES_MAX_AGE_SECS", "0")]);
    send(
        &fresh,
        "f-2026-01-01-00-00-00",
        "pc-f",
        "S-F1",
        "aa:bb:cc:00:00:f1",
    )
    .await;
    send(
        &fresh,
        "g-2026-01-01-00-00-00",
        "pc-f",
        "S-F2",
        "aa:bb:cc:00:00:f2",
    )
    .await;
    let token = fresh.token();
    assert_eq!(fresh.api("/api/v1/duplicates", &token).await.1["total"], 1);
    send(
        &fresh,
        "h-2026-01-01-00-00-00",
        "PC-F",
        "S-F3",
        "aa:bb:cc:00:00:f3",
    )
    .await;
    let (_, now) = fresh.api("/api/v1/duplicates", &token).await;
    assert_eq!(now["sets"][0]["computers"].as_array().unwrap().len(), 3);
}
