//! Writes what the SOAP service answers: the XML documents its methods return as strings,
//! in the layout the original's XML::Simple gave them (children sorted by name, two spaces
//! of indentation, one element per line), and the SOAP 1.1 envelope around them, typed as
//! SOAP::Lite types values, or a fault.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::app::AppError;

/// An element of a returned document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    content: Content,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    Text(String),
    Children(Vec<Node>),
}

impl Node {
    /// An element holding text (`None`: empty).
    pub fn text(name: &str, value: Option<&str>) -> Node {
        Node {
            name: name.to_owned(),
            attributes: Vec::new(),
            content: Content::Text(value.unwrap_or_default().to_owned()),
        }
    }

    /// An element holding elements.
    pub fn parent(name: &str, children: Vec<Node>) -> Node {
        Node {
            name: name.to_owned(),
            attributes: Vec::new(),
            content: Content::Children(children),
        }
    }

    /// With an attribute.
    pub fn attribute(mut self, name: &str, value: &str) -> Node {
        self.attributes.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The document as a string, ending with a newline as XML::Simple's did.
    pub fn document(&self) -> Result<String, AppError> {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        write_node(&mut writer, self).map_err(write_error)?;
        let mut out = String::from_utf8(writer.into_inner()).map_err(write_error)?;
        out.push('\n');
        Ok(out)
    }
}

fn write_error(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("writing a SOAP answer: {e}"))
}

fn write_node(w: &mut Writer<Vec<u8>>, node: &Node) -> std::io::Result<()> {
    let mut start = BytesStart::new(node.name.as_str());
    for (k, v) in &node.attributes {
        start.push_attribute((k.as_str(), v.as_str()));
    }
    w.write_event(Event::Start(start))?;
    match &node.content {
        Content::Text(text) => {
            // Even empty: a text event keeps the end tag on the same line.
            w.write_event(Event::Text(BytesText::new(text)))?;
        }
        Content::Children(children) if children.is_empty() => {
            w.write_event(Event::Text(BytesText::new("")))?;
        }
        Content::Children(children) => {
            // XML::Simple wrote a hash's keys sorted; the rows of one key keep their order.
            let mut sorted: Vec<&Node> = children.iter().collect();
            sorted.sort_by(|a, b| a.name.cmp(&b.name));
            for child in sorted {
                write_node(w, child)?;
            }
        }
    }
    w.write_event(Event::End(BytesEnd::new(node.name.as_str())))
}

/// One value a method returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapValue {
    /// A string (usually an XML document).
    Text(String),
    /// A number.
    Int(i64),
    /// Perl's `undef`.
    Nil,
}

const ENVELOPE_ATTRIBUTES: [(&str, &str); 5] = [
    ("xmlns:soap", "http://schemas.xmlsoap.org/soap/envelope/"),
    ("xmlns:soapenc", "http://schemas.xmlsoap.org/soap/encoding/"),
    ("xmlns:xsd", "http://www.w3.org/2001/XMLSchema"),
    ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
    (
        "soap:encodingStyle",
        "http://schemas.xmlsoap.org/soap/encoding/",
    ),
];

fn envelope(
    body: impl FnOnce(&mut Writer<Vec<u8>>) -> std::io::Result<()>,
) -> Result<String, AppError> {
    let mut w = Writer::new(Vec::new());
    let run = |w: &mut Writer<Vec<u8>>| -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut start = BytesStart::new("soap:Envelope");
        for attribute in ENVELOPE_ATTRIBUTES {
            start.push_attribute(attribute);
        }
        w.write_event(Event::Start(start))?;
        w.write_event(Event::Start(BytesStart::new("soap:Body")))?;
        body(w)?;
        w.write_event(Event::End(BytesEnd::new("soap:Body")))?;
        w.write_event(Event::End(BytesEnd::new("soap:Envelope")))
    };
    run(&mut w).map_err(write_error)?;
    String::from_utf8(w.into_inner()).map_err(write_error)
}

/// The answer to `method`: `<methodResponse xmlns="namespace">` with one element per value.
pub fn response(method: &str, namespace: &str, values: &[SoapValue]) -> Result<String, AppError> {
    envelope(|w| {
        let name = format!("{method}Response");
        let mut start = BytesStart::new(name.as_str());
        if !namespace.is_empty() {
            start.push_attribute(("xmlns", namespace));
        }
        w.write_event(Event::Start(start))?;
        for value in values {
            let mut item = BytesStart::new("result");
            match value {
                SoapValue::Text(text) => {
                    item.push_attribute(("xsi:type", "xsd:string"));
                    w.write_event(Event::Start(item))?;
                    w.write_event(Event::Text(BytesText::new(text)))?;
                    w.write_event(Event::End(BytesEnd::new("result")))?;
                }
                SoapValue::Int(n) => {
                    item.push_attribute(("xsi:type", "xsd:int"));
                    w.write_event(Event::Start(item))?;
                    w.write_event(Event::Text(BytesText::new(&n.to_string())))?;
                    w.write_event(Event::End(BytesEnd::new("result")))?;
                }
                SoapValue::Nil => {
                    item.push_attribute(("xsi:nil", "true"));
                    w.write_event(Event::Empty(item))?;
                }
            }
        }
        w.write_event(Event::End(BytesEnd::new(name.as_str())))
    })
}

/// A SOAP fault: `soap:Client` (the request is at fault) or `soap:Server`.
pub fn fault(client: bool, reason: &str) -> Result<String, AppError> {
    envelope(|w| {
        w.write_event(Event::Start(BytesStart::new("soap:Fault")))?;
        w.write_event(Event::Start(BytesStart::new("faultcode")))?;
        let code = if client { "soap:Client" } else { "soap:Server" };
        w.write_event(Event::Text(BytesText::new(code)))?;
        w.write_event(Event::End(BytesEnd::new("faultcode")))?;
        w.write_event(Event::Start(BytesStart::new("faultstring")))?;
        w.write_event(Event::Text(BytesText::new(reason)))?;
        w.write_event(Event::End(BytesEnd::new("faultstring")))?;
        w.write_event(Event::End(BytesEnd::new("soap:Fault")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_look_like_xml_simple_output() {
        let doc = Node::parent(
            "COMPUTER",
            vec![
                Node::text("NAME", Some("pc <1>")),
                Node::parent(
                    "ACCOUNTINFO",
                    vec![Node::text("ENTRY", Some("PARIS")).attribute("Name", "TAG")],
                ),
                Node::text("CHECKSUM", None),
            ],
        );
        assert_eq!(
            doc.document().unwrap(),
            "<COMPUTER>\n  <ACCOUNTINFO>\n    <ENTRY Name=\"TAG\">PARIS</ENTRY>\n  </ACCOUNTINFO>\n  \
             <CHECKSUM></CHECKSUM>\n  <NAME>pc &lt;1&gt;</NAME>\n</COMPUTER>\n"
        );
    }

    #[test]
    fn envelopes_carry_typed_values() {
        let xml = response(
            "get_history_V1",
            "urn:x",
            &[
                SoapValue::Text("<A>".into()),
                SoapValue::Int(3),
                SoapValue::Nil,
            ],
        )
        .unwrap();
        assert!(
            xml.contains("<get_history_V1Response xmlns=\"urn:x\">"),
            "{xml}"
        );
        assert!(
            xml.contains("<result xsi:type=\"xsd:string\">&lt;A&gt;</result>"),
            "{xml}"
        );
        assert!(
            xml.contains("<result xsi:type=\"xsd:int\">3</result>"),
            "{xml}"
        );
        assert!(xml.contains("<result xsi:nil=\"true\"/>"), "{xml}");
        let f = fault(true, "BAD <x>").unwrap();
        assert!(
            f.contains(
                "<faultcode>soap:Client</faultcode><faultstring>BAD &lt;x&gt;</faultstring>"
            ),
            "{f}"
        );
    }
}
