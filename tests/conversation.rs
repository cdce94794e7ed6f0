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

/// Sends `body` to a command endpoint as `api` and answers the CALL the charger gets with
/// `answer`; returns the CALL and the API's answer.
async fn command(api: &Api, cp: &mut TestCharger, path: &str, body: Value, answer: Value) -> (Value, Value) {
    let (api, path) = (api.clone(), path.to_owned());
    let mut request = tokio::spawn(async move { api.post(&path, body).await });
    let call = tokio::select! {
        call = cp.recv() => call,
        answered = &mut request => panic!("answered without a CALL: {answered:?}"),
    };
    assert_eq!(call[0], json!(2), "{call}");
    cp.send_raw(&json!([3, call[1], answer]).to_string()).await;
    let (status, reply) = request.await.expect("request task");
    assert_eq!(status, 200, "{reply}");
    (call, reply)
}

#[tokio::test]
async fn a_remote_start_sends_the_token_kind_and_attributes_the_transaction_that_follows() {
    let t = TestServer::start().await;
    t.register("CP-RS", PW).await;
    let admin = t.admin().await;
    let (status, body) = admin
        .post(
            "/id-tokens",
            json!({"token": "CARD-7", "organisation_id": 1, "kind": "ISO15693"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut cp = t.charger("CP-RS", "2.0.1", PW).await;
    cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
    let (call, _) = command(
        &admin,
        &mut cp,
        "/chargers/CP-RS/remote-start",
        json!({"id_token": "CARD-7", "evse_id": 1}),
        json!({"status": "Accepted"}),
    )
    .await;
    assert_eq!(
        call[3]["idToken"],
        json!({"idToken": "CARD-7", "type": "ISO15693"}),
        "{call}"
    );
    let remote_start_id = call[3]["remoteStartId"].clone();

    // The Started event names only the remote start.
    let started = cp
        .call_ok(
            "TransactionEvent",
            json!({"eventType": "Started", "timestamp": "2026-12-01T10:00:00.000Z", "triggerReason": "RemoteStart",
                "seqNo": 0, "transactionInfo": {"transactionId": "tx-rs", "remoteStartId": remote_start_id},
                "evse": {"id": 1, "connectorId": 1}}),
        )
        .await;
    assert_eq!(started["idTokenInfo"]["status"], "Accepted", "{started}");
    let log = ok(&admin, "/transactions?charger_id=CP-RS").await;
    assert_eq!(log[0]["id_token"], "CARD-7", "{log}");
    assert_eq!(log[0]["id_token_status"], "Accepted", "{log}");

    // Presented as another kind, the same text is another identifier.
    let answer = cp
        .call_ok(
            "Authorize",
            json!({"idToken": {"idToken": "CARD-7", "type": "KeyCode"}}),
        )
        .await;
    assert_eq!(answer["idTokenInfo"]["status"], "Invalid", "{answer}");
    let answer = cp
        .call_ok(
            "Authorize",
            json!({"idToken": {"idToken": "CARD-7", "type": "ISO15693"}}),
        )
        .await;
    assert_eq!(answer["idTokenInfo"]["status"], "Accepted", "{answer}");
}

#[tokio::test]
async fn a_1_6_start_with_a_refused_token_is_recorded_as_refused_not_left_open() {
    let t = TestServer::start().await;
    t.register("CP-RF", PW).await;
    let admin = t.admin().await;
    let mut cp = t.charger("CP-RF", "1.6", PW).await;
    cp.call_ok("BootNotification", boot_payload("1.6")).await;
    let start = cp
        .call_ok(
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "NOBODY", "meterStart": 100, "timestamp": "2026-12-01T10:00:00Z"}),
        )
        .await;
    assert_eq!(start["idTagInfo"]["status"], "Invalid", "{start}");
    let log = ok(&admin, "/transactions?charger_id=CP-RF").await;
    assert_eq!(log[0]["id_token_status"], "Invalid", "{log}");
    assert_eq!(log[0]["stop_reason"], "DeAuthorized", "{log}");
    assert_eq!(log[0]["stopped_at"], log[0]["started_at"], "{log}");

    // A charger that charged anyway reports its own stop, which replaces the assumed one.
    cp.call_ok(
        "StopTransaction",
        json!({"transactionId": start["transactionId"], "meterStop": 900, "timestamp": "2026-12-01T10:30:00Z",
            "reason": "DeAuthorized"}),
    )
    .await;
    let log = ok(&admin, "/transactions?charger_id=CP-RF").await;
    assert_eq!(log[0]["meter_stop_wh"], 900, "{log}");
    assert_eq!(log[0]["stopped_at"], "2026-12-01T10:30:00Z", "{log}");
}

#[tokio::test]
async fn every_time_voltgate_sends_has_at_most_milliseconds() {
    let t = TestServer::start().await;
    t.register("CP-MS", PW).await;
    let mut cp = t.charger("CP-MS", "1.6", PW).await;
    let boot = cp.call_ok("BootNotification", boot_payload("1.6")).await;
    let heartbeat = cp.call_ok("Heartbeat", json!({})).await;
    for time in [&boot["currentTime"], &heartbeat["currentTime"]] {
        let text = time.as_str().expect("a time");
        let fraction = text.split('.').nth(1).map_or(0, |f| f.trim_end_matches('Z').len());
        assert!(fraction <= 3, "{text}");
    }
}

fn report_part(seq_no: i32, tbc: bool, request_id: &Value, data: Value) -> Value {
    json!({"requestId": request_id, "generatedAt": "2026-12-01T10:00:00.000Z", "seqNo": seq_no, "tbc": tbc,
        "reportData": data})
}

#[tokio::test]
async fn a_2_0_1_report_in_parts_becomes_the_stored_device_model_without_its_secrets() {
    let t = TestServer::start().await;
    let (mnt_a, _, mnt_b, mut cp) = world(&t, "CP-DM", "2.0.1").await;
    let (call, reply) = command(
        &mnt_a,
        &mut cp,
        "/chargers/CP-DM/report",
        json!({}),
        json!({"status": "Accepted"}),
    )
    .await;
    assert_eq!(call[2], "GetBaseReport", "{call}");
    assert_eq!(call[3]["reportBase"], "FullInventory", "{call}");
    assert_eq!(reply["status"], "Accepted");
    let request_id = call[3]["requestId"].clone();

    let heartbeat = json!({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
        "variableAttribute": [{"type": "Actual", "value": "300", "mutability": "ReadWrite", "persistent": true, "constant": false}],
        "variableCharacteristics": {"dataType": "integer", "unit": "s", "minLimit": 1, "supportsMonitoring": false}});
    let attempts = json!({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "MessageAttempts", "instance": "TransactionEvent"},
        "variableAttribute": [{"value": "3", "mutability": "ReadWrite"}],
        "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": false}});
    let password = json!({"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
        "variableAttribute": [{"value": "leaked-secret", "mutability": "ReadWrite"}],
        "variableCharacteristics": {"dataType": "string", "supportsMonitoring": false}});
    let write_only = json!({"component": {"name": "VendorCtrlr"}, "variable": {"name": "Token"},
        "variableAttribute": [{"value": "also-secret", "mutability": "WriteOnly"}],
        "variableCharacteristics": {"dataType": "string", "supportsMonitoring": false}});
    let availability = json!({"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"},
        "variableAttribute": [{"value": "Available", "mutability": "ReadOnly"}],
        "variableCharacteristics": {"dataType": "OptionList", "valuesList": "Available,Occupied,Faulted", "supportsMonitoring": true}});
    cp.call_ok(
        "NotifyReport",
        report_part(0, true, &request_id, json!([heartbeat, attempts, password])),
    )
    .await;
    cp.call_ok(
        "NotifyReport",
        report_part(1, false, &request_id, json!([write_only, availability])),
    )
    .await;

    let all = ok(&mnt_a, "/chargers/CP-DM/variables").await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 5, "{all:?}");
    let find = |variable: &str| all.iter().find(|v| v["variable"] == variable).unwrap().clone();
    let hb = find("HeartbeatInterval");
    assert_eq!(
        (hb["value"].as_str(), hb["unit"].as_str(), hb["min_limit"].as_f64()),
        (Some("300"), Some("s"), Some(1.0))
    );
    assert_eq!(hb["request_id"], request_id);
    assert_eq!(find("MessageAttempts")["variable_instance"], "TransactionEvent");
    assert_eq!(find("BasicAuthPassword")["value"], Value::Null);
    assert_eq!(find("Token")["value"], Value::Null);
    assert_eq!(find("AvailabilityState")["evse_id"], 1);
    let evse = ok(&mnt_a, "/chargers/CP-DM/variables?component=EVSE").await;
    assert_eq!(evse.as_array().unwrap().len(), 1, "{evse}");
    assert!(
        !ok(&mnt_a, "/chargers/CP-DM/variables")
            .await
            .to_string()
            .contains("secret")
    );
    assert_eq!(mnt_b.get("/chargers/CP-DM/variables").await.0, 404);

    // A later report of the same variable replaces it.
    let changed = json!([{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
        "variableAttribute": [{"value": "60"}]}]);
    cp.call_ok("NotifyReport", report_part(0, false, &request_id, changed))
        .await;
    let hb = ok(&mnt_a, "/chargers/CP-DM/variables?variable=HeartbeatInterval").await;
    assert_eq!(hb.as_array().unwrap().len(), 1, "{hb}");
    assert_eq!(hb[0]["value"], "60");
}

#[tokio::test]
async fn a_1_6_report_stores_the_configuration_inventory_without_its_secrets() {
    let t = TestServer::start().await;
    let (mnt_a, _, _, mut cp) = world(&t, "CP-INV", "1.6").await;
    let answer = json!({"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": false, "value": "300"},
        {"key": "ChargePointModel", "readonly": true, "value": "TM-1"},
        {"key": "AuthorizationKey", "readonly": false, "value": "0123456789abcdef"},
    ]});
    let (call, reply) = command(&mnt_a, &mut cp, "/chargers/CP-INV/report", json!({}), answer).await;
    assert_eq!(call[2], "GetConfiguration", "{call}");
    assert_eq!(call[3], json!({}), "{call}");
    assert!(!reply.to_string().contains("0123456789abcdef"), "{reply}");
    let inventory = ok(&mnt_a, "/chargers/CP-INV/variables").await;
    let inventory = inventory.as_array().unwrap();
    assert_eq!(inventory.len(), 3, "{inventory:?}");
    let key = |k: &str| inventory.iter().find(|v| v["variable"] == k).unwrap().clone();
    assert_eq!(key("HeartbeatInterval")["mutability"], "ReadWrite");
    assert_eq!(key("ChargePointModel")["mutability"], "ReadOnly");
    assert_eq!(key("AuthorizationKey")["value"], Value::Null);
    assert_eq!(key("HeartbeatInterval")["component"], "");
}

#[tokio::test]
async fn variables_are_set_and_read_by_their_full_address_and_secrets_stay_out_of_the_audit() {
    let t = TestServer::start().await;
    let (mnt_a, sup_a, _, mut cp) = world(&t, "CP-SV", "2.0.1").await;
    let settings = json!([
        {"component": "OCPPCommCtrlr", "variable": "MessageAttempts", "variable_instance": "TransactionEvent", "value": "5"},
        {"component": "SecurityCtrlr", "variable": "BasicAuthPassword", "value": "new-secret-password-1"},
    ]);
    let results = json!({"setVariableResult": [
        {"attributeStatus": "Accepted", "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "MessageAttempts", "instance": "TransactionEvent"}},
        {"attributeStatus": "Rejected", "attributeStatusInfo": {"reasonCode": "ValueOutOfRange"},
            "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}},
    ]});
    let (call, reply) = command(&mnt_a, &mut cp, "/chargers/CP-SV/variables", settings, results).await;
    assert_eq!(call[2], "SetVariables", "{call}");
    assert_eq!(
        call[3]["setVariableData"][0]["variable"],
        json!({"name": "MessageAttempts", "instance": "TransactionEvent"})
    );
    assert_eq!(reply["status"], "Rejected", "{reply}");
    assert_eq!(reply["status_info"]["reason_code"], "ValueOutOfRange", "{reply}");
    assert_eq!(
        reply["configuration"][0]["key"],
        "OCPPCommCtrlr.MessageAttempts[TransactionEvent]"
    );
    assert_eq!(reply["configuration"][0]["status"], "Accepted");

    // The accepted value is the charger's now; the refused one was never stored.
    let stored = ok(&mnt_a, "/chargers/CP-SV/variables").await;
    assert_eq!(stored.as_array().unwrap().len(), 1, "{stored}");
    assert_eq!(stored[0]["variable_instance"], "TransactionEvent");
    assert_eq!(stored[0]["value"], "5");

    let (call, reply) = command(
        &mnt_a,
        &mut cp,
        "/chargers/CP-SV/variables/get",
        json!([{"component": "EVSE", "evse_id": 1, "variable": "AvailabilityState"}]),
        json!({"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "Available",
            "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}}]}),
    )
    .await;
    assert_eq!(
        call[3]["getVariableData"][0]["component"],
        json!({"name": "EVSE", "evse": {"id": 1}})
    );
    assert_eq!(reply["configuration"][0]["value"], "Available", "{reply}");
    let evse = ok(&mnt_a, "/chargers/CP-SV/variables?component=EVSE").await;
    assert_eq!(
        (evse[0]["evse_id"].as_i64(), evse[0]["value"].as_str()),
        (Some(1), Some("Available"))
    );

    // Neither the audit log nor anything else the API shows holds the password.
    let audit = ok(&sup_a, "/audit?limit=100").await;
    assert!(!audit.to_string().contains("new-secret-password-1"), "{audit}");
    assert!(audit.to_string().contains("command.set_variables"), "{audit}");
}
