//! The agent's configuration: defaults, then `/etc/ocs-agent/agent.toml`, then command-line
//! switches, merged once into a [`Config`] that the rest of the agent reads. Unknown keys in
//! the file are errors (a misspelt `sever` would otherwise be silently ignored).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::Options;
use crate::error::Error;
use crate::transport::TransportConfig;

/// Where the configuration file is looked for when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "/etc/ocs-agent/agent.toml";
/// Where the state lives by default.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/ocs-agent";

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// `[tls]` of the file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    /// CA certificate(s), PEM.
    pub ca: Option<PathBuf>,
    /// Verify the server certificate (default true).
    pub verify: Option<bool>,
}

/// `[auth]` of the file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    /// Basic authentication user.
    pub user: Option<String>,
    /// Basic authentication password.
    pub password: Option<Secret>,
    /// Realm to answer.
    pub realm: Option<String>,
}

/// The configuration file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Server URL.
    pub server: Option<String>,
    /// TAG to send.
    pub tag: Option<String>,
    /// State directory.
    pub state_dir: Option<PathBuf>,
    /// Proxy URL.
    pub proxy: Option<String>,
    /// HTTP timeout, seconds.
    pub timeout: Option<u64>,
    /// Leave software out.
    pub nosoft: Option<bool>,
    /// Log file.
    pub logfile: Option<PathBuf>,
    /// Longest first daemon wait when PROLOG_FREQ is unknown, seconds.
    pub delaytime: Option<u64>,
    /// Plugins directory.
    pub plugins_dir: Option<PathBuf>,
    /// Time limit of one plugin, seconds.
    pub plugin_timeout: Option<u64>,
    /// TLS settings.
    #[serde(default)]
    pub tls: TlsFile,
    /// Authentication settings.
    #[serde(default)]
    pub auth: AuthFile,
}

impl ConfigFile {
    /// Reads a file. A missing default file is an empty configuration; a missing file the
    /// user named is an error.
    pub fn load(path: &Path, explicit: bool) -> Result<ConfigFile, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| Error::Config(format!("{}: {}", path.display(), e.message()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                Ok(ConfigFile::default())
            }
            Err(e) => Err(Error::Config(format!("{}: {e}", path.display()))),
        }
    }
}

/// The merged configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Server URL, if any.
    pub server: Option<String>,
    /// TAG to send.
    pub tag: Option<String>,
    /// State directory.
    pub state_dir: PathBuf,
    /// Write `<DEVICEID>.ocs` here instead of sending.
    pub local: Option<PathBuf>,
    /// Plain XML output.
    pub xml: bool,
    /// Print the inventory.
    pub stdout: bool,
    /// Ignore STOP.
    pub force: bool,
    /// Leave software out.
    pub nosoft: bool,
    /// Only check the connection.
    pub test: bool,
    /// Skip the run if the server was contacted less than PROLOG_FREQ ago.
    pub lazy: bool,
    /// Random wait before contacting the server.
    pub wait: Option<Duration>,
    /// Longest first daemon wait when PROLOG_FREQ is unknown.
    pub delaytime: Duration,
    /// Log file.
    pub logfile: Option<PathBuf>,
    /// Verbose.
    pub info: bool,
    /// Debug.
    pub debug: bool,
    /// `--ipdisc`: a network to map whatever the server says.
    pub ipdisc: Option<std::net::Ipv4Addr>,
    /// `--ipdisc-latency`: milliseconds between probes, over the server's value.
    pub ipdisc_latency: Option<u64>,
    /// How to reach the server.
    pub transport: TransportConfig,
    /// Where plugins are and how long each may take.
    pub plugins: crate::plugins::Settings,
}

impl Config {
    /// Merges defaults, the file and the switches.
    pub fn from_options(o: &Options) -> Result<Config, Error> {
        let (path, explicit) = match &o.config {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from(DEFAULT_CONFIG), false),
        };
        let file = ConfigFile::load(&path, explicit)?;
        Ok(Config::merge(o, file))
    }

    /// The merge itself, separate from file reading so it can be tested.
    pub fn merge(o: &Options, file: ConfigFile) -> Config {
        let server = o.server.clone().or(file.server);
        let verify_tls = match o.ssl {
            Some(v) => v == 1,
            None => file.tls.verify.unwrap_or(true),
        };
        Config {
            transport: TransportConfig {
                url: server.clone().unwrap_or_default(),
                ca_file: o.ca.clone().or(file.tls.ca),
                verify_tls,
                user: o.user.clone().or(file.auth.user),
                password: o.password.clone().or(file.auth.password.map(|s| s.0)),
                realm: o.realm.clone().or(file.auth.realm),
                proxy: o.proxy.clone().or(file.proxy),
                timeout: Duration::from_secs(o.timeout.or(file.timeout).unwrap_or(120)),
                debug: o.debug,
                user_agent: None,
            },
            server,
            tag: o.tag.clone().or(file.tag),
            state_dir: o
                .state_dir
                .clone()
                .or(file.state_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR)),
            local: o.local.clone(),
            xml: o.xml,
            stdout: o.stdout,
            force: o.force,
            nosoft: o.nosoft || file.nosoft.unwrap_or(false),
            test: o.test,
            lazy: o.lazy,
            wait: o.wait.map(Duration::from_secs),
            delaytime: Duration::from_secs(o.delaytime.or(file.delaytime).unwrap_or(3600)),
            logfile: o.logfile.clone().or(file.logfile),
            info: o.info,
            debug: o.debug,
            ipdisc: o.ipdisc,
            ipdisc_latency: o.ipdisc_latency,
            plugins: crate::plugins::Settings {
                dir: o
                    .plugins_dir
                    .clone()
                    .or(file.plugins_dir)
                    .unwrap_or_else(|| PathBuf::from(crate::plugins::DEFAULT_DIR)),
                timeout: o
                    .plugin_timeout
                    .or(file.plugin_timeout)
                    .filter(|&s| s > 0)
                    .map_or(crate::plugins::DEFAULT_TIMEOUT, Duration::from_secs),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn flags_override_the_file() {
        let file: ConfigFile = toml::from_str(
            "server = \"https://ocs.example.org/ocsinventory\"\ntag = \"PARIS\"\nstate_dir = \"/srv/ocs\"\n[tls]\nca = \"/etc/ocs-agent/ca.pem\"\n[auth]\nuser = \"agent\"\npassword = \"s3cret\"\n",
        )
        .unwrap();
        assert_eq!(format!("{:?}", file.auth.password), "Some(***)");
        let cli =
            crate::cli::Cli::try_parse_from(["ocs-agent", "--tag", "LYON", "--ssl", "0"]).unwrap();
        let c = Config::merge(&cli.options, file);
        assert_eq!(
            c.server.as_deref(),
            Some("https://ocs.example.org/ocsinventory")
        );
        assert_eq!(c.tag.as_deref(), Some("LYON"));
        assert_eq!(c.state_dir, PathBuf::from("/srv/ocs"));
        assert_eq!(
            c.transport.ca_file,
            Some(PathBuf::from("/etc/ocs-agent/ca.pem"))
        );
        assert!(!c.transport.verify_tls);
        assert_eq!(c.transport.password.as_deref(), Some("s3cret"));
        assert_eq!(c.transport.timeout, Duration::from_secs(120));

        let file: ConfigFile =
            toml::from_str("plugins_dir = \"/srv/plugins\"\nplugin_timeout = 10\n").unwrap();
        let c = Config::merge(&cli.options, file.clone());
        assert_eq!(c.plugins.dir, PathBuf::from("/srv/plugins"));
        assert_eq!(c.plugins.timeout, Duration::from_secs(10));
        let cli = crate::cli::Cli::try_parse_from(["ocs-agent", "--plugin-timeout", "2"]).unwrap();
        assert_eq!(
            Config::merge(&cli.options, file).plugins.timeout,
            Duration::from_secs(2)
        );
    }

    #[test]
    fn defaults_and_file_errors() {
        let cli = crate::cli::Cli::try_parse_from(["ocs-agent"]).unwrap();
        let c = Config::merge(&cli.options, ConfigFile::default());
        assert_eq!(c.state_dir, PathBuf::from(DEFAULT_STATE_DIR));
        assert!(c.transport.verify_tls);
        assert_eq!(c.plugins, crate::plugins::Settings::default());
        assert_eq!(c.plugins.dir, PathBuf::from("/etc/ocs-agent/plugins"));
        assert_eq!(c.plugins.timeout, Duration::from_secs(30));
        assert!(
            toml::from_str::<ConfigFile>("sever = \"x\"").is_err(),
            "typos are errors"
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            ConfigFile::load(&dir.path().join("none.toml"), false).unwrap(),
            ConfigFile::default()
        );
        assert!(matches!(
            ConfigFile::load(&dir.path().join("none.toml"), true),
            Err(Error::Config(_))
        ));
    }
}
