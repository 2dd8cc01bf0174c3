//! Integration tests: the real `ocs-server` binary, started by `ocs-testkit` on a free port
//! with a temporary data directory, driven over HTTP and through its command line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod agent_auth;
mod api;
mod bad_input;
mod cli;
mod compat;
mod console;
mod console_admin;
mod crash;
mod cve;
mod dashboard;
mod deletion;
mod deployment_agents;
mod deployment_console;
mod deployment_pages;
mod deployment_protocol;
mod duplicates;
mod forwarding;
mod group_settings;
mod groups;
mod hardening;
mod history;
mod ipdiscover_admin;
mod ipdiscover_agents_page;
mod ipdiscover_analyze;
mod ipdiscover_election;
mod ipdiscover_lookup;
mod ipdiscover_networks;
mod ipdiscover_scan;
mod mass;
mod ocsapi;
mod openapi;
mod outage;
mod packages;
mod plugins;
mod real_agents;
mod replay;
mod rollout;
mod scale_out;
mod signin;
mod soap;
mod software;
mod tls;

use std::collections::BTreeMap;

use ocs_proto::xml::{parse, Element};
use ocs_storage::{HostId, Store, StoreOptions};
use ocs_testkit::TestServer;

/// Starts a server.
pub fn server(env: &[(&str, &str)]) -> TestServer {
    TestServer::start(std::path::Path::new(env!("CARGO_BIN_EXE_ocs-server")), env)
        .expect("server starts")
}

/// An inventory document read as the server reads it (`ocs_proto::read_request`).
pub fn read_inventory(doc: &[u8]) -> ocs_proto::Inventory {
    let limits = ocs_proto::ReadLimits::new(ocs_proto::DecodeLimits {
        max_inflated_bytes: 64 << 20,
        try_others: true,
    });
    match ocs_proto::read_request(doc, &limits).map(|r| r.request) {
        Ok(ocs_proto::Request::Inventory {
            inventory: Ok(inv), ..
        }) => *inv,
        other => panic!("not an inventory: {other:?}"),
    }
}

/// Opens the server's database directly, to check what was stored.
pub async fn store(server: &TestServer) -> Store {
    Store::open(&server.database_url(), &StoreOptions::default())
        .await
        .expect("database opens")
}

/// The device ID of a DEVICEID.
pub async fn host_id(server: &TestServer, deviceid: &str) -> HostId {
    store(server)
        .await
        .find_host_id(deviceid)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{deviceid} not stored"))
}

/// A reply document, order-independent: scalar children, and each OPTION's PARAM attributes.
#[derive(Debug, PartialEq, Eq)]
pub struct ReplyShape {
    pub scalars: BTreeMap<String, String>,
    pub options: BTreeMap<String, Vec<BTreeMap<String, String>>>,
    pub accountinfo: Vec<(String, String)>,
}

/// Reads a reply the way agents do: element order does not matter.
pub fn shape(xml: &str) -> ReplyShape {
    let root: Element = parse(xml.as_bytes()).expect("reply parses");
    assert_eq!(root.name, "REPLY");
    let mut scalars = BTreeMap::new();
    let mut options = BTreeMap::new();
    let mut accountinfo = Vec::new();
    for c in &root.children {
        match c.name.as_str() {
            "OPTION" => {
                let params = c
                    .children_named("PARAM")
                    .map(|p| {
                        let mut m: BTreeMap<String, String> = p
                            .children
                            .iter()
                            .map(|a| (a.name.clone(), a.text.clone()))
                            .collect();
                        if !p.text.is_empty() {
                            m.insert("#text".into(), p.text.clone());
                        }
                        m
                    })
                    .collect();
                options.insert(c.value("NAME").unwrap_or_default().to_owned(), params);
            }
            "ACCOUNTINFO" => accountinfo.push((
                c.value("KEYNAME").unwrap_or_default().to_owned(),
                c.value("KEYVALUE").unwrap_or_default().to_owned(),
            )),
            _ => {
                scalars.insert(c.name.clone(), c.text.clone());
            }
        }
    }
    ReplyShape {
        scalars,
        options,
        accountinfo,
    }
}

/// Number of rows of a section of a computer, through the API.
pub fn count(computer: &serde_json::Value, section: &str) -> usize {
    computer[section].as_array().map_or(0, Vec::len)
}

/// Polls `read` until it returns `want` (PROLOG contact records are written just after the
/// reply, not before it); fails after 10 s with the last value seen.
pub async fn eventually<T, F, Fut>(what: &str, want: T, read: F)
where
    T: PartialEq + std::fmt::Debug,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = read().await;
        if got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: still {got:?}, expected {want:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
