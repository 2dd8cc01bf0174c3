//! Sections the catalogue does not know (a plugin's, a newer agent's, FusionInventory's
//! `ENVS` or `PROCESSES`): kept as named rows of text fields, so that the server stores and
//! shows them instead of dropping them. Both inventory readers use this one module.

use crate::catalogue;
use crate::xml::Element;

/// Most unknown sections kept from one inventory; later ones are dropped.
pub const MAX_EXTRA_SECTIONS: usize = 32;
/// Most fields kept of one row.
pub const MAX_EXTRA_FIELDS: usize = 64;
/// Longest section or field name.
pub const MAX_EXTRA_NAME: usize = 64;
/// Longest value kept, in characters (longer ones are cut).
pub const MAX_EXTRA_VALUE: usize = 4096;

/// The names of `CONTENT` children that are not sections, or not unknown ones.
const NOT_EXTRA: &[&str] = &[
    "HARDWARE",
    "SOFTWARES",
    "ACCOUNTINFO",
    "DOWNLOAD",
    "IPDISCOVER",
    "OLD_DEVICEID",
    "DEVICEID",
];

/// An unknown section's rows, each its fields in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraSection {
    /// The element name, e.g. `FAILED_UNITS`.
    pub name: String,
    /// Its rows: `(field, value)` pairs, no field twice, none blank.
    pub rows: Vec<Vec<(String, String)>>,
}

/// Whether a name may be a section's or a field's: an upper-case ASCII letter, then
/// upper-case letters, digits and `_`, at most [`MAX_EXTRA_NAME`] characters.
pub fn is_valid_name(name: &str) -> bool {
    name.len() <= MAX_EXTRA_NAME
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether a `CONTENT` child of this name is an unknown section.
pub fn is_extra_name(name: &str) -> bool {
    is_valid_name(name)
        && !NOT_EXTRA.contains(&name)
        && !catalogue::SECTIONS.iter().any(|s| s.element == name)
}

/// The row an element holds: its scalar children with text (nested elements and blank
/// fields left out); `None` when it has none.
pub fn extra_row(el: &Element) -> Option<Vec<(String, String)>> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for child in &el.children {
        if fields.len() == MAX_EXTRA_FIELDS {
            break;
        }
        let text = child.text.trim();
        if !child.children.is_empty()
            || text.is_empty()
            || !is_valid_name(&child.name)
            || fields.iter().any(|(name, _)| *name == child.name)
        {
            continue;
        }
        let value = match text.char_indices().nth(MAX_EXTRA_VALUE) {
            Some((cut, _)) => &text[..cut],
            None => text,
        };
        fields.push((child.name.clone(), value.to_owned()));
    }
    (!fields.is_empty()).then_some(fields)
}

/// Collects the unknown sections of one `CONTENT`, child by child, within the limits.
#[derive(Debug, Default)]
pub(crate) struct ExtraCollector {
    max_rows: usize,
    sections: Vec<ExtraSection>,
}

impl ExtraCollector {
    pub(crate) fn new(max_rows: usize) -> ExtraCollector {
        ExtraCollector {
            max_rows,
            sections: Vec::new(),
        }
    }

    /// Whether an element of this name would be kept.
    pub(crate) fn wants(&self, name: &str) -> bool {
        if !is_extra_name(name) {
            return false;
        }
        match self.sections.iter().find(|s| s.name == name) {
            Some(s) => s.rows.len() < self.max_rows,
            None => self.sections.len() < MAX_EXTRA_SECTIONS,
        }
    }

    /// One present child of `CONTENT`; anything but an unknown section is ignored.
    pub(crate) fn add(&mut self, el: &Element) {
        if !self.wants(&el.name) {
            return;
        }
        let Some(row) = extra_row(el) else {
            return;
        };
        match self.sections.iter_mut().find(|s| s.name == el.name) {
            Some(s) => s.rows.push(row),
            None => self.sections.push(ExtraSection {
                name: el.name.clone(),
                rows: vec![row],
            }),
        }
    }

    pub(crate) fn finish(self) -> Vec<ExtraSection> {
        self.sections
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(name: &str, children: &[(&str, &str)]) -> Element {
        Element {
            name: name.into(),
            text: String::new(),
            children: children
                .iter()
                .map(|(n, t)| Element {
                    name: (*n).into(),
                    text: (*t).into(),
                    children: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn names() {
        assert!(is_extra_name("FAILED_UNITS"));
        assert!(is_extra_name("ENVS"));
        for known in ["CPUS", "HARDWARE", "SOFTWARES", "ACCOUNTINFO", "DOWNLOAD"] {
            assert!(!is_extra_name(known), "{known}");
        }
        for bad in ["lower", "1ABC", "A-B", "", &"A".repeat(65)] {
            assert!(!is_extra_name(bad), "{bad}");
        }
    }

    #[test]
    fn rows_keep_scalar_fields_once_and_cut_long_values() {
        let mut e = el(
            "X",
            &[
                ("NAME", " a "),
                ("NAME", "b"),
                ("EMPTY", "  "),
                ("bad", "c"),
            ],
        );
        e.children.push(el("NESTED", &[("IN", "1")]));
        e.children.push(Element {
            name: "LONG".into(),
            text: "é".repeat(MAX_EXTRA_VALUE + 10),
            children: Vec::new(),
        });
        let row = extra_row(&e).unwrap();
        assert_eq!(row[0], ("NAME".into(), "a".into()));
        assert_eq!(row.len(), 2);
        assert_eq!(row[1].1.chars().count(), MAX_EXTRA_VALUE);
        assert!(extra_row(&el("X", &[("EMPTY", "")])).is_none());
    }

    #[test]
    fn collector_limits() {
        let mut c = ExtraCollector::new(2);
        for _ in 0..3 {
            c.add(&el("UNITS", &[("NAME", "a")]));
        }
        c.add(&el("CPUS", &[("TYPE", "x")]));
        for i in 0..MAX_EXTRA_SECTIONS + 5 {
            c.add(&el(&format!("S{i}"), &[("F", "v")]));
        }
        let sections = c.finish();
        assert_eq!(sections.len(), MAX_EXTRA_SECTIONS);
        assert_eq!(sections[0].name, "UNITS");
        assert_eq!(sections[0].rows.len(), 2, "rows past the limit are dropped");
    }
}
