//! Network discovery settings through the console: subnet names (add, edit, delete, CSV
//! import with its per-line report), device types (refused while in use), registering a MAC as
//! known and forgetting it; read-only accounts only look; French pages.

use crate::console::{read_only_user, Console, Page};
use crate::server;

/// Follows a redirect after a change, returning the page it leads to (with its flash).
async fn follow(console: &Console, answer: &Page, back: &str) -> Page {
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some(back));
    console.get(back).await
}

/// The value of the first `data-NAME="…"` attribute of the row whose text contains `text`.
fn row_attr(body: &str, attr: &str, text: &str) -> Option<String> {
    let marker = format!("{attr}=\"");
    body.split("<tr ")
        .find(|row| row.contains(text))
        .and_then(|row| {
            let start = row.find(&marker)? + marker.len();
            let end = row[start..].find('"')? + start;
            Some(row[start..end].to_owned())
        })
}

#[tokio::test]
async fn subnet_names_are_added_edited_deleted_and_checked() {
    let server = server(&[]);
    let admin = Console::sign_in_admin(&server).await;

    let added = admin
        .post_form(
            "/networks/subnets",
            &[
                ("name", "Head office <LAN>"),
                ("network_id", "HQ-1"),
                ("netid", "192.0.2.0"),
                ("mask", "255.255.255.0"),
            ],
        )
        .await;
    let list = follow(&admin, &added, "/networks/subnets").await;
    assert!(list.body.contains("Network named."), "{}", list.body);
    assert!(
        list.body.contains("Head office &#60;LAN&#62;"),
        "escaped: {}",
        list.body
    );
    assert!(list.body.contains("HQ-1"));
    let id = row_attr(&list.body, "data-subnet", "HQ-1").expect("row of the subnet");

    // The same network twice, a bad mask, host bits set, a missing name: each refused with
    // its reason and nothing stored.
    for (fields, reason) in [
        (
            [
                ("name", "Again"),
                ("netid", "192.0.2.0"),
                ("mask", "255.255.255.0"),
            ],
            "This network already has a name.",
        ),
        (
            [
                ("name", "Bad"),
                ("netid", "198.51.100.0"),
                ("mask", "255.0.255.0"),
            ],
            "contiguous bits",
        ),
        (
            [
                ("name", "Bad"),
                ("netid", "198.51.100.7"),
                ("mask", "255.255.255.0"),
            ],
            "host bits are not zero",
        ),
        (
            [
                ("name", ""),
                ("netid", "198.51.100.0"),
                ("mask", "255.255.255.0"),
            ],
            "A name is needed",
        ),
    ] {
        let refused = admin.post_form("/networks/subnets", &fields).await;
        let page = follow(&admin, &refused, "/networks/subnets").await;
        assert!(page.body.contains(reason), "{reason}: {}", page.body);
        assert!(!page.body.contains("198.51.100.0</a>"), "{reason}: stored");
        assert!(!page.body.contains(">Again<"), "{reason}: stored");
    }

    let edit = admin.get(&format!("/networks/subnets/{id}/edit")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.body.contains("HQ-1"));
    let saved = admin
        .post_form(
            &format!("/networks/subnets/{id}/edit"),
            &[
                ("name", "Head office"),
                ("network_id", "HQ-2"),
                ("netid", "192.0.2.0"),
                ("mask", "255.255.255.128"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let list = admin.get("/networks/subnets").await;
    assert!(list.body.contains("HQ-2") && list.body.contains("255.255.255.128"));
    assert_eq!(admin.get("/networks/subnets/999999/edit").await.status, 404);

    let deleted = admin
        .post_form(&format!("/networks/subnets/{id}/delete"), &[])
        .await;
    let list = follow(&admin, &deleted, "/networks/subnets").await;
    assert!(list.body.contains("Subnet name deleted."));
    assert!(!list.body.contains("HQ-2"));
    assert!(list.body.contains("No network has a name yet."));

    // Changes need an administrator; a read-only account sees the list without the forms.
    let reader = read_only_user(&server, "viewer", "viewer-password-1").await;
    let seen = reader.get("/networks/subnets").await;
    assert_eq!(seen.status, 200);
    assert!(!seen.body.contains("id=\"subnet-add\""));
    let refused = reader
        .post_form(
            "/networks/subnets",
            &[
                ("name", "X"),
                ("netid", "203.0.113.0"),
                ("mask", "255.255.255.0"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(!admin
        .get("/networks/subnets")
        .await
        .body
        .contains("203.0.113.0"));
}

#[tokio::test]
async fn a_csv_import_saves_good_lines_and_reports_each_refused_one() {
    let server = server(&[]);
    let admin = Console::sign_in_admin(&server).await;
    admin
        .post_form(
            "/networks/subnets",
            &[
                ("name", "Old name"),
                ("netid", "192.0.2.0"),
                ("mask", "255.255.255.0"),
            ],
        )
        .await;

    let csv = "name,id,address,mask\n\
               Lab,L1,198.51.100.0,255.255.255.0\n\
               Office,O1,192.0.2.0,255.255.255.0\n\
               Broken,B1,203.0.113.9,255.255.255.0\n\
               too,few\n";
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec())
            .file_name("subnets.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    let report = admin.post_multipart("/networks/subnets/import", form).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert!(report.body.contains("Added"), "{}", report.body);
    assert!(report.body.contains("Renamed"), "{}", report.body);
    assert!(
        report.body.contains("host bits are not zero"),
        "{}",
        report.body
    );
    assert!(
        report.body.contains("Four columns are expected"),
        "{}",
        report.body
    );

    let list = admin.get("/networks/subnets").await;
    assert!(list.body.contains("Lab") && list.body.contains("198.51.100.0"));
    assert!(list.body.contains("Office") && !list.body.contains("Old name"));
    assert!(!list.body.contains("203.0.113.9"));

    // One file, one separator: semicolons work as well.
    let form = reqwest::multipart::Form::new().text("text", "Branch;B2;203.0.113.0;255.255.255.0");
    let report = admin.post_multipart("/networks/subnets/import", form).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert!(admin.get("/networks/subnets").await.body.contains("Branch"));

    let empty = admin
        .post_multipart(
            "/networks/subnets/import",
            // What a browser sends when neither a file nor text was given.
            reqwest::multipart::Form::new()
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(Vec::new()).file_name(""),
                )
                .text("text", ""),
        )
        .await;
    let page = follow(&admin, &empty, "/networks/subnets/import").await;
    assert!(page.body.contains("Nothing to import"), "{}", page.body);
}

#[tokio::test]
async fn device_types_and_known_devices() {
    let server = server(&[]);
    let admin = Console::sign_in_admin(&server).await;

    let added = admin
        .post_form("/networks/types", &[("name", "Printer")])
        .await;
    let types = follow(&admin, &added, "/networks/types").await;
    assert!(types.body.contains("Device type added."));
    let again = admin
        .post_form("/networks/types", &[("name", "Printer")])
        .await;
    let types = follow(&admin, &again, "/networks/types").await;
    assert!(types.body.contains("This device type already exists."));
    let printer = row_attr(&types.body, "data-type", "Printer").expect("type row");

    // A MAC of an Intel card: the form names the vendor; registering it needs a known type.
    let mac = "00:1B:21:0A:0B:0C";
    let form = admin
        .get(&format!("/networks/devices/{mac}/register"))
        .await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("Intel"), "{}", form.body);
    assert!(form.body.contains("00:1b:21:0a:0b:0c"), "normalised");
    let refused = admin
        .post_form(
            &format!("/networks/devices/{mac}/register"),
            &[("device_type", "Toaster"), ("description", "x")],
        )
        .await;
    let back = follow(
        &admin,
        &refused,
        "/networks/devices/00:1b:21:0a:0b:0c/register",
    )
    .await;
    assert!(back.body.contains("This device type does not exist."));
    assert_eq!(
        admin
            .get("/networks/devices/not-a-mac/register")
            .await
            .status,
        400
    );

    let registered = admin
        .post_form(
            &format!("/networks/devices/{mac}/register"),
            &[("device_type", "Printer"), ("description", "2nd floor")],
        )
        .await;
    assert_eq!(registered.status, 303, "{}", registered.body);
    let form = admin
        .get("/networks/devices/00:1b:21:0a:0b:0c/register")
        .await;
    assert!(form.body.contains("2nd floor"));
    assert!(form.body.contains("admin"), "who registered it");

    // A type in use cannot be deleted; once the device is forgotten it can.
    let refused = admin
        .post_form(&format!("/networks/types/{printer}/delete"), &[])
        .await;
    let types = follow(&admin, &refused, "/networks/types").await;
    assert!(
        types.body.contains("still have this type"),
        "{}",
        types.body
    );
    assert!(types.body.contains("Printer"));
    let forgotten = admin
        .post_form("/networks/identified/00:1b:21:0a:0b:0c/delete", &[])
        .await;
    assert_eq!(forgotten.status, 303);
    let deleted = admin
        .post_form(&format!("/networks/types/{printer}/delete"), &[])
        .await;
    let types = follow(&admin, &deleted, "/networks/types").await;
    assert!(types.body.contains("Device type deleted."));
    assert!(types.body.contains("No device type yet."));
}

#[tokio::test]
async fn network_discovery_settings_speak_french() {
    let server = server(&[]);
    let admin = Console::sign_in_admin(&server).await;
    admin
        .post_form("/account/language", &[("language", "fr")])
        .await;
    for path in [
        "/networks/subnets",
        "/networks/types",
        "/networks/subnets/import",
    ] {
        let page = admin.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains("lang=\"fr\""), "{path}");
        assert!(!page.body.contains("subnets."), "{path}: untranslated key");
        assert!(!page.body.contains("types."), "{path}: untranslated key");
    }
}
