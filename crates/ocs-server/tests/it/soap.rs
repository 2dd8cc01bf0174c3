//! The SOAP web service (`/ocsinterface`) driven by the original's own client,
//! `soap-client.pl` from Debian's `ocsinventory-server`, run with Perl and SOAP::Lite: one
//! call per method, on computers sent by real agents. The client wants `XML::Entities`,
//! which Debian lacks, so a copy patched to use `HTML::Entities` runs (and its
//! `defined(@params)`, fatal in today's Perl, is made `@params`). Under `CI=true` a missing
//! Perl module fails the test instead of skipping it.

use std::path::{Path, PathBuf};
use std::process::Command;

use ocs_testkit::{fixture, inventory_xml, TestServer};

use ocs_storage::DeviceSetting;

use crate::{host_id, server, store};

const CLIENT: &str = "/usr/share/ocsinventory-server/binutils/soap-client.pl";
const ADMIN: (&str, &str) = ("soapadmin", "a-long-soap-phrase-1");
const READER: (&str, &str) = ("soapreader", "a-long-soap-phrase-2");

/// The patched client in `dir`, or `None` (skipped) when Perl, SOAP::Lite, HTML::Entities
/// or the original client is missing.
fn client(dir: &Path) -> Option<PathBuf> {
    let modules = Command::new("perl")
        .args(["-MSOAP::Lite", "-MHTML::Entities", "-e1"])
        .output();
    let missing = match (&modules, std::fs::read_to_string(CLIENT)) {
        (Ok(out), Ok(_)) if out.status.success() => None,
        (Ok(out), Ok(_)) => Some(format!(
            "perl lacks SOAP::Lite or HTML::Entities: {}",
            String::from_utf8_lossy(&out.stderr)
        )),
        (Err(e), _) => Some(format!("perl does not run: {e}")),
        (_, Err(e)) => Some(format!("{CLIENT}: {e}")),
    };
    if let Some(why) = missing {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{why}; the test command installs them (apt-get install perl libsoap-lite-perl libhtml-parser-perl ocsinventory-server)");
        }
        eprintln!("SKIPPED: {why} (run the README's test command to install them)");
        return None;
    }
    let original = std::fs::read_to_string(CLIENT).unwrap();
    let patched = original
        .replace("use XML::Entities;", "use HTML::Entities;")
        .replace("XML::Entities::decode( 'all', ", "HTML::Entities::decode( ")
        .replace("defined(@params)", "@params");
    assert!(
        !patched.contains("XML::Entities"),
        "the client changed: patch it anew"
    );
    let path = dir.join("soap-client.pl");
    std::fs::write(&path, patched).unwrap();
    Some(path)
}

/// One run of the client.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The `===== RESULT n =====` values, in order.
    fn results(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for part in self.stdout.split("===== RESULT ").skip(1) {
            let value = part.split_once(" ===== \n").map_or("", |(_, v)| v);
            // The client prints a newline after each value.
            out.push(value.strip_suffix('\n').unwrap_or(value).to_owned());
        }
        out
    }

    /// The one value of a call answering one.
    fn value(&self) -> String {
        let results = self.results();
        assert_eq!(
            results.len(),
            1,
            "one value: {}\n{}",
            self.stdout,
            self.stderr
        );
        results[0].clone()
    }

    /// The fault's reason, if the call answered one.
    fn fault(&self) -> Option<String> {
        let (_, rest) = self.stdout.split_once("ERROR:\n\n")?;
        Some(rest.split_once("\nEND").map_or(rest, |(f, _)| f).to_owned())
    }
}

struct Soap {
    client: PathBuf,
    host: String,
}

impl Soap {
    fn new(client: PathBuf, s: &TestServer) -> Soap {
        let url = s.agent_url();
        let host = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        Soap { client, host }
    }

    /// `soap-client.pl -f=method [-params=…] extra…` as `account`.
    fn call(
        &self,
        account: Option<(&str, &str)>,
        method: &str,
        params: Option<&str>,
        extra: &[&str],
    ) -> Run {
        let mut cmd = Command::new("perl");
        cmd.arg(&self.client)
            .arg(format!("-s={}", self.host))
            .arg(format!("-f={method}"));
        if let Some((user, password)) = account {
            cmd.arg(format!("-u={user}")).arg(format!("-pw={password}"));
        }
        if let Some(p) = params {
            cmd.arg(format!("-params={p}"));
        }
        cmd.args(extra);
        let out = cmd.output().expect("perl runs");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn admin(&self, method: &str, params: Option<&str>) -> Run {
        let run = self.call(Some(ADMIN), method, params, &[]);
        assert!(run.ok, "{method}: {}\n{}", run.stdout, run.stderr);
        run
    }
}

fn error(code: &str) -> String {
    format!("<RESULT>\n  <ERROR>{code}</ERROR>\n</RESULT>\n")
}

fn add_account(s: &TestServer, (login, password): (&str, &str), role: &str) {
    let out = s
        .cli_with_stdin(
            &[
                "users",
                "add",
                login,
                "--role",
                role,
                "--web-services",
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// The value of `<NAME>…</NAME>` in a document.
fn field<'a>(doc: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = doc.find(&open)? + open.len();
    let end = doc[start..].find(&format!("</{name}>"))? + start;
    Some(&doc[start..end])
}

/// A small inventory with a TAG and a CHECKSUM.
fn tagged(deviceid: &str, name: &str, tag: &str, checksum: u64) -> String {
    inventory_xml(
        deviceid,
        &format!(
            "<HARDWARE><NAME>{name}</NAME><OSNAME>Linux</OSNAME><CHECKSUM>{checksum}</CHECKSUM></HARDWARE>\
             <ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{tag}</KEYVALUE></ACCOUNTINFO>\
             <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>02:00:00:00:00:{:02x}</MACADDR><IPADDRESS>192.0.2.{}</IPADDRESS></NETWORKS>",
            checksum % 256,
            checksum % 250 + 1
        ),
    )
}

#[tokio::test]
async fn soap_client_calls_every_method() {
    let dir = tempfile::tempdir().unwrap();
    let Some(client) = client(dir.path()) else {
        return;
    };
    let s = server(&[]);
    let soap = Soap::new(client, &s);
    add_account(&s, ADMIN, "administrator");
    add_account(&s, READER, "user");

    // Off by default: a fault saying how to turn it on.
    let off = soap.call(Some(ADMIN), "get_history_V1", Some("0"), &[]);
    let why = off
        .fault()
        .unwrap_or_else(|| panic!("{}\n{}", off.stdout, off.stderr));
    assert!(why.contains("WEB_SERVICE_ENABLED"), "{why}");
    s.set_option("WEB_SERVICE_ENABLED", "1");
    s.set_option("WEB_SERVICE_RESULTS_LIMIT", "2");

    // Without credentials, or with wrong ones: 401, as Apache answered.
    let anonymous = soap.call(None, "get_history_V1", Some("0"), &[]);
    assert!(
        !anonymous.ok && anonymous.stderr.contains("401"),
        "{}\n{}",
        anonymous.stdout,
        anonymous.stderr
    );
    let wrong = soap.call(
        Some((ADMIN.0, "not-the-password")),
        "get_history_V1",
        Some("0"),
        &[],
    );
    assert!(
        !wrong.ok && wrong.stderr.contains("401"),
        "{}",
        wrong.stderr
    );

    // Software is placed in a category (its dictionary word) as it arrives.
    let db = store(&s).await;
    let office = db.create_software_category("Office", "ALL").await.unwrap();
    s.set_option("DEFAULT_CATEGORY", &office.to_string());

    // The computers: the real agent's inventory, and three tagged ones.
    let real = String::from_utf8(fixture("ocs-agent/02-INVENTORY-request.xml")).unwrap();
    assert_eq!(s.send(&real).await.status, 200);
    let real_id = {
        let inv = crate::read_inventory(real.as_bytes());
        host_id(&s, &inv.deviceid).await.0
    };
    for (deviceid, name, tag, checksum) in [
        (
            "paris-1-2024-01-01-00-00-01",
            "paris-1",
            "PARIS",
            1u64 | 4096,
        ),
        ("paris-2-2024-01-01-00-00-02", "paris-2", "PARIS", 1),
        ("lyon-1-2024-01-01-00-00-03", "lyon-1", "LYON", 4096),
    ] {
        assert_eq!(
            s.send(&tagged(deviceid, name, tag, checksum)).await.status,
            200
        );
    }
    let paris1 = host_id(&s, "paris-1-2024-01-01-00-00-01").await.0;
    let paris2 = host_id(&s, "paris-2-2024-01-01-00-00-02").await.0;
    let lyon1 = host_id(&s, "lyon-1-2024-01-01-00-00-03").await.0;
    let ids = |values: &[String]| -> Vec<i64> {
        values
            .iter()
            .filter_map(|v| field(v, "DATABASEID"))
            .map(|id| id.parse().unwrap())
            .collect()
    };

    // get_computers_V1, the client's own META request: pages of WEB_SERVICE_RESULTS_LIMIT.
    let meta = soap.admin("get_computers_V1", None).results();
    assert_eq!(meta.first().map(String::as_str), Some("<COMPUTERS>\n"));
    assert_eq!(meta.last().map(String::as_str), Some("</COMPUTERS>\n"));
    assert_eq!(ids(&meta), [real_id, paris1], "{meta:?}");
    assert_eq!(field(&meta[2], "NAME"), Some("paris-1"));
    assert_eq!(field(&meta[2], "TAG"), Some("PARIS"));
    assert_eq!(field(&meta[2], "CHECKSUM"), Some("4097"));
    assert_eq!(
        field(&meta[2], "DEVICEID"),
        Some("paris-1-2024-01-01-00-00-01")
    );
    assert!(field(&meta[2], "LASTDATE").is_some_and(|d| d.len() == 19 && d.as_bytes()[10] == b' '));
    let page2 = soap.call(Some(ADMIN), "get_computers_V1", None, &["-o=1"]);
    assert_eq!(ids(&page2.results()), [paris2, lyon1], "{}", page2.stdout);
    let page3 = soap.call(Some(ADMIN), "get_computers_V1", None, &["-o=2"]);
    assert_eq!(page3.results(), ["<COMPUTERS>\n", "</COMPUTERS>\n"]);
    // An account without the administrator role reads too.
    let read = soap.call(Some(READER), "get_computers_V1", None, &[]);
    assert_eq!(ids(&read.results()), [real_id, paris1], "{}", read.stdout);

    // CHECKSUM filters (stored CHECKSUM & n) and picks the sections; WANTED=0: no extras.
    let networks = soap
        .call(
            Some(ADMIN),
            "get_computers_V1",
            None,
            &["-t=INVENTORY", "-c=4096", "-w=0"],
        )
        .results();
    assert_eq!(networks.len(), 4, "{networks:?}");
    let real_doc = &networks[1];
    let p1 = &networks[2];
    assert!(p1.starts_with("<COMPUTER>\n  <NETWORKS>\n"), "{p1}");
    assert!(p1.contains("<MACADDR>02:00:00:00:00:01</MACADDR>"), "{p1}");
    assert!(
        !p1.contains("<HARDWARE>") && !p1.contains("<ACCOUNTINFO>"),
        "{p1}"
    );
    assert_eq!(
        real_doc.matches("<NETWORKS>").count(),
        real.matches("<NETWORKS>").count()
    );
    assert!(
        real_doc.contains("<MACADDR>f6:14:46:46:7e:00</MACADDR>"),
        "{real_doc}"
    );
    let lyon_too = soap
        .call(
            Some(ADMIN),
            "get_computers_V1",
            None,
            &["-t=INVENTORY", "-c=4096", "-w=0", "-o=1"],
        )
        .results();
    assert_eq!(
        lyon_too.len(),
        3,
        "paris-2 has no NETWORKS bit: {lyon_too:?}"
    );
    assert!(
        lyon_too[1].contains("<MACADDR>02:00:00:00:00:00</MACADDR>"),
        "{lyon_too:?}"
    );

    // One computer's whole inventory, by ID, with its administrative data and words.
    let request = format!(
        "<REQUEST><ENGINE>FIRST</ENGINE><ASKING_FOR>INVENTORY</ASKING_FOR><ID>{real_id}</ID><WANTED>3</WANTED></REQUEST>"
    );
    let whole = soap.admin("get_computers_V1", Some(&request)).results();
    assert_eq!(whole.len(), 3, "{whole:?}");
    let doc = &whole[1];
    for section in ["CONTROLLERS", "NETWORKS", "DRIVES", "STORAGES", "SOFTWARES"] {
        let tag = format!("<{section}>");
        assert!(real.contains(&tag), "{section} in the capture");
        assert_eq!(
            doc.matches(&tag).count(),
            real.matches(&tag).count(),
            "{section}"
        );
    }
    assert!(
        doc.contains("<HARDWARE>") && doc.contains("<NAME>vm</NAME>"),
        "{doc}"
    );
    assert!(doc.contains("<NAME>adduser</NAME>"), "software names");
    assert!(doc.contains("<ENTRY Name=\"TAG\">NA</ENTRY>"), "{doc}");
    assert!(
        doc.contains("<DICO_SOFT>\n    <WORD>Office</WORD>\n  </DICO_SOFT>"),
        "{doc}"
    );

    // TAG and EXCLUDE_TAG, EXCLUDE_ID, BEGIN, USERID.
    let by = |request: &str| ids(&soap.admin("get_computers_V1", Some(request)).results());
    assert_eq!(
        by("<REQUEST><ASKING_FOR>META</ASKING_FOR><TAG>PARIS</TAG></REQUEST>"),
        [paris1, paris2]
    );
    assert_eq!(
        by("<REQUEST><ASKING_FOR>META</ASKING_FOR><TAG>LYON</TAG><TAG>NA</TAG></REQUEST>"),
        [real_id, lyon1]
    );
    assert_eq!(
        by("<REQUEST><ASKING_FOR>META</ASKING_FOR><EXCLUDE_TAG>PARIS</EXCLUDE_TAG></REQUEST>"),
        [real_id, lyon1]
    );
    assert_eq!(
        by(&format!("<REQUEST><ASKING_FOR>META</ASKING_FOR><EXCLUDE_ID>{real_id}</EXCLUDE_ID><EXCLUDE_ID>{paris1}</EXCLUDE_ID></REQUEST>")),
        [paris2, lyon1]
    );
    assert_eq!(
        by("<REQUEST><ASKING_FOR>META</ASKING_FOR><BEGIN>3</BEGIN></REQUEST>"),
        [lyon1]
    );
    assert_eq!(
        by("<REQUEST><ASKING_FOR>META</ASKING_FOR><SORT_BY>ID</SORT_BY><SORT_DIR>DESC</SORT_DIR></REQUEST>"),
        [lyon1, paris2]
    );
    assert!(
        by("<REQUEST><ASKING_FOR>META</ASKING_FOR><USERID>nobody</USERID></REQUEST>").is_empty()
    );

    // The original's error values, and faults for requests it could not run.
    for (request, code) in [
        ("<REQUEST><OFFSET>x</OFFSET></REQUEST>", "BAD_OFFSET"),
        ("<REQUEST><BEGIN>-1</BEGIN></REQUEST>", "BAD_BEGIN_VALUE"),
        (
            "<REQUEST><CHECKSUM>abc</CHECKSUM></REQUEST>",
            "BAD_CHECKSUM",
        ),
    ] {
        assert_eq!(
            soap.admin("get_computers_V1", Some(request)).value(),
            error(code),
            "{request}"
        );
    }
    for (request, reason) in [
        (
            "<REQUEST><TAG>A</TAG><EXCLUDE_TAG>B</EXCLUDE_TAG></REQUEST>",
            "BAD_REQUEST",
        ),
        (
            "<REQUEST><ID>1</ID><EXCLUDE_ID>2</EXCLUDE_ID></REQUEST>",
            "BAD_REQUEST",
        ),
        (
            "<REQUEST><ASKING_FOR>EVERYTHING</ASKING_FOR></REQUEST>",
            "ASKING_FOR",
        ),
        ("<REQUEST><ID>1</REQUEST>", "malformed request document"),
    ] {
        let run = soap.call(Some(ADMIN), "get_computers_V1", Some(request), &[]);
        let fault = run
            .fault()
            .unwrap_or_else(|| panic!("{request}: {}", run.stdout));
        assert!(fault.contains(reason), "{request}: {fault}");
    }
    let unknown = soap.call(Some(ADMIN), "get_everything_V9", Some("1"), &[]);
    assert!(
        unknown.fault().is_some_and(|f| f.contains("no method")),
        "{}",
        unknown.stdout
    );

    // get_dico_soft_element_V1: a name's word, or undef.
    assert_eq!(
        soap.admin("get_dico_soft_element_V1", Some("adduser"))
            .value(),
        "Office"
    );
    let none = soap.admin("get_dico_soft_element_V1", Some("no-such-software"));
    assert_eq!(none.value(), "", "undef: {}", none.stdout);

    // reset_checksum_V1: what sync tools do after reading; CHECKSUM filtering sees it.
    let forbidden = soap.call(
        Some(READER),
        "reset_checksum_V1",
        Some(&format!("0,{paris1}")),
        &[],
    );
    assert!(
        forbidden
            .fault()
            .is_some_and(|f| f.contains("administrator")),
        "{}",
        forbidden.stdout
    );
    assert_eq!(
        soap.admin("reset_checksum_V1", Some(&format!("0,{paris1},{lyon1}")))
            .value(),
        "2"
    );
    let left = soap
        .call(Some(ADMIN), "get_computers_V1", None, &["-c=4096", "-o=0"])
        .results();
    assert_eq!(ids(&left), [real_id], "{left:?}");
    assert_eq!(
        soap.admin("reset_checksum_V1", Some("x,1")).value(),
        error("BAD_CHECKSUM")
    );
    assert_eq!(
        soap.admin("reset_checksum_V1", Some("0,1,x")).value(),
        error("BAD_ID")
    );

    // ocs_config_V1 / V2: read, write (validated), refusals.
    assert_eq!(
        soap.admin("ocs_config_V1", Some("PROLOG_FREQ")).value(),
        "24"
    );
    assert_eq!(
        soap.admin("ocs_config_V1", Some("PROLOG_FREQ,12")).value(),
        "12"
    );
    assert_eq!(
        soap.admin("ocs_config_V1", Some("PROLOG_FREQ,many"))
            .value(),
        error("VALUE_NOT_VALID")
    );
    assert_eq!(
        soap.admin("ocs_config_V1", Some("PROLOG-FREQ")).value(),
        error("BAD_KEY")
    );
    assert_eq!(
        soap.admin("ocs_config_V1", Some("NO_SUCH_OPTION")).value(),
        error("KEY_NOT_SUPPORTED")
    );
    assert_eq!(
        soap.admin("ocs_config_V2", Some("PROLOG_FREQ")).value(),
        "<RESULT>\n  <IVALUE>12</IVALUE>\n  <TVALUE></TVALUE>\n</RESULT>\n"
    );
    assert_eq!(
        soap.admin("ocs_config_V2", Some("OCS_FILES_FORMAT,,XML"))
            .value(),
        "<RESULT>\n  <IVALUE></IVALUE>\n  <TVALUE>XML</TVALUE>\n</RESULT>\n"
    );
    assert_eq!(
        soap.admin("ocs_config_V2", Some("OCS_FILES_FORMAT,,JSON"))
            .value(),
        error("VALUE_NOT_VALID")
    );
    let config_forbidden = soap.call(Some(READER), "ocs_config_V1", Some("PROLOG_FREQ,5"), &[]);
    assert!(
        config_forbidden.fault().is_some(),
        "{}",
        config_forbidden.stdout
    );
    assert_eq!(
        soap.call(Some(READER), "ocs_config_V1", Some("PROLOG_FREQ"), &[])
            .value(),
        "12"
    );

    // delete_computers_by_id_V1 and the history it leaves (TRACE_DELETED).
    s.set_option("TRACE_DELETED", "1");
    assert_eq!(
        soap.admin("delete_computers_by_id_V1", Some("1,x")).value(),
        error("BAD_ID")
    );
    assert_eq!(
        soap.admin(
            "delete_computers_by_id_V1",
            Some(&format!("{lyon1},{paris2}"))
        )
        .value(),
        "OK"
    );
    assert_eq!(
        by("<REQUEST><ASKING_FOR>META</ASKING_FOR></REQUEST>"),
        [real_id, paris1]
    );
    let history = soap.admin("get_history_V1", Some("0")).value();
    assert_eq!(history.matches("<EVENT>").count(), 2, "{history}");
    // The console's deletions record the database ID, as the original's console did.
    assert!(
        history.contains(&format!("<DELETED>{lyon1}</DELETED>")),
        "{history}"
    );
    assert!(
        history.contains(&format!("<DELETED>{paris2}</DELETED>")),
        "{history}"
    );
    assert!(history.contains("<EQUIVALENT></EQUIVALENT>"), "{history}");
    assert_eq!(
        soap.admin("get_history_V1", Some("1")).value(),
        "<EVENTS></EVENTS>\n"
    );
    assert_eq!(
        soap.admin("get_history_V1", Some("x")).value(),
        error("BAD_OFFSET")
    );
    assert_eq!(
        soap.admin("clear_history_V1", Some("x")).value(),
        error("BAD_OFFSET")
    );
    assert_eq!(soap.admin("clear_history_V1", Some("1")).value(), "1");
    assert_eq!(
        soap.admin("get_history_V1", Some("0"))
            .value()
            .matches("<EVENT>")
            .count(),
        1
    );
    assert_eq!(soap.admin("clear_history_V1", Some("5")).value(), "1");
    assert_eq!(
        soap.admin("get_history_V1", Some("0")).value(),
        "<EVENTS></EVENTS>\n"
    );

    // IP discovery: a scanner's results, then identified devices and their types.
    let scanner = ipdiscover_scan(&s).await;
    let all = soap
        .admin("get_ipdiscover_devices_V1", Some("2000-01-01,0,0"))
        .value();
    assert_eq!(all.matches("<IFACE>").count(), 2, "{all}");
    assert!(
        all.contains("<MAC>3c:52:82:aa:bb:cc</MAC>") && all.contains("<IP>192.0.2.77</IP>"),
        "{all}"
    );
    assert!(all.contains("<NAME>printer.example</NAME>"), "{all}");
    let unknown_only = soap
        .admin("get_ipdiscover_devices_V1", Some("2000-01-01 00:00:00,0,1"))
        .value();
    assert_eq!(
        unknown_only.matches("<IFACE>").count(),
        1,
        "the scanner's own MAC is inventoried: {unknown_only}"
    );
    assert_eq!(
        soap.admin("get_ipdiscover_devices_V1", Some("2999-01-01,0,0"))
            .value(),
        "<RESULT></RESULT>\n"
    );
    assert_eq!(
        soap.admin("get_ipdiscover_devices_V1", Some("2000-1-1,0"))
            .value(),
        error("BAD_DATE")
    );
    assert_eq!(
        soap.admin("get_ipdiscover_devices_V1", Some("2000-01-01,x"))
            .value(),
        error("BAD_OFFSET")
    );
    assert_eq!(
        soap.admin("get_ipdiscover_devices_V1", Some("2000-01-01,0,2"))
            .value(),
        error("BAD_THIRD_PARAMETER")
    );
    assert_eq!(
        soap.admin("ipdiscover_create_type_V1", Some("Printer"))
            .value(),
        "1"
    );
    assert_eq!(
        soap.admin("ipdiscover_create_type_V1", Some("Printer"))
            .value(),
        "0"
    );
    let printer = "3C:52:82:AA:BB:CC";
    assert_eq!(
        soap.admin(
            "ipdiscover_tag_V1",
            Some(&format!("{printer},Hall printer,Scanner,{}", ADMIN.0))
        )
        .value(),
        error("BAD_TYPE")
    );
    assert_eq!(
        soap.admin(
            "ipdiscover_tag_V1",
            Some(&format!("{printer},Hall printer,Printer,nobody"))
        )
        .value(),
        error("BAD_USER")
    );
    assert_eq!(
        soap.admin("ipdiscover_tag_V1", Some("3C:52:82,Hall,Printer,x"))
            .value(),
        error("BAD_MAC")
    );
    assert_eq!(
        soap.admin(
            "ipdiscover_tag_V1",
            Some(&format!("{printer},Hall printer,Printer,{}", ADMIN.0))
        )
        .value(),
        "1"
    );
    let device = db
        .find_identified_device("3c:52:82:aa:bb:cc")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (device.description.as_str(), device.device_type.as_str()),
        ("Hall printer", "Printer")
    );
    assert_eq!(
        soap.admin("get_ipdiscover_devices_V1", Some("2000-01-01,0,1"))
            .value(),
        "<RESULT></RESULT>\n",
        "an identified device is no longer unknown"
    );
    let in_use = soap.call(
        Some(ADMIN),
        "ipdiscover_delete_type_V1",
        Some("Printer"),
        &[],
    );
    assert!(
        in_use
            .fault()
            .is_some_and(|f| f.contains("identified devices")),
        "{}",
        in_use.stdout
    );
    assert_eq!(
        soap.admin("ipdiscover_untag_V1", Some(printer)).value(),
        "1"
    );
    assert_eq!(
        soap.admin("ipdiscover_remove_V1", Some(printer)).value(),
        "0"
    );
    assert_eq!(
        soap.admin("ipdiscover_untag_V1", Some("nope")).value(),
        error("BAD_MAC")
    );
    assert_eq!(
        soap.admin("ipdiscover_delete_type_V1", Some("Printer"))
            .value(),
        "1"
    );
    assert_eq!(
        soap.admin("ipdiscover_delete_type_V1", Some("Printer"))
            .value(),
        "0"
    );
    assert!(scanner > 0);

    // get_snmp_V1: the legacy SNMP tables are gone, as in the original since 2.7.
    let snmp = soap
        .admin("get_snmp_V1", Some("<REQUEST><OFFSET>0</OFFSET></REQUEST>"))
        .results();
    assert_eq!(snmp, ["<SNMP_DEVICES>\n", "</SNMP_DEVICES>\n"]);
    assert_eq!(
        soap.admin("get_snmp_V1", Some("<REQUEST><OFFSET>-</OFFSET></REQUEST>"))
            .value(),
        error("BAD_OFFSET")
    );

    // Turned off again: every call is refused.
    s.set_option("WEB_SERVICE_ENABLED", "0");
    let off = soap.call(Some(ADMIN), "get_computers_V1", None, &[]);
    assert!(
        off.fault()
            .is_some_and(|f| f.contains("WEB_SERVICE_ENABLED")),
        "{}",
        off.stdout
    );
}

/// A scanner elected on 192.0.2.0/24 that found itself and a printer; its ID.
async fn ipdiscover_scan(s: &TestServer) -> i64 {
    const SCANNER: &str = "scanner-2024-03-05-09-12-44";
    let first = "<HARDWARE><NAME>SCANNER-1</NAME><OSNAME>Debian</OSNAME><IPADDR>192.0.2.5</IPADDR></HARDWARE>\
         <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>00:0C:29:0A:00:05</MACADDR><STATUS>Up</STATUS>\
         <IPADDRESS>192.0.2.5</IPADDRESS><IPMASK>255.255.255.0</IPMASK><IPSUBNET>192.0.2.0</IPSUBNET></NETWORKS>";
    assert_eq!(s.send(&inventory_xml(SCANNER, first)).await.status, 200);
    let id = host_id(s, SCANNER).await;
    store(s)
        .await
        .set_device_setting(
            id,
            &DeviceSetting {
                name: "IPDISCOVER".into(),
                ivalue: Some(2),
                tvalue: Some("192.0.2.0".into()),
            },
        )
        .await
        .unwrap();
    let with_results = format!(
        "{first}<IPDISCOVER>\
         <H><I>192.0.2.5</I><M>00:0c:29:0a:00:05</M><N>scanner-1.example</N></H>\
         <H><I>192.0.2.77</I><M>3c:52:82:aa:bb:cc</M><N>printer.example</N></H>\
         </IPDISCOVER>"
    );
    assert_eq!(
        s.send(&inventory_xml(SCANNER, &with_results)).await.status,
        200
    );
    id.0
}

/// The envelope itself: what is not a SOAP call, and a body over the limit, are refused
/// with a reason, before any method runs.
#[tokio::test]
async fn soap_envelopes_are_checked() {
    let s = server(&[("OCS_OPT_WEB_SERVICE_ENABLED", "1")]);
    add_account(&s, ADMIN, "administrator");
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", ADMIN.0, ADMIN.1)
        )
    );
    let post = |body: Vec<u8>| {
        let basic = basic.clone();
        let s = &s;
        async move {
            s.request(
                "POST",
                "/ocsinterface",
                body,
                &[
                    ("Authorization", basic.as_str()),
                    ("Content-Type", "text/xml"),
                ],
            )
            .await
        }
    };
    let garbage = post(b"<not-soap".to_vec()).await;
    assert_eq!(garbage.status, 500);
    let text = String::from_utf8_lossy(&garbage.body).into_owned();
    assert!(
        text.contains("<faultcode>soap:Client</faultcode>") && text.contains("not a SOAP call"),
        "{text}"
    );
    let doctype = post(b"<!DOCTYPE x [<!ENTITY a \"b\">]><Envelope><Body><get_history_V1><a>0</a></get_history_V1></Body></Envelope>".to_vec()).await;
    assert!(String::from_utf8_lossy(&doctype.body).contains("DOCTYPE"));
    let huge = post(vec![b' '; 2 << 20]).await;
    assert_eq!(huge.status, 413);
    assert!(String::from_utf8_lossy(&huge.body).contains("larger than"));
    let ok = post(
        b"<Envelope><Body><get_history_V1 xmlns=\"urn:t\"><a>0</a></get_history_V1></Body></Envelope>".to_vec(),
    )
    .await;
    assert_eq!(ok.status, 200);
    let text = String::from_utf8_lossy(&ok.body).into_owned();
    assert!(text.contains("<get_history_V1Response xmlns=\"urn:t\"><result xsi:type=\"xsd:string\">&lt;EVENTS&gt;&lt;/EVENTS&gt;\n</result>"), "{text}");
    let anonymous = s
        .request("POST", "/ocsinterface", b"<x/>".to_vec(), &[])
        .await;
    assert_eq!(anonymous.status, 401);
    assert!(anonymous
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Basic")));
}
