//! INVENTORY ingestion: one database transaction stores the whole inventory (device row,
//! administrative data, every section, software, capacities), detects and merges duplicates,
//! and decides the ACCOUNTINFO reply. Any failure rolls all of it back, and two inventories
//! of the same DEVICEID never interleave because each holds the write transaction.
//!
//! The local import (`ocs-server import`) comes through here too.

use std::net::IpAddr;

use ocs_proto::catalogue::{Section, Storage, ALL_SECTIONS_CHANGED};
use ocs_proto::inventory::Inventory;
use ocs_proto::reply::InventoryReply;
use ocs_proto::useragent;
use ocs_storage::duplicates::merges::{MergeReason, MergeRequest};
use ocs_storage::{DuplicateCriteria, HardwareUpdate, HostId, WriteTx, TAG};

use crate::app::agent::agent_auth::Binding;
use crate::app::agent::AgentMeta;
use crate::app::agent::{contacts, files};
use crate::app::history::record::Recorder;
use crate::app::options::Options;
use crate::app::{forwarding, history, ipdiscover, software};
use crate::app::{AppError, AppState};

/// The request body as received, for `.ocs` copies (which decode it again when they are
/// wanted as XML, rather than every request keeping its inflated document).
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// Body as sent.
    pub raw: &'a [u8],
}

/// What an ingestion did.
#[derive(Debug)]
pub struct Ingested {
    /// The reply for the agent.
    pub reply: InventoryReply,
    /// The device.
    pub host: HostId,
    /// Whether the device was created by this inventory.
    pub created: bool,
    /// One-line description for the log.
    pub summary: String,
}

/// CHECKSUM bits FusionInventory computes; it never sets the others (CPUS, INPUTS, …), so
/// those sections are treated as changed for it rather than frozen after the first inventory.
const FUSION_CHECKSUM_BITS: u64 = (1 << 17) - 1 - 1024;

/// Stores an inventory.
pub async fn ingest(
    state: &AppState,
    options: &Options,
    meta: &AgentMeta,
    inv: &Inventory,
    source: Source<'_>,
) -> Result<Ingested, AppError> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let existing = tx.lock_host(&inv.deviceid).await?;
    // The PROLOG's contact record, if the flusher has not written it yet: before the
    // session check, which may need its session.
    let contacts = state.contacts.take_device(&inv.deviceid);
    contacts::apply(&mut tx, &contacts).await?;
    let binding = Binding::of(state, meta);
    if let Some(h) = &existing {
        binding.check(&mut tx, h.id, "INVENTORY").await?;
    }

    if options.on("INVENTORY_SESSION_ONLY") && !is_trusted(meta.peer, options.text("TRUSTED_IP")) {
        let opened = tx.prolog_session(&inv.deviceid).await?;
        let validity = options.int("SESSION_VALIDITY_TIME");
        let valid = opened.is_some_and(|at| validity == 0 || now - at <= validity);
        if !valid {
            return Err(AppError::Forbidden {
                code: "E_NO_SESSION",
                message: "INVENTORY_SESSION_ONLY is on and this device sent no recent PROLOG"
                    .into(),
            });
        }
    }

    let (id, created, old_checksum) = match &existing {
        Some(h) => (h.id, false, h.checksum),
        None => (tx.insert_host(&inv.deviceid).await?, true, 0),
    };
    let mut changes = Vec::new();
    let mut history = Recorder::new(state.config.history.enabled && !created);
    if created && state.config.history.enabled {
        history.created(inv.hardware_text("NAME"));
    }
    let fusion = useragent::is_fusioninventory(&meta.user_agent);
    // The stored row is read only when the history needs it and the HARDWARE section may have
    // changed: its CHECKSUM bit is set, or the agent cannot say (no CHECKSUM, or
    // FusionInventory, whose bit is not reliable).
    let hardware_may_change = fusion || ocs_proto::catalogue::HARDWARE.changed(inv.checksum);
    if history.on() && inv.hardware.is_some() && hardware_may_change {
        let stored = tx.hardware_row(id).await?;
        history.hardware(stored.as_deref(), inv.hardware.as_deref());
    }

    tx.update_hardware(id, &hardware_update(inv, meta, old_checksum, now))
        .await?;

    if let Some(entries) = &inv.accountinfo {
        if created {
            tx.write_accountinfo(id, entries).await?;
        } else if options.on("ACCEPT_TAG_UPDATE_FROM_CLIENT") {
            if history.on() {
                tx.write_accountinfo_recorded(id, entries, "agent", now)
                    .await?;
            } else {
                tx.write_accountinfo(id, entries).await?;
            }
        }
    }

    for rows in &inv.sections {
        let section = rows.section;
        let write = if created {
            Write::Replace
        } else {
            plan(
                section,
                inv.checksum,
                fusion,
                options.on("INVENTORY_DIFF"),
                options.on("INVENTORY_WRITE_DIFF"),
            )
        };
        let change = match (write, section.storage) {
            (Write::Skip, _) => continue,
            (_, Storage::AppendOnly) => tx.append_section(id, section, &rows.rows).await?,
            // A new device has no rows to delete or compare.
            _ if created => tx.append_section(id, section, &rows.rows).await?,
            // The history needs the rows removed: a rewrite becomes a row-level merge, which
            // stores the same rows.
            _ if history.on() && history::diff::tracked(section) => {
                let written = tx.diff_section_rows(id, section, &rows.rows).await?;
                history.section(section, &written);
                written.change()
            }
            (Write::Merge, _) => tx.diff_section(id, section, &rows.rows).await?,
            (Write::Replace, _) => tx.replace_section(id, section, &rows.rows).await?,
        };
        changes.push((section.element, change));
    }
    // Sections the catalogue does not know (a plugin's): kept, replaced whole.
    if !(created && inv.extra_sections.is_empty()) {
        tx.replace_extra_sections(id, &inv.extra_sections, created)
            .await?;
    }
    let software = match &inv.softwares {
        Some(rows) if history.on() => {
            let written = tx.reconcile_software_diff(id, rows).await?;
            history.software(&written);
            Some(written.change)
        }
        Some(rows) => Some(tx.reconcile_software(id, rows).await?),
        None => None,
    };
    if software.is_some_and(|s| s.inserted > 0) {
        software::ingest::categorise_new_software(&mut tx, options, id).await?;
    }

    if options.on("DOWNLOAD") {
        if let Some(history) = &inv.download_history {
            tx.sync_download_history(id, history, options.on("INVENTORY_WRITE_DIFF"))
                .await?;
        }
    }
    let discovered =
        ipdiscover::results::after_inventory(&mut tx, options, &meta.user_agent, id, inv, now)
            .await?;
    tx.close_prolog_session(&inv.deviceid).await?;

    let recorded = history.len();
    history.write(&mut tx, id, now).await?;

    let merged = merge_duplicates(&mut tx, options, &binding, id, inv, now).await?;
    binding.claim(&mut tx, id, now).await?;
    let reply = account_reply(&mut tx, id, inv, !created || merged > 0).await?;
    // Queued with the inventory it copies: relayed if and only if it is stored.
    forwarding::enqueue(
        &mut tx,
        state,
        &inv.deviceid,
        &meta.user_agent,
        source.raw,
        now,
    )
    .await?;
    tx.commit().await?;

    if options.on("GENERATE_OCS_FILES") {
        files::write_copy(state, options, &inv.deviceid, "", source).await;
    }

    let sections: Vec<String> = changes
        .iter()
        .map(|(name, c)| format!("{name}+{}-{}={}", c.inserted, c.deleted, c.kept))
        .chain(software.map(|s| format!("SOFTWARES+{}-{}={}", s.inserted, s.deleted, s.kept)))
        .collect();
    let summary = format!(
        "{} device, {} sections written{}{}{}{}",
        if created { "new" } else { "known" },
        changes.len(),
        if recorded > 0 && !created {
            format!(", {recorded} change(s) recorded")
        } else {
            String::new()
        },
        if merged > 0 {
            format!(", {merged} duplicate(s) merged")
        } else {
            String::new()
        },
        discovered.summary(),
        match &reply {
            InventoryReply::NoAccountUpdate => ", NO_ACCOUNT_UPDATE",
            InventoryReply::AccountUpdate(_) => ", ACCOUNT_UPDATE",
        }
    );
    if options.int("LOGLEVEL") > 0 {
        tracing::info!(deviceid = %inv.deviceid, sections = %sections.join(" "), "inventory stored");
    } else {
        tracing::debug!(deviceid = %inv.deviceid, sections = %sections.join(" "), "inventory stored");
    }
    Ok(Ingested {
        reply,
        host: id,
        created,
        summary,
    })
}

/// How a present section of a known device is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// The CHECKSUM says it did not change.
    Skip,
    /// Row by row: equal rows are left untouched.
    Merge,
    /// Delete the device's rows, insert the sent ones.
    Replace,
}

/// Sections the agent flags as changed are rewritten (or merged with INVENTORY_WRITE_DIFF);
/// sections it cannot flag (no CHECKSUM bit, or a bit FusionInventory never computes) are
/// merged row by row, which stores the same rows as a rewrite without touching equal ones.
fn plan(
    section: &Section,
    checksum: Option<u64>,
    fusion: bool,
    honour_checksum: bool,
    row_diff: bool,
) -> Write {
    let unflaggable = section.mask == 0 || (fusion && section.mask & FUSION_CHECKSUM_BITS == 0);
    if unflaggable {
        return Write::Merge;
    }
    if honour_checksum && !section.changed(checksum) {
        return Write::Skip;
    }
    if row_diff {
        Write::Merge
    } else {
        Write::Replace
    }
}

fn hardware_update(
    inv: &Inventory,
    meta: &AgentMeta,
    old_checksum: i64,
    now: i64,
) -> HardwareUpdate {
    let keep_userid = reports_system_account(inv);
    // The device's address is the interface the request came from, when it is one of them.
    let peer = meta.peer.to_string();
    let ipaddr = inv
        .column_texts("NETWORKS", "IPADDRESS")
        .into_iter()
        .find(|ip| *ip == peer)
        .map(str::to_owned)
        .or_else(|| inv.hardware_text("IPADDR").map(str::to_owned));
    let sent = inv.checksum.unwrap_or(ALL_SECTIONS_CHANGED);
    HardwareUpdate {
        row: inv.hardware.clone(),
        keep_userid,
        ipaddr,
        ipsrc: peer,
        useragent: meta.user_agent.clone(),
        lastdate: now,
        lastcome: now,
        checksum: old_checksum | i64::try_from(sent).unwrap_or(i64::MAX) | 1,
    }
}

/// Whether the logged-in user reported is a system account (`SYSTEM`, `LocalSystem`): the
/// stored user is then kept, as the original does.
fn reports_system_account(inv: &Inventory) -> bool {
    inv.hardware_text("USERID")
        .is_some_and(|u| u.to_ascii_lowercase().contains("system"))
}

/// OLD_DEVICEID first, then the AUTO_DUPLICATE_LVL criteria. Returns how many were merged.
async fn merge_duplicates(
    tx: &mut WriteTx,
    options: &Options,
    binding: &Binding<'_>,
    id: HostId,
    inv: &Inventory,
    now: i64,
) -> Result<usize, AppError> {
    // Automatic merges are logged, and can be undone, as merges by hand are.
    let merge = |old: HostId, criteria: String| MergeRequest {
        kept: id,
        merged: vec![old],
        reason: MergeReason::Automatic,
        criteria,
        by: "agent".to_owned(),
        now,
        trace: options.on("TRACE_DELETED"),
        sent_checksum: inv.checksum,
        keep_old_userid: reports_system_account(inv),
    };
    let mut merged = 0;
    if let Some(old) = &inv.old_deviceid {
        if let Some(old) = tx.find_host(old).await?.filter(|h| h.id != id) {
            binding.check(tx, old.id, "OLD_DEVICEID takeover").await?;
            if tx
                .merge_logged(&merge(old.id, "OLD_DEVICEID".to_owned()))
                .await?
                .is_some()
            {
                merged += 1;
            }
        }
    }
    let level = options.int("AUTO_DUPLICATE_LVL");
    let criteria = DuplicateCriteria {
        level,
        name: inv.hardware_text("NAME").map(str::to_owned),
        serial: inv.single_text("BIOS", "SSN").map(str::to_owned),
        macs: inv
            .column_texts("NETWORKS", "MACADDR")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        model: inv.single_text("BIOS", "SMODEL").map(str::to_owned),
        uuid: inv.hardware_text("UUID").map(str::to_owned),
        assettag: inv.single_text("BIOS", "ASSETTAG").map(str::to_owned),
    };
    for old in tx.find_duplicates(id, &criteria).await? {
        binding.check(tx, old, "duplicate merge").await?;
        if tx
            .merge_logged(&merge(old, format!("AUTO_DUPLICATE_LVL={level}")))
            .await?
            .is_some()
        {
            merged += 1;
        }
    }
    Ok(merged)
}

/// The ACCOUNTINFO reply: a known (or merged) device whose agent sent nothing, something
/// different or a different number of entries gets the stored values back.
async fn account_reply(
    tx: &mut WriteTx,
    id: HostId,
    inv: &Inventory,
    known: bool,
) -> Result<InventoryReply, AppError> {
    if !known {
        return Ok(InventoryReply::NoAccountUpdate);
    }
    match tx.accountinfo(id).await? {
        Some(stored) => {
            let update = match &inv.accountinfo {
                None => true,
                Some(sent) => {
                    sent.len() != stored.len()
                        || sent.iter().any(|(k, v)| {
                            stored
                                .iter()
                                .find(|(sk, _)| sk.eq_ignore_ascii_case(k))
                                .is_none_or(|(_, sv)| sv != v)
                        })
                }
            };
            Ok(if update {
                InventoryReply::AccountUpdate(stored)
            } else {
                InventoryReply::NoAccountUpdate
            })
        }
        None => {
            // Known device without administrative data (damaged database): store what was
            // sent with TAG "LOST", and tell the agent.
            let mut entries = inv.accountinfo.clone().unwrap_or_default();
            entries.retain(|(k, _)| !k.eq_ignore_ascii_case(TAG));
            entries.insert(0, (TAG.to_owned(), "LOST".to_owned()));
            tx.write_accountinfo(id, &entries).await?;
            Ok(InventoryReply::AccountUpdate(entries))
        }
    }
}

/// Whether an address is in TRUSTED_IP (comma- or space-separated IPs and CIDR ranges).
pub fn is_trusted(peer: IpAddr, list: &str) -> bool {
    crate::app::addresses::in_list(peer, list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(is_trusted(ip("127.0.0.1"), "127.0.0.1"));
        assert!(!is_trusted(ip("10.0.0.1"), "127.0.0.1"));
        assert!(is_trusted(ip("10.1.2.3"), "127.0.0.1, 10.0.0.0/8"));
        assert!(is_trusted(ip("::1"), "::1/128"));
        assert!(!is_trusted(ip("10.1.2.3"), "garbage/99"));
    }

    #[test]
    fn write_plans() {
        let section = |name| ocs_proto::catalogue::section(name).unwrap();
        assert_eq!(
            plan(section("CPUS"), Some(1), false, true, false),
            Write::Skip
        );
        assert_eq!(
            plan(section("CPUS"), Some(1), true, true, false),
            Write::Merge,
            "FusionInventory never flags CPUS"
        );
        assert_eq!(
            plan(section("DRIVES"), Some(513), true, true, false),
            Write::Replace
        );
        assert_eq!(
            plan(section("DRIVES"), Some(1), true, true, false),
            Write::Skip
        );
        assert_eq!(
            plan(section("DRIVES"), Some(1), false, false, false),
            Write::Replace,
            "INVENTORY_DIFF off"
        );
        assert_eq!(
            plan(section("DRIVES"), None, false, true, true),
            Write::Merge,
            "INVENTORY_WRITE_DIFF on"
        );
        assert_eq!(
            plan(section("REPOSITORY"), Some(1), false, true, false),
            Write::Merge,
            "no bit"
        );
    }
}
