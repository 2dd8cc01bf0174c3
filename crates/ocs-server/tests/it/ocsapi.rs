//! `/ocsapi/v1`, the original's REST API: its routes and JSON shapes (compared with the
//! original's own API when the real-OCS peer runs, as the test command sets it up), and who
//! may call it.

use std::collections::BTreeSet;

use ocs_testkit::{fixture, inventory_xml, OCS_UA};
use serde_json::Value;

use crate::{host_id, server};

/// The real agent's capture, sent to both servers.
const AGENT_INVENTORY: &str = "ocs-agent/02-INVENTORY-request.bin";
const AGENT_DEVICEID: &str = "vm-2026-11-21-12-46-33";

/// The original server with its REST API (`scripts/test.sh` enables it).
const ORIGINAL: &str = "http://127.0.0.1:8090";

/// The columns of a computer's `softwares` in 2.8.1: those of its query joining `software`
/// with the name, publisher, version and category dictionaries.
const SOFTWARES_KEYS: [&str; 21] = [
    "ARCHITECTURE",
    "BITSWIDTH",
    "CATEGORY",
    "CATEGORY_NAME",
    "COMMENTS",
    "FILENAME",
    "FILESIZE",
    "FOLDER",
    "GUID",
    "HARDWARE_ID",
    "ID",
    "INSTALLDATE",
    "LANGUAGE",
    "NAME",
    "NAME_ID",
    "OS",
    "PUBLISHER",
    "PUBLISHER_ID",
    "SOURCE",
    "VERSION",
    "VERSION_ID",
];

/// Sections of the capture that the original's API serves per computer.
const SECTIONS: [&str; 6] = [
    "cpus",
    "networks",
    "drives",
    "storages",
    "controllers",
    "accountinfo",
];

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

async fn get(s: &ocs_testkit::TestServer, path: &str, auth: &str) -> (u16, Value) {
    let a = s
        .request("GET", path, Vec::new(), &[("Authorization", auth)])
        .await;
    let json = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
    (a.status, json)
}

fn original_up() -> bool {
    std::net::TcpStream::connect_timeout(
        &"127.0.0.1:8090".parse().unwrap(),
        std::time::Duration::from_secs(2),
    )
    .is_ok()
}

/// A route of the original's API; 2.8.1 encodes some answers twice (a JSON string of JSON).
async fn original(client: &reqwest::Client, path: &str) -> Value {
    let r = client
        .get(format!("{ORIGINAL}/ocsapi/v1{path}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the original's {path}");
    let v: Value = r.json().await.unwrap();
    match v {
        Value::String(inner) => serde_json::from_str(&inner).unwrap(),
        other => other,
    }
}

/// A section of a computer of the original. Its API walks a hash shared by the requests
/// of one Apache process with `each`, whose position another request may have left in the
/// middle: an answer may miss the section, and asking again gives it.
async fn original_section(client: &reqwest::Client, id: i64, section: &str, query: &str) -> Value {
    let path = format!("/computer/{id}/{section}{query}");
    for _ in 0..20 {
        let v = original(client, &path).await;
        if v[id.to_string()][section].is_array() {
            return v;
        }
    }
    panic!("the original never answered {path} with its {section}");
}

#[tokio::test]
async fn same_shapes_as_the_original() {
    if !original_up() {
        assert!(
            !ocs_testkit::in_ci(),
            "the original server is not up on 127.0.0.1:8090; the test command starts it"
        );
        eprintln!("SKIPPED: the original server is not up (../shared/tools/real-ocs/setup.sh)");
        return;
    }
    let client = reqwest::Client::new();
    let probe = client
        .get(format!("{ORIGINAL}/ocsapi/v1/computers/listID"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        probe.status(),
        200,
        "the original's REST API is not enabled at {ORIGINAL}/ocsapi (scripts/test.sh enables it)"
    );
    let body = fixture(AGENT_INVENTORY);
    let sent = client
        .post(format!("{ORIGINAL}/ocsinventory"))
        .header("User-Agent", OCS_UA)
        .header("Content-Type", "application/x-compress")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200, "the original takes the capture");
    let s = server(&[]);
    assert_eq!(s.post(body, OCS_UA).await.status, 200);
    let auth = format!("Bearer {}", s.token());

    let search = format!("/computers/search?DEVICEID={AGENT_DEVICEID}");
    let theirs_found = original(&client, &search).await;
    // 2.8.1 answers `[[id]]`; the reference (and the original's HEAD) `[{"ID": id}]`.
    let theirs_id = theirs_found[0][0]
        .as_i64()
        .or_else(|| theirs_found[0]["ID"].as_i64())
        .unwrap_or_else(|| panic!("the original found {theirs_found}"));
    let ours_id = host_id(&s, AGENT_DEVICEID).await.0;
    let (status, ours_found) = get(&s, &format!("/ocsapi/v1{search}"), &auth).await;
    assert_eq!(status, 200);
    assert_eq!(ours_found, serde_json::json!([{ "ID": ours_id }]));

    for section in SECTIONS {
        let theirs = original_section(&client, theirs_id, section, "").await;
        let (status, ours) = get(
            &s,
            &format!("/ocsapi/v1/computer/{ours_id}/{section}"),
            &auth,
        )
        .await;
        assert_eq!(status, 200, "{section}: {ours}");
        let theirs = &theirs[theirs_id.to_string()];
        let ours = &ours[ours_id.to_string()];
        assert_eq!(
            keys(ours),
            keys(theirs),
            "{section}: the keys of the computer"
        );
        assert_eq!(
            keys(&ours["hardware"]),
            keys(&theirs["hardware"]),
            "{section}: hardware columns"
        );
        for column in [
            "DEVICEID",
            "NAME",
            "OSNAME",
            "OSVERSION",
            "MEMORY",
            "IPADDR",
        ] {
            assert_eq!(
                ours["hardware"][column], theirs["hardware"][column],
                "hardware {column}"
            );
        }
        let (ours_rows, theirs_rows) = (
            ours[section].as_array().unwrap(),
            theirs[section].as_array().unwrap(),
        );
        assert_eq!(ours_rows.len(), theirs_rows.len(), "{section}: rows");
        assert!(!ours_rows.is_empty(), "{section}: the capture has rows");
        for (o, t) in ours_rows.iter().zip(theirs_rows) {
            assert_eq!(keys(o), keys(t), "{section}: columns");
        }
    }

    // A condition filters a section's rows. (`like`: the original compares operators as
    // numbers, so it wraps every value in `%…%` and its `=` never matches.)
    let filtered = "networks?where=STATUS&operator=like&value=Up";
    let (_, ours) = get(
        &s,
        &format!("/ocsapi/v1/computer/{ours_id}/{filtered}"),
        &auth,
    )
    .await;
    let theirs = original_section(
        &client,
        theirs_id,
        "networks",
        "?where=STATUS&operator=like&value=Up",
    )
    .await;
    let up = ours[ours_id.to_string()]["networks"]
        .as_array()
        .unwrap()
        .len();
    assert!(up > 0);
    assert_eq!(
        up,
        theirs[theirs_id.to_string()]["networks"]
            .as_array()
            .unwrap()
            .len()
    );
    let (_, exact) = get(
        &s,
        &format!("/ocsapi/v1/computer/{ours_id}/networks?where=STATUS&operator=%3D&value=Up"),
        &auth,
    )
    .await;
    assert_eq!(
        exact[ours_id.to_string()]["networks"]
            .as_array()
            .unwrap()
            .len(),
        up
    );

    let theirs_types = original(&client, "/snmps/typeList").await;
    let (_, ours_types) = get(&s, "/ocsapi/v1/snmps/typeList", &auth).await;
    assert_eq!(
        keys(&ours_types[0]),
        keys(&theirs_types[0]),
        "{ours_types} / {theirs_types}"
    );

    // The whole computer: every section, and 2.8.1's `softwares`.
    let (status, whole) = get(&s, &format!("/ocsapi/v1/computer/{ours_id}"), &auth).await;
    assert_eq!(status, 200);
    let whole = &whole[ours_id.to_string()];
    let software = whole["softwares"].as_array().unwrap();
    assert!(software.len() > 100, "{}", software.len());
    let want: BTreeSet<String> = SOFTWARES_KEYS.iter().map(|k| (*k).to_owned()).collect();
    assert_eq!(keys(&software[0]), want);
    for section in SECTIONS {
        assert!(whole[section].is_array(), "{section} in the whole computer");
    }
}

#[tokio::test]
async fn routes_paging_and_errors() {
    let s = server(&[]);
    let auth = format!("Bearer {}", s.token());
    for (i, tag) in ["A", "B", "A"].iter().enumerate() {
        let content = format!(
            "<HARDWARE><NAME>Host{i}</NAME><OSNAME>Linux</OSNAME></HARDWARE>\
             <SOFTWARES><NAME>tool{i}</NAME><PUBLISHER>Acme</PUBLISHER><VERSION>1.{i}</VERSION></SOFTWARES>\
             <ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{tag}</KEYVALUE></ACCOUNTINFO>"
        );
        let deviceid = format!("host{i}-2024-01-01-00-00-00");
        assert_eq!(
            s.send(&inventory_xml(&deviceid, &content)).await.status,
            200
        );
    }
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(host_id(&s, &format!("host{i}-2024-01-01-00-00-00")).await.0);
    }

    let (status, list) = get(&s, "/ocsapi/v1/computers/listID", &auth).await;
    assert_eq!(status, 200);
    let listed: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ID"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, ids);

    // Pages: `start` and `limit`, a limit required, bounded, and numbers only.
    let (status, page) = get(&s, "/ocsapi/v1/computers?start=1&limit=1", &auth).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&page), BTreeSet::from([ids[1].to_string()]));
    let one = &page[ids[1].to_string()];
    assert_eq!(one["hardware"]["NAME"], "Host1");
    assert_eq!(one["accountinfo"][0]["TAG"], "B");
    assert!(
        one["unixusers"].is_array(),
        "every table of the computer: {one}"
    );
    for bad in ["limit=0", "", "limit=1001", "limit=x"] {
        let (status, err) = get(&s, &format!("/ocsapi/v1/computers?{bad}"), &auth).await;
        assert_eq!(status, 400, "{bad}: {err}");
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{err}"
        );
    }
    let (_, beyond) = get(&s, "/ocsapi/v1/computers?start=10&limit=5", &auth).await;
    assert_eq!(beyond, Value::Null, "no computers is null, as the original");

    // One section: the hardware row with it; an unknown computer is null.
    let (_, cpu) = get(
        &s,
        &format!("/ocsapi/v1/computer/{}/accountinfo", ids[0]),
        &auth,
    )
    .await;
    assert_eq!(cpu[ids[0].to_string()]["accountinfo"][0]["TAG"], "A");
    let (status, none) = get(&s, "/ocsapi/v1/computer/999999/cpus", &auth).await;
    assert_eq!((status, none), (200, Value::Null));
    let (status, err) = get(&s, "/ocsapi/v1/computer/abc", &auth).await;
    assert_eq!(status, 400, "{err}");

    // A condition on a column the table lacks names it instead of failing in SQL.
    let (status, err) = get(
        &s,
        &format!(
            "/ocsapi/v1/computer/{}/networks?where=NOPE&operator=%3D&value=1",
            ids[0]
        ),
        &auth,
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert!(err["message"].as_str().unwrap().contains("NOPE"), "{err}");
    let (status, _) = get(
        &s,
        &format!(
            "/ocsapi/v1/computer/{}/networks?where=STATUS&operator=drop&value=1",
            ids[0]
        ),
        &auth,
    )
    .await;
    assert_eq!(status, 400, "operators are the original's list");

    // Search on hardware columns, ordered, paged.
    let (_, found) = get(
        &s,
        "/ocsapi/v1/computers/search?OSNAME=Linux&orderby=NAME;DESC&limit=2",
        &auth,
    )
    .await;
    assert_eq!(
        found,
        serde_json::json!([{ "ID": ids[2] }, { "ID": ids[1] }])
    );
    let (_, found) = get(&s, "/ocsapi/v1/computers/search?NAME=Host0", &auth).await;
    assert_eq!(found, serde_json::json!([{ "ID": ids[0] }]));
    let (status, err) = get(&s, "/ocsapi/v1/computers/search?NOPE=1", &auth).await;
    assert_eq!(status, 400, "{err}");

    // Recently updated: everything was stored just now.
    let (_, recent) = get(&s, "/ocsapi/v1/computers/lastupdate", &auth).await;
    assert_eq!(recent.as_array().unwrap().len(), 3);
    let (_, later) = get(&s, "/ocsapi/v1/computers/lastupdate/4102444800", &auth).await;
    assert_eq!(later, serde_json::json!([]));

    // Software: distinct name/publisher/version, a name prefix.
    let (_, soft) = get(&s, "/ocsapi/v1/softwares?soft=tool1", &auth).await;
    assert_eq!(
        soft,
        serde_json::json!([{ "NAME": "tool1", "PUBLISHER": "Acme", "VERSION": "1.1" }])
    );
    let (_, soft) = get(&s, "/ocsapi/v1/softwares?limit=2", &auth).await;
    assert_eq!(soft.as_array().unwrap().len(), 2);

    // Discovery and SNMP answer their shapes even when empty; the CVE routes are empty
    // (they need a CVE-Search server).
    for path in [
        "/ocsapi/v1/ipdiscover",
        "/ocsapi/v1/ipdiscover/network/198.51.100.0",
        "/ocsapi/v1/ipdiscover/tag/A",
        "/ocsapi/v1/cve/cvss",
    ] {
        let (status, v) = get(&s, path, &auth).await;
        assert_eq!((status, v), (200, serde_json::json!([])), "{path}");
    }
    let (status, _) = get(&s, "/ocsapi/v1/cve/nothing", &auth).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn tokens_or_web_service_accounts() {
    let s = server(&[]);
    let path = "/ocsapi/v1/computers/listID";
    let none = s.request("GET", path, Vec::new(), &[]).await;
    assert_eq!(none.status, 401);
    assert!(
        none.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic")),
        "scripts using Basic are challenged"
    );
    assert_eq!(get(&s, path, "Bearer ocs_wrong").await.0, 401);
    assert_eq!(get(&s, path, &format!("Bearer {}", s.token())).await.0, 200);

    let add = |login: &str, extra: &[&str]| {
        let mut args = vec!["users", "add", login, "--role", "user", "--password-stdin"];
        args.extend_from_slice(extra);
        let out = s.cli_with_stdin(&args, "a-long-pass-phrase-1\n").unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    add("script", &["--web-services"]);
    add("person", &[]);
    let basic = |login: &str, password: &str| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"))
        )
    };
    assert_eq!(
        get(&s, path, &basic("script", "a-long-pass-phrase-1"))
            .await
            .0,
        200
    );
    // Again, from the cache of verified credentials.
    assert_eq!(
        get(&s, path, &basic("script", "a-long-pass-phrase-1"))
            .await
            .0,
        200
    );
    assert_eq!(get(&s, path, &basic("script", "wrong")).await.0, 401);
    assert_eq!(
        get(&s, path, &basic("person", "a-long-pass-phrase-1"))
            .await
            .0,
        401,
        "an account without web services"
    );
    // A deleted account is refused at once, even with credentials just verified.
    s.cli_ok(&["users", "delete", "script"]);
    assert_eq!(
        get(&s, path, &basic("script", "a-long-pass-phrase-1"))
            .await
            .0,
        401
    );
    assert!(s.log().contains("web-service authentication failed"));
}
