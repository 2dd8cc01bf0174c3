//! How a dynamic group keeps its criteria: the search form's own rows (field key, operator
//! name, value, upper value), never SQL, stored in `groups.criteria` as the search page's
//! query string — `f0=os&o0=equal&v0=Linux*&f1=software&o1=equal&v1=Firefox*` (`fN` field,
//! `oN` operator, `vN` value, `wN` upper value of BETWEEN / OUT OF; rows numbered from 0) — so
//! that "edit" is the search page opened on `/search?<criteria>`. They are parsed again with
//! the search's own rules at every evaluation: a field deleted since (an administrative
//! field, say) makes the group compute to no member, and says why.

use ocs_storage::AccountField;

use crate::app::computers::{field_kind, CriterionInput, MAX_CRITERIA, OPERATORS};
use crate::app::i18n::Tr;
use crate::app::AppError;

/// Longest stored criteria text accepted (20 rows of 255-byte values fit easily).
pub const MAX_CRITERIA_TEXT: usize = 16 * 1024;

/// The rows with a value, encoded; rows are renumbered from 0.
pub fn encode(inputs: &[CriterionInput]) -> String {
    let mut pairs: Vec<(String, &str)> = Vec::new();
    for (i, c) in inputs
        .iter()
        .filter(|c| !c.value.trim().is_empty())
        .enumerate()
    {
        pairs.push((format!("f{i}"), &c.field));
        pairs.push((format!("o{i}"), &c.op));
        pairs.push((format!("v{i}"), &c.value));
        if !c.value2.is_empty() {
            pairs.push((format!("w{i}"), &c.value2));
        }
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// Reads stored criteria back into rows (unknown keys are ignored, as the search page does).
pub fn decode(text: &str) -> Result<Vec<CriterionInput>, AppError> {
    if text.len() > MAX_CRITERIA_TEXT {
        return Err(AppError::bad_request(
            "E_BAD_CRITERION",
            format!("criteria are at most {MAX_CRITERIA_TEXT} bytes"),
        ));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text).map_err(|e| {
        AppError::bad_request("E_BAD_CRITERION", format!("unreadable criteria: {e}"))
    })?;
    let mut rows: Vec<CriterionInput> = Vec::new();
    for (k, v) in pairs {
        let Some((slot, index)) = k
            .split_at_checked(1)
            .and_then(|(slot, n)| Some((slot, n.parse::<usize>().ok()?)))
        else {
            continue;
        };
        if index >= MAX_CRITERIA {
            return Err(AppError::bad_request(
                "E_BAD_CRITERION",
                format!("at most {MAX_CRITERIA} criteria"),
            ));
        }
        if rows.len() <= index {
            rows.resize(index + 1, CriterionInput::default());
        }
        let row = &mut rows[index];
        match slot {
            "f" => row.field = v,
            "o" => row.op = v,
            "v" => row.value = v,
            "w" => row.value2 = v,
            _ => {}
        }
    }
    rows.retain(|r| !r.value.trim().is_empty());
    Ok(rows)
}

/// One criterion in words, translated: "Operating system EQUAL Linux*", "Memory (MB) BETWEEN
/// 1024 AND 4096". A field that no longer exists is named as such.
pub fn in_words(tr: &Tr, c: &CriterionInput, fields: &[AccountField]) -> String {
    let label = match c
        .field
        .strip_prefix("fields_")
        .and_then(|n| n.parse::<i64>().ok())
    {
        Some(id) => match fields.iter().find(|f| f.id == id) {
            Some(f) => f.label.clone(),
            None => tr.fmt("groups.unknown_field", &[("field", &c.field)]),
        },
        None if field_kind(&c.field, fields).is_some() => {
            tr.get(&format!("field.{}", c.field)).to_owned()
        }
        None => tr.fmt("groups.unknown_field", &[("field", &c.field)]),
    };
    let op = if OPERATORS.contains(&c.op.as_str()) {
        tr.get(&format!("op.{}", c.op)).to_owned()
    } else {
        c.op.clone()
    };
    if matches!(c.op.as_str(), "between" | "outof") {
        tr.fmt(
            "groups.criterion_range",
            &[
                ("field", &label),
                ("op", &op),
                ("value", &c.value),
                ("value2", &c.value2),
            ],
        )
    } else {
        tr.fmt(
            "groups.criterion",
            &[("field", &label), ("op", &op), ("value", &c.value)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(field: &str, op: &str, value: &str, value2: &str) -> CriterionInput {
        CriterionInput {
            field: field.into(),
            op: op.into(),
            value: value.into(),
            value2: value2.into(),
        }
    }

    #[test]
    fn criteria_round_trip_through_the_search_query_string() {
        let rows = vec![
            row("os", "equal", "Linux*", ""),
            row("name", "equal", "", ""),
            row("memory", "between", "1024", "4096"),
            row("software", "equal", "a&b=c %", ""),
        ];
        let text = encode(&rows);
        assert!(
            text.starts_with("f0=os&o0=equal&v0=Linux*&f1=memory"),
            "{text}"
        );
        let back = decode(&text).unwrap();
        assert_eq!(
            back,
            vec![rows[0].clone(), rows[2].clone(), rows[3].clone()]
        );
        assert!(decode("f25=os&o25=equal&v25=x").is_err());
        assert!(decode(&"x".repeat(MAX_CRITERIA_TEXT + 1)).is_err());
        assert_eq!(decode("junk=1&page=2").unwrap(), vec![]);
    }

    #[test]
    fn criteria_read_in_words() {
        let en = Tr::new("en");
        assert_eq!(
            in_words(&en, &row("os", "equal", "Linux*", ""), &[]),
            "Operating system EQUAL Linux*"
        );
        let range = in_words(&en, &row("memory", "between", "1", "2"), &[]);
        assert!(
            range.contains("BETWEEN 1") && range.contains('2'),
            "{range}"
        );
        let gone = in_words(&en, &row("fields_9", "equal", "x", ""), &[]);
        assert!(gone.contains("fields_9"), "{gone}");
        let fr = Tr::new("fr");
        assert_ne!(
            in_words(&fr, &row("os", "equal", "Linux*", ""), &[]),
            "Operating system EQUAL Linux*"
        );
    }
}
