//! The home dashboard: the first page after sign-in, its figures against the stored fleet,
//! and each figure and bar opening a list with exactly the computers it counts (EN/FR).

use ocs_testkit::{inventory_xml, TestServer};

use crate::console::Console;
use crate::{host_id, server, store};

const DAY: i64 = 86_400;

async fn send(s: &TestServer, deviceid: &str, name: &str, os: &str, software: &[&str]) {
    let software: String = software
        .iter()
        .map(|n| format!("<SOFTWARES><NAME>{n}</NAME><PUBLISHER>P</PUBLISHER><VERSION>1</VERSION></SOFTWARES>"))
        .collect();
    let body = format!("<HARDWARE><NAME>{name}</NAME><OSNAME>{os}</OSNAME></HARDWARE>{software}");
    assert_eq!(s.send(&inventory_xml(deviceid, &body)).await.status, 200);
}

/// The `href` of the element with this ID, unescaped.
fn href_of(body: &str, id: &str) -> String {
    let start = body
        .find(&format!("id=\"{id}\" href=\""))
        .unwrap_or_else(|| panic!("no #{id} in {body}"))
        + id.len()
        + 12;
    let end = start + body[start..].find('"').unwrap();
    body[start..end].replace("&#38;", "&")
}

/// The count shown by a figure.
fn figure(body: &str, id: &str) -> i64 {
    let at = body.find(&format!("id=\"{id}\"")).unwrap();
    let value = &body[at..];
    let start = value.find("<span class=\"value\">").unwrap() + 20;
    let end = start + value[start..].find('<').unwrap();
    value[start..end].parse().unwrap()
}

/// The `href`s of a chart's bars, in order, unescaped.
fn bar_links(body: &str, chart: &str) -> Vec<String> {
    let start = body.find(&format!("<svg id=\"{chart}\"")).unwrap();
    let end = start + body[start..].find("</svg>").unwrap();
    body[start..end]
        .split("<a href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].replace("&#38;", "&"))
        .collect()
}

#[tokio::test]
async fn the_dashboard_counts_the_fleet_and_opens_each_list() {
    let s = server(&[("OCS_SOFTWARE__COUNTS_MAX_AGE_SECS", "0")]);
    // Signed out, the home page is the sign-in form.
    let anonymous = s.request("GET", "/", Vec::new(), &[]).await;
    assert_eq!(anonymous.status, 200);
    assert!(String::from_utf8_lossy(&anonymous.body).contains("id=\"login-form\""));

    send(
        &s,
        "a-2026-01-01-00-00-00",
        "deb-a",
        "Debian GNU/Linux 12",
        &["Firefox", "vim"],
    )
    .await;
    send(
        &s,
        "b-2026-01-01-00-00-00",
        "deb-b",
        "Debian GNU/Linux 12",
        &["Firefox"],
    )
    .await;
    send(
        &s,
        "c-2026-01-01-00-00-00",
        "win-c",
        "Microsoft Windows 11",
        &["Firefox"],
    )
    .await;
    let old = host_id(&s, "b-2026-01-01-00-00-00").await;
    store(&s).await.backdate_host(old, 40 * DAY).await.unwrap();

    let admin = Console::sign_in_admin(&s).await;
    let home = admin.get("/").await;
    assert_eq!(home.status, 200, "{}", s.log());
    let body = &home.body;
    assert!(body.contains("id=\"dashboard\""));
    assert_eq!(figure(body, "fig-total"), 3);
    assert_eq!(figure(body, "fig-seen-1"), 2);
    assert_eq!(figure(body, "fig-seen-7"), 2);
    assert_eq!(figure(body, "fig-seen-30"), 2);
    assert_eq!(figure(body, "fig-not-seen"), 1);

    // Each figure's list holds exactly the computers it counts.
    let not_seen = admin.get(&href_of(body, "fig-not-seen")).await.body;
    assert!(
        not_seen.contains("deb-b") && !not_seen.contains("deb-a") && !not_seen.contains("win-c")
    );
    let today = admin.get(&href_of(body, "fig-seen-1")).await.body;
    assert!(today.contains("deb-a") && today.contains("win-c") && !today.contains("deb-b"));

    // By OS: Debian first, and its bar searches it.
    let os = bar_links(body, "chart-os");
    assert_eq!(os.len(), 2, "{body}");
    let debian = admin.get(&os[0]).await.body;
    assert!(debian.contains("deb-a") && debian.contains("deb-b") && !debian.contains("win-c"));
    // By agent: one User-Agent for all three.
    assert_eq!(bar_links(body, "chart-agents").len(), 1);
    // By TAG: none has one.
    assert!(body.contains("<svg id=\"chart-tags\""));
    assert!(body.contains(">NA</text>"));
    // Top software: Firefox on three computers, opening their list.
    let software = bar_links(body, "chart-software");
    assert_eq!(software.len(), 2);
    assert!(software[0].starts_with("/software/") && software[0].ends_with("/computers"));
    let firefox = admin.get(&software[0]).await.body;
    assert!(firefox.contains("deb-a") && firefox.contains("deb-b") && firefox.contains("win-c"));
    // The latest inventories, newest first.
    let recent = &body[body.find("id=\"recent\"").unwrap()..];
    assert!(recent.find("win-c").unwrap() < recent.find("deb-a").unwrap());
    let table = &recent[..recent.find("</table>").unwrap()];
    assert!(table.find("deb-a").unwrap() < table.find("deb-b").unwrap());

    // In French.
    let fr = admin
        .post_form("/account/language", &[("language", "fr")])
        .await;
    assert_eq!(fr.status, 303);
    let fr = admin.get("/").await.body;
    assert!(fr.contains("Le parc en un coup d"), "{fr}");
    assert!(fr.contains("pas vus depuis 30 jours ou plus"));
}
