//! Carrying out a package's action once it is unpacked in its `tmp` directory, as the Unix
//! agent does: `LAUNCH` runs the named file from that directory (made executable first) and
//! reports its exit code as `SUCCESS_<n>`; `EXECUTE` runs the command through `sh -c` in that
//! directory and reports `SUCCESS` when it exits 0; `STORE` creates the destination
//! (`INSTALL_PATH` stands for the agent's state directory) and copies the unpacked files into
//! it. Anything that fails is `ERR_EXECUTE`.
//!
//! Commands run with the agent's own rights and environment, with no time limit (the Unix
//! agent has none; `EXECUTION_TIMEOUT` is for the Windows agent).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use ocs_proto::info::Action;

use super::extract::is_safe_relative;
use super::reports::Status;

/// Runs the action in `tmp`; returns the status to report.
pub fn run(action: &Action, tmp: &Path, install_path: &Path) -> Status {
    match try_run(action, tmp, install_path) {
        Ok(status) => status,
        Err(detail) => {
            tracing::warn!(action = action.as_str(), "{detail}");
            Status::ErrExecute
        }
    }
}

fn try_run(action: &Action, tmp: &Path, install_path: &Path) -> Result<Status, String> {
    match action {
        Action::Launch { name } => {
            // The file is the first word; the rest of the line are its arguments. Like the
            // Unix agent, a '-' also ends the file name.
            let file = name
                .split([' ', '-'])
                .next()
                .filter(|f| !f.is_empty())
                .ok_or_else(|| format!("LAUNCH without a file name: {name:?}"))?;
            if !is_safe_relative(Path::new(file)) {
                return Err(format!("LAUNCH file {file:?} is not inside the package"));
            }
            let path = tmp.join(file);
            if !path.is_file() {
                return Err(format!("LAUNCH file {file:?} is not in the package"));
            }
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("cannot make {file:?} executable: {e}"))?;
            let status = shell(&format!("./{name}"), tmp)?;
            match status.code() {
                Some(code) => Ok(Status::SuccessCode(code)),
                None => Err(format!("{file:?} was killed by a signal")),
            }
        }
        Action::Execute { command } => {
            let status = shell(command, tmp)?;
            if status.success() {
                Ok(Status::Success)
            } else {
                Err(format!("command {command:?} failed: {status}"))
            }
        }
        Action::Store { path } => {
            let dest = path.replace("INSTALL_PATH", &install_path.to_string_lossy());
            let dest = Path::new(&dest);
            std::fs::create_dir_all(dest)
                .map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
            copy_dir(tmp, dest, true)
                .map_err(|e| format!("cannot copy the package to {}: {e}", dest.display()))?;
            Ok(Status::Success)
        }
    }
}

fn shell(line: &str, dir: &Path) -> Result<std::process::ExitStatus, String> {
    tracing::info!(command = line, dir = %dir.display(), "running the package command");
    Command::new("/bin/sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot start /bin/sh: {e}"))
}

/// Copies a directory's content, keeping modes and symbolic links. At the top level, names
/// starting with a dot are left out, as the Unix agent's `cp -pr *` leaves them out.
fn copy_dir(from: &Path, to: &Path, top: bool) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if top && name.to_string_lossy().starts_with('.') {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            let _ = std::fs::remove_file(&dst);
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if kind.is_dir() {
            std::fs::create_dir_all(&dst)?;
            copy_dir(&src, &dst, false)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_reports_the_exit_code_and_execute_fails_on_non_zero() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path();
        std::fs::write(
            tmp.join("setup.sh"),
            "#!/bin/sh\necho \"$1\" > arg\nexit 3\n",
        )
        .unwrap();
        let status = run(
            &Action::Launch {
                name: "setup.sh hello".into(),
            },
            tmp,
            tmp,
        );
        assert_eq!(status, Status::SuccessCode(3));
        assert_eq!(status.code(), "SUCCESS_3");
        assert_eq!(std::fs::read_to_string(tmp.join("arg")).unwrap(), "hello\n");
        let missing = run(
            &Action::Launch {
                name: "nothere.sh".into(),
            },
            tmp,
            tmp,
        );
        assert_eq!(missing, Status::ErrExecute);
        let outside = run(
            &Action::Launch {
                name: "../x".into(),
            },
            tmp,
            tmp,
        );
        assert_eq!(outside, Status::ErrExecute);
        let ok = run(
            &Action::Execute {
                command: "touch marker".into(),
            },
            tmp,
            tmp,
        );
        assert_eq!(ok, Status::Success);
        assert!(tmp.join("marker").exists(), "runs in the package directory");
        let bad = run(
            &Action::Execute {
                command: "exit 1".into(),
            },
            tmp,
            tmp,
        );
        assert_eq!(bad, Status::ErrExecute);
    }

    #[test]
    fn store_creates_the_destination_under_install_path() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(tmp.join("sub")).unwrap();
        std::fs::write(tmp.join("sub/a.txt"), "a").unwrap();
        std::fs::write(tmp.join(".hidden"), "h").unwrap();
        let install = dir.path().join("var");
        let status = run(
            &Action::Store {
                path: "INSTALL_PATH/store/here".into(),
            },
            &tmp,
            &install,
        );
        assert_eq!(status, Status::Success);
        let dest = install.join("store/here");
        assert_eq!(
            std::fs::read_to_string(dest.join("sub/a.txt")).unwrap(),
            "a"
        );
        assert!(!dest.join(".hidden").exists());
    }
}
