//! The deployment log: every build, activation, affectation and validation, with the
//! administrator's login (issue "Safety": every such action is logged).

use crate::{Result, Store};

/// One entry of the deployment log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentLogEntry {
    /// Unix time.
    pub at: i64,
    /// Login of the administrator (or `cli`, or `api:<token name>`).
    pub actor: String,
    /// What was done (`build`, `activate`, `deactivate`, `affect`, `unaffect`, `validate`,
    /// `delete`, …).
    pub action: String,
    /// The package.
    pub fileid: String,
    /// Details (targets, counts).
    pub detail: String,
}

impl Store {
    /// Appends to the deployment log.
    pub async fn log_deployment(&self, e: &DeploymentLogEntry) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO deployment_log (at, actor, action, fileid, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.fileid)
            .bind(&e.detail)
            .execute(tx.conn())
            .await?;
        tx.commit().await
    }

    /// The log of a package, newest first (at most `limit` entries).
    pub async fn deployment_log(
        &self,
        fileid: &str,
        limit: i64,
    ) -> Result<Vec<DeploymentLogEntry>> {
        let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
            "SELECT at, actor, action, fileid, detail FROM deployment_log WHERE fileid = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(fileid)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at, actor, action, fileid, detail)| DeploymentLogEntry {
                at,
                actor,
                action,
                fileid,
                detail,
            })
            .collect())
    }
}
