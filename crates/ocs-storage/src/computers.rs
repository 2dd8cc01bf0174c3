//! The console's computer lists: All computers, TAG repartition and multi-criteria search.
//!
//! Every column and every search field is an entry of a static allow-list; a request can only
//! pick entries by key, and values are always bound, never spliced into SQL. A page costs two
//! statements (count and rows) whatever the number of computers or criteria: multi-row
//! sections are matched with `EXISTS` / `IN` subqueries, not with joins that multiply rows.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::groups::GroupId;
use crate::hosts::{HostId, Page};
use crate::{Result, Store};

/// How a column's values are read and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Free text.
    Text,
    /// Whole number.
    Integer,
    /// Unix seconds, shown as a date.
    Date,
}

/// A column of the computer list.
#[derive(Debug, PartialEq, Eq)]
pub struct ListColumn {
    /// Stable key used in URLs and saved preferences.
    pub key: &'static str,
    /// SQL expression over `hardware h`, `accountinfo a` and `bios b`.
    sql: &'static str,
    /// Type of its values.
    pub kind: ValueKind,
}

const fn col(key: &'static str, sql: &'static str, kind: ValueKind) -> ListColumn {
    ListColumn { key, sql, kind }
}

/// Every built-in column, in the column chooser's order.
pub static LIST_COLUMNS: &[ListColumn] = &[
    col("name", "h.name", ValueKind::Text),
    col("userid", "h.userid", ValueKind::Text),
    col("os", "h.osname", ValueKind::Text),
    col("osversion", "h.osversion", ValueKind::Text),
    col("memory", "h.memory", ValueKind::Integer),
    col("cpu", "h.processort", ValueKind::Text),
    col("cpu_speed", "h.processors", ValueKind::Integer),
    col("cpu_count", "h.processorn", ValueKind::Integer),
    col("ipaddr", "h.ipaddr", ValueKind::Text),
    col("tag", "a.tag", ValueKind::Text),
    col("lastdate", "h.lastdate", ValueKind::Date),
    col("lastcome", "h.lastcome", ValueKind::Date),
    col("useragent", "h.useragent", ValueKind::Text),
    col("deviceid", "h.deviceid", ValueKind::Text),
    col("domain", "h.workgroup", ValueKind::Text),
    col("userdomain", "h.userdomain", ValueKind::Text),
    col("description", "h.description", ValueKind::Text),
    col("swap", "h.swap", ValueKind::Integer),
    col("arch", "h.arch", ValueKind::Text),
    col("uuid", "h.uuid", ValueKind::Text),
    col("dns", "h.dns", ValueKind::Text),
    col("gateway", "h.defaultgateway", ValueKind::Text),
    col("ipsrc", "h.ipsrc", ValueKind::Text),
    col("vmsystem", "h.vmsystem", ValueKind::Text),
    col("fidelity", "h.fidelity", ValueKind::Integer),
    col("sys_manufacturer", "b.smanufacturer", ValueKind::Text),
    col("sys_model", "b.smodel", ValueKind::Text),
    col("sys_serial", "b.ssn", ValueKind::Text),
    col("bios_manufacturer", "b.bmanufacturer", ValueKind::Text),
    col("bios_version", "b.bversion", ValueKind::Text),
    col("bios_date", "b.bdate", ValueKind::Text),
    col("assettag", "b.assettag", ValueKind::Text),
];

/// Looks a built-in column up by key.
pub fn list_column(key: &str) -> Option<&'static ListColumn> {
    LIST_COLUMNS.iter().find(|c| c.key == key)
}

/// A column picked for a list: built-in, or an administrative field (`fields_<id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// A built-in column.
    Builtin(&'static ListColumn),
    /// An administrative field by ID.
    AdminField(i64),
}

impl Column {
    pub(crate) fn sql(&self) -> String {
        match self {
            Column::Builtin(c) => c.sql.to_owned(),
            // The ID is a parsed integer, not request text.
            Column::AdminField(id) => format!(
                "(SELECT v.value FROM accountinfo_values v WHERE v.hardware_id = h.id AND v.field_id = {id})"
            ),
        }
    }

    /// Type of the column's values.
    pub fn kind(&self) -> ValueKind {
        match self {
            Column::Builtin(c) => c.kind,
            Column::AdminField(_) => ValueKind::Text,
        }
    }
}

/// Where a search field's values live.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A single-valued expression over `h`, `a`, `b`.
    Expr(&'static str),
    /// Some row of a section table (alias `x`, joined on `hardware_id`) has a matching column.
    AnyRow {
        table: &'static str,
        column: &'static str,
    },
    /// Some installed software has a matching name.
    Software,
    /// Some installed software is in a category with a matching name (no link: NEW).
    SoftwareCategory,
    /// A per-device setting's integer value.
    Setting(&'static str),
    /// Some package affected to the computer, as `FILEID:STATUS` (`WAITING` for NULL).
    Deployment,
}

/// A search field of the multi-criteria search.
#[derive(Debug, PartialEq, Eq)]
pub struct SearchField {
    /// Stable key used in URLs.
    pub key: &'static str,
    /// Type of its values.
    pub kind: ValueKind,
    target: Target,
}

const fn expr(key: &'static str, sql: &'static str, kind: ValueKind) -> SearchField {
    SearchField {
        key,
        kind,
        target: Target::Expr(sql),
    }
}

const fn any_row(
    key: &'static str,
    table: &'static str,
    column: &'static str,
    kind: ValueKind,
) -> SearchField {
    SearchField {
        key,
        kind,
        target: Target::AnyRow { table, column },
    }
}

/// Every built-in search field (the seed guide's list); administrative fields come on top.
pub static SEARCH_FIELDS: &[SearchField] = &[
    SearchField {
        key: "software",
        kind: ValueKind::Text,
        target: Target::Software,
    },
    SearchField {
        key: "software_category",
        kind: ValueKind::Text,
        target: Target::SoftwareCategory,
    },
    expr("name", "h.name", ValueKind::Text),
    expr("os", "h.osname", ValueKind::Text),
    expr("tag", "COALESCE(a.tag, 'NA')", ValueKind::Text),
    expr("userid", "h.userid", ValueKind::Text),
    any_row("ipaddr", "networks", "ipaddress", ValueKind::Text),
    any_row("macaddr", "networks", "macaddr", ValueKind::Text),
    any_row("netnumber", "networks", "ipsubnet", ValueKind::Text),
    expr("gateway", "h.defaultgateway", ValueKind::Text),
    expr("description", "h.description", ValueKind::Text),
    expr("domain", "h.workgroup", ValueKind::Text),
    expr("memory", "h.memory", ValueKind::Integer),
    expr("cpu_speed", "h.processors", ValueKind::Integer),
    any_row("free_disk", "drives", "free", ValueKind::Integer),
    expr("lastdate", "h.lastdate", ValueKind::Date),
    expr("lastcome", "h.lastcome", ValueKind::Date),
    expr("useragent", "h.useragent", ValueKind::Text),
    expr("bios_manufacturer", "b.bmanufacturer", ValueKind::Text),
    expr("bios_version", "b.bversion", ValueKind::Text),
    expr("sys_manufacturer", "b.smanufacturer", ValueKind::Text),
    expr("sys_model", "b.smodel", ValueKind::Text),
    expr("sys_serial", "b.ssn", ValueKind::Text),
    any_row("monitor_caption", "monitors", "caption", ValueKind::Text),
    any_row(
        "monitor_manufacturer",
        "monitors",
        "manufacturer",
        ValueKind::Text,
    ),
    any_row("monitor_serial", "monitors", "serial", ValueKind::Text),
    any_row("registry", "registry", "regvalue", ValueKind::Text),
    SearchField {
        key: "frequency",
        kind: ValueKind::Integer,
        target: Target::Setting("FREQUENCY"),
    },
    SearchField {
        key: "ipdiscover",
        kind: ValueKind::Integer,
        target: Target::Setting("IPDISCOVER"),
    },
    SearchField {
        key: "deployment",
        kind: ValueKind::Text,
        target: Target::Deployment,
    },
];

/// Looks a built-in search field up by key.
pub fn search_field(key: &str) -> Option<&'static SearchField> {
    SEARCH_FIELDS.iter().find(|f| f.key == key)
}

/// A comparison of the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Equal (text: case-insensitive, `*` is a wildcard).
    Equal,
    /// Not equal; for multi-valued fields, "no value equals".
    Different,
    /// Strictly smaller.
    Smaller,
    /// Strictly bigger.
    Bigger,
    /// Inclusive range.
    Between,
    /// Outside an inclusive range.
    OutOf,
}

/// A bound value of a criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CriterionValue {
    /// Text (already a `LIKE` pattern for text fields: see [`like_exact`]).
    Text(String),
    /// Number or Unix seconds.
    Integer(i64),
}

/// What a criterion is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriterionField {
    /// A built-in field.
    Builtin(&'static SearchField),
    /// An administrative field by ID; compared as text.
    AdminField(i64),
}

/// One criterion; `second` is set for BETWEEN and OUT OF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    /// The field.
    pub field: CriterionField,
    /// The comparison.
    pub op: Operator,
    /// The value.
    pub first: CriterionValue,
    /// The upper bound of a range.
    pub second: Option<CriterionValue>,
}

/// Turns user text into a case-insensitive `LIKE` pattern matching it exactly, `*` standing
/// for any run of characters.
pub fn like_exact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.to_lowercase().chars() {
        match ch {
            '\\' | '%' | '_' => {
                out.push('\\');
                out.push(ch);
            }
            '*' => out.push('%'),
            _ => out.push(ch),
        }
    }
    out
}

/// A list request: criteria (ANDed), columns, sort and page (`None`: every row, for CSV).
#[derive(Debug, Clone)]
pub struct ComputerQuery {
    /// Criteria, all of which must hold.
    pub criteria: Vec<Criterion>,
    /// Only the members of this group (computed or forced in, not forced out).
    pub group: Option<GroupId>,
    /// Columns to return, in order.
    pub columns: Vec<Column>,
    /// Sort column and direction (descending when true).
    pub sort: (Column, bool),
    /// Page, or everything.
    pub page: Option<Page>,
}

/// A value of a list cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// No value.
    Null,
    /// Text.
    Text(String),
    /// Number or Unix seconds (see the column's kind).
    Integer(i64),
}

/// One computer of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputerRow {
    /// The computer.
    pub id: HostId,
    /// One cell per requested column.
    pub cells: Vec<Cell>,
    /// It has per-computer settings overriding the server's options.
    pub customised: bool,
}

/// Per-device settings that count as "customised" in the list.
pub(crate) const CUSTOMISED_SETTINGS: &str = "'FREQUENCY', 'IPDISCOVER', 'DOWNLOAD_SWITCH', 'DOWNLOAD_CYCLE_LATENCY', 'DOWNLOAD_FRAG_LATENCY', 'DOWNLOAD_PERIOD_LATENCY', 'DOWNLOAD_PERIOD_LENGTH', 'DOWNLOAD_TIMEOUT', 'DOWNLOAD_EXECUTION_TIMEOUT', 'PROLOG_FREQ'";

/// Collects bound values while a statement is written.
#[derive(Default)]
struct Binds(Vec<CriterionValue>);

impl Binds {
    fn push(&mut self, v: &CriterionValue) -> String {
        self.0.push(v.clone());
        format!("${}", self.0.len())
    }
}

/// Where a criterion's comparison is evaluated.
enum Scope {
    /// On a single-valued expression of the computer.
    Single(String),
    /// On a column `expr` of rows selected by `from` (then closed by `close`), one of which
    /// must match.
    Exists {
        from: String,
        expr: String,
        close: &'static str,
    },
}

fn condition(c: &Criterion, binds: &mut Binds) -> String {
    let (kind, scope) = match c.field {
        CriterionField::Builtin(f) => (
            f.kind,
            match f.target {
                Target::Expr(e) => Scope::Single(e.to_owned()),
                Target::AnyRow { table, column } => Scope::Exists {
                    from: format!("{table} x WHERE x.hardware_id = h.id AND"),
                    expr: format!("x.{column}"),
                    close: "",
                },
                // Names are matched in the (small) dictionary, then each computer is one
                // seek in the (name_id, hardware_id) index. A correlated EXISTS lets a page
                // sorted by name stop after its rows, where an IN list would first gather
                // every computer having the software.
                Target::Software => Scope::Exists {
                    from: "software s WHERE s.hardware_id = h.id AND s.name_id IN (SELECT n.id FROM software_name n WHERE"
                        .to_owned(),
                    expr: "n.name".to_owned(),
                    close: ")",
                },
                Target::SoftwareCategory => Scope::Exists {
                    from: "software s LEFT JOIN software_category_links sl \
                           ON sl.name_id = s.name_id AND sl.publisher_id = s.publisher_id \
                           AND sl.version_id = s.version_id \
                           JOIN software_categories sc ON sc.id = COALESCE(sl.category_id, 1) \
                           WHERE s.hardware_id = h.id AND"
                        .to_owned(),
                    expr: "sc.name".to_owned(),
                    close: "",
                },
                Target::Setting(name) => Scope::Single(format!(
                    "(SELECT d.ivalue FROM devices d WHERE d.hardware_id = h.id AND d.name = '{name}')"
                )),
                Target::Deployment => Scope::Exists {
                    from: "devices x JOIN download_enable xe ON xe.id = x.ivalue \
                           WHERE x.hardware_id = h.id AND x.name = 'DOWNLOAD' AND"
                        .to_owned(),
                    expr: "xe.fileid || ':' || COALESCE(x.tvalue, 'WAITING')".to_owned(),
                    close: "",
                },
            },
        ),
        // The ID is a parsed integer, not request text.
        CriterionField::AdminField(id) => (
            ValueKind::Text,
            Scope::Exists {
                from: format!(
                    "accountinfo_values x WHERE x.hardware_id = h.id AND x.field_id = {id} AND"
                ),
                expr: "x.value".to_owned(),
                close: "",
            },
        ),
    };
    let mut compare = |e: &str| -> String {
        let lhs = if kind == ValueKind::Text {
            format!("LOWER({e})")
        } else {
            e.to_owned()
        };
        match c.op {
            Operator::Equal | Operator::Different if kind == ValueKind::Text => {
                format!("{lhs} LIKE {} ESCAPE '\\'", binds.push(&c.first))
            }
            Operator::Equal | Operator::Different => format!("{lhs} = {}", binds.push(&c.first)),
            Operator::Smaller => format!("{lhs} < {}", binds.push(&c.first)),
            Operator::Bigger => format!("{lhs} > {}", binds.push(&c.first)),
            Operator::Between | Operator::OutOf => {
                let low = binds.push(&c.first);
                let high = binds.push(c.second.as_ref().unwrap_or(&c.first));
                format!("{lhs} BETWEEN {low} AND {high}")
            }
        }
    };
    let negated = matches!(c.op, Operator::Different | Operator::OutOf);
    match (scope, negated) {
        // A missing value is "different" from anything.
        (Scope::Single(e), true) => format!("({e} IS NULL OR NOT ({}))", compare(&e)),
        (Scope::Single(e), false) => compare(&e),
        (Scope::Exists { from, expr, close }, negated) => format!(
            "{}EXISTS (SELECT 1 FROM {from} {}{close})",
            if negated { "NOT " } else { "" },
            compare(&expr)
        ),
    }
}

/// Whether SQL text refers to a table alias (`a.` or `b.` not inside another name).
fn uses_alias(sql: &str, alias: char) -> bool {
    let bytes = sql.as_bytes();
    bytes.windows(2).enumerate().any(|(i, w)| {
        w[0] == alias as u8
            && w[1] == b'.'
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'))
    })
}

/// The joins the statement's other parts need: they are on unique keys and never change the
/// rows, but each costs a lookup per computer.
pub(crate) fn joins(parts: &[&str]) -> String {
    let mut joins = String::new();
    if parts.iter().any(|p| uses_alias(p, 'a')) {
        joins.push_str(" LEFT JOIN accountinfo a ON a.hardware_id = h.id");
    }
    if parts.iter().any(|p| uses_alias(p, 'b')) {
        joins.push_str(" LEFT JOIN bios b ON b.hardware_id = h.id");
    }
    joins
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &Binds,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in &binds.0 {
        q = match b {
            CriterionValue::Text(s) => q.bind(s.clone()),
            CriterionValue::Integer(n) => q.bind(*n),
        };
    }
    q
}

pub(crate) fn read_row(
    row: &AnyRow,
    columns: &[Column],
) -> std::result::Result<ComputerRow, sqlx::Error> {
    let mut cells = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let index = i + 2;
        cells.push(match c.kind() {
            ValueKind::Text => row
                .try_get::<Option<String>, _>(index)?
                .map_or(Cell::Null, Cell::Text),
            ValueKind::Integer | ValueKind::Date => row
                .try_get::<Option<i64>, _>(index)?
                .map_or(Cell::Null, Cell::Integer),
        });
    }
    Ok(ComputerRow {
        id: HostId(row.try_get(0)?),
        customised: row.try_get::<i64, _>(1)? != 0,
        cells,
    })
}

/// The `WHERE` clause (or nothing) selecting the computers of `criteria` within `group`.
fn where_clause(criteria: &[Criterion], group: Option<GroupId>, binds: &mut Binds) -> String {
    let mut conditions: Vec<String> = criteria.iter().map(|c| condition(c, binds)).collect();
    if let Some(group) = group {
        conditions.push(format!(
            "h.id IN (SELECT gm.hardware_id FROM group_members gm WHERE gm.group_id = {} AND gm.static IN (0, 1))",
            binds.push(&CriterionValue::Integer(group.0))
        ));
    }
    if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    }
}

/// `FROM hardware h … [WHERE …]` selecting the computers of `criteria` within `group`, and
/// the values it binds (`$1`, `$2`, … in order): for the statements of other areas that
/// select what a search selects (dynamic groups), so there is one condition builder.
pub(crate) fn matching_from(
    criteria: &[Criterion],
    group: Option<GroupId>,
) -> (String, Vec<CriterionValue>) {
    let mut binds = Binds::default();
    let wh = where_clause(criteria, group, &mut binds);
    (format!("FROM hardware h{} {wh}", joins(&[&wh])), binds.0)
}

impl Store {
    /// The IDs of every computer matching `criteria` within `group`, in ID order: what a
    /// selection of "the whole result" of a list stands for.
    pub async fn matching_computer_ids(
        &self,
        criteria: &[Criterion],
        group: Option<GroupId>,
    ) -> Result<Vec<HostId>> {
        let mut binds = Binds::default();
        let wh = where_clause(criteria, group, &mut binds);
        let sql = format!(
            "SELECT h.id FROM hardware h{} {wh} ORDER BY h.id",
            joins(&[&wh])
        );
        let rows = bind_all(sqlx::query(&sql), &binds)
            .fetch_all(&self.read_pool)
            .await?;
        rows.iter().map(|r| Ok(HostId(r.try_get(0)?))).collect()
    }

    /// The computers matching a query, and how many match in all.
    pub async fn list_computers(&self, query: &ComputerQuery) -> Result<(i64, Vec<ComputerRow>)> {
        let mut binds = Binds::default();
        let wh = where_clause(&query.criteria, query.group, &mut binds);
        let count_sql = format!("SELECT COUNT(*) FROM hardware h{} {wh}", joins(&[&wh]));
        let total: i64 = bind_all(sqlx::query(&count_sql), &binds)
            .fetch_one(&self.read_pool)
            .await?
            .try_get(0)?;
        let select: Vec<String> = query.columns.iter().map(Column::sql).collect();
        let select = if select.is_empty() {
            String::new()
        } else {
            format!(", {}", select.join(", "))
        };
        let (sort, desc) = query.sort;
        let sort_sql = sort.sql();
        let dir = if desc { "DESC" } else { "ASC" };
        let order = format!("ORDER BY {sort_sql} {dir}, h.id {dir}");
        let head = format!(
            "SELECT h.id, CASE WHEN EXISTS (SELECT 1 FROM devices d WHERE d.hardware_id = h.id AND d.name IN ({CUSTOMISED_SETTINGS})) THEN 1 ELSE 0 END{select}"
        );
        let sql = match query.page {
            // The page's IDs are chosen first, so the columns are computed for its rows only,
            // not for every match before sorting.
            Some(page) => {
                let size = i64::from(page.size.max(1));
                let offset = i64::from(page.number.max(1) - 1) * size;
                format!(
                    "{head} FROM (SELECT h.id AS pid FROM hardware h{} {wh} {order} LIMIT {size} OFFSET {offset}) p \
                     JOIN hardware h ON h.id = p.pid{} {order}",
                    joins(&[&wh, &sort_sql]),
                    joins(&[&select, &sort_sql]),
                )
            }
            None => format!(
                "{head} FROM hardware h{} {wh} {order}",
                joins(&[&wh, &select, &sort_sql])
            ),
        };
        let rows = bind_all(sqlx::query(&sql), &binds)
            .fetch_all(&self.read_pool)
            .await?;
        let items = rows
            .iter()
            .map(|r| read_row(r, &query.columns))
            .collect::<std::result::Result<_, _>>()?;
        Ok((total, items))
    }

    /// Number of computers per TAG (`NA` for none), most populated first. Counting the
    /// `accountinfo` TAG index alone is an index scan; computers without administrative data
    /// are the difference with the total.
    pub async fn list_tag_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows: Vec<(Option<String>, i64)> =
            sqlx::query_as("SELECT tag, COUNT(*) FROM accountinfo GROUP BY tag")
                .fetch_all(&self.read_pool)
                .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hardware")
            .fetch_one(&self.read_pool)
            .await?;
        let mut by_tag = std::collections::BTreeMap::new();
        for (tag, n) in rows {
            *by_tag
                .entry(tag.unwrap_or_else(|| "NA".to_owned()))
                .or_insert(0) += n;
        }
        let without = total - by_tag.values().sum::<i64>();
        if without > 0 {
            *by_tag.entry("NA".to_owned()).or_insert(0) += without;
        }
        let mut counts: Vec<(String, i64)> = by_tag.into_iter().collect();
        counts.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    fn builtin(key: &str) -> Column {
        Column::Builtin(list_column(key).unwrap())
    }

    #[test]
    fn joins_follow_aliases() {
        assert_eq!(joins(&["WHERE h.name = $1"]), "");
        assert!(joins(&["", "COALESCE(a.tag, 'NA')"]).contains("accountinfo a"));
        assert!(!joins(&["(SELECT v.value FROM accountinfo_values v)"]).contains("JOIN"));
        assert!(joins(&["b.ssn"]).contains("bios b"));
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_exact("Fire*Fox 10%_"), "fire%fox 10\\%\\_");
    }

    #[tokio::test]
    async fn criteria_select_the_right_computers() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        let mut ids = Vec::new();
        for (i, (name, os, mem)) in [("alpha", "Debian", 2048), ("beta", "Windows", 8192)]
            .iter()
            .enumerate()
        {
            let id = tx.insert_host(&format!("{name}-2024")).await.unwrap();
            sqlx::query("UPDATE hardware SET name = $1, osname = $2, memory = $3 WHERE id = $4")
                .bind(*name)
                .bind(*os)
                .bind(*mem)
                .bind(id.0)
                .execute(tx.conn())
                .await
                .unwrap();
            sqlx::query("INSERT INTO networks (hardware_id, ipaddress) VALUES ($1, $2)")
                .bind(id.0)
                .bind(format!("10.0.0.{i}"))
                .execute(tx.conn())
                .await
                .unwrap();
            ids.push(id);
        }
        tx.commit().await.unwrap();
        let run = |criteria: Vec<Criterion>| {
            let store = store.clone();
            async move {
                let q = ComputerQuery {
                    criteria,
                    group: None,
                    columns: vec![builtin("name"), builtin("memory")],
                    sort: (builtin("name"), false),
                    page: Some(Page {
                        number: 1,
                        size: 10,
                    }),
                };
                let (total, rows) = store.list_computers(&q).await.unwrap();
                assert_eq!(total as usize, rows.len());
                rows.into_iter().map(|r| r.id).collect::<Vec<_>>()
            }
        };
        let text = |key: &str, op, v: &str| Criterion {
            field: CriterionField::Builtin(search_field(key).unwrap()),
            op,
            first: CriterionValue::Text(like_exact(v)),
            second: None,
        };
        let int = |key: &str, op, a: i64, b: Option<i64>| Criterion {
            field: CriterionField::Builtin(search_field(key).unwrap()),
            op,
            first: CriterionValue::Integer(a),
            second: b.map(CriterionValue::Integer),
        };
        assert_eq!(run(vec![]).await, ids);
        assert_eq!(
            run(vec![text("os", Operator::Equal, "debian")]).await,
            [ids[0]]
        );
        assert_eq!(
            run(vec![text("os", Operator::Different, "debian")]).await,
            [ids[1]]
        );
        assert_eq!(
            run(vec![text("name", Operator::Equal, "*ta")]).await,
            [ids[1]]
        );
        assert_eq!(
            run(vec![int("memory", Operator::Bigger, 4096, None)]).await,
            [ids[1]]
        );
        assert_eq!(
            run(vec![int("memory", Operator::Between, 1000, Some(3000))]).await,
            [ids[0]]
        );
        assert_eq!(
            run(vec![int("memory", Operator::OutOf, 1000, Some(3000))]).await,
            [ids[1]]
        );
        assert_eq!(
            run(vec![text("ipaddr", Operator::Equal, "10.0.0.1")]).await,
            [ids[1]]
        );
        assert_eq!(
            run(vec![text("ipaddr", Operator::Different, "10.0.0.1")]).await,
            [ids[0]]
        );
        assert_eq!(run(vec![text("software", Operator::Equal, "x")]).await, []);
        // Injection attempts are just values.
        assert_eq!(
            run(vec![text("name", Operator::Equal, "' OR 1=1 --")]).await,
            []
        );
        assert_eq!(
            store.list_tag_counts().await.unwrap(),
            vec![("NA".to_owned(), 2)]
        );
    }
}
