//! Several server instances on one PostgreSQL database: what they store together must be
//! what one instance would store, whatever the interleaving.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use ocs_testkit::{create_pg_database, inventory_xml, prolog_xml, require_postgres, TestServer};
use serde_json::Value;

use crate::{real_agents::agent, shape};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ocs-server"))
}

/// Two instances on one fresh database.
fn pair(admin: &str, env: &[(&str, &str)]) -> (Arc<TestServer>, Arc<TestServer>) {
    let db = create_pg_database(admin).unwrap();
    let a = TestServer::start_on(bin(), env, Some(db.clone())).unwrap();
    let b = TestServer::start_on(bin(), env, Some(db)).unwrap();
    (Arc::new(a), Arc::new(b))
}

fn device(i: usize) -> String {
    format!("burst{i}-2024-01-01-00-00-00")
}

/// A generated inventory; `variant` changes the software list and a drive.
fn generated(i: usize, variant: usize) -> String {
    let software: String = (0..40 + variant * 7)
        .map(|k| format!("<SOFTWARES><NAME>pkg{k}</NAME><VERSION>{variant}.{k}</VERSION><PUBLISHER>Pub{}</PUBLISHER></SOFTWARES>", k % 5))
        .collect();
    inventory_xml(
        &device(i),
        &format!(
            "<HARDWARE><NAME>burst{i}</NAME><OSNAME>Linux</OSNAME><MEMORY>{}</MEMORY></HARDWARE>\
             <CPUS><TYPE>cpu{i}</TYPE><CORES>4</CORES></CPUS>\
             <DRIVES><TYPE>/</TYPE><TOTAL>1000</TOTAL><FREE>{}</FREE></DRIVES>\
             <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>00:00:00:00:{:02x}:01</MACADDR></NETWORKS>{software}",
            1024 + i,
            500 + variant,
            i
        ),
    )
}

/// Everything the API says about every computer, minus what differs between runs (IDs,
/// times, contact counters), keyed by DEVICEID.
async fn canonical(s: &TestServer) -> BTreeMap<String, Value> {
    let token = s.token();
    let (_, list) = s.api("/api/v1/computers?per_page=1000", &token).await;
    let mut out = BTreeMap::new();
    for item in list["items"].as_array().unwrap() {
        let (_, mut c) = s
            .api(&format!("/api/v1/computers/{}", item["id"]), &token)
            .await;
        let obj = c.as_object_mut().unwrap();
        for volatile in [
            "id",
            "last_inventory",
            "last_contact",
            "quality",
            "fidelity",
            "agent",
        ] {
            obj.remove(volatile);
        }
        out.insert(item["deviceid"].as_str().unwrap().to_owned(), c);
    }
    out
}

#[tokio::test]
async fn two_instances_store_what_one_would() {
    let Some(admin) = require_postgres("two_instances_store_what_one_would") else {
        return;
    };
    let (a, b) = pair(&admin, &[]);

    // A burst of distinct devices, each inventoried twice, alternately through both.
    let mut tasks = Vec::new();
    for round in 0..2 {
        for i in 0..16 {
            let target = if (i + round) % 2 == 0 {
                a.clone()
            } else {
                b.clone()
            };
            tasks.push(tokio::spawn(async move {
                target.send(&generated(i, round)).await.status
            }));
        }
        for t in tasks.drain(..) {
            assert_eq!(t.await.unwrap(), 200);
        }
    }
    // One instance, sequentially, the same work.
    let single = TestServer::start_on(bin(), &[], None).unwrap();
    for round in 0..2 {
        for i in 0..16 {
            assert_eq!(single.send(&generated(i, round)).await.status, 200);
        }
    }
    let (two, one) = (canonical(&a).await, canonical(&single).await);
    assert_eq!(two.len(), 16, "no duplicate or lost computers");
    for (deviceid, expected) in &one {
        assert_eq!(two.get(deviceid), Some(expected), "{deviceid}");
    }
}

#[tokio::test]
async fn the_same_device_sent_to_both_instances_at_once() {
    let Some(admin) = require_postgres("the_same_device_sent_to_both_instances_at_once") else {
        return;
    };
    let (a, b) = pair(&admin, &[]);
    // Prologs of one device through both instances at once: no lost counter update.
    a.send(&generated(99, 0)).await;
    let mut prologs = Vec::new();
    for k in 0..12 {
        let target = if k % 2 == 0 { a.clone() } else { b.clone() };
        prologs.push(tokio::spawn(async move {
            target.send(&prolog_xml(&device(99))).await.status
        }));
    }
    for p in prologs {
        assert_eq!(p.await.unwrap(), 200);
    }
    let token = a.token();
    let (_, list) = a.api("/api/v1/computers", &token).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    crate::eventually("FIDELITY after 1 + 12 contacts", 13, || async {
        a.api(&format!("/api/v1/computers/{id}"), &token).await.1["fidelity"]
            .as_i64()
            .unwrap_or(0)
    })
    .await;

    // Different inventories of one device, to both instances at the same moment.
    for _ in 0..4 {
        let mut sends = Vec::new();
        for variant in 1..=6 {
            let target = if variant % 2 == 0 {
                a.clone()
            } else {
                b.clone()
            };
            sends.push(tokio::spawn(async move {
                target.send(&generated(99, variant)).await.status
            }));
        }
        for s in sends {
            assert_eq!(s.await.unwrap(), 200);
        }
        let (_, list) = a.api("/api/v1/computers", &token).await;
        assert_eq!(list["total"], 1, "one computer");
        let (_, c) = b.api(&format!("/api/v1/computers/{id}"), &token).await;
        // The stored state is exactly one of the inventories sent, not a mix.
        let software = c["softwares"].as_array().unwrap();
        let variant: usize = software[0]["version"]
            .as_str()
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(software.len(), 40 + variant * 7);
        assert!(
            software.iter().all(|s| s["version"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{variant}."))),
            "mixed software"
        );
        assert_eq!(
            c["drives"][0]["free"],
            500 + variant as i64,
            "drives from another inventory than software"
        );
    }
}

#[tokio::test]
async fn options_changed_through_one_instance_apply_to_the_other() {
    let Some(admin) = require_postgres("options_changed_through_one_instance_apply_to_the_other")
    else {
        return;
    };
    let (a, b) = pair(&admin, &[]);
    assert_eq!(
        shape(&b.send(&prolog_xml(&device(1))).await.xml()).scalars["PROLOG_FREQ"],
        "24"
    );
    a.set_option("PROLOG_FREQ", "6");
    assert_eq!(
        shape(&b.send(&prolog_xml(&device(1))).await.xml()).scalars["PROLOG_FREQ"],
        "6"
    );
}

#[tokio::test]
async fn concurrent_duplicate_merges_leave_one_computer() {
    let Some(admin) = require_postgres("concurrent_duplicate_merges_leave_one_computer") else {
        return;
    };
    let (a, b) = pair(&admin, &[]);
    let machine = |deviceid: &str| {
        inventory_xml(
            deviceid,
            "<HARDWARE><NAME>pc7</NAME></HARDWARE><BIOS><SSN>SER777</SSN></BIOS>\
             <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>00:11:22:33:44:77</MACADDR></NETWORKS>\
             <ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>SALES</KEYVALUE></ACCOUNTINFO>",
        )
    };
    assert_eq!(
        a.send(&machine("pc7-2020-01-01-00-00-00")).await.status,
        200
    );
    // The re-installed machine shows up twice at once, through both instances.
    let (first, second) = (
        machine("pc7-2024-01-01-00-00-01"),
        machine("pc7-2024-01-01-00-00-02"),
    );
    let (x, y) = tokio::join!(a.send(&first), b.send(&second));
    assert_eq!((x.status, y.status), (200, 200));
    let token = a.token();
    let (_, list) = a.api("/api/v1/computers", &token).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["deviceid"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&"pc7-2020-01-01-00-00-00"),
        "the old computer is merged exactly once: {ids:?}"
    );
    assert!(!ids.is_empty() && ids.len() <= 2, "{ids:?}");
    // The next inventory of either resolves what the race left.
    assert_eq!(
        b.send(&machine("pc7-2024-01-01-00-00-01")).await.status,
        200
    );
    assert_eq!(a.api("/api/v1/computers", &token).await.1["total"], 1);
}

#[tokio::test]
async fn the_real_agent_alternating_between_instances() {
    let Some(admin) = require_postgres("the_real_agent_alternating_between_instances") else {
        return;
    };
    let Some(agent) = agent("ocsinventory-agent") else {
        return;
    };
    let (a, b) = pair(&admin, &[]);
    let vardir = tempfile::tempdir().unwrap();
    let run = |server: &TestServer| {
        let mut c = tokio::process::Command::new(&agent);
        c.args(["--server", &server.agent_url(), "--nolocal", "--basevardir"])
            .arg(vardir.path());
        c
    };
    let out = run(&a).output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The agent keeps its state per server URL; a load balancer gives it one URL, so move
    // the state over to keep the same DEVICEID and CHECKSUM base.
    let key = |s: &TestServer| s.agent_url().replace('/', "_");
    std::fs::rename(vardir.path().join(key(&a)), vardir.path().join(key(&b))).unwrap();
    let out = run(&b).output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = a.token();
    let (_, list) = b.api("/api/v1/computers", &token).await;
    assert_eq!(list["total"], 1, "the same computer through both instances");
    let (_, c) = a
        .api(
            &format!("/api/v1/computers/{}", list["items"][0]["id"]),
            &token,
        )
        .await;
    assert_eq!(c["fidelity"], 2);
    assert!(c["softwares"].as_array().unwrap().len() > 10);
}

#[tokio::test]
async fn api_reads_go_to_the_read_replica() {
    let Some(admin) = require_postgres("api_reads_go_to_the_read_replica") else {
        return;
    };
    let primary = create_pg_database(&admin).unwrap();
    // A stand-in replica: a second database with the schema but none of the primary's rows,
    // so where each query went is visible.
    let replica = create_pg_database(&admin).unwrap();
    ocs_storage::Store::open(&replica, &ocs_storage::StoreOptions::default())
        .await
        .unwrap()
        .close()
        .await;
    let s = TestServer::start_on(
        bin(),
        &[("OCS_DATABASE_READ_URL", replica.as_str())],
        Some(primary.clone()),
    )
    .unwrap();
    assert_eq!(s.send(&generated(1, 0)).await.status, 200);
    let token = s.token();
    assert_eq!(
        s.api("/api/v1/computers", &token).await.1["total"],
        0,
        "the list is read from the replica"
    );
    let store = ocs_storage::Store::open(&primary, &ocs_storage::StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(
        store.count_hosts().await.unwrap(),
        1,
        "the inventory went to the primary"
    );
}
