//! Contact records of PROLOGs (last contact, agent, QUALITY and FIDELITY, the PROLOG session),
//! written after the reply rather than before it.
//!
//! Why: the PROLOG's answer depends only on what is already stored, but a write must wait
//! for the database's writer, which is busy storing inventories (SQLite has one writer; on
//! PostgreSQL a write waits for the device's lock). Queued here, a PROLOG answers in the
//! time of a few reads, and its record is written in the next batch: by the flusher task,
//! or by the device's next inventory, whichever comes first (`take` hands each record to
//! exactly one of them), so an inventory always sees its PROLOG's contact. The counters are
//! computed from the row as locked by the transaction that writes them, so concurrent
//! PROLOGs of one device (through several instances) never lose an increment.
//!
//! A record waits at most for the writer's queue; `flush` at shutdown writes what is left.

use std::sync::{Arc, Mutex};

use ocs_storage::{HostState, WriteTx};
use tokio::sync::Notify;

use crate::app::{AppError, AppState};

const DAY: f64 = 86_400.0;

/// Records written per transaction at most (a burst of PROLOGs is written in a few).
const MAX_PER_TRANSACTION: usize = 512;

/// What a PROLOG records.
#[derive(Debug, Clone)]
pub struct Contact {
    /// The device.
    pub deviceid: String,
    /// When it called.
    pub at: i64,
    /// Its User-Agent.
    pub user_agent: String,
    /// `Some(purge_before)` when the PROLOG answered SEND: a PROLOG session is opened, and
    /// sessions older than `purge_before` are purged.
    pub session: Option<i64>,
}

/// The queue of contact records not yet written.
#[derive(Debug, Default)]
pub struct Contacts {
    pending: Mutex<Vec<Contact>>,
    queued: Notify,
}

impl Contacts {
    /// Queues a record.
    pub fn record(&self, contact: Contact) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.push(contact);
        }
        self.queued.notify_one();
    }

    /// Takes the records of one device (for its inventory's transaction).
    pub fn take_device(&self, deviceid: &str) -> Vec<Contact> {
        let Ok(mut pending) = self.pending.lock() else {
            return Vec::new();
        };
        if !pending.iter().any(|c| c.deviceid == deviceid) {
            return Vec::new();
        }
        let (mine, others): (Vec<Contact>, Vec<Contact>) =
            pending.drain(..).partition(|c| c.deviceid == deviceid);
        *pending = others;
        mine
    }

    /// Drops the records of deleted computers: written later, a PROLOG session would be
    /// opened for a DEVICEID that no longer has a computer.
    pub fn discard_devices(&self, deviceids: &[&str]) {
        if deviceids.is_empty() {
            return;
        }
        let gone: std::collections::HashSet<&str> = deviceids.iter().copied().collect();
        if let Ok(mut pending) = self.pending.lock() {
            pending.retain(|c| !gone.contains(c.deviceid.as_str()));
        }
    }

    fn requeue(&self, contacts: Vec<Contact>) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.splice(0..0, contacts);
        }
    }

    fn take_batch(&self) -> Vec<Contact> {
        let Ok(mut pending) = self.pending.lock() else {
            return Vec::new();
        };
        let n = pending.len().min(MAX_PER_TRANSACTION);
        pending.drain(..n).collect()
    }

    fn is_empty(&self) -> bool {
        self.pending.lock().map_or(true, |p| p.is_empty())
    }
}

/// Writes contact records inside `tx` (which must hold no lock on other devices the caller
/// cares about: each record locks its device).
pub async fn apply(tx: &mut WriteTx, contacts: &[Contact]) -> Result<(), AppError> {
    for c in contacts {
        if let Some(host) = tx.lock_host(&c.deviceid).await? {
            // Written after a later contact (an inventory through another instance), the
            // last contact stays the later one.
            let at = host.lastcome.map_or(c.at, |last| last.max(c.at));
            let (quality, fidelity) = counters(&host, at);
            tx.record_contact(host.id, at, &c.user_agent, quality, fidelity)
                .await?;
        }
        if let Some(purge_before) = c.session {
            tx.open_prolog_session(&c.deviceid, c.at, purge_before)
                .await?;
        }
    }
    Ok(())
}

/// FIDELITY counts contacts; QUALITY is the running mean of days between them.
pub fn counters(host: &HostState, now: i64) -> (f64, i64) {
    let days = host
        .lastcome
        .map_or(0.0, |last| (now - last).max(0) as f64 / DAY);
    let quality = if host.fidelity > 1 {
        (days + host.quality * host.fidelity as f64) / (host.fidelity + 1) as f64
    } else {
        days
    };
    (quality, host.fidelity + 1)
}

/// Writes queued records until none is left.
pub async fn flush(state: &AppState) {
    let mut conflicts = 0;
    loop {
        match write(state).await {
            Ok(0) => return,
            Ok(_) => conflicts = 0,
            // Aborted by a concurrent transaction (an inventory merging one of the
            // devices): the records are back in the queue, for another try.
            Err(AppError::Conflict(_)) if conflicts < 2 => conflicts += 1,
            Err(e) => {
                // Counters are not worth failing anything for; the next contact counts
                // again.
                tracing::warn!(error = %e, "could not record PROLOG contacts");
                conflicts = 0;
            }
        }
    }
}

/// Writes one transaction's worth of records; returns how many.
async fn write(state: &AppState) -> Result<usize, AppError> {
    let mut tx = state.store.begin().await?;
    // Taken only once the transaction has started: on SQLite that is the writer's turn, so
    // an inventory holding the writer can never miss its device's record because the
    // flusher took it and is still waiting.
    let mut batch = state.contacts.take_batch();
    if batch.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    // In DEVICEID order, so that flushers of several instances lock devices in one order.
    batch.sort_by(|a, b| a.deviceid.cmp(&b.deviceid));
    let written = async {
        apply(&mut tx, &batch).await?;
        tx.commit().await?;
        Ok::<(), AppError>(())
    }
    .await;
    match written {
        Ok(()) => Ok(batch.len()),
        Err(e @ AppError::Conflict(_)) => {
            state.contacts.requeue(batch);
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// The flusher: writes records as they come, as many per transaction as have queued up
/// while the previous one was written.
pub fn spawn_flusher(state: AppState) -> tokio::task::JoinHandle<()> {
    let contacts: Arc<Contacts> = Arc::clone(&state.contacts);
    tokio::spawn(async move {
        loop {
            if contacts.is_empty() {
                contacts.queued.notified().await;
            }
            flush(&state).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(deviceid: &str, at: i64) -> Contact {
        Contact {
            deviceid: deviceid.into(),
            at,
            user_agent: "OCS-NG_unified_unix_agent_v2.10.0".into(),
            session: None,
        }
    }

    #[test]
    fn a_device_takes_only_its_own_records_and_the_rest_keep_their_order() {
        let queue = Contacts::default();
        for (d, at) in [("a", 1), ("b", 2), ("a", 3), ("c", 4)] {
            queue.record(contact(d, at));
        }
        let mine: Vec<i64> = queue.take_device("a").iter().map(|c| c.at).collect();
        assert_eq!(mine, [1, 3]);
        assert!(queue.take_device("a").is_empty());
        let first = queue.take_batch();
        queue.requeue(first);
        let rest: Vec<i64> = queue.take_batch().iter().map(|c| c.at).collect();
        assert_eq!(rest, [2, 4]);
        assert!(queue.is_empty());
    }

    /// A record queued before its computer was deleted neither brings the computer back nor
    /// fails the batch it is written with; deleting drops such records from the queue.
    #[tokio::test]
    async fn a_record_of_a_deleted_computer_is_harmless_and_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("t.db").display());
        let store = ocs_storage::Store::open(&url, &ocs_storage::StoreOptions::default())
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        let gone = tx.insert_host("gone-2024-01-01-00-00-00").await.unwrap();
        let kept = tx.insert_host("kept-2024-01-01-00-00-00").await.unwrap();
        tx.commit().await.unwrap();
        let queue = Contacts::default();
        let with_session = |d: &str| Contact {
            session: Some(0),
            ..contact(d, 1_000)
        };
        queue.record(with_session("gone-2024-01-01-00-00-00"));
        queue.record(with_session("kept-2024-01-01-00-00-00"));
        let how = ocs_storage::Deletion {
            by: "test".into(),
            reason: "manual".into(),
            now: 500,
            trace: false,
            inactive_before: None,
        };
        store.delete_computers(&[gone], &how).await.unwrap();

        // Written as the flusher would, before the queue is cleaned.
        let batch = queue.take_batch();
        queue.requeue(batch.clone());
        let mut tx = store.begin().await.unwrap();
        apply(&mut tx, &batch).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store
                .find_host_id("gone-2024-01-01-00-00-00")
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.count_hosts().await.unwrap(), 1);
        assert_eq!(
            store
                .find_host("kept-2024-01-01-00-00-00")
                .await
                .unwrap()
                .map(|h| (h.id, h.lastcome)),
            Some((kept, Some(1_000)))
        );

        // What deleting does to the queue: only the other device's record is left.
        queue.discard_devices(&["gone-2024-01-01-00-00-00"]);
        let left: Vec<String> = queue.take_batch().into_iter().map(|c| c.deviceid).collect();
        assert_eq!(left, ["kept-2024-01-01-00-00-00"]);
    }
}
