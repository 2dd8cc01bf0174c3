//! Activations: `download_enable` rows, one for the main server and one per redistribution
//! server of a redistribution group a package is activated for.

use super::{ActivationId, ActivationRecord, RedistributionGroupId};
use crate::{HostId, Result, Store};

/// What a new activation is made of.
#[derive(Debug, Clone)]
pub struct NewActivation {
    /// The package.
    pub fileid: String,
    /// host[/path] serving the info file over HTTPS.
    pub info_loc: String,
    /// host[/path] serving the fragments.
    pub pack_loc: String,
    /// The redistribution server and its group, for a redistribution activation.
    pub server: Option<(HostId, RedistributionGroupId)>,
    /// Who activates it.
    pub activated_by: String,
}

type ActivationRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    i64,
    String,
);

const ACTIVATION_COLUMNS: &str =
    "e.id, e.fileid, e.info_loc, e.pack_loc, e.cert_path, e.cert_file, \
     e.server_id, e.group_id, e.activated_at, e.activated_by";

fn record(row: ActivationRow) -> ActivationRecord {
    let (
        id,
        fileid,
        info_loc,
        pack_loc,
        cert_path,
        cert_file,
        server_id,
        group_id,
        activated_at,
        activated_by,
    ) = row;
    ActivationRecord {
        id: ActivationId(id),
        fileid,
        info_loc,
        pack_loc,
        cert_path,
        cert_file,
        server_id: server_id.map(HostId),
        group_id: group_id.map(RedistributionGroupId),
        activated_at,
        activated_by,
    }
}

impl Store {
    /// Records activations, all in one transaction.
    pub async fn insert_activations(
        &self,
        new: &[NewActivation],
        now: i64,
    ) -> Result<Vec<ActivationId>> {
        let mut tx = self.begin().await?;
        let mut ids = Vec::with_capacity(new.len());
        for a in new {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO download_enable (fileid, info_loc, pack_loc, server_id, group_id, activated_at, activated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(&a.fileid)
            .bind(&a.info_loc)
            .bind(&a.pack_loc)
            .bind(a.server.map(|(h, _)| h.0))
            .bind(a.server.map(|(_, g)| g.0))
            .bind(now)
            .bind(&a.activated_by)
            .fetch_one(tx.conn())
            .await?;
            ids.push(ActivationId(id));
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// The activations of a package, main server first.
    pub async fn activations_of(&self, fileid: &str) -> Result<Vec<ActivationRecord>> {
        let rows: Vec<ActivationRow> = sqlx::query_as(&format!(
            "SELECT {ACTIVATION_COLUMNS} FROM download_enable e WHERE e.fileid = $1 \
             ORDER BY CASE WHEN e.server_id IS NULL THEN 0 ELSE 1 END, e.id"
        ))
        .bind(fileid)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(record).collect())
    }

    /// An activation, if it exists.
    pub async fn find_activation(&self, id: ActivationId) -> Result<Option<ActivationRecord>> {
        let row: Option<ActivationRow> = sqlx::query_as(&format!(
            "SELECT {ACTIVATION_COLUMNS} FROM download_enable e WHERE e.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(record))
    }

    /// Deactivates: removes the activations given (or every activation of the package when
    /// `ids` is empty) with their affectations; returns how many activations went.
    pub async fn delete_activations(&self, fileid: &str, ids: &[ActivationId]) -> Result<u64> {
        let targets: Vec<i64> = if ids.is_empty() {
            self.activations_of(fileid)
                .await?
                .into_iter()
                .map(|a| a.id.0)
                .collect()
        } else {
            ids.iter().map(|a| a.0).collect()
        };
        let mut tx = self.begin().await?;
        let mut gone = 0;
        for id in targets {
            sqlx::query(
                "DELETE FROM devices WHERE name IN ('DOWNLOAD', 'DOWNLOAD_FORCE', 'DOWNLOAD_SCHEDULE', 'DOWNLOAD_POSTCMD') \
                 AND ivalue = $1",
            )
            .bind(id)
            .execute(tx.conn())
            .await?;
            sqlx::query("DELETE FROM group_packages WHERE activation_id = $1")
                .bind(id)
                .execute(tx.conn())
                .await?;
            gone += sqlx::query("DELETE FROM download_enable WHERE id = $1 AND fileid = $2")
                .bind(id)
                .bind(fileid)
                .execute(tx.conn())
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(gone)
    }
}

/// A redistribution group as activating a package for it needs it: its fragments location
/// and its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedistributionTargets {
    /// `pack_url` of the group (`$IP$` / `$NAME$` kept).
    pub pack_url: String,
    /// Members: (computer, name, IP address).
    pub servers: Vec<(HostId, String, String)>,
}

impl Store {
    /// A redistribution group's fragments location and members (by name), if it exists.
    pub async fn redistribution_targets(
        &self,
        group: RedistributionGroupId,
    ) -> Result<Option<RedistributionTargets>> {
        let pack_url: Option<String> =
            sqlx::query_scalar("SELECT pack_url FROM redistribution_groups WHERE id = $1")
                .bind(group.0)
                .fetch_optional(&self.pool)
                .await?;
        let Some(pack_url) = pack_url else {
            return Ok(None);
        };
        let rows: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT h.id, h.name, h.ipaddr FROM download_servers s JOIN hardware h ON h.id = s.hardware_id \
             WHERE s.group_id = $1 ORDER BY h.name, h.id",
        )
        .bind(group.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(RedistributionTargets {
            pack_url,
            servers: rows
                .into_iter()
                .map(|(id, name, ip)| {
                    (HostId(id), name.unwrap_or_default(), ip.unwrap_or_default())
                })
                .collect(),
        }))
    }

    /// Every activation of every package, with its package, for pickers (one statement).
    pub async fn list_activations(&self) -> Result<Vec<ActivationRecord>> {
        let rows: Vec<ActivationRow> = sqlx::query_as(&format!(
            "SELECT {ACTIVATION_COLUMNS} FROM download_enable e \
             JOIN download_available p ON p.fileid = e.fileid AND p.deleted = 0 ORDER BY e.fileid DESC, e.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(record).collect())
    }

    /// Whether a package has at least one activation (what decides that its files are served).
    pub async fn is_activated(&self, fileid: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM download_enable e JOIN download_available p ON p.fileid = e.fileid \
             WHERE e.fileid = $1 AND p.deleted = 0",
        )
        .bind(fileid)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::PackageRecord;
    use crate::test_support::store;

    fn package(fileid: &str) -> PackageRecord {
        PackageRecord {
            fileid: fileid.into(),
            name: "p".into(),
            description: String::new(),
            os: "LINUX".into(),
            action: "EXECUTE".into(),
            action_param: "true".into(),
            priority: 5,
            fragments: 0,
            size: 0,
            digest: String::new(),
            created_at: 1,
            created_by: "cli".into(),
        }
    }

    async fn exec(store: &Store, sql: &str) {
        let mut tx = store.begin().await.unwrap();
        sqlx::query(sql).execute(tx.conn()).await.unwrap();
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn redistribution_targets_and_activation_state() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        let a = tx.insert_host("pc-a-2024").await.unwrap();
        let b = tx.insert_host("pc-b-2024").await.unwrap();
        tx.commit().await.unwrap();
        exec(
            &store,
            &format!(
                "UPDATE hardware SET name = 'srv-b', ipaddr = '10.0.0.2' WHERE id = {}",
                b.0
            ),
        )
        .await;
        exec(
            &store,
            &format!(
                "UPDATE hardware SET name = 'srv-a', ipaddr = '10.0.0.1' WHERE id = {}",
                a.0
            ),
        )
        .await;
        exec(&store, "INSERT INTO redistribution_groups (name, pack_url, created_at) VALUES ('site', '$IP$:8080/pkg', 5)").await;
        let gid = RedistributionGroupId(1);
        exec(
            &store,
            &format!(
                "INSERT INTO download_servers (group_id, hardware_id) VALUES (1, {}), (1, {})",
                a.0, b.0
            ),
        )
        .await;

        let t = store.redistribution_targets(gid).await.unwrap().unwrap();
        assert_eq!(t.pack_url, "$IP$:8080/pkg");
        assert_eq!(
            t.servers,
            vec![
                (a, "srv-a".into(), "10.0.0.1".into()),
                (b, "srv-b".into(), "10.0.0.2".into())
            ]
        );
        assert!(store
            .redistribution_targets(RedistributionGroupId(99))
            .await
            .unwrap()
            .is_none());

        store.insert_package(&package("1700000000")).await.unwrap();
        assert!(!store.is_activated("1700000000").await.unwrap());
        let new: Vec<NewActivation> = t
            .servers
            .iter()
            .map(|(h, _, _)| NewActivation {
                fileid: "1700000000".into(),
                info_loc: "main/download".into(),
                pack_loc: t.pack_url.clone(),
                server: Some((*h, gid)),
                activated_by: "admin".into(),
            })
            .collect();
        let ids = store.insert_activations(&new, 7).await.unwrap();
        assert!(store.is_activated("1700000000").await.unwrap());
        let all = store.list_activations().await.unwrap();
        assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
        assert_eq!(all[0].group_id, Some(gid));
        assert_eq!(
            store.delete_activations("1700000000", &[]).await.unwrap(),
            2
        );
        assert!(!store.is_activated("1700000000").await.unwrap());
        assert!(!store.is_activated("1800000000").await.unwrap());
    }
}
