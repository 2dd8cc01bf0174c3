//! Agent rollout files: an administrator uploads a file on `/rollout`, launchers fetch it
//! from `/ocsinventory/deploy/<name>` while DEPLOY is on (the original's 403 when off, 400
//! for an unknown or invalid name), a read-only account is refused, and delete removes it.

use crate::console::{read_only_user, Console};
use crate::server;

fn upload(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    )
}

#[tokio::test]
async fn uploaded_rollout_files_are_served_to_launchers_while_deploy_is_on() {
    let s = server(&[]);
    let admin = Console::sign_in_admin(&s).await;
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let stored = admin
        .post_multipart("/rollout", upload("ocspackage.exe", content.clone()))
        .await;
    assert_eq!(stored.status, 303, "{}", stored.body);
    let page = admin.get("/rollout").await;
    assert!(page.body.contains("ocspackage.exe"), "{}", page.body);

    let fetched = s
        .request(
            "GET",
            "/ocsinventory/deploy/ocspackage.exe",
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, content);
    assert_eq!(
        fetched.header("content-length"),
        Some(content.len().to_string().as_str())
    );
    // Over HTTPS too.
    let over_tls = s
        .https_request(
            "GET",
            "/ocsinventory/deploy/ocspackage.exe",
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(over_tls.body, content);
    // Nothing escapes the directory; unknown names keep the original's 400.
    for bad in [
        "/ocsinventory/deploy/..%2Focs.db",
        "/ocsinventory/deploy/.upload-1",
        "/ocsinventory/deploy/none.exe",
    ] {
        assert_eq!(
            s.request("GET", bad, Vec::new(), &[]).await.status,
            400,
            "{bad}"
        );
    }
    assert!(!std::fs::read_dir(s.dir.path().join("deploy"))
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().starts_with('.')));

    s.set_option("DEPLOY", "0");
    let off = s
        .request(
            "GET",
            "/ocsinventory/deploy/ocspackage.exe",
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(off.status, 403);
    s.set_option("DEPLOY", "1");

    let deleted = admin.post_form("/rollout/ocspackage.exe/delete", &[]).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert!(!s.dir.path().join("deploy/ocspackage.exe").exists());
}

#[tokio::test]
async fn rollout_names_and_accounts_are_checked() {
    let s = server(&[]);
    let admin = Console::sign_in_admin(&s).await;
    let refused = admin
        .post_multipart("/rollout", upload(".htaccess", b"x".to_vec()))
        .await;
    assert_eq!(refused.status, 303);
    assert!(!s.dir.path().join("deploy/.htaccess").exists());
    let reader = read_only_user(&s, "reader", "reader-password-1").await;
    assert_eq!(reader.get("/rollout").await.status, 403);
    let upload_by_reader = reader
        .post_multipart("/rollout", upload("ocsagent.exe", b"x".to_vec()))
        .await;
    assert_eq!(upload_by_reader.status, 403);
    assert!(!s.dir.path().join("deploy/ocsagent.exe").exists());
}
