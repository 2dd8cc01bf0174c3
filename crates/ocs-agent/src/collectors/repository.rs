//! REPOSITORY: package sources. APT (`sources.list` one-line entries and deb822 `.sources`
//! files, with the time each index was last downloaded) and YUM/DNF (`/etc/yum.repos.d`).

use super::{Context, Row};
use crate::error::Error;

/// One APT source: (file, uri, suite, component).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptSource {
    /// The file that declares it.
    pub file: String,
    /// Archive URI.
    pub uri: String,
    /// Suite (`bookworm-updates`).
    pub suite: String,
    /// Component (`main`).
    pub component: String,
}

/// One-line format: `deb [options] uri suite component…`.
pub fn parse_list(file: &str, text: &str) -> Vec<AptSource> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut words = line.split_whitespace().peekable();
        if words.next() != Some("deb") {
            continue;
        }
        if words.peek().is_some_and(|w| w.starts_with('[')) {
            // Options may span several words: "[arch=amd64 signed-by=…]".
            for w in words.by_ref() {
                if w.ends_with(']') {
                    break;
                }
            }
        }
        let (Some(uri), Some(suite)) = (words.next(), words.next()) else {
            continue;
        };
        for component in words {
            out.push(AptSource {
                file: file.to_owned(),
                uri: uri.to_owned(),
                suite: suite.to_owned(),
                component: component.to_owned(),
            });
        }
    }
    out
}

/// deb822 format: paragraphs with `Types`, `URIs`, `Suites`, `Components`, `Enabled`.
pub fn parse_sources(file: &str, text: &str) -> Vec<AptSource> {
    let mut out = Vec::new();
    for paragraph in text.split("\n\n") {
        let mut fields = std::collections::BTreeMap::new();
        for line in paragraph.lines().filter(|l| !l.starts_with('#')) {
            if let Some((k, v)) = line.split_once(':') {
                if !k.starts_with(' ') {
                    fields.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                }
            }
        }
        let words = |k: &str| -> Vec<String> {
            fields
                .get(k)
                .map(|v| v.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default()
        };
        if !words("types").iter().any(|t| t == "deb")
            || fields.get("enabled").is_some_and(|e| e == "no")
        {
            continue;
        }
        for uri in words("uris") {
            for suite in words("suites") {
                for component in words("components") {
                    out.push(AptSource {
                        file: file.to_owned(),
                        uri: uri.clone(),
                        suite: suite.clone(),
                        component,
                    });
                }
            }
        }
    }
    out
}

/// The name APT gives the downloaded index of a source, to find when it was refreshed.
fn release_file(uri: &str, suite: &str) -> String {
    let stripped = uri
        .split_once("://")
        .map_or(uri, |(_, r)| r)
        .trim_end_matches('/');
    format!(
        "{}_dists_{}_InRelease",
        stripped.replace('/', "_"),
        suite.replace('/', "_")
    )
}

/// `.repo` INI sections with `enabled` not 0.
pub fn parse_yum_repo(file: &str, text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut current: Option<(Row, bool)> = None;
    for line in text.lines().map(str::trim) {
        if let Some(id) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if let Some((row, true)) = current.take() {
                rows.push(row);
            }
            let mut row = Row::new();
            row.set("TAG", id);
            row.set("FILENAME", file);
            current = Some((row, true));
        } else if let (Some((row, enabled)), Some((k, v))) =
            (current.as_mut(), line.split_once('='))
        {
            match k.trim() {
                "name" => {
                    row.set("NAME", v.trim());
                }
                "baseurl" => {
                    row.set("BASEURL", v.trim());
                }
                "mirrorlist" | "metalink" => {
                    row.set("MIRRORS", v.trim());
                }
                "exclude" | "excludepkgs" => {
                    row.set("EXCLUDE", v.trim());
                }
                "metadata_expire" => {
                    row.set("EXPIRE", v.trim());
                }
                "enabled" => *enabled = v.trim() != "0",
                _ => {}
            }
        }
    }
    if let Some((row, true)) = current {
        rows.push(row);
    }
    rows
}

/// Reads the package sources.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let mut sources = Vec::new();
    if let Some(text) = ctx.read_opt("/etc/apt/sources.list") {
        sources.extend(parse_list("/etc/apt/sources.list", &text));
    }
    for name in ctx.list("/etc/apt/sources.list.d") {
        let path = format!("/etc/apt/sources.list.d/{name}");
        if let Some(text) = ctx.read_opt(&path) {
            if name.ends_with(".list") {
                sources.extend(parse_list(&path, &text));
            } else if name.ends_with(".sources") {
                sources.extend(parse_sources(&path, &text));
            }
        }
    }
    let mut rows: Vec<Row> = sources
        .into_iter()
        .map(|s| {
            let mut row = Row::new();
            row.set("BASEURL", s.uri.clone());
            row.set("NAME", s.component.clone());
            row.set("TAG", s.suite.clone());
            row.set("FILENAME", s.file.clone());
            if let Some(t) = ctx.mtime(&format!(
                "/var/lib/apt/lists/{}",
                release_file(&s.uri, &s.suite)
            )) {
                row.set("UPDATED", super::ocs_datetime(t));
            }
            row
        })
        .collect();
    for name in ctx
        .list("/etc/yum.repos.d")
        .into_iter()
        .filter(|n| n.ends_with(".repo"))
    {
        let path = format!("/etc/yum.repos.d/{name}");
        if let Some(text) = ctx.read_opt(&path) {
            rows.extend(parse_yum_repo(&path, &text));
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_vm_deb822() {
        let rows = collect(&machine("vm-debian12", true)).unwrap();
        assert_eq!(rows.len(), 3, "disabled files are ignored");
        assert_eq!(field(&rows[0], "BASEURL"), "http://deb.debian.org/debian");
        assert_eq!(field(&rows[0], "TAG"), "bookworm");
        assert_eq!(field(&rows[1], "TAG"), "bookworm-updates");
        assert_eq!(
            field(&rows[2], "BASEURL"),
            "http://deb.debian.org/debian-security"
        );
        assert_eq!(field(&rows[2], "NAME"), "main");
    }

    #[test]
    fn one_line_format() {
        let s = parse_list("f", "# c\ndeb [arch=amd64 signed-by=/k.gpg] https://download.docker.com/linux/debian bookworm stable\ndeb-src http://x y z\ndeb http://deb.debian.org/debian bookworm main contrib # tail\n");
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].uri, "https://download.docker.com/linux/debian");
        assert_eq!(s[0].component, "stable");
        assert_eq!(s[2].component, "contrib");
        assert_eq!(
            release_file("http://deb.debian.org/debian/", "bookworm"),
            "deb.debian.org_debian_dists_bookworm_InRelease"
        );
    }

    #[test]
    fn the_laptop_yum() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        let names: Vec<&str> = rows.iter().map(|r| field(r, "TAG")).collect();
        assert_eq!(
            names,
            ["updates", "fedora"],
            "disabled sections are left out"
        );
        assert!(field(&rows[1], "MIRRORS").starts_with("https://mirrors.fedoraproject.org/"));
    }
}
