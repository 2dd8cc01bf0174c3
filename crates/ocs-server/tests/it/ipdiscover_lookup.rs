//! The IP query page over HTTP: a computer forced as scanner sends an inventory with an
//! IPDISCOVER section, then addresses are looked up — an inventoried one, a discovered one
//! (with its vendor, scanner and a link to register it), an unknown one, malformed ones
//! (400 with the reason), and the French page.

use ocs_storage::ipdiscover::subnets::NewSubnet;
use ocs_storage::DeviceSetting;
use ocs_testkit::{inventory_xml, TestServer};

use crate::console::Console;
use crate::{host_id, server, store};

const SCANNER: &str = "scanner-2024-03-05-09-12-44";
const NETID: &str = "192.0.2.0";

fn network(ip: &str, mac: &str) -> String {
    format!(
        "<NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>{mac}</MACADDR><STATUS>Up</STATUS>\
         <IPADDRESS>{ip}</IPADDRESS><IPMASK>255.255.255.0</IPMASK><IPSUBNET>{NETID}</IPSUBNET></NETWORKS>"
    )
}

fn hardware(name: &str, ip: &str) -> String {
    format!("<HARDWARE><NAME>{name}</NAME><OSNAME>Debian</OSNAME><IPADDR>{ip}</IPADDR></HARDWARE>")
}

/// A scanner on 192.0.2.0/24 that saw a gateway (VMware MAC) and a printer (HP MAC); the
/// gateway's address is also an inventoried interface of the scanner.
async fn scanned_network(s: &TestServer) -> i64 {
    let first = format!(
        "{}{}",
        hardware("SCANNER-1", "192.0.2.5"),
        network("192.0.2.5", "00:0C:29:0A:00:05")
    );
    assert_eq!(s.send(&inventory_xml(SCANNER, &first)).await.status, 200);
    let id = host_id(s, SCANNER).await;
    let db = store(s).await;
    db.set_device_setting(
        id,
        &DeviceSetting {
            name: "IPDISCOVER".into(),
            ivalue: Some(2),
            tvalue: Some(NETID.into()),
        },
    )
    .await
    .unwrap();
    db.insert_subnet(&NewSubnet {
        netid: NETID.into(),
        mask: "255.255.255.0".into(),
        name: "Head office LAN".into(),
        network_id: "HQ".into(),
        tag: String::new(),
    })
    .await
    .unwrap();
    let with_results = format!(
        "{first}<IPDISCOVER>\
         <H><I>192.0.2.5</I><M>00:0c:29:0a:00:05</M><N>scanner-1.example</N></H>\
         <H><I>192.0.2.77</I><M>3c:52:82:aa:bb:cc</M><N>printer.example</N></H>\
         </IPDISCOVER>"
    );
    assert_eq!(
        s.send(&inventory_xml(SCANNER, &with_results)).await.status,
        200
    );
    id.0
}

#[tokio::test]
async fn an_address_is_looked_up_across_inventories_and_scans() {
    let s = server(&[]);
    let scanner = scanned_network(&s).await;
    let console = Console::sign_in_admin(&s).await;

    let form = console.get("/networks/lookup").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("id=\"lookup\""), "{}", form.body);
    assert!(!form.body.contains("id=\"lookup-result\""));
    assert!(form.body.contains("class=\"current\">IP query"));

    // An inventoried address: the computer, its interface, and what the scan saw there.
    let pc = console.get("/networks/lookup?ip=192.0.2.5").await;
    assert_eq!(pc.status, 200, "{}", pc.body);
    assert!(
        pc.body
            .contains(&format!("<a href=\"/computers/{scanner}\">SCANNER-1</a>")),
        "{}",
        pc.body
    );
    assert!(pc.body.contains("00:0C:29:0A:00:05"));
    assert!(pc.body.contains("href=\"/networks/192.0.2.0/inventoried\""));
    assert!(
        pc.body.contains("VMware, Inc."),
        "vendor of the scanned MAC"
    );
    assert!(pc.body.contains("Head office LAN"));
    assert_eq!(
        pc.body.matches("data-computer=").count(),
        1,
        "an interface and IPADDR are one computer"
    );

    // A discovered, non-inventoried address: vendor, scanner, network, register link.
    let printer = console.get("/networks/lookup?ip=%20192.0.2.77%20").await;
    assert_eq!(printer.status, 200, "{}", printer.body);
    let b = &printer.body;
    assert!(
        b.contains("No inventoried computer has this address."),
        "{b}"
    );
    assert!(b.contains("data-mac=\"3c:52:82:aa:bb:cc\""), "{b}");
    assert!(b.contains("Hewlett"), "HP vendor: {b}");
    assert!(b.contains("printer.example"));
    assert!(b.contains("href=\"/networks/192.0.2.0/uninventoried\""));
    assert!(b.contains(&format!("<a href=\"/computers/{scanner}\">SCANNER-1</a>")));
    assert!(b.contains("href=\"/networks/devices/3c:52:82:aa:bb:cc/register\""));
    assert!(b.contains("Not identified"));

    // Once registered, it shows as identified with its type and description.
    let types = console
        .post_form("/networks/types", &[("name", "Printer")])
        .await;
    assert_eq!(types.status, 303, "{}", types.body);
    let reg = console
        .post_form(
            "/networks/devices/3c:52:82:aa:bb:cc/register",
            &[("device_type", "Printer"), ("description", "hall printer")],
        )
        .await;
    assert_eq!(reg.status, 303, "{}", reg.body);
    let known = console.get("/networks/lookup?ip=192.0.2.77").await;
    assert!(
        known.body.contains("Printer — hall printer"),
        "{}",
        known.body
    );

    // Unknown: a page saying nothing is known, still 200.
    let unknown = console.get("/networks/lookup?ip=203.0.113.9").await;
    assert_eq!(unknown.status, 200);
    assert!(
        unknown.body.contains("id=\"lookup-nothing\""),
        "{}",
        unknown.body
    );
    assert!(unknown
        .body
        .contains("No named network contains this address."));

    // Malformed: 400 with the reason, the text kept (escaped) in the form.
    for (ip, reason) in [
        ("192.0.2.300", "This is not an IPv4 address"),
        ("%3Cscript%3Ealert(1)", "This is not an IPv4 address"),
        ("2001%3Adb8%3A%3A1", "Only IPv4 addresses"),
        ("192.0.2.0%2F24", "not a network or a range"),
        ("", "Type an IPv4 address"),
    ] {
        let bad = console.get(&format!("/networks/lookup?ip={ip}")).await;
        assert_eq!(bad.status, 400, "{ip}: {}", bad.body);
        assert!(bad.body.contains(reason), "{ip}: {}", bad.body);
        assert!(!bad.body.contains("<script>alert"), "escaped: {}", bad.body);
    }
    let long = console
        .get(&format!("/networks/lookup?ip={}", "9".repeat(5000)))
        .await;
    assert_eq!(long.status, 400);
    assert!(long.body.contains("too long"));
}

#[tokio::test]
async fn the_page_is_in_french_and_needs_a_session() {
    let s = server(&[]);
    scanned_network(&s).await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/networks/lookup?ip=192.0.2.77", s.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 303);
    let console = Console::sign_in_admin(&s).await;
    let chosen = console
        .post_form("/account/language", &[("language", "fr")])
        .await;
    assert_eq!(chosen.status, 303, "{}", chosen.body);
    let fr = console.get("/networks/lookup?ip=192.0.2.77").await;
    assert_eq!(fr.status, 200, "{}", fr.body);
    assert!(
        fr.body.contains("class=\"current\">Recherche d"),
        "{}",
        fr.body
    );
    assert!(fr.body.contains("Vu par la découverte IP"), "{}", fr.body);
    assert!(fr.body.contains("Enregistrer comme connu"));
    let bad = console.get("/networks/lookup?ip=nope").await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("saisissez quatre nombres de 0 à 255"),
        "{}",
        bad.body
    );
}
