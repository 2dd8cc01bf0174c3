//! Compares two inventory documents section by section, as the server would read them
//! (XML::Simple semantics: an element with nothing in it is absent), and prints a Markdown
//! table: entries, distinct filled fields, and filled values, ours against theirs.
//!
//! Usage: cargo run -p ocs-agent --example compare -- OURS.xml THEIRS.ocs
//! Exits 1 if ours has fewer entries or filled fields than theirs in any section.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

#[derive(Default)]
struct Stats {
    entries: usize,
    fields: BTreeSet<String>,
    values: usize,
}

fn stats(path: &str) -> Result<BTreeMap<String, Stats>, String> {
    let raw = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let decoded = ocs_proto::codec::decode_body(
        &raw,
        ocs_proto::DecodeLimits {
            max_inflated_bytes: 256 << 20,
            try_others: true,
        },
    )
    .map_err(|e| format!("{path}: {e}"))?;
    let doc = ocs_proto::xml::parse(&decoded.xml).map_err(|e| format!("{path}: {e}"))?;
    let content = doc
        .child("CONTENT")
        .ok_or_else(|| format!("{path}: no CONTENT"))?;
    let mut out: BTreeMap<String, Stats> = BTreeMap::new();
    for section in &content.children {
        // Only fields with text count; a nested element (DOWNLOAD/HISTORY) counts as one.
        let filled: Vec<&str> = section
            .children
            .iter()
            .filter(|f| !f.text.trim().is_empty() || !f.children.is_empty())
            .map(|f| f.name.as_str())
            .collect();
        if filled.is_empty() && section.text.trim().is_empty() {
            continue;
        }
        let s = out.entry(section.name.clone()).or_default();
        s.entries += 1;
        s.values += filled.len().max(1);
        s.fields.extend(filled.iter().map(|f| (*f).to_owned()));
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: compare OURS THEIRS");
        return ExitCode::from(2);
    }
    let (ours, theirs) = match (stats(&args[1]), stats(&args[2])) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let empty = Stats::default();
    let names: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    println!("| section | entries ours | entries theirs | distinct filled fields ours | theirs | filled values ours | theirs | fields only theirs |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    let mut fewer = Vec::new();
    for name in names {
        let a = ours.get(name).unwrap_or(&empty);
        let b = theirs.get(name).unwrap_or(&empty);
        let only_theirs: Vec<&str> = b.fields.difference(&a.fields).map(String::as_str).collect();
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            a.entries,
            b.entries,
            a.fields.len(),
            b.fields.len(),
            a.values,
            b.values,
            only_theirs.join(", ")
        );
        if a.entries < b.entries || a.fields.len() < b.fields.len() || a.values < b.values {
            fewer.push(name.clone());
        }
    }
    if fewer.is_empty() {
        println!(
            "\nours has at least as many entries and filled fields as theirs in every section"
        );
        ExitCode::SUCCESS
    } else {
        println!("\nours has fewer in: {}", fewer.join(", "));
        ExitCode::from(1)
    }
}
