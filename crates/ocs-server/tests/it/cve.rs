//! One regression test per class of vulnerability in the original's history, each named
//! after the CVE it guards against (classes fixed upstream without a CVE number say so in
//! their name). They attack the real binary the way the published exploits did; when a
//! feature with the same risk lands (network analysis, SNMP settings), its case joins here.

use reqwest::multipart::{Form, Part};

use ocs_testkit::{inventory_xml, zlib, OCS_UA};

use crate::console::Console;
use crate::{host_id, server};

const DEV: &str = "victim-2024-01-01-00-00-00";

/// Text that would run in a browser if a page printed it unescaped.
const SCRIPT: &str = "<script>alert(1)</script>";
/// The same as it travels inside XML.
const SCRIPT_XML: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

fn no_script(page: &str) {
    assert!(!page.contains(SCRIPT), "unescaped script in the page");
    assert!(
        !page.to_lowercase().contains("<script>alert"),
        "unescaped script in the page"
    );
}

#[tokio::test]
async fn cve_2010_1733_sql_injection_through_search_values() {
    let s = server(&[]);
    let console = Console::sign_in_admin(&s).await;
    let inv = inventory_xml(
        DEV,
        "<HARDWARE><NAME>victim</NAME></HARDWARE><SOFTWARES><NAME>Firefox</NAME></SOFTWARES>",
    );
    assert_eq!(s.send(&inv).await.status, 200);
    for value in [
        "' OR '1'='1",
        "x' UNION SELECT password_hash FROM console_users --",
        "x'; DROP TABLE hardware; --",
        "%' OR 1=1 --",
    ] {
        for field in ["name", "software", "tag"] {
            let q = format!("/search?f0={field}&o0=equal&v0={}", urlencode(value));
            let page = console.get(&q).await;
            assert_eq!(page.status, 200, "{field} {value}");
            assert!(
                page.body.contains("0 computers"),
                "{field} {value:?} matched: {}",
                page.body
            );
            assert!(!page.body.contains("argon2"), "a hash leaked");
        }
    }
    // Nothing was dropped.
    assert!(console.get("/computers").await.body.contains("1 computer"));
}

#[tokio::test]
async fn cve_2018_1000558_sql_injection_through_search_fields_and_sort() {
    // ORDER BY injection was fixed again upstream in 2.12.2, without a CVE of its own.
    let s = server(&[]);
    let console = Console::sign_in_admin(&s).await;
    assert_eq!(
        s.send(&inventory_xml(
            DEV,
            "<HARDWARE><NAME>victim</NAME></HARDWARE>"
        ))
        .await
        .status,
        200
    );
    for field in [
        "h.name",
        "name;DROP TABLE hardware",
        "(SELECT 1)",
        "password_hash",
    ] {
        let q = format!("/search?f0={}&o0=equal&v0=x", urlencode(field));
        assert_eq!(
            console.get(&q).await.status,
            400,
            "field {field:?} accepted"
        );
    }
    for (sort, dir) in [
        ("name; DROP TABLE hardware", "asc"),
        ("(CASE WHEN 1=1 THEN name ELSE tag END)", "asc"),
        ("name", "desc, (SELECT password_hash FROM console_users)"),
        ("1", "asc"),
    ] {
        let q = format!("/computers?sort={}&dir={}", urlencode(sort), urlencode(dir));
        let page = console.get(&q).await;
        assert!(
            page.status == 200 || page.status == 400,
            "{sort} {dir}: {}",
            page.status
        );
        assert!(!page.body.contains("argon2"));
    }
    assert!(console.get("/computers").await.body.contains("1 computer"));
}

#[tokio::test]
async fn cve_2011_4024_and_cve_2021_46355_stored_xss_from_inventory_fields() {
    let s = server(&[]);
    let console = Console::sign_in_admin(&s).await;
    // The computer description (2011) and a printer name (2021), among other fields.
    let content = format!(
        "<HARDWARE><NAME>victim{SCRIPT_XML}</NAME><DESCRIPTION>{SCRIPT_XML}</DESCRIPTION><USERID>{SCRIPT_XML}</USERID></HARDWARE>\
         <PRINTERS><NAME>{SCRIPT_XML}</NAME><DRIVER>{SCRIPT_XML}</DRIVER></PRINTERS>\
         <SOFTWARES><NAME>{SCRIPT_XML}</NAME><PUBLISHER>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</PUBLISHER></SOFTWARES>\
         <ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{SCRIPT_XML}</KEYVALUE></ACCOUNTINFO>"
    );
    assert_eq!(s.send(&inventory_xml(DEV, &content)).await.status, 200);
    let id = host_id(&s, DEV).await.0;
    for path in [
        "/computers".to_owned(),
        format!("/computers/{id}?section=all"),
        format!("/computers/{id}?print=1"),
        "/tags".to_owned(),
        "/search?f0=software&o0=equal&v0=*".to_owned(),
    ] {
        let page = console.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        no_script(&page.body);
        assert!(!page.body.contains("<img src=x"), "{path}");
    }
    // The CSP would stop an inline script even if one got through.
    let page = console.get("/computers").await;
    assert!(page
        .header("content-security-policy")
        .unwrap_or_default()
        .contains("script-src 'self'"));
}

#[tokio::test]
async fn cve_2014_4722_stored_xss_from_the_user_agent() {
    let s = server(&[]);
    let console = Console::sign_in_admin(&s).await;
    let ua = format!("{OCS_UA}{SCRIPT}");
    let body = zlib(inventory_xml(DEV, "<HARDWARE><NAME>victim</NAME></HARDWARE>").as_bytes());
    assert_eq!(s.post(body, &ua).await.status, 200);
    let id = host_id(&s, DEV).await.0;
    no_script(
        &console
            .get(&format!("/computers/{id}?section=all"))
            .await
            .body,
    );
    no_script(&console.get("/computers").await.body);
}

#[tokio::test]
async fn cve_2018_1000557_reflected_xss_in_sign_in_and_search() {
    let s = server(&[]);
    let anonymous = s
        .request(
            "GET",
            &format!("/login?next={}", urlencode(SCRIPT)),
            Vec::new(),
            &[],
        )
        .await;
    no_script(&String::from_utf8_lossy(&anonymous.body));
    let console = Console::sign_in_admin(&s).await;
    let page = console
        .get(&format!(
            "/search?f0=name&o0=equal&v0={}",
            urlencode(SCRIPT)
        ))
        .await;
    assert_eq!(page.status, 200);
    no_script(&page.body);
    let bad = console
        .get(&format!(
            "/search?f0=memory&o0=bigger&v0={}",
            urlencode(SCRIPT)
        ))
        .await;
    no_script(&bad.body);
}

#[tokio::test]
async fn cve_2018_14473_xxe_through_the_inventory() {
    let s = server(&[]);
    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
         <REQUEST><DEVICEID>{DEV}</DEVICEID><QUERY>INVENTORY</QUERY><CONTENT><HARDWARE><NAME>&x;</NAME></HARDWARE></CONTENT></REQUEST>"
    );
    let a = s.send(&xxe).await;
    assert_eq!(a.status, 400);
    assert!(!String::from_utf8_lossy(&a.body).contains("root:"));
    let token = s.token();
    assert_eq!(s.api("/api/v1/computers", &token).await.1["total"], 0);
}

#[tokio::test]
async fn cve_2018_12483_and_cve_2020_14947_request_text_never_reaches_a_shell() {
    // Network analysis (2018) and the SNMP MIB file (2020) put request text into a shell
    // command. Here every text an agent or an administrator can send goes through the
    // server, and the commands it carries must never run.
    let s = server(&[("OCS_OPT_SNMP", "1")]);
    let marker = s.dir.path().join("pwned");
    let m = marker.display();
    let payloads = [
        format!("$(touch {m})"),
        format!("`touch {m}`"),
        format!("x; touch {m}"),
        format!("x | touch {m}"),
        format!("x && touch {m} #"),
    ];
    for (i, p) in payloads.iter().enumerate() {
        let p = p
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let deviceid = format!("shell{i}-2024-01-01-00-00-00");
        let content = format!(
            "<HARDWARE><NAME>{p}</NAME></HARDWARE><NETWORKS><IPADDRESS>{p}</IPADDRESS><IPSUBNET>{p}</IPSUBNET><MACADDR>{p}</MACADDR></NETWORKS>\
             <IPDISCOVER><H><I>{p}</I><M>{p}</M><N>{p}</N></H></IPDISCOVER>"
        );
        assert_eq!(
            s.send(&inventory_xml(&deviceid, &content)).await.status,
            200
        );
        let snmp = format!(
            "<REQUEST><DEVICEID>{deviceid}</DEVICEID><QUERY>SNMP</QUERY><CONTENT><snmp_default><SNMP_COMMUNITY>{p}</SNMP_COMMUNITY><IPADDR>{p}</IPADDR></snmp_default></CONTENT></REQUEST>"
        );
        s.send(&snmp).await;
    }
    let console = Console::sign_in_admin(&s).await;
    let options = console.get("/admin/options").await;
    assert_eq!(options.status, 200);
    for p in &payloads {
        console
            .post_form(
                "/admin/options",
                &[("IPDISCOVER_BETTER_THRESHOLD", p), ("OCS_FILES_PATH", p)],
            )
            .await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!marker.exists(), "a command from request text ran");
}

fn file(name: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name(name.to_owned())
}

#[tokio::test]
async fn cve_2026_76174_uploads_are_judged_by_content_and_never_served_or_run() {
    let s = server(&[]);
    let console = Console::sign_in_admin(&s).await;
    let shell = b"<?php system($_GET['c']); ?>".to_vec();
    let inventory = inventory_xml(DEV, "<HARDWARE><NAME>uploaded</NAME></HARDWARE>").into_bytes();
    let form = Form::new()
        // A script with an inventory's name is refused for what it is.
        .part("file", file("inventory.ocs", shell.clone()))
        .part("file", file("subnets.csv", shell.clone()))
        // An inventory with a script's name is read for what it is, and stored as data.
        .part("file", file("shell.php", inventory));
    let answer = console.post_multipart("/admin/import", form).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body.matches("<li class=\"error\">").count(),
        2,
        "{}",
        answer.body
    );
    assert_eq!(
        answer.body.matches("<li class=\"ok\">").count(),
        1,
        "{}",
        answer.body
    );
    // Nothing uploaded is kept as a file, so nothing can be served or run.
    for path in [
        "/shell.php",
        "/inventory.ocs",
        "/upload/shell.php",
        "/ocsreports/upload/shell.php",
    ] {
        let a = s.request("GET", path, Vec::new(), &[]).await;
        assert!(
            !String::from_utf8_lossy(&a.body).contains("<?php"),
            "{path} served the upload"
        );
    }
    let kept: Vec<_> = walk(s.dir.path())
        .into_iter()
        .filter(|p| std::fs::read(p).is_ok_and(|b| b.windows(5).any(|w| w == b"<?php")))
        .collect();
    assert!(kept.is_empty(), "upload kept on disk: {kept:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if !path
            .extension()
            .is_some_and(|e| e == "db" || e == "db-wal" || e == "db-shm")
        {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn no_cve_the_api_is_closed_by_default() {
    // The original's REST API answers anyone unless the web server is told otherwise.
    let s = server(&[]);
    assert_eq!(
        s.send(&inventory_xml(
            DEV,
            "<HARDWARE><NAME>victim</NAME></HARDWARE>"
        ))
        .await
        .status,
        200
    );
    for path in ["/api/v1/computers", "/api/v1/computers/1"] {
        let a = s.request("GET", path, Vec::new(), &[]).await;
        assert_eq!(a.status, 401, "{path}");
        let a = s
            .request(
                "GET",
                path,
                Vec::new(),
                &[("Authorization", "Bearer not-a-token")],
            )
            .await;
        assert_eq!(a.status, 401, "{path}");
        assert!(!String::from_utf8_lossy(&a.body).contains("victim"));
    }
    let legacy = s
        .request("GET", "/ocsapi/v1/computers/listID", Vec::new(), &[])
        .await;
    assert!(!String::from_utf8_lossy(&legacy.body).contains("victim"));
}

#[tokio::test]
async fn no_cve_session_cookies_carry_their_flags() {
    let s = server(&[("OCS_AGENTS__TRUST_FORWARDED_FOR", "true")]);
    let login = s.request("GET", "/login", Vec::new(), &[]).await;
    let cookie = login.header("set-cookie").unwrap_or_default().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP cookie marked Secure: {cookie}"
    );
    // Behind a trusted HTTPS proxy (loopback by default), cookies are Secure.
    let cookie = cookie_behind_https_proxy(&s).await;
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[tokio::test]
async fn no_cve_forwarded_https_from_an_untrusted_peer_is_not_believed() {
    let s = server(&[
        ("OCS_AGENTS__TRUST_FORWARDED_FOR", "true"),
        ("OCS_AGENTS__TRUSTED_PROXIES", "[192.0.2.1]"),
    ]);
    let cookie = cookie_behind_https_proxy(&s).await;
    assert!(!cookie.contains("Secure"), "{cookie}");
}

/// The cookie of the sign-in page as a request that says it came through HTTPS gets it.
async fn cookie_behind_https_proxy(s: &ocs_testkit::TestServer) -> String {
    let proxied = s
        .request(
            "GET",
            "/login",
            Vec::new(),
            &[("X-Forwarded-Proto", "https")],
        )
        .await;
    proxied.header("set-cookie").unwrap_or_default().to_owned()
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_owned()
}
