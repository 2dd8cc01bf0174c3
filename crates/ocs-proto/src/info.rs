//! The package `info` file (reference §6.3): the one `DOWNLOAD` element, all attributes, that
//! agents fetch before a package's fragments. [`InfoFile::parse`] reads one with the crate's
//! XML reader (so DOCTYPE is refused and attributes and child elements are interchangeable, as
//! for every other document an agent or the original reads); [`InfoFile::to_xml`] writes one
//! in the shape the original console writes, which both agents read.
//!
//! Only the attributes the console writes are modelled. `LOC`, `SCHEDULE` and `POSTCMD`, which
//! the Windows agent would also read, are ignored: the console no longer writes `LOC`, and it
//! delivers the other two in the PROLOG reply instead.

use crate::xml::{self, Element, XmlError};

/// Largest info file accepted. Real ones are a few hundred bytes; the notification texts are
/// the only free-form part.
pub const MAX_INFO_BYTES: usize = 64 * 1024;

/// Longest value quoted back in an error.
const MAX_QUOTED: usize = 64;

/// What the agent does with the package once it has every fragment (`ACT`), with the one
/// attribute that action needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `STORE`: extract the archive into `PATH` (`INSTALL_PATH` stands for the agent's
    /// installation directory).
    Store {
        /// `PATH`.
        path: String,
    },
    /// `EXECUTE`: extract, then run `COMMAND` in the extraction directory.
    Execute {
        /// `COMMAND`.
        command: String,
    },
    /// `LAUNCH`: extract, then run the file `NAME` and report its exit code.
    Launch {
        /// `NAME` (on Unix it may carry arguments after a space).
        name: String,
    },
}

impl Action {
    /// The `ACT` value.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Store { .. } => "STORE",
            Action::Execute { .. } => "EXECUTE",
            Action::Launch { .. } => "LAUNCH",
        }
    }
}

/// How fragments are fetched (`PROTO`); the info file itself always comes over HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `HTTP`.
    Http,
    /// `HTTPS`.
    Https,
}

impl Protocol {
    /// The `PROTO` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "HTTP",
            Protocol::Https => "HTTPS",
        }
    }
}

/// The digest algorithm of the whole archive (`DIGEST_ALGO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// `MD5`, the only one the current console writes.
    Md5,
    /// `SHA1`, written by older consoles.
    Sha1,
}

impl DigestAlgorithm {
    /// The `DIGEST_ALGO` value.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha1 => "SHA1",
        }
    }
}

/// How the digest is written (`DIGEST_ENCODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestEncoding {
    /// `Hexa`: lower-case hexadecimal, what the console writes.
    Hexa,
    /// `Base64`.
    Base64,
}

impl DigestEncoding {
    /// The `DIGEST_ENCODE` value.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestEncoding::Hexa => "Hexa",
            DigestEncoding::Base64 => "Base64",
        }
    }
}

/// A package's metadata, one field per attribute of the `DOWNLOAD` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoFile {
    /// `ID`: the FILEID (decimal digits), which must equal the package's directory name.
    pub id: String,
    /// `PRI`: 0 (downloaded before anything else) to 10; lower is sooner.
    pub priority: u8,
    /// `ACT` with its `PATH`, `COMMAND` or `NAME`.
    pub action: Action,
    /// `DIGEST` of the whole archive; empty when there are no fragments.
    pub digest: String,
    /// `PROTO`.
    pub protocol: Protocol,
    /// `FRAGS`: number of fragments; 0 means a command without a file.
    pub fragments: u32,
    /// `DIGEST_ALGO`.
    pub digest_algorithm: DigestAlgorithm,
    /// `DIGEST_ENCODE`.
    pub digest_encoding: DigestEncoding,
    /// `NOTIFY_USER`: show a notification before running (Windows).
    pub notify_user: bool,
    /// `NOTIFY_TEXT`.
    pub notify_text: String,
    /// `NOTIFY_COUNTDOWN`: seconds before the notification continues by itself; empty when
    /// the console was given none.
    pub notify_countdown: Option<u32>,
    /// `NOTIFY_CAN_ABORT`: the user may cancel (the agent then reports `ERR_ABORTED`).
    pub notify_can_abort: bool,
    /// `NOTIFY_CAN_DELAY`: the user may postpone.
    pub notify_can_delay: bool,
    /// `NEED_DONE_ACTION`: show a message once done.
    pub need_done_action: bool,
    /// `NEED_DONE_ACTION_TEXT`: that message.
    pub need_done_action_text: String,
    /// `GARDEFOU`: a legacy field, always `rien`; kept verbatim, ignored by agents.
    pub gardefou: String,
}

/// Why an info file cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InfoError {
    /// Larger than [`MAX_INFO_BYTES`].
    #[error("info file larger than {limit} bytes")]
    TooLarge {
        /// The limit exceeded.
        limit: usize,
    },
    /// The XML itself.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// The root element is not `DOWNLOAD`.
    #[error("info file root is {0:?}, not DOWNLOAD")]
    NotDownload(String),
    /// A required attribute is absent.
    #[error("info file without {0}")]
    Missing(&'static str),
    /// An attribute whose value is not one this attribute takes.
    #[error("invalid {attribute} {value:?} in info file")]
    Invalid {
        /// The attribute.
        attribute: &'static str,
        /// Its value (cut to 64 characters).
        value: String,
    },
}

/// Longest FILEID accepted: a Unix time has 10 digits, `u64::MAX` 20.
const MAX_ID_DIGITS: usize = 20;

impl InfoFile {
    /// Reads an info file. Values are taken as written (no trimming), except that the
    /// case of `ACT`, `PROTO`, `DIGEST_ALGO` and `DIGEST_ENCODE` is ignored, as agents ignore
    /// it. The notification attributes and `GARDEFOU` default to what the console writes when
    /// they are absent; the others are required.
    pub fn parse(doc: &[u8]) -> Result<InfoFile, InfoError> {
        if doc.len() > MAX_INFO_BYTES {
            return Err(InfoError::TooLarge {
                limit: MAX_INFO_BYTES,
            });
        }
        let root = xml::parse(doc)?;
        if root.name != "DOWNLOAD" {
            return Err(InfoError::NotDownload(quote(&root.name)));
        }
        let r = Attributes(&root);

        let id = r.required("ID")?;
        if id.is_empty() || id.len() > MAX_ID_DIGITS || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("ID", id));
        }
        let priority = r.number("PRI")?;
        if priority > 10 {
            return Err(invalid("PRI", r.required("PRI")?));
        }
        let act = r.required("ACT")?;
        let action = if act.eq_ignore_ascii_case("STORE") {
            Action::Store {
                path: r.text_required("PATH")?,
            }
        } else if act.eq_ignore_ascii_case("EXECUTE") {
            Action::Execute {
                command: r.text_required("COMMAND")?,
            }
        } else if act.eq_ignore_ascii_case("LAUNCH") {
            Action::Launch {
                name: r.text_required("NAME")?,
            }
        } else {
            return Err(invalid("ACT", act));
        };
        let protocol = match r.required("PROTO")? {
            p if p.eq_ignore_ascii_case("HTTP") => Protocol::Http,
            p if p.eq_ignore_ascii_case("HTTPS") => Protocol::Https,
            p => return Err(invalid("PROTO", p)),
        };
        let digest_algorithm = match r.required("DIGEST_ALGO")? {
            a if a.eq_ignore_ascii_case("MD5") => DigestAlgorithm::Md5,
            a if a.eq_ignore_ascii_case("SHA1") => DigestAlgorithm::Sha1,
            a => return Err(invalid("DIGEST_ALGO", a)),
        };
        let digest_encoding = match r.required("DIGEST_ENCODE")? {
            e if e.eq_ignore_ascii_case("Hexa") => DigestEncoding::Hexa,
            e if e.eq_ignore_ascii_case("Base64") => DigestEncoding::Base64,
            e => return Err(invalid("DIGEST_ENCODE", e)),
        };
        let notify_countdown = match r.0.value("NOTIFY_COUNTDOWN") {
            None | Some("") => None,
            Some(_) => Some(r.number("NOTIFY_COUNTDOWN")?),
        };

        Ok(InfoFile {
            id: id.to_owned(),
            priority,
            action,
            digest: r.text("DIGEST", "")?,
            protocol,
            fragments: r.number("FRAGS")?,
            digest_algorithm,
            digest_encoding,
            notify_user: r.flag("NOTIFY_USER")?,
            notify_text: r.text("NOTIFY_TEXT", "")?,
            notify_countdown,
            notify_can_abort: r.flag("NOTIFY_CAN_ABORT")?,
            notify_can_delay: r.flag("NOTIFY_CAN_DELAY")?,
            need_done_action: r.flag("NEED_DONE_ACTION")?,
            need_done_action_text: r.text("NEED_DONE_ACTION_TEXT", "")?,
            gardefou: r.text("GARDEFOU", "rien")?,
        })
    }

    /// The info file as the console writes it: one `DOWNLOAD` element, attributes in the
    /// console's order, only the action's own argument among `PATH`, `NAME` and `COMMAND`.
    pub fn to_xml(&self) -> String {
        let (argument, value) = match &self.action {
            Action::Store { path } => ("PATH", path.as_str()),
            Action::Launch { name } => ("NAME", name.as_str()),
            Action::Execute { command } => ("COMMAND", command.as_str()),
        };
        let countdown = self
            .notify_countdown
            .map(|n| n.to_string())
            .unwrap_or_default();
        let attributes: [(&str, &str); 17] = [
            ("ID", &self.id),
            ("PRI", &self.priority.to_string()),
            ("ACT", self.action.as_str()),
            ("DIGEST", &self.digest),
            ("PROTO", self.protocol.as_str()),
            ("FRAGS", &self.fragments.to_string()),
            ("DIGEST_ALGO", self.digest_algorithm.as_str()),
            ("DIGEST_ENCODE", self.digest_encoding.as_str()),
            (argument, value),
            ("NOTIFY_USER", flag(self.notify_user)),
            ("NOTIFY_TEXT", &self.notify_text),
            ("NOTIFY_COUNTDOWN", &countdown),
            ("NOTIFY_CAN_ABORT", flag(self.notify_can_abort)),
            ("NOTIFY_CAN_DELAY", flag(self.notify_can_delay)),
            ("NEED_DONE_ACTION", flag(self.need_done_action)),
            ("NEED_DONE_ACTION_TEXT", &self.need_done_action_text),
            ("GARDEFOU", &self.gardefou),
        ];
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DOWNLOAD");
        for (name, value) in attributes {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape_attribute(&mut out, value);
            out.push('"');
        }
        out.push_str(" />\n");
        out
    }
}

/// Attribute lookups on the root, with the error each kind of value gives.
struct Attributes<'a>(&'a Element);

impl<'a> Attributes<'a> {
    fn required(&self, name: &'static str) -> Result<&'a str, InfoError> {
        self.0.value(name).ok_or(InfoError::Missing(name))
    }

    fn number<T: std::str::FromStr>(&self, name: &'static str) -> Result<T, InfoError> {
        let value = self.required(name)?;
        // `FromStr` for integers takes a leading `+`, which no console writes.
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(name, value));
        }
        value.parse().map_err(|_| invalid(name, value))
    }

    /// `1` is true; `0`, empty or absent false, which is how the agents read these.
    fn flag(&self, name: &'static str) -> Result<bool, InfoError> {
        match self.0.value(name) {
            None | Some("" | "0") => Ok(false),
            Some("1") => Ok(true),
            Some(other) => Err(invalid(name, other)),
        }
    }

    fn text(&self, name: &'static str, default: &str) -> Result<String, InfoError> {
        let value = self.0.value(name).unwrap_or(default);
        check_text(name, value)?;
        Ok(value.to_owned())
    }

    fn text_required(&self, name: &'static str) -> Result<String, InfoError> {
        let value = self.required(name)?;
        check_text(name, value)?;
        Ok(value.to_owned())
    }
}

/// Control characters other than tab and line breaks cannot be written in XML 1.0 at all, so
/// the agents' parsers would refuse a file carrying one; refusing it here keeps every parsed
/// file writable.
fn check_text(name: &'static str, value: &str) -> Result<(), InfoError> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(invalid(name, value));
    }
    Ok(())
}

fn invalid(attribute: &'static str, value: &str) -> InfoError {
    InfoError::Invalid {
        attribute,
        value: quote(value),
    }
}

fn quote(s: &str) -> String {
    s.chars().take(MAX_QUOTED).collect()
}

fn flag(on: bool) -> &'static str {
    if on {
        "1"
    } else {
        "0"
    }
}

/// Escapes an attribute value. Tabs and line breaks become character references because a
/// conforming parser (the agents' ones) turns them into spaces when written literally.
fn escape_attribute(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of reference §6.3, as the console writes it.
    const CONSOLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DOWNLOAD ID="1709631234" PRI="5" ACT="EXECUTE" DIGEST="9e107d9d372bb6826bd81d3542a419d6"
  PROTO="HTTP" FRAGS="3" DIGEST_ALGO="MD5" DIGEST_ENCODE="Hexa"
  COMMAND="apt-get install -y htop" NOTIFY_USER="0" NOTIFY_TEXT="" NOTIFY_COUNTDOWN=""
  NOTIFY_CAN_ABORT="0" NOTIFY_CAN_DELAY="0" NEED_DONE_ACTION="0"
  NEED_DONE_ACTION_TEXT="" GARDEFOU="rien" />
"#;

    fn console() -> InfoFile {
        InfoFile {
            id: "1709631234".into(),
            priority: 5,
            action: Action::Execute {
                command: "apt-get install -y htop".into(),
            },
            digest: "9e107d9d372bb6826bd81d3542a419d6".into(),
            protocol: Protocol::Http,
            fragments: 3,
            digest_algorithm: DigestAlgorithm::Md5,
            digest_encoding: DigestEncoding::Hexa,
            notify_user: false,
            notify_text: String::new(),
            notify_countdown: None,
            notify_can_abort: false,
            notify_can_delay: false,
            need_done_action: false,
            need_done_action_text: String::new(),
            gardefou: "rien".into(),
        }
    }

    #[test]
    fn the_console_shape() {
        assert_eq!(InfoFile::parse(CONSOLE.as_bytes()), Ok(console()));
        // The same attributes, on one line, in the same order.
        let written = console().to_xml();
        let expected = CONSOLE.replace("\n  ", " ");
        assert_eq!(written, expected);
    }

    #[test]
    fn round_trips() {
        let mut info = console();
        info.action = Action::Store {
            path: "INSTALL_PATH/a \"b\" & <c>\n\td\r".into(),
        };
        info.priority = 0;
        info.protocol = Protocol::Https;
        info.fragments = 0;
        info.digest = String::new();
        info.digest_algorithm = DigestAlgorithm::Sha1;
        info.digest_encoding = DigestEncoding::Base64;
        info.notify_user = true;
        info.notify_text = "Fermez <b>Word</b> s'il vous plaît".into();
        info.notify_countdown = Some(30);
        info.notify_can_abort = true;
        info.notify_can_delay = true;
        info.need_done_action = true;
        info.need_done_action_text = "Done.".into();
        assert_eq!(InfoFile::parse(info.to_xml().as_bytes()), Ok(info.clone()));
        info.action = Action::Launch {
            name: "setup.exe /S".into(),
        };
        assert!(info.to_xml().contains(r#" NAME="setup.exe /S" "#));
        assert_eq!(InfoFile::parse(info.to_xml().as_bytes()), Ok(info));
    }

    #[test]
    fn lenient_where_agents_are() {
        // Case of the keywords, child-element form, absent notification attributes.
        let doc = b"<DOWNLOAD ID=\"1\" PRI=\"10\" ACT=\"launch\" PROTO=\"https\" FRAGS=\"2\" \
            DIGEST_ALGO=\"sha1\" DIGEST_ENCODE=\"BASE64\"><NAME>run.sh</NAME><DIGEST>x</DIGEST></DOWNLOAD>";
        let info = InfoFile::parse(doc).unwrap();
        assert_eq!(
            info.action,
            Action::Launch {
                name: "run.sh".into()
            }
        );
        assert_eq!(info.protocol, Protocol::Https);
        assert_eq!(info.digest_algorithm, DigestAlgorithm::Sha1);
        assert_eq!(info.digest_encoding, DigestEncoding::Base64);
        assert_eq!(info.gardefou, "rien");
        assert!(!info.notify_user);
        assert_eq!(info.notify_countdown, None);
    }

    #[test]
    fn refusals() {
        let with = |from: &str, to: &str| CONSOLE.replacen(from, to, 1);
        let parse = |doc: String| InfoFile::parse(doc.as_bytes());
        let invalid = |attribute, value: &str| {
            Err(InfoError::Invalid {
                attribute,
                value: value.into(),
            })
        };
        assert_eq!(
            parse(with("ID=\"1709631234\"", "ID=\"../etc\"")),
            invalid("ID", "../etc")
        );
        assert_eq!(parse(with("PRI=\"5\"", "PRI=\"11\"")), invalid("PRI", "11"));
        assert_eq!(parse(with("PRI=\"5\"", "PRI=\"+5\"")), invalid("PRI", "+5"));
        assert_eq!(
            parse(with("ACT=\"EXECUTE\"", "ACT=\"RUN\"")),
            invalid("ACT", "RUN")
        );
        assert_eq!(
            parse(with("ACT=\"EXECUTE\"", "ACT=\"STORE\"")),
            Err(InfoError::Missing("PATH"))
        );
        assert_eq!(
            parse(with("FRAGS=\"3\"", "FRAGS=\"99999999999\"")),
            invalid("FRAGS", "99999999999")
        );
        assert_eq!(
            parse(with("NOTIFY_USER=\"0\"", "NOTIFY_USER=\"yes\"")),
            invalid("NOTIFY_USER", "yes")
        );
        assert_eq!(
            parse(with("NOTIFY_TEXT=\"\"", "NOTIFY_TEXT=\"a&#1;\"")),
            invalid("NOTIFY_TEXT", "a\u{1}")
        );
        assert_eq!(
            parse(with(" PROTO=\"HTTP\"", "")),
            Err(InfoError::Missing("PROTO"))
        );
        assert_eq!(
            parse(with("<DOWNLOAD ", "<PACKAGE ")),
            Err(InfoError::NotDownload("PACKAGE".into()))
        );
        assert!(matches!(
            InfoFile::parse(b"<!DOCTYPE x><DOWNLOAD/>"),
            Err(InfoError::Xml(XmlError::Doctype))
        ));
        let big = format!("<DOWNLOAD NOTIFY_TEXT=\"{}\"/>", "a".repeat(MAX_INFO_BYTES));
        assert_eq!(
            InfoFile::parse(big.as_bytes()),
            Err(InfoError::TooLarge {
                limit: MAX_INFO_BYTES
            })
        );
    }
}
