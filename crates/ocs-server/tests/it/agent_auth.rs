//! Agent authenticity (`[agents.auth]`): HTTP Basic on `/ocsinventory`, the real Debian agent
//! answering the challenge, device binding (a second credential can neither replace, merge,
//! take over nor NOTIFY a bound device), and API token checks that never write.

use base64::Engine;
use ocs_storage::{HostId, Store};
use ocs_testkit::{inventory_xml, prolog_xml, zlib, Answer, TestServer, OCS_UA};

use crate::real_agents::agent;
use crate::{host_id, server, store};

const DEV: &str = "pc1-2024-03-05-09-12-44";
const REQUIRED: (&str, &str) = ("OCS_AGENTS__AUTH__REQUIRED", "true");
const REALM: (&str, &str) = ("OCS_AGENTS__AUTH__REALM", "OCS test realm");
const BIND: (&str, &str) = ("OCS_AGENTS__AUTH__BIND_DEVICES", "true");

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// POSTs a zlib document as the OCS agent does, with an `Authorization` header if given.
async fn send_as(s: &TestServer, xml: &str, authorization: Option<&str>) -> Answer {
    let mut headers = vec![
        ("User-Agent", OCS_UA),
        ("Content-Type", "application/x-compress"),
    ];
    if let Some(a) = authorization {
        headers.push(("Authorization", a));
    }
    s.request("POST", "/ocsinventory", zlib(xml.as_bytes()), &headers)
        .await
}

/// `ocs-server agent-user add NAME --password-file FILE`.
fn add_user(s: &TestServer, name: &str, password: &str) {
    let file = s.dir.path().join(format!("{name}.password"));
    std::fs::write(&file, format!("{password}\n")).unwrap();
    let out = s
        .cli(&[
            "agent-user",
            "add",
            name,
            "--password-file",
            file.to_str().unwrap(),
        ])
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

fn device(name: &str, serial: &str, mac: &str) -> String {
    format!(
        "<HARDWARE><NAME>{name}</NAME><OSNAME>Debian</OSNAME><MEMORY>2048</MEMORY></HARDWARE>\
         <BIOS><SSN>{serial}</SSN><SMODEL>X1</SMODEL></BIOS>\
         <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>{mac}</MACADDR><IPADDRESS>10.1.2.3</IPADDRESS><STATUS>Up</STATUS></NETWORKS>\
         <ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>PARIS</KEYVALUE></ACCOUNTINFO>"
    )
}

fn notify(deviceid: &str) -> String {
    format!(
        "<REQUEST><DEVICEID>{deviceid}</DEVICEID><CONTENT/><QUERY>NOTIFY</QUERY><TYPE>IP</TYPE>\
         <HARDWARE><NAME>pc1</NAME><IPADDR>10.9.9.9</IPADDR></HARDWARE>\
         <IFACE><MAC>00:11:22:33:44:55</MAC><IP>10.9.9.9</IP><MASK>255.255.255.0</MASK><GW>10.9.9.1</GW><SUBNET>10.9.9.0</SUBNET></IFACE></REQUEST>"
    )
}

/// Everything stored of a device, for before/after comparisons.
async fn snapshot(db: &Store, id: HostId) -> String {
    format!("{:?}", db.get_host(id).await.unwrap())
}

#[tokio::test]
async fn agents_must_authenticate_and_refused_requests_store_nothing() {
    let s = server(&[REQUIRED, REALM]);
    add_user(&s, "paris", "paris-secret-1");
    let inventory = inventory_xml(DEV, &device("pc1", "SN-1", "00:11:22:33:44:55"));

    for xml in [&inventory, &prolog_xml(DEV)] {
        let a = send_as(&s, xml, None).await;
        assert_eq!(a.status, 401);
        assert_eq!(
            a.header("www-authenticate"),
            Some("Basic realm=\"OCS test realm\"")
        );
    }
    for authorization in [
        basic("paris", "wrong-password"),
        basic("nobody", "paris-secret-1"),
        basic("paris", ""),
        "Basic !!!not-base64".to_owned(),
        "Bearer ocs_token".to_owned(),
    ] {
        let a = send_as(&s, &inventory, Some(&authorization)).await;
        assert_eq!(a.status, 401, "{authorization}");
        assert!(a.header("www-authenticate").is_some());
    }
    let db = store(&s).await;
    assert_eq!(db.count_hosts().await.unwrap(), 0, "nothing stored");
    assert_eq!(db.count_prolog_sessions().await.unwrap(), 0);

    let good = basic("paris", "paris-secret-1");
    assert_eq!(send_as(&s, &prolog_xml(DEV), Some(&good)).await.status, 200);
    assert_eq!(send_as(&s, &inventory, Some(&good)).await.status, 200);
    assert_eq!(
        send_as(&s, &inventory, Some(&good)).await.status,
        200,
        "remembered credentials"
    );
    host_id(&s, DEV).await;

    let log = s.log();
    assert!(log.contains("agent authentication failed"), "{log}");
    assert!(log.contains("nobody"), "failures name the user");
    assert!(
        !log.contains("wrong-password") && !log.contains("paris-secret-1"),
        "passwords are never logged"
    );
}

#[tokio::test]
async fn debian_agent_answers_the_challenge_with_user_password_and_realm() {
    let Some(agent) = agent("ocsinventory-agent") else {
        return;
    };
    let s = server(&[REQUIRED, REALM]);
    add_user(&s, "fleet", "fleet-secret-1");
    let vardir = tempfile::tempdir().unwrap();
    let run = |extra: &[String]| {
        let mut c = tokio::process::Command::new(&agent);
        c.args(["--server", &s.agent_url(), "--nolocal", "--basevardir"])
            .arg(vardir.path())
            .args(extra);
        c
    };
    // Without credentials the agent gets the challenge and stores nothing.
    let _ = run(&[]).output().await.unwrap();
    assert_eq!(store(&s).await.count_hosts().await.unwrap(), 0);

    // The Debian agent base64-decodes --user and --password before use.
    let out = run(&[
        "--user".into(),
        b64("fleet"),
        "--password".into(),
        b64("fleet-secret-1"),
        "--realm".into(),
        "OCS test realm".into(),
    ])
    .output()
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        store(&s).await.count_hosts().await.unwrap(),
        1,
        "the agent's inventory is stored: {}",
        s.log()
    );
}

#[tokio::test]
async fn a_bound_device_answers_only_its_own_credential() {
    let s = server(&[REQUIRED, BIND]);
    add_user(&s, "paris", "paris-secret-1");
    add_user(&s, "lyon", "lyon-secret-1");
    let (paris, lyon) = (
        basic("paris", "paris-secret-1"),
        basic("lyon", "lyon-secret-1"),
    );
    let victim = device("pc1", "SN-1", "00:11:22:33:44:55");
    assert_eq!(
        send_as(&s, &inventory_xml(DEV, &victim), Some(&paris))
            .await
            .status,
        200
    );
    let db = store(&s).await;
    let id = host_id(&s, DEV).await;
    let before = snapshot(&db, id).await;

    let old_deviceid = format!(
        "{}<DOWNLOAD><HISTORY><OLD_DEVICEID>{DEV}</OLD_DEVICEID></HISTORY></DOWNLOAD>",
        device("evil", "SN-9", "66:77:88:99:aa:bb")
    );
    let attempts = [
        (
            "replace",
            inventory_xml(DEV, &device("evil", "SN-9", "66:77:88:99:aa:bb")),
        ),
        ("PROLOG", prolog_xml(DEV)),
        ("NOTIFY", notify(DEV)),
        (
            "OLD_DEVICEID takeover",
            inventory_xml("evil-2024-06-01-00-00-00", &old_deviceid),
        ),
        (
            "duplicate merge (name, serial, MAC)",
            inventory_xml("pc1-2025-01-01-00-00-00", &victim),
        ),
    ];
    for (what, xml) in &attempts {
        let a = send_as(&s, xml, Some(&lyon)).await;
        assert_eq!(a.status, 403, "{what}");
        let body = String::from_utf8_lossy(&a.body);
        assert!(body.contains("E_DEVICE_BOUND"), "{what}: {body}");
    }
    assert_eq!(db.count_hosts().await.unwrap(), 1, "no new device stored");
    assert_eq!(
        snapshot(&db, id).await,
        before,
        "the bound device is unchanged"
    );

    // Its own credential still works, including a merge into a new DEVICEID (reinstall),
    // and the new device is bound in turn.
    assert_eq!(send_as(&s, &notify(DEV), Some(&paris)).await.status, 200);
    let reinstalled = "pc1-2025-01-01-00-00-00";
    let a = send_as(&s, &inventory_xml(reinstalled, &victim), Some(&paris)).await;
    assert_eq!(a.status, 200);
    assert_eq!(db.count_hosts().await.unwrap(), 1, "merged");
    assert_eq!(
        db.find_device_binding(reinstalled)
            .await
            .unwrap()
            .as_deref(),
        Some("paris")
    );
    assert_eq!(
        send_as(&s, &inventory_xml(reinstalled, &victim), Some(&lyon))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn unbound_devices_are_claimed_by_the_next_authenticated_inventory() {
    let s = server(&[REQUIRED, BIND]);
    add_user(&s, "paris", "paris-secret-1");
    add_user(&s, "lyon", "lyon-secret-1");
    let (paris, lyon) = (
        basic("paris", "paris-secret-1"),
        basic("lyon", "lyon-secret-1"),
    );
    // A device stored before binding was on: here through a local import.
    let content = device("pc1", "SN-1", "00:11:22:33:44:55");
    let file = s.dir.path().join("pc1.xml");
    std::fs::write(&file, inventory_xml(DEV, &content)).unwrap();
    let out = s.cli(&["import", file.to_str().unwrap()]).unwrap();
    assert!(out.status.success(), "{out:?}");
    let db = store(&s).await;
    assert_eq!(db.find_device_binding(DEV).await.unwrap(), None);

    let inventory = inventory_xml(DEV, &content);
    assert_eq!(
        send_as(&s, &inventory, Some(&lyon)).await.status,
        200,
        "claimed"
    );
    assert_eq!(send_as(&s, &inventory, Some(&paris)).await.status, 403);

    let out = s.cli(&["agent-user", "list"]).unwrap();
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listed.contains("lyon\tdatabase\t1 bound device(s)"),
        "{listed}"
    );
    assert!(!listed.contains("secret") && !listed.contains("argon2"));

    // Deleting the credential releases its devices: the next inventory claims them again,
    // and the deleted credential is refused.
    let out = s.cli(&["agent-user", "delete", "lyon"]).unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 device(s) released"));
    assert_eq!(send_as(&s, &inventory, Some(&paris)).await.status, 200);
    assert_eq!(
        db.find_device_binding(DEV).await.unwrap().as_deref(),
        Some("paris")
    );
    // (a running server remembers the deleted header for agents.auth.cache_secs)
    let out = s.cli(&["agent-user", "delete", "nobody"]).unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn agent_user_cli_checks_its_input() {
    let s = server(&[]);
    let file = s.dir.path().join("short");
    std::fs::write(&file, "short\n").unwrap();
    let path = file.to_str().unwrap();
    for (name, why) in [("a:b", "colon"), ("paris", "password too short")] {
        let out = s
            .cli(&["agent-user", "add", name, "--password-file", path])
            .unwrap();
        assert!(!out.status.success(), "{why}");
    }
    add_user(&s, "paris", "paris-secret-1");
    std::fs::write(&file, "paris-secret-2\n").unwrap();
    let out = s
        .cli(&["agent-user", "add", "paris", "--password-file", path])
        .unwrap();
    assert!(!out.status.success(), "already exists");
    let out = s
        .cli(&["agent-user", "passwd", "paris", "--password-file", path])
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stored = store(&s)
        .await
        .find_agent_user("paris")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));
}

/// Holds the database's write path while alive: SQLite's write lock (a transaction begun
/// IMMEDIATE), or on PostgreSQL a SHARE lock on `api_tokens`, which lets reads through and
/// blocks any UPDATE of the table.
enum WriteBlock {
    Sqlite(#[allow(dead_code)] ocs_storage::WriteTx),
    Postgres(String, std::process::Child),
}

impl WriteBlock {
    async fn take(s: &TestServer, db: &Store) -> WriteBlock {
        let url = s.database_url();
        if !url.starts_with("postgres") {
            return WriteBlock::Sqlite(db.begin().await.unwrap());
        }
        let child = std::process::Command::new("psql")
            .arg(&url)
            .args([
                "-qAt",
                "-c",
                "BEGIN; LOCK TABLE api_tokens IN SHARE MODE; SELECT pg_sleep(120); COMMIT;",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Made first, so that the lock holder is stopped (on drop) whatever happens next.
        let block = WriteBlock::Postgres(url.clone(), child);
        for _ in 0..200 {
            let out = std::process::Command::new("psql")
                .arg(&url)
                .args(["-qAt", "-c", "SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'api_tokens' AND l.mode = 'ShareLock' AND l.granted"])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).trim() == "1" {
                return block;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the lock on api_tokens was not taken");
    }
}

impl Drop for WriteBlock {
    fn drop(&mut self) {
        if let WriteBlock::Postgres(url, child) = self {
            let _ = std::process::Command::new("psql")
                .arg(url.as_str())
                .args(["-qAt", "-c", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()"])
                .output();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test]
async fn api_token_checks_never_write() {
    let s = server(&[]);
    let token = s.token();
    assert_eq!(s.api("/api/v1/computers", &token).await.0, 200);
    let db = store(&s).await;
    let before = db.list_tokens().await.unwrap();
    assert!(
        before[0].last_used_at.is_some(),
        "the first use is recorded"
    );

    let block = WriteBlock::take(&s, &db).await;
    // Bogus tokens, well-formed or not, all at once: answered from reads alone (before this
    // change each one queued on the write lock until the database gave up).
    let client = reqwest::Client::new();
    let mut requests = Vec::new();
    for i in 0..24 {
        let bogus = if i % 2 == 0 {
            format!("ocs_{:064x}", i + 1)
        } else {
            format!("junk-{i}")
        };
        let request = client
            .get(format!("{}/api/v1/computers", s.base_url))
            .bearer_auth(bogus)
            .send();
        requests.push(tokio::spawn(request));
    }
    for r in requests {
        assert_eq!(r.await.unwrap().unwrap().status().as_u16(), 401);
    }
    assert_eq!(
        s.api("/api/v1/computers", &token).await.0,
        200,
        "a token used within the minute is served without a write"
    );
    drop(block);
    assert_eq!(db.list_tokens().await.unwrap(), before, "nothing written");
}
