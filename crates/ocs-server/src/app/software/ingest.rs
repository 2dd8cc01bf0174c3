//! The category rules applied to an inventory's software, inside its transaction: the
//! computer's triples that have no category yet get the one the rules (or the
//! `DEFAULT_CATEGORY` option) give them. A fleet without rules pays one small read.

use std::collections::HashMap;

use ocs_storage::software_categories::NEW_CATEGORY;
use ocs_storage::{HostId, WriteTx};

use super::rules::{categorise, compile, OsFamily};
use crate::app::options::Options;
use crate::app::AppError;

/// Categorises a computer's uncategorised software; returns the links written.
pub async fn categorise_new_software(
    tx: &mut WriteTx,
    options: &Options,
    host: HostId,
) -> Result<u64, AppError> {
    let rules = tx.software_category_rules().await?;
    let default = options.int("DEFAULT_CATEGORY");
    let wants_default = default != 0 && default != NEW_CATEGORY;
    if rules.is_empty() && !wants_default {
        return Ok(0);
    }
    let systems: HashMap<i64, String> = tx.software_category_systems().await?.into_iter().collect();
    // An option naming a deleted category must not fail the inventory: it counts as NEW.
    let default = (wants_default && systems.contains_key(&default)).then_some(default);
    let rules = compile(&rules, &systems);
    let unlinked = tx.unlinked_software(host).await?;
    let links: Vec<_> = unlinked
        .iter()
        .filter_map(|t| {
            let os = OsFamily::of(t.osname.as_deref(), t.useragent.as_deref());
            categorise(&rules, &t.name, &t.publisher, &t.version, os)
                .or(default)
                .filter(|c| *c != NEW_CATEGORY)
                .map(|c| (t.triple, c))
        })
        .collect();
    if links.is_empty() {
        return Ok(0);
    }
    Ok(tx.link_software_by_rules(&links).await?)
}
