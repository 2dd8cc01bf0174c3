//! What a PROLOG offers (reference §6.4): everything the DOWNLOAD block needs about one
//! computer read in one statement ([`Store::prolog_packages`]), and the bookkeeping written
//! after the reply in one small transaction ([`Store::record_offers`]).
//!
//! The read packs the agent's history, the computer's `DOWNLOAD` rows and its groups' packages
//! into rows of one shape: a PROLOG of a computer with packages costs one round trip more
//! than one without, whatever the number of packages and groups. Which of them are listed is
//! the application's decision (`app::deployment::offer`), not this crate's.

use super::ActivationId;
use crate::hosts::HostId;
use crate::{Result, Store};

/// One activation a PROLOG may offer, with the server its fragments come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedActivation {
    /// The activation (the IVALUE of the `DOWNLOAD` rows).
    pub activation: ActivationId,
    /// The package.
    pub fileid: String,
    /// `INFO_LOC`.
    pub info_loc: String,
    /// `PACK_LOC`, `$IP$` / `$NAME$` not yet replaced.
    pub pack_loc: String,
    /// `CERT_PATH`.
    pub cert_path: String,
    /// `CERT_FILE`.
    pub cert_file: String,
    /// For a redistribution activation: the server's address and name, `None` when that
    /// computer is gone (the package is then skipped).
    pub server: Option<Option<(String, String)>>,
    /// Forced (a `DOWNLOAD_FORCE` row, or the group's `forced`).
    pub forced: bool,
    /// `SCHEDULE`.
    pub schedule: String,
    /// `POSTCMD`.
    pub postcmd: String,
}

/// A computer's `DOWNLOAD` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceOffer {
    /// The activation and how it is given.
    pub offer: OfferedActivation,
    /// The status (TVALUE).
    pub status: Option<String>,
}

/// What a PROLOG reads about deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrologPackages {
    /// `download_history` package IDs.
    pub history: Vec<String>,
    /// The computer's `DOWNLOAD` rows, oldest first.
    pub device: Vec<DeviceOffer>,
    /// Its groups' packages, by group.
    pub groups: Vec<OfferedActivation>,
}

/// Writes a PROLOG's offers call for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferWrites {
    /// Group packages the computer gets its own rows for (trace events): activation and
    /// forced.
    pub traces: Vec<(ActivationId, bool)>,
    /// Rows whose package is in the history: set to `SUCCESS_ALREADY_IN_HISTORY`.
    pub in_history: Vec<ActivationId>,
    /// Whether waiting rows (TVALUE NULL) become `NOTIFIED`.
    pub notify: bool,
}

impl OfferWrites {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.traces.is_empty() && self.in_history.is_empty() && !self.notify
    }
}

type Row = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

/// The server's columns: whether a server ID was set, and its row if it still exists.
const SERVER_COLUMNS: &str = "e.server_id, COALESCE(sh.ipaddr, ''), COALESCE(sh.name, '')";

impl Store {
    /// Everything the DOWNLOAD block needs about a computer, in one statement; group
    /// packages only `with_groups` (option `ENABLE_GROUPS`).
    pub async fn prolog_packages(&self, id: HostId, with_groups: bool) -> Result<PrologPackages> {
        let groups = if with_groups {
            format!(
                "UNION ALL \
                 SELECT 2, g.activation_id, e.fileid, e.info_loc, e.pack_loc, e.cert_path, e.cert_file, \
                   {SERVER_COLUMNS}, CAST(NULL AS TEXT), g.forced, g.schedule, g.postcmd, m.group_id, sh.id \
                 FROM group_members m JOIN group_packages g ON g.group_id = m.group_id \
                 JOIN download_enable e ON e.id = g.activation_id \
                 LEFT JOIN hardware sh ON sh.id = e.server_id \
                 WHERE m.hardware_id = $3 AND m.static IN (0, 1) "
            )
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT 0, CAST(0 AS BIGINT), pkg_id, '', '', '', '', CAST(NULL AS BIGINT), \
               CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(0 AS BIGINT), \
               CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(0 AS BIGINT), CAST(NULL AS BIGINT) \
             FROM download_history WHERE hardware_id = $1 \
             UNION ALL \
             SELECT 1, d.ivalue, e.fileid, e.info_loc, e.pack_loc, e.cert_path, e.cert_file, \
               {SERVER_COLUMNS}, d.tvalue, \
               (SELECT COUNT(*) FROM devices f WHERE f.hardware_id = d.hardware_id \
                  AND f.name = 'DOWNLOAD_FORCE' AND f.ivalue = d.ivalue AND f.tvalue = '1'), \
               (SELECT MAX(s.tvalue) FROM devices s WHERE s.hardware_id = d.hardware_id \
                  AND s.name = 'DOWNLOAD_SCHEDULE' AND s.ivalue = d.ivalue), \
               (SELECT MAX(p.tvalue) FROM devices p WHERE p.hardware_id = d.hardware_id \
                  AND p.name = 'DOWNLOAD_POSTCMD' AND p.ivalue = d.ivalue), \
               d.id, sh.id \
             FROM devices d JOIN download_enable e ON e.id = d.ivalue \
             LEFT JOIN hardware sh ON sh.id = e.server_id \
             WHERE d.hardware_id = $2 AND d.name = 'DOWNLOAD' \
             {groups}\
             ORDER BY 1, 15, 2"
        );
        let mut q = sqlx::query_as::<_, Row>(&sql).bind(id.0).bind(id.0);
        if with_groups {
            q = q.bind(id.0);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut out = PrologPackages::default();
        for row in rows {
            let (
                kind,
                activation,
                fileid,
                info_loc,
                pack_loc,
                cert_path,
                cert_file,
                server_id,
                server_ip,
                server_name,
                status,
                forced,
                schedule,
                postcmd,
                _order,
                server_row,
            ) = row;
            if kind == 0 {
                out.history.push(fileid);
                continue;
            }
            let server = server_id.map(|_| {
                server_row.map(|_| {
                    (
                        server_ip.unwrap_or_default(),
                        server_name.unwrap_or_default(),
                    )
                })
            });
            let offer = OfferedActivation {
                activation: ActivationId(activation),
                fileid,
                info_loc,
                pack_loc,
                cert_path,
                cert_file,
                server,
                forced: forced != 0,
                schedule: schedule.unwrap_or_default(),
                postcmd: postcmd.unwrap_or_default(),
            };
            if kind == 1 {
                out.device.push(DeviceOffer { offer, status });
            } else {
                out.groups.push(offer);
            }
        }
        Ok(out)
    }

    /// Writes what a PROLOG's offers call for, in one transaction: the trace rows of group
    /// packages (only where the computer has none yet, so that two PROLOGs racing write one),
    /// `SUCCESS_ALREADY_IN_HISTORY`, and `NOTIFIED` for the waiting rows, stamped `when`.
    pub async fn record_offers(&self, id: HostId, writes: &OfferWrites, when: &str) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for (activation, forced) in &writes.traces {
            let added = sqlx::query(
                "INSERT INTO devices (hardware_id, name, ivalue, tvalue) \
                 SELECT h.id, 'DOWNLOAD', e.id, CAST(NULL AS TEXT) FROM hardware h, download_enable e \
                 WHERE h.id = $1 AND e.id = $2 AND NOT EXISTS (SELECT 1 FROM devices d \
                   WHERE d.hardware_id = $3 AND d.name = 'DOWNLOAD' AND d.ivalue = $4)",
            )
            .bind(id.0)
            .bind(activation.0)
            .bind(id.0)
            .bind(activation.0)
            .execute(tx.conn())
            .await?
            .rows_affected();
            if added > 0 && *forced {
                sqlx::query(
                    "INSERT INTO devices (hardware_id, name, ivalue, tvalue) VALUES ($1, 'DOWNLOAD_FORCE', $2, '1')",
                )
                .bind(id.0)
                .bind(activation.0)
                .execute(tx.conn())
                .await?;
            }
        }
        for activation in &writes.in_history {
            sqlx::query(
                "UPDATE devices SET tvalue = 'SUCCESS_ALREADY_IN_HISTORY', comments = $1 \
                 WHERE hardware_id = $2 AND name = 'DOWNLOAD' AND ivalue = $3 \
                 AND (tvalue IS NULL OR tvalue = 'NOTIFIED')",
            )
            .bind(when)
            .bind(id.0)
            .bind(activation.0)
            .execute(tx.conn())
            .await?;
        }
        if writes.notify {
            sqlx::query(
                "UPDATE devices SET tvalue = 'NOTIFIED', comments = $1 \
                 WHERE hardware_id = $2 AND name = 'DOWNLOAD' AND tvalue IS NULL",
            )
            .bind(when)
            .bind(id.0)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::affect::tests::{hosts, package};
    use crate::test_support::store;
    use crate::Affectation;

    #[tokio::test]
    async fn one_read_and_the_bookkeeping() {
        let (store, _dir) = store().await;
        let ids = hosts(&store, 2).await;
        let (me, server) = (ids[0], ids[1]);
        sqlx::query("UPDATE hardware SET ipaddr = '10.0.0.9', name = 'relay' WHERE id = $1")
            .bind(server.0)
            .execute(&store.pool)
            .await
            .unwrap();
        let plain = package(&store, "300", None).await;
        let relayed = package(&store, "301", Some(server)).await;
        let how = Affectation::default();
        store.affect_computers(plain[0], &[me], &how).await.unwrap();
        store
            .affect_computers(relayed[1], &[me], &how)
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.sync_download_history(me, &["300".into()], false)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let read = store.prolog_packages(me, true).await.unwrap();
        assert_eq!(read.history, vec!["300".to_owned()]);
        assert_eq!(read.device.len(), 2);
        assert_eq!(read.device[0].offer.server, None);
        assert_eq!(
            read.device[1].offer.server,
            Some(Some(("10.0.0.9".to_owned(), "relay".to_owned())))
        );
        store
            .record_offers(
                me,
                &OfferWrites {
                    traces: vec![],
                    in_history: vec![plain[0]],
                    notify: true,
                },
                "now",
            )
            .await
            .unwrap();
        let statuses: Vec<Option<String>> = store
            .prolog_packages(me, true)
            .await
            .unwrap()
            .device
            .into_iter()
            .map(|d| d.status)
            .collect();
        assert_eq!(
            statuses,
            vec![
                Some("SUCCESS_ALREADY_IN_HISTORY".to_owned()),
                Some("NOTIFIED".to_owned())
            ]
        );
        // A trace row is written once, however many PROLOGs race.
        let traces = OfferWrites {
            traces: vec![(plain[0], true)],
            ..OfferWrites::default()
        };
        let other = ids[1];
        store.record_offers(other, &traces, "now").await.unwrap();
        store.record_offers(other, &traces, "now").await.unwrap();
        let rows = store.affectations_of_computer(other).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].affectation.forced);
        // A redistribution server that is gone: known to be gone.
        sqlx::query("DELETE FROM hardware WHERE id = $1")
            .bind(server.0)
            .execute(&store.pool)
            .await
            .unwrap();
        let read = store.prolog_packages(me, true).await.unwrap();
        assert_eq!(read.device[1].offer.server, Some(None));
    }
}
