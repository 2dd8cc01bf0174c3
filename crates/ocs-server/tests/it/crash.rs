//! Crash consistency: the server is killed with SIGKILL, or its PostgreSQL restarted, or its
//! SQLite disk fills up, while a deterministic fleet (`ocs-loadgen`) sends new and changed
//! inventories. Whatever happens, every inventory answered 200 is stored whole, and every
//! device holds exactly the rows of one inventory it sent, never a mix of two.
//!
//! The load keeps one request per device in flight and resends a device's inventory until it
//! is acknowledged, as an agent does (it only moves on to the next round after a 200), so
//! the CHECKSUM of the next round is right. A request that got no answer may or may not have
//! been stored: the device must then hold the rows of its last acknowledged inventory or of
//! that one, and nothing else.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ocs_loadgen::fleet::{FleetSpec, Shape};
use ocs_loadgen::rng::Rng;
use ocs_loadgen::run::zlib;
use ocs_proto::catalogue::{self, FieldKind, Section};
use ocs_proto::inventory::Row;
use ocs_proto::Inventory;
use ocs_storage::{HostDetail, Store, StoreOptions};
use ocs_testkit::{create_pg_database, in_ci, prolog_xml, TestServer};

use crate::outage::cluster;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ocs-server"))
}

/// One inventory a device sends: its body and what it must leave in the database.
struct Sent {
    body: Vec<u8>,
    inventory: Inventory,
}

/// A device of the fleet and its inventories, round 1 first.
struct Device {
    deviceid: String,
    shape: Shape,
    rounds: Vec<Sent>,
}

/// `devices` devices (from `offset`), `rounds` inventories each: the first is new, the next
/// ones report changes (software, disks, addresses) with the CHECKSUM bits agents set.
fn fleet(seed: u64, offset: u64, devices: u64, rounds: u32) -> Vec<Device> {
    let spec = FleetSpec {
        seed,
        device_offset: offset,
        software_min: 20,
        software_max: 150,
        changed_share: vec![0.8],
        ..FleetSpec::default()
    };
    (0..devices)
        .map(|n| {
            let generated: Vec<_> = (1..=rounds).map(|r| spec.generate(n, r)).collect();
            Device {
                deviceid: generated[0].deviceid.clone(),
                shape: generated[0].shape,
                rounds: generated
                    .iter()
                    .map(|g| Sent {
                        body: zlib(g.inventory.as_bytes()),
                        inventory: crate::read_inventory(g.inventory.as_bytes()),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// One answered (or failed) request.
#[derive(Debug, Clone)]
#[allow(dead_code)] // `device` and `round` are read through `Debug`, in failure messages.
struct Record {
    device: usize,
    round: u32,
    /// 0 when no HTTP answer came (connection refused or cut).
    status: u16,
    /// The request was sent while the server or its database was being disrupted, or it
    /// failed after that began.
    disrupted: bool,
}

/// What the load knows, shared by its workers and the test that disrupts the server.
struct Load {
    url: String,
    queue: VecDeque<usize>,
    /// Last acknowledged round per device (0: none).
    acked: Vec<u32>,
    /// The round sent since the last acknowledgement, if any: it may have been stored.
    attempted: Vec<Option<u32>>,
    in_flight: usize,
    paused: bool,
    disrupted: bool,
    records: Vec<Record>,
}

type Shared = Arc<Mutex<Load>>;

fn load(url: &str, devices: usize) -> Shared {
    Arc::new(Mutex::new(Load {
        url: url.to_owned(),
        queue: (0..devices).collect(),
        acked: vec![0; devices],
        attempted: vec![None; devices],
        in_flight: 0,
        paused: false,
        disrupted: false,
        records: Vec::new(),
    }))
}

async fn post(client: &reqwest::Client, url: &str, shape: Shape, body: &[u8]) -> (u16, String) {
    let sent = client
        .post(format!("{url}/ocsinventory"))
        .header("User-Agent", shape.user_agent())
        .header("Content-Type", shape.content_type())
        .body(body.to_vec())
        .send()
        .await;
    match sent {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = resp.bytes().await.unwrap_or_default();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
        Err(e) => (0, e.to_string()),
    }
}

/// Sends inventories until every device's last round is acknowledged. A failed inventory
/// goes back to the end of the queue, to be sent again.
async fn worker(load: Shared, fleet: Arc<Vec<Device>>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    loop {
        let job = {
            let mut l = load.lock().unwrap();
            if l.queue.is_empty() && l.in_flight == 0 {
                return;
            }
            match (l.paused, l.queue.pop_front()) {
                (false, Some(device)) => {
                    let round = l.acked[device] + 1;
                    l.attempted[device] = Some(round);
                    l.in_flight += 1;
                    Some((device, round, l.url.clone(), l.disrupted))
                }
                (_, popped) => {
                    if let Some(device) = popped {
                        l.queue.push_front(device);
                    }
                    None
                }
            }
        };
        let Some((device, round, url, disrupted_before)) = job else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let d = &fleet[device];
        let (status, _) = post(&client, &url, d.shape, &d.rounds[round as usize - 1].body).await;
        let failed = {
            let mut l = load.lock().unwrap();
            l.in_flight -= 1;
            let disrupted = disrupted_before || l.disrupted;
            l.records.push(Record {
                device,
                round,
                status,
                disrupted,
            });
            if status == 200 {
                l.acked[device] = round;
                l.attempted[device] = None;
                if (round as usize) < d.rounds.len() {
                    l.queue.push_back(device);
                }
            } else {
                l.queue.push_back(device);
            }
            status != 200
        };
        if failed {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn start_load(
    load: &Shared,
    fleet: &Arc<Vec<Device>>,
    concurrency: usize,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..concurrency)
        .map(|_| tokio::spawn(worker(load.clone(), fleet.clone())))
        .collect()
}

async fn wait_until(load: &Shared, what: &str, done: impl Fn(&Load) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done(&load.lock().unwrap()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Stops handing out inventories and waits for those in flight to end.
async fn pause(load: &Shared) {
    load.lock().unwrap().paused = true;
    wait_until(load, "in-flight requests", |l| l.in_flight == 0).await;
}

/// Rows as sorted comparable texts, `column=value` in `columns` order.
fn rendered(
    columns: &[(&'static str, FieldKind)],
    rows: impl Iterator<Item = Vec<String>>,
) -> Vec<String> {
    let mut out: Vec<String> = rows
        .map(|values| {
            columns
                .iter()
                .zip(values)
                .map(|((column, _), value)| format!("{column}={value}"))
                .collect::<Vec<_>>()
                .join("\u{1f}")
        })
        .collect();
    out.sort();
    out
}

/// A sent row's values in the order of the stored `columns`.
fn sent_values(columns: &[(&'static str, FieldKind)], section: &Section, row: &Row) -> Vec<String> {
    columns
        .iter()
        .map(|(column, _)| {
            section
                .fields
                .iter()
                .position(|f| f.column == *column)
                .and_then(|i| row.get(i))
                .map(|v| v.comparable())
                .unwrap_or_default()
        })
        .zip(columns)
        .map(|(value, (column, _))| {
            // Storage files a missing name, publisher or version under this dictionary entry.
            let dictionary = section.table == catalogue::SOFTWARES.table
                && matches!(*column, "name" | "publisher" | "version");
            if dictionary && value.is_empty() {
                "Unavailable".to_owned()
            } else {
                value
            }
        })
        .collect()
}

/// How the stored device differs from what `inventory` holds (`None`: not at all). Every
/// table of the device is compared, whole rows as multisets.
fn difference(stored: &HostDetail, inventory: &Inventory) -> Option<String> {
    let mut hardware = inventory.hardware.clone().unwrap_or_default();
    // The service files the address the request came from, when it is one of the device's.
    let peer = "127.0.0.1";
    if inventory
        .column_texts("NETWORKS", "IPADDRESS")
        .contains(&peer)
    {
        if let Some(i) = catalogue::HARDWARE.field_index("IPADDR") {
            hardware[i] = ocs_proto::Value::Text(peer.into());
        }
    }
    let mut tables = vec![(&stored.hardware, &catalogue::HARDWARE, vec![hardware])];
    for data in &stored.sections {
        let (section, rows) = if data.table == catalogue::SOFTWARES.table {
            (
                &catalogue::SOFTWARES,
                inventory.softwares.clone().unwrap_or_default(),
            )
        } else {
            let section = catalogue::SECTIONS
                .iter()
                .find(|s| s.table == data.table)
                .unwrap();
            let rows = inventory
                .section(section.element)
                .map(|s| s.rows.clone())
                .unwrap_or_default();
            (section, rows)
        };
        tables.push((data, section, rows));
    }
    for (data, section, rows) in tables {
        let stored_rows = rendered(
            &data.columns,
            data.rows
                .iter()
                .map(|r| r.iter().map(|v| v.comparable()).collect()),
        );
        let sent_rows = rendered(
            &data.columns,
            rows.iter().map(|r| sent_values(&data.columns, section, r)),
        );
        if stored_rows != sent_rows {
            let only_stored = stored_rows.iter().find(|r| !sent_rows.contains(r));
            let only_sent = sent_rows.iter().find(|r| !stored_rows.contains(r));
            return Some(format!(
                "{}: {} rows stored, {} sent; stored only: {only_stored:?}; sent only: {only_sent:?}",
                data.table,
                stored_rows.len(),
                sent_rows.len()
            ));
        }
    }
    None
}

/// What a consistency check saw.
#[derive(Debug, Default)]
struct Checked {
    /// Devices holding an inventory whose answer never arrived (stored, then the crash).
    unanswered_but_stored: usize,
    /// Devices holding nothing yet.
    absent: usize,
}

/// Every device holds exactly its last acknowledged inventory or the one sent after it
/// (whose answer was lost), nothing half-written exists anywhere, and the engine finds the
/// database sound. The load must be paused.
async fn check(url: &str, fleet: &[Device], load: &Shared) -> Checked {
    let (acked, attempted) = {
        let l = load.lock().unwrap();
        assert_eq!(l.in_flight, 0, "check while the load is paused");
        (l.acked.clone(), l.attempted.clone())
    };
    let store = Store::open(url, &StoreOptions::default()).await.unwrap();
    let report = store.check_integrity().await.unwrap();
    assert!(report.is_clean(), "half-written rows: {report:?}");
    let mut checked = Checked::default();
    for (n, device) in fleet.iter().enumerate() {
        let id = store.find_host_id(&device.deviceid).await.unwrap();
        let Some(id) = id else {
            assert_eq!(
                acked[n], 0,
                "{}: round {} was acknowledged but nothing is stored",
                device.deviceid, acked[n]
            );
            checked.absent += 1;
            continue;
        };
        let stored = store.get_host(id).await.unwrap();
        let candidates: Vec<u32> = [Some(acked[n]).filter(|r| *r > 0), attempted[n]]
            .into_iter()
            .flatten()
            .collect();
        let differences: Vec<(u32, Option<String>)> = candidates
            .iter()
            .map(|r| {
                let sent = &device.rounds[*r as usize - 1].inventory;
                (*r, difference(&stored, sent))
            })
            .collect();
        match differences.iter().find(|(_, d)| d.is_none()) {
            Some((round, _)) if Some(*round) != Some(acked[n]) => {
                checked.unanswered_but_stored += 1
            }
            Some(_) => {}
            None => panic!(
                "{} (acknowledged round {}, unanswered {:?}) holds none of them whole: {differences:?}",
                device.deviceid, acked[n], attempted[n]
            ),
        }
    }
    store.close().await;
    checked
}

/// At the end: every device's last inventory acknowledged and stored exactly.
async fn check_complete(url: &str, fleet: &[Device], load: &Shared) {
    {
        let l = load.lock().unwrap();
        let rounds = fleet[0].rounds.len() as u32;
        assert!(
            l.acked.iter().all(|r| *r == rounds),
            "every inventory acknowledged: {:?}",
            l.acked
        );
    }
    let checked = check(url, fleet, load).await;
    assert_eq!(checked.absent, 0);
    assert_eq!(checked.unanswered_but_stored, 0);
}

const DEVICES: u64 = 60;
const ROUNDS: u32 = 3;
const CONCURRENCY: usize = 4;

#[tokio::test]
async fn sigkill_under_load_leaves_every_inventory_whole_or_absent() {
    let seed = 13;
    let fleet = Arc::new(fleet(seed, 0, DEVICES, ROUNDS));
    let mut server = TestServer::start(bin(), &[]).unwrap();
    let database = server.database_url();
    let load = load(&server.base_url, fleet.len());

    // Four kills at seeded moments, counted in answered requests (about 180 in all).
    let mut rng = Rng::derive(seed, &[0xC0A5]);
    let mut kills: Vec<(usize, u64)> = (0..4)
        .map(|_| (rng.range(5, 170) as usize, rng.below(15)))
        .collect();
    kills.sort_unstable();

    let workers = start_load(&load, &fleet, CONCURRENCY);
    let mut seen = Checked::default();
    for (after, delay_ms) in &kills {
        wait_until(&load, "answers before a kill", |l| {
            l.records.len() >= *after
        })
        .await;
        // A few milliseconds later, other inventories are half-way through their transaction.
        tokio::time::sleep(Duration::from_millis(*delay_ms)).await;
        load.lock().unwrap().disrupted = true;
        server.kill();
        pause(&load).await;
        server.restart().unwrap();
        let checked = check(&database, &fleet, &load).await;
        seen.unanswered_but_stored += checked.unanswered_but_stored;
        let mut l = load.lock().unwrap();
        l.url = server.base_url.clone();
        l.disrupted = false;
        l.paused = false;
    }
    for w in workers {
        w.await.unwrap();
    }
    check_complete(&database, &fleet, &load).await;

    let records = load.lock().unwrap().records.clone();
    let unexpected: Vec<_> = records
        .iter()
        .filter(|r| r.status != 200 && !(r.status == 0 && r.disrupted))
        .collect();
    assert!(
        unexpected.is_empty(),
        "only kills make requests fail: {unexpected:?}"
    );
    let cut = records.iter().filter(|r| r.status == 0).count();
    eprintln!(
        "sigkill: {} requests, {} kills, {cut} cut by a kill, {} of those stored before the kill",
        records.len(),
        kills.len(),
        seen.unanswered_but_stored
    );
    assert!(
        cut > 0,
        "the kills interrupted requests in flight: {kills:?}"
    );
}

#[tokio::test]
async fn postgres_restart_under_load_gives_503s_and_no_partial_inventory() {
    let Some(cluster) = cluster() else { return };
    let seed = 17;
    let fleet = Arc::new(fleet(seed, 1000, DEVICES, ROUNDS));
    let database = create_pg_database(&cluster.admin_url).unwrap();
    let server = TestServer::start_on(bin(), &[], Some(database.clone())).unwrap();
    let load = load(&server.base_url, fleet.len());
    let workers = start_load(&load, &fleet, CONCURRENCY);

    wait_until(&load, "the first answers", |l| l.records.len() >= 40).await;
    load.lock().unwrap().disrupted = true;
    cluster.stop().unwrap();
    let outage_from = load.lock().unwrap().records.len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster.restart().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server
        .request("GET", "/healthz", Vec::new(), &[])
        .await
        .status
        != 200
    {
        assert!(
            Instant::now() < deadline,
            "the server did not recover: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let outage_to = load.lock().unwrap().records.len();

    // What the outage left behind, before later rounds can hide it.
    pause(&load).await;
    let checked = check(&database, &fleet, &load).await;
    load.lock().unwrap().paused = false;
    for w in workers {
        w.await.unwrap();
    }
    check_complete(&database, &fleet, &load).await;

    let records = load.lock().unwrap().records.clone();
    let during: Vec<_> = records[outage_from..outage_to].iter().collect();
    assert!(
        during.iter().any(|r| r.status == 503),
        "requests during the outage got 503: {during:?}"
    );
    let unexpected: Vec<_> = records
        .iter()
        .filter(|r| r.status != 200 && !(r.status == 503 && r.disrupted))
        .collect();
    assert!(
        unexpected.is_empty(),
        "only 200, and 503 while the database was down: {unexpected:?}"
    );
    let after = records[outage_to..]
        .iter()
        .filter(|r| r.status == 200)
        .count();
    assert!(
        after > 0,
        "inventories succeed again without a server restart"
    );
    eprintln!(
        "postgres restart: {} requests, {} answered 503, {} unanswered but stored",
        records.len(),
        records.iter().filter(|r| r.status == 503).count(),
        checked.unanswered_but_stored
    );
}

/// A small tmpfs mounted for one test, unmounted (and removed) when dropped, also when the
/// test fails.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (with a notice) when mounting is impossible outside CI; a failure under CI.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            other if in_ci() => panic!("cannot mount a tmpfs (the test needs root): {other:?}"),
            other => {
                eprintln!("SKIPPED: cannot mount a tmpfs (run as root): {other:?}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy (a process we could not stop): detach it rather than leak it.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// Writes a file until the file system is full; returns its path.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0xa5u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    while file.write_all(&[0xa5]).is_ok() {}
    let _ = file.sync_all();
    path
}

#[tokio::test]
async fn full_disk_gives_507_changes_nothing_and_recovers() {
    // Room for the WAL's 40 MB between checkpoints and a few inventories more.
    let Some(disk) = Tmpfs::mount("64m") else {
        return;
    };
    let database = format!("sqlite:{}", disk.path().join("ocs.db").display());
    let fleet = Arc::new(fleet(29, 2000, 24, 2));
    let server = TestServer::start_on(bin(), &[], Some(database.clone())).unwrap();
    let load = load(&server.base_url, fleet.len());

    // A few devices are stored before the disk fills up.
    let client = reqwest::Client::new();
    for (n, d) in fleet.iter().enumerate().take(4) {
        let (status, body) = post(&client, &server.base_url, d.shape, &d.rounds[0].body).await;
        assert_eq!(status, 200, "{body}");
        let mut l = load.lock().unwrap();
        l.acked[n] = 1;
    }
    let filler = fill(disk.path());

    // Every device sends its next inventory once: new ones, and changed ones for the first four.
    let mut refused = 0;
    for (n, d) in fleet.iter().enumerate() {
        let round = load.lock().unwrap().acked[n] + 1;
        let (status, body) = post(
            &client,
            &server.base_url,
            d.shape,
            &d.rounds[round as usize - 1].body,
        )
        .await;
        let mut l = load.lock().unwrap();
        l.records.push(Record {
            device: n,
            round,
            status,
            disrupted: true,
        });
        match status {
            200 => l.acked[n] = round,
            507 => {
                assert!(
                    body.contains("E_STORAGE_FULL"),
                    "the reason is given: {body}"
                );
                l.attempted[n] = Some(round);
                refused += 1;
            }
            other => panic!(
                "a full disk gives 200 or 507, not {other}: {body}\n{}",
                server
                    .log()
                    .lines()
                    .filter(|l| !l.contains(" INFO "))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        }
    }
    assert!(
        refused > 0,
        "the full disk refused inventories: {:?}",
        load.lock().unwrap().records
    );
    assert!(
        server.log().contains("E_STORAGE_FULL"),
        "the log says why: {}",
        server.log()
    );
    // The process is still serving.
    assert_eq!(
        server
            .request("GET", "/healthz", Vec::new(), &[])
            .await
            .status,
        200
    );
    let prolog = server.send(&prolog_xml(&fleet[0].deviceid)).await;
    assert!(
        prolog.status == 200 || prolog.status == 507,
        "PROLOG answers: {prolog:?}"
    );
    let checked = check(&database, &fleet, &load).await;
    assert_eq!(checked.unanswered_but_stored, 0, "a 507 stored nothing");

    // Space returns: the refused inventories go through, with no restart.
    std::fs::remove_file(filler).unwrap();
    for (n, d) in fleet.iter().enumerate() {
        let acked = load.lock().unwrap().acked[n];
        for round in acked + 1..=2 {
            let (status, body) = post(
                &client,
                &server.base_url,
                d.shape,
                &d.rounds[round as usize - 1].body,
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let mut l = load.lock().unwrap();
            l.acked[n] = round;
            l.attempted[n] = None;
        }
    }
    check_complete(&database, &fleet, &load).await;
    eprintln!(
        "full disk: {refused} of {} inventories refused with 507, all stored once space returned",
        fleet.len()
    );
    drop(server);
}
