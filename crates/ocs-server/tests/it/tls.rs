//! HTTPS: every route on the TLS listener with the generated private CA (an agent's PROLOG
//! verified against `cacert.pem`, which the server also offers at `/cacert.pem`), `Secure`
//! console cookies over HTTPS only, provided certificate files, their reload on SIGHUP, and
//! HTTPS turned off.

use std::path::Path;
use std::time::{Duration, Instant};

use ocs_testkit::{prolog_xml, zlib, TestServer, OCS_UA};

use crate::server;

/// A client that trusts only `ca` and follows no redirect (to see each `Set-Cookie`).
fn client_trusting(ca: &Path) -> reqwest::Client {
    let pem = std::fs::read(ca).unwrap();
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30));
    for cert in reqwest::Certificate::from_pem_bundle(&pem).unwrap() {
        builder = builder.add_root_certificate(cert);
    }
    builder.build().unwrap()
}

async fn prolog(client: &reqwest::Client, base: &str) -> Result<String, reqwest::Error> {
    let reply = client
        .post(format!("{base}/ocsinventory"))
        .header("User-Agent", OCS_UA)
        .header("Content-Type", "application/x-compress")
        .body(zlib(prolog_xml("tls-host-2026-01-01-00-00-00").as_bytes()))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(ocs_testkit::unzlib(&reply).unwrap())
}

#[tokio::test]
async fn prolog_over_https_is_verified_against_the_generated_ca() {
    let s = server(&[]);
    assert!(
        s.https_url().starts_with("https://127.0.0.1:"),
        "{}",
        s.https_url()
    );
    let log = s.log();
    assert!(
        log.contains(&s.ca_path().display().to_string()),
        "the log names cacert.pem: {log}"
    );

    let reply = prolog(&client_trusting(&s.ca_path()), s.https_url())
        .await
        .unwrap();
    assert!(reply.contains("<RESPONSE>SEND</RESPONSE>"), "{reply}");
    // The same routes as over HTTP.
    let health = s.https_request("GET", "/healthz", Vec::new(), &[]).await;
    assert_eq!(health.status, 200);

    // Without the CA the certificate is not trusted.
    let untrusting = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let err = prolog(&untrusting, s.https_url()).await.unwrap_err();
    assert!(err.is_connect() || err.is_request(), "{err:?}");

    // The console offers the CA: the very file agents are told to use.
    let ca = s.request("GET", "/cacert.pem", Vec::new(), &[]).await;
    assert_eq!(ca.status, 200);
    assert_eq!(ca.body, std::fs::read(s.ca_path()).unwrap());
    assert!(ca
        .header("content-disposition")
        .unwrap()
        .contains("cacert.pem"));
    assert!(String::from_utf8_lossy(&ca.body).starts_with("-----BEGIN CERTIFICATE-----"));
}

#[tokio::test]
async fn the_generated_ca_survives_a_restart() {
    let mut s = server(&[]);
    let ca = std::fs::read(s.ca_path()).unwrap();
    s.restart().unwrap();
    assert_eq!(std::fs::read(s.ca_path()).unwrap(), ca);
    prolog(&client_trusting(&s.ca_path()), s.https_url())
        .await
        .unwrap();
}

/// The `Set-Cookie` headers of a sign-in: the form's CSRF cookie, then the session's.
async fn sign_in_cookies(client: &reqwest::Client, base: &str) -> Vec<String> {
    let set_cookies = |r: &reqwest::Response| -> Vec<String> {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    let form = client.get(format!("{base}/login")).send().await.unwrap();
    let mut cookies = set_cookies(&form);
    let csrf = cookies
        .iter()
        .find_map(|c| c.strip_prefix("ocs_login_csrf="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let signed = client
        .post(format!("{base}/login"))
        .header("Cookie", format!("ocs_login_csrf={csrf}"))
        .header("Origin", base)
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "admin"),
            ("password", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    cookies.extend(set_cookies(&signed));
    assert!(
        cookies.iter().any(|c| c.starts_with("ocs_session=")),
        "{cookies:?}"
    );
    cookies
}

#[tokio::test]
async fn console_cookies_are_secure_over_https_only() {
    let s = server(&[]);
    let https = sign_in_cookies(&client_trusting(&s.ca_path()), s.https_url()).await;
    for c in &https {
        assert!(c.contains("; Secure"), "over HTTPS: {c}");
    }
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let http = sign_in_cookies(&plain, &s.base_url).await;
    for c in &http {
        assert!(!c.contains("Secure"), "over HTTP: {c}");
    }
}

/// Waits until the log holds `needle` at least `count` times.
fn wait_for_log(s: &TestServer, needle: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.log().matches(needle).count() < count {
        assert!(Instant::now() < deadline, "no {needle:?} in {}", s.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sighup(s: &TestServer) {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn provided_certificates_are_used_and_reloaded_on_sighup() {
    let work = tempfile::tempdir().unwrap();
    let names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into()];
    // Two certificates from two unrelated CAs, as two renewals from an outside CA would be
    // told apart.
    let a = ocs_server::tls::generate::ensure(&work.path().join("a"), &names).unwrap();
    let b = ocs_server::tls::generate::ensure(&work.path().join("b"), &names).unwrap();
    let ca_a = work.path().join("a/cacert.pem");
    let ca_b = work.path().join("b/cacert.pem");
    let cert = work.path().join("cert.pem");
    let key = work.path().join("key.pem");
    std::fs::copy(&a.cert, &cert).unwrap();
    std::fs::copy(&a.key, &key).unwrap();
    let (cert_env, key_env) = (cert.display().to_string(), key.display().to_string());
    let s = server(&[
        ("OCS_TLS__CERT_FILE", cert_env.as_str()),
        ("OCS_TLS__KEY_FILE", key_env.as_str()),
    ]);
    assert!(s.log().contains(&cert_env), "{}", s.log());
    prolog(&client_trusting(&ca_a), s.https_url())
        .await
        .unwrap();
    assert!(prolog(&client_trusting(&ca_b), s.https_url())
        .await
        .is_err());
    // No CA is generated, and none is offered.
    assert!(!s.ca_path().exists());
    let offered = s.request("GET", "/cacert.pem", Vec::new(), &[]).await;
    assert_eq!(offered.status, 404);

    // A broken replacement: the server keeps its certificate and says why.
    std::fs::write(&cert, "not a certificate").unwrap();
    sighup(&s);
    wait_for_log(&s, "cannot reload the HTTPS certificate", 1);
    prolog(&client_trusting(&ca_a), s.https_url())
        .await
        .unwrap();

    // The renewed certificate is in use from the next connection, without a restart.
    std::fs::copy(&b.cert, &cert).unwrap();
    std::fs::copy(&b.key, &key).unwrap();
    sighup(&s);
    wait_for_log(&s, "reloaded the HTTPS certificate", 1);
    prolog(&client_trusting(&ca_b), s.https_url())
        .await
        .unwrap();
    assert!(prolog(&client_trusting(&ca_a), s.https_url())
        .await
        .is_err());
    // HTTP went on all along.
    assert_eq!(
        s.request("GET", "/healthz", Vec::new(), &[]).await.status,
        200
    );
}

#[tokio::test]
async fn a_bad_certificate_file_stops_the_start_with_its_name() {
    let work = tempfile::tempdir().unwrap();
    let cert = work.path().join("cert.pem");
    let key = work.path().join("key.pem");
    std::fs::write(&cert, "junk").unwrap();
    std::fs::write(&key, "junk").unwrap();
    let (cert_env, key_env) = (cert.display().to_string(), key.display().to_string());
    let started = TestServer::start(
        Path::new(env!("CARGO_BIN_EXE_ocs-server")),
        &[
            ("OCS_TLS__CERT_FILE", cert_env.as_str()),
            ("OCS_TLS__KEY_FILE", key_env.as_str()),
        ],
    );
    let err = format!("{:#}", started.err().expect("refused"));
    assert!(err.contains(&cert_env), "{err}");
}

#[tokio::test]
async fn https_can_be_turned_off() {
    let s = server(&[("OCS_TLS_LISTEN", "off")]);
    assert_eq!(s.https_url(), "");
    assert!(s.log().contains("HTTPS is off"), "{}", s.log());
    assert!(!s.ca_path().exists(), "no CA is made when HTTPS is off");
    assert_eq!(
        s.request("GET", "/healthz", Vec::new(), &[]).await.status,
        200
    );
}
