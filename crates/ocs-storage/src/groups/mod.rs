//! Groups of computers: static groups whose members are added by hand, dynamic groups whose
//! members are computed from saved search criteria (with computers forced in or out), and the
//! settings a group gives its members.
//!
//! This module owns the `groups` rows (create, rename, describe, delete, list with member
//! counts); [`membership`] owns `group_members` and the evaluation of dynamic groups. The
//! criteria of a dynamic group are stored as the text the console gives (search-form rows,
//! never SQL): this crate neither reads nor checks them.

pub mod membership;
pub mod settings;

use crate::{Result, Store, StoreError};

pub use membership::{GroupOfComputer, MemberState};

/// The ID of a group (a row of `groups`, never a `hardware` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub i64);

/// Static (members added by hand) or dynamic (members computed from criteria).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// Members added and removed by hand.
    Static,
    /// Members computed from saved criteria, with computers forced in or out.
    Dynamic,
}

impl GroupKind {
    /// The stored name (`static`, `dynamic`).
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Static => "static",
            GroupKind::Dynamic => "dynamic",
        }
    }

    /// Reads a stored or submitted name.
    pub fn parse(text: &str) -> Option<GroupKind> {
        match text {
            "static" => Some(GroupKind::Static),
            "dynamic" => Some(GroupKind::Dynamic),
            _ => None,
        }
    }
}

/// A stored group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// ID.
    pub id: GroupId,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Kind.
    pub kind: GroupKind,
    /// Saved criteria of a dynamic group (the application's encoding).
    pub criteria: Option<String>,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// When the dynamic members were last computed (0: never).
    pub computed_at: i64,
    /// Start of the revalidation delay (§10.2 REVALIDATE_FROM).
    pub revalidate_from: i64,
}

/// A group of the list, with its number of members (computed or forced in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    /// The group.
    pub group: GroupRecord,
    /// Members (STATIC 0 or 1).
    pub members: i64,
}

/// What a new group is made of.
#[derive(Debug, Clone, Copy)]
pub struct NewGroup<'a> {
    /// Unique name.
    pub name: &'a str,
    /// Free text.
    pub description: &'a str,
    /// Kind.
    pub kind: GroupKind,
    /// Criteria of a dynamic group.
    pub criteria: Option<&'a str>,
}

/// Changes to a group; `None` leaves a value as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupChange<'a> {
    /// New name.
    pub name: Option<&'a str>,
    /// New description.
    pub description: Option<&'a str>,
    /// New criteria (dynamic groups).
    pub criteria: Option<&'a str>,
}

type GroupRow = (i64, String, String, String, Option<String>, i64, i64, i64);
type CountedRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
);

const GROUP_COLUMNS: &str =
    "g.id, g.name, g.description, g.kind, g.criteria, g.created_at, g.computed_at, g.revalidate_from";

fn record(row: GroupRow) -> Result<GroupRecord> {
    let (id, name, description, kind, criteria, created_at, computed_at, revalidate_from) = row;
    let kind = GroupKind::parse(&kind).ok_or_else(|| {
        StoreError::Db(sqlx::Error::Decode(
            format!("group {id} has an unknown kind {kind:?}").into(),
        ))
    })?;
    Ok(GroupRecord {
        id: GroupId(id),
        name,
        description,
        kind,
        criteria,
        created_at,
        computed_at,
        revalidate_from,
    })
}

/// Whether a database error is the breach of a uniqueness rule (the group name).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl Store {
    /// Creates a group; [`StoreError::Conflict`] when the name is taken.
    pub async fn insert_group(&self, group: &NewGroup<'_>, now: i64) -> Result<GroupId> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO groups (name, description, kind, criteria, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(group.name)
        .bind(group.description)
        .bind(group.kind.as_str())
        .bind(group.criteria)
        .bind(now)
        .fetch_optional(tx.conn())
        .await?;
        let Some(id) = id else {
            return Err(StoreError::Conflict(format!("group {:?}", group.name)));
        };
        tx.commit().await?;
        Ok(GroupId(id))
    }

    /// A group; [`StoreError::NotFound`] when there is none.
    pub async fn get_group(&self, id: GroupId) -> Result<GroupRecord> {
        self.find_group(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("group {}", id.0)))
    }

    /// A group, if it exists. Read from the primary: pages show a group right after a change.
    pub async fn find_group(&self, id: GroupId) -> Result<Option<GroupRecord>> {
        let row: Option<GroupRow> = sqlx::query_as(&format!(
            "SELECT {GROUP_COLUMNS} FROM groups g WHERE g.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(record).transpose()
    }

    /// The group of this name, if any.
    pub async fn find_group_by_name(&self, name: &str) -> Result<Option<GroupRecord>> {
        let row: Option<GroupRow> = sqlx::query_as(&format!(
            "SELECT {GROUP_COLUMNS} FROM groups g WHERE g.name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(record).transpose()
    }

    /// Every group by name, with its member count: one statement, the counts read from the
    /// `group_members` primary key.
    pub async fn list_groups(&self) -> Result<Vec<GroupSummary>> {
        let rows: Vec<CountedRow> =
            sqlx::query_as(&format!(
                "SELECT {GROUP_COLUMNS}, COALESCE(c.n, 0) FROM groups g LEFT JOIN \
                 (SELECT group_id, COUNT(*) AS n FROM group_members WHERE static IN (0, 1) GROUP BY group_id) c \
                 ON c.group_id = g.id ORDER BY g.name"
            ))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(
                |(id, name, desc, kind, criteria, created, computed, from, n)| {
                    Ok(GroupSummary {
                        group: record((id, name, desc, kind, criteria, created, computed, from))?,
                        members: n,
                    })
                },
            )
            .collect()
    }

    /// Renames, describes or changes the criteria of a group. [`StoreError::NotFound`] when
    /// it does not exist, [`StoreError::Conflict`] when the new name is taken.
    pub async fn update_group(&self, id: GroupId, change: &GroupChange<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE groups SET name = COALESCE($2, name), description = COALESCE($3, description), \
             criteria = COALESCE($4, criteria) WHERE id = $1",
        )
        .bind(id.0)
        .bind(change.name)
        .bind(change.description)
        .bind(change.criteria)
        .execute(tx.conn())
        .await;
        let done = match done {
            Ok(d) => d,
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "group {:?}",
                    change.name.unwrap_or_default()
                )))
            }
            Err(e) => return Err(e.into()),
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("group {}", id.0)));
        }
        tx.commit().await
    }

    /// Deletes a group with its members and settings (the foreign keys cascade); returns
    /// whether it existed.
    pub async fn delete_group(&self, id: GroupId) -> Result<bool> {
        let mut tx = self.begin().await?;
        // Explicitly too: a SQLite connection opened without `foreign_keys` would not cascade.
        sqlx::query("DELETE FROM group_members WHERE group_id = $1")
            .bind(id.0)
            .execute(tx.conn())
            .await?;
        sqlx::query("DELETE FROM group_settings WHERE group_id = $1")
            .bind(id.0)
            .execute(tx.conn())
            .await?;
        let gone = sqlx::query("DELETE FROM groups WHERE id = $1")
            .bind(id.0)
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    fn new(name: &str, kind: GroupKind) -> NewGroup<'_> {
        NewGroup {
            name,
            description: "",
            kind,
            criteria: (kind == GroupKind::Dynamic).then_some("f0=os&o0=equal&v0=Linux"),
        }
    }

    #[tokio::test]
    async fn groups_are_created_renamed_described_listed_and_deleted() {
        let (store, _dir) = store().await;
        let a = store
            .insert_group(&new("Servers", GroupKind::Static), 100)
            .await
            .unwrap();
        let b = store
            .insert_group(&new("Linux", GroupKind::Dynamic), 200)
            .await
            .unwrap();
        assert!(matches!(
            store
                .insert_group(&new("Servers", GroupKind::Dynamic), 300)
                .await,
            Err(StoreError::Conflict(_))
        ));
        let got = store.get_group(b).await.unwrap();
        assert_eq!(
            (got.kind, got.created_at, got.computed_at),
            (GroupKind::Dynamic, 200, 0)
        );
        assert_eq!(got.criteria.as_deref(), Some("f0=os&o0=equal&v0=Linux"));
        store
            .update_group(
                a,
                &GroupChange {
                    name: Some("Web servers"),
                    description: Some("Front ends"),
                    criteria: None,
                },
            )
            .await
            .unwrap();
        assert!(matches!(
            store
                .update_group(
                    b,
                    &GroupChange {
                        name: Some("Web servers"),
                        ..GroupChange::default()
                    }
                )
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store
                .update_group(GroupId(999), &GroupChange::default())
                .await,
            Err(StoreError::NotFound(_))
        ));
        let list = store.list_groups().await.unwrap();
        let names: Vec<_> = list.iter().map(|g| g.group.name.as_str()).collect();
        assert_eq!(names, ["Linux", "Web servers"]);
        assert_eq!(list[1].group.description, "Front ends");
        assert_eq!(
            store
                .find_group_by_name("Linux")
                .await
                .unwrap()
                .map(|g| g.id),
            Some(b)
        );
        assert!(store.delete_group(a).await.unwrap());
        assert!(!store.delete_group(a).await.unwrap());
        assert!(matches!(
            store.get_group(a).await,
            Err(StoreError::NotFound(_))
        ));
    }
}
