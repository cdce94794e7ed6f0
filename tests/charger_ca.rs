//! voltgate's certificate authority for chargers (issue 19 part 2), over real sockets: a charger
//! asked for a CSR sends one (made here with rcgen), gets its certificate back as
//! CertificateSigned, and then connects on `wss://` with it as profile 3, while another
//! charger's certificate is refused; a CSR for another identity is refused and recorded as a
//! security event; renewal asks again before expiry; no CA, no request.

mod common;

use std::time::Duration;

use common::tls::{Ca, boot, connector, write, wss};
use common::{Api, TestCharger, TestServer, boot_payload};
use rcgen::{CertificateParams, DnType, KeyPair};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use voltgate::config::{CaConfig, TlsConfig};

const PW: &str = "charger-password-ca";

/// A key and a CSR (PEM) with this subject CN.
fn csr(cn: &str) -> (KeyPair, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    let pem = params.serialize_request(&key).unwrap().pem().unwrap();
    (key, pem)
}

struct World {
    t: TestServer,
    admin: Api,
    /// Trusts the server certificate.
    server_ca: String,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let ca = CaConfig {
        cert_file: dir.path().join("charger-ca.pem"),
        key_file: dir.path().join("charger-ca.key"),
        ..CaConfig::default()
    };
    voltgate::ca::ChargerCa::init(&ca, "test charger CA").unwrap();
    let server_ca = Ca::new("server CA");
    let server = server_ca.sign("localhost", &["localhost", "127.0.0.1"]);
    let files = TlsConfig {
        cert_file: write(dir.path(), "server.pem", &server.0),
        key_file: write(dir.path(), "server.key", &server.1),
        client_ca_file: None,
    };
    let t = TestServer::start_with(|c| {
        c.ocpp.tls_listen = Some(([127, 0, 0, 1], 0).into());
        c.tls = Some(files);
        c.ca = Some(ca);
    })
    .await;
    let admin = t.admin().await;
    World {
        t,
        admin,
        server_ca: server_ca.pem,
        _dir: dir,
    }
}

/// Answers the CALL that comes next with `answer`, returning the CALL.
async fn answer_next(cp: &mut TestCharger, answer: Value) -> Value {
    let call = cp.recv().await;
    assert_eq!(call[0], json!(2), "a CALL: {call}");
    cp.send_raw(&json!([3, call[1], answer]).to_string()).await;
    call
}

/// Asks `id` for a CSR through the API, has the charger send one for `cn`, and returns what
/// voltgate answered to SignCertificate and, if accepted, the chain it sent back with the key.
async fn issue(
    w: &World,
    cp: &mut TestCharger,
    id: &str,
    version: &str,
    cn: &str,
) -> (Value, Option<(String, String)>) {
    let (api, path) = (w.admin.clone(), format!("/chargers/{id}/certificate"));
    let request = tokio::spawn(async move { api.post(&path, json!({})).await });
    let trigger = answer_next(cp, json!({"status": "Accepted"})).await;
    if version == "1.6" {
        assert_eq!(trigger[2], json!("ExtendedTriggerMessage"), "{trigger}");
        assert_eq!(trigger[3], json!({"requestedMessage": "SignChargePointCertificate"}));
    } else {
        assert_eq!(trigger[2], json!("TriggerMessage"), "{trigger}");
        assert_eq!(
            trigger[3],
            json!({"requestedMessage": "SignChargingStationCertificate"})
        );
    }
    let (status, body) = request.await.unwrap();
    assert_eq!((status, body["status"].clone()), (200, json!("Accepted")), "{body}");

    let (key, pem) = csr(cn);
    let signed = cp.call_ok("SignCertificate", json!({"csr": pem})).await;
    if signed["status"] != json!("Accepted") {
        return (signed, None);
    }
    let delivered = answer_next(cp, json!({"status": "Accepted"})).await;
    assert_eq!(delivered[2], json!("CertificateSigned"), "{delivered}");
    let chain = delivered[3]["certificateChain"].as_str().unwrap().to_owned();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "leaf and CA: {chain}");
    (signed, Some((chain, key.serialize_pem())))
}

async fn certificate_of(admin: &Api, id: &str) -> Value {
    for _ in 0..50 {
        let (_, c) = admin.get(&format!("/chargers/{id}")).await;
        if c["certificate_expires_at"].is_string() {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id}: no certificate recorded");
}

#[tokio::test]
async fn a_charger_gets_its_certificate_and_then_connects_as_profile_3_with_it() {
    let w = world().await;
    for id in ["CA-201", "CA-16"] {
        w.t.register(id, PW).await;
    }
    let mut cp201 = w.t.charger("CA-201", "2.0.1", PW).await;
    cp201.call_ok("BootNotification", boot_payload("2.0.1")).await;
    let mut cp16 = w.t.charger("CA-16", "1.6", PW).await;
    cp16.call_ok("BootNotification", boot_payload("1.6")).await;

    let (answer, issued201) = issue(&w, &mut cp201, "CA-201", "2.0.1", "CA-201").await;
    assert_eq!(answer["status"], json!("Accepted"), "{answer}");
    let issued201 = issued201.unwrap();
    let (answer, issued16) = issue(&w, &mut cp16, "CA-16", "1.6", "CA-16").await;
    assert_eq!(answer, json!({"status": "Accepted"}));
    let issued16 = issued16.unwrap();
    let shown = certificate_of(&w.admin, "CA-201").await;
    assert!(shown["certificate_serial"].is_string(), "{shown}");
    certificate_of(&w.admin, "CA-16").await;

    // Audited as the platform's commands.
    let (_, audit) = w.admin.get("/audit?action=command.certificate_signed").await;
    assert_eq!(audit.as_array().unwrap().len(), 2, "{audit}");
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["user_id"].is_null() && r["outcome"] == json!("Accepted"))
    );

    // Profile 3 with the certificate it got (the charger agrees to move); another charger's is
    // refused.
    let api = w.admin.clone();
    let request = tokio::spawn(async move { api.patch("/chargers/CA-201", json!({"security_profile": 3})).await });
    let accepted = json!({"setVariableResult": [{"attributeStatus": "Accepted",
        "component": {"name": "SecurityCtrlr"}, "variable": {"name": "SecurityProfile"}}]});
    answer_next(&mut cp201, accepted).await;
    let (status, body) = request.await.unwrap();
    assert_eq!(status, 200, "{body}");
    drop(cp201);
    let wss_addr = w.t.server().ocpp_tls_addr.unwrap();
    let own = connector(&w.server_ca, Some(&issued201));
    let mut ws = wss(wss_addr, &own, "CA-201", None)
        .await
        .expect("profile 3 with the issued certificate");
    assert_eq!(boot(&mut ws).await[2]["status"], json!("Accepted"));
    let borrowed = connector(&w.server_ca, Some(&issued16));
    assert_eq!(
        wss(wss_addr, &borrowed, "CA-201", None).await.err().as_deref(),
        Some("401")
    );
    let none = connector(&w.server_ca, None);
    assert_eq!(wss(wss_addr, &none, "CA-201", None).await.err().as_deref(), Some("401"));
}

#[tokio::test]
async fn a_csr_for_another_identity_is_refused_and_is_a_security_event() {
    let w = world().await;
    w.t.register("CA-EVIL", PW).await;
    let mut cp = w.t.charger("CA-EVIL", "2.0.1", PW).await;
    cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
    let (_, pem) = csr("CA-VICTIM");
    let answer = cp.call_ok("SignCertificate", json!({"csr": pem})).await;
    assert_eq!(answer["status"], json!("Rejected"), "{answer}");
    assert_eq!(answer["statusInfo"]["reasonCode"], json!("InvalidCSR"), "{answer}");
    let answer = cp
        .call_ok(
            "SignCertificate",
            json!({"csr": "-----BEGIN CERTIFICATE REQUEST-----\nnope\n-----END CERTIFICATE REQUEST-----"}),
        )
        .await;
    assert_eq!(answer["status"], json!("Rejected"));
    assert!(
        cp.recv_within(Duration::from_millis(300)).await.is_none(),
        "nothing is signed"
    );
    let (status, events) = w.admin.get("/chargers/CA-EVIL/security-events").await;
    assert_eq!(status, 200, "{events}");
    let refused: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == json!("InvalidCsr"))
        .collect();
    assert_eq!(refused.len(), 2, "{events}");
    assert!(refused.iter().all(|e| e["critical"] == json!(true)));
    assert!(refused[1]["detail"].to_string().contains("CA-VICTIM"), "{events}");
}

#[tokio::test]
async fn renewal_asks_for_a_new_csr_before_expiry_once_a_day() {
    let w = world().await;
    w.t.register("CA-OLD", PW).await;
    let mut cp = w.t.charger("CA-OLD", "2.0.1", PW).await;
    cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
    let (_, issued) = issue(&w, &mut cp, "CA-OLD", "2.0.1", "CA-OLD").await;
    assert!(issued.is_some());
    certificate_of(&w.admin, "CA-OLD").await;
    let state = w.t.server().state.clone();
    assert_eq!(
        voltgate::commands::certificate::renew_due(&state).await,
        0,
        "a new certificate waits"
    );

    // Ten days left (renewal starts 30 days before) and last asked two days ago.
    let db = w.t.store().connection();
    let soon = (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339();
    let asked = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            "UPDATE charger SET certificate_expires_at = $1::timestamptz, certificate_requested_at = $2::timestamptz \
             WHERE id = 'CA-OLD'"
        }
        _ => "UPDATE charger SET certificate_expires_at = ?, certificate_requested_at = ? WHERE id = 'CA-OLD'",
    };
    db.execute(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [soon.into(), asked.into()],
    ))
    .await
    .unwrap();
    let renewing = tokio::spawn(async move { voltgate::commands::certificate::renew_due(&state).await });
    let trigger = answer_next(&mut cp, json!({"status": "Accepted"})).await;
    assert_eq!(trigger[3]["requestedMessage"], json!("SignChargingStationCertificate"));
    assert_eq!(renewing.await.unwrap(), 1);
    let state = w.t.server().state.clone();
    assert_eq!(
        voltgate::commands::certificate::renew_due(&state).await,
        0,
        "asked once a day at most"
    );
    assert!(cp.recv_within(Duration::from_millis(200)).await.is_none());
}

#[tokio::test]
async fn without_a_ca_nothing_is_asked_and_csrs_are_rejected() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    t.register("CA-NONE", PW).await;
    let mut cp = t.charger("CA-NONE", "2.0.1", PW).await;
    cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
    let (status, body) = admin.post("/chargers/CA-NONE/certificate", json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("certificate authority"),
        "{body}"
    );
    assert!(
        cp.recv_within(Duration::from_millis(200)).await.is_none(),
        "nothing sent"
    );
    let (_, pem) = csr("CA-NONE");
    let answer = cp.call_ok("SignCertificate", json!({"csr": pem})).await;
    assert_eq!(answer["status"], json!("Rejected"));
    assert_eq!(answer["statusInfo"]["reasonCode"], json!("NoCAConfigured"));
}

#[tokio::test]
async fn certificates_on_the_charger_are_listed_installed_and_deleted_in_both_versions() {
    let w = world().await;
    let ca_pem = std::fs::read_to_string(w._dir.path().join("charger-ca.pem")).unwrap();
    for id in ["CM-201", "CM-16"] {
        w.t.register(id, PW).await;
    }
    let mut cp201 = w.t.charger("CM-201", "2.0.1", PW).await;
    cp201.call_ok("BootNotification", boot_payload("2.0.1")).await;
    let mut cp16 = w.t.charger("CM-16", "1.6", PW).await;
    cp16.call_ok("BootNotification", boot_payload("1.6")).await;

    // Install voltgate's CA as the charger's CSMS root.
    let body = json!({"certificate_type": "csms_root", "certificate": ca_pem});
    for (cp, id, expected) in [
        (&mut cp201, "CM-201", "CSMSRootCertificate"),
        (&mut cp16, "CM-16", "CentralSystemRootCertificate"),
    ] {
        let (api, path, b) = (w.admin.clone(), format!("/chargers/{id}/certificates"), body.clone());
        let request = tokio::spawn(async move { api.post(&path, b).await });
        let call = answer_next(cp, json!({"status": "Accepted"})).await;
        assert_eq!(call[2], json!("InstallCertificate"));
        assert_eq!(call[3]["certificateType"], json!(expected), "{call}");
        assert!(
            call[3]["certificate"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        let (status, reply) = request.await.unwrap();
        assert_eq!((status, reply["status"].clone()), (200, json!("Accepted")), "{reply}");
    }

    // What each version cannot carry, and what is no certificate, is refused before sending.
    for (id, body) in [
        ("CM-16", json!({"certificate_type": "v2g_root", "certificate": ca_pem})),
        (
            "CM-201",
            json!({"certificate_type": "csms_root", "certificate": "not a certificate"}),
        ),
        (
            "CM-201",
            json!({"certificate_type": "v2g_chain", "certificate": ca_pem}),
        ),
    ] {
        let (status, answer) = w.admin.post(&format!("/chargers/{id}/certificates"), body).await;
        assert_eq!(status, 422, "{answer}");
    }
    let (status, answer) = w.admin.delete("/chargers/CM-201/certificates/SHA1.00.00.01").await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        cp201.recv_within(Duration::from_millis(200)).await.is_none(),
        "nothing sent"
    );

    // Listing: the 2.0.1 chain and its child both come back, each with an id for DELETE.
    let hash = |serial: &str| json!({"hashAlgorithm": "SHA256", "issuerNameHash": "0a0b", "issuerKeyHash": "0c0d", "serialNumber": serial});
    let (api, path) = (
        w.admin.clone(),
        "/chargers/CM-201/certificates?certificate_type=csms_root".to_owned(),
    );
    let request = tokio::spawn(async move { api.get(&path).await });
    let listed = json!({"status": "Accepted", "certificateHashDataChain": [{"certificateType": "CSMSRootCertificate",
        "certificateHashData": hash("01"), "childCertificateHashData": [hash("02")]}]});
    let call = answer_next(&mut cp201, listed).await;
    assert_eq!(call[3], json!({"certificateType": ["CSMSRootCertificate"]}), "{call}");
    let (status, reply) = request.await.unwrap();
    assert_eq!(status, 200, "{reply}");
    let ids: Vec<&str> = reply["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["SHA256.0a0b.0c0d.01", "SHA256.0a0b.0c0d.02"], "{reply}");
    assert_eq!(reply["certificates"][0]["certificate_type"], json!("csms_root"));

    let (api, path) = (w.admin.clone(), "/chargers/CM-16/certificates".to_owned());
    let request = tokio::spawn(async move { api.get(&path).await });
    let call = answer_next(
        &mut cp16,
        json!({"status": "Accepted", "certificateHashData": [hash("03")]}),
    )
    .await;
    assert_eq!(
        call[3],
        json!({"certificateType": "CentralSystemRootCertificate"}),
        "{call}"
    );
    let (_, reply) = request.await.unwrap();
    assert_eq!(reply["certificates"][0]["id"], json!("SHA256.0a0b.0c0d.03"), "{reply}");

    // Deleting by the listed id sends the hash data back.
    for (cp, id, serial) in [(&mut cp201, "CM-201", "01"), (&mut cp16, "CM-16", "03")] {
        let (api, path) = (
            w.admin.clone(),
            format!("/chargers/{id}/certificates/SHA256.0a0b.0c0d.{serial}"),
        );
        let request = tokio::spawn(async move { api.delete(&path).await });
        let call = answer_next(cp, json!({"status": "NotFound"})).await;
        assert_eq!(call[2], json!("DeleteCertificate"));
        assert_eq!(call[3]["certificateHashData"], hash(serial), "{call}");
        let (status, reply) = request.await.unwrap();
        assert_eq!((status, reply["status"].clone()), (200, json!("NotFound")), "{reply}");
    }
    let (_, audit) = w.admin.get("/audit?action=command.delete_certificate").await;
    assert_eq!(audit.as_array().unwrap().len(), 2, "audited: {audit}");
}

/// Reads frames until a text one comes, as JSON.
async fn next_text<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> Value
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::StreamExt;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("readable");
        if let tokio_tungstenite::tungstenite::Message::Text(t) = frame {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

async fn profile_of(admin: &Api, id: &str) -> (Value, Value) {
    let (_, c) = admin.get(&format!("/chargers/{id}")).await;
    (c["security_profile"].clone(), c["security_profile_pending"].clone())
}

#[tokio::test]
async fn a_profile_upgrade_from_1_to_2_to_3_never_locks_the_charger_out() {
    use futures_util::SinkExt;
    let w = world().await;
    let wss_addr = w.t.server().ocpp_tls_addr.unwrap();
    let id = "UP-1";
    w.t.register(id, PW).await;
    let mut cp = w.t.charger(id, "1.6", PW).await;
    cp.call_ok("BootNotification", boot_payload("1.6")).await;
    let (_, issued) = issue(&w, &mut cp, id, "1.6", id).await;
    let issued = issued.unwrap();
    certificate_of(&w.admin, id).await;

    // 1 -> 2: the charger agrees; until it comes back on wss:// the old way still works.
    let (api, path) = (w.admin.clone(), format!("/chargers/{id}"));
    let request = tokio::spawn(async move { api.patch(&path, json!({"security_profile": 2})).await });
    let call = answer_next(&mut cp, json!({"status": "Accepted"})).await;
    assert_eq!(call[2], json!("ChangeConfiguration"));
    assert_eq!(call[3], json!({"key": "SecurityProfile", "value": "2"}));
    let (status, body) = request.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["security_profile_pending"],
        json!(2),
        "the answer says it waits: {body}"
    );
    drop(cp);
    let again = TestCharger::connect(&w.t.ocpp_base(), id, "1.6", Some(PW)).await;
    assert!(again.is_ok(), "the old profile still admits it before it moved");
    drop(again);
    let plain = connector(&w.server_ca, None);
    let mut ws = wss(wss_addr, &plain, id, Some(PW))
        .await
        .expect("profile 2: TLS and the password");
    assert_eq!(profile_of(&w.admin, id).await, (json!(2), json!(null)));
    let (_, audit) = w.admin.get("/audit?action=charger.security_profile.adopted").await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(
        common::refusal_status(TestCharger::connect(&w.t.ocpp_base(), id, "1.6", Some(PW)).await),
        401,
        "back on plain ws:// is a downgrade: refused"
    );

    // 2 -> 3, asked over the wss:// connection.
    assert_eq!(boot(&mut ws).await[2]["status"], json!("Accepted"));
    let (api, path) = (w.admin.clone(), format!("/chargers/{id}"));
    let request = tokio::spawn(async move { api.patch(&path, json!({"security_profile": 3})).await });
    let call = next_text(&mut ws).await;
    assert_eq!(call[3], json!({"key": "SecurityProfile", "value": "3"}), "{call}");
    ws.send(tokio_tungstenite::tungstenite::Message::text(
        json!([3, call[1], {"status": "Accepted"}]).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(request.await.unwrap().0, 200);
    drop(ws);
    assert!(
        wss(wss_addr, &plain, id, Some(PW)).await.is_ok(),
        "still profile 2 until it moves"
    );
    let own = connector(&w.server_ca, Some(&issued));
    assert!(
        wss(wss_addr, &own, id, None).await.is_ok(),
        "profile 3 with its certificate"
    );
    assert_eq!(profile_of(&w.admin, id).await, (json!(3), json!(null)));
    assert_eq!(
        wss(wss_addr, &plain, id, Some(PW)).await.err().as_deref(),
        Some("401"),
        "the password alone no longer"
    );
}

#[tokio::test]
async fn an_upgrade_the_charger_refuses_or_cannot_meet_changes_nothing() {
    let w = world().await;
    w.t.register("UP-NO", PW).await;
    let mut cp = w.t.charger("UP-NO", "2.0.1", PW).await;
    cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
    // Profile 3 without a certificate issued to it: refused before anything is sent.
    let (status, body) = w.admin.patch("/chargers/UP-NO", json!({"security_profile": 3})).await;
    assert_eq!(status, 409, "{body}");
    assert!(cp.recv_within(Duration::from_millis(200)).await.is_none());
    // The charger says no.
    let (api, path) = (w.admin.clone(), "/chargers/UP-NO".to_owned());
    let request = tokio::spawn(async move { api.patch(&path, json!({"security_profile": 2})).await });
    let refusal = json!({"setVariableResult": [{"attributeStatus": "Rejected",
        "component": {"name": "SecurityCtrlr"}, "variable": {"name": "SecurityProfile"}}]});
    let call = answer_next(&mut cp, refusal).await;
    assert_eq!(
        call[3]["setVariableData"][0]["variable"]["name"],
        json!("SecurityProfile"),
        "{call}"
    );
    let (status, body) = request.await.unwrap();
    assert_eq!(status, 409, "{body}");
    assert_eq!(profile_of(&w.admin, "UP-NO").await, (json!(null), json!(null)));
    drop(cp);
    assert!(
        TestCharger::connect(&w.t.ocpp_base(), "UP-NO", "2.0.1", Some(PW))
            .await
            .is_ok()
    );
}
