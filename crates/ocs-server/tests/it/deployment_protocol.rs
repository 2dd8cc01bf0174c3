//! The deployment protocol through real requests (reference §2.1.6, §2.3, §6.4, §6.5): one
//! test per rule of §6.4. Packages, activations and affectations are written straight into
//! the server's database; PROLOG, DOWNLOAD and INVENTORY requests go through the server.

use std::collections::BTreeMap;

use ocs_storage::{ActivationId, Affectation, HostId, NewActivation, PackageRecord, Store};
use ocs_testkit::{inventory_xml, prolog_xml, TestServer};

use crate::{eventually, host_id, server, shape, store};

const DEV: &str = "target-2024-03-05-09-12-44";
const RELAY: &str = "relay-2024-03-05-09-12-44";

fn hardware(name: &str, ip: &str) -> String {
    format!("<HARDWARE><NAME>{name}</NAME><OSNAME>Debian</OSNAME><IPADDR>{ip}</IPADDR></HARDWARE>")
}

/// A server with deployment on and one inventoried computer.
async fn fleet() -> (TestServer, Store, HostId) {
    let s = server(&[]);
    s.set_option("DOWNLOAD", "1");
    assert_eq!(
        s.send(&inventory_xml(DEV, &hardware("target", "10.1.2.3")))
            .await
            .status,
        200
    );
    let id = host_id(&s, DEV).await;
    let db = store(&s).await;
    (s, db, id)
}

/// A package activated on the main server (and for `relay` when given).
async fn package(db: &Store, fileid: &str, relay: Option<HostId>) -> Vec<ActivationId> {
    db.insert_package(&PackageRecord {
        fileid: fileid.into(),
        name: format!("package {fileid}"),
        description: String::new(),
        os: "LINUX".into(),
        action: "EXECUTE".into(),
        action_param: "true".into(),
        priority: 5,
        fragments: 0,
        size: 0,
        digest: String::new(),
        created_at: 0,
        created_by: "admin".into(),
    })
    .await
    .unwrap();
    let mut new = vec![NewActivation {
        fileid: fileid.into(),
        info_loc: "main.example/download".into(),
        pack_loc: "main.example/download".into(),
        server: None,
        activated_by: "admin".into(),
    }];
    if let Some(r) = relay {
        new.push(NewActivation {
            fileid: fileid.into(),
            info_loc: "main.example/download".into(),
            pack_loc: "$IP$:8081/$NAME$".into(),
            server: Some((r, ocs_storage::RedistributionGroupId(1))),
            activated_by: "admin".into(),
        });
    }
    db.insert_activations(&new, 0).await.unwrap()
}

/// The PACK params of a PROLOG, by ID.
async fn packs(s: &TestServer) -> BTreeMap<String, BTreeMap<String, String>> {
    let a = s.send(&prolog_xml(DEV)).await;
    assert_eq!(a.status, 200);
    shape(&a.xml()).options["DOWNLOAD"]
        .iter()
        .filter(|p| p.get("TYPE").map(String::as_str) == Some("PACK"))
        .map(|p| (p["ID"].clone(), p.clone()))
        .collect()
}

fn ids(p: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<&str> {
    p.keys().map(String::as_str).collect()
}

/// The status of a computer's affectation of `fileid`.
async fn status(db: &Store, id: HostId, fileid: &str) -> Option<Option<String>> {
    db.affectations_of_computer(id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.fileid == fileid)
        .map(|a| a.status)
}

async fn report(s: &TestServer, fileid: &str, err: &str) {
    let a = s
        .send(&format!(
            r#"<REQUEST DEVICEID="{DEV}" ERR="{err}" ID="{fileid}" QUERY="DOWNLOAD" />"#
        ))
        .await;
    assert_eq!(a.status, 200);
    assert!(a.body.is_empty(), "§2.3: empty body");
}

async fn history(s: &TestServer, ids: &[&str]) {
    let packages: String = ids
        .iter()
        .map(|i| format!("<PACKAGE ID=\"{i}\"/>"))
        .collect();
    let content = format!(
        "{}<DOWNLOAD><HISTORY>{packages}</HISTORY></DOWNLOAD>",
        hardware("target", "10.1.2.3")
    );
    assert_eq!(s.send(&inventory_xml(DEV, &content)).await.status, 200);
}

#[tokio::test]
async fn affected_package_is_offered_then_notified_until_a_result_comes() {
    let (s, db, id) = fleet().await;
    let act = package(&db, "1709631234", None).await;
    db.affect_computers(act[0], &[id], &Affectation::default())
        .await
        .unwrap();
    let p = packs(&s).await;
    assert_eq!(ids(&p), ["1709631234"]);
    let pack = &p["1709631234"];
    assert_eq!(pack["INFO_LOC"], "main.example/download");
    assert_eq!(pack["PACK_LOC"], "main.example/download");
    assert_eq!(pack["CERT_PATH"], "INSTALL_PATH");
    assert_eq!(pack["CERT_FILE"], "INSTALL_PATH/cacert.pem");
    assert_eq!(pack["FORCE"], "0");
    assert_eq!(pack["SCHEDULE"], "");
    assert_eq!(pack["POSTCMD"], "");
    eventually(
        "NOTIFIED after the PROLOG",
        Some(Some("NOTIFIED".to_owned())),
        || status(&db, id, "1709631234"),
    )
    .await;
    assert_eq!(
        ids(&packs(&s).await),
        ["1709631234"],
        "NOTIFIED is offered again"
    );
    report(&s, "1709631234", "SUCCESS").await;
    assert_eq!(
        status(&db, id, "1709631234").await,
        Some(Some("SUCCESS".to_owned()))
    );
    assert!(packs(&s).await.is_empty(), "a result stops the offers");
}

#[tokio::test]
async fn download_off_offers_nothing() {
    let (s, db, id) = fleet().await;
    let act = package(&db, "1709631300", None).await;
    db.affect_computers(act[0], &[id], &Affectation::default())
        .await
        .unwrap();
    s.set_option("DOWNLOAD", "0");
    let a = s.send(&prolog_xml(DEV)).await;
    let block = &shape(&a.xml()).options["DOWNLOAD"];
    assert_eq!(block.len(), 1, "only the CONF param");
    assert_eq!(block[0]["ON"], "0");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        status(&db, id, "1709631300").await,
        Some(None),
        "still waiting"
    );
}

#[tokio::test]
async fn history_makes_success_already_in_history_unless_forced() {
    let (s, db, id) = fleet().await;
    let plain = package(&db, "1709631400", None).await;
    let forced = package(&db, "1709631401", None).await;
    history(&s, &["1709631400", "1709631401"]).await;
    db.affect_computers(plain[0], &[id], &Affectation::default())
        .await
        .unwrap();
    let how = Affectation {
        forced: true,
        schedule: "2030/01/02 03:04".into(),
        postcmd: "REBOOT".into(),
    };
    db.affect_computers(forced[0], &[id], &how).await.unwrap();
    let p = packs(&s).await;
    assert_eq!(ids(&p), ["1709631401"]);
    assert_eq!(p["1709631401"]["FORCE"], "1");
    assert_eq!(p["1709631401"]["SCHEDULE"], "2030/01/02 03:04");
    assert_eq!(p["1709631401"]["POSTCMD"], "REBOOT");
    eventually(
        "in history",
        Some(Some("SUCCESS_ALREADY_IN_HISTORY".to_owned())),
        || status(&db, id, "1709631400"),
    )
    .await;
}

#[tokio::test]
async fn inventory_history_is_kept_for_known_packages() {
    let (s, db, id) = fleet().await;
    package(&db, "1709631500", None).await;
    s.set_option("INVENTORY_WRITE_DIFF", "1");
    history(&s, &["1709631500", "1234"]).await;
    assert_eq!(
        db.download_history_named(id).await.unwrap(),
        vec![("1709631500".to_owned(), "package 1709631500".to_owned())]
    );
}

#[tokio::test]
async fn group_packages_with_trace_events_get_rows() {
    let (s, db, id) = fleet().await;
    let act = package(&db, "1709631600", None).await;
    let group = db.insert_synthetic_group("g", &[(id, 1)], 0).await.unwrap();
    db.affect_group(
        group,
        act[0],
        &Affectation {
            forced: true,
            ..Affectation::default()
        },
    )
    .await
    .unwrap();
    let p = packs(&s).await;
    assert_eq!(ids(&p), ["1709631600"]);
    assert_eq!(p["1709631600"]["FORCE"], "1");
    eventually("a traced row", Some(Some("NOTIFIED".to_owned())), || {
        status(&db, id, "1709631600")
    })
    .await;
    let rows = db.affectations_of_computer(id).await.unwrap();
    assert!(rows[0].affectation.forced, "the force row comes along");
    // Step 3 now offers it, from the computer's own row, until the agent reports.
    assert_eq!(ids(&packs(&s).await), ["1709631600"]);
    report(&s, "1709631600", "ERR_BAD_DIGEST").await;
    assert!(packs(&s).await.is_empty());
}

#[tokio::test]
async fn group_packages_without_trace_events_are_listed_every_time() {
    let (s, db, id) = fleet().await;
    s.set_option("DOWNLOAD_GROUPS_TRACE_EVENTS", "0");
    let act = package(&db, "1709631700", None).await;
    let group = db.insert_synthetic_group("g", &[(id, 1)], 0).await.unwrap();
    db.affect_group(group, act[0], &Affectation::default())
        .await
        .unwrap();
    assert_eq!(ids(&packs(&s).await), ["1709631700"]);
    assert_eq!(ids(&packs(&s).await), ["1709631700"]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(status(&db, id, "1709631700").await, None, "no row written");
    s.set_option("ENABLE_GROUPS", "0");
    assert!(packs(&s).await.is_empty(), "groups off: not even read");
}

#[tokio::test]
async fn redistribution_location_is_substituted_from_the_server_row() {
    let (s, db, id) = fleet().await;
    assert_eq!(
        s.send(&inventory_xml(RELAY, &hardware("relay", "10.9.8.7")))
            .await
            .status,
        200
    );
    let relay = host_id(&s, RELAY).await;
    let act = package(&db, "1709631800", Some(relay)).await;
    db.affect_computers(act[1], &[id], &Affectation::default())
        .await
        .unwrap();
    let p = packs(&s).await;
    assert_eq!(p["1709631800"]["PACK_LOC"], "10.9.8.7:8081/relay");
    assert_eq!(p["1709631800"]["INFO_LOC"], "main.example/download");
}

#[tokio::test]
async fn status_api_counts_and_search_criterion_lists_them() {
    let (s, db, id) = fleet().await;
    assert_eq!(
        s.send(&inventory_xml(RELAY, &hardware("other", "10.9.8.7")))
            .await
            .status,
        200
    );
    let other = host_id(&s, RELAY).await;
    let act = package(&db, "1709631900", None).await;
    db.affect_computers(act[0], &[id, other], &Affectation::default())
        .await
        .unwrap();
    report(&s, "1709631900", "ERR_BAD_DIGEST").await;
    let token = s.token();
    let (code, body) = s.api("/api/v1/packages/1709631900/status", &token).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["total"], 2);
    assert_eq!(body["statuses"][0]["status"], "WAITING");
    assert_eq!(body["statuses"][1]["status"], "ERR_BAD_DIGEST");
    assert_eq!(body["statuses"][1]["search"], "1709631900:ERR_BAD_DIGEST");
    let (code, _) = s.api("/api/v1/packages/1709631999/status", &token).await;
    assert_eq!(code, 404);
    let (code, _) = s.api("/api/v1/packages/x'/status", &token).await;
    assert_eq!(code, 400);
    // The search criterion, through a dynamic group made from it.
    let out = s
        .cli(&[
            "groups",
            "create",
            "failed",
            "--criteria",
            "f0=deployment&o0=equal&v0=1709631900:ERR_*",
        ])
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("with 1 members"), "{stderr}");
}
