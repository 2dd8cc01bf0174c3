//! Reading an inventory body: the element-tree path (decode, `parse_request_with`,
//! `Inventory::from_request_with`, as the server read bodies before `read_request`) against
//! the streaming `read_request`, on the real 894-software capture of the Debian OCS agent with
//! its SOFTWARES rows replicated to 1,000 and 2,000 entries (names made distinct).
//!
//!     cargo bench -p ocs-proto --bench read -- [--runs N]
//!
//! Prints, per size and path, the median and minimum wall time over N runs (default 101, the
//! paths taking turns) and the peak heap of one run above what was live before it, counted by
//! a global allocator wrapped around the system one; then the ratios. `inflate` is decoding
//! alone: what a `.ocs` copy as XML pays to decode the body again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark driver

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ocs_proto::codec::{decode_body, encode_body, BodyEncoding, DecodeLimits};
use ocs_proto::inventory::DEFAULT_MAX_ROWS_PER_SECTION;
use ocs_proto::request::parse_request_with;
use ocs_proto::xml::XmlLimits;
use ocs_proto::{read_request, Inventory, ReadLimits, Request};

/// The system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; only counters are updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const DECODE: DecodeLimits = DecodeLimits {
    max_inflated_bytes: 64 << 20,
    try_others: false,
};

fn capture() -> String {
    let dir = std::env::var_os("OCS_FIXTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/real-agent")
        });
    std::fs::read_to_string(dir.join("ocs-agent/02-INVENTORY-request.xml")).unwrap()
}

/// The capture with exactly `n` SOFTWARES rows, cycling through its own.
fn with_softwares(doc: &str, n: usize) -> String {
    let (open, close) = ("<SOFTWARES>", "</SOFTWARES>");
    let mut rows = Vec::new();
    let mut rest = String::with_capacity(doc.len());
    let mut at = 0;
    let mut insert_at = None;
    while let Some(start) = doc[at..].find(open).map(|s| s + at) {
        let end = doc[start..].find(close).unwrap() + start + close.len();
        rest.push_str(&doc[at..start]);
        insert_at.get_or_insert(rest.len());
        rows.push(&doc[start..end]);
        at = end;
    }
    rest.push_str(&doc[at..]);
    let mut block = String::new();
    for i in 0..n {
        let row = rows[i % rows.len()].replacen("<NAME>", &format!("<NAME>{i}-"), 1);
        block.push_str(&row);
        block.push('\n');
    }
    rest.insert_str(insert_at.unwrap(), &block);
    rest
}

fn tree_path(body: &[u8]) -> Inventory {
    let decoded = decode_body(body, DECODE).unwrap();
    let request = parse_request_with(&decoded.xml, &XmlLimits::default()).unwrap();
    Inventory::from_request_with(&request, DEFAULT_MAX_ROWS_PER_SECTION).unwrap()
}

fn streaming_path(body: &[u8]) -> Inventory {
    match read_request(body, &ReadLimits::new(DECODE))
        .unwrap()
        .request
    {
        Request::Inventory {
            inventory: Ok(inv), ..
        } => *inv,
        other => panic!("{other:?}"),
    }
}

/// The peak heap of one call above what was live before it.
fn peak_heap(f: &dyn Fn()) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    f();
    PEAK.load(Ordering::Relaxed) - base
}

/// Median and minimum seconds of each function over `runs`, the functions taking turns so
/// that a busy moment of the (shared) machine weighs on all of them alike.
fn times(runs: usize, fs: &[&dyn Fn()]) -> Vec<(f64, f64)> {
    let mut samples = vec![Vec::with_capacity(runs); fs.len()];
    for _ in 0..runs {
        for (f, out) in fs.iter().zip(&mut samples) {
            let t = Instant::now();
            f();
            out.push(t.elapsed().as_secs_f64());
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            (s[runs / 2], s[0])
        })
        .collect()
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let runs = argv
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| argv.get(i + 1)?.parse().ok())
        .unwrap_or(101);
    let doc = capture();
    println!(
        "{:>9} {:>9} {:>8} {:>10} {:>10} {:>8} {:>10} {:>9}",
        "softwares", "body KiB", "XML KiB", "path", "median ms", "min ms", "peak MiB", "rows MiB"
    );
    for n in [1000, 2000] {
        let xml = with_softwares(&doc, n);
        let body = encode_body(xml.as_bytes(), BodyEncoding::Zlib);
        let streamed = streaming_path(&body);
        assert_eq!(tree_path(&body), streamed, "the two paths disagree");
        assert_eq!(streamed.softwares.as_ref().map(Vec::len), Some(n));
        drop(streamed);
        // What the mapped inventory alone holds: what the services keep.
        let before = LIVE.load(Ordering::Relaxed);
        let kept = streaming_path(&body);
        let rows = LIVE.load(Ordering::Relaxed) - before;
        drop(kept);

        let tree = || drop(tree_path(&body));
        let streaming = || drop(streaming_path(&body));
        let inflate = || drop(decode_body(&body, DECODE).unwrap());
        let paths: [(&str, &dyn Fn()); 3] = [
            ("tree", &tree),
            ("streaming", &streaming),
            ("inflate", &inflate),
        ];
        let measured = times(runs, &paths.map(|(_, f)| f));
        let peaks = paths.map(|(_, f)| peak_heap(f));
        for (((name, _), (median, min)), peak) in paths.iter().zip(&measured).zip(peaks) {
            println!(
                "{n:>9} {:>9.0} {:>8.0} {name:>10} {:>10.2} {:>8.2} {:>10.2} {:>9.2}",
                body.len() as f64 / 1024.0,
                xml.len() as f64 / 1024.0,
                median * 1e3,
                min * 1e3,
                mib(peak),
                mib(rows),
            );
        }
        println!(
            "{n:>9}  streaming / tree: median time {:.2}, min time {:.2}, peak heap {:.2}",
            measured[1].0 / measured[0].0,
            measured[1].1 / measured[0].1,
            peaks[1] as f64 / peaks[0] as f64
        );
    }
}
