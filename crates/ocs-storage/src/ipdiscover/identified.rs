//! Identified devices (`identified_devices`, the original's `network_devices`): MACs an
//! operator registered as known, with a type (`device_types`) and a description. They leave
//! the non-inventoried lists and make up the identified ones.

use crate::{Result, Store, StoreError};

/// A device type, with how many identified devices have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceType {
    /// Row ID.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Identified devices of this type.
    pub devices: i64,
}

/// An identified device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifiedDevice {
    /// MAC, lower case with colons.
    pub mac: String,
    /// What it is, in the operator's words.
    pub description: String,
    /// The type's name (`''`: none).
    pub device_type: String,
    /// Who registered it.
    pub registered_by: String,
    /// Unix time of the registration.
    pub registered_at: i64,
}

/// What the last scan saw of a MAC (`netmap`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenDevice {
    /// IPv4 address.
    pub ip: String,
    /// Network address it was seen on.
    pub netid: String,
    /// Name the scanner resolved (`-` or empty when none).
    pub name: String,
    /// Unix time it was last seen.
    pub last_seen: i64,
}

/// Why a type could not be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeDeletion {
    /// Gone.
    Deleted,
    /// No such type.
    NotFound,
    /// Identified devices still have it.
    InUse(i64),
}

type DeviceRow = (String, String, String, String, i64);

impl Store {
    /// Every device type by name, with its number of identified devices.
    pub async fn list_device_types(&self) -> Result<Vec<DeviceType>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT t.id, t.name, COUNT(d.mac) FROM device_types t \
             LEFT JOIN identified_devices d ON d.device_type = t.name \
             GROUP BY t.id, t.name ORDER BY t.name",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, devices)| DeviceType { id, name, devices })
            .collect())
    }

    /// Adds a device type; [`StoreError::Conflict`] when the name exists.
    pub async fn insert_device_type(&self, name: &str) -> Result<i64> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO device_types (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        id.ok_or_else(|| StoreError::Conflict(format!("device type {name:?}")))
    }

    /// Deletes a device type unless identified devices have it (checked in the same
    /// transaction, so a registration cannot slip in between).
    pub async fn delete_device_type(&self, id: i64) -> Result<TypeDeletion> {
        let mut tx = self.begin().await?;
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM device_types WHERE id = $1")
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
        let Some(name) = name else {
            return Ok(TypeDeletion::NotFound);
        };
        let used: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM identified_devices WHERE device_type = $1")
                .bind(&name)
                .fetch_one(tx.conn())
                .await?;
        if used > 0 {
            return Ok(TypeDeletion::InUse(used));
        }
        sqlx::query("DELETE FROM device_types WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(TypeDeletion::Deleted)
    }

    /// Registers a MAC as known (or changes its type and description), in one statement.
    /// [`StoreError::NotFound`] when the type is named but does not exist.
    pub async fn register_device(&self, d: &IdentifiedDevice) -> Result<()> {
        let mut tx = self.begin().await?;
        if !d.device_type.is_empty() {
            let known: Option<i64> =
                sqlx::query_scalar("SELECT id FROM device_types WHERE name = $1")
                    .bind(&d.device_type)
                    .fetch_optional(tx.conn())
                    .await?;
            if known.is_none() {
                return Err(StoreError::NotFound(format!(
                    "device type {:?}",
                    d.device_type
                )));
            }
        }
        sqlx::query(
            "INSERT INTO identified_devices (mac, description, device_type, registered_by, registered_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (mac) DO UPDATE SET \
             description = excluded.description, device_type = excluded.device_type, \
             registered_by = excluded.registered_by, registered_at = excluded.registered_at",
        )
        .bind(&d.mac)
        .bind(&d.description)
        .bind(&d.device_type)
        .bind(&d.registered_by)
        .bind(d.registered_at)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An identified device by MAC (lower case).
    pub async fn find_identified_device(&self, mac: &str) -> Result<Option<IdentifiedDevice>> {
        let row: Option<DeviceRow> = sqlx::query_as(
            "SELECT mac, description, device_type, registered_by, registered_at \
             FROM identified_devices WHERE mac = $1",
        )
        .bind(mac)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(mac, description, device_type, registered_by, registered_at)| IdentifiedDevice {
                mac,
                description,
                device_type,
                registered_by,
                registered_at,
            },
        ))
    }

    /// Forgets that a MAC is known: it shows as non-inventoried again. Whether it was.
    pub async fn unregister_device(&self, mac: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM identified_devices WHERE mac = $1")
            .bind(mac)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// What the last scan saw of a MAC (lower case), if any scan did.
    pub async fn seen_device(&self, mac: &str) -> Result<Option<SeenDevice>> {
        let row: Option<(String, Option<String>, Option<String>, i64)> =
            sqlx::query_as("SELECT ip, netid, name, date FROM netmap WHERE mac = $1")
                .bind(mac)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(ip, netid, name, last_seen)| SeenDevice {
            ip,
            netid: netid.unwrap_or_default(),
            name: name.unwrap_or_default(),
            last_seen,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::store;

    fn device(mac: &str, device_type: &str) -> IdentifiedDevice {
        IdentifiedDevice {
            mac: mac.into(),
            description: "second-floor printer".into(),
            device_type: device_type.into(),
            registered_by: "admin".into(),
            registered_at: 1_700_000_000,
        }
    }

    #[tokio::test]
    async fn types_in_use_stay_and_registrations_need_an_existing_type() {
        let (store, _dir) = store().await;
        let printer = store.insert_device_type("Printer").await.unwrap();
        assert!(matches!(
            store.insert_device_type("Printer").await,
            Err(StoreError::Conflict(_))
        ));
        let switch = store.insert_device_type("Switch").await.unwrap();
        assert!(matches!(
            store
                .register_device(&device("00:1b:21:0a:00:15", "Router"))
                .await,
            Err(StoreError::NotFound(_))
        ));
        store
            .register_device(&device("00:1b:21:0a:00:15", "Printer"))
            .await
            .unwrap();
        // Registering again changes it.
        let mut again = device("00:1b:21:0a:00:15", "Printer");
        again.description = "moved".into();
        store.register_device(&again).await.unwrap();
        let found = store
            .find_identified_device("00:1b:21:0a:00:15")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.description, "moved");
        let types = store.list_device_types().await.unwrap();
        assert_eq!(
            types
                .iter()
                .map(|t| (t.name.as_str(), t.devices))
                .collect::<Vec<_>>(),
            [("Printer", 1), ("Switch", 0)]
        );
        assert_eq!(
            store.delete_device_type(printer).await.unwrap(),
            TypeDeletion::InUse(1)
        );
        assert_eq!(
            store.delete_device_type(switch).await.unwrap(),
            TypeDeletion::Deleted
        );
        assert_eq!(
            store.delete_device_type(switch).await.unwrap(),
            TypeDeletion::NotFound
        );
        assert!(store.unregister_device("00:1b:21:0a:00:15").await.unwrap());
        assert!(!store.unregister_device("00:1b:21:0a:00:15").await.unwrap());
        assert_eq!(
            store.delete_device_type(printer).await.unwrap(),
            TypeDeletion::Deleted
        );
        assert_eq!(store.seen_device("00:1b:21:0a:00:15").await.unwrap(), None);
    }
}
