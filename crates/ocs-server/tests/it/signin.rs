//! Sign-in limits and the second factor over HTTP: concurrent wrong passwords are counted
//! before any is checked, a flood locks out untrusted clients only (a browser with a device
//! cookie still signs in), and TOTP enrolment, the code step, replays, recovery codes, the
//! requirement for every account and an administrator's reset.

use std::collections::HashMap;
use std::sync::Mutex;

use ocs_testkit::TestServer;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::console::{Console, ADMIN_PASSWORD};
use crate::{server, store};

/// A browser: its own cookie jar, no redirect following.
struct Browser {
    base: String,
    client: reqwest::Client,
    jar: Mutex<HashMap<String, String>>,
    /// Sent as `X-Forwarded-For` (the server trusts it when configured to).
    forwarded_for: Option<String>,
}

/// What an answer was.
#[derive(Debug)]
struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Browser {
    fn new(server: &TestServer) -> Browser {
        Browser {
            base: server.base_url.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: Mutex::new(HashMap::new()),
            forwarded_for: None,
        }
    }

    fn from(server: &TestServer, address: &str) -> Browser {
        Browser {
            forwarded_for: Some(address.to_owned()),
            ..Browser::new(server)
        }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    fn forget(&self, name: &str) {
        self.jar.lock().unwrap().remove(name);
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let cookies = self
            .jar
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut req = req.header("Cookie", cookies).header("Origin", &self.base);
        if let Some(a) = &self.forwarded_for {
            req = req.header("X-Forwarded-For", a);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        {
            let mut jar = self.jar.lock().unwrap();
            for v in r.headers().get_all("set-cookie") {
                let v = v.to_str().unwrap();
                let (name, value) = v.split(';').next().unwrap().split_once('=').unwrap();
                if value.is_empty() || v.contains("Max-Age=0") {
                    jar.remove(name);
                } else {
                    jar.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        Answer {
            status,
            location,
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.send(
            self.client
                .post(format!("{}{path}", self.base))
                .form(fields),
        )
        .await
    }

    /// Opens the sign-in form (for its CSRF cookie) unless already done.
    async fn login_csrf(&self) -> String {
        if self.cookie("ocs_login_csrf").is_none() {
            assert_eq!(self.get("/login").await.status, 200);
        }
        self.cookie("ocs_login_csrf").unwrap()
    }

    async fn sign_in(&self, login: &str, password: &str) -> Answer {
        let csrf = self.login_csrf().await;
        self.post(
            "/login",
            &[("csrf", &csrf), ("login", login), ("password", password)],
        )
        .await
    }

    async fn code(&self, code: &str) -> Answer {
        let csrf = self.login_csrf().await;
        self.post("/login/code", &[("csrf", &csrf), ("code", code)])
            .await
    }

    /// The session opened by the last answer, as a console client.
    async fn console(&self, server: &TestServer) -> Console {
        Console::from_session(server, &self.cookie("ocs_session").expect("a session")).await
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The code of a secret at `at` (seconds), as an authenticator app shows it.
fn code_at(secret: &str, at: i64) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes)
        .unwrap()
        .generate(at as u64)
}

/// A six-digit code that is valid at no step near now.
fn wrong_code(secret: &str) -> String {
    let t = now();
    let near: Vec<String> = (-3..=3).map(|k| code_at(secret, t + 30 * k)).collect();
    (0..)
        .map(|n: u32| format!("{:06}", 100_000 + n))
        .find(|c| !near.contains(c))
        .unwrap()
}

fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {body}"))
        + start.len();
    let len = body[from..].find(end).unwrap();
    &body[from..from + len]
}

/// Enrols the console's account; returns the secret and the recovery codes.
async fn enrol(console: &Console) -> (String, Vec<String>) {
    let page = console.get("/account/totp").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let secret = between(&page.body, "id=\"totp-secret\">", "<").to_owned();
    assert!(page.body.contains("<svg "), "QR code shown");
    assert!(page.body.contains("otpauth://totp/"));
    // Reloading keeps the secret the app may already have scanned.
    let again = console.get("/account/totp").await;
    assert_eq!(between(&again.body, "id=\"totp-secret\">", "<"), secret);
    let wrong = console
        .post_form("/account/totp", &[("code", &wrong_code(&secret))])
        .await;
    assert_eq!(wrong.status, 400);
    // A code of the previous step, so that the current one is still unused afterwards.
    let ok = console
        .post_form("/account/totp", &[("code", &code_at(&secret, now() - 30))])
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let codes: Vec<String> = ok
        .body
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{}", ok.body);
    // The secret is never shown again.
    let after = console.get("/account/totp").await;
    assert!(after.body.contains("id=\"totp-status\""));
    assert!(!after.body.contains(&secret));
    (secret, codes)
}

#[tokio::test]
async fn concurrent_wrong_passwords_are_counted_before_any_is_checked() {
    let server = server(&[]);
    let browser = std::sync::Arc::new(Browser::new(&server));
    browser.login_csrf().await;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let b = std::sync::Arc::clone(&browser);
        tasks.push(tokio::spawn(async move {
            b.sign_in("admin", "wrong").await.status
        }));
    }
    let mut statuses = HashMap::new();
    for t in tasks {
        *statuses.entry(t.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(statuses, HashMap::from([(401, 5), (429, 35)]));
    // Exactly five passwords were checked.
    assert_eq!(server.log().matches("console sign-in failed").count(), 5);
    // The right password is refused too while the limit holds.
    let right = Browser::new(&server).sign_in("admin", "admin").await;
    assert_eq!(right.status, 429);
}

#[tokio::test]
async fn a_flood_locks_out_untrusted_clients_but_not_a_trusted_browser() {
    let server = server(&[("OCS_AGENTS__TRUST_FORWARDED_FOR", "true")]);
    // The administrator's usual browser signs in once and so becomes trusted.
    let admin_browser = Browser::from(&server, "192.0.2.10");
    let first = admin_browser.sign_in("admin", "admin").await;
    assert_eq!(first.status, 303);
    let device = admin_browser.cookie("ocs_device").expect("device cookie");
    let admin = admin_browser.console(&server).await;
    let changed = admin
        .post_form(
            "/account/password",
            &[
                ("current", "admin"),
                ("new", ADMIN_PASSWORD),
                ("confirm", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status, 303);
    assert_eq!(
        admin
            .post_form(
                "/admin/users",
                &[
                    ("login", "viewer"),
                    ("password", "viewer-pass-1"),
                    ("role", "user")
                ],
            )
            .await
            .status,
        303
    );
    admin_browser.forget("ocs_session");

    // A flood against admin from many addresses: five passwords are checked, then refused.
    let mut statuses = HashMap::new();
    for i in 0..20 {
        let attacker = Browser::from(&server, &format!("198.51.100.{i}"));
        *statuses
            .entry(attacker.sign_in("admin", "guess").await.status)
            .or_insert(0) += 1;
    }
    assert_eq!(statuses, HashMap::from([(401, 5), (429, 15)]));
    // A browser without the device cookie cannot sign in to admin, even with the password...
    let stranger = Browser::from(&server, "192.0.2.10");
    assert_eq!(stranger.sign_in("admin", ADMIN_PASSWORD).await.status, 429);
    // ...but the trusted browser can, and keeps its device cookie.
    let ok = admin_browser.sign_in("admin", ADMIN_PASSWORD).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location.as_deref(), Some("/"));
    assert_eq!(
        admin_browser.cookie("ocs_device").as_deref(),
        Some(&*device)
    );
    admin_browser.forget("ocs_session");
    // Other accounts are not locked.
    assert_eq!(
        Browser::from(&server, "203.0.113.1")
            .sign_in("viewer", "viewer-pass-1")
            .await
            .status,
        303
    );

    // Behind a proxy everyone shares one address: a flood from it locks out untrusted
    // clients there, not the trusted browser.
    for i in 0..31 {
        Browser::from(&server, "192.0.2.99")
            .sign_in(&format!("nobody{i}"), "guess")
            .await;
    }
    assert_eq!(
        Browser::from(&server, "192.0.2.99")
            .sign_in("viewer", "viewer-pass-1")
            .await
            .status,
        429
    );
    let behind_proxy = Browser::from(&server, "192.0.2.99");
    behind_proxy
        .jar
        .lock()
        .unwrap()
        .insert("ocs_device".into(), device.clone());
    assert_eq!(
        behind_proxy.sign_in("admin", ADMIN_PASSWORD).await.status,
        303
    );

    // A device cookie that keeps failing is revoked: it then counts as untrusted.
    let stolen = Browser::from(&server, "203.0.113.2");
    stolen
        .jar
        .lock()
        .unwrap()
        .insert("ocs_device".into(), device.clone());
    for _ in 0..5 {
        assert_eq!(stolen.sign_in("admin", "guess").await.status, 401);
    }
    assert_eq!(stolen.sign_in("admin", "guess").await.status, 429);
    assert_eq!(
        admin_browser.sign_in("admin", ADMIN_PASSWORD).await.status,
        429
    );
    assert!(server
        .log()
        .contains("console device revoked after failures"));
}

#[tokio::test]
async fn totp_enrolment_code_step_replay_recovery_and_disabling() {
    let server = server(&[]);
    let admin = Console::sign_in_admin(&server).await;
    let (secret, recovery) = enrol(&admin).await;

    // The password alone opens no session: the code step follows.
    let b = Browser::new(&server);
    let step1 = b.sign_in("admin", ADMIN_PASSWORD).await;
    assert_eq!(step1.status, 303);
    assert_eq!(step1.location.as_deref(), Some("/login/code"));
    assert!(b.cookie("ocs_session").is_none());
    assert_eq!(
        b.get("/computers").await.location.as_deref(),
        Some("/login")
    );
    let form = b.get("/login/code").await;
    assert!(form.body.contains("id=\"code-form\""));
    assert_eq!(b.code(&wrong_code(&secret)).await.status, 401);
    let code = code_at(&secret, now());
    let ok = b.code(&code).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location.as_deref(), Some("/"));
    assert_eq!(b.get("/computers").await.status, 200);

    // The same code cannot be used again, even from another browser.
    let replay = Browser::new(&server);
    assert_eq!(replay.sign_in("admin", ADMIN_PASSWORD).await.status, 303);
    assert_eq!(replay.code(&code).await.status, 401);
    // A recovery code works, once.
    let used = replay.code(&recovery[0].to_uppercase()).await;
    assert_eq!(used.status, 303, "{}", used.body);
    let again = Browser::new(&server);
    assert_eq!(again.sign_in("admin", ADMIN_PASSWORD).await.status, 303);
    assert_eq!(again.code(&recovery[0]).await.status, 401);
    // The next step's code is still good (one step of drift).
    assert_eq!(again.code(&code_at(&secret, now() + 30)).await.status, 303);
    let status = admin.get("/account/totp").await;
    assert!(
        status.body.contains("Recovery codes left: 9."),
        "{}",
        status.body
    );

    // Without a pending sign-in the code step sends back to the form.
    let lost = Browser::new(&server);
    lost.login_csrf().await;
    assert_eq!(
        lost.code("123456").await.location.as_deref(),
        Some("/login")
    );

    // Disabling needs a current code or the password.
    let refused = admin
        .post_form("/account/totp/disable", &[("proof", "not-the-password")])
        .await;
    assert_eq!(refused.status, 303);
    assert!(admin
        .get("/account/totp")
        .await
        .body
        .contains("id=\"totp-status\""));
    let off = admin
        .post_form("/account/totp/disable", &[("proof", ADMIN_PASSWORD)])
        .await;
    assert_eq!(off.status, 303);
    assert!(admin
        .get("/account/totp")
        .await
        .body
        .contains("id=\"totp-secret\""));
    let plain = Browser::new(&server).sign_in("admin", ADMIN_PASSWORD).await;
    assert_eq!(plain.location.as_deref(), Some("/"));
}

#[tokio::test]
async fn the_code_step_is_rate_limited_and_not_reset_by_the_password() {
    let server = server(&[]);
    let admin = Console::sign_in_admin(&server).await;
    let (secret, _) = enrol(&admin).await;
    let b = Browser::new(&server);
    let wrong = wrong_code(&secret);
    assert_eq!(b.sign_in("admin", ADMIN_PASSWORD).await.status, 303);
    for _ in 0..3 {
        assert_eq!(b.code(&wrong).await.status, 401);
    }
    // Signing in again with the right password does not buy more guesses.
    assert_eq!(b.sign_in("admin", ADMIN_PASSWORD).await.status, 303);
    for _ in 0..2 {
        assert_eq!(b.code(&wrong).await.status, 401);
    }
    // Five wrong codes were tried: the right one is now refused as well.
    assert_eq!(b.code(&code_at(&secret, now())).await.status, 429);
    assert!(server.log().contains("too many failures"));
}

#[tokio::test]
async fn a_second_factor_can_be_required_for_everyone_and_reset_by_an_administrator() {
    let server = server(&[]);
    let admin = Console::sign_in_admin(&server).await;
    assert_eq!(
        admin
            .post_form(
                "/admin/users",
                &[
                    ("login", "bob"),
                    ("password", "bob-password"),
                    ("role", "user")
                ],
            )
            .await
            .status,
        303
    );
    let users = admin.get("/admin/users").await;
    assert!(users.body.contains("id=\"second-factor-setting\""));
    assert!(!users.body.contains("value=\"1\" checked"));
    let on = admin
        .post_form("/admin/users/second-factor", &[("require", "1")])
        .await;
    assert_eq!(on.status, 303);
    // From now on, an account without a second factor can only enrol.
    assert_eq!(
        admin.get("/admin/users").await.location.as_deref(),
        Some("/account/totp")
    );
    let forced = admin.get("/account/totp").await;
    assert!(forced.body.contains("id=\"totp-forced\""));
    enrol(&admin).await;
    let users = admin.get("/admin/users").await;
    assert_eq!(users.status, 200);
    assert!(users.body.contains("value=\"1\" checked"));

    // Bob signs in with his password and is sent to enrolment.
    let bob = Console::sign_in(&server, "bob", "bob-password").await;
    assert_eq!(
        bob.get("/computers").await.location.as_deref(),
        Some("/account/totp")
    );
    // A read-only account cannot change the requirement.
    assert_eq!(
        bob.post_form("/admin/users/second-factor", &[])
            .await
            .status,
        303,
        "not enrolled: sent to enrolment first"
    );
    let (bob_secret, _) = enrol(&bob).await;
    assert_eq!(bob.get("/computers").await.status, 200);
    assert_eq!(
        bob.post_form("/admin/users/second-factor", &[])
            .await
            .status,
        403
    );
    // Bob's next sign-in asks for his code.
    let b = Browser::new(&server);
    assert_eq!(
        b.sign_in("bob", "bob-password").await.location.as_deref(),
        Some("/login/code")
    );
    assert_eq!(b.code(&code_at(&bob_secret, now())).await.status, 303);

    // Bob lost his phone: the administrator resets his second factor.
    let bob_id = store(&server)
        .await
        .find_user("bob")
        .await
        .unwrap()
        .unwrap()
        .id;
    let users = admin.get("/admin/users").await;
    assert!(users
        .body
        .contains(&format!("action=\"/admin/users/{bob_id}/totp-reset\"")));
    let reset = admin
        .post_form(&format!("/admin/users/{bob_id}/totp-reset"), &[])
        .await;
    assert_eq!(reset.status, 303);
    assert_eq!(
        bob.get("/computers").await.location.as_deref(),
        Some("/account/totp")
    );
    let b = Browser::new(&server);
    assert_eq!(
        b.sign_in("bob", "bob-password").await.location.as_deref(),
        Some("/")
    );
    // The administrator cannot reset their own here.
    let me = store(&server)
        .await
        .find_user("admin")
        .await
        .unwrap()
        .unwrap()
        .id;
    admin
        .post_form(&format!("/admin/users/{me}/totp-reset"), &[])
        .await;
    assert!(admin
        .get("/account/totp")
        .await
        .body
        .contains("id=\"totp-status\""));

    // Turning the requirement off lets Bob in without one.
    let off = admin.post_form("/admin/users/second-factor", &[]).await;
    assert_eq!(off.status, 303);
    assert_eq!(bob.get("/computers").await.status, 200);
    let fr = admin.get("/admin/users").await;
    assert!(!fr.body.contains("value=\"1\" checked"));
}
