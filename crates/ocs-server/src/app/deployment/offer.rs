//! What a PROLOG lists in its DOWNLOAD block (reference §2.1.6 `PACK` params, §6.4): from the
//! computer's history, its `DOWNLOAD` rows and its groups' packages (read in one statement by
//! `Store::prolog_packages`), the PACK params and the bookkeeping they call for (trace rows,
//! `SUCCESS_ALREADY_IN_HISTORY`, `NOTIFIED`).
//!
//! [`offers`] is a pure function, so that each rule is tested without a database; the
//! bookkeeping is written after the reply is built, off the PROLOG's path ([`record`]): a
//! PROLOG that has packages to offer answers in the time of its reads, like any other.

use std::collections::HashSet;

use ocs_proto::reply::{Param, ReplyOption};
use ocs_storage::{DeviceSetting, HostId, OfferWrites, OfferedActivation, PrologPackages};

use crate::app::options::Options;
use crate::app::{AppError, AppState};

/// What the DOWNLOAD block lists, and what must be written once it is answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offers {
    /// One `PACK` param per package, in order.
    pub params: Vec<Param>,
    /// Writes the offers call for.
    pub writes: OfferWrites,
}

/// Applies §6.4 to what was read. `trace_events` is option `DOWNLOAD_GROUPS_TRACE_EVENTS`;
/// group packages are in `read` only when groups are enabled.
pub fn offers(read: &PrologPackages, trace_events: bool) -> Offers {
    let history: HashSet<&str> = read.history.iter().map(String::as_str).collect();
    let forced: HashSet<&str> = read
        .device
        .iter()
        .map(|d| &d.offer)
        .chain(read.groups.iter())
        .filter(|o| o.forced)
        .map(|o| o.fileid.as_str())
        .collect();
    let skip_for_history = |fileid: &str| history.contains(fileid) && !forced.contains(fileid);
    let mut listed: HashSet<&str> = HashSet::new();
    let mut out = Offers::default();

    // Step 2: the groups' packages.
    let own: HashSet<i64> = read.device.iter().map(|d| d.offer.activation.0).collect();
    for g in &read.groups {
        if skip_for_history(&g.fileid) || listed.contains(g.fileid.as_str()) {
            continue;
        }
        if trace_events {
            if own.contains(&g.activation.0) {
                continue;
            }
            if out.writes.traces.iter().all(|(a, _)| *a != g.activation) {
                out.writes.traces.push((g.activation, g.forced));
            }
        }
        if let Some(param) = pack_param(g, forced.contains(g.fileid.as_str())) {
            listed.insert(&g.fileid);
            out.params.push(param);
        }
    }

    // Step 3: the computer's own rows still waiting or offered.
    let mut waiting_listed = !out.writes.traces.is_empty();
    for d in &read.device {
        let status = d.status.as_deref();
        if !matches!(status, None | Some("NOTIFIED")) {
            continue;
        }
        if skip_for_history(&d.offer.fileid) {
            out.writes.in_history.push(d.offer.activation);
            continue;
        }
        if listed.contains(d.offer.fileid.as_str()) {
            continue;
        }
        if let Some(param) = pack_param(&d.offer, forced.contains(d.offer.fileid.as_str())) {
            listed.insert(&d.offer.fileid);
            out.params.push(param);
            waiting_listed |= status.is_none();
        }
    }
    // Step 4.
    out.writes.notify = waiting_listed;
    out
}

/// The `PACK` param of an activation; `None` when its redistribution server is gone.
fn pack_param(o: &OfferedActivation, forced: bool) -> Option<Param> {
    let pack_loc = match &o.server {
        None => o.pack_loc.clone(),
        Some(None) => return None,
        Some(Some((ip, name))) => o.pack_loc.replace("$IP$", ip).replace("$NAME$", name),
    };
    Some(Param::with_attributes([
        ("TYPE", "PACK".to_owned()),
        ("ID", o.fileid.clone()),
        ("INFO_LOC", o.info_loc.clone()),
        ("PACK_LOC", pack_loc),
        ("CERT_PATH", o.cert_path.clone()),
        ("CERT_FILE", o.cert_file.clone()),
        ("FORCE", if forced { "1" } else { "0" }.to_owned()),
        ("SCHEDULE", o.schedule.clone()),
        ("POSTCMD", o.postcmd.clone()),
    ]))
}

/// Adds the PACK params to a DOWNLOAD block whose CONF says `ON` (nothing otherwise: option
/// `DOWNLOAD` off, or a switch turned off, stops everything); returns the bookkeeping to
/// hand to [`record`] once the reply is built. A computer without `DOWNLOAD` rows, groups
/// disabled, costs no read at all.
pub async fn add_packages(
    state: &AppState,
    options: &Options,
    host: HostId,
    settings: &[DeviceSetting],
    block: &mut ReplyOption,
) -> Result<OfferWrites, AppError> {
    let on = block
        .params
        .first()
        .and_then(|p| p.attributes.iter().find(|(k, _)| k == "ON"))
        .is_some_and(|(_, v)| v != "0");
    let with_groups = options.on("ENABLE_GROUPS");
    if !on || (!with_groups && !settings.iter().any(|s| s.name == "DOWNLOAD")) {
        return Ok(OfferWrites::default());
    }
    let read = state.store.prolog_packages(host, with_groups).await?;
    let offers = offers(&read, options.on("DOWNLOAD_GROUPS_TRACE_EVENTS"));
    block.params.extend(offers.params);
    Ok(offers.writes)
}

/// Writes the bookkeeping of a PROLOG's offers once its reply is built, in a task of its
/// own: the reply never waits for the database's writer. Losing it (a crash) only means the
/// next PROLOG offers the same packages and writes it then.
pub fn record(state: &AppState, host: HostId, writes: OfferWrites) {
    if writes.is_empty() {
        return;
    }
    let store = state.store.clone();
    let when = crate::app::agent::capacities::local_time_text(state.clock.now());
    tokio::spawn(async move {
        if let Err(e) = store.record_offers(host, &writes, &when).await {
            tracing::warn!(error = %e, host = host.0, "PROLOG deployment bookkeeping not written");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocs_storage::{ActivationId, DeviceOffer};

    fn act(id: i64, fileid: &str) -> OfferedActivation {
        OfferedActivation {
            activation: ActivationId(id),
            fileid: fileid.into(),
            info_loc: "srv/download".into(),
            pack_loc: "srv/download".into(),
            cert_path: "INSTALL_PATH".into(),
            cert_file: "INSTALL_PATH/cacert.pem".into(),
            server: None,
            forced: false,
            schedule: String::new(),
            postcmd: String::new(),
        }
    }

    fn row(id: i64, fileid: &str, status: Option<&str>) -> DeviceOffer {
        DeviceOffer {
            offer: act(id, fileid),
            status: status.map(str::to_owned),
        }
    }

    fn ids(o: &Offers) -> Vec<String> {
        o.params
            .iter()
            .map(|p| {
                p.attributes
                    .iter()
                    .find(|(k, _)| k == "ID")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn waiting_and_notified_rows_are_listed_results_are_not() {
        let read = PrologPackages {
            history: vec![],
            device: vec![
                row(1, "1", None),
                row(2, "2", Some("NOTIFIED")),
                row(3, "3", Some("SUCCESS")),
                row(4, "4", Some("ERR_BAD_DIGEST")),
            ],
            groups: vec![],
        };
        let o = offers(&read, true);
        assert_eq!(ids(&o), ["1", "2"]);
        assert!(o.writes.notify);
        let only_notified = PrologPackages {
            device: vec![row(2, "2", Some("NOTIFIED"))],
            ..PrologPackages::default()
        };
        assert!(!offers(&only_notified, true).writes.notify);
    }

    #[test]
    fn history_skips_unless_forced() {
        let mut forced = row(2, "2", None);
        forced.offer.forced = true;
        let read = PrologPackages {
            history: vec!["1".into(), "2".into()],
            device: vec![row(1, "1", None), forced],
            groups: vec![],
        };
        let o = offers(&read, true);
        assert_eq!(ids(&o), ["2"]);
        assert_eq!(o.writes.in_history, vec![ActivationId(1)]);
        let attrs = &o.params[0].attributes;
        assert!(attrs.contains(&("FORCE".to_owned(), "1".to_owned())));
    }

    #[test]
    fn group_packages_with_and_without_trace_events() {
        let read = PrologPackages {
            history: vec![],
            device: vec![row(5, "5", Some("SUCCESS"))],
            groups: vec![act(5, "5"), act(6, "6"), act(6, "6")],
        };
        let traced = offers(&read, true);
        assert_eq!(ids(&traced), ["6"], "5 has its own row: step 3's business");
        assert_eq!(traced.writes.traces, vec![(ActivationId(6), false)]);
        assert!(traced.writes.notify);
        let untraced = offers(&read, false);
        assert_eq!(ids(&untraced), ["5", "6"], "listed every time");
        assert!(untraced.writes.traces.is_empty());
        assert!(!untraced.writes.notify);
    }

    #[test]
    fn redistribution_servers_are_substituted_or_skipped() {
        let mut relayed = row(7, "7", None);
        relayed.offer.pack_loc = "$IP$:8080/$NAME$/download".into();
        relayed.offer.server = Some(Some(("10.0.0.9".into(), "relay".into())));
        let mut gone = row(8, "8", None);
        gone.offer.server = Some(None);
        let read = PrologPackages {
            history: vec![],
            device: vec![relayed, gone],
            groups: vec![],
        };
        let o = offers(&read, true);
        assert_eq!(ids(&o), ["7"]);
        assert!(o.params[0].attributes.contains(&(
            "PACK_LOC".to_owned(),
            "10.0.0.9:8080/relay/download".to_owned()
        )));
    }
}
