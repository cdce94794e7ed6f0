//! One bad peer must not starve the rest: a flooding charger is rate-limited and then cut off,
//! a charger that stops reading is closed, a connection over the handshake cap waits for a
//! place (503 only after the handshake timeout), and the connection cap answers 503.

mod common;

use std::time::{Duration, Instant};

use common::{TestCharger, TestServer, boot_payload};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

const PW: &str = "charger-password-1";

#[tokio::test]
async fn a_flooding_charger_gets_callerrors_then_is_closed_and_others_carry_on() {
    let t = TestServer::start_with(|c| {
        c.ocpp.rate_limit_per_s = 1;
        c.ocpp.rate_limit_burst = 5;
    })
    .await;
    t.register("CP-FLOOD", PW).await;
    t.register("CP-CALM", PW).await;
    let mut calm = t.charger("CP-CALM", "1.6", PW).await;
    calm.call_ok("BootNotification", boot_payload("1.6")).await;

    let mut flood = t.charger("CP-FLOOD", "1.6", PW).await;
    // The burst is served (BootNotification included).
    flood.call_ok("BootNotification", boot_payload("1.6")).await;
    for _ in 0..4 {
        flood.call_ok("Heartbeat", json!({})).await;
    }
    // Over it: a CALLERROR naming the reason, for each CALL, while the burst lasts.
    for _ in 0..5 {
        let answer = flood.call("Heartbeat", json!({})).await;
        assert_eq!(answer[0], json!(4), "{answer}");
        assert_eq!(answer[2], json!("GenericError"));
        assert!(
            answer[3].as_str().unwrap_or_default().contains("rate limit"),
            "{answer}"
        );
    }
    // Ignoring them for a whole burst ends the connection with 1008.
    flood.send_raw(&json!([2, "x", "Heartbeat", {}]).to_string()).await;
    let close = flood.closed().await.expect("close frame");
    assert_eq!(u16::from(close.code), 1008);
    assert_eq!(close.reason.as_str(), "rate limit exceeded");

    // The calm charger never noticed.
    let answer = calm.call_ok("Heartbeat", json!({})).await;
    assert!(answer["currentTime"].is_string());
}

#[tokio::test]
async fn a_charger_that_stops_reading_is_closed() {
    let t = TestServer::start_with(|c| {
        c.ocpp.rate_limit_per_s = 0;
        c.ocpp.write_timeout_s = 1;
    })
    .await;
    t.register("CP-DEAF", PW).await;
    t.register("CP-FINE", PW).await;

    // A tiny receive window, and never a read: the server's answers back up.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let tcp = socket.connect(t.server().ocpp_addr).await.expect("connect");
    let url = format!("{}/CP-DEAF", t.ocpp_base());
    let request = common::upgrade_request(&url, "ocpp1.6", Some(("CP-DEAF", PW)));
    let (ws, _) = tokio_tungstenite::client_async(request, tcp).await.expect("upgrade");
    let (mut sink, _stream) = ws.split();
    let writer = tokio::spawn(async move {
        let frame = json!([2, "h", "Heartbeat", {}]).to_string();
        for n in 0u64.. {
            if sink.send(Message::text(frame.clone())).await.is_err() {
                return n;
            }
        }
        unreachable!()
    });
    let sent = tokio::time::timeout(Duration::from_secs(60), writer)
        .await
        .expect("the server closed the connection")
        .expect("writer task");
    assert!(sent > 0);

    // Everyone else is served as usual.
    let mut fine = t.charger("CP-FINE", "1.6", PW).await;
    fine.call_ok("BootNotification", boot_payload("1.6")).await;
}

#[tokio::test]
async fn over_the_handshake_cap_chargers_wait_for_a_place_and_the_connection_cap_answers_503() {
    let t = TestServer::start_with(|c| {
        c.ocpp.max_connections = 4;
        c.ocpp.max_handshakes = 1;
        c.ocpp.handshake_timeout_s = 2;
    })
    .await;
    for n in 1..=5 {
        t.register(&format!("CP-{n}"), PW).await;
    }
    let addr = t.server().ocpp_addr;
    let silent = || async move { tokio::net::TcpStream::connect(addr).await.expect("connect") };
    // A peer that opens a socket and says nothing holds the only handshake place; a charger
    // behind it waits for the place (a storm queues, it is not refused) and gets it when the
    // silent peer goes.
    let first = silent().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let base = t.ocpp_base();
    let queued = tokio::spawn(async move {
        let asked = Instant::now();
        let cp = TestCharger::connect(&base, "CP-1", "1.6", Some(PW)).await;
        (cp, asked.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(first);
    let (cp1, waited) = queued.await.expect("task");
    let _cp1 = cp1.expect("a charger over the handshake cap waits and connects");
    assert!(waited >= Duration::from_millis(400), "it waited: {waited:?}");

    // Two silent peers: the second queues ahead of the charger, which waits out the handshake
    // timeout and only then hears 503.
    let held = silent().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ahead = silent().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let asked = Instant::now();
    let refused = TestCharger::connect(&t.ocpp_base(), "CP-2", "1.6", Some(PW)).await;
    assert_eq!(
        common::refusal_status(refused),
        503,
        "handshake place not found in time"
    );
    assert!(
        asked.elapsed() >= Duration::from_millis(1500),
        "refused after waiting, not at once: {:?}",
        asked.elapsed()
    );
    drop((held, ahead));

    // Open, in handshake and waiting together are capped by the connection limit.
    let mut open = Vec::new();
    for id in ["CP-2", "CP-3", "CP-4"] {
        let mut cp = None;
        for _ in 0..50 {
            match TestCharger::connect(&t.ocpp_base(), id, "1.6", Some(PW)).await {
                Ok(c) => {
                    cp = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        open.push(cp.expect("connects once the silent peers are gone"));
    }
    let asked = Instant::now();
    let refused = TestCharger::connect(&t.ocpp_base(), "CP-5", "1.6", Some(PW)).await;
    assert_eq!(common::refusal_status(refused), 503, "connection cap");
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "the connection cap refuses at once"
    );
    drop(open);
}
