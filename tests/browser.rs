//! The console in a real browser: headless Chromium driven over WebDriver (chromedriver,
//! fantoccini) against the real server, with a real charger answering over OCPP.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test says so and passes, unless `VOLTGATE_TEST_BROWSER=1` asks for it (as CI does).
//! Screenshots of the dashboards land in `target/console-screenshots/`.

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

async fn save_screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshot_dir().join(name), png).expect("write screenshot");
}

#[tokio::test]
async fn maintenance_resets_its_charger_and_an_operator_issues_a_token_in_a_real_browser() {
    let Some((_driver, c, _profile)) = browser().await else {
        return;
    };
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let base = format!("http://{}", t.server().api_addr);

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
    c.find(Locator::LinkText("CP-A")).await.unwrap().click().await.unwrap();
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
