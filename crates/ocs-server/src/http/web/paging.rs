//! What the console's paged, sortable lists share: reading query parameters, links that keep
//! a list's filters, sortable column heads and the previous / next pager.

use std::collections::HashMap;

use axum::extract::Query;

use crate::app::i18n::Tr;

/// A list page's query parameters.
pub(crate) type Params = Query<HashMap<String, String>>;

/// One query parameter, if given.
pub(crate) fn param<'a>(p: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    p.get(key).map(String::as_str)
}

/// A URL query of the non-empty pairs, so links carry only the filters in use.
pub(crate) fn query_string(pairs: &[(&str, String)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// A sortable column head.
pub(crate) struct Head {
    pub(crate) key: &'static str,
    pub(crate) label: String,
    pub(crate) url: String,
    /// `Some(desc)` when sorted by it.
    pub(crate) sorted: Option<bool>,
}

/// Previous / next page links and "page N of M".
pub(crate) struct Pager {
    pub(crate) prev: Option<String>,
    pub(crate) next: Option<String>,
    pub(crate) label: String,
}

/// The pager of page `page` (of `size` rows) of `total` rows, linking to `base` with
/// `page` and `per_page` added.
pub(crate) fn pager(tr: &Tr, base: &str, total: impl TryInto<u64>, page: u32, size: u32) -> Pager {
    let total: u64 = total.try_into().unwrap_or(0);
    let pages = u32::try_from(total.div_ceil(u64::from(size.max(1))).max(1)).unwrap_or(u32::MAX);
    let at = |n: u32| {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}page={n}&per_page={size}")
    };
    Pager {
        prev: (page > 1).then(|| at(page - 1)),
        next: (page < pages).then(|| at(page + 1)),
        label: tr.fmt("list.page", &[("n", &page), ("of", &pages)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_list_and_stop_at_its_ends() {
        let tr = Tr::new("en");
        let p = pager(&tr, "/networks?sort=name", 120_usize, 2, 50);
        assert_eq!(
            p.prev.as_deref(),
            Some("/networks?sort=name&page=1&per_page=50")
        );
        assert_eq!(
            p.next.as_deref(),
            Some("/networks?sort=name&page=3&per_page=50")
        );
        assert!(pager(&tr, "/networks", 0_i64, 1, 50).next.is_none());
        assert!(pager(&tr, "/networks", -1_i64, 1, 50).prev.is_none());
        assert_eq!(
            query_string(&[("q", "a b".into()), ("sort", String::new())]),
            "q=a+b"
        );
    }
}
