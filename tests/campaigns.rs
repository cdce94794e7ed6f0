//! Campaigns (issue 22) over real HTTP and real WebSockets: simulated chargers of both versions
//! answer each command as told (Accepted, Rejected, CALLERROR, firmware statuses) and count
//! what they were sent; the campaign only ever reaches the chargers its creator may command,
//! pauses itself at its failure ratio, waits for offline chargers, follows firmware to
//! `Installed`, and survives a restart without sending a charger its command twice.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::world::{PASSWORD, create_org, create_user};
use common::{Api, TestCharger, TestServer, boot_payload};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const PW: &str = "charger-password-1";

/// How a simulated charger answers a CALL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    Accept,
    Reject,
    CallError,
    /// UpdateFirmware accepted, then Downloading and, once released, `Installed`.
    InstallWhenReleased,
    /// UpdateFirmware accepted, then Downloading, InstallationFailed.
    FailInstall,
}

/// What the simulated chargers were sent (action per charger), and where they connect.
#[derive(Clone, Default)]
struct Fleet {
    got: Arc<Mutex<HashMap<String, Vec<String>>>>,
    base: Arc<Mutex<String>>,
    released: Arc<Mutex<Vec<String>>>,
}

impl Fleet {
    fn sent(&self, charger: &str, action: &str) -> usize {
        let got = self.got.lock().unwrap();
        got.get(charger)
            .map_or(0, |a| a.iter().filter(|x| *x == action).count())
    }

    fn release(&self, charger: &str) {
        self.released.lock().unwrap().push(charger.to_owned());
    }
}

/// A charger that connects (again, after every disconnect), boots, and answers every CALL
/// as `behaviour` says after `delay`.
fn simulate(fleet: &Fleet, id: &str, version: &'static str, behaviour: Behaviour, delay: Duration) {
    let (fleet, id) = (fleet.clone(), id.to_owned());
    tokio::spawn(async move {
        loop {
            let base = fleet.base.lock().unwrap().clone();
            let Ok(mut cp) = TestCharger::connect(&base, &id, version, Some(PW)).await else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            cp.call_ok("BootNotification", boot_payload(version)).await;
            serve(&fleet, &mut cp, &id, version, behaviour, delay).await;
        }
    });
}

/// Answers CALLs until the connection closes.
async fn serve(fleet: &Fleet, cp: &mut TestCharger, id: &str, version: &str, behaviour: Behaviour, delay: Duration) {
    let mut waiting_release: Option<i64> = None;
    let mut next = 0;
    loop {
        if let Some(request_id) = waiting_release
            && fleet.released.lock().unwrap().iter().any(|r| r == id)
        {
            waiting_release = None;
            if !notify(cp, version, "Installed", request_id, &mut next).await {
                return;
            }
        }
        let frame = match tokio::time::timeout(Duration::from_millis(50), cp.ws.next()).await {
            Err(_) => continue,
            Ok(Some(Ok(Message::Text(t)))) => t,
            Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => return,
            Ok(Some(Ok(_))) => continue,
        };
        let msg: Value = serde_json::from_str(&frame).unwrap();
        if msg[0] != 2 {
            continue; // answers to the status notifications it sent
        }
        let action = msg[2].as_str().unwrap().to_owned();
        fleet
            .got
            .lock()
            .unwrap()
            .entry(id.to_owned())
            .or_default()
            .push(action.clone());
        tokio::time::sleep(delay).await;
        let answer = match behaviour {
            Behaviour::CallError => json!([4, msg[1], "InternalError", "the charger is unwell", {}]),
            Behaviour::Reject => json!([3, msg[1], {"status": "Rejected"}]),
            _ if action == "UpdateFirmware" && version == "1.6" => json!([3, msg[1], {}]),
            _ => json!([3, msg[1], {"status": "Accepted"}]),
        };
        if cp.ws.send(Message::Text(answer.to_string().into())).await.is_err() {
            return;
        }
        if action == "UpdateFirmware" {
            let request_id = msg[3]["requestId"].as_i64().unwrap_or(0);
            if !notify(cp, version, "Downloading", request_id, &mut next).await {
                return;
            }
            if behaviour == Behaviour::InstallWhenReleased {
                waiting_release = Some(request_id);
            } else if behaviour == Behaviour::FailInstall
                && !notify(cp, version, "InstallationFailed", request_id, &mut next).await
            {
                return;
            }
        }
    }
}

/// Sends a FirmwareStatusNotification (its answer is skipped by [`serve`]).
async fn notify(cp: &mut TestCharger, version: &str, status: &str, request_id: i64, next: &mut u64) -> bool {
    *next += 1;
    let mut payload = json!({"status": status});
    if version == "2.0.1" {
        payload["requestId"] = json!(request_id);
    }
    let frame = json!([2, format!("fw{next}"), "FirmwareStatusNotification", payload]);
    cp.ws.send(Message::Text(frame.to_string().into())).await.is_ok()
}

async fn register(admin: &Api, id: &str, org: i64) {
    let (status, body) = admin
        .post("/chargers", json!({"id": id, "organisation_id": org, "password": PW}))
        .await;
    assert_eq!(status, 201, "register {id}: {body}");
}

/// Polls the campaign until `done` says so; panics with the last answer after `within`.
async fn until(api: &Api, id: i64, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let (status, body) = api.get(&format!("/campaigns/{id}?limit=500")).await;
        assert_eq!(status, 200, "{body}");
        if done(&body) {
            return body;
        }
        assert!(start.elapsed() < within, "campaign {id} did not get there: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Like [`until`], resuming the campaign whenever it paused itself.
async fn resuming_until(api: &Api, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let (_, c) = api.get(&format!("/campaigns/{id}")).await;
        if done(&c) {
            return c;
        }
        if c["state"] == "paused" {
            let (status, body) = api.post(&format!("/campaigns/{id}/resume"), json!({})).await;
            assert_eq!(status, 200, "{body}");
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{c}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn count(c: &Value, state: &str) -> u64 {
    c["counts"][state].as_u64().unwrap()
}

fn version_of(i: usize) -> &'static str {
    if i % 2 == 0 { "1.6" } else { "2.0.1" }
}

#[tokio::test]
async fn a_campaign_reaches_only_the_chargers_its_creator_may_command_and_pauses_at_its_failure_ratio() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let fleet = Fleet::default();
    *fleet.base.lock().unwrap() = t.ocpp_base();
    let a = create_org(&admin, "A", 1).await;
    let a1 = create_org(&admin, "A1", a).await;
    let b = create_org(&admin, "B", 1).await;

    // 44 online chargers in A's subtree (a tenth refuse, a tenth answer CALLERROR), 5 offline,
    // and one online in B that must never hear anything.
    let mut expected: HashMap<String, Behaviour> = HashMap::new();
    for i in 0..49 {
        let id = format!("CP-{i:02}");
        register(&admin, &id, if i % 3 == 0 { a } else { a1 }).await;
        if i >= 44 {
            continue;
        }
        let behaviour = match i % 10 {
            3 => Behaviour::Reject,
            7 => Behaviour::CallError,
            _ => Behaviour::Accept,
        };
        simulate(&fleet, &id, version_of(i), behaviour, Duration::from_millis(20));
        expected.insert(id, behaviour);
    }
    register(&admin, "CP-B", b).await;
    simulate(&fleet, "CP-B", "1.6", Behaviour::Accept, Duration::ZERO);

    create_user(&admin, "eng-a", a, &[(a, "maintenance")]).await;
    let eng = t.login("eng-a", PASSWORD).await;
    let reset = json!({"kind": "reset", "type": "soft"});

    // What the engineer cannot reach is not counted, not named, and refused as elsewhere.
    let (status, body) = eng
        .post(
            "/campaigns",
            json!({"name": "x", "command": reset, "target": {"organisation_id": b}}),
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
    let (status, body) = eng
        .post(
            "/campaigns",
            json!({"name": "x", "command": reset, "target": {"charger_ids": ["CP-B"]}}),
        )
        .await;
    assert_eq!(status, 422, "only chargers of another subtree: {body}");
    let (status, body) = eng
        .post(
            "/campaigns",
            json!({"name": "x", "command": {"kind": "set_variables", "items": [{"component": "SecurityCtrlr", "variable": "BasicAuthPassword", "value": "0123456789abcdef"}]}}),
        )
        .await;
    assert_eq!(status, 422, "a password in a campaign: {body}");
    create_user(&admin, "fleet-a", a, &[(a, "fleet_manager")]).await;
    let fm = t.login("fleet-a", PASSWORD).await;
    let (status, body) = fm.post("/campaigns", json!({"name": "x", "command": reset})).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "{body}");

    // Wait until every simulated charger has booted, so the campaign finds them online.
    let start = Instant::now();
    loop {
        let (_, online) = admin.get("/chargers?limit=500").await;
        let n = online
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["online"] == json!(true))
            .count();
        if n == 45 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{n} online");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let body = json!({"name": "overnight resets", "command": reset, "concurrency": 5, "max_failure_ratio": 0.15});
    let (status, created) = eng.post("/campaigns", body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["organisation_id"], json!(a), "the campaign lives in A");
    assert_eq!(count(&created, "total"), 49, "A's 49 chargers, not B's: {created}");
    let id = created["id"].as_i64().unwrap();

    // Refusals and CALLERRORs are one in five: past 0.15, so it pauses itself.
    let paused = until(&eng, id, Duration::from_secs(30), |c| c["state"] == "paused").await;
    assert!(
        paused["reason"].as_str().is_some_and(|r| r.contains("failed")),
        "{paused}"
    );
    // Paused: steps in flight finish, nothing new starts.
    let settled = until(&eng, id, Duration::from_secs(10), |c| count(c, "sending") == 0).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, still) = eng.get(&format!("/campaigns/{id}")).await;
    assert_eq!(
        count(&still, "queued"),
        count(&settled, "queued"),
        "nothing sent while paused: {still}"
    );

    // Resumed (the ratio counts afresh each time) until only the offline chargers wait.
    let waiting = resuming_until(&eng, id, |c| count(c, "queued") == 5 && count(c, "sending") == 0).await;
    let failing = expected.values().filter(|b| **b != Behaviour::Accept).count() as u64;
    assert_eq!(count(&waiting, "succeeded"), 44 - failing, "{waiting}");
    assert_eq!(count(&waiting, "failed"), failing, "{waiting}");

    // Two of the offline chargers come online and get theirs.
    for i in [44, 45] {
        simulate(
            &fleet,
            &format!("CP-{i:02}"),
            version_of(i),
            Behaviour::Accept,
            Duration::ZERO,
        );
    }
    let c = resuming_until(&eng, id, |c| count(c, "queued") == 3 && count(c, "sending") == 0).await;
    assert_eq!(count(&c, "succeeded"), 44 - failing + 2, "{c}");

    // Cancelled: the rest are never sent it.
    let (status, cancelled) = eng.post(&format!("/campaigns/{id}/cancel"), json!({})).await;
    assert_eq!(
        (status, cancelled["state"].as_str()),
        (200, Some("cancelled")),
        "{cancelled}"
    );
    assert_eq!(count(&cancelled, "cancelled"), 3, "{cancelled}");
    let (status, body) = eng.post(&format!("/campaigns/{id}/resume"), json!({})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{body}");

    // Each charger was sent its reset exactly once; B's charger never.
    for (charger, behaviour) in &expected {
        assert_eq!(fleet.sent(charger, "Reset"), 1, "{charger} ({behaviour:?})");
    }
    assert_eq!(fleet.sent("CP-B", "Reset"), 0, "B's charger heard nothing");
    let (_, full) = eng.get(&format!("/campaigns/{id}?limit=500")).await;
    for row in full["chargers"].as_array().unwrap() {
        let charger = row["charger_id"].as_str().unwrap();
        let want = match expected.get(charger) {
            Some(Behaviour::Accept) => ("succeeded", "Accepted"),
            Some(Behaviour::Reject) => ("failed", "Rejected"),
            Some(_) => ("failed", "call_error"),
            None if charger == "CP-44" || charger == "CP-45" => ("succeeded", "Accepted"),
            None => ("cancelled", ""),
        };
        assert_eq!(row["state"], want.0, "{row}");
        if !want.1.is_empty() {
            assert_eq!(row["answer"], want.1, "the charger's own answer: {row}");
        }
    }
    // The ordinary command's audit rows, one per charger sent to, under the engineer.
    let (_, audit) = admin.get("/audit?limit=500").await;
    let resets = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "command.reset")
        .filter(|r| ["Accepted", "Rejected", "call_error"].contains(&r["outcome"].as_str().unwrap_or("")))
        .count();
    assert_eq!(resets, 46, "one audit row per reset sent");
}

#[tokio::test]
async fn a_campaign_survives_a_restart_without_sending_a_charger_its_command_twice() {
    let mut t = TestServer::start().await;
    let admin = t.admin().await;
    let fleet = Fleet::default();
    *fleet.base.lock().unwrap() = t.ocpp_base();
    let ids: Vec<String> = (0..12).map(|i| format!("RS-{i:02}")).collect();
    for (i, id) in ids.iter().enumerate() {
        register(&admin, id, 1).await;
        simulate(&fleet, id, version_of(i), Behaviour::Accept, Duration::from_millis(300));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let body = json!({"name": "restart", "command": {"kind": "reset", "type": "hard"}, "concurrency": 2});
    let (status, created) = admin.post("/campaigns", body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    until(&admin, id, Duration::from_secs(20), |c| count(c, "succeeded") >= 4).await;

    t.restart().await;
    *fleet.base.lock().unwrap() = t.ocpp_base();
    let admin = t.admin().await;
    let done = until(&admin, id, Duration::from_secs(40), |c| c["state"] == "done").await;

    for row in done["chargers"].as_array().unwrap() {
        let charger = row["charger_id"].as_str().unwrap();
        let sent = fleet.sent(charger, "Reset");
        assert!(sent <= 1, "{charger} was sent {sent} resets: {row}");
        if row["state"] == "succeeded" {
            assert_eq!(sent, 1, "{row}");
        }
        assert!(
            ["succeeded", "failed", "interrupted"].contains(&row["state"].as_str().unwrap()),
            "{row}"
        );
    }
    assert!(count(&done, "succeeded") >= 8, "most went through: {done}");
}

#[tokio::test]
async fn a_firmware_campaign_counts_a_charger_done_when_it_reports_installed() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let fleet = Fleet::default();
    *fleet.base.lock().unwrap() = t.ocpp_base();
    register(&admin, "FW-1", 1).await;
    register(&admin, "FW-2", 1).await;
    simulate(&fleet, "FW-1", "1.6", Behaviour::InstallWhenReleased, Duration::ZERO);
    simulate(&fleet, "FW-2", "2.0.1", Behaviour::FailInstall, Duration::ZERO);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let body = json!({"name": "fw 2.1", "command": {"kind": "firmware", "location": "https://fw.example/2.1.bin"},
        "concurrency": 1, "max_failure_ratio": 1.0});
    let (status, created) = admin.post("/campaigns", body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();

    // FW-1 took it and is downloading: it holds the one place, so FW-2 waits.
    let installing = until(&admin, id, Duration::from_secs(10), |c| count(c, "installing") == 1).await;
    let row = &installing["chargers"][0];
    assert_eq!(
        (row["charger_id"].as_str(), row["state"].as_str()),
        (Some("FW-1"), Some("installing")),
        "{installing}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        fleet.sent("FW-2", "UpdateFirmware"),
        0,
        "concurrency counts chargers still installing"
    );

    fleet.release("FW-1");
    let done = until(&admin, id, Duration::from_secs(15), |c| c["state"] == "done").await;
    let rows = done["chargers"].as_array().unwrap();
    assert_eq!(
        (rows[0]["state"].as_str(), rows[0]["answer"].as_str()),
        (Some("succeeded"), Some("Installed")),
        "{done}"
    );
    assert_eq!(
        (rows[1]["state"].as_str(), rows[1]["answer"].as_str()),
        (Some("failed"), Some("InstallationFailed")),
        "{done}"
    );
}
