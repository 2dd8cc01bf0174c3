//! The User-Agent gate of PROLOG. The original admits its own agents only up to its own
//! version and FusionInventory only through an exact-match file; we admit every OCS agent
//! version and FusionInventory out of the box, plus configured prefixes and the lines of the
//! `EXT_USERAGENTS_FILE_PATH` file (whole string or prefix).

use ocs_proto::useragent;

use crate::app::options::Options;

/// Why a User-Agent was refused, if it was.
pub fn refusal(ua: &str, extra_prefixes: &[String], options: &Options) -> Option<String> {
    if useragent::is_ocs_agent(ua) || useragent::is_fusioninventory(ua) {
        return None;
    }
    if extra_prefixes
        .iter()
        .any(|p| !p.is_empty() && ua.starts_with(p.as_str()))
    {
        return None;
    }
    let path = options.text("EXT_USERAGENTS_FILE_PATH");
    if !path.is_empty() {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let admitted = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .any(|l| ua.starts_with(l));
                if admitted {
                    return None;
                }
            }
            Err(e) => tracing::warn!(path, error = %e, "cannot read EXT_USERAGENTS_FILE_PATH"),
        }
    }
    Some(format!(
        "User-Agent {ua:?} is not an OCS or FusionInventory agent; add its prefix to agents.extra_user_agents to admit it"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate() {
        let o = Options::defaults();
        assert!(refusal("OCS-NG_unified_unix_agent_v2.10.0", &[], &o).is_none());
        assert!(refusal("OCS-NG_unified_unix_agent_v2.9.0", &[], &o).is_none());
        assert!(refusal("OCS-NG_WINDOWS_AGENT_v2.11.0.1", &[], &o).is_none());
        assert!(refusal("FusionInventory-Agent_v2.6-3", &[], &o).is_none());
        assert!(refusal("curl/7.88.1", &[], &o).is_some());
        assert!(refusal("GLPI-Agent_v1.7", &["GLPI-Agent".into()], &o).is_none());
    }
}
