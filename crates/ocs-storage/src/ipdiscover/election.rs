//! The election state of IP discovery (reference §5.1, §5.3): the `devices` rows
//! `NAME='IPDISCOVER'` (IVALUE 0 never, 1 elected automatically, 2 forced; TVALUE the network
//! scanned; COMMENTS why) and what choosing a scanner reads. Every read and write goes through
//! the inventory's [`WriteTx`], so an election is decided and stored with the inventory that
//! caused it. The rules themselves are the server's; nothing here decides.

use crate::hosts::HostId;
use crate::{Result, Store, WriteTx};

/// IVALUE of a computer never elected (set by an administrator).
pub const NEVER: i64 = 0;
/// IVALUE of an automatic election.
pub const AUTOMATIC: i64 = 1;
/// IVALUE of an election forced by an administrator, never undone automatically.
pub const FORCED: i64 = 2;

/// TAG of a computer without administrative data, as the column's default.
const NO_TAG: &str = "NA";

/// A computer's `IPDISCOVER` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionRow {
    /// 0 never, 1 automatic, 2 forced.
    pub ivalue: i64,
    /// Network scanned, when any.
    pub subnet: Option<String>,
    /// Why it was elected (`free_slot`, `replaced_stale:<id>`, `forced`, …).
    pub reason: Option<String>,
}

/// What the election needs to know of the computer that sent an inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannerState {
    /// Number of contacts.
    pub fidelity: i64,
    /// Running mean of days between contacts (lower is better).
    pub quality: f64,
    /// Its TAG (`NA` without administrative data).
    pub tag: String,
    /// Its `IPDISCOVER` row, if any.
    pub election: Option<ElectionRow>,
}

/// A computer elected automatically on a network, as replacing one compares them.
#[derive(Debug, Clone, PartialEq)]
pub struct ElectedComputer {
    /// The computer.
    pub id: HostId,
    /// Its last inventory (Unix seconds).
    pub lastdate: Option<i64>,
    /// Its QUALITY.
    pub quality: f64,
    /// Its TAG.
    pub tag: String,
}

/// Computers of a network: TAG filter on the computer's administrative data (`$2`).
const TAG_FILTER: &str = " AND COALESCE((SELECT a.tag FROM accountinfo a WHERE a.hardware_id = d.hardware_id), 'NA') = $2";

type ElectionSql = (Option<i64>, Option<String>, Option<String>);

const ELECTION_ROWS: &str = "SELECT ivalue, tvalue, comments FROM devices \
     WHERE hardware_id = $1 AND name = 'IPDISCOVER' ORDER BY id";

/// Several rows can only come from outside edits: the most decisive one counts (a "never"
/// over an election, a forced over an automatic one).
fn most_decisive(rows: Vec<ElectionSql>) -> Option<ElectionRow> {
    rows.into_iter()
        .map(|(ivalue, tvalue, comments)| ElectionRow {
            ivalue: ivalue.unwrap_or(NEVER),
            subnet: tvalue.filter(|t| !t.trim().is_empty()),
            reason: comments.filter(|c| !c.is_empty()),
        })
        .min_by_key(|e| match e.ivalue {
            NEVER => 0,
            FORCED => 1,
            _ => 2,
        })
}

impl WriteTx {
    /// The election state of a computer; [`crate::StoreError::NotFound`] if it does not exist.
    pub async fn get_scanner_state(&mut self, id: HostId) -> Result<ScannerState> {
        type Row = (i64, f64, String);
        let row: Option<Row> = sqlx::query_as(
            "SELECT h.fidelity, h.quality, COALESCE(a.tag, $2) FROM hardware h \
             LEFT JOIN accountinfo a ON a.hardware_id = h.id WHERE h.id = $1",
        )
        .bind(id.0)
        .bind(NO_TAG)
        .fetch_optional(self.conn())
        .await?;
        let Some((fidelity, quality, tag)) = row else {
            return Err(crate::StoreError::NotFound(format!("computer {}", id.0)));
        };
        let rows: Vec<ElectionSql> = sqlx::query_as(ELECTION_ROWS)
            .bind(id.0)
            .fetch_all(self.conn())
            .await?;
        let election = most_decisive(rows);
        Ok(ScannerState {
            fidelity,
            quality,
            tag,
            election,
        })
    }

    /// How many computers (automatic or forced) are elected on `subnet`; with `tag`, only
    /// those with that TAG.
    pub async fn count_elected(&mut self, subnet: &str, tag: Option<&str>) -> Result<i64> {
        let mut sql = String::from(
            "SELECT COUNT(DISTINCT d.hardware_id) FROM devices d \
             WHERE d.name = 'IPDISCOVER' AND d.ivalue <> 0 AND d.tvalue = $1",
        );
        if tag.is_some() {
            sql.push_str(TAG_FILTER);
        }
        let query = sqlx::query_scalar(&sql).bind(subnet);
        let query = match tag {
            Some(tag) => query.bind(tag),
            None => query,
        };
        Ok(query.fetch_one(self.conn()).await?)
    }

    /// The computers elected automatically on `subnet` (forced ones are never replaced);
    /// with `tag`, only those with that TAG. Ordered by ID, so that ties always go the same
    /// way.
    pub async fn list_automatic_elected(
        &mut self,
        subnet: &str,
        tag: Option<&str>,
    ) -> Result<Vec<ElectedComputer>> {
        type Row = (i64, Option<i64>, f64, String);
        let mut sql = String::from(
            "SELECT DISTINCT h.id, h.lastdate, h.quality, \
             COALESCE((SELECT a.tag FROM accountinfo a WHERE a.hardware_id = h.id), 'NA') \
             FROM devices d JOIN hardware h ON h.id = d.hardware_id \
             WHERE d.name = 'IPDISCOVER' AND d.ivalue = 1 AND d.tvalue = $1",
        );
        if tag.is_some() {
            sql.push_str(TAG_FILTER);
        }
        sql.push_str(" ORDER BY h.id");
        let query = sqlx::query_as(&sql).bind(subnet);
        let query = match tag {
            Some(tag) => query.bind(tag),
            None => query,
        };
        let rows: Vec<Row> = query.fetch_all(self.conn()).await?;
        Ok(rows
            .into_iter()
            .map(|(id, lastdate, quality, tag)| ElectedComputer {
                id: HostId(id),
                lastdate,
                quality,
                tag,
            })
            .collect())
    }

    /// Elects a computer automatically on `subnet`, replacing any `IPDISCOVER` row it had
    /// (one without a network). `reason` is the short code the console shows.
    pub async fn insert_election(&mut self, id: HostId, subnet: &str, reason: &str) -> Result<()> {
        sqlx::query("DELETE FROM devices WHERE hardware_id = $1 AND name = 'IPDISCOVER'")
            .bind(id.0)
            .execute(self.conn())
            .await?;
        sqlx::query(
            "INSERT INTO devices (hardware_id, name, ivalue, tvalue, comments) \
             VALUES ($1, 'IPDISCOVER', $2, $3, $4)",
        )
        .bind(id.0)
        .bind(AUTOMATIC)
        .bind(subnet)
        .bind(reason)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Removes a computer's automatic election; forced and "never" rows stay. Returns
    /// whether there was one.
    pub async fn delete_automatic_election(&mut self, id: HostId) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM devices WHERE hardware_id = $1 AND name = 'IPDISCOVER' AND ivalue = $2",
        )
        .bind(id.0)
        .bind(AUTOMATIC)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Hands `old`'s automatic election to `new` (the original re-points the row), with the
    /// reason of the replacement. Returns false when `old` is no longer elected
    /// automatically (nothing changes then).
    pub async fn replace_election(
        &mut self,
        old: HostId,
        new: HostId,
        reason: &str,
    ) -> Result<bool> {
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM devices WHERE hardware_id = $1 AND name = 'IPDISCOVER' AND ivalue = $2",
        )
        .bind(old.0)
        .bind(AUTOMATIC)
        .fetch_one(self.conn())
        .await?;
        if held == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM devices WHERE hardware_id = $1 AND name = 'IPDISCOVER'")
            .bind(new.0)
            .execute(self.conn())
            .await?;
        sqlx::query(
            "UPDATE devices SET hardware_id = $1, comments = $2 \
             WHERE hardware_id = $3 AND name = 'IPDISCOVER' AND ivalue = $4",
        )
        .bind(new.0)
        .bind(reason)
        .bind(old.0)
        .bind(AUTOMATIC)
        .execute(self.conn())
        .await?;
        Ok(true)
    }

    /// Whether `subnet` is in `blacklist_subnet`: with `mask`, listed with that mask; without
    /// one, listed with any.
    pub async fn is_subnet_blacklisted(
        &mut self,
        subnet: &str,
        mask: Option<&str>,
    ) -> Result<bool> {
        let count: i64 = match mask {
            Some(mask) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM blacklist_subnet WHERE subnet = $1 AND mask = $2",
                )
                .bind(subnet)
                .bind(mask)
                .fetch_one(self.conn())
                .await?
            }
            None => {
                sqlx::query_scalar("SELECT COUNT(*) FROM blacklist_subnet WHERE subnet = $1")
                    .bind(subnet)
                    .fetch_one(self.conn())
                    .await?
            }
        };
        Ok(count > 0)
    }

    /// Whether a group the computer is a member of (computed or forced in) has
    /// `IPDISCOVER` 0, which keeps its members out of IP discovery.
    pub async fn is_excluded_by_group(&mut self, id: HostId) -> Result<bool> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM group_members m JOIN group_settings s ON s.group_id = m.group_id \
             WHERE m.hardware_id = $1 AND m.static IN (0, 1) AND s.name = 'IPDISCOVER' AND s.ivalue = 0",
        )
        .bind(id.0)
        .fetch_one(self.conn())
        .await?;
        Ok(count > 0)
    }
}

impl Store {
    /// A computer's `IPDISCOVER` row with its reason (the most decisive one if several).
    pub async fn find_election(&self, id: HostId) -> Result<Option<ElectionRow>> {
        let rows: Vec<ElectionSql> = sqlx::query_as(ELECTION_ROWS)
            .bind(id.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(most_decisive(rows))
    }

    /// Moves a computer's last inventory and last contact `seconds` into the past, as if
    /// time had passed: for tests and simulations of a fleet over days.
    pub async fn backdate_host(&self, id: HostId, seconds: i64) -> Result<()> {
        sqlx::query(
            "UPDATE hardware SET lastdate = lastdate - $1, lastcome = lastcome - $2 WHERE id = $3",
        )
        .bind(seconds)
        .bind(seconds)
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store as test_store;
    use crate::{DeviceSetting, Store};

    async fn computer(
        store: &Store,
        deviceid: &str,
        quality: f64,
        lastdate: i64,
        tag: Option<&str>,
    ) -> HostId {
        let mut tx = store.begin().await.unwrap();
        let id = tx.insert_host(deviceid).await.unwrap();
        if let Some(tag) = tag {
            tx.write_accountinfo(id, &[("TAG".to_owned(), tag.to_owned())])
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        sqlx::query("UPDATE hardware SET quality = $1, lastdate = $2, fidelity = 5 WHERE id = $3")
            .bind(quality)
            .bind(lastdate)
            .bind(id.0)
            .execute(&store.pool)
            .await
            .unwrap();
        id
    }

    async fn force(store: &Store, id: HostId, ivalue: i64, subnet: Option<&str>) {
        store
            .set_device_setting(
                id,
                &DeviceSetting {
                    name: "IPDISCOVER".into(),
                    ivalue: Some(ivalue),
                    tvalue: subnet.map(str::to_owned),
                },
            )
            .await
            .unwrap();
    }

    async fn rows(store: &Store) -> Vec<(i64, i64, Option<String>, Option<String>)> {
        sqlx::query_as(
            "SELECT hardware_id, ivalue, tvalue, comments FROM devices WHERE name = 'IPDISCOVER' ORDER BY hardware_id",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap()
    }

    const NET: &str = "192.0.2.0";

    #[tokio::test]
    async fn the_state_of_a_computer_has_its_counters_tag_and_election() {
        let (store, _dir) = test_store().await;
        let a = computer(&store, "a", 1.5, 100, Some("PARIS")).await;
        let b = computer(&store, "b", 0.5, 100, None).await;
        force(&store, a, 2, Some(NET)).await;
        let mut tx = store.begin().await.unwrap();
        let state = tx.get_scanner_state(a).await.unwrap();
        assert_eq!(
            state,
            ScannerState {
                fidelity: 5,
                quality: 1.5,
                tag: "PARIS".into(),
                election: Some(ElectionRow {
                    ivalue: FORCED,
                    subnet: Some(NET.into()),
                    reason: Some("forced".into())
                })
            }
        );
        let state = tx.get_scanner_state(b).await.unwrap();
        assert_eq!((state.tag.as_str(), state.election), ("NA", None));
        assert!(matches!(
            tx.get_scanner_state(HostId(9999)).await,
            Err(crate::StoreError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn elections_are_counted_and_listed_per_network_and_tag() {
        let (store, _dir) = test_store().await;
        let a = computer(&store, "a", 1.0, 100, Some("PARIS")).await;
        let b = computer(&store, "b", 2.0, 200, Some("LYON")).await;
        let c = computer(&store, "c", 3.0, 300, Some("PARIS")).await;
        let never = computer(&store, "d", 3.0, 300, Some("PARIS")).await;
        let mut tx = store.begin().await.unwrap();
        tx.insert_election(a, NET, "free_slot").await.unwrap();
        tx.insert_election(b, NET, "free_slot").await.unwrap();
        tx.commit().await.unwrap();
        force(&store, c, 2, Some(NET)).await;
        force(&store, never, 0, Some(NET)).await;
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.count_elected(NET, None).await.unwrap(), 3);
        assert_eq!(tx.count_elected(NET, Some("PARIS")).await.unwrap(), 2);
        assert_eq!(tx.count_elected("198.51.100.0", None).await.unwrap(), 0);
        let all = tx.list_automatic_elected(NET, None).await.unwrap();
        assert_eq!(
            all.iter().map(|e| e.id).collect::<Vec<_>>(),
            [a, b],
            "forced computers are never candidates for replacement"
        );
        let lyon = tx.list_automatic_elected(NET, Some("LYON")).await.unwrap();
        assert_eq!(
            lyon,
            [ElectedComputer {
                id: b,
                lastdate: Some(200),
                quality: 2.0,
                tag: "LYON".into()
            }]
        );
    }

    #[tokio::test]
    async fn an_election_is_inserted_removed_and_handed_over_with_its_reason() {
        let (store, _dir) = test_store().await;
        let a = computer(&store, "a", 1.0, 100, None).await;
        let b = computer(&store, "b", 2.0, 200, None).await;
        let c = computer(&store, "c", 2.0, 200, None).await;
        // A row without a network (an administrator's leftover) is replaced, not doubled.
        force(&store, a, 1, None).await;
        let mut tx = store.begin().await.unwrap();
        tx.insert_election(a, NET, "free_slot").await.unwrap();
        assert!(tx
            .replace_election(a, b, &format!("replaced_quality:{}", a.0))
            .await
            .unwrap());
        assert!(
            !tx.replace_election(a, c, "replaced_stale:1").await.unwrap(),
            "a no longer holds it"
        );
        tx.commit().await.unwrap();
        assert_eq!(
            rows(&store).await,
            [(
                b.0,
                1,
                Some(NET.into()),
                Some(format!("replaced_quality:{}", a.0))
            )]
        );
        force(&store, c, 2, Some(NET)).await;
        let mut tx = store.begin().await.unwrap();
        assert!(
            !tx.replace_election(c, a, "replaced_stale:1").await.unwrap(),
            "forced"
        );
        assert!(tx.delete_automatic_election(b).await.unwrap());
        assert!(!tx.delete_automatic_election(b).await.unwrap());
        assert!(
            !tx.delete_automatic_election(c).await.unwrap(),
            "forced stays"
        );
        tx.commit().await.unwrap();
        assert_eq!(
            rows(&store).await,
            [(c.0, 2, Some(NET.into()), Some("forced".into()))]
        );
    }

    #[tokio::test]
    async fn blacklisted_networks_and_excluding_groups_are_recognised() {
        let (store, _dir) = test_store().await;
        let a = computer(&store, "a", 1.0, 100, None).await;
        sqlx::query("INSERT INTO blacklist_subnet (subnet, mask) VALUES ($1, $2)")
            .bind(NET)
            .bind("255.255.255.0")
            .execute(&store.pool)
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .is_subnet_blacklisted(NET, Some("255.255.255.0"))
            .await
            .unwrap());
        assert!(tx.is_subnet_blacklisted(NET, None).await.unwrap());
        assert!(!tx
            .is_subnet_blacklisted(NET, Some("255.255.0.0"))
            .await
            .unwrap());
        assert!(!tx
            .is_subnet_blacklisted("198.51.100.0", None)
            .await
            .unwrap());
        assert!(!tx.is_excluded_by_group(a).await.unwrap());
        tx.commit().await.unwrap();
        let setting = |ivalue| DeviceSetting {
            name: "IPDISCOVER".into(),
            ivalue: Some(ivalue),
            tvalue: None,
        };
        let out = store
            .insert_synthetic_group("forced-out", &[(a, 2)], 0)
            .await
            .unwrap();
        store
            .update_group_settings(out, &[setting(0)], &[])
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        assert!(!tx.is_excluded_by_group(a).await.unwrap(), "not a member");
        tx.commit().await.unwrap();
        let member = store
            .insert_synthetic_group("no-scan", &[(a, 0)], 0)
            .await
            .unwrap();
        store
            .update_group_settings(member, &[setting(0)], &[])
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        assert!(tx.is_excluded_by_group(a).await.unwrap());
    }
}
