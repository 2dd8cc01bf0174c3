//! Forwarding (beyond the original): every inventory stored is also relayed to the upstream
//! OCS servers of `[forwarding] upstreams`. The copy is queued in the inventory's own
//! transaction (`ocs-storage/forwarding`), so a restart or an unreachable upstream loses
//! nothing; `spawn_forwarder` sends the queue in order per upstream, an upstream that fails
//! holding its whole queue (retried after `retry_min_secs`, doubled up to an hour), a
//! document it refuses set aside on its own. `backlog` is what the console shows.

pub mod upstream;

use std::time::Duration;

use ocs_proto::codec::{self, BodyEncoding, DecodeLimits};
use ocs_storage::forwarding::Backlog;
use ocs_storage::WriteTx;

use crate::app::{AppError, AppState};
use upstream::{SendError, Upstream};

/// How often the queue is looked at.
const TICK: Duration = Duration::from_secs(2);
/// Inventories claimed at once per upstream; claims follow one another while they fill up.
const BATCH: i64 = 10;
/// How long a claim holds (a batch at the send timeout, twice over).
const LEASE_SECS: i64 = 600;
/// The longest wait between attempts.
const MAX_RETRY_SECS: i64 = 3600;

/// Queues a stored inventory for every upstream; `raw` is the body as received (relayed
/// zlib-compressed whatever the agent used, which the original requires without
/// COMPRESS_TRY_OTHERS).
pub async fn enqueue(
    tx: &mut WriteTx,
    state: &AppState,
    deviceid: &str,
    user_agent: &str,
    raw: &[u8],
    now: i64,
) -> Result<(), AppError> {
    let upstreams = &state.config.forwarding.upstreams;
    if upstreams.is_empty() {
        return Ok(());
    }
    // Agents send zlib (a zlib stream starts with 0x78, which no XML document does): it is
    // relayed untouched, without inflating it again.
    let body = if raw.first() == Some(&0x78) {
        raw.to_vec()
    } else {
        let decoded = codec::decode_body(
            raw,
            DecodeLimits {
                max_inflated_bytes: state.config.limits.max_inflated_bytes,
                try_others: true,
            },
        )
        .map_err(|e| {
            AppError::Internal(format!(
                "forwarding: the stored body cannot be read again: {e}"
            ))
        })?;
        codec::encode_body(&decoded.xml, BodyEncoding::Zlib)
    };
    tx.enqueue_forward(upstreams, deviceid, user_agent, &body, now)
        .await?;
    Ok(())
}

/// What waits for each configured upstream (those with nothing waiting included).
pub async fn backlog(state: &AppState) -> Result<Vec<Backlog>, AppError> {
    let waiting = state.store.forward_backlog().await?;
    let mut out: Vec<Backlog> = state
        .config
        .forwarding
        .upstreams
        .iter()
        .map(|url| {
            waiting
                .iter()
                .find(|b| b.upstream == *url)
                .cloned()
                .unwrap_or(Backlog {
                    upstream: url.clone(),
                    waiting: 0,
                    oldest: None,
                    next_attempt: None,
                    attempts: 0,
                    last_error: String::new(),
                })
        })
        .collect();
    // Rows for an upstream no longer configured stay visible until they are dealt with.
    out.extend(
        waiting
            .into_iter()
            .filter(|b| !state.config.forwarding.upstreams.contains(&b.upstream)),
    );
    Ok(out)
}

fn retry_after(state: &AppState, attempts: i64) -> i64 {
    let base = i64::try_from(state.config.forwarding.retry_min_secs).unwrap_or(5);
    let factor = 1_i64 << attempts.clamp(0, 20);
    base.saturating_mul(factor).min(MAX_RETRY_SECS)
}

/// Sends what is due for one upstream, oldest first; returns how many were taken.
async fn deliver(state: &AppState, upstream: &std::sync::Arc<Upstream>) -> Result<usize, AppError> {
    let now = state.clock.now();
    let queued = state
        .store
        .claim_forwards(upstream.url(), now, now + LEASE_SECS, BATCH)
        .await?;
    let mut taken = 0;
    for (i, item) in queued.iter().enumerate() {
        let sender = upstream.clone();
        let (ua, body) = (item.user_agent.clone(), item.body.clone());
        let sent = tokio::task::spawn_blocking(move || sender.send(&ua, &body))
            .await
            .map_err(|e| AppError::Internal(format!("forwarding task: {e}")))?;
        let now = state.clock.now();
        match sent {
            Ok(()) => {
                state.store.forward_done(item.id).await?;
                taken += 1;
            }
            Err(SendError::Refused(why)) => {
                tracing::warn!(upstream = upstream.url(), deviceid = %item.deviceid, reason = %why, "an upstream refused a forwarded inventory; it is kept and tried again later");
                let retry = now + retry_after(state, item.attempts).max(MAX_RETRY_SECS / 4);
                state
                    .store
                    .forward_failed(item.id, &why, retry, false)
                    .await?;
            }
            Err(SendError::Upstream(why)) => {
                let wait = retry_after(state, item.attempts);
                tracing::warn!(upstream = upstream.url(), reason = %why, waiting = queued.len() - i, retry_in_secs = wait, "cannot forward to an upstream; its queue waits");
                state
                    .store
                    .forward_failed(item.id, &why, now + wait, true)
                    .await?;
                let rest: Vec<i64> = queued[i + 1..].iter().map(|q| q.id).collect();
                state.store.forward_release(&rest).await?;
                break;
            }
        }
    }
    Ok(taken)
}

/// The forwarder: every [`TICK`], each upstream's due queue. `None` without upstreams.
pub fn spawn_forwarder(state: AppState) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let config = &state.config.forwarding;
    if config.upstreams.is_empty() {
        return Ok(None);
    }
    let upstreams = config
        .upstreams
        .iter()
        .map(|url| Upstream::new(url, config).map(std::sync::Arc::new))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            for upstream in &upstreams {
                let mut forwarded = 0;
                // Bounded, so that a busy upstream does not keep the others waiting.
                for _ in 0..100 {
                    match deliver(&state, upstream).await {
                        Ok(n) => {
                            forwarded += n;
                            if i64::try_from(n).unwrap_or(0) < BATCH {
                                break;
                            }
                        }
                        Err(e) => {
                            tracing::error!(upstream = upstream.url(), error = %e, "forwarding failed; next try in a moment");
                            break;
                        }
                    }
                }
                if forwarded > 0 {
                    tracing::info!(
                        upstream = upstream.url(),
                        forwarded,
                        "inventories forwarded"
                    );
                }
            }
        }
    })))
}
