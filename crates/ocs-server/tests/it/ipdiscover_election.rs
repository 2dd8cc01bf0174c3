//! The automatic IP discovery election through the real server (reference §5.3, §5.4):
//! computers sending PROLOGs and inventories get elected after their third contact, at most
//! `IPDISCOVER` per network; a better or a silent one is replaced; one that stops reporting
//! loses it unless forced; results land in `netmap` with their first sighting kept. Time
//! passing is simulated by moving a computer's last contact and inventory into the past.

use ocs_storage::{DeviceSetting, HostId, Store};
use ocs_testkit::{inventory_xml, prolog_xml, TestServer};

use crate::{eventually, host_id, server, shape, store, ReplyShape};

const DAY: i64 = 86_400;
const NET: &str = "192.0.2.0";

/// An inventory of `name` with one interface up on 192.0.2.0/24, and an IPDISCOVER section
/// when `results` is given.
fn content(name: &str, results: Option<&[(&str, &str)]>) -> String {
    let scan = results
        .map(|hosts| {
            let hosts: String = hosts
                .iter()
                .map(|(ip, mac)| format!("<H><I>{ip}</I><M>{mac}</M><N>-</N></H>"))
                .collect();
            format!("<IPDISCOVER>{hosts}</IPDISCOVER>")
        })
        .unwrap_or_default();
    format!(
        "<HARDWARE><NAME>{name}</NAME><OSNAME>Debian</OSNAME></HARDWARE>\
         <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><IPADDRESS>192.0.2.10</IPADDRESS>\
         <IPSUBNET>{NET}</IPSUBNET><IPMASK>255.255.255.0</IPMASK>\
         <MACADDR>02:00:00:00:00:01</MACADDR><STATUS>Up</STATUS></NETWORKS>{scan}"
    )
}

fn deviceid(name: &str) -> String {
    format!("{name}-2024-03-05-09-12-44")
}

/// One agent run: PROLOG then INVENTORY (an unknown computer's PROLOG writes nothing, so a
/// first run is its inventory alone). Returns the PROLOG reply. The PROLOG's contact is
/// awaited before the inventory: written by the flusher meanwhile, it could otherwise land
/// after the inventory and leave its FIDELITY a contact short.
async fn contact(s: &TestServer, name: &str, results: Option<&[(&str, &str)]>) -> ReplyShape {
    let dev = deviceid(name);
    let db = store(s).await;
    let before = db.find_host(&dev).await.unwrap().map(|h| h.fidelity);
    let mut reply = ReplyShape {
        scalars: Default::default(),
        options: Default::default(),
        accountinfo: Vec::new(),
    };
    if let Some(before) = before {
        let answer = s.send(&prolog_xml(&dev)).await;
        assert_eq!(answer.status, 200);
        reply = shape(&answer.xml());
        eventually("the PROLOG's contact", Some(before + 1), || async {
            db.find_host(&dev).await.unwrap().map(|h| h.fidelity)
        })
        .await;
    }
    let inventory = s.send(&inventory_xml(&dev, &content(name, results))).await;
    assert_eq!(inventory.status, 200);
    db.close().await;
    reply
}

/// A computer with `runs` agent runs, `days_between` days apart (which makes its QUALITY).
async fn computer(
    s: &TestServer,
    db: &Store,
    name: &str,
    runs: usize,
    days_between: i64,
) -> HostId {
    contact(s, name, None).await;
    let id = host_id(s, &deviceid(name)).await;
    for _ in 1..runs {
        db.backdate_host(id, days_between * DAY).await.unwrap();
        contact(s, name, None).await;
    }
    id
}

async fn reason(db: &Store, id: HostId) -> Option<String> {
    db.find_election(id)
        .await
        .unwrap()
        .filter(|e| e.subnet.as_deref() == Some(NET))
        .map(|e| e.reason.unwrap_or_default())
}

#[tokio::test]
async fn computers_are_elected_after_their_third_contact_at_most_ipdiscover_per_network() {
    let s = server(&[]);
    let db = store(&s).await;
    let names = ["alpha", "bravo", "charlie"];
    let mut ids = Vec::new();
    for name in names {
        ids.push(computer(&s, &db, name, 2, 1).await);
    }
    for &id in &ids {
        assert_eq!(reason(&db, id).await, None, "two contacts are not enough");
    }
    for (name, &id) in names.iter().zip(&ids) {
        db.backdate_host(id, DAY).await.unwrap();
        contact(&s, name, None).await;
    }
    let got: Vec<Option<String>> = [
        reason(&db, ids[0]).await,
        reason(&db, ids[1]).await,
        reason(&db, ids[2]).await,
    ]
    .into();
    assert_eq!(
        got,
        [
            Some("free_slot".to_owned()),
            Some("free_slot".to_owned()),
            None
        ],
        "IPDISCOVER is 2: the third one finds no free slot and is no better"
    );
    let reply = shape(&s.send(&prolog_xml(&deviceid("alpha"))).await.xml());
    assert_eq!(reply.scalars["RESPONSE"], "SEND");
    let order = &reply.options["IPDISCOVER"][0];
    assert_eq!(
        (order["#text"].as_str(), order["IPDISC_LAT"].as_str()),
        (NET, "100")
    );
    let reply = shape(&s.send(&prolog_xml(&deviceid("charlie"))).await.xml());
    assert!(!reply.options.contains_key("IPDISCOVER"), "{reply:?}");
}

#[tokio::test]
async fn an_elected_computer_is_replaced_by_a_better_one_and_after_max_alive_days() {
    let s = server(&[]);
    s.set_option("IPDISCOVER", "1");
    let db = store(&s).await;
    // A contact every 5 days, then one every day: QUALITY 5 against 1, threshold 1.
    let slow = computer(&s, &db, "slow", 3, 5).await;
    assert_eq!(reason(&db, slow).await.as_deref(), Some("free_slot"));
    let fast = computer(&s, &db, "fast", 3, 1).await;
    assert_eq!(
        reason(&db, fast).await,
        Some(format!("replaced_quality:{}", slow.0))
    );
    assert_eq!(reason(&db, slow).await, None);
    contact(&s, "slow", None).await;
    assert_eq!(
        reason(&db, slow).await,
        None,
        "worse, it does not come back"
    );

    let peer = computer(&s, &db, "peer", 3, 1).await;
    assert_eq!(reason(&db, peer).await, None, "as good is not better");
    // The elected computer falls silent for IPDISCOVER_MAX_ALIVE (7) days and more.
    db.backdate_host(fast, 8 * DAY).await.unwrap();
    db.backdate_host(peer, DAY).await.unwrap();
    contact(&s, "peer", None).await;
    assert_eq!(
        reason(&db, peer).await,
        Some(format!("replaced_stale:{}", fast.0))
    );
    assert_eq!(reason(&db, fast).await, None);
}

#[tokio::test]
async fn an_elected_computer_that_stops_reporting_loses_it_unless_forced_and_results_keep_their_first_sighting(
) {
    let s = server(&[]);
    s.set_option("IPDISCOVER_NO_POSTPONE", "1");
    let db = store(&s).await;
    contact(&s, "scanner", None).await;
    let id = host_id(&s, &deviceid("scanner")).await;
    assert_eq!(
        reason(&db, id).await.as_deref(),
        Some("free_slot"),
        "IPDISCOVER_NO_POSTPONE: no need to wait"
    );
    let gateway = ("192.0.2.1", "00:1A:2B:3C:4D:5E");
    let printer = ("192.0.2.77", "3c:52:82:aa:bb:cc");
    let reply = contact(&s, "scanner", Some(&[gateway, printer, ("bad", "x")])).await;
    assert_eq!(reply.options["IPDISCOVER"][0]["#text"], NET);
    let first = db
        .find_netmap_entry("00:1a:2b:3c:4d:5e")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            first.ip.as_str(),
            first.netid.as_deref(),
            first.hardware_id,
            first.first_seen
        ),
        ("192.0.2.1", Some(NET), Some(id.0), first.date)
    );
    assert!(db.find_netmap_entry(printer.1).await.unwrap().is_some());
    // Seconds are the unit: the next scan must come in a later one.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    contact(&s, "scanner", Some(&[("192.0.2.2", gateway.1)])).await;
    let again = db.find_netmap_entry(gateway.1).await.unwrap().unwrap();
    assert_eq!(again.ip, "192.0.2.2");
    assert_eq!(again.first_seen, first.first_seen, "first sighting kept");
    assert!(again.date > first.date, "last sighting moves");
    assert_eq!(reason(&db, id).await.as_deref(), Some("free_slot"));

    contact(&s, "scanner", None).await;
    assert_eq!(
        reason(&db, id).await,
        None,
        "no IPDISCOVER section: no longer elected"
    );

    db.set_device_setting(
        id,
        &DeviceSetting {
            name: "IPDISCOVER".into(),
            ivalue: Some(2),
            tvalue: Some(NET.into()),
        },
    )
    .await
    .unwrap();
    contact(&s, "scanner", None).await;
    contact(&s, "scanner", None).await;
    let forced = db.find_election(id).await.unwrap().unwrap();
    assert_eq!(
        (forced.ivalue, forced.subnet.as_deref()),
        (2, Some(NET)),
        "forced: kept without results"
    );
    let reply = shape(&s.send(&prolog_xml(&deviceid("scanner"))).await.xml());
    assert_eq!(reply.options["IPDISCOVER"][0]["#text"], NET);
}
