//! Signed firmware and log uploads (issue 19 parts 5 and 6) over real sockets: 2.0.1
//! UpdateFirmware with a signing certificate and signature, 1.6 SignedUpdateFirmware; a refused
//! signing certificate or an invalid signature is a critical security event; GetLog in both
//! versions, where a security log needs charger security and a diagnostics log remote
//! maintenance.

mod common;

use std::time::Duration;

use common::world::{PASSWORD, create_user};
use common::{Api, TestCharger, TestServer, boot_payload};
use serde_json::{Value, json};

const PW: &str = "charger-password-fw";
const SIGNING_CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

async fn command(api: &Api, cp: &mut TestCharger, path: &str, body: Value, answer: Value) -> (Value, (u16, Value)) {
    let (api, path) = (api.clone(), path.to_owned());
    let request = tokio::spawn(async move { api.post(&path, body).await });
    let call = cp.recv().await;
    assert_eq!(call[0], json!(2), "{call}");
    cp.send_raw(&json!([3, call[1], answer]).to_string()).await;
    (call, request.await.unwrap())
}

async fn security_events(api: &Api, id: &str) -> Vec<Value> {
    let (status, events) = api.get(&format!("/chargers/{id}/security-events")).await;
    assert_eq!(status, 200, "{events}");
    events.as_array().unwrap().clone()
}

#[tokio::test]
async fn signed_firmware_goes_out_in_each_versions_own_message_and_bad_signatures_are_alarms() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let signed = json!({"location": "https://fw.example/2.1.bin", "signing_certificate": SIGNING_CERT,
        "signature": "c2lnbmF0dXJl"});
    for (id, version) in [("FW-201", "2.0.1"), ("FW-16", "1.6")] {
        t.register(id, PW).await;
        let mut cp = t.charger(id, version, PW).await;
        cp.call_ok("BootNotification", boot_payload(version)).await;
        let path = format!("/chargers/{id}/firmware");

        let (call, (status, reply)) =
            command(&admin, &mut cp, &path, signed.clone(), json!({"status": "Accepted"})).await;
        assert_eq!((status, reply["status"].clone()), (200, json!("Accepted")), "{reply}");
        let request_id = call[3]["requestId"].as_i64().expect("a request id");
        if version == "1.6" {
            assert_eq!(call[2], json!("SignedUpdateFirmware"), "{call}");
        } else {
            assert_eq!(call[2], json!("UpdateFirmware"), "{call}");
        }
        assert_eq!(call[3]["firmware"]["signingCertificate"], json!(SIGNING_CERT));
        assert_eq!(call[3]["firmware"]["signature"], json!("c2lnbmF0dXJl"));

        // The charger reports the signature bad: the status is kept and it is an alarm.
        let action = if version == "1.6" {
            "SignedFirmwareStatusNotification"
        } else {
            "FirmwareStatusNotification"
        };
        cp.call_ok(action, json!({"status": "InvalidSignature", "requestId": request_id}))
            .await;
        let (_, charger) = admin.get(&format!("/chargers/{id}")).await;
        assert_eq!(charger["firmware_status"], json!("InvalidSignature"), "{charger}");
        let events = security_events(&admin, id).await;
        assert!(
            events
                .iter()
                .any(|e| e["status"] == json!("InvalidFirmwareSignature") && e["critical"] == json!(true)),
            "{events:?}"
        );

        // A charger refusing the signing certificate: told, and an alarm too.
        let (_, (status, reply)) = command(
            &admin,
            &mut cp,
            &path,
            signed.clone(),
            json!({"status": "InvalidCertificate"}),
        )
        .await;
        assert_eq!(
            (status, reply["status"].clone()),
            (200, json!("InvalidCertificate")),
            "{reply}"
        );
        let events = security_events(&admin, id).await;
        assert!(
            events
                .iter()
                .any(|e| e["status"] == json!("InvalidFirmwareSigningCertificate") && e["critical"] == json!(true)),
            "{events:?}"
        );

        // A signature without its certificate is the caller's mistake: nothing is sent.
        let (status, answer) = admin
            .post(
                &path,
                json!({"location": "https://fw.example/x.bin", "signature": "c2ln"}),
            )
            .await;
        assert_eq!(status, 422, "{answer}");
        assert!(cp.recv_within(Duration::from_millis(200)).await.is_none());

        // Unsigned firmware is still the plain UpdateFirmware.
        let (call, _) = command(
            &admin,
            &mut cp,
            &path,
            json!({"location": "https://fw.example/3.bin"}),
            if version == "1.6" {
                json!({})
            } else {
                json!({"status": "Accepted"})
            },
        )
        .await;
        assert_eq!(call[2], json!("UpdateFirmware"));
        assert!(call[3]["firmware"].get("signature").is_none(), "{call}");
    }
}

#[tokio::test]
async fn logs_come_from_both_versions_and_a_security_log_needs_charger_security() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    create_user(&admin, "log-engineer", 1, &[(1, "maintenance")]).await;
    let engineer = t.login("log-engineer", PASSWORD).await;
    for (id, version) in [("LOG-201", "2.0.1"), ("LOG-16", "1.6")] {
        t.register(id, PW).await;
        let mut cp = t.charger(id, version, PW).await;
        cp.call_ok("BootNotification", boot_payload(version)).await;
        let path = format!("/chargers/{id}/logs");
        let security = json!({"log_type": "security", "location": "https://logs.example/up"});

        let (status, body) = engineer.post(&path, security.clone()).await;
        assert_eq!(
            status, 403,
            "{version}: an engineer does not get the security log: {body}"
        );
        assert!(cp.recv_within(Duration::from_millis(200)).await.is_none());

        let (call, (status, reply)) = command(
            &admin,
            &mut cp,
            &path,
            security,
            json!({"status": "Accepted", "filename": "security.log"}),
        )
        .await;
        assert_eq!(call[2], json!("GetLog"), "{call}");
        assert_eq!(call[3]["logType"], json!("SecurityLog"));
        assert_eq!(
            (status, reply["file_name"].clone()),
            (200, json!("security.log")),
            "{reply}"
        );
        let request_id = call[3]["requestId"].clone();
        cp.call_ok(
            "LogStatusNotification",
            json!({"status": "Uploaded", "requestId": request_id}),
        )
        .await;
        let (_, charger) = admin.get(&format!("/chargers/{id}")).await;
        assert_eq!(charger["diagnostics_status"], json!("Uploaded"), "{charger}");

        let diagnostics = json!({"log_type": "diagnostics", "location": "https://logs.example/up"});
        let (call, (status, _)) = command(&engineer, &mut cp, &path, diagnostics, json!({"status": "Accepted"})).await;
        assert_eq!(status, 200);
        assert_eq!(call[3]["logType"], json!("DiagnosticsLog"), "{call}");
    }
}
