//! The command line: `serve`, `config show`, `options`, `token`, `agent-user`, `import`,
//! `computers`, `groups`, `package`.

mod groups_cli;
pub mod package_affect_cli;
mod package_cli;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use ocs_storage::{HostId, Store, StoreOptions};

use crate::app::agent::agent_auth;
use crate::app::options::{self, definition, validate, Kind, OPTIONS};
use crate::app::{api, deletion, import, AppState, SystemClock};
use crate::config::{Config, Overrides, OPTION_ENV_PREFIX};

/// OCS Inventory NG server: inventory agents, API and console in one binary.
#[derive(Debug, Parser)]
#[command(name = "ocs-server", version, about)]
pub struct Cli {
    /// TOML configuration file (defaults < file < OCS_* environment < flags).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory: the SQLite database and package files [default: ./ocs-data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite:PATH or postgres://USER:PASSWORD@HOST/DB [default: SQLite in the data directory].
    #[arg(long = "database", global = true, value_name = "URL")]
    database_url: Option<String>,
    /// PostgreSQL read replica for console and API reads.
    #[arg(long = "database-read-url", global = true, value_name = "URL")]
    database_read_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on [default: 0.0.0.0:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Address to listen on for HTTPS, or `off` [default: 0.0.0.0:8443].
        #[arg(long, value_name = "ADDR|off", value_parser = parse_tls_listen)]
        tls_listen: Option<TlsListen>,
    },
    /// Show the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Read and change the server options (OCS_OPT_*) stored in the database.
    Options {
        #[command(subcommand)]
        command: OptionsCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage console accounts (and who may use the web services).
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage agent credentials kept in the database (HTTP Basic on /ocsinventory).
    AgentUser {
        #[command(subcommand)]
        command: AgentUserCommand,
    },
    /// Delete computers, by ID or because they have not been seen for a while.
    Computers {
        #[command(subcommand)]
        command: ComputersCommand,
    },
    /// Manage groups of computers (static and dynamic).
    Groups {
        #[command(subcommand)]
        command: groups_cli::GroupsCommand,
    },
    /// Build, list, activate, export and delete deployment packages.
    Package {
        #[command(subcommand)]
        command: Box<package_cli::PackageCommand>,
    },
    /// Import .ocs or .xml inventory files (or directories of them) into the database.
    Import {
        /// Files or directories.
        #[arg(required = true, value_name = "FILE|DIR")]
        paths: Vec<PathBuf>,
    },
}

/// `--tls-listen`: an address, or `off` (`None`).
#[derive(Debug, Clone, Copy)]
struct TlsListen(Option<SocketAddr>);

fn parse_tls_listen(text: &str) -> Result<TlsListen, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(TlsListen(None));
    }
    text.parse()
        .map(|a| TlsListen(Some(a)))
        .map_err(|_| format!("{text:?} is not an address such as 0.0.0.0:8443, nor \"off\""))
}

#[derive(Debug, Subcommand)]
enum ComputersCommand {
    /// Delete computers and every row they own, for good (logged; traced in deleted_equiv with
    /// TRACE_DELETED). Unknown IDs are reported and make the command fail; the others are deleted.
    Delete {
        /// Computer IDs (as the console and the API show them).
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Delete the computers whose last contact (else last inventory) is older than N days.
    Clean {
        /// Days without contact.
        #[arg(long, value_name = "N")]
        inactive_days: i64,
        /// Only count and list them; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration, secrets masked.
    Show {
        /// Address to listen on.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
}

#[derive(Debug, Subcommand)]
enum OptionsCommand {
    /// Every option with its value, default and meaning.
    List,
    /// One option's value.
    Get {
        /// Option name (with or without OCS_OPT_).
        name: String,
    },
    /// Change an option; it applies at the next agent contact, on every server instance.
    Set {
        /// Option name (with or without OCS_OPT_).
        name: String,
        /// New value.
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it (it is shown only once).
    Create {
        /// A name to recognise the token by.
        #[arg(long)]
        name: String,
        /// `read` (GET requests only), `write` (also changes data) or `admin` (also changes
        /// server options).
        #[arg(long, default_value = "read")]
        scope: String,
    },
    /// List tokens (names and dates, never the tokens).
    List,
    /// Delete a token.
    Delete {
        /// Its name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Create a console account; the password is the first line of standard input.
    Add {
        /// Login.
        login: String,
        /// `administrator` (everything) or `user` (read-only).
        #[arg(long, value_parser = ["administrator", "user"])]
        role: String,
        /// Allow the account the web services.
        #[arg(long)]
        web_services: bool,
        /// Read the password from standard input (its first line); required, so that it
        /// never appears in the process list or the shell history.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List console accounts: login, role, web services, second factor, creation (never passwords).
    List,
    /// Delete a console account and close its sessions (never the last administrator).
    Delete {
        /// Login.
        login: String,
    },
}

#[derive(Debug, Subcommand)]
enum AgentUserCommand {
    /// Create an agent credential (the password comes from --password-file, or the first line of standard input).
    Add {
        /// User name the agents send.
        name: String,
        /// File whose first line is the password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Change the password of an agent credential; devices bound to it stay bound.
    Passwd {
        /// User name.
        name: String,
        /// File whose first line is the password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// List agent credentials: name, where defined, devices bound (never passwords).
    List,
    /// Delete an agent credential and release its devices (the next authenticated inventory claims them).
    Delete {
        /// User name.
        name: String,
    },
}

/// Runs the command line and maps errors to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let (listen, tls_listen) = match &cli.command {
        Command::Serve { listen, tls_listen } => (*listen, tls_listen.map(|t| t.0)),
        Command::Config {
            command: ConfigCommand::Show { listen },
        } => (*listen, None),
        _ => (None, None),
    };
    let overrides = Overrides {
        listen,
        tls_listen,
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        database_read_url: cli.database_read_url.clone(),
    };
    let (config, warnings) = Config::load(cli.config.as_deref(), &env, &overrides)?;
    crate::logging::init(&config.log.level);
    for w in &warnings {
        tracing::warn!("{w}");
    }
    match cli.command {
        Command::Config {
            command: ConfigCommand::Show { .. },
        } => {
            print!("{}", config.to_masked_toml()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { .. } => serve(config, &env).await.map(|()| ExitCode::SUCCESS),
        Command::Options { command } => {
            let state = open(config, &env).await?;
            options_command(&state, command).await
        }
        Command::Token { command } => {
            let state = open(config, &env).await?;
            token_command(&state, command).await
        }
        Command::Users { command } => {
            let state = open(config, &env).await?;
            users_command(&state, command).await
        }
        Command::AgentUser { command } => {
            let state = open(config, &env).await?;
            agent_user_command(&state, command).await
        }
        Command::Computers { command } => {
            let state = open(config, &env).await?;
            let code = computers_command(&state, command).await;
            state.store.close().await;
            code
        }
        Command::Groups { command } => {
            let state = open(config, &env).await?;
            groups_cli::run(&state, command).await
        }
        Command::Package { command } => {
            let state = open(config, &env).await?;
            package_cli::run(&state, *command).await
        }
        Command::Import { paths } => {
            let files = import::collect(&paths).map_err(anyhow::Error::msg)?;
            if files.is_empty() {
                bail!(
                    "no .ocs or .xml file found in {}",
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let state = open(config, &env).await?;
            let report = import::import(&state, &files, &mut std::io::stdout()).await;
            state.store.close().await;
            Ok(if report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// Opens the database (creating the data directory) and seeds the options.
async fn open(config: Config, env: &[(String, String)]) -> anyhow::Result<AppState> {
    if config.database_url.is_empty() {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
    }
    let store_options = StoreOptions {
        max_connections: config.database.max_connections,
        acquire_timeout: std::time::Duration::from_secs(config.database.acquire_timeout_secs),
        statement_timeout: std::time::Duration::from_secs(config.database.statement_timeout_secs),
        ..StoreOptions::default()
    };
    let url = config.effective_database_url();
    let read_url = Some(config.database_read_url.as_str()).filter(|u| !u.is_empty());
    let store = Store::open_with_replica(&url, read_url, &store_options)
        .await
        .with_context(|| format!("cannot open database {}", crate::config::mask_url(&url)))?;
    let mut seeds: Vec<(String, String)> = config
        .options
        .iter()
        .map(|(k, v)| (k.clone(), toml_text(v)))
        .collect();
    seeds.extend(
        env.iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(OPTION_ENV_PREFIX)?.to_owned(), v.clone()))),
    );
    for note in options::seed(&store, &seeds).await? {
        tracing::warn!("{note}");
    }
    let state = AppState {
        store,
        intake: Arc::new(crate::app::agent::intake::Intake::new(&config)),
        config: Arc::new(config),
        clock: Arc::new(SystemClock),
        password_permits: crate::app::auth::password_hashing_permits(),
        agent_auth: Arc::default(),
        token_uses: Arc::default(),
        contacts: Arc::default(),
        group_revalidation: Arc::default(),
    };
    if crate::app::auth::ensure_default_admin(&state).await? {
        tracing::warn!(
            "created the console account admin/admin; it must choose a new password at first sign-in"
        );
    }
    Ok(state)
}

fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn serve(config: Config, env: &[(String, String)]) -> anyhow::Result<()> {
    let listen = config.listen;
    let mut state = open(config, env).await?;
    let mut https = crate::tls::bind(Arc::clone(&state.config)).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr()?;
    // Before the HTTP line, which tells tests and scripts that the server is up.
    match &https {
        Some(h) => {
            let tls_local = h.listener.local_addr()?;
            tracing::info!(
                "listening on https://{tls_local} (agents: https://{tls_local}/ocsinventory; {})",
                h.source
            );
        }
        None => tracing::info!("HTTPS is off (tls_listen = \"off\")"),
    }
    // Services that name this server (the default package locations) see the ports actually
    // bound, which differ from the configured ones with port 0.
    let mut bound = (*state.config).clone();
    bound.listen = local;
    if let Some(h) = &https {
        bound.tls_listen = Some(h.listener.local_addr()?);
    }
    state.config = Arc::new(bound);
    tracing::info!(
        database = %crate::config::mask_url(&state.config.effective_database_url()),
        "listening on http://{local} (agents: http://{local}/ocsinventory)"
    );
    let store = state.store.clone();
    let limits = &state.config.limits;
    let timeouts = crate::http::server::Timeouts {
        header_read: Duration::from_secs(limits.header_read_timeout_secs),
        request: Duration::from_secs(limits.body_read_timeout_secs + limits.request_timeout_secs),
        idle: Duration::from_secs(limits.idle_timeout_secs),
    };
    let flusher = crate::app::agent::contacts::spawn_flusher(state.clone());
    let cleaner = crate::app::deletion::spawn_cleaner(state.clone());
    let purger = crate::app::history::spawn_purger(state.clone());
    let forwarder = crate::app::forwarding::spawn_forwarder(state.clone())?;
    let app = crate::http::router(state.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let reloader = https.as_mut().and_then(|h| h.reloader.take());
    let https_app = app.clone();
    let https_stopped = stopped(stop_rx.clone());
    let serve_https = async move {
        match https {
            Some(h) => {
                crate::http::server::serve_tls(
                    h.listener,
                    h.acceptor,
                    https_app,
                    timeouts,
                    https_stopped,
                )
                .await
            }
            None => Ok(()),
        }
    };
    let serve_http = crate::http::server::serve(listener, app, timeouts, stopped(stop_rx));
    tokio::try_join!(serve_http, serve_https)?;
    signal.abort();
    if let Some(r) = reloader {
        r.abort();
    }
    flusher.abort();
    cleaner.abort();
    purger.abort();
    if let Some(f) = forwarder {
        f.abort();
    }
    crate::app::agent::contacts::flush(&state).await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in progress");
}

async fn options_command(state: &AppState, command: OptionsCommand) -> anyhow::Result<ExitCode> {
    let stored = state.store.list_options().await?;
    let current = |name: &str, kind: Kind| {
        stored
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| match kind {
                Kind::Int => r.ivalue.map(|n| n.to_string()),
                Kind::Text => r.tvalue.clone(),
            })
    };
    match command {
        OptionsCommand::List => {
            let width = OPTIONS.iter().map(|o| o.name.len()).max().unwrap_or(0);
            for def in OPTIONS {
                let value = current(def.name, def.kind).unwrap_or_else(|| def.default.to_owned());
                let marker = if value == def.default { " " } else { "*" };
                println!(
                    "{marker} {:width$}  {:>12}  {}",
                    def.name, value, def.description
                );
            }
            println!("\n(* = changed from the default)");
        }
        OptionsCommand::Get { name } => {
            let def = definition(&name).with_context(|| {
                format!("unknown option {name:?} (see `ocs-server options list`)")
            })?;
            println!(
                "{}",
                current(def.name, def.kind).unwrap_or_else(|| def.default.to_owned())
            );
        }
        OptionsCommand::Set { name, value } => {
            let def = definition(&name).with_context(|| {
                format!("unknown option {name:?} (see `ocs-server options list`)")
            })?;
            let row = validate(def, &value).map_err(anyhow::Error::msg)?;
            state.store.upsert_option(&row).await?;
            println!("{} = {}", def.name, value.trim());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn token_command(state: &AppState, command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create { name, scope } => {
            let scope = api::Scope::parse(&scope)?;
            let token = api::create_token(state, &name, scope).await?;
            println!("{token}");
            eprintln!("Token {name:?} ({} scope) created. Send it as `Authorization: Bearer <token>`; it is not shown again.", scope.name());
        }
        TokenCommand::List => {
            for t in state.store.list_tokens().await? {
                println!(
                    "{}\t{}\tcreated {}\tlast used {}",
                    t.name,
                    t.scope,
                    t.created_at,
                    t.last_used_at.map_or("never".into(), |v| v.to_string())
                );
            }
        }
        TokenCommand::Delete { name } => {
            if !state.store.delete_token(&name).await? {
                bail!("no token named {name:?}");
            }
            println!("deleted {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn computers_command(
    state: &AppState,
    command: ComputersCommand,
) -> anyhow::Result<ExitCode> {
    let by = deletion::Deleter::cli(std::env::var("USER").ok().as_deref());
    let started = std::time::Instant::now();
    match command {
        ComputersCommand::Delete { ids } => {
            let ids: Vec<HostId> = ids.into_iter().map(HostId).collect();
            let unknown = deletion::unknown_computers(state, &ids).await?;
            let known: Vec<HostId> = ids
                .iter()
                .filter(|id| !unknown.contains(id))
                .copied()
                .collect();
            let deleted =
                deletion::delete_computers(state, &by, &known, deletion::DeletionReason::Manual)
                    .await?;
            println!(
                "deleted {deleted} computer(s) in {:.2} s",
                started.elapsed().as_secs_f64()
            );
            if !unknown.is_empty() {
                let list: Vec<String> = unknown.iter().map(|id| id.0.to_string()).collect();
                eprintln!("error: no computer with ID {}", list.join(", "));
                return Ok(ExitCode::FAILURE);
            }
        }
        ComputersCommand::Clean {
            inactive_days,
            dry_run,
        } => {
            let preview = deletion::inactive_preview(state, inactive_days).await?;
            if dry_run {
                println!(
                    "{} computer(s) not seen for {inactive_days} days would be deleted (dry run: nothing deleted)",
                    preview.count
                );
                for h in &preview.sample {
                    println!(
                        "  {}\t{}\t{}\tlast seen {}",
                        h.id.0,
                        h.name.as_deref().unwrap_or("-"),
                        h.deviceid,
                        h.last_seen.map_or("never".to_owned(), |t| t.to_string())
                    );
                }
                if preview.count > i64::try_from(preview.sample.len()).unwrap_or(0) {
                    println!("  …");
                }
            } else {
                let deleted = deletion::clean_inactive(state, &by, inactive_days).await?;
                println!(
                    "deleted {deleted} computer(s) not seen for {inactive_days} days in {:.2} s",
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The first line of `file`, or of standard input.
/// A password: the first line of `file`, else of standard input (after `prompt` on a
/// terminal).
fn read_password(file: Option<&std::path::Path>, prompt: &str) -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    let mut line = String::new();
    match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            line = text.lines().next().unwrap_or_default().to_owned();
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprint!("{prompt}");
            }
            stdin.lock().read_line(&mut line)?;
        }
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn agent_prompt(name: &str) -> String {
    format!("Password for agent user {name} (shown as typed; --password-file avoids that): ")
}

async fn users_command(state: &AppState, command: UsersCommand) -> anyhow::Result<ExitCode> {
    use crate::app::users::cli;
    match command {
        UsersCommand::Add {
            login,
            role,
            web_services,
            password_stdin: _,
        } => {
            let password = read_password(
                None,
                &format!("Password for console account {login} (shown as typed): "),
            )?;
            let role = cli::role(&role)?;
            let id = cli::add(state, &login, &password, role, web_services).await?;
            println!(
                "console account {login} added (#{id}, {}{})",
                role.as_str(),
                if web_services { ", web services" } else { "" }
            );
        }
        UsersCommand::List => {
            let second_factor: std::collections::HashSet<i64> =
                state.store.list_totp_users().await?.into_iter().collect();
            println!("login\trole\tweb services\tsecond factor\tcreated");
            for u in cli::list(state).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.login,
                    u.role,
                    if u.web_services != 0 { "yes" } else { "no" },
                    if second_factor.contains(&u.id) {
                        "yes"
                    } else {
                        "no"
                    },
                    crate::http::api::rfc3339(Some(u.created_at)).unwrap_or_default()
                );
            }
        }
        UsersCommand::Delete { login } => {
            cli::delete(state, &login).await?;
            println!("console account {login} deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn agent_user_command(
    state: &AppState,
    command: AgentUserCommand,
) -> anyhow::Result<ExitCode> {
    let auth = &state.config.agents.auth;
    match command {
        AgentUserCommand::Add {
            name,
            password_file,
        } => {
            let password = read_password(password_file.as_deref(), &agent_prompt(&name))?;
            agent_auth::add_user(state, &name, &password).await?;
            println!("agent user {name} added");
            if !auth.enabled() {
                eprintln!("note: agent authentication is off; set agents.auth.required = true (or OCS_AGENTS__AUTH__REQUIRED=true) to enforce it");
            }
        }
        AgentUserCommand::Passwd {
            name,
            password_file,
        } => {
            let password = read_password(password_file.as_deref(), &agent_prompt(&name))?;
            agent_auth::set_password(state, &name, &password).await?;
            println!(
                "password of agent user {name} changed (running servers accept the old one for up to {} s)",
                auth.cache_secs
            );
        }
        AgentUserCommand::List => {
            for line in agent_auth::list_users(state).await? {
                println!(
                    "{}\t{}\t{} bound device(s)\tcreated {}",
                    line.name,
                    line.source,
                    line.bound_devices,
                    line.created_at.map_or("-".to_owned(), |t| t.to_string())
                );
            }
        }
        AgentUserCommand::Delete { name } => {
            let released = agent_auth::delete_user(state, &name).await?;
            println!("deleted agent user {name}; {released} device(s) released");
            if auth.users.contains_key(&name) {
                eprintln!("note: {name} is also defined in the configuration file, which still accepts it");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
