//! Software across the fleet: every software (a name with its publisher) with its number of
//! versions and of computers and its category, one software's versions, and the computers
//! that have it. Counts are of distinct computers and leave out IGNORED software unless the
//! category asked for is IGNORED. Request text arrives as bound values; sorts are an enum.

use sqlx::FromRow;

use crate::hosts::like_pattern;
use crate::software_categories::{IGNORED_CATEGORY, NEW_CATEGORY};
pub(crate) use crate::sql::{Bind, Binds};
use crate::{Page, Result, Store};

/// Columns the software list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftwareSort {
    /// Name, case-insensitively.
    Name,
    /// Publisher.
    Publisher,
    /// Number of versions.
    Versions,
    /// Number of computers.
    Computers,
    /// Category name.
    Category,
}

/// What the software list shows.
#[derive(Debug, Clone, Default)]
pub struct SoftwareFilter {
    /// Text the name contains (case-insensitive; empty: any).
    pub name: String,
    /// Text the publisher contains (case-insensitive; empty: any).
    pub publisher: String,
    /// Only the versions in this category (`None`: every category but IGNORED).
    pub category: Option<i64>,
}

/// One software of the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareSummary {
    /// Name dictionary ID (the software page's ID).
    pub name_id: i64,
    /// Publisher dictionary ID.
    pub publisher_id: i64,
    /// Name.
    pub name: String,
    /// Publisher.
    pub publisher: String,
    /// Distinct versions installed.
    pub versions: i64,
    /// Distinct computers with it.
    pub computers: i64,
    /// Its category, or `None` when its versions are in several.
    pub category: Option<String>,
}

/// One version of a software, with the computers that have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareVersionRow {
    /// Publisher dictionary ID.
    pub publisher_id: i64,
    /// Publisher.
    pub publisher: String,
    /// Version dictionary ID.
    pub version_id: i64,
    /// Version.
    pub version: String,
    /// Distinct computers with it.
    pub computers: i64,
    /// Category ID.
    pub category_id: i64,
    /// Category name.
    pub category: String,
    /// Whether an administrator chose the category (rules leave it alone).
    pub manual: bool,
}

/// A computer that has a software.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SoftwareComputer {
    /// The computer.
    pub id: i64,
    /// Its name.
    pub name: Option<String>,
    /// Its operating system.
    pub osname: Option<String>,
    /// Its user.
    pub userid: Option<String>,
    /// Unix time of its last inventory.
    pub lastdate: Option<i64>,
}

/// ` LIMIT … OFFSET …` for a page (numbers from a `Page`, never text), or nothing for all.
pub(crate) fn limit_clause(page: Option<Page>) -> String {
    page.map_or_else(String::new, |p| {
        let offset = u64::from(p.number.saturating_sub(1)) * u64::from(p.size);
        format!(" LIMIT {} OFFSET {offset}", p.size)
    })
}

/// The category of a software row: its link, else NEW.
pub(crate) const ROW_CATEGORY: &str = "COALESCE(l.category_id, 1)";

/// The counted (name, publisher) pairs with their texts and, from the counted triples
/// still in the asked categories, their versions and category names; `{category}` and
/// `{text}` are the conditions on a triple's category and on the texts.
fn summary_from(category: &str, text: &str) -> String {
    format!(
        "software_name_counts nc \
         JOIN software_name n ON n.id = nc.name_id \
         JOIN software_publisher p ON p.id = nc.publisher_id \
         JOIN (SELECT t.name_id, t.publisher_id, COUNT(*) AS versions, \
                      MIN(c.name) AS first_category, MAX(c.name) AS last_category \
               FROM software_triple_counts t \
               LEFT JOIN software_category_links l ON l.name_id = t.name_id \
                   AND l.publisher_id = t.publisher_id AND l.version_id = t.version_id \
               JOIN software_categories c ON c.id = {ROW_CATEGORY} \
               WHERE {category} \
               GROUP BY t.name_id, t.publisher_id) g \
             ON g.name_id = nc.name_id AND g.publisher_id = nc.publisher_id \
         WHERE {text}"
    )
}

/// The conditions of a filter: on a triple's category (IGNORED left out unless asked), and
/// on the name and publisher texts.
fn conditions(filter: &SoftwareFilter, binds: &mut Binds) -> (String, String) {
    let category = match filter.category {
        Some(id) => format!("{ROW_CATEGORY} = {}", binds.push(Bind::Int(id))),
        None => format!("{ROW_CATEGORY} <> {IGNORED_CATEGORY}"),
    };
    let mut text = vec!["1 = 1".to_owned()];
    if !filter.name.is_empty() {
        let p = binds.push(Bind::Text(like_pattern(&filter.name)));
        text.push(format!("LOWER(n.name) LIKE {p} ESCAPE '\\'"));
    }
    if !filter.publisher.is_empty() {
        let p = binds.push(Bind::Text(like_pattern(&filter.publisher)));
        text.push(format!("LOWER(p.publisher) LIKE {p} ESCAPE '\\'"));
    }
    (category, text.join(" AND "))
}

type SummaryRow = (i64, i64, String, String, i64, i64, String, String);

impl Store {
    /// The counted software matching a filter in the asked order: how many match, and the
    /// page. Counts are those of the last [`Store::refresh_software_counts`]; categories are
    /// read as they are now.
    pub async fn software_page(
        &self,
        filter: &SoftwareFilter,
        sort: SoftwareSort,
        desc: bool,
        page: Option<Page>,
    ) -> Result<(i64, Vec<SoftwareSummary>)> {
        let mut binds = Binds::default();
        let (category, text) = conditions(filter, &mut binds);
        let from = summary_from(&category, &text);
        let total: i64 = binds
            .apply_as(sqlx::query_as::<_, (i64,)>(&format!(
                "SELECT COUNT(*) FROM {from}"
            )))
            .fetch_one(&self.read_pool)
            .await?
            .0;
        let dir = if desc { "DESC" } else { "ASC" };
        let key = match sort {
            SoftwareSort::Name => format!("LOWER(n.name) {dir}, n.name {dir}"),
            SoftwareSort::Publisher => format!("LOWER(p.publisher) {dir}, LOWER(n.name)"),
            SoftwareSort::Versions => format!("g.versions {dir}, LOWER(n.name)"),
            SoftwareSort::Computers => format!("nc.computers {dir}, LOWER(n.name)"),
            SoftwareSort::Category => format!("g.first_category {dir}, LOWER(n.name)"),
        };
        let limit = limit_clause(page);
        let rows: Vec<SummaryRow> = binds
            .apply_as(sqlx::query_as(&format!(
                "SELECT nc.name_id, nc.publisher_id, n.name, p.publisher, g.versions, \
                 nc.computers, g.first_category, g.last_category FROM {from} \
                 ORDER BY {key}, nc.name_id, nc.publisher_id{limit}"
            )))
            .fetch_all(&self.read_pool)
            .await?;
        Ok((
            total,
            rows.into_iter()
                .map(|r| SoftwareSummary {
                    name_id: r.0,
                    publisher_id: r.1,
                    name: r.2,
                    publisher: r.3,
                    versions: r.4,
                    computers: r.5,
                    category: (r.6 == r.7).then_some(r.6),
                })
                .collect(),
        ))
    }

    /// A software's name (`None`: no such name ID).
    pub async fn software_name(&self, name_id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM software_name WHERE id = $1")
                .bind(name_id)
                .fetch_optional(&self.read_pool)
                .await?,
        )
    }

    /// Every publisher and version of a software name counted, with its computers (as of the
    /// last count) and category (as it is now; IGNORED ones included, marked by their
    /// category).
    pub async fn software_versions(&self, name_id: i64) -> Result<Vec<SoftwareVersionRow>> {
        type Row = (i64, String, i64, String, i64, i64, String, i64);
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT t.publisher_id, p.publisher, t.version_id, v.version, t.computers, \
             c.id, c.name, COALESCE(l.manual, 0) \
             FROM software_triple_counts t \
             JOIN software_publisher p ON p.id = t.publisher_id \
             JOIN software_version v ON v.id = t.version_id \
             LEFT JOIN software_category_links l ON l.name_id = t.name_id \
                 AND l.publisher_id = t.publisher_id AND l.version_id = t.version_id \
             JOIN software_categories c ON c.id = {ROW_CATEGORY} \
             WHERE t.name_id = $1 \
             ORDER BY LOWER(p.publisher), v.version, t.version_id"
        ))
        .bind(name_id)
        .fetch_all(&self.read_pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| SoftwareVersionRow {
                publisher_id: r.0,
                publisher: r.1,
                version_id: r.2,
                version: r.3,
                computers: r.4,
                category_id: r.5,
                category: r.6,
                manual: r.7 != 0,
            })
            .collect())
    }

    /// How many computers had a software name at the last count (a computer with it under
    /// two publishers counts twice).
    pub async fn software_name_computers(&self, name_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(computers), 0) AS BIGINT) FROM software_name_counts \
             WHERE name_id = $1",
        )
        .bind(name_id)
        .fetch_one(&self.read_pool)
        .await?)
    }

    /// The computers with a software name (optionally of one publisher and version), by
    /// computer name: how many, and the page.
    pub async fn software_computers(
        &self,
        name_id: i64,
        publisher_id: Option<i64>,
        version_id: Option<i64>,
        page: Option<Page>,
    ) -> Result<(i64, Vec<SoftwareComputer>)> {
        let mut binds = Binds::default();
        let mut inner = format!(
            "SELECT s.hardware_id FROM software s WHERE s.name_id = {}",
            binds.push(Bind::Int(name_id))
        );
        if let Some(p) = publisher_id {
            inner.push_str(&format!(
                " AND s.publisher_id = {}",
                binds.push(Bind::Int(p))
            ));
        }
        if let Some(v) = version_id {
            inner.push_str(&format!(" AND s.version_id = {}", binds.push(Bind::Int(v))));
        }
        let total: i64 = binds
            .apply_as(sqlx::query_as::<_, (i64,)>(&format!(
                "SELECT COUNT(*) FROM hardware h WHERE h.id IN ({inner})"
            )))
            .fetch_one(&self.read_pool)
            .await?
            .0;
        let limit = limit_clause(page);
        let rows: Vec<SoftwareComputer> = binds
            .apply_as(sqlx::query_as(&format!(
                "SELECT h.id, h.name, h.osname, h.userid, h.lastdate FROM hardware h \
                 WHERE h.id IN ({inner}) ORDER BY LOWER(h.name), h.id{limit}"
            )))
            .fetch_all(&self.read_pool)
            .await?;
        Ok((total, rows))
    }
}

// ROW_CATEGORY and FROM spell NEW's ID.
const _: () = assert!(NEW_CATEGORY == 1);
