//! The package catalogue: `download_available` rows. A deleted package's row is removed with
//! its activations and affectations (the original kept it with `DELETED=1`; nothing here
//! reads deleted rows, and history rows keep the package name they were given).

use super::{PackageRecord, PackageSummary};
use crate::{Result, Store, StoreError};

type PackageRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    i64,
    i64,
    String,
    i64,
    String,
);

const PACKAGE_COLUMNS: &str =
    "p.fileid, p.name, p.description, p.osname, p.action, p.action_param, \
     p.priority, p.fragments, p.size, p.digest, p.created_at, p.created_by";

fn record(row: PackageRow) -> PackageRecord {
    let (
        fileid,
        name,
        description,
        os,
        action,
        action_param,
        priority,
        fragments,
        size,
        digest,
        created_at,
        created_by,
    ) = row;
    PackageRecord {
        fileid,
        name,
        description,
        os: os.unwrap_or_default(),
        action,
        action_param,
        priority,
        fragments,
        size,
        digest,
        created_at,
        created_by,
    }
}

impl Store {
    /// Adds a package to the catalogue; [`StoreError::Conflict`] when its FILEID is taken.
    pub async fn insert_package(&self, p: &PackageRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "INSERT INTO download_available (fileid, name, description, osname, action, action_param, \
             priority, fragments, size, digest, created_at, created_by, comment, deleted) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $3, 0) ON CONFLICT (fileid) DO NOTHING",
        )
        .bind(&p.fileid)
        .bind(&p.name)
        .bind(&p.description)
        .bind(&p.os)
        .bind(&p.action)
        .bind(&p.action_param)
        .bind(p.priority)
        .bind(p.fragments)
        .bind(p.size)
        .bind(&p.digest)
        .bind(p.created_at)
        .bind(&p.created_by)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("package {}", p.fileid)));
        }
        tx.commit().await
    }

    /// A package, if it exists (read from the primary: pages show it right after a build).
    pub async fn find_package(&self, fileid: &str) -> Result<Option<PackageRecord>> {
        let row: Option<PackageRow> = sqlx::query_as(&format!(
            "SELECT {PACKAGE_COLUMNS} FROM download_available p WHERE p.fileid = $1 AND p.deleted = 0"
        ))
        .bind(fileid)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(record))
    }

    /// Every package, newest first, with its number of activations (one statement).
    pub async fn list_packages(&self) -> Result<Vec<PackageSummary>> {
        type SummaryRow = (
            String,
            String,
            String,
            Option<String>,
            String,
            String,
            i64,
            i64,
            i64,
            String,
            i64,
            String,
            i64,
        );
        let rows: Vec<SummaryRow> =
            sqlx::query_as(&format!(
                "SELECT {PACKAGE_COLUMNS}, COALESCE(a.n, 0) FROM download_available p LEFT JOIN \
                 (SELECT fileid, COUNT(*) AS n FROM download_enable GROUP BY fileid) a ON a.fileid = p.fileid \
                 WHERE p.deleted = 0 ORDER BY p.created_at DESC, p.fileid DESC"
            ))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(f, n, d, o, a, ap, pr, fr, s, dg, c, cb, act)| PackageSummary {
                    package: record((f, n, d, o, a, ap, pr, fr, s, dg, c, cb)),
                    activations: act,
                },
            )
            .collect())
    }

    /// Removes a package with its activations and every affectation of them (computers' and
    /// groups'); returns whether it existed.
    pub async fn delete_package(&self, fileid: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "DELETE FROM devices WHERE name IN ('DOWNLOAD', 'DOWNLOAD_FORCE', 'DOWNLOAD_SCHEDULE', 'DOWNLOAD_POSTCMD') \
             AND ivalue IN (SELECT id FROM download_enable WHERE fileid = $1)",
        )
        .bind(fileid)
        .execute(tx.conn())
        .await?;
        sqlx::query("DELETE FROM group_packages WHERE activation_id IN (SELECT id FROM download_enable WHERE fileid = $1)")
            .bind(fileid)
            .execute(tx.conn())
            .await?;
        sqlx::query("DELETE FROM download_enable WHERE fileid = $1")
            .bind(fileid)
            .execute(tx.conn())
            .await?;
        let gone = sqlx::query("DELETE FROM download_available WHERE fileid = $1")
            .bind(fileid)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(gone.rows_affected() > 0)
    }
}
