//! The category rules of reference §3.8 as one pure function: a software's name against a
//! wildcard pattern (`*` any run of characters, `?` one, case-insensitive), optionally its
//! publisher against another pattern and its version compared (`EQUAL`, `LESS`, `MORE`) with
//! the rule's, and the rule's category limited to an operating system family. Of the rules
//! that match, the last one in their order wins.

use std::cmp::Ordering;
use std::collections::HashMap;

use ocs_storage::software_categories::CategoryRule;

/// Operating system families a category's rules may be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsFamily {
    /// Microsoft Windows.
    Windows,
    /// Linux, the BSDs and other Unix systems.
    Unix,
    /// macOS.
    MacOs,
}

/// The stored names of the families, with `ALL` (no limit) first.
pub const OS_CHOICES: [&str; 4] = ["ALL", "WINDOWS", "UNIX", "MACOS"];

impl OsFamily {
    /// The family a stored category OS names (`None`: `ALL` or unknown, no limit).
    pub fn parse(text: &str) -> Option<OsFamily> {
        match text {
            "WINDOWS" => Some(OsFamily::Windows),
            "UNIX" => Some(OsFamily::Unix),
            "MACOS" => Some(OsFamily::MacOs),
            _ => None,
        }
    }

    /// The family of a computer, from its OS name and else its agent.
    pub fn of(osname: Option<&str>, useragent: Option<&str>) -> OsFamily {
        let text = format!(
            "{} {}",
            osname.unwrap_or_default(),
            useragent.unwrap_or_default()
        )
        .to_lowercase();
        if text.contains("windows") {
            OsFamily::Windows
        } else if text.contains("mac os") || text.contains("macos") || text.contains("darwin") {
            OsFamily::MacOs
        } else {
            OsFamily::Unix
        }
    }
}

/// A version comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// The same version.
    Equal,
    /// An older version than the rule's.
    Less,
    /// A newer version than the rule's.
    More,
}

impl Sign {
    /// The stored names.
    pub const ALL: [&'static str; 3] = ["EQUAL", "LESS", "MORE"];

    /// The comparison a stored name says.
    pub fn parse(text: &str) -> Option<Sign> {
        match text {
            "EQUAL" => Some(Sign::Equal),
            "LESS" => Some(Sign::Less),
            "MORE" => Some(Sign::More),
            _ => None,
        }
    }
}

/// A rule ready to be matched.
#[derive(Debug, Clone)]
pub struct Rule {
    category_id: i64,
    os: Option<OsFamily>,
    pattern: Vec<char>,
    publisher: Option<Vec<char>>,
    version: Option<(Sign, String)>,
}

fn lower_chars(text: &str) -> Vec<char> {
    text.to_lowercase().chars().collect()
}

/// The stored rules in their order, with their categories' OS limits.
pub fn compile(rules: &[CategoryRule], systems: &HashMap<i64, String>) -> Vec<Rule> {
    rules
        .iter()
        .map(|r| Rule {
            category_id: r.category_id,
            os: systems.get(&r.category_id).and_then(|s| OsFamily::parse(s)),
            pattern: lower_chars(&r.pattern),
            publisher: r
                .publisher
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(lower_chars),
            version: match (r.sign_version.as_deref().and_then(Sign::parse), &r.version) {
                (Some(sign), Some(v)) if !v.is_empty() => Some((sign, v.clone())),
                _ => None,
            },
        })
        .collect()
}

/// The category of a software on a computer of the `os` family, if a rule matches.
pub fn categorise(
    rules: &[Rule],
    name: &str,
    publisher: &str,
    version: &str,
    os: OsFamily,
) -> Option<i64> {
    let name = lower_chars(name);
    let publisher = lower_chars(publisher);
    rules
        .iter()
        .rev()
        .find(|r| {
            r.os.is_none_or(|o| o == os)
                && wildcard(&r.pattern, &name)
                && r.publisher.as_ref().is_none_or(|p| wildcard(p, &publisher))
                && r.version.as_ref().is_none_or(|(sign, v)| {
                    let o = compare_versions(version, v);
                    match sign {
                        Sign::Equal => o == Ordering::Equal,
                        Sign::Less => o == Ordering::Less,
                        Sign::More => o == Ordering::Greater,
                    }
                })
        })
        .map(|r| r.category_id)
}

/// Whether `text` matches `pattern` whole; both lower-cased. Linear backtracking on the last
/// `*`, so no pattern can make it slow.
pub fn wildcard(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|c| *c == '*')
}

#[derive(Debug, PartialEq, Eq)]
enum Part {
    Number(u128),
    Text(String),
}

fn parts(version: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut chars = version.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n: u128 = 0;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                n = n.saturating_mul(10).saturating_add(u128::from(d));
                chars.next();
            }
            out.push(Part::Number(n));
        } else if c.is_alphabetic() {
            let mut s = String::new();
            while let Some(&c) = chars.peek().filter(|c| c.is_alphabetic()) {
                s.extend(c.to_lowercase());
                chars.next();
            }
            out.push(Part::Text(s));
        } else {
            // Separators ('.', '-', '_', '+', '~', ':', spaces) only delimit.
            chars.next();
        }
    }
    out
}

/// Compares versions part by part: numbers numerically (so 1.10 > 1.9), words
/// alphabetically, a number above a word; missing trailing zeros do not count (1.0 = 1).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (a, b) = (parts(a), parts(b));
    let zero = Part::Number(0);
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).unwrap_or(&zero), b.get(i).unwrap_or(&zero));
        let o = match (x, y) {
            (Part::Number(x), Part::Number(y)) => x.cmp(y),
            (Part::Text(x), Part::Text(y)) => x.cmp(y),
            (Part::Number(_), Part::Text(_)) => Ordering::Greater,
            (Part::Text(_), Part::Number(_)) => Ordering::Less,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, category: i64, pattern: &str) -> CategoryRule {
        CategoryRule {
            id,
            category_id: category,
            position: id,
            pattern: pattern.into(),
            sign_version: None,
            version: None,
            publisher: None,
        }
    }

    fn one(r: CategoryRule) -> Vec<Rule> {
        compile(&[r], &HashMap::new())
    }

    #[test]
    fn wildcards_match_whole_names_case_insensitively() {
        let m = |p: &str, t: &str| wildcard(&lower_chars(p), &lower_chars(t));
        assert!(m("Mozilla Firefox*", "mozilla firefox (x64 en-US)"));
        assert!(m("*firefox*", "Mozilla Firefox"));
        assert!(m("libreoffice?.?", "LibreOffice7.6"));
        assert!(!m("libreoffice?.?", "LibreOffice7.60"));
        assert!(!m("firefox", "Mozilla Firefox"));
        assert!(m("*", ""));
        assert!(!m("?", ""));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        // Many stars against a long text stay linear.
        let long = "a".repeat(10_000);
        assert!(!m(&format!("{}*b", "*a".repeat(100)), &long));
    }

    #[test]
    fn versions_compare_numerically_part_by_part() {
        use Ordering::*;
        assert_eq!(compare_versions("1.10", "1.9"), Greater);
        assert_eq!(compare_versions("1.0", "1"), Equal);
        assert_eq!(compare_versions("2.0.1", "2.0"), Greater);
        assert_eq!(compare_versions("10.0-beta", "10.0-alpha"), Greater);
        assert_eq!(compare_versions("1:2.3", "1.2.3"), Equal);
        assert_eq!(compare_versions("115.3.1esr", "115.10"), Less);
        assert_eq!(compare_versions("7.0.1", "7.0rc1"), Greater);
    }

    #[test]
    fn equal_less_and_more_compare_the_version() {
        for (sign, version, expected) in [
            ("EQUAL", "3.2.1", true),
            ("EQUAL", "3.2.10", false),
            ("LESS", "3.2.0", true),
            ("LESS", "3.2.1", false),
            ("MORE", "3.10", true),
            ("MORE", "3.2.1", false),
        ] {
            let rules = one(CategoryRule {
                sign_version: Some(sign.into()),
                version: Some("3.2.1".into()),
                ..rule(1, 7, "vlc*")
            });
            let got = categorise(&rules, "VLC media player", "", version, OsFamily::Unix);
            assert_eq!(got.is_some(), expected, "{sign} {version}");
        }
    }

    #[test]
    fn the_publisher_must_match_when_the_rule_has_one() {
        let rules = one(CategoryRule {
            publisher: Some("Mozilla*".into()),
            ..rule(1, 7, "*")
        });
        let c = |p: &str| categorise(&rules, "Firefox", p, "1", OsFamily::Windows);
        assert_eq!(c("Mozilla Foundation"), Some(7));
        assert_eq!(c("Evil Corp"), None);
    }

    #[test]
    fn a_category_limited_to_an_os_applies_only_there() {
        let systems = HashMap::from([(7, "WINDOWS".to_owned())]);
        let rules = compile(&[rule(1, 7, "7-zip*")], &systems);
        let c = |os| categorise(&rules, "7-Zip 23.01", "", "23.01", os);
        assert_eq!(c(OsFamily::Windows), Some(7));
        assert_eq!(c(OsFamily::Unix), None);
        assert_eq!(
            OsFamily::of(Some("Microsoft Windows 11 Pro"), None),
            OsFamily::Windows
        );
        assert_eq!(
            OsFamily::of(Some("Debian GNU/Linux 12"), None),
            OsFamily::Unix
        );
        assert_eq!(OsFamily::of(Some("macOS"), None), OsFamily::MacOs);
        assert_eq!(
            OsFamily::of(None, Some("OCS-NG_WINDOWS_AGENT_v2.10")),
            OsFamily::Windows
        );
    }

    #[test]
    fn the_last_matching_rule_wins() {
        let rules = compile(
            &[
                rule(1, 7, "*"),
                rule(2, 8, "python*"),
                rule(3, 9, "nothing"),
            ],
            &HashMap::new(),
        );
        let c = |n: &str| categorise(&rules, n, "", "1", OsFamily::Unix);
        assert_eq!(c("Python 3.11"), Some(8));
        assert_eq!(c("bash"), Some(7));
        assert_eq!(categorise(&[], "bash", "", "1", OsFamily::Unix), None);
    }
}
