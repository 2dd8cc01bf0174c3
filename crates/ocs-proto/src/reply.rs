//! Replies to agents, written the way the original's XML::Simple writes them: single-quoted
//! declaration, two-space indentation, scalars as elements, PARAM values as attributes.
//! Agents do not depend on element order (the original's is random), so ours is fixed.

use quick_xml::escape::escape;

/// The PROLOG decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrologResponse {
    /// Send an inventory.
    Send,
    /// Do not send one.
    Stop,
}

/// One `PARAM` of an `OPTION`: attributes, and optional text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Param {
    /// Attributes in the order written.
    pub attributes: Vec<(String, String)>,
    /// Element text (`REGISTRY` value name, `IPDISCOVER` subnet).
    pub text: Option<String>,
}

impl Param {
    /// A PARAM from attribute pairs.
    pub fn with_attributes<I, K, V>(attributes: I) -> Param
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Param {
            attributes: attributes
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            text: None,
        }
    }
}

/// One `OPTION` block of a PROLOG reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyOption {
    /// `DOWNLOAD`, `REGISTRY`, `IPDISCOVER`, `SNMP`.
    pub name: String,
    /// Its parameters.
    pub params: Vec<Param>,
}

/// A PROLOG reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrologReply {
    /// SEND or STOP.
    pub response: PrologResponse,
    /// Hours until the next contact.
    pub prolog_freq: i64,
    /// Whether the Windows service inventories at start-up.
    pub inventory_on_startup: i64,
    /// Option blocks.
    pub options: Vec<ReplyOption>,
}

/// An INVENTORY reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryReply {
    /// The agent keeps its administrative data.
    NoAccountUpdate,
    /// The agent must replace its administrative data with these `(KEYNAME, KEYVALUE)`.
    AccountUpdate(Vec<(String, String)>),
}

const DECLARATION: &str = "<?xml version='1.0' encoding='UTF-8'?>\n";

impl PrologReply {
    /// The reply document.
    pub fn to_xml(&self) -> String {
        let mut out = String::from(DECLARATION);
        out.push_str("<REPLY>\n");
        for option in &self.options {
            out.push_str("  <OPTION>\n");
            element(&mut out, 4, "NAME", &option.name);
            for param in &option.params {
                out.push_str("    <PARAM");
                for (k, v) in &param.attributes {
                    out.push_str(&format!(" {k}=\"{}\"", escape(v.as_str())));
                }
                match &param.text {
                    Some(text) => out.push_str(&format!(">{}</PARAM>\n", escape(text.as_str()))),
                    None => out.push_str(" />\n"),
                }
            }
            out.push_str("  </OPTION>\n");
        }
        let response = match self.response {
            PrologResponse::Send => "SEND",
            PrologResponse::Stop => "STOP",
        };
        element(&mut out, 2, "RESPONSE", response);
        element(&mut out, 2, "PROLOG_FREQ", &self.prolog_freq.to_string());
        element(
            &mut out,
            2,
            "INVENTORY_ON_STARTUP",
            &self.inventory_on_startup.to_string(),
        );
        out.push_str("</REPLY>\n");
        out
    }
}

impl InventoryReply {
    /// The reply document.
    pub fn to_xml(&self) -> String {
        let mut out = String::from(DECLARATION);
        out.push_str("<REPLY>\n");
        match self {
            InventoryReply::NoAccountUpdate => {
                element(&mut out, 2, "RESPONSE", "NO_ACCOUNT_UPDATE")
            }
            InventoryReply::AccountUpdate(entries) => {
                element(&mut out, 2, "RESPONSE", "ACCOUNT_UPDATE");
                for (key, value) in entries {
                    out.push_str("  <ACCOUNTINFO>\n");
                    element(&mut out, 4, "KEYNAME", key);
                    element(&mut out, 4, "KEYVALUE", value);
                    out.push_str("  </ACCOUNTINFO>\n");
                }
            }
        }
        out.push_str("</REPLY>\n");
        out
    }
}

/// The reply to an UPDATE query: self-update is deprecated, so always `NO_UPDATE`.
pub fn no_update_xml() -> String {
    format!("{DECLARATION}<REPLY>\n  <RESPONSE>NO_UPDATE</RESPONSE>\n</REPLY>\n")
}

fn element(out: &mut String, indent: usize, name: &str, text: &str) {
    out.push_str(&" ".repeat(indent));
    out.push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    #[test]
    fn prolog_reply_reads_back() {
        let reply = PrologReply {
            response: PrologResponse::Send,
            prolog_freq: 24,
            inventory_on_startup: 1,
            options: vec![ReplyOption {
                name: "DOWNLOAD".into(),
                params: vec![Param::with_attributes([("TYPE", "CONF"), ("ON", "0")])],
            }],
        };
        let xml = reply.to_xml();
        assert!(xml.starts_with("<?xml version='1.0' encoding='UTF-8'?>\n<REPLY>"));
        let doc = parse(xml.as_bytes()).unwrap();
        assert_eq!(doc.value("RESPONSE"), Some("SEND"));
        assert_eq!(doc.value("PROLOG_FREQ"), Some("24"));
        let option = doc.child("OPTION").unwrap();
        assert_eq!(option.value("NAME"), Some("DOWNLOAD"));
        assert_eq!(option.child("PARAM").unwrap().value("ON"), Some("0"));
    }

    #[test]
    fn account_update_escapes() {
        let xml = InventoryReply::AccountUpdate(vec![("TAG".into(), "<R&D>".into())]).to_xml();
        let doc = parse(xml.as_bytes()).unwrap();
        assert_eq!(doc.value("RESPONSE"), Some("ACCOUNT_UPDATE"));
        assert_eq!(
            doc.child("ACCOUNTINFO").unwrap().value("KEYVALUE"),
            Some("<R&D>")
        );
    }
}
