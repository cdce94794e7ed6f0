//! The OCPP endpoint over real WebSockets against a real server and database.

mod common;

use std::time::Duration;

use common::{TestCharger, TestServer, boot_payload, refusal_status, status_payload};
use entity::values::RegistrationStatus;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use voltgate::config::UnknownChargers;
use voltgate::gateway::CallFailure;

const VERSIONS: [&str; 2] = ["1.6", "2.0.1"];

#[tokio::test]
async fn boot_heartbeat_and_status_are_answered_and_stored() {
    let t = TestServer::start().await;
    for version in VERSIONS {
        let id = format!("CP-{}", version.replace('.', ""));
        t.register(&id, "secret-password-1").await;
        let mut cp = t.charger(&id, version, "secret-password-1").await;

        let boot = cp.call_ok("BootNotification", boot_payload(version)).await;
        assert_eq!(boot["status"], "Accepted", "{version}: {boot}");
        assert_eq!(boot["interval"], json!(t.config.ocpp.heartbeat_interval_s));
        assert!(boot["currentTime"].is_string());

        let hb = cp.call_ok("Heartbeat", json!({})).await;
        let time = hb["currentTime"].as_str().expect("currentTime");
        chrono::DateTime::parse_from_rfc3339(time).expect("RFC 3339 time");

        cp.call_ok("StatusNotification", status_payload(version, "Available"))
            .await;
    }
    // What the chargers said is in the database.
    for version in VERSIONS {
        let id = format!("CP-{}", version.replace('.', ""));
        let charger = t.store().charger(&id).await.unwrap().expect("charger row");
        assert_eq!(charger.ocpp_version.as_deref(), Some(version));
        assert_eq!(charger.vendor.as_deref(), Some("TestVendor"));
        assert_eq!(charger.model.as_deref(), Some("TM-1"));
        assert_eq!(charger.serial.as_deref(), Some("SN-1"));
        assert_eq!(charger.firmware_version.as_deref(), Some("1.0.0"));
        assert_eq!(charger.registration_status, RegistrationStatus::Accepted);
        assert!(charger.last_seen_at.is_some());
        let connectors = t.store().connectors_of(std::slice::from_ref(&id)).await.unwrap();
        assert_eq!(connectors.len(), 1, "{connectors:?}");
        assert_eq!((connectors[0].evse_id, connectors[0].connector_id), (1, 1));
    }
}

#[tokio::test]
async fn status_updates_replace_the_previous_one() {
    let t = TestServer::start().await;
    t.register("CP-S", "secret-password-1").await;
    let mut cp = t.charger("CP-S", "1.6", "secret-password-1").await;
    cp.call_ok("BootNotification", boot_payload("1.6")).await;
    cp.call_ok("StatusNotification", status_payload("1.6", "Available"))
        .await;
    cp.call_ok(
        "StatusNotification",
        json!({"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted", "info": "RCD tripped"}),
    )
    .await;
    let connectors = t.store().connectors_of(&["CP-S".into()]).await.unwrap();
    assert_eq!(connectors.len(), 1);
    assert_eq!(connectors[0].status, "Faulted");
    assert_eq!(connectors[0].error_code.as_deref(), Some("GroundFailure"));
    assert_eq!(connectors[0].info.as_deref(), Some("RCD tripped"));
}

#[tokio::test]
async fn wrong_or_missing_password_is_refused_before_the_upgrade() {
    let t = TestServer::start().await;
    t.register("CP-A", "right-charger-password").await;
    let base = t.ocpp_base();
    assert_eq!(
        refusal_status(TestCharger::connect(&base, "CP-A", "1.6", Some("wrong-password")).await),
        401
    );
    assert_eq!(
        refusal_status(TestCharger::connect(&base, "CP-A", "1.6", None).await),
        401
    );
    // The user name must be the charge point id.
    let other_user =
        TestCharger::connect_with(&base, "CP-A", "ocpp1.6", Some(("CP-B", "right-charger-password"))).await;
    assert_eq!(refusal_status(other_user), 401);
    assert!(t.server().state.gateway.registry().is_empty());
}

#[tokio::test]
async fn unknown_charger_is_rejected_like_a_wrong_password() {
    let t = TestServer::start().await;
    let base = t.ocpp_base();
    assert_eq!(
        refusal_status(TestCharger::connect(&base, "NOBODY", "1.6", Some("x")).await),
        401
    );
    assert!(
        t.store().charger("NOBODY").await.unwrap().is_none(),
        "a refused charger leaves no trace"
    );
}

#[tokio::test]
async fn unknown_charger_without_auth_profile_gets_404() {
    let t = TestServer::start_with(|c| c.ocpp.security_profile = 0).await;
    assert_eq!(
        refusal_status(TestCharger::connect(&t.ocpp_base(), "NOBODY", "1.6", None).await),
        404
    );
}

#[tokio::test]
async fn unknown_charger_in_pending_mode_waits_unassigned_until_registered() {
    let t = TestServer::start_with(|c| c.ocpp.unknown_chargers = UnknownChargers::Pending).await;
    for version in VERSIONS {
        let id = format!("NEW-{}", version.replace('.', ""));
        let mut cp = TestCharger::connect(&t.ocpp_base(), &id, version, None)
            .await
            .expect("pending charger connects");
        let boot = cp.call_ok("BootNotification", boot_payload(version)).await;
        assert_eq!(boot["status"], "Pending", "{version}: {boot}");
        let row = t.store().charger(&id).await.unwrap().expect("listed");
        assert_eq!(row.organisation_id, None, "shows up as unassigned");
        assert_eq!(row.registration_status, RegistrationStatus::Pending);

        // An operator assigns it; its next boot is accepted (now with its password).
        t.register(&id, "assigned-password").await;
        drop(cp);
        let mut cp = t.charger(&id, version, "assigned-password").await;
        let boot = cp.call_ok("BootNotification", boot_payload(version)).await;
        assert_eq!(boot["status"], "Accepted", "{version}: {boot}");
        // The stored registration is the one answered (both are set by the boot's one write).
        let row = t.store().charger(&id).await.unwrap().expect("listed");
        assert_eq!(row.registration_status, RegistrationStatus::Accepted);
        // Once assigned, the charger must authenticate.
        let anonymous = TestCharger::connect(&t.ocpp_base(), &id, version, None).await;
        assert_eq!(refusal_status(anonymous), 401);
    }
}

#[tokio::test]
async fn handshake_without_a_common_subprotocol_is_refused() {
    let t = TestServer::start().await;
    t.register("CP-P", "secret-password-1").await;
    let base = t.ocpp_base();
    let creds = Some(("CP-P", "secret-password-1"));
    assert_eq!(
        refusal_status(TestCharger::connect_with(&base, "CP-P", "ocpp1.5, mqtt", creds).await),
        400
    );
    // The charger's first supported choice wins.
    let cp = TestCharger::connect_with(&base, "CP-P", "ocpp2.1, ocpp2.0.1, ocpp1.6", creds)
        .await
        .expect("connects");
    drop(cp);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let cp = TestCharger::connect_with(&base, "CP-P", "ocpp2.0.1", creds)
        .await
        .expect("connects");
    let info = t.server().state.gateway.registry().connection("CP-P").expect("online");
    assert_eq!(info.version.as_str(), "2.0.1");
    drop(cp);
}

#[tokio::test]
async fn bad_paths_and_ids_are_refused() {
    let t = TestServer::start().await;
    let base = format!("ws://{}", t.server().ocpp_addr);
    assert_eq!(
        refusal_status(TestCharger::connect(&format!("{base}/other"), "CP", "1.6", None).await),
        404
    );
    assert_eq!(
        refusal_status(TestCharger::connect(&format!("{base}/ocpp"), "a%3Ab", "1.6", None).await),
        400
    );
}

/// Every kind of bad input gets the CALLERROR its version's spec names, and the next valid
/// CALL on the same socket is still answered.
#[tokio::test]
async fn bad_input_gets_the_spec_callerror_and_the_connection_keeps_serving() {
    // (frame, expected message id, 1.6 code, 2.0.1 code); None = no reply expected.
    let cases: &[(&str, Option<&str>, &str, &str)] = &[
        (
            "this is not json",
            Some("-1"),
            "FormationViolation",
            "RpcFrameworkError",
        ),
        (
            r#"{"not": "an array"}"#,
            Some("-1"),
            "FormationViolation",
            "RpcFrameworkError",
        ),
        (
            r#"[9,"m1","Heartbeat",{}]"#,
            Some("m1"),
            "ProtocolError",
            "MessageTypeNotSupported",
        ),
        (
            r#"[2,"m2","Heartbeat"]"#,
            Some("m2"),
            "FormationViolation",
            "RpcFrameworkError",
        ),
        (
            r#"[2,42,"Heartbeat",{}]"#,
            Some("-1"),
            "FormationViolation",
            "RpcFrameworkError",
        ),
        (
            r#"[2,"m3","Heartbeat","payload"]"#,
            Some("m3"),
            "FormationViolation",
            "FormatViolation",
        ),
        (
            r#"[2,"m4","BrewCoffee",{}]"#,
            Some("m4"),
            "NotImplemented",
            "NotImplemented",
        ),
        (
            r#"[2,"m5","BootNotification",{}]"#,
            Some("m5"),
            "OccurenceConstraintViolation",
            "OccurenceConstraintViolation",
        ),
        (
            r#"[2,"m6","StatusNotification",{"connectorId":"one","errorCode":"NoError","status":"Available","evseId":"one","connectorStatus":"Available","timestamp":"2026-01-01T00:00:00Z"}]"#,
            Some("m6"),
            "TypeConstraintViolation",
            "TypeConstraintViolation",
        ),
        (
            r#"[2,"m7","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Sleeping","evseId":1,"connectorStatus":"Sleeping","timestamp":"2026-01-01T00:00:00Z"}]"#,
            Some("m7"),
            "PropertyConstraintViolation",
            "PropertyConstraintViolation",
        ),
        // A CALLRESULT or CALLERROR for a CALL we never sent is logged and dropped.
        (r#"[3,"never-sent",{}]"#, None, "", ""),
        (r#"[4,"never-sent","GenericError","x",{}]"#, None, "", ""),
    ];
    let t = TestServer::start().await;
    for version in VERSIONS {
        let id = format!("CP-BAD-{}", version.replace('.', ""));
        t.register(&id, "secret-password-1").await;
        let mut cp = t.charger(&id, version, "secret-password-1").await;
        for (frame, expected_id, code16, code201) in cases {
            cp.send_raw(frame).await;
            if let Some(expected_id) = expected_id {
                let answer = cp.recv().await;
                let code = if version == "1.6" { code16 } else { code201 };
                assert_eq!(answer[0], json!(4), "{version} {frame}: {answer}");
                assert_eq!(answer[1], json!(expected_id), "{version} {frame}: {answer}");
                assert_eq!(answer[2], json!(code), "{version} {frame}: {answer}");
                assert!(
                    answer[3].is_string() && answer[4].is_object(),
                    "{version} {frame}: {answer}"
                );
            }
            // The connection still serves, and nothing else was queued before this answer.
            let hb = cp.call("Heartbeat", json!({})).await;
            assert_eq!(hb[0], json!(3), "{version} after {frame}: {hb}");
        }
    }
}

#[tokio::test]
async fn oversized_frame_closes_with_1009() {
    let t = TestServer::start_with(|c| {
        c.ocpp.max_message_size = 4096;
        c.ocpp.max_write_buffer_size = 64 * 1024;
    })
    .await;
    t.register("CP-BIG", "secret-password-1").await;
    let mut cp = t.charger("CP-BIG", "1.6", "secret-password-1").await;
    let big = format!(
        r#"[2,"b1","DataTransfer",{{"vendorId":"x","data":"{}"}}]"#,
        "A".repeat(10_000)
    );
    cp.send_raw(&big).await;
    let frame = cp.closed().await.expect("a close frame");
    assert_eq!(frame.code, CloseCode::Size);
}

#[tokio::test]
async fn a_second_connection_replaces_the_first() {
    let t = TestServer::start().await;
    t.register("CP-DUP", "secret-password-1").await;
    let mut first = t.charger("CP-DUP", "1.6", "secret-password-1").await;
    first.call_ok("BootNotification", boot_payload("1.6")).await;
    let mut second = t.charger("CP-DUP", "2.0.1", "secret-password-1").await;
    let frame = first.closed().await.expect("the first connection is closed");
    assert_eq!(frame.code, CloseCode::Policy);
    second.call_ok("BootNotification", boot_payload("2.0.1")).await;
    let registry = t.server().state.gateway.registry();
    assert_eq!(registry.len(), 1);
    assert_eq!(registry.connection("CP-DUP").map(|c| c.version.as_str()), Some("2.0.1"));
}

#[tokio::test]
async fn what_chargers_reported_survives_a_restart() {
    let mut t = TestServer::start().await;
    t.register("CP-R", "secret-password-1").await;
    let mut cp = t.charger("CP-R", "2.0.1", "secret-password-1").await;
    cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
    cp.call_ok("StatusNotification", status_payload("2.0.1", "Faulted"))
        .await;

    t.restart().await;
    let frame = cp.closed().await.expect("shutdown closes with a frame");
    assert_eq!(frame.code, CloseCode::Away, "graceful shutdown says 1001");

    let charger = t.store().charger("CP-R").await.unwrap().expect("still there");
    assert_eq!(charger.vendor.as_deref(), Some("TestVendor"));
    let connectors = t.store().connectors_of(&["CP-R".into()]).await.unwrap();
    assert_eq!(connectors[0].status, "Faulted");
    // The password too: the charger reconnects to the new process.
    let mut cp = t.charger("CP-R", "2.0.1", "secret-password-1").await;
    assert_eq!(
        cp.call_ok("BootNotification", boot_payload("2.0.1")).await["status"],
        "Accepted"
    );
}

/// The fleet as a remote-maintenance user reaches it: with the proof the gate gives.
#[derive(Clone)]
struct Maintainer {
    fleet: voltgate::cluster::Fleet,
    proof: voltgate::access::Authorized<voltgate::access::cap::RemoteMaintenance>,
}

impl Maintainer {
    async fn of(t: &TestServer) -> Self {
        let root = t.store().find_organisation("1").await.expect("root organisation");
        let proof = voltgate::access::Principal::system(&root)
            .authorize::<voltgate::access::cap::RemoteMaintenance>((&root).into())
            .expect("the platform admin maintains the root");
        Self {
            fleet: t.server().state.fleet.clone(),
            proof,
        }
    }

    async fn call(&self, charger: &str, action: &str, payload: Value) -> Result<Value, CallFailure> {
        let origin = voltgate::cluster::Origin::default();
        self.fleet.call(&self.proof, origin, charger, action, payload).await
    }
}

/// The seam later issues build on: the fleet sends a CALL and awaits its answer.
#[tokio::test]
async fn registry_calls_reach_the_charger_and_return_its_answer() {
    let t = TestServer::start_with(|c| c.ocpp.call_timeout_s = 1).await;
    t.register("CP-CALL", "secret-password-1").await;
    let registry = Maintainer::of(&t).await;
    assert_eq!(
        registry.call("NOT-CONNECTED", "Reset", json!({})).await,
        Err(CallFailure::Offline)
    );

    let mut cp = t.charger("CP-CALL", "1.6", "secret-password-1").await;
    cp.call_ok("BootNotification", boot_payload("1.6")).await;

    // CALLRESULT
    let r = registry.clone();
    let pending = tokio::spawn(async move { r.call("CP-CALL", "Reset", json!({"type": "Soft"})).await });
    let call = cp.recv().await;
    assert_eq!(
        (call[0].clone(), call[2].clone(), call[3].clone()),
        (json!(2), json!("Reset"), json!({"type": "Soft"}))
    );
    cp.send_raw(&json!([3, call[1], {"status": "Accepted"}]).to_string())
        .await;
    assert_eq!(pending.await.unwrap(), Ok(json!({"status": "Accepted"})));

    // CALLERROR
    let r = registry.clone();
    let pending = tokio::spawn(async move { r.call("CP-CALL", "UnlockConnector", json!({"connectorId": 1})).await });
    let call = cp.recv().await;
    cp.send_raw(&json!([4, call[1], "NotSupported", "no lock", {}]).to_string())
        .await;
    match pending.await.unwrap() {
        Err(CallFailure::CallError { code, description, .. }) => {
            assert_eq!((code.as_str(), description.as_str()), ("NotSupported", "no lock"))
        }
        other => panic!("expected a CALLERROR, got {other:?}"),
    }

    // No answer: timeout, and a late answer is dropped without harm.
    let r = registry.clone();
    let pending = tokio::spawn(async move { r.call("CP-CALL", "ClearCache", json!({})).await });
    let call = cp.recv().await;
    assert_eq!(pending.await.unwrap(), Err(CallFailure::Timeout));
    cp.send_raw(&json!([3, call[1], {"status": "Accepted"}]).to_string())
        .await;
    cp.call_ok("Heartbeat", json!({})).await;

    // Disconnect while waiting.
    let r = registry.clone();
    let pending = tokio::spawn(async move { r.call("CP-CALL", "Reset", json!({"type": "Hard"})).await });
    let _ = cp.recv().await;
    drop(cp);
    assert_eq!(pending.await.unwrap(), Err(CallFailure::Disconnected));
}

#[tokio::test]
async fn charger_calls_are_answered_while_a_csms_call_is_in_flight() {
    let t = TestServer::start().await;
    t.register("CP-X", "secret-password-1").await;
    let mut cp = t.charger("CP-X", "2.0.1", "secret-password-1").await;
    let registry = Maintainer::of(&t).await;
    let pending = tokio::spawn(async move { registry.call("CP-X", "Reset", json!({"type": "Immediate"})).await });
    let call: Value = cp.recv().await;
    // The charger sends its own CALL before answering ours.
    cp.call_ok("Heartbeat", json!({})).await;
    cp.send_raw(&json!([3, call[1], {"status": "Scheduled"}]).to_string())
        .await;
    assert_eq!(pending.await.unwrap(), Ok(json!({"status": "Scheduled"})));
}

#[tokio::test]
async fn a_remembered_password_check_still_refuses_wrong_and_changed_passwords() {
    let t = TestServer::start().await;
    t.register("CP-C", "first-charger-password").await;
    drop(t.charger("CP-C", "1.6", "first-charger-password").await);
    let base = t.ocpp_base();
    assert_eq!(
        refusal_status(TestCharger::connect(&base, "CP-C", "1.6", Some("wrong-password")).await),
        401
    );
    let admin = t.admin().await;
    let (status, body) = admin
        .patch("/chargers/CP-C", json!({"password": "second-charger-password"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        refusal_status(TestCharger::connect(&base, "CP-C", "1.6", Some("first-charger-password")).await),
        401
    );
    drop(t.charger("CP-C", "1.6", "second-charger-password").await);
}

#[tokio::test]
async fn frames_larger_than_the_read_buffer_but_under_the_limit_are_served() {
    let t = TestServer::start().await;
    t.register("CP-L", "secret-password-1").await;
    let mut cp = t.charger("CP-L", "1.6", "secret-password-1").await;
    let data = "x".repeat(100 * 1024);
    let answer = cp.call("DataTransfer", json!({"vendorId": "acme", "data": data})).await;
    // Answered as the spec says for a vendor voltgate does not know, not closed.
    assert_eq!(answer[0], json!(3), "{answer}");
    assert_eq!(answer[2]["status"], "UnknownVendorId", "{answer}");
    cp.call_ok("Heartbeat", json!({})).await;
}

#[tokio::test]
async fn an_overloaded_server_answers_pending_and_keeps_the_socket() {
    // Any measured commit time is over a 0 ms threshold: the first boot is measured, the next
    // ones are deferred.
    let t = TestServer::start_with(|c| c.ocpp.boot_overload_ms = 0).await;
    t.register("CP-BUSY", "secret-password-1").await;
    let mut first = t.charger("CP-BUSY", "1.6", "secret-password-1").await;
    assert_eq!(
        first.call_ok("BootNotification", boot_payload("1.6")).await["status"],
        "Accepted"
    );
    drop(first);
    for version in VERSIONS {
        let mut cp = t.charger("CP-BUSY", version, "secret-password-1").await;
        let boot = cp.call_ok("BootNotification", boot_payload(version)).await;
        assert_eq!(boot["status"], "Pending", "{version}: {boot}");
        let interval = boot["interval"].as_u64().expect("interval");
        assert!((30..90).contains(&interval), "a spread-out retry interval: {interval}");
        cp.call_ok("Heartbeat", json!({})).await;
    }
}

#[tokio::test]
async fn a_talking_charger_stays_and_a_silent_one_is_closed_when_idle() {
    let t = TestServer::start_with(|c| {
        c.ocpp.idle_timeout_s = 1;
        c.ocpp.ping_interval_s = 0;
    })
    .await;
    t.register("CP-IDLE", "secret-password-1").await;
    let mut cp = t.charger("CP-IDLE", "2.0.1", "secret-password-1").await;
    cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
    // Three idle timeouts' worth of traffic, a frame every 400 ms: never idle.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        cp.call_ok("Heartbeat", json!({})).await;
    }
    let quiet = std::time::Instant::now();
    let frame = cp.closed().await.expect("a close frame");
    assert_eq!(frame.code, CloseCode::Away, "{frame:?}");
    let waited = quiet.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "closed {waited:?} after the last frame"
    );
}

#[tokio::test]
async fn the_server_pings_and_a_charger_answering_pings_is_not_idle() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let t = TestServer::start_with(|c| {
        c.ocpp.idle_timeout_s = 2;
        c.ocpp.ping_interval_s = 1;
    })
    .await;
    t.register("CP-PING", "secret-password-1").await;
    let mut cp = t.charger("CP-PING", "1.6", "secret-password-1").await;
    cp.call_ok("BootNotification", boot_payload("1.6")).await;
    // Reading is all this charger does; tungstenite answers each ping with a pong, which is
    // what keeps it past two idle timeouts.
    let mut pings = 0;
    let until = tokio::time::Instant::now() + Duration::from_millis(4_500);
    while let Ok(frame) = tokio::time::timeout_at(until, cp.ws.next()).await {
        match frame {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Close(f))) => panic!("closed while answering pings: {f:?}"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!((3..=5).contains(&pings), "{pings} pings in 4.5 s at one a second");
    cp.call_ok("Heartbeat", json!({})).await;
}
