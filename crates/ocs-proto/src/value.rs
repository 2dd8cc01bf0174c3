//! Field values after the original's normalisation: placeholders become the field's fallback,
//! numbers are read leniently.

use crate::catalogue::{Field, FieldKind};

/// A stored field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// No value.
    Null,
    /// An integer field.
    Int(i64),
    /// A text field.
    Text(String),
}

impl Value {
    /// The text of a text value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a comparable string, with NULL, `''` and `0` all mapping to `""`, which
    /// is how the row-level diff decides two rows are the same.
    pub fn comparable(&self) -> String {
        let mut out = String::new();
        self.write_comparable(&mut out);
        out
    }

    /// Appends [`Value::comparable`] to `out` (keys of whole rows are built without a
    /// string per value).
    pub fn write_comparable(&self, out: &mut String) {
        match self {
            Value::Null | Value::Int(0) => {}
            Value::Int(n) => {
                use std::fmt::Write;
                let _ = write!(out, "{n}");
            }
            Value::Text(s) if s == "0" => {}
            Value::Text(s) => out.push_str(s),
        }
    }
}

/// Texts agents use to say "unknown", stored as the field's fallback.
fn is_placeholder(s: &str) -> bool {
    matches!(s, "" | "??" | "NA" | "N/A")
}

/// Normalises one raw field: placeholders and missing values take the fallback (or NULL),
/// integers are coerced.
pub fn normalise(field: &Field, raw: Option<&str>) -> Value {
    let raw = raw.filter(|s| !is_placeholder(s.trim())).or(field.fallback);
    match (raw, field.kind) {
        (None, _) => Value::Null,
        (Some(s), FieldKind::Text) => Value::Text(s.to_owned()),
        (Some(s), FieldKind::Int) => Value::Int(lenient_int(s)),
    }
}

/// The leading number of a text, rounded; 0 when there is none. `"1000 Mbps"` → 1000,
/// `"274877.906944"` → 274878, `"-1"` → -1.
pub fn lenient_int(s: &str) -> i64 {
    let s = s.trim();
    let end = s
        .char_indices()
        .take_while(|(i, c)| {
            c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+'))
        })
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    let number = &s[..end];
    if let Ok(n) = number.parse::<i64>() {
        return n;
    }
    match number.parse::<f64>() {
        Ok(f) if f.is_finite() && f.abs() < 9.0e18 => f.round() as i64,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::section;

    #[test]
    fn lenient_numbers() {
        assert_eq!(lenient_int("274877.906944"), 274878);
        assert_eq!(lenient_int("1000 Mbps"), 1000);
        assert_eq!(lenient_int("-1"), -1);
        assert_eq!(lenient_int("abc"), 0);
        assert_eq!(lenient_int(""), 0);
        assert_eq!(lenient_int("99999999999999999999999"), 0);
    }

    #[test]
    fn placeholders_take_the_fallback() {
        let networks = section("NETWORKS").unwrap();
        let mac = &networks.fields[networks.field_index("MACADDR").unwrap()];
        assert_eq!(
            normalise(mac, Some("N/A")),
            Value::Text("00:00:00:00:00:00".into())
        );
        assert_eq!(
            normalise(mac, None),
            Value::Text("00:00:00:00:00:00".into())
        );
        let ip = &networks.fields[networks.field_index("IPADDRESS").unwrap()];
        assert_eq!(normalise(ip, Some("??")), Value::Null);
        assert_eq!(
            normalise(ip, Some("10.0.0.1")),
            Value::Text("10.0.0.1".into())
        );
    }
}
