//! *Analyze* (issue 13): a network's non-inventoried devices, reported by a scanning computer
//! through the real protocol, are scanned by the server's nmap inside a lab network
//! (`NetLab`, 203.0.113.0/24, no route out) and classified; the console starts the job and
//! shows its progress and results. Networks that are not a dotted address are refused, and
//! without nmap the console says so and starts nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use ocs_storage::DeviceSetting;
use ocs_testkit::netlab::NetLab;
use ocs_testkit::{inventory_xml, TestServer};

use crate::console::{read_only_user, Console};
use crate::{host_id, server, store};

const SCANNER: &str = "lab-scanner-2026-01-01-00-00-00";

fn nmap_installed() -> bool {
    std::process::Command::new("nmap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The scanning computer's own inventory: one interface on the lab network.
fn scanner_inventory(lab: &NetLab, ipdiscover: &str) -> String {
    inventory_xml(
        SCANNER,
        &format!(
            "<HARDWARE><NAME>lab-scanner</NAME><OSNAME>Debian GNU/Linux</OSNAME></HARDWARE>\
             <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><IPADDRESS>{}</IPADDRESS>\
             <IPMASK>{}</IPMASK><IPSUBNET>{}</IPSUBNET><MACADDR>{}</MACADDR>\
             <STATUS>Up</STATUS></NETWORKS>{ipdiscover}",
            lab.scanner.ip, lab.mask, lab.netid, lab.scanner.mac
        ),
    )
}

/// The `data-kind` of an address on an analysis page.
fn kind_of<'a>(body: &'a str, ip: &str) -> Option<&'a str> {
    let marker = format!("data-ip=\"{ip}\" data-kind=\"");
    let start = body.find(&marker)? + marker.len();
    body[start..].split('"').next()
}

#[tokio::test]
async fn analyze_classifies_the_lab_hosts_through_the_console() {
    if !nmap_installed() {
        assert!(!ocs_testkit::in_ci(), "nmap is needed under CI=true");
        eprintln!("skipping: nmap is not installed");
        return;
    }
    let Some(mut lab) = NetLab::create("203.0.113", 4).unwrap_or_else(|e| panic!("{e:#}")) else {
        return;
    };
    lab.listen_tcp(0, 135).unwrap();
    lab.listen_tcp(1, 22).unwrap();
    lab.listen_tcp(2, 23).unwrap();
    // Host 3 listens on nothing: every port refused.
    let phantom_down = format!("{}.99", lab.prefix);
    let server = TestServer::start_in_netns(
        Path::new(env!("CARGO_BIN_EXE_ocs-server")),
        &[],
        lab.scanner.ns.as_deref().unwrap(),
        &lab.scanner.ip,
    )
    .unwrap();

    // The scanning computer is inventoried, forced to scan the lab network, then reports
    // what it found there (as an elected agent does).
    let first = server.send(&scanner_inventory(&lab, "")).await;
    assert_eq!(first.status, 200, "{}", server.log());
    let id = host_id(&server, SCANNER).await;
    store(&server)
        .await
        .set_device_setting(
            id,
            &DeviceSetting {
                name: "IPDISCOVER".into(),
                ivalue: Some(2),
                tvalue: Some(lab.netid.clone()),
            },
        )
        .await
        .unwrap();
    let mut found: String = lab
        .hosts
        .iter()
        .map(|h| format!("<H><I>{}</I><M>{}</M><N>-</N></H>", h.ip, h.mac))
        .collect();
    found.push_str(&format!(
        "<H><I>{phantom_down}</I><M>00:1a:a0:0a:00:99</M><N>-</N></H>"
    ));
    let second = server
        .send(&scanner_inventory(
            &lab,
            &format!("<IPDISCOVER>{found}</IPDISCOVER>"),
        ))
        .await;
    assert_eq!(second.status, 200, "{}", server.log());
    assert_eq!(
        store(&server).await.netmap(&lab.netid).await.unwrap().len(),
        5,
        "{}",
        server.log()
    );

    let console = Console::sign_in_admin(&server).await;
    let history = console
        .get(&format!("/networks/{}/analyses", lab.netid))
        .await;
    assert_eq!(history.status, 200, "{}", history.body);
    assert!(
        history.body.contains("id=\"analyze-form\""),
        "{}",
        history.body
    );
    let started = console
        .post_form(&format!("/networks/{}/analyze", lab.netid), &[])
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let location = started.location.clone().unwrap();
    assert!(location.starts_with("/networks/analyses/"), "{location}");

    // A second one on the same network is refused while the first runs.
    let again = console
        .post_form(&format!("/networks/{}/analyze", lab.netid), &[])
        .await;
    assert_eq!(
        again.location.as_deref(),
        Some(format!("/networks/{}/analyses", lab.netid).as_str())
    );

    let deadline = Instant::now() + Duration::from_secs(300);
    let page = loop {
        let page = console.get(&location).await;
        assert_eq!(page.status, 200, "{}", page.body);
        if page.body.contains("data-state=\"done\"") {
            break page;
        }
        assert!(
            !page.body.contains("data-state=\"failed\""),
            "analysis failed: {}\n{}",
            page.body,
            server.log()
        );
        assert!(
            page.body.contains("http-equiv=\"refresh\""),
            "a running analysis reloads itself"
        );
        assert!(
            Instant::now() < deadline,
            "analysis still running: {}",
            page.body
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let body = &page.body;
    assert!(body.contains("5 of 5 hosts"), "{body}");
    assert!(
        !body.contains("http-equiv=\"refresh\""),
        "a finished one does not reload"
    );
    assert_eq!(kind_of(body, &lab.hosts[0].ip), Some("WINDOWS"), "{body}");
    assert_eq!(kind_of(body, &lab.hosts[1].ip), Some("LINUX"), "{body}");
    assert_eq!(kind_of(body, &lab.hosts[2].ip), Some("NETWORK"), "{body}");
    assert_eq!(
        kind_of(body, &lab.hosts[3].ip),
        Some("PHANTOM"),
        "all ports closed: {body}"
    );
    assert_eq!(
        kind_of(body, &phantom_down),
        Some("PHANTOM"),
        "no host: {body}"
    );
    assert_eq!(
        kind_of(body, &lab.scanner.ip),
        None,
        "the inventoried scanner is not analysed"
    );
    assert!(body.contains(&lab.hosts[0].mac), "{body}");
    assert!(body.contains("Intel"), "the MAC vendor is shown: {body}");
    let history = console
        .get(&format!("/networks/{}/analyses", lab.netid))
        .await;
    assert!(
        history.body.contains(&format!("href=\"{location}\"")),
        "{}",
        history.body
    );
}

#[tokio::test]
async fn a_network_that_is_not_an_address_is_refused_and_without_nmap_nothing_starts() {
    // No nmap in this server's PATH.
    let empty = tempfile::tempdir().unwrap();
    let server = server(&[("PATH", empty.path().to_str().unwrap())]);
    let console = Console::sign_in_admin(&server).await;
    for bad in [
        "1.2.3.4;id",
        "0.0.0.0%2F0",
        "203.0.113.0%20-iL%20x",
        "-iL",
        "0.0.0.0",
    ] {
        let refused = console
            .post_form(&format!("/networks/{bad}/analyze"), &[])
            .await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
        let refused = console.get(&format!("/networks/{bad}/analyses")).await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
    }
    let history = console.get("/networks/192.0.2.0/analyses").await;
    assert_eq!(history.status, 200, "{}", history.body);
    assert!(history.body.contains("id=\"no-nmap\""), "{}", history.body);
    assert!(!history.body.contains("id=\"analyze-form\""));
    let refused = console.post_form("/networks/192.0.2.0/analyze", &[]).await;
    assert_eq!(refused.status, 303, "{}", refused.body);
    assert_eq!(
        refused.location.as_deref(),
        Some("/networks/192.0.2.0/analyses")
    );
    let flash = console.get("/networks/192.0.2.0/analyses").await;
    assert!(
        flash.body.contains("nmap is not installed"),
        "{}",
        flash.body
    );
    assert!(store(&server)
        .await
        .list_analyses("192.0.2.0", 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(console.get("/networks/analyses/12345").await.status, 404);
    // Without CSRF the session layer refuses; a read-only account may not start one.
    let forged = console
        .post_raw(
            "/networks/192.0.2.0/analyze",
            &[],
            Some(&server_origin(&server)),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let reader = read_only_user(&server, "reader", "reader-password-1").await;
    let denied = reader.post_form("/networks/192.0.2.0/analyze", &[]).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
}

fn server_origin(server: &TestServer) -> String {
    server.base_url.clone()
}
