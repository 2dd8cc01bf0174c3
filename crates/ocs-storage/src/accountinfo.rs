//! Administrative data: TAG and the admin-defined fields (`fields_<id>`), exchanged with agents
//! through ACCOUNTINFO.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::history::{Change, ChangeAction, FieldChange};
use crate::hosts::HostId;
use crate::{Result, Store, WriteTx};

/// KEYNAME of the TAG.
pub const TAG: &str = "TAG";

/// TAG first (absent when the device has no administrative data row), then every defined
/// field with the device's value.
const READ_SQL: &str = "SELECT 0, 'TAG', tag FROM accountinfo WHERE hardware_id = $1 \
     UNION ALL SELECT f.id, 'fields_' || f.id, v.value FROM accountinfo_fields f \
     LEFT JOIN accountinfo_values v ON v.field_id = f.id AND v.hardware_id = $1 ORDER BY 1";

/// An administrative field definition.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountField {
    /// ID; the KEYNAME agents see is `fields_<id>`.
    pub id: i64,
    /// Label shown in the console.
    pub label: String,
    /// Type: `Text`, `Integer`, `Real` or `Date`.
    pub kind: String,
}

/// `(KEYNAME, value)` pairs, TAG first.
type Entries = Vec<(String, Option<String>)>;

/// The pairs of [`READ_SQL`]; `None` without an administrative data row.
fn entries(rows: &[AnyRow]) -> Result<Option<Entries>> {
    let pairs = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>(1)?,
                r.try_get::<Option<String>, _>(2)?,
            ))
        })
        .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?;
    Ok(pairs
        .first()
        .is_some_and(|(k, _)| k == TAG)
        .then_some(pairs))
}

impl WriteTx {
    /// A device's administrative data as `(KEYNAME, value)`: TAG first, then each defined
    /// field; `None` when the device has no administrative data row.
    pub async fn accountinfo(&mut self, id: HostId) -> Result<Option<Vec<(String, String)>>> {
        let rows = sqlx::query(READ_SQL)
            .bind(id.0)
            .fetch_all(self.conn())
            .await?;
        Ok(entries(&rows)?.map(|e| {
            e.into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect()
        }))
    }

    /// Stores sent ACCOUNTINFO entries whose KEYNAME names TAG or a defined field; creates the
    /// administrative data row if missing. Unknown keys are ignored, as the original does.
    pub async fn write_accountinfo(
        &mut self,
        id: HostId,
        entries: &[(String, String)],
    ) -> Result<()> {
        self.apply_accountinfo(id, entries).await.map(drop)
    }

    /// [`WriteTx::write_accountinfo`], recording each value it changes in the computer's
    /// history with who changed it.
    pub async fn write_accountinfo_recorded(
        &mut self,
        id: HostId,
        entries: &[(String, String)],
        by: &str,
        at: i64,
    ) -> Result<()> {
        let before = self.accountinfo(id).await?.unwrap_or_default();
        let applied = self.apply_accountinfo(id, entries).await?;
        let changes: Vec<Change> = applied
            .into_iter()
            .filter_map(|(key, label, new)| {
                let old = before
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                    .map(|(_, v)| v.clone());
                admin_change(&key, label, old, &new, by)
            })
            .collect();
        self.record_changes(id, at, &changes).await
    }

    /// Writes the entries it knows; returns them as `(KEYNAME, label, value)`.
    async fn apply_accountinfo(
        &mut self,
        id: HostId,
        entries: &[(String, String)],
    ) -> Result<Vec<(String, String, String)>> {
        sqlx::query("INSERT INTO accountinfo (hardware_id) VALUES ($1) ON CONFLICT (hardware_id) DO NOTHING")
            .bind(id.0)
            .execute(self.conn())
            .await?;
        let defined: Vec<(i64, String)> = sqlx::query("SELECT id, label FROM accountinfo_fields")
            .fetch_all(self.conn())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<std::result::Result<_, sqlx::Error>>()?;
        let mut applied = Vec::new();
        for (key, value) in entries {
            if key.eq_ignore_ascii_case(TAG) {
                sqlx::query("UPDATE accountinfo SET tag = $2 WHERE hardware_id = $1")
                    .bind(id.0)
                    .bind(value)
                    .execute(self.conn())
                    .await?;
                applied.push((TAG.to_owned(), TAG.to_owned(), value.clone()));
            } else if let Some((field, label)) = key
                .strip_prefix("fields_")
                .and_then(|n| n.parse::<i64>().ok())
                .and_then(|f| defined.iter().find(|(d, _)| *d == f))
            {
                sqlx::query(
                    "INSERT INTO accountinfo_values (hardware_id, field_id, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (hardware_id, field_id) DO UPDATE SET value = excluded.value",
                )
                .bind(id.0)
                .bind(*field)
                .bind(value)
                .execute(self.conn())
                .await?;
                applied.push((format!("fields_{field}"), label.clone(), value.clone()));
            }
        }
        Ok(applied)
    }
}

/// The history entry of an administrative value `by` set from `old` to `new`; `None` when
/// the value did not change (an empty value is no value).
pub(crate) fn admin_change(
    key: &str,
    label: String,
    old: Option<String>,
    new: &str,
    by: &str,
) -> Option<Change> {
    let old = old.filter(|v| !v.is_empty());
    (old.as_deref().unwrap_or_default() != new).then(|| Change {
        section: "ACCOUNTINFO".to_owned(),
        action: ChangeAction::Changed,
        label,
        fields: vec![FieldChange {
            field: key.to_owned(),
            old,
            new: Some(new.to_owned()).filter(|v| !v.is_empty()),
        }],
        author: Some(by.to_owned()),
    })
}

impl Store {
    /// A device's administrative data for display.
    pub async fn accountinfo_of(&self, id: HostId) -> Result<Vec<(String, Option<String>)>> {
        let rows = sqlx::query(READ_SQL)
            .bind(id.0)
            .fetch_all(&self.read_pool)
            .await?;
        Ok(entries(&rows)?.unwrap_or_else(|| vec![(TAG.to_owned(), None)]))
    }

    /// Every administrative field, in creation order.
    pub async fn list_accountinfo_fields(&self) -> Result<Vec<AccountField>> {
        Ok(
            sqlx::query_as("SELECT id, label, kind FROM accountinfo_fields ORDER BY id")
                .fetch_all(&self.read_pool)
                .await?,
        )
    }

    /// Deletes an administrative field and every value of it; returns whether it existed.
    pub async fn delete_accountinfo_field(&self, id: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM accountinfo_values WHERE field_id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        let done = sqlx::query("DELETE FROM accountinfo_fields WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Writes administrative data of a device by hand, in one transaction, each value changed
    /// recorded in its history with who changed it.
    pub async fn update_accountinfo(
        &self,
        id: HostId,
        entries: &[(String, String)],
        by: &str,
        at: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.write_accountinfo_recorded(id, entries, by, at).await?;
        tx.commit().await
    }

    /// Defines an administrative field; returns its KEYNAME (`fields_<id>`).
    pub async fn insert_accountinfo_field(&self, label: &str, kind: &str) -> Result<String> {
        let id: i64 = sqlx::query_scalar("INSERT INTO accountinfo_fields (label, kind, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(label)
            .bind(kind)
            .bind(crate::sql::unix_now())
            .fetch_one(&self.pool)
            .await?;
        Ok(format!("fields_{id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    #[tokio::test]
    async fn tag_and_defined_fields() {
        let (store, _dir) = store().await;
        let field = store
            .insert_accountinfo_field("Room", "Text")
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        let id = tx.insert_host("pc-2024-01-01-00-00-00").await.unwrap();
        let sent = [
            ("TAG".to_owned(), "PARIS".to_owned()),
            (field.clone(), "B12".to_owned()),
            ("fields_999".to_owned(), "x".to_owned()),
        ];
        tx.write_accountinfo(id, &sent).await.unwrap();
        let stored = tx.accountinfo(id).await.unwrap().unwrap();
        assert_eq!(
            stored,
            [
                ("TAG".to_owned(), "PARIS".to_owned()),
                (field, "B12".to_owned())
            ],
            "unknown keys are ignored"
        );
        tx.commit().await.unwrap();
        assert_eq!(
            store.accountinfo_of(id).await.unwrap()[1].1.as_deref(),
            Some("B12")
        );
        assert_eq!(
            store.accountinfo_of(HostId(999)).await.unwrap(),
            [("TAG".to_owned(), None)]
        );
    }
}
