//! The console in a real browser: headless Chromium driven over WebDriver (chromedriver,
//! fantoccini) against the real server, with a real charger answering over OCPP.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test says so and passes, unless `VOLTGATE_TEST_BROWSER=1` asks for it (as CI does).
//! Every page a test opens is checked with axe-core (npm `axe-core`, found at
//! `VOLTGATE_TEST_AXE` or `target/axe/node_modules/axe-core/axe.min.js`; `.ci/run` installs
//! it): no serious or critical violation. Screenshots land in `target/console-screenshots/`.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::TestServer;
use common::console::{PASSWORD, accept_everything, charge_now, online_charger, world};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Kills chromedriver (and with it the browser) when the test ends, however it ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// Starts chromedriver and a headless Chromium session, or `None` when they are not installed.
async fn browser() -> Option<(Driver, Client, tempfile::TempDir)> {
    let driver = find("VOLTGATE_TEST_CHROMEDRIVER", &["/usr/bin/chromedriver"]);
    let chromium = find(
        "VOLTGATE_TEST_CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    let (Some(driver), Some(chromium)) = (driver, chromium) else {
        if std::env::var("VOLTGATE_TEST_BROWSER").is_ok_and(|v| v == "1") {
            panic!(
                "VOLTGATE_TEST_BROWSER=1 but chromium or chromedriver is missing (apt-get install chromium chromium-driver)"
            );
        }
        let _ = writeln!(
            std::io::stderr(),
            "note: browser test skipped: chromium and chromedriver not found (apt-get install chromium chromium-driver)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let guard = Driver(child);
    let profile = tempfile::tempdir().expect("profile dir");
    // The flags keep Chromium off the network (this machine's is closed) and out of a sandbox
    // it cannot have as root.
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        &format!("--user-data-dir={}", profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": chromium.display().to_string(), "args": args}),
    );
    let url = format!("http://127.0.0.1:{port}");
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    for _ in 0..100 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return Some((guard, client, profile)),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("chromedriver did not start a session on {url}");
}

/// A browser beside a fresh server holding the console fixture (`world`).
struct Console {
    _driver: Driver,
    c: Client,
    _profile: tempfile::TempDir,
    t: TestServer,
    admin: common::Api,
    w: common::console::World,
    /// Where the console is.
    base: String,
}

/// [`Console`], or `None` when the browser is not installed (see [`browser`]).
async fn console() -> Option<Console> {
    let (_driver, c, _profile) = browser().await?;
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let base = format!("http://{}", t.server().api_addr);
    Some(Console {
        _driver,
        c,
        _profile,
        t,
        admin,
        w,
        base,
    })
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{}/target", env!("CARGO_MANIFEST_DIR")));
    let dir = PathBuf::from(target).join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Waits for an element whose text contains `text`.
async fn wait_text(c: &Client, css: &str, text: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            last = el.text().await.unwrap_or_default();
            if last.contains(text) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no {css} with {text:?} (last: {last:?}) on {:?}",
        c.current_url().await.map(|u| u.to_string())
    );
}

/// Clicks the link reading `text`, found again if a live refresh replaced the page's table
/// between finding and clicking it.
async fn click_link(c: &Client, text: &str) {
    let mut last = None;
    for _ in 0..50 {
        match c.find(Locator::LinkText(text)).await {
            Ok(link) => match link.click().await {
                Ok(()) => return,
                Err(e) => last = Some(e),
            },
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("link {text:?} not clicked: {last:?}");
}

async fn log_in(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login")).await.expect("login page");
    c.find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("main.login button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, "main h1", "Dashboard").await;
}

async fn menu(c: &Client) -> Vec<String> {
    let mut hrefs = Vec::new();
    for a in c.find_all(Locator::Css("nav[aria-label=Main] a")).await.unwrap() {
        hrefs.extend(a.attr("href").await.unwrap());
    }
    hrefs
}

/// axe-core's script, or `None` (said once) when it is not installed and not required.
fn axe_source() -> Option<String> {
    let path = std::env::var("VOLTGATE_TEST_AXE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/axe/node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) if std::env::var("VOLTGATE_TEST_BROWSER").is_ok_and(|v| v == "1") => {
            panic!(
                "VOLTGATE_TEST_BROWSER=1 but axe-core is not at {} (npm install --prefix target/axe axe-core)",
                path.display()
            )
        }
        Err(_) => {
            let _ = writeln!(
                std::io::stderr(),
                "note: accessibility checks skipped: axe-core not at {} (npm install --prefix target/axe axe-core)",
                path.display()
            );
            None
        }
    }
}

/// Runs axe-core on the page as it is and fails on any serious or critical violation (WCAG
/// 2.x A and AA rules: labels, names, contrast, structure).
async fn accessible(c: &Client, axe: Option<&str>, what: &str) {
    let Some(axe) = axe else { return };
    c.execute(&format!("{axe}\n;return true;"), vec![])
        .await
        .expect("axe-core loads");
    let found = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
              .then(r => done(r.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(" ")).slice(0, 5).join(", ")}`)))
              .catch(e => done(["axe failed: " + e]));"#,
            vec![],
        )
        .await
        .expect("axe-core runs");
    let violations: Vec<String> = serde_json::from_value(found).unwrap_or_default();
    assert!(violations.is_empty(), "{what}: {}", violations.join("\n"));
}

/// Opens `path`, waits for its heading and checks it with axe-core.
async fn visit(c: &Client, base: &str, path: &str, heading: &str, axe: Option<&str>) {
    c.goto(&format!("{base}{path}")).await.expect("page");
    wait_text(c, "main h1", heading).await;
    accessible(c, axe, path).await;
}

/// Whether the page fits the window's width (nothing to scroll sideways but its tables).
async fn fits_width(c: &Client) -> bool {
    c.execute(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
        vec![],
    )
    .await
    .ok()
    .and_then(|v| v.as_bool())
    .unwrap_or(false)
}

async fn fill(c: &Client, css: &str, text: &str) {
    let field = c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn pick(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"))
        .select_by_value(value)
        .await
        .unwrap();
}

async fn press(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"))
        .click()
        .await
        .unwrap();
}

/// The id at the end of the current URL (`/organisations/7` -> `7`).
async fn id_in_url(c: &Client) -> String {
    let url = c.current_url().await.unwrap().to_string();
    url.rsplit('/').next().unwrap_or_default().to_owned()
}

async fn save_screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshot_dir().join(name), png).expect("write screenshot");
}

#[tokio::test]
async fn maintenance_resets_its_charger_and_an_operator_issues_a_token_in_a_real_browser() {
    let Some(Console {
        _driver,
        c,
        _profile,
        t,
        admin,
        w,
        base,
    }) = console().await
    else {
        return;
    };

    // Some life for the dashboards: a tariff, a ticket, a card and a finished session today.
    admin
        .post(
            "/tariffs",
            json!({"organisation_id": w.a, "price_per_kwh": 0.32, "currency": "EUR"}),
        )
        .await;
    admin
        .post(
            "/tickets",
            json!({"organisation_id": w.a, "charger_id": "CP-A-HOME", "title": "Cable holder loose"}),
        )
        .await;
    admin
        .post("/id-tokens", json!({"token": "CARD-7", "organisation_id": w.a}))
        .await;
    let mut cp = online_charger(&t, "CP-A", "Available").await;
    charge_now(&mut cp, "CARD-7", 0, 18400).await;
    let mut home = online_charger(&t, "CP-A-HOME", "Faulted").await;
    let _charger = accept_everything(cp);

    // A maintenance engineer: its subtree's chargers only, a reset with the charger's answer.
    log_in(&c, &base, "eng").await;
    let items = menu(&c).await;
    for hidden in ["/tokens", "/drivers", "/billing", "/users", "/transactions"] {
        assert!(
            !items.iter().any(|h| h == hidden),
            "maintenance menu has {hidden}: {items:?}"
        );
    }
    assert!(items.iter().any(|h| h == "/chargers"));
    c.goto(&format!("{base}/chargers")).await.unwrap();
    let table = wait_text(&c, "table", "CP-A").await;
    assert!(table.contains("CP-A-HOME"), "{table}");
    assert!(!table.contains("CP-B"), "another subtree's charger is listed: {table}");
    click_link(&c, "CP-A").await;
    wait_text(&c, "main h1", "Charger CP-A").await;
    c.find(Locator::Css("#reset-type"))
        .await
        .unwrap()
        .select_by_value("soft")
        .await
        .unwrap();
    c.find(Locator::Css("#reset")).await.unwrap().click().await.unwrap();
    let flash = wait_text(&c, ".flash", "the charger answered").await;
    assert_eq!(flash, "Reset (soft): the charger answered Accepted");
    // The same page on a phone in a car park.
    c.set_window_size(390, 844).await.unwrap();
    save_screenshot(&c, "charger-phone-maintenance.png").await;
    c.set_window_size(1280, 1000).await.unwrap();
    for forbidden in ["/tokens", "/users", "/billing"] {
        c.goto(&format!("{base}{forbidden}")).await.unwrap();
        wait_text(&c, "main h1", "403 Not permitted").await;
    }
    c.goto(&format!("{base}/chargers/CP-B")).await.unwrap();
    wait_text(&c, "main h1", "404 Not found").await;
    c.goto(&format!("{base}/")).await.unwrap();
    wait_text(&c, "main h1", "Dashboard").await;
    let page = c.source().await.unwrap();
    assert!(page.contains("simplified dashboard"));
    assert!(
        !page.contains("revenue") && !page.contains("CARD-7"),
        "no billing or token data for maintenance"
    );
    save_screenshot(&c, "dashboard-maintenance.png").await;

    // The chargers list is live: a status the charger reports shows without a reload.
    c.goto(&format!("{base}/chargers")).await.unwrap();
    assert!(wait_text(&c, "#chargers", "CP-A-HOME").await.contains("Faulted"));
    home.call_ok("StatusNotification", common::status_payload("1.6", "Charging"))
        .await;
    let mut live = String::new();
    for _ in 0..400 {
        live = c
            .find(Locator::Css("#chargers"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap_or_default();
        // Empty while the live refresh swaps the table in: not an answer yet.
        if !live.is_empty() && !live.contains("Faulted") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        live.contains("Charging") && !live.contains("Faulted"),
        "not refreshed: {live}"
    );
    c.find(Locator::Css("form.logout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "main h1", "voltgate").await;

    // An operator: the full dashboard, then an RFID token issued from the console.
    log_in(&c, &base, "op").await;
    let items = menu(&c).await;
    for shown in ["/tokens", "/billing", "/users", "/transactions", "/audit"] {
        assert!(
            items.iter().any(|h| h == shown),
            "operator menu lacks {shown}: {items:?}"
        );
    }
    let page = c.source().await.unwrap();
    assert!(
        page.contains("revenue since 00:00 UTC") && page.contains("5.89 EUR"),
        "revenue on the full dashboard"
    );
    save_screenshot(&c, "dashboard-operator.png").await;
    c.goto(&format!("{base}/tokens")).await.unwrap();
    wait_text(&c, "main h1", "RFID tokens").await;
    c.find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys("04A2B9C1D2")
        .await
        .unwrap();
    c.find(Locator::Css("#organisation_id"))
        .await
        .unwrap()
        .select_by_value(&w.a.to_string())
        .await
        .unwrap();
    c.find(Locator::Css("#issue")).await.unwrap().click().await.unwrap();
    let flash = wait_text(&c, ".flash", "issued").await;
    assert_eq!(flash, "Token 04A2B9C1D2 issued (Accepted)");
    let (_, tokens) = admin.get("/id-tokens").await;
    assert!(
        tokens
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["token"] == "04A2B9C1D2" && t["organisation_id"] == w.a),
        "{tokens}"
    );
    save_screenshot(&c, "tokens-operator.png").await;
    c.close().await.expect("end the browser session");
}

#[tokio::test]
async fn an_operator_builds_the_back_office_and_sees_a_registered_charger_come_online_live() {
    let Some(Console {
        _driver,
        c,
        _profile,
        t,
        admin,
        w,
        base,
    }) = console().await
    else {
        return;
    };
    let axe = axe_source();
    let axe = axe.as_deref();
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_text(&c, "main h1", "voltgate").await;
    accessible(&c, axe, "the login page").await;
    log_in(&c, &base, "op").await;
    accessible(&c, axe, "dashboard").await;

    // A two-level tree below Depot A.
    visit(&c, &base, "/organisations", "Organisations", axe).await;
    fill(&c, "#new-org-name", "North").await;
    pick(&c, "#new-org-parent", &w.a.to_string()).await;
    press(&c, "form[method=post][action='/organisations'] button[type=submit]").await;
    wait_text(&c, "main h1", "North").await;
    let north = id_in_url(&c).await;
    accessible(&c, axe, "an organisation's page").await;
    fill(&c, "#new-org-name", "Bay 1").await;
    press(&c, "form[method=post][action='/organisations'] button[type=submit]").await;
    wait_text(&c, "main h1", "Bay 1").await;
    c.goto(&format!("{base}/organisations")).await.unwrap();
    let tree = wait_text(&c, "ul.tree", "Bay 1").await;
    assert!(tree.contains("Depot A") && tree.contains("North"), "{tree}");
    save_screenshot(&c, "organisations-operator.png").await;

    // A site in North, a group with an access rule there.
    visit(&c, &base, "/sites", "Sites", axe).await;
    pick(&c, "#site-org", &north).await;
    fill(&c, "#site-name", "North yard").await;
    pick(&c, "#site-kind", "private").await;
    press(&c, "form[method=post][action='/sites'] button[type=submit]").await;
    wait_text(&c, "main h1", "North yard").await;
    let site = id_in_url(&c).await;
    visit(&c, &base, "/groups", "Driver groups", axe).await;
    pick(&c, "#group-org", &w.a.to_string()).await;
    fill(&c, "#group-name", "Night shift").await;
    press(&c, "form[method=post][action='/groups'] button[type=submit]").await;
    wait_text(&c, ".flash", "Night shift saved").await;
    visit(&c, &base, &format!("/sites/{site}"), "North yard", axe).await;
    press(&c, "form[method=post][action='/access-rules'] button[type=submit]").await;
    wait_text(&c, ".flash", "Night shift may charge here").await;
    assert!(
        wait_text(&c, "#access-rules", "Night shift")
            .await
            .contains("Night shift")
    );
    accessible(&c, axe, "a site with an access rule").await;
    save_screenshot(&c, "site-operator.png").await;

    // Register a charger at that site; the page shows what to type into it.
    visit(&c, &base, "/chargers", "Chargers", axe).await;
    fill(&c, "#reg-id", "CP-NEW").await;
    pick(&c, "#reg-org", &north).await;
    pick(&c, "#reg-site", &site).await;
    press(&c, "form[method=post][action='/chargers'] button[type=submit]").await;
    wait_text(&c, "main h1", "Connect CP-NEW").await;
    accessible(&c, axe, "the registration answer").await;
    let password = c
        .find(Locator::Css("#charger-password"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let url = c.find(Locator::Css("#csms-url")).await.unwrap().text().await.unwrap();
    assert_eq!(url, format!("ws://localhost:{}/ocpp/", t.server().ocpp_addr.port()));
    save_screenshot(&c, "register-operator.png").await;

    // The list shows it offline; it connects with the shown password and turns online live.
    c.goto(&format!("{base}/chargers")).await.unwrap();
    assert!(wait_text(&c, "#chargers", "CP-NEW").await.contains("offline"));
    c.execute("window.notReloaded = true; return true;", vec![])
        .await
        .unwrap();
    let mut cp = t.charger("CP-NEW", "1.6", &password).await;
    cp.call_ok("BootNotification", common::boot_payload("1.6")).await;
    cp.call_ok("StatusNotification", common::status_payload("1.6", "Available"))
        .await;
    // Boot and status are two changes: the table may show the first before the second.
    let row = wait_text(&c, "#chargers", "Available").await;
    assert!(row.contains("CP-NEW") && row.contains("online"), "{row}");
    let same_page = c.execute("return window.notReloaded === true;", vec![]).await.unwrap();
    assert_eq!(same_page, json!(true), "seen without a reload");

    // The other pages the operator works on pass the accessibility check too.
    let hook = admin
        .create(
            "/webhooks",
            json!({"organisation_id": w.a, "url": "https://alerts.example.com/x", "events": ["charger.fault"]}),
        )
        .await;
    let campaign = admin
        .create(
            "/campaigns",
            json!({"name": "Night reset", "command": {"kind": "reset", "type": "soft"}, "target": {"organisation_id": w.a}}),
        )
        .await;
    let token = admin
        .create("/id-tokens", json!({"token": "CARD-11", "organisation_id": w.a}))
        .await;
    for (path, heading) in [
        (format!("/webhooks/{hook}"), "Webhook to"),
        (format!("/campaigns/{campaign}"), "Night reset"),
        (format!("/tokens/{token}"), "Token CARD-11"),
        (format!("/organisations/{}", w.a), "Depot A"),
        ("/chargers/CP-NEW/messages".to_owned(), "CP-NEW"),
        ("/account/2fa".to_owned(), "Two-factor"),
    ] {
        visit(&c, &base, &path, heading, axe).await;
    }
    for (path, heading) in [
        ("/drivers", "Drivers"),
        ("/tokens", "RFID tokens"),
        ("/billing", "Billing"),
        ("/users", "Users"),
        ("/tickets", "Tickets"),
        ("/campaigns", "Campaigns"),
        ("/transactions", "Charging log"),
        ("/audit", "Audit"),
        ("/account", "Your account"),
        ("/chargers/CP-NEW", "Charger CP-NEW"),
    ] {
        visit(&c, &base, path, heading, axe).await;
    }
    c.close().await.expect("end the browser session");
}

#[tokio::test]
async fn support_sees_access_rules_reduced_and_maintenance_resets_on_a_phone_and_sees_it_live() {
    let Some(Console {
        _driver,
        c,
        _profile,
        t,
        admin,
        w,
        base,
    }) = console().await
    else {
        return;
    };
    let axe = axe_source();
    let axe = axe.as_deref();
    // A rule at A's yard for A's group and one for a group of B: support reads the first by
    // name, the second only as a group outside its organisations.
    let ours = admin
        .create("/driver-groups", json!({"organisation_id": w.a, "name": "Day shift"}))
        .await;
    let theirs = admin
        .create("/driver-groups", json!({"organisation_id": w.b, "name": "B visitors"}))
        .await;
    for group in [ours, theirs] {
        let (status, body) = admin
            .post("/access-rules", json!({"site_id": w.site_a, "group_id": group}))
            .await;
        assert_eq!(status, 201, "{body}");
    }

    log_in(&c, &base, "sup").await;
    visit(&c, &base, &format!("/sites/{}", w.site_a), "A yard", axe).await;
    let rules = wait_text(&c, "#access-rules", "Day shift").await;
    assert!(
        rules.contains("a group outside your organisations") && !rules.contains("B visitors"),
        "{rules}"
    );
    let page = c.source().await.unwrap();
    for button in ["Admit the group", "Remove", "Save", "Delete"] {
        assert!(!page.contains(button), "support sees {button}");
    }
    save_screenshot(&c, "site-support.png").await;
    for (path, heading) in [
        ("/", "Dashboard"),
        ("/organisations", "Organisations"),
        ("/groups", "Driver groups"),
        ("/drivers", "Drivers"),
    ] {
        visit(&c, &base, path, heading, axe).await;
    }
    press(&c, "form.logout button").await;
    wait_text(&c, "main h1", "voltgate").await;

    // A maintenance engineer on a phone: the dashboard and the charger page fit 375 px; a
    // reset's effect arrives on the page as the charger reports it.
    let mut cp = online_charger(&t, "CP-A", "Available").await;
    let charger = tokio::spawn(async move {
        loop {
            let frame = cp.recv().await;
            if frame[0] == json!(2) && frame[2] == json!("Reset") {
                cp.send_raw(&json!([3, frame[1], {"status": "Accepted"}]).to_string())
                    .await;
                tokio::time::sleep(Duration::from_millis(500)).await;
                cp.call_ok("StatusNotification", common::status_payload("1.6", "Unavailable"))
                    .await;
                tokio::time::sleep(Duration::from_millis(1500)).await;
                cp.call_ok("StatusNotification", common::status_payload("1.6", "Available"))
                    .await;
                return cp;
            }
        }
    });
    c.set_window_size(375, 812).await.unwrap();
    log_in(&c, &base, "eng").await;
    accessible(&c, axe, "the maintenance dashboard").await;
    assert!(fits_width(&c).await, "the maintenance dashboard fits 375 px");
    save_screenshot(&c, "dashboard-phone-maintenance.png").await;
    visit(&c, &base, "/chargers/CP-A", "Charger CP-A", axe).await;
    assert!(fits_width(&c).await, "the charger page fits 375 px");
    pick(&c, "#reset-type", "soft").await;
    press(&c, "#reset").await;
    wait_text(&c, ".flash", "the charger answered Accepted").await;
    c.execute("window.notReloaded = true; return true;", vec![])
        .await
        .unwrap();
    wait_text(&c, "#state", "Unavailable").await;
    save_screenshot(&c, "charger-phone-reset-maintenance.png").await;
    let state = wait_text(&c, "#state", "Available").await;
    assert!(!state.contains("Unavailable"), "{state}");
    let same_page = c.execute("return window.notReloaded === true;", vec![]).await.unwrap();
    assert_eq!(same_page, json!(true), "seen without a reload");
    accessible(&c, axe, "the charger page after the reset").await;
    charger.await.expect("the charger answered");
    c.close().await.expect("end the browser session");
}
