//! `ocs-injector`: the original injector's options, plus HTTP basic authentication, retries,
//! a progress bar on a terminal, a summary, and an exit status that says whether anything
//! failed (0: all sent, 1: something was not, 2: the command line is wrong).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ocs_agent::transport::{Client, TransportConfig};
use ocs_injector::inject::{self, Outcome, Settings, Summary};
use ocs_injector::source::{self, Source};
use ocs_injector::{DEFAULT_URL, USER_AGENT};

/// Sends inventory files (.ocs: zlib or plain XML) to an OCS server, as ocsinventory-injector.pl
/// does. Without -f or --stdin, every .ocs and .xml file of the directory (-d, the current one
/// by default) is sent.
#[derive(Debug, Parser)]
#[command(name = "ocs-injector", version, about, long_about = None)]
struct Args {
    /// Send every .ocs and .xml file of this directory.
    #[arg(
        short = 'd',
        long = "directory",
        value_name = "DIR",
        default_value = "."
    )]
    directory: PathBuf,
    /// Send this file only.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "stdin"
    )]
    file: Option<PathBuf>,
    /// The server's agent endpoint.
    #[arg(short = 'u', long = "url", value_name = "URL", default_value = DEFAULT_URL)]
    url: String,
    /// The HTTP User-Agent.
    #[arg(long = "useragent", value_name = "UA", default_value = USER_AGENT)]
    useragent: String,
    /// Remove each file once the server took it.
    #[arg(short = 'r', long = "remove", visible_alias = "remov")]
    remove: bool,
    /// Print the server's reply.
    #[arg(short = 'm', long = "msg")]
    msg: bool,
    /// Print a line per file.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// Send what standard input holds.
    #[arg(long = "stdin")]
    stdin: bool,
    /// 1: check the HTTPS server's certificate (against --cafile, else the system's CAs);
    /// 0: send without checking it.
    #[arg(long = "sslmode", value_name = "0|1", default_value = "1", value_parser = ["0", "1"])]
    sslmode: String,
    /// PEM file of the CA that signed the server certificate.
    #[arg(long = "cafile", value_name = "FILE")]
    cafile: Option<PathBuf>,
    /// HTTP basic authentication user (the server's agent credentials).
    #[arg(long = "username", value_name = "USER", requires = "password")]
    username: Option<String>,
    /// HTTP basic authentication password (or OCS_INJECTOR_PASSWORD).
    #[arg(
        long = "password",
        value_name = "PASSWORD",
        env = "OCS_INJECTOR_PASSWORD",
        hide_env_values = true
    )]
    password: Option<String>,
    /// Attempts after the first when the server is unreachable, busy or failing.
    #[arg(long = "retries", value_name = "N", default_value_t = 3)]
    retries: u32,
    /// Seconds one request may take.
    #[arg(
        short = 't',
        long = "timeout",
        value_name = "SECS",
        default_value_t = 30
    )]
    timeout: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("ocs-injector: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<Summary> {
    let client = Client::new(TransportConfig {
        url: args.url.clone(),
        ca_file: args.cafile.clone(),
        verify_tls: args.sslmode == "1",
        user: args.username.clone(),
        password: args.password.clone(),
        realm: None,
        proxy: None,
        timeout: Duration::from_secs(args.timeout.max(1)),
        debug: false,
        user_agent: Some(args.useragent.clone()),
    })?;
    let sources = if args.stdin {
        vec![Source::Stdin]
    } else if let Some(file) = &args.file {
        vec![Source::File(file.clone())]
    } else {
        source::directory(&args.directory).map_err(anyhow::Error::msg)?
    };
    if sources.is_empty() {
        eprintln!(
            "ocs-injector: no .ocs or .xml file in {}",
            args.directory.display()
        );
    }
    let settings = Settings {
        remove: args.remove,
        show_reply: args.msg,
        verbose: args.verbose,
        retries: args.retries,
        backoff: Duration::from_secs(1),
    };
    let bar = progress(sources.len(), args.verbose);
    let mut summary = Summary::default();
    for src in &sources {
        bar.set_message(src.name());
        let outcome = inject::send_one(&client, src, &settings);
        summary.add(&outcome);
        let line = match &outcome {
            Outcome::Sent { reply, removed } => {
                if let Some(reply) = reply {
                    bar.suspend(|| println!("{reply}"));
                }
                args.verbose.then(|| {
                    format!(
                        "{}: OK{}",
                        src.name(),
                        if *removed { ", removed" } else { "" }
                    )
                })
            }
            Outcome::Busy => Some(format!(
                "{}: skipped, locked by another process (sent at the next run)",
                src.name()
            )),
            Outcome::Failed(why) => Some(format!("{}: {why}", src.name())),
        };
        if let Some(line) = line {
            bar.suspend(|| eprintln!("{line}"));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    eprintln!("ocs-injector: {summary} (to {})", args.url);
    Ok(summary)
}

/// A bar on a terminal, for more than one file and without -v (whose lines say as much).
fn progress(total: usize, verbose: bool) -> ProgressBar {
    if total < 2 || verbose || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    bar
}
