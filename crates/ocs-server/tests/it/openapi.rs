//! `/api/v1/openapi.json`: every operation it lists is called here, and every answer (its
//! status and its body) must be one the document describes for that operation.

use std::collections::BTreeSet;

use ocs_testkit::{fixture, inventory_xml, TestServer, OCS_UA};
use serde_json::{json, Value};

use crate::packages::{archive, https_files};
use crate::{host_id, server};

/// The document, and the operations answered so far.
struct Checker {
    doc: Value,
    seen: BTreeSet<(String, String)>,
}

impl Checker {
    /// Validates an answer of `method template` (the document's path, `{id}` and all).
    fn check(&mut self, method: &str, template: &str, status: u16, body: &[u8]) -> Value {
        let operation = &self.doc["paths"][template][method];
        assert!(
            operation.is_object(),
            "{method} {template} is not in the document"
        );
        let response = &operation["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {template} answered {status}, which the document does not list: {}",
            String::from_utf8_lossy(body)
        );
        self.seen.insert((method.to_owned(), template.to_owned()));
        let Some(schema) = response["content"]["application/json"]["schema"].as_object() else {
            assert!(
                body.is_empty(),
                "{method} {template} {status}: a body the document does not describe"
            );
            return Value::Null;
        };
        let instance: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
            panic!(
                "{method} {template} {status}: not JSON ({e}): {}",
                String::from_utf8_lossy(body)
            )
        });
        // The response's schema, with the document's components beside it so that its
        // `#/components/schemas/…` references resolve.
        let mut root = schema.clone();
        root.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        root.insert("components".into(), self.doc["components"].clone());
        let validator = jsonschema::validator_for(&Value::Object(root))
            .unwrap_or_else(|e| panic!("{method} {template}: the schema does not compile: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {template} {status}: {errors:#?}\n{instance:#}"
        );
        instance
    }
}

/// Calls the API and checks the answer against the document.
async fn call(
    s: &TestServer,
    c: &mut Checker,
    method: &str,
    path: &str,
    template: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let bytes = match &body {
        Some(b) => {
            headers.push(("Content-Type", "application/json"));
            serde_json::to_vec(b).unwrap()
        }
        None => Vec::new(),
    };
    let a = s
        .request(&method.to_uppercase(), path, bytes, &headers)
        .await;
    let v = c.check(method, template, a.status, &a.body);
    (a.status, v)
}

#[tokio::test]
async fn every_answer_matches_the_document() {
    let s = server(&[]);
    let doc = s
        .request("GET", "/api/v1/openapi.json", Vec::new(), &[])
        .await;
    assert_eq!(doc.status, 200, "served without a token");
    let doc: Value = serde_json::from_slice(&doc.body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    let mut c = Checker {
        doc,
        seen: BTreeSet::new(),
    };
    let read = s.token();
    let write = s.token_with_scope("write");
    let (r, w) = (Some(read.as_str()), Some(write.as_str()));

    // A real agent's inventory (every section it has), and two copies of one computer.
    assert_eq!(
        s.post(fixture("ocs-agent/02-INVENTORY-request.bin"), OCS_UA)
            .await
            .status,
        200
    );
    let twin = "<HARDWARE><NAME>twin</NAME><OSNAME>Linux</OSNAME></HARDWARE>\
        <BIOS><SSN>SN-1</SSN></BIOS>\
        <SOFTWARES><NAME>tool</NAME><PUBLISHER>Acme</PUBLISHER><VERSION>1</VERSION></SOFTWARES>";
    for d in ["twin-2024-01-01-00-00-00", "twin-2024-02-01-00-00-00"] {
        assert_eq!(s.send(&inventory_xml(d, twin)).await.status, 200);
    }
    let agent = host_id(&s, "vm-2026-11-21-12-46-33").await.0;
    let old = host_id(&s, "twin-2024-01-01-00-00-00").await.0;
    let new = host_id(&s, "twin-2024-02-01-00-00-00").await.0;

    // Computers.
    let t = "/api/v1/computers";
    call(&s, &mut c, "get", t, t, r, None).await;
    call(
        &s,
        &mut c,
        "get",
        "/api/v1/computers?per_page=2&tag=x",
        t,
        r,
        None,
    )
    .await;
    call(
        &s,
        &mut c,
        "get",
        "/api/v1/computers?per_page=5000",
        t,
        r,
        None,
    )
    .await;
    call(&s, &mut c, "get", t, t, None, None).await;
    let t = "/api/v1/computers/{id}";
    let (_, one) = call(
        &s,
        &mut c,
        "get",
        &format!("/api/v1/computers/{agent}"),
        t,
        r,
        None,
    )
    .await;
    assert!(
        one["cpus"].as_array().is_some_and(|a| !a.is_empty()),
        "{one}"
    );
    call(&s, &mut c, "get", "/api/v1/computers/999999", t, r, None).await;
    call(&s, &mut c, "get", "/api/v1/computers/x", t, r, None).await;
    let patch = Some(json!({"tag": "LAB"}));
    let path = format!("/api/v1/computers/{agent}");
    call(&s, &mut c, "patch", &path, t, r, patch.clone()).await;
    let (status, patched) = call(&s, &mut c, "patch", &path, t, w, patch).await;
    assert_eq!((status, &patched["tag"]), (200, &json!("LAB")));
    call(&s, &mut c, "patch", &path, t, w, Some(json!({"nope": 1}))).await;

    // History.
    let t = "/api/v1/computers/{id}/history";
    call(
        &s,
        &mut c,
        "get",
        &format!("/api/v1/computers/{agent}/history"),
        t,
        r,
        None,
    )
    .await;
    call(
        &s,
        &mut c,
        "get",
        &format!("/api/v1/computers/{agent}/history?action=nope"),
        t,
        r,
        None,
    )
    .await;
    let t = "/api/v1/changes";
    let (_, changes) = call(&s, &mut c, "get", t, t, r, None).await;
    assert!(changes["changes"].as_array().is_some_and(|a| !a.is_empty()));
    call(&s, &mut c, "get", "/api/v1/changes?computer=x", t, r, None).await;

    // Groups and members.
    let t = "/api/v1/groups";
    let body = Some(json!({"name": "Lab", "kind": "static", "description": "the lab"}));
    call(&s, &mut c, "post", t, t, r, body.clone()).await;
    let (status, group) = call(&s, &mut c, "post", t, t, w, body).await;
    assert_eq!(status, 201);
    let dynamic = json!({"name": "Linux", "kind": "dynamic",
        "criteria": [{"field": "os", "op": "equal", "value": "*Linux*"}]});
    call(&s, &mut c, "post", t, t, w, Some(dynamic)).await;
    call(&s, &mut c, "post", t, t, w, Some(json!({"kind": "static"}))).await;
    let (_, groups) = call(&s, &mut c, "get", "/api/v1/groups?name=LAB", t, r, None).await;
    assert_eq!(groups["total"], 1, "{groups}");
    call(&s, &mut c, "get", "/api/v1/groups?per_page=0", t, r, None).await;
    let id = group["id"].as_i64().unwrap();
    let t = "/api/v1/groups/{id}";
    let path = format!("/api/v1/groups/{id}");
    call(&s, &mut c, "get", &path, t, r, None).await;
    call(&s, &mut c, "get", "/api/v1/groups/999999", t, r, None).await;
    call(
        &s,
        &mut c,
        "patch",
        &path,
        t,
        w,
        Some(json!({"description": "ours"})),
    )
    .await;
    let t = "/api/v1/groups/{id}/members";
    let members = format!("{path}/members");
    let body = Some(json!({"computers": [agent, old]}));
    call(&s, &mut c, "post", &members, t, w, body.clone()).await;
    let (_, page) = call(&s, &mut c, "get", &members, t, r, None).await;
    assert_eq!(page["total"], 2);
    call(
        &s,
        &mut c,
        "delete",
        &members,
        t,
        w,
        Some(json!({"computers": [old]})),
    )
    .await;
    call(&s, &mut c, "delete", &members, t, r, body).await;
    let t = "/api/v1/groups/{id}/refresh";
    call(&s, &mut c, "post", &format!("{path}/refresh"), t, w, None).await;
    let t = "/api/v1/groups/{id}";
    call(&s, &mut c, "delete", &path, t, w, None).await;
    call(&s, &mut c, "delete", &path, t, w, None).await;

    // Software (the counts are made on the first view).
    let t = "/api/v1/software";
    let (_, soft) = call(&s, &mut c, "get", "/api/v1/software?name=tool", t, r, None).await;
    call(&s, &mut c, "get", "/api/v1/software?sort=nope", t, r, None).await;
    let t = "/api/v1/software/{id}";
    let id = soft["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{soft}"));
    call(
        &s,
        &mut c,
        "get",
        &format!("/api/v1/software/{id}"),
        t,
        r,
        None,
    )
    .await;
    call(&s, &mut c, "get", "/api/v1/software/999999", t, r, None).await;

    // Networks.
    let t = "/api/v1/networks";
    let (_, nets) = call(&s, &mut c, "get", t, t, r, None).await;
    let t = "/api/v1/networks/{id}/devices";
    let netid = nets["items"][0]["netid"]
        .as_str()
        .unwrap_or("192.0.2.0")
        .to_owned();
    for kind in ["inventoried", "uninventoried", "identified", "nope"] {
        let path = format!("/api/v1/networks/{netid}/devices?kind={kind}");
        call(&s, &mut c, "get", &path, t, r, None).await;
    }

    // Duplicates and merges.
    let t = "/api/v1/duplicates";
    call(
        &s,
        &mut c,
        "get",
        "/api/v1/duplicates?mode=hostname",
        t,
        r,
        None,
    )
    .await;
    call(
        &s,
        &mut c,
        "get",
        "/api/v1/duplicates?mode=nope",
        t,
        r,
        None,
    )
    .await;
    let t = "/api/v1/merges";
    let body = Some(json!({"computers": [new, old], "mode": "hostname"}));
    call(&s, &mut c, "post", t, t, r, body.clone()).await;
    let (status, merge) = call(&s, &mut c, "post", t, t, w, body).await;
    assert_eq!(status, 201, "{merge}");
    call(&s, &mut c, "get", t, t, r, None).await;
    let t = "/api/v1/merges/{id}/undo";
    let undo = format!("/api/v1/merges/{}/undo", merge["id"]);
    call(&s, &mut c, "post", &undo, t, w, None).await;
    call(&s, &mut c, "post", "/api/v1/merges/999999/undo", t, w, None).await;

    // Packages: built from an upload, activated, their status, deleted.
    let client = reqwest::Client::new();
    let form = reqwest::multipart::Form::new()
        .text("name", "Doc")
        .text("os", "linux")
        .text("action", "execute")
        .text("action_param", "sh run.sh")
        .part(
            "file",
            reqwest::multipart::Part::bytes(archive(3000)).file_name("a.tar.gz"),
        );
    let built = client
        .post(format!("{}/api/v1/packages", s.base_url))
        .bearer_auth(&write)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = built.status().as_u16();
    let body = built.bytes().await.unwrap();
    let created = c.check("post", "/api/v1/packages", status, &body);
    assert_eq!(status, 201, "{created}");
    let fileid = created["fileid"].as_str().unwrap().to_owned();
    let t = "/api/v1/packages";
    let (_, list) = call(&s, &mut c, "get", "/api/v1/packages?per_page=1", t, r, None).await;
    assert_eq!(list["items"][0]["fileid"], fileid.as_str());
    let t = "/api/v1/packages/{id}/activate";
    let https = https_files(
        s.dir.path().join("download"),
        &s.dir.path().join("tls").join("cacert.pem"),
    );
    let activation = json!({"info_url": format!("https://{https}"),
        "fragments_url": format!("{}/download", s.base_url)});
    let path = format!("/api/v1/packages/{fileid}/activate");
    call(&s, &mut c, "post", &path, t, r, Some(activation.clone())).await;
    let (status, _) = call(&s, &mut c, "post", &path, t, w, Some(activation)).await;
    assert_eq!(status, 201);
    let t = "/api/v1/packages/{id}/status";
    call(
        &s,
        &mut c,
        "get",
        &format!("/api/v1/packages/{fileid}/status"),
        t,
        r,
        None,
    )
    .await;
    call(&s, &mut c, "get", "/api/v1/packages/x/status", t, r, None).await;
    let t = "/api/v1/packages/{id}";
    let path = format!("/api/v1/packages/{fileid}");
    call(&s, &mut c, "get", &path, t, r, None).await;
    call(&s, &mut c, "delete", &path, t, r, None).await;
    call(&s, &mut c, "delete", &path, t, w, None).await;
    call(&s, &mut c, "get", &path, t, r, None).await;

    // Options: read with any token, changed with an admin one, whole or not at all.
    let admin = s.token_with_scope("admin");
    let a = Some(admin.as_str());
    let t = "/api/v1/options";
    let (_, all) = call(&s, &mut c, "get", t, t, r, None).await;
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["name"] == "PROLOG_FREQ"));
    let change = Some(json!({"PROLOG_FREQ": 12, "FREQUENCY": "3"}));
    let (status, refused) = call(&s, &mut c, "patch", t, t, w, change.clone()).await;
    assert_eq!(
        (status, &refused["code"]),
        (403, &json!("E_NOT_ADMIN_TOKEN"))
    );
    let (status, done) = call(&s, &mut c, "patch", t, t, a, change).await;
    assert_eq!((status, &done["changed"]), (200, &json!(2)), "{done}");
    let bad = Some(json!({"PROLOG_FREQ": "often", "FREQUENCY": 4, "NOPE": 1}));
    let (status, refused) = call(&s, &mut c, "patch", t, t, a, bad).await;
    assert_eq!(status, 400);
    let why = refused["message"].as_str().unwrap();
    assert!(why.contains("NOPE") && why.contains("PROLOG_FREQ"), "{why}");
    call(&s, &mut c, "patch", t, t, a, Some(json!([1]))).await;
    let t = "/api/v1/options/{name}";
    let (_, one) = call(&s, &mut c, "get", "/api/v1/options/prolog_freq", t, r, None).await;
    assert_eq!(one["value"], "12", "{one}");
    let (_, one) = call(&s, &mut c, "get", "/api/v1/options/FREQUENCY", t, r, None).await;
    assert_eq!(one["value"], "3", "nothing of the refused change was saved");
    call(&s, &mut c, "get", "/api/v1/options/NOPE", t, r, None).await;

    // Deletion last.
    let t = "/api/v1/computers/{id}";
    let path = format!("/api/v1/computers/{new}");
    call(&s, &mut c, "delete", &path, t, r, None).await;
    call(&s, &mut c, "delete", &path, t, w, None).await;
    call(&s, &mut c, "delete", &path, t, w, None).await;

    let documented: BTreeSet<(String, String)> = c.doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let untested: Vec<_> = documented.difference(&c.seen).collect();
    assert!(
        untested.is_empty(),
        "documented but never called: {untested:?}"
    );
}
