//! Forwarding: a server relays every inventory it stores to an upstream. The upstream is
//! reached through a proxy of the test, stopped and started to make it unreachable; the
//! relaying server is restarted meanwhile. Every inventory arrives exactly once, in order.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ocs_testkit::{inventory_xml, TestServer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::console::Console;
use crate::{host_id, server, store};

/// A TCP relay on a fixed loopback port to the upstream: "down" refuses connections.
struct Relay {
    port: u16,
    target: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Relay {
    fn new(target: &str) -> Relay {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let authority = target
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        Relay {
            port,
            target: authority.parse().unwrap(),
            task: None,
        }
    }

    async fn up(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let target = self.target;
        self.task = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/ocsinventory", self.port)
    }
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(40);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not after 40 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn copies(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

async fn send(s: &TestServer, deviceid: &str, name: &str, os: &str) {
    let body = format!(
        "<HARDWARE><NAME>{name}</NAME><OSNAME>{os}</OSNAME><CHECKSUM>262143</CHECKSUM></HARDWARE>"
    );
    let r = s.send(&inventory_xml(deviceid, &body)).await;
    assert_eq!(r.status, 200, "{}", s.log());
}

#[tokio::test]
async fn every_inventory_reaches_the_upstream_once_across_an_outage_and_a_restart() {
    let received = tempfile::tempdir().unwrap();
    let path = received.path().to_str().unwrap().to_owned();
    let upstream = server(&[
        ("OCS_OPT_GENERATE_OCS_FILES", "1"),
        ("OCS_OPT_OCS_FILES_PATH", path.as_str()),
    ]);
    let mut relay = Relay::new(&upstream.agent_url());
    let upstreams = format!("[\"{}\"]", relay.url());
    let mut local = server(&[
        ("OCS_FORWARDING__UPSTREAMS", upstreams.as_str()),
        ("OCS_FORWARDING__RETRY_MIN_SECS", "1"),
    ]);

    // The upstream is unreachable: three inventories wait, with the reason.
    send(&local, "a-2026-01-01-00-00-00", "pc-a", "Debian 12").await;
    send(&local, "b-2026-01-01-00-00-00", "pc-b", "Debian 12").await;
    send(&local, "a-2026-01-01-00-00-00", "pc-a", "Debian 13").await;
    let admin = Console::sign_in_admin(&local).await;
    wait_for("a failed attempt", || {
        let admin = &admin;
        async move {
            let page = admin.get("/admin/forwarding").await.body;
            page.contains("<td data-col=\"waiting\">3</td>")
                && page.contains("<td data-col=\"attempts\">1</td>")
        }
    })
    .await;
    let page = admin.get("/admin/forwarding").await.body;
    assert!(page.contains(&relay.url()), "{page}");
    assert_eq!(copies(received.path()), 0);

    // A restart loses nothing.
    local.restart().unwrap();
    let db = store(&local).await;
    assert_eq!(db.forward_backlog().await.unwrap()[0].waiting, 3);

    // Back up: all three arrive, in order, once.
    relay.up().await;
    wait_for("the queue drained", || {
        let db = db.clone();
        async move { db.forward_backlog().await.unwrap().is_empty() }
    })
    .await;
    assert_eq!(copies(received.path()), 3);
    let up = store(&upstream).await;
    let a = up
        .get_host(host_id(&upstream, "a-2026-01-01-00-00-00").await)
        .await
        .unwrap();
    assert_eq!(
        a.summary.osname.as_deref(),
        Some("Debian 13"),
        "the latest last"
    );
    assert_eq!(
        a.summary.useragent.as_deref(),
        Some(ocs_testkit::OCS_UA),
        "the agent's User-Agent"
    );
    assert!(up
        .find_host_id("b-2026-01-01-00-00-00")
        .await
        .unwrap()
        .is_some());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(copies(received.path()), 3, "nothing sent twice");

    // With nothing configured the page says how to.
    let plain = server(&[]);
    let admin = Console::sign_in_admin(&plain).await;
    let page = admin.get("/admin/forwarding").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"no-upstreams\""));
}

#[tokio::test]
async fn a_wrong_upstream_is_refused_at_start() {
    let started = TestServer::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_ocs-server")),
        &[(
            "OCS_FORWARDING__UPSTREAMS",
            "[\"ftp://master/ocsinventory\"]",
        )],
    );
    assert!(
        started.is_err(),
        "an upstream that is no HTTP URL stops the start"
    );
}
