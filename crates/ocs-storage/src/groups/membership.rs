//! Who belongs to a group (`group_members`): members added by hand (STATIC=1), computers
//! forced into (1) or out of (2) a dynamic group, and the computed members of a dynamic group
//! (0), rebuilt in one transaction from the same condition builder as the search
//! ([`crate::computers`]); plus the bookkeeping of lazy revalidation (reference §10.2).
//!
//! Membership is always `STATIC IN (0, 1)`: a forced-out row is kept so that the next
//! evaluation cannot bring the computer back.

use sqlx::Row;

use crate::computers::{matching_from, Criterion, CriterionValue};
use crate::groups::{GroupId, GroupKind};
use crate::hosts::HostId;
use crate::sql::{placeholders, AnyQuery, MAX_PARAMS};
use crate::{Result, Store, StoreError};

/// How a computer stands in a group (the `static` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberState {
    /// A computed member of a dynamic group (0).
    Computed,
    /// Added by hand to a static group, or forced into a dynamic one (1).
    Added,
    /// Forced out of a dynamic group (2): not a member.
    Excluded,
}

impl MemberState {
    /// The stored value.
    pub fn value(self) -> i64 {
        match self {
            MemberState::Computed => 0,
            MemberState::Added => 1,
            MemberState::Excluded => 2,
        }
    }

    fn from_value(v: i64) -> MemberState {
        match v {
            0 => MemberState::Computed,
            2 => MemberState::Excluded,
            _ => MemberState::Added,
        }
    }

    /// Whether the computer counts as a member.
    pub fn is_member(self) -> bool {
        self != MemberState::Excluded
    }
}

/// A group a computer has a row in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOfComputer {
    /// The group.
    pub id: GroupId,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: GroupKind,
    /// How the computer stands in it.
    pub state: MemberState,
}

/// Binds computer IDs in order.
fn bind_hosts<'q>(q: AnyQuery<'q>, ids: &[HostId]) -> AnyQuery<'q> {
    crate::sql::bind_ids(q, ids.iter().map(|h| h.0))
}

/// Room for the group ID and the state next to a chunk of computer IDs.
const IDS_PER_STATEMENT: usize = MAX_PARAMS - 2;

impl Store {
    /// Gives computers a state in a group (added / forced in, or forced out), replacing any
    /// other; IDs of no computer are skipped. Returns how many rows changed.
    pub async fn set_group_members(
        &self,
        group: GroupId,
        ids: &[HostId],
        state: MemberState,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let mut changed = 0;
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = insert_members_sql(
                self.backend,
                chunk.len(),
                "DO UPDATE SET static = excluded.static WHERE group_members.static <> excluded.static",
            );
            let q = sqlx::query(&sql).bind(group.0).bind(state.value());
            changed += bind_hosts(q, chunk)
                .execute(tx.conn())
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Makes `ids` the exact hand-added members of a group (the "overwrite" of adding a
    /// selection): every other row of the group goes. Returns the members it now has.
    pub async fn replace_group_members(&self, group: GroupId, ids: &[HostId]) -> Result<u64> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM group_members WHERE group_id = $1")
            .bind(group.0)
            .execute(tx.conn())
            .await?;
        let mut added = 0;
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = insert_members_sql(self.backend, chunk.len(), "DO NOTHING");
            let q = sqlx::query(&sql)
                .bind(group.0)
                .bind(MemberState::Added.value());
            added += bind_hosts(q, chunk)
                .execute(tx.conn())
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Removes the hand-made rows (added, forced in, forced out) of computers in a group;
    /// computed members stay. Returns how many rows went.
    pub async fn delete_group_members(&self, group: GroupId, ids: &[HostId]) -> Result<u64> {
        let mut tx = self.begin().await?;
        let mut removed = 0;
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let head = placeholders(self.backend, 1, 1);
            let list = placeholders(self.backend, 2, chunk.len());
            let sql = format!(
                "DELETE FROM group_members WHERE group_id = {head} AND static IN (1, 2) \
                 AND hardware_id IN ({list})"
            );
            removed += bind_hosts(sqlx::query(&sql).bind(group.0), chunk)
                .execute(tx.conn())
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(removed)
    }

    /// The groups a computer has a row in (members and forced out), by name.
    pub async fn list_groups_of_computer(&self, host: HostId) -> Result<Vec<GroupOfComputer>> {
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT g.id, g.name, g.kind, gm.static FROM group_members gm \
             JOIN groups g ON g.id = gm.group_id WHERE gm.hardware_id = $1 ORDER BY g.name",
        )
        .bind(host.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, kind, state)| GroupOfComputer {
                id: GroupId(id),
                name,
                kind: GroupKind::parse(&kind).unwrap_or(GroupKind::Static),
                state: MemberState::from_value(state),
            })
            .collect())
    }

    /// The number of members of a group (computed or added, not forced out).
    pub async fn count_group_members(&self, group: GroupId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND static IN (0, 1)",
        )
        .bind(group.0)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The computers of a group forced out of it.
    pub async fn list_excluded_members(&self, group: GroupId) -> Result<Vec<HostId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT hardware_id FROM group_members WHERE group_id = $1 AND static = 2 ORDER BY hardware_id",
        )
        .bind(group.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(HostId).collect())
    }

    /// Computers whose name or DEVICEID is `text` (at most `limit`), for adding one by name.
    pub async fn find_computers_named(&self, text: &str, limit: i64) -> Result<Vec<HostId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM hardware WHERE name = $1 OR deviceid = $1 ORDER BY id LIMIT $2",
        )
        .bind(text)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(HostId).collect())
    }

    /// Recomputes the members of a dynamic group in one write transaction: its computed rows
    /// are replaced by the computers matching `criteria` (`None` or none: no computed member,
    /// as for criteria that no longer parse), forced rows are left as they are, then
    /// `computed_at = now` and `revalidate_from = now + offset`. Returns the number of
    /// computed members.
    pub async fn evaluate_group(
        &self,
        group: GroupId,
        criteria: Option<&[Criterion]>,
        now: i64,
        offset: i64,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM groups WHERE id = $1")
            .bind(group.0)
            .fetch_optional(tx.conn())
            .await?;
        match kind.as_deref().and_then(GroupKind::parse) {
            Some(GroupKind::Dynamic) => {}
            Some(GroupKind::Static) => {
                return Err(StoreError::Conflict(format!(
                    "group {} is static: only dynamic groups are computed",
                    group.0
                )))
            }
            None => return Err(StoreError::NotFound(format!("group {}", group.0))),
        }
        sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND static = 0")
            .bind(group.0)
            .execute(tx.conn())
            .await?;
        let mut computed = 0;
        if let Some(criteria) = criteria.filter(|c| !c.is_empty()) {
            let (from, binds) = matching_from(criteria, None);
            let group_mark = binds.len() + 1;
            // The WHERE clause is never empty here (there are criteria), which SQLite needs
            // to tell ON CONFLICT from a join constraint.
            let sql = format!(
                "INSERT INTO group_members (group_id, hardware_id, static) \
                 SELECT ${group_mark}, h.id, 0 {from} ON CONFLICT (group_id, hardware_id) DO NOTHING"
            );
            let mut q = sqlx::query(&sql);
            for b in binds {
                q = match b {
                    CriterionValue::Text(s) => q.bind(s),
                    CriterionValue::Integer(n) => q.bind(n),
                };
            }
            computed = q.bind(group.0).execute(tx.conn()).await?.rows_affected();
        }
        sqlx::query("UPDATE groups SET computed_at = $2, revalidate_from = $3 WHERE id = $1")
            .bind(group.0)
            .bind(now)
            .bind(now.saturating_add(offset))
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(computed)
    }

    /// The dynamic groups due for revalidation at `now`: `now - revalidate_from > revalidate`,
    /// with the `revalidate_from` each was seen with (for [`Store::claim_group`]).
    pub async fn list_groups_due(&self, now: i64, revalidate: i64) -> Result<Vec<(GroupId, i64)>> {
        let rows = sqlx::query(
            "SELECT id, revalidate_from FROM groups WHERE kind = 'dynamic' \
             AND revalidate_from < $1 ORDER BY revalidate_from, id",
        )
        .bind(now.saturating_sub(revalidate))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((GroupId(r.try_get(0)?), r.try_get(1)?)))
            .collect()
    }

    /// Claims a due group for computing (compare-and-set on `revalidate_from`, so that of
    /// two instances seeing it due only one computes it): returns whether this caller won.
    /// The claim moves `revalidate_from` to `now`, so the group is not due again for a
    /// whole revalidation delay even if the computation then fails.
    pub async fn claim_group(&self, group: GroupId, seen_from: i64, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let won = sqlx::query(
            "UPDATE groups SET revalidate_from = $3 WHERE id = $1 AND revalidate_from = $2",
        )
        .bind(group.0)
        .bind(seen_from)
        .bind(now.max(seen_from.saturating_add(1)))
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(won > 0)
    }
}

/// `INSERT … SELECT` of one group's rows for `count` computer IDs (those of no computer are
/// skipped), binding the group ID, the state, then the IDs, in that order.
fn insert_members_sql(backend: crate::Backend, count: usize, on_conflict: &str) -> String {
    let head = placeholders(backend, 1, 2);
    let list = placeholders(backend, 3, count);
    format!(
        "INSERT INTO group_members (group_id, hardware_id, static) SELECT {head_group}, h.id, {head_state} \
         FROM hardware h WHERE h.id IN ({list}) ON CONFLICT (group_id, hardware_id) {on_conflict}",
        head_group = head.split(", ").next().unwrap_or("?"),
        head_state = head.split(", ").nth(1).unwrap_or("?"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::computers::{like_exact, search_field, CriterionField, Operator};
    use crate::groups::{NewGroup, StoreError};
    use crate::test_support::store;

    /// Three computers: alpha (Debian), beta (Debian), gamma (Windows).
    async fn fleet(store: &Store) -> Vec<HostId> {
        let mut tx = store.begin().await.unwrap();
        let mut ids = Vec::new();
        for (name, os) in [
            ("alpha", "Debian"),
            ("beta", "Debian"),
            ("gamma", "Windows"),
        ] {
            let id = tx.insert_host(&format!("{name}-2024")).await.unwrap();
            sqlx::query("UPDATE hardware SET name = $1, osname = $2 WHERE id = $3")
                .bind(name)
                .bind(os)
                .bind(id.0)
                .execute(tx.conn())
                .await
                .unwrap();
            ids.push(id);
        }
        tx.commit().await.unwrap();
        ids
    }

    fn os_is(v: &str) -> Vec<Criterion> {
        vec![Criterion {
            field: CriterionField::Builtin(search_field("os").unwrap()),
            op: Operator::Equal,
            first: CriterionValue::Text(like_exact(v)),
            second: None,
        }]
    }

    async fn group(store: &Store, name: &str, kind: GroupKind) -> GroupId {
        store
            .insert_group(
                &NewGroup {
                    name,
                    description: "",
                    kind,
                    criteria: None,
                },
                10,
            )
            .await
            .unwrap()
    }

    async fn members(store: &Store, g: GroupId) -> Vec<HostId> {
        store.matching_computer_ids(&[], Some(g)).await.unwrap()
    }

    #[tokio::test]
    async fn static_members_are_added_and_removed_by_hand() {
        let (store, _dir) = store().await;
        let ids = fleet(&store).await;
        let g = group(&store, "Hand", GroupKind::Static).await;
        let added = store
            .set_group_members(g, &[ids[0], ids[2], HostId(9999)], MemberState::Added)
            .await
            .unwrap();
        assert_eq!(added, 2, "an unknown computer is skipped");
        assert_eq!(
            store
                .set_group_members(g, &[ids[0]], MemberState::Added)
                .await
                .unwrap(),
            0,
            "already a member"
        );
        assert_eq!(members(&store, g).await, [ids[0], ids[2]]);
        assert_eq!(store.list_groups().await.unwrap()[0].members, 2);
        assert_eq!(store.count_group_members(g).await.unwrap(), 2);
        assert_eq!(store.delete_group_members(g, &[ids[0]]).await.unwrap(), 1);
        assert_eq!(members(&store, g).await, [ids[2]]);
        assert_eq!(
            store
                .replace_group_members(g, &[ids[0], ids[1]])
                .await
                .unwrap(),
            2
        );
        assert_eq!(members(&store, g).await, [ids[0], ids[1]]);
        let of = store.list_groups_of_computer(ids[1]).await.unwrap();
        assert_eq!(of.len(), 1);
        assert_eq!(
            (of[0].id, of[0].kind, of[0].state),
            (g, GroupKind::Static, MemberState::Added)
        );
        assert!(matches!(
            store.evaluate_group(g, Some(&os_is("debian")), 0, 0).await,
            Err(StoreError::Conflict(_))
        ));
    }

    #[tokio::test]
    async fn dynamic_members_are_computed_and_forced_rows_survive() {
        let (store, _dir) = store().await;
        let ids = fleet(&store).await;
        let g = group(&store, "Debian", GroupKind::Dynamic).await;
        let computed = store
            .evaluate_group(g, Some(&os_is("debian")), 1000, 60)
            .await
            .unwrap();
        assert_eq!(computed, 2);
        assert_eq!(members(&store, g).await, [ids[0], ids[1]]);
        let rec = store.get_group(g).await.unwrap();
        assert_eq!((rec.computed_at, rec.revalidate_from), (1000, 1060));
        // Forced in (a Windows computer) and forced out (a Debian one).
        store
            .set_group_members(g, &[ids[2]], MemberState::Added)
            .await
            .unwrap();
        store
            .set_group_members(g, &[ids[1]], MemberState::Excluded)
            .await
            .unwrap();
        assert_eq!(members(&store, g).await, [ids[0], ids[2]]);
        assert_eq!(store.list_excluded_members(g).await.unwrap(), [ids[1]]);
        // A recomputation keeps both decisions.
        assert_eq!(
            store
                .evaluate_group(g, Some(&os_is("debian")), 2000, 0)
                .await
                .unwrap(),
            1
        );
        assert_eq!(members(&store, g).await, [ids[0], ids[2]]);
        let states: Vec<_> = store
            .list_groups_of_computer(ids[1])
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.state)
            .collect();
        assert_eq!(states, [MemberState::Excluded]);
        // Un-forcing and recomputing brings the computed member back.
        store
            .delete_group_members(g, &[ids[1], ids[2]])
            .await
            .unwrap();
        store
            .evaluate_group(g, Some(&os_is("debian")), 3000, 0)
            .await
            .unwrap();
        assert_eq!(members(&store, g).await, [ids[0], ids[1]]);
        // Criteria that no longer parse: no computed member, forced ones stay.
        store
            .set_group_members(g, &[ids[2]], MemberState::Added)
            .await
            .unwrap();
        assert_eq!(store.evaluate_group(g, None, 4000, 0).await.unwrap(), 0);
        assert_eq!(members(&store, g).await, [ids[2]]);
        assert!(matches!(
            store.evaluate_group(GroupId(777), None, 0, 0).await,
            Err(StoreError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn revalidation_is_due_after_the_delay_and_claimed_once() {
        let (store, _dir) = store().await;
        fleet(&store).await;
        let g = group(&store, "Debian", GroupKind::Dynamic).await;
        group(&store, "Static", GroupKind::Static).await;
        store
            .evaluate_group(g, Some(&os_is("debian")), 1000, 100)
            .await
            .unwrap();
        // revalidate_from = 1100; due once now - 1100 > 500.
        assert!(store.list_groups_due(1600, 500).await.unwrap().is_empty());
        let due = store.list_groups_due(1601, 500).await.unwrap();
        assert_eq!(due, [(g, 1100)]);
        assert!(store.claim_group(g, 1100, 1601).await.unwrap());
        assert!(
            !store.claim_group(g, 1100, 1601).await.unwrap(),
            "a second instance loses the claim"
        );
        assert!(store.list_groups_due(1602, 500).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn deleting_a_group_or_a_computer_deletes_its_rows() {
        let (store, _dir) = store().await;
        let ids = fleet(&store).await;
        let g = group(&store, "Debian", GroupKind::Dynamic).await;
        store
            .evaluate_group(g, Some(&os_is("*")), 1000, 0)
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        sqlx::query("DELETE FROM hardware WHERE id = $1")
            .bind(ids[0].0)
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(members(&store, g).await, [ids[1], ids[2]]);
        assert!(store.delete_group(g).await.unwrap());
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM group_members")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn many_members_are_written_in_chunks() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        let mut ids = Vec::new();
        for i in 0..2000 {
            ids.push(tx.insert_host(&format!("pc{i}-2024")).await.unwrap());
        }
        tx.commit().await.unwrap();
        let g = group(&store, "Many", GroupKind::Static).await;
        assert_eq!(
            store
                .set_group_members(g, &ids, MemberState::Added)
                .await
                .unwrap(),
            2000
        );
        assert_eq!(members(&store, g).await.len(), 2000);
        assert_eq!(store.delete_group_members(g, &ids).await.unwrap(), 2000);
    }
}
