//! Redistribution groups (`redistribution_groups`) and their members (`download_servers`):
//! computers that serve package fragments to the agents near them (seed 001). A group's
//! `pack_url` is each member's fragments location, `$IP$` / `$NAME$` replaced by the member's.

use super::RedistributionGroupId;
use crate::{HostId, Result, Store, StoreError};

/// A redistribution group, with its number of members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedistributionGroup {
    /// ID.
    pub id: RedistributionGroupId,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Fragments location of each member (`$IP$/download` by default).
    pub pack_url: String,
    /// Unix time of creation.
    pub created_at: i64,
    /// Number of members.
    pub members: i64,
}

/// A member of a redistribution group, as its hardware row names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedistributionMember {
    /// The computer.
    pub hardware_id: HostId,
    /// Its name.
    pub name: String,
    /// Its address (`hardware.ipaddr`).
    pub ip: String,
    /// The subnet of that address, when the inventory has it.
    pub subnet: String,
}

type GroupRow = (i64, String, String, String, i64, i64);

fn group(row: GroupRow) -> RedistributionGroup {
    let (id, name, description, pack_url, created_at, members) = row;
    RedistributionGroup {
        id: RedistributionGroupId(id),
        name,
        description,
        pack_url,
        created_at,
        members,
    }
}

const GROUP_SELECT: &str = "SELECT g.id, g.name, g.description, g.pack_url, g.created_at, \
     (SELECT COUNT(*) FROM download_servers s WHERE s.group_id = g.id) FROM redistribution_groups g";

/// A member as read: hardware ID, name, IP address, subnet.
type MemberRow = (i64, Option<String>, Option<String>, Option<String>);

impl Store {
    /// Creates a group; [`StoreError::Conflict`] when the name is taken.
    pub async fn create_redistribution_group(
        &self,
        name: &str,
        description: &str,
        now: i64,
    ) -> Result<RedistributionGroupId> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO redistribution_groups (name, description, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name)
        .bind(description)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        id.map(RedistributionGroupId)
            .ok_or_else(|| StoreError::Conflict(format!("redistribution group {name:?}")))
    }

    /// Every group by name, with member counts (one statement).
    pub async fn list_redistribution_groups(&self) -> Result<Vec<RedistributionGroup>> {
        let rows: Vec<GroupRow> = sqlx::query_as(&format!("{GROUP_SELECT} ORDER BY g.name"))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(group).collect())
    }

    /// One group.
    pub async fn find_redistribution_group(
        &self,
        id: RedistributionGroupId,
    ) -> Result<Option<RedistributionGroup>> {
        let row: Option<GroupRow> = sqlx::query_as(&format!("{GROUP_SELECT} WHERE g.id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(group))
    }

    /// Renames, describes and sets the fragments location of a group; `NotFound` if it does
    /// not exist, `Conflict` if the name is another group's.
    pub async fn update_redistribution_group(
        &self,
        id: RedistributionGroupId,
        name: &str,
        description: &str,
        pack_url: &str,
    ) -> Result<()> {
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM redistribution_groups WHERE name = $1 AND id <> $2")
                .bind(name)
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "redistribution group {name:?}"
            )));
        }
        let done = sqlx::query(
            "UPDATE redistribution_groups SET name = $2, description = $3, pack_url = $4 WHERE id = $1",
        )
        .bind(id.0)
        .bind(name)
        .bind(description)
        .bind(pack_url)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "redistribution group {}",
                id.0
            )));
        }
        Ok(())
    }

    /// Deletes a group and its members list; returns whether it existed.
    pub async fn delete_redistribution_group(&self, id: RedistributionGroupId) -> Result<bool> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM download_servers WHERE group_id = $1")
            .bind(id.0)
            .execute(tx.conn())
            .await?;
        let gone = sqlx::query("DELETE FROM redistribution_groups WHERE id = $1")
            .bind(id.0)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(gone.rows_affected() > 0)
    }

    /// Adds computers to a group (those already in it stay once); with `replace`, the group
    /// holds exactly `hosts` afterwards. Unknown computers are skipped. Returns the number of
    /// members afterwards.
    pub async fn add_redistribution_servers(
        &self,
        id: RedistributionGroupId,
        hosts: &[HostId],
        replace: bool,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        if replace {
            sqlx::query("DELETE FROM download_servers WHERE group_id = $1")
                .bind(id.0)
                .execute(tx.conn())
                .await?;
        }
        for host in hosts {
            sqlx::query(
                "INSERT INTO download_servers (group_id, hardware_id) \
                 SELECT $1, h.id FROM hardware h WHERE h.id = $2 \
                 ON CONFLICT (group_id, hardware_id) DO NOTHING",
            )
            .bind(id.0)
            .bind(host.0)
            .execute(tx.conn())
            .await?;
        }
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM download_servers WHERE group_id = $1")
                .bind(id.0)
                .fetch_one(tx.conn())
                .await?;
        tx.commit().await?;
        Ok(count)
    }

    /// Removes one member; returns whether it was one.
    pub async fn remove_redistribution_server(
        &self,
        id: RedistributionGroupId,
        host: HostId,
    ) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM download_servers WHERE group_id = $1 AND hardware_id = $2")
                .bind(id.0)
                .bind(host.0)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The members of a group by name, with their address and its subnet (one statement).
    pub async fn redistribution_members(
        &self,
        id: RedistributionGroupId,
    ) -> Result<Vec<RedistributionMember>> {
        let rows: Vec<MemberRow> = sqlx::query_as(
            "SELECT h.id, h.name, h.ipaddr, \
             (SELECT MIN(n.ipsubnet) FROM networks n WHERE n.hardware_id = h.id AND n.ipaddress = h.ipaddr) \
             FROM download_servers s JOIN hardware h ON h.id = s.hardware_id \
             WHERE s.group_id = $1 ORDER BY h.name, h.id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, ip, subnet)| RedistributionMember {
                hardware_id: HostId(id),
                name: name.unwrap_or_default(),
                ip: ip.unwrap_or_default(),
                subnet: subnet.unwrap_or_default(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    async fn hosts(store: &Store) -> Vec<HostId> {
        let mut tx = store.begin().await.unwrap();
        let mut ids = Vec::new();
        for (name, ip) in [("relay-b", "192.0.2.2"), ("relay-a", "192.0.2.1")] {
            let id = tx.insert_host(&format!("{name}-2024")).await.unwrap();
            sqlx::query("UPDATE hardware SET name = $1, ipaddr = $2 WHERE id = $3")
                .bind(name)
                .bind(ip)
                .bind(id.0)
                .execute(tx.conn())
                .await
                .unwrap();
            ids.push(id);
        }
        tx.commit().await.unwrap();
        ids
    }

    #[tokio::test]
    async fn groups_members_and_overwrite() {
        let (store, _dir) = store().await;
        let ids = hosts(&store).await;
        let g = store
            .create_redistribution_group("paris", "relays", 100)
            .await
            .unwrap();
        assert!(matches!(
            store.create_redistribution_group("paris", "", 1).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            store
                .add_redistribution_servers(g, &ids[..1], false)
                .await
                .unwrap(),
            1
        );
        // Again, plus an unknown computer: still once each, the unknown skipped.
        assert_eq!(
            store
                .add_redistribution_servers(g, &[ids[0], ids[1], HostId(999_999)], false)
                .await
                .unwrap(),
            2
        );
        let members = store.redistribution_members(g).await.unwrap();
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["relay-a", "relay-b"]);
        assert_eq!(members[0].ip, "192.0.2.1");
        assert_eq!(
            store
                .add_redistribution_servers(g, &ids[1..], true)
                .await
                .unwrap(),
            1
        );
        let listed = store.list_redistribution_groups().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (
                listed[0].members,
                listed[0].pack_url.as_str(),
                listed[0].created_at
            ),
            (1, "$IP$/download", 100)
        );
        store
            .update_redistribution_group(g, "lyon", "moved", "$NAME$:8080/pkg")
            .await
            .unwrap();
        let found = store.find_redistribution_group(g).await.unwrap().unwrap();
        assert_eq!(
            (found.name.as_str(), found.pack_url.as_str()),
            ("lyon", "$NAME$:8080/pkg")
        );
        let other = store
            .create_redistribution_group("nice", "", 1)
            .await
            .unwrap();
        assert!(matches!(
            store
                .update_redistribution_group(other, "lyon", "", "x")
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert!(store.remove_redistribution_server(g, ids[1]).await.unwrap());
        assert!(!store.remove_redistribution_server(g, ids[1]).await.unwrap());
        assert!(store.delete_redistribution_group(g).await.unwrap());
        assert!(store.find_redistribution_group(g).await.unwrap().is_none());
    }
}
