//! From what an inventory wrote to what changed, in words: the rows a section write removed
//! and added are paired by what identifies a row of that section (a disk by its name, a
//! network card by its description and MAC), a pair is a change of the fields that differ,
//! the others are rows added or removed. Fields that move at every inventory (free space, the
//! CPU's current clock, a battery's charge) never make a change on their own. Pure.

use ocs_proto::catalogue::{Section, HARDWARE};
use ocs_proto::Value;
use ocs_storage::history::{Change, ChangeAction, FieldChange};
use ocs_storage::SoftwareEntry;

/// How a section's rows are told apart and which of their fields are noise.
struct Rules {
    /// Fields identifying a row; empty: the section has one row (it pairs with itself).
    identity: &'static [&'static str],
    /// Fields left out of the comparison.
    volatile: &'static [&'static str],
}

const fn rules(identity: &'static [&'static str], volatile: &'static [&'static str]) -> Rules {
    Rules { identity, volatile }
}

/// The rules of a section; `None` for a section whose rows are events, not state.
fn rules_of(element: &str) -> Option<Rules> {
    Some(match element {
        // The Unix agent's DESCRIPTION is its architecture and uptime.
        "HARDWARE" => rules(&[], &["IPADDR", "USERID", "LASTLOGGEDUSER", "DESCRIPTION"]),
        "BIOS" | "JAVAINFO" => rules(&[], &[]),
        "MEMORIES" => rules(&["NUMSLOTS", "CAPTION"], &[]),
        "SLOTS" => rules(&["NAME", "DESIGNATION"], &[]),
        "REGISTRY" | "MODEMS" | "PRINTERS" | "SOUNDS" | "VIDEOS" | "STORAGES" => {
            rules(&["NAME"], &[])
        }
        "CONTROLLERS" | "PORTS" => rules(&["NAME", "CAPTION"], &[]),
        "MONITORS" => rules(&["CAPTION", "SERIAL"], &[]),
        "DRIVES" => rules(&["LETTER", "TYPE", "VOLUMN"], &["FREE", "NUMFILES"]),
        "INPUTS" => rules(&["CAPTION", "DESCRIPTION"], &[]),
        "NETWORKS" => rules(&["DESCRIPTION", "MACADDR"], &[]),
        "VIRTUALMACHINES" => rules(&["UUID", "NAME"], &["STATUS"]),
        "CPUS" => rules(&["SOCKET", "TYPE"], &["CURRENT_SPEED", "VOLTAGE"]),
        "SIM" => rules(&["SERIALNUMBER"], &[]),
        "BATTERIES" => rules(
            &["NAME", "SERIALNUMBER"],
            &["ESTIMATEDCHARGEREMAINING", "STATUS", "MAXERROR"],
        ),
        "USBDEVICES" => rules(&["DESCRIPTION", "SERIAL"], &[]),
        "REPOSITORY" => rules(
            &["NAME"],
            &["UPDATED", "EXPIRE", "REVISION", "PKGS", "SIZE"],
        ),
        "LOCAL_USERS" => rules(&["LOGIN"], &[]),
        "LOCAL_GROUPS" => rules(&["NAME"], &[]),
        _ => return None,
    })
}

/// Whether a section's writes are worth comparing at all.
pub fn tracked(section: &Section) -> bool {
    rules_of(section.element).is_some()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Int(n) => Some(n.to_string()),
        Value::Text(s) if s.trim().is_empty() => None,
        Value::Text(s) => Some(s.clone()),
    }
}

struct Shape<'a> {
    section: &'a Section,
    identity: Vec<usize>,
    compared: Vec<usize>,
}

impl<'a> Shape<'a> {
    fn new(section: &'a Section, rules: &Rules) -> Shape<'a> {
        let index = |names: &[&str]| -> Vec<usize> {
            names
                .iter()
                .filter_map(|n| section.field_index(n))
                .collect()
        };
        let volatile = index(rules.volatile);
        Shape {
            section,
            identity: index(rules.identity),
            compared: (0..section.fields.len())
                .filter(|i| !volatile.contains(i))
                .collect(),
        }
    }

    fn key(&self, row: &[Value]) -> Vec<String> {
        self.identity
            .iter()
            .map(|&i| {
                row.get(i)
                    .map(Value::comparable)
                    .unwrap_or_default()
                    .to_lowercase()
            })
            .collect()
    }

    /// The row in words: its identity, else its first field with a value.
    fn label(&self, row: &[Value]) -> String {
        let of = |i: &usize| row.get(*i).and_then(text);
        let parts: Vec<String> = self.identity.iter().filter_map(of).collect();
        if !parts.is_empty() {
            return parts.join(" ");
        }
        (0..self.section.fields.len())
            .find_map(|i| of(&i))
            .unwrap_or_else(|| self.section.element.to_owned())
    }

    fn whole(&self, row: &[Value], action: ChangeAction) -> Change {
        let fields = self
            .section
            .fields
            .iter()
            .zip(row)
            .filter_map(|(f, v)| {
                let v = text(v)?;
                Some(FieldChange {
                    field: f.name.to_owned(),
                    old: (action == ChangeAction::Removed).then(|| v.clone()),
                    new: (action == ChangeAction::Added).then_some(v),
                })
            })
            .collect();
        Change {
            section: self.section.element.to_owned(),
            action,
            label: self.label(row),
            fields,
            author: None,
        }
    }

    /// The change from `old` to `new`, if any field compared differs.
    fn between(&self, old: &[Value], new: &[Value]) -> Option<Change> {
        let fields: Vec<FieldChange> = self
            .compared
            .iter()
            .filter_map(|&i| {
                let (o, n) = (old.get(i)?, new.get(i)?);
                (o.comparable() != n.comparable()).then(|| FieldChange {
                    field: self.section.fields[i].name.to_owned(),
                    old: text(o),
                    new: text(n),
                })
            })
            .collect();
        (!fields.is_empty()).then(|| Change {
            section: self.section.element.to_owned(),
            action: ChangeAction::Changed,
            label: self.label(new),
            fields,
            author: None,
        })
    }
}

/// The changes of a section write that removed `removed` and added `added`.
pub fn section_changes(
    section: &Section,
    removed: &[Vec<Value>],
    added: &[Vec<Value>],
) -> Vec<Change> {
    let Some(rules) = rules_of(section.element) else {
        return Vec::new();
    };
    let shape = Shape::new(section, &rules);
    let mut unpaired: Vec<Option<&Vec<Value>>> = removed.iter().map(Some).collect();
    let mut out = Vec::new();
    let mut new_rows = Vec::new();
    for row in added {
        let key = shape.key(row);
        let pair = unpaired
            .iter_mut()
            .find(|r| r.is_some_and(|r| shape.key(r) == key))
            .and_then(Option::take);
        match pair {
            Some(old) => out.extend(shape.between(old, row)),
            None => new_rows.push(row),
        }
    }
    out.extend(
        unpaired
            .into_iter()
            .flatten()
            .map(|r| shape.whole(r, ChangeAction::Removed)),
    );
    out.extend(
        new_rows
            .into_iter()
            .map(|r| shape.whole(r, ChangeAction::Added)),
    );
    out
}

/// The change of the device row from `old` (as stored) to `new` (as sent), if any.
pub fn hardware_changes(old: &[Value], new: &[Value]) -> Vec<Change> {
    section_changes(&HARDWARE, &[old.to_vec()], &[new.to_vec()])
}

fn entry_label(e: &SoftwareEntry) -> String {
    e.name.clone().unwrap_or_else(|| "?".to_owned())
}

fn entry_fields(e: &SoftwareEntry, action: ChangeAction) -> Vec<FieldChange> {
    [("VERSION", &e.version), ("PUBLISHER", &e.publisher)]
        .into_iter()
        .filter_map(|(field, v)| {
            let v = v.clone()?;
            Some(FieldChange {
                field: field.to_owned(),
                old: (action == ChangeAction::Removed).then(|| v.clone()),
                new: (action == ChangeAction::Added).then_some(v),
            })
        })
        .collect()
}

/// Software installed, removed, or upgraded (the same name and publisher in another
/// version). An entry whose details alone changed (folder, install date) is no change.
pub fn software_changes(removed: &[SoftwareEntry], added: &[SoftwareEntry]) -> Vec<Change> {
    let same = |a: &SoftwareEntry, b: &SoftwareEntry| {
        let lower = |v: &Option<String>| v.as_deref().map(str::to_lowercase);
        lower(&a.name) == lower(&b.name) && lower(&a.publisher) == lower(&b.publisher)
    };
    let change = |action, e: &SoftwareEntry, fields| Change {
        section: "SOFTWARES".to_owned(),
        action,
        label: entry_label(e),
        fields,
        author: None,
    };
    let mut unpaired: Vec<Option<&SoftwareEntry>> = removed.iter().map(Some).collect();
    let mut out = Vec::new();
    let mut new_entries = Vec::new();
    for e in added {
        // The same version first: a reinstall that moved its folder is no upgrade.
        let exact = unpaired
            .iter()
            .position(|r| r.is_some_and(|r| same(r, e) && r.version == e.version));
        let any = || unpaired.iter().position(|r| r.is_some_and(|r| same(r, e)));
        match exact.or_else(any).and_then(|i| unpaired[i].take()) {
            Some(old) if old.version == e.version => {}
            Some(old) => out.push(change(
                ChangeAction::Changed,
                e,
                vec![FieldChange {
                    field: "VERSION".to_owned(),
                    old: old.version.clone(),
                    new: e.version.clone(),
                }],
            )),
            None => new_entries.push(e),
        }
    }
    out.extend(unpaired.into_iter().flatten().map(|r| {
        change(
            ChangeAction::Removed,
            r,
            entry_fields(r, ChangeAction::Removed),
        )
    }));
    out.extend(
        new_entries
            .into_iter()
            .map(|e| change(ChangeAction::Added, e, entry_fields(e, ChangeAction::Added))),
    );
    out
}

/// The first inventory of a computer: one entry, not one per row.
pub fn created(name: Option<&str>) -> Change {
    Change {
        section: "COMPUTER".to_owned(),
        action: ChangeAction::Created,
        label: name.unwrap_or_default().to_owned(),
        fields: Vec::new(),
        author: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocs_proto::catalogue::section;

    fn row(s: &Section, values: &[(&str, &str)]) -> Vec<Value> {
        s.fields
            .iter()
            .map(|f| {
                values
                    .iter()
                    .find(|(n, _)| *n == f.name)
                    .map_or(Value::Null, |(_, v)| Value::Text((*v).to_owned()))
            })
            .collect()
    }

    #[test]
    fn pairs_rows_by_identity_and_ignores_volatile_fields() {
        let drives = section("DRIVES").unwrap();
        let old = row(drives, &[("TYPE", "/"), ("TOTAL", "100"), ("FREE", "40")]);
        let new = row(drives, &[("TYPE", "/"), ("TOTAL", "100"), ("FREE", "38")]);
        assert!(
            section_changes(drives, std::slice::from_ref(&old), &[new]).is_empty(),
            "free space moves"
        );

        let grown = row(drives, &[("TYPE", "/"), ("TOTAL", "200"), ("FREE", "38")]);
        let added = row(drives, &[("TYPE", "/home"), ("TOTAL", "50")]);
        let changes = section_changes(drives, &[old], &[grown, added]);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].action, ChangeAction::Changed);
        assert_eq!(changes[0].label, "/");
        assert_eq!(
            changes[0].fields,
            [FieldChange {
                field: "TOTAL".into(),
                old: Some("100".into()),
                new: Some("200".into())
            }]
        );
        assert_eq!(changes[1].action, ChangeAction::Added);
        assert_eq!(changes[1].label, "/home");
        assert_eq!(changes[1].fields.len(), 2, "the fields with a value");
    }

    #[test]
    fn unpaired_rows_are_removed() {
        let storages = section("STORAGES").unwrap();
        let sdb = row(storages, &[("NAME", "sdb"), ("DISKSIZE", "1000")]);
        let changes = section_changes(storages, &[sdb], &[]);
        assert_eq!(changes[0].action, ChangeAction::Removed);
        assert_eq!(changes[0].fields[0].old.as_deref(), Some("sdb"));
        assert!(section_changes(section("JOURNALLOG").unwrap(), &[], &[vec![]]).is_empty());
    }

    #[test]
    fn the_os_version_is_a_hardware_change_the_user_is_not() {
        let old = row(
            &HARDWARE,
            &[("OSNAME", "Debian"), ("OSVERSION", "12"), ("USERID", "ann")],
        );
        let new = row(
            &HARDWARE,
            &[("OSNAME", "Debian"), ("OSVERSION", "13"), ("USERID", "bob")],
        );
        let changes = hardware_changes(&old, &new);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].section, "HARDWARE");
        assert_eq!(changes[0].fields[0].field, "OSVERSION");
        assert!(hardware_changes(&old, &old).is_empty());
    }

    fn sw(name: &str, version: &str) -> SoftwareEntry {
        SoftwareEntry {
            name: Some(name.into()),
            publisher: None,
            version: Some(version.into()),
        }
    }

    #[test]
    fn software_installed_removed_upgraded() {
        let removed = [sw("vim", "9.0"), sw("nano", "7.2"), sw("git", "2.39")];
        let added = [sw("vim", "9.1"), sw("htop", "3.2"), sw("git", "2.39")];
        let changes = software_changes(&removed, &added);
        let summary: Vec<(ChangeAction, &str)> = changes
            .iter()
            .map(|c| (c.action, c.label.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                (ChangeAction::Changed, "vim"),
                (ChangeAction::Removed, "nano"),
                (ChangeAction::Added, "htop")
            ],
            "git only moved"
        );
        assert_eq!(changes[0].fields[0].old.as_deref(), Some("9.0"));
        assert_eq!(changes[0].fields[0].new.as_deref(), Some("9.1"));
    }
}
