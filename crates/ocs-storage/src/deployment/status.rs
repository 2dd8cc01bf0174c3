//! Deployment statistics: how many computers of a package stand at each status (the TVALUE
//! of their `DOWNLOAD` rows, reference §6.6), and the console's clean-ups of those rows
//! (validate success, unaffect not notified, validate all).

use crate::deployment::affect::AFFECTATION_ROWS;
use crate::{Result, Store};

/// Which rows a validation drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Rows whose status starts with `SUCCESS`.
    Success,
    /// Rows never offered (status NULL).
    NotNotified,
    /// Every row that has a result (neither NULL nor `NOTIFIED`).
    All,
}

impl Validation {
    fn condition(self) -> &'static str {
        match self {
            Validation::Success => "d.tvalue LIKE 'SUCCESS%'",
            Validation::NotNotified => "d.tvalue IS NULL",
            Validation::All => "d.tvalue IS NOT NULL AND d.tvalue <> 'NOTIFIED'",
        }
    }
}

impl Store {
    /// The statuses of a package's computers, `(status, computers)`, waiting (NULL) first,
    /// then by status.
    pub async fn package_status_counts(&self, fileid: &str) -> Result<Vec<(Option<String>, i64)>> {
        Ok(sqlx::query_as(
            "SELECT d.tvalue, COUNT(*) FROM devices d JOIN download_enable e ON e.id = d.ivalue \
             WHERE d.name = 'DOWNLOAD' AND e.fileid = $1 \
             GROUP BY d.tvalue ORDER BY CASE WHEN d.tvalue IS NULL THEN 0 ELSE 1 END, d.tvalue",
        )
        .bind(fileid)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Drops the `DOWNLOAD` rows of a package that `which` selects, with their force,
    /// schedule and post-command rows; returns how many computers lost it.
    pub async fn validate_package(&self, fileid: &str, which: Validation) -> Result<u64> {
        let mut tx = self.begin().await?;
        let cond = which.condition();
        let gone = sqlx::query(&format!(
            "DELETE FROM devices WHERE id IN (SELECT d.id FROM devices d \
             JOIN download_enable e ON e.id = d.ivalue \
             WHERE d.name = 'DOWNLOAD' AND e.fileid = $1 AND {cond})"
        ))
        .bind(fileid)
        .execute(tx.conn())
        .await?
        .rows_affected();
        // Companion rows left without their DOWNLOAD row.
        sqlx::query(&format!(
            "DELETE FROM devices WHERE name IN ({AFFECTATION_ROWS}) AND name <> 'DOWNLOAD' \
             AND ivalue IN (SELECT id FROM download_enable WHERE fileid = $1) \
             AND NOT EXISTS (SELECT 1 FROM devices o WHERE o.hardware_id = devices.hardware_id \
               AND o.name = 'DOWNLOAD' AND o.ivalue = devices.ivalue)"
        ))
        .bind(fileid)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::computers::{
        like_exact, search_field, Criterion, CriterionField, CriterionValue, Operator,
    };
    use crate::deployment::affect::tests::{hosts, package};
    use crate::test_support::store;
    use crate::{Affectation, HostId};

    async fn set(store: &Store, id: HostId, status: &str) {
        let mut tx = store.begin().await.unwrap();
        tx.record_download_report(id, "400", status, 0, "t")
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn counts_search_and_validations() {
        let (store, _dir) = store().await;
        let ids = hosts(&store, 5).await;
        let act = package(&store, "400", None).await;
        let how = Affectation {
            forced: true,
            ..Affectation::default()
        };
        store.affect_computers(act[0], &ids, &how).await.unwrap();
        set(&store, ids[1], "NOTIFIED").await;
        set(&store, ids[2], "SUCCESS").await;
        set(&store, ids[3], "SUCCESS_1").await;
        set(&store, ids[4], "ERR_BAD_DIGEST").await;
        let counts = store.package_status_counts("400").await.unwrap();
        assert_eq!(
            counts,
            vec![
                (None, 1),
                (Some("ERR_BAD_DIGEST".into()), 1),
                (Some("NOTIFIED".into()), 1),
                (Some("SUCCESS".into()), 1),
                (Some("SUCCESS_1".into()), 1),
            ]
        );
        let field = search_field("deployment").unwrap();
        let find = |pattern: &str| Criterion {
            field: CriterionField::Builtin(field),
            op: Operator::Equal,
            first: CriterionValue::Text(like_exact(pattern)),
            second: None,
        };
        let matching = store
            .matching_computer_ids(&[find("400:SUCCESS*")], None)
            .await
            .unwrap();
        assert_eq!(matching, vec![ids[2], ids[3]]);
        assert_eq!(
            store
                .matching_computer_ids(&[find("400:waiting")], None)
                .await
                .unwrap(),
            vec![ids[0]]
        );
        assert_eq!(
            store
                .validate_package("400", Validation::Success)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .validate_package("400", Validation::NotNotified)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .validate_package("400", Validation::All)
                .await
                .unwrap(),
            1,
            "NOTIFIED has no result yet"
        );
        let left: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, hardware_id FROM devices ORDER BY name")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        assert_eq!(
            left,
            vec![
                ("DOWNLOAD".to_owned(), ids[1].0),
                ("DOWNLOAD_FORCE".to_owned(), ids[1].0)
            ]
        );
    }
}
