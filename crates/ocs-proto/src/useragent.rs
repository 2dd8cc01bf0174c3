//! User-Agent strings: sanitising them and recognising the agents the original admits.

/// Agent names (the part before the last `_v`) the original admits at PROLOG.
pub const OCS_AGENT_NAMES: &[&str] = &[
    "OCS-NG_unified_unix_agent",
    "OCS-NG_WINDOWS_AGENT",
    "OCS-NG_windows_mobile_agent",
    "OCS-NG_iOS_agent",
    "OCS-NG_Android_agent",
    "OCS-NG_windows_client",
];

/// Longest User-Agent kept.
pub const MAX_LEN: usize = 255;

/// Strips control characters and replaces a User-Agent holding markup or quoting characters
/// by `Invalid_agent`, as the original does, so it can be shown and logged safely.
pub fn sanitise(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_LEN)
        .collect();
    if cleaned.contains(['<', '>', '"', '\'', ';']) {
        "Invalid_agent".to_owned()
    } else {
        cleaned
    }
}

/// Splits `NAME_vVERSION` at the last `_v`.
pub fn split(ua: &str) -> (&str, Option<&str>) {
    match ua.rfind("_v") {
        Some(at) => (&ua[..at], Some(&ua[at + 2..])),
        None => (ua, None),
    }
}

/// Whether the User-Agent is one of the OCS agents, whatever its version.
pub fn is_ocs_agent(ua: &str) -> bool {
    let (name, version) = split(ua);
    version.is_some() && OCS_AGENT_NAMES.contains(&name)
}

/// Whether the User-Agent is FusionInventory's.
pub fn is_fusioninventory(ua: &str) -> bool {
    ua.starts_with("FusionInventory-Agent")
}

/// The "local" User-Agents (the injector in local mode) skip IP discovery processing.
pub fn is_local(ua: &str) -> bool {
    ua.to_ascii_lowercase().contains("local")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognition() {
        assert!(is_ocs_agent("OCS-NG_unified_unix_agent_v2.10.0"));
        assert!(is_ocs_agent("OCS-NG_unified_unix_agent_v2.9.0"));
        assert!(is_ocs_agent("OCS-NG_WINDOWS_AGENT_v2.11.0.1"));
        assert!(is_ocs_agent("OCS-NG_windows_client_v4061"));
        assert!(!is_ocs_agent("curl/7.88.1"));
        assert!(is_fusioninventory("FusionInventory-Agent_v2.6-3"));
        assert_eq!(
            split("OCS-NG_unified_unix_agent_v2.10.0"),
            ("OCS-NG_unified_unix_agent", Some("2.10.0"))
        );
    }

    #[test]
    fn sanitising() {
        assert_eq!(sanitise("OCS\x07-NG"), "OCS-NG");
        assert_eq!(sanitise("<script>"), "Invalid_agent");
    }
}
