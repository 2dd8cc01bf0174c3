//! The compatibility cases of the reference (§13) that the communication server v1 covers,
//! one test each, numbered as there.

use ocs_storage::DeviceSetting;
use ocs_testkit::{gzip, inventory_xml, prolog_xml, zlib, OCS_UA};

use crate::{count, host_id, server, shape, store};

const DEV: &str = "pc1-2024-03-05-09-12-44";

fn hw(name: &str, checksum: Option<u64>) -> String {
    let sum = checksum
        .map(|c| format!("<CHECKSUM>{c}</CHECKSUM>"))
        .unwrap_or_default();
    format!(
        "<HARDWARE><NAME>{name}</NAME>{sum}<OSNAME>Debian</OSNAME><MEMORY>2048</MEMORY></HARDWARE>"
    )
}

fn cpu(kind: &str) -> String {
    format!("<CPUS><TYPE>{kind}</TYPE><CORES>4</CORES></CPUS>")
}

fn net(desc: &str, mac: &str) -> String {
    format!("<NETWORKS><DESCRIPTION>{desc}</DESCRIPTION><MACADDR>{mac}</MACADDR><STATUS>Up</STATUS></NETWORKS>")
}

fn tag(value: &str) -> String {
    format!("<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{value}</KEYVALUE></ACCOUNTINFO>")
}

#[tokio::test]
async fn case_03_envelope_errors() {
    let s = server(&[]);
    assert_eq!(s.send(&prolog_xml("foo")).await.status, 400);
    assert_eq!(
        s.send("<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID></REQUEST>")
            .await
            .status,
        400
    );
    assert_eq!(
        s.send("<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID><QUERY>FILE</QUERY></REQUEST>")
            .await
            .status,
        400
    );
    // Quirk 2: SYSTEM made the original die (500); it is an unknown query here.
    assert_eq!(
        s.send(
            "<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID><QUERY>SYSTEM</QUERY></REQUEST>"
        )
        .await
        .status,
        400
    );
    let update = s.send("<REQUEST><QUERY>UPDATE</QUERY><PLATFORM>WINDOWS</PLATFORM><AGENT>4061</AGENT></REQUEST>").await;
    assert_eq!(update.status, 200);
    assert_eq!(shape(&update.xml()).scalars["RESPONSE"], "NO_UPDATE");
    assert_eq!(
        s.request("GET", "/ocsinventory", Vec::new(), &[])
            .await
            .status,
        400
    );
    assert_eq!(
        s.request("PUT", "/ocsinventory", Vec::new(), &[])
            .await
            .status,
        403
    );
    assert_eq!(
        s.request("GET", "/ocsinventory/deploy/x", Vec::new(), &[])
            .await
            .status,
        400
    );
    assert_eq!(
        s.request("GET", "/ocsinventory/update/x/y/z", Vec::new(), &[])
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn case_04_compression_variants() {
    let s = server(&[]);
    let prolog = prolog_xml(DEV);
    let plain = s.post(prolog.clone().into_bytes(), OCS_UA).await;
    assert_eq!(plain.status, 200);
    assert!(plain.body.starts_with(b"<?xml"));
    let gz = s.post(gzip(prolog.as_bytes()), OCS_UA).await;
    assert_eq!((gz.status, &gz.body[..2]), (200, &[0x1f, 0x8b][..]));
    let mut deflate =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut deflate, prolog.as_bytes()).unwrap();
    assert_eq!(
        s.post(deflate.finish().unwrap(), OCS_UA).await.status,
        400,
        "raw deflate is refused (the original: 500)"
    );
    let long = inventory_xml(DEV, &hw("pc1", None).repeat(50));
    let z = zlib(long.as_bytes());
    assert_eq!(
        s.post(z[..z.len() / 2].to_vec(), OCS_UA).await.status,
        400,
        "truncated zlib"
    );
    s.set_option("COMPRESS_TRY_OTHERS", "0");
    assert_eq!(
        s.post(prolog.into_bytes(), OCS_UA).await.status,
        400,
        "plain XML refused when COMPRESS_TRY_OTHERS is off"
    );
}

#[tokio::test]
async fn case_07_tag_authority() {
    let s = server(&[]);
    s.send(&inventory_xml(
        DEV,
        &format!("{}{}", hw("pc1", None), tag("PARIS")),
    ))
    .await;
    let token = s.token();
    let (_, list) = s.api("/api/v1/computers?tag=PARIS", &token).await;
    assert_eq!(list["total"], 1);
    let a = s
        .send(&inventory_xml(
            DEV,
            &format!("{}{}", hw("pc1", None), tag("LYON")),
        ))
        .await;
    assert_eq!(
        shape(&a.xml()).accountinfo,
        [("TAG".to_owned(), "PARIS".to_owned())]
    );
    s.set_option("ACCEPT_TAG_UPDATE_FROM_CLIENT", "1");
    let a = s
        .send(&inventory_xml(
            DEV,
            &format!("{}{}", hw("pc1", None), tag("LYON")),
        ))
        .await;
    assert_eq!(shape(&a.xml()).scalars["RESPONSE"], "NO_ACCOUNT_UPDATE");
    let (_, list) = s.api("/api/v1/computers?tag=LYON", &token).await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn case_08_checksum_semantics() {
    let s = server(&[]);
    let token = s.token();
    s.send(&inventory_xml(
        DEV,
        &format!(
            "{}{}{}",
            hw("pc1", None),
            cpu("old"),
            net("eth0", "00:11:22:33:44:55")
        ),
    ))
    .await;
    let id = host_id(&s, DEV).await;
    let cpu_type =
        |c: &serde_json::Value| c["cpus"][0]["type"].as_str().unwrap_or_default().to_owned();
    let get = || async {
        s.api(&format!("/api/v1/computers/{}", id.0), &token)
            .await
            .1
    };

    s.send(&inventory_xml(
        DEV,
        &format!("{}{}", hw("pc1", Some(1)), cpu("new")),
    ))
    .await;
    assert_eq!(
        cpu_type(&get().await),
        "old",
        "CHECKSUM=1 leaves CPUS alone"
    );
    assert_eq!(
        count(&get().await, "networks"),
        1,
        "an omitted section keeps its rows"
    );
    s.send(&inventory_xml(
        DEV,
        &format!("{}{}", hw("pc1", None), cpu("new")),
    ))
    .await;
    assert_eq!(
        cpu_type(&get().await),
        "new",
        "no CHECKSUM: everything present is rewritten"
    );
    s.set_option("INVENTORY_DIFF", "0");
    s.send(&inventory_xml(
        DEV,
        &format!("{}{}", hw("pc1", Some(1)), cpu("newer")),
    ))
    .await;
    assert_eq!(
        cpu_type(&get().await),
        "newer",
        "INVENTORY_DIFF=0 ignores CHECKSUM"
    );
    assert_eq!(count(&get().await, "networks"), 1);
}

#[tokio::test]
async fn case_09_row_level_diff() {
    let s = server(&[]);
    s.set_option("INVENTORY_WRITE_DIFF", "1");
    s.send(&inventory_xml(
        DEV,
        &format!(
            "{}{}{}",
            hw("pc1", None),
            net("A", "00:00:00:00:00:0a"),
            net("B", "00:00:00:00:00:0b")
        ),
    ))
    .await;
    let id = host_id(&s, DEV).await;
    let db = store(&s).await;
    let before = db.section_row_ids(id, "networks").await.unwrap();
    s.send(&inventory_xml(
        DEV,
        &format!(
            "{}{}{}",
            hw("pc1", Some(4096)),
            net("A", "00:00:00:00:00:0a"),
            net("C", "00:00:00:00:00:0c")
        ),
    ))
    .await;
    let after = db.section_row_ids(id, "networks").await.unwrap();
    assert_eq!(after.len(), 2);
    assert_eq!(after[0], before[0], "A keeps its row");
    assert!(!after.contains(&before[1]), "B is deleted");
}

#[tokio::test]
async fn case_10_frequency() {
    let s = server(&[]);
    s.set_option("FREQUENCY", "-1");
    let reply = shape(&s.send(&prolog_xml(DEV)).await.xml());
    assert_eq!(reply.scalars["RESPONSE"], "STOP");
    assert!(reply.options.is_empty(), "BREAK sends no option block");

    s.set_option("FREQUENCY", "3");
    s.send(&inventory_xml(DEV, &hw("pc1", None))).await;
    let reply = shape(&s.send(&prolog_xml(DEV)).await.xml());
    assert_eq!(
        reply.scalars["RESPONSE"], "STOP",
        "inventoried today, frequency 3 days"
    );
    assert!(
        reply.options.contains_key("DOWNLOAD"),
        "STOP still carries the option blocks"
    );

    let id = host_id(&s, DEV).await;
    store(&s)
        .await
        .set_device_setting(
            id,
            &DeviceSetting {
                name: "FREQUENCY".into(),
                ivalue: Some(0),
                tvalue: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        shape(&s.send(&prolog_xml(DEV)).await.xml()).scalars["RESPONSE"],
        "SEND",
        "per-device FREQUENCY 0"
    );
    store(&s)
        .await
        .set_device_setting(
            id,
            &DeviceSetting {
                name: "PROLOG_FREQ".into(),
                ivalue: Some(6),
                tvalue: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        shape(&s.send(&prolog_xml(DEV)).await.xml()).scalars["PROLOG_FREQ"],
        "6",
        "per-device PROLOG_FREQ"
    );
}

#[tokio::test]
async fn case_12_package_report_is_kept() {
    let s = server(&[]);
    s.send(&inventory_xml(DEV, &hw("pc1", None))).await;
    let unix = format!(
        r#"<REQUEST DEVICEID="{DEV}" ERR="ERR_BAD_DIGEST" ID="1709631234" QUERY="DOWNLOAD" />"#
    );
    let a = s.send(&unix).await;
    assert_eq!(
        (a.status, a.body.len(), a.header("content-length")),
        (200, 0, Some("0"))
    );
    let windows = format!(
        r#"<REQUEST ID="1709631234" ERR="EXIT_CODE_1603"><DEVICEID>{DEV}</DEVICEID><CONTENT/><QUERY>DOWNLOAD</QUERY></REQUEST>"#
    );
    assert_eq!(s.send(&windows).await.status, 200);
    let id = host_id(&s, DEV).await;
    let reports = store(&s).await.download_reports(id).await.unwrap();
    assert_eq!(
        reports,
        [
            ("1709631234".into(), "ERR_BAD_DIGEST".into()),
            ("1709631234".into(), "EXIT_CODE_1603".into())
        ]
    );
    // Unknown device: answered the same, nothing stored.
    assert_eq!(
        s.send(&unix.replace(DEV, "other-2024-01-01-00-00-00"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn case_14_auto_duplicate_merge() {
    let s = server(&[]);
    s.set_option("TRACE_DELETED", "1");
    let token = s.token();
    let content = |serial: &str, t: &str| {
        format!(
            "{}<BIOS><SSN>{serial}</SSN><SMODEL>M</SMODEL></BIOS>{}{}",
            hw("pc1", None),
            net("eth0", "00:11:22:33:44:55"),
            tag(t)
        )
    };
    s.send(&inventory_xml(
        "pc1-2020-01-01-00-00-00",
        &content("ABC123", "SALES"),
    ))
    .await;
    let old = host_id(&s, "pc1-2020-01-01-00-00-00").await;
    store(&s)
        .await
        .set_device_setting(
            old,
            &DeviceSetting {
                name: "FREQUENCY".into(),
                ivalue: Some(5),
                tvalue: None,
            },
        )
        .await
        .unwrap();
    // Re-installed machine: new DEVICEID, same name, serial and MAC (upper case this time).
    let a = s
        .send(&inventory_xml(
            "pc1-2024-06-01-00-00-00",
            &content("abc123", "OTHER").replace(
                "00:11:22:33:44:55",
                "00:11:22:33:44:55".to_uppercase().as_str(),
            ),
        ))
        .await;
    assert_eq!(
        shape(&a.xml()).accountinfo,
        [("TAG".to_owned(), "SALES".to_owned())],
        "the old TAG wins"
    );
    let (_, list) = s.api("/api/v1/computers", &token).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["deviceid"], "pc1-2024-06-01-00-00-00");
    let new = host_id(&s, "pc1-2024-06-01-00-00-00").await;
    let settings = store(&s).await.device_settings(new).await.unwrap();
    assert_eq!(
        settings[0].name, "FREQUENCY",
        "per-device settings follow the merge"
    );

    // A blacklisted serial is no evidence.
    s.send(&inventory_xml(
        "pc2-2020-01-01-00-00-00",
        &content("To Be Filled By O.E.M.", "A")
            .replace("pc1", "pc2")
            .replace("44:55", "44:66"),
    ))
    .await;
    s.send(&inventory_xml(
        "pc2-2024-01-01-00-00-00",
        &content("To Be Filled By O.E.M.", "A")
            .replace("pc1", "pc2")
            .replace("44:55", "44:66"),
    ))
    .await;
    assert_eq!(s.api("/api/v1/computers", &token).await.1["total"], 3);

    // LVL=1: the name alone is enough.
    s.set_option("AUTO_DUPLICATE_LVL", "1");
    s.send(&inventory_xml("pc2-2025-01-01-00-00-00", &hw("pc2", None)))
        .await;
    assert_eq!(s.api("/api/v1/computers", &token).await.1["total"], 2);
}

#[tokio::test]
async fn case_15_old_deviceid() {
    let s = server(&[("OCS_OPT_AUTO_DUPLICATE_LVL", "0")]);
    let token = s.token();
    s.send(&inventory_xml(
        "win-2020-01-01-00-00-00",
        &format!("{}{}", hw("win", None), tag("HQ")),
    ))
    .await;
    let content = format!("{}<DOWNLOAD><HISTORY><OLD_DEVICEID>win-2020-01-01-00-00-00</OLD_DEVICEID></HISTORY></DOWNLOAD>", hw("win-renamed", None));
    let a = s
        .send(&inventory_xml("win-renamed-2024-01-01-00-00-00", &content))
        .await;
    assert_eq!(
        shape(&a.xml()).accountinfo,
        [("TAG".to_owned(), "HQ".to_owned())]
    );
    let (_, list) = s.api("/api/v1/computers", &token).await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn case_16_ipdiscover_order_and_results() {
    let s = server(&[]);
    s.send(&inventory_xml(DEV, &hw("pc1", None))).await;
    let id = host_id(&s, DEV).await;
    let db = store(&s).await;
    db.set_device_setting(
        id,
        &DeviceSetting {
            name: "IPDISCOVER".into(),
            ivalue: Some(1),
            tvalue: Some("10.1.2.0".into()),
        },
    )
    .await
    .unwrap();
    s.set_option("FREQUENCY", "7");
    let reply = shape(&s.send(&prolog_xml(DEV)).await.xml());
    assert_eq!(
        reply.scalars["RESPONSE"], "SEND",
        "an elected computer is always asked to send"
    );
    let param = &reply.options["IPDISCOVER"][0];
    assert_eq!(
        (
            param["IPDISC_LAT"].as_str(),
            param["SCAN_TYPE_IPDISCOVER"].as_str(),
            param["#text"].as_str()
        ),
        ("100", "ICMP", "10.1.2.0")
    );
    let content = format!(
        "{}<NETWORKS><IPSUBNET>10.1.2.0</IPSUBNET><IPMASK>255.255.255.0</IPMASK><MACADDR>aa:aa:aa:aa:aa:aa</MACADDR></NETWORKS>\
         <IPDISCOVER><H><I>10.1.2.1</I><M>00:1a:2b:3c:4d:5e</M><N>gw</N></H><H><I>10.1.2.77</I><M>3c:52:82:aa:bb:cc</M><N>-</N></H><H><I>bad</I><M>x</M></H></IPDISCOVER>",
        hw("pc1", None)
    );
    s.send(&inventory_xml(DEV, &content)).await;
    let found = db.netmap("10.1.2.0").await.unwrap();
    assert_eq!(found.len(), 2);
    s.send(&inventory_xml(
        DEV,
        &content.replace("10.1.2.77", "10.1.2.78"),
    ))
    .await;
    let found = db.netmap("10.1.2.0").await.unwrap();
    assert_eq!(
        found.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["10.1.2.1", "10.1.2.78"],
        "same MAC, new IP updates the row"
    );
}

#[tokio::test]
async fn case_18_sessions() {
    // Requests come from 127.0.0.1, so trust another address to see the check work.
    let s = server(&[
        ("OCS_OPT_INVENTORY_SESSION_ONLY", "1"),
        ("OCS_OPT_TRUSTED_IP", "192.0.2.1"),
    ]);
    let a = s.send(&inventory_xml(DEV, &hw("pc1", None))).await;
    assert_eq!(a.status, 403);
    assert_eq!(
        store(&s).await.count_hosts().await.unwrap(),
        0,
        "nothing written"
    );
    assert_eq!(
        shape(&s.send(&prolog_xml(DEV)).await.xml()).scalars["RESPONSE"],
        "SEND"
    );
    assert_eq!(
        s.send(&inventory_xml(DEV, &hw("pc1", None))).await.status,
        200
    );
    s.set_option("TRUSTED_IP", "127.0.0.1");
    assert_eq!(
        s.send(&inventory_xml("pc9-2024-01-01-00-00-00", &hw("pc9", None)))
            .await
            .status,
        200,
        "trusted address"
    );
}

#[tokio::test]
async fn case_19_notify() {
    let s = server(&[]);
    let token = s.token();
    s.send(&inventory_xml(
        DEV,
        &format!("{}{}", hw("pc1", None), net("eth0", "00:11:22:33:44:55")),
    ))
    .await;
    let notify = format!(
        "<REQUEST><DEVICEID>{DEV}</DEVICEID><CONTENT/><QUERY>NOTIFY</QUERY><TYPE>IP</TYPE>\
         <HARDWARE><NAME>pc1</NAME><IPADDR>10.1.2.33</IPADDR></HARDWARE>\
         <IFACE><MAC>00:11:22:33:44:55</MAC><IP>10.1.2.33</IP><MASK>255.255.255.0</MASK><GW>10.1.2.1</GW><SUBNET>10.1.2.0</SUBNET><DHCP>10.1.2.5</DHCP></IFACE></REQUEST>"
    );
    let a = s.send(&notify).await;
    assert_eq!((a.status, a.body.len()), (200, 0));
    let id = host_id(&s, DEV).await;
    let (_, c) = s.api(&format!("/api/v1/computers/{}", id.0), &token).await;
    assert_eq!(c["networks"][0]["ipaddress"], "10.1.2.33");
    assert_eq!(c["networks"][0]["ipdhcp"], "10.1.2.5");
    assert_eq!(c["ip_address"], "10.1.2.33");
    assert_eq!(c["checksum"].as_i64().unwrap() & 4097, 4097);
}

#[tokio::test]
async fn case_21_software_dictionary() {
    let s = server(&[]);
    let sw = |name: &str, version: &str| {
        format!("<SOFTWARES><NAME>{name}</NAME><VERSION>{version}</VERSION></SOFTWARES>")
    };
    let list = format!(
        "{}{}{}{}",
        hw("pc1", None),
        sw("libc", "1:2.38.1-5+deb12u1"),
        sw("bash", "5.2"),
        sw("vim", "9.0")
    );
    s.send(&inventory_xml(DEV, &list)).await;
    let db = store(&s).await;
    assert_eq!(
        db.find_version("1:2.38.1-5+deb12u1").await.unwrap(),
        Some(("2.38.1".into(), 2, 38, 1))
    );
    let id = host_id(&s, DEV).await;
    let before = db.section_row_ids(id, "softwares").await.unwrap();
    s.send(&inventory_xml(DEV, &list)).await;
    assert_eq!(
        db.section_row_ids(id, "softwares").await.unwrap(),
        before,
        "identical list keeps every row"
    );
    s.send(&inventory_xml(DEV, &list.replace(&sw("bash", "5.2"), "")))
        .await;
    assert_eq!(
        db.section_row_ids(id, "softwares").await.unwrap().len(),
        2,
        "exactly the removed entry goes"
    );
    s.send(&inventory_xml(DEV, &hw("pc1", None))).await;
    assert_eq!(
        db.section_row_ids(id, "softwares").await.unwrap().len(),
        2,
        "no SOFTWARES keeps the list"
    );
    let rows = db.software_rows(id).await.unwrap();
    assert_eq!(
        rows.rows[0][1],
        ocs_proto::Value::Text("Unavailable".into()),
        "missing publisher"
    );
}

#[tokio::test]
async fn case_22_injector_and_ocs_copies() {
    let s = server(&[]);
    let copies = tempfile::tempdir().unwrap();
    s.set_option("GENERATE_OCS_FILES", "1");
    s.set_option("OCS_FILES_PATH", copies.path().to_str().unwrap());
    let file = ocs_testkit::fixture("ocs-agent-local/vm-2026-11-21-12-46-20.ocs");
    assert_eq!(
        s.post(file.clone(), "OCS-NG_INJECTOR_PL_v3").await.status,
        200
    );
    assert_eq!(
        s.post(file.clone(), "OCS-NG_INJECTOR_PL_v3").await.status,
        200
    );
    let mut names: Vec<String> = std::fs::read_dir(copies.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["vm-2026-11-21-12-46-20-1.ocs", "vm-2026-11-21-12-46-20.ocs"]
    );
    assert_eq!(
        std::fs::read(copies.path().join(&names[1])).unwrap(),
        file,
        "OCS format: the body as received"
    );
    // XML format: the decoded document, decoded again from the zlib body after the commit.
    s.set_option("OCS_FILES_FORMAT", "XML");
    let xml = ocs_testkit::fixture("ocs-agent/02-INVENTORY-request.xml");
    assert_eq!(
        s.post(ocs_testkit::zlib(&xml), "OCS-NG_INJECTOR_PL_v3")
            .await
            .status,
        200
    );
    assert_eq!(
        std::fs::read(copies.path().join("vm-2026-11-21-12-46-33.ocs")).unwrap(),
        xml,
        "XML format: the document"
    );
}

#[tokio::test]
async fn concurrent_inventories_of_one_device_do_not_interleave() {
    let s = std::sync::Arc::new(server(&[]));
    let sw = |prefix: &str, n: usize| {
        (0..n)
            .map(|i| format!("<SOFTWARES><NAME>{prefix}{i}</NAME><VERSION>1</VERSION></SOFTWARES>"))
            .collect::<String>()
    };
    let mut tasks = Vec::new();
    for round in 0..12 {
        let s = s.clone();
        let n = 50 + round * 10;
        let doc = inventory_xml(
            DEV,
            &format!("{}{}", hw("pc1", None), sw(&format!("r{round}-"), n)),
        );
        tasks.push(tokio::spawn(async move { (n, s.send(&doc).await.status) }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().1, 200);
    }
    let db = store(&s).await;
    assert_eq!(db.count_hosts().await.unwrap(), 1, "one computer");
    let id = host_id(&s, DEV).await;
    let rows = db.software_rows(id).await.unwrap().rows;
    let prefixes: std::collections::BTreeSet<String> = rows
        .iter()
        .map(|r| {
            r[0].as_text()
                .unwrap()
                .split('-')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        prefixes.len(),
        1,
        "software of a single inventory, not a mix: {prefixes:?}"
    );
    let round: usize = prefixes.iter().next().unwrap()[1..].parse().unwrap();
    assert_eq!(rows.len(), 50 + round * 10);
}

#[tokio::test]
async fn snmp_results_are_kept_when_snmp_is_on() {
    let s = server(&[]);
    s.send(&inventory_xml(DEV, &hw("pc1", None))).await;
    let snmp = format!(
        "<REQUEST><CONTENT><snmp_default><DefaultName>sw-core-1</DefaultName><DefaultLocation>Server room</DefaultLocation>\
         <DefaultAddressIP>10.0.0.2</DefaultAddressIP></snmp_default><snmp_nosuchtype><X>1</X></snmp_nosuchtype></CONTENT>\
         <DEVICEID>{DEV}</DEVICEID><QUERY>SNMP</QUERY></REQUEST>"
    );
    let a = s.send(&snmp).await;
    assert_eq!((a.status, a.body.len()), (200, 0));
    let db = store(&s).await;
    assert!(
        db.snmp_device("snmp_default", "sw-core-1")
            .await
            .unwrap()
            .is_empty(),
        "SNMP is off by default"
    );

    let copies = tempfile::tempdir().unwrap();
    s.set_option("SNMP", "1");
    s.set_option("GENERATE_OCS_FILES_SNMP", "1");
    s.set_option("OCS_FILES_PATH", copies.path().to_str().unwrap());
    assert_eq!(s.send(&snmp).await.status, 200);
    let values = db.snmp_device("snmp_default", "sw-core-1").await.unwrap();
    assert!(
        values.contains(&("DefaultLocation".into(), Some("Server room".into()))),
        "{values:?}"
    );
    assert!(copies.path().join(format!("{DEV}-SNMP.ocs")).exists());
}
