//! Affectations in the console (issue item 6): the Deployment block of the computer page
//! (affect with force, schedule and post-command, unaffect, the download history), the
//! group page's packages, the mass affect and unaffect of a search result, and the refusals a
//! read-only account gets.

use ocs_storage::groups::{GroupKind, NewGroup};
use ocs_storage::{ActivationId, HostId, NewActivation, PackageRecord, Store};
use ocs_testkit::{inventory_xml, TestServer};

use crate::console::{read_only_user, Console, Page};
use crate::{host_id, server, store};

const FILEID: &str = "1709631234";

fn hardware(name: &str) -> String {
    format!("<HARDWARE><NAME>{name}</NAME><OSNAME>Debian</OSNAME></HARDWARE>")
}

/// Inventories a computer named `name` (with a download history of `history`).
async fn computer(s: &TestServer, name: &str, history: &[&str]) -> HostId {
    let deviceid = format!("{name}-2024-03-05-09-12-44");
    let packages: String = history
        .iter()
        .map(|i| format!("<PACKAGE ID=\"{i}\"/>"))
        .collect();
    let content = format!(
        "{}<DOWNLOAD><HISTORY>{packages}</HISTORY></DOWNLOAD>",
        hardware(name)
    );
    assert_eq!(
        s.send(&inventory_xml(&deviceid, &content)).await.status,
        200
    );
    host_id(s, &deviceid).await
}

/// A package activated on the main server; returns its activation.
async fn package(db: &Store, fileid: &str, name: &str) -> ActivationId {
    db.insert_package(&PackageRecord {
        fileid: fileid.into(),
        name: name.into(),
        description: String::new(),
        os: "LINUX".into(),
        action: "EXECUTE".into(),
        action_param: "true".into(),
        priority: 5,
        fragments: 0,
        size: 0,
        digest: String::new(),
        created_at: 0,
        created_by: "admin".into(),
    })
    .await
    .unwrap();
    db.insert_activations(
        &[NewActivation {
            fileid: fileid.into(),
            info_loc: "main.example/download".into(),
            pack_loc: "main.example/download".into(),
            server: None,
            activated_by: "admin".into(),
        }],
        0,
    )
    .await
    .unwrap()[0]
}

fn flash_of(p: &Page) -> String {
    p.headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn computer_page_affects_unaffects_and_shows_the_history() {
    let s = server(&[]);
    s.set_option("DOWNLOAD", "1");
    let db = store(&s).await;
    let activation = package(&db, FILEID, "Marker").await;
    let id = computer(&s, "target", &[FILEID]).await;
    let admin = Console::sign_in_admin(&s).await;

    // The computer page loads the block in place, with a link for browsers without script.
    let page = admin.get(&format!("/computers/{}", id.0)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(&format!("hx-get=\"/computers/{}/deployment\"", id.0)),
        "{}",
        page.body
    );

    let block = admin
        .get_hx(&format!("/computers/{}/deployment", id.0))
        .await;
    assert_eq!(block.status, 200);
    assert!(!block.body.contains("<html"), "a fragment to htmx");
    assert!(block.body.contains("id=\"no-affectation\""));
    assert!(block.body.contains(&format!(
        "<option value=\"{}\">Marker ({FILEID})</option>",
        activation.0
    )));
    // The history the agent sent (§6.5), with the package's name.
    assert!(block.body.contains("id=\"download-history\""));
    assert!(block
        .body
        .contains(&format!("<td>{FILEID}</td><td>Marker</td>")));

    // A bad schedule is refused with the reason, and nothing is affected.
    let bad = admin
        .post_form(
            &format!("/computers/{}/deployment/affect", id.0),
            &[
                ("activation", &activation.0.to_string()),
                ("schedule", "2030-01-01 10:00"),
            ],
        )
        .await;
    assert_eq!(bad.status, 303);
    assert!(flash_of(&bad).contains("YYYY"), "{}", flash_of(&bad));
    assert!(db.affectations_of_computer(id).await.unwrap().is_empty());

    let done = admin
        .post_form(
            &format!("/computers/{}/deployment/affect", id.0),
            &[
                ("activation", &activation.0.to_string()),
                ("forced", "1"),
                ("schedule", "2030/01/31 23:59"),
                ("postcmd", "REBOOT"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("/computers/{}", id.0).as_str())
    );
    let stored = db.affectations_of_computer(id).await.unwrap();
    assert_eq!(stored.len(), 1);
    let a = &stored[0].affectation;
    assert!(a.forced && a.schedule == "2030/01/31 23:59" && a.postcmd == "REBOOT");

    let block = admin.get(&format!("/computers/{}/deployment", id.0)).await;
    assert!(block.body.contains("<html"), "a whole page without htmx");
    let row = &block.body[block
        .body
        .find(&format!("<tr data-fileid=\"{FILEID}\">"))
        .expect("affected row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("Marker") && row.contains("Waiting"), "{row}");
    assert!(
        row.contains("forced") && row.contains("2030/01/31 23:59") && row.contains("Reboot"),
        "{row}"
    );

    let gone = admin
        .post_form(
            &format!("/computers/{}/deployment/unaffect", id.0),
            &[("fileid", FILEID)],
        )
        .await;
    assert_eq!(gone.status, 303);
    assert!(db.affectations_of_computer(id).await.unwrap().is_empty());
    let bad = admin
        .post_form(
            &format!("/computers/{}/deployment/unaffect", id.0),
            &[("fileid", "../../etc")],
        )
        .await;
    assert_eq!(bad.status, 303);
    assert!(flash_of(&bad).contains("ocs_flash=e"), "{}", flash_of(&bad));

    // An unknown computer is a 404, not an empty block.
    assert_eq!(admin.get("/computers/999999/deployment").await.status, 404);
}

#[tokio::test]
async fn group_page_gives_and_takes_back_packages() {
    let s = server(&[]);
    let db = store(&s).await;
    let activation = package(&db, FILEID, "Marker").await;
    let group = db
        .insert_group(
            &NewGroup {
                name: "Office",
                description: "",
                kind: GroupKind::Static,
                criteria: None,
            },
            0,
        )
        .await
        .unwrap();
    let admin = Console::sign_in_admin(&s).await;

    let page = admin.get(&format!("/groups/{}", group.0)).await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains(&format!("hx-get=\"/groups/{}/deployment\"", group.0)));
    let block = admin
        .get_hx(&format!("/groups/{}/deployment", group.0))
        .await;
    assert!(block.body.contains("id=\"no-group-affectation\""));

    let done = admin
        .post_form(
            &format!("/groups/{}/deployment/affect", group.0),
            &[
                ("activation", &activation.0.to_string()),
                ("postcmd", "SHUTDOWN"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let given = db.affectations_of_group(group).await.unwrap();
    assert_eq!(given.len(), 1);
    assert_eq!(given[0].affectation.postcmd, "SHUTDOWN");
    let block = admin
        .get_hx(&format!("/groups/{}/deployment", group.0))
        .await;
    assert!(block
        .body
        .contains(&format!("<tr data-fileid=\"{FILEID}\">")));
    assert!(block.body.contains("Shut down"));

    let gone = admin
        .post_form(
            &format!("/groups/{}/deployment/unaffect", group.0),
            &[("fileid", FILEID)],
        )
        .await;
    assert_eq!(gone.status, 303);
    assert!(db.affectations_of_group(group).await.unwrap().is_empty());
}

#[tokio::test]
async fn mass_affect_and_unaffect_of_a_search_result() {
    let s = server(&[]);
    let db = store(&s).await;
    let a = computer(&s, "alpha", &[]).await;
    let b = computer(&s, "bravo", &[]).await;
    let other = computer(&s, "other", &[]).await;
    db.mass_set_tag(&[a, b], "PARIS", "test", 0).await.unwrap();
    let activation = package(&db, FILEID, "Marker").await;
    let admin = Console::sign_in_admin(&s).await;
    let q = "f0=tag&o0=equal&v0=PARIS";

    let chooser = admin
        .post_form("/mass", &[("scope", "all"), ("q", q)])
        .await;
    assert_eq!(chooser.status, 200, "{}", chooser.body);
    assert!(chooser.body.contains("id=\"mass-affect\""));
    assert!(chooser.body.contains("id=\"mass-unaffect\""));
    assert!(chooser.body.contains(&format!("Marker ({FILEID})")));

    let act = activation.0.to_string();
    let form = [
        ("scope", "all"),
        ("q", q),
        ("action", "affect"),
        ("activation", act.as_str()),
        ("forced", "1"),
        ("schedule", ""),
        ("postcmd", "REBOOT"),
    ];
    let confirm = admin.post_form("/mass/confirm", &form).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("2 computers will change."));
    assert!(confirm.body.contains(&format!("Marker ({FILEID})")));
    assert!(confirm.body.contains("Reboot"));
    let done = admin.post_form("/mass/apply", &form).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("2 computers changed."), "{}", done.body);
    for id in [a, b] {
        let got = db.affectations_of_computer(id).await.unwrap();
        assert_eq!(got.len(), 1, "{id:?}");
        assert!(got[0].affectation.forced && got[0].affectation.postcmd == "REBOOT");
    }
    assert!(db.affectations_of_computer(other).await.unwrap().is_empty());

    // A bad option is refused at confirmation.
    let mut bad = form;
    bad[6] = ("postcmd", "HALT");
    assert_eq!(admin.post_form("/mass/confirm", &bad).await.status, 400);

    let unaffect = [
        ("scope", "selected"),
        ("id", &a.0.to_string()),
        ("action", "unaffect"),
        ("fileid", FILEID),
    ];
    let done = admin.post_form("/mass/apply", &unaffect).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("1 computer changed."), "{}", done.body);
    assert!(db.affectations_of_computer(a).await.unwrap().is_empty());
    assert_eq!(db.affectations_of_computer(b).await.unwrap().len(), 1);
}

#[tokio::test]
async fn read_only_accounts_see_but_cannot_affect() {
    let s = server(&[]);
    let db = store(&s).await;
    let id = computer(&s, "target", &[]).await;
    let activation = package(&db, FILEID, "Marker").await;
    let group = db
        .insert_group(
            &NewGroup {
                name: "Office",
                description: "",
                kind: GroupKind::Static,
                criteria: None,
            },
            0,
        )
        .await
        .unwrap();
    // Sign the admin in first: it sets the first password, then the reader is created.
    let _admin = Console::sign_in_admin(&s).await;
    let reader = read_only_user(&s, "reader", "reader-password-1").await;
    let act = activation.0.to_string();

    let block = reader
        .get_hx(&format!("/computers/{}/deployment", id.0))
        .await;
    assert_eq!(block.status, 200);
    assert!(!block.body.contains("computer-affect-form"));
    let block = reader
        .get_hx(&format!("/groups/{}/deployment", group.0))
        .await;
    assert_eq!(block.status, 200);
    assert!(!block.body.contains("group-affect-form"));

    for (path, fields) in [
        (
            format!("/computers/{}/deployment/affect", id.0),
            vec![("activation", act.as_str())],
        ),
        (
            format!("/computers/{}/deployment/unaffect", id.0),
            vec![("fileid", FILEID)],
        ),
        (
            format!("/groups/{}/deployment/affect", group.0),
            vec![("activation", act.as_str())],
        ),
        (
            format!("/groups/{}/deployment/unaffect", group.0),
            vec![("fileid", FILEID)],
        ),
    ] {
        assert_eq!(reader.post_form(&path, &fields).await.status, 403, "{path}");
    }
    let ids = id.0.to_string();
    let mass = [
        ("scope", "selected"),
        ("id", ids.as_str()),
        ("action", "affect"),
        ("activation", act.as_str()),
    ];
    assert_eq!(reader.post_form("/mass/apply", &mass).await.status, 403);
    let chooser = reader
        .post_form("/mass", &[("scope", "selected"), ("id", &ids)])
        .await;
    assert!(!chooser.body.contains("id=\"mass-affect\""));
    assert!(db.affectations_of_computer(id).await.unwrap().is_empty());
    assert!(db.affectations_of_group(group).await.unwrap().is_empty());
}
