//! Deleting computers through every path: the computer page (with its confirmation step), the
//! API (`DELETE`, and `PATCH` of administrative data), the command line (`computers delete`,
//! `computers clean`, `--dry-run`), the console's inactive computers cleaning and the
//! scheduled one. After each, nothing of the computer remains in any table (read from the
//! schema catalogue), the deletion is in the log, TRACE_DELETED decides `deleted_equiv`, and
//! the same DEVICEID inventoried again is a new computer.

use ocs_storage::{FleetSpec, HostId, Store};
use ocs_testkit::{fixture, inventory_xml, prolog_xml, zlib, TestServer};

use crate::console::{import_real_agent, read_only_user, Console, Page};
use crate::{eventually, server, store};

const DAY: i64 = 86_400;

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

async fn follow(console: &Console, answer: &Page, back: &str) -> Page {
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some(back));
    console.get(back).await
}

async fn assert_gone(store: &Store, id: HostId, deviceid: &str) {
    assert_eq!(
        store.remnants_of(id, deviceid).await.unwrap(),
        Vec::<(String, i64)>::new(),
        "rows of computer {} ({deviceid}) remain",
        id.0
    );
}

/// The DEVICEID of the real agent capture.
fn real_agent_deviceid() -> (String, String) {
    let xml = String::from_utf8(fixture("ocs-agent/02-INVENTORY-request.xml")).unwrap();
    let deviceid = xml
        .split("<DEVICEID>")
        .nth(1)
        .and_then(|r| r.split("</DEVICEID>").next())
        .unwrap()
        .to_owned();
    (xml, deviceid)
}

/// A synthetic fleet (last contacts spread over the past 90 days); returns every ID.
async fn fleet(server: &TestServer, computers: usize) -> Vec<HostId> {
    let store = store(server).await;
    store
        .populate_synthetic(
            FleetSpec {
                computers,
                software_per_computer: 20,
                seed: 3,
            },
            |_| {},
        )
        .await
        .unwrap();
    store
        .existing_hosts(
            &(1..=i64::try_from(computers).unwrap() + 10)
                .map(HostId)
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_computer_deleted_from_its_page_leaves_nothing_and_comes_back_as_a_new_one() {
    let server = server(&[]);
    let console = Console::sign_in_admin(&server).await;
    let (xml, deviceid) = real_agent_deviceid();
    let id = import_real_agent(&server).await;
    let store = store(&server).await;
    // A customisation and an open PROLOG session, besides the inventory.
    let saved = console
        .post_form(
            &format!("/computers/{id}/customisation"),
            &[("FREQUENCY", "3")],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(server.send(&prolog_xml(&deviceid)).await.status, 200);
    eventually("the PROLOG session", 1, || async {
        store.count_prolog_sessions().await.unwrap()
    })
    .await;
    let before = store.remnants_of(HostId(id), &deviceid).await.unwrap();
    for table in [
        "hardware.deviceid",
        "software.hardware_id",
        "devices.hardware_id",
        "prolog_sessions.deviceid",
    ] {
        assert!(
            before.iter().any(|(t, _)| t == table),
            "{table} in {before:?}"
        );
    }

    // A read-only account sees no Delete button and is refused both steps.
    let reader = read_only_user(&server, "reader", "reader-password-1").await;
    let page = reader.get(&format!("/computers/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("id=\"delete-computer\""));
    assert_eq!(
        reader.get(&format!("/computers/{id}/delete")).await.status,
        403
    );
    assert_eq!(
        reader
            .post_form(&format!("/computers/{id}/delete"), &[])
            .await
            .status,
        403
    );
    // Without the CSRF token: refused.
    let forged = console
        .post_raw(
            &format!("/computers/{id}/delete"),
            &[],
            Some(&server.base_url),
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(store.find_host_id(&deviceid).await.unwrap().is_some());

    // The button leads to the confirmation, which deletes.
    let page = console.get(&format!("/computers/{id}")).await;
    assert!(page
        .body
        .contains(&format!("href=\"/computers/{id}/delete\"")));
    let confirm = console.get(&format!("/computers/{id}/delete")).await;
    assert_eq!(confirm.status, 200);
    for needle in [deviceid.as_str(), "id=\"delete-form\"", "cannot be undone"] {
        assert!(confirm.body.contains(needle), "{needle}");
    }
    let deleted = console
        .post_form(&format!("/computers/{id}/delete"), &[])
        .await;
    let next = follow(&console, &deleted, "/computers").await;
    assert!(next.body.contains("class=\"flash-ok\""), "{}", next.body);
    assert!(next.body.contains("deleted."));
    assert_gone(&store, HostId(id), &deviceid).await;
    assert_eq!(
        store.count_deleted_equiv(HostId(id)).await.unwrap(),
        0,
        "TRACE_DELETED is off"
    );
    assert_eq!(console.get(&format!("/computers/{id}")).await.status, 404);
    assert_eq!(
        console
            .post_form(&format!("/computers/{id}/delete"), &[])
            .await
            .status,
        404
    );

    // The log says who, when and why.
    let log = console.get("/admin/deleted").await;
    assert_eq!(log.status, 200);
    for needle in [
        deviceid.as_str(),
        "<td class=\"by\">admin</td>",
        "Deleted by hand",
        "class=\"current\">Deleted computers<",
    ] {
        assert!(log.body.contains(needle), "{needle}: {}", log.body);
    }
    assert_eq!(reader.get("/admin/deleted").await.status, 403);

    // A PROLOG of the deleted DEVICEID does not bring it back; its next inventory is a new
    // computer.
    assert_eq!(server.send(&prolog_xml(&deviceid)).await.status, 200);
    let answer = server
        .post(zlib(xml.as_bytes()), "OCS-NG_unified_unix_agent_v2.10.0")
        .await;
    assert_eq!(answer.status, 200);
    let again = store.find_host_id(&deviceid).await.unwrap().unwrap();
    assert!(again.0 > id, "{again:?} after {id}");
    assert_eq!(store.count_hosts().await.unwrap(), 1);
}

#[tokio::test]
async fn the_api_deletes_and_patches_with_a_write_token_only() {
    let server = server(&[]);
    let device = "api-del-2024-01-01-00-00-00";
    let reply = server
        .send(&inventory_xml(
            device,
            "<HARDWARE><NAME>api-del</NAME></HARDWARE>",
        ))
        .await;
    assert_eq!(reply.status, 200);
    let store = store(&server).await;
    let id = store.find_host_id(device).await.unwrap().unwrap().0;
    let room = store
        .insert_accountinfo_field("Room", "Text")
        .await
        .unwrap();
    let floor = store
        .insert_accountinfo_field("Floor", "Integer")
        .await
        .unwrap();
    let read = server.token();
    let write = server.token_with_scope("write");
    let call = |method: &'static str, path: String, token: String, body: &'static str| {
        let server = &server;
        async move {
            let auth = format!("Bearer {token}");
            let a = server
                .request(
                    method,
                    &path,
                    body.as_bytes().to_vec(),
                    &[
                        ("Authorization", &auth),
                        ("Content-Type", "application/json"),
                    ],
                )
                .await;
            let json: serde_json::Value =
                serde_json::from_slice(&a.body).unwrap_or(serde_json::Value::Null);
            (a.status, json)
        }
    };
    let path = format!("/api/v1/computers/{id}");

    // Read tokens change nothing.
    for method in ["DELETE", "PATCH"] {
        let (status, json) = call(method, path.clone(), read.clone(), r#"{"tag":"X"}"#).await;
        assert_eq!(
            (status, json["code"].as_str()),
            (403, Some("E_READ_ONLY_TOKEN")),
            "{method}"
        );
    }
    assert_eq!(call("DELETE", path.clone(), String::new(), "").await.0, 401);

    // PATCH: TAG and fields by label or key, checked like the console.
    let (status, json) = call(
        "PATCH",
        path.clone(),
        write.clone(),
        r#"{"tag":"SITE-9","fields":{"room":"B12","Floor":"3"}}"#,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["tag"], "SITE-9");
    assert_eq!(json["accountinfo"][room.to_lowercase()], "B12");
    assert_eq!(json["accountinfo"][floor.to_lowercase()], "3");
    let body: &'static str =
        Box::leak(format!(r#"{{"fields":{{"{room}":"C1"}}}}"#).into_boxed_str());
    let (status, json) = call("PATCH", path.clone(), write.clone(), body).await;
    assert_eq!(
        (status, &json["accountinfo"][room.to_lowercase()]),
        (200, &serde_json::json!("C1"))
    );
    for (body, code) in [
        (r#"{"fields":{"Floor":"third"}}"#, "E_BAD_VALUE"),
        (r#"{"fields":{"Nowhere":"1"}}"#, "E_BAD_VALUE"),
        (r#"{"tag":""}"#, "E_BAD_VALUE"),
        (r#"{}"#, "E_BAD_PARAM"),
        (r#"{"tag":"A","colour":"red"}"#, "E_BAD_JSON"),
        ("not json", "E_BAD_JSON"),
    ] {
        let (status, json) = call("PATCH", path.clone(), write.clone(), body).await;
        assert_eq!((status, json["code"].as_str()), (400, Some(code)), "{body}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let huge: &'static str =
        Box::leak(format!(r#"{{"tag":"{}"}}"#, "x".repeat(70_000)).into_boxed_str());
    assert_eq!(
        call("PATCH", path.clone(), write.clone(), huge).await.0,
        413
    );
    let (_, json) = server.api(&path, &read).await;
    assert_eq!(json["tag"], "SITE-9", "refused changes stored nothing");
    assert_eq!(
        call(
            "PATCH",
            "/api/v1/computers/999999".into(),
            write.clone(),
            r#"{"tag":"A"}"#
        )
        .await
        .0,
        404
    );

    // DELETE: 204, then 404.
    assert_eq!(
        call("DELETE", "/api/v1/computers/abc".into(), write.clone(), "")
            .await
            .0,
        400
    );
    let (status, _) = call("DELETE", path.clone(), write.clone(), "").await;
    assert_eq!(status, 204);
    assert_gone(&store, HostId(id), device).await;
    let (status, json) = call("DELETE", path.clone(), write.clone(), "").await;
    assert_eq!((status, json["code"].as_str()), (404, Some("E_NOT_FOUND")));
    assert_eq!(server.api(&path, &read).await.0, 404);
    let (_, log) = store
        .list_deleted(ocs_storage::Page {
            number: 1,
            size: 10,
        })
        .await
        .unwrap();
    assert!(log[0].deleted_by.starts_with("token:t"), "{log:?}");
    assert_eq!(store.count_deleted_equiv(HostId(id)).await.unwrap(), 0);
}

#[tokio::test]
async fn trace_deleted_records_deletions_in_deleted_equiv() {
    let server = server(&[]);
    server.set_option("TRACE_DELETED", "1");
    let ids = fleet(&server, 3).await;
    let out = server
        .cli(&[
            "computers",
            "delete",
            &ids[0].0.to_string(),
            &ids[1].0.to_string(),
        ])
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let store = store(&server).await;
    for id in &ids[..2] {
        assert_eq!(store.count_deleted_equiv(*id).await.unwrap(), 1);
    }
    assert_eq!(store.count_deleted_equiv(ids[2]).await.unwrap(), 0);
}

#[tokio::test]
async fn the_command_line_deletes_by_id_and_cleans_inactive_computers() {
    let server = server(&[]);
    let ids = fleet(&server, 40).await;
    assert_eq!(ids.len(), 40);
    let store = store(&server).await;
    let inactive = store.count_inactive(now() - 30 * DAY).await.unwrap();
    assert!(inactive > 5 && inactive < 40, "{inactive}");

    let dry = server
        .cli(&["computers", "clean", "--inactive-days", "30", "--dry-run"])
        .unwrap();
    assert!(dry.status.success(), "{dry:?}");
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        text.contains(&format!(
            "{inactive} computer(s) not seen for 30 days would be deleted"
        )),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.contains("synthetic-")).count(),
        usize::try_from(inactive.min(10)).unwrap()
    );
    assert_eq!(
        store.count_hosts().await.unwrap(),
        40,
        "a dry run deletes nothing"
    );

    let clean = server
        .cli(&["computers", "clean", "--inactive-days", "30"])
        .unwrap();
    assert!(clean.status.success(), "{clean:?}");
    let text = String::from_utf8_lossy(&clean.stdout);
    assert!(
        text.contains(&format!(
            "deleted {inactive} computer(s) not seen for 30 days"
        )),
        "{text}"
    );
    assert_eq!(store.count_hosts().await.unwrap(), 40 - inactive);
    assert_eq!(store.count_inactive(now() - 30 * DAY).await.unwrap(), 0);

    let left = store.existing_hosts(&ids).await.unwrap();
    let out = server
        .cli(&[
            "computers",
            "delete",
            &left[0].0.to_string(),
            &left[1].0.to_string(),
        ])
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("deleted 2 computer(s)"));
    let out = server
        .cli(&[
            "computers",
            "delete",
            &left[2].0.to_string(),
            "999999",
            "999998",
        ])
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no computer with ID 999998, 999999"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("deleted 1 computer(s)"));
    assert_eq!(store.count_hosts().await.unwrap(), 40 - inactive - 3);

    for bad in [
        vec!["computers", "clean", "--inactive-days", "0"],
        vec!["computers", "clean", "--inactive-days", "abc"],
        vec!["computers", "delete"],
        vec!["computers", "delete", "x"],
    ] {
        let out = server.cli(&bad).unwrap();
        assert!(!out.status.success(), "{bad:?}");
        assert!(!out.stderr.is_empty(), "{bad:?}");
    }
    let (total, log) = store
        .list_deleted(ocs_storage::Page {
            number: 1,
            size: 100,
        })
        .await
        .unwrap();
    assert_eq!(total, inactive + 3);
    assert!(log.iter().all(|r| r.deleted_by.starts_with("cli")));
    assert_eq!(
        log.iter().filter(|r| r.reason == "inactive:30").count(),
        usize::try_from(inactive).unwrap()
    );
    for id in &ids {
        if store.existing_hosts(&[*id]).await.unwrap().is_empty() {
            let d = format!("synthetic-{:07}-2024-01-01-00-00-00", id.0);
            assert_gone(&store, *id, &d).await;
        }
    }
    let help = server.cli(&["computers", "clean", "--help"]).unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--dry-run"));
}

#[tokio::test]
async fn the_console_cleans_inactive_computers_after_a_preview() {
    let server = server(&[]);
    let ids = fleet(&server, 30).await;
    let store = store(&server).await;
    let inactive = store.count_inactive(now() - 30 * DAY).await.unwrap();
    assert!(inactive > 1, "{inactive}");
    let console = Console::sign_in_admin(&server).await;
    let page = console.get("/admin/inactive").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"inactive-preview-form\""));
    assert!(!page.body.contains("id=\"inactive-clean-form\""));

    let preview = console.get("/admin/inactive?days=30").await;
    assert_eq!(preview.status, 200);
    assert!(
        preview.body.contains(&format!("data-count=\"{inactive}\"")),
        "{}",
        preview.body
    );
    assert!(preview.body.contains(&format!(
        "{inactive} computers have not been seen for 30 days."
    )));
    let sample = preview.body.matches("<tr data-computer=").count();
    assert_eq!(sample, usize::try_from(inactive.min(10)).unwrap());
    assert!(preview.body.contains("id=\"inactive-clean-form\""));
    assert_eq!(
        store.count_hosts().await.unwrap(),
        30,
        "a preview deletes nothing"
    );

    for bad in ["0", "abc", "5000"] {
        let refused = console.get(&format!("/admin/inactive?days={bad}")).await;
        let next = follow(&console, &refused, "/admin/inactive").await;
        assert!(
            next.body.contains("between 1 and 3650"),
            "{bad}: {}",
            next.body
        );
        let refused = console.post_form("/admin/inactive", &[("days", bad)]).await;
        let next = follow(&console, &refused, "/admin/inactive").await;
        assert!(next.body.contains("class=\"flash-error\""), "{bad}");
    }
    assert_eq!(store.count_hosts().await.unwrap(), 30);

    let reader = read_only_user(&server, "reader", "reader-password-1").await;
    assert_eq!(reader.get("/admin/inactive?days=30").await.status, 403);
    assert_eq!(
        reader
            .post_form("/admin/inactive", &[("days", "30")])
            .await
            .status,
        403
    );
    assert_eq!(store.count_hosts().await.unwrap(), 30);

    let cleaned = console
        .post_form("/admin/inactive", &[("days", "30")])
        .await;
    let next = follow(&console, &cleaned, "/admin/inactive?days=30").await;
    assert!(
        next.body.contains(&format!(
            "{inactive} computers not seen for 30 days deleted."
        )),
        "{}",
        next.body
    );
    assert!(next.body.contains("data-count=\"0\""));
    assert_eq!(store.count_hosts().await.unwrap(), 30 - inactive);
    let log = console.get("/admin/deleted").await;
    assert_eq!(
        log.body.matches("Not seen for 30 days").count(),
        usize::try_from(inactive).unwrap()
    );
    for id in &ids {
        if store.existing_hosts(&[*id]).await.unwrap().is_empty() {
            assert_gone(
                &store,
                *id,
                &format!("synthetic-{:07}-2024-01-01-00-00-00", id.0),
            )
            .await;
        }
    }

    // In French too.
    let fr = console
        .post_form("/account/language", &[("language", "fr")])
        .await;
    assert_eq!(fr.status, 303);
    let page = console.get("/admin/inactive?days=30").await;
    assert!(page.body.contains("Ordinateurs inactifs"));
    assert!(
        page.body
            .contains("Aucun ordinateur n&#x27;est resté sans contact depuis 30 jours.")
            || page
                .body
                .contains("Aucun ordinateur n&#39;est resté sans contact depuis 30 jours."),
        "{}",
        page.body
    );
    let log = console.get("/admin/deleted").await;
    assert!(log.body.contains("Sans contact depuis 30 jours"));
}

#[tokio::test]
async fn the_scheduled_cleaning_deletes_inactive_computers_when_the_option_is_set() {
    let mut server = server(&[]);
    fleet(&server, 30).await;
    let store = store(&server).await;
    let inactive = store.count_inactive(now() - 20 * DAY).await.unwrap();
    assert!(inactive > 0);
    // Off by default: the check made at start deleted nothing.
    assert_eq!(store.count_hosts().await.unwrap(), 30);
    server.set_option("INACTIVE_CLEAN_DAYS", "20");
    server.restart().unwrap();
    eventually("computers left", 30 - inactive, || async {
        store.count_hosts().await.unwrap()
    })
    .await;
    let (_, log) = store
        .list_deleted(ocs_storage::Page {
            number: 1,
            size: 100,
        })
        .await
        .unwrap();
    assert!(log
        .iter()
        .all(|r| r.deleted_by == "scheduler" && r.reason == "inactive:20"));
    eventually("the log line", true, || async {
        server
            .log()
            .contains("scheduled cleaning deleted computers")
    })
    .await;
}
