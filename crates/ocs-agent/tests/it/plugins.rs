//! Plugins end to end: the agent binary runs the plugins of a directory into the inventory
//! it writes with `--local`, leaving out (with a warning) one that overruns its time limit
//! and one that prints garbage; and the sample plugin `contrib/plugins/failed-units` prints
//! rows the agent's parser accepts, from a fake `systemctl`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ocs_agent::plugins::{parse, PluginRow, MAX_OUTPUT};

use super::{agent, run};

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn the_agent_adds_good_plugin_sections_and_leaves_out_slow_and_garbage_ones() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    script(
        &plugins,
        "10-good",
        "cat <<'XML'\n<DISK_HEALTH><DEVICE>sda</DEVICE><STATUS>PASSED &amp; ok</STATUS></DISK_HEALTH>\n<DISK_HEALTH><DEVICE>sdb</DEVICE><STATUS>FAILED</STATUS></DISK_HEALTH>\n<BACKUP_JOBS><NAME>nightly</NAME><LAST_RUN>2026-12-03</LAST_RUN></BACKUP_JOBS>\nXML",
    );
    script(
        &plugins,
        "20-slow",
        "echo '<SLOW_SECTION><X>1</X></SLOW_SECTION>'\nsleep 60",
    );
    script(
        &plugins,
        "30-garbage",
        "echo 'Traceback (most recent call last): <oops>'",
    );
    let out = dir.path().join("out");
    let started = Instant::now();
    let ran = run(agent().args([
        "--local",
        out.to_str().unwrap(),
        "--xml",
        "--state-dir",
        dir.path().join("state").to_str().unwrap(),
        "--plugins-dir",
        plugins.to_str().unwrap(),
        "--plugin-timeout",
        "2",
    ]));
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(ran.status.success(), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "the slow plugin was not cut short"
    );

    let written: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let xml = std::fs::read_to_string(&written[0]).unwrap();
    let doc = ocs_proto::xml::parse(xml.as_bytes()).unwrap();
    let content = doc.child("CONTENT").unwrap();
    let disks: Vec<(&str, &str)> = content
        .children_named("DISK_HEALTH")
        .map(|d| (d.value("DEVICE").unwrap(), d.value("STATUS").unwrap()))
        .collect();
    assert_eq!(disks, vec![("sda", "PASSED & ok"), ("sdb", "FAILED")]);
    assert_eq!(
        content.child("BACKUP_JOBS").and_then(|b| b.value("NAME")),
        Some("nightly")
    );
    assert!(content.child("SLOW_SECTION").is_none(), "{xml}");
    assert!(!xml.contains("Traceback") && !xml.contains("oops"), "{xml}");
    // The built-in sections are there, plugin sections after them, and CHECKSUM is the
    // first inventory's (plugin sections have no bit).
    assert!(content.child("HARDWARE").is_some());
    assert!(xml.find("<DISK_HEALTH>") > xml.find("<HARDWARE>"));
    let req = ocs_proto::request::parse_request(xml.as_bytes()).unwrap();
    let inv = ocs_proto::Inventory::from_request(&req).unwrap();
    assert_eq!(
        inv.checksum,
        Some(ocs_proto::catalogue::ALL_SECTIONS_CHANGED)
    );

    // One warning for each plugin left out, naming it and saying why.
    let warning = |plugin: &str, why: &str| {
        stderr
            .lines()
            .any(|l| l.contains("WARN") && l.contains(plugin) && l.contains(why))
    };
    assert!(warning("20-slow", "still running after 2 s"), "{stderr}");
    assert!(warning("30-garbage", "not valid XML"), "{stderr}");
    assert!(!stderr.contains("10-good"), "{stderr}");
}

fn sample_plugin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/plugins/failed-units")
}

/// Runs the sample plugin with `bin` first on PATH, the way the agent runs plugins (no
/// arguments, empty standard input).
fn run_sample(bin: &Path) -> (Vec<u8>, std::process::ExitStatus) {
    let out = Command::new(sample_plugin())
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.stdout, out.status)
}

#[test]
fn the_sample_plugin_prints_one_failed_units_row_per_failed_unit() {
    let mode = std::fs::metadata(sample_plugin())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "the sample plugin is executable");
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // A fake systemctl: two failed units for exactly the command the plugin must run.
    script(
        &bin,
        "systemctl",
        "[ \"$*\" = 'list-units --state=failed --no-legend --plain --no-pager' ] || { echo \"unexpected: $*\" >&2; exit 1; }\nprintf '%s\\n' 'nginx.service       loaded failed failed A high performance web server & <proxy>' '\u{25cf} backup@home.timer loaded failed failed Nightly backup of /home'",
    );
    let (stdout, status) = run_sample(&bin);
    assert!(status.success());
    let rows = parse::parse(&stdout, MAX_OUTPUT).unwrap();
    let row = |fields: [(&str, &str); 5]| PluginRow {
        section: "FAILED_UNITS".into(),
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    assert_eq!(
        rows,
        vec![
            row([
                ("NAME", "nginx.service"),
                ("LOAD", "loaded"),
                ("ACTIVE", "failed"),
                ("SUB", "failed"),
                ("DESCRIPTION", "A high performance web server & <proxy>"),
            ]),
            row([
                ("NAME", "backup@home.timer"),
                ("LOAD", "loaded"),
                ("ACTIVE", "failed"),
                ("SUB", "failed"),
                ("DESCRIPTION", "Nightly backup of /home"),
            ]),
        ]
    );

    // No failed unit: nothing printed.
    script(&bin, "systemctl", "exit 0");
    let (stdout, status) = run_sample(&bin);
    assert!(status.success() && stdout.is_empty());
    // No systemctl at all (PATH without it): nothing printed, exit 0.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = Command::new(sample_plugin())
        .env_clear()
        .env("PATH", &empty)
        .output()
        .unwrap();
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
}
