//! Console fixtures: a small organisation tree with one user per role, and a browser-like
//! HTTP client that keeps cookies, follows no redirects and posts forms with the CSRF token
//! it read off the page, as a browser would.

use std::collections::HashMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use super::{Api, TestCharger, TestServer, boot_payload, status_payload};

/// Password of every fixture user.
pub const PASSWORD: &str = "console-test-password-1";
/// Password of the fixture chargers.
pub const CHARGER_PASSWORD: &str = "console-charger-pass-1";

/// Root(1) ── A ── CP-A (private site), CP-A-HOME (home site)
///        └── B ── CP-B
/// and the users `op`, `sup`, `eng`, `fac`, `flt`, each with its role on A.
pub struct World {
    pub a: i64,
    pub b: i64,
    /// A's private site (CP-A), A's home site (CP-A-HOME), B's site (CP-B).
    pub site_a: i64,
    pub home_a: i64,
    pub site_b: i64,
}

/// The fixture users: (name, role on A).
pub const USERS: [(&str, &str); 5] = [
    ("op", "operator"),
    ("sup", "support"),
    ("eng", "maintenance"),
    ("fac", "facility_manager"),
    ("flt", "fleet_manager"),
];

/// Builds the tree, the chargers and the users.
pub async fn world(admin: &Api) -> World {
    let a = admin
        .create("/organisations", json!({"name": "Depot A", "parent_id": 1}))
        .await;
    let b = admin
        .create("/organisations", json!({"name": "Depot B", "parent_id": 1}))
        .await;
    let site_a = admin
        .create(
            "/sites",
            json!({"organisation_id": a, "name": "A yard", "kind": "private"}),
        )
        .await;
    let home_a = admin
        .create(
            "/sites",
            json!({"organisation_id": a, "name": "A home", "kind": "home"}),
        )
        .await;
    let site_b = admin
        .create(
            "/sites",
            json!({"organisation_id": b, "name": "B yard", "kind": "private"}),
        )
        .await;
    for (id, org, site) in [("CP-A", a, site_a), ("CP-A-HOME", a, home_a), ("CP-B", b, site_b)] {
        let (status, body) = admin
            .post(
                "/chargers",
                json!({"id": id, "organisation_id": org, "site_id": site, "password": CHARGER_PASSWORD}),
            )
            .await;
        assert_eq!(status, 201, "charger {id}: {body}");
    }
    for (name, role) in USERS {
        let id = admin
            .create(
                "/users",
                json!({"username": name, "password": PASSWORD, "organisation_id": a}),
            )
            .await;
        let (status, body) = admin
            .put(
                &format!("/users/{id}/memberships"),
                json!([{"organisation_id": a, "role": role}]),
            )
            .await;
        assert_eq!(status, 200, "memberships of {name}: {body}");
    }
    World {
        a,
        b,
        site_a,
        home_a,
        site_b,
    }
}

/// Connects a 1.6 charger, boots it and reports its connector 1 as `status`.
pub async fn online_charger(t: &TestServer, id: &str, status: &str) -> TestCharger {
    let mut cp = t.charger(id, "1.6", CHARGER_PASSWORD).await;
    assert_eq!(
        cp.call_ok("BootNotification", boot_payload("1.6")).await["status"],
        "Accepted"
    );
    cp.call_ok("StatusNotification", status_payload("1.6", status)).await;
    cp
}

/// A 1.6 session on connector 1 with `id_tag`, started and stopped now.
pub async fn charge_now(cp: &mut TestCharger, id_tag: &str, meter_start: i64, meter_stop: i64) {
    let now = chrono::Utc::now().to_rfc3339();
    let start = json!({"connectorId": 1, "idTag": id_tag, "meterStart": meter_start, "timestamp": now});
    let tx = cp.call_ok("StartTransaction", start).await["transactionId"].clone();
    let stop = json!({"transactionId": tx, "meterStop": meter_stop, "timestamp": now});
    cp.call_ok("StopTransaction", stop).await;
}

/// Answers every CALL the charger receives with `{"status": "Accepted"}`, in the background.
pub fn accept_everything(mut cp: TestCharger) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // No frame timeout here: the charger may sit idle while the test works elsewhere.
        use futures_util::StreamExt;
        while let Some(Ok(msg)) = cp.ws.next().await {
            let Ok(text) = msg.to_text() else { continue };
            let Ok(call) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            if call[0] == json!(2) {
                cp.send_raw(&json!([3, call[1], {"status": "Accepted"}]).to_string())
                    .await;
            }
        }
    })
}

/// A page as the console client got it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    /// Where a redirect points.
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> Option<String> {
        csrf_in(&self.body)
    }

    /// Whether the main menu links to `href`.
    pub fn menu_has(&self, href: &str) -> bool {
        let Some(nav) = self.body.find("<nav aria-label=\"Main\">") else {
            return false;
        };
        let end = self.body[nav..].find("</nav>").map_or(self.body.len(), |e| nav + e);
        self.body[nav..end].contains(&format!("href=\"{href}\""))
    }
}

/// The value of the first hidden `csrf` field of an HTML page.
pub fn csrf_in(html: &str) -> Option<String> {
    const FIELD: &str = "name=\"csrf\" value=\"";
    let at = html.find(FIELD)? + FIELD.len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_owned())
}

/// A browser-like client of the console.
pub struct Console {
    client: reqwest::Client,
    base: String,
    pub cookies: HashMap<String, String>,
    /// The CSRF token of the signed-in session, read off a page.
    pub csrf: String,
}

impl Console {
    /// A client with no cookies.
    pub fn new(t: &TestServer) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: format!("http://{}", t.server().api_addr),
            cookies: HashMap::new(),
            csrf: String::new(),
        }
    }

    /// Logs in through the form; panics unless it lands on the dashboard.
    pub async fn login(t: &TestServer, username: &str, password: &str) -> Self {
        let mut c = Self::new(t);
        let form = c.get("/login").await;
        let csrf = form.csrf().expect("the login form has a csrf field");
        let done = c
            .post_raw(
                "/login",
                &[("csrf", &csrf), ("username", username), ("password", password)],
            )
            .await;
        assert_eq!(
            (done.status, done.location.as_deref()),
            (303, Some("/")),
            "login {username}: {}",
            done.body
        );
        let home = c.get("/").await;
        assert_eq!(home.status, 200, "dashboard of {username}");
        c.csrf = home.csrf().expect("pages carry the csrf token");
        c
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, response: reqwest::Response) -> Page {
        for set in response.headers().get_all(SET_COOKIE) {
            let set = set.to_str().expect("ascii cookie");
            let pair = set.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || set.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.expect("body");
        Page { status, location, body }
    }

    /// `GET path`, with the cookies.
    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.finish(response).await
    }

    /// Opens the live stream (`GET /live`) with the cookies; the answer's body is the stream.
    pub async fn live(&self) -> LiveStream {
        let response = self
            .client
            .get(format!("{}/live", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET /live");
        LiveStream {
            status: response.status().as_u16(),
            content_type: response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            response,
            buffered: String::new(),
        }
    }

    /// Posts exactly `fields` (no CSRF token added).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_with_headers(path, fields, &[]).await
    }

    /// Posts exactly `fields` with extra request headers (`Origin`, `Sec-Fetch-Site`, ...).
    pub async fn post_with_headers(&mut self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.body(body).send().await.expect("POST");
        self.finish(response).await
    }

    /// Posts `fields` with the session's CSRF token, as the page's form would.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A console tab's live stream, read event by event.
pub struct LiveStream {
    pub status: u16,
    pub content_type: String,
    response: reqwest::Response,
    buffered: String,
}

impl LiveStream {
    /// The data of the next `chargers` event within `wait`; `None` when the stream ended or
    /// nothing came (keep-alive comments are skipped).
    pub async fn next_chargers(&mut self, wait: std::time::Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffered.find("\n\n") {
                let event: String = self.buffered.drain(..end + 2).collect();
                if let Some(data) = event
                    .lines()
                    .find_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
                    && event
                        .lines()
                        .any(|l| l.trim() == "event: chargers" || l.trim() == "event:chargers")
                {
                    return serde_json::from_str(data).ok();
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .ok()??;
            self.buffered.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
