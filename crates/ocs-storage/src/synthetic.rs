//! A synthetic fleet written straight into the database, for benchmarks of the console at
//! fleet scale (100,000 computers would take hours through the agent protocol). Rows are
//! shaped like ingested ones (hardware, TAG, BIOS, one network, software through the
//! dictionaries) and generated deterministically from a seed.

use crate::{Result, Store};

/// Shape of a synthetic fleet.
#[derive(Debug, Clone, Copy)]
pub struct FleetSpec {
    /// Computers to add.
    pub computers: usize,
    /// Software entries per computer.
    pub software_per_computer: usize,
    /// Seed of the generator.
    pub seed: u64,
}

/// Operating systems of the fleet, most common first.
pub const SYNTHETIC_OS: &[&str] = &[
    "Microsoft Windows 10 Pro",
    "Microsoft Windows 11 Pro",
    "Debian GNU/Linux 12",
    "Ubuntu 22.04 LTS",
    "Microsoft Windows Server 2019",
    "Red Hat Enterprise Linux 9",
];

/// Names of the software catalogue; the first ones are installed almost everywhere.
pub fn synthetic_software_name(i: usize) -> String {
    const POPULAR: &[&str] = &[
        "Mozilla Firefox",
        "LibreOffice",
        "7-Zip",
        "VLC media player",
        "Google Chrome",
        "Adobe Acrobat Reader",
        "Notepad++",
        "OpenSSH",
    ];
    POPULAR
        .get(i)
        .map_or_else(|| format!("Application {i:04}"), |s| (*s).to_owned())
}

/// Size of the software catalogue.
const CATALOGUE: usize = 3000;
/// Computers written per transaction.
const BATCH: usize = 500;

/// xorshift64*: fast, deterministic, good enough to spread synthetic values.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
}

impl Store {
    /// Adds a synthetic fleet; `progress` is called with the number of computers written so
    /// far after each batch.
    pub async fn populate_synthetic(
        &self,
        spec: FleetSpec,
        mut progress: impl FnMut(usize),
    ) -> Result<()> {
        let mut rng = Rng(spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut tx = self.begin().await?;
        for i in 0..CATALOGUE {
            sqlx::query("INSERT INTO software_name (name) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(synthetic_software_name(i))
                .execute(tx.conn())
                .await?;
        }
        sqlx::query("INSERT INTO software_publisher (publisher) VALUES ('Synthetic') ON CONFLICT DO NOTHING")
            .execute(tx.conn())
            .await?;
        sqlx::query("INSERT INTO software_version (version, prettyversion) VALUES ('1.0', '1.0') ON CONFLICT DO NOTHING")
            .execute(tx.conn())
            .await?;
        let names: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM software_name")
            .fetch_all(tx.conn())
            .await?;
        let name_ids: Vec<i64> = (0..CATALOGUE)
            .filter_map(|i| {
                let n = synthetic_software_name(i);
                names.iter().find(|(_, name)| *name == n).map(|(id, _)| *id)
            })
            .collect();
        let publisher: i64 =
            sqlx::query_scalar("SELECT id FROM software_publisher WHERE publisher = 'Synthetic'")
                .fetch_one(tx.conn())
                .await?;
        let version: i64 =
            sqlx::query_scalar("SELECT id FROM software_version WHERE version = '1.0'")
                .fetch_one(tx.conn())
                .await?;
        tx.commit().await?;
        let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM hardware")
            .fetch_one(&self.pool)
            .await?;
        let now = crate::sql::unix_now();
        let mut done = 0;
        while done < spec.computers {
            let batch = BATCH.min(spec.computers - done);
            let mut tx = self.begin().await?;
            for b in 0..batch {
                let n = first + 1 + i64::try_from(done + b).unwrap_or(0);
                let os = SYNTHETIC_OS[rng
                    .below(SYNTHETIC_OS.len())
                    .min(rng.below(SYNTHETIC_OS.len()))];
                let subnet = rng.below(250);
                let host = rng.below(250) + 2;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO hardware (deviceid, name, workgroup, osname, osversion, processort, processors, processorn, \
                     memory, swap, ipaddr, userid, lastdate, lastcome, useragent, checksum, fidelity) \
                     VALUES ($1, $2, 'CORP', $3, '10.0', $4, $5, $6, $7, 2048, $8, $9, $10, $10, $11, 262143, 1) RETURNING id",
                )
                .bind(format!("synthetic-{n:07}-2024-01-01-00-00-00"))
                .bind(format!("pc-{n:07}"))
                .bind(os)
                .bind(["Intel Core i5-8500", "Intel Core i7-1165G7", "AMD Ryzen 5 5600G"][rng.below(3)])
                .bind(i64::try_from(2000 + rng.below(2000)).unwrap_or(0))
                .bind(i64::try_from(1 + rng.below(8)).unwrap_or(1))
                .bind([4096i64, 8192, 16384, 32768][rng.below(4)])
                .bind(format!("10.{}.{subnet}.{host}", rng.below(20)))
                .bind(format!("user{}", rng.below(50_000)))
                .bind(now - i64::try_from(rng.below(90 * 86_400)).unwrap_or(0))
                .bind(["OCS-NG_WINDOWS_AGENT_v2.10.1.0", "OCS-NG_unified_unix_agent_v2.10.0", "FusionInventory-Agent_v2.6"][rng.below(3)])
                .fetch_one(tx.conn())
                .await?;
                sqlx::query("INSERT INTO accountinfo (hardware_id, tag) VALUES ($1, $2)")
                    .bind(id)
                    .bind(format!("SITE-{:02}", rng.below(40)))
                    .execute(tx.conn())
                    .await?;
                sqlx::query("INSERT INTO bios (hardware_id, smanufacturer, smodel, ssn, bmanufacturer, bversion) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(id)
                    .bind(["Dell Inc.", "HP", "LENOVO"][rng.below(3)])
                    .bind(format!("Model {}", rng.below(30)))
                    .bind(format!("SN{n:08}"))
                    .bind("BIOS Vendor")
                    .bind(format!("1.{}.0", rng.below(20)))
                    .execute(tx.conn())
                    .await?;
                sqlx::query("INSERT INTO networks (hardware_id, description, macaddr, ipaddress, ipmask, ipsubnet, ipgateway) VALUES ($1, 'eth0', $2, $3, '255.255.255.0', $4, $5)")
                    .bind(id)
                    .bind(format!("02:00:{:02x}:{:02x}:{:02x}:{:02x}", (n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255))
                    .bind(format!("10.0.{subnet}.{host}"))
                    .bind(format!("10.0.{subnet}.0"))
                    .bind(format!("10.0.{subnet}.1"))
                    .execute(tx.conn())
                    .await?;
                // Popular software on most computers, the rest spread over the catalogue.
                let mut chosen: Vec<i64> = Vec::with_capacity(spec.software_per_computer);
                for (p, id) in name_ids.iter().take(8).enumerate() {
                    if rng.below(100) < 90 - p * 8 {
                        chosen.push(*id);
                    }
                }
                while chosen.len() < spec.software_per_computer && name_ids.len() > 8 {
                    chosen.push(name_ids[8 + rng.below(name_ids.len() - 8)]);
                }
                chosen.sort_unstable();
                chosen.dedup();
                for chunk in chosen.chunks(200) {
                    let values: Vec<String> = chunk
                        .iter()
                        .map(|name| format!("({id}, {name}, {publisher}, {version})"))
                        .collect();
                    // Every value is an integer produced here, none comes from outside.
                    sqlx::query(&format!(
                        "INSERT INTO software (hardware_id, name_id, publisher_id, version_id) VALUES {}",
                        values.join(", ")
                    ))
                    .execute(tx.conn())
                    .await?;
                }
            }
            tx.commit().await?;
            done += batch;
            progress(done);
        }
        // Fresh statistics and (PostgreSQL) visibility maps, as autovacuum keeps them on a
        // database in use, so plans and index-only scans are realistic.
        let maintenance = match self.backend {
            crate::Backend::Sqlite => "ANALYZE",
            crate::Backend::Postgres => "VACUUM ANALYZE",
        };
        sqlx::query(maintenance).execute(&self.pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    #[tokio::test]
    async fn a_small_fleet_is_generated() {
        let (store, _dir) = store().await;
        store
            .populate_synthetic(
                FleetSpec {
                    computers: 30,
                    software_per_computer: 20,
                    seed: 1,
                },
                |_| {},
            )
            .await
            .unwrap();
        assert_eq!(store.count_hosts().await.unwrap(), 30);
        let tags = store.list_tag_counts().await.unwrap();
        assert_eq!(tags.iter().map(|(_, n)| n).sum::<i64>(), 30);
    }
}
