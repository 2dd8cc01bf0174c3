//! Reading server replies, as an agent does: the PROLOG reply (SEND or STOP, PROLOG_FREQ,
//! OPTION blocks) and the INVENTORY reply (ACCOUNT_UPDATE with the administrative data to
//! adopt). The types are the ones the server side writes ([`crate::reply`]), so a reply
//! written by our server reads back to the same value.
//!
//! The original server writes elements and attributes in random order, so nothing here
//! depends on order; values are compared the way the agents compare them (RESPONSE
//! case-insensitively, option names case-insensitively).

use crate::reply::{InventoryReply, Param, PrologReply, PrologResponse, ReplyOption};
use crate::xml::{self, Element, XmlError};

/// Why a reply cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReplyError {
    /// The XML itself.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// No RESPONSE element.
    #[error("reply without RESPONSE")]
    MissingResponse,
    /// A RESPONSE this kind of reply cannot carry.
    #[error("unexpected RESPONSE {0:?}")]
    UnexpectedResponse(String),
}

/// Reads a PROLOG reply. A missing or non-numeric PROLOG_FREQ or INVENTORY_ON_STARTUP reads
/// as 0, which callers treat as "not told".
pub fn parse_prolog_reply(doc: &[u8]) -> Result<PrologReply, ReplyError> {
    let root = xml::parse(doc)?;
    let response = root
        .value("RESPONSE")
        .map(str::trim)
        .ok_or(ReplyError::MissingResponse)?;
    let response = if response.eq_ignore_ascii_case("SEND") {
        PrologResponse::Send
    } else if response.eq_ignore_ascii_case("STOP") {
        PrologResponse::Stop
    } else {
        return Err(ReplyError::UnexpectedResponse(response.to_owned()));
    };
    let options = root.children_named("OPTION").map(option).collect();
    Ok(PrologReply {
        response,
        prolog_freq: number(&root, "PROLOG_FREQ"),
        inventory_on_startup: number(&root, "INVENTORY_ON_STARTUP"),
        options,
    })
}

/// Reads an INVENTORY reply. ACCOUNTINFO entries keep their order; an entry without KEYNAME
/// is dropped, one without KEYVALUE reads as an empty value.
pub fn parse_inventory_reply(doc: &[u8]) -> Result<InventoryReply, ReplyError> {
    let root = xml::parse(doc)?;
    let response = root
        .value("RESPONSE")
        .map(str::trim)
        .ok_or(ReplyError::MissingResponse)?;
    if response.eq_ignore_ascii_case("NO_ACCOUNT_UPDATE") {
        return Ok(InventoryReply::NoAccountUpdate);
    }
    if !response.eq_ignore_ascii_case("ACCOUNT_UPDATE") {
        return Err(ReplyError::UnexpectedResponse(response.to_owned()));
    }
    let entries = root
        .children_named("ACCOUNTINFO")
        .filter_map(|a| {
            Some((
                a.value("KEYNAME")?.trim().to_owned(),
                a.value("KEYVALUE").unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    Ok(InventoryReply::AccountUpdate(entries))
}

impl PrologReply {
    /// The option block with this name (`DOWNLOAD`, `IPDISCOVER`, …), compared
    /// case-insensitively as the Unix agent does.
    pub fn option(&self, name: &str) -> Option<&ReplyOption> {
        self.options
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    }
}

fn number(root: &Element, name: &str) -> i64 {
    root.value(name)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// After the XML::Simple folding, a PARAM's attributes and its text both live in the element:
/// attributes as leading children, text as `text`.
fn option(el: &Element) -> ReplyOption {
    ReplyOption {
        name: el.value("NAME").unwrap_or_default().trim().to_owned(),
        params: el
            .children_named("PARAM")
            .map(|p| Param {
                attributes: p
                    .children
                    .iter()
                    .map(|a| (a.name.clone(), a.text.clone()))
                    .collect(),
                text: (!p.text.is_empty()).then(|| p.text.clone()),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_prolog_reply() {
        // ../shared/fixtures/real-agent/ocs-agent/01-PROLOG-response.xml
        let doc = br#"<?xml version='1.0' encoding='UTF-8'?>
<REPLY>
  <RESPONSE>SEND</RESPONSE>
  <OPTION>
    <PARAM ON="0" PERIOD_LATENCY="1" FRAG_LATENCY="10" EXECUTION_TIMEOUT="120" TIMEOUT="30" PERIOD_LENGTH="10" TYPE="CONF" CYCLE_LATENCY="60" />
    <NAME>DOWNLOAD</NAME>
  </OPTION>
  <PROLOG_FREQ>24</PROLOG_FREQ>
  <INVENTORY_ON_STARTUP>1</INVENTORY_ON_STARTUP>
</REPLY>
"#;
        let reply = parse_prolog_reply(doc).unwrap();
        assert_eq!(reply.response, PrologResponse::Send);
        assert_eq!(reply.prolog_freq, 24);
        assert_eq!(reply.inventory_on_startup, 1);
        let download = reply.option("download").unwrap();
        assert_eq!(download.params.len(), 1);
        assert!(download.params[0]
            .attributes
            .contains(&("TYPE".into(), "CONF".into())));
    }

    #[test]
    fn our_server_replies_read_back() {
        let reply = PrologReply {
            response: PrologResponse::Stop,
            prolog_freq: 12,
            inventory_on_startup: 0,
            options: vec![ReplyOption {
                name: "IPDISCOVER".into(),
                params: vec![Param {
                    attributes: vec![("IPDISC_LAT".into(), "100".into())],
                    text: Some("192.168.10.0".into()),
                }],
            }],
        };
        assert_eq!(
            parse_prolog_reply(reply.to_xml().as_bytes()).unwrap(),
            reply
        );
        let inv = InventoryReply::AccountUpdate(vec![
            ("TAG".into(), "NA".into()),
            ("fields_3".into(), String::new()),
        ]);
        assert_eq!(parse_inventory_reply(inv.to_xml().as_bytes()).unwrap(), inv);
        let none = InventoryReply::NoAccountUpdate;
        assert_eq!(
            parse_inventory_reply(none.to_xml().as_bytes()).unwrap(),
            none
        );
    }

    #[test]
    fn bad_replies() {
        assert_eq!(
            parse_prolog_reply(b"<REPLY><PROLOG_FREQ>1</PROLOG_FREQ></REPLY>"),
            Err(ReplyError::MissingResponse)
        );
        assert_eq!(
            parse_inventory_reply(b"<REPLY><RESPONSE>SEND</RESPONSE></REPLY>"),
            Err(ReplyError::UnexpectedResponse("SEND".into()))
        );
        assert!(matches!(
            parse_prolog_reply(b"<html>"),
            Err(ReplyError::Xml(_))
        ));
    }
}
