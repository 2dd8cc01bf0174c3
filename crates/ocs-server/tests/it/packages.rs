//! Packages end to end: `package build|list|activate|deactivate|export|delete` on the command
//! line, `/download/...` (only activated packages, Content-Length, Last-Modified /
//! If-Modified-Since, ranges), the activation check against an HTTPS endpoint started here
//! (a private CA written as `<data_dir>/tls/cacert.pem`, as the server's own would be), the
//! console pages (upload build, activate, deactivate, delete, read-only refusal) and the API.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ocs_testkit::TestServer;

use crate::console::{read_only_user, Console};
use crate::server;

/// A gzip stream of `n` bytes (the server only looks at the magic).
pub(crate) fn archive(n: usize) -> Vec<u8> {
    let mut data = b"\x1f\x8b\x08\x00".to_vec();
    data.extend((0..n.saturating_sub(4)).map(|i| (i * 7 % 251) as u8));
    data
}

fn cli_ok(s: &TestServer, args: &[&str]) -> String {
    let out = s.cli(args).unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cli_err(s: &TestServer, args: &[&str]) -> String {
    let out = s.cli(args).unwrap();
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Builds a package from a file through the CLI; returns its FILEID.
fn build(s: &TestServer, data: &[u8], extra: &[&str]) -> String {
    let file = s.dir.path().join("upload.tar.gz");
    std::fs::write(&file, data).unwrap();
    let path = file.display().to_string();
    let mut args = vec![
        "package",
        "build",
        "--name",
        "Marker",
        "--os",
        "linux",
        "--action",
        "execute",
        "--command",
        "sh run.sh",
        "--file",
        &path,
    ];
    args.extend_from_slice(extra);
    let fileid = cli_ok(s, &args).trim().to_owned();
    assert!(fileid.bytes().all(|b| b.is_ascii_digit()), "{fileid}");
    fileid
}

/// An HTTPS server serving files of a directory (a redistribution or info server), trusted
/// through a CA written to `ca_file`; returns its `127.0.0.1:PORT`.
pub(crate) fn https_files(root: PathBuf, ca_file: &Path) -> String {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    std::fs::create_dir_all(ca_file.parent().unwrap()).unwrap();
    std::fs::write(ca_file, ca_cert.pem()).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap(),
        )
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(tcp) = stream else { continue };
            let config = config.clone();
            let root = root.clone();
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&req);
                let path = text.split(' ').nth(1).unwrap_or("/").to_owned();
                let file = root.join(path.trim_start_matches('/'));
                let (status, body) = match std::fs::read(&file) {
                    Ok(b) if !path.contains("..") => ("200 OK", b),
                    _ => ("404 Not Found", b"not found\n".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes());
                let _ = tls.write_all(&body);
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr
}

async fn get(s: &TestServer, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{}{path}", s.base_url));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn build_activate_serve_export_delete_from_the_command_line() {
    let s = server(&[]);
    let data = archive(10_000);
    let fileid = build(&s, &data, &["--fragments", "3", "--priority", "2"]);
    let dir = s.dir.path().join("download").join(&fileid);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            format!("{fileid}-1"),
            format!("{fileid}-2"),
            format!("{fileid}-3"),
            "info".to_owned()
        ]
    );
    let info = ocs_proto::info::InfoFile::parse(&std::fs::read(dir.join("info")).unwrap()).unwrap();
    assert_eq!(
        (info.id.as_str(), info.fragments, info.priority),
        (fileid.as_str(), 3, 2)
    );

    let list = cli_ok(&s, &["package", "list"]);
    assert!(
        list.contains(&fileid) && list.contains("Marker") && list.contains("LINUX"),
        "{list}"
    );

    // Not activated: nothing is served.
    assert_eq!(
        get(&s, &format!("/download/{fileid}/info"), &[])
            .await
            .status(),
        404
    );

    // The default info location is this server over HTTPS, which this branch's server does
    // not speak: the activation is refused, naming the URL that failed, and nothing stays.
    let err = cli_err(&s, &["package", "activate", &fileid]);
    assert!(
        err.contains(&format!("/download/{fileid}/info")) && err.contains("https://"),
        "{err}"
    );
    assert_eq!(
        get(&s, &format!("/download/{fileid}/info"), &[])
            .await
            .status(),
        404
    );

    // The info file over HTTPS from a server trusted through <data_dir>/tls/cacert.pem, the
    // fragments from this server over HTTP.
    let https = https_files(
        s.dir.path().join("download"),
        &s.dir.path().join("tls").join("cacert.pem"),
    );
    let fragments = format!("{}/download", s.base_url);
    let out = cli_ok(
        &s,
        &[
            "package",
            "activate",
            &fileid,
            "--info-url",
            &format!("https://{https}/"),
            "--fragments-url",
            &fragments,
        ],
    );
    assert_eq!(out.lines().count(), 1, "{out}");

    // A wrong fragments location is named.
    let err = cli_err(
        &s,
        &[
            "package",
            "activate",
            &fileid,
            "--info-url",
            &format!("https://{https}"),
            "--fragments-url",
            "http://127.0.0.1:9/nowhere",
        ],
    );
    assert!(err.contains("http://127.0.0.1:9/nowhere/"), "{err}");

    // Served: whole, with a range, and not modified since.
    let r = get(&s, &format!("/download/{fileid}/{fileid}-2"), &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "3334");
    let last_modified = r.headers()["last-modified"].to_str().unwrap().to_owned();
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[3334..6668]);
    let r = get(
        &s,
        &format!("/download/{fileid}/{fileid}-2"),
        &[("Range", "bytes=10-19")],
    )
    .await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 10-19/3334");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[3344..3354]);
    let r = get(
        &s,
        &format!("/download/{fileid}/{fileid}-3"),
        &[("Range", "bytes=5000-")],
    )
    .await;
    assert_eq!(r.status(), 416);
    let r = get(
        &s,
        &format!("/download/{fileid}/{fileid}-1"),
        &[("If-Modified-Since", &last_modified)],
    )
    .await;
    assert_eq!(r.status(), 304);
    let r = get(
        &s,
        &format!("/download/{fileid}/{fileid}-1"),
        &[("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")],
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = get(&s, &format!("/download/{fileid}/info"), &[]).await;
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains(&format!("ID=\"{fileid}\"")));
    for bad in [
        format!("/download/{fileid}/{fileid}-4"),
        format!("/download/{fileid}/{fileid}-0"),
        format!("/download/{fileid}/archive"),
        format!("/download/{fileid}/..%2Finfo"),
        "/download/..%2F..%2Focs.db/info".to_owned(),
        "/download/abc/info".to_owned(),
    ] {
        assert_eq!(get(&s, &bad, &[]).await.status(), 404, "{bad}");
    }

    // Export: the redistribution layout.
    let target = s.dir.path().join("export");
    cli_ok(&s, &["package", "export", &target.display().to_string()]);
    let mut joined = Vec::new();
    for n in 1..=3 {
        joined.extend(std::fs::read(target.join(&fileid).join(format!("{fileid}-{n}"))).unwrap());
    }
    assert_eq!(joined, data);
    assert!(target.join(&fileid).join("info").is_file());

    // Deactivated: no longer served.
    cli_ok(&s, &["package", "deactivate", &fileid]);
    assert_eq!(
        get(&s, &format!("/download/{fileid}/info"), &[])
            .await
            .status(),
        404
    );

    // Deleted: files and row gone.
    cli_ok(&s, &["package", "delete", &fileid]);
    assert!(!dir.exists());
    assert!(!cli_ok(&s, &["package", "list"]).contains(&fileid));
    assert!(cli_err(&s, &["package", "delete", &fileid]).contains("not found"));
}

#[tokio::test]
async fn the_command_line_refuses_bad_builds_and_leaves_nothing() {
    let s = server(&[]);
    let config = s.dir.path().join("small.toml");
    std::fs::write(&config, "[deployment]\nmax_package_bytes = 4096\n").unwrap();
    let config = config.display().to_string();
    let file = s.dir.path().join("big.tar.gz");
    std::fs::write(&file, archive(5000)).unwrap();
    let path = file.display().to_string();
    let base = [
        "--config",
        &config,
        "package",
        "build",
        "--name",
        "P",
        "--os",
        "linux",
        "--action",
        "execute",
        "--command",
        "true",
    ];
    let with = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        cli_err(&s, &a)
    };
    assert!(with(&["--file", &path]).contains("E_PACKAGE_TOO_LARGE"));
    let exe = s.dir.path().join("setup.exe");
    std::fs::write(&exe, b"MZ\x90\x00").unwrap();
    assert!(with(&["--file", &exe.display().to_string()]).contains("E_PACKAGE_ARCHIVE"));
    assert!(with(&["--priority", "11"]).contains("E_PACKAGE_PRIORITY"));
    let store = cli_err(
        &s,
        &[
            "--config",
            &config,
            "package",
            "build",
            "--name",
            "P",
            "--os",
            "linux",
            "--action",
            "store",
            "--path",
            "INSTALL_PATH/../../etc",
            "--file",
            &path,
        ],
    );
    assert!(store.contains("E_PACKAGE_PATH"), "{store}");
    let download = s.dir.path().join("download");
    let left: Vec<_> = std::fs::read_dir(&download)
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    // A command-only package needs no file.
    let out = cli_ok(&s, &base);
    assert!(!out.trim().is_empty());
}

#[tokio::test]
async fn console_builds_with_an_upload_activates_and_deletes() {
    let s = server(&[]);
    let c = Console::sign_in_admin(&s).await;
    let list = c.get("/packages").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("id=\"nav-deployment\""));
    assert!(list.body.contains("id=\"no-packages\""));
    assert_eq!(c.get("/packages/new").await.status, 200);

    let data = archive(50_000);
    let form = reqwest::multipart::Form::new()
        .text("name", "Console <pkg>")
        .text("os", "windows")
        .text("action", "launch")
        .text("action_param", "setup.exe")
        .text("priority", "0")
        .text("fragment_size", "20000")
        .text("notify_user", "1")
        .text("notify_text", "Installing")
        .part(
            "file",
            reqwest::multipart::Part::bytes(data.clone()).file_name("pkg.tar.gz"),
        );
    let r = c.post_multipart("/packages/new", form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let location = r.location.unwrap();
    let fileid = location.trim_start_matches("/packages/").to_owned();
    let page = c.get(&location).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Console &") && !page.body.contains("Console <pkg>"),
        "the name is escaped"
    );
    assert!(page.body.contains("id=\"not-activated\""));
    assert!(page.body.contains("Installing"));
    let frags = s.dir.path().join("download").join(&fileid);
    assert!(frags.join(format!("{fileid}-3")).is_file());
    assert!(!frags.join(format!("{fileid}-4")).exists());

    // Refused activation: the flash names the URL.
    let r = c
        .post_form(
            &format!("/packages/{fileid}/activate"),
            &[("info_url", "https://127.0.0.1:9/download")],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = c.get(&location).await;
    assert!(
        page.body
            .contains(&format!("https://127.0.0.1:9/download/{fileid}/info")),
        "{}",
        page.body
    );

    let https = https_files(
        s.dir.path().join("download"),
        &s.dir.path().join("tls").join("cacert.pem"),
    );
    let r = c
        .post_form(
            &format!("/packages/{fileid}/activate"),
            &[
                ("info_url", &format!("https://{https}")),
                ("fragments_url", &format!("{}/download", s.base_url)),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = c.get(&location).await;
    assert!(page.body.contains("class=\"activation\""), "{}", page.body);
    assert_eq!(
        get(&s, &format!("/download/{fileid}/{fileid}-1"), &[])
            .await
            .status(),
        200
    );
    let list = c.get("/packages").await;
    assert!(list.body.contains(&format!("data-fileid=\"{fileid}\"")));

    // A read-only account sees but changes nothing.
    let ro = read_only_user(&s, "viewer", "viewer-password-1").await;
    assert_eq!(ro.get(&location).await.status, 200);
    assert_eq!(ro.get("/packages/new").await.status, 403);
    assert_eq!(
        ro.post_form(
            &format!("/packages/{fileid}/delete"),
            &[("confirm", &fileid)]
        )
        .await
        .status,
        403
    );
    assert_eq!(
        ro.post_form(&format!("/packages/{fileid}/deactivate"), &[])
            .await
            .status,
        403
    );

    // Deactivate, then delete (needs the FILEID typed).
    let r = c
        .post_form(&format!("/packages/{fileid}/deactivate"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        get(&s, &format!("/download/{fileid}/info"), &[])
            .await
            .status(),
        404
    );
    let r = c
        .post_form(
            &format!("/packages/{fileid}/delete"),
            &[("confirm", "nope")],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some(location.as_str()));
    assert!(frags.exists());
    let r = c
        .post_form(
            &format!("/packages/{fileid}/delete"),
            &[("confirm", &fileid)],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/packages"));
    assert!(!frags.exists());
    assert_eq!(c.get(&location).await.status, 404);
}

#[tokio::test]
async fn console_refuses_a_bad_upload_and_keeps_nothing() {
    let s = server(&[("OCS_DEPLOYMENT__MAX_PACKAGE_BYTES", "10000")]);
    let c = Console::sign_in_admin(&s).await;
    let form = reqwest::multipart::Form::new()
        .text("name", "Big")
        .text("os", "linux")
        .text("action", "execute")
        .text("action_param", "true")
        .part(
            "file",
            reqwest::multipart::Part::bytes(archive(20_000)).file_name("big.tgz"),
        );
    let r = c.post_multipart("/packages/new", form).await;
    assert_eq!(r.location.as_deref(), Some("/packages/new"), "{}", r.body);
    let download = s.dir.path().join("download");
    let left: Vec<_> = std::fs::read_dir(&download)
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    assert!(c.get("/packages").await.body.contains("id=\"no-packages\""));
}

#[tokio::test]
async fn api_lists_builds_activates_and_deletes() {
    let s = server(&[]);
    let write = s.token_with_scope("write");
    let read = s.token_with_scope("read");
    let client = reqwest::Client::new();
    let form = || {
        reqwest::multipart::Form::new()
            .text("name", "Api")
            .text("os", "linux")
            .text("action", "execute")
            .text("action_param", "sh run.sh")
            .part(
                "file",
                reqwest::multipart::Part::bytes(archive(3000)).file_name("a.tar.gz"),
            )
    };
    let r = client
        .post(format!("{}/api/v1/packages", s.base_url))
        .bearer_auth(&read)
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = client
        .post(format!("{}/api/v1/packages", s.base_url))
        .bearer_auth(&write)
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    let fileid = created["fileid"].as_str().unwrap().to_owned();

    let (status, list) = s.api("/api/v1/packages", &read).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1);
    let first = &list["items"][0];
    assert_eq!(first["fileid"], fileid.as_str());
    assert_eq!(first["size"], 3000);
    assert!(first["created_by"].as_str().unwrap().starts_with("api:t"));
    let (_, none) = s.api("/api/v1/packages?name=nothing-like-it", &read).await;
    assert_eq!(none["total"], 0);

    let https = https_files(
        s.dir.path().join("download"),
        &s.dir.path().join("tls").join("cacert.pem"),
    );
    let r = client
        .post(format!("{}/api/v1/packages/{fileid}/activate", s.base_url))
        .bearer_auth(&write)
        .json(&serde_json::json!({
            "info_url": format!("https://{https}"),
            "fragments_url": format!("{}/download", s.base_url),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let (status, one) = s.api(&format!("/api/v1/packages/{fileid}"), &read).await;
    assert_eq!(status, 200);
    assert_eq!(one["activation_list"].as_array().unwrap().len(), 1);

    let r = client
        .delete(format!("{}/api/v1/packages/{fileid}", s.base_url))
        .bearer_auth(&write)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, _) = s.api(&format!("/api/v1/packages/{fileid}"), &read).await;
    assert_eq!(status, 404);
}
