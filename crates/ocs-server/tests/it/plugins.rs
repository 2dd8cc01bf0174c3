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

    s.send(&inventory_xml(DEV, &content(&["d.service"]))).await;
    s.cli_ok(&["computers", "delete", &id.0.to_string()]);
    let left = store(&s).await.remnants_of(id, DEV).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
}
