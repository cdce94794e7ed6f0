//! What a real charger says beyond the happy path, over real sockets: faults of both versions
//! opening and clearing on the charger, the list and the dashboard of the right subtree only;
//! security events for those who may read them; and the messages voltgate has no function
//! behind yet answered as the specs prescribe and kept on the timeline.

mod common;

use common::world::{PASSWORD, create_org, create_user};
use common::{Api, TestCharger, TestServer, boot_payload};
use serde_json::{Value, json};

const PW: &str = "charger-password-1";

/// Root -> A (charger `id`, a maintenance and a support user) and Root -> B (its maintenance
/// user); answers the A maintenance, A support and B maintenance sessions and the charger.
async fn world(t: &TestServer, id: &str, version: &str) -> (Api, Api, Api, TestCharger) {
    let admin = t.admin().await;
    let a = create_org(&admin, "A", 1).await;
    let b = create_org(&admin, "B", 1).await;
    create_user(&admin, "mnt-a", a, &[(a, "maintenance")]).await;
    create_user(&admin, "sup-a", a, &[(a, "support")]).await;
    create_user(&admin, "mnt-b", b, &[(b, "maintenance")]).await;
    let (status, body) = admin
        .post("/chargers", json!({"id": id, "organisation_id": a, "password": PW}))
        .await;
    assert_eq!(status, 201, "{body}");
    let mut cp = t.charger(id, version, PW).await;
    let boot = cp.call_ok("BootNotification", boot_payload(version)).await;
    assert_eq!(boot["status"], "Accepted", "{boot}");
    (
        t.login("mnt-a", PASSWORD).await,
        t.login("sup-a", PASSWORD).await,
        t.login("mnt-b", PASSWORD).await,
        cp,
    )
}

async fn ok(api: &Api, path: &str) -> Value {
    let (status, body) = api.get(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

async fn faulted_count(api: &Api) -> i64 {
    ok(api, "/dashboard").await["chargers"]["faulted"]
        .as_i64()
        .expect("faulted count")
}

fn listed(body: &Value) -> Vec<&str> {
    body.as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect()
}

fn notify_event(cleared: bool, value: &str) -> Value {
    json!({
        "generatedAt": "2026-12-01T10:00:00.000Z",
        "seqNo": 0,
        "eventData": [{
            "eventId": if cleared { 2 } else { 1 },
            "timestamp": "2026-12-01T10:00:00.000Z",
            "trigger": "Delta",
            "actualValue": value,
            "techCode": "E42",
            "techInfo": "ground fault",
            "cleared": cleared,
            "component": {"name": "ConnectorPlugRetentionLock", "evse": {"id": 1, "connectorId": 1}},
            "variable": {"name": "Problem"},
            "eventNotificationType": "HardWiredNotification"
        }]
    })
}

#[tokio::test]
async fn a_2_0_1_fault_arrives_as_notify_event_and_clears_when_reported_cleared() {
    let t = TestServer::start().await;
    let (mnt_a, _, mnt_b, mut cp) = world(&t, "CP-EV", "2.0.1").await;
    assert_eq!(faulted_count(&mnt_a).await, 0);

    cp.call_ok("NotifyEvent", notify_event(false, "true")).await;
    let charger = ok(&mnt_a, "/chargers/CP-EV").await;
    let fault = &charger["faults"][0];
    assert_eq!(fault["code"], "E42", "{charger}");
    assert_eq!(fault["source"], "ConnectorPlugRetentionLock/Problem", "{charger}");
    assert_eq!(
        (fault["evse_id"].as_i64(), fault["connector_id"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(fault["info"], "ground fault");
    assert_eq!(faulted_count(&mnt_a).await, 1);
    assert_eq!(listed(&ok(&mnt_a, "/chargers?faulted=true").await), ["CP-EV"]);
    assert!(listed(&ok(&mnt_a, "/chargers?faulted=false").await).is_empty());
    // Another subtree's maintenance sees neither the charger nor its fault.
    assert_eq!(mnt_b.get("/chargers/CP-EV").await.0, 404);
    assert_eq!(mnt_b.get("/chargers/CP-EV/events").await.0, 404);
    assert!(listed(&ok(&mnt_b, "/chargers?faulted=true").await).is_empty());
    assert_eq!(faulted_count(&mnt_b).await, 0);

    // The same problem again refreshes the one fault; then the station reports it gone.
    cp.call_ok("NotifyEvent", notify_event(false, "true")).await;
    assert_eq!(
        ok(&mnt_a, "/chargers/CP-EV").await["faults"].as_array().unwrap().len(),
        1
    );
    cp.call_ok("NotifyEvent", notify_event(true, "false")).await;
    assert_eq!(ok(&mnt_a, "/chargers/CP-EV").await["faults"], json!([]));
    assert_eq!(faulted_count(&mnt_a).await, 0);

    let events = ok(&mnt_a, "/chargers/CP-EV/events?kind=event").await;
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0]["component"], "ConnectorPlugRetentionLock");
    assert_eq!(events[0]["variable"], "Problem");
    assert_eq!(events[0]["detail"]["cleared"], true);
    assert_eq!(events[2]["detail"]["techCode"], "E42");
}

#[tokio::test]
async fn a_1_6_error_code_opens_a_fault_and_no_error_clears_it() {
    let t = TestServer::start().await;
    let (mnt_a, _, _, mut cp) = world(&t, "CP-16", "1.6").await;
    let status = |error: &str, status: &str| {
        json!({"connectorId": 1, "errorCode": error, "status": status, "vendorErrorCode": "V-17",
            "timestamp": "2026-12-01T10:00:00Z"})
    };
    cp.call_ok("StatusNotification", status("GroundFailure", "Faulted"))
        .await;
    let charger = ok(&mnt_a, "/chargers/CP-16").await;
    assert_eq!(charger["faults"][0]["code"], "GroundFailure", "{charger}");
    assert_eq!(charger["faults"][0]["source"], "status");
    assert_eq!(charger["faults"][0]["info"], "V-17");
    assert_eq!(faulted_count(&mnt_a).await, 1);

    cp.call_ok("StatusNotification", status("NoError", "Available")).await;
    assert_eq!(ok(&mnt_a, "/chargers/CP-16").await["faults"], json!([]));
    let timeline = ok(&mnt_a, "/chargers/CP-16/events?kind=status").await;
    let gists: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(gists, ["Cleared", "GroundFailure"]);
    // A healthy status with nothing open adds nothing to the timeline.
    cp.call_ok("StatusNotification", status("NoError", "Available")).await;
    assert_eq!(
        ok(&mnt_a, "/chargers/CP-16/events?kind=status")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn security_events_are_kept_flagged_and_shown_only_to_who_may_read_them() {
    let t = TestServer::start().await;
    let (mnt_a, sup_a, _, mut cp) = world(&t, "CP-SEC", "1.6").await;
    for kind in ["TamperDetectionActivated", "InvalidMessages"] {
        let answer = cp
            .call_ok(
                "SecurityEventNotification",
                json!({"type": kind, "timestamp": "2026-12-01T10:00:00Z", "techInfo": "lid opened"}),
            )
            .await;
        assert_eq!(answer, json!({}));
    }
    let events = ok(&sup_a, "/chargers/CP-SEC/security-events").await;
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    let tamper = events
        .iter()
        .find(|e| e["status"] == "TamperDetectionActivated")
        .unwrap();
    assert_eq!(tamper["critical"], true);
    assert_eq!(tamper["detail"]["techInfo"], "lid opened");
    assert!(
        events
            .iter()
            .any(|e| e["status"] == "InvalidMessages" && e["critical"] == false)
    );
    // Maintenance reads the charger's timeline, but not its security events.
    assert_eq!(mnt_a.get("/chargers/CP-SEC/security-events").await.0, 403);
    assert_eq!(mnt_a.get("/chargers/CP-SEC/events?kind=security").await.0, 403);
    let timeline = ok(&mnt_a, "/chargers/CP-SEC/events").await;
    assert!(
        timeline.as_array().unwrap().iter().all(|e| e["kind"] != "security"),
        "{timeline}"
    );
    let timeline = ok(&sup_a, "/chargers/CP-SEC/events").await;
    assert_eq!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "security")
            .count(),
        2
    );
}

#[tokio::test]
async fn requests_without_a_function_get_the_spec_answer_and_are_kept() {
    let t = TestServer::start().await;
    let (_, sup_a, _, mut cp) = world(&t, "CP-REQ", "2.0.1").await;
    let dt = cp
        .call_ok(
            "DataTransfer",
            json!({"vendorId": "com.acme", "messageId": "door", "data": {"open": true}}),
        )
        .await;
    assert_eq!(dt["status"], "UnknownVendorId", "{dt}");
    let sign = cp
        .call_ok("SignCertificate", json!({"csr": "-----BEGIN CERTIFICATE REQUEST-----"}))
        .await;
    assert_eq!(sign["status"], "Rejected", "{sign}");
    assert_eq!(sign["statusInfo"]["reasonCode"], "NoCAConfigured", "{sign}");
    let ev = cp
        .call_ok(
            "Get15118EVCertificate",
            json!({"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": "Install", "exiRequest": "AAAA"}),
        )
        .await;
    assert_eq!(ev["status"], "Failed", "{ev}");
    let needs = cp
        .call_ok(
            "NotifyEVChargingNeeds",
            json!({"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "AC_three_phase"}}),
        )
        .await;
    assert_eq!(needs["status"], "Rejected", "{needs}");

    let timeline = ok(&sup_a, "/chargers/CP-REQ/events").await;
    let kinds: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["data_transfer", "certificate", "charging"] {
        assert!(kinds.contains(&kind), "{kind} in {timeline}");
    }
    let transfer = ok(&sup_a, "/chargers/CP-REQ/events?kind=data_transfer").await;
    assert_eq!(transfer[0]["status"], "com.acme");
    assert_eq!(transfer[0]["detail"]["data"], json!({"open": true}));
    let certificates = ok(&sup_a, "/chargers/CP-REQ/events?kind=certificate").await;
    assert_eq!(certificates.as_array().unwrap().len(), 2, "{certificates}");
}
