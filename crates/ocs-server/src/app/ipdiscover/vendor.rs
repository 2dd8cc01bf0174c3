//! The vendor of a MAC address, from the IEEE registries (MA-L, MA-M, MA-S, CID, IAB) that
//! the `oui-data` crate embeds: nothing to download or keep up to date at run time.

/// The organisation that owns the MAC's prefix, if it is registered.
pub fn mac_vendor(mac: &str) -> Option<&'static str> {
    oui_data::lookup(mac.trim()).map(|r| r.organization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_prefixes_have_their_vendor_and_local_ones_none() {
        assert_eq!(mac_vendor("00:0c:29:0a:00:17"), Some("VMware, Inc."));
        assert!(mac_vendor("3C:52:82:AA:BB:CC").is_some_and(|v| v.contains("Hewlett")));
        assert_eq!(mac_vendor("02:00:00:00:00:01"), None);
        assert_eq!(mac_vendor("not a mac"), None);
    }
}
