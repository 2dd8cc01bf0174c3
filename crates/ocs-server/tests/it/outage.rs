//! PostgreSQL stops while agents are sending: they get quick 503s (never a hang, never a
//! half-written inventory), and the server resumes by itself when the database returns.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocs_testkit::{create_pg_database, in_ci, inventory_xml, PgCluster, TestServer};

/// A private cluster this test may stop (shared with `crash`): `None` (with a notice) when
/// PostgreSQL is not installed outside CI, a failure under CI.
pub(crate) fn cluster() -> Option<PgCluster> {
    match PgCluster::start() {
        Ok(c) => Some(c),
        Err(e) if in_ci() => panic!("cannot start a private PostgreSQL cluster: {e:#}"),
        Err(e) => {
            eprintln!("SKIPPED: cannot start a private PostgreSQL cluster ({e:#}); apt-get install postgresql");
            None
        }
    }
}

fn inventory(i: usize) -> String {
    let software: String = (0..30)
        .map(|k| format!("<SOFTWARES><NAME>p{k}</NAME><VERSION>1.{k}</VERSION></SOFTWARES>"))
        .collect();
    inventory_xml(
        &format!("outage{i}-2024-01-01-00-00-00"),
        &format!(
            "<HARDWARE><NAME>outage{i}</NAME></HARDWARE><CPUS><TYPE>c</TYPE></CPUS>{software}"
        ),
    )
}

#[tokio::test]
async fn database_outage_gives_quick_503s_and_recovers() {
    let Some(cluster) = cluster() else { return };
    let db = create_pg_database(&cluster.admin_url).unwrap();
    let server = Arc::new(
        TestServer::start_on(
            Path::new(env!("CARGO_BIN_EXE_ocs-server")),
            &[],
            Some(db.clone()),
        )
        .unwrap(),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (server, stop) = (server.clone(), stop.clone());
        tokio::spawn(async move {
            let mut results = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let status = server.send(&inventory(i)).await.status;
                results.push((i, status, started.elapsed()));
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            results
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.stop().unwrap();
    tokio::time::sleep(Duration::from_secs(8)).await;
    cluster.restart().unwrap();
    // Let it run until it is healthy again, without restarting the server.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let healthy = server
            .request("GET", "/healthz", Vec::new(), &[])
            .await
            .status
            == 200;
        if healthy || Instant::now() > deadline {
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let results = sender.await.unwrap();

    let unavailable: Vec<_> = results.iter().filter(|r| r.1 == 503).collect();
    assert!(
        !unavailable.is_empty(),
        "the outage was noticed: {results:?}"
    );
    assert!(
        results.iter().all(|r| r.1 == 200 || r.1 == 503),
        "only 200 and 503: {results:?}"
    );
    let slowest = unavailable.iter().map(|r| r.2).max().unwrap();
    eprintln!(
        "outage: {} requests, {} answered 503, slowest 503 after {slowest:?}",
        results.len(),
        unavailable.len()
    );
    assert!(
        slowest < Duration::from_secs(6),
        "503s are quick, not hangs: {slowest:?}"
    );
    let last_failure = unavailable.iter().map(|r| r.0).max().unwrap();
    assert!(
        results.iter().any(|r| r.0 > last_failure && r.1 == 200),
        "the server resumed by itself: {results:?}"
    );

    // Every acknowledged inventory is stored, whole; refused ones left nothing behind.
    let store = ocs_storage::Store::open(&db, &ocs_storage::StoreOptions::default())
        .await
        .unwrap();
    for (i, status, _) in &results {
        let id = store
            .find_host_id(&format!("outage{i}-2024-01-01-00-00-00"))
            .await
            .unwrap();
        match (status, id) {
            (200, Some(id)) => assert_eq!(
                store.software_rows(id).await.unwrap().rows.len(),
                30,
                "inventory {i} is whole"
            ),
            (200, None) => panic!("inventory {i} was acknowledged but is not stored"),
            (_, Some(id)) => assert_eq!(
                store.software_rows(id).await.unwrap().rows.len(),
                30,
                "a refused inventory is all or nothing"
            ),
            (_, None) => {}
        }
    }
    store.close().await;
}
