//! Groups end to end: the API (scopes, kinds, members, forcing, errors), the console pages
//! (list, group page, search saved as a group, the computer's groups, deletion), the command
//! line, and lazy revalidation at a PROLOG.

use ocs_testkit::{inventory_xml, prolog_xml, TestServer};
use serde_json::{json, Value};

use crate::console::{read_only_user, Console};
use crate::{eventually, host_id, server};

/// Sends an inventory of a computer named `name` with an OS and software.
async fn computer(s: &TestServer, name: &str, os: &str, software: &[&str]) -> i64 {
    let soft: String = software
        .iter()
        .map(|n| format!("<SOFTWARES><NAME>{n}</NAME></SOFTWARES>"))
        .collect();
    let deviceid = format!("{name}-2024-01-01-00-00-00");
    let content = format!("<HARDWARE><NAME>{name}</NAME><OSNAME>{os}</OSNAME></HARDWARE>{soft}");
    assert_eq!(
        s.send(&inventory_xml(&deviceid, &content)).await.status,
        200
    );
    host_id(s, &deviceid).await.0
}

/// The fleet: two Linux computers with Firefox, one without, one Windows with Firefox.
async fn fleet(s: &TestServer) -> [i64; 4] {
    [
        computer(s, "lin1", "Debian GNU/Linux", &["Firefox ESR", "vim"]).await,
        computer(s, "lin2", "Ubuntu Linux", &["Firefox"]).await,
        computer(s, "lin3", "Debian GNU/Linux", &["vim"]).await,
        computer(s, "win1", "Windows 11", &["Firefox"]).await,
    ]
}

async fn call(s: &TestServer, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        serde_json::to_vec(&body).unwrap()
    };
    let a = s
        .request(
            method,
            path,
            bytes,
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Content-Type", "application/json"),
            ],
        )
        .await;
    (
        a.status,
        serde_json::from_slice(&a.body).unwrap_or(Value::Null),
    )
}

fn names(page: &Value) -> Vec<String> {
    let mut out: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

fn linux_firefox() -> Value {
    json!({
        "name": "Linux with Firefox",
        "kind": "dynamic",
        "description": "OS and software",
        "criteria": [
            {"field": "os", "op": "equal", "value": "*Linux*"},
            {"field": "software", "op": "equal", "value": "Firefox*"}
        ]
    })
}

#[tokio::test]
async fn api_manages_both_kinds_and_refuses_read_tokens() {
    let s = server(&[]);
    let ids = fleet(&s).await;
    let read = s.token();
    let write = s.token_with_scope("write");

    let (status, body) = call(&s, "POST", "/api/v1/groups", &read, linux_firefox()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("E_READ_ONLY_TOKEN"))
    );

    let (status, group) = call(&s, "POST", "/api/v1/groups", &write, linux_firefox()).await;
    assert_eq!(status, 201, "{group}");
    assert_eq!(group["kind"], "dynamic");
    assert_eq!(group["members"], 2);
    assert_eq!(group["criteria"][1]["field"], "software");
    let gid = group["id"].as_i64().unwrap();
    let members = format!("/api/v1/groups/{gid}/members");
    let (status, page) = s.api(&members, &read).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 2);
    assert_eq!(names(&page), ["lin1", "lin2"]);
    assert!(page["items"][0]["deviceid"]
        .as_str()
        .unwrap()
        .ends_with("-2024-01-01-00-00-00"));
    assert_eq!(
        s.api(&format!("{members}?per_page=1&page=2"), &read)
            .await
            .1["items"][0]["name"],
        "lin2"
    );

    // Forced in (Windows) and forced out (lin1); a recomputation keeps both.
    let (status, changed) =
        call(&s, "POST", &members, &write, json!({"computers": [ids[3]]})).await;
    assert_eq!((status, changed["changed"].as_u64()), (200, Some(1)));
    let (status, _) = call(
        &s,
        "DELETE",
        &members,
        &write,
        json!({"computers": [ids[0]]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, refreshed) = call(
        &s,
        "POST",
        &format!("/api/v1/groups/{gid}/refresh"),
        &write,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(names(&s.api(&members, &read).await.1), ["lin2", "win1"]);

    // A static group.
    let (status, hand) = call(
        &s,
        "POST",
        "/api/v1/groups",
        &write,
        json!({"name": "Hand", "kind": "static"}),
    )
    .await;
    assert_eq!(status, 201);
    let hid = hand["id"].as_i64().unwrap();
    let hand_members = format!("/api/v1/groups/{hid}/members");
    let (_, changed) = call(
        &s,
        "POST",
        &hand_members,
        &write,
        json!({"computers": [ids[2], ids[3], 999_999]}),
    )
    .await;
    assert_eq!(changed["changed"], 2, "an unknown computer is skipped");
    call(
        &s,
        "DELETE",
        &hand_members,
        &write,
        json!({"computers": [ids[3]]}),
    )
    .await;
    assert_eq!(names(&s.api(&hand_members, &read).await.1), ["lin3"]);
    let (_, list) = s.api("/api/v1/groups", &read).await;
    let counts: Vec<(String, i64)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_owned(),
                g["members"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [("Hand".to_owned(), 1), ("Linux with Firefox".to_owned(), 2)]
    );

    // Rename, describe, change criteria.
    let path = format!("/api/v1/groups/{gid}");
    let (status, patched) = call(
        &s,
        "PATCH",
        &path,
        &write,
        json!({"name": "Firefox on Linux", "criteria": [{"field": "os", "op": "equal", "value": "debian*"}]}),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "Firefox on Linux");
    assert_eq!(
        names(&s.api(&members, &read).await.1),
        ["lin3", "win1"],
        "lin1 stays forced out, win1 forced in"
    );

    // Refusals, as JSON with a 4xx.
    for (method, path, body, want) in [
        (
            "PATCH",
            path.clone(),
            json!({"name": "Hand"}),
            "E_GROUP_EXISTS",
        ),
        (
            "POST",
            "/api/v1/groups".into(),
            json!({"name": "x", "kind": "odd"}),
            "E_BAD_PARAM",
        ),
        (
            "POST",
            "/api/v1/groups".into(),
            json!({"name": "x", "kind": "dynamic"}),
            "E_NO_CRITERIA",
        ),
        (
            "POST",
            "/api/v1/groups".into(),
            json!({"name": "x", "kind": "dynamic", "criteria": [{"field": "nope", "op": "equal", "value": "1"}]}),
            "E_BAD_CRITERION",
        ),
        (
            "POST",
            "/api/v1/groups".into(),
            json!({"name": "", "kind": "static"}),
            "E_BAD_GROUP_NAME",
        ),
        (
            "POST",
            "/api/v1/groups".into(),
            json!({"name": "x", "kind": "static", "extra": 1}),
            "E_BAD_JSON",
        ),
        (
            "POST",
            hand_members.clone(),
            json!({"computers": "all"}),
            "E_BAD_JSON",
        ),
        (
            "PATCH",
            format!("/api/v1/groups/{hid}"),
            json!({"criteria": []}),
            "E_NOT_DYNAMIC",
        ),
    ] {
        let (status, body) = call(&s, method, &path, &write, body).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some(want)),
            "{method} {path}"
        );
    }
    assert_eq!(s.api("/api/v1/groups/424242", &read).await.0, 404);
    assert_eq!(s.api("/api/v1/groups/abc", &read).await.0, 400);

    // Deletion.
    assert_eq!(call(&s, "DELETE", &path, &read, Value::Null).await.0, 403);
    assert_eq!(call(&s, "DELETE", &path, &write, Value::Null).await.0, 204);
    assert_eq!(s.api(&path, &read).await.0, 404);
    assert_eq!(call(&s, "DELETE", &path, &write, Value::Null).await.0, 404);
    // Last: the server answers before reading the rest, and closes the connection.
    let huge = s
        .request(
            "POST",
            "/api/v1/groups",
            vec![b' '; 3 * 1024 * 1024],
            &[("Authorization", &format!("Bearer {write}"))],
        )
        .await;
    assert_eq!(huge.status, 413);
    assert_eq!(
        serde_json::from_slice::<Value>(&huge.body).unwrap()["code"],
        "E_BODY_TOO_LARGE"
    );
}

#[tokio::test]
async fn console_builds_a_dynamic_group_from_a_search_and_manages_it() {
    let s = server(&[]);
    let ids = fleet(&s).await;
    let c = Console::sign_in_admin(&s).await;
    let nav = c.get("/computers").await;
    assert!(nav.body.contains("href=\"/groups\""), "navigation entry");

    let search = c
        .get("/search?f0=os&o0=equal&v0=*Linux*&f1=software&o1=equal&v1=Firefox*")
        .await;
    assert!(
        search.body.contains("id=\"save-group-form\""),
        "{}",
        search.body
    );
    let created = c
        .post_form(
            "/groups",
            &[
                ("kind", "dynamic"),
                ("name", "Linux <Firefox>"),
                ("description", "from a search"),
                ("f0", "os"),
                ("o0", "equal"),
                ("v0", "*Linux*"),
                ("f1", "software"),
                ("o1", "equal"),
                ("v1", "Firefox*"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let at = created.location.clone().unwrap();
    assert!(at.starts_with("/groups/"), "{at}");
    let gid: i64 = at["/groups/".len()..].parse().unwrap();

    let page = c.get(&at).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Linux &#60;Firefox&#62;"),
        "escaped name"
    );
    assert!(
        page.body.contains("Operating system EQUAL *Linux*"),
        "criteria in words"
    );
    assert!(page.body.contains("Software EQUAL Firefox*"));
    assert!(page.body.contains(">lin1<") && page.body.contains(">lin2<"));
    assert!(!page.body.contains(">lin3<") && !page.body.contains(">win1<"));
    assert!(page.body.contains(&format!("/groups/{gid}/members.csv")));
    assert!(page.body.contains("id=\"edit-criteria\""));
    assert!(!page.body.contains("id=\"groups-disabled\""));
    let sorted = c.get(&format!("{at}?sort=name&dir=desc")).await;
    let (a, b) = (
        sorted.body.find(">lin2<").unwrap(),
        sorted.body.find(">lin1<").unwrap(),
    );
    assert!(a < b, "sorted by name, descending");

    let csv = c.get(&format!("/groups/{gid}/members.csv")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains("lin1") && csv.body.contains("lin2") && !csv.body.contains("win1"));

    let list = c.get("/groups").await;
    assert!(list.body.contains("Linux &#60;Firefox&#62;") && list.body.contains("from a search"));
    assert!(
        list.body.contains("<td data-col=\"members\">2</td>"),
        "{}",
        list.body
    );

    // The edit link opens the search with the criteria and the group; saving puts them back.
    let edit = c
        .get(&format!("/search?f0=os&o0=equal&v0=Debian*&group={gid}"))
        .await;
    assert!(edit.body.contains("id=\"save-criteria-form\""));
    assert!(
        edit.body
            .contains("name=\"criteria\" value=\"f0=os&#38;o0=equal&#38;v0=Debian*\""),
        "the criteria go in one hidden field"
    );
    assert!(edit
        .body
        .contains(&format!("name=\"group\" value=\"{gid}\"")));
    let saved = c
        .post_form(
            &format!("/groups/{gid}/criteria"),
            &[("criteria", "f0=os&o0=equal&v0=Debian*")],
        )
        .await;
    assert_eq!(saved.status, 303);
    let page = c.get(&at).await;
    assert!(page.body.contains(">lin1<") && page.body.contains(">lin3<"));
    assert!(!page.body.contains(">lin2<"));

    // Forced out from the computer page, then un-forced.
    let block = c.get_hx(&format!("/computers/{}/groups", ids[0])).await;
    assert!(
        block.body.contains("Linux &#60;Firefox&#62;")
            && block.body.contains("Matches the criteria")
    );
    assert!(
        block.header("hx-push-url").is_none(),
        "the block makes no history entry"
    );
    let forced = c
        .post_form(
            &format!("/groups/{gid}/force"),
            &[
                ("computer", &ids[0].to_string()),
                ("how", "out"),
                ("back", "computer"),
            ],
        )
        .await;
    assert_eq!(
        forced.location.as_deref(),
        Some(format!("/computers/{}", ids[0]).as_str())
    );
    let block = c.get(&format!("/computers/{}/groups", ids[0])).await;
    assert!(block.body.contains("Forced out"), "{}", block.body);
    assert!(!c.get(&at).await.body.contains(">lin1<"));
    c.post_form(
        &format!("/groups/{gid}/force"),
        &[("computer", &ids[0].to_string()), ("how", "clear")],
    )
    .await;
    assert!(c.get(&at).await.body.contains(">lin1<"));

    // Recompute, rename.
    let again = c.post_form(&format!("/groups/{gid}/recompute"), &[]).await;
    assert_eq!(again.status, 303);
    c.post_form(
        &format!("/groups/{gid}/edit"),
        &[("name", "Debian"), ("description", "renamed")],
    )
    .await;
    assert!(c.get(&at).await.body.contains("id=\"group-name\">Debian<"));

    // A static group: create, add by name and from the computer page, remove per row.
    let made = c
        .post_form(
            "/groups",
            &[("kind", "static"), ("name", "Hand"), ("description", "")],
        )
        .await;
    let hand = made.location.unwrap();
    let hid: i64 = hand["/groups/".len()..].parse().unwrap();
    let added = c
        .post_form(&format!("{hand}/members/add"), &[("computer", "win1")])
        .await;
    assert_eq!(added.status, 303);
    let not_found = c
        .post_form(&format!("{hand}/members/add"), &[("computer", "nobody")])
        .await;
    assert_eq!(not_found.status, 303, "refused with a message");
    assert!(c.get(&hand).await.body.contains("flash-error"));
    c.post_form(
        &format!("/computers/{}/groups", ids[2]),
        &[("group", &hid.to_string())],
    )
    .await;
    let page = c.get(&hand).await;
    assert!(page.body.contains(">win1<") && page.body.contains(">lin3<"));
    assert!(
        page.body.contains("form=\"row-members-form\""),
        "a remove button per row"
    );
    c.post_form(
        &format!("{hand}/members/remove"),
        &[("computer", &ids[3].to_string())],
    )
    .await;
    assert!(!c.get(&hand).await.body.contains(">win1<"));

    // Deletion asks first.
    let ask = c.get(&format!("{hand}/delete")).await;
    assert!(ask.body.contains("id=\"delete-confirm\"") && ask.body.contains("Hand"));
    let gone = c.post_form(&format!("{hand}/delete"), &[]).await;
    assert_eq!(gone.location.as_deref(), Some("/groups"));
    assert_eq!(c.get(&hand).await.status, 404);

    // ENABLE_GROUPS=0: still managed, with a notice.
    s.set_option("ENABLE_GROUPS", "0");
    assert!(c
        .get("/groups")
        .await
        .body
        .contains("id=\"groups-disabled\""));
    assert!(c.get(&at).await.body.contains("id=\"groups-disabled\""));
}

#[tokio::test]
async fn console_read_only_accounts_see_groups_but_cannot_change_them() {
    let s = server(&[]);
    fleet(&s).await;
    let admin = Console::sign_in_admin(&s).await;
    let made = admin
        .post_form("/groups", &[("kind", "static"), ("name", "Seen")])
        .await;
    let at = made.location.unwrap();
    let v = read_only_user(&s, "viewer", "viewer-password").await;
    let page = v.get(&at).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("id=\"group-edit-form\""));
    assert!(!v
        .get("/groups")
        .await
        .body
        .contains("id=\"create-static-form\""));
    assert_eq!(v.post_form(&format!("{at}/delete"), &[]).await.status, 403);
    assert_eq!(
        v.post_form("/groups", &[("kind", "static"), ("name", "Mine")])
            .await
            .status,
        403
    );
    assert_eq!(admin.get(&at).await.status, 200, "still there");
}

#[tokio::test]
async fn cli_manages_groups() {
    let s = server(&[]);
    fleet(&s).await;
    let run = |args: &[&str]| {
        let out = s.cli(args).unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&[
        "groups",
        "create",
        "Debian",
        "--description",
        "cli",
        "--criteria",
        "f0=os&o0=equal&v0=Debian*",
    ]);
    assert!(ok, "{err}");
    let id = out.trim().to_owned();
    assert!(err.contains("2 members"), "{err}");
    let (ok, _, err) = run(&["groups", "create", "Hand"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["groups", "add", "Hand", "win1", "lin2"]);
    assert!(ok && err.contains("2 computers added"), "{err}");
    let (ok, out, _) = run(&["groups", "list"]);
    assert!(ok);
    assert!(
        out.contains("dynamic") && out.contains("Debian") && out.contains("Hand"),
        "{out}"
    );
    let (ok, out, _) = run(&["groups", "show", &id]);
    assert!(
        ok && out.contains("kind: dynamic") && out.contains("members: 2"),
        "{out}"
    );
    assert!(out.contains("criteria: f0=os&o0=equal&v0=Debian*"), "{out}");
    let (ok, _, err) = run(&["groups", "remove", "Hand", "win1"]);
    assert!(ok, "{err}");
    let (ok, out, _) = run(&["groups", "show", "Hand"]);
    assert!(ok && out.contains("members: 1"), "{out}");
    let (ok, out, err) = run(&["groups", "refresh"]);
    assert!(ok && out.contains("Debian\t2"), "{out}{err}");
    // Clear errors.
    let (ok, _, err) = run(&["groups", "show", "nope"]);
    assert!(!ok && err.contains("not found"), "{err}");
    let (ok, _, err) = run(&["groups", "add", "Hand", "ghost"]);
    assert!(!ok && err.contains("ghost"), "{err}");
    let (ok, _, err) = run(&["groups", "create", "Hand"]);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = run(&[
        "groups",
        "create",
        "Bad",
        "--criteria",
        "f0=nope&o0=equal&v0=1",
    ]);
    assert!(!ok && err.contains("unknown search field"), "{err}");
    let (ok, _, err) = run(&["groups", "refresh", "Hand"]);
    assert!(!ok && err.contains("static"), "{err}");
    let (ok, _, _) = run(&["groups", "delete", "Hand"]);
    assert!(ok);
    let (ok, out, _) = run(&["groups", "list"]);
    assert!(ok && !out.contains("Hand"));
}

#[tokio::test]
async fn a_prolog_recomputes_a_group_whose_delay_has_passed() {
    let s = server(&[]);
    fleet(&s).await;
    s.set_option("GROUPS_CACHE_REVALIDATE", "1");
    s.set_option("GROUPS_CACHE_OFFSET", "0");
    let write = s.token_with_scope("write");
    let (_, group) = call(&s, "POST", "/api/v1/groups", &write, linux_firefox()).await;
    let members = format!("/api/v1/groups/{}/members", group["id"]);
    let read = s.token();
    assert_eq!(s.api(&members, &read).await.1["total"], 2);
    computer(&s, "lin4", "Arch Linux", &["Firefox Nightly"]).await;
    assert_eq!(
        s.api(&members, &read).await.1["total"],
        2,
        "not computed at inventory"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let answer = s.send(&prolog_xml("lin1-2024-01-01-00-00-00")).await;
    assert_eq!(answer.status, 200);
    eventually("members after the PROLOG", 3, || async {
        s.api(&members, &read).await.1["total"]
            .as_i64()
            .unwrap_or(0)
    })
    .await;
}
