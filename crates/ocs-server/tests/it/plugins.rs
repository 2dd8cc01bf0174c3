//! Sections the catalogue does not know (an agent plugin's): kept as sent, shown on the
//! computer page and in the API, replaced by the next inventory, deleted with the computer.

use ocs_testkit::inventory_xml;

use crate::console::Console;
use crate::{host_id, server, store};

const DEV: &str = "plug-2024-01-01-00-00-00";

fn content(units: &[&str]) -> String {
    let mut c = "<HARDWARE><NAME>plug</NAME><OSNAME>Linux</OSNAME></HARDWARE>".to_owned();
    for u in units {
        c.push_str(&format!(
            "<FAILED_UNITS><NAME>{u}</NAME><ACTIVE>failed</ACTIVE><DESCRIPTION>&lt;b&gt;{u}&lt;/b&gt;</DESCRIPTION></FAILED_UNITS>"
        ));
    }
    c
}

#[tokio::test]
async fn an_undeclared_section_is_kept_and_shown() {
    let s = server(&[]);
    let token = s.token();
    assert_eq!(
        s.send(&inventory_xml(DEV, &content(&["a.service", "b.service"])))
            .await
            .status,
        200
    );
    let id = host_id(&s, DEV).await;
    let (status, computer) = s.api(&format!("/api/v1/computers/{}", id.0), &token).await;
    assert_eq!(status, 200);
    let units = &computer["undeclared_sections"]["FAILED_UNITS"];
    assert_eq!(units.as_array().map(Vec::len), Some(2), "{computer}");
    assert_eq!(units[0]["NAME"], "a.service");
    assert_eq!(units[1]["DESCRIPTION"], "<b>b.service</b>");

    let console = Console::sign_in_admin(&s).await;
    let page = console
        .get(&format!("/computers/{}?section=x-failed_units", id.0))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("id=\"sec-x-failed_units\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("FAILED_UNITS (undeclared section)"));
    assert!(page.body.contains("b.service"));
    assert!(!page.body.contains("<b>b.service"), "values are escaped");

    // The next inventory replaces the rows; one without the section removes them.
    s.send(&inventory_xml(DEV, &content(&["c.service"]))).await;
    let (_, computer) = s.api(&format!("/api/v1/computers/{}", id.0), &token).await;
    assert_eq!(
        computer["undeclared_sections"]["FAILED_UNITS"][0]["NAME"],
        "c.service"
    );
    s.send(&inventory_xml(DEV, &content(&[]))).await;
    let (_, computer) = s.api(&format!("/api/v1/computers/{}", id.0), &token).await;
    assert_eq!(computer["undeclared_sections"], serde_json::json!({}));

    // More rows than one statement binds (they are inserted in batches), in order.
    let many: Vec<String> = (0..500).map(|i| format!("u{i:03}.service")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    s.send(&inventory_xml(DEV, &content(&many))).await;
    let (_, computer) = s.api(&format!("/api/v1/computers/{}", id.0), &token).await;
    let units = computer["undeclared_sections"]["FAILED_UNITS"]
        .as_array()
        .unwrap();
    assert_eq!(units.len(), 500);
    assert_eq!(units[499]["NAME"], "u499.service");

    s.cli_ok(&["computers", "delete", &id.0.to_string()]);
    let left = store(&s).await.remnants_of(id, DEV).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
}

/// The repository's sample plugin, run by our agent, to the console: the end-to-end path a
/// site's own plugin takes.
#[tokio::test]
async fn the_sample_plugin_from_agent_to_console() {
    use std::os::unix::fs::PermissionsExt;

    let Some(agent) = crate::ipdiscover_scan::our_agent() else {
        return;
    };
    let s = server(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (plugins, bin, state) = (
        dir.path().join("plugins"),
        dir.path().join("bin"),
        dir.path().join("state"),
    );
    for d in [&plugins, &bin, &state] {
        std::fs::create_dir(d).unwrap();
    }
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ocs-agent/contrib/plugins/failed-units")
        .canonicalize()
        .unwrap();
    // This machine has no failed unit to show, and the agent gives plugins a fixed PATH: the
    // installed plugin runs the sample with a systemctl that says two units failed.
    let systemctl = bin.join("systemctl");
    std::fs::write(
        &systemctl,
        "#!/bin/sh\nprintf '%s\\n' 'nginx.service loaded failed failed Web server' 'backup.timer loaded failed failed Nightly backup'\n",
    )
    .unwrap();
    let installed = plugins.join("failed-units");
    std::fs::write(
        &installed,
        format!(
            "#!/bin/sh\nPATH={}:$PATH exec {}\n",
            bin.display(),
            sample.display()
        ),
    )
    .unwrap();
    for f in [installed, systemctl] {
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = std::process::Command::new(&agent)
        .env("OCS_AGENT_CONFIG", "/dev/null")
        .env_remove("OCS_AGENT_LOG")
        .args(["--server", &s.agent_url(), "--nosoft", "--plugins-dir"])
        .arg(&plugins)
        .arg("--state-dir")
        .arg(&state)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    let token = s.token();
    let (_, list) = s.api("/api/v1/computers", &token).await;
    let id = list["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{list}"));
    let (_, computer) = s.api(&format!("/api/v1/computers/{id}"), &token).await;
    let units = &computer["undeclared_sections"]["FAILED_UNITS"];
    assert_eq!(units.as_array().map(Vec::len), Some(2), "{computer}");
    assert_eq!(units[0]["NAME"], "nginx.service");
    assert_eq!(units[1]["DESCRIPTION"], "Nightly backup");
    let console = Console::sign_in_admin(&s).await;
    let page = console
        .get(&format!("/computers/{id}?section=x-failed_units"))
        .await;
    assert!(page.body.contains("backup.timer"), "{}", page.body);
}
