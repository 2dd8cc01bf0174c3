//! Change history: what each inventory or edit changed on a computer, one row per row of a
//! section added, removed or changed, read back as a computer's timeline or the fleet's feed
//! of recent changes, and dropped past the retention period.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::hosts::{HostId, Page};
use crate::sql::{placeholders, Bind, Binds, MAX_PARAMS};
use crate::{Result, Store, StoreError, WriteTx};

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeAction {
    /// The row appeared.
    Added,
    /// The row disappeared.
    Removed,
    /// The same row with other values.
    Changed,
    /// The computer's first inventory (its rows are not listed one by one).
    Created,
}

impl ChangeAction {
    /// Every action, in the order filters list them.
    pub const ALL: [ChangeAction; 4] = [
        ChangeAction::Added,
        ChangeAction::Removed,
        ChangeAction::Changed,
        ChangeAction::Created,
    ];

    /// Stored and URL name.
    pub fn name(self) -> &'static str {
        match self {
            ChangeAction::Added => "added",
            ChangeAction::Removed => "removed",
            ChangeAction::Changed => "changed",
            ChangeAction::Created => "created",
        }
    }

    /// The action of a stored or URL name.
    pub fn parse(name: &str) -> Option<ChangeAction> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// One field of a change: its old value (none for an added row) and new one (none for a
/// removed row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// Catalogue field name (`VERSION`, `OSNAME`, …) or administrative KEYNAME.
    pub field: String,
    /// Before.
    pub old: Option<String>,
    /// After.
    pub new: Option<String>,
}

/// One change of one computer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Catalogue element, `ACCOUNTINFO` or `COMPUTER`.
    pub section: String,
    /// What happened.
    pub action: ChangeAction,
    /// What the row is, in words.
    pub label: String,
    /// The fields (every field of an added or removed row, those that differ otherwise).
    pub fields: Vec<FieldChange>,
    /// Who edited it by hand; `None` for an inventory.
    pub author: Option<String>,
}

/// A stored change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// ID (increasing with time).
    pub id: i64,
    /// The computer.
    pub hardware_id: HostId,
    /// Its name.
    pub computer: Option<String>,
    /// When (Unix seconds).
    pub changed_at: i64,
    /// The change.
    pub change: Change,
}

/// Which changes to read.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    /// One computer's.
    pub computer: Option<HostId>,
    /// One section's.
    pub section: Option<String>,
    /// One action's.
    pub action: Option<ChangeAction>,
    /// At or after this time.
    pub since: Option<i64>,
    /// Label contains this (case-insensitive).
    pub label: Option<String>,
}

/// A page of changes, newest first.
#[derive(Debug, Clone)]
pub struct ChangePage {
    /// The changes.
    pub records: Vec<ChangeRecord>,
    /// Whether older ones follow.
    pub more: bool,
}

/// Values a stored field list may hold, at most; longer ones are cut (a registry value or a
/// repository's package list can be long, and a change only needs to be recognisable).
const MAX_VALUE_CHARS: usize = 500;

fn cut(value: &str) -> String {
    match value.char_indices().nth(MAX_VALUE_CHARS) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_owned(),
    }
}

fn fields_json(fields: &[FieldChange]) -> String {
    let text = |v: &Option<String>| match v {
        Some(v) => serde_json::Value::String(cut(v)),
        None => serde_json::Value::Null,
    };
    serde_json::Value::Array(
        fields
            .iter()
            .map(|f| {
                let mut o = serde_json::Map::new();
                o.insert("field".into(), f.field.clone().into());
                o.insert("old".into(), text(&f.old));
                o.insert("new".into(), text(&f.new));
                serde_json::Value::Object(o)
            })
            .collect(),
    )
    .to_string()
}

fn parse_fields(json: &str) -> Vec<FieldChange> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(json) else {
        return Vec::new();
    };
    let text =
        |o: &serde_json::Value, k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    items
        .iter()
        .map(|o| FieldChange {
            field: text(o, "field").unwrap_or_default(),
            old: text(o, "old"),
            new: text(o, "new"),
        })
        .collect()
}

const COLUMNS: usize = 7;

impl WriteTx {
    /// Records a computer's changes, all at one time.
    pub async fn record_changes(&mut self, id: HostId, at: i64, changes: &[Change]) -> Result<()> {
        let rows: Vec<(HostId, &Change)> = changes.iter().map(|c| (id, c)).collect();
        self.insert_changes(at, &rows).await
    }

    /// Records changes of several computers, all at one time (a mass edit).
    pub async fn record_changes_of(&mut self, at: i64, changes: &[(HostId, Change)]) -> Result<()> {
        let rows: Vec<(HostId, &Change)> = changes.iter().map(|(id, c)| (*id, c)).collect();
        self.insert_changes(at, &rows).await
    }

    async fn insert_changes(&mut self, at: i64, rows: &[(HostId, &Change)]) -> Result<()> {
        for chunk in rows.chunks(MAX_PARAMS / COLUMNS) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| format!("({})", placeholders(self.backend, r * COLUMNS + 1, COLUMNS)))
                .collect();
            let sql = format!(
                "INSERT INTO history (hardware_id, changed_at, section, action, label, fields, author) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (id, c) in chunk {
                q = q
                    .bind(id.0)
                    .bind(at)
                    .bind(c.section.clone())
                    .bind(c.action.name())
                    .bind(cut(&c.label))
                    .bind(fields_json(&c.fields))
                    .bind(c.author.clone());
            }
            q.execute(self.conn()).await?;
        }
        Ok(())
    }
}

fn record(r: &AnyRow) -> Result<ChangeRecord> {
    let action: String = r.try_get(4)?;
    let fields: String = r.try_get(6)?;
    Ok(ChangeRecord {
        id: r.try_get(0)?,
        hardware_id: HostId(r.try_get(1)?),
        changed_at: r.try_get(2)?,
        computer: r.try_get(8)?,
        change: Change {
            section: r.try_get(3)?,
            action: ChangeAction::parse(&action)
                .ok_or_else(|| StoreError::Corrupt(format!("history action {action:?}")))?,
            label: r.try_get(5)?,
            fields: parse_fields(&fields),
            author: r.try_get(7)?,
        },
    })
}

impl Store {
    /// A page of changes matching the filter, newest first. Pages are read by ID, with no
    /// total: the fleet's history is too long to count at every view.
    pub async fn changes(&self, filter: &ChangeFilter, page: Page) -> Result<ChangePage> {
        let mut conditions = Vec::new();
        let mut binds = Binds::default();
        if let Some(id) = filter.computer {
            conditions.push(format!("c.hardware_id = {}", binds.push(Bind::Int(id.0))));
        }
        if let Some(section) = &filter.section {
            conditions.push(format!(
                "c.section = {}",
                binds.push(Bind::Text(section.clone()))
            ));
        }
        if let Some(action) = filter.action {
            let p = binds.push(Bind::Text(action.name().to_owned()));
            conditions.push(format!("c.action = {p}"));
        }
        if let Some(since) = filter.since {
            conditions.push(format!("c.changed_at >= {}", binds.push(Bind::Int(since))));
        }
        if let Some(label) = filter.label.as_deref().filter(|l| !l.is_empty()) {
            let p = binds.push(Bind::Text(crate::hosts::like_pattern(label)));
            conditions.push(format!("LOWER(c.label) LIKE {p} ESCAPE '\\'"));
        }
        let wh = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let size = i64::from(page.size.max(1));
        let offset = i64::from(page.number.max(1) - 1) * size;
        let limit = binds.push(Bind::Int(size + 1));
        let skip = binds.push(Bind::Int(offset));
        let sql = format!(
            "SELECT c.id, c.hardware_id, c.changed_at, c.section, c.action, c.label, c.fields, c.author, h.name \
             FROM history c JOIN hardware h ON h.id = c.hardware_id {wh} \
             ORDER BY c.id DESC LIMIT {limit} OFFSET {skip}"
        );
        let rows = binds
            .apply(sqlx::query(&sql))
            .fetch_all(&self.read_pool)
            .await?;
        let mut records = rows.iter().map(record).collect::<Result<Vec<_>>>()?;
        let more = records.len() > usize::try_from(size).unwrap_or(usize::MAX);
        records.truncate(usize::try_from(size).unwrap_or(usize::MAX));
        Ok(ChangePage { records, more })
    }

    /// The sections a computer has changes in, for its timeline's filter.
    pub async fn history_sections(&self, id: HostId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT section FROM history WHERE hardware_id = $1 ORDER BY section",
        )
        .bind(id.0)
        .fetch_all(&self.read_pool)
        .await?)
    }

    /// Deletes the changes older than `before`, a bounded number per transaction so that
    /// ingestion is never held behind a long purge; returns how many were deleted.
    pub async fn purge_history(&self, before: i64) -> Result<u64> {
        const PER_STEP: i64 = 5_000;
        let mut total = 0;
        loop {
            let mut tx = self.begin().await?;
            let done = sqlx::query(
                "DELETE FROM history WHERE id IN \
                 (SELECT id FROM history WHERE changed_at < $1 ORDER BY changed_at LIMIT $2)",
            )
            .bind(before)
            .bind(PER_STEP)
            .execute(tx.conn())
            .await?
            .rows_affected();
            tx.commit().await?;
            total += done;
            if done < u64::try_from(PER_STEP).unwrap_or(u64::MAX) {
                return Ok(total);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    fn change(section: &str, action: ChangeAction, label: &str) -> Change {
        Change {
            section: section.into(),
            action,
            label: label.into(),
            fields: vec![FieldChange {
                field: "VERSION".into(),
                old: Some("1.0".into()),
                new: (action != ChangeAction::Removed).then(|| "2.0".into()),
            }],
            author: None,
        }
    }

    #[tokio::test]
    async fn recorded_read_filtered_and_purged() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        let a = tx.insert_host("a-2024-01-01-00-00-00").await.unwrap();
        let b = tx.insert_host("b-2024-01-01-00-00-00").await.unwrap();
        tx.record_changes(
            a,
            1_000,
            &[
                change("SOFTWARES", ChangeAction::Changed, "Firefox"),
                change("STORAGES", ChangeAction::Added, "sdb"),
            ],
        )
        .await
        .unwrap();
        tx.record_changes(
            b,
            2_000,
            &[change("SOFTWARES", ChangeAction::Removed, "Vim")],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let page = Page { number: 1, size: 2 };
        let all = store.changes(&ChangeFilter::default(), page).await.unwrap();
        assert!(all.more);
        assert_eq!(all.records[0].change.label, "Vim", "newest first");
        assert_eq!(all.records[0].change.fields[0].new, None);
        let of_a = ChangeFilter {
            computer: Some(a),
            section: Some("SOFTWARES".into()),
            ..ChangeFilter::default()
        };
        let only = store.changes(&of_a, page).await.unwrap();
        assert_eq!(only.records.len(), 1);
        assert_eq!(
            only.records[0].change,
            change("SOFTWARES", ChangeAction::Changed, "Firefox")
        );
        let labelled = ChangeFilter {
            label: Some("FIRE".into()),
            action: Some(ChangeAction::Changed),
            since: Some(500),
            ..ChangeFilter::default()
        };
        assert_eq!(
            store.changes(&labelled, page).await.unwrap().records.len(),
            1
        );
        assert_eq!(
            store.history_sections(a).await.unwrap(),
            ["SOFTWARES", "STORAGES"]
        );

        assert_eq!(store.purge_history(1_500).await.unwrap(), 2);
        let left = store.changes(&ChangeFilter::default(), page).await.unwrap();
        assert_eq!(left.records.len(), 1);
        assert!(!left.more);
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(MAX_VALUE_CHARS + 10);
        let json = fields_json(&[FieldChange {
            field: "REGVALUE".into(),
            old: None,
            new: Some(long),
        }]);
        let back = parse_fields(&json);
        assert_eq!(
            back[0].new.as_ref().unwrap().chars().count(),
            MAX_VALUE_CHARS + 1
        );
        assert_eq!(back[0].old, None);
    }
}
