//! `ocs-agent`: parses the command line, sets up logging, runs once or as a daemon, and
//! turns the outcome into one line and an exit code. Everything else is in the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use ocs_agent::cli::{Cli, Command};
use ocs_agent::collectors::Context;
use ocs_agent::config::Config;
use ocs_agent::run::{run_once, Report};
use time::{OffsetDateTime, UtcOffset};
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // `time` can only read the local offset while the process has a single thread.
    let offset = UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC);
    let cli = Cli::parse();
    let config = match Config::from_options(&cli.options) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    if let Err(e) = init_logging(&config) {
        eprintln!("ocs-agent: cannot open the log file: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Some(Command::Daemon) => ocs_agent::daemon::run(&config, offset).map(|()| None),
        Some(Command::Run) | None => {
            let now = OffsetDateTime::now_utc().to_offset(offset);
            let privileged = rustix::process::geteuid().is_root();
            let ctx = Context::live(privileged, now);
            run_once(&config, &ctx).map(Some)
        }
    };
    match result {
        Ok(Some(Report::Printed)) | Ok(None) => ExitCode::SUCCESS,
        Ok(Some(report)) => {
            if config.info || config.debug || matches!(report, Report::Tested(_)) {
                println!("{report}");
            }
            tracing::info!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &ocs_agent::Error) -> ExitCode {
    eprintln!("ocs-agent: {e}");
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
}

/// Logs go to standard error (and the log file if one is set): warnings by default, more
/// with --info and --debug; `OCS_AGENT_LOG` takes a tracing filter for finer control.
fn init_logging(config: &Config) -> std::io::Result<()> {
    let level = if config.debug {
        "debug"
    } else if config.info {
        "info"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_env("OCS_AGENT_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("ocs_agent={level},warn")));
    // Colours only on a terminal: cron mails and journald get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    match &config.logfile {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            builder
                .with_writer(std::io::stderr.and(std::sync::Mutex::new(file)))
                .with_ansi(false)
                .init();
        }
        None => builder.with_writer(std::io::stderr).init(),
    }
    Ok(())
}
