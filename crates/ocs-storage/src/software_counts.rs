//! The fleet's software counts: how many computers have each (name, publisher, version) and
//! each (name, publisher), recomputed as a whole. Counting millions of `software` rows takes
//! seconds, so the lists read these instead; the counting reads run without holding the
//! writer, and the new counts replace the old in one short transaction.

use crate::{Backend, Result, Store};

/// Rows per insert statement (4 bound values each, under the drivers' parameter limits).
const ROWS_PER_INSERT: usize = 200;

/// What a refresh counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftwareCounts {
    /// (name, publisher, version) triples installed somewhere.
    pub triples: usize,
    /// (name, publisher) pairs installed somewhere.
    pub names: usize,
}

impl Store {
    /// When the counts were last made (`None`: never).
    pub async fn software_counts_refreshed_at(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT refreshed_at FROM software_counts_refresh WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// How many computers there are (to tell whether counting is quick).
    pub async fn computer_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM hardware")
            .fetch_one(&self.read_pool)
            .await?)
    }

    /// Counts every installed triple's and pair's computers again and replaces the counts.
    pub async fn refresh_software_counts(&self, now: i64) -> Result<SoftwareCounts> {
        let triples: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT name_id, publisher_id, version_id, COUNT(DISTINCT hardware_id) \
             FROM software GROUP BY name_id, publisher_id, version_id",
        )
        .fetch_all(&self.read_pool)
        .await?;
        let names: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT name_id, publisher_id, COUNT(DISTINCT hardware_id) \
             FROM software GROUP BY name_id, publisher_id",
        )
        .fetch_all(&self.read_pool)
        .await?;
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            // Two instances replacing the counts at once would collide on the keys.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('software counts', 0))")
                .execute(tx.conn())
                .await?;
        }
        for table in ["software_triple_counts", "software_name_counts"] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(tx.conn())
                .await?;
        }
        for chunk in triples.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(
                "software_triple_counts (name_id, publisher_id, version_id, computers)",
                4,
                chunk.len(),
            );
            let mut q = sqlx::query(&sql);
            for (n, p, v, c) in chunk {
                q = q.bind(*n).bind(*p).bind(*v).bind(*c);
            }
            q.execute(tx.conn()).await?;
        }
        for chunk in names.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(
                "software_name_counts (name_id, publisher_id, computers)",
                3,
                chunk.len(),
            );
            let mut q = sqlx::query(&sql);
            for (n, p, c) in chunk {
                q = q.bind(*n).bind(*p).bind(*c);
            }
            q.execute(tx.conn()).await?;
        }
        sqlx::query(
            "INSERT INTO software_counts_refresh (id, refreshed_at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET refreshed_at = excluded.refreshed_at",
        )
        .bind(now)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(SoftwareCounts {
            triples: triples.len(),
            names: names.len(),
        })
    }
}

/// `INSERT INTO {target} VALUES ($1, …), (…)` for `rows` rows of `width` values.
fn insert_sql(target: &str, width: usize, rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect();
    format!("INSERT INTO {target} VALUES {}", values.join(", "))
}

#[cfg(test)]
mod tests {
    use ocs_proto::{catalogue, Value};

    use super::*;
    use crate::software_fleet::{SoftwareFilter, SoftwareSort};
    use crate::test_support::store;

    fn sw(name: &str, version: &str) -> Vec<Value> {
        catalogue::SOFTWARES
            .fields
            .iter()
            .map(|f| match f.name {
                "NAME" => Value::Text(name.into()),
                "VERSION" => Value::Text(version.into()),
                _ => Value::Null,
            })
            .collect()
    }

    #[tokio::test]
    async fn a_computer_with_two_versions_counts_once_for_the_software() {
        let (store, _dir) = store().await;
        assert_eq!(store.software_counts_refreshed_at().await.unwrap(), None);
        let mut tx = store.begin().await.unwrap();
        let a = tx.insert_host("a-2024-01-01-00-00-00").await.unwrap();
        let b = tx.insert_host("b-2024-01-01-00-00-00").await.unwrap();
        tx.reconcile_software(a, &[sw("tool", "1"), sw("tool", "2")])
            .await
            .unwrap();
        tx.reconcile_software(b, &[sw("tool", "2")]).await.unwrap();
        tx.commit().await.unwrap();
        let counted = store.refresh_software_counts(100).await.unwrap();
        assert_eq!(
            counted,
            SoftwareCounts {
                triples: 2,
                names: 1
            }
        );
        assert_eq!(
            store.software_counts_refreshed_at().await.unwrap(),
            Some(100)
        );
        let (total, rows) = store
            .software_page(&SoftwareFilter::default(), SoftwareSort::Name, false, None)
            .await
            .unwrap();
        assert_eq!(total, 1);
        assert_eq!((rows[0].versions, rows[0].computers), (2, 2));
        // Counting again replaces, never adds.
        store.refresh_software_counts(200).await.unwrap();
        let (_, rows) = store
            .software_page(&SoftwareFilter::default(), SoftwareSort::Name, false, None)
            .await
            .unwrap();
        assert_eq!(rows[0].computers, 2);
        assert_eq!(
            store.software_counts_refreshed_at().await.unwrap(),
            Some(200)
        );
        assert_eq!(
            insert_sql("t (a, b)", 2, 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }
}
