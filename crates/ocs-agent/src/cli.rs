//! Command-line switches. They cover the original Unix agent's (`ocsinventory-agent --help`
//! and the administration guide's table), with the same short letters where it has them,
//! so existing cron lines and scripts keep working. Every switch overrides the
//! configuration file.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The agent's command line.
#[derive(Debug, Parser)]
#[command(
    name = "ocs-agent",
    version,
    about = "OCS Inventory NG agent for Linux: inventories this machine and sends it to an OCS server, or writes it to a file.",
    after_help = "Without a subcommand (or with `run`), runs once: PROLOG, then INVENTORY when the server asks for it (or with --force), then deploys the packages the server offers (one period; with --force, until none is pending).\nWith --local, --stdout or --xml alone, writes the inventory instead of (or as well as) sending it."
)]
pub struct Cli {
    /// What to do (default: one run).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options shared by every mode.
    #[command(flatten)]
    pub options: Options,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run once (the default): PROLOG, INVENTORY when due, then package deployment; with
    /// --force, every pending package is deployed before it returns.
    Run,
    /// Stay running and contact the server every PROLOG_FREQ hours (for systemd).
    Daemon,
}

/// Options, all optional: unset ones come from the configuration file, then defaults.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Options {
    /// Configuration file.
    #[arg(long, global = true, value_name = "FILE", env = "OCS_AGENT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Server URL, e.g. https://ocs.example.org/ocsinventory (HTTP or HTTPS).
    #[arg(short = 's', long, global = true, value_name = "URL")]
    pub server: Option<String>,
    /// Do not contact a server: write the inventory to DIR/<DEVICEID>.ocs (zlib-compressed,
    /// the format servers and the injector import; plain XML with --xml).
    #[arg(short = 'l', long, global = true, value_name = "DIR")]
    pub local: Option<PathBuf>,
    /// Write plain XML: with --local, the .ocs file is plain XML; without it,
    /// <DEVICEID>.xml is written in the current directory (and the server is still contacted
    /// when one is configured).
    #[arg(long, global = true)]
    pub xml: bool,
    /// Print the inventory XML on standard output; no server is contacted.
    #[arg(long, global = true)]
    pub stdout: bool,
    /// Send the inventory even if the server says STOP, and deploy every pending package
    /// before returning (instead of one download period).
    #[arg(short = 'f', long, global = true)]
    pub force: bool,
    /// TAG to send (the server keeps its own value for known machines unless it accepts
    /// TAG updates from agents).
    #[arg(short = 't', long, global = true, value_name = "TAG")]
    pub tag: Option<String>,
    /// Leave installed software out.
    #[arg(long, visible_alias = "nosoftware", global = true)]
    pub nosoft: bool,
    /// Verbose: log what each collector found.
    #[arg(short = 'i', long, global = true)]
    pub info: bool,
    /// Debug: log everything, including the XML exchanged with the server.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Check the configuration and the connection to the server, and say what is wrong.
    #[arg(long, global = true)]
    pub test: bool,
    /// CA certificate(s) (PEM) that signed the server's certificate.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Verify the server's certificate: 1 (default) or 0 (tests only).
    #[arg(long, global = true, value_name = "0|1", value_parser = clap::value_parser!(u8).range(0..=1))]
    pub ssl: Option<u8>,
    /// HTTP basic authentication user.
    #[arg(short = 'u', long, global = true)]
    pub user: Option<String>,
    /// HTTP basic authentication password (prefer the configuration file: command lines
    /// are visible to other users).
    #[arg(
        short = 'p',
        long,
        global = true,
        env = "OCS_AGENT_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// Only answer an authentication challenge of this realm.
    #[arg(short = 'r', long, global = true)]
    pub realm: Option<String>,
    /// Proxy, e.g. http://user:pass@proxy:3128 (default: the *_proxy environment).
    #[arg(short = 'P', long, global = true, value_name = "URL")]
    pub proxy: Option<String>,
    /// Directory for the agent's state (DEVICEID, section digests, TAG).
    #[arg(long, visible_alias = "basevardir", global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Also append log lines to FILE.
    #[arg(long, global = true, value_name = "FILE")]
    pub logfile: Option<PathBuf>,
    /// Wait a random time of at most SECONDS before contacting the server (spreads the
    /// load when many machines start together).
    #[arg(short = 'w', long, global = true, value_name = "SECONDS")]
    pub wait: Option<u64>,
    /// Do nothing if the server was contacted less than PROLOG_FREQ hours ago.
    #[arg(long, global = true)]
    pub lazy: bool,
    /// Longest first wait of the daemon when the server has not given PROLOG_FREQ yet.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub delaytime: Option<u64>,
    /// Map network NET (its address, e.g. 192.0.2.0) by ARP and send the hosts found in the
    /// inventory's IPDISCOVER section, whether or not the server elected this machine for
    /// it. Needs root or CAP_NET_RAW; networks wider than /16 are refused.
    #[arg(long, global = true, value_name = "NET")]
    pub ipdisc: Option<std::net::Ipv4Addr>,
    /// Milliseconds between two ARP probes of an IP discovery (default: the server's
    /// IPDISC_LAT, else 100).
    #[arg(long, global = true, value_name = "MS")]
    pub ipdisc_latency: Option<u64>,
    /// Time limit of one HTTP request.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Directory of plugins: executables whose XML sections are added to the inventory
    /// (default /etc/ocs-agent/plugins).
    #[arg(long, global = true, value_name = "DIR")]
    pub plugins_dir: Option<PathBuf>,
    /// Time limit of one plugin (default 30); a plugin still running then is killed and
    /// left out.
    #[arg(long, global = true, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub plugin_timeout: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn original_agent_command_lines_parse() {
        let c = Cli::try_parse_from([
            "ocs-agent",
            "--server=http://ocs/ocsinventory",
            "-f",
            "--nosoftware",
            "--tag=PARIS",
            "--basevardir=/tmp/x",
            "-i",
        ])
        .unwrap();
        assert_eq!(c.options.server.as_deref(), Some("http://ocs/ocsinventory"));
        assert!(c.options.force && c.options.nosoft && c.options.info);
        assert_eq!(c.options.tag.as_deref(), Some("PARIS"));
        assert_eq!(c.options.state_dir, Some(PathBuf::from("/tmp/x")));
        let c = Cli::try_parse_from(["ocs-agent", "--local=/tmp/out", "--xml"]).unwrap();
        assert_eq!(c.options.local, Some(PathBuf::from("/tmp/out")));
        let c = Cli::try_parse_from([
            "ocs-agent",
            "daemon",
            "-s",
            "https://x/ocsinventory",
            "--ca",
            "/etc/ca.pem",
            "--ssl",
            "1",
        ])
        .unwrap();
        assert!(matches!(c.command, Some(Command::Daemon)));
        assert_eq!(c.options.ssl, Some(1));
        assert!(Cli::try_parse_from(["ocs-agent", "--ssl", "2"]).is_err());
        let c = Cli::try_parse_from([
            "ocs-agent",
            "run",
            "--force",
            "--server",
            "https://127.0.0.1:8443/ocsinventory",
            "--ca",
            "/var/lib/ocs/tls/cacert.pem",
        ])
        .unwrap();
        assert!(matches!(c.command, Some(Command::Run)) && c.options.force);
        let c = Cli::try_parse_from([
            "ocs-agent",
            "--ipdisc",
            "192.0.2.0",
            "--ipdisc-latency",
            "5",
        ])
        .unwrap();
        assert_eq!(
            c.options.ipdisc,
            Some(std::net::Ipv4Addr::new(192, 0, 2, 0))
        );
        assert_eq!(c.options.ipdisc_latency, Some(5));
        assert!(Cli::try_parse_from(["ocs-agent", "--ipdisc", "192.0.2"]).is_err());
        let c = Cli::try_parse_from([
            "ocs-agent",
            "--plugins-dir",
            "/srv/plugins",
            "--plugin-timeout",
            "5",
        ])
        .unwrap();
        assert_eq!(c.options.plugins_dir, Some(PathBuf::from("/srv/plugins")));
        assert_eq!(c.options.plugin_timeout, Some(5));
        assert!(Cli::try_parse_from(["ocs-agent", "--plugin-timeout", "0"]).is_err());
    }
}
