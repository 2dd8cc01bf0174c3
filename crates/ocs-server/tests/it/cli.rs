//! The command line: configuration, options, tokens, local import.

use std::process::Command;

use ocs_testkit::{fixture, fixtures_dir, zlib};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ocs-server"));
    c.env("OCS_LOG__LEVEL", "warn");
    c
}

fn run(c: &mut Command) -> (bool, String, String) {
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn config_show_layers_and_masks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:9999\"\n").unwrap();
    let (ok, out, _) = run(bin()
        .args(["--config", file.to_str().unwrap(), "config", "show"])
        .env("OCS_DATABASE_URL", "sqlite://u:secret@x/y.db"));
    assert!(ok);
    assert!(out.contains("listen = \"127.0.0.1:9999\""), "{out}");
    assert!(out.contains("u:***@"), "{out}");
    assert!(!out.contains("secret"));
    let (ok, out, _) = run(bin()
        .args(["config", "show", "--listen", "127.0.0.1:7000"])
        .env("OCS_LISTEN", "127.0.0.1:6000"));
    assert!(
        ok && out.contains("127.0.0.1:7000"),
        "flags win over the environment: {out}"
    );
    let (ok, _, err) = run(bin().args(["config", "show"]).env("OCS_LISTEN", "nonsense"));
    assert!(!ok && err.contains("listen"), "{err}");
}

#[test]
fn options_list_get_set() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, out, _) = run(bin().args(["--data-dir", d, "options", "list"]));
    assert!(ok);
    assert!(out.contains("PROLOG_FREQ") && out.contains("AUTO_DUPLICATE_LVL"));
    assert_eq!(
        run(bin().args(["--data-dir", d, "options", "get", "PROLOG_FREQ"]))
            .1
            .trim(),
        "24"
    );
    assert!(
        run(bin().args([
            "--data-dir",
            d,
            "options",
            "set",
            "OCS_OPT_PROLOG_FREQ",
            "12"
        ]))
        .0
    );
    assert_eq!(
        run(bin().args(["--data-dir", d, "options", "get", "prolog_freq"]))
            .1
            .trim(),
        "12"
    );
    let (ok, _, err) = run(bin().args(["--data-dir", d, "options", "set", "FREQUENCY", "-7"]));
    assert!(!ok && err.contains("between"), "{err}");
    let (ok, _, err) = run(bin().args(["--data-dir", d, "options", "set", "NO_SUCH", "1"]));
    assert!(!ok && err.contains("unknown option"), "{err}");
}

#[test]
fn environment_seeds_options_on_first_start_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert_eq!(
        run(bin()
            .args(["--data-dir", d, "options", "get", "FREQUENCY"])
            .env("OCS_OPT_FREQUENCY", "3"))
        .1
        .trim(),
        "3"
    );
    let (_, out, err) = run(bin()
        .args(["--data-dir", d, "options", "get", "FREQUENCY"])
        .env("OCS_OPT_FREQUENCY", "5"));
    assert_eq!(out.trim(), "3", "the database keeps its value");
    assert!(err.contains("already stored"), "{err}");
}

#[test]
fn import_files_and_directories() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    // Both forms found in the wild: plain XML and zlib.
    std::fs::copy(
        fixtures_dir().join("ocs-agent-local/vm-2026-11-21-12-46-20.ocs"),
        inbox.join("a.ocs"),
    )
    .unwrap();
    std::fs::write(
        inbox.join("b.ocs"),
        zlib(&fixture(
            "fusioninventory-agent-local/vm-2026-11-21-12-46-57.ocs",
        )),
    )
    .unwrap();
    std::fs::write(
        inbox.join("c.xml"),
        fixture("ocs-agent/02-INVENTORY-request.xml"),
    )
    .unwrap();
    std::fs::write(inbox.join("ignored.txt"), "x").unwrap();
    let (ok, out, err) = run(bin().arg("--data-dir").arg(&d).arg("import").arg(&inbox));
    assert!(ok, "{out}{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("ok ")).count(),
        3,
        "{out}"
    );
    assert!(out.contains("imported 3, errors 0"), "{out}");

    std::fs::write(inbox.join("d.ocs"), b"garbage").unwrap();
    let (ok, out, _) = run(bin()
        .arg("--data-dir")
        .arg(&d)
        .arg("import")
        .arg(inbox.join("d.ocs"))
        .arg(inbox.join("a.ocs")));
    assert!(!ok, "a failed file makes the exit status non-zero");
    assert!(
        out.contains("error") && out.contains("d.ocs") && out.contains("imported 1, errors 1"),
        "{out}"
    );
    let (ok, _, err) = run(bin()
        .arg("--data-dir")
        .arg(&d)
        .arg("import")
        .arg(dir.path().join("nope")));
    assert!(!ok && err.contains("no such file"), "{err}");
}

#[tokio::test]
async fn console_accounts_from_the_command_line() {
    let s = crate::server(&[]);
    let add = |login: &str, role: &str, extra: &[&str], password: &str| {
        let mut args = vec!["users", "add", login, "--role", role, "--password-stdin"];
        args.extend_from_slice(extra);
        s.cli_with_stdin(&args, &format!("{password}\n")).unwrap()
    };
    let out = add("soap", "user", &["--web-services"], "a-long-pass-phrase-1");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("console account soap added"));
    assert!(add("ops", "administrator", &[], "another-long-phrase-2")
        .status
        .success());
    // Refused, with the reason: a taken login, a weak password, an unknown role, no stdin flag.
    let taken = add("soap", "user", &[], "a-long-pass-phrase-1");
    assert!(!taken.status.success());
    let weak = add("weak", "user", &[], "soap");
    assert!(!weak.status.success());
    assert!(!add("x", "root", &[], "a-long-pass-phrase-3")
        .status
        .success());
    let no_flag = s.cli(&["users", "add", "y", "--role", "user"]).unwrap();
    assert_eq!(no_flag.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_flag.stderr).contains("--password-stdin"));

    let list = s.cli_ok(&["users", "list"]);
    let line = |login: &str| {
        list.lines()
            .find(|l| l.starts_with(&format!("{login}\t")))
            .unwrap_or_else(|| panic!("{login} in {list}"))
            .to_owned()
    };
    assert!(line("soap").starts_with("soap\tuser\tyes\tno\t"), "{list}");
    assert!(line("ops").starts_with("ops\tadmin\tno\t"), "{list}");
    assert!(!list.contains("argon2"), "no password hash");
    // The account signs in to the console with that password.
    let console = crate::console::Console::sign_in(&s, "ops", "another-long-phrase-2").await;
    assert_eq!(console.get("/").await.status, 200);

    s.cli_ok(&["users", "delete", "soap"]);
    assert!(!s.cli_ok(&["users", "list"]).contains("soap\t"));
    let missing = s.cli(&["users", "delete", "soap"]).unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no console account"));
    // Never the last administrator.
    s.cli_ok(&["users", "delete", "admin"]);
    let last = s.cli(&["users", "delete", "ops"]).unwrap();
    assert!(!last.status.success());
}
