//! Named networks (`subnets`, the original's `subnet`): the name and ID administrators give a
//! network address and mask, shown in the networks list instead of the bare address.

use crate::{Result, Store, StoreError};

/// A named network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetRecord {
    /// Row ID.
    pub id: i64,
    /// Network address (`192.0.2.0`).
    pub netid: String,
    /// Dotted mask (`255.255.255.0`).
    pub mask: String,
    /// Name shown in the console.
    pub name: String,
    /// The free "ID" networks are grouped under.
    pub network_id: String,
    /// TAG the name is for (`''`: every TAG).
    pub tag: String,
}

/// A named network to store (already validated by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubnet {
    /// Network address.
    pub netid: String,
    /// Dotted mask.
    pub mask: String,
    /// Name.
    pub name: String,
    /// Free ID.
    pub network_id: String,
    /// TAG (`''`: every TAG).
    pub tag: String,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubnetImport {
    /// New names.
    pub added: usize,
    /// Existing addresses renamed.
    pub updated: usize,
}

type SubnetRow = (i64, String, String, String, String, String);

fn record((id, netid, mask, name, network_id, tag): SubnetRow) -> SubnetRecord {
    SubnetRecord {
        id,
        netid,
        mask,
        name,
        network_id,
        tag,
    }
}

const SELECT: &str = "SELECT id, netid, mask, name, network_id, tag FROM subnets";

impl Store {
    /// Every named network (in no particular order: callers sort addresses numerically).
    pub async fn list_subnets(&self) -> Result<Vec<SubnetRecord>> {
        let rows: Vec<SubnetRow> = sqlx::query_as(SELECT).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(record).collect())
    }

    /// One named network.
    pub async fn find_subnet(&self, id: i64) -> Result<Option<SubnetRecord>> {
        let row: Option<SubnetRow> = sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(record))
    }

    /// Names a network; [`StoreError::Conflict`] when that address (and TAG) has a name.
    pub async fn insert_subnet(&self, s: &NewSubnet) -> Result<i64> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO subnets (netid, mask, name, network_id, tag) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (netid, tag) DO NOTHING RETURNING id",
        )
        .bind(&s.netid)
        .bind(&s.mask)
        .bind(&s.name)
        .bind(&s.network_id)
        .bind(&s.tag)
        .fetch_optional(&self.pool)
        .await?;
        id.ok_or_else(|| StoreError::Conflict(format!("network {}", s.netid)))
    }

    /// Changes a named network; [`StoreError::NotFound`] when it does not exist,
    /// [`StoreError::Conflict`] when its new address is another one's.
    pub async fn update_subnet(&self, id: i64, s: &NewSubnet) -> Result<()> {
        let mut tx = self.begin().await?;
        let taken: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM subnets WHERE netid = $1 AND tag = $2 AND id <> $3")
                .bind(&s.netid)
                .bind(&s.tag)
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("network {}", s.netid)));
        }
        let done = sqlx::query(
            "UPDATE subnets SET netid = $1, mask = $2, name = $3, network_id = $4, tag = $5 \
             WHERE id = $6",
        )
        .bind(&s.netid)
        .bind(&s.mask)
        .bind(&s.name)
        .bind(&s.network_id)
        .bind(&s.tag)
        .bind(id)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("subnet {id}")));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a network's name; whether it existed.
    pub async fn delete_subnet(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM subnets WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Names many networks in one transaction: a new address is added, a named one gets the
    /// new name, ID and mask. All or nothing.
    pub async fn import_subnets(&self, subnets: &[NewSubnet]) -> Result<SubnetImport> {
        let mut tx = self.begin().await?;
        let mut outcome = SubnetImport::default();
        for s in subnets {
            let done = sqlx::query(
                "UPDATE subnets SET mask = $1, name = $2, network_id = $3 \
                 WHERE netid = $4 AND tag = $5",
            )
            .bind(&s.mask)
            .bind(&s.name)
            .bind(&s.network_id)
            .bind(&s.netid)
            .bind(&s.tag)
            .execute(tx.conn())
            .await?;
            if done.rows_affected() > 0 {
                outcome.updated += 1;
                continue;
            }
            sqlx::query(
                "INSERT INTO subnets (netid, mask, name, network_id, tag) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&s.netid)
            .bind(&s.mask)
            .bind(&s.name)
            .bind(&s.network_id)
            .bind(&s.tag)
            .execute(tx.conn())
            .await?;
            outcome.added += 1;
        }
        tx.commit().await?;
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store as test_store;

    fn named(netid: &str, name: &str) -> NewSubnet {
        NewSubnet {
            netid: netid.into(),
            mask: "255.255.255.0".into(),
            name: name.into(),
            network_id: "HQ".into(),
            tag: String::new(),
        }
    }

    #[tokio::test]
    async fn names_are_added_renamed_refused_twice_and_imported_whole() {
        let (store, _dir) = test_store().await;
        let id = store
            .insert_subnet(&named("192.0.2.0", "LAN"))
            .await
            .unwrap();
        assert!(matches!(
            store.insert_subnet(&named("192.0.2.0", "again")).await,
            Err(StoreError::Conflict(_))
        ));
        store
            .update_subnet(id, &named("192.0.2.0", "Office"))
            .await
            .unwrap();
        assert_eq!(store.find_subnet(id).await.unwrap().unwrap().name, "Office");
        let other = store
            .insert_subnet(&named("198.51.100.0", "DMZ"))
            .await
            .unwrap();
        assert!(matches!(
            store.update_subnet(other, &named("192.0.2.0", "x")).await,
            Err(StoreError::Conflict(_))
        ));
        let done = store
            .import_subnets(&[named("192.0.2.0", "Renamed"), named("203.0.113.0", "Lab")])
            .await
            .unwrap();
        assert_eq!(
            done,
            SubnetImport {
                added: 1,
                updated: 1
            }
        );
        let mut names: Vec<String> = store
            .list_subnets()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        names.sort();
        assert_eq!(names, ["DMZ", "Lab", "Renamed"]);
        assert!(store.delete_subnet(other).await.unwrap());
        assert!(!store.delete_subnet(other).await.unwrap());
        assert!(matches!(
            store.update_subnet(other, &named("10.0.0.0", "gone")).await,
            Err(StoreError::NotFound(_))
        ));
    }
}
