//! Tokens and charging over real sockets: Authorize decisions in both versions, transactions
//! from start to the charging log, idempotent resends, restarts, and what each role sees.

mod common;

use common::{Api, TestCharger, TestServer, boot_payload};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const PW: &str = "charger-password-1";

/// Root -> A (private site P with an access rule for group G, public site Q) and Root -> B.
struct World {
    a: i64,
    b: i64,
    private_site: i64,
    public_site: i64,
}

async fn world(t: &TestServer, admin: &Api) -> World {
    let a = admin
        .create("/organisations", json!({"name": "A", "parent_id": 1}))
        .await;
    let b = admin
        .create("/organisations", json!({"name": "B", "parent_id": 1}))
        .await;
    let private_site = admin
        .create(
            "/sites",
            json!({"organisation_id": a, "name": "Depot", "kind": "private"}),
        )
        .await;
    let public_site = admin
        .create(
            "/sites",
            json!({"organisation_id": a, "name": "Car park", "kind": "public"}),
        )
        .await;
    let staff = admin
        .create("/driver-groups", json!({"organisation_id": a, "name": "Staff"}))
        .await;
    admin
        .create("/access-rules", json!({"site_id": private_site, "group_id": staff}))
        .await;
    let tokens = [
        json!({"token": "TOK-A", "organisation_id": a}),
        json!({"token": "TOK-STAFF", "organisation_id": a, "group_id": staff, "expires_at": "2099-01-01T00:00:00Z"}),
        json!({"token": "TOK-BLOCKED", "organisation_id": a, "status": "Blocked"}),
        json!({"token": "TOK-EXPIRED", "organisation_id": a, "expires_at": "2020-01-01T00:00:00Z"}),
        json!({"token": "TOK-B", "organisation_id": b}),
    ];
    for token in tokens {
        admin.create("/id-tokens", token).await;
    }
    let _ = t;
    World {
        a,
        b,
        private_site,
        public_site,
    }
}

async fn charger(t: &TestServer, admin: &Api, id: &str, org: i64, site: Option<i64>, version: &str) -> TestCharger {
    common::world::register_charger(admin, id, org, site, PW).await;
    let mut cp = t.charger(id, version, PW).await;
    assert_eq!(
        cp.call_ok("BootNotification", boot_payload(version)).await["status"],
        "Accepted"
    );
    cp
}

async fn authorize(cp: &mut TestCharger, version: &str, token: &str) -> Value {
    if version == "1.6" {
        cp.call_ok("Authorize", json!({"idTag": token})).await["idTagInfo"].clone()
    } else {
        cp.call_ok("Authorize", json!({"idToken": {"idToken": token, "type": "ISO14443"}}))
            .await["idTokenInfo"]
            .clone()
    }
}

#[tokio::test]
async fn authorize_decides_by_tree_status_expiry_and_access_rules() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&t, &admin).await;
    for version in ["1.6", "2.0.1"] {
        let v = version.replace('.', "");
        let mut plain = charger(&t, &admin, &format!("PLAIN-{v}"), w.a, None, version).await;
        let mut private = charger(&t, &admin, &format!("PRIV-{v}"), w.a, Some(w.private_site), version).await;
        let mut public = charger(&t, &admin, &format!("PUB-{v}"), w.a, Some(w.public_site), version).await;
        let not_here = if version == "1.6" {
            "Invalid"
        } else {
            "NotAtThisLocation"
        };
        // (charger: 0 no site, 1 private site, 2 public site; token; expected status)
        let cases = [
            (0, "TOK-A", "Accepted"),
            (0, "TOK-BLOCKED", "Blocked"),
            (0, "TOK-EXPIRED", "Expired"),
            (0, "NO-SUCH-TOKEN", "Invalid"),
            (0, "TOK-B", "Invalid"),
            (1, "TOK-STAFF", "Accepted"),
            (1, "TOK-A", not_here),
            (2, "TOK-B", "Accepted"),
            (2, "TOK-BLOCKED", "Blocked"),
        ];
        for (which, token, expected) in cases {
            let cp = match which {
                0 => &mut plain,
                1 => &mut private,
                _ => &mut public,
            };
            let info = authorize(cp, version, token).await;
            assert_eq!(info["status"], expected, "{version} {token}: {info}");
        }
        // What a charger may cache: expiry and the group token.
        let info = authorize(&mut private, version, "TOK-STAFF").await;
        if version == "1.6" {
            assert_eq!(
                info["expiryDate"].as_str().map(|s| &s[..10]),
                Some("2099-01-01"),
                "{info}"
            );
            assert!(
                info["parentIdTag"].as_str().is_some_and(|g| g.starts_with("GROUP-")),
                "{info}"
            );
        } else {
            assert!(
                info["cacheExpiryDateTime"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("2099-01-01")),
                "{info}"
            );
            assert!(
                info["groupIdToken"]["idToken"]
                    .as_str()
                    .is_some_and(|g| g.starts_with("GROUP-")),
                "{info}"
            );
        }
    }
    // Token values are unique per organisation tree.
    let (status, _) = admin
        .post("/id-tokens", json!({"token": "TOK-A", "organisation_id": w.b}))
        .await;
    assert_eq!(status, 409);
}

fn energy(wh: f64, context: &str) -> Value {
    json!({"value": wh.to_string(), "measurand": "Energy.Active.Import.Register", "unit": "Wh", "context": context})
}

fn energy201(wh: f64, context: &str) -> Value {
    json!({"value": wh, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}, "context": context})
}

#[tokio::test]
async fn a_16_transaction_from_start_to_the_charging_log_with_resends_and_a_restart() {
    let mut t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&t, &admin).await;
    let mut cp = charger(&t, &admin, "CP16", w.a, None, "1.6").await;

    let start = json!({"connectorId": 1, "idTag": "TOK-A", "meterStart": 1000, "timestamp": "2026-11-01T10:00:00Z"});
    let started = cp.call_ok("StartTransaction", start.clone()).await;
    assert_eq!(started["idTagInfo"]["status"], "Accepted");
    let tx = started["transactionId"].as_i64().expect("a transaction id");
    // The charger resends after a reconnect: same id, nothing new.
    assert_eq!(cp.call_ok("StartTransaction", start).await["transactionId"], json!(tx));

    let sample = json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": "2026-11-01T10:30:00Z", "sampledValue": [
        energy(2500.0, "Sample.Periodic"),
        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"}
    ]}]});
    cp.call_ok("MeterValues", sample).await;

    // The server restarts between start and stop; the charger reconnects.
    t.restart().await;
    let mut cp = t.charger("CP16", "1.6", PW).await;
    let stop = json!({"transactionId": tx, "idTag": "TOK-A", "meterStop": 5000, "timestamp": "2026-11-01T11:00:00Z", "reason": "EVDisconnected",
        "transactionData": [{"timestamp": "2026-11-01T11:00:00Z", "sampledValue": [energy(5000.0, "Transaction.End")]}]});
    assert_eq!(
        cp.call_ok("StopTransaction", stop.clone()).await["idTagInfo"]["status"],
        "Accepted"
    );
    cp.call_ok("StopTransaction", stop).await;

    // A stop for a transaction we never saw is answered and recorded.
    cp.call_ok(
        "StopTransaction",
        json!({"transactionId": 99999, "meterStop": 10, "timestamp": "2026-11-01T12:00:00Z"}),
    )
    .await;

    let admin = t.admin().await;
    let (_, log) = admin.get("/transactions?charger_id=CP16").await;
    let rows = log.as_array().expect("rows");
    assert_eq!(rows.len(), 2, "no duplicates: {log}");
    let row = rows
        .iter()
        .find(|r| r["ocpp_transaction_id"] == json!(tx.to_string()))
        .expect("the transaction");
    assert_eq!(row["energy_wh"], 4000, "{row}");
    assert_eq!(row["stop_reason"], "EVDisconnected");
    assert_eq!(row["id_token"], "TOK-A");
    assert!(rows.iter().any(|r| r["ocpp_transaction_id"] == "99999"), "{log}");
    let values = t
        .store()
        .meter_values(row["id"].as_i64().unwrap() as i32)
        .await
        .unwrap();
    assert_eq!(
        values.len(),
        3,
        "two samples and the stop reading, each once: {values:?}"
    );
}

/// A 2.0.1 TransactionEvent of transaction `tx` on EVSE 1 with one energy reading (token TOK-A
/// on Started, EVDisconnected on Ended).
fn tx_event(tx: &str, kind: &str, seq: i64, at: &str, wh: f64, context: &str) -> Value {
    let mut e = json!({"eventType": kind, "timestamp": at, "triggerReason": "Authorized", "seqNo": seq,
        "transactionInfo": {"transactionId": tx}, "evse": {"id": 1, "connectorId": 1},
        "meterValue": [{"timestamp": at, "sampledValue": [energy201(wh, context)]}]});
    if kind == "Started" {
        e["idToken"] = json!({"idToken": "TOK-A", "type": "ISO14443"});
    }
    if kind == "Ended" {
        e["transactionInfo"]["stoppedReason"] = json!("EVDisconnected");
    }
    e
}

#[tokio::test]
async fn a_201_transaction_event_sequence_is_stored_once() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&t, &admin).await;
    let mut cp = charger(&t, &admin, "CP201", w.a, None, "2.0.1").await;
    let event = |kind: &str, seq: i64, at: &str, wh: f64, context: &str| tx_event("TX-1", kind, seq, at, wh, context);
    let started = cp
        .call_ok(
            "TransactionEvent",
            event("Started", 0, "2026-11-01T10:00:00Z", 200.0, "Transaction.Begin"),
        )
        .await;
    assert_eq!(started["idTokenInfo"]["status"], "Accepted", "{started}");
    let updated = event("Updated", 1, "2026-11-01T10:30:00Z", 1200.0, "Sample.Periodic");
    cp.call_ok("TransactionEvent", updated.clone()).await;
    cp.call_ok("TransactionEvent", updated).await;
    cp.call_ok(
        "TransactionEvent",
        event("Ended", 2, "2026-11-01T11:00:00Z", 3200.0, "Transaction.End"),
    )
    .await;
    // Meter values outside a TransactionEvent land on the open transaction, if any.
    cp.call_ok("MeterValues", json!({"evseId": 1, "meterValue": [{"timestamp": "2026-11-01T11:05:00Z", "sampledValue": [{"value": 230.1, "measurand": "Voltage"}]}]})).await;

    let (_, log) = admin.get("/transactions").await;
    let rows = log.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{log}");
    assert_eq!(rows[0]["energy_wh"], 3000, "{log}");
    assert_eq!(rows[0]["stop_reason"], "EVDisconnected");
    let values = t
        .store()
        .meter_values(rows[0]["id"].as_i64().unwrap() as i32)
        .await
        .unwrap();
    assert_eq!(values.len(), 3, "the resent Updated added nothing: {values:?}");
}

#[tokio::test]
async fn a_201_meter_value_lands_on_the_transaction_open_when_it_arrives() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&t, &admin).await;
    let mut cp = charger(&t, &admin, "CP201M", w.a, None, "2.0.1").await;
    let meter = |wh: f64, at: &str| json!({"evseId": 1, "meterValue": [{"timestamp": at, "sampledValue": [energy201(wh, "Sample.Periodic")]}]});
    let event = |kind: &str, seq: i64, at: &str, wh: f64, context: &str| tx_event("TX-M", kind, seq, at, wh, context);
    // The connection remembers the EVSE's open transaction between MeterValues; a transaction
    // starting or ending must be seen by the next one.
    cp.call_ok("MeterValues", meter(100.0, "2026-11-01T09:55:00Z")).await;
    cp.call_ok(
        "TransactionEvent",
        event("Started", 0, "2026-11-01T10:00:00Z", 200.0, "Transaction.Begin"),
    )
    .await;
    cp.call_ok("MeterValues", meter(250.0, "2026-11-01T10:05:00Z")).await;
    cp.call_ok("MeterValues", meter(300.0, "2026-11-01T10:10:00Z")).await;
    cp.call_ok(
        "TransactionEvent",
        event("Ended", 1, "2026-11-01T10:15:00Z", 400.0, "Transaction.End"),
    )
    .await;
    cp.call_ok("MeterValues", meter(500.0, "2026-11-01T10:20:00Z")).await;

    let (_, log) = admin.get("/transactions").await;
    let id = log[0]["id"].as_i64().expect("one transaction") as i32;
    let values = t.store().meter_values(id).await.unwrap();
    assert_eq!(
        values.len(),
        4,
        "the start, the two values while it was open and the end, not those before or after: {values:?}"
    );

    // Deleting the charger deletes all six of its values, those outside any transaction too
    // (on PostgreSQL a value's charger id is not a foreign key that would cascade).
    assert_eq!(admin.delete("/chargers/CP201M").await.0, 204);
    let db = sea_orm::Database::connect(&t.db.url).await.unwrap();
    let left = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) FROM meter_value WHERE charger_id = 'CP201M'",
        ))
        .await
        .unwrap()
        .expect("a count");
    assert_eq!(
        left.try_get_by_index::<i64>(0).unwrap(),
        0,
        "values outlived their charger"
    );
}

async fn role_user(t: &TestServer, admin: &Api, name: &str, org: i64, role: &str) -> Api {
    let id = admin
        .create(
            "/users",
            json!({"username": name, "password": "user-password-1", "organisation_id": org}),
        )
        .await;
    let (status, body) = admin
        .put(
            &format!("/users/{id}/memberships"),
            json!([{"organisation_id": org, "role": role}]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    t.login(name, "user-password-1").await
}

#[tokio::test]
async fn cost_only_for_billing_roles_and_csv_export() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&t, &admin).await;
    admin
        .create(
            "/tariffs",
            json!({"organisation_id": w.a, "price_per_kwh": 0.3, "currency": "EUR"}),
        )
        .await;
    let mut cp = charger(&t, &admin, "CP-COST", w.a, None, "1.6").await;
    let tx = cp
        .call_ok(
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "TOK-A", "meterStart": 0, "timestamp": "2026-11-02T08:00:00Z"}),
        )
        .await["transactionId"]
        .clone();
    cp.call_ok(
        "StopTransaction",
        json!({"transactionId": tx, "meterStop": 10000, "timestamp": "2026-11-02T09:00:00Z"}),
    )
    .await;

    let operator = role_user(&t, &admin, "op", w.a, "operator").await;
    let support = role_user(&t, &admin, "sup", w.a, "support").await;
    let maintenance = role_user(&t, &admin, "eng", w.a, "maintenance").await;
    let fleet = role_user(&t, &admin, "fleet", w.a, "fleet_manager").await;

    let (_, rows) = operator.get("/transactions").await;
    assert_eq!(
        (rows[0]["cost"].as_f64(), rows[0]["currency"].as_str()),
        (Some(3.0), Some("EUR")),
        "{rows}"
    );
    let (_, rows) = fleet.get("/transactions").await;
    assert_eq!(rows[0]["cost"].as_f64(), Some(3.0), "{rows}");
    let (status, rows) = support.get("/transactions").await;
    assert_eq!(status, 200);
    assert!(
        rows[0].get("cost").is_none() && rows[0].get("currency").is_none(),
        "support never sees billing: {rows}"
    );
    assert_eq!(maintenance.get("/transactions").await.0, 403);
    assert_eq!(
        maintenance.get("/id-tokens").await.0,
        403,
        "no token access for maintenance"
    );

    let response = operator
        .client
        .get(format!("{}/transactions?format=csv", operator.base))
        .bearer_auth(operator.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("id,charger_id,"), "{csv}");
    assert!(lines.next().unwrap().contains(",CP-COST,"), "{csv}");
    let _ = w.b;
}

#[tokio::test]
async fn support_gets_the_reduced_view_of_access_rules() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let w = world(&t, &admin).await;
    // The root operator admits a group of B at A's private site.
    let visitors = admin
        .create("/driver-groups", json!({"organisation_id": w.b, "name": "B visitors"}))
        .await;
    admin
        .create(
            "/access-rules",
            json!({"site_id": w.private_site, "group_id": visitors}),
        )
        .await;

    let support = role_user(&t, &admin, "sup", w.a, "support").await;
    let (status, rules) = support.get("/access-rules").await;
    assert_eq!(status, 200);
    let rules = rules.as_array().unwrap();
    assert_eq!(rules.len(), 2, "support sees both rules exist: {rules:?}");
    let foreign = rules.iter().find(|r| r["group_id"] == json!(visitors)).unwrap();
    assert_eq!(foreign["group_name"], Value::Null, "but not B's group name");
    let own = rules.iter().find(|r| r["group_id"] != json!(visitors)).unwrap();
    assert_eq!(own["group_name"], "Staff");
    let (_, all) = admin.get("/access-rules").await;
    assert!(
        all.as_array().unwrap().iter().all(|r| r["group_name"].is_string()),
        "{all}"
    );
}
