//! Remote commands over real HTTP and real WebSockets: what each command sends to a 1.6 and a
//! 2.0.1 charger, what the API answers, who may send it, and what happens when the charger is
//! offline, silent, failing or reconnecting.

mod common;

use std::time::{Duration, Instant};

use common::{Api, TestCharger, TestServer, boot_payload};
use reqwest::Method;
use serde_json::{Value, json};

const PW: &str = "charger-password-1";

/// `expected` is contained in `actual` (objects: every expected key, recursively).
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        _ => actual == expected,
    }
}

/// Sends an API request while the test charger answers the one CALL it causes.
async fn command(
    api: &Api,
    cp: &mut TestCharger,
    method: Method,
    path: &str,
    body: Option<Value>,
    answer: Value,
) -> (Value, (u16, Value)) {
    let (api, path2) = (api.clone(), path.to_owned());
    let request = tokio::spawn(async move { api.send(method, &path2, body).await });
    let call = cp.recv().await;
    assert_eq!(call[0], json!(2), "{path}: a CALL reaches the charger: {call}");
    cp.send_raw(&json!([3, call[1], answer]).to_string()).await;
    (call, request.await.expect("request task"))
}

struct Case {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    action: &'static str,
    payload: Value,
    answer: Value,
    status: &'static str,
    extra: Value,
}

fn case(
    method: Method,
    path: &'static str,
    body: Value,
    action: &'static str,
    payload: Value,
    answer: Value,
    status: &'static str,
) -> Case {
    let body = (!body.is_null()).then_some(body);
    Case {
        method,
        path,
        body,
        action,
        payload,
        answer,
        status,
        extra: json!({}),
    }
}

fn cases_v16() -> Vec<Case> {
    use Method as M;
    let mut c = vec![
        case(
            M::POST,
            "reset",
            json!({"type": "soft"}),
            "Reset",
            json!({"type": "Soft"}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
        case(
            M::POST,
            "reset",
            json!({"type": "hard"}),
            "Reset",
            json!({"type": "Hard"}),
            json!({"status": "Rejected"}),
            "Rejected",
        ),
        case(
            M::POST,
            "unlock",
            json!({"connector_id": 2}),
            "UnlockConnector",
            json!({"connectorId": 2}),
            json!({"status": "Unlocked"}),
            "Unlocked",
        ),
        case(
            M::POST,
            "firmware",
            json!({"location": "https://fw.example/1.2.bin", "retrieve_at": "2026-01-01T00:00:00Z", "retries": 3}),
            "UpdateFirmware",
            json!({"location": "https://fw.example/1.2.bin", "retrieveDate": "2026-01-01T00:00:00Z", "retries": 3}),
            json!({}),
            "Accepted",
        ),
        case(
            M::POST,
            "availability",
            json!({"type": "inoperative", "connector_id": 1}),
            "ChangeAvailability",
            json!({"connectorId": 1, "type": "Inoperative"}),
            json!({"status": "Scheduled"}),
            "Scheduled",
        ),
        case(
            M::POST,
            "trigger",
            json!({"message": "StatusNotification", "connector_id": 1}),
            "TriggerMessage",
            json!({"requestedMessage": "StatusNotification", "connectorId": 1}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
        case(
            M::POST,
            "diagnostics",
            json!({"location": "ftp://diag.example/up"}),
            "GetDiagnostics",
            json!({"location": "ftp://diag.example/up"}),
            json!({"fileName": "diag.zip"}),
            "Accepted",
        ),
        case(
            M::GET,
            "configuration?key=HeartbeatInterval",
            Value::Null,
            "GetConfiguration",
            json!({"key": ["HeartbeatInterval"]}),
            json!({"configurationKey": [{"key": "HeartbeatInterval", "readonly": false, "value": "300"}]}),
            "Accepted",
        ),
        case(
            M::PUT,
            "configuration",
            json!({"key": "HeartbeatInterval", "value": "60"}),
            "ChangeConfiguration",
            json!({"key": "HeartbeatInterval", "value": "60"}),
            json!({"status": "RebootRequired"}),
            "RebootRequired",
        ),
        case(
            M::POST,
            "remote-start",
            json!({"id_token": "TAG-1", "evse_id": 1}),
            "RemoteStartTransaction",
            json!({"idTag": "TAG-1", "connectorId": 1}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
        case(
            M::POST,
            "remote-stop",
            json!({"transaction_id": "42"}),
            "RemoteStopTransaction",
            json!({"transactionId": 42}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
        case(
            M::POST,
            "clear-cache",
            Value::Null,
            "ClearCache",
            json!({}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
        // A 1.6 id may also be given as the integer it is.
        case(
            M::POST,
            "remote-stop",
            json!({"transaction_id": 42}),
            "RemoteStopTransaction",
            json!({"transactionId": 42}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
    ];
    c[6].extra = json!({"file_name": "diag.zip"});
    c[7].extra = json!({"configuration": [{"key": "HeartbeatInterval", "value": "300", "readonly": false}]});
    c
}

fn cases_v201() -> Vec<Case> {
    use Method as M;
    let var = json!({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}});
    let mut get_result = var.clone();
    get_result["attributeStatus"] = json!("Accepted");
    get_result["attributeValue"] = json!("300");
    let mut set_result = var.clone();
    set_result["attributeStatus"] = json!("RebootRequired");
    let mut set_data = var.clone();
    set_data["attributeValue"] = json!("60");
    let mut c = vec![
        case(
            M::POST,
            "reset",
            json!({"type": "soft"}),
            "Reset",
            json!({"type": "OnIdle"}),
            json!({"status": "Scheduled"}),
            "Scheduled",
        ),
        case(
            M::POST,
            "reset",
            json!({"type": "hard"}),
            "Reset",
            json!({"type": "Immediate"}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
        case(
            M::POST,
            "unlock",
            json!({"evse_id": 1, "connector_id": 1}),
            "UnlockConnector",
            json!({"evseId": 1, "connectorId": 1}),
            json!({"status": "Unlocked"}),
            "Unlocked",
        ),
        case(
            M::POST,
            "firmware",
            json!({"location": "https://fw.example/2.0.bin"}),
            "UpdateFirmware",
            json!({"firmware": {"location": "https://fw.example/2.0.bin"}}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
        case(
            M::POST,
            "availability",
            json!({"type": "operative", "evse_id": 1}),
            "ChangeAvailability",
            json!({"operationalStatus": "Operative", "evse": {"id": 1}}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
        case(
            M::POST,
            "trigger",
            json!({"message": "Heartbeat"}),
            "TriggerMessage",
            json!({"requestedMessage": "Heartbeat"}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
        case(
            M::POST,
            "diagnostics",
            json!({"location": "ftp://diag.example/up"}),
            "GetLog",
            json!({"logType": "DiagnosticsLog", "log": {"remoteLocation": "ftp://diag.example/up"}}),
            json!({"status": "Accepted", "filename": "log.tgz"}),
            "Accepted",
        ),
        case(
            M::GET,
            "configuration?key=OCPPCommCtrlr.HeartbeatInterval",
            Value::Null,
            "GetVariables",
            json!({"getVariableData": [var.clone()]}),
            json!({"getVariableResult": [get_result]}),
            "Accepted",
        ),
        case(
            M::PUT,
            "configuration",
            json!({"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "60"}),
            "SetVariables",
            json!({"setVariableData": [set_data]}),
            json!({"setVariableResult": [set_result]}),
            "RebootRequired",
        ),
        case(
            M::POST,
            "remote-start",
            json!({"id_token": "TAG-1", "evse_id": 1}),
            "RequestStartTransaction",
            json!({"idToken": {"idToken": "TAG-1", "type": "Central"}, "evseId": 1}),
            json!({"status": "Accepted", "transactionId": "tx-9"}),
            "Accepted",
        ),
        case(
            M::POST,
            "remote-stop",
            json!({"transaction_id": "tx-9"}),
            "RequestStopTransaction",
            json!({"transactionId": "tx-9"}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
        case(
            M::POST,
            "clear-cache",
            Value::Null,
            "ClearCache",
            json!({}),
            json!({"status": "Accepted"}),
            "Accepted",
        ),
    ];
    c[6].extra = json!({"file_name": "log.tgz"});
    c[7].extra =
        json!({"configuration": [{"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "300", "status": "Accepted"}]});
    c[9].extra = json!({"transaction_id": "tx-9"});
    c
}

async fn booted(t: &TestServer, id: &str, version: &str) -> TestCharger {
    t.register(id, PW).await;
    let mut cp = t.charger(id, version, PW).await;
    assert_eq!(
        cp.call_ok("BootNotification", boot_payload(version)).await["status"],
        "Accepted"
    );
    cp
}

#[tokio::test]
async fn every_command_reaches_the_charger_in_its_own_version_and_returns_its_answer() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    for (version, cases) in [("1.6", cases_v16()), ("2.0.1", cases_v201())] {
        let id = format!("CMD-{}", version.replace('.', ""));
        let mut cp = booted(&t, &id, version).await;
        for c in cases {
            let path = format!("/chargers/{id}/{}", c.path);
            let (call, (status, body)) = command(
                &admin,
                &mut cp,
                c.method.clone(),
                &path,
                c.body.clone(),
                c.answer.clone(),
            )
            .await;
            assert_eq!(call[2], json!(c.action), "{version} {path}: {call}");
            assert!(
                contains(&call[3], &c.payload),
                "{version} {path}: sent {} expected {}",
                call[3],
                c.payload
            );
            assert_eq!(status, 200, "{version} {path}: {body}");
            assert_eq!(body["status"], json!(c.status), "{version} {path}: {body}");
            assert!(contains(&body, &c.extra), "{version} {path}: {body} lacks {}", c.extra);
        }
        // 2.0.1 request ids carry the audit row id of the command.
        if version == "2.0.1" {
            let (call, _) = command(
                &admin,
                &mut cp,
                Method::POST,
                &format!("/chargers/{id}/firmware"),
                Some(json!({"location": "x:y"})),
                json!({"status": "Accepted"}),
            )
            .await;
            let (_, audit) = admin.get("/audit?limit=5").await;
            let row = audit
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["action"] == "command.firmware")
                .cloned()
                .unwrap();
            assert_eq!(call[3]["requestId"], row["id"], "{call} / {row}");
        }
    }
}

#[tokio::test]
async fn bad_command_input_is_refused_before_anything_is_sent() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let mut cp = booted(&t, "CMD-BAD", "2.0.1").await;
    let cases = [
        ("unlock", json!({"connector_id": 1}), "evse_id"),
        ("trigger", json!({"message": "MakeCoffee"}), "message"),
        ("reset", json!({"type": "gentle"}), "type"),
    ];
    for (path, body, field) in cases {
        let (status, answer) = admin.post(&format!("/chargers/CMD-BAD/{path}"), body).await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (422, Some(field)),
            "{path}: {answer}"
        );
    }
    let (status, _) = admin.get("/chargers/CMD-BAD/configuration").await;
    assert_eq!(status, 422, "2.0.1 needs keys");
    // Nothing reached the charger: the next frame it sees answers its own heartbeat.
    cp.call_ok("Heartbeat", json!({})).await;
}

async fn org(admin: &Api, name: &str, parent: i64) -> i64 {
    let (status, body) = admin
        .post("/organisations", json!({"name": name, "parent_id": parent}))
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

async fn user(t: &TestServer, admin: &Api, name: &str, org: i64, role: &str) -> Api {
    let (status, body) = admin
        .post(
            "/users",
            json!({"username": name, "password": "user-password-1", "organisation_id": org}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = admin
        .put(
            &format!("/users/{}/memberships", body["id"]),
            json!([{"organisation_id": org, "role": role}]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    t.login(name, "user-password-1").await
}

#[tokio::test]
async fn the_gate_decides_who_may_command_which_charger() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = org(&admin, "A", 1).await;
    let a1 = org(&admin, "A1", a).await;
    let b = org(&admin, "B", 1).await;
    // A home site, so a fleet manager can see the charger and be refused with 403.
    let (_, site) = admin
        .post("/sites", json!({"organisation_id": a1, "name": "Home", "kind": "home"}))
        .await;
    for (id, o) in [("CP-A1", a1), ("CP-B", b)] {
        let (status, body) = admin.post("/chargers", json!({"id": id, "organisation_id": o, "site_id": if o == a1 { site["id"].clone() } else { Value::Null }, "password": PW})).await;
        assert_eq!(status, 201, "{body}");
    }
    let mut cp_a1 = t.charger("CP-A1", "1.6", PW).await;
    cp_a1.call_ok("BootNotification", boot_payload("1.6")).await;
    let mut cp_b = t.charger("CP-B", "1.6", PW).await;
    cp_b.call_ok("BootNotification", boot_payload("1.6")).await;

    let maintenance = user(&t, &admin, "eng", a, "maintenance").await;
    let support = user(&t, &admin, "sup", a, "support").await;
    let fleet = user(&t, &admin, "fleet", a, "fleet_manager").await;

    let (_, (status, body)) = command(
        &maintenance,
        &mut cp_a1,
        Method::POST,
        "/chargers/CP-A1/reset",
        Some(json!({"type": "soft"})),
        json!({"status": "Accepted"}),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("Accepted")),
        "maintenance resets in A1"
    );
    let (_, (status, _)) = command(
        &support,
        &mut cp_a1,
        Method::POST,
        "/chargers/CP-A1/unlock",
        Some(json!({"connector_id": 1})),
        json!({"status": "Unlocked"}),
    )
    .await;
    assert_eq!(status, 200, "support unlocks in A1");

    let refusals = [
        (
            &maintenance,
            "/chargers/CP-B/reset",
            json!({"type": "soft"}),
            404,
            "not_found",
        ),
        (
            &fleet,
            "/chargers/CP-A1/reset",
            json!({"type": "soft"}),
            403,
            "forbidden",
        ),
        (
            &maintenance,
            "/chargers/CP-A1/remote-start",
            json!({"id_token": "T"}),
            403,
            "forbidden",
        ),
        (
            &support,
            "/chargers/CP-A1/remote-stop",
            json!({"transaction_id": "1"}),
            403,
            "forbidden",
        ),
        // Asking for a report is remote maintenance.
        (&fleet, "/chargers/CP-A1/report", json!({}), 403, "forbidden"),
        (&maintenance, "/chargers/CP-B/report", json!({}), 404, "not_found"),
    ];
    for (api, path, body, status, code) in refusals {
        let (got, answer) = api.post(path, body).await;
        assert_eq!(
            (got, answer["error"].as_str()),
            (status, Some(code)),
            "{path}: {answer}"
        );
    }
    // Nothing reached either charger.
    cp_a1.call_ok("Heartbeat", json!({})).await;
    cp_b.call_ok("Heartbeat", json!({})).await;
    let (_, audit) = admin.get("/audit?limit=100").await;
    let denied = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "denied" && r["action"].as_str().is_some_and(|a| a.starts_with("command.")))
        .count();
    assert_eq!(denied, 6, "{audit}");
}

#[tokio::test]
async fn offline_silent_failing_and_reconnecting_chargers() {
    let t = TestServer::start_with(|c| c.ocpp.call_timeout_s = 3).await;
    let admin = t.admin().await;
    let me = admin.get("/me").await.1["id"].clone();

    // Offline: 409 without waiting.
    t.register("CP-OFF", PW).await;
    let (status, body) = admin.post("/chargers/CP-OFF/reset", json!({"type": "soft"})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("charger_offline")),
        "{body}"
    );

    let mut cp = booted(&t, "CP-X", "1.6").await;
    // Silent: 504 after the configured timeout, not later.
    let started = Instant::now();
    let api = admin.clone();
    let request = tokio::spawn(async move { api.post("/chargers/CP-X/reset", json!({"type": "soft"})).await });
    let _ignored = cp.recv().await;
    let (status, body) = request.await.unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (504, Some("charger_timeout")),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "answered within the timeout"
    );

    // CALLERROR: 502 with the charger's code.
    let api = admin.clone();
    let request = tokio::spawn(async move { api.post("/chargers/CP-X/unlock", json!({"connector_id": 1})).await });
    let call = cp.recv().await;
    cp.send_raw(&json!([4, call[1], "NotSupported", "no actuator", {}]).to_string())
        .await;
    let (status, body) = request.await.unwrap();
    assert_eq!((status, body["error"].as_str()), (502, Some("charger_error")), "{body}");
    assert_eq!(
        body["charger_error"],
        json!({"code": "NotSupported", "description": "no actuator"})
    );

    // One command of a kind at a time.
    let api = admin.clone();
    let first = tokio::spawn(async move { api.post("/chargers/CP-X/reset", json!({"type": "hard"})).await });
    let call = cp.recv().await;
    let (status, body) = admin.post("/chargers/CP-X/reset", json!({"type": "hard"})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("busy")), "{body}");
    cp.send_raw(&json!([3, call[1], {"status": "Accepted"}]).to_string())
        .await;
    assert_eq!(first.await.unwrap().0, 200);

    // The charger reconnects while a command waits: the command answers at once.
    let api = admin.clone();
    let request = tokio::spawn(async move { api.post("/chargers/CP-X/reset", json!({"type": "soft"})).await });
    let _call = cp.recv().await;
    let started = Instant::now();
    let _replacement = t.charger("CP-X", "1.6", PW).await;
    let (status, body) = request.await.unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("charger_disconnected")),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "promptly, not at the timeout"
    );

    // Every outcome is audited with the user who asked.
    let (_, audit) = admin.get("/audit?limit=100").await;
    let outcomes: Vec<(String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"].as_str().is_some_and(|a| a.starts_with("command.")))
        .inspect(|r| assert_eq!(r["user_id"], me, "{r}"))
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("command.reset", "offline"),
        ("command.reset", "timeout"),
        ("command.unlock", "call_error"),
        ("command.reset", "busy"),
        ("command.reset", "Accepted"),
        ("command.reset", "failed"),
    ] {
        assert!(
            outcomes.iter().any(|(a, o)| a == expected.0 && o == expected.1),
            "{expected:?} in {outcomes:?}"
        );
    }
}

#[tokio::test]
async fn no_command_before_the_boot_is_accepted() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    t.register("CP-NB", PW).await;
    let mut cp = t.charger("CP-NB", "2.0.1", PW).await;
    let (status, body) = admin.post("/chargers/CP-NB/reset", json!({"type": "soft"})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("charger_not_ready")),
        "{body}"
    );
    cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
    let (_, (status, _)) = command(
        &admin,
        &mut cp,
        Method::POST,
        "/chargers/CP-NB/reset",
        Some(json!({"type": "soft"})),
        json!({"status": "Accepted"}),
    )
    .await;
    assert_eq!(status, 200);
    // After a reconnect without a new boot, the accepted boot still counts.
    drop(cp);
    let mut cp = t.charger("CP-NB", "2.0.1", PW).await;
    let (_, (status, _)) = command(
        &admin,
        &mut cp,
        Method::POST,
        "/chargers/CP-NB/reset",
        Some(json!({"type": "soft"})),
        json!({"status": "Accepted"}),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn firmware_statuses_are_tracked_and_linked_to_the_update() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    for version in ["1.6", "2.0.1"] {
        let id = format!("FW-{}", version.replace('.', ""));
        let mut cp = booted(&t, &id, version).await;
        let answer = if version == "1.6" {
            json!({})
        } else {
            json!({"status": "Accepted"})
        };
        let (call, (status, _)) = command(
            &admin,
            &mut cp,
            Method::POST,
            &format!("/chargers/{id}/firmware"),
            Some(json!({"location": "https://fw.example/x.bin"})),
            answer,
        )
        .await;
        assert_eq!(status, 200);
        for s in ["Downloading", "Downloaded", "Installing", "Installed"] {
            let mut payload = json!({"status": s});
            if version == "2.0.1" {
                payload["requestId"] = call[3]["requestId"].clone();
            }
            cp.call_ok("FirmwareStatusNotification", payload).await;
        }
        let diag = if version == "1.6" {
            ("DiagnosticsStatusNotification", json!({"status": "Uploaded"}))
        } else {
            ("LogStatusNotification", json!({"status": "Uploaded", "requestId": 7}))
        };
        cp.call_ok(diag.0, diag.1).await;

        let (_, charger) = admin.get(&format!("/chargers/{id}")).await;
        assert_eq!(charger["firmware_status"], "Installed", "{charger}");
        assert!(charger["firmware_status_at"].is_string());
        assert_eq!(charger["diagnostics_status"], "Uploaded");

        let (_, audit) = admin.get("/audit?limit=20").await;
        let update = audit
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["action"] == "command.firmware" && r["charger_id"] == json!(id))
            .cloned()
            .unwrap();
        assert_eq!(update["outcome"], "Accepted");
        let (_, events) = admin.get(&format!("/chargers/{id}/events")).await;
        let firmware: Vec<&Value> = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "firmware")
            .collect();
        assert_eq!(firmware.len(), 4, "{events}");
        assert!(
            firmware.iter().all(|e| e["audit_id"] == update["id"]),
            "linked to the update: {events}"
        );
        assert_eq!(firmware[0]["status"], "Installed", "newest first");
    }
}
