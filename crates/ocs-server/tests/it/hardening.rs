//! Hostile load on the communication server: bodies that would cost memory or time are
//! queued then refused with 503 and `Retry-After` while PROLOGs and `/healthz` keep being
//! answered; forwarded addresses are believed only from trusted proxies; slow clients are
//! disconnected; `.ocs` copies stay private. (Parsing limits: `bad_input`; the figures under
//! load: `cargo bench --bench hostile`.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ocs_testkit::{inventory_xml, prolog_xml, zlib, TestServer, OCS_UA};

use crate::server;

/// A 100 KB zlib body that inflates to 64 MiB of tiny elements.
fn tiny_element_bomb(deviceid: &str) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(
        format!("<REQUEST><DEVICEID>{deviceid}</DEVICEID><QUERY>INVENTORY</QUERY><CONTENT>")
            .as_bytes(),
    )
    .unwrap();
    let chunk = "<A>1</A>".repeat(8192);
    while enc.total_in() < (64 << 20) - 100_000 {
        enc.write_all(chunk.as_bytes()).unwrap();
    }
    enc.write_all(b"</CONTENT></REQUEST>").unwrap();
    enc.finish().unwrap()
}

/// Peak resident memory of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap()
        * 1024
}

#[tokio::test]
async fn hostile_bodies_are_queued_then_refused_and_memory_stays_bounded() {
    let s = server(&[
        ("OCS_LIMITS__MAX_CONCURRENT_PARSES", "1"),
        ("OCS_LIMITS__MAX_QUEUED_PARSES", "1"),
        ("OCS_LIMITS__PARSE_QUEUE_TIMEOUT_SECS", "1"),
    ]);
    assert_eq!(
        s.send(&prolog_xml("warm-2024-01-01-00-00-00")).await.status,
        200
    );
    let before = peak_rss(s.pid());
    let bomb = tiny_element_bomb("bomb-2024-01-01-00-00-00");
    assert!(bomb.len() < 200_000, "bomb is {} bytes", bomb.len());
    let hostile = (0..8).map(|_| s.post(bomb.clone(), OCS_UA));
    let prologs = async {
        let mut statuses = Vec::new();
        for i in 0..10 {
            statuses.push(
                s.send(&prolog_xml(&format!("p{i}-2024-01-01-00-00-00")))
                    .await
                    .status,
            );
            let health = s.request("GET", "/healthz", Vec::new(), &[]).await;
            statuses.push(health.status);
        }
        statuses
    };
    let (answers, statuses) = tokio::join!(futures_join_all(hostile), prologs);
    // PROLOGs and the health check were answered throughout.
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // One was read (and refused for its size), one could wait, the rest were turned away
    // with a hint of when to come back.
    let too_large = answers.iter().filter(|a| a.status == 413).count();
    let busy: Vec<_> = answers.iter().filter(|a| a.status == 503).collect();
    assert_eq!(
        too_large + busy.len(),
        8,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(
        too_large >= 1 && busy.len() >= 4,
        "413: {too_large}, 503: {}",
        busy.len()
    );
    assert!(busy.iter().all(|a| a.header("retry-after").is_some()));
    assert!(String::from_utf8_lossy(&busy[0].body).contains("server busy"));
    // Each bomb inflates to 64 MiB: without the bounds 8 at once took gigabytes.
    let grown = peak_rss(s.pid()).saturating_sub(before);
    assert!(grown < 400 << 20, "peak RSS grew by {} MiB", grown >> 20);
    assert!(s.log().contains("E_BUSY"));
}

/// Runs futures concurrently and collects their outputs as they complete.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut out = Vec::new();
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    // A tiny join_all: poll all until each is done.
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for slot in pending.iter_mut() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        out.push(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out
}

/// The stored source address of a computer, through the API.
async fn ipsrc(s: &TestServer, token: &str, deviceid: &str) -> String {
    let id = crate::host_id(s, deviceid).await.0;
    let (_, c) = s.api(&format!("/api/v1/computers/{id}"), token).await;
    c["ip_source"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn forwarded_addresses_are_taken_from_the_right_most_untrusted_hop() {
    let s = server(&[
        ("OCS_AGENTS__TRUST_FORWARDED_FOR", "true"),
        ("OCS_AGENTS__TRUSTED_PROXIES", "[127.0.0.1, 192.0.2.0/24]"),
        ("OCS_OPT_INVENTORY_SESSION_ONLY", "1"),
        ("OCS_OPT_TRUSTED_IP", "203.0.113.5"),
    ]);
    let token = s.token();
    let send = |deviceid: &'static str, forwarded: &'static str| {
        let body = zlib(inventory_xml(deviceid, "<HARDWARE><NAME>x</NAME></HARDWARE>").as_bytes());
        let s = &s;
        async move {
            s.request(
                "POST",
                "/ocsinventory",
                body,
                &[("User-Agent", OCS_UA), ("X-Forwarded-For", forwarded)],
            )
            .await
            .status
        }
    };
    // The client wrote "203.0.113.5" itself; our proxy saw 198.51.100.7: not trusted, so the
    // session rule applies (no PROLOG was sent).
    assert_eq!(
        send("spoof-2024-01-01-00-00-00", "203.0.113.5, 198.51.100.7").await,
        403
    );
    // The trusted address as seen by our proxy (through a second proxy of ours).
    assert_eq!(
        send("real-2024-01-01-00-00-00", "203.0.113.5, 192.0.2.9").await,
        200
    );
    assert_eq!(
        ipsrc(&s, &token, "real-2024-01-01-00-00-00").await,
        "203.0.113.5"
    );
}

#[tokio::test]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let s = server(&[
        ("OCS_AGENTS__TRUST_FORWARDED_FOR", "true"),
        ("OCS_AGENTS__TRUSTED_PROXIES", "[192.0.2.1]"),
    ]);
    let token = s.token();
    let body = zlib(
        inventory_xml(
            "direct-2024-01-01-00-00-00",
            "<HARDWARE><NAME>x</NAME></HARDWARE>",
        )
        .as_bytes(),
    );
    let a = s
        .request(
            "POST",
            "/ocsinventory",
            body,
            &[("User-Agent", OCS_UA), ("X-Forwarded-For", "198.51.100.7")],
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        ipsrc(&s, &token, "direct-2024-01-01-00-00-00").await,
        "127.0.0.1"
    );
}

/// Reads until the server closes the connection or `within` passes; true when it closed.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

#[tokio::test]
async fn slow_and_idle_clients_are_disconnected() {
    let s = server(&[
        ("OCS_LIMITS__HEADER_READ_TIMEOUT_SECS", "1"),
        ("OCS_LIMITS__BODY_READ_TIMEOUT_SECS", "1"),
        ("OCS_LIMITS__IDLE_TIMEOUT_SECS", "2"),
    ]);
    let addr = s.base_url.trim_start_matches("http://").to_owned();
    let addr2 = addr.clone();
    tokio::task::spawn_blocking(move || {
        // Headers that never end.
        let mut slow = TcpStream::connect(&addr2).unwrap();
        slow.write_all(b"POST /ocsinventory HTTP/1.1\r\nHost: x\r\n").unwrap();
        assert!(closed_within(&mut slow, Duration::from_secs(5)), "slow headers kept open");
        // A body that never arrives: refused, then closed.
        let mut stalled = TcpStream::connect(&addr2).unwrap();
        stalled
            .write_all(b"POST /ocsinventory HTTP/1.1\r\nHost: x\r\nUser-Agent: OCS-NG_unified_unix_agent_v2.10.0\r\nContent-Length: 100000\r\n\r\nxx")
            .unwrap();
        stalled.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut head = [0u8; 12];
        stalled.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 503", "{}", String::from_utf8_lossy(&head));
        // An idle keep-alive connection after a complete request.
        let mut idle = TcpStream::connect(&addr2).unwrap();
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut first = [0u8; 12];
        idle.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        assert!(closed_within(&mut idle, Duration::from_secs(6)), "idle connection kept open");
    })
    .await
    .unwrap();
    // The server is fine afterwards.
    assert_eq!(
        s.request("GET", "/healthz", Vec::new(), &[]).await.status,
        200
    );
    assert!(
        s.log().contains("request body not received within 1 s"),
        "{}",
        s.log()
    );
    let _ = addr;
}

#[cfg(unix)]
#[tokio::test]
async fn ocs_copies_go_to_a_private_directory_by_default() {
    use std::os::unix::fs::PermissionsExt;
    let s = server(&[("OCS_OPT_GENERATE_OCS_FILES", "1")]);
    let body = zlib(
        inventory_xml(
            "copy-2024-01-01-00-00-00",
            "<HARDWARE><NAME>x</NAME></HARDWARE>",
        )
        .as_bytes(),
    );
    assert_eq!(s.post(body, OCS_UA).await.status, 200);
    let dir = s.dir.path().join("ocs-files");
    let file = dir.join("copy-2024-01-01-00-00-00.ocs");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !file.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
