//! The scanning computers page (`/networks/agents`) and the computer page's IPDISCOVER
//! network choice: computers inventoried on two networks, one forced on its second network
//! from the page and listed with its reason, unelected, excluded; a network the computer does
//! not report refused with a 400; the French page; and the PROLOG a forced computer gets.

use ocs_storage::{DeviceSetting, HostId, Store};
use ocs_testkit::{inventory_xml, prolog_xml, TestServer};

use crate::console::{read_only_user, Console};
use crate::{host_id, server, shape, store};

const ALPHA: &str = "alpha-2024-03-05-09-12-44";
const BETA: &str = "beta-2024-03-05-09-12-44";

/// A NETWORKS section.
fn interface(address: &str, subnet: &str, mac: &str) -> String {
    format!(
        "<NETWORKS><DESCRIPTION>eth</DESCRIPTION><IPADDRESS>{address}</IPADDRESS>\
         <IPSUBNET>{subnet}</IPSUBNET><IPMASK>255.255.255.0</IPMASK><MACADDR>{mac}</MACADDR>\
         <STATUS>Up</STATUS></NETWORKS>"
    )
}

/// Alpha on 192.0.2.0 (its main address) and 198.51.100.0; beta on 192.0.2.0 only.
async fn fleet() -> (TestServer, Store, HostId, HostId) {
    let s = server(&[]);
    let alpha = format!(
        "<HARDWARE><NAME>alpha</NAME><OSNAME>Debian</OSNAME><IPADDR>192.0.2.10</IPADDR></HARDWARE>{}{}",
        interface("192.0.2.10", "192.0.2.0", "02:00:00:00:00:0a"),
        interface("198.51.100.10", "198.51.100.0", "02:00:00:00:00:0b"),
    );
    let beta = format!(
        "<HARDWARE><NAME>beta</NAME><OSNAME>Debian</OSNAME></HARDWARE>{}",
        interface("192.0.2.20", "192.0.2.0", "02:00:00:00:00:14"),
    );
    for (dev, content) in [(ALPHA, alpha), (BETA, beta)] {
        let answer = s.send(&inventory_xml(dev, &content)).await;
        assert_eq!(answer.status, 200, "{}", s.log());
    }
    let (a, b) = (host_id(&s, ALPHA).await, host_id(&s, BETA).await);
    let db = store(&s).await;
    (s, db, a, b)
}

async fn election(db: &Store, id: HostId) -> Option<DeviceSetting> {
    db.device_settings(id)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.name == "IPDISCOVER")
}

/// The `<tr>` of a computer in the agents table ('' when absent).
fn row_of(body: &str, id: HostId) -> String {
    let marker = format!("<tr data-computer=\"{}\"", id.0);
    body.find(&marker)
        .map(|start| {
            let rest = &body[start..];
            rest[..rest.find("</tr>").unwrap_or(rest.len())].to_owned()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_computer_is_forced_listed_with_its_reason_unelected_and_excluded() {
    let (s, db, alpha, beta) = fleet().await;
    let console = Console::sign_in_admin(&s).await;

    let empty = console.get("/networks/agents").await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("No computer scans a network yet."));

    // The second step of the force form offers only alpha's networks.
    let choose = console
        .get(&format!("/networks/agents?computer={}", alpha.0))
        .await;
    assert_eq!(choose.status, 200);
    assert!(choose.body.contains("<option value=\"198.51.100.0\""));
    assert!(choose.body.contains("<option value=\"192.0.2.0\""));
    assert!(!choose.body.contains("<option value=\"203.0.113.0\""));

    let forced = console
        .post_form(
            "/networks/agents/force",
            &[
                ("computer", &alpha.0.to_string()),
                ("netid", "198.51.100.0"),
            ],
        )
        .await;
    assert_eq!(forced.status, 303, "{}", forced.body);
    assert_eq!(
        forced.location.as_deref(),
        Some("/networks/agents?netid=198.51.100.0")
    );
    let row = election(&db, alpha).await.unwrap();
    assert_eq!(
        (row.ivalue, row.tvalue.as_deref()),
        (Some(2), Some("198.51.100.0"))
    );

    // The PROLOG sends the order with that network and the latency option.
    let reply = shape(&s.send(&prolog_xml(ALPHA)).await.xml());
    let order = &reply.options["IPDISCOVER"][0];
    assert_eq!(
        (order["#text"].as_str(), order["IPDISC_LAT"].as_str()),
        ("198.51.100.0", "100")
    );
    assert_eq!(reply.scalars["RESPONSE"], "SEND");

    // Beta elected automatically (as the election writes it, less the reason code, which
    // the election's own tests cover; the words of each code are unit-tested with the page).
    elect(&db, beta, "192.0.2.0").await;
    let page = console.get("/networks/agents?netid=198.51.100.0").await;
    assert_eq!(page.status, 200);
    let line = row_of(&page.body, alpha);
    assert!(line.contains("class=\"how-forced\""), "{line}");
    assert!(line.contains("forced by an administrator"), "{line}");
    assert!(line.contains("(1 of 2)"), "{line}");
    assert!(
        line.contains(&format!("href=\"/computers/{}\"", alpha.0)),
        "{line}"
    );
    assert!(row_of(&page.body, beta).is_empty(), "another network");
    assert!(page
        .body
        .contains("Network 198.51.100.0: 1 of 2 computers elected."));

    let all = console.get("/networks/agents?sort=network&dir=desc").await;
    assert!(all
        .body
        .contains("2 computers have an IP discovery setting."));
    let line = row_of(&all.body, beta);
    assert!(line.contains("class=\"how-automatic\""), "{line}");
    assert!(line.contains("no reason recorded"), "{line}");
    assert!(
        all.body.find(&format!("data-computer=\"{}\"", alpha.0))
            < all.body.find(&format!("data-computer=\"{}\"", beta.0)),
        "198.51.100.0 sorts after 192.0.2.0, so first in descending order"
    );

    // Never: alpha stays listed as excluded and gets no order.
    let never = console
        .post_form(&format!("/networks/agents/{}/never", alpha.0), &[])
        .await;
    assert_eq!(never.status, 303);
    let row = election(&db, alpha).await.unwrap();
    assert_eq!((row.ivalue, row.tvalue), (Some(0), None));
    let line = row_of(&console.get("/networks/agents").await.body, alpha);
    assert!(line.contains("excluded by an administrator"), "{line}");
    let reply = shape(&s.send(&prolog_xml(ALPHA)).await.xml());
    assert!(!reply.options.contains_key("IPDISCOVER"), "{reply:?}");

    // Unelect removes the row: the election may choose again.
    let unelect = console
        .post_form(&format!("/networks/agents/{}/unelect", beta.0), &[])
        .await;
    assert_eq!(unelect.status, 303);
    assert_eq!(election(&db, beta).await, None);
    assert!(row_of(&console.get("/networks/agents").await.body, beta).is_empty());
    let again = console
        .post_form(&format!("/networks/agents/{}/unelect", beta.0), &[])
        .await;
    assert_ne!(again.status, 500);
}

async fn elect(db: &Store, id: HostId, netid: &str) {
    db.set_device_setting(
        id,
        &DeviceSetting {
            name: "IPDISCOVER".into(),
            ivalue: Some(1),
            tvalue: Some(netid.into()),
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_network_the_computer_does_not_report_is_refused_with_a_reason() {
    let (s, db, alpha, beta) = fleet().await;
    let console = Console::sign_in_admin(&s).await;
    for (computer, netid, reason) in [
        (
            beta,
            "198.51.100.0",
            "This computer reports no interface on this network",
        ),
        (
            alpha,
            "203.0.113.0",
            "This computer reports no interface on this network",
        ),
        (alpha, "198.51.100.0; reboot", "dotted IPv4 network address"),
        (
            alpha,
            "198.51.100.1",
            "This computer reports no interface on this network",
        ),
    ] {
        let refused = console
            .post_form(
                "/networks/agents/force",
                &[("computer", &computer.0.to_string()), ("netid", netid)],
            )
            .await;
        assert_eq!(refused.status, 400, "{netid}: {}", refused.body);
        assert!(refused.body.contains(reason), "{netid}: {}", refused.body);
        assert_eq!(election(&db, computer).await, None, "{netid}");
    }
    let unknown = console
        .post_form(
            "/networks/agents/force",
            &[("computer", "999999"), ("netid", "192.0.2.0")],
        )
        .await;
    assert_eq!(unknown.status, 404);
    let not_a_number = console
        .post_form(
            "/networks/agents/force",
            &[("computer", "x"), ("netid", "192.0.2.0")],
        )
        .await;
    assert_eq!(not_a_number.status, 400);
    assert_eq!(console.get("/networks/agents?netid=nope").await.status, 400);

    // A read-only account reads the page but changes nothing.
    let viewer = read_only_user(&s, "reader", "reader-password-1").await;
    assert_eq!(viewer.get("/networks/agents").await.status, 200);
    let refused = viewer
        .post_form(
            "/networks/agents/force",
            &[("computer", &alpha.0.to_string()), ("netid", "192.0.2.0")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        viewer
            .post_form(&format!("/networks/agents/{}/never", alpha.0), &[])
            .await
            .status,
        403
    );
    assert_eq!(election(&db, alpha).await, None);
}

#[tokio::test]
async fn the_page_is_in_french() {
    let (s, db, alpha, _) = fleet().await;
    db.force_scanner(alpha, "198.51.100.0").await.unwrap();
    let console = Console::sign_in_admin(&s).await;
    let lang = console
        .post_form("/account/language", &[("language", "fr")])
        .await;
    assert_eq!(lang.status, 303);
    let page = console.get("/networks/agents").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Ordinateurs qui scannent"),
        "{}",
        page.body
    );
    let line = row_of(&page.body, alpha);
    assert!(line.contains("forcé par un administrateur"), "{line}");
    assert!(line.contains("(1 sur 2)"), "{line}");
    assert!(page.body.contains("Retirer l"), "the unelect button");
}

#[tokio::test]
async fn the_computer_page_forces_ipdiscover_on_a_network_of_the_computer() {
    let (s, db, alpha, _) = fleet().await;
    let console = Console::sign_in_admin(&s).await;
    let page = console.get(&format!("/computers/{}", alpha.0)).await;
    assert_eq!(page.status, 200);
    // The main address's network is the default choice, as before.
    assert!(
        page.body
            .contains("<option value=\"192.0.2.0\" selected>192.0.2.0 / 255.255.255.0</option>"),
        "{}",
        page.body
    );
    let path = format!("/computers/{}/customisation", alpha.0);
    let saved = console
        .post_form(
            &path,
            &[("IPDISCOVER", "2"), ("IPDISCOVER_NETWORK", "198.51.100.0")],
        )
        .await;
    assert_eq!(saved.status, 303);
    let row = election(&db, alpha).await.unwrap();
    assert_eq!(
        (row.ivalue, row.tvalue.as_deref()),
        (Some(2), Some("198.51.100.0"))
    );
    let page = console.get(&format!("/computers/{}", alpha.0)).await;
    assert!(page
        .body
        .contains("<option value=\"198.51.100.0\" selected>"));
    let reply = shape(&s.send(&prolog_xml(ALPHA)).await.xml());
    assert_eq!(
        reply.options["IPDISCOVER"][0]["#text"].as_str(),
        "198.51.100.0"
    );

    // Another computer's network is refused and changes nothing.
    let refused = console
        .post_form(
            &path,
            &[("IPDISCOVER", "2"), ("IPDISCOVER_NETWORK", "203.0.113.0")],
        )
        .await;
    assert_eq!(refused.status, 303, "back to the page with the reason");
    let flashed = console.get(&format!("/computers/{}", alpha.0)).await;
    assert!(
        flashed
            .body
            .contains("This computer reports no interface on this network"),
        "{}",
        flashed.body
    );
    assert_eq!(
        election(&db, alpha).await.unwrap().tvalue.as_deref(),
        Some("198.51.100.0")
    );

    // Without a choice (an older form), the main address's network, as before.
    let default = console.post_form(&path, &[("IPDISCOVER", "2")]).await;
    assert_eq!(default.status, 303);
    assert_eq!(
        election(&db, alpha).await.unwrap().tvalue.as_deref(),
        Some("192.0.2.0")
    );
}
