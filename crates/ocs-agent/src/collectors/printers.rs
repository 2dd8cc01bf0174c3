//! PRINTERS: CUPS queues. `/etc/cups/printers.conf` (root-only) gives every queue with its
//! driver (make and model), device URI and sharing; without root, `lpstat -v` (when CUPS'
//! client is installed) gives names and device URIs.

use super::{Context, Row};
use crate::error::Error;

/// Parses `printers.conf`: `<Printer name>` / `<DefaultPrinter name>` blocks.
pub fn parse_printers_conf(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut current: Option<Row> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line
            .strip_prefix("<Printer ")
            .or_else(|| line.strip_prefix("<DefaultPrinter "))
        {
            let mut row = Row::new();
            row.set("NAME", rest.trim_end_matches('>').trim());
            current = Some(row);
        } else if line.starts_with("</Printer>") || line.starts_with("</DefaultPrinter>") {
            rows.extend(current.take());
        } else if let Some(row) = current.as_mut() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "Info" => {
                    row.set("DESCRIPTION", value);
                }
                "MakeModel" => {
                    row.set("DRIVER", value);
                }
                "DeviceURI" => {
                    row.set("PORT", redact_uri(value));
                    let network = [
                        "ipp", "ipps", "http", "https", "socket", "lpd", "smb", "dnssd",
                    ]
                    .iter()
                    .any(|s| value.starts_with(&format!("{s}:")));
                    row.set("NETWORK", if network { "1" } else { "0" });
                    if let Some(host) = uri_host(value) {
                        row.set("SERVERNAME", host);
                    }
                }
                "Location" => {
                    row.set("COMMENT", value);
                }
                "Shared" => {
                    row.set(
                        "SHARED",
                        if value.eq_ignore_ascii_case("yes") {
                            "1"
                        } else {
                            "0"
                        },
                    );
                }
                _ => {}
            }
        }
    }
    rows
}

/// Drops credentials from a device URI (`smb://user:pass@host/q`).
pub fn redact_uri(uri: &str) -> String {
    match (uri.find("://"), uri.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &uri[..scheme + 3], &uri[at + 1..])
        }
        _ => uri.to_owned(),
    }
}

fn uri_host(uri: &str) -> Option<String> {
    let rest = uri.split_once("://")?.1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let host = rest.split(['/', ':', '?']).next()?;
    (!host.is_empty()).then(|| host.to_owned())
}

/// Parses `lpstat -v`: `device for NAME: URI`.
pub fn parse_lpstat(text: &str) -> Vec<Row> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("device for ")?;
            let (name, uri) = rest.split_once(": ")?;
            let mut row = Row::new();
            row.set("NAME", name);
            row.set("PORT", redact_uri(uri.trim()));
            Some(row)
        })
        .collect()
}

/// Reads the printers.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    match ctx.read("/etc/cups/printers.conf") {
        Ok(text) => Ok(parse_printers_conf(&text)),
        Err(Error::NeedsRoot { .. }) => match ctx.command("lpstat", &["-v"]) {
            Some(Ok(out)) => Ok(parse_lpstat(&out)),
            _ => Ok(Vec::new()),
        },
        Err(_) => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_laptop() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        assert_eq!(rows.len(), 2);
        let a = &rows[0];
        assert_eq!(field(a, "NAME"), "Office-MFP");
        assert_eq!(
            field(a, "DRIVER"),
            "HP LaserJet MFP M428f-M429f, hpcups 3.23.12"
        );
        assert_eq!(
            field(a, "PORT"),
            "ipp://printer3.corp.example.com/ipp/print"
        );
        assert_eq!(field(a, "SERVERNAME"), "printer3.corp.example.com");
        assert_eq!(field(a, "NETWORK"), "1");
        assert_eq!(field(a, "DESCRIPTION"), "Office MFP, 3rd floor");
        assert_eq!(field(&rows[1], "PORT"), "smb://fileserver/labels");
        assert_eq!(field(&rows[1], "SHARED"), "0");
    }

    #[test]
    fn lpstat() {
        let rows = parse_lpstat(
            "device for Office-MFP: ipp://printer3/ipp/print\ndevice for pdf: cups-pdf:/\n",
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(field(&rows[1], "PORT"), "cups-pdf:/");
    }
}
