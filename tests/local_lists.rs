//! Local authorisation lists over real sockets (issue 20): a charger that keeps a list gets it
//! whole at boot and the changes afterwards, in both versions; a blocked card also clears the
//! caches; an offline charger catches up when it is back; limits are kept; the list and
//! Authorize agree for every token at every kind of site.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Api, TestCharger, TestServer, boot_payload};
use futures_util::StreamExt;
use serde_json::{Value, json};

const PW: &str = "charger-password-1";
const VERSIONS: [&str; 2] = ["1.6", "2.0.1"];

/// What a simulated charger holds and was sent.
#[derive(Debug, Default, Clone)]
struct Held {
    version: i64,
    /// Token -> status.
    list: BTreeMap<String, String>,
    /// `(updateType, entries)` of every SendLocalList, in order.
    sends: Vec<(String, usize)>,
    cache_clears: usize,
}

/// What the simulated charger says it can do.
#[derive(Clone, Copy)]
struct Limits {
    supported: bool,
    items: Option<usize>,
    max: Option<usize>,
}

const KEEPS_A_LIST: Limits = Limits {
    supported: true,
    items: None,
    max: None,
};

/// A booted charger answering the local-list CALLs as a real one would, in the background.
struct ListCharger {
    held: Arc<Mutex<Held>>,
    task: tokio::task::JoinHandle<()>,
}

impl ListCharger {
    async fn start(t: &TestServer, id: &str, version: &'static str, limits: Limits) -> Self {
        let held = Arc::new(Mutex::new(Held::default()));
        Self::resume(t, id, version, limits, held).await
    }

    /// Connects again keeping what it held (a reboot keeps the list, per the spec).
    async fn resume(t: &TestServer, id: &str, version: &'static str, limits: Limits, held: Arc<Mutex<Held>>) -> Self {
        let mut cp = t.charger(id, version, PW).await;
        cp.call_ok("BootNotification", boot_payload(version)).await;
        let mine = Arc::clone(&held);
        let task = tokio::spawn(async move {
            while let Some(Ok(msg)) = cp.ws.next().await {
                let Ok(text) = msg.to_text() else { continue };
                let Ok(call) = serde_json::from_str::<Value>(text) else {
                    continue;
                };
                if call[0] != json!(2) {
                    continue;
                }
                let answer = answer(version, limits, &mine, call[2].as_str().unwrap_or(""), &call[3]);
                cp.send_raw(&json!([3, call[1], answer]).to_string()).await;
            }
        });
        Self { held, task }
    }

    fn held(&self) -> Held {
        self.held.lock().unwrap().clone()
    }

    /// Waits until what it holds satisfies `done`.
    async fn until(&self, what: &str, done: impl Fn(&Held) -> bool) -> Held {
        for _ in 0..150 {
            let held = self.held();
            if done(&held) {
                return held;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what}: the charger holds {:?}", self.held());
    }

    fn stop(self) -> Arc<Mutex<Held>> {
        self.task.abort();
        self.held
    }
}

fn answer(version: &str, limits: Limits, held: &Mutex<Held>, action: &str, p: &Value) -> Value {
    let mut h = held.lock().unwrap();
    let v16 = version == "1.6";
    match action {
        "GetConfiguration" => {
            let profiles = if limits.supported {
                "Core,LocalAuthListManagement"
            } else {
                "Core"
            };
            let mut keys = vec![
                json!({"key": "SupportedFeatureProfiles", "readonly": true, "value": profiles}),
                json!({"key": "LocalAuthListEnabled", "readonly": false, "value": "true"}),
            ];
            if let Some(n) = limits.items {
                keys.push(json!({"key": "SendLocalListMaxLength", "readonly": true, "value": n.to_string()}));
            }
            if let Some(n) = limits.max {
                keys.push(json!({"key": "LocalAuthListMaxLength", "readonly": true, "value": n.to_string()}));
            }
            json!({"configurationKey": keys})
        }
        "GetVariables" => {
            let results: Vec<Value> = p["getVariableData"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let name = d["variable"]["name"].as_str().unwrap();
                    let value = match name {
                        "Enabled" | "Available" if limits.supported => Some("true".to_owned()),
                        "ItemsPerMessage" => limits.items.map(|n| n.to_string()),
                        "BytesPerMessage" => Some("4096".to_owned()),
                        _ => None,
                    };
                    match value {
                        Some(v) => json!({"attributeStatus": "Accepted", "component": d["component"],
                            "variable": d["variable"], "attributeValue": v}),
                        None => json!({"attributeStatus": "UnknownVariable", "component": d["component"],
                            "variable": d["variable"]}),
                    }
                })
                .collect();
            json!({"getVariableResult": results})
        }
        "GetLocalListVersion" if v16 => json!({"listVersion": if limits.supported { h.version } else { -1 }}),
        "GetLocalListVersion" => json!({"versionNumber": h.version}),
        "SendLocalList" => {
            let version = if v16 { &p["listVersion"] } else { &p["versionNumber"] };
            let version = version.as_i64().unwrap();
            let kind = p["updateType"].as_str().unwrap().to_owned();
            let entries = p["localAuthorizationList"].as_array().cloned().unwrap_or_default();
            let too_many = limits.items.is_some_and(|n| entries.len() > n);
            if too_many || (kind == "Differential" && version <= h.version) {
                let status = if too_many { "Failed" } else { "VersionMismatch" };
                return json!({"status": status});
            }
            if kind == "Full" {
                h.list.clear();
            }
            for e in &entries {
                let (token, info) = if v16 {
                    (e["idTag"].as_str().unwrap(), e.get("idTagInfo"))
                } else {
                    (e["idToken"]["idToken"].as_str().unwrap(), e.get("idTokenInfo"))
                };
                match info {
                    Some(info) => h
                        .list
                        .insert(token.to_owned(), info["status"].as_str().unwrap().to_owned()),
                    None => h.list.remove(token),
                };
            }
            h.version = version;
            h.sends.push((kind, entries.len()));
            json!({"status": "Accepted"})
        }
        "ClearCache" => {
            h.cache_clears += 1;
            json!({"status": "Accepted"})
        }
        _ => json!({"status": "Accepted"}),
    }
}

/// Organisation A with a private depot that keeps lists and admits group Staff.
struct Depot {
    org: i64,
    site: i64,
    staff: i64,
}

async fn depot(admin: &Api) -> Depot {
    let org = admin
        .create("/organisations", json!({"name": "A", "parent_id": 1}))
        .await;
    let site = admin
        .create(
            "/sites",
            json!({"organisation_id": org, "name": "Depot", "kind": "private", "local_list": true}),
        )
        .await;
    let staff = admin
        .create("/driver-groups", json!({"organisation_id": org, "name": "Staff"}))
        .await;
    admin
        .create("/access-rules", json!({"site_id": site, "group_id": staff}))
        .await;
    Depot { org, site, staff }
}

async fn register(admin: &Api, id: &str, org: i64, site: Option<i64>) {
    common::world::register_charger(admin, id, org, site, PW).await;
}

fn held_as(h: &Held, pairs: &[(&str, &str)]) -> bool {
    h.list.len() == pairs.len()
        && pairs
            .iter()
            .all(|(t, s)| h.list.get(*t).map(String::as_str) == Some(*s))
}

#[tokio::test]
async fn boot_brings_the_whole_list_and_changes_follow_as_differentials() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let d = depot(&admin).await;
    let staff_a = admin
        .create(
            "/id-tokens",
            json!({"token": "STAFF-A", "organisation_id": d.org, "group_id": d.staff}),
        )
        .await;
    admin
        .create("/id-tokens", json!({"token": "NO-GROUP", "organisation_id": d.org}))
        .await;
    admin
        .create(
            "/id-tokens",
            json!({"token": "STOLEN", "organisation_id": d.org, "group_id": d.staff, "status": "Blocked"}),
        )
        .await;
    for version in VERSIONS {
        let id = format!("LL-{}", version.replace('.', ""));
        register(&admin, &id, d.org, Some(d.site)).await;
        let cp = ListCharger::start(&t, &id, version, KEEPS_A_LIST).await;
        let held = cp
            .until("the whole list at boot", |h| {
                held_as(h, &[("STAFF-A", "Accepted"), ("STOLEN", "Blocked")])
            })
            .await;
        assert_eq!(held.sends[0].0, "Full", "{version}: {held:?}");
        let (status, state) = admin.get(&format!("/chargers/{id}/local-list")).await;
        assert_eq!(status, 200, "{state}");
        assert_eq!(state["state"], "synced", "{version}: {state}");
        assert_eq!(state["entries"], 2, "{state}");
        assert_eq!(state["version"], held.version, "{state}");
        assert_eq!(state["pending_changes"], 0, "{state}");
        cp.stop();
    }
    // Both chargers are gone; one comes back and stays while the tokens change.
    let cp = ListCharger::start(&t, "LL-201", "2.0.1", KEEPS_A_LIST).await;
    cp.until("in sync again", |h| h.list.len() == 2).await;
    let issued = admin
        .create(
            "/id-tokens",
            json!({"token": "STAFF-B", "organisation_id": d.org, "group_id": d.staff}),
        )
        .await;
    let held = cp
        .until("a new card within seconds", |h| h.list.contains_key("STAFF-B"))
        .await;
    assert_eq!(held.sends.last().unwrap(), &("Differential".to_owned(), 1), "{held:?}");
    let clears_before = held.cache_clears;
    let (status, body) = admin
        .patch(&format!("/id-tokens/{staff_a}"), json!({"status": "Blocked"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let held = cp
        .until("a blocked card, and the cache cleared", |h| {
            h.list.get("STAFF-A").map(String::as_str) == Some("Blocked") && h.cache_clears > clears_before
        })
        .await;
    assert_eq!(held.sends.last().unwrap().0, "Differential", "{held:?}");
    let (status, body) = admin.delete(&format!("/id-tokens/{issued}")).await;
    assert_eq!(status, 204, "{body}");
    cp.until("a deleted card removed", |h| !h.list.contains_key("STAFF-B"))
        .await;
    let (status, sync) = admin.get(&format!("/id-tokens/{staff_a}/sync")).await;
    assert_eq!(status, 200, "{sync}");
    assert_eq!(sync["applied"], 1, "LL-201 holds the block: {sync}");
    let pending = sync["pending"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{sync}");
    assert_eq!(pending[0]["charger_id"], "LL-16", "{sync}");
    assert_eq!(pending[0]["reason"], "offline", "{sync}");
    // The 1.6 charger catches up when it is back, without another change.
    let back = ListCharger::start(&t, "LL-16", "1.6", KEEPS_A_LIST).await;
    back.until("the offline charger catches up", |h| {
        h.list.get("STAFF-A").map(String::as_str) == Some("Blocked")
    })
    .await;
    let (_, sync) = admin.get(&format!("/id-tokens/{staff_a}/sync")).await;
    let applied_everywhere = async {
        for _ in 0..50 {
            let (_, sync) = admin.get(&format!("/id-tokens/{staff_a}/sync")).await;
            if sync["applied"] == 2 {
                return sync;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("not applied on both: {sync}");
    };
    let sync = applied_everywhere.await;
    assert!(sync["pending"].as_array().unwrap().is_empty(), "{sync}");
    // The console shows both: the charger's list, and where the block has reached.
    let mut console = common::console::Console::login(&t, "admin", common::ADMIN_PASSWORD).await;
    let page = console.get("/chargers/LL-16").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Local authorisation list"), "{}", page.body);
    assert!(page.body.contains("synced"), "{}", page.body);
    assert!(page.body.contains("Send the whole list"), "{}", page.body);
    let page = console.get(&format!("/tokens/{staff_a}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(r#"<p id="sync-applied">Local lists holding its latest state: <strong>2</strong>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains("Unblock"), "{}", page.body);
}

#[tokio::test]
async fn a_charger_back_from_offline_gets_what_it_missed_as_a_differential() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let d = depot(&admin).await;
    register(&admin, "LL-OFF", d.org, Some(d.site)).await;
    let cp = ListCharger::start(&t, "LL-OFF", "2.0.1", KEEPS_A_LIST).await;
    cp.until("an empty list at boot", |h| h.sends.len() == 1).await;
    let held = cp.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    admin
        .create(
            "/id-tokens",
            json!({"token": "WHILE-AWAY", "organisation_id": d.org, "group_id": d.staff}),
        )
        .await;
    let (_, state) = admin.get("/chargers/LL-OFF/local-list").await;
    for _ in 0..50 {
        let (_, state) = admin.get("/chargers/LL-OFF/local-list").await;
        if state["pending_changes"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, state_now) = admin.get("/chargers/LL-OFF/local-list").await;
    assert_eq!(state_now["pending_changes"], 1, "{state} {state_now}");
    assert_eq!(state_now["state"], "pending", "{state_now}");
    let cp = ListCharger::resume(&t, "LL-OFF", "2.0.1", KEEPS_A_LIST, held).await;
    let held = cp.until("the missed card", |h| h.list.contains_key("WHILE-AWAY")).await;
    assert_eq!(held.sends.last().unwrap(), &("Differential".to_owned(), 1), "{held:?}");
}

#[tokio::test]
async fn lists_longer_than_a_message_go_in_parts_and_too_long_lists_are_refused() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let d = depot(&admin).await;
    for i in 0..7 {
        admin
            .create(
                "/id-tokens",
                json!({"token": format!("CARD-{i}"), "organisation_id": d.org, "group_id": d.staff}),
            )
            .await;
    }
    for version in VERSIONS {
        let id = format!("LL-PARTS-{}", version.replace('.', ""));
        register(&admin, &id, d.org, Some(d.site)).await;
        let limits = Limits {
            items: Some(3),
            ..KEEPS_A_LIST
        };
        let cp = ListCharger::start(&t, &id, version, limits).await;
        let held = cp.until("seven cards in parts", |h| h.list.len() == 7).await;
        let kinds: Vec<&str> = held.sends.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["Full", "Differential", "Differential"], "{version}: {held:?}");
        assert!(held.sends.iter().all(|(_, n)| *n <= 3), "{held:?}");
        cp.stop();
    }
    register(&admin, "LL-SMALL", d.org, Some(d.site)).await;
    let small = Limits {
        max: Some(5),
        ..KEEPS_A_LIST
    };
    let cp = ListCharger::start(&t, "LL-SMALL", "1.6", small).await;
    let mut state = Value::Null;
    for _ in 0..100 {
        state = admin.get("/chargers/LL-SMALL/local-list").await.1;
        if state["state"] == "too_large" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state["state"], "too_large", "{state}");
    assert!(state["last_error"].as_str().unwrap().contains("at most 5"), "{state}");
    assert!(cp.held().sends.is_empty(), "nothing was sent: {:?}", cp.held());
}

#[tokio::test]
async fn chargers_without_a_list_are_left_alone_and_a_list_turned_off_is_emptied() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let d = depot(&admin).await;
    admin
        .create(
            "/id-tokens",
            json!({"token": "STAFF", "organisation_id": d.org, "group_id": d.staff}),
        )
        .await;
    register(&admin, "LL-NONE", d.org, Some(d.site)).await;
    let unsupported = Limits {
        supported: false,
        ..KEEPS_A_LIST
    };
    let none = ListCharger::start(&t, "LL-NONE", "1.6", unsupported).await;
    register(&admin, "LL-ON", d.org, Some(d.site)).await;
    let on = ListCharger::start(&t, "LL-ON", "1.6", KEEPS_A_LIST).await;
    on.until("the list", |h| h.list.len() == 1).await;
    let (_, state) = admin.get("/chargers/LL-NONE/local-list").await;
    assert_eq!(state["state"], "unsupported", "{state}");
    assert_eq!(state["supported"], false, "{state}");
    assert!(none.held().sends.is_empty(), "{:?}", none.held());
    // The charger's own setting overrides its site's: off empties what it holds.
    let (status, body) = admin.patch("/chargers/LL-ON", json!({"local_list": false})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["local_list"], false, "{body}");
    let held = on.until("emptied", |h| h.list.is_empty()).await;
    assert_eq!(held.sends.last().unwrap(), &("Full".to_owned(), 0), "{held:?}");
    let (_, state) = admin.get("/chargers/LL-ON/local-list").await;
    assert_eq!(state["state"], "off", "{state}");
    assert_eq!(state["enabled"], false, "{state}");
    // A forced sync is audited and sends the whole list again.
    let (status, body) = admin.patch("/chargers/LL-ON", json!({"local_list": null})).await;
    assert_eq!(status, 200, "{body}");
    on.until("back on", |h| h.list.len() == 1).await;
    let sends = on.held().sends.len();
    let (status, state) = admin.post("/chargers/LL-ON/local-list", json!({})).await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["state"], "synced", "{state}");
    let held = on.held();
    assert_eq!(held.sends.len(), sends + 1, "{held:?}");
    assert_eq!(held.sends.last().unwrap().0, "Full", "{held:?}");
    let (_, audit) = admin.get("/audit?action=command.local_list").await;
    assert!(
        audit.as_array().unwrap().iter().any(|r| r["charger_id"] == "LL-ON"),
        "{audit}"
    );
}

/// Every token at every kind of place: the list holds exactly what Authorize answers.
#[tokio::test]
async fn the_list_and_authorize_agree_for_every_token_at_every_site() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = admin
        .create("/organisations", json!({"name": "A", "parent_id": 1}))
        .await;
    let a1 = admin
        .create("/organisations", json!({"name": "A1", "parent_id": a}))
        .await;
    let b = admin
        .create("/organisations", json!({"name": "B", "parent_id": 1}))
        .await;
    let staff = admin
        .create("/driver-groups", json!({"organisation_id": a, "name": "Staff"}))
        .await;
    let family = admin
        .create("/driver-groups", json!({"organisation_id": a1, "name": "Family"}))
        .await;
    let site = |org: i64, kind: &str| json!({"organisation_id": org, "name": kind, "kind": kind, "local_list": true});
    let public = admin.create("/sites", site(a, "public")).await;
    let private = admin.create("/sites", site(a, "private")).await;
    let home = admin.create("/sites", site(a1, "home")).await;
    let foreign = admin.create("/sites", site(b, "private")).await;
    admin
        .create("/access-rules", json!({"site_id": private, "group_id": staff}))
        .await;
    admin
        .create("/access-rules", json!({"site_id": home, "group_id": family}))
        .await;
    let tokens = [
        json!({"token": "ROOT", "organisation_id": 1}),
        json!({"token": "A-PLAIN", "organisation_id": a}),
        json!({"token": "A-STAFF", "organisation_id": a, "group_id": staff, "expires_at": "2099-01-01T00:00:00Z"}),
        json!({"token": "A-BLOCKED", "organisation_id": a, "group_id": staff, "status": "Blocked"}),
        json!({"token": "A-EXPIRED", "organisation_id": a, "group_id": staff, "expires_at": "2020-01-01T00:00:00Z"}),
        json!({"token": "A1-FAMILY", "organisation_id": a1, "group_id": family}),
        json!({"token": "B-PLAIN", "organisation_id": b}),
    ];
    for token in &tokens {
        admin.create("/id-tokens", token.clone()).await;
    }
    let places = [
        ("public", a, Some(public)),
        ("private", a, Some(private)),
        ("home", a1, Some(home)),
        ("foreign", b, Some(foreign)),
        ("nowhere", a1, None),
    ];
    for (name, org, site) in places {
        let lister = format!("LIST-{name}");
        let asker = format!("ASK-{name}");
        register(&admin, &lister, org, site).await;
        register(&admin, &asker, org, site).await;
        if site.is_none() {
            let (status, body) = admin
                .patch(&format!("/chargers/{lister}"), json!({"local_list": true}))
                .await;
            assert_eq!(status, 200, "{body}");
        }
        let list = ListCharger::start(&t, &lister, "2.0.1", KEEPS_A_LIST).await;
        let held = list.until(&format!("{name}: synced"), |h| !h.sends.is_empty()).await;
        let mut ask = t.charger(&asker, "2.0.1", PW).await;
        ask.call_ok("BootNotification", boot_payload("2.0.1")).await;
        for token in &tokens {
            let value = token["token"].as_str().unwrap();
            let answer = ask
                .call_ok("Authorize", json!({"idToken": {"idToken": value, "type": "ISO14443"}}))
                .await;
            let online = answer["idTokenInfo"]["status"].as_str().unwrap().to_owned();
            let offline = held.list.get(value).cloned();
            match online.as_str() {
                "Accepted" | "Blocked" | "Expired" => {
                    assert_eq!(offline.as_deref(), Some(online.as_str()), "{name} {value}: {held:?}")
                }
                _ => assert_eq!(offline, None, "{name} {value} is {online} online: {held:?}"),
            }
        }
        list.stop();
        let _: TestCharger = ask;
    }
}
