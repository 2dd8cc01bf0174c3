//! The serials and MAC addresses that never make duplicates (placeholders that vendors ship on
//! many machines: `To Be Filled By O.E.M.`, `00:00:00:00:00:00`, …), as the detection and the
//! candidates read them, ignoring case.

use crate::{Result, Store};

/// Which blacklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blacklist {
    /// BIOS serial numbers.
    Serials,
    /// MAC addresses.
    Macs,
}

impl Blacklist {
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Blacklist::Serials => (
                "SELECT serial FROM blacklist_serials ORDER BY LOWER(serial), serial",
                "INSERT INTO blacklist_serials (serial) SELECT $1 WHERE NOT EXISTS \
                 (SELECT 1 FROM blacklist_serials WHERE LOWER(serial) = LOWER($1))",
                "DELETE FROM blacklist_serials WHERE serial = $1",
            ),
            Blacklist::Macs => (
                "SELECT macaddress FROM blacklist_macaddresses ORDER BY LOWER(macaddress), macaddress",
                "INSERT INTO blacklist_macaddresses (macaddress) SELECT $1 WHERE NOT EXISTS \
                 (SELECT 1 FROM blacklist_macaddresses WHERE LOWER(macaddress) = LOWER($1))",
                "DELETE FROM blacklist_macaddresses WHERE macaddress = $1",
            ),
        }
    }
}

impl Store {
    /// The values of a blacklist, sorted ignoring case.
    pub async fn blacklist(&self, list: Blacklist) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(list.sql().0)
            .fetch_all(&self.read_pool)
            .await?)
    }

    /// Adds a value; false when it is already there (in any case).
    pub async fn blacklist_add(&self, list: Blacklist, value: &str) -> Result<bool> {
        self.blacklist_write(list.sql().1, value).await
    }

    /// Removes a value as stored; false when it was not there.
    pub async fn blacklist_remove(&self, list: Blacklist, value: &str) -> Result<bool> {
        self.blacklist_write(list.sql().2, value).await
    }

    async fn blacklist_write(&self, sql: &'static str, value: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(sql)
            .bind(value.to_owned())
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::Blacklist;
    use crate::test_support::store;

    #[tokio::test]
    async fn values_are_added_once_whatever_their_case_and_removed() {
        let (store, _dir) = store().await;
        assert!(store
            .blacklist(Blacklist::Serials)
            .await
            .unwrap()
            .contains(&"To Be Filled By O.E.M.".to_owned()));
        assert!(store
            .blacklist_add(Blacklist::Serials, "CHANGE-ME")
            .await
            .unwrap());
        assert!(!store
            .blacklist_add(Blacklist::Serials, "change-me")
            .await
            .unwrap());
        assert!(store
            .blacklist_remove(Blacklist::Serials, "CHANGE-ME")
            .await
            .unwrap());
        assert!(!store
            .blacklist_remove(Blacklist::Serials, "CHANGE-ME")
            .await
            .unwrap());
        assert!(store
            .blacklist_add(Blacklist::Macs, "02:00:4C:4F:4F:50")
            .await
            .unwrap());
        assert!(store
            .blacklist(Blacklist::Macs)
            .await
            .unwrap()
            .contains(&"02:00:4C:4F:4F:50".to_owned()));
    }
}
