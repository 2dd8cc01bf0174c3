//! Group settings: what the console edits on a group page, and how the communication server
//! combines them with a computer's own settings (reference §10.3).
//!
//! The combination is one pure function, [`combine`]: it folds what a computer's groups say
//! (summarised per setting name by the storage read, so that the PROLOG reads a handful of
//! rows however many groups there are) into the computer's own rows, so that the PROLOG reads
//! one list of settings whatever their origin and its readers (FREQUENCY decision, DOWNLOAD
//! block, IPDISCOVER order) stay unaware of groups. It never touches packages (group
//! `DOWNLOAD` rows belong to deployment).

use std::sync::LazyLock;

use ocs_storage::{DeviceSetting, GroupId, GroupSettingSummary, HostId};

use crate::app::auth::Admin;
use crate::app::computers::{check_customisation, Customisation, CUSTOMISABLE};
use crate::app::options::{definition, Options, Rule as OptionRule};
use crate::app::{AppError, AppState};

/// How the groups' values of one setting combine with the computer's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// The smallest of the computer's and all its groups' values.
    MinOfAll,
    /// The computer's value, else the smallest of its groups'.
    OwnElseMin,
    /// The computer's value, else the largest of its groups'.
    OwnElseMax,
    /// A switch: on, lowered by any group that turns it off; the computer's value then
    /// replaces the result if it is still on (a computer cannot escape a group's "off").
    Switch,
    /// The computer's row, else a group's (the smallest value: the same one every time).
    OwnElseAny,
}

/// Every setting groups give their members, with its rule. IPDISCOVER is apart: a group
/// only ever excludes (see [`combine`]); the automatic election (IP discovery issue) must
/// skip excluded computers too.
const RULES: &[(&str, Rule)] = &[
    ("FREQUENCY", Rule::MinOfAll),
    ("PROLOG_FREQ", Rule::OwnElseMin),
    ("INVENTORY_ON_STARTUP", Rule::OwnElseMin),
    ("DOWNLOAD_SWITCH", Rule::Switch),
    ("SNMP_SWITCH", Rule::Switch),
    ("DOWNLOAD_FRAG_LATENCY", Rule::OwnElseMax),
    ("DOWNLOAD_CYCLE_LATENCY", Rule::OwnElseMax),
    ("DOWNLOAD_PERIOD_LATENCY", Rule::OwnElseMax),
    ("IPDISCOVER_LATENCY", Rule::OwnElseMax),
    ("DOWNLOAD_PERIOD_LENGTH", Rule::OwnElseMin),
    ("DOWNLOAD_TIMEOUT", Rule::OwnElseMin),
    ("DOWNLOAD_EXECUTION_TIMEOUT", Rule::OwnElseMin),
    ("SCAN_TYPE_IPDISCOVER", Rule::OwnElseAny),
    ("SCAN_TYPE_SNMP", Rule::OwnElseAny),
    ("SCAN_ARP_BANDWIDTH", Rule::OwnElseAny),
];

const IPDISCOVER: &str = "IPDISCOVER";

/// A computer's settings as the communication server applies them: its own rows with its
/// groups' folded in by [`combine`], or its own rows alone when `ENABLE_GROUPS` is off (then
/// the groups are not even read). Either way one statement.
pub async fn effective_settings(
    state: &AppState,
    options: &Options,
    host: HostId,
) -> Result<Vec<DeviceSetting>, AppError> {
    if !options.on("ENABLE_GROUPS") {
        return Ok(state.store.device_settings(host).await?);
    }
    let (own, groups) = state.store.list_settings_with_groups(host).await?;
    Ok(combine(options, own, &groups))
}

/// Folds what a computer's groups say ([`GroupSettingSummary`], one per setting name) into
/// its own settings (reference §10.3), so that each setting a group has a say in appears
/// once, with the combined value: FREQUENCY the smallest of all; PROLOG_FREQ,
/// INVENTORY_ON_STARTUP, PERIOD_LENGTH, TIMEOUT and EXECUTION_TIMEOUT the computer's, else
/// the smallest of its groups'; the latencies the computer's, else the largest of its
/// groups'; DOWNLOAD_SWITCH and SNMP_SWITCH on unless a group turns them off, then the
/// computer's value if still on; the scan types the computer's, else a group's. With
/// `IPDISCOVER_USE_GROUPS`, a group whose IPDISCOVER is 0 excludes its members: their
/// election is dropped. Rows of a computer whose groups say nothing of them are kept as they
/// are; with `ENABLE_GROUPS` off nothing changes.
pub fn combine(
    options: &Options,
    own: Vec<DeviceSetting>,
    groups: &[GroupSettingSummary],
) -> Vec<DeviceSetting> {
    if groups.is_empty() || !options.on("ENABLE_GROUPS") {
        return own;
    }
    let mut out = own;
    for summary in groups {
        let name = summary.name.as_str();
        if name == IPDISCOVER {
            if summary.has_zero && options.on("IPDISCOVER_USE_GROUPS") {
                out.retain(|s| s.name != IPDISCOVER);
                out.push(DeviceSetting {
                    name: IPDISCOVER.to_owned(),
                    ivalue: Some(0),
                    tvalue: None,
                });
            }
            continue;
        }
        let Some((_, rule)) = RULES.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        let own_value = out.iter().find(|s| s.name == name).and_then(|s| s.ivalue);
        let combined = match rule {
            Rule::MinOfAll => summary.min.into_iter().chain(own_value).min(),
            Rule::OwnElseMin if own_value.is_none() => summary.min,
            Rule::OwnElseMax if own_value.is_none() => summary.max,
            Rule::OwnElseMin | Rule::OwnElseMax => None,
            Rule::Switch => summary.min.map(|lowest| match lowest.min(1) {
                0 => 0,
                on => own_value.unwrap_or(on),
            }),
            Rule::OwnElseAny => {
                let own_row = out
                    .iter()
                    .any(|s| s.name == name && (s.ivalue.is_some() || s.tvalue.is_some()));
                if !own_row && (summary.min.is_some() || summary.text.is_some()) {
                    out.push(DeviceSetting {
                        name: name.to_owned(),
                        ivalue: summary.min,
                        tvalue: summary.text.clone(),
                    });
                }
                None
            }
        };
        if let Some(value) = combined {
            out.retain(|s| s.name != name);
            out.push(DeviceSetting {
                name: name.to_owned(),
                ivalue: Some(value),
                tvalue: None,
            });
        }
    }
    out
}

/// Settings a group page's customisation block edits besides the computer's
/// ([`CUSTOMISABLE`]), each with the server option whose bounds it takes.
const GROUP_EXTRA: &[(&str, &str)] = &[
    ("PROLOG_FREQ", "PROLOG_FREQ"),
    ("INVENTORY_ON_STARTUP", "INVENTORY_ON_STARTUP"),
    ("SNMP_SWITCH", "SNMP"),
    ("DOWNLOAD_FRAG_LATENCY", "DOWNLOAD_FRAG_LATENCY"),
    ("DOWNLOAD_CYCLE_LATENCY", "DOWNLOAD_CYCLE_LATENCY"),
    ("DOWNLOAD_PERIOD_LATENCY", "DOWNLOAD_PERIOD_LATENCY"),
    ("DOWNLOAD_PERIOD_LENGTH", "DOWNLOAD_PERIOD_LENGTH"),
    ("DOWNLOAD_TIMEOUT", "DOWNLOAD_TIMEOUT"),
    ("DOWNLOAD_EXECUTION_TIMEOUT", "DOWNLOAD_EXECUTION_TIMEOUT"),
];

/// Settings a group's customisation block edits, with the values each accepts: the
/// computer's block (IPDISCOVER only 0), then [`GROUP_EXTRA`] with the bounds of their server
/// options.
pub static GROUP_CUSTOMISABLE: LazyLock<Vec<(&'static str, i64, i64)>> = LazyLock::new(|| {
    let extra = GROUP_EXTRA.iter().map(|(name, option)| {
        let (low, high) = match definition(option).map(|d| d.rule) {
            Some(OptionRule::Range(low, high)) => (low, high),
            _ => (0, 1),
        };
        (*name, low, high)
    });
    CUSTOMISABLE
        .iter()
        .map(|&(name, low, high)| match name {
            // A group has no network to scan: it can only exclude its members.
            IPDISCOVER => (name, 0, 0),
            _ => (name, low, high),
        })
        .chain(extra)
        .collect()
});

/// A group's current settings, for its customisation block.
pub async fn group_customisation(
    state: &AppState,
    group: GroupId,
) -> Result<Vec<DeviceSetting>, AppError> {
    Ok(state.store.list_group_settings(group).await?)
}

/// Saves a group's customisation (lines as the computer's block submits them: `None` puts
/// the member's own value or the server's option back), whole or not at all; members apply
/// it at their next PROLOG. A group has no network to scan: its IPDISCOVER can only be 0,
/// which excludes its members.
pub async fn update_group_customisation(
    state: &AppState,
    admin: &Admin<'_>,
    group: GroupId,
    values: &Customisation,
) -> Result<(), AppError> {
    let mut set = Vec::new();
    let mut clear = Vec::new();
    for (name, value) in values {
        if *name == IPDISCOVER && value.is_some_and(|v| v != 0) {
            return Err(AppError::bad_request(
                "E_BAD_VALUE",
                "a group can only exclude its members from IpDiscover (0)",
            ));
        }
        check_customisation(&GROUP_CUSTOMISABLE, name, *value)?;
        match value {
            None => clear.push(*name),
            Some(v) => set.push(DeviceSetting {
                name: (*name).to_owned(),
                ivalue: Some(*v),
                tvalue: None,
            }),
        }
    }
    state
        .store
        .update_group_settings(group, &set, &clear)
        .await?;
    tracing::info!(
        login = admin.viewer.login,
        group = group.0,
        "group customisation updated"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocs_storage::{summarise, OptionRow};

    fn row(name: &str, ivalue: i64) -> DeviceSetting {
        DeviceSetting {
            name: name.into(),
            ivalue: Some(ivalue),
            tvalue: None,
        }
    }

    fn text_row(name: &str, tvalue: &str) -> DeviceSetting {
        DeviceSetting {
            name: name.into(),
            ivalue: None,
            tvalue: Some(tvalue.into()),
        }
    }

    /// What groups with these rows say, as the PROLOG's read summarises them.
    fn groups(rows: &[(i64, DeviceSetting)]) -> Vec<GroupSettingSummary> {
        summarise(rows.iter().map(|(_, s)| s))
    }

    fn options(pairs: &[(&str, i64)]) -> Options {
        let rows: Vec<OptionRow> = pairs
            .iter()
            .map(|(name, v)| OptionRow {
                name: (*name).into(),
                ivalue: Some(*v),
                tvalue: None,
            })
            .collect();
        Options::from_rows(&rows)
    }

    /// The combined integer value of `name`, checking it appears at most once.
    fn value(settings: &[DeviceSetting], name: &str) -> Option<i64> {
        let rows: Vec<_> = settings.iter().filter(|s| s.name == name).collect();
        assert!(rows.len() <= 1, "{name} appears {} times", rows.len());
        rows.first().and_then(|s| s.ivalue)
    }

    fn combined(own: &[DeviceSetting], from_groups: &[(i64, DeviceSetting)]) -> Vec<DeviceSetting> {
        combine(&Options::defaults(), own.to_vec(), &groups(from_groups))
    }

    #[test]
    fn frequency_is_the_smallest_of_computer_and_groups() {
        let g = [(1, row("FREQUENCY", 7)), (2, row("FREQUENCY", 3))];
        assert_eq!(value(&combined(&[], &g), "FREQUENCY"), Some(3));
        assert_eq!(
            value(&combined(&[row("FREQUENCY", 5)], &g), "FREQUENCY"),
            Some(3)
        );
        assert_eq!(
            value(&combined(&[row("FREQUENCY", 1)], &g), "FREQUENCY"),
            Some(1)
        );
        // -1 (never) is the smallest: a group can stop its members' inventories.
        let never = [(1, row("FREQUENCY", -1))];
        assert_eq!(
            value(&combined(&[row("FREQUENCY", 0)], &never), "FREQUENCY"),
            Some(-1)
        );
    }

    #[test]
    fn prolog_freq_and_inventory_on_startup_are_the_computers_else_the_smallest_group() {
        for name in ["PROLOG_FREQ", "INVENTORY_ON_STARTUP"] {
            let g = [(1, row(name, 12)), (2, row(name, 6)), (3, row(name, 48))];
            assert_eq!(value(&combined(&[], &g), name), Some(6), "{name}");
            assert_eq!(
                value(&combined(&[row(name, 24)], &g), name),
                Some(24),
                "{name}"
            );
        }
    }

    #[test]
    fn period_length_and_timeouts_are_the_computers_else_the_smallest_group() {
        for name in [
            "DOWNLOAD_PERIOD_LENGTH",
            "DOWNLOAD_TIMEOUT",
            "DOWNLOAD_EXECUTION_TIMEOUT",
        ] {
            let g = [(1, row(name, 20)), (2, row(name, 5))];
            assert_eq!(value(&combined(&[], &g), name), Some(5), "{name}");
            assert_eq!(
                value(&combined(&[row(name, 40)], &g), name),
                Some(40),
                "{name}"
            );
        }
    }

    #[test]
    fn latencies_are_the_computers_else_the_largest_group() {
        for name in [
            "DOWNLOAD_FRAG_LATENCY",
            "DOWNLOAD_CYCLE_LATENCY",
            "DOWNLOAD_PERIOD_LATENCY",
            "IPDISCOVER_LATENCY",
        ] {
            let g = [(1, row(name, 20)), (2, row(name, 90)), (3, row(name, 5))];
            assert_eq!(value(&combined(&[], &g), name), Some(90), "{name}");
            assert_eq!(
                value(&combined(&[row(name, 1)], &g), name),
                Some(1),
                "{name}"
            );
        }
    }

    #[test]
    fn switches_are_lowered_by_groups_and_replaced_by_the_computer_while_on() {
        for name in ["DOWNLOAD_SWITCH", "SNMP_SWITCH"] {
            let on = [(1, row(name, 1)), (2, row(name, 1))];
            let off = [(1, row(name, 1)), (2, row(name, 0))];
            assert_eq!(value(&combined(&[], &on), name), Some(1), "{name}");
            assert_eq!(value(&combined(&[], &off), name), Some(0), "{name}");
            assert_eq!(
                value(&combined(&[row(name, 0)], &on), name),
                Some(0),
                "{name}: the computer turns it off"
            );
            assert_eq!(
                value(&combined(&[row(name, 1)], &off), name),
                Some(0),
                "{name}: a group's off wins over the computer's on"
            );
            // Starting from on (1): a larger group value does not raise it.
            assert_eq!(
                value(&combined(&[], &[(1, row(name, 5))]), name),
                Some(1),
                "{name}"
            );
        }
    }

    #[test]
    fn scan_types_are_the_computers_else_a_groups() {
        let g = [
            (1, text_row("SCAN_TYPE_IPDISCOVER", "NMAP")),
            (2, text_row("SCAN_TYPE_IPDISCOVER", "ARPSCAN")),
        ];
        let from_groups = combined(&[], &g);
        assert_eq!(
            from_groups,
            vec![text_row("SCAN_TYPE_IPDISCOVER", "ARPSCAN")],
            "the same group's text every time: the smallest"
        );
        let own = [text_row("SCAN_TYPE_IPDISCOVER", "ICMP")];
        assert_eq!(combined(&own, &g), own.to_vec());
    }

    #[test]
    fn a_group_with_ipdiscover_0_excludes_its_members() {
        let elected = DeviceSetting {
            name: "IPDISCOVER".into(),
            ivalue: Some(2),
            tvalue: Some("10.1.2.0".into()),
        };
        let excluding = [(1, row("IPDISCOVER", 1)), (2, row("IPDISCOVER", 0))];
        let out = combined(std::slice::from_ref(&elected), &excluding);
        assert_eq!(out, vec![row("IPDISCOVER", 0)]);
        // Other group values neither elect nor exclude.
        let neutral = [(1, row("IPDISCOVER", 1))];
        assert_eq!(
            combined(std::slice::from_ref(&elected), &neutral),
            vec![elected.clone()]
        );
        // IPDISCOVER_USE_GROUPS off: groups do not exclude.
        let out = combine(
            &options(&[("IPDISCOVER_USE_GROUPS", 0)]),
            vec![elected.clone()],
            &groups(&excluding),
        );
        assert_eq!(out, vec![elected]);
    }

    #[test]
    fn enable_groups_off_ignores_every_group_row() {
        let own = vec![row("FREQUENCY", 5), row("DOWNLOAD_SWITCH", 1)];
        let g = groups(&[
            (1, row("FREQUENCY", 1)),
            (1, row("DOWNLOAD_SWITCH", 0)),
            (1, row("PROLOG_FREQ", 2)),
            (1, row("IPDISCOVER", 0)),
        ]);
        assert_eq!(
            combine(&options(&[("ENABLE_GROUPS", 0)]), own.clone(), &g),
            own
        );
    }

    #[test]
    fn rows_groups_say_nothing_of_are_kept_and_packages_are_not_folded() {
        let own = vec![
            row("DOWNLOAD", 17),
            row("DOWNLOAD", 18),
            row("PROLOG_FREQ", 24),
            row("FREQUENCY", 5),
        ];
        let g = [(1, row("DOWNLOAD", 99)), (1, row("FREQUENCY", 2))];
        let out = combined(&own, &g);
        assert_eq!(
            out,
            vec![
                row("DOWNLOAD", 17),
                row("DOWNLOAD", 18),
                row("PROLOG_FREQ", 24),
                row("FREQUENCY", 2)
            ]
        );
        // Group rows without a value are no opinion.
        let empty = [(1, text_row("PROLOG_FREQ", "x"))];
        assert_eq!(value(&combined(&[], &empty), "PROLOG_FREQ"), None);
    }

    #[test]
    fn the_group_block_is_the_computers_plus_the_prolog_download_and_snmp_settings() {
        let names: Vec<&str> = GROUP_CUSTOMISABLE.iter().map(|(n, _, _)| *n).collect();
        let computer: Vec<&str> = CUSTOMISABLE.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(names[..computer.len()], computer[..]);
        for name in ["PROLOG_FREQ", "SNMP_SWITCH", "DOWNLOAD_FRAG_LATENCY"] {
            assert!(names.contains(&name), "{name}");
        }
        let bounds = |name: &str| {
            GROUP_CUSTOMISABLE
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, l, h)| (*l, *h))
        };
        assert_eq!(bounds("PROLOG_FREQ"), Some((1, 8760)));
        assert_eq!(bounds("SNMP_SWITCH"), Some((0, 1)));
        assert_eq!(bounds("DOWNLOAD_PERIOD_LENGTH"), Some((1, 1000)));
        assert_eq!(bounds("IPDISCOVER"), Some((0, 0)));
        assert!(check_customisation(&GROUP_CUSTOMISABLE, "PROLOG_FREQ", Some(0)).is_err());
        assert!(check_customisation(&GROUP_CUSTOMISABLE, "NOPE", None).is_err());
    }
}
