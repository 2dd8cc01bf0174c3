//! Reading what a plugin printed: an XML fragment of section elements, each a flat element
//! of scalar fields (`<FAILED_UNITS><NAME>x</NAME></FAILED_UNITS>`, repeated per row), the
//! shape of the agent's own sections.
//!
//! The fragment is read by `ocs_proto::xml`, the same hardened reader the server uses (no
//! document type declaration, bounded depth, element count and text length), inside a
//! wrapper element of our own: a plugin that closes the wrapper early only makes a second
//! root, which the reader refuses. Everything else is checked here: names, flatness, the
//! built-in sections a plugin may not emit, and the bounds on rows, fields and values.
//! Nothing is read from or written to the machine.

use ocs_proto::xml::{self, XmlError, XmlLimits};

use super::PluginError;

/// Longest section or field name (the server's limit).
pub const MAX_NAME_LEN: usize = ocs_proto::extra::MAX_EXTRA_NAME;
/// Longest field value, in bytes.
pub const MAX_VALUE_BYTES: usize = 4096;
/// Most rows one plugin may add.
pub const MAX_ROWS: usize = 10_000;
/// Most fields in one row.
pub const MAX_FIELDS: usize = 100;

/// Names of the request's envelope, which a plugin may not use for a section either.
const ENVELOPE: &[&str] = &["CONTENT", "QUERY", "REQUEST"];

/// One row a plugin added: its section and its fields in the order printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRow {
    /// Section element name (upper case).
    pub section: String,
    /// `(FIELD, value)` pairs, values trimmed and never empty.
    pub fields: Vec<(String, String)>,
}

/// Whether a valid name is one the agent or the server already gives a meaning to: the
/// server keeps a section only under a name it does not know (`ocs_proto::extra`).
pub fn is_builtin_section(name: &str) -> bool {
    !ocs_proto::extra::is_extra_name(name) || ENVELOPE.contains(&name)
}

/// Whether a name is a valid section or field name (the server's rule).
pub fn is_valid_name(name: &str) -> bool {
    ocs_proto::extra::is_valid_name(name)
}

/// Reads a plugin's output (at most `max_bytes`). Empty output (or whitespace only) is no
/// row; rows whose fields are all empty are dropped, as the server would drop them.
pub fn parse(output: &[u8], max_bytes: usize) -> Result<Vec<PluginRow>, PluginError> {
    if output.len() > max_bytes {
        return Err(PluginError::TooMuchOutput { limit: max_bytes });
    }
    let text = std::str::from_utf8(output).map_err(|e| PluginError::NotUtf8(e.to_string()))?;
    let text = strip_declaration(text.trim_start());
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut wrapped = String::with_capacity(text.len() + 32);
    wrapped.push_str("<OCS_AGENT_PLUGIN_OUTPUT>");
    wrapped.push_str(text);
    wrapped.push_str("</OCS_AGENT_PLUGIN_OUTPUT>");
    let limits = XmlLimits {
        max_attributes: MAX_FIELDS,
        max_elements: MAX_ROWS * 8,
        max_text_bytes: MAX_VALUE_BYTES,
    };
    let root = xml::parse_with(wrapped.as_bytes(), &limits).map_err(|e| match e {
        XmlError::TextTooLong { limit } => PluginError::ValueTooLong { limit },
        other => PluginError::InvalidXml(other.to_string()),
    })?;
    if !root.text.trim().is_empty() {
        return Err(PluginError::InvalidXml(
            "text outside any section element".into(),
        ));
    }
    if root.children.len() > MAX_ROWS {
        return Err(PluginError::TooManyRows { limit: MAX_ROWS });
    }
    let mut rows = Vec::with_capacity(root.children.len());
    for section in root.children {
        if !is_valid_name(&section.name) {
            return Err(PluginError::InvalidName(section.name));
        }
        if is_builtin_section(&section.name) {
            return Err(PluginError::BuiltinSection(section.name));
        }
        if !section.text.trim().is_empty() {
            return Err(PluginError::NotFlat {
                section: section.name,
                detail: "the section element holds text; values go in field elements".into(),
            });
        }
        if section.children.len() > MAX_FIELDS {
            return Err(PluginError::TooManyFields {
                section: section.name,
                limit: MAX_FIELDS,
            });
        }
        let mut fields: Vec<(String, String)> = Vec::with_capacity(section.children.len());
        for field in section.children {
            if !is_valid_name(&field.name) {
                return Err(PluginError::InvalidName(format!(
                    "{}/{}",
                    section.name, field.name
                )));
            }
            if !field.children.is_empty() {
                return Err(PluginError::NotFlat {
                    section: section.name,
                    detail: format!("field {} holds elements, not a value", field.name),
                });
            }
            if fields.iter().any(|(name, _)| *name == field.name) {
                return Err(PluginError::NotFlat {
                    section: section.name,
                    detail: format!("field {} appears twice in one row", field.name),
                });
            }
            let value = field.text.trim();
            if !value.is_empty() {
                fields.push((field.name, value.to_owned()));
            }
        }
        if !fields.is_empty() {
            rows.push(PluginRow {
                section: section.name,
                fields,
            });
        }
    }
    Ok(rows)
}

/// Drops a leading `<?xml …?>` declaration, which a plugin written as a whole document may
/// print and which cannot stand inside the wrapper.
fn strip_declaration(text: &str) -> &str {
    if text.starts_with("<?xml") {
        if let Some(end) = text.find("?>") {
            return &text[end + 2..];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    fn row(section: &str, fields: &[(&str, &str)]) -> PluginRow {
        PluginRow {
            section: section.into(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn one_row_several_rows_and_several_sections() {
        let one = parse(
            b"<FAILED_UNITS><NAME>foo.service</NAME><STATE>failed</STATE></FAILED_UNITS>\n",
            LIMIT,
        )
        .unwrap();
        assert_eq!(
            one,
            vec![row(
                "FAILED_UNITS",
                &[("NAME", "foo.service"), ("STATE", "failed")]
            )]
        );
        let many = parse(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<A_1>\n  <X>1 &amp; 2</X>\n</A_1>\n<A_1><X> two </X><Y></Y></A_1>\n<B2><NAME>&lt;b&gt;</NAME></B2>\n<B2><EMPTY/></B2>",
            LIMIT,
        )
        .unwrap();
        assert_eq!(
            many,
            vec![
                row("A_1", &[("X", "1 & 2")]),
                row("A_1", &[("X", "two")]),
                row("B2", &[("NAME", "<b>")]),
            ],
            "values unescaped and trimmed, empty fields and rows dropped"
        );
        assert_eq!(parse(b"", LIMIT).unwrap(), vec![]);
        assert_eq!(parse(b" \n\n", LIMIT).unwrap(), vec![]);
    }

    #[test]
    fn invalid_xml_and_text_are_refused() {
        for bad in [
            &b"hello world"[..],
            b"<A><X>1</X>",
            b"<A><X>1</Y></A>",
            b"<A><X>1</X></A> trailing",
            b"</OCS_AGENT_PLUGIN_OUTPUT><A><X>1</X></A><OCS_AGENT_PLUGIN_OUTPUT>",
            b"<!DOCTYPE A [<!ENTITY e \"x\">]><A><X>&e;</X></A>",
            b"<A><X>\xff</X></A>",
        ] {
            let err = parse(bad, LIMIT).unwrap_err();
            assert!(
                matches!(err, PluginError::InvalidXml(_) | PluginError::NotUtf8(_)),
                "{:?}: {err:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn builtin_and_invalid_names_are_refused() {
        for name in [
            "HARDWARE",
            "SOFTWARES",
            "BIOS",
            "NETWORKS",
            "ACCOUNTINFO",
            "DOWNLOAD",
        ] {
            let out = format!("<{name}><NAME>x</NAME></{name}>");
            assert_eq!(
                parse(out.as_bytes(), LIMIT).unwrap_err(),
                PluginError::BuiltinSection(name.into())
            );
        }
        for (out, bad) in [
            ("<failed><NAME>x</NAME></failed>", "failed"),
            ("<A-B><NAME>x</NAME></A-B>", "A-B"),
            ("<_A><NAME>x</NAME></_A>", "_A"),
            ("<A><name>x</name></A>", "A/name"),
            ("<A><ns:X>x</ns:X></A>", "A/ns:X"),
        ] {
            assert_eq!(
                parse(out.as_bytes(), LIMIT).unwrap_err(),
                PluginError::InvalidName(bad.into()),
                "{out}"
            );
        }
        let long = "A".repeat(MAX_NAME_LEN + 1);
        let out = format!("<{long}><X>1</X></{long}>");
        assert!(matches!(
            parse(out.as_bytes(), LIMIT),
            Err(PluginError::InvalidName(_))
        ));
    }

    #[test]
    fn sections_must_be_flat() {
        for out in [
            "<A>text<X>1</X></A>",
            "<A><X><Y>1</Y></X></A>",
            "<A><X>1</X><X>2</X></A>",
        ] {
            assert!(
                matches!(
                    parse(out.as_bytes(), LIMIT),
                    Err(PluginError::NotFlat { .. })
                ),
                "{out}"
            );
        }
    }

    #[test]
    fn oversized_output_and_values_are_refused() {
        let big = vec![b' '; 101];
        assert_eq!(
            parse(&big, 100).unwrap_err(),
            PluginError::TooMuchOutput { limit: 100 }
        );
        let value = "v".repeat(MAX_VALUE_BYTES + 1);
        let out = format!("<A><X>{value}</X></A>");
        assert_eq!(
            parse(out.as_bytes(), LIMIT).unwrap_err(),
            PluginError::ValueTooLong {
                limit: MAX_VALUE_BYTES
            }
        );
        let rows = "<A><X>1</X></A>".repeat(MAX_ROWS + 1);
        assert!(matches!(
            parse(rows.as_bytes(), LIMIT),
            Err(PluginError::TooManyRows { .. } | PluginError::InvalidXml(_))
        ));
    }
}
