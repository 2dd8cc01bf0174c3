//! The IP query page: a form, and for one address the computers that have it, what scans saw
//! at it (with the MAC's vendor and whether it is identified) and the named networks holding
//! it. Any signed-in account may read it; a malformed address is a 400 showing the reason.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::computers::date_text;
use super::{page_or_error, render, translated, PageCtx, SignedIn};
use crate::app::ipdiscover::lookup::{self, Lookup};
use crate::app::AppState;

/// Routes of this page.
pub fn router() -> Router<AppState> {
    Router::new().route("/networks/lookup", get(lookup_get))
}

/// An inventoried computer holding the address.
struct ComputerLine {
    id: i64,
    name: String,
    /// How it holds it: an interface's MAC, network and mask, or empty for `IPADDR` only.
    mac: String,
    subnet: String,
    mask: String,
    last_contact: String,
}

/// A scan result at the address.
struct DeviceLine {
    mac: String,
    vendor: String,
    name: String,
    netid: String,
    first_seen: String,
    last_seen: String,
    scanner: Option<(i64, String)>,
    /// (description, type) when identified.
    identified: Option<(String, String)>,
}

/// A named network holding the address.
struct SubnetLine {
    name: String,
    network_id: String,
    netid: String,
    mask: String,
}

#[derive(Template)]
#[template(path = "ipdiscover/lookup.html")]
struct LookupPage {
    page: PageCtx,
    /// The address as typed, for the form.
    typed: String,
    /// Why it was refused (translated); empty when it was not.
    error: String,
    /// The address looked up, once one was.
    looked_up: Option<String>,
    computers: Vec<ComputerLine>,
    devices: Vec<DeviceLine>,
    subnets: Vec<SubnetLine>,
    nothing: bool,
}

impl LookupPage {
    fn new(signed: &SignedIn, typed: String) -> LookupPage {
        LookupPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "networks_lookup"),
            typed,
            error: String::new(),
            looked_up: None,
            computers: Vec::new(),
            devices: Vec::new(),
            subnets: Vec::new(),
            nothing: false,
        }
    }

    fn with(mut self, found: Lookup) -> LookupPage {
        let when = |t: Option<i64>| t.filter(|t| *t > 0).map(date_text).unwrap_or_default();
        self.nothing = found.is_empty();
        self.looked_up = Some(found.ip.to_string());
        self.computers = found
            .interfaces
            .into_iter()
            .map(|i| ComputerLine {
                id: i.hardware_id,
                name: i.computer,
                mac: i.mac,
                subnet: i.subnet,
                mask: i.mask,
                last_contact: when(i.last_contact),
            })
            .collect();
        // A computer already listed through an interface is not listed again for IPADDR.
        for c in found.computers {
            if !self.computers.iter().any(|l| l.id == c.hardware_id) {
                self.computers.push(ComputerLine {
                    id: c.hardware_id,
                    name: c.computer,
                    mac: String::new(),
                    subnet: String::new(),
                    mask: String::new(),
                    last_contact: when(c.last_contact),
                });
            }
        }
        self.devices = found
            .discovered
            .into_iter()
            .map(|d| DeviceLine {
                vendor: d.vendor.unwrap_or_default().to_owned(),
                first_seen: when(Some(d.seen.first_seen)),
                last_seen: when(Some(d.seen.last_seen)),
                mac: d.seen.mac,
                name: d.seen.name,
                netid: d.seen.netid,
                scanner: d.seen.scanner,
                identified: d.seen.identified,
            })
            .collect();
        self.subnets = found
            .subnets
            .into_iter()
            .map(|s| SubnetLine {
                name: s.name,
                network_id: s.network_id,
                netid: s.netid,
                mask: s.mask,
            })
            .collect();
        self
    }
}

#[derive(Deserialize)]
struct LookupQuery {
    ip: Option<String>,
}

async fn lookup_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(q): Query<LookupQuery>,
) -> Response {
    let Some(typed) = q.ip else {
        return render(
            &signed.ctx,
            StatusCode::OK,
            &LookupPage::new(&signed, String::new()),
        );
    };
    let ip = match lookup::parse_address(&typed) {
        Ok(ip) => ip,
        Err(e) => {
            tracing::warn!(code = e.code(), reason = %e, "IP query refused");
            let mut page = LookupPage::new(
                &signed,
                typed.chars().take(lookup::MAX_ADDRESS_BYTES).collect(),
            );
            page.error = translated(&signed.ctx.tr, &e);
            return render(&signed.ctx, StatusCode::BAD_REQUEST, &page);
        }
    };
    let result = lookup::lookup(&state, ip)
        .await
        .map(|found| LookupPage::new(&signed, ip.to_string()).with(found));
    page_or_error(&signed, result)
}
