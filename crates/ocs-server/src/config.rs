//! The typed server configuration, layered: built-in defaults, then a TOML file (`--config`),
//! then `OCS_*` environment variables (`__` separates nesting levels, `*_FILE` reads a secret
//! from a file), then command-line flags. Validated once at start-up.
//!
//! `OCS_OPT_<NAME>` variables and the file's `[options]` table are not configuration: they
//! seed the server options kept in the database (see `app::options`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Address the HTTPS server listens on (every route, as on HTTP); `None` (`"off"` in the
    /// file, the environment or `--tls-listen`) turns HTTPS off.
    #[serde(with = "tls_listen_text")]
    pub tls_listen: Option<SocketAddr>,
    /// Where the SQLite database (and later package files) live.
    pub data_dir: PathBuf,
    /// Database URL (`sqlite:PATH` or `postgres://USER:PASSWORD@HOST/DB`); empty means SQLite
    /// in the data directory.
    pub database_url: String,
    /// Optional read replica (PostgreSQL) for console and API reads.
    pub database_read_url: String,
    /// Database pool settings.
    pub database: DatabaseConfig,
    /// Request limits.
    pub limits: Limits,
    /// Agent admission.
    pub agents: AgentsConfig,
    /// Logging.
    pub log: LogConfig,
    /// HTTPS certificates.
    pub tls: TlsConfig,
    /// Package deployment files.
    pub deployment: DeploymentConfig,
    /// The fleet's software pages.
    pub software: SoftwareConfig,
    /// Merges of duplicate computers.
    pub duplicates: DuplicatesConfig,
    /// What changed on each computer.
    pub history: HistoryConfig,
    /// Relaying every inventory stored to upstream OCS servers.
    pub forwarding: ForwardingConfig,
    /// Server option seeds (`PROLOG_FREQ = 12`, …), applied on first start only.
    pub options: BTreeMap<String, toml::Value>,
}

/// Database pool settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Pool size.
    pub max_connections: u32,
    /// Seconds a request waits for a connection before the agent gets 503.
    pub acquire_timeout_secs: u64,
    /// Longest a PostgreSQL statement may run, in seconds.
    pub statement_timeout_secs: u64,
}

/// Request limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body accepted, as sent (HTTP 413 above).
    pub max_body_bytes: usize,
    /// Largest decompressed body accepted (decompression bombs get HTTP 413).
    pub max_inflated_bytes: usize,
    /// Seconds an agent request may take before it is abandoned (rolled back) with a 503.
    pub request_timeout_secs: u64,
    /// Attributes accepted on one XML element (HTTP 413 above).
    pub max_attributes_per_element: usize,
    /// Elements accepted in one agent document, attributes included (HTTP 413 above).
    pub max_elements: usize,
    /// Bytes accepted in one XML value (HTTP 413 above).
    pub max_text_bytes: usize,
    /// Rows accepted in one inventory section (HTTP 413 above).
    pub max_rows_per_section: usize,
    /// Large agent bodies decoded and parsed at once (0: one per CPU core). Small ones
    /// (PROLOGs, reports) have a lane of their own and never wait behind them.
    pub max_concurrent_parses: usize,
    /// Large agent bodies waiting for a parse slot; beyond, HTTP 503 with `Retry-After`.
    pub max_queued_parses: usize,
    /// Seconds a large body waits for a parse slot before HTTP 503 with `Retry-After`.
    pub parse_queue_timeout_secs: u64,
    /// Bytes of request bodies held in memory at once across all agent requests; a body that
    /// would go over gets HTTP 503 with `Retry-After`.
    pub max_buffered_body_bytes: usize,
    /// Seconds a client has to send a request's headers (slow clients are disconnected).
    pub header_read_timeout_secs: u64,
    /// Seconds a client has to send a request's body.
    pub body_read_timeout_secs: u64,
    /// Seconds an idle keep-alive connection stays open.
    pub idle_timeout_secs: u64,
}

/// Which clients may talk to `/ocsinventory`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentsConfig {
    /// User-Agent prefixes admitted at PROLOG besides the OCS agents and FusionInventory.
    pub extra_user_agents: Vec<String>,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_forwarded_for: bool,
    /// Reverse proxies (IP addresses or CIDR ranges) whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto` are believed when `trust_forwarded_for` is on: the client is the
    /// right-most address of the chain that is not one of them.
    pub trusted_proxies: Vec<String>,
    /// HTTP Basic authentication of agents on `/ocsinventory`.
    pub auth: AgentAuthConfig,
}

/// HTTP Basic authentication of agents (`[agents.auth]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentAuthConfig {
    /// Refuse agent requests without valid credentials (also implied by `users`). Needed to
    /// enforce credentials kept only in the database (`ocs-server agent-user add`).
    pub required: bool,
    /// Realm of the `WWW-Authenticate` challenge; the OCS Unix agent must be given the same
    /// (`--realm`).
    pub realm: String,
    /// A device, once inventoried, may only be replaced, merged or updated by requests with
    /// the agent user that first stored it.
    pub bind_devices: bool,
    /// User name → password, in clear or as an argon2 PHC string (`$argon2id$…`).
    pub users: BTreeMap<String, String>,
    /// Seconds a verified `Authorization` header is remembered, so that a fleet does not pay
    /// one argon2 verification per request (0: verify every time).
    pub cache_secs: u64,
}

impl Default for AgentAuthConfig {
    fn default() -> Self {
        AgentAuthConfig {
            required: false,
            realm: "OCS Inventory NG".into(),
            bind_devices: false,
            users: BTreeMap::new(),
            cache_secs: 60,
        }
    }
}

impl AgentAuthConfig {
    /// Whether agents must authenticate.
    pub fn enabled(&self) -> bool {
        self.required || !self.users.is_empty()
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.realm.is_empty()
            || self.realm.len() > 100
            || self
                .realm
                .chars()
                .any(|c| c == '"' || c == '\\' || !c.is_ascii() || c.is_ascii_control())
        {
            bail!("agents.auth.realm must be 1 to 100 ASCII characters without quotes, backslashes or control characters");
        }
        if self.bind_devices && !self.enabled() {
            bail!("agents.auth.bind_devices needs agent authentication: set agents.auth.required = true or list agents.auth.users");
        }
        if self.cache_secs > 3600 {
            bail!("agents.auth.cache_secs is at most 3600");
        }
        for (name, password) in &self.users {
            if let Some(problem) = crate::app::agent::agent_auth::name_problem(name) {
                bail!("agents.auth.users: {name:?}: {problem}");
            }
            if password.is_empty()
                || password.len() > crate::app::agent::agent_auth::MAX_PASSWORD_LEN
            {
                bail!(
                    "agents.auth.users.{name}: the password must be 1 to {} bytes",
                    crate::app::agent::agent_auth::MAX_PASSWORD_LEN
                );
            }
            if crate::app::agent::agent_auth::is_phc(password)
                && !argon2::PasswordHash::new(password).is_ok_and(|h| h.hash.is_some())
            {
                bail!("agents.auth.users.{name}: not a valid argon2 PHC string");
            }
        }
        Ok(())
    }
}

/// HTTPS certificates. Without `cert_file` and `key_file` the first start creates a private CA
/// and a server certificate under `<data_dir>/tls/`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM file with the server certificate, then its chain.
    pub cert_file: Option<PathBuf>,
    /// PEM file with the private key.
    pub key_file: Option<PathBuf>,
    /// More names (or addresses) the generated certificate covers, for agents that reach the
    /// server by a DNS alias.
    pub names: Vec<String>,
}

/// Package deployment files.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeploymentConfig {
    /// Where package directories (`<FILEID>/info`, fragments) live; empty means
    /// `<data_dir>/download`.
    pub download_dir: Option<PathBuf>,
    /// Where agent rollout files (served at `/ocsinventory/deploy/<name>`) live; empty means
    /// `<data_dir>/deploy`.
    pub deploy_dir: Option<PathBuf>,
    /// Largest package archive accepted, in bytes.
    pub max_package_bytes: u64,
}

impl Default for DeploymentConfig {
    fn default() -> Self {
        DeploymentConfig {
            download_dir: None,
            deploy_dir: None,
            max_package_bytes: 4 << 30,
        }
    }
}

/// The fleet's software pages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SoftwareConfig {
    /// Seconds the software counts (computers per software and version) may be old before a
    /// page view refreshes them in the background; 0 counts afresh on every view, which only
    /// small fleets can afford.
    pub counts_max_age_secs: u64,
}

impl Default for SoftwareConfig {
    fn default() -> Self {
        SoftwareConfig {
            counts_max_age_secs: 300,
        }
    }
}

/// Merges of duplicate computers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DuplicatesConfig {
    /// Days a merge can be undone; its snapshot of the merged computers is dropped after.
    pub undo_days: u64,
    /// Seconds the candidate sets are shown before being searched again in the background
    /// (0: searched before every answer).
    pub candidates_max_age_secs: u64,
}

impl Default for DuplicatesConfig {
    fn default() -> Self {
        DuplicatesConfig {
            undo_days: 30,
            candidates_max_age_secs: 300,
        }
    }
}

/// Relaying every inventory stored to upstream OCS servers (ours or the original), through a
/// queue in the database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardingConfig {
    /// Agent endpoints of the upstreams (`https://master.example.org/ocsinventory`).
    pub upstreams: Vec<String>,
    /// PEM file of the CA that signed the upstreams' certificates (else the system's CAs).
    pub ca_file: Option<PathBuf>,
    /// Check the upstreams' HTTPS certificates.
    pub verify_tls: bool,
    /// HTTP basic authentication user for the upstreams.
    pub username: String,
    /// Its password (`OCS_FORWARDING__PASSWORD_FILE` reads it from a file).
    #[serde(skip_serializing)]
    pub password: String,
    /// Seconds before the first retry after a failure; doubled at each, up to an hour.
    pub retry_min_secs: u64,
}

impl Default for ForwardingConfig {
    fn default() -> Self {
        ForwardingConfig {
            upstreams: Vec::new(),
            ca_file: None,
            verify_tls: true,
            username: String::new(),
            password: String::new(),
            retry_min_secs: 5,
        }
    }
}

impl ForwardingConfig {
    fn validate(&self) -> anyhow::Result<()> {
        for url in &self.upstreams {
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 500 {
                bail!("forwarding.upstreams: {url:?} must be an http:// or https:// URL of at most 500 characters");
            }
        }
        if self.retry_min_secs == 0 || self.retry_min_secs > 3600 {
            bail!("forwarding.retry_min_secs is 1 to 3600");
        }
        Ok(())
    }
}

/// The change history.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryConfig {
    /// Record what each inventory and edit changes.
    pub enabled: bool,
    /// Days changes are kept; 0 keeps them forever.
    pub retention_days: u64,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            enabled: true,
            retention_days: 365,
        }
    }
}

/// Logging.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug`, `trace`, or a tracing filter directive.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            tls_listen: Some(SocketAddr::from(([0, 0, 0, 0], 8443))),
            data_dir: PathBuf::from("ocs-data"),
            database_url: String::new(),
            database_read_url: String::new(),
            database: DatabaseConfig::default(),
            limits: Limits::default(),
            agents: AgentsConfig::default(),
            log: LogConfig::default(),
            tls: TlsConfig::default(),
            deployment: DeploymentConfig::default(),
            software: SoftwareConfig::default(),
            duplicates: DuplicatesConfig::default(),
            history: HistoryConfig::default(),
            forwarding: ForwardingConfig::default(),
            options: BTreeMap::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            max_connections: 8,
            acquire_timeout_secs: 3,
            statement_timeout_secs: 30,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        // Real inventories are 20-500 KB compressed and a few MB of XML.
        let xml = ocs_proto::xml::XmlLimits::default();
        Limits {
            max_body_bytes: 16 << 20,
            max_inflated_bytes: 64 << 20,
            request_timeout_secs: 60,
            max_attributes_per_element: xml.max_attributes,
            max_elements: xml.max_elements,
            max_text_bytes: xml.max_text_bytes,
            max_rows_per_section: ocs_proto::inventory::DEFAULT_MAX_ROWS_PER_SECTION,
            max_concurrent_parses: 0,
            max_queued_parses: 64,
            parse_queue_timeout_secs: 10,
            max_buffered_body_bytes: 256 << 20,
            header_read_timeout_secs: 15,
            body_read_timeout_secs: 60,
            idle_timeout_secs: 60,
        }
    }
}

impl Default for AgentsConfig {
    fn default() -> Self {
        AgentsConfig {
            extra_user_agents: Vec::new(),
            trust_forwarded_for: false,
            // A proxy on the same host is the common case; others must be listed.
            trusted_proxies: vec!["127.0.0.0/8".into(), "::1".into()],
            auth: AgentAuthConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--tls-listen` (`Some(None)`: `off`).
    pub tls_listen: Option<Option<SocketAddr>>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--database`.
    pub database_url: Option<String>,
    /// `--database-read-url`.
    pub database_read_url: Option<String>,
}

/// Environment variables with this prefix are configuration.
const ENV_PREFIX: &str = "OCS_";
/// Environment variables with this prefix seed server options.
pub const OPTION_ENV_PREFIX: &str = "OCS_OPT_";

impl Config {
    /// Loads the layered configuration. `env` is the process environment (passed in so tests
    /// can use their own).
    pub fn load(
        file: Option<&Path>,
        env: &[(String, String)],
        overrides: &Overrides,
    ) -> anyhow::Result<(Config, Vec<String>)> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                bail!("configuration file {} does not exist", path.display());
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let (config_env, warnings) = split_env(env)?;
        for (key, value) in &config_env {
            figment = figment.merge(Serialized::default(key, parse_env_value(value)));
        }
        if let Some(listen) = overrides.listen {
            figment = figment.merge(Serialized::default("listen", listen));
        }
        if let Some(tls_listen) = overrides.tls_listen {
            let text = tls_listen.map_or_else(|| "off".to_owned(), |a| a.to_string());
            figment = figment.merge(Serialized::default("tls_listen", text));
        }
        if let Some(dir) = &overrides.data_dir {
            figment = figment.merge(Serialized::default("data_dir", dir));
        }
        if let Some(url) = &overrides.database_url {
            figment = figment.merge(Serialized::default("database_url", url));
        }
        if let Some(url) = &overrides.database_read_url {
            figment = figment.merge(Serialized::default("database_read_url", url));
        }
        let config: Config = figment.extract().context("invalid configuration")?;
        config.validate()?;
        Ok((config, warnings))
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.limits.max_body_bytes == 0 || self.limits.max_inflated_bytes == 0 {
            bail!("limits.max_body_bytes and limits.max_inflated_bytes must be positive");
        }
        if self.database.max_connections == 0 {
            bail!("database.max_connections must be positive");
        }
        self.forwarding.validate()?;
        let supported = |url: &str| {
            url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://")
        };
        if !self.database_url.is_empty() && !supported(&self.database_url) {
            bail!(
                "database_url {:?}: expected sqlite:PATH or postgres://USER@HOST/DB",
                mask_url(&self.database_url)
            );
        }
        if !self.database_read_url.is_empty() && !self.database_read_url.starts_with("postgres") {
            bail!(
                "database_read_url {:?}: a read replica must be PostgreSQL",
                mask_url(&self.database_read_url)
            );
        }
        let l = &self.limits;
        let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        for (name, value) in [
            ("request_timeout_secs", l.request_timeout_secs),
            ("parse_queue_timeout_secs", l.parse_queue_timeout_secs),
            ("header_read_timeout_secs", l.header_read_timeout_secs),
            ("body_read_timeout_secs", l.body_read_timeout_secs),
            ("idle_timeout_secs", l.idle_timeout_secs),
            (
                "max_attributes_per_element",
                as_u64(l.max_attributes_per_element),
            ),
            ("max_elements", as_u64(l.max_elements)),
            ("max_text_bytes", as_u64(l.max_text_bytes)),
            ("max_rows_per_section", as_u64(l.max_rows_per_section)),
        ] {
            if value == 0 {
                bail!("limits.{name} must be positive");
            }
        }
        if l.max_buffered_body_bytes < l.max_body_bytes {
            bail!("limits.max_buffered_body_bytes must be at least limits.max_body_bytes");
        }
        for proxy in &self.agents.trusted_proxies {
            if crate::app::addresses::IpRange::parse(proxy).is_none() {
                bail!("agents.trusted_proxies: {proxy:?} is not an IP address or CIDR range");
            }
        }
        self.agents.auth.validate()?;
        Ok(())
    }

    /// The document limits of the XML reader.
    pub fn xml_limits(&self) -> ocs_proto::xml::XmlLimits {
        ocs_proto::xml::XmlLimits {
            max_attributes: self.limits.max_attributes_per_element,
            max_elements: self.limits.max_elements,
            max_text_bytes: self.limits.max_text_bytes,
        }
    }

    /// Where package directories live.
    pub fn download_dir(&self) -> PathBuf {
        self.deployment
            .download_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("download"))
    }

    /// Where agent rollout files live.
    pub fn deploy_dir(&self) -> PathBuf {
        self.deployment
            .deploy_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("deploy"))
    }

    /// Where the generated CA and server certificate live.
    pub fn tls_dir(&self) -> PathBuf {
        self.data_dir.join("tls")
    }

    /// The database URL in effect: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite:{}", self.data_dir.join("ocs.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// The configuration as TOML, secrets masked.
    pub fn to_masked_toml(&self) -> anyhow::Result<String> {
        let mut shown = self.clone();
        shown.database_url = mask_url(&self.effective_database_url());
        shown.database_read_url = mask_url(&self.database_read_url);
        for password in shown.agents.auth.users.values_mut() {
            *password = "***".into();
        }
        Ok(toml::to_string_pretty(&shown)?)
    }
}

/// Hides the password of a URL (`postgres://u:secret@h/db` → `postgres://u:***@h/db`).
pub fn mask_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}://{}:***{}",
            &url[..scheme_end],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

/// A configuration key (dotted path) and its value from the environment.
type EnvSetting = (String, String);

/// Splits `OCS_*` variables into configuration keys (dotted paths), reading `*_FILE`
/// secrets; returns warnings for variables that match no setting.
fn split_env(env: &[(String, String)]) -> anyhow::Result<(Vec<EnvSetting>, Vec<String>)> {
    let known = known_keys();
    let mut keys = Vec::new();
    let mut warnings = Vec::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if name.starts_with(OPTION_ENV_PREFIX) || rest.starts_with("TEST_") {
            continue;
        }
        let mut key = rest.to_lowercase().replace("__", ".");
        let mut value = value.clone();
        if !known.contains(&key) {
            if let Some(base) = key
                .strip_suffix("_file")
                .filter(|b| known.iter().any(|k| k == b))
            {
                value = std::fs::read_to_string(&value)
                    .with_context(|| format!("{name}: cannot read {value}"))?
                    .trim_end()
                    .to_owned();
                key = base.to_owned();
            } else {
                warnings.push(format!(
                    "environment variable {name} matches no setting and is ignored"
                ));
                continue;
            }
        }
        keys.push((key, value));
    }
    Ok((keys, warnings))
}

/// Dotted paths of every setting.
fn known_keys() -> Vec<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        if let serde_json::Value::Object(map) = value {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push(path.clone());
                walk(&path, v, out);
            }
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::to_value(Config::default()) {
        walk("", &v, &mut out);
    }
    out
}

/// Environment values are strings; numbers, booleans and `[a, b]` lists are recognised.
fn parse_env_value(value: &str) -> figment::value::Value {
    let trimmed = value.trim();
    if trimmed.starts_with('[') {
        // As a TOML value (`v = [...]`): parsed as a document, `[192.0.2.1]` would be a
        // table header.
        if let Ok(toml::Value::Table(mut doc)) = format!("v = {trimmed}").parse::<toml::Value>() {
            if let Some(v) = doc
                .remove("v")
                .and_then(|v| figment::value::Value::serialize(v).ok())
            {
                return v;
            }
        }
        let items: Vec<String> = trimmed
            .trim_matches(['[', ']'])
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        return figment::value::Value::from(items);
    }
    if let Ok(n) = trimmed.parse::<i64>() {
        return figment::value::Value::from(n);
    }
    match trimmed {
        "true" => figment::value::Value::from(true),
        "false" => figment::value::Value::from(false),
        _ => figment::value::Value::from(value.to_owned()),
    }
}

/// `tls_listen` as text: an address, or `off` for no HTTPS listener. A plain
/// `Option` would have no way to say "off" in TOML, which has no null.
mod tls_listen_text {
    use std::net::SocketAddr;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(addr) => s.collect_str(addr),
            None => s.serialize_str("off"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = Option<SocketAddr>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an address such as 0.0.0.0:8443, or \"off\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let v = v.trim();
                if v.is_empty() || v.eq_ignore_ascii_case("off") {
                    return Ok(None);
                }
                v.parse().map(Some).map_err(|_| {
                    E::custom(format!(
                        "{v:?} is not an address such as 0.0.0.0:8443, nor \"off\""
                    ))
                })
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                if v {
                    Err(E::custom(
                        "tls_listen = true: give an address such as 0.0.0.0:8443",
                    ))
                } else {
                    Ok(None)
                }
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
        }
        d.deserialize_any(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_need_nothing() {
        let (c, w) = Config::load(None, &[], &Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(c.effective_database_url(), "sqlite:ocs-data/ocs.db");
        assert!(w.is_empty());
    }

    #[test]
    fn layers_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/ocs\"\n[limits]\nmax_body_bytes = 1000\n[options]\nPROLOG_FREQ = 12\n").unwrap();
        let secret = dir.path().join("url");
        std::fs::write(&secret, "sqlite:/tmp/x.db\n").unwrap();
        let e = env(&[
            ("OCS_LIMITS__MAX_BODY_BYTES", "2000"),
            ("OCS_DATA_DIR", "/env/dir"),
            ("OCS_DATABASE_URL_FILE", secret.to_str().unwrap()),
            ("OCS_NO_SUCH", "1"),
            ("OCS_OPT_FREQUENCY", "3"),
            ("OCS_AGENTS__EXTRA_USER_AGENTS", "[GLPI-Agent, Foo]"),
        ]);
        let over = Overrides {
            data_dir: Some("/flag/dir".into()),
            ..Overrides::default()
        };
        let (c, w) = Config::load(Some(&file), &e, &over).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.limits.max_body_bytes, 2000);
        assert_eq!(c.data_dir, PathBuf::from("/flag/dir"));
        assert_eq!(c.database_url, "sqlite:/tmp/x.db");
        assert_eq!(c.agents.extra_user_agents, ["GLPI-Agent", "Foo"]);
        assert_eq!(c.options["PROLOG_FREQ"].as_integer(), Some(12));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("OCS_NO_SUCH"));
    }

    #[test]
    fn bad_values_are_reported() {
        assert!(
            Config::load(None, &env(&[("OCS_LISTEN", "nope")]), &Overrides::default()).is_err()
        );
        assert!(Config::load(
            Some(Path::new("/no/such/file.toml")),
            &[],
            &Overrides::default()
        )
        .is_err());
    }

    #[test]
    fn agent_auth_settings() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        let phc = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0lZ0E9bVYtJp2Xm8ZQ3m1C5cG1KZ3tq0uI1C4o2m1Uo";
        std::fs::write(
            &file,
            format!("[agents.auth]\nrealm = \"Paris agents\"\nbind_devices = true\n[agents.auth.users]\nparis = \"clear-secret\"\nlyon = \"{phc}\"\n"),
        )
        .unwrap();
        let (c, _) = Config::load(Some(&file), &[], &Overrides::default()).unwrap();
        assert!(c.agents.auth.enabled() && c.agents.auth.bind_devices);
        assert_eq!(c.agents.auth.realm, "Paris agents");
        let shown = c.to_masked_toml().unwrap();
        assert!(
            !shown.contains("clear-secret") && !shown.contains("argon2id"),
            "{shown}"
        );
        assert!(shown.contains("paris = \"***\""), "{shown}");

        let (c, _) = Config::load(
            None,
            &env(&[
                ("OCS_AGENTS__AUTH__REQUIRED", "true"),
                ("OCS_AGENTS__AUTH__BIND_DEVICES", "true"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert!(
            c.agents.auth.enabled(),
            "required alone enables it (database users)"
        );

        let refused = |toml: &str| {
            std::fs::write(&file, toml).unwrap();
            Config::load(Some(&file), &[], &Overrides::default()).is_err()
        };
        assert!(
            refused("[agents.auth]\nbind_devices = true\n"),
            "binding without authentication"
        );
        assert!(
            refused("[agents.auth]\nrealm = \"a\\\"b\"\n"),
            "quote in the realm"
        );
        assert!(
            refused("[agents.auth.users]\n\"a:b\" = \"secret\"\n"),
            "colon in a name"
        );
        assert!(
            refused("[agents.auth.users]\nparis = \"$argon2id$broken\"\n"),
            "bad PHC string"
        );
        assert!(refused("[agents.auth]\nno_such = 1\n"), "unknown key");
    }

    #[test]
    fn masking() {
        assert_eq!(
            mask_url("postgres://ocs:secret@db:5432/ocs"),
            "postgres://ocs:***@db:5432/ocs"
        );
        assert_eq!(mask_url("sqlite:/x.db"), "sqlite:/x.db");
    }

    #[test]
    fn tls_listen_defaults_and_turns_off() {
        let (c, _) = Config::load(None, &[], &Overrides::default()).unwrap();
        assert_eq!(c.tls_listen, Some(SocketAddr::from(([0, 0, 0, 0], 8443))));
        let (c, _) = Config::load(
            None,
            &env(&[("OCS_TLS_LISTEN", "off")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.tls_listen, None);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        std::fs::write(
            &file,
            "tls_listen = \"127.0.0.1:9443\"\n[tls]\nnames = [\"ocs.lan\"]\n",
        )
        .unwrap();
        let (c, _) = Config::load(Some(&file), &[], &Overrides::default()).unwrap();
        assert_eq!(
            c.tls_listen.map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:9443")
        );
        assert_eq!(c.tls.names, ["ocs.lan"]);
        let off = Overrides {
            tls_listen: Some(None),
            ..Overrides::default()
        };
        let (c, _) = Config::load(Some(&file), &[], &off).unwrap();
        assert_eq!(c.tls_listen, None);
        assert!(c.to_masked_toml().unwrap().contains("tls_listen = \"off\""));
        let err = Config::load(
            None,
            &env(&[("OCS_TLS_LISTEN", "nope")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("nope"), "{err:#}");
    }
}
