//! Reads the request document of `get_computers_V1` (and `get_snmp_V1`): a root element
//! whose children are simple `<NAME>value</NAME>` pairs, some of them repeated (`ID`,
//! `EXCLUDE_ID`, `TAG`, `EXCLUDE_TAG`, `USERID`). As the original's XML::Simple did, the
//! root's name is not checked and empty elements count as absent; unlike it, an element
//! nested deeper or a DOCTYPE is refused.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::{client_fault, Limits};
use crate::app::AppError;

/// The children of a request document, in order: `(name, trimmed text)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestDoc {
    fields: Vec<(String, String)>,
}

impl RequestDoc {
    /// The first value of an element, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated element.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn bad(why: impl Into<String>) -> AppError {
    client_fault(format!("malformed request document: {}", why.into()))
}

/// Parses a request document.
pub fn parse_request(text: &str, limits: &Limits) -> Result<RequestDoc, AppError> {
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut current: Option<(String, String)> = None;
    let mut doc = RequestDoc::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| bad(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::DocType(_) => return Err(bad("a DOCTYPE is not accepted")),
            Event::Start(e) => {
                depth += 1;
                match depth {
                    1 if root_seen => return Err(bad("more than one root element")),
                    1 => root_seen = true,
                    2 => {
                        let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                        current = Some((name, String::new()));
                    }
                    _ => return Err(bad("elements nest deeper than REQUEST › NAME")),
                }
            }
            Event::Empty(_) => match depth {
                0 if root_seen => return Err(bad("more than one root element")),
                0 => root_seen = true,
                1 => {}
                _ => return Err(bad("elements nest deeper than REQUEST › NAME")),
            },
            Event::Text(t) => {
                if let Some((_, value)) = current.as_mut() {
                    let t = t.unescape().map_err(|e| bad(e.to_string()))?;
                    value.push_str(&t);
                    if value.len() > limits.max_argument_bytes {
                        return Err(bad("a value is too long"));
                    }
                }
            }
            Event::CData(t) => {
                if let Some((_, value)) = current.as_mut() {
                    value.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    if let Some((name, value)) = current.take() {
                        let value = value.trim();
                        if !value.is_empty() {
                            if doc.fields.len() >= limits.max_arguments {
                                return Err(bad(format!(
                                    "more than {} elements",
                                    limits.max_arguments
                                )));
                            }
                            doc.fields.push((name, value.to_owned()));
                        }
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(bad("no root element"));
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sample_clients_document() {
        let text = "\n<REQUEST>\n  <ENGINE>FIRST</ENGINE>\n  <ASKING_FOR>META</ASKING_FOR>\n  \
                    <CHECKSUM>131071</CHECKSUM>\n  <OFFSET>0</OFFSET>\n  <WANTED>131071</WANTED>\n  \
                    <TAG>A</TAG><TAG> B </TAG><ID></ID>\n</REQUEST>\n\n";
        let doc = parse_request(text, &Limits::default()).unwrap();
        assert_eq!(doc.get("ASKING_FOR"), Some("META"));
        assert_eq!(doc.get("OFFSET"), Some("0"));
        assert_eq!(doc.all("TAG"), ["A", "B"]);
        assert_eq!(doc.get("ID"), None, "empty is absent");
    }

    #[test]
    fn refuses_other_shapes() {
        for text in [
            "",
            "plain",
            "<R><A><B>1</B></A></R>",
            "<R/><R/>",
            "<R><A>1</R>",
        ] {
            assert!(parse_request(text, &Limits::default()).is_err(), "{text:?}");
        }
    }
}
