//! The message inspector (issue 23): every exchange of a charger, its CALL beside its answer,
//! for operators, support and maintenance of its subtree (404 elsewhere, 403 for the other
//! roles inside); secrets never stored, not in the answers and not in the database file;
//! malformed frames kept as they came; pruned by age and per charger; shown and exported by
//! the console.

mod common;

use std::time::Duration;

use common::console::Console;
use common::world::{PASSWORD, create_org, create_user};
use common::{Api, TestCharger, TestServer, boot_payload};
use serde_json::{Value, json};

const PW: &str = "message-log-charger-1";

/// A (charger `id`) and B; `mnt-a`, `sup-a`, `fac-a` on A and `mnt-b` on B; the charger
/// connected and booted.
async fn world(t: &TestServer, id: &str, version: &str) -> (Api, TestCharger) {
    let admin = t.admin().await;
    let a = create_org(&admin, "A", 1).await;
    let b = create_org(&admin, "B", 1).await;
    create_user(&admin, "mnt-a", a, &[(a, "maintenance")]).await;
    create_user(&admin, "sup-a", a, &[(a, "support")]).await;
    create_user(&admin, "fac-a", a, &[(a, "facility_manager")]).await;
    create_user(&admin, "mnt-b", b, &[(b, "maintenance")]).await;
    let (status, body) = admin
        .post("/chargers", json!({"id": id, "organisation_id": a, "password": PW}))
        .await;
    assert_eq!(status, 201, "{body}");
    let mut cp = t.charger(id, version, PW).await;
    let boot = cp.call_ok("BootNotification", boot_payload(version)).await;
    assert_eq!(boot["status"], "Accepted", "{boot}");
    (t.login("mnt-a", PASSWORD).await, cp)
}

/// The charger's log once it holds at least `n` exchanges (the writer batches).
async fn log_of(api: &Api, id: &str, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = api.get(&format!("/chargers/{id}/messages?limit=500")).await;
        assert_eq!(status, 200, "{body}");
        let rows = body.as_array().expect("a list").clone();
        if rows.len() >= n || tokio::time::Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends a command through the API and answers it as the charger.
async fn command(api: &Api, cp: &mut TestCharger, path: &str, body: Value, answer: Value) -> Value {
    let (api, path) = (api.clone(), path.to_owned());
    let request = tokio::spawn(async move { api.post(&path, body).await });
    let call = cp.recv().await;
    assert_eq!(call[0], json!(2), "{call}");
    cp.send_raw(&json!([3, call[1], answer]).to_string()).await;
    let (status, reply) = request.await.expect("request task");
    assert_eq!(status, 200, "{reply}");
    call
}

#[tokio::test]
async fn a_boot_and_a_command_round_trip_are_shown_to_the_subtree_and_nobody_else() {
    let t = TestServer::start().await;
    let (mnt_a, mut cp) = world(&t, "CP-LOG", "1.6").await;
    let call = command(
        &mnt_a,
        &mut cp,
        "/chargers/CP-LOG/reset",
        json!({"type": "soft"}),
        json!({"status": "Accepted"}),
    )
    .await;
    let rows = log_of(&mnt_a, "CP-LOG", 2).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    // Newest first: the reset voltgate sent, beside the charger's answer.
    let reset = &rows[0];
    assert_eq!(
        (reset["direction"].as_str(), reset["action"].as_str()),
        (Some("out"), Some("Reset"))
    );
    assert_eq!(reset["message_id"], call[1]);
    assert_eq!(reset["request"]["message_type"], "Call");
    assert_eq!(reset["request"]["payload"], json!({"type": "Soft"}));
    assert_eq!(reset["response"]["message_type"], "CallResult");
    assert_eq!(reset["response"]["payload"], json!({"status": "Accepted"}));
    assert_eq!(reset["outcome"], "CallResult");
    assert!(reset["request"]["size"].as_i64().unwrap() > 10);
    let boot = &rows[1];
    assert_eq!(
        (boot["direction"].as_str(), boot["action"].as_str()),
        (Some("in"), Some("BootNotification"))
    );
    assert_eq!(boot["request"]["payload"], boot_payload("1.6"));
    assert_eq!(boot["response"]["payload"]["status"], "Accepted");

    let only_out = mnt_a.get("/chargers/CP-LOG/messages?direction=out").await.1;
    assert_eq!(only_out.as_array().unwrap().len(), 1, "{only_out}");
    let only_boot = mnt_a.get("/chargers/CP-LOG/messages?action=BootNotification").await.1;
    assert_eq!(only_boot.as_array().unwrap().len(), 1, "{only_boot}");
    let before = reset["at"].as_str().unwrap();
    let older = mnt_a
        .get(&format!(
            "/chargers/CP-LOG/messages?before={}",
            before.replace('+', "%2B")
        ))
        .await
        .1;
    assert_eq!(older.as_array().unwrap().len(), 1, "paging by time: {older}");

    let sup_a = t.login("sup-a", PASSWORD).await;
    assert_eq!(sup_a.get("/chargers/CP-LOG/messages").await.0, 200, "support reads it");
    let fac_a = t.login("fac-a", PASSWORD).await;
    assert_eq!(
        fac_a.get("/chargers/CP-LOG/messages").await.0,
        403,
        "not a facility manager's tool"
    );
    let mnt_b = t.login("mnt-b", PASSWORD).await;
    assert_eq!(
        mnt_b.get("/chargers/CP-LOG/messages").await.0,
        404,
        "another subtree's charger"
    );
    assert_eq!(t.anonymous().get("/chargers/CP-LOG/messages").await.0, 401);
}

/// Whether the database's files hold `needle` anywhere (SQLite only; PostgreSQL keeps its
/// files out of reach).
fn database_files_hold(t: &TestServer, needle: &str) -> bool {
    let Some(path) = t.db.url.strip_prefix("sqlite://") else {
        return false;
    };
    // Every file beside the database: the message log's own file and both write-ahead logs.
    let dir = std::path::Path::new(path.split('?').next().unwrap())
        .parent()
        .expect("the database's directory");
    std::fs::read_dir(dir)
        .expect("the database's directory")
        .filter_map(|entry| std::fs::read(entry.ok()?.path()).ok())
        .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

#[tokio::test]
async fn secrets_never_enter_the_log() {
    let t = TestServer::start().await;
    let (mnt_a, mut cp) = world(&t, "CP-SEC", "2.0.1").await;
    let password = "rotated-password-0123456789abcdef";
    command(
        &mnt_a,
        &mut cp,
        "/chargers/CP-SEC/variables",
        json!([{"component": "SecurityCtrlr", "variable": "BasicAuthPassword", "value": password},
            {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "120"}]),
        json!({"setVariableResult": [
            {"attributeStatus": "Accepted", "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}},
            {"attributeStatus": "Accepted", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}),
    )
    .await;
    // A charger that reports its password in a report, or a private key anywhere.
    cp.call_ok(
        "NotifyReport",
        json!({"requestId": 1, "generatedAt": "2026-12-03T10:00:00.000Z", "seqNo": 0,
            "reportData": [{"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
                "variableAttribute": [{"value": "reported-secret-value-1"}]}]}),
    )
    .await;
    cp.call_ok(
        "DataTransfer",
        json!({"vendorId": "x", "data": "-----BEGIN PRIVATE KEY-----\nMIIEvQprivatebits\n-----END PRIVATE KEY-----"}),
    )
    .await;

    let rows = log_of(&mnt_a, "CP-SEC", 4).await;
    let text = serde_json::to_string(&rows).unwrap();
    assert!(text.contains("SetVariables") && text.contains("\"120\""), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
    for secret in [password, "reported-secret-value-1", "MIIEvQprivatebits"] {
        assert!(!text.contains(secret), "{secret} in the log: {text}");
    }
    // Give the writer time to have committed everything, then look at the bytes on disk.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for secret in [password, "reported-secret-value-1", "MIIEvQprivatebits"] {
        assert!(!database_files_hold(&t, secret), "{secret} is in the database file");
    }
}

#[tokio::test]
async fn a_1_6_authorization_key_never_enters_the_log() {
    let t = TestServer::start().await;
    let (mnt_a, mut cp) = world(&t, "CP-KEY", "1.6").await;
    let key = "00112233445566778899aabbccddeeff";
    command(
        &mnt_a,
        &mut cp,
        "/chargers/CP-KEY/variables",
        json!([{"component": "", "variable": "AuthorizationKey", "value": key}]),
        json!({"status": "Accepted"}),
    )
    .await;
    let rows = log_of(&mnt_a, "CP-KEY", 2).await;
    let text = serde_json::to_string(&rows).unwrap();
    assert!(text.contains("ChangeConfiguration"), "{text}");
    assert!(!text.contains(key), "{text}");
}

#[tokio::test]
async fn malformed_frames_and_unanswered_calls_are_kept_as_they_happened() {
    let t = TestServer::start_with(|c| c.ocpp.call_timeout_s = 1).await;
    let (mnt_a, mut cp) = world(&t, "CP-BAD", "1.6").await;
    cp.send_raw("this is not json").await;
    let error = cp.recv().await;
    assert_eq!(error[0], json!(4), "{error}");
    let (status, _) = mnt_a.post("/chargers/CP-BAD/reset", json!({"type": "hard"})).await;
    assert_eq!(status, 504, "the charger never answers");
    let rows = log_of(&mnt_a, "CP-BAD", 3).await;
    let timeout = &rows[0];
    assert_eq!(
        (timeout["action"].as_str(), timeout["outcome"].as_str()),
        (Some("Reset"), Some("Timeout")),
        "{rows:?}"
    );
    assert!(timeout["response"].is_null());
    let bad = &rows[1];
    assert_eq!(bad["request"]["message_type"], "Malformed", "{bad}");
    assert_eq!(bad["request"]["payload"], "this is not json");
    assert_eq!(bad["response"]["message_type"], "CallError");
    assert!(bad["action"].is_null());
}

#[tokio::test]
async fn old_exchanges_and_those_over_the_cap_are_pruned() {
    let t = TestServer::start_with(|c| {
        c.ocpp.message_log_retention_h = 1;
        c.ocpp.message_log_max_per_charger = 5;
    })
    .await;
    let (mnt_a, mut cp) = world(&t, "CP-OLD", "1.6").await;
    let old = chrono::Utc::now() - chrono::Duration::hours(2);
    let stale = voltgate::store::NewMessage {
        charger_id: "CP-OLD".into(),
        at: old,
        direction: entity::values::MessageDirection::In,
        action: Some("Heartbeat".into()),
        message_id: Some("stale".into()),
        request: r#"[2,"stale","Heartbeat",{}]"#.into(),
        request_size: 26,
        response_type: None,
        response: None,
        response_size: None,
        responded_at: None,
    };
    t.store().record_messages(&[stale]).await.expect("old row stored");
    for _ in 0..8 {
        cp.call_ok("Heartbeat", json!({})).await;
    }
    assert_eq!(
        log_of(&mnt_a, "CP-OLD", 10).await.len(),
        10,
        "boot, 8 heartbeats and the old row"
    );
    let pruned = voltgate::inspector::prune(t.store(), &t.config.ocpp)
        .await
        .expect("prune");
    assert_eq!(pruned, 5, "the old row, then the oldest beyond the cap of 5");
    let rows = log_of(&mnt_a, "CP-OLD", 0).await;
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .all(|r| r["action"] == "Heartbeat" && r["message_id"] != "stale"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn the_log_can_be_turned_off() {
    let t = TestServer::start_with(|c| c.ocpp.message_log = false).await;
    let (mnt_a, mut cp) = world(&t, "CP-OFF", "1.6").await;
    cp.call_ok("Heartbeat", json!({})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(log_of(&mnt_a, "CP-OFF", 0).await.len(), 0);
}

#[tokio::test]
async fn the_console_shows_the_conversation_and_exports_it() {
    let t = TestServer::start().await;
    let (mnt_a, mut cp) = world(&t, "CP-CON", "1.6").await;
    cp.call_ok("Heartbeat", json!({})).await;
    log_of(&mnt_a, "CP-CON", 2).await;
    let mut c = Console::login(&t, "mnt-a", PASSWORD).await;
    let charger = c.get("/chargers/CP-CON").await;
    assert!(
        charger.body.contains("/chargers/CP-CON/messages"),
        "the charger page links the inspector"
    );
    let page = c.get("/chargers/CP-CON/messages").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("BootNotification") && page.body.contains("Heartbeat"));
    let only = c.get("/chargers/CP-CON/messages?action=Heartbeat&direction=in").await;
    assert!(!only.body.contains("BootNotification"), "filtered");
    let csv = c.get("/chargers/CP-CON/messages.csv").await;
    assert_eq!(csv.status, 200);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("id,at,direction,action"), "{}", csv.body);
    assert_eq!(lines.len(), 3, "{}", csv.body);
    let exported: Value = serde_json::from_str(&c.get("/chargers/CP-CON/messages.json").await.body).unwrap();
    assert_eq!(exported.as_array().unwrap().len(), 2);
    let mut fac = Console::login(&t, "fac-a", PASSWORD).await;
    assert!(
        !fac.get("/chargers/CP-CON").await.body.contains("/messages"),
        "no link without the permission"
    );
    assert_eq!(fac.get("/chargers/CP-CON/messages").await.status, 403);
    let mut other = Console::login(&t, "mnt-b", PASSWORD).await;
    assert_eq!(other.get("/chargers/CP-CON/messages.csv").await.status, 404);
}
