//! Helpers shared by the SQL of every area: binding catalogue values, placeholders, chunking.

use ocs_proto::catalogue::{Field, FieldKind, Section};
use ocs_proto::Value;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::{Query, QueryAs};
use sqlx::{Any, Row};

use crate::Backend;

/// Most parameters put in one statement; well under SQLite's and PostgreSQL's limits.
pub const MAX_PARAMS: usize = 900;

pub type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Binds one catalogue value with the type its field has.
pub fn bind_value<'q>(q: AnyQuery<'q>, kind: FieldKind, value: &Value) -> AnyQuery<'q> {
    match (kind, value) {
        (FieldKind::Int, Value::Int(n)) => q.bind(Some(*n)),
        (FieldKind::Int, _) => q.bind(None::<i64>),
        (FieldKind::Text, Value::Text(s)) => q.bind(Some(s.clone())),
        (FieldKind::Text, Value::Int(n)) => q.bind(Some(n.to_string())),
        (FieldKind::Text, Value::Null) => q.bind(None::<String>),
    }
}

/// Reads one catalogue value from a row column.
pub fn read_value(row: &AnyRow, index: usize, kind: FieldKind) -> Result<Value, sqlx::Error> {
    Ok(match kind {
        FieldKind::Int => row
            .try_get::<Option<i64>, _>(index)?
            .map_or(Value::Null, Value::Int),
        FieldKind::Text => row
            .try_get::<Option<String>, _>(index)?
            .map_or(Value::Null, Value::Text),
    })
}

/// Reads the values of catalogue fields stored in consecutive columns from `offset` on.
pub fn read_fields(
    row: &AnyRow,
    fields: &[Field],
    offset: usize,
) -> Result<Vec<Value>, sqlx::Error> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| read_value(row, offset + i, f.kind))
        .collect()
}

/// Placeholders for `count` parameters numbered from `from`, for statements whose every
/// parameter comes from here. SQLite gets anonymous `?`: sqlx asks SQLite for each
/// parameter's name and SQLite finds `$N` names by a linear scan, which makes binding a
/// statement of hundreds of `$N` parameters quadratic (a quarter of ingestion time).
pub fn placeholders(backend: Backend, from: usize, count: usize) -> String {
    match backend {
        Backend::Sqlite => vec!["?"; count].join(", "),
        Backend::Postgres => (from..from + count)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The comma-separated column list of a section.
pub fn column_list(section: &Section) -> String {
    section
        .fields
        .iter()
        .map(|f| f.column)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO table (hardware_id, cols…) VALUES (…), (…)` for `rows` rows.
pub fn multi_insert(backend: Backend, section: &Section, table: &str, rows: usize) -> String {
    let width = section.fields.len() + 1;
    let values: Vec<String> = (0..rows)
        .map(|r| format!("({})", placeholders(backend, r * width + 1, width)))
        .collect();
    format!(
        "INSERT INTO {table} (hardware_id, {}) VALUES {}",
        column_list(section),
        values.join(", ")
    )
}

/// How many rows of `width` parameters fit in one statement.
pub fn rows_per_statement(width: usize) -> usize {
    (MAX_PARAMS / width.max(1)).max(1)
}

/// IDs bound in order (for an `IN (…)` of [`placeholders`]).
pub fn bind_ids<'q>(mut q: AnyQuery<'q>, ids: impl IntoIterator<Item = i64>) -> AnyQuery<'q> {
    for id in ids {
        q = q.bind(id);
    }
    q
}

/// A value bound to a statement built from its parts.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// Bound values, numbered as they are pushed.
#[derive(Debug, Default)]
pub(crate) struct Binds(pub(crate) Vec<Bind>);

impl Binds {
    /// Adds a value; returns its placeholder.
    pub(crate) fn push(&mut self, b: Bind) -> String {
        self.0.push(b);
        format!("${}", self.0.len())
    }

    /// The values bound to a typed query, in order.
    pub(crate) fn apply_as<'q, O>(
        &self,
        mut q: QueryAs<'q, Any, O, AnyArguments<'q>>,
    ) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
        for b in &self.0 {
            q = match b {
                Bind::Text(t) => q.bind(t.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }

    /// The values bound to a query, in order.
    pub(crate) fn apply<'q>(&self, mut q: AnyQuery<'q>) -> AnyQuery<'q> {
        for b in &self.0 {
            q = match b {
                Bind::Text(t) => q.bind(t.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }
}
