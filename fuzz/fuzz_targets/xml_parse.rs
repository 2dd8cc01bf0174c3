//! The XML reader: never panics, nests no deeper than its limit, and the tree it returns, written
//! back as plain elements, reads back as the same tree with XML::Simple's folding applied
//! (attributes become elements, so empty and whitespace-only ones disappear).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocs_proto::xml::{self, Element};

/// `MAX_DEPTH` open elements, one empty element inside the deepest, and its attributes.
const MAX_TREE_DEPTH: usize = 32 + 2;

fuzz_target!(|data: &[u8]| {
    let Ok(root) = xml::parse(data) else {
        return;
    };
    assert!(depth(&root) <= MAX_TREE_DEPTH);
    if !names_are_plain(&root) {
        return;
    }
    let mut doc = String::new();
    write(&mut doc, &root);
    let again = xml::parse(doc.as_bytes());
    assert_eq!(again, Ok(fold(&root)), "rewritten as {doc:?}");
});

fn depth(e: &Element) -> usize {
    1 + e.children.iter().map(depth).max().unwrap_or(0)
}

/// Names the element writer below can write as they are.
fn names_are_plain(e: &Element) -> bool {
    let mut chars = e.name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && e.children.iter().all(names_are_plain)
}

fn write(out: &mut String, e: &Element) {
    out.push('<');
    out.push_str(&e.name);
    out.push('>');
    for c in e.text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    for child in &e.children {
        write(out, child);
    }
    out.push_str("</");
    out.push_str(&e.name);
    out.push('>');
}

/// What the reader makes of an element tree written as elements only.
fn fold(e: &Element) -> Element {
    let text = if e.text.trim().is_empty() {
        String::new()
    } else {
        e.text.clone()
    };
    Element {
        name: e.name.clone(),
        text,
        children: e
            .children
            .iter()
            .map(fold)
            .filter(|c| !c.is_blank())
            .collect(),
    }
}
