//! The IP discovery election rules (reference §5.3), as one pure function: [`decide`] says,
//! from the options ([`Rules`]), the computer that just sent an inventory ([`Candidate`]) and
//! what the database says of its networks ([`Fleet`]), whether it keeps, loses or gains the
//! duty of scanning a network. It reads and writes nothing; [`super::results`] gathers the
//! facts, applies the decision and stores the scan results.

use ocs_proto::useragent;
use ocs_storage::HostId;

use crate::app::options::Options;

const DAY: i64 = 86_400;

/// Agents that can be elected automatically (not FusionInventory, not the mobile agents):
/// the ones that know how to scan.
const ELIGIBLE_AGENTS: &[&str] = &[
    "OCS-NG_unified_unix_agent",
    "OCS-NG_windows_client",
    "OCS-NG_WINDOWS_AGENT",
];

/// The options the election follows.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// `IPDISCOVER`: computers elected per network; 0 turns IP discovery off.
    pub max_per_subnet: i64,
    /// `IPDISCOVER_MAX_ALIVE`: days without inventory after which an elected computer is
    /// replaced by any candidate.
    pub max_alive_days: i64,
    /// `IPDISCOVER_BETTER_THRESHOLD`: how much lower (days) a candidate's QUALITY must be to
    /// replace the worst elected computer.
    pub better_threshold: f64,
    /// `IPDISCOVER_NO_POSTPONE`: elect without waiting for the third contact.
    pub no_postpone: bool,
    /// `IPDISCOVER_LINK_TAG_NETWORK`: networks are counted and replaced per TAG.
    pub link_tag: bool,
    /// `ENABLE_GROUPS` and `IPDISCOVER_USE_GROUPS`: a group with IPDISCOVER 0 excludes its
    /// members.
    pub use_groups: bool,
}

/// The election options in effect.
pub fn rules(options: &Options) -> Rules {
    Rules {
        max_per_subnet: options.int("IPDISCOVER"),
        max_alive_days: options.int("IPDISCOVER_MAX_ALIVE"),
        better_threshold: options.int("IPDISCOVER_BETTER_THRESHOLD") as f64,
        no_postpone: options.on("IPDISCOVER_NO_POSTPONE"),
        link_tag: options.on("IPDISCOVER_LINK_TAG_NETWORK"),
        use_groups: options.on("ENABLE_GROUPS") && options.on("IPDISCOVER_USE_GROUPS"),
    }
}

/// A computer's own `IPDISCOVER` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// 0 never, 1 automatic, 2 forced.
    pub ivalue: i64,
    /// The network it scans, if any.
    pub subnet: Option<String>,
}

/// One NETWORKS entry of the inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    /// DESCRIPTION.
    pub description: String,
    /// STATUS.
    pub status: String,
    /// IPMASK.
    pub ipmask: String,
    /// IPSUBNET.
    pub ipsubnet: String,
}

/// The computer that sent the inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Its User-Agent.
    pub user_agent: String,
    /// Number of contacts (this inventory's PROLOG included).
    pub fidelity: i64,
    /// Running mean of days between contacts (lower is better).
    pub quality: f64,
    /// Its TAG.
    pub tag: String,
    /// Its `IPDISCOVER` row.
    pub current: Option<Current>,
    /// Whether a group it belongs to has IPDISCOVER 0.
    pub in_excluded_group: bool,
    /// Whether the inventory has an IPDISCOVER section.
    pub sent_results: bool,
    /// Its NETWORKS entries, in the inventory's order.
    pub interfaces: Vec<Interface>,
}

/// A computer elected automatically on a network.
#[derive(Debug, Clone, PartialEq)]
pub struct Elected {
    /// The computer.
    pub id: HostId,
    /// Its last inventory.
    pub lastdate: Option<i64>,
    /// Its QUALITY.
    pub quality: f64,
    /// Its TAG.
    pub tag: String,
}

/// What the database says of one of the candidate's networks.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// IPSUBNET.
    pub subnet: String,
    /// IPMASK of the candidate's interface on it (None: the candidate has none).
    pub mask: Option<String>,
    /// Whether it is in `blacklist_subnet`.
    pub blacklisted: bool,
    /// Computers elected on it (forced ones included; with TAG linking, of the candidate's TAG).
    pub elected: i64,
    /// Computers elected automatically on it (of every TAG: [`decide`] filters).
    pub automatic: Vec<Elected>,
}

/// The facts [`decide`] reads, for the networks [`networks_needed`] named.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fleet {
    /// Now (Unix seconds).
    pub now: i64,
    /// The networks.
    pub networks: Vec<Network>,
}

impl Fleet {
    fn network(&self, subnet: &str, mask: Option<&str>) -> Option<&Network> {
        self.networks
            .iter()
            .find(|n| n.subnet == subnet && n.mask.as_deref() == mask)
    }
}

/// Why nothing changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Option IPDISCOVER is 0.
    Disabled,
    /// A "local" User-Agent.
    Local,
    /// The computer's IPDISCOVER is 0 (never).
    Never,
    /// A group it belongs to has IPDISCOVER 0.
    ExcludedGroup,
    /// Its agent cannot be elected automatically.
    Agent,
    /// Fewer than three contacts, or no QUALITY yet.
    Postponed,
    /// No interface qualifies (ppp, down, wider than /16, no subnet, blacklisted).
    NoNetwork,
    /// Every network it is on is full and no elected computer there can be replaced.
    NoSlot,
}

/// Why an election is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The inventory brought no IPDISCOVER section.
    NoResults,
    /// More computers than option IPDISCOVER are elected on the network.
    TooMany,
    /// The network is in `blacklist_subnet`.
    Blacklisted,
}

impl Removal {
    /// The short code logged.
    pub fn code(self) -> &'static str {
        match self {
            Removal::NoResults => "no_results",
            Removal::TooMany => "too_many",
            Removal::Blacklisted => "blacklisted",
        }
    }
}

/// How a computer gets elected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Election {
    /// The network had fewer elected computers than option IPDISCOVER.
    FreeSlot,
    /// It replaces a computer that sent no inventory for IPDISCOVER_MAX_ALIVE days.
    ReplacedStale(HostId),
    /// It replaces the worst elected computer, whose QUALITY is higher by more than
    /// IPDISCOVER_BETTER_THRESHOLD.
    ReplacedQuality(HostId),
}

impl Election {
    /// The short code kept in `devices.comments` and shown by the scanning-computers page.
    pub fn code(self) -> String {
        match self {
            Election::FreeSlot => "free_slot".to_owned(),
            Election::ReplacedStale(old) => format!("replaced_stale:{}", old.0),
            Election::ReplacedQuality(old) => format!("replaced_quality:{}", old.0),
        }
    }

    /// The computer replaced, if any.
    pub fn replaced(self) -> Option<HostId> {
        match self {
            Election::FreeSlot => None,
            Election::ReplacedStale(old) | Election::ReplacedQuality(old) => Some(old),
        }
    }
}

/// What to do after an inventory.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing.
    Skip(Skip),
    /// Stays elected on `subnet`; `store` says whether there are results to store.
    Keep {
        /// The network scanned.
        subnet: String,
        /// Whether results came.
        store: bool,
    },
    /// Loses its election on `subnet`, after storing the results when `store`.
    Remove {
        /// The network it scanned.
        subnet: String,
        /// Whether results came (stored before the removal).
        store: bool,
        /// Why.
        why: Removal,
    },
    /// Becomes the scanner of `subnet`.
    Elect {
        /// The network.
        subnet: String,
        /// How.
        how: Election,
    },
}

/// The networks (address, mask of the candidate's interface on it) whose facts [`decide`]
/// needs: the elected one, or those of the interfaces that could be elected. Empty when the
/// decision needs none.
pub fn networks_needed(rules: &Rules, c: &Candidate) -> Vec<(String, Option<String>)> {
    if precheck(rules, c).is_some() {
        return Vec::new();
    }
    if let Some(subnet) = elected_subnet(c) {
        if !c.sent_results {
            return Vec::new();
        }
        return vec![(subnet.to_owned(), mask_on(c, subnet).map(str::to_owned))];
    }
    if postponed(rules, c).is_some() {
        return Vec::new();
    }
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for iface in c.interfaces.iter().filter(|i| qualifies(i)) {
        let key = (iface.ipsubnet.clone(), Some(iface.ipmask.clone()));
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

/// The election rules of reference §5.3.
pub fn decide(rules: &Rules, c: &Candidate, fleet: &Fleet) -> Decision {
    if let Some(skip) = precheck(rules, c) {
        return Decision::Skip(skip);
    }
    if let Some(subnet) = elected_subnet(c) {
        return already_elected(rules, c, fleet, subnet);
    }
    if let Some(skip) = postponed(rules, c) {
        return Decision::Skip(skip);
    }
    let usable: Vec<&Network> = c
        .interfaces
        .iter()
        .filter(|i| qualifies(i))
        .filter_map(|i| fleet.network(&i.ipsubnet, Some(&i.ipmask)))
        .filter(|n| !n.blacklisted)
        .collect();
    if usable.is_empty() {
        return Decision::Skip(Skip::NoNetwork);
    }
    if let Some(n) = usable.iter().find(|n| n.elected < rules.max_per_subnet) {
        return Decision::Elect {
            subnet: n.subnet.clone(),
            how: Election::FreeSlot,
        };
    }
    for n in &usable {
        if let Some(how) = replacement(rules, c, fleet.now, n) {
            return Decision::Elect {
                subnet: n.subnet.clone(),
                how,
            };
        }
    }
    Decision::Skip(Skip::NoSlot)
}

/// What stops all processing, elected or not.
fn precheck(rules: &Rules, c: &Candidate) -> Option<Skip> {
    if rules.max_per_subnet == 0 {
        return Some(Skip::Disabled);
    }
    if useragent::is_local(&c.user_agent) {
        return Some(Skip::Local);
    }
    if c.current.as_ref().is_some_and(|e| e.ivalue == 0) {
        return Some(Skip::Never);
    }
    if rules.use_groups && c.in_excluded_group {
        return Some(Skip::ExcludedGroup);
    }
    None
}

/// Whether computers running this agent may be elected automatically.
fn eligible_agent(user_agent: &str) -> bool {
    let (name, _) = useragent::split(user_agent);
    ELIGIBLE_AGENTS.contains(&name)
}

/// Whether `c` is elected, or could be: only then can anything of its election change.
pub fn could_scan(c: &Candidate) -> bool {
    elected_subnet(c).is_some() || eligible_agent(&c.user_agent)
}

/// What stops an automatic election of a computer not elected.
fn postponed(rules: &Rules, c: &Candidate) -> Option<Skip> {
    if !eligible_agent(&c.user_agent) {
        return Some(Skip::Agent);
    }
    // Three contacts give QUALITY a meaning: a computer seen once cannot be judged.
    let judged = c.fidelity > 2 && c.quality != 0.0;
    if !(rules.no_postpone || judged) {
        return Some(Skip::Postponed);
    }
    None
}

fn elected_subnet(c: &Candidate) -> Option<&str> {
    c.current
        .as_ref()
        .filter(|e| e.ivalue != 0)
        .and_then(|e| e.subnet.as_deref())
}

fn mask_on<'a>(c: &'a Candidate, subnet: &str) -> Option<&'a str> {
    c.interfaces
        .iter()
        .find(|i| i.ipsubnet == subnet)
        .map(|i| i.ipmask.as_str())
        .filter(|m| !m.is_empty())
}

fn already_elected(rules: &Rules, c: &Candidate, fleet: &Fleet, subnet: &str) -> Decision {
    let forced = c.current.as_ref().is_some_and(|e| e.ivalue == 2);
    let subnet_owned = subnet.to_owned();
    if !c.sent_results {
        return if forced {
            Decision::Keep {
                subnet: subnet_owned,
                store: false,
            }
        } else {
            Decision::Remove {
                subnet: subnet_owned,
                store: false,
                why: Removal::NoResults,
            }
        };
    }
    let network = fleet.network(subnet, mask_on(c, subnet));
    let why = match network {
        _ if forced => None,
        Some(n) if n.elected > rules.max_per_subnet => Some(Removal::TooMany),
        Some(n) if n.blacklisted => Some(Removal::Blacklisted),
        _ => None,
    };
    match why {
        Some(why) => Decision::Remove {
            subnet: subnet_owned,
            store: true,
            why,
        },
        None => Decision::Keep {
            subnet: subnet_owned,
            store: true,
        },
    }
}

/// An interface that may be scanned from: not a dial-up link, up, no wider than /16, with a
/// network address.
fn qualifies(i: &Interface) -> bool {
    let mask = i.ipmask.to_ascii_lowercase();
    !i.description.contains("ppp")
        && i.status.to_ascii_lowercase().contains("up")
        && (mask.starts_with("255.255.") || mask.starts_with("0xffff"))
        && ocs_storage::ipdiscover::netmap::is_dotted_quad(&i.ipsubnet)
}

/// A stale elected computer first (the longest silent), else the worst one if the candidate
/// is better by more than the threshold.
fn replacement(rules: &Rules, c: &Candidate, now: i64, n: &Network) -> Option<Election> {
    let peers: Vec<&Elected> = n
        .automatic
        .iter()
        .filter(|e| !rules.link_tag || e.tag == c.tag)
        .collect();
    let stale_before = now - rules.max_alive_days * DAY;
    let stale = peers
        .iter()
        .filter(|e| e.lastdate.is_none_or(|d| d < stale_before))
        .min_by_key(|e| e.lastdate.unwrap_or(i64::MIN));
    if let Some(old) = stale {
        return Some(Election::ReplacedStale(old.id));
    }
    let worst = peers
        .iter()
        .max_by(|a, b| a.quality.total_cmp(&b.quality))?;
    (c.quality < worst.quality && worst.quality - c.quality > rules.better_threshold)
        .then_some(Election::ReplacedQuality(worst.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000 * DAY;
    const NET: &str = "192.0.2.0";
    const MASK: &str = "255.255.255.0";
    const UNIX: &str = "OCS-NG_unified_unix_agent_v2.10.0";

    fn defaults() -> Rules {
        rules(&Options::defaults())
    }

    fn lan() -> Interface {
        Interface {
            description: "eth0".into(),
            status: "Up".into(),
            ipmask: MASK.into(),
            ipsubnet: NET.into(),
        }
    }

    fn candidate() -> Candidate {
        Candidate {
            user_agent: UNIX.into(),
            fidelity: 3,
            quality: 1.0,
            tag: "NA".into(),
            current: None,
            in_excluded_group: false,
            sent_results: false,
            interfaces: vec![lan()],
        }
    }

    fn elected(id: i64, lastdate: i64, quality: f64, tag: &str) -> Elected {
        Elected {
            id: HostId(id),
            lastdate: Some(lastdate),
            quality,
            tag: tag.into(),
        }
    }

    fn network(subnet: &str, mask: &str, elected: i64, automatic: Vec<Elected>) -> Network {
        Network {
            subnet: subnet.into(),
            mask: Some(mask.into()),
            blacklisted: false,
            elected,
            automatic,
        }
    }

    fn fleet(networks: Vec<Network>) -> Fleet {
        Fleet { now: NOW, networks }
    }

    /// The facts for every network the candidate needs, from `known` or empty.
    fn facts_for(r: &Rules, c: &Candidate, known: Vec<Network>) -> Fleet {
        let networks = networks_needed(r, c)
            .into_iter()
            .map(|(subnet, mask)| {
                known
                    .iter()
                    .find(|n| n.subnet == subnet && n.mask == mask)
                    .cloned()
                    .unwrap_or(Network {
                        subnet,
                        mask,
                        blacklisted: false,
                        elected: 0,
                        automatic: Vec::new(),
                    })
            })
            .collect();
        fleet(networks)
    }

    fn run(r: &Rules, c: &Candidate, known: Vec<Network>) -> Decision {
        decide(r, c, &facts_for(r, c, known))
    }

    fn free_slot() -> Decision {
        Decision::Elect {
            subnet: NET.into(),
            how: Election::FreeSlot,
        }
    }

    fn full(automatic: Vec<Elected>) -> Vec<Network> {
        vec![network(NET, MASK, 2, automatic)]
    }

    fn elected_as(ivalue: i64) -> Candidate {
        Candidate {
            current: Some(Current {
                ivalue,
                subnet: Some(NET.into()),
            }),
            sent_results: true,
            ..candidate()
        }
    }

    #[test]
    fn only_an_elected_computer_or_an_eligible_agent_could_scan() {
        const FUSION: &str = "FusionInventory-Agent_v2.6";
        assert!(could_scan(&candidate()));
        let fusion = Candidate {
            user_agent: FUSION.into(),
            ..candidate()
        };
        assert!(!could_scan(&fusion));
        let forced_fusion = Candidate {
            user_agent: FUSION.into(),
            ..elected_as(2)
        };
        assert!(could_scan(&forced_fusion));
        let never = Candidate {
            user_agent: FUSION.into(),
            ..elected_as(0)
        };
        assert!(!could_scan(&never));
    }

    #[test]
    fn options_are_read_with_the_originals_defaults() {
        assert_eq!(
            defaults(),
            Rules {
                max_per_subnet: 2,
                max_alive_days: 7,
                better_threshold: 1.0,
                no_postpone: false,
                link_tag: false,
                use_groups: true,
            }
        );
    }

    #[test]
    fn a_computer_on_a_network_with_a_free_slot_is_elected() {
        assert_eq!(run(&defaults(), &candidate(), vec![]), free_slot());
        assert_eq!(
            run(
                &defaults(),
                &candidate(),
                vec![network(NET, MASK, 1, vec![])]
            ),
            free_slot()
        );
    }

    #[test]
    fn option_ipdiscover_0_skips_everything() {
        let r = Rules {
            max_per_subnet: 0,
            ..defaults()
        };
        assert_eq!(
            run(&r, &candidate(), vec![]),
            Decision::Skip(Skip::Disabled)
        );
        assert_eq!(
            run(&r, &elected_as(1), vec![]),
            Decision::Skip(Skip::Disabled)
        );
    }

    #[test]
    fn local_user_agents_are_skipped() {
        let c = Candidate {
            user_agent: "OCS-NG_INJECTOR_PL_local_v3".into(),
            ..elected_as(1)
        };
        assert_eq!(run(&defaults(), &c, vec![]), Decision::Skip(Skip::Local));
    }

    #[test]
    fn a_computer_set_to_never_is_skipped() {
        let c = Candidate {
            current: Some(Current {
                ivalue: 0,
                subnet: Some(NET.into()),
            }),
            ..candidate()
        };
        assert_eq!(run(&defaults(), &c, vec![]), Decision::Skip(Skip::Never));
    }

    #[test]
    fn a_member_of_an_excluding_group_is_skipped_when_groups_are_used() {
        let c = Candidate {
            in_excluded_group: true,
            ..elected_as(2)
        };
        assert_eq!(
            run(&defaults(), &c, vec![]),
            Decision::Skip(Skip::ExcludedGroup)
        );
        let r = Rules {
            use_groups: false,
            ..defaults()
        };
        assert_eq!(
            run(&r, &c, vec![]),
            Decision::Keep {
                subnet: NET.into(),
                store: true
            }
        );
    }

    #[test]
    fn only_the_unix_and_windows_agents_are_eligible() {
        for ua in [
            "OCS-NG_unified_unix_agent_v2.10.0",
            "OCS-NG_WINDOWS_AGENT_v2.11.0.1",
            "OCS-NG_windows_client_v4061",
        ] {
            let c = Candidate {
                user_agent: ua.into(),
                ..candidate()
            };
            assert_eq!(run(&defaults(), &c, vec![]), free_slot(), "{ua}");
        }
        for ua in [
            "FusionInventory-Agent_v2.6-3",
            "OCS-NG_Android_agent_v2.1",
            "OCS-NG_windows_mobile_agent_v2.0",
            "curl/8.0",
        ] {
            let c = Candidate {
                user_agent: ua.into(),
                ..candidate()
            };
            assert_eq!(
                run(&defaults(), &c, vec![]),
                Decision::Skip(Skip::Agent),
                "{ua}"
            );
        }
    }

    #[test]
    fn fidelity_must_exceed_2_unless_no_postpone() {
        let c = Candidate {
            fidelity: 2,
            ..candidate()
        };
        assert_eq!(
            run(&defaults(), &c, vec![]),
            Decision::Skip(Skip::Postponed)
        );
        let r = Rules {
            no_postpone: true,
            ..defaults()
        };
        assert_eq!(run(&r, &c, vec![]), free_slot());
    }

    #[test]
    fn quality_must_not_be_0_unless_no_postpone() {
        let c = Candidate {
            quality: 0.0,
            fidelity: 10,
            ..candidate()
        };
        assert_eq!(
            run(&defaults(), &c, vec![]),
            Decision::Skip(Skip::Postponed)
        );
        let r = Rules {
            no_postpone: true,
            ..defaults()
        };
        assert_eq!(run(&r, &c, vec![]), free_slot());
    }

    fn with_interface(i: Interface) -> Candidate {
        Candidate {
            interfaces: vec![i],
            ..candidate()
        }
    }

    #[test]
    fn a_ppp_interface_is_not_used() {
        let c = with_interface(Interface {
            description: "ppp0".into(),
            ..lan()
        });
        assert_eq!(
            run(&defaults(), &c, vec![]),
            Decision::Skip(Skip::NoNetwork)
        );
    }

    #[test]
    fn an_interface_must_be_up_in_any_case() {
        for status in ["Down", ""] {
            let c = with_interface(Interface {
                status: status.into(),
                ..lan()
            });
            assert_eq!(
                run(&defaults(), &c, vec![]),
                Decision::Skip(Skip::NoNetwork)
            );
        }
        for status in ["UP", "up", "Up (connected)"] {
            let c = with_interface(Interface {
                status: status.into(),
                ..lan()
            });
            assert_eq!(run(&defaults(), &c, vec![]), free_slot(), "{status}");
        }
    }

    #[test]
    fn a_mask_wider_than_16_bits_is_not_used() {
        for mask in ["255.0.0.0", "255.254.0.0", "", "0xff000000"] {
            let c = with_interface(Interface {
                ipmask: mask.into(),
                ..lan()
            });
            assert_eq!(
                run(&defaults(), &c, vec![]),
                Decision::Skip(Skip::NoNetwork),
                "{mask}"
            );
        }
        for mask in ["255.255.0.0", "255.255.255.0", "0xffffff00"] {
            let c = with_interface(Interface {
                ipmask: mask.into(),
                ..lan()
            });
            assert!(
                matches!(run(&defaults(), &c, vec![]), Decision::Elect { .. }),
                "{mask}"
            );
        }
    }

    #[test]
    fn the_subnet_must_be_a_dotted_quad() {
        for subnet in ["", "192.0.2", "fe80::", "192.0.2.x"] {
            let c = with_interface(Interface {
                ipsubnet: subnet.into(),
                ..lan()
            });
            assert_eq!(
                run(&defaults(), &c, vec![]),
                Decision::Skip(Skip::NoNetwork),
                "{subnet:?}"
            );
        }
    }

    #[test]
    fn a_blacklisted_subnet_is_not_used() {
        let mut black = network(NET, MASK, 0, vec![]);
        black.blacklisted = true;
        assert_eq!(
            run(&defaults(), &candidate(), vec![black]),
            Decision::Skip(Skip::NoNetwork)
        );
    }

    #[test]
    fn the_first_interface_with_a_free_slot_wins() {
        let c = Candidate {
            interfaces: vec![
                Interface {
                    ipsubnet: "198.51.100.0".into(),
                    ..lan()
                },
                lan(),
                Interface {
                    ipsubnet: "203.0.113.0".into(),
                    ..lan()
                },
            ],
            ..candidate()
        };
        let known = vec![network("198.51.100.0", MASK, 2, vec![])];
        assert_eq!(run(&defaults(), &c, known), free_slot());
    }

    #[test]
    fn at_most_ipdiscover_computers_per_subnet() {
        let r = Rules {
            max_per_subnet: 3,
            ..defaults()
        };
        let known = || vec![network(NET, MASK, 3, vec![elected(7, NOW, 1.0, "NA")])];
        assert_eq!(run(&r, &candidate(), known()), Decision::Skip(Skip::NoSlot));
        let r = Rules {
            max_per_subnet: 4,
            ..r
        };
        assert_eq!(run(&r, &candidate(), known()), free_slot());
    }

    #[test]
    fn a_stale_computer_is_replaced_the_longest_silent_first() {
        let known = full(vec![
            elected(7, NOW - 8 * DAY, 0.1, "NA"),
            elected(8, NOW - 30 * DAY, 0.1, "NA"),
        ]);
        assert_eq!(
            run(&defaults(), &candidate(), known),
            Decision::Elect {
                subnet: NET.into(),
                how: Election::ReplacedStale(HostId(8))
            }
        );
        let fresh = full(vec![elected(7, NOW - 6 * DAY, 0.1, "NA")]);
        assert_eq!(
            run(&defaults(), &candidate(), fresh),
            Decision::Skip(Skip::NoSlot)
        );
    }

    #[test]
    fn staleness_comes_before_quality() {
        let known = full(vec![
            elected(7, NOW, 9.0, "NA"),
            elected(8, NOW - 8 * DAY, 0.1, "NA"),
        ]);
        assert_eq!(
            run(&defaults(), &candidate(), known),
            Decision::Elect {
                subnet: NET.into(),
                how: Election::ReplacedStale(HostId(8))
            }
        );
    }

    #[test]
    fn the_worst_quality_is_replaced_when_mine_is_lower_by_more_than_the_threshold() {
        let known = |worst: f64| {
            full(vec![
                elected(7, NOW, worst, "NA"),
                elected(8, NOW, 1.5, "NA"),
            ])
        };
        let c = candidate();
        assert_eq!(
            run(&defaults(), &c, known(2.5)),
            Decision::Elect {
                subnet: NET.into(),
                how: Election::ReplacedQuality(HostId(7))
            }
        );
        assert_eq!(
            run(&defaults(), &c, known(2.0)),
            Decision::Skip(Skip::NoSlot),
            "a difference of exactly the threshold is not enough"
        );
        let r = Rules {
            better_threshold: 0.0,
            ..defaults()
        };
        assert_eq!(
            run(&r, &c, known(1.2)),
            Decision::Elect {
                subnet: NET.into(),
                how: Election::ReplacedQuality(HostId(8))
            },
            "the worst is 8 now"
        );
    }

    #[test]
    fn forced_computers_are_never_replaced() {
        // The storage lists only automatic elections: a full network of forced computers
        // offers nobody to replace.
        assert_eq!(
            run(&defaults(), &candidate(), full(vec![])),
            Decision::Skip(Skip::NoSlot)
        );
    }

    #[test]
    fn with_tags_linked_only_computers_of_my_tag_are_replaced() {
        let r = Rules {
            link_tag: true,
            ..defaults()
        };
        let c = Candidate {
            tag: "PARIS".into(),
            ..candidate()
        };
        let known = || {
            full(vec![
                elected(7, NOW - 30 * DAY, 9.0, "LYON"),
                elected(8, NOW, 9.0, "PARIS"),
            ])
        };
        assert_eq!(
            run(&r, &c, known()),
            Decision::Elect {
                subnet: NET.into(),
                how: Election::ReplacedQuality(HostId(8))
            }
        );
        assert_eq!(
            run(&defaults(), &c, known()),
            Decision::Elect {
                subnet: NET.into(),
                how: Election::ReplacedStale(HostId(7))
            },
            "unlinked, every TAG counts"
        );
    }

    #[test]
    fn replacement_looks_at_each_network_in_turn() {
        let c = Candidate {
            interfaces: vec![
                lan(),
                Interface {
                    ipsubnet: "198.51.100.0".into(),
                    ..lan()
                },
            ],
            ..candidate()
        };
        let known = vec![
            network(NET, MASK, 2, vec![elected(7, NOW, 1.5, "NA")]),
            network(
                "198.51.100.0",
                MASK,
                2,
                vec![elected(9, NOW - 9 * DAY, 1.0, "NA")],
            ),
        ];
        assert_eq!(
            run(&defaults(), &c, known),
            Decision::Elect {
                subnet: "198.51.100.0".into(),
                how: Election::ReplacedStale(HostId(9))
            }
        );
    }

    #[test]
    fn an_elected_computer_without_results_loses_it_unless_forced() {
        let c = Candidate {
            sent_results: false,
            ..elected_as(1)
        };
        assert_eq!(
            run(&defaults(), &c, vec![]),
            Decision::Remove {
                subnet: NET.into(),
                store: false,
                why: Removal::NoResults
            }
        );
        let c = Candidate {
            sent_results: false,
            ..elected_as(2)
        };
        assert_eq!(
            run(&defaults(), &c, vec![]),
            Decision::Keep {
                subnet: NET.into(),
                store: false
            }
        );
    }

    #[test]
    fn an_elected_computer_with_results_keeps_it() {
        assert_eq!(
            run(
                &defaults(),
                &elected_as(1),
                vec![network(NET, MASK, 2, vec![])]
            ),
            Decision::Keep {
                subnet: NET.into(),
                store: true
            }
        );
    }

    #[test]
    fn an_elected_computer_loses_it_when_too_many_are_elected_unless_forced() {
        let known = || vec![network(NET, MASK, 3, vec![])];
        assert_eq!(
            run(&defaults(), &elected_as(1), known()),
            Decision::Remove {
                subnet: NET.into(),
                store: true,
                why: Removal::TooMany
            }
        );
        assert_eq!(
            run(&defaults(), &elected_as(2), known()),
            Decision::Keep {
                subnet: NET.into(),
                store: true
            }
        );
    }

    #[test]
    fn an_elected_computer_loses_it_when_its_network_is_blacklisted_unless_forced() {
        let known = || {
            let mut n = network(NET, MASK, 1, vec![]);
            n.blacklisted = true;
            vec![n]
        };
        assert_eq!(
            run(&defaults(), &elected_as(1), known()),
            Decision::Remove {
                subnet: NET.into(),
                store: true,
                why: Removal::Blacklisted
            }
        );
        assert_eq!(
            run(&defaults(), &elected_as(2), known()),
            Decision::Keep {
                subnet: NET.into(),
                store: true
            }
        );
    }

    #[test]
    fn an_elected_computer_is_not_held_to_the_agent_and_contact_rules() {
        // Forced by hand on a Fusion agent seen once: it still scans and reports.
        let c = Candidate {
            user_agent: "FusionInventory-Agent_v2.6-3".into(),
            fidelity: 1,
            quality: 0.0,
            ..elected_as(2)
        };
        assert_eq!(
            run(&defaults(), &c, vec![]),
            Decision::Keep {
                subnet: NET.into(),
                store: true
            }
        );
    }

    #[test]
    fn reasons_have_short_codes() {
        assert_eq!(Election::FreeSlot.code(), "free_slot");
        assert_eq!(
            Election::ReplacedStale(HostId(4)).code(),
            "replaced_stale:4"
        );
        assert_eq!(
            Election::ReplacedQuality(HostId(5)).code(),
            "replaced_quality:5"
        );
    }
}
