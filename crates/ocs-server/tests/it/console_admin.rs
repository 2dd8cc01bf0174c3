//! Administration pages and the users page over HTTP: each page and action works for an
//! administrator and its effect reaches agents (PROLOG, ACCOUNTINFO, the label file) or the
//! console; read-only accounts get 403 everywhere; forms without the CSRF token are refused;
//! invalid input leaves a flash error and changes nothing.

use ocs_testkit::{fixtures_dir, inventory_xml, prolog_xml, zlib, TestServer};
use reqwest::multipart::{Form, Part};

use crate::console::{import_real_agent, read_only_user, Console, Page};
use crate::{server, shape, store};

const DEVICE: &str = "admin-pc-2024-01-01-00-00-00";

/// Follows a flash redirect: the next page and whether it shows an error.
async fn after(console: &Console, answer: &Page, back: &str) -> Page {
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some(back));
    console.get(back).await
}

fn has_error(page: &Page) -> bool {
    page.body.contains("class=\"flash-error\"")
}

async fn prolog(server: &TestServer) -> crate::ReplyShape {
    let reply = server.send(&prolog_xml(DEVICE)).await;
    assert_eq!(reply.status, 200);
    shape(&reply.xml())
}

async fn option(server: &TestServer, name: &str) -> Option<(Option<i64>, Option<String>)> {
    store(server)
        .await
        .list_options()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.name == name)
        .map(|r| (r.ivalue, r.tvalue))
}

/// Number of rows of a table with `id` in a page.
fn rows(body: &str, id: &str) -> usize {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let table = &body[start..];
    let end = table.find("</table>").unwrap();
    table[..end].matches("<tr data-").count()
}

/// The `action` of the first form of `class` in a page, e.g. `/admin/registry/3/delete`.
fn first_action(body: &str, class: &str) -> String {
    let start = body
        .find(&format!("class=\"{class}"))
        .unwrap_or_else(|| panic!("no form {class}"));
    let rest = &body[start..];
    let a = rest.find("action=\"").unwrap() + "action=\"".len();
    rest[a..a + rest[a..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn options_page_saves_whole_forms_and_agents_see_them() {
    let server = server(&[]);
    let console = Console::sign_in_admin(&server).await;
    let page = console.get("/admin/options").await;
    assert_eq!(page.status, 200);
    for needle in [
        "id=\"options-form\"",
        "id=\"options-submit\"",
        "name=\"PROLOG_FREQ\"",
        "name=\"WEB_SERVICE_RESULTS_LIMIT\"",
        "Hours between agent contacts",
        "class=\"current\">Options<",
    ] {
        assert!(page.body.contains(needle), "{needle}");
    }
    assert_eq!(
        prolog(&server).await.scalars["PROLOG_FREQ"],
        "24",
        "the default"
    );

    let saved = console
        .post_form(
            "/admin/options",
            &[("PROLOG_FREQ", "7"), ("OCS_FILES_FORMAT", "XML")],
        )
        .await;
    let next = after(&console, &saved, "/admin/options").await;
    assert!(!has_error(&next), "{}", next.body);
    assert!(next.body.contains("Options saved (2 changed)."));
    assert!(next.body.contains("name=\"PROLOG_FREQ\" value=\"7\""));
    assert_eq!(prolog(&server).await.scalars["PROLOG_FREQ"], "7");
    assert_eq!(
        option(&server, "OCS_FILES_FORMAT")
            .await
            .unwrap()
            .1
            .as_deref(),
        Some("XML")
    );
    let log = server.log();
    assert!(
        log.contains("server option changed") && log.contains("admin"),
        "{log}"
    );

    // One bad value refuses the whole form.
    let refused = console
        .post_form(
            "/admin/options",
            &[
                ("PROLOG_FREQ", "12"),
                ("FREQUENCY", "-5"),
                ("OCS_FILES_FORMAT", "PDF"),
            ],
        )
        .await;
    let next = after(&console, &refused, "/admin/options").await;
    assert!(has_error(&next));
    assert!(next.body.contains("FREQUENCY") && next.body.contains("OCS_FILES_FORMAT"));
    assert_eq!(option(&server, "PROLOG_FREQ").await.unwrap().0, Some(7));
    assert_eq!(prolog(&server).await.scalars["PROLOG_FREQ"], "7");
    for bad in [
        ("PROLOG_FREQ", "abc"),
        ("PROLOG_FREQ", "0"),
        ("NO_SUCH_OPTION", "1"),
    ] {
        let p = console.post_form("/admin/options", &[bad]).await;
        assert!(
            has_error(&after(&console, &p, "/admin/options").await),
            "{bad:?}"
        );
    }
    assert_eq!(option(&server, "PROLOG_FREQ").await.unwrap().0, Some(7));

    // French chrome and option texts.
    let fr = console
        .post_form("/account/language", &[("language", "fr")])
        .await;
    assert_eq!(fr.status, 303);
    let page = console.get("/admin/options").await.body;
    assert!(page.contains("Options générales") && page.contains("Heures entre deux contacts"));
}

#[tokio::test]
async fn administrative_fields_reach_the_computer_page_and_the_tag_label_is_served() {
    let server = server(&[]);
    let console = Console::sign_in_admin(&server).await;
    let id = import_real_agent(&server).await;
    let page = console.get("/admin/accountinfo").await;
    assert_eq!(page.status, 200);
    for needle in [
        "id=\"accountinfo-fields\"",
        "id=\"accountinfo-add\"",
        "id=\"accountinfo-add-submit\"",
        "id=\"tag-label-form\"",
        "id=\"tag-label-submit\"",
    ] {
        assert!(page.body.contains(needle), "{needle}");
    }
    assert_eq!(rows(&page.body, "accountinfo-fields"), 0);

    let added = console
        .post_form("/admin/accountinfo", &[("label", "Room"), ("kind", "Text")])
        .await;
    let next = after(&console, &added, "/admin/accountinfo").await;
    assert!(!has_error(&next), "{}", next.body);
    assert!(next.body.contains("Field added."));
    let fields = store(&server)
        .await
        .list_accountinfo_fields()
        .await
        .unwrap();
    assert_eq!(fields.len(), 1);
    let key = format!("fields_{}", fields[0].id);
    assert!(next.body.contains(&format!("<code>{key}</code>")));
    assert!(next.body.contains("<td class=\"label\">Room</td>"));
    // The computer page's administrative data form offers the new field.
    let detail = console.get(&format!("/computers/{id}")).await.body;
    assert!(detail.contains(&format!("name=\"{key}\"")), "{detail}");
    // And agents get it in their ACCOUNTINFO replies.
    let inventory = inventory_xml(DEVICE, "<HARDWARE><NAME>admin-pc</NAME></HARDWARE>");
    assert_eq!(server.send(&inventory).await.status, 200);
    let reply = server.send(&inventory).await;
    assert!(
        shape(&reply.xml())
            .accountinfo
            .iter()
            .any(|(k, _)| *k == key),
        "{}",
        reply.xml()
    );

    // Refused: duplicates (any case), TAG, empty or long labels, unknown types.
    let long = "x".repeat(101);
    for (label, kind) in [
        ("room", "Text"),
        ("TAG", "Text"),
        ("", "Text"),
        (long.as_str(), "Text"),
        ("Price", "Money"),
    ] {
        let p = console
            .post_form("/admin/accountinfo", &[("label", label), ("kind", kind)])
            .await;
        assert!(
            has_error(&after(&console, &p, "/admin/accountinfo").await),
            "{label}"
        );
    }
    assert_eq!(
        store(&server)
            .await
            .list_accountinfo_fields()
            .await
            .unwrap()
            .len(),
        1
    );
    let dated = console
        .post_form(
            "/admin/accountinfo",
            &[("label", "Bought"), ("kind", "Date")],
        )
        .await;
    assert!(!has_error(
        &after(&console, &dated, "/admin/accountinfo").await
    ));

    // Delete.
    let page = console.get("/admin/accountinfo").await.body;
    assert_eq!(rows(&page, "accountinfo-fields"), 2);
    let action = first_action(&page, "delete-field");
    assert_eq!(
        action,
        format!("/admin/accountinfo/{}/delete", fields[0].id)
    );
    let deleted = console.post_form(&action, &[]).await;
    let next = after(&console, &deleted, "/admin/accountinfo").await;
    assert!(!has_error(&next));
    assert_eq!(rows(&next.body, "accountinfo-fields"), 1);
    assert!(!console
        .get(&format!("/computers/{id}"))
        .await
        .body
        .contains(&format!("name=\"{key}\"")));
    let again = console.post_form(&action, &[]).await;
    assert!(has_error(
        &after(&console, &again, "/admin/accountinfo").await
    ));

    // TAG label: none at first, then served as text, then withdrawn when blank.
    let label_url = "/download/label";
    assert_eq!(
        server.request("GET", label_url, vec![], &[]).await.status,
        404
    );
    let text = "Enter your office code\n(for example PARIS-3)";
    let saved = console
        .post_form("/admin/accountinfo/label", &[("label", text)])
        .await;
    let next = after(&console, &saved, "/admin/accountinfo").await;
    assert!(next.body.contains("TAG label saved."));
    assert!(next.body.contains("Enter your office code"));
    let served = server.request("GET", label_url, vec![], &[]).await;
    assert_eq!(served.status, 200);
    assert!(served
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(String::from_utf8(served.body).unwrap(), text);
    let too_long = "x".repeat(1001);
    let p = console
        .post_form("/admin/accountinfo/label", &[("label", &too_long)])
        .await;
    assert!(has_error(&after(&console, &p, "/admin/accountinfo").await));
    assert_eq!(
        String::from_utf8(server.request("GET", label_url, vec![], &[]).await.body).unwrap(),
        text
    );
    let blank = console
        .post_form("/admin/accountinfo/label", &[("label", "  ")])
        .await;
    assert_eq!(blank.status, 303);
    assert_eq!(
        server.request("GET", label_url, vec![], &[]).await.status,
        404
    );
}

#[tokio::test]
async fn registry_queries_reach_the_next_prolog() {
    let server = server(&[]);
    let console = Console::sign_in_admin(&server).await;
    assert_eq!(
        server
            .send(&inventory_xml(
                DEVICE,
                "<HARDWARE><NAME>admin-pc</NAME></HARDWARE>"
            ))
            .await
            .status,
        200
    );
    let page = console.get("/admin/registry").await.body;
    for needle in [
        "id=\"registry-queries\"",
        "id=\"registry-add\"",
        "id=\"registry-add-submit\"",
        "id=\"registry-off\"",
        "<option value=\"2\" selected>HKEY_LOCAL_MACHINE</option>",
    ] {
        assert!(page.contains(needle), "{needle}");
    }
    let on = console
        .post_form("/admin/options", &[("REGISTRY", "1")])
        .await;
    assert!(!has_error(&after(&console, &on, "/admin/options").await));
    assert!(!console
        .get("/admin/registry")
        .await
        .body
        .contains("id=\"registry-off\""));
    assert!(!prolog(&server).await.options.contains_key("REGISTRY"));

    let key = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Run";
    let added = console
        .post_form(
            "/admin/registry",
            &[
                ("name", "Run keys"),
                ("regtree", "2"),
                ("regkey", key),
                ("regvalue", "*"),
            ],
        )
        .await;
    let next = after(&console, &added, "/admin/registry").await;
    assert!(!has_error(&next), "{}", next.body);
    assert_eq!(rows(&next.body, "registry-queries"), 1);
    assert!(next.body.contains("HKEY_LOCAL_MACHINE") && next.body.contains("Run keys"));
    let reply = prolog(&server).await;
    let params = &reply.options["REGISTRY"];
    assert_eq!(params.len(), 1);
    assert_eq!(params[0]["NAME"], "Run keys");
    assert_eq!(params[0]["REGTREE"], "2");
    assert_eq!(params[0]["REGKEY"], key);
    assert_eq!(params[0]["#text"], "*");

    let long = "k".repeat(256);
    for fields in [
        [
            ("name", ""),
            ("regtree", "2"),
            ("regkey", key),
            ("regvalue", "*"),
        ],
        [
            ("name", "x"),
            ("regtree", "9"),
            ("regkey", key),
            ("regvalue", "*"),
        ],
        [
            ("name", "x"),
            ("regtree", "1"),
            ("regkey", ""),
            ("regvalue", "*"),
        ],
        [
            ("name", "x"),
            ("regtree", "1"),
            ("regkey", long.as_str()),
            ("regvalue", "*"),
        ],
        [
            ("name", "x"),
            ("regtree", "1"),
            ("regkey", key),
            ("regvalue", ""),
        ],
    ] {
        let p = console.post_form("/admin/registry", &fields).await;
        assert!(
            has_error(&after(&console, &p, "/admin/registry").await),
            "{fields:?}"
        );
    }
    assert_eq!(
        store(&server)
            .await
            .list_registry_queries()
            .await
            .unwrap()
            .len(),
        1
    );

    let page = console.get("/admin/registry").await.body;
    let action = first_action(&page, "delete-registry");
    let deleted = console.post_form(&action, &[]).await;
    let next = after(&console, &deleted, "/admin/registry").await;
    assert!(next.body.contains("Registry query deleted."));
    assert_eq!(rows(&next.body, "registry-queries"), 0);
    assert!(!prolog(&server).await.options.contains_key("REGISTRY"));
}

fn file(name: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name(name.to_owned())
}

#[tokio::test]
async fn uploaded_inventories_are_imported_like_agent_ones() {
    let server = server(&[
        ("OCS_LIMITS__MAX_BODY_BYTES", "200000"),
        ("OCS_LIMITS__MAX_INFLATED_BYTES", "200000"),
    ]);
    let console = Console::sign_in_admin(&server).await;
    let page = console.get("/admin/import").await.body;
    for needle in [
        "id=\"import-form\"",
        "enctype=\"multipart/form-data\"",
        "hx-boost=\"false\"",
        "id=\"import-submit\"",
        "name=\"file\" multiple accept=\".ocs,.xml\"",
    ] {
        assert!(page.contains(needle), "{needle}");
    }
    assert!(page.contains(&format!("action=\"/admin/import?csrf={}\"", console.csrf())));
    let small = inventory_xml(DEVICE, "<HARDWARE><NAME>uploaded-pc</NAME></HARDWARE>");
    // Plain XML, as `.xml` exports are.
    let plain = inventory_xml(
        "plain-pc-2024-01-01-00-00-00",
        "<HARDWARE><NAME>plain-pc</NAME></HARDWARE>",
    )
    .into_bytes();
    let big = std::fs::read(
        fixtures_dir().join("fusioninventory-agent-local/vm-2026-11-21-12-46-57.ocs"),
    )
    .unwrap();
    assert!(big.len() > 200_000, "the fixture must be over the limit");
    let form = Form::new()
        .part("file", file("small.ocs", zlib(small.as_bytes())))
        .part("file", file("plain.xml", plain))
        .part("file", file("garbage.ocs", b"not an inventory".to_vec()))
        .part("file", file("big.ocs", big));
    let answer = console.post_multipart("/admin/import", form).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = &answer.body;
    assert!(body.contains("id=\"import-results\""));
    assert_eq!(body.matches("<li class=\"ok\">").count(), 2, "{body}");
    assert_eq!(body.matches("<li class=\"error\">").count(), 2, "{body}");
    assert!(body.contains(&format!("new computer {DEVICE}")), "{body}");
    assert!(body.contains("<strong>big.ocs</strong>: refused: the file is larger than"));
    let list = console.get("/computers").await.body;
    assert!(list.contains("2 computers"), "{list}");
    assert!(
        list.contains("uploaded-pc") && list.contains("plain-pc"),
        "{list}"
    );
    assert!(server.log().contains("inventory file imported"));

    // Again: the computer is updated, not duplicated.
    let again = Form::new().part("file", file("small.ocs", small.into_bytes()));
    let answer = console.post_multipart("/admin/import", again).await;
    assert!(
        answer.body.contains(&format!("computer {DEVICE} updated")),
        "{}",
        answer.body
    );
    assert!(console.get("/computers").await.body.contains("2 computers"));

    // At most 100 files are read from one upload.
    let mut many = Form::new();
    for i in 0..101 {
        many = many.part("file", file(&format!("f{i}.xml"), b"<x/>".to_vec()));
    }
    let answer = console.post_multipart("/admin/import", many).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body.matches("<li class=\"error\">").count(), 101);
    assert!(answer
        .body
        .contains("<strong>f100.xml</strong>: not imported"));

    // No file at all.
    let empty = Form::new().text("other", "x");
    let answer = console.post_multipart("/admin/import", empty).await;
    assert_eq!(answer.location.as_deref(), Some("/admin/import"));
    assert!(has_error(&console.get("/admin/import").await));
}

#[tokio::test]
async fn uploads_need_the_csrf_token_in_the_query_string() {
    let server = server(&[]);
    let console = Console::sign_in_admin(&server).await;
    let xml = inventory_xml(DEVICE, "<HARDWARE><NAME>x</NAME></HARDWARE>");
    let form = Form::new().part("file", file("a.xml", xml.into_bytes()));
    // A wrong token in the query string.
    let answer = console
        .post_multipart("/admin/import?csrf=0000", form)
        .await;
    assert_eq!(answer.status, 403);
    assert!(store(&server)
        .await
        .find_host_id(DEVICE)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn users_page_manages_accounts() {
    let server = server(&[]);
    let admin = Console::sign_in_admin(&server).await;
    let page = admin.get("/admin/users").await.body;
    for needle in ["id=\"users\"", "id=\"user-add\"", "id=\"user-add-submit\""] {
        assert!(page.contains(needle), "{needle}");
    }
    assert_eq!(rows(&page, "users"), 1);
    // No role, password or delete form for one's own account.
    assert!(!page.contains("class=\"user-role") && !page.contains("class=\"delete-user"));

    let added = admin
        .post_form(
            "/admin/users",
            &[
                ("login", "alice"),
                ("password", "alice-password"),
                ("role", "user"),
            ],
        )
        .await;
    let next = after(&admin, &added, "/admin/users").await;
    assert!(!has_error(&next), "{}", next.body);
    assert_eq!(rows(&next.body, "users"), 2);
    let alice = Console::sign_in(&server, "alice", "alice-password").await;
    assert_eq!(alice.get("/computers").await.status, 200);
    assert_eq!(alice.get("/admin/options").await.status, 403);
    let alice_id = store(&server)
        .await
        .find_user("alice")
        .await
        .unwrap()
        .unwrap()
        .id;
    let admin_id = store(&server)
        .await
        .find_user("admin")
        .await
        .unwrap()
        .unwrap()
        .id;

    // Refused additions: nothing is created.
    let long_login = "x".repeat(65);
    for (login, password, role) in [
        ("alice", "another-password", "user"),
        ("bad login", "good-password", "user"),
        ("", "good-password", "user"),
        (long_login.as_str(), "good-password", "user"),
        ("bob", "short", "user"),
        ("bobbybobby", "bobbybobby", "user"),
        ("bob", "good-password", "root"),
    ] {
        let p = admin
            .post_form(
                "/admin/users",
                &[("login", login), ("password", password), ("role", role)],
            )
            .await;
        assert!(
            has_error(&after(&admin, &p, "/admin/users").await),
            "{login}"
        );
    }
    assert_eq!(store(&server).await.count_users().await.unwrap(), 2);

    // Promote alice: the new role applies to her open session at once.
    let promoted = admin
        .post_form(
            &format!("/admin/users/{alice_id}/role"),
            &[("role", "admin")],
        )
        .await;
    assert!(!has_error(&after(&admin, &promoted, "/admin/users").await));
    assert_eq!(alice.get("/admin/options").await.status, 200);
    let demoted = admin
        .post_form(
            &format!("/admin/users/{alice_id}/role"),
            &[("role", "user")],
        )
        .await;
    assert!(!has_error(&after(&admin, &demoted, "/admin/users").await));
    assert_eq!(alice.get("/admin/options").await.status, 403);

    // Oneself: no demotion, reset or deletion.
    for (path, fields) in [
        (
            format!("/admin/users/{admin_id}/role"),
            vec![("role", "user")],
        ),
        (
            format!("/admin/users/{admin_id}/password"),
            vec![("password", "new-password-1")],
        ),
        (format!("/admin/users/{admin_id}/delete"), vec![]),
    ] {
        let p = admin.post_form(&path, &fields).await;
        let next = after(&admin, &p, "/admin/users").await;
        assert!(has_error(&next), "{path}");
    }
    assert_eq!(
        store(&server).await.get_user(admin_id).await.unwrap().role,
        "admin"
    );

    // Reset alice's password: her session closes and she must pick a new one.
    let weak = admin
        .post_form(
            &format!("/admin/users/{alice_id}/password"),
            &[("password", "short")],
        )
        .await;
    assert!(has_error(&after(&admin, &weak, "/admin/users").await));
    let reset = admin
        .post_form(
            &format!("/admin/users/{alice_id}/password"),
            &[("password", "temporary-pass")],
        )
        .await;
    assert!(!has_error(&after(&admin, &reset, "/admin/users").await));
    assert_eq!(
        alice.get("/computers").await.location.as_deref(),
        Some("/login")
    );
    let (alice, first) = Console::try_sign_in(&server, "alice", "temporary-pass").await;
    assert_eq!(first.location.as_deref(), Some("/account/password"));
    let alice = alice.unwrap();

    // Delete alice: her session closes.
    let page = admin.get("/admin/users").await.body;
    assert_eq!(
        first_action(&page, "delete-user"),
        format!("/admin/users/{alice_id}/delete")
    );
    let deleted = admin
        .post_form(&format!("/admin/users/{alice_id}/delete"), &[])
        .await;
    let next = after(&admin, &deleted, "/admin/users").await;
    assert!(next.body.contains("User deleted"));
    assert_eq!(rows(&next.body, "users"), 1);
    assert_eq!(
        alice.get("/computers").await.location.as_deref(),
        Some("/login")
    );
    assert!(Console::try_sign_in(&server, "alice", "temporary-pass")
        .await
        .0
        .is_none());

    // The last administrator: another admin cannot remove the only remaining one either.
    let second = admin
        .post_form(
            "/admin/users",
            &[
                ("login", "carol"),
                ("password", "carol-password"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(second.status, 303);
    let carol = Console::sign_in(&server, "carol", "carol-password").await;
    let demote_admin = carol
        .post_form(
            &format!("/admin/users/{admin_id}/role"),
            &[("role", "user")],
        )
        .await;
    assert!(!has_error(
        &after(&carol, &demote_admin, "/admin/users").await
    ));
    // Now carol is the only administrator; admin (a user now) cannot act at all.
    assert_eq!(admin.get("/admin/users").await.status, 403);
    let log = server.log();
    assert!(log.contains("console account created") && log.contains("console account deleted"));
}

#[tokio::test]
async fn read_only_accounts_get_403_on_every_admin_page_and_action() {
    let server = server(&[]);
    let admin = Console::sign_in_admin(&server).await;
    let viewer = read_only_user(&server, "viewer", "viewer-password").await;
    let viewer_id = store(&server)
        .await
        .find_user("viewer")
        .await
        .unwrap()
        .unwrap()
        .id;
    for path in [
        "/admin/options",
        "/admin/accountinfo",
        "/admin/registry",
        "/admin/import",
        "/admin/users",
    ] {
        let p = viewer.get(path).await;
        assert_eq!(p.status, 403, "{path}");
        assert!(p.body.contains("read-only"), "{path}");
        assert_eq!(admin.get(path).await.status, 200, "{path}");
    }
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/admin/options".into(), vec![("PROLOG_FREQ", "1")]),
        (
            "/admin/accountinfo".into(),
            vec![("label", "Room"), ("kind", "Text")],
        ),
        ("/admin/accountinfo/1/delete".into(), vec![]),
        ("/admin/accountinfo/label".into(), vec![("label", "Hi")]),
        (
            "/admin/registry".into(),
            vec![
                ("name", "n"),
                ("regtree", "2"),
                ("regkey", "k"),
                ("regvalue", "*"),
            ],
        ),
        ("/admin/registry/1/delete".into(), vec![]),
        (
            "/admin/users".into(),
            vec![
                ("login", "mallory"),
                ("password", "mallory-pass"),
                ("role", "admin"),
            ],
        ),
        (
            format!("/admin/users/{viewer_id}/role"),
            vec![("role", "admin")],
        ),
        (
            format!("/admin/users/{viewer_id}/password"),
            vec![("password", "x-new-password")],
        ),
        (format!("/admin/users/{viewer_id}/delete"), vec![]),
    ];
    for (path, fields) in &posts {
        let p = viewer.post_form(path, fields).await;
        assert_eq!(p.status, 403, "{path}");
    }
    let upload = Form::new().part(
        "file",
        file("a.xml", inventory_xml(DEVICE, "<HARDWARE/>").into_bytes()),
    );
    assert_eq!(
        viewer.post_multipart("/admin/import", upload).await.status,
        403
    );
    // Nothing changed.
    let s = store(&server).await;
    assert!(option(&server, "PROLOG_FREQ").await.unwrap().0 == Some(24));
    assert!(option(&server, "TAG_LABEL").await.is_none());
    assert!(s.list_accountinfo_fields().await.unwrap().is_empty());
    assert!(s.list_registry_queries().await.unwrap().is_empty());
    assert!(s.find_user("mallory").await.unwrap().is_none());
    assert_eq!(s.find_user("viewer").await.unwrap().unwrap().role, "user");
    assert!(s.find_host_id(DEVICE).await.unwrap().is_none());

    // The same forms from the administrator without the CSRF token: 403 too.
    for (path, fields) in &posts {
        let p = admin.post_raw(path, fields, Some(&server.base_url)).await;
        assert_eq!(p.status, 403, "{path}");
    }
    assert!(s.list_accountinfo_fields().await.unwrap().is_empty());
    assert!(s.find_user("mallory").await.unwrap().is_none());
    // Admin navigation is hidden from the read-only account.
    assert!(!viewer
        .get("/computers")
        .await
        .body
        .contains("href=\"/admin/users\""));
    // The label file is public, as agents fetch it without a session.
    let anon = server.request("GET", "/download/label", vec![], &[]).await;
    assert_eq!(anon.status, 404);
}

#[tokio::test]
async fn oversized_uploads_are_refused_with_413_before_reading_them() {
    use std::io::{Read, Write};
    let server = server(&[]);
    Console::sign_in_admin(&server).await;
    let hash = {
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        argon2::Argon2::default()
            .hash_password(b"second-admin-pass", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string()
    };
    store(&server)
        .await
        .insert_user("second", &hash, "admin", false, 0)
        .await
        .unwrap();
    // Sign in by hand: the raw request below needs the session cookie itself.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie_of = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='))
            .find(|(k, v)| *k == name && !v.is_empty())
            .map(|(_, v)| v.to_owned())
            .unwrap()
    };
    let login = client
        .get(format!("{}/login", server.base_url))
        .send()
        .await
        .unwrap();
    let login_csrf = cookie_of(&login, "ocs_login_csrf");
    let signed = client
        .post(format!("{}/login", server.base_url))
        .header("Cookie", format!("ocs_login_csrf={login_csrf}"))
        .header("Origin", &server.base_url)
        .form(&[
            ("csrf", login_csrf.as_str()),
            ("login", "second"),
            ("password", "second-admin-pass"),
        ])
        .send()
        .await
        .unwrap();
    let session = cookie_of(&signed, "ocs_session");
    let page = client
        .get(format!("{}/admin/import", server.base_url))
        .header("Cookie", format!("ocs_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::console::csrf_of(&page);
    // Announce 10 GB and send none of it: the answer must come from the headers alone.
    let host = server.base_url.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(&host).unwrap();
        write!(
            tcp,
            "POST /admin/import?csrf={csrf} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n\
             Cookie: ocs_session={session}\r\nContent-Type: multipart/form-data; boundary=b\r\n\
             Content-Length: 10000000000\r\n\r\n"
        )
        .unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut buf = vec![0u8; 65536];
        let mut got = Vec::new();
        while let Ok(n) = tcp.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&got).contains("</html>") {
                break;
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("This upload is too large"), "{answer}");
}
