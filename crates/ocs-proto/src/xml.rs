//! Reads agent XML into an element tree with the semantics of the original server's
//! XML::Simple configuration, because agents were written against those semantics:
//!
//! * attributes and child elements are interchangeable (`<REQUEST QUERY="DOWNLOAD"/>` equals
//!   `<REQUEST><QUERY>DOWNLOAD</QUERY></REQUEST>`), so attributes become leading children;
//! * an element with no attribute, no child and only whitespace text is absent
//!   (`SuppressEmpty`), and whitespace-only text is discarded;
//! * other text is kept verbatim, not trimmed.
//!
//! A document type declaration is refused outright: it is the only way to declare entities,
//! and the original's XXE (CVE-2018-14473) came through one.

use std::borrow::Cow;
use std::collections::HashSet;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Deepest nesting accepted; real inventories are four levels deep.
const MAX_DEPTH: usize = 32;

/// Bounds on the shape of a document, so that reading any body costs time and memory in
/// proportion to its size. The defaults sit far above every real agent (the largest real
/// inventories hold about 50,000 elements, a few attributes per element and no value longer
/// than a few kilobytes) and far below what would hurt the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Attributes on one element.
    pub max_attributes: usize,
    /// Elements (and attributes, which become elements) in the whole document.
    pub max_elements: usize,
    /// Bytes of text of one element or attribute.
    pub max_text_bytes: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        XmlLimits {
            max_attributes: 256,
            max_elements: 250_000,
            max_text_bytes: 256 << 10,
        }
    }
}

/// One XML element after the XML::Simple folding described in the module comment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// Tag name, as written (OCS names are upper case).
    pub name: String,
    /// Non-whitespace text, verbatim; empty when the element has none.
    pub text: String,
    /// Attributes (first, in document order) then child elements.
    pub children: Vec<Element>,
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum XmlError {
    /// `<!DOCTYPE` is refused (XXE protection).
    #[error("document type declarations are not accepted")]
    Doctype,
    /// The bytes are not valid in the document's encoding, or the encoding is unknown.
    #[error("invalid encoding: {0}")]
    Encoding(String),
    /// Not well-formed XML.
    #[error("malformed XML: {0}")]
    Syntax(String),
    /// Nesting beyond [`MAX_DEPTH`].
    #[error("XML nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// No root element.
    #[error("no root element")]
    NoRoot,
    /// An element with more attributes than [`XmlLimits::max_attributes`].
    #[error("an element has more than {limit} attributes")]
    TooManyAttributes {
        /// The limit.
        limit: usize,
    },
    /// More elements than [`XmlLimits::max_elements`].
    #[error("the document has more than {limit} elements")]
    TooManyElements {
        /// The limit.
        limit: usize,
    },
    /// A text or attribute value longer than [`XmlLimits::max_text_bytes`].
    #[error("a value is longer than {limit} bytes")]
    TextTooLong {
        /// The limit.
        limit: usize,
    },
}

impl XmlError {
    /// Whether the document was refused for its size rather than its form (HTTP 413).
    pub fn is_over_limit(&self) -> bool {
        matches!(
            self,
            XmlError::TooManyAttributes { .. }
                | XmlError::TooManyElements { .. }
                | XmlError::TextTooLong { .. }
        )
    }
}

impl Element {
    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child with this name, in document order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child with this name, if that child is present.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// Whether the element carries nothing: no text and no children.
    pub fn is_blank(&self) -> bool {
        self.text.is_empty() && self.children.is_empty()
    }
}

/// Parses a whole document with the default [`XmlLimits`].
pub fn parse(doc: &[u8]) -> Result<Element, XmlError> {
    parse_with(doc, &XmlLimits::default())
}

/// Parses a whole document. The encoding comes from the XML declaration (UTF-8 when absent).
/// Every step is linear in the size of the document, and the limits stop it early.
pub fn parse_with(doc: &[u8], limits: &XmlLimits) -> Result<Element, XmlError> {
    let mut tree = TreeSink::default();
    walk(doc, limits, &mut tree)?;
    tree.root.ok_or(XmlError::NoRoot)
}

/// What [`walk`] reports, element by element, once every check on the piece has passed.
/// Attributes come right after their element's `open`, as the leading children they become.
pub(crate) trait Sink {
    /// An element starts.
    fn open(&mut self, name: &str);
    /// An attribute of the element just opened: a child element with this text and nothing
    /// else, never suppressed.
    fn attribute(&mut self, name: &str, value: Cow<'_, str>);
    /// A piece of the innermost open element's text (whitespace included).
    fn text(&mut self, text: &str);
    /// The innermost open element ends; `blank` when it has no non-whitespace text and no
    /// child left, so that its parent drops it (`SuppressEmpty`).
    fn close(&mut self, blank: bool);
}

/// What the walk knows of each open element: enough to enforce the text limit and to tell
/// blank elements, without keeping their content.
struct Level {
    text_bytes: usize,
    text_blank: bool,
    has_children: bool,
}

/// Reads a document as [`Sink`] events, with every check of the module: the one reader behind
/// both the element tree ([`parse_with`]) and the streaming request reader, so that the two
/// accept, refuse and fold exactly the same documents.
pub(crate) fn walk(doc: &[u8], limits: &XmlLimits, sink: &mut impl Sink) -> Result<(), XmlError> {
    let text = decode_document(doc)?;
    let mut reader = Reader::from_str(&text);
    let mut stack: Vec<Level> = Vec::new();
    let mut root_seen = false;
    let mut elements = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| XmlError::Syntax(e.to_string()))?;
        match event {
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(open_element(&start, limits, &mut elements, sink)?);
            }
            Event::Empty(start) => {
                let level = open_element(&start, limits, &mut elements, sink)?;
                close_element(level, &mut stack, &mut root_seen, sink)?;
            }
            Event::End(_) => {
                let level = stack
                    .pop()
                    .ok_or_else(|| XmlError::Syntax("unbalanced end tag".into()))?;
                close_element(level, &mut stack, &mut root_seen, sink)?;
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| XmlError::Syntax(e.to_string()))?;
                if let Some(top) = stack.last_mut() {
                    append_text(top, &s, limits)?;
                    sink.text(&s);
                } else if !s.trim().is_empty() {
                    return Err(XmlError::Syntax("text outside the root element".into()));
                }
            }
            Event::CData(c) => {
                let s = std::str::from_utf8(c.as_ref())
                    .map_err(|e| XmlError::Encoding(e.to_string()))?;
                if let Some(top) = stack.last_mut() {
                    append_text(top, s, limits)?;
                    sink.text(s);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Syntax("document ends inside an element".into()));
    }
    if root_seen {
        Ok(())
    } else {
        Err(XmlError::NoRoot)
    }
}

fn append_text(level: &mut Level, more: &str, limits: &XmlLimits) -> Result<(), XmlError> {
    if level.text_bytes + more.len() > limits.max_text_bytes {
        return Err(XmlError::TextTooLong {
            limit: limits.max_text_bytes,
        });
    }
    level.text_bytes += more.len();
    // The concatenation is whitespace only exactly when every piece is.
    level.text_blank &= more.trim().is_empty();
    Ok(())
}

fn count_element(elements: &mut usize, limits: &XmlLimits) -> Result<(), XmlError> {
    *elements += 1;
    if *elements > limits.max_elements {
        return Err(XmlError::TooManyElements {
            limit: limits.max_elements,
        });
    }
    Ok(())
}

fn open_element(
    start: &BytesStart<'_>,
    limits: &XmlLimits,
    elements: &mut usize,
    sink: &mut impl Sink,
) -> Result<Level, XmlError> {
    count_element(elements, limits)?;
    sink.open(utf8(start.name().as_ref())?);
    let mut attributes = 0usize;
    // quick-xml's own duplicate check compares every attribute with every earlier one, which
    // is quadratic in their number; a hash set of names keeps it linear.
    let mut seen: HashSet<&[u8]> = HashSet::new();
    for attr in start.attributes().with_checks(false) {
        let attr = attr.map_err(|e| XmlError::Syntax(e.to_string()))?;
        if attributes >= limits.max_attributes {
            return Err(XmlError::TooManyAttributes {
                limit: limits.max_attributes,
            });
        }
        count_element(elements, limits)?;
        let key = attr.key.into_inner();
        if !seen.insert(key) {
            return Err(XmlError::Syntax(format!(
                "duplicate attribute {:?}",
                String::from_utf8_lossy(key)
            )));
        }
        if attr.value.len() > limits.max_text_bytes {
            return Err(XmlError::TextTooLong {
                limit: limits.max_text_bytes,
            });
        }
        let value = attr
            .unescape_value()
            .map_err(|e| XmlError::Syntax(e.to_string()))?;
        sink.attribute(utf8(key)?, value);
        attributes += 1;
    }
    Ok(Level {
        text_bytes: 0,
        text_blank: true,
        has_children: attributes > 0,
    })
}

fn close_element(
    level: Level,
    stack: &mut [Level],
    root_seen: &mut bool,
    sink: &mut impl Sink,
) -> Result<(), XmlError> {
    let blank = level.text_blank && !level.has_children;
    match stack.last_mut() {
        Some(parent) => parent.has_children |= !blank,
        None if !*root_seen => *root_seen = true,
        None => return Err(XmlError::Syntax("more than one root element".into())),
    }
    sink.close(blank);
    Ok(())
}

/// Builds [`Element`]s from [`Sink`] events: the whole document for [`parse_with`], or one
/// small subtree at a time for the streaming reader.
#[derive(Debug, Default)]
pub(crate) struct TreeSink {
    /// The open elements, innermost last.
    pub(crate) stack: Vec<Element>,
    /// The first element closed with nothing open around it.
    pub(crate) root: Option<Element>,
}

impl TreeSink {
    /// Whether an element is being built.
    pub(crate) fn is_building(&self) -> bool {
        !self.stack.is_empty()
    }
}

impl Sink for TreeSink {
    fn open(&mut self, name: &str) {
        self.stack.push(Element {
            name: name.to_owned(),
            ..Element::default()
        });
    }

    fn attribute(&mut self, name: &str, value: Cow<'_, str>) {
        if let Some(top) = self.stack.last_mut() {
            top.children.push(Element {
                name: name.to_owned(),
                text: value.into_owned(),
                children: Vec::new(),
            });
        }
    }

    fn text(&mut self, text: &str) {
        if let Some(top) = self.stack.last_mut() {
            top.text.push_str(text);
        }
    }

    fn close(&mut self, blank: bool) {
        let Some(mut element) = self.stack.pop() else {
            return;
        };
        if element.text.trim().is_empty() {
            element.text.clear();
        }
        match self.stack.last_mut() {
            // SuppressEmpty: an empty element is as good as absent.
            Some(parent) if !blank => parent.children.push(element),
            Some(_) => {}
            None => self.root = Some(element),
        }
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, XmlError> {
    std::str::from_utf8(bytes).map_err(|e| XmlError::Encoding(e.to_string()))
}

/// Turns the raw bytes into UTF-8 text. A declared non-UTF-8 encoding (old Windows agents
/// declare ISO-8859-1) is transcoded; UTF-8 that is not valid UTF-8 is refused rather than
/// guessed at, so nothing mis-decoded reaches the database.
fn decode_document(doc: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    let doc = doc.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(doc);
    if let Some(label) = declared_encoding(doc) {
        let encoding = encoding_rs::Encoding::for_label(label.as_bytes())
            .ok_or_else(|| XmlError::Encoding(format!("unknown encoding {label:?}")))?;
        if encoding != encoding_rs::UTF_8 {
            let (text, _, had_errors) = encoding.decode(doc);
            if had_errors {
                return Err(XmlError::Encoding(format!(
                    "bytes not valid in {}",
                    encoding.name()
                )));
            }
            return Ok(text);
        }
    }
    std::str::from_utf8(doc)
        .map(Cow::Borrowed)
        .map_err(|e| XmlError::Encoding(format!("invalid UTF-8 at byte {}", e.valid_up_to())))
}

/// The `encoding` pseudo-attribute of the XML declaration, if any.
fn declared_encoding(doc: &[u8]) -> Option<String> {
    let head = &doc[..doc.len().min(200)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = String::from_utf8_lossy(&head[..end]);
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_and_children_are_interchangeable() {
        let a =
            parse(br#"<REQUEST DEVICEID="d-2024-01-01-00-00-00" QUERY="DOWNLOAD" ERR="SUCCESS"/>"#)
                .unwrap();
        let b = parse(b"<REQUEST><DEVICEID>d-2024-01-01-00-00-00</DEVICEID><QUERY>DOWNLOAD</QUERY><ERR>SUCCESS</ERR></REQUEST>").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.value("QUERY"), Some("DOWNLOAD"));
    }

    #[test]
    fn empty_elements_are_absent_and_text_is_verbatim() {
        let e =
            parse(b"<R><BIOS>\n    </BIOS><A></A><B/><C> x </C><D>\n<E>1</E>\n</D></R>").unwrap();
        assert_eq!(
            e.children
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["C", "D"]
        );
        assert_eq!(e.value("C"), Some(" x "));
        assert_eq!(e.child("D").unwrap().text, "");
        assert_eq!(e.child("D").unwrap().value("E"), Some("1"));
    }

    #[test]
    fn a_section_of_empty_fields_is_absent() {
        // FusionInventory sends this on machines without DMI data.
        let e = parse(b"<R><BIOS><SSN /></BIOS></R>").unwrap();
        assert!(e.child("BIOS").is_none());
    }

    #[test]
    fn doctype_and_entities_are_refused() {
        let xxe = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><R>&x;</R>"#;
        assert_eq!(parse(xxe), Err(XmlError::Doctype));
        assert!(matches!(parse(b"<R>&x;</R>"), Err(XmlError::Syntax(_))));
        assert_eq!(parse(b"<R>&amp;&#65;</R>").unwrap().text, "&A");
    }

    #[test]
    fn encodings() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><R>caf\xe9</R>";
        assert_eq!(parse(latin1).unwrap().text, "caf\u{e9}");
        assert!(matches!(
            parse(b"<?xml version=\"1.0\"?><R>caf\xe9</R>"),
            Err(XmlError::Encoding(_))
        ));
        assert!(matches!(
            parse(b"<?xml version='1.0' encoding='x-nope'?><R/>"),
            Err(XmlError::Encoding(_))
        ));
        assert_eq!(parse("\u{feff}<R>é</R>".as_bytes()).unwrap().text, "é");
    }

    #[test]
    fn malformed_documents() {
        assert!(matches!(parse(b"<R><A></R>"), Err(XmlError::Syntax(_))));
        assert!(matches!(parse(b"<R>"), Err(XmlError::Syntax(_))));
        assert_eq!(parse(b"  "), Err(XmlError::NoRoot));
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
        assert!(matches!(
            parse(br#"<R A="1" A="2"/>"#),
            Err(XmlError::Syntax(_))
        ));
    }

    #[test]
    fn limits_stop_the_reader() {
        let limits = XmlLimits {
            max_attributes: 3,
            max_elements: 10,
            max_text_bytes: 8,
        };
        assert!(parse_with(br#"<R A="1" B="2" C="3"/>"#, &limits).is_ok());
        assert_eq!(
            parse_with(br#"<R A="1" B="2" C="3" D="4"/>"#, &limits),
            Err(XmlError::TooManyAttributes { limit: 3 })
        );
        let many = format!("<R>{}</R>", "<A>1</A>".repeat(10));
        assert_eq!(
            parse_with(many.as_bytes(), &limits),
            Err(XmlError::TooManyElements { limit: 10 })
        );
        // Text split by comments or CDATA still counts as one value.
        assert_eq!(
            parse_with(b"<R>12345<!-- -->6789</R>", &limits),
            Err(XmlError::TextTooLong { limit: 8 })
        );
        assert_eq!(
            parse_with(br#"<R A="123456789"/>"#, &limits),
            Err(XmlError::TextTooLong { limit: 8 })
        );
        assert!(XmlError::TooManyElements { limit: 1 }.is_over_limit());
        assert!(!XmlError::NoRoot.is_over_limit());
    }

    #[test]
    fn many_attributes_are_read_in_linear_time() {
        // 100,000 distinct attributes once took 13 s (a quadratic duplicate check): the limit
        // refuses them, and a raised limit reads them all (in linear time: bench/hostile).
        let mut doc = String::from("<R");
        for i in 0..100_000 {
            doc.push_str(&format!(" A{i}=\"x\""));
        }
        doc.push_str("/>");
        assert_eq!(
            parse(doc.as_bytes()),
            Err(XmlError::TooManyAttributes { limit: 256 })
        );
        let wide = XmlLimits {
            max_attributes: 200_000,
            max_elements: 200_001,
            ..XmlLimits::default()
        };
        assert_eq!(
            parse_with(doc.as_bytes(), &wide).unwrap().children.len(),
            100_000
        );
    }
}
