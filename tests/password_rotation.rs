//! Charger password rotation over real sockets (issue 19 part 1): 2.0.1 SetVariables
//! `SecurityCtrlr.BasicAuthPassword` and 1.6 ChangeConfiguration `AuthorizationKey`
//! (hex-encoded), in every order of events a charger can produce: accepted, rejected,
//! CALLERROR, no answer, a connection lost mid-change, reconnects with the old password and
//! then the new. No order may lock the charger out; once the new password is used, the old one
//! is refused.

mod common;

use std::time::Duration;

use common::{Api, TestCharger, TestServer, boot_payload, refusal_status};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const OLD: &str = "old-charger-password";
const VERSIONS: [&str; 2] = ["1.6", "2.0.1"];

async fn booted(t: &TestServer, id: &str, version: &str, password: &str) -> TestCharger {
    let mut cp = t.charger(id, version, password).await;
    cp.call_ok("BootNotification", boot_payload(version)).await;
    cp
}

/// Whether `password` opens a connection for `id` now (the connection is closed again).
async fn opens(t: &TestServer, id: &str, version: &str, password: &str) -> bool {
    match TestCharger::connect(&t.ocpp_base(), id, version, Some(password)).await {
        Ok(mut cp) => {
            let _ = cp.ws.close(None).await;
            true
        }
        Err(e) => {
            assert_eq!(refusal_status(Err(e)), 401, "a wrong password is 401");
            false
        }
    }
}

/// Asks for a new password and hands back the CALL the charger got (the request still running).
async fn ask(api: &Api, cp: &mut TestCharger, id: &str, body: Value) -> (Value, tokio::task::JoinHandle<(u16, Value)>) {
    let (api, path) = (api.clone(), format!("/chargers/{id}/password"));
    let request = tokio::spawn(async move { api.post(&path, body).await });
    let call = cp.recv().await;
    assert_eq!(call[0], json!(2), "a CALL reaches the charger: {call}");
    (call, request)
}

/// The password a CALL carries, as the charger reads it (1.6: hex-decoded).
fn password_in(call: &Value, version: &str) -> String {
    if version == "1.6" {
        assert_eq!(call[2], json!("ChangeConfiguration"), "{call}");
        assert_eq!(call[3]["key"], json!("AuthorizationKey"), "{call}");
        let hex = call[3]["value"].as_str().expect("hex value");
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "hex-encoded: {hex}");
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        String::from_utf8(bytes).expect("an ASCII password")
    } else {
        assert_eq!(call[2], json!("SetVariables"), "{call}");
        let item = &call[3]["setVariableData"][0];
        assert_eq!(item["component"]["name"], json!("SecurityCtrlr"), "{call}");
        assert_eq!(item["variable"]["name"], json!("BasicAuthPassword"), "{call}");
        item["attributeValue"].as_str().expect("value").to_owned()
    }
}

fn answer(version: &str, status: &str) -> Value {
    if version == "1.6" {
        json!({"status": status})
    } else {
        json!({"setVariableResult": [{"attributeStatus": status,
            "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}]})
    }
}

async fn changes(api: &Api, id: &str) -> Vec<Value> {
    let (status, body) = api.get(&format!("/chargers/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body["password_changes"].as_array().expect("password_changes").clone()
}

#[tokio::test]
async fn an_accepted_password_works_alongside_the_old_until_it_is_used() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    for version in VERSIONS {
        let id = format!("PW-OK-{}", version.replace('.', ""));
        t.register(&id, OLD).await;
        let mut cp = booted(&t, &id, version, OLD).await;
        let (call, request) = ask(&admin, &mut cp, &id, json!({})).await;
        let new = password_in(&call, version);
        let expected_len = if version == "1.6" { 20 } else { 32 };
        assert_eq!(new.len(), expected_len, "{version}: generated length");
        assert!(new.chars().all(|c| c.is_ascii_alphanumeric()), "{new}");
        cp.send_raw(&json!([3, call[1], answer(version, "Accepted")]).to_string())
            .await;
        let (status, body) = request.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], json!("Accepted"), "{body}");
        assert_eq!(body["password"], json!(new), "a generated password is shown once");
        let waiting = changes(&admin, &id).await;
        assert_eq!(waiting.len(), 1, "{waiting:?}");
        assert_eq!(waiting[0]["state"], json!("accepted"));

        // The charger has not reconnected yet: its old password still opens, as does the new.
        drop(cp);
        assert!(
            opens(&t, &id, version, OLD).await,
            "{version}: old still works before the new is used"
        );
        assert!(opens(&t, &id, version, &new).await, "{version}: the new one works");
        assert!(
            !opens(&t, &id, version, OLD).await,
            "{version}: once the new is used, the old is refused"
        );
        assert!(opens(&t, &id, version, &new).await);
        assert!(changes(&admin, &id).await.is_empty());
        let (_, charger) = admin.get(&format!("/chargers/{id}")).await;
        assert!(charger["password_changed_at"].is_string(), "{charger}");

        // Audited: the command (without the password) and the switch.
        let (_, audit) = admin.get("/audit?action=command.password&limit=50").await;
        let row = audit
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["charger_id"] == json!(id))
            .expect("command audited")
            .clone();
        assert_eq!(row["outcome"], json!("Accepted"), "{row}");
        let (_, adopted) = admin.get("/audit?action=charger.password.adopted&limit=50").await;
        assert!(
            adopted.as_array().unwrap().iter().any(|r| r["charger_id"] == json!(id)),
            "{adopted}"
        );
        let (_, everything) = admin.get("/audit?limit=500").await;
        assert!(
            !everything.to_string().contains(&new),
            "the audit log never holds the password"
        );
        let (_, log) = admin.get(&format!("/chargers/{id}/messages?limit=100")).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let (_, log_later) = admin.get(&format!("/chargers/{id}/messages?limit=100")).await;
        assert!(
            !log.to_string().contains(&new) && !log_later.to_string().contains(&new),
            "the message log never holds the password"
        );
    }
}

#[tokio::test]
async fn a_refusal_or_callerror_keeps_the_old_password_only() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    for version in VERSIONS {
        let id = format!("PW-NO-{}", version.replace('.', ""));
        t.register(&id, OLD).await;
        let mut cp = booted(&t, &id, version, OLD).await;

        let (call, request) = ask(&admin, &mut cp, &id, json!({})).await;
        let refused = password_in(&call, version);
        cp.send_raw(&json!([3, call[1], answer(version, "Rejected")]).to_string())
            .await;
        let (status, body) = request.await.unwrap();
        assert_eq!((status, body["status"].clone()), (200, json!("Rejected")), "{body}");

        let (call, request) = ask(&admin, &mut cp, &id, json!({})).await;
        let failed = password_in(&call, version);
        cp.send_raw(&json!([4, call[1], "InternalError", "no", {}]).to_string())
            .await;
        let (status, body) = request.await.unwrap();
        assert_eq!(status, 502, "{body}");

        assert!(changes(&admin, &id).await.is_empty(), "nothing waits after a refusal");
        drop(cp);
        assert!(
            !opens(&t, &id, version, &refused).await,
            "{version}: a refused password never opens"
        );
        assert!(
            !opens(&t, &id, version, &failed).await,
            "{version}: nor one answered with CALLERROR"
        );
        assert!(opens(&t, &id, version, OLD).await, "{version}: the old one still does");
    }
}

#[tokio::test]
async fn a_connection_lost_mid_change_locks_nobody_out_in_either_order() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    for version in VERSIONS {
        let id = format!("PW-LOST-{}", version.replace('.', ""));
        t.register(&id, OLD).await;
        let mut cp = booted(&t, &id, version, OLD).await;
        let (call, request) = ask(&admin, &mut cp, &id, json!({})).await;
        let new = password_in(&call, version);
        // The charger may or may not have stored the password when its connection dropped.
        drop(cp);
        let (status, body) = request.await.unwrap();
        assert_eq!(status, 502, "{body}");
        assert_eq!(changes(&admin, &id).await[0]["state"], json!("unanswered"));
        // It comes back with the old password first, then (after a reboot) with the new.
        let mut again = booted(&t, &id, version, OLD).await;
        again.call_ok("Heartbeat", json!({})).await;
        drop(again);
        assert!(opens(&t, &id, version, &new).await, "{version}: the new one is taken");
        assert!(
            !opens(&t, &id, version, OLD).await,
            "{version}: and then the old one is not"
        );
    }
}

#[tokio::test]
async fn no_answer_leaves_both_and_a_cap_on_waiting_changes() {
    let t = TestServer::start_with(|c| c.ocpp.call_timeout_s = 1).await;
    let admin = t.admin().await;
    let id = "PW-SILENT";
    t.register(id, OLD).await;
    let mut cp = booted(&t, id, "2.0.1", OLD).await;
    let mut sent = Vec::new();
    for _ in 0..3 {
        let (call, request) = ask(&admin, &mut cp, id, json!({})).await;
        sent.push(password_in(&call, "2.0.1"));
        let (status, body) = request.await.unwrap();
        assert_eq!(status, 504, "{body}");
    }
    let waiting = changes(&admin, id).await;
    assert_eq!(waiting.len(), 3);
    assert!(waiting.iter().all(|w| w["state"] == json!("unanswered")), "{waiting:?}");
    // A fourth waits for the charger: it could hold any of the three.
    let (status, body) = admin.post(&format!("/chargers/{id}/password"), json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        cp.recv_within(Duration::from_millis(300)).await.is_none(),
        "nothing sent"
    );
    drop(cp);
    assert!(opens(&t, id, "2.0.1", OLD).await);
    assert!(opens(&t, id, "2.0.1", &sent[1]).await, "any password sent opens");
    for other in [&sent[0], &sent[2], &OLD.to_owned()] {
        assert!(!opens(&t, id, "2.0.1", other).await, "the one used ends every other");
    }
}

#[tokio::test]
async fn a_given_password_is_checked_against_the_version() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    t.register("PW-GIVEN16", OLD).await;
    t.register("PW-GIVEN201", OLD).await;
    let mut cp16 = booted(&t, "PW-GIVEN16", "1.6", OLD).await;
    let mut cp201 = booted(&t, "PW-GIVEN201", "2.0.1", OLD).await;
    for (id, body) in [
        // The white paper caps 1.6 keys at 20 bytes; 2.0.1 takes 40 characters.
        ("PW-GIVEN16", json!({"password": "a".repeat(21)})),
        ("PW-GIVEN201", json!({"password": "a".repeat(41)})),
        ("PW-GIVEN201", json!({"password": "too-short"})),
        ("PW-GIVEN201", json!({"password": "spaces are not allowed here"})),
        ("PW-GIVEN201", json!({"pasword": "misspelt-field-name-here"})),
    ] {
        let (status, answer) = admin.post(&format!("/chargers/{id}/password"), body.clone()).await;
        assert_eq!(status, 422, "{body}: {answer}");
    }
    assert!(cp16.recv_within(Duration::from_millis(200)).await.is_none());
    let given = "given-Password:2024|ok";
    let (call, request) = ask(&admin, &mut cp201, "PW-GIVEN201", json!({"password": given})).await;
    assert_eq!(password_in(&call, "2.0.1"), given);
    cp201
        .send_raw(&json!([3, call[1], answer("2.0.1", "Accepted")]).to_string())
        .await;
    let (status, body) = request.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("password").is_none(),
        "a password the caller chose is not echoed: {body}"
    );
}

#[tokio::test]
async fn a_password_set_by_hand_ends_a_change_in_flight() {
    let t = TestServer::start_with(|c| c.ocpp.call_timeout_s = 1).await;
    let admin = t.admin().await;
    let id = "PW-HAND";
    t.register(id, OLD).await;
    let mut cp = booted(&t, id, "1.6", OLD).await;
    let (call, request) = ask(&admin, &mut cp, id, json!({})).await;
    let sent = password_in(&call, "1.6");
    assert_eq!(request.await.unwrap().0, 504);
    let by_hand = "set-by-hand-at-the-site";
    let (status, body) = admin
        .patch(&format!("/chargers/{id}"), json!({"password": by_hand}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(changes(&admin, id).await.is_empty());
    drop(cp);
    assert!(!opens(&t, id, "1.6", &sent).await);
    assert!(opens(&t, id, "1.6", by_hand).await);
}

#[tokio::test]
async fn scheduled_rotation_renews_old_passwords_of_connected_chargers() {
    let t = TestServer::start_with(|c| c.ocpp.password_max_age_days = Some(30)).await;
    let admin = t.admin().await;
    for id in ["PW-OLD", "PW-YOUNG"] {
        t.register(id, OLD).await;
    }
    // PW-OLD was registered 60 days ago; PW-YOUNG today.
    let db = t.store().connection();
    let past = (chrono::Utc::now() - chrono::Duration::days(60)).to_rfc3339();
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "UPDATE charger SET created_at = $1::timestamptz WHERE id = 'PW-OLD'",
        _ => "UPDATE charger SET created_at = ? WHERE id = 'PW-OLD'",
    };
    db.execute(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [past.into()],
    ))
    .await
    .unwrap();
    let mut old = booted(&t, "PW-OLD", "2.0.1", OLD).await;
    let mut young = booted(&t, "PW-YOUNG", "2.0.1", OLD).await;
    let state = t.server().state.clone();
    let rotation = tokio::spawn(async move { voltgate::commands::password::rotate_due(&state).await });
    let call = old.recv().await;
    let new = password_in(&call, "2.0.1");
    old.send_raw(&json!([3, call[1], answer("2.0.1", "Accepted")]).to_string())
        .await;
    assert_eq!(rotation.await.unwrap(), 1, "one charger took a new password");
    assert!(
        young.recv_within(Duration::from_millis(300)).await.is_none(),
        "a young password stays"
    );
    let (_, audit) = admin.get("/audit?action=command.password").await;
    assert_eq!(audit[0]["user_id"], json!(null), "done by the platform: {audit}");
    drop(old);
    assert!(opens(&t, "PW-OLD", "2.0.1", &new).await);
    assert!(!opens(&t, "PW-OLD", "2.0.1", OLD).await);
}
