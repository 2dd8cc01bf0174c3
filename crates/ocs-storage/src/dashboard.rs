//! The figures of the home dashboard. Each reads one index (`hardware_lastcome`,
//! `hardware_osname`, `hardware_useragent`, `hardware_lastdate`), so the page stays fast on
//! a large fleet; the software and TAG figures come from their own modules.

use crate::{Result, Store};

/// A column the dashboard counts computers by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    /// `HARDWARE/OSNAME`.
    Os,
    /// The agent's `User-Agent` (name and version).
    Agent,
}

impl Breakdown {
    fn column(self) -> &'static str {
        match self {
            Breakdown::Os => "osname",
            Breakdown::Agent => "useragent",
        }
    }
}

/// Computers per value of a column, the most common first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repartition {
    /// The most common values (`None`: not reported) with their computers.
    pub top: Vec<(Option<String>, i64)>,
    /// Computers with any other value.
    pub others: i64,
    /// How many other values there are.
    pub other_values: i64,
}

/// A computer recently inventoried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentInventory {
    /// Its ID.
    pub id: i64,
    /// HARDWARE/NAME.
    pub name: Option<String>,
    /// HARDWARE/OSNAME.
    pub os: Option<String>,
    /// When the inventory was stored (Unix seconds).
    pub at: i64,
}

impl Store {
    /// For each cutoff (Unix seconds), the computers whose last contact is at or after it.
    pub async fn computers_seen_since(&self, cutoffs: &[i64]) -> Result<Vec<i64>> {
        let mut counts = Vec::with_capacity(cutoffs.len());
        for cutoff in cutoffs {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hardware WHERE lastcome >= $1")
                .bind(cutoff)
                .fetch_one(&self.read_pool)
                .await?;
            counts.push(n);
        }
        Ok(counts)
    }

    /// Computers whose last contact is before `cutoff` (Unix seconds).
    pub async fn computers_not_seen_since(&self, cutoff: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM hardware WHERE lastcome < $1")
                .bind(cutoff)
                .fetch_one(&self.read_pool)
                .await?,
        )
    }

    /// Computers per value of `by`: the `limit` most common, and the rest in one figure.
    pub async fn computer_repartition(&self, by: Breakdown, limit: usize) -> Result<Repartition> {
        let column = by.column();
        let rows: Vec<(Option<String>, i64)> = sqlx::query_as(&format!(
            "SELECT {column}, COUNT(*) FROM hardware GROUP BY {column}"
        ))
        .fetch_all(&self.read_pool)
        .await?;
        Ok(repartition(rows, limit))
    }

    /// The `limit` computers inventoried last, the latest first.
    pub async fn recent_inventories(&self, limit: i64) -> Result<Vec<RecentInventory>> {
        let rows: Vec<RecentRow> = sqlx::query_as(
            "SELECT id, name, osname, lastdate FROM hardware WHERE lastdate IS NOT NULL \
             ORDER BY lastdate DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read_pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, os, at)| RecentInventory {
                id,
                name,
                os,
                at: at.unwrap_or_default(),
            })
            .collect())
    }
}

/// id, name, OS name, last inventory (Unix seconds).
type RecentRow = (i64, Option<String>, Option<String>, Option<i64>);

/// Empty texts count as "not reported", with the NULLs.
fn repartition(rows: Vec<(Option<String>, i64)>, limit: usize) -> Repartition {
    let mut merged: std::collections::HashMap<Option<String>, i64> =
        std::collections::HashMap::new();
    for (value, n) in rows {
        let value = value.filter(|v| !v.trim().is_empty());
        *merged.entry(value).or_insert(0) += n;
    }
    let mut all: Vec<(Option<String>, i64)> = merged.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let rest = all.split_off(limit.min(all.len()));
    Repartition {
        top: all,
        others: rest.iter().map(|(_, n)| n).sum(),
        other_values: i64::try_from(rest.len()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    #[test]
    fn empty_values_join_the_unreported_and_the_tail_is_summed() {
        let rows = vec![
            (Some("Linux".to_owned()), 5),
            (None, 1),
            (Some(" ".to_owned()), 2),
            (Some("Windows".to_owned()), 4),
            (Some("BSD".to_owned()), 1),
        ];
        let r = repartition(rows, 2);
        assert_eq!(
            r.top,
            vec![
                (Some("Linux".to_owned()), 5),
                (Some("Windows".to_owned()), 4)
            ]
        );
        assert_eq!((r.others, r.other_values), (4, 2));
    }

    #[tokio::test]
    async fn figures_follow_the_stored_computers() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        for (i, (os, seen)) in [("Linux", 100), ("Linux", 50), ("Windows", 10)]
            .into_iter()
            .enumerate()
        {
            let id = tx
                .insert_host(&format!("pc{i}-2024-01-01-00-00-00"))
                .await
                .unwrap();
            sqlx::query(
                "UPDATE hardware SET osname = $2, lastcome = $3, lastdate = $3, name = $4 WHERE id = $1",
            )
            .bind(id.0)
            .bind(os)
            .bind(seen)
            .bind(format!("pc{i}"))
            .execute(tx.conn())
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        assert_eq!(
            store.computers_seen_since(&[50, 101]).await.unwrap(),
            [2, 0]
        );
        assert_eq!(store.computers_not_seen_since(50).await.unwrap(), 1);
        let by_os = store.computer_repartition(Breakdown::Os, 1).await.unwrap();
        assert_eq!(by_os.top, vec![(Some("Linux".to_owned()), 2)]);
        assert_eq!((by_os.others, by_os.other_values), (1, 1));
        let recent = store.recent_inventories(2).await.unwrap();
        assert_eq!(
            recent.iter().map(|r| r.name.as_deref()).collect::<Vec<_>>(),
            [Some("pc0"), Some("pc1")]
        );
    }
}
