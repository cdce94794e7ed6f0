//! Hostile input never harms anyone else (issue 16), over real sockets and a real database:
//! poisoned and absurd charger values, a poisoned member of a shared meter batch, invalid
//! UTF-8, list bounds, unknown fields, half-applied updates, self-takeover with a stolen
//! token, links that outlive a password change, leaks through "already exists", adoption of
//! unassigned chargers, CSRF refusals.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::console::{Console, csrf_in};
use common::{Api, TestCharger, TestServer, boot_payload};
use entity::meter_value;
use futures_util::SinkExt;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const PW: &str = "charger-password-1";

async fn booted(t: &TestServer, id: &str, version: &str) -> TestCharger {
    t.register(id, PW).await;
    let mut cp = t.charger(id, version, PW).await;
    cp.call_ok("BootNotification", boot_payload(version)).await;
    cp
}

async fn stored_values(t: &TestServer, charger: &str) -> u64 {
    meter_value::Entity::find()
        .filter(meter_value::Column::ChargerId.eq(charger))
        .count(t.store().connection())
        .await
        .expect("count meter values")
}

/// `[4, id, code, ...]` with the code and the offending field.
fn assert_violation(answer: &Value, field_part: &str) {
    assert_eq!(answer[0], json!(4), "a CALLERROR: {answer}");
    assert_eq!(answer[2], json!("PropertyConstraintViolation"), "{answer}");
    let field = answer[4]["field"].as_str().unwrap_or_default();
    assert!(
        field.contains(field_part),
        "field {field:?} names {field_part}: {answer}"
    );
}

fn now() -> String {
    Utc::now().to_rfc3339()
}

fn mv16(value: &str) -> Value {
    json!({"connectorId": 1, "meterValue": [{"timestamp": now(), "sampledValue": [
        {"value": value, "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]})
}

fn mv201(value: Value, multiplier: i32) -> Value {
    json!({"evseId": 1, "meterValue": [{"timestamp": now(), "sampledValue": [
        {"value": value, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh", "multiplier": multiplier}}]}]})
}

#[tokio::test]
async fn poisoned_meter_values_fail_only_their_own_message() {
    let t = TestServer::start().await;
    let mut v16 = booted(&t, "POISON16", "1.6").await;
    let mut v201 = booted(&t, "POISON201", "2.0.1").await;
    for bad in ["NaN", "inf", "-inf", "infinity", "1e400", "-5", "twelve"] {
        let answer = v16.call("MeterValues", mv16(bad)).await;
        assert_violation(&answer, "meterValue[0].sampledValue[0].value");
    }
    for (value, multiplier) in [(json!(0), 400), (json!(1), 400), (json!(-1), 0), (json!(5), 12)] {
        let answer = v201.call("MeterValues", mv201(value, multiplier)).await;
        assert_violation(&answer, "meterValue[0].sampledValue[0].value");
    }
    assert_eq!(
        stored_values(&t, "POISON16").await,
        0,
        "nothing of a refused message is stored"
    );
    assert_eq!(stored_values(&t, "POISON201").await, 0);
    // The connections keep serving.
    v16.call_ok("MeterValues", mv16("1200.5")).await;
    v201.call_ok("MeterValues", mv201(json!(12), 3)).await;
    v16.call_ok("Heartbeat", json!({})).await;
    assert_eq!(stored_values(&t, "POISON16").await, 1);
    assert_eq!(stored_values(&t, "POISON201").await, 1);
}

/// One charger sends poisoned values while the others send valid ones in the same batch
/// window: every valid one is acknowledged and stored.
#[tokio::test]
async fn a_poisoned_charger_cannot_fail_the_batch_it_shares() {
    let t = TestServer::start().await;
    let mut good = Vec::new();
    for i in 0..8 {
        let version = if i % 2 == 0 { "1.6" } else { "2.0.1" };
        good.push((
            format!("GOOD{i}"),
            version,
            booted(&t, &format!("GOOD{i}"), version).await,
        ));
    }
    let mut bad16 = booted(&t, "BAD16", "1.6").await;
    let mut bad201 = booted(&t, "BAD201", "2.0.1").await;
    for round in 0..5 {
        let mut tasks = Vec::new();
        for (id, version, mut cp) in good.drain(..) {
            tasks.push(tokio::spawn(async move {
                let payload = if version == "1.6" {
                    mv16(&format!("{}", 1000 + round))
                } else {
                    mv201(json!(1000 + round), 0)
                };
                let answer = cp.call("MeterValues", payload).await;
                (id, version, cp, answer)
            }));
        }
        let poison16 = bad16.call("MeterValues", mv16("NaN")).await;
        let poison201 = bad201.call("MeterValues", mv201(json!(0), 400)).await;
        assert_violation(&poison16, "value");
        assert_violation(&poison201, "value");
        for task in tasks {
            let (id, version, cp, answer) = task.await.expect("charger task");
            assert_eq!(answer[0], json!(3), "{id} acknowledged in round {round}: {answer}");
            good.push((id, version, cp));
        }
    }
    for (id, _, _) in &good {
        assert_eq!(
            stored_values(&t, id).await,
            5,
            "every acknowledged value of {id} is stored"
        );
    }
}

/// Below the boundary checks, the batched writer itself isolates a write the database
/// refuses: the others of its batch commit.
#[tokio::test]
async fn the_meter_writer_isolates_a_failing_member() {
    use voltgate::store::{MeterWriter, NewMeterValue};
    let t = TestServer::start().await;
    t.register("W-OK", PW).await;
    let writer = MeterWriter::start(t.store().clone());
    let row = |value: f64, transaction_id: Option<i32>| NewMeterValue {
        transaction_id,
        evse_id: 1,
        at: Utc::now(),
        measurand: "Voltage".into(),
        value,
        unit: Some("V".into()),
        phase: None,
        context: None,
    };
    let (ok, bad) = tokio::join!(
        writer.write("W-OK", vec![row(230.0, None), row(231.0, None)]),
        // No such transaction: its foreign key refuses the row (and SQLite's NOT NULL the NaN).
        writer.write("W-NOBODY", vec![row(f64::NAN, Some(999_999))]),
    );
    ok.expect("the valid member commits");
    assert!(bad.is_err(), "the failing member fails");
    assert_eq!(stored_values(&t, "W-OK").await, 2);
}

#[tokio::test]
async fn absurd_transaction_values_are_refused_and_not_stored() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let mut v16 = booted(&t, "ABS16", "1.6").await;
    let mut v201 = booted(&t, "ABS201", "2.0.1").await;
    let start16 = |connector: Value, meter: Value| json!({"connectorId": connector, "idTag": "T", "meterStart": meter, "timestamp": now()});
    let answer = v16
        .call("StartTransaction", start16(json!(1), json!(-2147483648)))
        .await;
    assert_violation(&answer, "meterStart");
    let answer = v16
        .call("StartTransaction", start16(json!(2147483648u64), json!(0)))
        .await;
    assert_violation(&answer, "connectorId");
    let answer = v16.call("StartTransaction", start16(json!(0), json!(0))).await;
    assert_violation(&answer, "connectorId");
    let status = json!({"connectorId": 2147483648u64, "errorCode": "NoError", "status": "Available"});
    assert_violation(&v16.call("StatusNotification", status).await, "connectorId");
    let status = json!({"timestamp": now(), "connectorStatus": "Available", "evseId": -5, "connectorId": -1});
    assert_violation(&v201.call("StatusNotification", status).await, "evseId");

    let event = |kind: &str, seq: i64, value: Value| {
        let mut e = json!({"eventType": kind, "timestamp": now(), "triggerReason": "Authorized", "seqNo": seq,
            "transactionInfo": {"transactionId": "ABS-1"}, "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": now(), "sampledValue": [{"value": value, "measurand": "Energy.Active.Import.Register"}]}]});
        if kind == "Started" {
            e["idToken"] = json!({"idToken": "T", "type": "ISO14443"});
        }
        e
    };
    let answer = v201.call("TransactionEvent", event("Started", 0, json!(-5000))).await;
    assert_violation(&answer, "meterValue");
    v201.call_ok("TransactionEvent", event("Started", 0, json!(1000))).await;
    let answer = v201.call("TransactionEvent", event("Ended", 1, json!(1e300))).await;
    assert_violation(&answer, "meterValue");
    let answer = v201.call("TransactionEvent", event("Ended", 1, json!(500))).await;
    assert_violation(&answer, "meterValue");
    v201.call_ok("TransactionEvent", event("Ended", 1, json!(4000))).await;

    let (status, rows) = admin.get("/transactions").await;
    assert_eq!(status, 200, "{rows}");
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 1, "only the plausible transaction is stored: {rows:?}");
    assert_eq!(rows[0]["energy_wh"], json!(3000), "{rows:?}");
    assert_eq!(rows[0]["clock_skew"], json!(false));
    let (status, dash) = admin.get("/dashboard").await;
    assert_eq!(status, 200, "{dash}");
    assert_eq!(dash["today"]["energy_wh"], json!(3000), "{dash}");
}

#[tokio::test]
async fn implausible_clocks_are_replaced_by_the_receive_time_and_flagged() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let mut cp = booted(&t, "CLOCK16", "1.6").await;
    let before = Utc::now();
    for (connector, at) in [(1, "0001-01-01T00:00:00Z"), (2, "9999-12-31T23:59:59Z")] {
        let start = json!({"connectorId": connector, "idTag": "T", "meterStart": 0, "timestamp": at});
        let answer = cp.call_ok("StartTransaction", start.clone()).await;
        // A resend of the same start gets the same transaction.
        let again = cp.call_ok("StartTransaction", start).await;
        assert_eq!(answer["transactionId"], again["transactionId"]);
    }
    let status =
        json!({"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": "9999-01-01T00:00:00Z"});
    cp.call_ok("StatusNotification", status).await;
    let (_, rows) = admin.get("/transactions").await;
    let rows = rows.as_array().expect("rows").clone();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        assert_eq!(row["clock_skew"], json!(true), "{row}");
        let at: DateTime<Utc> = row["started_at"].as_str().expect("started_at").parse().expect("time");
        assert!(
            at >= before - Duration::seconds(1) && at <= Utc::now(),
            "receive time stored: {row}"
        );
    }
    let (_, charger) = admin.get("/chargers/CLOCK16").await;
    let updated: DateTime<Utc> = charger["connectors"][0]["updated_at"]
        .as_str()
        .unwrap_or_else(|| panic!("connector updated_at: {charger}"))
        .parse()
        .expect("time");
    assert!(updated <= Utc::now(), "no status time in 9999: {charger}");
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_gets_an_answer_and_a_1007_close() {
    let t = TestServer::start().await;
    let mut cp = booted(&t, "UTF8", "2.0.1").await;
    // A text frame with invalid UTF-8 cannot be built through the typed API; write it raw.
    let frame = Message::Frame(tokio_tungstenite::tungstenite::protocol::frame::Frame::message(
        vec![b'[', 0xff, 0xfe, b']'],
        tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode::Data(
            tokio_tungstenite::tungstenite::protocol::frame::coding::Data::Text,
        ),
        true,
    ));
    cp.ws.send(frame).await.expect("send raw frame");
    let answer = cp.recv().await;
    assert_eq!(answer[0], json!(4), "{answer}");
    assert_eq!(answer[1], json!("-1"), "{answer}");
    assert_eq!(answer[2], json!("RpcFrameworkError"), "{answer}");
    let close = cp.closed().await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Invalid);
}

const LISTS: [&str; 14] = [
    "/chargers",
    "/sites",
    "/organisations",
    "/users",
    "/drivers",
    "/driver-groups",
    "/id-tokens",
    "/access-rules",
    "/tariffs",
    "/tickets",
    "/transactions",
    "/audit",
    "/chargers/LISTS/events",
    "/chargers/LISTS/events?limit=1",
];

#[tokio::test]
async fn list_bounds_answer_422_never_a_dropped_connection() {
    let t = TestServer::start().await;
    t.register("LISTS", PW).await;
    let admin = t.admin().await;
    for list in LISTS {
        let sep = if list.contains('?') { '&' } else { '?' };
        for (query, field) in [
            ("offset=18446744073709551615", "offset"),
            ("offset=9223372036854775808", "offset"),
            ("offset=1000000001", "offset"),
            ("limit=0", "limit"),
            ("limit=501", "limit"),
        ] {
            if list.contains("limit=") && field == "limit" {
                continue;
            }
            let (status, body) = admin.get(&format!("{list}{sep}{query}")).await;
            assert_eq!(status, 422, "{list}?{query}: {body}");
            assert_eq!(body["field"], json!(field), "{list}?{query}: {body}");
        }
        let (status, body) = admin.get(&format!("{list}{sep}offset=1000000000")).await;
        assert_eq!(status, 200, "{list} at the largest offset: {body}");
    }
    let mut console = Console::login(&t, "admin", common::ADMIN_PASSWORD).await;
    for page in ["/chargers", "/tickets", "/audit", "/transactions", "/tokens", "/users"] {
        let shown = console.get(&format!("{page}?offset=18446744073709551615")).await;
        assert_eq!(shown.status, 200, "{page} reads an absurd offset leniently");
    }
}

#[tokio::test]
async fn bodies_refuse_unknown_fields_naming_them() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let (status, body) = admin
        .post(
            "/organisations",
            json!({"name": "X", "parent_id": 1, "valid_untill": "2027-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap_or_default().contains("valid_untill"),
        "{body}"
    );
    let (status, body) = admin
        .put(
            "/users/1/memberships",
            json!([{"organisation_id": 1, "role": "support", "valid_untill": "2027-01-01T00:00:00Z"}]),
        )
        .await;
    assert_eq!(status, 422, "a misspelt grant window is refused, not ignored: {body}");
    // An array where an object belongs is refused, not read field by field.
    let (status, body) = admin.post("/organisations", json!(["X", 1])).await;
    assert_eq!(status, 422, "{body}");
    // Whole numbers written as decimals are the integers they are, in bodies, paths and queries.
    let (status, body) = admin
        .post("/organisations", json!({"name": "Decimal", "parent_id": 1.0}))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = admin.get("/organisations/1.0").await;
    assert_eq!((status, body["id"].clone()), (200, json!(1)), "{body}");
    let (status, body) = admin.get("/organisations?limit=5.0").await;
    assert_eq!(status, 200, "{body}");
}

/// An operator of `org` named `name`, logged in.
async fn operator(t: &TestServer, admin: &Api, name: &str, org: i64) -> (i64, Api) {
    let id = admin
        .create(
            "/users",
            json!({"username": name, "password": "a long passphrase for tests", "organisation_id": org}),
        )
        .await;
    let (status, body) = admin
        .put(
            &format!("/users/{id}/memberships"),
            json!([{"organisation_id": org, "role": "operator"}]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (id, t.login(name, "a long passphrase for tests").await)
}

#[tokio::test]
async fn a_refused_update_changes_nothing() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = admin
        .create("/organisations", json!({"name": "A", "parent_id": 1}))
        .await;
    let a1 = admin
        .create("/organisations", json!({"name": "A1", "parent_id": a}))
        .await;
    let b = admin
        .create("/organisations", json!({"name": "B", "parent_id": 1}))
        .await;
    let (_, op_a) = operator(&t, &admin, "op-a", a).await;
    // Moving A1 to B needs the permission on B: refused, and the rename with it.
    let (status, body) = op_a
        .patch(
            &format!("/organisations/{a1}"),
            json!({"name": "renamed", "parent_id": b}),
        )
        .await;
    assert_eq!(status, 404, "B is outside op-a's subtree: {body}");
    let (_, org) = admin.get(&format!("/organisations/{a1}")).await;
    assert_eq!(
        org["name"],
        json!("A1"),
        "nothing of the refused update happened: {org}"
    );
    // Inside, moving its own organisation needs the parent's permission: 403, no rename.
    let (status, body) = op_a
        .patch(
            &format!("/organisations/{a}"),
            json!({"name": "renamed", "parent_id": a1}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (_, org) = admin.get(&format!("/organisations/{a}")).await;
    assert_eq!(org["name"], json!("A"), "{org}");
    let (_, audit) = admin.get("/audit?limit=100").await;
    let updates: Vec<&Value> = audit
        .as_array()
        .expect("audit")
        .iter()
        .filter(|r| r["action"] == json!("organisation.update"))
        .collect();
    assert!(
        !updates.is_empty() && updates.iter().all(|r| r["outcome"] == json!("denied")),
        "{updates:?}"
    );
}

#[tokio::test]
async fn an_organisation_that_still_owns_things_answers_409_naming_them() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = admin
        .create("/organisations", json!({"name": "A", "parent_id": 1}))
        .await;
    admin
        .create("/drivers", json!({"organisation_id": a, "name": "Dana"}))
        .await;
    admin
        .create("/driver-groups", json!({"organisation_id": a, "name": "Staff"}))
        .await;
    admin
        .create("/id-tokens", json!({"organisation_id": a, "token": "CARD-1"}))
        .await;
    admin
        .create(
            "/tariffs",
            json!({"organisation_id": a, "price_per_kwh": 0.3, "currency": "EUR"}),
        )
        .await;
    let (status, body) = admin.delete(&format!("/organisations/{a}")).await;
    assert_eq!(status, 409, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    for what in ["drivers", "driver groups", "id tokens", "tariffs"] {
        assert!(message.contains(what), "{what} named: {message}");
    }
}

#[tokio::test]
async fn a_stolen_token_cannot_take_the_account() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = admin
        .create("/organisations", json!({"name": "A", "parent_id": 1}))
        .await;
    let (me, op) = operator(&t, &admin, "victim", a).await;
    let own = format!("/users/{me}");
    let (status, body) = op.patch(&own, json!({"password": "attacker's new passphrase"})).await;
    assert_eq!(
        (status, body["field"].clone()),
        (422, json!("current_password")),
        "{body}"
    );
    let (status, body) = op.patch(&own, json!({"email": "attacker@example.com"})).await;
    assert_eq!(
        (status, body["field"].clone()),
        (422, json!("current_password")),
        "{body}"
    );
    let (status, body) = op
        .patch(
            &own,
            json!({"email": "attacker@example.com", "current_password": "a guess"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = op.post(&format!("{own}/password-reset"), json!({})).await;
    assert_eq!(status, 403, "no reset link to oneself: {body}");
    let (status, body) = op
        .patch(
            &own,
            json!({"email": "victim@example.com", "current_password": "a long passphrase for tests"}),
        )
        .await;
    assert_eq!(status, 200, "with the current password it works: {body}");
    // Operators still manage other users without anyone's password.
    let (other, _) = operator(&t, &admin, "colleague", a).await;
    let (status, body) = op
        .patch(&format!("/users/{other}"), json!({"email": "colleague@example.com"}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_password_change_voids_outstanding_reset_links() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = admin
        .create("/organisations", json!({"name": "A", "parent_id": 1}))
        .await;
    let (me, user) = operator(&t, &admin, "forgetful", a).await;
    let (status, link) = admin.post(&format!("/users/{me}/password-reset"), json!({})).await;
    assert_eq!(status, 201, "{link}");
    let url = link["url"].as_str().expect("link url").to_owned();
    let token = url.rsplit('/').next().expect("token").to_owned();
    let (status, body) = user
        .post(
            "/me/password",
            json!({"current_password": "a long passphrase for tests", "new_password": "another long passphrase"}),
        )
        .await;
    assert!((200..300).contains(&status), "{body}");
    let (status, body) = t
        .anonymous()
        .post(
            &format!("/invitations/{token}"),
            json!({"password": "the attacker's passphrase"}),
        )
        .await;
    assert_eq!(status, 410, "the link died with the password change: {body}");
}

#[tokio::test]
async fn already_exists_says_nothing_about_other_subtrees() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = admin
        .create("/organisations", json!({"name": "A", "parent_id": 1}))
        .await;
    let b = admin
        .create("/organisations", json!({"name": "B", "parent_id": 1}))
        .await;
    let (_, op_a) = operator(&t, &admin, "op-a", a).await;
    operator(&t, &admin, "op-b", b).await;
    op_a.create("/id-tokens", json!({"organisation_id": a, "token": "MINE"}))
        .await;
    admin
        .create("/id-tokens", json!({"organisation_id": b, "token": "THEIRS"}))
        .await;
    // The same answer whether the clash is visible to the caller or not.
    let visible = op_a
        .post("/users", json!({"username": "op-a", "organisation_id": a}))
        .await;
    let invisible = op_a
        .post("/users", json!({"username": "op-b", "organisation_id": a}))
        .await;
    assert_eq!(visible.0, 409, "{visible:?}");
    assert_eq!(visible, invisible);
    let visible = op_a
        .post("/id-tokens", json!({"organisation_id": a, "token": "MINE"}))
        .await;
    let invisible = op_a
        .post("/id-tokens", json!({"organisation_id": a, "token": "THEIRS"}))
        .await;
    assert_eq!(visible.0, 409, "{visible:?}");
    assert_eq!(visible, invisible);
    assert!(!invisible.1.to_string().contains("THEIRS"), "{invisible:?}");
}

#[tokio::test]
async fn only_the_root_adopts_an_unassigned_charger() {
    let t = TestServer::start_with(|c| c.ocpp.unknown_chargers = voltgate::config::UnknownChargers::Pending).await;
    let admin = t.admin().await;
    let a = admin
        .create("/organisations", json!({"name": "A", "parent_id": 1}))
        .await;
    let (_, op_a) = operator(&t, &admin, "op-a", a).await;
    let mut stray = TestCharger::connect(&t.ocpp_base(), "STRAY", "1.6", None)
        .await
        .expect("unknown charger connects");
    stray.call_ok("BootNotification", boot_payload("1.6")).await;
    let register = json!({"id": "STRAY", "organisation_id": a, "password": "a-charger-password-16"});
    let (status, body) = op_a.post("/chargers", register.clone()).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = admin.post("/chargers", register).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_moved_charger_does_not_keep_a_site_of_its_old_organisation() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = admin
        .create("/organisations", json!({"name": "A", "parent_id": 1}))
        .await;
    let b = admin
        .create("/organisations", json!({"name": "B", "parent_id": 1}))
        .await;
    let site = admin
        .create(
            "/sites",
            json!({"organisation_id": a, "name": "Yard", "kind": "private"}),
        )
        .await;
    let (status, body) = admin
        .post(
            "/chargers",
            json!({"id": "MOVER", "organisation_id": a, "site_id": site}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = admin.patch("/chargers/MOVER", json!({"organisation_id": b})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["site_id"], Value::Null, "{body}");
}

#[tokio::test]
async fn csrf_and_cross_site_refusals_are_audited() {
    let t = TestServer::start().await;
    t.register("CSRF", PW).await;
    let admin = t.admin().await;
    let mut console = Console::login(&t, "admin", common::ADMIN_PASSWORD).await;
    let page = console.get("/chargers/CSRF").await;
    let token = csrf_in(&page.body).expect("a CSRF field");
    let refused = console
        .post_raw("/chargers/CSRF/reset", &[("csrf", "wrong"), ("kind", "soft")])
        .await;
    assert_eq!(refused.status, 403);
    // A valid token from another site's page is still refused.
    let cross = console
        .post_with_headers(
            "/chargers/CSRF/reset",
            &[("csrf", token.as_str()), ("kind", "soft")],
            &[("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross.status, 403);
    // What a browser sends under `Referrer-Policy: no-referrer` from our own page is fine.
    let own = console
        .post_with_headers(
            "/chargers/CSRF/reset",
            &[("csrf", token.as_str()), ("type", "soft")],
            &[("origin", "null"), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_ne!(own.status, 403, "{}", own.body);
    let (_, audit) = admin.get("/audit?limit=50").await;
    let denied: Vec<&Value> = audit
        .as_array()
        .expect("audit")
        .iter()
        .filter(|r| r["action"] == json!("console.form") && r["outcome"] == json!("denied"))
        .collect();
    assert_eq!(denied.len(), 2, "{audit}");
}

/// Any `limit` and `offset` on any list: an answer (200, 400 or 422), never a 5xx or a
/// dropped connection.
#[test]
fn list_parameters_never_break_a_list() {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (_t, admin) = rt.block_on(async {
        let t = TestServer::start().await;
        t.register("LISTS", PW).await;
        let admin = t.admin().await;
        (t, admin)
    });
    let number = || {
        prop_oneof![
            any::<u64>().prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            (0u64..2000).prop_map(|n| n.to_string()),
            ".{0,12}",
        ]
    };
    let mut runner = TestRunner::new(Config {
        cases: 96,
        ..Config::default()
    });
    runner
        .run(&(0..LISTS.len() - 1, number(), number()), |(list, limit, offset)| {
            let path = format!(
                "{}?limit={}&offset={}",
                LISTS[list],
                utf8_percent_encode(&limit, NON_ALPHANUMERIC),
                utf8_percent_encode(&offset, NON_ALPHANUMERIC)
            );
            let (status, body) = rt.block_on(admin.get(&path));
            prop_assert!(matches!(status, 200 | 400 | 422), "{path}: {status} {body}");
            if status != 200 {
                prop_assert!(body["error"].is_string(), "{path}: a JSON error with a code: {body}");
            }
            Ok(())
        })
        .expect("every list answers");
}
