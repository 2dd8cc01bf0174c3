//! Running one plugin: the executable itself (no shell, no arguments), from `/`, with an
//! empty standard input and a minimal environment, in a process group of its own so that a
//! time limit or an output limit ends whatever it started too. Standard output is kept up
//! to a limit, standard error up to a smaller one; nothing is parsed or logged here.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// The environment a plugin gets, and nothing else.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("LC_ALL", "C"),
    ("LANG", "C"),
    ("HOME", "/"),
];

/// Most bytes of standard error kept for the log.
pub const MAX_STDERR: usize = 16 << 10;

/// How long the output pipes may stay open once the plugin has ended and its process group
/// has been killed (a process that left the group may still hold them).
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// The limits of one run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock time the plugin may take.
    pub timeout: Duration,
    /// Bytes of standard output accepted; one more ends the plugin.
    pub max_output: usize,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The plugin exited (or was killed by a signal it did not get from us).
    Exited(ExitStatus),
    /// It was still running at the time limit and was killed.
    TimedOut,
    /// It printed more than the limit and was killed.
    TooMuchOutput,
}

/// What one run gave.
#[derive(Debug)]
pub struct Ran {
    /// How it ended.
    pub end: End,
    /// Standard output, at most `max_output + 1` bytes.
    pub stdout: Vec<u8>,
    /// Standard error, at most [`MAX_STDERR`] bytes.
    pub stderr: Vec<u8>,
    /// How long it took.
    pub elapsed: Duration,
}

/// Reads a pipe to its end, keeping at most `keep` bytes; sets `over` once more than `keep`
/// came and then stops reading when `stop_when_over` (the plugin then gets `SIGPIPE`).
fn drain(
    mut pipe: impl Read + Send + 'static,
    keep: usize,
    stop_when_over: bool,
    over: Arc<AtomicBool>,
) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = (keep + 1).saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                    if kept.len() > keep {
                        over.store(true, Ordering::Relaxed);
                        if stop_when_over {
                            break;
                        }
                        kept.truncate(keep);
                    }
                }
            }
        }
        let _ = tx.send(kept);
    });
    rx
}

fn kill_group(child: &Child) {
    let pid = rustix::process::Pid::from_child(child);
    // ESRCH (every process of the group already gone) is the usual, harmless answer.
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
}

/// Starts the command, trying again for a moment while the file is busy (`ETXTBSY`): a
/// plugin being replaced by a package manager, or one another thread of this process has
/// just written and a concurrently forked child still holds open.
fn spawn(command: &mut Command) -> std::io::Result<Child> {
    let busy = Some(rustix::io::Errno::TXTBSY.raw_os_error());
    let mut attempts = 0;
    loop {
        match command.spawn() {
            Err(e) if e.raw_os_error() == busy && attempts < 20 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(25));
            }
            other => return other,
        }
    }
}

/// Runs the plugin at `path` within `limits`. Only a failure to start it is an error.
pub fn run(path: &Path, limits: Limits) -> std::io::Result<Ran> {
    let started = Instant::now();
    let mut command = Command::new(path);
    command
        .env_clear()
        .envs(ENVIRONMENT.iter().copied())
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = spawn(&mut command)?;
    let over = Arc::new(AtomicBool::new(false));
    let stdout = child
        .stdout
        .take()
        .map(|p| drain(p, limits.max_output, true, over.clone()));
    let stderr = child
        .stderr
        .take()
        .map(|p| drain(p, MAX_STDERR, false, Arc::new(AtomicBool::new(false))));
    let deadline = started + limits.timeout;
    let end = loop {
        if over.load(Ordering::Relaxed) {
            kill_group(&child);
            let _ = child.wait();
            break End::TooMuchOutput;
        }
        let waited = child.try_wait().inspect_err(|_| kill_group(&child))?;
        match waited {
            Some(status) => break End::Exited(status),
            None if Instant::now() >= deadline => {
                kill_group(&child);
                let _ = child.wait();
                break End::TimedOut;
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    // Whatever the plugin left behind in its group goes with it, which also closes the
    // pipes it may have passed on.
    kill_group(&child);
    let collect = |rx: Option<mpsc::Receiver<Vec<u8>>>| {
        rx.and_then(|rx| rx.recv_timeout(PIPE_GRACE).ok())
            .unwrap_or_default()
    };
    let stdout = collect(stdout);
    let stderr = collect(stderr);
    // The reader may have seen the excess after the plugin exited on its own.
    let end = if over.load(Ordering::Relaxed) {
        End::TooMuchOutput
    } else {
        end
    };
    Ok(Ran {
        end,
        stdout,
        stderr,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    const LIMITS: Limits = Limits {
        timeout: Duration::from_secs(10),
        max_output: 1 << 20,
    };

    #[test]
    fn output_error_status_and_a_minimal_environment() {
        let dir = tempfile::tempdir().unwrap();
        let p = script(
            dir.path(),
            "env",
            "echo \"PATH=$PATH HOME=$HOME PWD=$(pwd)\"\nenv | cut -d= -f1 | sort | tr '\\n' ' '\nread line && echo \"stdin: $line\"\necho oops >&2\nexit 3",
        );
        let ran = run(&p, LIMITS).unwrap();
        let out = String::from_utf8(ran.stdout).unwrap();
        assert!(out.contains("HOME=/ ") && out.contains("PWD=/"), "{out}");
        assert!(out.contains("PATH=/usr/local/sbin:"), "{out}");
        let names = out.lines().nth(1).unwrap_or_default();
        for name in names.split_whitespace() {
            assert!(
                ["HOME", "LANG", "LC_ALL", "PATH", "PWD", "SHLVL", "_", "OLDPWD"].contains(&name),
                "{name} leaked into the plugin's environment: {out}"
            );
        }
        assert!(!out.contains("stdin:"), "empty standard input: {out}");
        assert_eq!(ran.stderr, b"oops\n");
        let End::Exited(status) = ran.end else {
            panic!("{:?}", ran.end)
        };
        assert_eq!(status.code(), Some(3));
    }

    #[test]
    fn time_limit_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        // The sleep is a child of the shell and holds the output pipe: it must go too.
        let p = script(dir.path(), "slow", "echo partial\nsleep 30\necho never");
        let ran = run(
            &p,
            Limits {
                timeout: Duration::from_millis(300),
                ..LIMITS
            },
        )
        .unwrap();
        assert_eq!(ran.end, End::TimedOut);
        assert!(ran.elapsed < Duration::from_secs(5), "{:?}", ran.elapsed);
        assert_eq!(ran.stdout, b"partial\n");
    }

    #[test]
    fn output_limit_ends_the_plugin() {
        let dir = tempfile::tempdir().unwrap();
        let p = script(
            dir.path(),
            "chatty",
            "while :; do echo xxxxxxxxxxxxxxxx; done",
        );
        let ran = run(
            &p,
            Limits {
                max_output: 1000,
                ..LIMITS
            },
        )
        .unwrap();
        assert_eq!(ran.end, End::TooMuchOutput);
        assert_eq!(ran.stdout.len(), 1001);
        let small = script(dir.path(), "small", "printf 0123456789");
        let ran = run(
            &small,
            Limits {
                max_output: 10,
                ..LIMITS
            },
        )
        .unwrap();
        assert!(matches!(ran.end, End::Exited(s) if s.success()));
        assert_eq!(ran.stdout, b"0123456789", "exactly the limit is accepted");
    }

    #[test]
    fn a_file_that_cannot_start_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no-interpreter");
        std::fs::write(&p, "#!/nonexistent/interpreter\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(run(&p, LIMITS).is_err());
    }
}
