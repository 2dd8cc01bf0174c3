//! The networks pages end to end: a computer forced as scanner sends its IPDISCOVER results
//! through the real protocol, and the networks list, each network's lists (EN and FR), their
//! CSVs, the MAC vendors, deleting and registering a device, and the API show them.

use ocs_storage::DeviceSetting;
use ocs_testkit::inventory_xml;

use crate::console::{read_only_user, Console};
use crate::{host_id, server, store};

const SCANNER: &str = "scanner-2026-01-01-00-00-00";
const OTHER: &str = "other-2026-01-01-00-00-00";
const NET: &str = "192.0.2.0";
const PRINTER: &str = "3c:52:82:00:00:09";
const VBOX: &str = "08:00:27:00:00:05";
const LOCAL: &str = "02:00:00:00:00:77";

fn computer(name: &str, mac: &str, ip: &str) -> String {
    format!(
        "<HARDWARE><NAME>{name}</NAME><OSNAME>Debian</OSNAME></HARDWARE>\
         <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><STATUS>Up</STATUS><IPADDRESS>{ip}</IPADDRESS>\
         <IPMASK>255.255.255.0</IPMASK><IPSUBNET>{NET}</IPSUBNET><MACADDR>{mac}</MACADDR></NETWORKS>"
    )
}

fn row<'a>(csv: &'a str, needle: &str) -> &'a str {
    csv.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle} in {csv}"))
}

#[tokio::test]
async fn scanned_devices_are_listed_counted_exported_deleted_and_registered() {
    let s = server(&[]);
    let scanner = computer("scanner", "00:0C:29:AA:00:01", "192.0.2.10");
    assert_eq!(s.send(&inventory_xml(SCANNER, &scanner)).await.status, 200);
    assert_eq!(
        s.send(&inventory_xml(
            OTHER,
            &computer("other", "00:0C:29:AA:00:02", "192.0.2.20")
        ))
        .await
        .status,
        200
    );
    let id = host_id(&s, SCANNER).await;
    let other = host_id(&s, OTHER).await;
    store(&s)
        .await
        .set_device_setting(
            id,
            &DeviceSetting {
                name: "IPDISCOVER".into(),
                ivalue: Some(2),
                tvalue: Some(NET.into()),
            },
        )
        .await
        .unwrap();
    // The scan found the other computer (its MAC in upper case there), a printer, a
    // VirtualBox guest and a locally administered MAC (no vendor).
    let found = format!(
        "{scanner}<IPDISCOVER>\
         <H><I>192.0.2.20</I><M>00:0c:29:aa:00:02</M><N>other</N></H>\
         <H><I>192.0.2.9</I><M>{PRINTER}</M><N>printer.example</N></H>\
         <H><I>192.0.2.100</I><M>{VBOX}</M><N>-</N></H>\
         <H><I>192.0.2.5</I><M>{LOCAL}</M><N>phone</N></H>\
         </IPDISCOVER>"
    );
    assert_eq!(s.send(&inventory_xml(SCANNER, &found)).await.status, 200);

    let admin = Console::sign_in_admin(&s).await;
    let list = admin.get("/networks").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&format!("data-netid=\"{NET}\"")));
    assert!(list
        .body
        .contains(&format!("/networks/{NET}/uninventoried")));
    assert!(list.body.contains(&format!("/networks/agents?netid={NET}")));
    assert!(list
        .body
        .contains(&format!("action=\"/networks/{NET}/analyze\"")));

    // The counts: two computers, three non-inventoried devices, one scanner, none identified.
    let csv = admin.get("/networks.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(
        row(&csv.body, NET),
        format!("\"\",\"{NET}\",\"255.255.255.0\",\"2\",\"3\",\"1\",\"0\"")
    );
    // A name given on the subnet names page shows in the list and filters it.
    let named = admin
        .post_form(
            "/networks/subnets",
            &[
                ("name", "Office LAN"),
                ("network_id", "HQ"),
                ("netid", NET),
                ("mask", "255.255.255.0"),
            ],
        )
        .await;
    assert_eq!(named.status, 303);
    let list = admin
        .get("/networks?q=office&sort=uninventoried&dir=desc")
        .await;
    assert!(list.body.contains("Office LAN"), "{}", list.body);
    assert!(list.body.contains("1 network"));
    let none = admin.get("/networks?q=nothing-like-this").await;
    assert!(none.body.contains("id=\"no-networks\""));
    assert_eq!(admin.get("/networks?sort=bogus").await.status, 400);

    // Inventoried: both computers, linked to their pages.
    let inv = admin.get(&format!("/networks/{NET}/inventoried")).await;
    assert_eq!(inv.status, 200);
    assert!(inv.body.contains(&format!("/computers/{}", other.0)));
    assert!(inv.body.contains("00:0c:29:aa:00:02"));
    assert!(inv.body.contains("Office LAN"));

    // Non-inventoried: the three others, with vendor, name and dates; not the computer.
    let un = admin.get(&format!("/networks/{NET}/uninventoried")).await;
    assert_eq!(un.status, 200);
    for mac in [PRINTER, VBOX, LOCAL] {
        assert!(un.body.contains(&format!("data-mac=\"{mac}\"")), "{mac}");
    }
    assert!(!un.body.contains("data-mac=\"00:0c:29:aa:00:02\""));
    assert!(un.body.contains("Hewlett"), "HP vendor shown");
    assert!(
        un.body.contains("PCS Systemtechnik"),
        "VirtualBox vendor shown"
    );
    assert!(un.body.contains("printer.example"));
    assert!(un
        .body
        .contains(&format!("/networks/devices/{PRINTER}/register")));
    assert!(un
        .body
        .contains(&format!("action=\"/networks/devices/{VBOX}/delete\"")));
    // Numeric address order: .5, .9, .100.
    let at = |m: &str| un.body.find(&format!("data-mac=\"{m}\"")).unwrap();
    assert!(at(LOCAL) < at(PRINTER) && at(PRINTER) < at(VBOX));
    let un_csv = admin
        .get(&format!(
            "/networks/{NET}/uninventoried.csv?sort=mac&dir=desc"
        ))
        .await;
    assert_eq!(un_csv.status, 200);
    assert!(un_csv
        .body
        .starts_with("\"IP address\",\"MAC address\",\"MAC vendor\""));
    assert!(row(&un_csv.body, PRINTER).contains("Hewlett"));
    assert_eq!(un_csv.body.lines().count(), 4);
    let inv_csv = admin.get(&format!("/networks/{NET}/inventoried.csv")).await;
    assert!(inv_csv.body.contains("\"other\""));
    assert_eq!(
        admin.get("/networks/192.0.2/uninventoried").await.status,
        400
    );
    assert_eq!(
        admin
            .get(&format!("/networks/{NET}/everything"))
            .await
            .status,
        400
    );

    // A read-only account sees the lists but cannot delete.
    let viewer = read_only_user(&s, "viewer", "viewer-password-1").await;
    assert_eq!(
        viewer
            .get(&format!("/networks/{NET}/uninventoried"))
            .await
            .status,
        200
    );
    assert_eq!(
        viewer
            .post_form(&format!("/networks/devices/{VBOX}/delete"), &[])
            .await
            .status,
        403
    );

    // Delete: gone from the list and the counts; a computer's MAC is refused.
    let del = admin
        .post_form(&format!("/networks/devices/{VBOX}/delete"), &[])
        .await;
    assert_eq!(del.status, 303);
    assert_eq!(
        del.location.as_deref(),
        Some(format!("/networks/{NET}/uninventoried").as_str())
    );
    let refused = admin
        .post_form("/networks/devices/00:0c:29:aa:00:02/delete", &[])
        .await;
    assert_eq!(refused.status, 303);
    assert_eq!(store(&s).await.netmap(NET).await.unwrap().len(), 3);
    let un = admin.get(&format!("/networks/{NET}/uninventoried")).await;
    assert!(!un.body.contains(&format!("data-mac=\"{VBOX}\"")));

    // Registering the printer moves it from non-inventoried to identified.
    let reg = admin
        .post_form(
            &format!("/networks/devices/{PRINTER}/register"),
            &[("device_type", ""), ("description", "hall printer")],
        )
        .await;
    assert_eq!(reg.status, 303);
    assert_eq!(
        reg.location.as_deref(),
        Some(format!("/networks/{NET}/identified").as_str())
    );
    let un = admin.get(&format!("/networks/{NET}/uninventoried")).await;
    assert!(!un.body.contains(&format!("data-mac=\"{PRINTER}\"")));
    let ident = admin.get(&format!("/networks/{NET}/identified")).await;
    assert!(ident.body.contains(&format!("data-mac=\"{PRINTER}\"")));
    assert!(ident.body.contains("hall printer"));
    let csv = admin.get("/networks.csv").await;
    assert!(
        row(&csv.body, NET).ends_with("\"2\",\"1\",\"1\",\"1\""),
        "{}",
        csv.body
    );

    // The API: the networks with their counts, and each list.
    let token = s.token();
    assert_eq!(s.api("/api/v1/networks", "ocs_wrong").await.0, 401);
    let (status, nets) = s.api("/api/v1/networks", &token).await;
    assert_eq!(status, 200);
    assert_eq!(nets["total"], 1);
    let n = &nets["items"][0];
    assert_eq!(
        (
            n["netid"].as_str(),
            n["name"].as_str(),
            n["inventoried"].as_i64(),
            n["uninventoried"].as_i64(),
            n["agents"].as_i64(),
            n["identified"].as_i64()
        ),
        (
            Some(NET),
            Some("Office LAN"),
            Some(2),
            Some(1),
            Some(1),
            Some(1)
        )
    );
    let (status, un) = s
        .api(
            &format!("/api/v1/networks/{NET}/devices?kind=uninventoried"),
            &token,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(un["total"], 1);
    assert_eq!(un["items"][0]["mac"], LOCAL);
    assert!(un["items"][0]["vendor"].is_null());
    assert_eq!(un["items"][0]["name"], "phone");
    let (_, ident) = s
        .api(
            &format!("/api/v1/networks/{NET}/devices?kind=identified"),
            &token,
        )
        .await;
    assert_eq!(ident["items"][0]["description"], "hall printer");
    assert_eq!(ident["items"][0]["registered_by"], "admin");
    let (_, inv) = s
        .api(
            &format!("/api/v1/networks/{NET}/devices?kind=inventoried&sort=name"),
            &token,
        )
        .await;
    assert_eq!(inv["total"], 2);
    assert_eq!(inv["items"][0]["name"], "other");
    assert_eq!(inv["items"][0]["computer_id"], other.0);
    let (status, bad) = s
        .api(
            &format!("/api/v1/networks/{NET}/devices?kind=bogus"),
            &token,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(bad["code"], "E_BAD_KIND");
    assert!(bad["message"].as_str().unwrap().contains("inventoried"));
    let (status, bad) = s
        .api("/api/v1/networks/300.1.2.0/devices?kind=identified", &token)
        .await;
    assert_eq!(status, 400);
    assert!(bad["message"].as_str().unwrap().contains("dotted IPv4"));
    assert_eq!(
        s.api(&format!("/api/v1/networks/{NET}/devices"), &token)
            .await
            .0,
        400
    );

    // In French.
    assert_eq!(
        admin
            .post_form("/account/language", &[("language", "fr")])
            .await
            .status,
        303
    );
    let fr = admin.get("/networks").await;
    assert!(
        fr.body.contains("Équipements non inventoriés"),
        "{}",
        fr.body
    );
    assert!(fr.body.contains("Analyser"));
    let fr = admin.get(&format!("/networks/{NET}/uninventoried")).await;
    assert!(fr.body.contains("Constructeur (MAC)"));
    assert!(fr.body.contains("1 équipement"));
}
