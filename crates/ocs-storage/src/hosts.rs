//! Devices (`hardware` rows): lookup and creation for agents, the HARDWARE section write, and
//! the read models of the API.

use ocs_proto::catalogue;
use ocs_proto::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::sections::SectionData;
use crate::sql::{bind_value, read_fields};
use crate::{Result, Store, StoreError, WriteTx};

/// A device's ID (`hardware.id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub i64);

/// What agent handling needs to know about a known device.
#[derive(Debug, Clone, PartialEq)]
pub struct HostState {
    /// The device.
    pub id: HostId,
    /// Last stored inventory (Unix seconds).
    pub lastdate: Option<i64>,
    /// Last contact.
    pub lastcome: Option<i64>,
    /// Running mean of days between contacts.
    pub quality: f64,
    /// Number of contacts.
    pub fidelity: i64,
    /// Accumulated CHECKSUM of changes.
    pub checksum: i64,
    /// Logged-in user.
    pub userid: Option<String>,
}

/// Everything an inventory writes into the device row.
#[derive(Debug, Clone)]
pub struct HardwareUpdate {
    /// The HARDWARE row, one value per catalogue field; `None` leaves those columns alone.
    pub row: Option<Vec<Value>>,
    /// Keep the stored USERID (the agent reported a system account).
    pub keep_userid: bool,
    /// IP chosen for the device.
    pub ipaddr: Option<String>,
    /// Address the request came from.
    pub ipsrc: String,
    /// Sanitised User-Agent.
    pub useragent: String,
    /// Inventory date.
    pub lastdate: i64,
    /// Contact date.
    pub lastcome: i64,
    /// New accumulated CHECKSUM.
    pub checksum: i64,
}

/// One line of the computer list.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSummary {
    /// ID.
    pub id: HostId,
    /// DEVICEID.
    pub deviceid: String,
    /// Computer name.
    pub name: Option<String>,
    /// TAG.
    pub tag: Option<String>,
    /// Operating system.
    pub osname: Option<String>,
    /// OS version.
    pub osversion: Option<String>,
    /// IP address.
    pub ipaddr: Option<String>,
    /// Logged-in user.
    pub userid: Option<String>,
    /// Memory, MB.
    pub memory: Option<i64>,
    /// User-Agent of the last contact.
    pub useragent: Option<String>,
    /// Last inventory (Unix seconds).
    pub lastdate: Option<i64>,
    /// Last contact (Unix seconds).
    pub lastcome: Option<i64>,
}

/// Filters of the computer list.
#[derive(Debug, Clone, Default)]
pub struct HostFilter {
    /// Name contains this (case-insensitive).
    pub name: Option<String>,
    /// TAG equals this.
    pub tag: Option<String>,
}

/// A page request.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// 1-based page number.
    pub number: u32,
    /// Rows per page.
    pub size: u32,
}

/// A device with all its stored data.
#[derive(Debug, Clone)]
pub struct HostDetail {
    /// List fields.
    pub summary: HostSummary,
    /// Server-side fields of the device row.
    pub quality: f64,
    /// Number of contacts.
    pub fidelity: i64,
    /// Accumulated CHECKSUM.
    pub checksum: i64,
    /// Address of the last request.
    pub ipsrc: Option<String>,
    /// The HARDWARE section.
    pub hardware: SectionData,
    /// Administrative data, `(KEYNAME, value)`.
    pub accountinfo: Vec<(String, Option<String>)>,
    /// Every other section, software included, in catalogue order.
    pub sections: Vec<SectionData>,
}

const SUMMARY_COLUMNS: &str = "h.id, h.deviceid, h.name, a.tag, h.osname, h.osversion, h.ipaddr, h.userid, h.memory, h.useragent, h.lastdate, h.lastcome";

fn summary(row: &sqlx::any::AnyRow) -> std::result::Result<HostSummary, sqlx::Error> {
    Ok(HostSummary {
        id: HostId(row.try_get(0)?),
        deviceid: row.try_get(1)?,
        name: row.try_get(2)?,
        tag: row.try_get(3)?,
        osname: row.try_get(4)?,
        osversion: row.try_get(5)?,
        ipaddr: row.try_get(6)?,
        userid: row.try_get(7)?,
        memory: row.try_get(8)?,
        useragent: row.try_get(9)?,
        lastdate: row.try_get(10)?,
        lastcome: row.try_get(11)?,
    })
}

/// Escapes `LIKE` wildcards in user text (used with `ESCAPE '\'`).
pub(crate) fn like_pattern(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

const FIND_HOST: &str = "SELECT id, lastdate, lastcome, quality, fidelity, checksum, userid FROM hardware WHERE deviceid = $1";

fn host_state(r: &AnyRow) -> std::result::Result<HostState, sqlx::Error> {
    Ok(HostState {
        id: HostId(r.try_get(0)?),
        lastdate: r.try_get(1)?,
        lastcome: r.try_get(2)?,
        quality: r.try_get(3)?,
        fidelity: r.try_get(4)?,
        checksum: r.try_get(5)?,
        userid: r.try_get(6)?,
    })
}

impl Store {
    /// The device with this DEVICEID, as last committed (no lock: for decisions that only
    /// read, such as a PROLOG's).
    pub async fn find_host(&self, deviceid: &str) -> Result<Option<HostState>> {
        let row = sqlx::query(FIND_HOST)
            .bind(deviceid)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(host_state)
            .transpose()
            .map_err(StoreError::Db)
    }
}

impl WriteTx {
    /// The device with this DEVICEID.
    pub async fn find_host(&mut self, deviceid: &str) -> Result<Option<HostState>> {
        let row = sqlx::query(FIND_HOST)
            .bind(deviceid)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref()
            .map(host_state)
            .transpose()
            .map_err(StoreError::Db)
    }

    /// Creates a device with the column defaults, and its administrative data row.
    pub async fn insert_host(&mut self, deviceid: &str) -> Result<HostId> {
        let id: i64 =
            sqlx::query_scalar("INSERT INTO hardware (deviceid) VALUES ($1) RETURNING id")
                .bind(deviceid)
                .fetch_one(self.conn())
                .await?;
        sqlx::query("INSERT INTO accountinfo (hardware_id) VALUES ($1)")
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(HostId(id))
    }

    /// Records a PROLOG contact.
    pub async fn record_contact(
        &mut self,
        id: HostId,
        now: i64,
        useragent: &str,
        quality: f64,
        fidelity: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE hardware SET lastcome = $2, useragent = $3, quality = $4, fidelity = $5 WHERE id = $1")
            .bind(id.0)
            .bind(now)
            .bind(useragent)
            .bind(quality)
            .bind(fidelity)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// A device's HARDWARE section as stored, one value per catalogue field (what an
    /// inventory is compared with for the change history).
    pub async fn hardware_row(&mut self, id: HostId) -> Result<Option<Vec<Value>>> {
        let sql = format!(
            "SELECT {} FROM hardware WHERE id = $1",
            crate::sql::column_list(&catalogue::HARDWARE)
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(self.conn())
            .await?;
        Ok(row
            .map(|r| read_fields(&r, catalogue::HARDWARE.fields, 0))
            .transpose()?)
    }

    /// Writes the HARDWARE section and the server-side columns of an inventory.
    pub async fn update_hardware(&mut self, id: HostId, update: &HardwareUpdate) -> Result<()> {
        let fields = catalogue::HARDWARE.fields;
        let mut sets = Vec::new();
        let mut n = 1;
        let row = update.row.as_deref().unwrap_or_default();
        // IPADDR is chosen by the service (the interface the request came from) and is set
        // with the server-side columns below; a column may be assigned only once.
        let written = |f: &catalogue::Field| {
            !(row.is_empty() || f.name == "IPADDR" || f.name == "USERID" && update.keep_userid)
        };
        for f in fields.iter().filter(|f| written(f)) {
            n += 1;
            sets.push(format!("{} = ${n}", f.column));
        }
        for column in [
            "ipaddr",
            "ipsrc",
            "useragent",
            "lastdate",
            "lastcome",
            "checksum",
        ] {
            n += 1;
            sets.push(format!("{column} = ${n}"));
        }
        let sql = format!("UPDATE hardware SET {} WHERE id = $1", sets.join(", "));
        let mut q = sqlx::query(&sql).bind(id.0);
        for (f, v) in fields.iter().zip(row).filter(|(f, _)| written(f)) {
            q = bind_value(q, f.kind, v);
        }
        q.bind(update.ipaddr.clone())
            .bind(update.ipsrc.clone())
            .bind(update.useragent.clone())
            .bind(update.lastdate)
            .bind(update.lastcome)
            .bind(update.checksum)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl Store {
    /// A page of the computer list, and the total number of matches.
    pub async fn list_hosts(
        &self,
        filter: &HostFilter,
        page: Page,
    ) -> Result<(i64, Vec<HostSummary>)> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        if let Some(name) = filter.name.as_deref().filter(|s| !s.is_empty()) {
            binds.push(like_pattern(name));
            conditions.push(format!("LOWER(h.name) LIKE ${} ESCAPE '\\'", binds.len()));
        }
        if let Some(tag) = filter.tag.as_deref().filter(|s| !s.is_empty()) {
            binds.push(tag.to_owned());
            conditions.push(format!("a.tag = ${}", binds.len()));
        }
        let wh = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let from = "FROM hardware h LEFT JOIN accountinfo a ON a.hardware_id = h.id";
        let count_sql = format!("SELECT COUNT(*) {from} {wh}");
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for b in &binds {
            count = count.bind(b.clone());
        }
        let total = count.fetch_one(&self.read_pool).await?;
        let size = i64::from(page.size.max(1));
        let offset = i64::from(page.number.max(1) - 1) * size;
        let list_sql = format!(
            "SELECT {SUMMARY_COLUMNS} {from} {wh} ORDER BY h.id LIMIT ${} OFFSET ${}",
            binds.len() + 1,
            binds.len() + 2
        );
        let mut q = sqlx::query(&list_sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let rows = q.bind(size).bind(offset).fetch_all(&self.read_pool).await?;
        let items = rows
            .iter()
            .map(summary)
            .collect::<std::result::Result<_, _>>()?;
        Ok((total, items))
    }

    /// Finds a device by DEVICEID (read-only).
    pub async fn find_host_id(&self, deviceid: &str) -> Result<Option<HostId>> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM hardware WHERE deviceid = $1")
            .bind(deviceid)
            .fetch_optional(&self.pool)
            .await?;
        Ok(id.map(HostId))
    }

    /// [`StoreError::NotFound`] unless the computer exists: the check of the blocks a computer
    /// page loads on its own, which need no section of it.
    pub async fn require_host(&self, id: HostId) -> Result<()> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM hardware WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.read_pool)
            .await?;
        found
            .map(|_| ())
            .ok_or_else(|| StoreError::NotFound(format!("computer {}", id.0)))
    }

    /// A device with every stored section.
    pub async fn get_host(&self, id: HostId) -> Result<HostDetail> {
        let fields = catalogue::HARDWARE.fields;
        let columns: Vec<String> = fields.iter().map(|f| format!("h.{}", f.column)).collect();
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, h.quality, h.fidelity, h.checksum, h.ipsrc, {} FROM hardware h \
             LEFT JOIN accountinfo a ON a.hardware_id = h.id WHERE h.id = $1",
            columns.join(", ")
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.read_pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("computer {}", id.0)))?;
        let base = 16;
        let hardware_row = read_fields(&row, fields, base)?;
        let hardware = SectionData {
            table: catalogue::HARDWARE.table,
            columns: fields.iter().map(|f| (f.column, f.kind)).collect(),
            rows: vec![hardware_row],
        };
        let mut sections = Vec::new();
        for section in catalogue::SECTIONS {
            sections.push(self.section_rows(id, section).await?);
        }
        sections.push(self.software_rows(id).await?);
        let accountinfo = self.accountinfo_of(id).await?;
        Ok(HostDetail {
            summary: summary(&row)?,
            quality: row.try_get(12)?,
            fidelity: row.try_get(13)?,
            checksum: row.try_get(14)?,
            ipsrc: row.try_get(15)?,
            hardware,
            accountinfo,
            sections,
        })
    }

    /// Whether the database answers (health checks): one trivial statement, whatever the
    /// size of the fleet.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }

    /// Number of stored devices.
    pub async fn count_hosts(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM hardware")
            .fetch_one(&self.pool)
            .await?)
    }
}
