//! Mass actions through the signed-in console: the selection form of the lists, each action
//! on chosen rows, on a page and on the whole result of a search (more rows than one page),
//! the confirmation count, and the refusals (read-only account, CSRF, oversized selection).

use ocs_storage::{FleetSpec, HostId, Store};
use ocs_testkit::TestServer;

use crate::console::{read_only_user, Console, Page};
use crate::{server, store};

/// A server with a signed-in admin and `n` synthetic computers (IDs in order).
async fn fleet(n: usize) -> (TestServer, Console, Store, Vec<HostId>) {
    let server = server(&[]);
    let console = Console::sign_in_admin(&server).await;
    let store = store(&server).await;
    store
        .populate_synthetic(
            FleetSpec {
                computers: n,
                software_per_computer: 1,
                seed: 7,
            },
            |_| {},
        )
        .await
        .unwrap();
    let ids = store.matching_computer_ids(&[], None).await.unwrap();
    assert_eq!(ids.len(), n);
    (server, console, store, ids)
}

async fn tag(store: &Store, id: HostId) -> Option<String> {
    store.accountinfo_of(id).await.unwrap()[0].1.clone()
}

fn joined(ids: &[HostId]) -> String {
    ids.iter()
        .map(|h| h.0.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The value of a hidden field of a page (HTML-unescaped for `&`).
fn hidden(page: &Page, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {}", page.body))
        + marker.len();
    let rest = &page.body[start..];
    rest[..rest.find('"').unwrap()]
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

fn text_of<'a>(page: &'a Page, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("{id} in {}", page.body));
    let rest = &page.body[start..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    rest[..rest.find("</").unwrap()].trim_start_matches("<strong>")
}

#[tokio::test]
async fn set_tag_on_chosen_rows_and_on_a_page() {
    let (_server, console, store, ids) = fleet(30).await;
    let list = console
        .get("/computers?sort=name&dir=asc&per_page=10")
        .await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("id=\"mass-form\""));
    assert!(list.body.contains(&format!(
        "name=\"id\" value=\"{}\" form=\"mass-form\"",
        ids[0].0
    )));
    assert!(list.body.contains("the whole result (30 computers)"));
    let page_ids = hidden(&list, "page_ids");
    assert_eq!(page_ids.split(',').count(), 10);

    // Chosen rows: the chooser, the confirmation (nothing changed yet), then the change.
    let (a, b) = (ids[3].0.to_string(), ids[17].0.to_string());
    let chooser = console
        .post_form("/mass", &[("scope", "selected"), ("id", &a), ("id", &b)])
        .await;
    assert_eq!(chooser.status, 200, "{}", chooser.body);
    assert_eq!(text_of(&chooser, "mass-count"), "2 computers selected.");
    assert!(chooser.body.contains("id=\"mass-tag\""));
    let carried = hidden(&chooser, "ids");
    assert_eq!(carried, format!("{a},{b}"));
    let fields = [
        ("scope", "selected"),
        ("ids", carried.as_str()),
        ("action", "tag"),
        ("tag", "LYON"),
    ];
    let confirm = console.post_form("/mass/confirm", &fields).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert_eq!(
        text_of(&confirm, "mass-will-change"),
        "2 computers will change."
    );
    assert!(confirm.body.contains("<dd>LYON</dd>"));
    assert_eq!(hidden(&confirm, "tag"), "LYON");
    assert_ne!(tag(&store, ids[3]).await.as_deref(), Some("LYON"));
    let done = console.post_form("/mass/apply", &fields).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(text_of(&done, "mass-changed"), "2 computers changed.");
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            tag(&store, *id).await.as_deref() == Some("LYON"),
            i == 3 || i == 17,
            "{i}"
        );
    }

    // A whole page, as the list's "this page" button sends it.
    let done = console
        .post_form(
            "/mass/apply",
            &[
                ("scope", "page"),
                ("page_ids", &page_ids),
                ("id", &a),
                ("action", "tag"),
                ("tag", "PAGE-1"),
            ],
        )
        .await;
    assert_eq!(text_of(&done, "mass-changed"), "10 computers changed.");
    let counts = store.list_tag_counts().await.unwrap();
    assert!(counts.contains(&("PAGE-1".to_owned(), 10)), "{counts:?}");
    for id in page_ids.split(',') {
        let id = HostId(id.parse().unwrap());
        assert_eq!(tag(&store, id).await.as_deref(), Some("PAGE-1"));
    }
}

#[tokio::test]
async fn whole_result_of_a_search_beyond_one_page() {
    let (_server, console, store, ids) = fleet(130).await;
    // 70 computers share a TAG, more than one page of 50: every even index, then 1, 3, … 9.
    let mut big: Vec<HostId> = ids.iter().copied().step_by(2).collect();
    big.extend(ids.iter().copied().skip(1).step_by(2).take(5));
    assert_eq!(big.len(), 70);
    store.mass_set_tag(&big, "BIG", "test", 0).await.unwrap();

    let search = console.get("/search?f0=tag&o0=equal&v0=BIG").await;
    assert_eq!(search.status, 200);
    assert!(search.body.contains("the whole result (70 computers)"));
    let q = hidden(&search, "q");
    assert_eq!(q, "f0=tag&o0=equal&v0=BIG");
    assert_eq!(hidden(&search, "page_ids").split(',').count(), 50);

    let chooser = console
        .post_form("/mass", &[("scope", "all"), ("q", &q)])
        .await;
    assert_eq!(chooser.status, 200, "{}", chooser.body);
    assert_eq!(text_of(&chooser, "mass-count"), "70 computers selected.");
    assert_eq!(hidden(&chooser, "q"), q, "criteria travel, not IDs");
    assert!(!chooser.body.contains("name=\"ids\""));

    // An administrative field, checked against its type.
    let key = store
        .insert_accountinfo_field("Floor", "Integer")
        .await
        .unwrap();
    let bad = console
        .post_form(
            "/mass/confirm",
            &[
                ("scope", "all"),
                ("q", &q),
                ("action", "field"),
                ("field", &key),
                ("value", "third"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("is not a whole number"), "{}", bad.body);
    let field = [
        ("scope", "all"),
        ("q", q.as_str()),
        ("action", "field"),
        ("field", key.as_str()),
        ("value", "3"),
    ];
    let confirm = console.post_form("/mass/confirm", &field).await;
    assert_eq!(
        text_of(&confirm, "mass-will-change"),
        "70 computers will change."
    );
    let done = console.post_form("/mass/apply", &field).await;
    assert_eq!(text_of(&done, "mass-changed"), "70 computers changed.");
    for id in [big[0], big[69]] {
        assert_eq!(
            store.accountinfo_of(id).await.unwrap()[1].1.as_deref(),
            Some("3")
        );
    }
    assert_eq!(store.accountinfo_of(ids[11]).await.unwrap()[1].1, None);

    // Customisation: one setting kept, one set, one back to the server's option.
    let custom = [
        ("scope", "all"),
        ("q", q.as_str()),
        ("action", "customisation"),
        ("FREQUENCY", "7"),
        ("IPDISCOVER", "keep"),
        ("DOWNLOAD_SWITCH", ""),
    ];
    let confirm = console.post_form("/mass/confirm", &custom).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("Every 7 days"));
    let done = console.post_form("/mass/apply", &custom).await;
    assert_eq!(text_of(&done, "mass-changed"), "70 computers changed.");
    let settings = store.device_settings(big[10]).await.unwrap();
    assert_eq!(settings.len(), 1, "{settings:?}");
    assert_eq!(
        (settings[0].name.as_str(), settings[0].ivalue),
        ("FREQUENCY", Some(7))
    );
    assert!(store.device_settings(ids[11]).await.unwrap().is_empty());
    // Synthetic computers each report a network, so all can be elected for IpDiscover.
    let elect = [
        ("scope", "all"),
        ("q", q.as_str()),
        ("action", "customisation"),
        ("IPDISCOVER", "1"),
    ];
    let done = console.post_form("/mass/apply", &elect).await;
    assert_eq!(text_of(&done, "mass-changed"), "70 computers changed.");
    let ipd = store
        .device_settings(big[0])
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name == "IPDISCOVER")
        .unwrap();
    assert_eq!(ipd.ivalue, Some(1));
    assert!(ipd.tvalue.is_some_and(|t| t.starts_with("10.")));

    // CSV of the whole result and of chosen rows.
    let csv = console
        .post_form("/mass/csv", &[("scope", "all"), ("q", &q)])
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(csv.body.lines().count(), 1 + 70);
    let chosen = joined(&[ids[1], ids[2]]);
    let csv = console
        .post_form("/mass/csv", &[("scope", "selected"), ("ids", &chosen)])
        .await;
    assert_eq!(csv.body.lines().count(), 1 + 2, "{}", csv.body);
    assert!(csv
        .body
        .lines()
        .nth(1)
        .unwrap()
        .starts_with(&format!("\"{}\"", ids[1].0)));

    // Finally the TAG of the whole result: the search then finds none.
    let tag_all = [
        ("scope", "all"),
        ("q", q.as_str()),
        ("action", "tag"),
        ("tag", "MOVED"),
    ];
    let done = console.post_form("/mass/apply", &tag_all).await;
    assert_eq!(text_of(&done, "mass-changed"), "70 computers changed.");
    let counts = store.list_tag_counts().await.unwrap();
    assert!(counts.contains(&("MOVED".to_owned(), 70)), "{counts:?}");
    assert!(!counts.iter().any(|(t, _)| t == "BIG"));
    let empty = console.post_form("/mass/confirm", &tag_all).await;
    assert_eq!(empty.status, 400);
    assert!(empty.body.contains("Select at least one computer."));
}

#[tokio::test]
async fn refusals_read_only_csrf_and_oversized_selections() {
    let (server, console, store, ids) = fleet(5).await;
    let chosen = joined(&ids[..2]);
    let fields = [
        ("scope", "selected"),
        ("ids", chosen.as_str()),
        ("action", "tag"),
        ("tag", "EVIL"),
    ];

    // A read-only account may look and export, not change.
    let viewer = read_only_user(&server, "viewer", "viewer-password").await;
    let chooser = viewer
        .post_form("/mass", &[("scope", "selected"), ("ids", &chosen)])
        .await;
    assert_eq!(chooser.status, 200);
    assert!(chooser.body.contains("id=\"mass-read-only\""));
    assert!(!chooser.body.contains("id=\"mass-tag\""));
    for path in ["/mass/confirm", "/mass/apply"] {
        let refused = viewer.post_form(path, &fields).await;
        assert_eq!(refused.status, 403, "{path}");
    }
    let csv = viewer
        .post_form("/mass/csv", &[("scope", "selected"), ("ids", &chosen)])
        .await;
    assert_eq!(csv.status, 200);

    // CSRF: no token, a wrong one, a foreign origin.
    let no_token = console
        .post_raw("/mass/apply", &fields, Some(&server.base_url))
        .await;
    assert_eq!(no_token.status, 403);
    let mut wrong = vec![("csrf", "0".repeat(64))];
    wrong.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        console
            .post_raw("/mass/apply", &wrong, Some(&server.base_url))
            .await
            .status,
        403
    );
    let mut foreign = vec![("csrf", console.csrf())];
    foreign.extend_from_slice(&fields);
    assert_eq!(
        console
            .post_raw("/mass/apply", &foreign, Some("http://evil.example"))
            .await
            .status,
        403
    );
    for id in &ids {
        assert_ne!(tag(&store, *id).await.as_deref(), Some("EVIL"));
    }

    // Selections: too many IDs, not IDs, none at all, an unknown scope.
    let many: String = (1..=10_001)
        .map(|i: i64| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let too_many = console
        .post_form(
            "/mass/apply",
            &[
                ("scope", "selected"),
                ("ids", &many),
                ("action", "tag"),
                ("tag", "X"),
            ],
        )
        .await;
    assert_eq!(too_many.status, 413, "{}", too_many.body);
    assert!(too_many.body.contains("at most 10000 computers"));
    let at_limit = console
        .post_form(
            "/mass",
            &[
                ("scope", "selected"),
                ("ids", &many[..many.rfind(',').unwrap()]),
            ],
        )
        .await;
    assert_eq!(at_limit.status, 200, "10,000 IDs are fine");
    assert_eq!(text_of(&at_limit, "mass-count"), "5 computers selected.");
    for (ids, status) in [("1,two", 400), ("", 400), ("1;DROP TABLE hardware", 400)] {
        let p = console
            .post_form(
                "/mass/confirm",
                &[("scope", "selected"), ("ids", ids), ("action", "delete")],
            )
            .await;
        assert_eq!(p.status, status, "{ids:?}: {}", p.body);
    }
    assert_eq!(
        console
            .post_form("/mass", &[("scope", "everything")])
            .await
            .status,
        400
    );
    // A whole result within a group that has no members is empty.
    let p = console
        .post_form("/mass", &[("scope", "all"), ("q", ""), ("in_group", "999")])
        .await;
    assert_eq!(p.status, 400);
    assert_eq!(store.count_existing_computers(&ids).await.unwrap(), 5);
    assert_eq!(
        console.get("/mass").await.location.as_deref(),
        Some("/computers")
    );
}

/// The static groups' names with their member counts.
async fn static_groups(store: &Store) -> Vec<(String, i64)> {
    store
        .list_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.group.name, g.members))
        .collect()
}

#[tokio::test]
async fn selections_fill_and_empty_static_groups_and_delete_computers() {
    let (_server, console, store, ids) = fleet(5).await;
    let chosen = joined(&ids[..3]);
    let chooser = console
        .post_form("/mass", &[("scope", "selected"), ("ids", &chosen)])
        .await;
    for section in [
        "mass-group-add",
        "mass-delete",
        "mass-customisation",
        "mass-csv",
    ] {
        assert!(
            chooser.body.contains(&format!("id=\"{section}\"")),
            "{section}"
        );
    }
    let apply = |fields: Vec<(&'static str, String)>| {
        let console = &console;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let confirm = console.post_form("/mass/confirm", &fields).await;
            assert_eq!(confirm.status, 200, "{fields:?}: {}", confirm.body);
            assert!(!confirm.body.contains("<b>"), "escaped");
            let will_change = text_of(&confirm, "mass-will-change").to_owned();
            let done = console.post_form("/mass/apply", &fields).await;
            assert_eq!(done.status, 200, "{fields:?}: {}", done.body);
            will_change
        }
    };
    let selected = |extra: &[(&'static str, &str)], which: &str| {
        let mut v = vec![("scope", "selected".to_owned()), ("ids", which.to_owned())];
        v.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        v
    };

    // A new static group from three rows.
    let will = apply(selected(
        &[
            ("action", "group_add"),
            ("group", "new"),
            ("name", "Lab <b>"),
            ("description", "from a search"),
            ("mode", "add"),
        ],
        &chosen,
    ))
    .await;
    assert_eq!(will, "3 computers will change.");
    assert_eq!(static_groups(&store).await, [("Lab <b>".to_owned(), 3)]);
    let group = store.list_groups().await.unwrap()[0].group.id;

    // The chooser now offers it, and its name is shown when confirming.
    let chooser = console
        .post_form("/mass", &[("scope", "selected"), ("ids", &chosen)])
        .await;
    assert!(
        chooser.body.contains("mass-group-remove"),
        "{}",
        chooser.body
    );
    let gid = group.0.to_string();
    let others = joined(&ids[3..]);
    apply(selected(
        &[("action", "group_add"), ("group", &gid), ("mode", "add")],
        &others,
    ))
    .await;
    assert_eq!(static_groups(&store).await, [("Lab <b>".to_owned(), 5)]);
    // Overwrite: only the selection remains.
    apply(selected(
        &[
            ("action", "group_add"),
            ("group", &gid),
            ("mode", "overwrite"),
        ],
        &joined(&ids[..2]),
    ))
    .await;
    assert_eq!(static_groups(&store).await, [("Lab <b>".to_owned(), 2)]);
    apply(selected(
        &[("action", "group_remove"), ("group", &gid)],
        &joined(&ids[..1]),
    ))
    .await;
    assert_eq!(static_groups(&store).await, [("Lab <b>".to_owned(), 1)]);
    // The whole result of a list joins it: the action's `group` is not the selection's.
    let will = apply(vec![
        ("scope", "all".to_owned()),
        ("q", String::new()),
        ("action", "group_add".to_owned()),
        ("group", gid.clone()),
        ("mode", "add".to_owned()),
    ])
    .await;
    assert_eq!(will, "5 computers will change.");
    assert_eq!(static_groups(&store).await, [("Lab <b>".to_owned(), 5)]);
    apply(selected(
        &[
            ("action", "group_add"),
            ("group", &gid),
            ("mode", "overwrite"),
        ],
        &joined(&ids[..1]),
    ))
    .await;

    // Deleting the selection deletes the computers, and they leave the group with it.
    let will = apply(selected(&[("action", "delete")], &joined(&ids[..2]))).await;
    assert_eq!(will, "2 computers will change.");
    assert_eq!(
        store.matching_computer_ids(&[], None).await.unwrap(),
        &ids[2..]
    );
    assert_eq!(static_groups(&store).await, [("Lab <b>".to_owned(), 0)]);

    let export = console
        .post_form(
            "/mass/confirm",
            &[("scope", "selected"), ("ids", &chosen), ("action", "csv")],
        )
        .await;
    assert_eq!(export.status, 400);
}
