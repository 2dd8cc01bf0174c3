//! Reads a SOAP 1.1 call as SOAP::Lite sends it: `Envelope` › `Body` › one element named
//! after the method, whose children are the positional arguments, each a plain string
//! (`xsi:nil="true"` for Perl's `undef`). Nothing else is interpreted: no header, no
//! multi-reference, no nested argument.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{client_fault, Limits};
use crate::app::AppError;

/// One method call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The method's name (the Body's child, without prefix).
    pub method: String,
    /// The method element's namespace (the client's `uri`), echoed in the answer.
    pub namespace: String,
    /// The arguments in order; `None` for a nil one.
    pub args: Vec<Option<String>>,
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

fn is_nil(e: &BytesStart<'_>) -> bool {
    e.attributes()
        .flatten()
        .any(|a| local(a.key.as_ref()) == b"nil" && matches!(a.value.as_ref(), b"true" | b"1"))
}

/// The namespace of the method element: its default one, or the one its prefix names
/// (older SOAP::Lite clients write `<namesp1:method xmlns:namesp1="…">`).
fn namespace_of(e: &BytesStart<'_>) -> String {
    let name = e.name();
    let declaration = match name.as_ref().iter().rposition(|b| *b == b':') {
        Some(i) => [b"xmlns:".as_slice(), &name.as_ref()[..i]].concat(),
        None => b"xmlns".to_vec(),
    };
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == declaration.as_slice())
        .map(|a| String::from_utf8_lossy(a.value.as_ref()).into_owned())
        .unwrap_or_default()
}

fn bad(why: impl Into<String>) -> AppError {
    client_fault(format!("not a SOAP call: {}", why.into()))
}

/// Where the reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Before the envelope.
    Top,
    /// In the envelope, outside the body.
    Envelope,
    /// In the body, before the method.
    Body,
    /// In the method element.
    Method,
    /// In an argument.
    Argument,
    /// In an element skipped whole (the header, anything after the method).
    Skipped(usize),
    /// After the method (in the body).
    Done,
}

/// Parses a call; every refusal says what is wrong with the document.
pub fn parse_call(body: &[u8], limits: &Limits) -> Result<Call, AppError> {
    let mut reader = Reader::from_reader(body);
    let mut at = At::Top;
    // The state to go back to when a skipped element ends.
    let mut after_skip = At::Envelope;
    let mut call: Option<Call> = None;
    let mut argument: Option<Option<String>> = None;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            bad(format!(
                "malformed XML at byte {}: {e}",
                reader.buffer_position()
            ))
        })?;
        match event {
            Event::DocType(_) => return Err(bad("a DOCTYPE is not accepted")),
            Event::Start(e) => {
                let name = local(e.name().as_ref()).to_vec();
                at = match at {
                    At::Top if name == b"Envelope" => At::Envelope,
                    At::Top => return Err(bad("the root element is not an Envelope")),
                    At::Envelope if name == b"Body" => At::Body,
                    At::Envelope => {
                        after_skip = At::Envelope;
                        At::Skipped(1)
                    }
                    At::Body => {
                        call = Some(Call {
                            method: String::from_utf8_lossy(&name).into_owned(),
                            namespace: namespace_of(&e),
                            args: Vec::new(),
                        });
                        At::Method
                    }
                    At::Method => {
                        argument = Some((!is_nil(&e)).then(String::new));
                        At::Argument
                    }
                    At::Argument => return Err(bad(
                        "an argument holds elements; every argument is a string (send XML escaped)",
                    )),
                    At::Skipped(n) => At::Skipped(n + 1),
                    At::Done => {
                        after_skip = At::Done;
                        At::Skipped(1)
                    }
                };
            }
            Event::Empty(e) => match at {
                At::Top | At::Envelope | At::Skipped(_) | At::Done => {}
                At::Body => {
                    call = Some(Call {
                        method: String::from_utf8_lossy(local(e.name().as_ref())).into_owned(),
                        namespace: namespace_of(&e),
                        args: Vec::new(),
                    });
                    at = At::Done;
                }
                At::Method => push_argument(&mut call, (!is_nil(&e)).then(String::new), limits)?,
                At::Argument => {
                    return Err(bad(
                        "an argument holds elements; every argument is a string (send XML escaped)",
                    ))
                }
            },
            Event::Text(t) => {
                if let (At::Argument, Some(Some(value))) = (at, argument.as_mut()) {
                    let text = t
                        .unescape()
                        .map_err(|e| bad(format!("an argument's text: {e}")))?;
                    value.push_str(&text);
                    if value.len() > limits.max_argument_bytes {
                        return Err(client_fault(format!(
                            "an argument is longer than {} bytes",
                            limits.max_argument_bytes
                        )));
                    }
                }
            }
            Event::CData(t) => {
                if let (At::Argument, Some(Some(value))) = (at, argument.as_mut()) {
                    value.push_str(&String::from_utf8_lossy(&t));
                    if value.len() > limits.max_argument_bytes {
                        return Err(client_fault(format!(
                            "an argument is longer than {} bytes",
                            limits.max_argument_bytes
                        )));
                    }
                }
            }
            Event::End(_) => {
                at = match at {
                    At::Argument => {
                        push_argument(&mut call, argument.take().flatten(), limits)?;
                        At::Method
                    }
                    At::Method => At::Done,
                    At::Skipped(1) => after_skip,
                    At::Skipped(n) => At::Skipped(n - 1),
                    At::Body | At::Done => At::Envelope,
                    At::Envelope | At::Top => At::Top,
                };
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    call.ok_or_else(|| bad("no method element in the Body"))
}

fn push_argument(
    call: &mut Option<Call>,
    value: Option<String>,
    limits: &Limits,
) -> Result<(), AppError> {
    if let Some(call) = call.as_mut() {
        if call.args.len() >= limits.max_arguments {
            return Err(client_fault(format!(
                "more than {} arguments",
                limits.max_arguments
            )));
        }
        call.args.push(value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LITE: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><get_history_V1 xmlns="http://localhost/Apache/Ocsinventory/Interface"><c-gensym3 xsi:type="xsd:int">0</c-gensym3><c-gensym5 xsi:type="xsd:string">&lt;REQUEST&gt;</c-gensym5><c-gensym7 xsi:nil="true" /></get_history_V1></soap:Body></soap:Envelope>"#;

    #[test]
    fn reads_a_soap_lite_call() {
        let call = parse_call(LITE.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(call.method, "get_history_V1");
        assert_eq!(
            call.namespace,
            "http://localhost/Apache/Ocsinventory/Interface"
        );
        assert_eq!(
            call.args,
            [Some("0".to_owned()), Some("<REQUEST>".to_owned()), None]
        );
    }

    #[test]
    fn refuses_what_is_not_a_call() {
        let limits = Limits::default();
        for doc in [
            "",
            "<a/>",
            "<!DOCTYPE x><soap:Envelope xmlns:soap=\"x\"><soap:Body><m/></soap:Body></soap:Envelope>",
            "<Envelope><Body><m><a><b/></a></m></Body></Envelope>",
            "<Envelope><Body><m><a>x</b></m></Body></Envelope>",
        ] {
            assert!(parse_call(doc.as_bytes(), &limits).is_err(), "{doc}");
        }
        let prefixed = "<s:Envelope xmlns:s=\"e\"><s:Body><n1:get_history_V1 xmlns:n1=\"urn:ocs\"><a>0</a></n1:get_history_V1></s:Body></s:Envelope>";
        let call = parse_call(prefixed.as_bytes(), &limits).unwrap();
        assert_eq!(
            (call.method.as_str(), call.namespace.as_str()),
            ("get_history_V1", "urn:ocs")
        );
        let small = Limits {
            max_arguments: 1,
            ..Limits::default()
        };
        let two = "<Envelope><Body><m><a>1</a><a>2</a></m></Body></Envelope>";
        assert!(parse_call(two.as_bytes(), &small).is_err());
    }
}
