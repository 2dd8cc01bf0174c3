//! The fleet's software end to end: inventories sent through the real protocol, then the
//! software list, its CSV and one software's versions and computers (console EN/FR, API);
//! categories and rules made on the console, applied by the background job and at ingestion;
//! the dictionary's moves (ticked rows, every match, a new category), IGNORED hiding software
//! from the lists and the computer, the category search field, and refusals.

use ocs_testkit::{inventory_xml, TestServer};
use serde_json::Value;

use crate::console::{read_only_user, Console};
use crate::{eventually, host_id, server, store};

const WIN: &str = "win-2026-01-01-00-00-00";
const DEB: &str = "deb-2026-01-01-00-00-00";
const OLD: &str = "old-2026-01-01-00-00-00";
const NEWER: &str = "newer-2026-01-01-00-00-00";
/// Counts made on every view, so each check sees the inventories sent just before.
const FRESH_COUNTS: (&str, &str) = ("OCS_SOFTWARE__COUNTS_MAX_AGE_SECS", "0");

fn software(items: &[(&str, &str, &str)]) -> String {
    items
        .iter()
        .map(|(n, p, v)| {
            format!(
                "<SOFTWARES><NAME>{n}</NAME><PUBLISHER>{p}</PUBLISHER><VERSION>{v}</VERSION></SOFTWARES>"
            )
        })
        .collect()
}

fn computer(name: &str, os: &str, items: &[(&str, &str, &str)]) -> String {
    format!(
        "<HARDWARE><NAME>{name}</NAME><OSNAME>{os}</OSNAME></HARDWARE>{}",
        software(items)
    )
}

async fn send(s: &TestServer, deviceid: &str, body: &str) {
    assert_eq!(s.send(&inventory_xml(deviceid, body)).await.status, 200);
}

async fn api(s: &TestServer, token: &str, path: &str) -> Value {
    let (status, body) = s.api(path, token).await;
    assert_eq!(status, 200, "{path}: {body}\n{}", s.log());
    body
}

fn item<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

/// The category of each version of a software, through the API.
async fn version_categories(s: &TestServer, token: &str, id: i64) -> Vec<(String, String)> {
    let detail = api(s, token, &format!("/api/v1/software/{id}")).await;
    let mut v: Vec<(String, String)> = detail["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_str().unwrap().to_owned(),
                v["category"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

async fn category_id(s: &TestServer, name: &str) -> i64 {
    store(s)
        .await
        .software_categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no category {name}"))
        .id
}

async fn job_state(admin: &Console) -> String {
    let page = admin.get("/software/categories/job").await;
    let at = page.body.find("data-state=\"").map(|i| i + 12).unwrap_or(0);
    page.body[at..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn fleet_software_is_listed_categorised_and_moved() {
    let s = server(&[FRESH_COUNTS]);
    let firefox = ("Firefox", "Mozilla", "120.0");
    send(
        &s,
        WIN,
        &computer(
            "win",
            "Microsoft Windows 11 Pro",
            &[
                firefox,
                ("7-Zip", "Igor Pavlov", "23.01"),
                ("Teams", "Microsoft", "1.6"),
            ],
        ),
    )
    .await;
    send(
        &s,
        DEB,
        &computer(
            "deb",
            "Debian GNU/Linux 12",
            &[("Firefox", "Mozilla", "121.0"), ("vim", "Debian", "9.0")],
        ),
    )
    .await;
    send(&s, OLD, &computer("old", "Debian GNU/Linux 11", &[firefox])).await;
    let token = s.token();

    // The list: one line per name and publisher, with its versions and computers.
    let list = api(&s, &token, "/api/v1/software?sort=computers&dir=desc").await;
    assert_eq!(list["total"], 4, "{list}");
    assert_eq!(list["items"][0]["name"], "Firefox");
    let ff = item(&list, "Firefox");
    assert_eq!(
        (ff["versions"].as_i64(), ff["computers"].as_i64()),
        (Some(2), Some(3))
    );
    assert_eq!(ff["category"], "NEW");
    let ff_id = ff["id"].as_i64().unwrap();
    let filtered = api(&s, &token, "/api/v1/software?name=fire&publisher=moz").await;
    assert_eq!(filtered["total"], 1);
    let (status, bad) = s.api("/api/v1/software?sort=colour", &token).await;
    assert_eq!(status, 400);
    assert_eq!(bad["message"], "Unknown sort column.");
    assert_eq!(
        s.api("/api/v1/software?per_page=100000", &token).await.0,
        400
    );
    assert_eq!(s.api("/api/v1/software/999999", &token).await.0, 404);
    let detail = api(&s, &token, &format!("/api/v1/software/{ff_id}")).await;
    let computers: Vec<i64> = detail["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["computers"].as_i64().unwrap())
        .collect();
    assert_eq!(computers.iter().sum::<i64>(), 3);

    // The console: list, CSV, versions and computers.
    let admin = Console::sign_in_admin(&s).await;
    let page = admin.get("/software?name=fire").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("href=\"/software/{ff_id}\"")));
    assert!(page.body.contains("1 software"));
    assert!(!page.body.contains("7-Zip"));
    let csv = admin.get("/software.csv?sort=name").await;
    assert_eq!(csv.status, 200);
    assert!(csv
        .body
        .starts_with("\"Name\",\"Publisher\",\"Versions\",\"Computers\",\"Category\""));
    assert!(
        csv.body
            .contains("\"Firefox\",\"Mozilla\",\"2\",\"3\",\"NEW\""),
        "{}",
        csv.body
    );
    assert_eq!(csv.body.lines().count(), 5);
    let versions = admin.get(&format!("/software/{ff_id}")).await;
    assert!(versions.body.contains("121.0") && versions.body.contains("Installed on 3 computers"));
    let on = admin.get(&format!("/software/{ff_id}/computers")).await;
    for id in [WIN, DEB, OLD] {
        let id = host_id(&s, id).await;
        assert!(on.body.contains(&format!("/computers/{}", id.0)), "{id:?}");
    }
    assert_eq!(admin.get("/software?per_page=0").await.status, 400);
    assert_eq!(admin.get("/software/abc").await.status, 400);

    // A category and two rules: every Firefox is a browser, newer than 120.5 a recent one;
    // the last rule that matches wins, and the job applies them to what is installed.
    for name in ["Browsers", "Recent browsers"] {
        let made = admin
            .post_form("/software/categories", &[("name", name), ("os", "ALL")])
            .await;
        assert_eq!(made.status, 303);
    }
    let again = admin
        .post_form(
            "/software/categories",
            &[("name", "browsers"), ("os", "ALL")],
        )
        .await;
    assert_eq!(again.status, 303);
    assert!(admin
        .get("/software/categories")
        .await
        .body
        .contains("already exists"));
    let browsers = category_id(&s, "Browsers").await;
    let recent = category_id(&s, "Recent browsers").await;
    let rule = |category: i64, sign: &'static str, version: &'static str| {
        let admin = &admin;
        async move {
            let category = category.to_string();
            admin
                .post_form(
                    "/software/rules",
                    &[
                        ("category", category.as_str()),
                        ("pattern", "fire*"),
                        ("sign", sign),
                        ("version", version),
                        ("publisher", "Mozilla"),
                    ],
                )
                .await
                .status
        }
    };
    assert_eq!(rule(browsers, "", "").await, 303);
    assert_eq!(rule(recent, "MORE", "120.5").await, 303);
    assert_eq!(
        rule(recent, "MORE", "").await,
        303,
        "refused with a message"
    );
    assert_eq!(
        store(&s)
            .await
            .software_category_rules()
            .await
            .unwrap()
            .len(),
        2
    );
    // Each new rule asks for a re-application; the first run may be done before the second
    // rule's starts, so what is waited for is the result, then the job at rest.
    eventually(
        "rules applied",
        vec![
            ("120.0".to_owned(), "Browsers".to_owned()),
            ("121.0".to_owned(), "Recent browsers".to_owned()),
        ],
        || version_categories(&s, &token, ff_id),
    )
    .await;
    eventually("the job at rest", "done".to_owned(), || job_state(&admin)).await;
    let list = api(&s, &token, "/api/v1/software?name=firefox").await;
    assert_eq!(list["items"][0]["category"], Value::Null, "versions differ");
    let categories = admin.get("/software/categories").await;
    assert!(
        categories.body.contains("entries changed: "),
        "{}",
        categories.body
    );

    // A new version arriving is categorised within its inventory.
    send(
        &s,
        NEWER,
        &computer(
            "newer",
            "Debian GNU/Linux 13",
            &[("Firefox", "Mozilla", "122.0")],
        ),
    )
    .await;
    assert!(version_categories(&s, &token, ff_id)
        .await
        .contains(&("122.0".to_owned(), "Recent browsers".to_owned())));

    // The dictionary: tick Teams into IGNORED; it leaves the lists and the computer.
    let dict = admin.get("/software/dictionary?q=teams").await;
    assert!(dict.body.contains("1 entry"), "{}", dict.body);
    let key = dict
        .body
        .split("name=\"sel\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let moved = admin
        .post_form(
            "/software/dictionary/move",
            &[
                ("scope", "selected"),
                ("sel", &key),
                ("target", "2"),
                ("q", "teams"),
            ],
        )
        .await;
    assert_eq!(moved.status, 303);
    let list = api(&s, &token, "/api/v1/software").await;
    assert_eq!(list["total"], 3, "{list}");
    let ignored = api(&s, &token, "/api/v1/software?category=2").await;
    assert_eq!(ignored["items"][0]["name"], "Teams");
    let win = host_id(&s, WIN).await;
    let pc = api(&s, &token, &format!("/api/v1/computers/{}", win.0)).await;
    let names: Vec<&str> = pc["softwares"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(
        names.contains(&"7-Zip") && !names.contains(&"Teams"),
        "{names:?}"
    );

    // Every match into a category made on the way; set by hand, so the job leaves it.
    let moved = admin
        .post_form(
            "/software/dictionary/move",
            &[
                ("scope", "matching"),
                ("q", "vim"),
                ("target", ""),
                ("new_category", "Editors"),
            ],
        )
        .await;
    assert_eq!(moved.status, 303);
    let vim = item(&list, "vim")["id"].as_i64().unwrap();
    let detail = api(&s, &token, &format!("/api/v1/software/{vim}")).await;
    assert_eq!(detail["versions"][0]["category"], "Editors");
    assert_eq!(detail["versions"][0]["manual"], true);
    let found = admin
        .get("/search?f0=software_category&o0=equal&v0=editors")
        .await;
    assert_eq!(found.status, 200);
    let deb = host_id(&s, DEB).await;
    assert!(
        found.body.contains(&format!("/computers/{}", deb.0)),
        "{}",
        found.body
    );
    assert!(!found.body.contains(&format!("/computers/{}\"", win.0)));
    assert_eq!(
        admin
            .post_form("/software/categories/reapply", &[])
            .await
            .status,
        303
    );
    eventually("rules applied again", "done".to_owned(), || {
        job_state(&admin)
    })
    .await;
    assert_eq!(version_categories(&s, &token, vim).await[0].1, "Editors");
    assert_eq!(
        api(&s, &token, "/api/v1/software?category=2").await["total"],
        1
    );

    // Deleting a category drops its rule and links: 120.0 is NEW again.
    let deleted = admin
        .post_form(&format!("/software/categories/{browsers}/delete"), &[])
        .await;
    assert_eq!(deleted.status, 303);
    eventually("after the deletion", "done".to_owned(), || {
        job_state(&admin)
    })
    .await;
    assert_eq!(version_categories(&s, &token, ff_id).await[0].1, "NEW");
    let builtin = admin.post_form("/software/categories/2/delete", &[]).await;
    assert_eq!(builtin.status, 303);
    assert!(store(&s)
        .await
        .software_categories()
        .await
        .unwrap()
        .iter()
        .any(|c| c.id == 2));

    // French, and a read-only account that reads but does not change.
    admin
        .post_form("/account/language", &[("language", "fr")])
        .await;
    let fr = admin.get("/software/categories").await;
    assert!(fr.body.contains("Catégories de logiciels"));
    let fr = admin.get("/software/dictionary").await;
    assert!(fr.body.contains("Dictionnaire des logiciels"));
    let viewer = read_only_user(&s, "viewer", "viewer-password-1").await;
    assert_eq!(viewer.get("/software").await.status, 200);
    let dict = viewer.get("/software/dictionary").await;
    assert!(!dict.body.contains("name=\"sel\""));
    assert_eq!(
        viewer
            .post_form("/software/rules", &[("category", "1"), ("pattern", "x")])
            .await
            .status,
        403
    );
    assert_eq!(
        viewer
            .post_form(
                "/software/dictionary/move",
                &[("scope", "matching"), ("target", "2")]
            )
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn default_category_applies_to_new_software_without_a_rule() {
    let s = server(&[FRESH_COUNTS]);
    let admin = Console::sign_in_admin(&s).await;
    assert_eq!(
        admin
            .post_form(
                "/software/categories",
                &[("name", "To review"), ("os", "ALL")]
            )
            .await
            .status,
        303
    );
    let review = category_id(&s, "To review").await;
    // A rule for Windows only does not match a Linux computer.
    let windows = admin
        .post_form(
            "/software/categories",
            &[("name", "Windows tools"), ("os", "WINDOWS")],
        )
        .await;
    assert_eq!(windows.status, 303);
    let tools = category_id(&s, "Windows tools").await.to_string();
    assert_eq!(
        admin
            .post_form("/software/rules", &[("category", &tools), ("pattern", "*")])
            .await
            .status,
        303
    );
    let review = review.to_string();
    let saved = admin
        .post_form("/admin/options", &[("DEFAULT_CATEGORY", &review)])
        .await;
    assert_eq!(saved.status, 303);
    assert!(!admin
        .get("/admin/options")
        .await
        .body
        .contains("flash-error"));
    eventually("rules applied", "done".to_owned(), || job_state(&admin)).await;
    send(
        &s,
        DEB,
        &computer("deb", "Debian GNU/Linux 12", &[("htop", "Debian", "3.2")]),
    )
    .await;
    send(
        &s,
        WIN,
        &computer(
            "win",
            "Microsoft Windows 11 Pro",
            &[("putty", "Simon Tatham", "0.81")],
        ),
    )
    .await;
    let token = s.token();
    let list = api(&s, &token, "/api/v1/software?sort=name").await;
    assert_eq!(item(&list, "htop")["category"], "To review");
    assert_eq!(item(&list, "putty")["category"], "Windows tools");
}

#[tokio::test]
async fn old_counts_are_shown_while_newer_ones_are_made_in_the_background() {
    let s = server(&[("OCS_SOFTWARE__COUNTS_MAX_AGE_SECS", "1")]);
    send(
        &s,
        WIN,
        &computer(
            "win",
            "Microsoft Windows 11 Pro",
            &[("Firefox", "Mozilla", "1")],
        ),
    )
    .await;
    let token = s.token();
    let first = api(&s, &token, "/api/v1/software").await;
    assert_eq!(
        item(&first, "Firefox")["computers"],
        1,
        "counted on the first view"
    );
    assert!(first["counted_at"].as_str().is_some());
    send(
        &s,
        DEB,
        &computer("deb", "Debian GNU/Linux 12", &[("Firefox", "Mozilla", "1")]),
    )
    .await;
    // Within the maximum age the earlier counts stand; after it a view starts a recount and
    // a later view shows it.
    eventually("recounted", Some(2), || async {
        let list = api(&s, &token, "/api/v1/software").await;
        item(&list, "Firefox")["computers"].as_i64()
    })
    .await;
    let job = store(&s)
        .await
        .latest_job("software_counts")
        .await
        .unwrap()
        .expect("a background recount");
    assert_eq!(job.state, ocs_storage::jobs::JobState::Done);
}
