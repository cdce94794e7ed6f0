//! Writers never collide: many chargers send the notifications that follow commands (status,
//! firmware, log uploads, events, meter values) while commands write their audit rows, the API
//! writes tokens and meter batches commit. Every message must get its CALLRESULT and every
//! request its 2xx: on SQLite a single `SQLITE_BUSY` would surface as an `InternalError` here.
//! It runs on PostgreSQL too when `VOLTGATE_TEST_DATABASE_URL` is set, with several
//! group-commit writers there.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Api, TestCharger, TestServer, boot_payload};
use serde_json::{Value, json};

const CHARGERS: usize = 24;
const ROUNDS: usize = 20;
const PW: &str = "charger-password-1";

/// What a charger sends in round `round`: the notifications a trigger, an update or an upload
/// cause, an event and meter values.
fn message(round: usize) -> (&'static str, Value) {
    let now = "2026-12-01T10:00:00.000Z";
    match round % 5 {
        0 => (
            "StatusNotification",
            json!({"timestamp": now, "connectorStatus": if round % 2 == 0 { "Faulted" } else { "Available" },
                "evseId": 1, "connectorId": 1}),
        ),
        1 => (
            "FirmwareStatusNotification",
            json!({"status": "Downloading", "requestId": 1}),
        ),
        2 => ("LogStatusNotification", json!({"status": "Uploading", "requestId": 2})),
        3 => (
            "NotifyEvent",
            json!({"generatedAt": now, "seqNo": 0, "eventData": [{"eventId": round, "timestamp": now,
                "trigger": "Alerting", "actualValue": "91", "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Temperature"}, "eventNotificationType": "CustomMonitor"}]}),
        ),
        _ => (
            "MeterValues",
            json!({"evseId": 1, "meterValue": [{"timestamp": now, "sampledValue": [{"value": round * 10}]}]}),
        ),
    }
}

/// Sends its rounds, answering every CALL the server sends in between (the triggers) with
/// `Accepted`, then keeps answering until `done`; returns the CALLERRORs it got.
async fn chatter(mut cp: TestCharger, id: usize, done: Arc<AtomicBool>) -> Vec<Value> {
    let mut errors = Vec::new();
    for round in 0..ROUNDS {
        let (action, payload) = message(round + id);
        let mine = format!("m{round}");
        cp.send_raw(&json!([2, mine, action, payload]).to_string()).await;
        loop {
            let frame = cp.recv().await;
            match frame[0].as_i64() {
                Some(2) => {
                    cp.send_raw(&json!([3, frame[1], {"status": "Accepted"}]).to_string())
                        .await
                }
                Some(3) if frame[1] == json!(mine) => break,
                Some(4) if frame[1] == json!(mine) => {
                    errors.push(frame);
                    break;
                }
                _ => panic!("unexpected frame {frame}"),
            }
        }
    }
    while !done.load(Ordering::Relaxed) {
        if let Some(frame) = cp.recv_within(Duration::from_millis(50)).await {
            assert_eq!(frame[0], json!(2), "{frame}");
            cp.send_raw(&json!([3, frame[1], {"status": "Accepted"}]).to_string())
                .await;
        }
    }
    errors
}

/// Commands and API writes at the same time; returns how many triggers the chargers
/// accepted and the answers that were not 2xx.
async fn operate(admin: Api, n: usize) -> (usize, Vec<(u16, Value)>) {
    let (mut accepted, mut failures) = (0, Vec::new());
    for round in 0..ROUNDS {
        let charger = format!("W-{}", (n + round) % CHARGERS);
        let (status, body) = admin
            .post(
                &format!("/chargers/{charger}/trigger"),
                json!({"message": "StatusNotification"}),
            )
            .await;
        // A charger busy with another trigger answers 409; that is the gate, not the database.
        match status {
            200 => accepted += 1,
            409 => {}
            _ => failures.push((status, body)),
        }
        let (status, body) = admin
            .post(
                "/id-tokens",
                json!({"token": format!("W-TOKEN-{n}-{round}"), "organisation_id": 1}),
            )
            .await;
        if status != 201 {
            failures.push((status, body));
        }
    }
    (accepted, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_commands_audit_rows_and_api_writes_never_collide() {
    // The default pool: on PostgreSQL four group-commit writers then commit side by side.
    let t = TestServer::start_with(|c| c.database.max_connections = 16).await;
    let admin = t.admin().await;
    let done = Arc::new(AtomicBool::new(false));
    let mut chargers = Vec::new();
    for i in 0..CHARGERS {
        let id = format!("W-{i}");
        t.register(&id, PW).await;
        let mut cp = t.charger(&id, "2.0.1", PW).await;
        cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
        chargers.push(tokio::spawn(chatter(cp, i, done.clone())));
    }
    let operators: Vec<_> = (0..4).map(|n| tokio::spawn(operate(admin.clone(), n))).collect();

    let (mut accepted, mut failures) = (0, Vec::new());
    for o in operators {
        let (n, failed) = o.await.expect("operator task");
        accepted += n;
        failures.extend(failed);
    }
    done.store(true, Ordering::Relaxed);
    let mut errors = Vec::new();
    for c in chargers {
        errors.extend(c.await.expect("charger task"));
    }
    assert!(
        errors.is_empty(),
        "{} CALLERRORs, the first: {:?}",
        errors.len(),
        errors.iter().take(3).collect::<Vec<_>>()
    );
    assert!(accepted > 0, "no trigger reached a charger");
    assert!(failures.is_empty(), "API failures: {failures:?}");
    // Everything acknowledged is there: one timeline row per status, event and fault change.
    let (status, timeline) = admin.get("/chargers/W-0/events?limit=500").await;
    assert_eq!(status, 200, "{timeline}");
    assert!(timeline.as_array().unwrap().len() >= ROUNDS / 2, "{timeline}");
}
