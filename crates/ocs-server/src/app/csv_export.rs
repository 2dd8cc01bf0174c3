//! CSV for spreadsheets: the one writer every export of the console and API goes through.
//!
//! Inventory text comes from agents, so a cell is hostile until proven otherwise: every cell
//! is quoted, and a cell that a spreadsheet would evaluate (one starting with `=`, `+`, `-`,
//! `@`, a tab or a carriage return, also after leading spaces, which some spreadsheets skip)
//! is prefixed with `'`, which they all show as text. Quoting alone is not enough: quotes
//! only delimit the cell, they do not stop the formula.

use crate::app::AppError;

/// A cell as it must be written.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let first = cell.trim_start_matches([' ', '\u{a0}']).chars().next();
    match first {
        Some(
            '=' | '+' | '-' | '@' | '\t' | '\r' | '\u{ff1d}' | '\u{ff0b}' | '\u{ff0d}' | '\u{ff20}',
        ) => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Writes a header and rows, every cell quoted and neutralised.
pub fn write<I, R, S>(header: &[String], rows: I) -> Result<Vec<u8>, AppError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let fail = |e: csv::Error| AppError::Internal(format!("CSV export: {e}"));
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    w.write_record(header.iter().map(|h| neutralise(h).into_owned()))
        .map_err(fail)?;
    for row in rows {
        let record: Vec<String> = row
            .into_iter()
            .map(|c| neutralise(c.as_ref()).into_owned())
            .collect();
        w.write_record(&record).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(format!("CSV export: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_every_cell_quoted() {
        for hostile in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "  =cmd",
            "\u{a0}=x",
            "\u{ff1d}1",
        ] {
            assert!(neutralise(hostile).starts_with('\''), "{hostile:?}");
        }
        for fine in ["pc-01", "1.2", "", "a=b", "Windows 10"] {
            assert_eq!(neutralise(fine), fine);
        }
        let out = write(&["Name".into()], [["=HYPERLINK(\"x\")"], ["pc"]]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"Name\"\n\"'=HYPERLINK(\"\"x\"\")\"\n\"pc\"\n"
        );
    }
}
