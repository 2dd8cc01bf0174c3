//! PROLOG: decide whether the agent sends an inventory (FREQUENCY, per-device overrides)
//! from what is stored, build the reply with its option blocks, and queue the contact
//! record (counters, session) for the writer ([`contacts`]).

use ocs_proto::reply::{Param, PrologReply, PrologResponse, ReplyOption};
use ocs_storage::{DeviceSetting, HostState};

use crate::app::agent::contacts::{self, Contact};
use crate::app::agent::useragents;
use crate::app::agent::AgentMeta;
use crate::app::deployment::offer;
use crate::app::groups;
use crate::app::options::Options;
use crate::app::{AppError, AppState};

const DAY: i64 = 86_400;

/// The three outcomes of the decision. BREAK is a STOP without any option block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Send,
    Stop,
    Break,
}

/// Handles the PROLOG of `deviceid`; returns the reply and a description for the log.
pub async fn prolog(
    state: &AppState,
    options: &Options,
    meta: &AgentMeta,
    deviceid: &str,
) -> Result<(PrologReply, String), AppError> {
    if let Some(reason) = useragents::refusal(
        &meta.user_agent,
        &state.config.agents.extra_user_agents,
        options,
    ) {
        return Err(AppError::bad_request("E_BAD_USER_AGENT", reason));
    }
    let now = state.clock.now();
    let host = state.store.find_host(deviceid).await?;
    groups::revalidate::after_agent_request(state, options, host.is_some());
    let settings = match &host {
        Some(h) => groups::settings::effective_settings(state, options, h.id).await?,
        None => Vec::new(),
    };
    let mut decision = decide(options.int("FREQUENCY"), host.as_ref(), &settings, now);
    let mut blocks = Vec::new();
    let mut offered = None;
    if decision != Decision::Break {
        if let Some(block) = registry_option(state, options).await? {
            blocks.push(block);
        }
        if let Some(block) = ipdiscover_option(options, &settings) {
            // An elected computer must send its scan results, whatever FREQUENCY says.
            decision = Decision::Send;
            blocks.push(block);
        }
        let mut download = download_option(options, &settings);
        if let Some(h) = &host {
            let writes =
                offer::add_packages(state, options, h.id, &settings, &mut download).await?;
            offered = Some((h.id, writes));
        }
        blocks.push(download);
    }
    let contact = Contact {
        deviceid: deviceid.to_owned(),
        at: now,
        user_agent: meta.user_agent.clone(),
        session: (decision == Decision::Send).then(|| now - options.int("SESSION_CLEAN_TIME")),
    };
    if options.on("INVENTORY_SESSION_ONLY") && contact.session.is_some() {
        // The inventory that follows is refused without its session, possibly on another
        // instance: written before the reply.
        let mut tx = state.store.begin().await?;
        contacts::apply(&mut tx, std::slice::from_ref(&contact)).await?;
        tx.commit().await?;
    } else {
        state.contacts.record(contact);
    }
    let reply = PrologReply {
        response: if decision == Decision::Send {
            PrologResponse::Send
        } else {
            PrologResponse::Stop
        },
        prolog_freq: setting_or(&settings, "PROLOG_FREQ", options),
        inventory_on_startup: setting_or(&settings, "INVENTORY_ON_STARTUP", options),
        options: blocks,
    };
    if let Some((id, writes)) = offered {
        offer::record(state, id, writes);
    }
    let detail = format!(
        "{decision:?}{}",
        if host.is_none() { " (new device)" } else { "" }
    )
    .to_uppercase();
    Ok((reply, detail))
}

/// The original's rule. A per-device FREQUENCY only counts when the global one is positive
/// (kept as is: administrators rely on the observable behaviour).
fn decide(global: i64, host: Option<&HostState>, settings: &[DeviceSetting], now: i64) -> Decision {
    let Some(host) = host else {
        return if global == -1 {
            Decision::Break
        } else {
            Decision::Send
        };
    };
    let frequency = match global {
        0 => return Decision::Send,
        -1 => return Decision::Break,
        g => settings
            .iter()
            .filter(|s| s.name == "FREQUENCY")
            .filter_map(|s| s.ivalue)
            .min()
            .unwrap_or(g),
    };
    match (frequency, host.lastdate) {
        (0, _) | (_, None) => Decision::Send,
        (-1, _) => Decision::Break,
        (days, Some(last)) if last + days * DAY < now => Decision::Send,
        _ => Decision::Stop,
    }
}

/// A per-device setting, else the option.
fn setting_or(settings: &[DeviceSetting], name: &str, options: &Options) -> i64 {
    settings
        .iter()
        .find(|s| s.name == name)
        .and_then(|s| s.ivalue)
        .unwrap_or_else(|| options.int(name))
}

async fn registry_option(
    state: &AppState,
    options: &Options,
) -> Result<Option<ReplyOption>, AppError> {
    if !options.on("REGISTRY") {
        return Ok(None);
    }
    let queries = state.store.list_registry_queries().await?;
    if queries.is_empty() {
        return Ok(None);
    }
    let params = queries
        .into_iter()
        .map(|(_, q)| Param {
            attributes: vec![
                ("NAME".into(), q.name),
                ("REGTREE".into(), q.regtree.to_string()),
                ("REGKEY".into(), q.regkey),
            ],
            text: Some(q.regvalue),
        })
        .collect();
    Ok(Some(ReplyOption {
        name: "REGISTRY".into(),
        params,
    }))
}

fn ipdiscover_option(options: &Options, settings: &[DeviceSetting]) -> Option<ReplyOption> {
    if options.int("IPDISCOVER") == 0 {
        return None;
    }
    let election = settings.iter().find(|s| s.name == "IPDISCOVER")?;
    let subnet = election
        .tvalue
        .as_deref()
        .filter(|t| !t.trim().is_empty())?;
    if election.ivalue.unwrap_or(0) == 0 {
        return None;
    }
    let text_setting = |name: &str| {
        settings
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.tvalue.clone())
    };
    let param = Param {
        attributes: vec![
            (
                "IPDISC_LAT".into(),
                setting_or(settings, "IPDISCOVER_LATENCY", options).to_string(),
            ),
            (
                "SCAN_TYPE_IPDISCOVER".into(),
                text_setting("SCAN_TYPE_IPDISCOVER")
                    .unwrap_or_else(|| options.text("SCAN_TYPE_IPDISCOVER").to_owned()),
            ),
            (
                "SCAN_ARP_BANDWIDTH".into(),
                setting_or(settings, "SCAN_ARP_BANDWIDTH", options).to_string(),
            ),
        ],
        text: Some(subnet.to_owned()),
    };
    Some(ReplyOption {
        name: "IPDISCOVER".into(),
        params: vec![param],
    })
}

/// The DOWNLOAD block is always sent; packages come with the deployment issue.
fn download_option(options: &Options, settings: &[DeviceSetting]) -> ReplyOption {
    let mut on = i64::from(options.on("DOWNLOAD"));
    if on != 0 {
        if let Some(switch) = settings
            .iter()
            .find(|s| s.name == "DOWNLOAD_SWITCH")
            .and_then(|s| s.ivalue)
        {
            on = switch;
        }
    }
    let value = |setting: &str, option: &str| {
        settings
            .iter()
            .find(|s| s.name == setting)
            .and_then(|s| s.ivalue)
            .unwrap_or_else(|| options.int(option))
            .to_string()
    };
    let conf = Param::with_attributes([
        ("TYPE", "CONF".to_owned()),
        ("ON", on.to_string()),
        (
            "FRAG_LATENCY",
            value("DOWNLOAD_FRAG_LATENCY", "DOWNLOAD_FRAG_LATENCY"),
        ),
        (
            "CYCLE_LATENCY",
            value("DOWNLOAD_CYCLE_LATENCY", "DOWNLOAD_CYCLE_LATENCY"),
        ),
        (
            "PERIOD_LATENCY",
            value("DOWNLOAD_PERIOD_LATENCY", "DOWNLOAD_PERIOD_LATENCY"),
        ),
        (
            "PERIOD_LENGTH",
            value("DOWNLOAD_PERIOD_LENGTH", "DOWNLOAD_PERIOD_LENGTH"),
        ),
        ("TIMEOUT", value("DOWNLOAD_TIMEOUT", "DOWNLOAD_TIMEOUT")),
        (
            "EXECUTION_TIMEOUT",
            value("DOWNLOAD_EXECUTION_TIMEOUT", "DOWNLOAD_EXECUTION_TIMEOUT"),
        ),
    ]);
    ReplyOption {
        name: "DOWNLOAD".into(),
        params: vec![conf],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocs_storage::HostId;

    fn host(lastdate: Option<i64>) -> HostState {
        HostState {
            id: HostId(1),
            lastdate,
            lastcome: Some(0),
            quality: 0.0,
            fidelity: 1,
            checksum: 0,
            userid: None,
        }
    }

    fn setting(name: &str, ivalue: i64) -> DeviceSetting {
        DeviceSetting {
            name: name.into(),
            ivalue: Some(ivalue),
            tvalue: None,
        }
    }

    #[test]
    fn frequency_rules() {
        let now = 100 * DAY;
        assert_eq!(decide(-1, None, &[], now), Decision::Break);
        assert_eq!(decide(3, None, &[], now), Decision::Send);
        assert_eq!(decide(0, Some(&host(Some(now))), &[], now), Decision::Send);
        assert_eq!(
            decide(-1, Some(&host(Some(now))), &[], now),
            Decision::Break
        );
        assert_eq!(
            decide(3, Some(&host(Some(now - DAY))), &[], now),
            Decision::Stop
        );
        assert_eq!(
            decide(3, Some(&host(Some(now - 4 * DAY))), &[], now),
            Decision::Send
        );
        assert_eq!(decide(3, Some(&host(None)), &[], now), Decision::Send);
        assert_eq!(
            decide(
                3,
                Some(&host(Some(now - DAY))),
                &[setting("FREQUENCY", 0)],
                now
            ),
            Decision::Send
        );
        assert_eq!(
            decide(
                3,
                Some(&host(Some(now - DAY))),
                &[setting("FREQUENCY", -1)],
                now
            ),
            Decision::Break
        );
        // Quirk kept: a per-device value does not count when the global one is 0.
        assert_eq!(
            decide(0, Some(&host(Some(now))), &[setting("FREQUENCY", -1)], now),
            Decision::Send
        );
    }

    #[test]
    fn counters() {
        let mut h = host(None);
        h.lastcome = Some(0);
        h.fidelity = 1;
        assert_eq!(contacts::counters(&h, 2 * DAY), (2.0, 2));
        h.fidelity = 3;
        h.quality = 1.0;
        assert_eq!(contacts::counters(&h, DAY * 5), ((5.0 + 3.0) / 4.0, 4));
    }

    #[test]
    fn download_block_defaults() {
        let block = download_option(&Options::defaults(), &[]);
        let attrs: std::collections::HashMap<_, _> =
            block.params[0].attributes.iter().cloned().collect();
        assert_eq!(attrs["ON"], "0");
        assert_eq!(attrs["FRAG_LATENCY"], "10");
        assert_eq!(attrs["PERIOD_LATENCY"], "1");
        assert_eq!(attrs["CYCLE_LATENCY"], "60");
        assert_eq!(attrs["PERIOD_LENGTH"], "10");
        assert_eq!(attrs["TIMEOUT"], "30");
        assert_eq!(attrs["EXECUTION_TIMEOUT"], "120");
    }
}
