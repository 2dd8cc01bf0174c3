//! Reads for the original's REST API (`/ocsapi/v1`): rows as the original's tables hold them,
//! with its column names (upper case) and its value types, so that scripts written against
//! it read ours unchanged.
//!
//! Every table and column name in the SQL here comes from the catalogue or from the fixed
//! lists below; a request only ever picks one of them by name, and its values are bound.

use ocs_proto::catalogue::{self, FieldKind, Section, Storage};
use ocs_proto::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::sql::{Bind, Binds};
use crate::{Result, Store, StoreError};

/// One row, `(COLUMN, value)` in the original's column order.
pub type RawRow = Vec<(String, Value)>;

/// How a column's value is read and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    /// A JSON number.
    Int,
    /// A JSON string.
    Text,
    /// A decimal number (the original's `QUALITY`), shown as a string as MySQL gives it.
    Decimal,
    /// Unix seconds stored, `YYYY-MM-DD hh:mm:ss` (UTC) shown, as a MySQL `DATETIME`.
    DateTime,
}

/// One column of a raw table: its original name and where ours keeps it.
#[derive(Debug, Clone)]
pub struct RawColumn {
    /// The original's column name.
    pub name: String,
    /// Our SQL expression for it (a column name or a constant), never request text.
    expr: String,
    /// How it is read.
    pub kind: RawKind,
}

fn col(name: &str, expr: &str, kind: RawKind) -> RawColumn {
    RawColumn {
        name: name.to_owned(),
        expr: expr.to_owned(),
        kind,
    }
}

/// The original's `hardware` columns, in its order; the three it has and we do not
/// (`ETIME`, `SSTATE`, `CATEGORY_ID`) read as it leaves them on a fresh install.
fn hardware_columns() -> Vec<RawColumn> {
    use RawKind::*;
    let spec: &[(&str, &str, RawKind)] = &[
        ("ID", "h.id", Int),
        ("DEVICEID", "h.deviceid", Text),
        ("NAME", "h.name", Text),
        ("WORKGROUP", "h.workgroup", Text),
        ("USERDOMAIN", "h.userdomain", Text),
        ("OSNAME", "h.osname", Text),
        ("OSVERSION", "h.osversion", Text),
        ("OSCOMMENTS", "h.oscomments", Text),
        ("PROCESSORT", "h.processort", Text),
        ("PROCESSORS", "h.processors", Int),
        ("PROCESSORN", "h.processorn", Int),
        ("MEMORY", "h.memory", Int),
        ("SWAP", "h.swap", Int),
        ("IPADDR", "h.ipaddr", Text),
        ("DNS", "h.dns", Text),
        ("DEFAULTGATEWAY", "h.defaultgateway", Text),
        ("ETIME", "NULL", DateTime),
        ("LASTDATE", "h.lastdate", DateTime),
        ("LASTCOME", "h.lastcome", DateTime),
        ("QUALITY", "h.quality", Decimal),
        ("FIDELITY", "h.fidelity", Int),
        ("USERID", "h.userid", Text),
        ("TYPE", "h.type", Int),
        ("DESCRIPTION", "h.description", Text),
        ("WINCOMPANY", "h.wincompany", Text),
        ("WINOWNER", "h.winowner", Text),
        ("WINPRODID", "h.winprodid", Text),
        ("WINPRODKEY", "h.winprodkey", Text),
        ("USERAGENT", "h.useragent", Text),
        ("CHECKSUM", "h.checksum", Int),
        ("SSTATE", "0", Int),
        ("IPSRC", "h.ipsrc", Text),
        ("UUID", "h.uuid", Text),
        ("ARCH", "h.arch", Text),
        ("CATEGORY_ID", "NULL", Int),
        ("ARCHIVE", "h.archive", Int),
    ];
    spec.iter().map(|(n, e, k)| col(n, e, *k)).collect()
}

/// A per-computer table of the original, as `/ocsapi/v1/computer/{id}` shows it.
#[derive(Debug, Clone)]
pub struct RawTable {
    /// The original's table name (the JSON key).
    pub name: &'static str,
    /// Our table, `None` for the original's tables we have no data for (always empty).
    from: Option<&'static str>,
    /// Its columns.
    pub columns: Vec<RawColumn>,
}

impl RawTable {
    fn section(section: &'static Section) -> RawTable {
        let mut columns = Vec::new();
        if section.storage != Storage::Single {
            columns.push(col("ID", "t.id", RawKind::Int));
        }
        columns.push(col("HARDWARE_ID", "t.hardware_id", RawKind::Int));
        for f in section.fields {
            let kind = match f.kind {
                FieldKind::Int => RawKind::Int,
                FieldKind::Text => RawKind::Text,
            };
            columns.push(col(&f.column.to_uppercase(), &format!("t.{}", f.column), kind));
        }
        RawTable {
            name: section.table,
            from: Some(section.table),
            columns,
        }
    }

    fn fixed(
        name: &'static str,
        from: Option<&'static str>,
        spec: &[(&str, &str, RawKind)],
    ) -> RawTable {
        RawTable {
            name,
            from,
            columns: spec.iter().map(|(n, e, k)| col(n, e, *k)).collect(),
        }
    }

    /// The column of that name (any case).
    pub fn column(&self, name: &str) -> Option<&RawColumn> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// The per-computer tables the original's API shows besides `hardware` and its software:
/// every catalogue section, the administrative data, the per-computer settings, the
/// deployment history, the group memberships, and the two tables of the original we keep
/// nothing in (`itmgmt_comments`, `unixusers`), present so that a script finds its key.
pub fn raw_tables() -> Vec<RawTable> {
    use RawKind::*;
    let mut tables: Vec<RawTable> = catalogue::SECTIONS
        .iter()
        .map(RawTable::section)
        .collect();
    tables.push(RawTable::fixed(
        "devices",
        Some("devices"),
        &[
            ("ID", "t.id", Int),
            ("HARDWARE_ID", "t.hardware_id", Int),
            ("NAME", "t.name", Text),
            ("IVALUE", "t.ivalue", Int),
            ("TVALUE", "t.tvalue", Text),
            ("COMMENTS", "t.comments", Text),
        ],
    ));
    tables.push(RawTable::fixed(
        "download_history",
        Some("download_history"),
        &[
            ("HARDWARE_ID", "t.hardware_id", Int),
            ("PKG_ID", "t.pkg_id", Text),
            ("PKG_NAME", "t.pkg_name", Text),
        ],
    ));
    tables.push(RawTable::fixed(
        "groups_cache",
        Some("group_members"),
        &[
            ("HARDWARE_ID", "t.hardware_id", Int),
            ("GROUP_ID", "t.group_id", Int),
            ("STATIC", "t.static", Int),
        ],
    ));
    tables.push(RawTable::fixed(
        "itmgmt_comments",
        None,
        &[
            ("ID", "", Int),
            ("HARDWARE_ID", "", Int),
            ("COMMENTS", "", Text),
            ("USER_INSERT", "", Text),
            ("DATE_INSERT", "", Text),
            ("ACTION", "", Text),
            ("VISIBLE", "", Int),
        ],
    ));
    tables.push(RawTable::fixed(
        "unixusers",
        None,
        &[("ID", "", Int), ("HARDWARE_ID", "", Int)],
    ));
    tables.sort_by_key(|t| t.name);
    tables
}

/// The raw table of that name, `accountinfo` and the software list excepted (they have
/// their own reads).
pub fn raw_table(name: &str) -> Option<RawTable> {
    raw_tables().into_iter().find(|t| t.name == name)
}

/// A comparison operator of the original's `operator` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawOperator {
    /// `=`
    Eq,
    /// `!=` or `<>`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `like`: the value anywhere in the column.
    Like,
    /// `not like`
    NotLike,
}

impl RawOperator {
    /// Reads the original's spelling of an operator.
    pub fn parse(text: &str) -> Option<RawOperator> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "=" => RawOperator::Eq,
            "!=" | "<>" => RawOperator::Ne,
            "<" => RawOperator::Lt,
            ">" => RawOperator::Gt,
            "<=" => RawOperator::Le,
            ">=" => RawOperator::Ge,
            "like" => RawOperator::Like,
            "not like" => RawOperator::NotLike,
            _ => return None,
        })
    }

    fn sql(self) -> &'static str {
        match self {
            RawOperator::Eq => "=",
            RawOperator::Ne => "<>",
            RawOperator::Lt => "<",
            RawOperator::Gt => ">",
            RawOperator::Le => "<=",
            RawOperator::Ge => ">=",
            RawOperator::Like => "LIKE",
            RawOperator::NotLike => "NOT LIKE",
        }
    }
}

/// A `where`/`operator`/`value` filter on one column of a table.
#[derive(Debug, Clone)]
pub struct RawCondition {
    /// The column, as named by the original (any case).
    pub column: String,
    /// The comparison.
    pub operator: RawOperator,
    /// The value compared with.
    pub value: String,
}

/// The SQL of a condition on `column`, its value pushed to `binds`; a refusal names what is
/// wrong with it.
fn condition_sql(column: &RawColumn, cond: &RawCondition, binds: &mut Binds) -> Result<String> {
    let like = matches!(cond.operator, RawOperator::Like | RawOperator::NotLike);
    match (column.kind, like) {
        (_, true) => {
            let value = format!("%{}%", escape_like(&cond.value));
            let p = binds.push(Bind::Text(value));
            Ok(format!(
                "CAST({} AS TEXT) {} {p} ESCAPE '\\'",
                column.expr,
                cond.operator.sql()
            ))
        }
        (RawKind::Int | RawKind::DateTime, false) => {
            let n: i64 = cond.value.trim().parse().map_err(|_| {
                StoreError::Invalid(format!(
                    "column {} holds numbers; {:?} is not one",
                    column.name, cond.value
                ))
            })?;
            let p = binds.push(Bind::Int(n));
            Ok(format!("{} {} {p}", column.expr, cond.operator.sql()))
        }
        (RawKind::Text | RawKind::Decimal, false) => {
            let p = binds.push(Bind::Text(cond.value.clone()));
            Ok(format!(
                "CAST({} AS TEXT) {} {p}",
                column.expr,
                cond.operator.sql()
            ))
        }
    }
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `YYYY-MM-DD hh:mm:ss` (UTC) of Unix seconds.
fn datetime(secs: i64) -> Value {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .map_or(Value::Null, Value::Text)
}

fn read_raw(row: &AnyRow, columns: &[RawColumn], offset: usize) -> Result<RawRow> {
    let mut out = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let index = offset + i;
        let value = match c.kind {
            RawKind::Int => row
                .try_get::<Option<i64>, _>(index)?
                .map_or(Value::Null, Value::Int),
            RawKind::Text => row
                .try_get::<Option<String>, _>(index)?
                .map_or(Value::Null, Value::Text),
            RawKind::Decimal => row
                .try_get::<Option<f64>, _>(index)?
                .map_or(Value::Null, |q| Value::Text(format!("{q:.4}"))),
            RawKind::DateTime => row
                .try_get::<Option<i64>, _>(index)?
                .map_or(Value::Null, datetime),
        };
        out.push((c.name.clone(), value));
    }
    Ok(out)
}

/// `expr AS cN` for each column, typed so that both databases give the reader what it asks.
fn select_list(columns: &[RawColumn]) -> String {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| match (c.expr.as_str(), c.kind) {
            ("NULL", RawKind::Text) => format!("CAST(NULL AS TEXT) AS c{i}"),
            ("NULL", _) => format!("CAST(NULL AS BIGINT) AS c{i}"),
            (e, RawKind::Int | RawKind::DateTime) if e.parse::<i64>().is_ok() => {
                format!("CAST({e} AS BIGINT) AS c{i}")
            }
            (e, _) => format!("{e} AS c{i}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which computers a hardware read selects.
#[derive(Debug, Clone, Copy)]
pub enum RawSelection<'a> {
    /// These IDs, in ID order.
    Ids(&'a [i64]),
    /// `limit` rows from `start`, in ID order.
    Page {
        /// Rows skipped.
        start: i64,
        /// Rows returned.
        limit: i64,
    },
}

/// What `/ocsapi/v1/computers/search` asks: hardware columns equal to values (`None`: IS
/// NULL), an order, a page.
#[derive(Debug, Clone, Default)]
pub struct RawSearch {
    /// `(COLUMN, value)` pairs, all of which must hold.
    pub equals: Vec<(String, Option<String>)>,
    /// The column to sort by and whether descending.
    pub order_by: Option<(String, bool)>,
    /// Rows skipped.
    pub start: i64,
    /// Rows returned at most.
    pub limit: i64,
}

/// The chunk of IDs one statement reads.
const IDS_PER_READ: usize = 500;

impl Store {
    /// Every computer's ID, in ID order.
    pub async fn ocsapi_ids(&self) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM hardware ORDER BY id")
            .fetch_all(&self.read_pool)
            .await?)
    }

    /// Hardware rows, in the original's columns.
    pub async fn ocsapi_hardware(&self, selection: RawSelection<'_>) -> Result<Vec<RawRow>> {
        let columns = hardware_columns();
        let list = select_list(&columns);
        let mut out = Vec::new();
        match selection {
            RawSelection::Ids(ids) => {
                for chunk in ids.chunks(IDS_PER_READ) {
                    let mut binds = Binds::default();
                    let ps: Vec<String> =
                        chunk.iter().map(|id| binds.push(Bind::Int(*id))).collect();
                    let sql = format!(
                        "SELECT {list} FROM hardware h WHERE h.id IN ({}) ORDER BY h.id",
                        ps.join(", ")
                    );
                    for row in binds.apply(sqlx::query(&sql)).fetch_all(&self.read_pool).await? {
                        out.push(read_raw(&row, &columns, 0)?);
                    }
                }
            }
            RawSelection::Page { start, limit } => {
                let sql =
                    format!("SELECT {list} FROM hardware h ORDER BY h.id LIMIT $1 OFFSET $2");
                for row in sqlx::query(&sql)
                    .bind(limit)
                    .bind(start)
                    .fetch_all(&self.read_pool)
                    .await?
                {
                    out.push(read_raw(&row, &columns, 0)?);
                }
            }
        }
        Ok(out)
    }

    /// The rows of a raw table for these computers, `(hardware ID, row)`, in ID order.
    pub async fn ocsapi_rows(
        &self,
        table: &RawTable,
        ids: &[i64],
        condition: Option<&RawCondition>,
    ) -> Result<Vec<(i64, RawRow)>> {
        let Some(from) = table.from else {
            return Ok(Vec::new());
        };
        let filter = match condition {
            None => None,
            Some(c) => Some((
                table.column(&c.column).ok_or_else(|| {
                    StoreError::Invalid(format!("table {} has no column {:?}", table.name, c.column))
                })?,
                c,
            )),
        };
        let list = select_list(&table.columns);
        let order = if table.columns.iter().any(|c| c.name == "ID") {
            "t.hardware_id, t.id"
        } else {
            "t.hardware_id"
        };
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_READ) {
            let mut binds = Binds::default();
            let ps: Vec<String> = chunk.iter().map(|id| binds.push(Bind::Int(*id))).collect();
            let mut sql = format!(
                "SELECT t.hardware_id, {list} FROM {from} t WHERE t.hardware_id IN ({})",
                ps.join(", ")
            );
            if let Some((column, c)) = filter {
                sql.push_str(" AND ");
                sql.push_str(&condition_sql(column, c, &mut binds)?);
            }
            sql.push_str(&format!(" ORDER BY {order}"));
            for row in binds.apply(sqlx::query(&sql)).fetch_all(&self.read_pool).await? {
                let id: i64 = row.try_get(0)?;
                out.push((id, read_raw(&row, &table.columns, 1)?));
            }
        }
        Ok(out)
    }

    /// The administrative data of these computers: `HARDWARE_ID`, `TAG` and one
    /// `fields_<n>` per defined field, as the original's `accountinfo` row.
    pub async fn ocsapi_accountinfo(&self, ids: &[i64]) -> Result<Vec<(i64, RawRow)>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let entries = self.accountinfo_of(crate::HostId(*id)).await?;
            let mut row: RawRow = vec![("HARDWARE_ID".to_owned(), Value::Int(*id))];
            row.extend(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, v.map_or(Value::Null, Value::Text))),
            );
            out.push((*id, row));
        }
        Ok(out)
    }

    /// The software of these computers joined with the dictionaries, in the original's
    /// columns (the raw `software` row, then `NAME`, `PUBLISHER`, `VERSION`, the category).
    pub async fn ocsapi_software(
        &self,
        ids: &[i64],
        condition: Option<&RawCondition>,
    ) -> Result<Vec<(i64, RawRow)>> {
        use RawKind::*;
        let spec: &[(&str, &str, RawKind)] = &[
            ("ID", "s.id", Int),
            ("HARDWARE_ID", "s.hardware_id", Int),
            ("NAME_ID", "s.name_id", Int),
            ("PUBLISHER_ID", "s.publisher_id", Int),
            ("VERSION_ID", "s.version_id", Int),
            ("FOLDER", "s.folder", Text),
            ("COMMENTS", "s.comments", Text),
            ("FILENAME", "s.filename", Text),
            ("FILESIZE", "s.filesize", Int),
            ("SOURCE", "s.source", Int),
            ("GUID", "s.guid", Text),
            ("LANGUAGE", "s.language", Text),
            ("INSTALLDATE", "s.installdate", Text),
            ("BITSWIDTH", "s.bitswidth", Int),
            ("ARCHITECTURE", "s.architecture", Text),
            ("NAME", "n.name", Text),
            ("PUBLISHER", "p.publisher", Text),
            ("VERSION", "v.version", Text),
            ("CATEGORY", "l.category_id", Int),
            ("CATEGORY_NAME", "c.name", Text),
            ("OS", "NULL", Text),
        ];
        let columns: Vec<RawColumn> = spec.iter().map(|(n, e, k)| col(n, e, *k)).collect();
        let filter = match condition {
            None => None,
            Some(c) => Some((
                columns
                    .iter()
                    .find(|col| col.name.eq_ignore_ascii_case(&c.column))
                    .ok_or_else(|| {
                        StoreError::Invalid(format!("the software list has no column {:?}", c.column))
                    })?,
                c,
            )),
        };
        let list = select_list(&columns);
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_READ) {
            let mut binds = Binds::default();
            let ps: Vec<String> = chunk.iter().map(|id| binds.push(Bind::Int(*id))).collect();
            let mut sql = format!(
                "SELECT s.hardware_id, {list} FROM software s \
                 JOIN software_name n ON n.id = s.name_id \
                 JOIN software_publisher p ON p.id = s.publisher_id \
                 JOIN software_version v ON v.id = s.version_id \
                 LEFT JOIN software_category_links l ON l.name_id = s.name_id \
                     AND l.publisher_id = s.publisher_id AND l.version_id = s.version_id \
                 LEFT JOIN software_categories c ON c.id = l.category_id \
                 WHERE s.hardware_id IN ({})",
                ps.join(", ")
            );
            if let Some((column, c)) = filter {
                sql.push_str(" AND ");
                sql.push_str(&condition_sql(column, c, &mut binds)?);
            }
            sql.push_str(" ORDER BY s.hardware_id, s.id");
            for row in binds.apply(sqlx::query(&sql)).fetch_all(&self.read_pool).await? {
                let id: i64 = row.try_get(0)?;
                out.push((id, read_raw(&row, &columns, 1)?));
            }
        }
        Ok(out)
    }

    /// IDs of the computers whose last inventory is later than `since` (Unix seconds).
    pub async fn ocsapi_updated_since(&self, since: i64) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM hardware WHERE lastdate > $1 ORDER BY id")
                .bind(since)
                .fetch_all(&self.read_pool)
                .await?,
        )
    }

    /// IDs of the computers whose hardware columns have the given values.
    pub async fn ocsapi_search(&self, search: &RawSearch) -> Result<Vec<i64>> {
        let columns = hardware_columns();
        let find = |name: &str| {
            columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| StoreError::Invalid(format!("hardware has no column {name:?}")))
        };
        let mut binds = Binds::default();
        let mut clauses = Vec::new();
        for (name, value) in &search.equals {
            let column = find(name)?;
            clauses.push(match value {
                None => format!("{} IS NULL", column.expr),
                Some(v) => condition_sql(
                    column,
                    &RawCondition {
                        column: name.clone(),
                        operator: RawOperator::Eq,
                        value: v.clone(),
                    },
                    &mut binds,
                )?,
            });
        }
        let mut sql = "SELECT h.id FROM hardware h".to_owned();
        if !clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&clauses.join(" AND "));
        }
        match &search.order_by {
            Some((name, desc)) => {
                let column = find(name)?;
                sql.push_str(&format!(
                    " ORDER BY {} {}, h.id",
                    column.expr,
                    if *desc { "DESC" } else { "ASC" }
                ));
            }
            None => sql.push_str(" ORDER BY h.id"),
        }
        let limit = binds.push(Bind::Int(search.limit));
        let offset = binds.push(Bind::Int(search.start));
        sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
        Ok(binds
            .apply_as(sqlx::query_as::<_, (i64,)>(&sql))
            .fetch_all(&self.read_pool)
            .await?
            .into_iter()
            .map(|(id,)| id)
            .collect())
    }

    /// Distinct `(NAME, PUBLISHER, VERSION)` of the fleet's software, names starting with
    /// `prefix` when given, in name order.
    pub async fn ocsapi_softwares(
        &self,
        prefix: Option<&str>,
        start: i64,
        limit: i64,
    ) -> Result<Vec<(String, String, String)>> {
        let mut binds = Binds::default();
        let mut sql = "SELECT n.name, p.publisher, v.version FROM \
             (SELECT DISTINCT name_id, publisher_id, version_id FROM software) s \
             JOIN software_name n ON n.id = s.name_id \
             JOIN software_publisher p ON p.id = s.publisher_id \
             JOIN software_version v ON v.id = s.version_id"
            .to_owned();
        if let Some(prefix) = prefix {
            let p = binds.push(Bind::Text(format!("{}%", escape_like(prefix))));
            sql.push_str(&format!(" WHERE n.name LIKE {p} ESCAPE '\\'"));
        }
        let l = binds.push(Bind::Int(limit));
        let o = binds.push(Bind::Int(start));
        sql.push_str(&format!(
            " ORDER BY n.name, p.publisher, v.version LIMIT {l} OFFSET {o}"
        ));
        Ok(binds
            .apply_as(sqlx::query_as(&sql))
            .fetch_all(&self.read_pool)
            .await?)
    }

    /// The network IDs IP discovery has seen, in order.
    pub async fn ocsapi_netids(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT netid FROM netmap WHERE netid IS NOT NULL ORDER BY netid",
        )
        .fetch_all(&self.read_pool)
        .await?)
    }

    /// `netmap` rows (`IP, MAC, MASK, NETID, DATE, NAME, TAG`) of one network or one TAG.
    pub async fn ocsapi_netmap(&self, by_tag: bool, key: &str) -> Result<Vec<RawRow>> {
        use RawKind::*;
        let columns: Vec<RawColumn> = [
            ("IP", "ip", Text),
            ("MAC", "mac", Text),
            ("MASK", "mask", Text),
            ("NETID", "netid", Text),
            ("DATE", "date", DateTime),
            ("NAME", "name", Text),
            ("TAG", "tag", Text),
        ]
        .iter()
        .map(|(n, e, k)| col(n, e, *k))
        .collect();
        let filter = if by_tag { "tag" } else { "netid" };
        let sql = format!(
            "SELECT {} FROM netmap WHERE {filter} = $1 ORDER BY ip, mac",
            select_list(&columns)
        );
        let rows = sqlx::query(&sql)
            .bind(key.to_owned())
            .fetch_all(&self.read_pool)
            .await?;
        rows.iter().map(|r| read_raw(r, &columns, 0)).collect()
    }

    /// The devices of one SNMP type table, `ID` then one column per stored label, `limit`
    /// of them from `start` (or only device `id`), in ID order.
    pub async fn ocsapi_snmp_devices(
        &self,
        type_table: &str,
        id: Option<i64>,
        start: i64,
        limit: i64,
    ) -> Result<Vec<RawRow>> {
        let devices: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, last_seen FROM snmp_devices WHERE type_table = $1 AND ($2 = 0 OR id = $3) \
             ORDER BY id LIMIT $4 OFFSET $5",
        )
        .bind(type_table.to_owned())
        .bind(i64::from(id.is_some()))
        .bind(id.unwrap_or(0))
        .bind(limit)
        .bind(start)
        .fetch_all(&self.read_pool)
        .await?;
        let mut out = Vec::with_capacity(devices.len());
        for (device, last_seen) in devices {
            let values: Vec<(String, Option<String>)> = sqlx::query_as(
                "SELECT label, value FROM snmp_device_values WHERE device_id = $1 ORDER BY label",
            )
            .bind(device)
            .fetch_all(&self.read_pool)
            .await?;
            let mut row: RawRow = vec![
                ("ID".to_owned(), Value::Int(device)),
                ("LASTDATE".to_owned(), datetime(last_seen)),
            ];
            row.extend(
                values
                    .into_iter()
                    .map(|(label, v)| (label, v.map_or(Value::Null, Value::Text))),
            );
            out.push(row);
        }
        Ok(out)
    }

    /// The SNMP types, numbered in name order as the original's `snmp_types` IDs.
    pub async fn ocsapi_snmp_types(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT table_name, type_name FROM snmp_types ORDER BY table_name",
        )
        .fetch_all(&self.read_pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_are_the_originals() {
        for (text, op) in [
            ("=", RawOperator::Eq),
            ("!=", RawOperator::Ne),
            ("<>", RawOperator::Ne),
            ("like", RawOperator::Like),
            ("NOT LIKE", RawOperator::NotLike),
            (">=", RawOperator::Ge),
        ] {
            assert_eq!(RawOperator::parse(text), Some(op));
        }
        assert_eq!(RawOperator::parse("; DROP TABLE hardware"), None);
    }

    #[test]
    fn raw_tables_take_names_from_the_catalogue_only() {
        let tables = raw_tables();
        let networks = tables.iter().find(|t| t.name == "networks").unwrap();
        assert_eq!(networks.columns[0].name, "ID");
        assert_eq!(networks.columns[1].name, "HARDWARE_ID");
        assert!(networks.column("macaddr").is_some());
        let bios = raw_table("bios").unwrap();
        assert_eq!(bios.columns[0].name, "HARDWARE_ID", "one row per computer: no ID");
        assert!(raw_table("hardware; --").is_none());
        assert!(tables.iter().any(|t| t.name == "groups_cache"));
    }

    #[test]
    fn like_values_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn datetimes_read_as_mysql_prints_them() {
        assert_eq!(
            datetime(1_700_000_000),
            Value::Text("2023-11-14 22:13:20".into())
        );
    }
}
