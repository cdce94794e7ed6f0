//! `/metrics` parses as Prometheus text and counts what the test did, without charger ids.

mod common;

use common::{TestServer, boot_payload};
use serde_json::json;

const PW: &str = "charger-password-1";

/// The value of the sample `name` whose labels include all of `labels`.
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(ref h) => h.iter().map(|b| b.count).fold(0.0, f64::max),
            prometheus_parse::Value::Summary(_) => f64::NAN,
        })
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_count_what_happened() {
    let t = TestServer::start().await;
    t.register("CP-M1", PW).await;
    let admin = t.admin().await;

    let refused = common::TestCharger::connect(&t.ocpp_base(), "CP-M1", "1.6", Some("wrong-password-99")).await;
    assert!(refused.is_err());
    let mut cp = t.charger("CP-M1", "1.6", PW).await;
    cp.call_ok("BootNotification", boot_payload("1.6")).await;
    cp.call_ok("Heartbeat", json!({})).await;
    let unknown = cp.call("MakeCoffee", json!({})).await;
    assert_eq!(unknown[0], json!(4));
    cp.send_raw("not json").await;
    let bad = cp.recv().await;
    assert_eq!(bad[0], json!(4));

    let api = admin.clone();
    let reset = tokio::spawn(async move { api.post("/chargers/CP-M1/reset", json!({"type": "soft"})).await });
    let call = cp.recv().await;
    cp.send_raw(&json!([3, call[1], {"status": "Accepted"}]).to_string())
        .await;
    assert_eq!(reset.await.expect("reset").0, 200);

    let response = reqwest::get(format!("http://{}/metrics", t.server().api_addr))
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    assert!(!text.contains("CP-M1"), "no charger ids in labels");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text");

    assert_eq!(
        value(&scrape, "voltgate_chargers_connected", &[("version", "1.6")]),
        Some(1.0)
    );
    for (action, outcome, n) in [
        ("BootNotification", "ok", 1.0),
        ("Heartbeat", "ok", 1.0),
        ("unknown", "callerror", 1.0),
    ] {
        assert_eq!(
            value(
                &scrape,
                "voltgate_ocpp_messages_total",
                &[("action", action), ("outcome", outcome)]
            ),
            Some(n),
            "{action} {outcome}\n{text}"
        );
    }
    assert_eq!(
        value(
            &scrape,
            "voltgate_ocpp_callerrors_sent_total",
            &[("code", "NotImplemented")]
        ),
        Some(1.0)
    );
    assert!(
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == "voltgate_ocpp_callerrors_sent_total")
            .count()
            >= 2,
        "the garbage frame's CALLERROR too\n{text}"
    );
    assert_eq!(
        value(
            &scrape,
            "voltgate_handshake_refusals_total",
            &[("reason", "unauthorized")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &scrape,
            "voltgate_command_duration_seconds_count",
            &[("command", "reset"), ("outcome", "ok")]
        ),
        Some(1.0),
        "{text}"
    );
    assert!(value(&scrape, "voltgate_db_batch_size_count", &[("writer", "group_commit")]).unwrap_or(0.0) >= 1.0);
}
