//! The console's translation catalogue. Every piece of console text is a key looked up here;
//! the catalogues are TOML files under `i18n/<language>/<area>.toml`, embedded in the binary.
//! English is the reference: a test checks that every language has exactly its keys and that
//! every key a template uses exists.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

/// Languages shipped, English first (the fallback).
pub const LANGUAGES: &[&str] = &["en", "fr"];

/// The catalogue files: (language, area, TOML text).
const FILES: &[(&str, &str, &str)] = &[
    ("en", "common", include_str!("../../i18n/en/common.toml")),
    ("fr", "common", include_str!("../../i18n/fr/common.toml")),
    (
        "en",
        "computers",
        include_str!("../../i18n/en/computers.toml"),
    ),
    (
        "fr",
        "computers",
        include_str!("../../i18n/fr/computers.toml"),
    ),
    ("en", "admin", include_str!("../../i18n/en/admin.toml")),
    ("fr", "admin", include_str!("../../i18n/fr/admin.toml")),
    ("en", "auth", include_str!("../../i18n/en/auth.toml")),
    ("fr", "auth", include_str!("../../i18n/fr/auth.toml")),
    ("en", "mass", include_str!("../../i18n/en/mass.toml")),
    ("fr", "mass", include_str!("../../i18n/fr/mass.toml")),
    ("en", "groups", include_str!("../../i18n/en/groups.toml")),
    ("fr", "groups", include_str!("../../i18n/fr/groups.toml")),
    (
        "en",
        "deletion",
        include_str!("../../i18n/en/deletion.toml"),
    ),
    (
        "fr",
        "deletion",
        include_str!("../../i18n/fr/deletion.toml"),
    ),
    (
        "en",
        "deployment",
        include_str!("../../i18n/en/deployment.toml"),
    ),
    (
        "fr",
        "deployment",
        include_str!("../../i18n/fr/deployment.toml"),
    ),
    (
        "en",
        "deployment_affect",
        include_str!("../../i18n/en/deployment_affect.toml"),
    ),
    (
        "fr",
        "deployment_affect",
        include_str!("../../i18n/fr/deployment_affect.toml"),
    ),
    (
        "en",
        "deployment_redistribution",
        include_str!("../../i18n/en/deployment_redistribution.toml"),
    ),
    (
        "fr",
        "deployment_redistribution",
        include_str!("../../i18n/fr/deployment_redistribution.toml"),
    ),
    (
        "en",
        "ipdiscover",
        include_str!("../../i18n/en/ipdiscover.toml"),
    ),
    (
        "fr",
        "ipdiscover",
        include_str!("../../i18n/fr/ipdiscover.toml"),
    ),
    (
        "en",
        "ipdiscover_admin",
        include_str!("../../i18n/en/ipdiscover_admin.toml"),
    ),
    (
        "fr",
        "ipdiscover_admin",
        include_str!("../../i18n/fr/ipdiscover_admin.toml"),
    ),
    (
        "en",
        "ipdiscover_agents",
        include_str!("../../i18n/en/ipdiscover_agents.toml"),
    ),
    (
        "fr",
        "ipdiscover_agents",
        include_str!("../../i18n/fr/ipdiscover_agents.toml"),
    ),
    (
        "en",
        "ipdiscover_analyze",
        include_str!("../../i18n/en/ipdiscover_analyze.toml"),
    ),
    (
        "fr",
        "ipdiscover_analyze",
        include_str!("../../i18n/fr/ipdiscover_analyze.toml"),
    ),
    (
        "en",
        "ipdiscover_lookup",
        include_str!("../../i18n/en/ipdiscover_lookup.toml"),
    ),
    (
        "fr",
        "ipdiscover_lookup",
        include_str!("../../i18n/fr/ipdiscover_lookup.toml"),
    ),
    (
        "en",
        "ipdiscover_networks",
        include_str!("../../i18n/en/ipdiscover_networks.toml"),
    ),
    (
        "fr",
        "ipdiscover_networks",
        include_str!("../../i18n/fr/ipdiscover_networks.toml"),
    ),
    (
        "en",
        "software",
        include_str!("../../i18n/en/software.toml"),
    ),
    (
        "fr",
        "software",
        include_str!("../../i18n/fr/software.toml"),
    ),
    (
        "en",
        "dashboard",
        include_str!("../../i18n/en/dashboard.toml"),
    ),
    (
        "fr",
        "dashboard",
        include_str!("../../i18n/fr/dashboard.toml"),
    ),
    (
        "en",
        "duplicates",
        include_str!("../../i18n/en/duplicates.toml"),
    ),
    (
        "fr",
        "duplicates",
        include_str!("../../i18n/fr/duplicates.toml"),
    ),
    ("en", "history", include_str!("../../i18n/en/history.toml")),
    ("fr", "history", include_str!("../../i18n/fr/history.toml")),
    (
        "en",
        "forwarding",
        include_str!("../../i18n/en/forwarding.toml"),
    ),
    (
        "fr",
        "forwarding",
        include_str!("../../i18n/fr/forwarding.toml"),
    ),
];

type Messages = HashMap<String, String>;

/// Flattens `[section] key = "text"` tables into `section.key`.
fn flatten(prefix: &str, table: &toml::Table, out: &mut Messages) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

fn load() -> HashMap<&'static str, Arc<Messages>> {
    let mut by_lang: HashMap<&'static str, Messages> = HashMap::new();
    for (lang, area, text) in FILES {
        let messages = by_lang.entry(lang).or_default();
        match text.parse::<toml::Table>() {
            Ok(table) => flatten("", &table, messages),
            // The files are embedded and tested; this only guards a broken edit.
            Err(e) => tracing::error!(lang, area, error = %e, "broken translation catalogue"),
        }
    }
    by_lang.into_iter().map(|(k, v)| (k, Arc::new(v))).collect()
}

static CATALOGUES: LazyLock<HashMap<&'static str, Arc<Messages>>> = LazyLock::new(load);

/// The messages of one language, with English behind them for any gap.
#[derive(Clone, Debug)]
pub struct Tr {
    lang: &'static str,
    messages: Arc<Messages>,
    fallback: Arc<Messages>,
}

impl Tr {
    /// The translator for a language code (`en`, `fr`); unknown codes get English.
    pub fn new(lang: &str) -> Tr {
        let lang = LANGUAGES
            .iter()
            .copied()
            .find(|l| *l == lang)
            .unwrap_or("en");
        let get = |l: &str| CATALOGUES.get(l).cloned().unwrap_or_default();
        Tr {
            lang,
            messages: get(lang),
            fallback: get("en"),
        }
    }

    /// Picks the language: the account's choice, else the first of the browser's
    /// `Accept-Language` that is shipped, else English.
    pub fn negotiate(chosen: Option<&str>, accept_language: Option<&str>) -> Tr {
        if let Some(lang) = chosen.filter(|l| LANGUAGES.contains(l)) {
            return Tr::new(lang);
        }
        let mut offers: Vec<(f32, &str)> = accept_language
            .unwrap_or("")
            .split(',')
            .filter_map(|part| {
                let mut bits = part.trim().split(';');
                let tag = bits.next()?.trim();
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                Some((q, tag))
            })
            .collect();
        offers.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, tag) in offers {
            let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
            if LANGUAGES.contains(&primary.as_str()) {
                return Tr::new(&primary);
            }
        }
        Tr::new("en")
    }

    /// The language code.
    pub fn lang(&self) -> &'static str {
        self.lang
    }

    /// The text of a key; the key itself if no catalogue has it (a test prevents that).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages
            .get(key)
            .or_else(|| self.fallback.get(key))
            .map_or(key, String::as_str)
    }

    /// Whether a key exists.
    pub fn has(&self, key: &str) -> bool {
        self.fallback.contains_key(key)
    }

    /// The text of a key with `{name}` placeholders replaced.
    pub fn fmt(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut text = self.get(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), &value.to_string());
        }
        text
    }

    /// A count: the `<key>_one` text for 1 when the catalogue has one, else `<key>`, with
    /// `{n}` replaced.
    pub fn count(&self, key: &str, n: impl std::borrow::Borrow<i64>) -> String {
        let n = *n.borrow();
        let one = format!("{key}_one");
        if n == 1 && self.has(&one) {
            self.n(&one, n)
        } else {
            self.n(key, n)
        }
    }

    /// Shorthand for one `{n}` placeholder.
    pub fn n(&self, key: &str, n: impl std::fmt::Display) -> String {
        self.fmt(key, &[("n", &n)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(lang: &str) -> BTreeSet<String> {
        CATALOGUES
            .get(lang)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn every_language_has_exactly_the_english_keys() {
        let en = keys("en");
        assert!(en.len() > 100, "the English catalogue looks empty");
        for lang in LANGUAGES {
            let other = keys(lang);
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{lang}: missing {missing:?}, unknown {extra:?}"
            );
            for key in &other {
                assert!(
                    !Tr::new(lang).get(key).trim().is_empty(),
                    "{lang}: {key} is empty"
                );
            }
        }
    }

    /// Every `t.get("…")`, `t.n("…"` and `t.fmt("…"` in templates and Rust sources names a
    /// key of the catalogue.
    #[test]
    fn every_key_used_exists() {
        let en = keys("en");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut missing = Vec::new();
        let mut stack = vec![root.join("templates"), root.join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                // This file spells the patterns themselves.
                if path.file_name().is_some_and(|n| n == "i18n.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for pat in ["t.get(\"", "t.n(\"", "t.fmt(\"", "t.count(\"", "tr_key(\""] {
                    for (i, _) in text.match_indices(pat) {
                        let rest = &text[i + pat.len()..];
                        let key = &rest[..rest.find('"').unwrap()];
                        if !key.contains('{') && !en.contains(key) {
                            missing.push(format!("{}: {key}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from i18n/en: {missing:#?}"
        );
    }

    #[test]
    fn negotiation() {
        assert_eq!(
            Tr::negotiate(None, Some("fr-FR,fr;q=0.9,en;q=0.8")).lang(),
            "fr"
        );
        assert_eq!(Tr::negotiate(None, Some("de-DE, en;q=0.5")).lang(), "en");
        assert_eq!(Tr::negotiate(Some("fr"), Some("en")).lang(), "fr");
        assert_eq!(Tr::negotiate(None, Some("en;q=0.2, fr;q=0.8")).lang(), "fr");
        assert_eq!(Tr::negotiate(None, None).lang(), "en");
        assert_eq!(Tr::new("fr").n("test.count", 3), "test.count");
    }
}
