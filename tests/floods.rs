//! One bad peer must not starve the rest: a flooding charger is rate-limited and then cut off,
//! a charger that stops reading is closed, and connection and handshake caps answer 503.

mod common;

use std::time::Duration;

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
async fn connection_and_handshake_caps_answer_503() {
    let t = TestServer::start_with(|c| {
        c.ocpp.max_connections = 2;
        c.ocpp.max_handshakes = 1;
        c.ocpp.handshake_timeout_s = 3;
    })
    .await;
    for id in ["CP-1", "CP-2", "CP-3"] {
        t.register(id, PW).await;
    }
    // A peer that opens a socket and says nothing holds the only handshake slot.
    let silent = tokio::net::TcpStream::connect(t.server().ocpp_addr)
        .await
        .expect("connect");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = TestCharger::connect(&t.ocpp_base(), "CP-1", "1.6", Some(PW)).await;
    assert_eq!(common::refusal_status(refused), 503, "handshake cap");
    drop(silent);
    // Its slot comes back when it goes; then two connections fill the connection cap.
    let mut open = Vec::new();
    for id in ["CP-1", "CP-2"] {
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
        open.push(cp.expect("connects once the silent peer is gone"));
    }
    let refused = TestCharger::connect(&t.ocpp_base(), "CP-3", "1.6", Some(PW)).await;
    assert_eq!(common::refusal_status(refused), 503, "connection cap");
    drop(open);
}
