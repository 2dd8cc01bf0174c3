//! Console pages of deployment statistics and redistribution groups: a package's status page
//! (counts, chart, links to the search of each status, validations), the redistribution
//! list and group pages (rename, describe, remove a member, delete), the mass action that
//! makes a group from a search result, the activate form's group picker, and the 403 a
//! read-only account gets on every change.

use ocs_storage::{Affectation, HostId, NewActivation, PackageRecord, Store};
use ocs_testkit::{inventory_xml, TestServer};

use crate::console::{read_only_user, Console};
use crate::{host_id, server, store};

const FILEID: &str = "1709632100";

fn hardware(name: &str, ip: &str) -> String {
    format!("<HARDWARE><NAME>{name}</NAME><OSNAME>Debian</OSNAME><IPADDR>{ip}</IPADDR></HARDWARE>")
}

/// A server with three inventoried computers (`relay-a`, `relay-b`, `desk`).
async fn fleet() -> (TestServer, Store, Vec<HostId>) {
    let s = server(&[]);
    s.set_option("DOWNLOAD", "1");
    let mut ids = Vec::new();
    for (i, name) in ["relay-a", "relay-b", "desk"].iter().enumerate() {
        let dev = format!("{name}-2024-03-05-09-12-4{i}");
        let xml = inventory_xml(&dev, &hardware(name, &format!("10.1.2.{}", i + 1)));
        assert_eq!(s.send(&xml).await.status, 200);
        ids.push(host_id(&s, &dev).await);
    }
    let db = store(&s).await;
    (s, db, ids)
}

/// A package activated on this server and affected to `to`.
async fn package(db: &Store, to: &[HostId]) {
    db.insert_package(&PackageRecord {
        fileid: FILEID.into(),
        name: "Marker".into(),
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
    let act = db
        .insert_activations(
            &[NewActivation {
                fileid: FILEID.into(),
                info_loc: "main.example/download".into(),
                pack_loc: "main.example/download".into(),
                server: None,
                activated_by: "admin".into(),
            }],
            0,
        )
        .await
        .unwrap();
    db.affect_computers(act[0], to, &Affectation::default())
        .await
        .unwrap();
}

/// What an agent reports for the package.
async fn report(s: &TestServer, deviceid: &str, err: &str) {
    let a = s
        .send(&format!(
            r#"<REQUEST DEVICEID="{deviceid}" ERR="{err}" ID="{FILEID}" QUERY="DOWNLOAD" />"#
        ))
        .await;
    assert_eq!(a.status, 200);
}

/// The text of the element with this `id` (up to its first tag).
fn text_of(body: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let at = body.find(&marker).unwrap_or_else(|| panic!("{id}: {body}"));
    let rest = &body[at..];
    let start = rest.find('>').unwrap() + 1;
    rest[start..start + rest[start..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn status_page_counts_links_and_validates() {
    let (s, db, ids) = fleet().await;
    package(&db, &ids).await;
    report(&s, "relay-a-2024-03-05-09-12-40", "SUCCESS").await;
    report(&s, "relay-b-2024-03-05-09-12-41", "ERR_BAD_DIGEST").await;
    let console = Console::sign_in_admin(&s).await;

    let package_page = console.get(&format!("/packages/{FILEID}")).await;
    assert_eq!(package_page.status, 200, "{}", package_page.body);
    assert!(package_page
        .body
        .contains(&format!("href=\"/packages/{FILEID}/status\"")));

    let page = console.get(&format!("/packages/{FILEID}/status")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        text_of(&page.body, "status-total"),
        "Affected to 3 computers."
    );
    assert!(page.body.contains("<svg"), "inline chart");
    for status in ["WAITING", "SUCCESS", "ERR_BAD_DIGEST"] {
        assert!(
            page.body.contains(&format!("<td>{status}</td>")),
            "{status}"
        );
    }
    // Each count opens the search of its computers.
    let link = format!("/search?f0=deployment&#38;o0=equal&#38;v0={FILEID}%3ASUCCESS");
    assert!(page.body.contains(&link), "{}", page.body);
    let found = console
        .get(&format!(
            "/search?f0=deployment&o0=equal&v0={FILEID}%3AERR_BAD_DIGEST"
        ))
        .await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains("relay-b"), "{}", found.body);
    assert!(!found.body.contains("relay-a"));

    // Validations need the confirmation box.
    let refused = console
        .post_form(
            &format!("/packages/{FILEID}/validate"),
            &[("kind", "success")],
        )
        .await;
    assert_eq!(refused.status, 303);
    assert!(console
        .get(&format!("/packages/{FILEID}/status"))
        .await
        .body
        .contains("flash-error"));
    let bad = console
        .post_form(
            &format!("/packages/{FILEID}/validate"),
            &[("kind", "everything"), ("confirm", "1")],
        )
        .await;
    assert_eq!(bad.status, 303);

    let ok = console
        .post_form(
            &format!("/packages/{FILEID}/validate"),
            &[("kind", "success"), ("confirm", "1")],
        )
        .await;
    assert_eq!(ok.status, 303);
    let after = console.get(&format!("/packages/{FILEID}/status")).await;
    assert!(
        after.body.contains("Affectations removed: 1."),
        "{}",
        after.body
    );
    assert_eq!(
        text_of(&after.body, "status-total"),
        "Affected to 2 computers."
    );
    assert!(!after.body.contains("<td>SUCCESS</td>"));

    console
        .post_form(
            &format!("/packages/{FILEID}/validate"),
            &[("kind", "not_notified"), ("confirm", "1")],
        )
        .await;
    let after = console.get(&format!("/packages/{FILEID}/status")).await;
    assert_eq!(
        text_of(&after.body, "status-total"),
        "Affected to 1 computer."
    );
    assert!(after.body.contains("<td>ERR_BAD_DIGEST</td>"));

    console
        .post_form(
            &format!("/packages/{FILEID}/validate"),
            &[("kind", "all"), ("confirm", "1")],
        )
        .await;
    let after = console.get(&format!("/packages/{FILEID}/status")).await;
    assert!(after.body.contains("id=\"status-none\""), "{}", after.body);

    // Unknown package: 404.
    assert_eq!(console.get("/packages/1709639999/status").await.status, 404);
}

#[tokio::test]
async fn redistribution_groups_from_a_search_result_then_edited_and_deleted() {
    let (s, db, ids) = fleet().await;
    let console = Console::sign_in_admin(&s).await;
    assert!(console
        .get("/redistribution")
        .await
        .body
        .contains("id=\"redistribution-none\""));

    // The mass action offers it; a whole result of "name = relay*" makes a new group.
    let q = "f0=name&o0=equal&v0=relay*";
    let chooser = console
        .post_form("/mass", &[("scope", "all"), ("q", q)])
        .await;
    assert_eq!(chooser.status, 200, "{}", chooser.body);
    assert!(chooser.body.contains("id=\"mass-redistribution-add\""));
    let fields = [
        ("scope", "all"),
        ("q", q),
        ("action", "redistribution_add"),
        ("redistribution", "new"),
        ("name", "Relays"),
        ("description", "Lyon office"),
    ];
    let confirm = console.post_form("/mass/confirm", &fields).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("2 computers will change."));
    let done = console.post_form("/mass/apply", &fields).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let groups = db.list_redistribution_groups().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!((groups[0].name.as_str(), groups[0].members), ("Relays", 2));
    let gid = groups[0].id.0.to_string();

    let list = console.get("/redistribution").await;
    assert!(list
        .body
        .contains(&format!("href=\"/redistribution/{gid}\"")));
    assert!(list.body.contains("Lyon office"));
    assert!(list.body.contains("<td class=\"members\">2</td>"));

    // Overwrite with the desk alone, then add relay-a back.
    let desk = ids[2].0.to_string();
    for (who, mode) in [
        (desk.as_str(), "overwrite"),
        (&*ids[0].0.to_string(), "add"),
    ] {
        let f = [
            ("scope", "selected"),
            ("ids", who),
            ("action", "redistribution_add"),
            ("redistribution", gid.as_str()),
            ("mode", mode),
        ];
        let done = console.post_form("/mass/apply", &f).await;
        assert_eq!(done.status, 200, "{}", done.body);
    }
    let page = console.get(&format!("/redistribution/{gid}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("desk") && page.body.contains("relay-a"));
    assert!(!page.body.contains("relay-b"));
    assert!(page.body.contains("<td>10.1.2.3</td>"), "member IP");
    assert!(
        page.body.contains("<td>10.1.2.3/download</td>"),
        "$IP$ replaced"
    );

    // The package page's activate form offers the group.
    package(&db, &[]).await;
    let package_page = console.get(&format!("/packages/{FILEID}")).await;
    assert!(package_page
        .body
        .contains(&format!("<option value=\"{gid}\">Relays</option>")));

    // Rename, describe, set the fragments location.
    let saved = console
        .post_form(
            &format!("/redistribution/{gid}"),
            &[
                ("name", "Relays Lyon"),
                ("description", "2nd floor"),
                ("pack_url", "$NAME$:8081/download"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    let page = console.get(&format!("/redistribution/{gid}")).await;
    assert_eq!(text_of(&page.body, "redistribution-name"), "Relays Lyon");
    assert_eq!(
        text_of(&page.body, "redistribution-description"),
        "2nd floor"
    );
    assert!(page.body.contains("<td>desk:8081/download</td>"));
    let bad = console
        .post_form(
            &format!("/redistribution/{gid}"),
            &[("name", ""), ("pack_url", "x")],
        )
        .await;
    assert_eq!(bad.status, 303);
    assert!(console
        .get(&format!("/redistribution/{gid}"))
        .await
        .body
        .contains("flash-error"));

    // Remove a member.
    let removed = console
        .post_form(
            &format!("/redistribution/{gid}/remove"),
            &[("computer", &desk)],
        )
        .await;
    assert_eq!(removed.status, 303);
    let members = db
        .redistribution_members(ocs_storage::RedistributionGroupId(gid.parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].name, "relay-a");

    // Delete: the name must be typed.
    let refused = console
        .post_form(
            &format!("/redistribution/{gid}/delete"),
            &[("confirm", "Relays")],
        )
        .await;
    assert_eq!(refused.status, 303);
    assert_eq!(db.list_redistribution_groups().await.unwrap().len(), 1);
    let deleted = console
        .post_form(
            &format!("/redistribution/{gid}/delete"),
            &[("confirm", "Relays Lyon")],
        )
        .await;
    assert_eq!(deleted.status, 303);
    assert_eq!(deleted.location.as_deref(), Some("/redistribution"));
    assert!(db.list_redistribution_groups().await.unwrap().is_empty());
    assert_eq!(
        console.get(&format!("/redistribution/{gid}")).await.status,
        404
    );
    assert_eq!(console.get("/redistribution/x").await.status, 404);
}

#[tokio::test]
async fn read_only_accounts_see_but_cannot_change() {
    let (s, db, ids) = fleet().await;
    package(&db, &ids).await;
    let admin = Console::sign_in_admin(&s).await;
    let f = [
        ("scope", "selected"),
        ("ids", "1"),
        ("action", "redistribution_add"),
        ("redistribution", "new"),
        ("name", "Relays"),
    ];
    let ids_text = ids[0].0.to_string();
    let mut f = f.to_vec();
    f[1].1 = &ids_text;
    assert_eq!(admin.post_form("/mass/apply", &f).await.status, 200);
    let gid = db.list_redistribution_groups().await.unwrap()[0]
        .id
        .0
        .to_string();

    let viewer = read_only_user(&s, "viewer", "viewer-password-1").await;
    let status = viewer.get(&format!("/packages/{FILEID}/status")).await;
    assert_eq!(status.status, 200);
    assert!(!status.body.contains("validate-form"));
    let group = viewer.get(&format!("/redistribution/{gid}")).await;
    assert_eq!(group.status, 200);
    assert!(!group.body.contains("redistribution-form"));
    let chooser = viewer
        .post_form("/mass", &[("scope", "selected"), ("id", &ids_text)])
        .await;
    assert!(!chooser.body.contains("mass-redistribution-add"));
    for (path, fields) in [
        (
            format!("/packages/{FILEID}/validate"),
            vec![("kind", "all"), ("confirm", "1")],
        ),
        (
            format!("/redistribution/{gid}"),
            vec![("name", "X"), ("pack_url", "$IP$/download")],
        ),
        (
            format!("/redistribution/{gid}/remove"),
            vec![("computer", ids_text.as_str())],
        ),
        (
            format!("/redistribution/{gid}/delete"),
            vec![("confirm", "Relays")],
        ),
        ("/mass/apply".to_owned(), f.clone()),
    ] {
        assert_eq!(viewer.post_form(&path, &fields).await.status, 403, "{path}");
    }
    assert_eq!(db.list_redistribution_groups().await.unwrap()[0].members, 1);
    assert_eq!(
        db.list_redistribution_groups().await.unwrap()[0].name,
        "Relays"
    );
}
