//! After each inventory (reference §5.3, §5.4): gathers what the election needs inside the
//! inventory's transaction, applies [`election::decide`], and stores the hosts an elected
//! computer found. The rules live in [`election`]; this module only reads, writes and logs.

use ocs_proto::inventory::Inventory;
use ocs_proto::useragent;
use ocs_storage::ipdiscover::election::{ElectionRow, ScannerState};
use ocs_storage::ipdiscover::netmap::ScannedNetwork;
use ocs_storage::{HostId, WriteTx};

use crate::app::ipdiscover::election::{
    self, Candidate, Current, Decision, Elected, Election, Fleet, Interface, Network, Removal,
    Rules,
};
use crate::app::options::Options;
use crate::app::AppError;

/// What the election did to the computer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// It was elected on `subnet`.
    Elected {
        /// The network.
        subnet: String,
        /// How.
        how: Election,
    },
    /// It lost its election on `subnet`.
    Removed {
        /// The network.
        subnet: String,
        /// Why.
        why: Removal,
    },
}

/// What IP discovery did after an inventory, for the inventory's log line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Hosts stored in `netmap`.
    pub stored: usize,
    /// Hosts skipped (not an address and a MAC, or another TAG's).
    pub skipped: usize,
    /// The election change, if any.
    pub change: Option<Change>,
}

impl Outcome {
    /// A fragment of the inventory's summary (empty when nothing happened).
    pub fn summary(&self) -> String {
        let mut out = String::new();
        if self.stored > 0 || self.skipped > 0 {
            out.push_str(&format!(", {} discovered hosts", self.stored));
            if self.skipped > 0 {
                out.push_str(&format!(" ({} skipped)", self.skipped));
            }
        }
        match &self.change {
            Some(Change::Elected { subnet, how }) => {
                out.push_str(&format!(
                    ", elected for IP discovery on {subnet} ({})",
                    how.code()
                ));
            }
            Some(Change::Removed { subnet, why }) => {
                out.push_str(&format!(
                    ", no longer elected for IP discovery on {subnet} ({})",
                    why.code()
                ));
            }
            None => {}
        }
        out
    }
}

/// Runs the election for computer `id`, which just sent `inv`, and stores its results when it
/// is elected. Everything goes through `tx`, the inventory's transaction.
pub async fn after_inventory(
    tx: &mut WriteTx,
    options: &Options,
    user_agent: &str,
    id: HostId,
    inv: &Inventory,
    now: i64,
) -> Result<Outcome, AppError> {
    let rules = election::rules(options);
    // The refusals that need no read first.
    if rules.max_per_subnet == 0 || useragent::is_local(user_agent) {
        return Ok(Outcome::default());
    }
    let state = tx.get_scanner_state(id).await?;
    let mut candidate = candidate(user_agent, &state, inv);
    // Group exclusion only changes anything for a computer that could scan (a
    // FusionInventory computer never elected is skipped either way): no read for the others.
    if rules.use_groups && election::could_scan(&candidate) {
        candidate.in_excluded_group = tx.is_excluded_by_group(id).await?;
    }
    let fleet = fleet(tx, &rules, &candidate, &state, now).await?;
    let decision = election::decide(&rules, &candidate, &fleet);
    apply(tx, &rules, id, &state, inv, decision, now).await
}

/// The computer as the election sees it; whether a group excludes it is read separately.
fn candidate(user_agent: &str, state: &ScannerState, inv: &Inventory) -> Candidate {
    Candidate {
        user_agent: user_agent.to_owned(),
        fidelity: state.fidelity,
        quality: state.quality,
        tag: state.tag.clone(),
        current: state.election.as_ref().map(|e: &ElectionRow| Current {
            ivalue: e.ivalue,
            subnet: e.subnet.clone(),
        }),
        in_excluded_group: false,
        sent_results: inv.ipdiscover.is_some(),
        interfaces: interfaces(inv),
    }
}

/// The inventory's NETWORKS entries, in order.
fn interfaces(inv: &Inventory) -> Vec<Interface> {
    let Some(rows) = inv.section("NETWORKS") else {
        return Vec::new();
    };
    let index = |name: &str| rows.section.field_index(name);
    let (description, status, ipmask, ipsubnet) = (
        index("DESCRIPTION"),
        index("STATUS"),
        index("IPMASK"),
        index("IPSUBNET"),
    );
    let text = |row: &[ocs_proto::Value], at: Option<usize>| {
        at.and_then(|i| row.get(i))
            .and_then(|v| v.as_text())
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    rows.rows
        .iter()
        .map(|row| Interface {
            description: text(row, description),
            status: text(row, status),
            ipmask: text(row, ipmask),
            ipsubnet: text(row, ipsubnet),
        })
        .collect()
}

/// Reads the facts of the networks the decision needs.
async fn fleet(
    tx: &mut WriteTx,
    rules: &Rules,
    candidate: &Candidate,
    state: &ScannerState,
    now: i64,
) -> Result<Fleet, AppError> {
    let tag = rules.link_tag.then_some(state.tag.as_str());
    let mut networks = Vec::new();
    for (subnet, mask) in election::networks_needed(rules, candidate) {
        let blacklisted = tx.is_subnet_blacklisted(&subnet, mask.as_deref()).await?;
        let elected = tx.count_elected(&subnet, tag).await?;
        let automatic = tx
            .list_automatic_elected(&subnet, None)
            .await?
            .into_iter()
            .map(|e| Elected {
                id: e.id,
                lastdate: e.lastdate,
                quality: e.quality,
                tag: e.tag,
            })
            .collect();
        networks.push(Network {
            subnet,
            mask,
            blacklisted,
            elected,
            automatic,
        });
    }
    Ok(Fleet { now, networks })
}

async fn apply(
    tx: &mut WriteTx,
    rules: &Rules,
    id: HostId,
    state: &ScannerState,
    inv: &Inventory,
    decision: Decision,
    now: i64,
) -> Result<Outcome, AppError> {
    let mut outcome = Outcome::default();
    let (store_on, removal) = match decision {
        Decision::Skip(_) => return Ok(outcome),
        Decision::Keep { subnet, store } => (store.then_some(subnet), None),
        Decision::Remove { subnet, store, why } => {
            (store.then(|| subnet.clone()), Some((subnet, why)))
        }
        Decision::Elect { subnet, how } => {
            let done = match how.replaced() {
                None => {
                    tx.insert_election(id, &subnet, &how.code()).await?;
                    true
                }
                Some(old) => tx.replace_election(old, id, &how.code()).await?,
            };
            if done {
                tracing::info!(
                    host = id.0,
                    subnet = %subnet,
                    reason = %how.code(),
                    replaced = how.replaced().map(|h| h.0),
                    "elected for IP discovery"
                );
                outcome.change = Some(Change::Elected { subnet, how });
            }
            return Ok(outcome);
        }
    };
    if let (Some(subnet), Some(hosts)) = (store_on, &inv.ipdiscover) {
        let mask = election_mask(inv, &subnet);
        let network = ScannedNetwork {
            netid: &subnet,
            mask: mask.as_deref(),
            tag: rules.link_tag.then_some(state.tag.as_str()),
        };
        let done = tx.store_netmap(id, network, hosts, now).await?;
        outcome.stored = done.stored;
        outcome.skipped = done.skipped;
    }
    if let Some((subnet, why)) = removal {
        if tx.delete_automatic_election(id).await? {
            tracing::info!(
                host = id.0,
                subnet = %subnet,
                reason = why.code(),
                "no longer elected for IP discovery"
            );
            outcome.change = Some(Change::Removed { subnet, why });
        }
    }
    Ok(outcome)
}

/// IPMASK of the inventory's interface on the elected network.
fn election_mask(inv: &Inventory, subnet: &str) -> Option<String> {
    interfaces(inv)
        .into_iter()
        .find(|i| i.ipsubnet == subnet)
        .map(|i| i.ipmask)
        .filter(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_what_happened() {
        assert_eq!(Outcome::default().summary(), "");
        let o = Outcome {
            stored: 3,
            skipped: 1,
            change: Some(Change::Removed {
                subnet: "192.0.2.0".into(),
                why: Removal::TooMany,
            }),
        };
        assert_eq!(
            o.summary(),
            ", 3 discovered hosts (1 skipped), no longer elected for IP discovery on 192.0.2.0 (too_many)"
        );
        let o = Outcome {
            change: Some(Change::Elected {
                subnet: "192.0.2.0".into(),
                how: Election::ReplacedStale(HostId(4)),
            }),
            ..Outcome::default()
        };
        assert_eq!(
            o.summary(),
            ", elected for IP discovery on 192.0.2.0 (replaced_stale:4)"
        );
    }
}
