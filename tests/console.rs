//! The web console over real HTTP, as a browser (or an attacker with curl) uses it: every role
//! against every page and form from one table, the menu against the gate, CSRF, the session
//! cookie, and the dashboard's shape per role (`GET /api/v1/dashboard`).

mod common;

use common::TestServer;
use common::console::{Console, PASSWORD, USERS, accept_everything, charge_now, online_charger, world};
use serde_json::{Value, json};

const OP: &str = "op";
const SUP: &str = "sup";
const ENG: &str = "eng";
const FAC: &str = "fac";
const FLT: &str = "flt";

/// (page, expected status for op, sup, eng, fac, flt). CP-A is at a private site of A (a fleet
/// manager sees home chargers only: 404), CP-B is in the sibling B (404 for everyone). `{a}`
/// and `{b}` are the organisations' ids, `1` the root above them.
const PAGES: &[(&str, [u16; 5])] = &[
    ("/", [200, 200, 200, 200, 200]),
    ("/organisations", [200, 200, 403, 200, 200]),
    ("/organisations/{a}", [200, 200, 403, 200, 200]),
    ("/organisations/{b}", [404, 404, 404, 404, 404]),
    ("/organisations/1", [404, 404, 404, 404, 404]),
    ("/sites", [200, 200, 200, 200, 200]),
    ("/sites/{site_a}", [200, 200, 200, 200, 404]),
    ("/sites/{home_a}", [200, 200, 200, 200, 200]),
    ("/sites/{site_b}", [404, 404, 404, 404, 404]),
    ("/groups", [200, 200, 403, 403, 200]),
    ("/account/2fa", [200, 200, 200, 200, 200]),
    ("/account", [200, 200, 200, 200, 200]),
    ("/chargers", [200, 200, 200, 200, 200]),
    ("/chargers/CP-A", [200, 200, 200, 200, 404]),
    ("/chargers/CP-A-HOME", [200, 200, 200, 200, 200]),
    ("/chargers/CP-B", [404, 404, 404, 404, 404]),
    ("/tickets", [200, 200, 200, 200, 403]),
    ("/campaigns", [200, 200, 200, 200, 403]),
    ("/transactions", [200, 200, 403, 200, 200]),
    ("/transactions.csv", [200, 200, 403, 200, 200]),
    ("/tokens", [200, 200, 403, 403, 200]),
    ("/drivers", [200, 200, 403, 403, 200]),
    ("/billing", [200, 403, 403, 200, 200]),
    ("/users", [200, 403, 403, 403, 403]),
    ("/audit", [200, 200, 200, 403, 403]),
];

/// The menu entries: each must show exactly when its page opens.
const MENU: [&str; 12] = [
    "/organisations",
    "/sites",
    "/groups",
    "/chargers",
    "/tickets",
    "/campaigns",
    "/transactions",
    "/tokens",
    "/drivers",
    "/billing",
    "/users",
    "/audit",
];

/// A form each role posts, and what it must get: 303 (done, back to the page) or the gate's
/// 403/404. `{a}` is organisation A's id.
/// (path, fields, expected status for op, sup, eng, fac, flt).
type FormCase = (&'static str, &'static [(&'static str, &'static str)], [u16; 5]);

const FORMS: &[FormCase] = &[
    // offline charger: the command is refused by the charger's state, told on the page (303)
    ("/chargers/CP-A/reset", &[("type", "soft")], [303, 303, 303, 303, 404]),
    (
        "/chargers/CP-A-HOME/reset",
        &[("type", "hard")],
        [303, 303, 303, 303, 403],
    ),
    ("/chargers/CP-B/reset", &[("type", "soft")], [404, 404, 404, 404, 404]),
    // charger security: the owner's (operator, facility manager), never an engineer's
    ("/chargers/CP-A/password", &[], [303, 403, 403, 303, 404]),
    ("/chargers/CP-B/password", &[], [404, 404, 404, 404, 404]),
    (
        "/chargers/CP-B/unlock",
        &[("evse_id", "1"), ("connector_id", "1")],
        [404, 404, 404, 404, 404],
    ),
    (
        "/chargers/CP-B/firmware",
        &[("location", "https://fw.example.com/x.bin")],
        [404, 404, 404, 404, 404],
    ),
    (
        "/chargers/CP-B/availability",
        &[("type", "inoperative")],
        [404, 404, 404, 404, 404],
    ),
    (
        "/chargers/CP-A-HOME/trigger",
        &[("message", "Heartbeat")],
        [303, 303, 303, 303, 403],
    ),
    (
        "/chargers/CP-A-HOME/variables",
        &[("component", ""), ("variable", "HeartbeatInterval"), ("value", "60")],
        [303, 303, 303, 303, 403],
    ),
    (
        "/chargers/CP-B/variables",
        &[("component", ""), ("variable", "HeartbeatInterval"), ("value", "60")],
        [404, 404, 404, 404, 404],
    ),
    (
        "/tokens",
        &[("token", "TOK-{role}"), ("organisation_id", "{a}")],
        [303, 403, 403, 403, 303],
    ),
    (
        "/tokens",
        &[("token", "TOK-B-{role}"), ("organisation_id", "{b}")],
        [404, 404, 404, 404, 404],
    ),
    (
        "/tickets",
        &[("organisation_id", "{a}"), ("title", "cable worn {role}")],
        [303, 303, 303, 303, 403],
    ),
    (
        "/tickets",
        &[("organisation_id", "{b}"), ("title", "probe {role}")],
        [404, 404, 404, 404, 404],
    ),
    // a campaign over A's chargers (offline: they wait), never over B's
    (
        "/campaigns",
        &[
            ("name", "night {role}"),
            ("organisation_id", "{a}"),
            ("kind", "reset_soft"),
        ],
        [303, 303, 303, 303, 403],
    ),
    (
        "/campaigns",
        &[
            ("name", "probe {role}"),
            ("organisation_id", "{b}"),
            ("kind", "reset_soft"),
        ],
        [404, 404, 404, 404, 404],
    ),
    // (the invitation is shown on the page at once, 200: its link must not travel in a cookie)
    (
        "/users",
        &[
            ("username", "new-{role}"),
            ("organisation_id", "{a}"),
            ("role", "support"),
        ],
        [200, 403, 403, 403, 403],
    ),
    // the tree: built, renamed and moved by operators only, never outside their subtree
    (
        "/organisations",
        &[("name", "below A {role}"), ("parent_id", "{a}")],
        [303, 403, 403, 403, 403],
    ),
    (
        "/organisations",
        &[("name", "below B {role}"), ("parent_id", "{b}")],
        [404, 404, 404, 404, 404],
    ),
    (
        "/organisations/{a}",
        &[
            ("name", "Depot A"),
            ("auto_tickets", "on"),
            ("auto_tickets_after_s", "600"),
        ],
        [303, 403, 403, 403, 403],
    ),
    ("/organisations/{b}", &[("name", "Depot B")], [404, 404, 404, 404, 404]),
    // an organisation is deleted from above: nobody deletes the one their role is on
    ("/organisations/{a}/delete", &[], [403, 403, 403, 403, 403]),
    ("/organisations/{b}/delete", &[], [404, 404, 404, 404, 404]),
    // (the secret is shown on the page at once, 200: it must not travel in a cookie)
    (
        "/organisations/{a}/webhooks",
        &[("url", "http://127.0.0.1:9/{role}"), ("events", "charger.fault")],
        [200, 403, 403, 200, 403],
    ),
    (
        "/organisations/{b}/webhooks",
        &[("url", "http://127.0.0.1:9/{role}"), ("events", "charger.fault")],
        [404, 404, 404, 404, 404],
    ),
    // no [smtp] here: refused on the page (409), but only after the gate
    (
        "/organisations/{a}/subscriptions",
        &[("events", "charger.fault")],
        [303, 303, 303, 303, 303],
    ),
    (
        "/organisations/{b}/subscriptions",
        &[("events", "charger.fault")],
        [404, 404, 404, 404, 404],
    ),
    // registering a charger: for its owners (operator, facility manager), never into B; the
    // page with its password answers at once (200)
    (
        "/chargers",
        &[("id", "CP-NEW-{role}"), ("organisation_id", "{a}")],
        [200, 403, 403, 200, 403],
    ),
    (
        "/chargers",
        &[("id", "CP-NEW-B-{role}"), ("organisation_id", "{b}")],
        [404, 404, 404, 404, 404],
    ),
    // sites: created, changed and deleted by their owners (operators, facility managers)
    (
        "/sites",
        &[("organisation_id", "{a}"), ("name", "yard {role}"), ("kind", "private")],
        [303, 403, 403, 303, 403],
    ),
    (
        "/sites",
        &[("organisation_id", "{b}"), ("name", "yard {role}"), ("kind", "private")],
        [404, 404, 404, 404, 404],
    ),
    (
        "/sites/{site_a}",
        &[("name", "A yard"), ("kind", "private"), ("address", "1 Depot Road")],
        [303, 403, 403, 303, 404],
    ),
    (
        "/sites/{site_b}",
        &[("name", "B yard"), ("kind", "private")],
        [404, 404, 404, 404, 404],
    ),
    // (A yard has CP-A: refused on the page, 409, after the gate)
    ("/sites/{site_a}/delete", &[], [303, 403, 403, 303, 404]),
    ("/sites/{site_b}/delete", &[], [404, 404, 404, 404, 404]),
    // access rules: the second owner's is a duplicate, told on the page
    (
        "/access-rules",
        &[("site_id", "{site_a}"), ("group_id", "{g}")],
        [303, 403, 403, 303, 404],
    ),
    (
        "/access-rules",
        &[("site_id", "{site_b}"), ("group_id", "{g}")],
        [404, 404, 404, 404, 404],
    ),
    // drivers and groups: operators and fleet managers
    (
        "/groups",
        &[("organisation_id", "{a}"), ("name", "group {role}")],
        [303, 403, 403, 403, 303],
    ),
    (
        "/groups",
        &[("organisation_id", "{b}"), ("name", "group {role}")],
        [404, 404, 404, 404, 404],
    ),
    ("/groups/{g}", &[("name", "A drivers")], [303, 403, 403, 403, 303]),
    (
        "/drivers",
        &[("organisation_id", "{a}"), ("name", "driver {role}")],
        [303, 403, 403, 403, 303],
    ),
    (
        "/drivers",
        &[("organisation_id", "{b}"), ("name", "driver {role}")],
        [404, 404, 404, 404, 404],
    ),
    // tariffs: whoever writes access rules (operators, facility managers)
    (
        "/tariffs",
        &[
            ("organisation_id", "{a}"),
            ("price_per_kwh", "0.30"),
            ("currency", "EUR"),
        ],
        [303, 403, 403, 303, 403],
    ),
    (
        "/tariffs",
        &[
            ("organisation_id", "{b}"),
            ("price_per_kwh", "0.30"),
            ("currency", "EUR"),
        ],
        [404, 404, 404, 404, 404],
    ),
    // one's own two-factor: nothing to turn off or renew here (told on the page)
    (
        "/account/2fa/recovery-codes",
        &[("password", "x"), ("otp", "000000")],
        [303, 303, 303, 303, 303],
    ),
    // escalation: an operator of A may not grant a role on the root above it
    (
        "/users",
        &[
            ("username", "root-{role}"),
            ("organisation_id", "1"),
            ("role", "operator"),
        ],
        [404, 404, 404, 404, 404],
    ),
];

#[tokio::test]
async fn every_role_gets_what_the_gate_allows_on_every_page_and_form() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let group = admin
        .create("/driver-groups", json!({"organisation_id": w.a, "name": "A drivers"}))
        .await;
    let fill = |s: &str| {
        s.replace("{a}", &w.a.to_string())
            .replace("{b}", &w.b.to_string())
            .replace("{site_a}", &w.site_a.to_string())
            .replace("{home_a}", &w.home_a.to_string())
            .replace("{site_b}", &w.site_b.to_string())
            .replace("{g}", &group.to_string())
    };
    let mut wrong = Vec::new();
    for (column, (user, _role)) in USERS.iter().enumerate() {
        let mut c = Console::login(&t, user, PASSWORD).await;
        let home = c.get("/").await;
        for (path, expected) in PAGES {
            let path = &fill(path);
            let page = c.get(path).await;
            if page.status != expected[column] {
                wrong.push(format!(
                    "{user} GET {path}: {} (expected {})",
                    page.status, expected[column]
                ));
            }
            if MENU.contains(&path.as_str()) && home.menu_has(path) != (expected[column] == 200) {
                wrong.push(format!(
                    "{user}: menu entry {path} shown={} but the page answers {}",
                    home.menu_has(path),
                    expected[column]
                ));
            }
        }
        for (path, fields, expected) in FORMS {
            let path = &fill(path);
            let filled: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), fill(v).replace("{role}", user)))
                .collect();
            let refs: Vec<(&str, &str)> = filled.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let page = c.post(path, &refs).await;
            if page.status != expected[column] {
                wrong.push(format!(
                    "{user} POST {path} {refs:?}: {} (expected {}) {}",
                    page.status,
                    expected[column],
                    page.body.chars().take(200).collect::<String>()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{} wrong cells:\n{}", wrong.len(), wrong.join("\n"));

    // What the forms did is real: the tokens and the invited user exist, B got nothing.
    let (_, tokens) = admin.get("/id-tokens").await;
    let mut issued: Vec<&str> = tokens
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["token"].as_str())
        .collect();
    issued.sort();
    assert_eq!(issued, ["TOK-flt", "TOK-op"]);
    let (_, users) = admin.get("/users").await;
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "new-op" && u["has_password"] == false)
    );
    assert!(
        !users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"].as_str().unwrap().starts_with("root-"))
    );
    let (_, orgs) = admin.get("/organisations").await;
    let names: Vec<&str> = orgs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert!(names.contains(&"below A op"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("below B") || n.contains("A sup")));
    let (_, depot_a) = admin.get(&format!("/organisations/{}", w.a)).await;
    assert_eq!(
        (depot_a["auto_tickets"].clone(), depot_a["auto_tickets_after_s"].clone()),
        (json!(true), json!(600))
    );
    let (_, hooks) = admin.get("/webhooks").await;
    let mut urls: Vec<&str> = hooks
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["url"].as_str())
        .collect();
    urls.sort();
    assert_eq!(urls, ["http://127.0.0.1:9/fac", "http://127.0.0.1:9/op"]);
    let names_of = |v: &Value, key: &str| -> Vec<String> {
        let mut n: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r[key].as_str().map(str::to_owned))
            .collect();
        n.sort();
        n
    };
    let (_, sites) = admin.get("/sites").await;
    assert_eq!(
        names_of(&sites, "name"),
        ["A home", "A yard", "B yard", "yard fac", "yard op"]
    );
    assert!(sites.as_array().unwrap().iter().any(|s| s["address"] == "1 Depot Road"));
    let (_, groups) = admin.get("/driver-groups").await;
    assert_eq!(names_of(&groups, "name"), ["A drivers", "group flt", "group op"]);
    let (_, drivers) = admin.get("/drivers").await;
    assert_eq!(names_of(&drivers, "name"), ["driver flt", "driver op"]);
    let (_, rules) = admin.get("/access-rules").await;
    assert_eq!(rules.as_array().unwrap().len(), 1, "{rules}");
    let (_, tariffs) = admin.get("/tariffs").await;
    assert!(!tariffs.as_array().unwrap().is_empty());
    assert!(
        tariffs
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["organisation_id"] == json!(w.a))
    );
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_the_login_page() {
    let t = TestServer::start().await;
    let mut c = Console::new(&t);
    for (path, _) in PAGES {
        let path = path.replace("{a}", "2").replace("{b}", "3").replace("{site_a}", "1");
        let page = c.get(&path.replace("{home_a}", "2").replace("{site_b}", "3")).await;
        assert_eq!(
            (page.status, page.location.as_deref()),
            (303, Some("/login")),
            "GET {path}"
        );
    }
    let page = c.post_raw("/chargers/CP-A/reset", &[("type", "soft")]).await;
    assert_eq!((page.status, page.location.as_deref()), (303, Some("/login")));
    let login = c.get("/login").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("name=\"password\""));
}

#[tokio::test]
async fn forms_without_this_sessions_csrf_token_are_refused_and_change_nothing() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let org = w.a.to_string();
    let mut op = Console::login(&t, OP, PASSWORD).await;
    let other = Console::login(&t, SUP, PASSWORD).await;

    let fields = [("token", "TOK-CSRF"), ("organisation_id", org.as_str())];
    let none = op.post_raw("/tokens", &fields).await;
    assert_eq!(none.status, 403, "no token: {}", none.body);
    let wrong = op
        .post_raw("/tokens", &[("csrf", "forged"), fields[0], fields[1]])
        .await;
    assert_eq!(wrong.status, 403);
    let foreign = op
        .post_raw("/tokens", &[("csrf", other.csrf.as_str()), fields[0], fields[1]])
        .await;
    assert_eq!(foreign.status, 403, "another session's token");
    let logout = op.post_raw("/logout", &[]).await;
    assert_eq!(logout.status, 403, "logout needs the token too");
    let (_, tokens) = admin.get("/id-tokens").await;
    assert_eq!(tokens, json!([]), "nothing was created");

    let done = op.post("/tokens", &fields).await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/tokens")));
    let shown = op.get("/tokens").await;
    assert!(
        shown.body.contains("Token TOK-CSRF issued"),
        "the flash tells what happened"
    );
    assert!(shown.body.contains("<code>TOK-CSRF</code>"));
    assert!(
        !op.get("/tokens").await.body.contains("issued"),
        "a flash is shown once"
    );

    // The login form is double-submit: without its cookie the post is refused.
    let mut fresh = Console::new(&t);
    let form = fresh.get("/login").await;
    let csrf = form.csrf().unwrap();
    fresh.cookies.clear();
    let refused = fresh
        .post_raw("/login", &[("csrf", &csrf), ("username", OP), ("password", PASSWORD)])
        .await;
    assert_eq!(refused.status, 403);
    assert!(!fresh.cookies.contains_key("voltgate_session"));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_and_logout_revokes_it() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    world(&admin).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://{}", t.server().api_addr);
    let form = client.get(format!("{base}/login")).send().await.unwrap();
    let login_cookie = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    let html = form.text().await.unwrap();
    let csrf = common::console::csrf_in(&html).expect("a csrf field");
    let answer = client
        .post(format!("{base}/login"))
        .header("cookie", login_cookie.split(';').next().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&username={OP}&password={PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let session = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("voltgate_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(
        !session.contains("Secure"),
        "no Secure flag over plain HTTP (browsers would drop it)"
    );
    let pair = session.split(';').next().unwrap().to_owned();
    let token = pair.trim_start_matches("voltgate_session=").to_owned();

    // The JSON API takes bearer tokens only: the cookie alone is not a credential there.
    let me = client
        .get(format!("{base}/api/v1/me"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
    let me = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    let mut c = Console::new(&t);
    c.cookies.insert("voltgate_session".into(), token.clone());
    c.csrf = c.get("/").await.csrf().unwrap();
    let out = c.post("/logout", &[]).await;
    assert_eq!((out.status, out.location.as_deref()), (303, Some("/login")));
    assert!(!c.cookies.contains_key("voltgate_session"), "the cookie is removed");
    c.cookies.insert("voltgate_session".into(), token.clone());
    assert_eq!(
        c.get("/").await.location.as_deref(),
        Some("/login"),
        "the session is revoked"
    );
    let me = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "revoked for the API as well");
}

#[tokio::test]
async fn a_command_from_the_console_returns_the_chargers_answer() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    world(&admin).await;
    let cp = online_charger(&t, "CP-A", "Available").await;
    let _charger = accept_everything(cp);
    let mut eng = Console::login(&t, ENG, PASSWORD).await;
    let page = eng.get("/chargers/CP-A").await;
    assert!(
        page.body.contains("action=\"/chargers/CP-A/reset\""),
        "the reset button is there"
    );
    let done = eng.post("/chargers/CP-A/reset", &[("type", "soft")]).await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/chargers/CP-A")));
    let shown = eng.get("/chargers/CP-A").await;
    assert!(
        shown.body.contains("Reset (soft): the charger answered Accepted"),
        "{}",
        shown.body
    );
    let done = eng
        .post("/chargers/CP-A/availability", &[("type", "inoperative")])
        .await;
    assert_eq!(done.status, 303);
    let shown = eng.get("/chargers/CP-A").await;
    assert!(
        shown
            .body
            .contains("Availability (inoperative): the charger answered Accepted")
    );
    let done = eng
        .post("/chargers/CP-A/trigger", &[("message", "StatusNotification")])
        .await;
    assert_eq!(done.status, 303);
    let shown = eng.get("/chargers/CP-A").await;
    assert!(
        shown
            .body
            .contains("Trigger of StatusNotification: the charger answered Accepted")
    );

    // The engineer may reset it but not touch its credentials; its owner may.
    assert!(
        !shown.body.contains("/password\""),
        "no password button for maintenance"
    );
    let mut op = Console::login(&t, OP, PASSWORD).await;
    let page = op.get("/chargers/CP-A").await;
    assert!(
        page.body.contains("action=\"/chargers/CP-A/password\""),
        "the operator's page has it"
    );
    assert!(page.body.contains("not since registration"), "{}", page.body);
    let done = op.post("/chargers/CP-A/password", &[]).await;
    assert_eq!(done.status, 303);
    let shown = op.get("/chargers/CP-A").await;
    assert!(
        shown.body.contains("Password change: the charger answered Accepted"),
        "{}",
        shown.body
    );
    assert!(
        shown.body.contains("new password sent"),
        "the change waits for the charger's reconnect"
    );

    // Support may act too; a fleet manager's view of the home charger has no buttons.
    let mut flt = Console::login(&t, FLT, PASSWORD).await;
    let home = flt.get("/chargers/CP-A-HOME").await;
    assert_eq!(home.status, 200);
    assert!(
        !home.body.contains("/reset\""),
        "no reset button without the permission"
    );

    // The dashboard lists the actions, newest first, and their outcomes.
    let (_, d) = t.login(ENG, PASSWORD).await.get("/dashboard").await;
    let actions: Vec<(&str, &str)> = d["recent_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["action"].as_str().unwrap(), a["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("command.trigger", "Accepted"),
            ("command.availability", "Accepted"),
            ("command.reset", "Accepted")
        ]
    );
}

#[tokio::test]
async fn a_chargers_page_shows_its_faults_timeline_and_device_model_and_sets_a_value() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    world(&admin).await;
    let mut cp = online_charger(&t, "CP-A", "Available").await;
    let fault = json!({"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted", "vendorErrorCode": "GF-7"});
    cp.call_ok("StatusNotification", fault).await;
    let inventory = vec![voltgate::store::ReportedVariable {
        variable: "HeartbeatInterval".into(),
        attribute: "Actual".into(),
        value: Some("300".into()),
        mutability: Some("ReadWrite".into()),
        ..Default::default()
    }];
    t.store().record_variables("CP-A", None, inventory).await.unwrap();
    let _charger = accept_everything(cp);

    let mut eng = Console::login(&t, ENG, PASSWORD).await;
    let page = eng.get("/chargers/CP-A").await;
    assert_eq!(page.status, 200);
    for shown in [
        "id=\"faults\"",
        "GroundFailure",
        "GF-7",
        "id=\"timeline\"",
        "id=\"model\"",
        "HeartbeatInterval",
    ] {
        assert!(page.body.contains(shown), "{shown} on the page: {}", page.body);
    }
    assert!(
        page.body.contains("action=\"/chargers/CP-A/variables\""),
        "the set form is there"
    );
    let list = eng.get("/chargers").await;
    assert!(list.body.contains("GroundFailure"), "the list shows the fault");
    let search = eng.get("/chargers/CP-A?q=nothing-like-this").await;
    assert!(!search.body.contains("id=\"model\""), "the search filters the model");

    let done = eng
        .post(
            "/chargers/CP-A/variables",
            &[
                ("component", ""),
                ("variable", "HeartbeatInterval"),
                ("attribute", "Actual"),
                ("value", "60"),
            ],
        )
        .await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/chargers/CP-A")));
    let shown = eng.get("/chargers/CP-A").await;
    assert!(
        shown
            .body
            .contains("Setting HeartbeatInterval: the charger answered Accepted"),
        "{}",
        shown.body
    );
    let (_, model) = t.login(ENG, PASSWORD).await.get("/chargers/CP-A/variables").await;
    assert_eq!(model[0]["value"], "60", "{model}");
}

/// Keys of a JSON document, recursively.
fn keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                keys(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_dashboard_is_shaped_by_the_callers_roles() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let (status, body) = admin
        .post(
            "/tariffs",
            json!({"organisation_id": w.a, "price_per_kwh": 0.25, "currency": "EUR"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = admin
        .post("/id-tokens", json!({"token": "CARD-1", "organisation_id": w.a}))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = admin
        .post(
            "/tickets",
            json!({"organisation_id": w.a, "charger_id": "CP-A", "title": "bent pin"}),
        )
        .await;
    assert_eq!(status, 201);
    let mut cp = online_charger(&t, "CP-A", "Faulted").await;
    charge_now(&mut cp, "CARD-1", 1000, 13000).await;
    // Connector 0 is the charger itself: it is no connector in the breakdown.
    let status0 = json!({"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": chrono::Utc::now().to_rfc3339()});
    cp.call_ok("StatusNotification", status0).await;
    cp.call_ok("FirmwareStatusNotification", json!({"status": "Downloading"}))
        .await;
    let _b = online_charger(&t, "CP-B", "Available").await;

    let dashboard = |user: &'static str| {
        let t = &t;
        async move {
            let (status, d) = t.login(user, PASSWORD).await.get("/dashboard").await;
            assert_eq!(status, 200, "{user}: {d}");
            d
        }
    };

    let op = dashboard(OP).await;
    assert_eq!(op["view"], "full");
    assert_eq!(
        op["chargers"],
        json!({"total": 2, "online": 1, "offline": 1, "faulted": 1}),
        "CP-B is outside A"
    );
    assert_eq!(op["connectors"], json!({"Faulted": 1}));
    assert_eq!(op["open_tickets"], 1);
    assert_eq!(op["today"]["sessions"], 1);
    assert_eq!(op["today"]["energy_wh"], 12000);
    assert_eq!(op["today"]["revenue"], json!({"EUR": 3.0}));

    assert_eq!(op["firmware_updates"][0]["charger_id"], "CP-A");
    assert_eq!(op["firmware_updates"][0]["status"], "Downloading");
    cp.call_ok("FirmwareStatusNotification", json!({"status": "Installed"}))
        .await;
    assert_eq!(
        dashboard(OP).await["firmware_updates"],
        json!([]),
        "an installed update is done"
    );

    // Support on A and facility manager on B: today's charging only where the role has the
    // full dashboard (B, where nothing charged), though the view is full.
    let (status, mixed) = admin
        .post(
            "/users",
            json!({"username": "mixed", "password": PASSWORD, "organisation_id": w.a}),
        )
        .await;
    assert_eq!(status, 201, "{mixed}");
    let roles =
        json!([{"organisation_id": w.a, "role": "support"}, {"organisation_id": w.b, "role": "facility_manager"}]);
    let (status, _) = admin.put(&format!("/users/{}/memberships", mixed["id"]), roles).await;
    assert_eq!(status, 200);
    let mixed = dashboard("mixed").await;
    assert_eq!(mixed["view"], "full");
    assert_eq!(
        mixed["today"]["sessions"], 0,
        "A's session is not on its full dashboard: {mixed}"
    );
    assert_eq!(mixed["chargers"]["total"], 3, "but A's and B's chargers are");

    let root = t.admin().await.get("/dashboard").await.1;
    assert_eq!(root["chargers"]["total"], 3);
    assert_eq!(root["chargers"]["online"], 2);
    let within = t
        .admin()
        .await
        .get(&format!("/dashboard?organisation_id={}", w.b))
        .await
        .1;
    assert_eq!(
        within["chargers"],
        json!({"total": 1, "online": 1, "offline": 0, "faulted": 0})
    );
    let (status, _) = t
        .login(OP, PASSWORD)
        .await
        .get(&format!("/dashboard?organisation_id={}", w.b))
        .await;
    assert_eq!(
        status, 404,
        "another subtree's dashboard does not exist for A's operator"
    );

    let eng = dashboard(ENG).await;
    assert_eq!(eng["view"], "simplified");
    assert_eq!(eng["chargers"]["faulted"], 1);
    assert_eq!(eng["open_tickets"], 1);
    let mut seen = Vec::new();
    keys(&eng, &mut seen);
    for banned in [
        "today",
        "revenue",
        "energy_wh",
        "sessions",
        "token",
        "id_token",
        "driver",
        "tariff",
        "access_rules",
        "cost",
    ] {
        assert!(
            !seen.iter().any(|k| k == banned),
            "maintenance dashboard holds {banned}: {eng}"
        );
    }
    assert!(!eng.to_string().contains("CARD-1"));

    let sup = dashboard(SUP).await;
    assert_eq!(sup["view"], "simplified");
    assert!(sup.get("today").is_none());

    let fac = dashboard(FAC).await;
    assert_eq!(fac["view"], "full");
    assert_eq!(fac["today"]["revenue"], json!({"EUR": 3.0}));
    assert!(
        fac.get("recent_actions").is_none(),
        "facility managers do not read the audit log"
    );

    let flt = dashboard(FLT).await;
    assert_eq!(flt["view"], "full");
    assert_eq!(flt["chargers"]["total"], 1, "home chargers only");
    assert!(flt.get("open_tickets").is_none());
    assert_eq!(flt["today"]["sessions"], 1, "its card's session");
}

/// The TOTP code `steps` 30-second steps from now.
fn code(secret: &str, steps: u64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).expect("base32 secret"))
        .build()
        .expect("totp");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    totp.generate(now + steps * 30).to_string()
}

/// Posts the login form of a fresh client.
async fn login_form(t: &TestServer, user: &str, otp: &str) -> (Console, common::console::Page) {
    let mut c = Console::new(t);
    let csrf = c.get("/login").await.csrf().expect("csrf");
    let page = c
        .post_raw(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", user),
                ("password", PASSWORD),
                ("otp", otp),
            ],
        )
        .await;
    (c, page)
}

#[tokio::test]
async fn required_two_factor_is_enrolled_in_the_console_and_then_asked_at_login() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let (status, body) = admin
        .patch(&format!("/organisations/{}", w.a), json!({"require_2fa": true}))
        .await;
    assert_eq!(status, 200, "{body}");

    let (mut c, page) = login_form(&t, ENG, "").await;
    assert_eq!((page.status, page.location.as_deref()), (303, Some("/account/2fa")));
    assert_eq!(
        c.get("/chargers").await.location.as_deref(),
        Some("/account/2fa"),
        "nothing else before enrolment"
    );
    let setup = c.get("/account/2fa").await;
    assert!(setup.body.contains("requires two-factor"), "{}", setup.body);
    c.csrf = setup.csrf().expect("csrf");
    let enrol = c.post("/account/2fa", &[]).await;
    assert_eq!(enrol.status, 200);
    assert!(enrol.body.contains("src=\"data:image/svg+xml;base64,"), "a QR code");
    let at = enrol.body.find("by hand: <code>").expect("the secret") + "by hand: <code>".len();
    let secret = enrol.body[at..at + enrol.body[at..].find('<').unwrap()].to_owned();
    let wrong = c.post("/account/2fa/confirm", &[("otp", "000000")]).await;
    assert_eq!(wrong.status, 422, "a wrong code is refused");
    let confirmed = c.post("/account/2fa/confirm", &[("otp", &code(&secret, 0))]).await;
    assert_eq!(confirmed.status, 200);
    assert!(confirmed.body.contains("Recovery codes"));
    assert_eq!(c.get("/chargers").await.status, 200, "the session is full now");

    let (_, page) = login_form(&t, ENG, "").await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains("one-time password"), "{}", page.body);
    let (_, page) = login_form(&t, ENG, "123").await;
    assert_eq!(page.status, 401);
    let (mut c, page) = login_form(&t, ENG, &code(&secret, 1)).await;
    assert_eq!((page.status, page.location.as_deref()), (303, Some("/")));
    assert_eq!(c.get("/").await.status, 200);
}

#[tokio::test]
async fn operators_give_and_take_roles_in_their_subtree_only() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let (_, users) = admin.get("/users").await;
    let id_of = |name: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
            .to_string()
    };
    let (eng, sup) = (id_of(ENG), id_of(SUP));
    let roles = |who: &str| {
        let who = who.to_owned();
        let admin = admin.clone();
        async move {
            let (_, u) = admin.get(&format!("/users/{who}")).await;
            let mut r: Vec<String> = u["memberships"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| format!("{}@{}", m["role"].as_str().unwrap(), m["organisation_id"]))
                .collect();
            r.sort();
            r
        }
    };
    let a = w.a.to_string();
    let mut op = Console::login(&t, OP, PASSWORD).await;
    let page = op.get("/users").await;
    assert!(page.body.contains("Give a role"));
    let add = [
        ("user_id", eng.as_str()),
        ("organisation_id", a.as_str()),
        ("role", "support"),
        ("change", "add"),
    ];
    let done = op.post("/users/roles", &add).await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/users")));
    assert_eq!(roles(&eng).await, [format!("maintenance@{a}"), format!("support@{a}")]);
    let remove = [
        ("user_id", eng.as_str()),
        ("organisation_id", a.as_str()),
        ("role", "maintenance"),
        ("change", "remove"),
    ];
    assert_eq!(op.post("/users/roles", &remove).await.status, 303);
    assert_eq!(roles(&eng).await, [format!("support@{a}")]);

    // Escalation attempts: a role above the operator's subtree, in a sibling, by a non-operator.
    let above = [
        ("user_id", eng.as_str()),
        ("organisation_id", "1"),
        ("role", "operator"),
        ("change", "add"),
    ];
    assert_eq!(op.post("/users/roles", &above).await.status, 404);
    let sibling = w.b.to_string();
    let beside = [
        ("user_id", eng.as_str()),
        ("organisation_id", sibling.as_str()),
        ("role", "operator"),
        ("change", "add"),
    ];
    assert_eq!(op.post("/users/roles", &beside).await.status, 404);
    let mut support = Console::login(&t, SUP, PASSWORD).await;
    let own = [
        ("user_id", sup.as_str()),
        ("organisation_id", a.as_str()),
        ("role", "operator"),
        ("change", "add"),
    ];
    assert_eq!(support.post("/users/roles", &own).await.status, 403);
    assert_eq!(roles(&eng).await, [format!("support@{a}")], "nothing changed");
    assert_eq!(roles(&sup).await, [format!("support@{a}")]);
    // Taking away: only a role held, only inside the subtree.
    let not_held = [
        ("user_id", eng.as_str()),
        ("organisation_id", a.as_str()),
        ("role", "operator"),
        ("change", "remove"),
    ];
    assert_eq!(op.post("/users/roles", &not_held).await.status, 404);
    let elsewhere = [
        ("user_id", eng.as_str()),
        ("organisation_id", sibling.as_str()),
        ("role", "support"),
        ("change", "remove"),
    ];
    assert_eq!(op.post("/users/roles", &elsewhere).await.status, 404);
    let op_id = id_of(OP);
    let myself = [
        ("user_id", op_id.as_str()),
        ("organisation_id", a.as_str()),
        ("role", "operator"),
        ("change", "remove"),
    ];
    assert_eq!(
        op.post("/users/roles", &myself).await.status,
        403,
        "nobody edits their own roles"
    );
    assert_eq!(roles(&eng).await, [format!("support@{a}")]);
}

#[tokio::test]
async fn ticket_status_changes_pass_the_gate() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let ticket = |org: i64| {
        let admin = admin.clone();
        async move {
            let (status, body) = admin
                .post("/tickets", json!({"organisation_id": org, "title": "display dead"}))
                .await;
            assert_eq!(status, 201, "{body}");
            body["id"].as_i64().unwrap()
        }
    };
    let (in_a, in_b) = (ticket(w.a).await, ticket(w.b).await);
    let mut eng = Console::login(&t, ENG, PASSWORD).await;
    let done = eng
        .post(&format!("/tickets/{in_a}"), &[("status", "in_progress")])
        .await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/tickets")));
    assert!(
        eng.get("/tickets")
            .await
            .body
            .contains(&format!("Ticket #{in_a} is in_progress"))
    );
    let bad = eng.post(&format!("/tickets/{in_a}"), &[("status", "lost")]).await;
    assert_eq!(bad.status, 303, "an unknown status is told on the page");
    assert!(eng.get("/tickets").await.body.contains("flash bad"));
    assert_eq!(
        eng.post(&format!("/tickets/{in_b}"), &[("status", "closed")])
            .await
            .status,
        404
    );
    let mut flt = Console::login(&t, FLT, PASSWORD).await;
    assert_eq!(
        flt.post(&format!("/tickets/{in_a}"), &[("status", "closed")])
            .await
            .status,
        403
    );
    let (_, a) = admin.get(&format!("/tickets/{in_a}")).await;
    let (_, b) = admin.get(&format!("/tickets/{in_b}")).await;
    assert_eq!(
        (a["status"].as_str(), b["status"].as_str()),
        (Some("in_progress"), Some("open"))
    );
}

#[tokio::test]
async fn behind_an_https_public_url_the_cookies_are_secure_and_host_prefixed() {
    let t = TestServer::start_with(|c| c.api.public_url = "https://csms.example.com".into()).await;
    let admin = t.admin().await;
    world(&admin).await;
    let raw = reqwest::get(format!("http://{}/login", t.server().api_addr))
        .await
        .unwrap();
    let set = raw.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.starts_with("__Host-voltgate_login=") && set.contains("Secure"),
        "{set}"
    );
    let mut c = Console::new(&t);
    let form = c.get("/login").await;
    assert!(c.cookies.contains_key("__Host-voltgate_login"), "{:?}", c.cookies);
    let csrf = form.csrf().unwrap();
    // A plain-named cookie planted by someone else is not the one the login form checks.
    c.cookies.insert("voltgate_login".into(), "planted".into());
    let planted = c
        .post_raw(
            "/login",
            &[("csrf", "planted"), ("username", OP), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(planted.status, 403);
    let done = c
        .post_raw("/login", &[("csrf", &csrf), ("username", OP), ("password", PASSWORD)])
        .await;
    assert_eq!(done.status, 303);
    assert!(c.cookies.contains_key("__Host-voltgate_session"));
    assert_eq!(c.get("/chargers").await.status, 200);
}

#[tokio::test]
async fn lists_narrow_to_a_subtree_inside_the_callers_reach_only() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let mut root = Console::login(&t, "admin", common::ADMIN_PASSWORD).await;
    let all = root.get("/chargers").await;
    assert!(
        all.body.contains("id=\"org-filter\""),
        "a filter for an operator of many organisations"
    );
    assert!(all.body.contains(">CP-A<") && all.body.contains(">CP-B<"));
    let only_b = root.get(&format!("/chargers?organisation_id={}", w.b)).await;
    assert_eq!(only_b.status, 200);
    assert!(
        only_b.body.contains(">CP-B<") && !only_b.body.contains(">CP-A<"),
        "{}",
        only_b.body
    );
    assert!(only_b.body.contains(&format!("<option value=\"{}\" selected>", w.b)));
    let garbage = root.get("/chargers?organisation_id=x&offset=-1").await;
    assert_eq!(garbage.status, 200, "unparsable filters are ignored");
    let csv = root.get(&format!("/transactions.csv?organisation_id={}", w.b)).await;
    assert_eq!(csv.status, 200);

    let mut op = Console::login(&t, OP, PASSWORD).await;
    assert_eq!(op.get(&format!("/chargers?organisation_id={}", w.b)).await.status, 404);
    assert_eq!(
        op.get(&format!("/transactions?organisation_id={}", w.b)).await.status,
        404
    );
    assert_eq!(
        op.get(&format!("/transactions.csv?organisation_id={}", w.b))
            .await
            .status,
        404
    );
    assert_eq!(
        op.get("/chargers?organisation_id=1").await.status,
        404,
        "the root above it"
    );
}

#[tokio::test]
async fn the_account_page_ends_sessions_and_changes_the_password() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    world(&admin).await;
    let other = t.login(SUP, PASSWORD).await;
    let mut c = Console::login(&t, SUP, PASSWORD).await;
    let page = c.get("/account").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("this browser"));
    let (_, sessions) = other.get("/me/sessions").await;
    let api_session = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .to_string();
    let ended = c.post(&format!("/account/sessions/{api_session}"), &[]).await;
    assert_eq!((ended.status, ended.location.as_deref()), (303, Some("/account")));
    assert_eq!(other.get("/me").await.0, 401, "that session ended");
    let (_, admins) = admin.get("/me/sessions").await;
    let foreign = admins[0]["id"].to_string();
    assert_eq!(
        c.post(&format!("/account/sessions/{foreign}"), &[]).await.status,
        404,
        "not its session"
    );

    let wrong = c
        .post(
            "/account/password",
            &[
                ("current_password", "not-it"),
                ("new_password", "a-brand-new-passphrase-9"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 303);
    assert!(
        c.get("/account").await.body.contains("flash bad"),
        "a wrong current password is told"
    );
    let other = t.login(SUP, PASSWORD).await;
    let done = c
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a-brand-new-passphrase-9"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(c.get("/account").await.status, 200, "this session stays");
    assert_eq!(other.get("/me").await.0, 401, "the others end");
    t.login(SUP, "a-brand-new-passphrase-9").await;
}

#[tokio::test]
async fn a_campaign_started_in_the_console_shows_each_chargers_answer_and_is_steered_there() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let cp = online_charger(&t, "CP-A", "Available").await;
    let _charger = accept_everything(cp);
    let mut eng = Console::login(&t, ENG, PASSWORD).await;
    let a = w.a.to_string();
    let done = eng
        .post(
            "/campaigns",
            &[("name", "night reset"), ("organisation_id", &a), ("kind", "reset_soft")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let back = done.location.expect("to the campaign's page");
    assert!(back.starts_with("/campaigns/"), "{back}");

    let first = eng.get(&back).await;
    assert!(
        first.body.contains("started over 2 chargers"),
        "the flash: {}",
        first.body
    );
    // CP-A answers; CP-A-HOME is offline and waits; Depot B's charger is not in it.
    let start = std::time::Instant::now();
    let page = loop {
        let page = eng.get(&back).await;
        if page.body.contains("Accepted") {
            break page;
        }
        assert!(start.elapsed().as_secs() < 10, "CP-A's answer: {}", page.body);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(
        page.body.contains("CP-A-HOME") && !page.body.contains("CP-B"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<progress"), "{}", page.body);

    let paused = eng.post(&format!("{back}/pause"), &[]).await;
    assert_eq!((paused.status, paused.location.as_deref()), (303, Some(back.as_str())));
    let page = eng.get(&back).await;
    assert!(page.body.contains("is paused"), "{}", page.body);
    let list = eng.get("/campaigns").await;
    assert!(
        list.body.contains("night reset") && list.body.contains("paused"),
        "{}",
        list.body
    );

    // Another depot's operator does not find it.
    let op_b = admin
        .create(
            "/users",
            json!({"username": "op-b", "password": PASSWORD, "organisation_id": w.b}),
        )
        .await;
    let (status, _) = admin
        .put(
            &format!("/users/{op_b}/memberships"),
            json!([{"organisation_id": w.b, "role": "operator"}]),
        )
        .await;
    assert_eq!(status, 200);
    let mut other = Console::login(&t, "op-b", PASSWORD).await;
    assert_eq!(other.get(&back).await.status, 404);
    assert_eq!(other.post(&format!("{back}/cancel"), &[]).await.status, 404);
}

/// The id at the end of a redirect to `/organisations/{id}`.
fn org_of(page: &common::console::Page) -> i64 {
    let location = page.location.as_deref().unwrap_or_default();
    location
        .strip_prefix("/organisations/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not an organisation's page: {location:?} {}", page.body))
}

#[tokio::test]
async fn operators_build_and_change_the_tree_in_the_console_within_their_subtree() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let _cp = online_charger(&t, "CP-A", "Faulted").await;
    let mut op = Console::login(&t, OP, PASSWORD).await;
    let a = w.a.to_string();

    // Two levels below A, each landing on its new page.
    let north = op.post("/organisations", &[("name", "North"), ("parent_id", &a)]).await;
    assert_eq!(north.status, 303);
    let north = org_of(&north).to_string();
    let bay = op
        .post("/organisations", &[("name", "Bay 1"), ("parent_id", &north)])
        .await;
    let bay = org_of(&bay).to_string();
    let north_page = op.get(&format!("/organisations/{north}")).await;
    assert!(
        north_page
            .body
            .contains(&format!("href=\"/organisations/{a}\">Depot A<")),
        "its parent, named"
    );
    let a_page = op.get(&format!("/organisations/{a}")).await;
    assert!(
        a_page.body.contains("an organisation outside your reach"),
        "the root is not named to A's operator"
    );
    let tree = op.get("/organisations").await;
    assert_eq!(tree.status, 200);
    let body = &tree.body;
    let (at_a, at_north, at_bay) = (
        body.find(">Depot A<").expect("A in the tree"),
        body.find(">North<").expect("North in the tree"),
        body.find(">Bay 1<").expect("Bay 1 in the tree"),
    );
    assert!(at_a < at_north && at_north < at_bay, "nested in path order");
    assert!(body.contains("<details open><summary>"), "collapsible");
    assert!(!body.contains(">Depot B<"), "a sibling subtree is not shown");
    assert!(
        body[at_a..at_north].contains("2 chargers · 1 online") && body[at_a..at_north].contains("1 faulted"),
        "A counts its chargers: {}",
        &body[at_a..at_north]
    );
    assert!(body[at_north..at_bay].contains("0 chargers · 0 online"));

    // Rename and move Bay 1 up to A; a move into its own subtree is refused on the page.
    let moved = op
        .post(
            &format!("/organisations/{bay}"),
            &[("name", "Bay One"), ("parent_id", &a), ("auto_tickets_after_s", "900")],
        )
        .await;
    assert_eq!(moved.status, 303, "{}", moved.body);
    let (_, bay_now) = admin.get(&format!("/organisations/{bay}")).await;
    assert_eq!(
        (bay_now["name"].as_str(), bay_now["parent_id"].as_i64()),
        (Some("Bay One"), Some(w.a))
    );
    let below = op
        .post("/organisations", &[("name", "Bay 2"), ("parent_id", &north)])
        .await;
    let bay2 = org_of(&below).to_string();
    let cycle = op
        .post(
            &format!("/organisations/{north}"),
            &[("name", "North"), ("parent_id", &bay2)],
        )
        .await;
    assert_eq!(cycle.status, 303);
    let (_, north_now) = admin.get(&format!("/organisations/{north}")).await;
    assert_eq!(north_now["parent_id"].as_i64(), Some(w.a), "unchanged");
    let shown = op.get(&format!("/organisations/{north}")).await;
    assert!(shown.body.contains("own subtree"), "the refusal is told on the page");

    // Two-factor on, and deletion only when empty.
    let strict = op
        .post(
            &format!("/organisations/{north}"),
            &[
                ("name", "North"),
                ("parent_id", &a),
                ("require_2fa", "on"),
                ("auto_tickets_after_s", "900"),
            ],
        )
        .await;
    assert_eq!(strict.status, 303);
    let (_, north_now) = admin.get(&format!("/organisations/{north}")).await;
    assert_eq!(north_now["require_2fa"], json!(true));
    assert_eq!(
        op.post(&format!("/organisations/{north}/delete"), &[]).await.status,
        303
    );
    assert_eq!(
        admin.get(&format!("/organisations/{north}")).await.0,
        200,
        "Bay 2 is below it"
    );
    assert_eq!(op.post(&format!("/organisations/{bay2}/delete"), &[]).await.status, 303);
    assert_eq!(
        op.post(&format!("/organisations/{north}/delete"), &[]).await.status,
        303
    );
    assert_eq!(admin.get(&format!("/organisations/{north}")).await.0, 404);

    // A webhook: its secret once, its delivery log, deleted by its owner only.
    let added = op
        .post(
            &format!("/organisations/{a}/webhooks"),
            &[
                ("url", "https://alerts.example.com/voltgate"),
                ("events", "charger.fault"),
                ("events", "charger.offline"),
                ("offline_after_s", "120"),
            ],
        )
        .await;
    assert_eq!(added.status, 200);
    assert!(added.body.contains("shown this once: "), "{}", added.body);
    let (_, hooks) = admin.get("/webhooks").await;
    let hook = &hooks.as_array().unwrap()[0];
    assert_eq!(hook["events"], json!(["charger.fault", "charger.offline"]));
    assert_eq!(hook["offline_after_s"], json!(120));
    let hook = format!("/webhooks/{}", hook["id"]);
    assert_eq!(op.get(&hook).await.status, 200);
    let page = op.get(&format!("/organisations/{a}")).await;
    assert!(page.body.contains("https://alerts.example.com/voltgate"));
    assert!(!page.body.contains("shown this once"), "the secret is not shown again");

    let mut sup = Console::login(&t, SUP, PASSWORD).await;
    assert_eq!(sup.get(&hook).await.status, 403);
    assert_eq!(sup.post(&format!("{hook}/delete"), &[]).await.status, 403);
    let sup_page = sup.get(&format!("/organisations/{a}")).await;
    assert!(!sup_page.body.contains("alerts.example.com") && !sup_page.body.contains("Add webhook"));
    let b_op = admin
        .create(
            "/users",
            json!({"username": "b-op", "password": PASSWORD, "organisation_id": w.b}),
        )
        .await;
    let (status, _) = admin
        .put(
            &format!("/users/{b_op}/memberships"),
            json!([{"organisation_id": w.b, "role": "operator"}]),
        )
        .await;
    assert_eq!(status, 200);
    let mut other = Console::login(&t, "b-op", PASSWORD).await;
    assert_eq!(other.get(&hook).await.status, 404);
    assert_eq!(other.get(&format!("/organisations/{a}")).await.status, 404);
    assert_eq!(other.post(&format!("{hook}/delete"), &[]).await.status, 404);

    assert_eq!(op.post(&format!("{hook}/delete"), &[]).await.status, 303);
    let (_, hooks) = admin.get("/webhooks").await;
    assert_eq!(hooks, json!([]));
}

/// The text of the element with this id.
fn text_of(html: &str, id: &str) -> String {
    let open = format!("id=\"{id}\">");
    let at = html.find(&open).unwrap_or_else(|| panic!("no #{id} in {html}")) + open.len();
    let end = html[at..].find('<').expect("closed");
    html[at..at + end].to_owned()
}

#[tokio::test]
async fn a_charger_registered_in_the_console_connects_with_what_the_page_shows_and_strays_are_adopted_at_the_root() {
    let t = TestServer::start_with(|c| c.ocpp.unknown_chargers = voltgate::config::UnknownChargers::Pending).await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let mut op = Console::login(&t, OP, PASSWORD).await;
    let list = op.get("/chargers").await;
    assert!(list.body.contains("Register a charger"));

    let shown = op
        .post("/chargers", &[("id", "CP-NEW"), ("organisation_id", &w.a.to_string())])
        .await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    let url = text_of(&shown.body, "csms-url");
    assert_eq!(url, format!("ws://localhost:{}/ocpp/", t.server().ocpp_addr.port()));
    let password = text_of(&shown.body, "charger-password");
    assert!(password.len() >= 16, "{password}");
    assert!(shown.body.contains("Shown this once"));
    let mut cp = t.charger("CP-NEW", "1.6", &password).await;
    let boot = cp.call_ok("BootNotification", common::boot_payload("1.6")).await;
    assert_eq!(boot["status"], "Accepted");
    let (_, c) = admin.get("/chargers/CP-NEW").await;
    assert_eq!(c["organisation_id"].as_i64(), Some(w.a));
    let again = op.get("/chargers").await;
    assert!(!again.body.contains(&password), "the password is not shown again");

    // A taken id, a bad id: told on the page.
    let taken = op
        .post("/chargers", &[("id", "CP-NEW"), ("organisation_id", &w.a.to_string())])
        .await;
    assert_eq!(taken.status, 303);
    let bad = op
        .post("/chargers", &[("id", "a/b"), ("organisation_id", &w.a.to_string())])
        .await;
    assert_eq!(bad.status, 303);

    // A stray charger waits; only who may adopt at the root sees it, and adopts it.
    let mut stray = common::TestCharger::connect(&t.ocpp_base(), "STRAY-1", "2.0.1", None)
        .await
        .expect("an unknown charger connects");
    let boot = stray.call_ok("BootNotification", common::boot_payload("2.0.1")).await;
    assert_eq!(boot["status"], "Pending");
    assert!(
        !op.get("/chargers").await.body.contains("STRAY-1"),
        "not for an operator of A"
    );
    assert_eq!(
        op.post("/chargers", &[("id", "STRAY-1"), ("organisation_id", &w.a.to_string())])
            .await
            .status,
        403
    );
    let mut root = Console::login(&t, "admin", common::ADMIN_PASSWORD).await;
    let waiting = root.get("/chargers").await;
    assert!(waiting.body.contains("Waiting to be adopted") && waiting.body.contains("STRAY-1"));
    let adopted = root
        .post("/chargers", &[("id", "STRAY-1"), ("organisation_id", &w.a.to_string())])
        .await;
    assert_eq!(adopted.status, 200, "{}", adopted.body);
    let (_, c) = admin.get("/chargers/STRAY-1").await;
    assert_eq!(c["organisation_id"].as_i64(), Some(w.a));
    assert!(!root.get("/chargers").await.body.contains("Waiting to be adopted"));
}

/// The id in the first `action="{prefix}{id}/delete"` of a page.
fn delete_id(html: &str, prefix: &str) -> String {
    let open = format!("action=\"{prefix}");
    html.match_indices(&open)
        .map(|(at, _)| &html[at + open.len()..])
        .find_map(|rest| {
            let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
            rest[id.len()..].starts_with("/delete\"").then_some(id)
        })
        .unwrap_or_else(|| panic!("no {open}ID/delete in {html}"))
}

#[tokio::test]
async fn an_operator_admits_a_group_at_a_site_and_support_sees_it_reduced_without_buttons() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&admin).await;
    let mut op = Console::login(&t, OP, PASSWORD).await;
    let (a, site) = (w.a.to_string(), w.site_a.to_string());

    // A group and a driver, and a token that joins both.
    assert_eq!(
        op.post("/groups", &[("organisation_id", &a), ("name", "Night shift")])
            .await
            .status,
        303
    );
    assert_eq!(
        op.post(
            "/drivers",
            &[("organisation_id", &a), ("name", "Ann"), ("email", "ann@example.com")]
        )
        .await
        .status,
        303
    );
    assert_eq!(
        op.post("/tokens", &[("token", "CARD-9"), ("organisation_id", &a)])
            .await
            .status,
        303
    );
    let (_, groups) = admin.get("/driver-groups").await;
    let group = groups[0]["id"].to_string();
    let (_, drivers) = admin.get("/drivers").await;
    let driver = drivers[0]["id"].to_string();
    let (_, tokens) = admin.get("/id-tokens").await;
    let token = tokens[0]["id"].to_string();
    let page = op.get(&format!("/tokens/{token}")).await;
    assert!(
        page.body.contains(">Night shift<") && page.body.contains(">Ann<"),
        "{}",
        page.body
    );
    let saved = op
        .post(
            &format!("/tokens/{token}"),
            &[
                ("driver_id", &driver),
                ("group_id", &group),
                ("expires_at", "2030-01-01T00:00"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    let (_, t9) = admin.get(&format!("/id-tokens/{token}")).await;
    assert_eq!(
        (t9["driver_id"].to_string(), t9["group_id"].to_string()),
        (driver.clone(), group.clone())
    );
    assert_eq!(t9["expires_at"].as_str().map(|e| &e[..10]), Some("2030-01-01"));

    // The group may charge at A yard.
    let admitted = op
        .post("/access-rules", &[("site_id", &site), ("group_id", &group)])
        .await;
    assert_eq!(
        (admitted.status, admitted.location.as_deref()),
        (303, Some(format!("/sites/{site}").as_str()))
    );
    let page = op.get(&format!("/sites/{site}")).await;
    assert!(
        page.body.contains("Night shift") && page.body.contains(">CP-A<"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/access-rules/") && page.body.contains("Admit the group"));

    // Support: the rule is there, no buttons; an outsider's group would be unnamed.
    let mut sup = Console::login(&t, SUP, PASSWORD).await;
    let seen = sup.get(&format!("/sites/{site}")).await;
    assert_eq!(seen.status, 200);
    assert!(seen.body.contains("id=\"access-rules\""));
    for button in ["Admit the group", "/delete", "Save", "Add driver"] {
        assert!(!seen.body.contains(button), "support sees {button}");
    }
    let sup_drivers = sup.get("/drivers").await;
    assert!(
        sup_drivers.body.contains("Ann")
            && !sup_drivers.body.contains("Add driver")
            && !sup_drivers.body.contains("/drivers/")
    );
    // A maintenance engineer does not see access rules at all.
    let mut eng = Console::login(&t, ENG, PASSWORD).await;
    let eng_site = eng.get(&format!("/sites/{site}")).await;
    assert_eq!(eng_site.status, 200);
    assert!(!eng_site.body.contains("Who may charge here"));

    // Edit and remove.
    let rule = delete_id(&page.body, "/access-rules/");
    assert_eq!(
        sup.post(&format!("/access-rules/{rule}/delete"), &[("site_id", &site)])
            .await
            .status,
        403
    );
    assert_eq!(
        op.post(&format!("/access-rules/{rule}/delete"), &[("site_id", &site)])
            .await
            .status,
        303
    );
    assert_eq!(admin.get("/access-rules").await.1, json!([]));
    assert_eq!(
        op.post(&format!("/drivers/{driver}"), &[("name", "Ann B."), ("email", "")])
            .await
            .status,
        303
    );
    let (_, ann) = admin.get(&format!("/drivers/{driver}")).await;
    assert_eq!(
        (ann["name"].as_str(), ann["email"].clone()),
        (Some("Ann B."), Value::Null)
    );
    assert_eq!(op.post(&format!("/groups/{group}/delete"), &[]).await.status, 303);
    assert_eq!(admin.get("/driver-groups").await.1, json!([]));
    assert_eq!(op.post(&format!("/drivers/{driver}/delete"), &[]).await.status, 303);

    // A tariff set, changed and deleted; a bad currency is told on the page.
    assert_eq!(
        op.post(
            "/tariffs",
            &[("organisation_id", &a), ("price_per_kwh", "0.30"), ("currency", "EUR")]
        )
        .await
        .status,
        303
    );
    let billing = op.get("/billing").await;
    let tariff = delete_id(&billing.body, "/tariffs/");
    assert_eq!(
        op.post(
            &format!("/tariffs/{tariff}"),
            &[("price_per_kwh", "0.42"), ("currency", "eur")]
        )
        .await
        .status,
        303
    );
    assert!(
        op.get("/billing").await.body.contains("ISO 4217"),
        "the refusal is on the page"
    );
    assert_eq!(
        op.post(
            &format!("/tariffs/{tariff}"),
            &[("price_per_kwh", "0.42"), ("currency", "CHF")]
        )
        .await
        .status,
        303
    );
    let (_, tariffs) = admin.get("/tariffs").await;
    assert_eq!(
        (tariffs[0]["price_per_kwh"].as_f64(), tariffs[0]["currency"].as_str()),
        (Some(0.42), Some("CHF"))
    );
    let mut flt = Console::login(&t, FLT, PASSWORD).await;
    let flt_billing = flt.get("/billing").await;
    assert!(flt_billing.body.contains("0.4200 CHF") && !flt_billing.body.contains("/tariffs/"));
    assert_eq!(op.post(&format!("/tariffs/{tariff}/delete"), &[]).await.status, 303);
    assert_eq!(admin.get("/tariffs").await.1, json!([]));

    // A site made a home site, then an empty one deleted.
    let home = op
        .post(
            &format!("/sites/{site}"),
            &[("name", "A yard"), ("kind", "home"), ("address", "")],
        )
        .await;
    assert_eq!(home.status, 303);
    assert_eq!(admin.get(&format!("/sites/{site}")).await.1["kind"], "home");
    let made = op
        .post(
            "/sites",
            &[("organisation_id", &a), ("name", "Spare"), ("kind", "public")],
        )
        .await;
    let spare = made.location.expect("to the new site's page");
    assert_eq!(op.post(&format!("{spare}/delete"), &[]).await.status, 303);
    assert_eq!(op.get(&spare).await.status, 404);
}

#[tokio::test]
async fn two_factor_is_turned_off_and_recovery_codes_renewed_in_the_console() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    world(&admin).await;
    let mut c = Console::login(&t, SUP, PASSWORD).await;
    let enrol = c.post("/account/2fa", &[]).await;
    let at = enrol.body.find("by hand: <code>").expect("the secret") + "by hand: <code>".len();
    let secret = enrol.body[at..at + enrol.body[at..].find('<').unwrap()].to_owned();
    let confirmed = c.post("/account/2fa/confirm", &[("otp", &code(&secret, 0))]).await;
    let codes = |html: &str| -> Vec<String> {
        html.split("<li><code>")
            .skip(1)
            .map(|s| s[..s.find('<').unwrap()].to_owned())
            .collect()
    };
    let first = codes(&confirmed.body);
    assert_eq!(first.len(), 10);

    let page = c.get("/account/2fa").await;
    assert!(page.body.contains("Make new recovery codes") && page.body.contains("Turn two-factor off"));
    let wrong = c
        .post(
            "/account/2fa/recovery-codes",
            &[("password", "not it"), ("otp", &first[0])],
        )
        .await;
    assert_eq!(wrong.status, 303, "told on the page");
    let renewed = c
        .post(
            "/account/2fa/recovery-codes",
            &[("password", PASSWORD), ("otp", &first[1])],
        )
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    let second = codes(&renewed.body);
    assert_eq!(second.len(), 10);
    assert!(second.iter().all(|c| !first.contains(c)));
    // The old codes are gone: one of them no longer turns two-factor off.
    let old = c
        .post("/account/2fa/disable", &[("password", PASSWORD), ("otp", &first[2])])
        .await;
    assert_eq!(old.status, 303);
    assert!(
        c.get("/account/2fa").await.body.contains("Turn two-factor off"),
        "still on"
    );
    let off = c
        .post("/account/2fa/disable", &[("password", PASSWORD), ("otp", &second[0])])
        .await;
    assert_eq!(off.status, 303);
    assert!(
        c.get("/account/2fa")
            .await
            .body
            .contains("Set up two-factor authentication")
    );
    let (_, page) = login_form(&t, SUP, "").await;
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some("/")),
        "no code asked any more"
    );
}

#[tokio::test]
async fn the_live_stream_names_only_chargers_the_session_may_read_and_ends_with_the_session() {
    use std::time::Duration;
    let t = TestServer::start().await;
    let admin = t.admin().await;
    world(&admin).await;
    let mut op = Console::login(&t, OP, PASSWORD).await;
    let flt = Console::login(&t, FLT, PASSWORD).await;
    let mut op_live = op.live().await;
    assert_eq!(op_live.status, 200);
    assert!(
        op_live.content_type.starts_with("text/event-stream"),
        "{}",
        op_live.content_type
    );
    let mut flt_live = flt.live().await;

    let mut cp_a = online_charger(&t, "CP-A", "Available").await;
    let seen = op_live.next_chargers(Duration::from_secs(5)).await;
    assert_eq!(seen, Some(json!({"chargers": ["CP-A"]})));
    // A fleet manager hears of home chargers only: not CP-A, then CP-A-HOME.
    let _home = online_charger(&t, "CP-A-HOME", "Available").await;
    let seen = flt_live.next_chargers(Duration::from_secs(5)).await;
    assert_eq!(seen, Some(json!({"chargers": ["CP-A-HOME"]})));
    // Nobody of A hears of B's charger.
    let _b = online_charger(&t, "CP-B", "Charging").await;
    let mut heard = Vec::new();
    while let Some(event) = op_live.next_chargers(Duration::from_millis(1500)).await {
        heard.push(event);
    }
    assert!(!heard.is_empty(), "CP-A-HOME at least");
    assert!(heard.iter().all(|e| !e.to_string().contains("CP-B")), "{heard:?}");

    // A status change is heard; after logout the next change ends the stream.
    cp_a.call_ok("StatusNotification", common::status_payload("1.6", "Charging"))
        .await;
    assert_eq!(
        op_live.next_chargers(Duration::from_secs(5)).await,
        Some(json!({"chargers": ["CP-A"]}))
    );
    assert_eq!(op.post("/logout", &[]).await.status, 303);
    cp_a.call_ok("StatusNotification", common::status_payload("1.6", "Available"))
        .await;
    assert_eq!(
        op_live.next_chargers(Duration::from_secs(5)).await,
        None,
        "the stream ended"
    );
    assert_eq!(Console::new(&t).live().await.status, 303, "no stream without a session");
}
