//! One call from an agent body to a typed request: decode (zlib, gzip, plain), read the XML
//! with its limits, validate the envelope and hand back one [`Request`] variant per QUERY,
//! an INVENTORY already mapped into rows.
//!
//! An INVENTORY is mapped while it is read: each child of `CONTENT` is built as a small tree,
//! mapped into its row and dropped, so memory holds the rows and one section at a time, never
//! a tree of the whole document. The QUERY usually comes after `CONTENT`, so the reader maps
//! `CONTENT` before it knows the query; the small status queries (DOWNLOAD, NOTIFY, SNMP) are
//! then read a second time into a tree, which costs microseconds for their few hundred bytes.
//! Both readers sit on the one XML walker of [`crate::xml`], so they accept, refuse and fold
//! exactly the same documents; the tests and the `read_equivalence` fuzz target check that
//! the results are identical too.

use std::borrow::Cow;

use crate::codec::{decode_body, BodyEncoding, CodecError, DecodeLimits};
use crate::inventory::{ContentMapper, InventoryError, RowBuffer, DEFAULT_MAX_ROWS_PER_SECTION};
use crate::request::{self, AgentRequest, Query, Request, RequestError};
use crate::xml::{self, Element, Sink, TreeSink, XmlLimits};

/// Every bound applied while reading a body.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Inflated size and accepted encodings.
    pub decode: DecodeLimits,
    /// Shape of the document.
    pub xml: XmlLimits,
    /// Rows of one inventory section; more refuse the inventory (`TooManyRows`).
    pub max_rows_per_section: usize,
}

impl ReadLimits {
    /// The default XML and row limits with these decoding limits.
    pub fn new(decode: DecodeLimits) -> ReadLimits {
        ReadLimits {
            decode,
            xml: XmlLimits::default(),
            max_rows_per_section: DEFAULT_MAX_ROWS_PER_SECTION,
        }
    }
}

/// A body read into a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRequest {
    /// The encoding the body came in, which the reply uses.
    pub encoding: BodyEncoding,
    /// What the agent asks, with what the query needs.
    pub request: Request,
}

/// Why a body was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    /// The body does not decode (or inflates past the limit).
    #[error(transparent)]
    Body(#[from] CodecError),
    /// The document or its envelope is unacceptable.
    #[error("{error}")]
    Request {
        /// Why.
        #[source]
        error: RequestError,
        /// The encoding the body came in, for the reply.
        encoding: BodyEncoding,
    },
}

/// Decodes a body and reads it into a typed request. The decoded document is dropped before
/// this returns; a caller that needs it (a copy of the body as XML) decodes `raw` again.
pub fn read_request(raw: &[u8], limits: &ReadLimits) -> Result<ReadRequest, ReadError> {
    let decoded = decode_body(raw, limits.decode)?;
    let encoding = decoded.encoding;
    let request = read_document(&decoded.xml, &limits.xml, limits.max_rows_per_section)
        .map_err(|error| ReadError::Request { error, encoding })?;
    Ok(ReadRequest { encoding, request })
}

/// Reads a decoded document into a typed request, with the same result (value or error) as
/// [`request::parse_request_with`] then [`Request::from_tree`], without building the tree of
/// an INVENTORY.
pub fn read_document(
    doc: &[u8],
    limits: &XmlLimits,
    max_rows_per_section: usize,
) -> Result<Request, RequestError> {
    let mut sink = RequestSink::new(max_rows_per_section);
    xml::walk(doc, limits, &mut sink)?;
    let deviceid = sink.deviceid.as_deref().or(sink.content.deviceid());
    let (query, deviceid) = request::envelope(sink.query.as_deref(), deviceid)?;
    let id = match (deviceid, query) {
        (deviceid, Query::Update) => return Ok(Request::Update { deviceid }),
        (Some(id), _) => id,
        (None, _) => return Err(RequestError::MissingDeviceId),
    };
    match query {
        Query::Prolog => Ok(Request::Prolog { deviceid: id }),
        Query::Inventory => {
            let inventory = if sink.content_done {
                sink.content.finish(id.clone()).map(Box::new)
            } else {
                Err(InventoryError::MissingContent)
            };
            Ok(Request::Inventory {
                deviceid: id,
                inventory,
            })
        }
        Query::Download | Query::Notify | Query::Snmp | Query::Update => {
            drop(sink);
            let root = xml::parse_with(doc, limits)?;
            let tree = AgentRequest {
                query,
                deviceid: Some(id),
                root,
            };
            Request::from_tree(&tree, max_rows_per_section)
        }
    }
}

/// What the small tree being built will be, once closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Query,
    DeviceId,
    Content,
}

/// Folds the walk into the envelope texts and the mapped `CONTENT`. Depth 0 is the root,
/// 1 its children (QUERY, DEVICEID, CONTENT), 2 the children of CONTENT.
struct RequestSink {
    /// Elements open, the one being read included.
    depth: usize,
    /// The first present root `QUERY`, `DEVICEID`.
    query: Option<String>,
    deviceid: Option<String>,
    /// The first present `CONTENT`, as it is read.
    content: ContentMapper,
    /// A depth-1 `CONTENT` is open and is mapped (no present one closed before it). A blank
    /// one hands nothing to the mapper, so mapping a `CONTENT` that turns out blank is
    /// harmless.
    in_content: bool,
    /// A present `CONTENT` has been read: later ones are ignored, as `child` ignores them.
    content_done: bool,
    /// The small tree under construction, and what it is for.
    tree: TreeSink,
    target: Target,
    /// The section row being read field by field (section index for the mapper), the rows
    /// of every section going through the one buffer.
    row: Option<usize>,
    row_buffer: RowBuffer,
}

impl RequestSink {
    fn new(max_rows: usize) -> RequestSink {
        RequestSink {
            depth: 0,
            query: None,
            deviceid: None,
            content: ContentMapper::new(max_rows),
            in_content: false,
            content_done: false,
            tree: TreeSink::default(),
            target: Target::Content,
            row: None,
            row_buffer: RowBuffer::default(),
        }
    }

    /// A present child of the root or of the mapped `CONTENT`, closed.
    fn deliver(&mut self, el: Element) {
        match self.target {
            Target::Query => {
                if self.query.is_none() {
                    self.query = Some(el.text);
                }
            }
            Target::DeviceId => {
                if self.deviceid.is_none() {
                    self.deviceid = Some(el.text);
                }
            }
            Target::Content => self.content.add(el),
        }
    }

    /// Which tree to build for a child, at `depth`, named `name`; `None`: nothing to build.
    fn target_of(&self, depth: usize, name: &str) -> Option<Target> {
        match depth {
            1 => match name {
                "QUERY" if self.query.is_none() => Some(Target::Query),
                "DEVICEID" if self.deviceid.is_none() => Some(Target::DeviceId),
                _ => None,
            },
            2 if self.in_content && self.content.wants(name) => Some(Target::Content),
            _ => None,
        }
    }
}

impl Sink for RequestSink {
    fn open(&mut self, name: &str) {
        let depth = self.depth;
        self.depth += 1;
        if self.tree.is_building() {
            return self.tree.open(name);
        }
        if self.row.is_some() {
            if depth == 3 {
                self.row_buffer.open_child(name);
            }
            return;
        }
        if depth == 1 && name == "CONTENT" && !self.content_done {
            self.in_content = true;
        } else if let Some((index, section)) = (depth == 2 && self.in_content)
            .then(|| self.content.row_section(name))
            .flatten()
        {
            self.row = Some(index);
            self.row_buffer.start(section);
        } else if let Some(target) = self.target_of(depth, name) {
            self.target = target;
            self.tree.open(name);
        }
    }

    fn attribute(&mut self, name: &str, value: Cow<'_, str>) {
        if self.tree.is_building() {
            return self.tree.attribute(name, value);
        }
        // An attribute is a present child one level below the element just opened.
        let depth = self.depth;
        if self.row.is_some() {
            if depth == 3 {
                self.row_buffer.attribute(name, &value);
            }
            return;
        }
        if depth == 1 && name == "CONTENT" && !self.content_done {
            // Attributes come before any child: this empty CONTENT is the first present one.
            self.content_done = true;
        } else if let Some(target) = self.target_of(depth, name) {
            self.target = target;
            self.deliver(Element {
                name: name.to_owned(),
                text: value.into_owned(),
                children: Vec::new(),
            });
        }
    }

    fn text(&mut self, text: &str) {
        if self.tree.is_building() {
            self.tree.text(text);
        } else if self.row.is_some() && self.depth == 4 {
            self.row_buffer.child_text(text);
        }
    }

    fn close(&mut self, blank: bool) {
        self.depth = self.depth.saturating_sub(1);
        if self.tree.is_building() {
            self.tree.close(blank);
            if !self.tree.is_building() {
                if let Some(el) = self.tree.root.take() {
                    if !blank {
                        self.deliver(el);
                    }
                }
            }
        } else if let Some(index) = self.row {
            match self.depth {
                3 => self.row_buffer.close_child(blank),
                2 => {
                    self.row = None;
                    if !blank {
                        self.content.add_row(index, &self.row_buffer);
                    }
                }
                _ => {}
            }
        } else if self.depth == 1 && self.in_content {
            self.in_content = false;
            self.content_done |= !blank;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::parse_request_with;
    use crate::{Inventory, XmlError};

    const ROWS: usize = DEFAULT_MAX_ROWS_PER_SECTION;

    /// Both readers on one document: the typed request (or error) must be the same.
    fn both(doc: &str, limits: &XmlLimits, rows: usize) -> Result<Request, RequestError> {
        let tree =
            parse_request_with(doc.as_bytes(), limits).and_then(|r| Request::from_tree(&r, rows));
        let streamed = read_document(doc.as_bytes(), limits, rows);
        assert_eq!(streamed, tree, "{doc}");
        streamed
    }

    fn inv_doc(content: &str) -> String {
        format!("<REQUEST><CONTENT>{content}</CONTENT><DEVICEID>pc-2024-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>")
    }

    fn inventory(content: &str) -> Inventory {
        match both(&inv_doc(content), &XmlLimits::default(), ROWS) {
            Ok(Request::Inventory {
                inventory: Ok(inv), ..
            }) => *inv,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn attributes_count_as_children_at_every_level() {
        let inv = inventory(
            r#"<HARDWARE NAME="pc" CHECKSUM="7"><NAME>other</NAME></HARDWARE>
               <SOFTWARES NAME="a" VERSION=""/><SOFTWARES NAME="b"><NAME>c</NAME></SOFTWARES>
               <ACCOUNTINFO KEYNAME=" TAG " KEYVALUE=" x "/>"#,
        );
        assert_eq!(inv.hardware_text("NAME"), Some("pc"));
        assert_eq!(inv.checksum, Some(7));
        assert_eq!(inv.softwares.as_ref().map(Vec::len), Some(2));
        assert_eq!(inv.accountinfo, Some(vec![("TAG".into(), " x ".into())]));
        // Attributes of CONTENT and of the root are children too.
        let doc = r#"<REQUEST QUERY="INVENTORY" DEVICEID="pc-2024-01-01-00-00-00"><CONTENT BIOS="" ACCOUNTINFO=""><BIOS><SSN>1</SSN></BIOS></CONTENT><QUERY>PROLOG</QUERY></REQUEST>"#;
        let Ok(Request::Inventory {
            inventory: Ok(inv), ..
        }) = both(doc, &XmlLimits::default(), ROWS)
        else {
            panic!("not an inventory")
        };
        assert_eq!(
            inv.single_text("BIOS", "SSN"),
            None,
            "the empty attribute came first"
        );
        assert_eq!(inv.accountinfo, Some(vec![]));
        let doc = r#"<REQUEST CONTENT=""><CONTENT><BIOS><SSN>1</SSN></BIOS></CONTENT><DEVICEID>pc-2024-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>"#;
        let Ok(Request::Inventory {
            inventory: Ok(inv), ..
        }) = both(doc, &XmlLimits::default(), ROWS)
        else {
            panic!("not an inventory")
        };
        assert!(
            inv.sections.is_empty(),
            "the CONTENT attribute is the content"
        );
    }

    #[test]
    fn empty_elements_are_absent_and_the_first_present_one_counts() {
        let inv = inventory(
            "<HARDWARE>  </HARDWARE><HARDWARE><NAME/><NAME>  </NAME><NAME> pc </NAME></HARDWARE>\
             <HARDWARE><NAME>second</NAME></HARDWARE><BIOS><SSN/></BIOS><BIOS>text</BIOS>\
             <BIOS><SSN>late</SSN></BIOS><CPUS><TYPE>a<X/>b</TYPE></CPUS>\
             <OLD_DEVICEID/><OLD_DEVICEID>  </OLD_DEVICEID><OLD_DEVICEID>o-2020-01-01-00-00-00</OLD_DEVICEID>",
        );
        assert_eq!(inv.hardware_text("NAME"), Some(" pc "));
        // The first present BIOS holds only text: one row of fallbacks.
        assert_eq!(inv.single_text("BIOS", "SSN"), None);
        assert_eq!(inv.section("BIOS").map(|s| s.rows.len()), Some(1));
        // Whitespace-only elements are absent too: the third OLD_DEVICEID counts.
        assert_eq!(inv.old_deviceid.as_deref(), Some("o-2020-01-01-00-00-00"));
        let cpus = inv.section("CPUS").unwrap();
        assert_eq!(
            cpus.rows[0][cpus.section.field_index("TYPE").unwrap()],
            crate::Value::Text("ab".into())
        );
    }

    #[test]
    fn repeated_contents_unknown_sections_and_nested_elements() {
        let doc = "<REQUEST><CONTENT>\n  <!-- -->\n</CONTENT><CONTENT><NOSUCH><SOFTWARES><NAME>x</NAME></SOFTWARES></NOSUCH>\
                   <SOFTWARES><NAME><DEEP><DEEPER>1</DEEPER></DEEP></NAME><VERSION>2</VERSION></SOFTWARES>\
                   <DEVICEID>pc-2024-01-01-00-00-00</DEVICEID></CONTENT><CONTENT><CPUS><TYPE>x</TYPE></CPUS></CONTENT>\
                   <QUERY> INVENTORY </QUERY></REQUEST>";
        let Ok(Request::Inventory {
            deviceid,
            inventory: Ok(inv),
        }) = both(doc, &XmlLimits::default(), ROWS)
        else {
            panic!("not an inventory")
        };
        assert_eq!(deviceid, "pc-2024-01-01-00-00-00", "from CONTENT");
        assert!(
            inv.section("CPUS").is_none(),
            "only the first present CONTENT"
        );
        let sw = &inv.softwares.unwrap()[0];
        assert_eq!(sw[0], crate::Value::Null, "a NAME of elements has no text");
        assert_eq!(sw[2], crate::Value::Text("2".into()));
    }

    #[test]
    fn unknown_sections_are_kept_by_both_readers() {
        let inv = inventory(
            "<FAILED_UNITS><NAME>a.service</NAME><STATE>failed</STATE></FAILED_UNITS>\
             <CPUS><TYPE>x</TYPE></CPUS><VERSIONCLIENT>2.10</VERSIONCLIENT>\
             <FAILED_UNITS NAME=\"b.service\"><NESTED><X>1</X></NESTED></FAILED_UNITS>\
             <FAILED_UNITS><EMPTY/></FAILED_UNITS><ENVS><KEY>HOME</KEY><VAL>/root</VAL></ENVS>",
        );
        let names: Vec<&str> = inv.extra_sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["FAILED_UNITS", "ENVS"],
            "a text-only element is no section"
        );
        let units = &inv.extra_sections[0].rows;
        assert_eq!(units.len(), 2, "a row without fields is dropped");
        assert_eq!(units[1], [("NAME".to_owned(), "b.service".to_owned())]);
        assert!(inv.section("CPUS").is_some());
    }

    #[test]
    fn capacities_and_old_deviceid() {
        let inv = inventory(
            r#"<DOWNLOAD/><DOWNLOAD><HISTORY/><HISTORY><PACKAGE ID=" 2 "/><PACKAGE><ID>1</ID><ID>3</ID></PACKAGE><PACKAGE ID="2"/>
               <OLD_DEVICEID>h-2020-01-01-00-00-00</OLD_DEVICEID></HISTORY><HISTORY><PACKAGE ID="9"/></HISTORY></DOWNLOAD>
               <IPDISCOVER><H><I>10.0.0.1</I><M>m</M></H><H><I>10.0.0.2</I></H></IPDISCOVER><IPDISCOVER><H I="1" M="2"/></IPDISCOVER>"#,
        );
        assert_eq!(inv.download_history, Some(vec!["1".into(), "2".into()]));
        assert_eq!(inv.old_deviceid.as_deref(), Some("h-2020-01-01-00-00-00"));
        let hosts = inv.ipdiscover.unwrap();
        assert_eq!((hosts.len(), hosts[0].name.as_str()), (1, "-"));
        let none = inventory("<DOWNLOAD>x</DOWNLOAD>");
        assert_eq!(none.download_history, Some(vec![]));
        // A whitespace attribute is present: it wins, and is then dropped as blank.
        let doc = inv_doc(r#"<DOWNLOAD><HISTORY><OLD_DEVICEID>h-2020-01-01-00-00-00</OLD_DEVICEID></HISTORY></DOWNLOAD>"#)
            .replace("<CONTENT>", r#"<CONTENT OLD_DEVICEID="  ">"#);
        let Ok(Request::Inventory {
            inventory: Ok(inv), ..
        }) = both(&doc, &XmlLimits::default(), ROWS)
        else {
            panic!("not an inventory")
        };
        assert_eq!(inv.old_deviceid, None);
    }

    #[test]
    fn envelope_errors_are_the_tree_readers() {
        let l = XmlLimits::default();
        for doc in [
            "<REQUEST><QUERY>PROLOG</QUERY></REQUEST>",
            "<REQUEST><DEVICEID>foo</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>",
            "<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID></REQUEST>",
            "<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID><QUERY>FILE</QUERY></REQUEST>",
            "<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>",
            "<REQUEST><CONTENT/><DEVICEID>a-2024-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>",
            "<REQUEST><QUERY>UPDATE</QUERY><DEVICEID>bad</DEVICEID></REQUEST>",
            "<REQUEST/>",
            "<R/><R/>",
            "<R><A></R>",
            "<!DOCTYPE r><R/>",
            "<?xml version=\"1.0\"?><R>caf\u{e9}</R>",
        ] {
            both(doc, &l, ROWS).ok();
        }
        assert_eq!(
            both("<REQUEST><QUERY>PROLOG</QUERY></REQUEST>", &l, ROWS),
            Err(RequestError::MissingDeviceId)
        );
        assert_eq!(
            both(
                &inv_doc("<CPUS/>").replace("<CONTENT><CPUS/></CONTENT>", "<CONTENT/>"),
                &l,
                ROWS
            ),
            Ok(Request::Inventory {
                deviceid: "pc-2024-01-01-00-00-00".into(),
                inventory: Err(InventoryError::MissingContent)
            })
        );
    }

    #[test]
    fn status_queries() {
        let l = XmlLimits::default();
        let download = r#"<REQUEST DEVICEID="a-2024-01-01-00-00-00" ERR="ERR_BAD_DIGEST" ID="17" QUERY="DOWNLOAD" />"#;
        assert!(matches!(
            both(download, &l, ROWS),
            Ok(Request::Download {
                report: Some(_),
                ..
            })
        ));
        let notify = "<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID><QUERY>NOTIFY</QUERY><TYPE>IP</TYPE><IFACE><MAC>m</MAC></IFACE></REQUEST>";
        assert!(matches!(both(notify, &l, ROWS), Ok(Request::Notify { .. })));
        let snmp = "<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID><QUERY>SNMP</QUERY><CONTENT><snmp_default><A>1</A></snmp_default><SOFTWARES><NAME>x</NAME></SOFTWARES></CONTENT></REQUEST>";
        let Ok(Request::Snmp { results, .. }) = both(snmp, &l, ROWS) else {
            panic!("not SNMP")
        };
        assert_eq!(results.len(), 2);
        let update = "<REQUEST><QUERY>UPDATE</QUERY></REQUEST>";
        assert_eq!(
            both(update, &l, ROWS),
            Ok(Request::Update { deviceid: None })
        );
        assert!(matches!(
            both("<REQUEST><DEVICEID>a-2024-01-01-00-00-00</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>", &l, ROWS),
            Ok(Request::Prolog { .. })
        ));
    }

    #[test]
    fn limits_give_the_same_errors() {
        let tight = XmlLimits {
            max_attributes: 2,
            max_elements: 40,
            max_text_bytes: 32,
        };
        let rows = 3;
        // Over the row limit in two sections: the first in catalogue order is named, whatever
        // the document order; single-row sections never exceed it.
        let doc = inv_doc(&format!(
            "{}{}{}",
            "<SOFTWARES><NAME>a</NAME></SOFTWARES>".repeat(4),
            "<CPUS><TYPE>a</TYPE></CPUS>".repeat(4),
            "<BIOS><SSN>a</SSN></BIOS>".repeat(5),
        ));
        let r = both(&doc, &XmlLimits::default(), rows);
        let Ok(Request::Inventory {
            inventory: Err(e), ..
        }) = r
        else {
            panic!("{r:?}")
        };
        assert_eq!(
            e,
            InventoryError::TooManyRows {
                section: "CPUS",
                limit: 3
            }
        );
        let syntax = |doc: &str| {
            matches!(
                both(doc, &XmlLimits::default(), rows),
                Err(RequestError::Xml(XmlError::Syntax(_)))
            )
        };
        let error = |doc: &str| both(doc, &tight, rows).err();
        let over = |e| Some(RequestError::Xml(e));
        assert_eq!(
            error(&inv_doc(&"<CPUS><TYPE>a</TYPE></CPUS>".repeat(20))),
            over(XmlError::TooManyElements { limit: 40 })
        );
        assert_eq!(
            error(&inv_doc(r#"<CPUS TYPE="a" CORES="1" SPEED="2"/>"#)),
            over(XmlError::TooManyAttributes { limit: 2 })
        );
        for doc in [
            inv_doc(&format!("<CPUS><TYPE>{}</TYPE></CPUS>", "x".repeat(33))),
            inv_doc(&format!(r#"<CPUS TYPE="{}"/>"#, "x".repeat(33))),
            // Whitespace between children counts towards the parent's text.
            inv_doc(&format!("<CPUS>{}<TYPE>a</TYPE></CPUS>", " ".repeat(33))),
            inv_doc(&format!(
                "<CPUS><TYPE>{0}<!-- -->{0}</TYPE></CPUS>",
                "x".repeat(17)
            )),
            inv_doc(&format!(
                "<CPUS><TYPE>{0}<![CDATA[{0}]]></TYPE></CPUS>",
                "x".repeat(17)
            )),
        ] {
            assert_eq!(
                error(&doc),
                over(XmlError::TextTooLong { limit: 32 }),
                "{doc}"
            );
        }
        assert!(both(
            &inv_doc(&format!("<CPUS><TYPE>{}</TYPE></CPUS>", "x".repeat(32))),
            &tight,
            rows
        )
        .is_ok());
        let wide = XmlLimits::default();
        assert_eq!(
            both(
                &inv_doc(&("<A>".repeat(31) + &"</A>".repeat(31))),
                &wide,
                rows
            ),
            Err(RequestError::Xml(XmlError::TooDeep))
        );
        // An empty element one level deeper than the limit is read, as by the tree reader.
        let deep = inv_doc(&("<A>".repeat(30) + "<B/>" + &"</A>".repeat(30)));
        assert!(both(&deep, &wide, rows).is_ok());
        assert!(syntax(&inv_doc(r#"<CPUS TYPE="a" TYPE="b"/>"#)));
        assert!(syntax(&inv_doc("<CPUS><TYPE>&bad;</TYPE></CPUS>")));
        assert!(syntax(&inv_doc("<CPUS><TYPE>a</CPUS></TYPE>")));
        assert!(syntax(&(inv_doc("") + "<R/>")));
        assert!(syntax(&(inv_doc("") + "text")));
    }

    #[test]
    fn read_request_decodes_and_reports_the_encoding() {
        let doc = inv_doc("<SOFTWARES><NAME>a</NAME></SOFTWARES>");
        let body = crate::codec::encode_body(doc.as_bytes(), BodyEncoding::Gzip);
        let limits = ReadLimits::new(DecodeLimits {
            max_inflated_bytes: 1 << 20,
            try_others: true,
        });
        let read = read_request(&body, &limits).unwrap();
        assert_eq!(read.encoding, BodyEncoding::Gzip);
        assert_eq!(read.request.query(), Query::Inventory);
        assert_eq!(read.request.deviceid(), Some("pc-2024-01-01-00-00-00"));
        let strict = ReadLimits::new(DecodeLimits {
            try_others: false,
            ..limits.decode
        });
        assert_eq!(
            read_request(&body, &strict),
            Err(ReadError::Body(CodecError::Unrecognised {
                try_others: false
            }))
        );
        let bad = crate::codec::encode_body(b"<R>", BodyEncoding::Zlib);
        assert!(matches!(
            read_request(&bad, &limits),
            Err(ReadError::Request {
                encoding: BodyEncoding::Zlib,
                error: RequestError::Xml(_)
            })
        ));
    }
}
