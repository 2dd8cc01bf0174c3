//! Affectations: which computers and groups a package is given to.
//!
//! A computer's affectation is its `devices` rows (reference §6.1): `DOWNLOAD` with the
//! status in TVALUE (NULL until the PROLOG offers it), and, when asked for, `DOWNLOAD_FORCE`
//! (`1`), `DOWNLOAD_SCHEDULE` and `DOWNLOAD_POSTCMD`, all with IVALUE = the activation. A
//! group's is its `group_packages` row; members get their own rows at their PROLOG (§6.4).
//!
//! A computer has at most one affectation per package: affecting another activation of the
//! same package (or the same one again) replaces the previous rows, so the status starts
//! over. Computer IDs are bound [`IDS_PER_STATEMENT`] per statement, all in one transaction.

use super::ActivationId;
use crate::groups::GroupId;
use crate::hosts::HostId;
use crate::mass::IDS_PER_STATEMENT;
use crate::sql::placeholders;
use crate::{Result, Store, WriteTx};

/// The `devices` row names of an affectation.
pub const AFFECTATION_ROWS: &str =
    "'DOWNLOAD', 'DOWNLOAD_FORCE', 'DOWNLOAD_SCHEDULE', 'DOWNLOAD_POSTCMD'";

/// How a package is given (§6.1): force, schedule, post-command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Affectation {
    /// Deploy again even when the agent's history has the package.
    pub forced: bool,
    /// `YYYY/MM/DD HH:MM`, or empty.
    pub schedule: String,
    /// `REBOOT`, `SHUTDOWN` or empty.
    pub postcmd: String,
}

/// A package affected to a computer, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputerAffectation {
    /// The activation.
    pub activation: ActivationId,
    /// The package.
    pub fileid: String,
    /// Its name ('' when the catalogue row is gone).
    pub name: String,
    /// NULL (waiting), `NOTIFIED`, or what the agent reported.
    pub status: Option<String>,
    /// When the status last changed (the server's time text), if it did.
    pub changed: Option<String>,
    /// Force, schedule, post-command.
    pub affectation: Affectation,
}

/// A package given to a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAffectation {
    /// The activation.
    pub activation: ActivationId,
    /// The package.
    pub fileid: String,
    /// Its name.
    pub name: String,
    /// Force, schedule, post-command.
    pub affectation: Affectation,
}

impl WriteTx {
    /// Removes every affectation row of `ids` for any activation of `fileid`.
    async fn drop_affectation_rows(&mut self, fileid: &str, ids: &[HostId]) -> Result<u64> {
        let backend = self.backend;
        let mut gone = 0;
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let head = placeholders(backend, 1, 1);
            let list = placeholders(backend, 2, chunk.len());
            let sql = format!(
                "DELETE FROM devices WHERE name IN ({AFFECTATION_ROWS}) \
                 AND ivalue IN (SELECT id FROM download_enable WHERE fileid = {head}) \
                 AND hardware_id IN ({list})"
            );
            let mut q = sqlx::query(&sql).bind(fileid.to_owned());
            for id in chunk {
                q = q.bind(id.0);
            }
            gone += q.execute(self.conn()).await?.rows_affected();
        }
        Ok(gone)
    }

    /// Inserts one `devices` row of `name` for each of `ids` that is a computer.
    async fn insert_affectation_rows(
        &mut self,
        ids: &[HostId],
        name: &str,
        activation: ActivationId,
        tvalue: Option<&str>,
    ) -> Result<u64> {
        let backend = self.backend;
        let mut added = 0;
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            // PostgreSQL needs the types of bare parameters in a SELECT list.
            let sql = format!(
                "INSERT INTO devices (hardware_id, name, ivalue, tvalue) \
                 SELECT h.id, CAST({} AS TEXT), CAST({} AS BIGINT), CAST({} AS TEXT) \
                 FROM hardware h WHERE h.id IN ({})",
                placeholders(backend, 1, 1),
                placeholders(backend, 2, 1),
                placeholders(backend, 3, 1),
                placeholders(backend, 4, chunk.len()),
            );
            let mut q = sqlx::query(&sql)
                .bind(name.to_owned())
                .bind(activation.0)
                .bind(tvalue.map(str::to_owned));
            for id in chunk {
                q = q.bind(id.0);
            }
            added += q.execute(self.conn()).await?.rows_affected();
        }
        Ok(added)
    }
}

impl Store {
    /// Affects an activation to computers (IDs of no computer are skipped), replacing their
    /// affectation of the same package; returns how many computers got it.
    pub async fn affect_computers(
        &self,
        activation: ActivationId,
        ids: &[HostId],
        how: &Affectation,
    ) -> Result<u64> {
        let fileid: Option<String> =
            sqlx::query_scalar("SELECT fileid FROM download_enable WHERE id = $1")
                .bind(activation.0)
                .fetch_optional(&self.pool)
                .await?;
        let Some(fileid) = fileid else {
            return Ok(0);
        };
        let mut tx = self.begin().await?;
        tx.drop_affectation_rows(&fileid, ids).await?;
        let added = tx
            .insert_affectation_rows(ids, "DOWNLOAD", activation, None)
            .await?;
        if how.forced {
            tx.insert_affectation_rows(ids, "DOWNLOAD_FORCE", activation, Some("1"))
                .await?;
        }
        if !how.schedule.is_empty() {
            tx.insert_affectation_rows(ids, "DOWNLOAD_SCHEDULE", activation, Some(&how.schedule))
                .await?;
        }
        if !how.postcmd.is_empty() {
            tx.insert_affectation_rows(ids, "DOWNLOAD_POSTCMD", activation, Some(&how.postcmd))
                .await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Takes a package (every activation of it) back from computers; returns how many
    /// computers had it.
    pub async fn unaffect_computers(&self, fileid: &str, ids: &[HostId]) -> Result<u64> {
        let mut tx = self.begin().await?;
        let backend = self.backend;
        let mut had = 0;
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let head = placeholders(backend, 1, 1);
            let list = placeholders(backend, 2, chunk.len());
            let sql = format!(
                "SELECT COUNT(*) FROM devices WHERE name = 'DOWNLOAD' \
                 AND ivalue IN (SELECT id FROM download_enable WHERE fileid = {head}) \
                 AND hardware_id IN ({list})"
            );
            let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(fileid.to_owned());
            for id in chunk {
                q = q.bind(id.0);
            }
            had += q.fetch_one(tx.conn()).await?;
        }
        tx.drop_affectation_rows(fileid, ids).await?;
        tx.commit().await?;
        Ok(u64::try_from(had).unwrap_or(0))
    }

    /// Gives an activation to a group, replacing the group's affectation of the same package.
    pub async fn affect_group(
        &self,
        group: GroupId,
        activation: ActivationId,
        how: &Affectation,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "DELETE FROM group_packages WHERE group_id = $1 AND activation_id IN \
             (SELECT id FROM download_enable WHERE fileid = (SELECT fileid FROM download_enable WHERE id = $2))",
        )
        .bind(group.0)
        .bind(activation.0)
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "INSERT INTO group_packages (group_id, activation_id, forced, schedule, postcmd) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(group.0)
        .bind(activation.0)
        .bind(i64::from(how.forced))
        .bind(&how.schedule)
        .bind(&how.postcmd)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }

    /// Takes a package back from a group (members keep the rows their PROLOG created, with
    /// their statuses); returns whether the group had it.
    pub async fn unaffect_group(&self, group: GroupId, fileid: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let gone = sqlx::query(
            "DELETE FROM group_packages WHERE group_id = $1 AND activation_id IN \
             (SELECT id FROM download_enable WHERE fileid = $2)",
        )
        .bind(group.0)
        .bind(fileid)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(gone > 0)
    }

    /// The packages affected to a computer, newest package first.
    pub async fn affectations_of_computer(&self, id: HostId) -> Result<Vec<ComputerAffectation>> {
        type Row = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT d.ivalue, e.fileid, a.name, d.tvalue, d.comments, \
               (SELECT COUNT(*) FROM devices f WHERE f.hardware_id = d.hardware_id \
                  AND f.name = 'DOWNLOAD_FORCE' AND f.ivalue = d.ivalue AND f.tvalue = '1'), \
               (SELECT MAX(s.tvalue) FROM devices s WHERE s.hardware_id = d.hardware_id \
                  AND s.name = 'DOWNLOAD_SCHEDULE' AND s.ivalue = d.ivalue), \
               (SELECT MAX(p.tvalue) FROM devices p WHERE p.hardware_id = d.hardware_id \
                  AND p.name = 'DOWNLOAD_POSTCMD' AND p.ivalue = d.ivalue) \
             FROM devices d JOIN download_enable e ON e.id = d.ivalue \
             LEFT JOIN download_available a ON a.fileid = e.fileid \
             WHERE d.hardware_id = $1 AND d.name = 'DOWNLOAD' \
             ORDER BY e.fileid DESC, d.id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(activation, fileid, name, status, changed, forced, schedule, postcmd)| {
                    ComputerAffectation {
                        activation: ActivationId(activation),
                        fileid,
                        name: name.unwrap_or_default(),
                        status,
                        changed,
                        affectation: Affectation {
                            forced: forced > 0,
                            schedule: schedule.unwrap_or_default(),
                            postcmd: postcmd.unwrap_or_default(),
                        },
                    }
                },
            )
            .collect())
    }

    /// The packages given to a group, newest package first.
    pub async fn affectations_of_group(&self, group: GroupId) -> Result<Vec<GroupAffectation>> {
        type Row = (i64, String, Option<String>, i64, String, String);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT g.activation_id, e.fileid, a.name, g.forced, g.schedule, g.postcmd \
             FROM group_packages g JOIN download_enable e ON e.id = g.activation_id \
             LEFT JOIN download_available a ON a.fileid = e.fileid \
             WHERE g.group_id = $1 ORDER BY e.fileid DESC",
        )
        .bind(group.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(activation, fileid, name, forced, schedule, postcmd)| GroupAffectation {
                    activation: ActivationId(activation),
                    fileid,
                    name: name.unwrap_or_default(),
                    affectation: Affectation {
                        forced: forced != 0,
                        schedule,
                        postcmd,
                    },
                },
            )
            .collect())
    }

    /// The download history of a computer (§6.5): `(package ID, name)`, newest first.
    pub async fn download_history_named(&self, id: HostId) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT h.pkg_id, h.pkg_name, a.name FROM download_history h \
             LEFT JOIN download_available a ON a.fileid = h.pkg_id \
             WHERE h.hardware_id = $1 ORDER BY h.pkg_id DESC",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(pkg, own, catalogue)| (pkg, own.or(catalogue).unwrap_or_default()))
            .collect())
    }
}

impl Store {
    /// The subnets (`networks.ipsubnet`) of these computers, to match each with a
    /// redistribution server of its own network.
    pub async fn subnets_of(&self, ids: &[HostId]) -> Result<Vec<(HostId, String)>> {
        let backend = self.backend();
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let list = placeholders(backend, 1, chunk.len());
            let sql = format!(
                "SELECT DISTINCT hardware_id, ipsubnet FROM networks \
                 WHERE ipsubnet IS NOT NULL AND ipsubnet <> '' AND hardware_id IN ({list})"
            );
            let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
            for id in chunk {
                q = q.bind(id.0);
            }
            out.extend(
                q.fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(h, s)| (HostId(h), s)),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::deployment::PackageRecord;
    use crate::test_support::store;
    use crate::NewActivation;

    /// A package `fileid` activated on the main server (and, with `server`, for that
    /// redistribution server); returns the activations.
    pub(crate) async fn package(
        store: &Store,
        fileid: &str,
        server: Option<HostId>,
    ) -> Vec<ActivationId> {
        store
            .insert_package(&PackageRecord {
                fileid: fileid.into(),
                name: format!("pkg {fileid}"),
                description: String::new(),
                os: "LINUX".into(),
                action: "EXECUTE".into(),
                action_param: "true".into(),
                priority: 5,
                fragments: 0,
                size: 0,
                digest: String::new(),
                created_at: 0,
                created_by: "admin".into(),
            })
            .await
            .unwrap();
        let mut new = vec![NewActivation {
            fileid: fileid.into(),
            info_loc: "main/download".into(),
            pack_loc: "main/download".into(),
            server: None,
            activated_by: "admin".into(),
        }];
        if let Some(s) = server {
            let mut tx = store.begin().await.unwrap();
            sqlx::query(
                "INSERT INTO redistribution_groups (id, name, created_at) VALUES (7, 'r', 0) ON CONFLICT DO NOTHING",
            )
            .execute(tx.conn())
            .await
            .unwrap();
            tx.commit().await.unwrap();
            new.push(NewActivation {
                fileid: fileid.into(),
                info_loc: "main/download".into(),
                pack_loc: "$IP$:8080/$NAME$".into(),
                server: Some((s, crate::deployment::RedistributionGroupId(7))),
                activated_by: "admin".into(),
            });
        }
        store.insert_activations(&new, 0).await.unwrap()
    }

    pub(crate) async fn hosts(store: &Store, n: usize) -> Vec<HostId> {
        let mut tx = store.begin().await.unwrap();
        let mut ids = Vec::new();
        for i in 0..n {
            ids.push(tx.insert_host(&format!("host{i}-2024")).await.unwrap());
        }
        tx.commit().await.unwrap();
        ids
    }

    #[tokio::test]
    async fn affect_replaces_and_unaffect_removes() {
        let (store, _dir) = store().await;
        let ids = hosts(&store, 2).await;
        let act = package(&store, "100", None).await;
        let how = Affectation {
            forced: true,
            schedule: "2030/01/02 03:04".into(),
            postcmd: "REBOOT".into(),
        };
        let missing = HostId(9_999);
        assert_eq!(
            store
                .affect_computers(act[0], &[ids[0], ids[1], missing], &how)
                .await
                .unwrap(),
            2
        );
        // Again, plainly: the rows are replaced, not doubled.
        store
            .affect_computers(act[0], &[ids[0]], &Affectation::default())
            .await
            .unwrap();
        let first = store.affectations_of_computer(ids[0]).await.unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].affectation, Affectation::default());
        assert_eq!(first[0].name, "pkg 100");
        let second = store.affectations_of_computer(ids[1]).await.unwrap();
        assert_eq!(second[0].affectation, how);
        assert_eq!(second[0].status, None);
        assert_eq!(store.unaffect_computers("100", &ids).await.unwrap(), 2);
        assert!(store
            .affectations_of_computer(ids[1])
            .await
            .unwrap()
            .is_empty());
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(left, 0, "force, schedule and post-command rows go too");
    }

    #[tokio::test]
    async fn group_affectations() {
        let (store, _dir) = store().await;
        let ids = hosts(&store, 1).await;
        let act = package(&store, "200", None).await;
        let group = store
            .insert_synthetic_group("g", &[(ids[0], 1)], 0)
            .await
            .unwrap();
        let how = Affectation {
            forced: true,
            ..Affectation::default()
        };
        store.affect_group(group, act[0], &how).await.unwrap();
        store.affect_group(group, act[0], &how).await.unwrap();
        let given = store.affectations_of_group(group).await.unwrap();
        assert_eq!(given.len(), 1);
        assert!(given[0].affectation.forced);
        let offered = store.prolog_packages(ids[0], true).await.unwrap();
        assert_eq!(offered.groups.len(), 1);
        assert!(offered.groups[0].forced);
        assert!(store
            .prolog_packages(ids[0], false)
            .await
            .unwrap()
            .groups
            .is_empty());
        assert!(store.unaffect_group(group, "200").await.unwrap());
        assert!(!store.unaffect_group(group, "200").await.unwrap());
    }
}
