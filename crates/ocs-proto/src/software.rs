//! Software version normalisation for the version dictionary.

/// The display form of a version and its first three numeric components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrettyVersion {
    /// `2.38.1` for `1:2.38.1-5+deb12u1`; `Unavailable` when nothing numeric is left.
    pub pretty: String,
    /// First dot-separated component.
    pub major: i64,
    /// Second.
    pub minor: i64,
    /// Third.
    pub patch: i64,
}

/// Drops a leading `epoch:`, then everything from the first letter or punctuation mark other
/// than `.`, as the original's dictionary does.
pub fn pretty_version(version: &str) -> PrettyVersion {
    let v = version.trim();
    let v = match v.split_once(':') {
        Some((epoch, rest)) if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) => {
            rest
        }
        _ => v,
    };
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c.is_whitespace()))
        .unwrap_or(v.len());
    let pretty = v[..end].trim().trim_end_matches('.');
    if pretty.is_empty() || pretty == "0" {
        return PrettyVersion {
            pretty: "Unavailable".into(),
            major: 0,
            minor: 0,
            patch: 0,
        };
    }
    let mut parts = pretty
        .split('.')
        .map(|p| p.trim().parse::<i64>().unwrap_or(0));
    PrettyVersion {
        pretty: pretty.to_owned(),
        major: parts.next().unwrap_or(0),
        minor: parts.next().unwrap_or(0),
        patch: parts.next().unwrap_or(0),
    }
}

/// Whether an INSTALLDATE starts `YYYY/MM/DD`; other forms are not dates the console can use.
pub fn is_install_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'/'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'/'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = pretty_version("1:2.38.1-5+deb12u1");
        assert_eq!(
            (v.pretty.as_str(), v.major, v.minor, v.patch),
            ("2.38.1", 2, 38, 1)
        );
        assert_eq!(pretty_version("3.134").pretty, "3.134");
        assert_eq!(pretty_version("0").pretty, "Unavailable");
        assert_eq!(pretty_version("abc").pretty, "Unavailable");
        assert_eq!(pretty_version("2.4.57-2").patch, 57);
        assert_eq!(pretty_version("10").minor, 0);
    }

    #[test]
    fn install_dates() {
        assert!(is_install_date("2025/04/20 00:00:00"));
        assert!(!is_install_date("2025-04-20"));
        assert!(!is_install_date(""));
    }
}
