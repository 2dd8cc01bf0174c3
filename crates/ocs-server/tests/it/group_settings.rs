//! Group settings at the PROLOG, one test per combination rule of reference §10.3 (and
//! `ENABLE_GROUPS` off ignoring them all), and the group page's customisation form. Groups
//! and memberships are written straight into the server's database.

use std::collections::BTreeMap;

use ocs_storage::{DeviceSetting, HostId, Store};
use ocs_testkit::{inventory_xml, prolog_xml, TestServer};

use crate::console::{read_only_user, Console};
use crate::{host_id, server, shape, store, ReplyShape};

const DEV: &str = "member-2024-03-05-09-12-44";

/// A server with one inventoried computer (so that FREQUENCY can answer STOP).
async fn fleet(env: &[(&str, &str)]) -> (TestServer, Store, HostId) {
    let s = server(env);
    let content = "<HARDWARE><NAME>member</NAME><OSNAME>Debian</OSNAME></HARDWARE>\
         <NETWORKS><IPADDRESS>10.1.2.3</IPADDRESS><IPSUBNET>10.1.2.0</IPSUBNET>\
         <IPMASK>255.255.255.0</IPMASK><MACADDR>aa:aa:aa:aa:aa:aa</MACADDR><STATUS>Up</STATUS></NETWORKS>";
    assert_eq!(s.send(&inventory_xml(DEV, content)).await.status, 200);
    let id = host_id(&s, DEV).await;
    let db = store(&s).await;
    (s, db, id)
}

fn setting(name: &str, ivalue: i64) -> DeviceSetting {
    DeviceSetting {
        name: name.into(),
        ivalue: Some(ivalue),
        tvalue: None,
    }
}

/// A group with `member` in it as `kind` (STATIC 0 computed, 1 forced in, 2 forced out) and
/// these settings.
async fn group(db: &Store, name: &str, member: HostId, kind: i64, settings: &[(&str, i64)]) {
    let g = db
        .insert_synthetic_group(name, &[(member, kind)], 0)
        .await
        .unwrap();
    let rows: Vec<DeviceSetting> = settings.iter().map(|(n, v)| setting(n, *v)).collect();
    db.update_group_settings(g, &rows, &[]).await.unwrap();
}

async fn prolog(s: &TestServer) -> ReplyShape {
    let a = s.send(&prolog_xml(DEV)).await;
    assert_eq!(a.status, 200);
    shape(&a.xml())
}

/// The configuration PARAM of the DOWNLOAD block.
fn download(reply: &ReplyShape) -> BTreeMap<String, String> {
    reply.options["DOWNLOAD"][0].clone()
}

#[tokio::test]
async fn frequency_is_the_smallest_of_the_computer_and_its_groups() {
    let (s, db, id) = fleet(&[]).await;
    s.set_option("FREQUENCY", "7");
    assert_eq!(
        prolog(&s).await.scalars["RESPONSE"],
        "STOP",
        "inventoried today"
    );
    db.set_device_setting(id, &setting("FREQUENCY", 30))
        .await
        .unwrap();
    group(&db, "weekly", id, 0, &[("FREQUENCY", 14)]).await;
    assert_eq!(prolog(&s).await.scalars["RESPONSE"], "STOP");
    group(&db, "always", id, 1, &[("FREQUENCY", 0)]).await;
    assert_eq!(
        prolog(&s).await.scalars["RESPONSE"],
        "SEND",
        "a group's 0 is smaller than the computer's 30"
    );
    group(&db, "never", id, 1, &[("FREQUENCY", -1)]).await;
    let reply = prolog(&s).await;
    assert_eq!(reply.scalars["RESPONSE"], "STOP");
    assert!(reply.options.is_empty(), "-1 is a BREAK: no option block");
}

#[tokio::test]
async fn prolog_freq_and_inventory_on_startup_are_the_computers_else_the_smallest_group() {
    let (s, db, id) = fleet(&[]).await;
    group(
        &db,
        "a",
        id,
        0,
        &[("PROLOG_FREQ", 12), ("INVENTORY_ON_STARTUP", 1)],
    )
    .await;
    group(
        &db,
        "b",
        id,
        1,
        &[("PROLOG_FREQ", 6), ("INVENTORY_ON_STARTUP", 0)],
    )
    .await;
    let reply = prolog(&s).await;
    assert_eq!(reply.scalars["PROLOG_FREQ"], "6");
    assert_eq!(reply.scalars["INVENTORY_ON_STARTUP"], "0");
    db.set_device_setting(id, &setting("PROLOG_FREQ", 48))
        .await
        .unwrap();
    db.set_device_setting(id, &setting("INVENTORY_ON_STARTUP", 1))
        .await
        .unwrap();
    let reply = prolog(&s).await;
    assert_eq!(
        reply.scalars["PROLOG_FREQ"], "48",
        "the computer's row wins"
    );
    assert_eq!(reply.scalars["INVENTORY_ON_STARTUP"], "1");
}

#[tokio::test]
async fn download_switch_is_lowered_by_a_group_and_replaced_by_the_computer_while_on() {
    let (s, db, id) = fleet(&[]).await;
    s.set_option("DOWNLOAD", "1");
    group(&db, "on", id, 0, &[("DOWNLOAD_SWITCH", 1)]).await;
    assert_eq!(download(&prolog(&s).await)["ON"], "1");
    db.set_device_setting(id, &setting("DOWNLOAD_SWITCH", 0))
        .await
        .unwrap();
    assert_eq!(
        download(&prolog(&s).await)["ON"],
        "0",
        "the computer's row replaces a result still on"
    );
    db.set_device_setting(id, &setting("DOWNLOAD_SWITCH", 1))
        .await
        .unwrap();
    group(&db, "off", id, 1, &[("DOWNLOAD_SWITCH", 0)]).await;
    assert_eq!(
        download(&prolog(&s).await)["ON"],
        "0",
        "a group's off is not undone by the computer"
    );
    s.set_option("DOWNLOAD", "0");
    assert_eq!(
        download(&prolog(&s).await)["ON"],
        "0",
        "the option stays master"
    );
}

#[tokio::test]
async fn download_latencies_are_the_largest_and_lengths_and_timeouts_the_smallest() {
    let (s, db, id) = fleet(&[]).await;
    group(
        &db,
        "slow",
        id,
        0,
        &[
            ("DOWNLOAD_FRAG_LATENCY", 20),
            ("DOWNLOAD_CYCLE_LATENCY", 300),
            ("DOWNLOAD_PERIOD_LATENCY", 2),
            ("DOWNLOAD_PERIOD_LENGTH", 50),
            ("DOWNLOAD_TIMEOUT", 60),
            ("DOWNLOAD_EXECUTION_TIMEOUT", 240),
        ],
    )
    .await;
    group(
        &db,
        "slower",
        id,
        1,
        &[
            ("DOWNLOAD_FRAG_LATENCY", 90),
            ("DOWNLOAD_CYCLE_LATENCY", 30),
            ("DOWNLOAD_PERIOD_LATENCY", 5),
            ("DOWNLOAD_PERIOD_LENGTH", 5),
            ("DOWNLOAD_TIMEOUT", 7),
            ("DOWNLOAD_EXECUTION_TIMEOUT", 30),
        ],
    )
    .await;
    let conf = download(&prolog(&s).await);
    let got: Vec<&str> = [
        "FRAG_LATENCY",
        "CYCLE_LATENCY",
        "PERIOD_LATENCY",
        "PERIOD_LENGTH",
        "TIMEOUT",
        "EXECUTION_TIMEOUT",
    ]
    .iter()
    .map(|k| conf[*k].as_str())
    .collect();
    assert_eq!(got, ["90", "300", "5", "5", "7", "30"]);
    db.set_device_setting(id, &setting("DOWNLOAD_FRAG_LATENCY", 1))
        .await
        .unwrap();
    db.set_device_setting(id, &setting("DOWNLOAD_TIMEOUT", 90))
        .await
        .unwrap();
    let conf = download(&prolog(&s).await);
    assert_eq!(
        (conf["FRAG_LATENCY"].as_str(), conf["TIMEOUT"].as_str()),
        ("1", "90"),
        "the computer's rows win"
    );
}

#[tokio::test]
async fn a_group_with_ipdiscover_0_keeps_its_members_from_scanning() {
    let (s, db, id) = fleet(&[]).await;
    s.set_option("FREQUENCY", "7");
    db.set_device_setting(
        id,
        &DeviceSetting {
            name: "IPDISCOVER".into(),
            ivalue: Some(2),
            tvalue: Some("10.1.2.0".into()),
        },
    )
    .await
    .unwrap();
    group(&db, "slow", id, 1, &[("IPDISCOVER_LATENCY", 250)]).await;
    let reply = prolog(&s).await;
    assert_eq!(
        reply.scalars["RESPONSE"], "SEND",
        "an elected computer sends"
    );
    let order = &reply.options["IPDISCOVER"][0];
    assert_eq!(
        (order["#text"].as_str(), order["IPDISC_LAT"].as_str()),
        ("10.1.2.0", "250"),
        "the largest group latency"
    );
    group(&db, "no-scan", id, 0, &[("IPDISCOVER", 0)]).await;
    let reply = prolog(&s).await;
    assert!(!reply.options.contains_key("IPDISCOVER"), "{reply:?}");
    assert_eq!(reply.scalars["RESPONSE"], "STOP", "nothing forces a SEND");
    s.set_option("IPDISCOVER_USE_GROUPS", "0");
    assert!(
        prolog(&s).await.options.contains_key("IPDISCOVER"),
        "IPDISCOVER_USE_GROUPS off: groups do not exclude"
    );
}

#[tokio::test]
async fn snmp_switch_of_groups_sends_no_snmp_block_yet() {
    let (s, db, id) = fleet(&[]).await;
    s.set_option("SNMP", "1");
    group(&db, "snmp", id, 1, &[("SNMP_SWITCH", 1)]).await;
    // FIXME(SNMP issue 14): the SNMP block is not built yet; when it is, it reads the combined
    // SNMP_SWITCH (unit-tested in app::groups::settings) as the DOWNLOAD block reads its own.
    assert!(!prolog(&s).await.options.contains_key("SNMP"));
}

#[tokio::test]
async fn forced_out_members_and_enable_groups_off_ignore_group_settings() {
    let (s, db, id) = fleet(&[]).await;
    s.set_option("FREQUENCY", "7");
    s.set_option("DOWNLOAD", "1");
    group(
        &db,
        "forced-out",
        id,
        2,
        &[("FREQUENCY", 0), ("PROLOG_FREQ", 2)],
    )
    .await;
    let reply = prolog(&s).await;
    assert_eq!(
        (
            reply.scalars["RESPONSE"].as_str(),
            reply.scalars["PROLOG_FREQ"].as_str()
        ),
        ("STOP", "24"),
        "a computer forced out of a group is not a member"
    );
    group(
        &db,
        "member",
        id,
        1,
        &[
            ("FREQUENCY", 0),
            ("PROLOG_FREQ", 3),
            ("DOWNLOAD_SWITCH", 0),
            ("DOWNLOAD_FRAG_LATENCY", 99),
        ],
    )
    .await;
    let reply = prolog(&s).await;
    assert_eq!(
        (
            reply.scalars["RESPONSE"].as_str(),
            reply.scalars["PROLOG_FREQ"].as_str()
        ),
        ("SEND", "3")
    );
    s.set_option("ENABLE_GROUPS", "0");
    let reply = prolog(&s).await;
    assert_eq!(
        (
            reply.scalars["RESPONSE"].as_str(),
            reply.scalars["PROLOG_FREQ"].as_str()
        ),
        ("STOP", "24"),
        "ENABLE_GROUPS off: groups say nothing"
    );
    let conf = download(&reply);
    assert_eq!(
        (conf["ON"].as_str(), conf["FRAG_LATENCY"].as_str()),
        ("1", "10")
    );
}

#[tokio::test]
async fn the_group_customisation_form_saves_what_the_next_prolog_applies() {
    let (s, db, id) = fleet(&[]).await;
    let admin = Console::sign_in_admin(&s).await;
    let g = db
        .insert_synthetic_group("office", &[(id, 1)], 0)
        .await
        .unwrap();
    let path = format!("/groups/{}/customisation", g.0);
    let saved = admin
        .post_form(
            &path,
            &[
                ("FREQUENCY", "0"),
                ("IPDISCOVER", "0"),
                ("PROLOG_FREQ", "6"),
                ("DOWNLOAD_FRAG_LATENCY", "30"),
                ("SNMP_SWITCH", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(
        saved.location.as_deref(),
        Some(path.trim_end_matches("/customisation"))
    );
    let mut stored = db.list_group_settings(g).await.unwrap();
    stored.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        stored,
        vec![
            setting("DOWNLOAD_FRAG_LATENCY", 30),
            setting("FREQUENCY", 0),
            setting("IPDISCOVER", 0),
            setting("PROLOG_FREQ", 6),
        ]
    );
    s.set_option("FREQUENCY", "7");
    let reply = prolog(&s).await;
    assert_eq!(
        (
            reply.scalars["RESPONSE"].as_str(),
            reply.scalars["PROLOG_FREQ"].as_str(),
            download(&reply)["FRAG_LATENCY"].as_str()
        ),
        ("SEND", "6", "30")
    );

    // Back to the defaults: an empty line clears the group's value.
    let cleared = admin
        .post_form(&path, &[("PROLOG_FREQ", ""), ("FREQUENCY", "")])
        .await;
    assert_eq!(cleared.status, 303);
    assert_eq!(prolog(&s).await.scalars["PROLOG_FREQ"], "24");

    // Refusals change nothing: out of bounds, a group elected for IpDiscover, not a number.
    let before = db.list_group_settings(g).await.unwrap();
    for fields in [
        [("PROLOG_FREQ", "0")],
        [("IPDISCOVER", "2")],
        [("DOWNLOAD_TIMEOUT", "soon")],
    ] {
        let refused = admin.post_form(&path, &fields).await;
        assert_eq!(refused.status, 303, "{fields:?}");
        assert!(
            refused
                .headers
                .iter()
                .any(|(k, v)| k == "set-cookie" && v.starts_with("ocs_flash=e")),
            "{fields:?}: {:?}",
            refused.headers
        );
        assert_eq!(
            db.list_group_settings(g).await.unwrap(),
            before,
            "{fields:?}"
        );
    }
    assert_eq!(
        admin
            .post_form("/groups/999999/customisation", &[("FREQUENCY", "1")])
            .await
            .status,
        404
    );
    // Without the CSRF token, and for a read-only account: refused.
    let forged = admin
        .post_raw(&path, &[("FREQUENCY", "1")], Some(&s.base_url))
        .await;
    assert_eq!(forged.status, 403);
    let viewer = read_only_user(&s, "viewer", "viewer-password").await;
    assert_eq!(
        viewer.post_form(&path, &[("FREQUENCY", "1")]).await.status,
        403
    );
    assert_eq!(db.list_group_settings(g).await.unwrap(), before);
}
