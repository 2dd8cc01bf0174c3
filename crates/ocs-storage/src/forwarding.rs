//! The forwarding queue: inventories to relay to upstream OCS servers, queued with the
//! inventory they copy, sent in order per upstream, deleted once taken. A sender claims rows
//! for a lease, so that instances sharing the database do not send one twice.

use sqlx::Row;

use crate::sql::{bind_ids, placeholders, MAX_PARAMS};
use crate::{Result, Store, WriteTx};

/// An inventory waiting for an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedForward {
    /// Queue row.
    pub id: i64,
    /// The device.
    pub deviceid: String,
    /// The agent's User-Agent, sent on.
    pub user_agent: String,
    /// The body (zlib).
    pub body: Vec<u8>,
    /// Attempts so far.
    pub attempts: i64,
}

/// One upstream's backlog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    /// The upstream's URL.
    pub upstream: String,
    /// Inventories waiting.
    pub waiting: i64,
    /// When the oldest was queued.
    pub oldest: Option<i64>,
    /// When the next attempt is due.
    pub next_attempt: Option<i64>,
    /// Attempts of the oldest.
    pub attempts: i64,
    /// The last failure, empty when none.
    pub last_error: String,
}

impl WriteTx {
    /// Queues an inventory for each upstream, in the inventory's transaction.
    pub async fn enqueue_forward(
        &mut self,
        upstreams: &[String],
        deviceid: &str,
        user_agent: &str,
        body: &[u8],
        now: i64,
    ) -> Result<()> {
        for upstream in upstreams {
            sqlx::query(
                "INSERT INTO forward_queue (upstream, deviceid, user_agent, body, queued_at, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(upstream.clone())
            .bind(deviceid.to_owned())
            .bind(user_agent.to_owned())
            .bind(body.to_vec())
            .bind(now)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }
}

impl Store {
    /// Claims, until `lease_until`, the oldest `limit` inventories of an upstream that are
    /// due and not held by another sender; returned oldest first.
    pub async fn claim_forwards(
        &self,
        upstream: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<QueuedForward>> {
        let rows = sqlx::query(
            "UPDATE forward_queue SET claimed_until = $3 WHERE id IN \
             (SELECT id FROM forward_queue WHERE upstream = $1 ORDER BY id LIMIT $4) \
             AND next_attempt_at <= $2 AND claimed_until < $2 \
             RETURNING id, deviceid, user_agent, body, attempts",
        )
        .bind(upstream.to_owned())
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(QueuedForward {
                    id: r.try_get(0)?,
                    deviceid: r.try_get(1)?,
                    user_agent: r.try_get(2)?,
                    body: r.try_get(3)?,
                    attempts: r.try_get(4)?,
                })
            })
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?;
        out.sort_by_key(|q| q.id);
        Ok(out)
    }

    /// An upstream took it.
    pub async fn forward_done(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM forward_queue WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An attempt failed: the row is tried again at `retry_at`, and with `hold_upstream` (the
    /// upstream is unreachable or failing, not this document) every row of the upstream
    /// waits as long, so that none overtakes it.
    pub async fn forward_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: i64,
        hold_upstream: bool,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let upstream: Option<String> =
            sqlx::query_scalar("SELECT upstream FROM forward_queue WHERE id = $1")
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
        sqlx::query(
            "UPDATE forward_queue SET attempts = attempts + 1, last_error = $2, \
             next_attempt_at = $3, claimed_until = 0 WHERE id = $1",
        )
        .bind(id)
        .bind(error.chars().take(500).collect::<String>())
        .bind(retry_at)
        .execute(tx.conn())
        .await?;
        if let (true, Some(upstream)) = (hold_upstream, upstream) {
            sqlx::query(
                "UPDATE forward_queue SET next_attempt_at = $2, claimed_until = 0 \
                 WHERE upstream = $1 AND next_attempt_at < $2",
            )
            .bind(upstream)
            .bind(retry_at)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await
    }

    /// Releases rows claimed but not attempted (a sender stopping early).
    pub async fn forward_release(&self, ids: &[i64]) -> Result<()> {
        for chunk in ids.chunks(MAX_PARAMS) {
            let sql = format!(
                "UPDATE forward_queue SET claimed_until = 0 WHERE id IN ({})",
                placeholders(self.backend, 1, chunk.len())
            );
            bind_ids(sqlx::query(&sql), chunk.iter().copied())
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Each upstream's backlog (upstreams with nothing waiting are absent).
    pub async fn forward_backlog(&self) -> Result<Vec<Backlog>> {
        let rows = sqlx::query(
            "SELECT q.upstream, COUNT(*), MIN(q.queued_at), MIN(q.next_attempt_at), \
             (SELECT h.attempts FROM forward_queue h WHERE h.upstream = q.upstream ORDER BY h.id LIMIT 1), \
             (SELECT h.last_error FROM forward_queue h WHERE h.upstream = q.upstream AND h.last_error <> '' \
              ORDER BY h.id DESC LIMIT 1) \
             FROM forward_queue q GROUP BY q.upstream ORDER BY q.upstream",
        )
        .fetch_all(&self.read_pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Backlog {
                    upstream: r.try_get(0)?,
                    waiting: r.try_get(1)?,
                    oldest: r.try_get(2)?,
                    next_attempt: r.try_get(3)?,
                    attempts: r.try_get::<Option<i64>, _>(4)?.unwrap_or(0),
                    last_error: r.try_get::<Option<String>, _>(5)?.unwrap_or_default(),
                })
            })
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::store;

    #[tokio::test]
    async fn queued_claimed_in_order_held_and_done() {
        let (store, _dir) = store().await;
        let up = vec![
            "http://a/ocsinventory".to_owned(),
            "http://b/ocsinventory".to_owned(),
        ];
        let mut tx = store.begin().await.unwrap();
        for (i, body) in [b"one".as_slice(), b"two", b"three"].iter().enumerate() {
            tx.enqueue_forward(&up, &format!("d{i}"), "UA_v1", body, 100)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();

        let claimed = store.claim_forwards(&up[0], 100, 160, 10).await.unwrap();
        assert_eq!(
            claimed
                .iter()
                .map(|q| q.body.as_slice())
                .collect::<Vec<_>>(),
            [b"one".as_slice(), b"two", b"three"]
        );
        assert!(
            store
                .claim_forwards(&up[0], 101, 160, 10)
                .await
                .unwrap()
                .is_empty(),
            "held by the first sender"
        );
        store.forward_done(claimed[0].id).await.unwrap();
        // The upstream fails: the rest waits behind the failing one.
        store
            .forward_failed(claimed[1].id, "HTTP 503", 200, true)
            .await
            .unwrap();
        store.forward_release(&[claimed[2].id]).await.unwrap();
        assert!(store
            .claim_forwards(&up[0], 150, 210, 10)
            .await
            .unwrap()
            .is_empty());
        let again = store.claim_forwards(&up[0], 200, 260, 10).await.unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(again[0].attempts, 1);

        let backlog = store.forward_backlog().await.unwrap();
        assert_eq!(backlog.len(), 2);
        assert_eq!((backlog[0].waiting, backlog[0].attempts), (2, 1));
        assert_eq!(backlog[0].last_error, "HTTP 503");
        assert_eq!((backlog[1].waiting, backlog[1].oldest), (3, Some(100)));
    }
}
