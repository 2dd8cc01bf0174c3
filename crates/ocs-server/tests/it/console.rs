//! Console handler tests over HTTP: sign-in, sessions, CSRF and Origin refusals, roles, the
//! lists, search, TAG repartition, the computer page and its two editable blocks. Also
//! home of [`Console`], the signed-in client other console test modules use.

use ocs_testkit::{fixture, zlib, TestServer};

use crate::{host_id, server, store};

/// Password the default admin is given by [`Console::sign_in_admin`].
pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// An HTTP client holding one console session (cookie and CSRF token).
pub struct Console {
    base: String,
    client: reqwest::Client,
    cookies: std::sync::Mutex<Vec<(String, String)>>,
    csrf: String,
}

/// What a console request answered.
#[derive(Debug)]
pub struct Page {
    /// Status code.
    pub status: u16,
    /// `Location` of a redirect.
    pub location: Option<String>,
    /// Body as text.
    pub body: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Page {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let location = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone());
    Page {
        status,
        location,
        body: response.text().await.unwrap_or_default(),
        headers,
    }
}

/// The value of `name="csrf"` in a page.
pub fn csrf_of(body: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker).expect("page has a CSRF field") + marker.len();
    body[start..start + 64].to_owned()
}

fn set_cookie(page: &Page, name: &str) -> Option<String> {
    page.headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .filter_map(|(_, v)| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

impl Console {
    /// Signs in; panics unless the server accepts the credentials.
    pub async fn sign_in(server: &TestServer, login: &str, password: &str) -> Console {
        let (console, page) = Console::try_sign_in(server, login, password).await;
        assert_eq!(
            page.status, 303,
            "sign-in of {login} refused: {}",
            page.body
        );
        console.expect("session cookie")
    }

    /// Tries to sign in; returns the session if one was opened, and the answer.
    pub async fn try_sign_in(
        server: &TestServer,
        login: &str,
        password: &str,
    ) -> (Option<Console>, Page) {
        let client = client();
        let form = page(
            client
                .get(format!("{}/login", server.base_url))
                .send()
                .await
                .unwrap(),
        )
        .await;
        let login_csrf = set_cookie(&form, "ocs_login_csrf").expect("login CSRF cookie");
        let answer = page(
            client
                .post(format!("{}/login", server.base_url))
                .header("Cookie", format!("ocs_login_csrf={login_csrf}"))
                .header("Origin", &server.base_url)
                .form(&[
                    ("csrf", login_csrf.as_str()),
                    ("login", login),
                    ("password", password),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        let Some(session) = set_cookie(&answer, "ocs_session") else {
            return (None, answer);
        };
        (Some(Console::from_session(server, &session).await), answer)
    }

    /// A client holding a session opened elsewhere (e.g. after a second-factor step).
    pub async fn from_session(server: &TestServer, session: &str) -> Console {
        let mut console = Console {
            base: server.base_url.clone(),
            client: client(),
            cookies: std::sync::Mutex::new(vec![("ocs_session".to_owned(), session.to_owned())]),
            csrf: String::new(),
        };
        let account = console.get("/account/password").await;
        console.csrf = csrf_of(&account.body);
        console
    }

    /// Signs in as the default `admin`/`admin` and picks [`ADMIN_PASSWORD`], as the first
    /// sign-in requires.
    pub async fn sign_in_admin(server: &TestServer) -> Console {
        let (console, first) = Console::try_sign_in(server, "admin", "admin").await;
        let console = match console {
            Some(c) => {
                assert_eq!(first.location.as_deref(), Some("/account/password"));
                let changed = c
                    .post_form(
                        "/account/password",
                        &[
                            ("current", "admin"),
                            ("new", ADMIN_PASSWORD),
                            ("confirm", ADMIN_PASSWORD),
                        ],
                    )
                    .await;
                assert_eq!(changed.status, 303, "{}", changed.body);
                c
            }
            // Already changed by an earlier test on this server.
            None => Console::sign_in(server, "admin", ADMIN_PASSWORD).await,
        };
        console
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps the cookies a response sets (the session, flash messages), as a browser does.
    fn remember(&self, page: Page) -> Page {
        let mut jar = self.cookies.lock().unwrap();
        for (_, v) in page.headers.iter().filter(|(k, _)| k == "set-cookie") {
            let Some((name, value)) = v.split(';').next().and_then(|kv| kv.split_once('=')) else {
                continue;
            };
            jar.retain(|(k, _)| k != name);
            if !value.is_empty() && !v.contains("Max-Age=0") {
                jar.push((name.to_owned(), value.to_owned()));
            }
        }
        page
    }

    /// The session's CSRF token.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// GET with the session.
    pub async fn get(&self, path: &str) -> Page {
        self.remember(
            page(
                self.client
                    .get(format!("{}{path}", self.base))
                    .header("Cookie", self.cookie_header())
                    .send()
                    .await
                    .unwrap(),
            )
            .await,
        )
    }

    /// GET as htmx does.
    pub async fn get_hx(&self, path: &str) -> Page {
        self.remember(
            page(
                self.client
                    .get(format!("{}{path}", self.base))
                    .header("Cookie", self.cookie_header())
                    .header("HX-Request", "true")
                    .send()
                    .await
                    .unwrap(),
            )
            .await,
        )
    }

    /// POSTs a form with the session's CSRF token and a same-site Origin.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, Some(&self.base)).await
    }

    /// POSTs a form exactly as given (no token added), with an optional Origin.
    pub async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Page {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .form(fields);
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        self.remember(page(req.send().await.unwrap()).await)
    }

    /// POSTs a multipart body (the token goes in the query string, as the upload form does).
    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Page {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.remember(
            page(
                self.client
                    .post(format!("{}{path}{sep}csrf={}", self.base, self.csrf))
                    .header("Cookie", self.cookie_header())
                    .header("Origin", &self.base)
                    .multipart(form)
                    .send()
                    .await
                    .unwrap(),
            )
            .await,
        )
    }
}

/// Creates a read-only account through the storage layer (the users page has its own tests).
pub async fn read_only_user(server: &TestServer, login: &str, password: &str) -> Console {
    let hash = {
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string()
    };
    store(server)
        .await
        .insert_user(login, &hash, "user", false, 0)
        .await
        .unwrap();
    Console::sign_in(server, login, password).await
}

/// Stores the real agent capture (`ocs-agent`) and returns its DEVICEID's computer ID.
pub async fn import_real_agent(server: &TestServer) -> i64 {
    let xml = String::from_utf8(fixture("ocs-agent/02-INVENTORY-request.xml")).unwrap();
    let answer = server
        .post(zlib(xml.as_bytes()), "OCS-NG_unified_unix_agent_v2.10.0")
        .await;
    assert_eq!(answer.status, 200, "{}", server.log());
    let deviceid = xml
        .split("<DEVICEID>")
        .nth(1)
        .and_then(|r| r.split("</DEVICEID>").next())
        .unwrap()
        .to_owned();
    host_id(server, &deviceid).await.0
}

#[tokio::test]
async fn first_sign_in_forces_a_password_change_and_sessions_work() {
    let server = server(&[]);
    // Not signed in: every page sends to the sign-in form.
    let anon = client();
    for path in ["/", "/computers", "/search", "/tags", "/computers/1"] {
        let p = page(
            anon.get(format!("{}{path}", server.base_url))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(p.status, 303, "{path}");
        assert_eq!(p.location.as_deref(), Some("/login"), "{path}");
    }
    let legacy = page(
        anon.get(format!("{}/ocsreports/index.php", server.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (legacy.status, legacy.location.as_deref()),
        (308, Some("/"))
    );

    // Wrong password.
    let (none, refused) = Console::try_sign_in(&server, "admin", "nope").await;
    assert!(none.is_none());
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("Wrong login or password"));

    // First sign-in: everything leads to the password form until it is changed.
    let (console, first) = Console::try_sign_in(&server, "admin", "admin").await;
    let console = console.unwrap();
    assert_eq!(first.location.as_deref(), Some("/account/password"));
    let blocked = console.get("/computers").await;
    assert_eq!(blocked.location.as_deref(), Some("/account/password"));
    let weak = console
        .post_form(
            "/account/password",
            &[("current", "admin"), ("new", "short"), ("confirm", "short")],
        )
        .await;
    assert_eq!(weak.status, 400);
    assert!(weak.body.contains("at least 8 characters"), "{}", weak.body);
    let changed = console
        .post_form(
            "/account/password",
            &[
                ("current", "admin"),
                ("new", ADMIN_PASSWORD),
                ("confirm", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.location.as_deref(), Some("/"));
    let list = console.get("/computers").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Password changed."));
    let csp = list.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    // The old password no longer works; the session is stored in the database.
    assert!(Console::try_sign_in(&server, "admin", "admin")
        .await
        .0
        .is_none());
    assert!(store(&server).await.count_sessions().await.unwrap() >= 1);

    // Sign-out closes the session server-side.
    let out = console.post_form("/logout", &[]).await;
    assert_eq!(out.location.as_deref(), Some("/login"));
    assert_eq!(
        console.get("/computers").await.location.as_deref(),
        Some("/login")
    );
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_account_and_address() {
    let server = server(&[]);
    for _ in 0..5 {
        let (_, p) = Console::try_sign_in(&server, "admin", "wrong").await;
        assert_eq!(p.status, 401);
    }
    // Even the right password is refused while the limit holds.
    let (none, limited) = Console::try_sign_in(&server, "admin", "admin").await;
    assert!(none.is_none());
    assert_eq!(limited.status, 429);
    assert!(limited.body.contains("Too many failed attempts"));
    assert!(server.log().contains("too many failures"));
}

#[tokio::test]
async fn state_changes_need_the_csrf_token_and_a_same_site_origin() {
    let server = server(&[]);
    let console = Console::sign_in_admin(&server).await;
    let id = import_real_agent(&server).await;
    let path = format!("/computers/{id}/admin-data");
    let no_token = console
        .post_raw(&path, &[("TAG", "EVIL")], Some(&server.base_url))
        .await;
    assert_eq!(no_token.status, 403);
    let wrong_token = console
        .post_raw(
            &path,
            &[("csrf", &"0".repeat(64)), ("TAG", "EVIL")],
            Some(&server.base_url),
        )
        .await;
    assert_eq!(wrong_token.status, 403);
    let foreign = console
        .post_raw(
            &path,
            &[("csrf", console.csrf()), ("TAG", "EVIL")],
            Some("http://evil.example"),
        )
        .await;
    assert_eq!(foreign.status, 403);
    let no_origin = console
        .post_raw(&path, &[("csrf", console.csrf()), ("TAG", "EVIL")], None)
        .await;
    assert_eq!(no_origin.status, 403);
    let stored = store(&server)
        .await
        .accountinfo_of(ocs_storage::HostId(id))
        .await
        .unwrap();
    assert_ne!(stored[0].1.as_deref(), Some("EVIL"));
    assert!(server.log().contains("bad CSRF token"));
    assert!(server.log().contains("cross-origin"));
    // With both, it goes through.
    let ok = console.post_form(&path, &[("TAG", "PARIS")]).await;
    assert_eq!(ok.status, 303);
    let stored = store(&server)
        .await
        .accountinfo_of(ocs_storage::HostId(id))
        .await
        .unwrap();
    assert_eq!(stored[0].1.as_deref(), Some("PARIS"));
}

#[tokio::test]
async fn read_only_users_can_look_but_not_change() {
    let server = server(&[]);
    Console::sign_in_admin(&server).await;
    let id = import_real_agent(&server).await;
    let viewer = read_only_user(&server, "viewer", "viewer-password").await;
    for path in [
        "/computers",
        "/search",
        "/tags",
        &format!("/computers/{id}"),
        "/account",
    ] {
        assert_eq!(viewer.get(path).await.status, 200, "{path}");
    }
    let detail = viewer.get(&format!("/computers/{id}")).await.body;
    assert!(!detail.contains("admin-data-submit") && !detail.contains("customisation-submit"));
    assert!(!detail.contains("href=\"/admin/options\""));
    for (path, fields) in [
        (format!("/computers/{id}/admin-data"), vec![("TAG", "X")]),
        (
            format!("/computers/{id}/customisation"),
            vec![("FREQUENCY", "0")],
        ),
    ] {
        let p = viewer.post_form(&path, &fields).await;
        assert_eq!(p.status, 403, "{path}");
    }
    let settings = store(&server)
        .await
        .device_settings(ocs_storage::HostId(id))
        .await
        .unwrap();
    assert!(settings.is_empty());
    // Their own password and language are theirs to change.
    let lang = viewer
        .post_form("/account/language", &[("language", "fr")])
        .await;
    assert_eq!(lang.status, 303);
    assert!(viewer
        .get("/computers")
        .await
        .body
        .contains("Tous les ordinateurs"));
}

#[tokio::test]
async fn computers_list_sorts_pages_chooses_columns_and_exports_csv() {
    let server = server(&[]);
    let console = Console::sign_in_admin(&server).await;
    for i in 0..30 {
        let deviceid = format!("pc-{i:02}-2024-01-01-00-00-00");
        let content = format!(
            "<HARDWARE><NAME>pc-{i:02}</NAME><OSNAME>{}</OSNAME><MEMORY>{}</MEMORY></HARDWARE>",
            if i % 2 == 0 { "Debian" } else { "Windows" },
            1024 * (i + 1)
        );
        let a = server
            .send(&ocs_testkit::inventory_xml(&deviceid, &content))
            .await;
        assert_eq!(a.status, 200);
    }
    let list = console.get("/computers?sort=memory&dir=desc").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("30 computers"));
    let first = list.body.find("pc-29").unwrap();
    let second = list.body.find("pc-28").unwrap();
    assert!(first < second, "sorted by memory, descending");
    // Page size and columns are saved for the account.
    let saved = console
        .post_form(
            "/computers/view",
            &[
                ("col", "name"),
                ("col", "memory"),
                ("col", "deviceid"),
                ("per_page", "10"),
                ("return_to", "/computers"),
            ],
        )
        .await;
    assert_eq!(saved.location.as_deref(), Some("/computers"));
    let again = Console::sign_in(&server, "admin", ADMIN_PASSWORD).await;
    let list = again.get("/computers").await.body;
    assert!(list.contains("data-col=\"deviceid\""));
    assert!(!list.contains("data-col=\"os\""));
    assert!(list.contains("Page 1 of 3"));
    assert!(
        list.contains("aria-sort=\"descending\""),
        "the sort was kept"
    );
    // Unknown columns and sorts are refused, not pasted into SQL.
    assert_eq!(
        again
            .get("/computers?sort=name;DROP%20TABLE%20hardware")
            .await
            .status,
        400
    );
    let bad = again
        .post_form(
            "/computers/view",
            &[("col", "h.name) --"), ("return_to", "/computers")],
        )
        .await;
    assert_eq!(bad.status, 303);
    assert!(again.get("/computers").await.body.contains("flash-error"));
    // CSV: the whole result, not the page.
    let csv = again.get("/computers.csv?f0=os&o0=equal&v0=debian").await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(csv.body.lines().count(), 1 + 15);
    assert!(csv.body.lines().next().unwrap().contains("DEVICEID"));
    // htmx gets the fragment.
    let hx = again.get_hx("/computers?page=2").await;
    assert!(!hx.body.contains("<html") && hx.body.contains("id=\"computers\""));
    assert_eq!(hx.header("hx-push-url"), Some("/computers?page=2"));
}

#[tokio::test]
async fn computer_page_shows_sections_and_edits_admin_data_and_customisation() {
    let server = server(&[]);
    let console = Console::sign_in_admin(&server).await;
    let id = import_real_agent(&server).await;
    let page = console.get(&format!("/computers/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"banner\""));
    for section in ["softwares", "networks", "cpus", "storages"] {
        assert!(
            page.body.contains(&format!("data-section=\"{section}\"")),
            "{section}"
        );
    }
    let all = console
        .get(&format!("/computers/{id}?section=all"))
        .await
        .body;
    assert!(all.contains("id=\"sec-softwares\"") && all.contains("id=\"sec-networks\""));
    let print = console.get(&format!("/computers/{id}?print=1")).await.body;
    assert!(print.contains("class=\"print\"") && !print.contains("id=\"logout-form\""));
    assert_eq!(console.get("/computers/999999").await.status, 404);

    // Customisation reaches the next PROLOG.
    server.set_option("FREQUENCY", "30");
    let saved = console
        .post_form(
            &format!("/computers/{id}/customisation"),
            &[
                ("FREQUENCY", "0"),
                ("IPDISCOVER", "2"),
                ("DOWNLOAD_SWITCH", "0"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let list = console.get("/computers").await.body;
    assert!(list.contains("class=\"customised\""));
    let deviceid = store(&server)
        .await
        .get_host(ocs_storage::HostId(id))
        .await
        .unwrap()
        .summary
        .deviceid;
    let reply = server.send(&ocs_testkit::prolog_xml(&deviceid)).await;
    let shape = crate::shape(&reply.xml());
    assert_eq!(
        shape.scalars.get("RESPONSE").map(String::as_str),
        Some("SEND")
    );
    assert_eq!(shape.options["DOWNLOAD"][0]["ON"], "0");
    // Forced IpDiscover: the computer is told to scan the network of its main address.
    let scan = &shape.options["IPDISCOVER"][0]["#text"];
    assert!(scan.ends_with(".0"), "{scan}");
    let bad = console
        .post_form(
            &format!("/computers/{id}/customisation"),
            &[("FREQUENCY", "9999")],
        )
        .await;
    assert_eq!(bad.status, 303);
    assert!(console
        .get(&format!("/computers/{id}"))
        .await
        .body
        .contains("flash-error"));
}

#[tokio::test]
async fn search_tags_and_escaping() {
    let server = server(&[]);
    let console = Console::sign_in_admin(&server).await;
    let soft =
        |name: &str| format!("<SOFTWARES><NAME>{name}</NAME><VERSION>1</VERSION></SOFTWARES>");
    let payload = "&lt;script&gt;alert(1)&lt;/script&gt;";
    for (i, (tag, softs, os)) in [
        ("PARIS", vec!["Firefox", "LibreOffice"], "Debian"),
        ("PARIS", vec!["Firefox"], "Debian"),
        ("LYON", vec!["Firefox", "LibreOffice"], "Windows"),
        (payload, vec!["Firefox", "LibreOffice"], "Debian"),
    ]
    .iter()
    .enumerate()
    {
        let deviceid = format!("s{i}-2024-01-01-00-00-00");
        let content = format!(
            "<HARDWARE><NAME>s{i}{}</NAME><OSNAME>{os}</OSNAME></HARDWARE><ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{tag}</KEYVALUE></ACCOUNTINFO>{}",
            if i == 3 { payload } else { "" },
            softs.iter().map(|s| soft(s)).collect::<String>()
        );
        assert_eq!(
            server
                .send(&ocs_testkit::inventory_xml(&deviceid, &content))
                .await
                .status,
            200
        );
    }
    let q = "/search?f0=software&o0=equal&v0=firefox&f1=software&o1=equal&v1=libre*&f2=os&o2=equal&v2=debian";
    let found = console.get(q).await.body;
    assert!(found.contains("2 computers"), "{found}");
    assert!(found.contains(">s0<") && !found.contains(">s1<") && !found.contains(">s2<"));
    // The payload is shown as text everywhere.
    assert!(!found.contains("<script>alert(1)"));
    assert!(
        found.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{found}"
    );
    let different = console
        .get("/search?f0=software&o0=different&v0=libreoffice")
        .await
        .body;
    assert!(different.contains("1 computer<") && different.contains(">s1<"));
    let bad = console.get("/search?f0=memory&o0=bigger&v0=lots").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("not a whole number"));
    assert_eq!(
        console.get("/search?f0=h.name&o0=equal&v0=x").await.status,
        400
    );
    let add = console
        .get("/search?f0=software&o0=equal&v0=x&add=1")
        .await
        .body;
    assert!(add.contains("name=\"f1\""));

    let tags = console.get("/tags").await.body;
    assert!(tags.contains("id=\"tag-chart\""));
    assert!(tags.contains("<td class=\"tag\">PARIS</td>"));
    assert!(
        tags.contains("href=\"/search?f0=tag&#38;o0=equal&#38;v0=PARIS\">2</a>"),
        "{tags}"
    );
    assert!(!tags.contains("<script>alert"));
    let id = host_id(&server, "s3-2024-01-01-00-00-00").await.0;
    let detail = console
        .get(&format!("/computers/{id}?section=all"))
        .await
        .body;
    assert!(!detail.contains("<script>alert"));
}
