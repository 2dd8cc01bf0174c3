//! The status-only queries: DOWNLOAD reports, NOTIFY IP changes and SNMP results. Each is
//! answered 200 with an empty body whether or not anything was stored, as the original does;
//! what was done goes to the log.

use ocs_proto::request::{DownloadReport, Notify, SnmpResult};

use crate::app::agent::agent_auth::Binding;
use crate::app::agent::files;
use crate::app::agent::inventory::Source;
use crate::app::agent::AgentMeta;
use crate::app::options::Options;
use crate::app::{AppError, AppState};

/// Longest status code kept.
const MAX_STATUS: usize = 64;

/// A package deployment result of `deviceid`.
pub async fn download(
    state: &AppState,
    deviceid: &str,
    report: Option<&DownloadReport>,
) -> Result<String, AppError> {
    let Some(report) = report else {
        return Ok("report without package ID ignored".into());
    };
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let Some(host) = tx.lock_host(deviceid).await? else {
        return Ok(format!(
            "report {} for unknown device ignored",
            report.status
        ));
    };
    let status: String = report.status.chars().take(MAX_STATUS).collect();
    let assigned = tx
        .record_download_report(
            host.id,
            &report.package_id,
            &status,
            now,
            &local_time_text(now),
        )
        .await?;
    tx.commit().await?;
    Ok(format!(
        "package {} {status}{}",
        report.package_id,
        if assigned {
            ""
        } else {
            " (not assigned to this device)"
        }
    ))
}

/// A Windows agent's IP change.
pub async fn notify(
    state: &AppState,
    meta: &AgentMeta,
    deviceid: &str,
    notify: &Notify,
) -> Result<String, AppError> {
    if notify.kind != "IP" {
        return Ok(format!("NOTIFY type {:?} not handled", notify.kind));
    }
    let mut tx = state.store.begin().await?;
    let Some(host) = tx.lock_host(deviceid).await? else {
        return Ok("NOTIFY for unknown device ignored".into());
    };
    Binding::of(state, meta)
        .check(&mut tx, host.id, "NOTIFY")
        .await?;
    let outcome = tx
        .notify_ip(host.id, &notify.ifaces, notify.hardware_ipaddr.as_deref())
        .await?;
    tx.commit().await?;
    Ok(format!("{} interface(s) updated", outcome.updated))
}

/// SNMP scan results of `deviceid`, kept when the SNMP option is on.
pub async fn snmp(
    state: &AppState,
    options: &Options,
    deviceid: &str,
    results: &[SnmpResult],
    source: Source<'_>,
) -> Result<String, AppError> {
    if !options.on("SNMP") {
        return Ok("SNMP is off; results ignored".into());
    }
    if options.on("GENERATE_OCS_FILES_SNMP") {
        files::write_copy(state, options, deviceid, "-SNMP", source).await;
    }
    let mut tx = state.store.begin().await?;
    let Some(host) = tx.lock_host(deviceid).await? else {
        return Ok("SNMP results from unknown device ignored".into());
    };
    let outcome = tx.store_snmp(host.id, results, state.clock.now()).await?;
    tx.commit().await?;
    Ok(format!(
        "{} SNMP device(s) stored, {} skipped",
        outcome.stored, outcome.skipped
    ))
}

/// The original stamps status changes with a human-readable local time.
pub(crate) fn local_time_text(now: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default()
}
