//! What the capacities store: package reports and history (deployment), NOTIFY IP changes and
//! SNMP scan results (IP discovery results: `ipdiscover::netmap`).

use ocs_proto::request::{NotifyIface, SnmpResult};
use sqlx::Row;

use crate::hosts::HostId;
use crate::{Result, Store, WriteTx};

/// What a NOTIFY changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifyOutcome {
    /// Interface rows updated.
    pub updated: u64,
}

/// What an SNMP query stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnmpOutcome {
    /// Devices stored or refreshed.
    pub stored: usize,
    /// Results skipped (unknown type table, no reconciliation value, bad label).
    pub skipped: usize,
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl WriteTx {
    /// Records a DOWNLOAD report: keeps it in `download_reports` and, when the device has the
    /// package assigned, sets the assignment's status. Returns whether an assignment changed.
    pub async fn record_download_report(
        &mut self,
        id: HostId,
        fileid: &str,
        status: &str,
        now: i64,
        when: &str,
    ) -> Result<bool> {
        sqlx::query("INSERT INTO download_reports (hardware_id, fileid, status, reported_at) VALUES ($1, $2, $3, $4)")
            .bind(id.0)
            .bind(fileid)
            .bind(status)
            .bind(now)
            .execute(self.conn())
            .await?;
        let done = sqlx::query(
            "UPDATE devices SET tvalue = $1, comments = $2 WHERE hardware_id = $3 AND name = 'DOWNLOAD' \
             AND ivalue IN (SELECT id FROM download_enable WHERE fileid = $4)",
        )
        .bind(status)
        .bind(when)
        .bind(id.0)
        .bind(fileid)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Replaces the device's installed-package history. With `only_known` (row-level diff on)
    /// only packages the server knows are recorded, as the original does.
    pub async fn sync_download_history(
        &mut self,
        id: HostId,
        package_ids: &[String],
        only_known: bool,
    ) -> Result<()> {
        sqlx::query("DELETE FROM download_history WHERE hardware_id = $1")
            .bind(id.0)
            .execute(self.conn())
            .await?;
        for pkg in package_ids {
            let name: Option<String> = sqlx::query_scalar(
                "SELECT name FROM download_available WHERE fileid = $1 AND deleted = 0",
            )
            .bind(pkg)
            .fetch_optional(self.conn())
            .await?;
            if only_known && name.is_none() {
                continue;
            }
            sqlx::query("INSERT INTO download_history (hardware_id, pkg_id, pkg_name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(id.0)
                .bind(pkg)
                .bind(name)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Applies a NOTIFY: updates the interfaces reported (by MAC), and if any changed, the
    /// device's IP and CHECKSUM.
    pub async fn notify_ip(
        &mut self,
        id: HostId,
        ifaces: &[NotifyIface],
        hardware_ipaddr: Option<&str>,
    ) -> Result<NotifyOutcome> {
        let mut updated = 0;
        for iface in ifaces {
            let (Some(mac), Some(ip), Some(mask)) = (&iface.mac, &iface.ip, &iface.mask) else {
                continue;
            };
            let done = sqlx::query(
                "UPDATE networks SET ipaddress = $1, ipmask = $2, ipgateway = COALESCE($3, ipgateway), \
                 ipsubnet = COALESCE($4, ipsubnet), ipdhcp = COALESCE($5, ipdhcp) \
                 WHERE hardware_id = $6 AND LOWER(macaddr) = LOWER($7)",
            )
            .bind(ip)
            .bind(mask)
            .bind(iface.gateway.clone())
            .bind(iface.subnet.clone())
            .bind(iface.dhcp.clone())
            .bind(id.0)
            .bind(mac)
            .execute(self.conn())
            .await?;
            updated += done.rows_affected();
        }
        if updated > 0 {
            let bits = if hardware_ipaddr.is_some() {
                4097
            } else {
                4096
            };
            sqlx::query("UPDATE hardware SET checksum = (checksum | $2), ipaddr = COALESCE($3, ipaddr) WHERE id = $1")
                .bind(id.0)
                .bind(bits)
                .bind(hardware_ipaddr.map(str::to_owned))
                .execute(self.conn())
                .await?;
        }
        Ok(NotifyOutcome { updated })
    }

    /// Stores SNMP results keyed by each type's reconciliation label.
    pub async fn store_snmp(
        &mut self,
        scanner: HostId,
        results: &[SnmpResult],
        now: i64,
    ) -> Result<SnmpOutcome> {
        let mut outcome = SnmpOutcome::default();
        for result in results {
            let label: Option<String> = sqlx::query_scalar(
                "SELECT reconciliation_label FROM snmp_types WHERE table_name = $1",
            )
            .bind(&result.table)
            .fetch_optional(self.conn())
            .await?;
            let key = label.and_then(|l| {
                result
                    .values
                    .iter()
                    .find(|(k, _)| *k == l)
                    .map(|(_, v)| v.clone())
            });
            let (Some(key), true) = (key, result.values.iter().all(|(k, _)| is_identifier(k)))
            else {
                outcome.skipped += 1;
                continue;
            };
            let device: i64 = sqlx::query(
                "INSERT INTO snmp_devices (type_table, reconciliation_value, scanned_by, first_seen, last_seen) VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (type_table, reconciliation_value) DO UPDATE SET scanned_by = excluded.scanned_by, last_seen = excluded.last_seen \
                 RETURNING id",
            )
            .bind(&result.table)
            .bind(&key)
            .bind(scanner.0)
            .bind(now)
            .fetch_one(self.conn())
            .await?
            .try_get(0)?;
            for (label, value) in &result.values {
                sqlx::query(
                    "INSERT INTO snmp_device_values (device_id, label, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (device_id, label) DO UPDATE SET value = excluded.value",
                )
                .bind(device)
                .bind(label)
                .bind(value)
                .execute(self.conn())
                .await?;
            }
            outcome.stored += 1;
        }
        Ok(outcome)
    }
}

impl Store {
    /// Reports received for a device, oldest first: `(fileid, status)`.
    pub async fn download_reports(&self, id: HostId) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT fileid, status FROM download_reports WHERE hardware_id = $1 ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Installed-package history of a device.
    pub async fn download_history(&self, id: HostId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT pkg_id FROM download_history WHERE hardware_id = $1 ORDER BY pkg_id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Discovered hosts of a subnet: `(ip, mac, name)`.
    pub async fn netmap(&self, netid: &str) -> Result<Vec<(String, String, Option<String>)>> {
        let rows = sqlx::query("SELECT ip, mac, name FROM netmap WHERE netid = $1 ORDER BY ip")
            .bind(netid)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// SNMP values of a scanned device: `(label, value)`.
    pub async fn snmp_device(
        &self,
        type_table: &str,
        key: &str,
    ) -> Result<Vec<(String, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT v.label, v.value FROM snmp_device_values v JOIN snmp_devices d ON d.id = v.device_id \
             WHERE d.type_table = $1 AND d.reconciliation_value = $2 ORDER BY v.label",
        )
        .bind(type_table)
        .bind(key)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}
